// The systemd tables against systemd's own lists (tests/fixtures/systemd.txt) and the gate's feature
// table; the drop-in against the placement a pod of the same binary gets.

use std::ffi::OsStr;

use platform_gate::manifest::Manifest;
use platform_gate::{Arch, CpuFeatures, Os, Platform};

use super::{
    DropInError, DropInOptions, ExecCondition, SYSTEMD_CPU_FEATURES, architectures, cpu_conditions, drop_in,
};
use crate::{CpuLabels, Pod};

const FIXTURE: &str = include_str!("../../tests/fixtures/systemd.txt");
const ETCD: &[u8] = include_bytes!("../../../runtime/tests/fixtures/etcd.manifest");

/// The lines of the fixture's `[section]`, comments left out.
fn section(name: &str) -> Vec<&'static str> {
    let start = FIXTURE.find(&format!("[{name}]\n")).unwrap() + name.len() + 3;
    let rest = &FIXTURE[start..];
    let end = rest.find("\n[").map_or(rest.len(), |end| end + 1);
    rest[..end].lines().filter(|line| !line.starts_with('#') && !line.is_empty()).collect()
}

/// etcd's manifest, rebuilt for `platform`, its CPU check before std starts assuming `features`.
fn etcd(platform: Platform, features: &[&str]) -> Manifest<'static> {
    let mut manifest = Manifest::parse(ETCD, 0).unwrap();
    manifest.platform = platform;
    manifest.cpu.before_start = CpuFeatures::from_names(platform.arch, features);
    manifest.cpu.in_main = CpuFeatures::none(platform.arch);
    manifest
}

fn linux(arch: Arch) -> Platform {
    Platform::new(arch, Os::Linux)
}

#[test]
fn every_x86_feature_of_the_gate_has_a_row_and_every_name_is_systemds() {
    let gate: Vec<&str> = CpuFeatures::all(Arch::X86_64).unwrap().names().collect();
    let rows: Vec<&str> = SYSTEMD_CPU_FEATURES.iter().map(|row| row.0).collect();
    let mut sorted = (gate.clone(), rows.clone());
    sorted.0.sort_unstable();
    sorted.1.sort_unstable();
    assert_eq!(sorted.0, sorted.1, "one row per feature the gate checks, no other");
    let systemd = section("cpu-features");
    assert!(systemd.len() > 50 && systemd.contains(&"sha_ni") && systemd.contains(&"constant_tsc"));
    for (feature, names) in SYSTEMD_CPU_FEATURES {
        for name in *names {
            assert!(systemd.contains(name), "{feature}: {name} is not a value systemd takes");
        }
    }
    // What systemd cannot name, the table says so: AVX-512, AVX10, AMX and the rest.
    let unnamed = cpu_conditions(CpuFeatures::all(Arch::X86_64).unwrap()).unnamed;
    assert!(unnamed.contains(&"avx512f") && unnamed.contains(&"avx10.1") && unnamed.contains(&"amx-tile"));
    assert!(!unnamed.contains(&"avx2") && !unnamed.contains(&"lzcnt"));
}

#[test]
fn the_avx_family_asks_for_the_os_to_save_its_registers() {
    for level in 2..=3 {
        let conditions = cpu_conditions(CpuFeatures::x86_64_level(level));
        assert_eq!(conditions.names.contains(&"osxsave"), level == 3, "v{level}");
        assert!(conditions.unnamed.is_empty(), "v{level}: systemd names every feature of it");
    }
    let xsave = cpu_conditions(CpuFeatures::from_names(Arch::X86_64, &["xsave"]).unwrap());
    assert_eq!(xsave.names, ["xsave"], "the gate checks XSAVE's CPUID bit alone");
}

#[test]
fn every_architecture_has_systemds_name_for_what_uname_prints_where_it_runs() {
    let known = [section("architectures"), section("architectures-not-in-the-page")].concat();
    let uname: Vec<(&str, &str)> =
        section("uname").into_iter().map(|line| line.split_once(' ').unwrap()).collect();
    // `uname -m` of a kernel of each architecture, its own first.
    let machines: &[(Arch, &[&str])] = &[
        (Arch::X86_64, &["x86_64"]),
        (Arch::X86, &["i686", "x86_64"]),
        (Arch::Aarch64, &["aarch64"]),
        (Arch::Arm, &["armv7l", "aarch64"]),
        (Arch::Powerpc64le, &["ppc64le"]),
        (Arch::Powerpc64, &["ppc64"]),
        (Arch::Powerpc, &["ppc", "ppc64"]),
        (Arch::S390x, &["s390x"]),
        (Arch::Riscv64, &["riscv64"]),
        (Arch::Riscv32, &["riscv32"]),
        (Arch::Loongarch64, &["loongarch64"]),
        (Arch::Mips, &["mips", "mips64"]),
        (Arch::Mipsel, &["mips", "mips64"]),
        (Arch::Mips64, &["mips64"]),
        (Arch::Mips64el, &["mips64"]),
        (Arch::Sparc64, &["sparc64"]),
    ];
    for &arch in Arch::ALL {
        let names = architectures(arch);
        let Some((_, machines)) = machines.iter().find(|(each, _)| *each == arch) else {
            assert!(names.is_empty(), "{arch:#}");
            continue;
        };
        let expected: Vec<&str> = machines
            .iter()
            .map(|machine| uname.iter().find(|(m, _)| m == machine).expect("in the fixture's map").1)
            .collect();
        assert_eq!(names, expected, "{arch:#}");
        assert!(names.iter().all(|name| known.contains(name)), "{arch:#}: {names:?}");
    }
}

