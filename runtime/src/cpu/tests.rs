// The CPU check's unit tests: the pure API, the refusal's rendering, the tables against the
// detection, and this machine's CPU read against std's detection.

use super::assumed::{ASSUMED_BY_RUNTIME, assumed};
use super::refuse::{Refusal, render};
use super::rows::{family, level_rows};
use super::sink::{BUFFER, Buffer};
use super::*;
use crate::Arch;
use crate::names::cpu::{AARCH64_FEATURES, BUILD_FLAGS, Family, Source, UNCHECKED, X86_FEATURES};

fn x86_64(assumed: CpuFeatures, present: CpuFeatures) -> CpuCheck {
    CpuCheck::new(Arch::X86_64, assumed, present)
}

fn features(arch: Arch, names: &[&str]) -> CpuFeatures {
    CpuFeatures::from_names(arch, names).expect("known names")
}

fn union(a: CpuFeatures, b: CpuFeatures) -> CpuFeatures {
    CpuFeatures { family: a.family, rows: a.rows.union(b.rows) }
}

#[test]
fn levels_are_nested_and_read_back() {
    for level in 1..=4 {
        assert_eq!(CpuFeatures::x86_64_level(level).level(), level);
    }
    assert!(CpuFeatures::x86_64_level(4).contains(CpuFeatures::x86_64_level(3)));
    let v3: Vec<&str> = CpuFeatures::x86_64_level(3).without(CpuFeatures::x86_64_level(2)).names().collect();
    assert_eq!(v3, ["avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "lzcnt", "movbe", "xsave"]);
    // Missing one v3 feature is v2.
    let almost = CpuFeatures::x86_64_level(3).without(features(Arch::X86_64, &["movbe"]));
    assert_eq!(almost.level(), 2);
}

#[test]
fn a_v3_build_on_a_v2_cpu_names_the_level_and_what_is_missing() {
    let check = x86_64(CpuFeatures::x86_64_level(3), CpuFeatures::x86_64_level(2));
    assert_eq!(
        check.message("kvd", "KVD_UNSUPPORTED_ARCH").unwrap(),
        "error: kvd will not start on this CPU: it was built for x86-64-v3, and this CPU lacks avx, avx2, bmi1, bmi2, f16c, fma, lzcnt, movbe, xsave
  = note: this CPU is x86-64-v2; the program uses those instructions, and would crash with an illegal instruction
  = help: run it on a CPU with avx, avx2, bmi1, bmi2, f16c, fma, lzcnt, movbe, xsave (x86-64-v3), or ask for a build for x86-64-v2, without `-C target-cpu=x86-64-v3`
  = note: KVD_UNSUPPORTED_ARCH cannot help: it overrides the support matrix, not the instructions the program was built with
"
    );
}

#[test]
fn before_start_the_program_is_its_file_and_the_variable_goes_unnamed() {
    let check = x86_64(CpuFeatures::x86_64_level(3), CpuFeatures::x86_64_level(2));
    let main = check.message("kvd", "KVD_UNSUPPORTED_ARCH").unwrap();
    let early = check.message_before_start(Some(b"kvd")).unwrap();
    assert_eq!(early, main.replace("KVD_UNSUPPORTED_ARCH cannot", "its override variable cannot"));
    // A file name is shown as printable ASCII, whatever its bytes.
    let odd = check.message_before_start(Some(b"k\x1bv\xffd")).unwrap();
    assert!(odd.starts_with("error: k?v?d will not start"), "{odd}");
    assert!(check.message_before_start(None).unwrap().starts_with("error: this program will not start"));
}

#[test]
fn single_features_are_named_with_the_flag_to_drop() {
    let assumed = features(Arch::X86_64, &["avx2", "fma"]);
    let present = CpuFeatures::x86_64_level(2).without(features(Arch::X86_64, &["popcnt"]));
    let text = x86_64(assumed, present).message("kvd", "V").unwrap();
    assert!(
        text.starts_with(
            "error: kvd will not start on this CPU: it was built to use avx2, fma, and this CPU lacks avx2, fma\n"
        ),
        "{text}"
    );
    assert!(text.contains("  = note: this CPU is x86-64; "), "{text}");
    assert!(text.contains("or ask for a build without `-C target-feature=+avx2,+fma`\n"), "{text}");
    // A level with extras names them, rows past the first word included.
    let extras = features(Arch::X86_64, &["aes", "pclmulqdq", "xsaves"]);
    let assumed = union(CpuFeatures::x86_64_level(2), extras);
    let text = x86_64(assumed, CpuFeatures::x86_64_level(2)).message("kvd", "V").unwrap();
    assert!(
        text.contains(
            "it was built for x86-64-v2 with aes, pclmulqdq, xsaves, and this CPU lacks aes, pclmulqdq, xsaves\n"
        ),
        "{text}"
    );
}

#[test]
fn aarch64_names_features_and_no_level() {
    let check = CpuCheck::new(
        Arch::Aarch64,
        features(Arch::Aarch64, &["lse", "mops"]),
        features(Arch::Aarch64, &["crc"]),
    );
    let text = check.message("kvd", "KVD_UNSUPPORTED_ARCH").unwrap();
    assert!(text.starts_with(
        "error: kvd will not start on this CPU: it was built to use lse, mops, and this CPU lacks lse, mops\n"
    ));
    assert!(text.contains("\n  = note: the program uses those instructions"), "{text}");
    assert!(!text.contains("x86-64"));
}

#[test]
fn every_combination_of_levels_decides_by_containment() {
    for built in 1..=4 {
        for cpu in 1..=4 {
            let check = x86_64(CpuFeatures::x86_64_level(built), CpuFeatures::x86_64_level(cpu));
            assert_eq!(check.passes(), cpu >= built, "v{built} on v{cpu}");
            if let Some(text) = check.message("kvd", "V") {
                assert!(text.is_ascii() && text.len() < 4096 && text.lines().count() == 4, "{text}");
            }
        }
    }
}

#[test]
fn the_refusal_buffer_renders_what_the_string_does() {
    let (assumed, present) = (level_rows(4), Rows::EMPTY);
    let mut bytes = [0; BUFFER];
    let mut buffer = Buffer { bytes: &mut bytes, len: 0 };
    let refusal = Refusal {
        family: Family::X86,
        x86_64: true,
        program: Some(b"kv-server"),
        variable: Some(b"kv-server"),
        from_package: true,
    };
    render(&mut buffer, &refusal, assumed, present);
    let len = buffer.len;
    let text = core::str::from_utf8(&bytes[..len]).unwrap();
    let check = x86_64(CpuFeatures::x86_64_level(4), features(Arch::X86_64, &[]));
    assert_eq!(Some(text.to_owned()), check.message("kv-server", "KV_SERVER_UNSUPPORTED_ARCH"));
    // Every feature of either table missing at once still fits, in one write under PIPE_BUF.
    for arch in [Arch::X86_64, Arch::Aarch64] {
        let check = CpuCheck::new(arch, CpuFeatures::all(arch).unwrap(), features(arch, &[]));
        let text = check.message("kvd", "V").unwrap();
        assert!(text.len() < BUFFER, "{} bytes", text.len());
    }
}

#[test]
fn every_x86_row_reads_a_register_that_detection_reads() {
    // The (leaf, sub-leaf, register) triples `detect::present` reads into scalars; a row outside
    // them would always read as absent, and refuse on every CPU.
    const READ: [(u32, u32, u8); 10] = [
        (1, 0, 2),
        (7, 0, 1),
        (7, 0, 2),
        (7, 0, 3),
        (7, 1, 0),
        (7, 1, 3),
        (0xd, 1, 0),
        (0x19, 0, 1),
        (0x1e, 1, 0),
        (0x8000_0001, 0, 2),
    ];
    for row in &X86_FEATURES {
        match row.source {
            Source::Cpuid { leaf, sub_leaf, register, .. } => {
                assert!(READ.contains(&(leaf, sub_leaf, register)), "{} would always be absent", row.name);
            }
            Source::Avx10 { .. } => {}
            Source::Hwcap { .. } => panic!("{} is not read with CPUID", row.name),
        }
    }
    for row in &AARCH64_FEATURES {
        assert!(matches!(row.source, Source::Hwcap { .. }), "{} is not read from AT_HWCAP", row.name);
    }
}

#[test]
fn names_are_unique_within_a_family_and_not_also_unchecked() {
    for family in [Family::X86, Family::Aarch64] {
        let mut names: Vec<&str> = family.table().iter().map(|row| row.name).collect();
        names.extend(UNCHECKED.iter().filter(|(of, ..)| *of == family).map(|(_, name, _)| *name));
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count, "{family:?}");
        assert!(family.table().len() > 64, "both words of a set are used");
    }
}

#[test]
fn the_build_is_read_for_this_target_only() {
    let mut flags = [false; X86_FEATURES.len() + AARCH64_FEATURES.len()];
    // Rows no target's own baseline includes: avx2 in the first word, row 70 in the second.
    let avx2 = X86_FEATURES.iter().position(|row| row.name == "avx2").unwrap();
    flags[X86_FEATURES.len() + 65] = true; // aarch64's row 65, in the second word
    flags[avx2] = true;
    flags[70] = true; // x86's row 70
    let assumed = assumed(&flags);
    match family(crate::Platform::CURRENT.arch) {
        Some(Family::X86) if detect::AVAILABLE => assert_eq!(assumed, Rows { low: 1 << avx2, high: 1 << 6 }),
        Some(Family::Aarch64) if detect::AVAILABLE => assert_eq!(assumed, Rows { low: 0, high: 1 << 1 }),
        _ => assert_eq!(assumed, Rows::EMPTY),
    }
}

#[test]
fn what_the_early_check_covers_is_not_checked_again_in_main() {
    let left = left_for_main(&BUILD_FLAGS);
    if early::INSTALLED {
        assert_eq!(left, Rows::EMPTY);
    } else {
        assert_eq!(left, ASSUMED_BY_RUNTIME);
    }
}

#[test]
fn this_cpu_is_read_and_agrees_with_std() {
    let everything = Rows { low: u64::MAX, high: u64::MAX };
    let present = detect::present(everything);
    assert_eq!(present.is_some(), detect::AVAILABLE);
    #[cfg(target_arch = "x86_64")]
    if let Some(present) = present {
        let present = CpuFeatures { family: Family::X86, rows: present };
        macro_rules! agree {
            ($($name:tt),*) => {$(
                let detected = std::arch::is_x86_feature_detected!($name);
                assert_eq!(present.contains(features(Arch::X86_64, &[$name])), detected, $name);
            )*};
        }
        // The names `is_x86_feature_detected!` takes on Rust 1.85 (AVX-512 and newer came later).
        agree!(
            "sse3",
            "ssse3",
            "sse4.1",
            "sse4.2",
            "popcnt",
            "cmpxchg16b",
            "avx",
            "avx2",
            "bmi1",
            "bmi2",
            "fma",
            "f16c",
            "lzcnt",
            "movbe",
            "xsave",
            "xsavec",
            "xsaveopt",
            "xsaves",
            "aes",
            "pclmulqdq",
            "rdrand",
            "rdseed",
            "adx",
            "sha",
            "sse4a",
            "tbm",
            "rtm"
        );
    }
}

#[test]
fn the_targets_own_baseline_is_not_assumed() {
    // Windows 10 on x86_64 needs CMPXCHG16B and SSE3, and its targets' baseline includes them.
    let mut flags = [false; X86_FEATURES.len() + AARCH64_FEATURES.len()];
    for name in ["cmpxchg16b", "sse3"] {
        flags[X86_FEATURES.iter().position(|row| row.name == name).unwrap()] = true;
    }
    let rows = assumed(&flags);
    if cfg!(all(target_arch = "x86_64", any(target_os = "windows", target_os = "macos"))) {
        assert_eq!(rows, Rows::EMPTY);
    } else if family(crate::Platform::CURRENT.arch) == Some(Family::X86) && detect::AVAILABLE {
        assert_eq!(rows.low.count_ones(), 2);
    }
}
