//! `systemd FILE`: the drop-in for a binary's unit, or exit 1 with the refusal's reason where the
//! binary refuses its platform without the variable the unit sets; an image's entrypoint gets the
//! binary's own drop-in; bad input is one line and exit 2. What systemd makes of the drop-ins, on CPU
//! models against real runs, is `tests/systemd/run.sh`'s. The fixtures are this host's builds, and
//! the expectations an x86_64 Linux host's (KV's matrix leaves amd64 unstable; an image's entry for
//! this host is amd64's).
#![cfg(all(target_arch = "x86_64", target_os = "linux"))]

#[path = "common/command.rs"]
mod command;
mod common;
#[path = "common/image.rs"]
mod image;

use command::{run, text};
use common::{ETCD_MANIFEST, KV_MANIFEST, file_of, rebuilt};
use image::{binary, layout};

/// `(status, stdout, stderr)` of the command.
fn status_of(args: &[&str]) -> (i32, String, String) {
    let output = run(args, b"");
    (output.status.code().unwrap(), text(&output.stdout).to_string(), text(&output.stderr).to_string())
}

/// A file holding etcd's manifest rebuilt for `platform` (see `rebuilt`).
fn etcd_for(name: &str, platform: [&str; 4], level: u8, before_start: &[&str]) -> String {
    let path = file_of("systemd", name, &binary(&rebuilt(&ETCD_MANIFEST, platform, level, before_start)));
    path.to_str().unwrap().to_string()
}

const ARM64: [&str; 4] = ["arm64", "aarch64", "linux", "linux"];

#[test]
fn a_drop_in_for_what_the_binary_requires_and_its_exit_code() {
    let v3: Vec<&str> = platform_gate::CpuFeatures::x86_64_level(3).names().collect();
    let etcd = etcd_for("etcd-v3", ["amd64", "x86_64", "linux", "linux"], 3, &v3);
    let (status, out, err) = status_of(&["systemd", &etcd]);
    assert_eq!((status, err.as_str()), (0, ""));
    assert!(out.contains("\n[Unit]\nConditionArchitecture=x86-64\n"), "{out}");
    assert!(out.contains("\nConditionCPUFeature=fma3\nConditionCPUFeature=abm\n"), "{out}");
    assert!(out.ends_with("\nRestartPreventExitStatus=1\n"), "{out}");
    let (_, asserted, _) = status_of(&["systemd", "--assert", &etcd]);
    assert_eq!(
        asserted.matches("\nAssertCPUFeature=").count(),
        out.matches("\nConditionCPUFeature=").count()
    );
    assert!(!asserted.contains("Condition"), "{asserted}");
    // kvd exits 3 when it refuses.
    let kvd = file_of("systemd", "kvd", &binary(&KV_MANIFEST));
    let (status, out, err) = status_of(&["systemd", kvd.to_str().unwrap()]);
    assert_eq!(status, 1, "KV's matrix leaves amd64 unstable: {out}");
    assert!(err.starts_with("platform-gate: ") && err.ends_with("say so with --env VALUE\n"), "{err}");
    let (status, out, _) = status_of(&["systemd", "--env", "amd64", kvd.to_str().unwrap()]);
    assert_eq!(status, 0);
    assert!(
        out.contains("\nEnvironment=KVD_UNSUPPORTED_ARCH=amd64\n")
            && out.ends_with("\nRestartPreventExitStatus=3\n"),
        "{out}"
    );
}