#[test]
fn a_drop_in_exists_exactly_where_the_pods_placement_has_the_platform_and_asks_what_it_requires() {
    let v3: Vec<&str> = CpuFeatures::x86_64_level(3).names().collect();
    let v4: Vec<&str> = CpuFeatures::x86_64_level(4).names().collect();
    let cases = [
        etcd(linux(Arch::X86_64), &[]),
        etcd(linux(Arch::X86_64), &v3),
        etcd(linux(Arch::X86_64), &v4),
        etcd(linux(Arch::X86_64), &["aes", "pclmulqdq", "sha"]),
        etcd(linux(Arch::Aarch64), &["lse"]),
        etcd(linux(Arch::Powerpc64le), &[]),
        etcd(linux(Arch::S390x), &[]),
        etcd(linux(Arch::Riscv64), &[]),
    ];
    for manifest in &cases {
        let pod = Pod::from_manifests([manifest]).unwrap();
        let placed = !pod.placement(CpuLabels::None, false).terms.is_empty();
        let rendered = drop_in(manifest, &DropInOptions::default());
        assert_eq!(placed, rendered.is_ok(), "{:#}: {rendered:?}", manifest.platform);
        let Ok(rendered) = rendered else { continue };
        let Some(assumed) = crate::Binary::from(manifest).cpu() else {
            assert!(!rendered.text.contains("CPUFeature"), "no feature table, no CPU line");
            continue;
        };
        let conditions = cpu_conditions(assumed);
        for feature in assumed.names() {
            let row = SYSTEMD_CPU_FEATURES.iter().find(|row| row.0 == feature);
            let names = row.map_or(&[][..], |row| row.1);
            assert!(
                conditions.unnamed.contains(&feature) == names.is_empty()
                    && names
                        .iter()
                        .all(|name| rendered.text.contains(&format!("\nConditionCPUFeature={name}\n"))),
                "{feature}"
            );
        }
        assert_eq!(rendered.unnamed, conditions.unnamed);
    }
}

#[test]
fn the_lines_are_systemds_and_the_exit_codes_the_binarys() {
    let v3: Vec<&str> = CpuFeatures::x86_64_level(3).names().collect();
    let text = drop_in(&etcd(linux(Arch::X86_64), &v3), &DropInOptions::default()).unwrap().text;
    let lines: Vec<&str> = text.lines().filter(|line| !line.starts_with('#')).collect();
    assert_eq!(
        lines,
        [
            "[Unit]",
            "ConditionArchitecture=x86-64",
            "ConditionCPUFeature=cx16",
            "ConditionCPUFeature=popcnt",
            "ConditionCPUFeature=pni",
            "ConditionCPUFeature=sse4_1",
            "ConditionCPUFeature=sse4_2",
            "ConditionCPUFeature=ssse3",
            "ConditionCPUFeature=avx",
            "ConditionCPUFeature=osxsave",
            "ConditionCPUFeature=avx2",
            "ConditionCPUFeature=bmi1",
            "ConditionCPUFeature=bmi2",
            "ConditionCPUFeature=f16c",
            "ConditionCPUFeature=fma3",
            "ConditionCPUFeature=abm",
            "ConditionCPUFeature=movbe",
            "ConditionCPUFeature=xsave",
            "",
            "[Service]",
            "RestartPreventExitStatus=1",
        ]
    );
    // A 32-bit build: either kernel, as a triggering condition; Assert… with --assert.
    let options = DropInOptions { assert: true, ..DropInOptions::default() };
    let arm =
        drop_in(&etcd(linux(Arch::Arm), &[]), &DropInOptions { value: Some(OsStr::new("arm")), ..options });
    let arm = arm.unwrap().text;
    assert!(arm.contains("\nAssertArchitecture=|arm\nAssertArchitecture=|arm64\n"), "{arm}");
    // The policy's code, and the generic refusal's before std starts where that cannot name itself.
    let mut kvd = etcd(linux(Arch::X86_64), &v3);
    kvd.policy = kvd.policy.with_exit_code(core::num::NonZeroU8::new(3).unwrap());
    assert_eq!(drop_in(&kvd, &DropInOptions::default()).unwrap().exit_codes, [3]);
    kvd.cpu.reads_own_manifest = false;
    let generic = drop_in(&kvd, &DropInOptions::default()).unwrap();
    assert_eq!(generic.exit_codes, [1, 3]);
    assert!(generic.text.contains("\nRestartPreventExitStatus=1 3\n"));
    kvd.cpu.before_start = CpuFeatures::none(Arch::X86_64);
    assert_eq!(
        drop_in(&kvd, &DropInOptions::default()).unwrap().exit_codes,
        [3],
        "no check before std starts"
    );
}