#[test]
fn a_platform_refused_without_the_variable_gets_no_drop_in_unless_the_unit_sets_it() {
    let etcd = etcd_for("etcd-arm64", ARM64, 0, &[]);
    let (status, out, err) = status_of(&["systemd", &etcd]);
    assert_eq!((status, out.as_str()), (1, ""));
    assert_eq!(
        err,
        format!(
            "platform-gate: {etcd}: etcd will not start on arm64 (aarch64) linux: the architecture is experimental in \
             etcd's support matrix: no drop-in; if the unit's environment sets ETCD_UNSUPPORTED_ARCH, say so with --env VALUE\n"
        )
    );
    let (status, out, _) = status_of(&["systemd", "--env", "arm64", &etcd]);
    assert_eq!(status, 0);
    assert!(
        out.contains("\nConditionArchitecture=arm64\n\n[Service]\nEnvironment=ETCD_UNSUPPORTED_ARCH=arm64\n"),
        "{out}"
    );
    assert!(
        out.contains("etcd starts with a warning (the variable overrides its matrix) on arm64.\n"),
        "{out}"
    );
    let (status, out, err) = status_of(&["systemd", "--env", "riscv64", &etcd]);
    assert_eq!((status, out.as_str()), (1, ""), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn what_systemd_cannot_name_is_said_and_checked_by_the_exec_condition() {
    let etcd = etcd_for("etcd-lse", ARM64, 0, &["lse"]);
    let (status, out, err) = status_of(&["systemd", "--env", "arm64", &etcd]);
    assert_eq!(status, 0);
    assert_eq!(
        err,
        format!(
            "platform-gate: {etcd}: systemd has no ConditionCPUFeature= for lse: no line of the drop-in checks them \
             before a start; --exec-condition PATH adds one that does\n"
        )
    );
    assert!(
        !out.contains("ExecCondition=") && out.contains("# systemd has no Condition line for lse.\n"),
        "{out}"
    );
    let (status, out, err) =
        status_of(&["systemd", "--env", "arm64", "--exec-condition", "/usr/bin/platform-gate", &etcd]);
    assert_eq!(status, 0);
    assert!(err.ends_with(": its ExecCondition= checks them before each start\n"), "{err}");
    assert!(out.contains(&format!("\nExecCondition=/usr/bin/platform-gate check {etcd}\n")), "{out}");
}

#[test]
fn an_images_entrypoint_gets_its_binarys_drop_in() {
    let etcd = binary(&ETCD_MANIFEST);
    let loose = file_of("systemd", "etcd", &etcd);
    let (status, from_binary, _) = status_of(&["systemd", loose.to_str().unwrap()]);
    assert_eq!(status, 0);
    let image = layout("systemd", &[("arm64", &etcd), ("amd64", &etcd)]);
    let (status, from_image, err) = status_of(&["systemd", image.to_str().unwrap()]);
    assert_eq!((status, err.as_str()), (0, ""));
    assert_eq!(from_image, from_binary);
    // Its binary runs in a container: no path on the host for an ExecCondition= to check.
    let (status, out, err) =
        status_of(&["systemd", "--exec-condition", "/usr/bin/platform-gate", image.to_str().unwrap()]);
    assert_eq!((status, out.as_str(), err.lines().count()), (2, "", 1), "{err}");
    // No entry for this host.
    let arm64 = layout("systemd-arm64", &[("arm64", &etcd)]);
    let (status, _, err) = status_of(&["systemd", arm64.to_str().unwrap()]);
    assert_eq!(status, 2);
    assert!(err.ends_with(": no entry for this host's platform, linux/amd64; it has linux/arm64\n"), "{err}");
}

#[test]
fn bad_input_is_one_line_and_status_2() {
    let windows = etcd_for("etcd.exe", ["amd64", "x86_64", "windows", "windows"], 1, &[]);
    let no_manifest = file_of("systemd", "plain", b"\x7fELF nothing here");
    let two = file_of("systemd", "two", &[binary(&ETCD_MANIFEST), KV_MANIFEST.to_vec()].concat());
    let cases: &[(&[&str], &str)] = &[
        (&["systemd", &windows], ": a binary for amd64 (x86_64) windows: systemd runs Linux binaries\n"),
        (&["systemd", no_manifest.to_str().unwrap()], "no platform-gate manifest"),
        (&["systemd", two.to_str().unwrap()], "; pick one with --program NAME\n"),
        (
            &["systemd", "--exec-condition", "platform-gate", &windows],
            "give the absolute path of platform-gate on the unit's host\n",
        ),
    ];
    for (args, says) in cases {
        let (status, out, err) = status_of(args);
        assert_eq!((status, out.as_str(), err.lines().count()), (2, "", 1), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    let (status, out, _) =
        status_of(&["systemd", "--program", "kvd", "--env", "amd64", two.to_str().unwrap()]);
    assert_eq!(status, 0, "--program picks one");
    assert!(out.ends_with("\nRestartPreventExitStatus=3\n"), "{out}");
}

#[cfg(unix)]
#[test]
fn a_value_a_unit_file_cannot_carry_is_refused() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt as _;

    let etcd = file_of("systemd", "etcd-env", &binary(&ETCD_MANIFEST));
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_platform-gate"))
        .arg("systemd")
        .arg("--env")
        .arg(OsStr::from_bytes(b"amd\xff64"))
        .arg(&etcd)
        .output()
        .unwrap();
    assert_eq!((output.status.code(), output.stdout.len()), (Some(2), 0));
    assert_eq!(
        text(&output.stderr),
        format!(
            "platform-gate: {}: the variable's value \"amd\u{fffd}64\" cannot be written in a unit file (not UTF-8, or a control character)\n",
            etcd.display()
        )
    );
}