#[test]
fn no_drop_in_for_a_refusal_another_os_or_an_architecture_systemd_cannot_name() {
    let arm64 = etcd(linux(Arch::Aarch64), &[]);
    let refused = drop_in(&arm64, &DropInOptions::default()).unwrap_err();
    assert_eq!(
        refused.to_string(),
        "etcd will not start on arm64 (aarch64) linux: the architecture is experimental in etcd's support matrix"
    );
    // The variable as the unit sets it: Go's spelling, or no drop-in.
    for (value, renders) in [("arm64", true), ("aarch64", true), ("riscv64", false), ("", false)] {
        let options = DropInOptions { value: Some(OsStr::new(value)), ..DropInOptions::default() };
        let rendered = drop_in(&arm64, &options);
        assert_eq!(rendered.is_ok(), renders, "{value:?}: {rendered:?}");
    }
    let windows = etcd(Platform::new(Arch::X86_64, Os::Windows), &[]);
    let error = drop_in(&windows, &DropInOptions::default()).unwrap_err();
    assert_eq!(error.to_string(), "a binary for amd64 (x86_64) windows: systemd runs Linux binaries");
    let wasm = etcd(linux(Arch::Wasm32), &[]);
    let options = DropInOptions { value: Some(OsStr::new("wasm")), ..DropInOptions::default() };
    assert!(matches!(drop_in(&wasm, &options), Err(DropInError::NoArchitectureName(Arch::Wasm32))));
}

#[test]
fn values_and_paths_are_quoted_as_systemd_reads_them_or_refused() {
    let amd64 = etcd(linux(Arch::X86_64), &[]);
    let check = ExecCondition {
        command: OsStr::new("/opt/platform gate/bin/platform-gate"),
        binary: OsStr::new("/srv/100%/$kvd"),
    };
    let options = DropInOptions {
        value: Some(OsStr::new("a b\"%")),
        exec_condition: Some(check),
        ..DropInOptions::default()
    };
    let text = drop_in(&amd64, &options).unwrap().text;
    assert!(text.contains("\nEnvironment=\"ETCD_UNSUPPORTED_ARCH=a b\\\"%%\"\n"), "{text}");
    assert!(
        text.contains(
            "\nExecCondition=\"/opt/platform gate/bin/platform-gate\" check \"/srv/100%%/$$kvd\"\n"
        ),
        "{text}"
    );
    let plain =
        ExecCondition { command: OsStr::new("/usr/bin/platform-gate"), binary: OsStr::new("/usr/bin/etcd") };
    let options = DropInOptions { exec_condition: Some(plain), ..DropInOptions::default() };
    assert!(
        drop_in(&amd64, &options)
            .unwrap()
            .text
            .contains("\nExecCondition=/usr/bin/platform-gate check /usr/bin/etcd\n")
    );
    let newline = ExecCondition { binary: OsStr::new("/usr/bin/etcd\nExecStartPre=/bin/evil"), ..plain };
    let options = DropInOptions { exec_condition: Some(newline), ..DropInOptions::default() };
    let error = drop_in(&amd64, &options).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the binary's path \"/usr/bin/etcd\\nExecStartPre=/bin/evil\" cannot be written in a unit file (not UTF-8, or a control character)"
    );
}

#[cfg(unix)]
#[test]
fn a_value_that_is_not_utf8_is_the_gates_refusal_or_unwritable() {
    use std::os::unix::ffi::OsStrExt as _;

    let value = OsStr::from_bytes(b"arm\xff");
    let options = DropInOptions { value: Some(value), ..DropInOptions::default() };
    // Refused where the variable matters: the binary's own reason.
    assert!(matches!(drop_in(&etcd(linux(Arch::Aarch64), &[]), &options), Err(DropInError::Refused { .. })));
    // Where it does not, the unit file still cannot carry it.
    let error = drop_in(&etcd(linux(Arch::X86_64), &[]), &options).unwrap_err();
    assert!(matches!(error, DropInError::Unwritable { what: "the variable's value", .. }), "{error}");
}
