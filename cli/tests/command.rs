//! The `platform-gate` command as a user runs it: its exit statuses, what goes to stdout and what
//! to stderr, and a clear one-line message with status 2 for every kind of bad input.

mod common;

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use common::{ALPINE_MANIFEST, ETCD_MANIFEST, KV_MANIFEST};
use platform_gate::{Matrix, Platform, Policy};

const COMMAND: &str = env!("CARGO_BIN_EXE_platform-gate");

/// A file of `bytes` in this test's own directory.
fn file(name: &str, bytes: &[u8]) -> PathBuf {
    common::file_of("command", name, bytes)
}

fn run(args: &[&str]) -> Output {
    // The override variables these fixtures name are never set here.
    Command::new(COMMAND)
        .args(args)
        .env_remove("KVD_UNSUPPORTED_ARCH")
        .env_remove("ETCD_UNSUPPORTED_ARCH")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap()
}

#[test]
fn check_prints_exactly_what_the_binary_would_and_exits_by_its_answer() {
    let etcd = file("etcd", &ETCD_MANIFEST);
    let path = etcd.to_str().unwrap();
    let here = Platform::CURRENT.arch.go_name();
    for (args, refuses) in [
        (vec!["check", "--unset", path], !Policy::DEFAULT.passes(&Matrix::ETCD, Platform::CURRENT)),
        (vec!["check", "--env", here, path], false),
    ] {
        let output = run(&args);
        let expected = platform_gate::decide(
            &Matrix::ETCD,
            Policy::DEFAULT,
            Platform::CURRENT,
            "ETCD_UNSUPPORTED_ARCH",
            args.contains(&"--env").then(|| std::ffi::OsStr::new(here)),
        );
        let message = expected.message("etcd").map(|message| format!("{message}\n")).unwrap_or_default();
        assert_eq!(text(&output.stdout), message, "{args:?}");
        assert_eq!(output.status.code(), Some(i32::from(refuses)), "{args:?}");
        assert!(text(&output.stderr).starts_with("platform-gate: etcd would "), "{}", text(&output.stderr));
    }
}

#[test]
fn check_refuses_a_platform_its_matrix_leaves_out_with_the_programs_message() {
    // kvd's matrix rates amd64 Linux unstable under the platform check: a refusal with exit
    // code 3 on amd64 Linux, a start elsewhere only where a row admits it.
    let kvd = file("kvd", &KV_MANIFEST);
    let output = run(&["check", "--unset", "--cpu-features", "", kvd.to_str().unwrap()]);
    if Platform::CURRENT == Platform::new(platform_gate::Arch::X86_64, platform_gate::Os::Linux) {
        assert_eq!(output.status.code(), Some(1));
        assert!(text(&output.stdout).starts_with("error: kvd will not start on amd64 (x86_64) linux"));
        assert!(text(&output.stderr).contains("and exit 3"), "{}", text(&output.stderr));
    }
}

#[test]
fn bad_input_is_one_clear_line_and_status_2() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let empty = file("empty", b"");
    let ungated = file("ungated", b"\x7fELF\x02\x01\x01\0 a binary built without the gate");
    let mut newer = KV_MANIFEST.to_vec();
    newer[15] = 7;
    let newer = file("newer", &newer);
    let cut = file("cut", &KV_MANIFEST[..KV_MANIFEST.len() - 9]);
    let mut flipped = KV_MANIFEST.to_vec();
    flipped[40] ^= 0x20;
    let flipped = file("flipped", &flipped);
    let missing = dir.join("no such file");
    for (path, says) in [
        (missing.as_path(), "No such file"),
        (dir.as_path(), "is a directory"),
        (empty.as_path(), "is empty"),
        (ungated.as_path(), "no platform-gate manifest: not a binary built with #[platform_gated]"),
        // A real binary built without the gate: this command, which holds the reader's magic
        // only masked, so it is no false manifest.
        (std::path::Path::new(COMMAND), "no platform-gate manifest"),
        (newer.as_path(), "is in format 7, newer than this reader's 1"),
        (cut.as_path(), "is cut short"),
        (flipped.as_path(), "is corrupted"),
    ] {
        for subcommand in ["show", "check", "kubernetes", "docker"] {
            let output = run(&[subcommand, path.to_str().unwrap()]);
            let stderr = text(&output.stderr);
            assert_eq!(output.status.code(), Some(2), "{subcommand} {path:?}: {stderr}");
            assert!(output.stdout.is_empty(), "{subcommand} {path:?}");
            assert!(stderr.starts_with("platform-gate: ") && stderr.contains(says), "{subcommand}: {stderr}");
            assert_eq!(stderr.lines().count(), 1, "{stderr}");
        }
    }
    let kvd = file("kvd-for-arguments", &KV_MANIFEST);
    let output = run(&["check", "--cpu-features", "avx2,warp-drive", kvd.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("not features the gate knows"), "{}", text(&output.stderr));
    let output = run(&["check", "--unset", "--env", "x", kvd.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2), "clap's usage error");
}

#[test]
fn several_manifests_are_all_shown_and_check_must_be_told_which() {
    let mut bytes = ETCD_MANIFEST.to_vec();
    bytes.extend_from_slice(b"the binary that embeds it");
    bytes.extend_from_slice(&KV_MANIFEST);
    let both = file("supervisor", &bytes);
    let path = both.to_str().unwrap();
    let shown = run(&["show", "--json", path]);
    assert_eq!(shown.status.code(), Some(0));
    let programs: Vec<String> = text(&shown.stdout)
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap()["program"].to_string())
        .collect();
    assert_eq!(programs, ["\"etcd\"", "\"kvd\""]);

    let unpicked = run(&["check", path]);
    assert_eq!(unpicked.status.code(), Some(2));
    assert!(text(&unpicked.stderr).contains("holds 2 manifests, etcd (at byte 0), kvd (at byte"));
    assert!(text(&unpicked.stderr).contains("pick one with --program NAME"));
    let picked = run(&["check", "--unset", "--program", "kvd", "--cpu-features", "", path]);
    assert_ne!(picked.status.code(), Some(2), "{}", text(&picked.stderr));
    let unknown = run(&["check", "--program", "kv", path]);
    assert_eq!(unknown.status.code(), Some(2));
}

#[test]
fn schedulers_get_the_runtimes_renderings() {
    let etcd = file("etcd-alone", &ETCD_MANIFEST);
    // The binary's own platform, where etcd's matrix admits it: the runtime's placement of the pod.
    let output = run(&["kubernetes", etcd.to_str().unwrap()]);
    let manifests = platform_gate_cli::read(&ETCD_MANIFEST).unwrap();
    let pod = platform_gate_fleet::Pod::from_manifests(&manifests).unwrap();
    let placement = pod.placement(platform_gate_fleet::CpuLabels::Nfd, false);
    match placement.kubernetes_node_affinity() {
        Some(affinity) => {
            assert_eq!((text(&output.stdout), output.status.code()), (affinity.as_str(), Some(0)))
        }
        None => assert_eq!((output.stdout.len(), output.status.code()), (0, Some(1))),
    }
    let host = format!("values:\n          - {}\n", Platform::CURRENT.arch.go_name());
    assert_eq!(text(&output.stdout).contains(&host), output.status.code() == Some(0));
    // With --matrix, etcd's other stable architecture, ppc64le, for which no binary was given.
    let output = run(&["kubernetes", "--matrix", etcd.to_str().unwrap()]);
    assert!(text(&output.stdout).contains("values:\n          - ppc64le\n"), "{}", text(&output.stdout));
    // docker: the platforms a binary was given for, as `kubernetes` places the pod; with --matrix,
    // the matrix's others too.
    let output = run(&["docker", etcd.to_str().unwrap()]);
    assert_eq!(
        text(&output.stdout),
        pod.placement(platform_gate_fleet::CpuLabels::None, false).docker_platforms()
    );
    let output = run(&["docker", "--matrix", etcd.to_str().unwrap()]);
    assert_eq!(
        text(&output.stdout),
        platform_gate_fleet::Schedule::of(&Matrix::ETCD, Policy::DEFAULT).docker_platforms()
    );
    // etcd and kvd, both for this host, where KV's matrix leaves amd64 unstable: nothing, exit 1.
    let kvd = file("kvd-alone", &KV_MANIFEST);
    let output = run(&["docker", etcd.to_str().unwrap(), kvd.to_str().unwrap()]);
    assert_eq!((output.status.code(), output.stdout.len()), (Some(1), 0));
    // The platforms both matrices admit, none of which a binary was given for: with --matrix only.
    let alpine = file("alpine", &ALPINE_MANIFEST);
    let output = run(&["docker", alpine.to_str().unwrap(), kvd.to_str().unwrap()]);
    assert_eq!((output.status.code(), output.stdout.len()), (Some(1), 0));
    let output = run(&["docker", "--matrix", alpine.to_str().unwrap(), kvd.to_str().unwrap()]);
    assert_eq!(text(&output.stdout), "linux/riscv64");
}

/// A lone binary for riscv64 is built for riscv64 alone, not for every platform its matrix admits;
/// and `kubernetes --env` places a pod where its variable names a platform the matrix leaves out.
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
#[test]
fn docker_lists_the_binaries_platforms_and_kubernetes_takes_the_variable() {
    let riscv64 = common::rebuilt(&ETCD_MANIFEST, ["riscv64", "riscv64", "linux", "linux"], 0, &[]);
    let riscv64 = file("etcd-riscv64", &riscv64);
    let riscv64 = riscv64.to_str().unwrap();
    // etcd's matrix: riscv64 is not in it, so no platform without the variable.
    let output = run(&["docker", riscv64]);
    assert_eq!((output.status.code(), output.stdout.len()), (Some(1), 0));
    let arm64 =
        file("etcd-arm64", &common::rebuilt(&ETCD_MANIFEST, ["arm64", "aarch64", "linux", "linux"], 0, &[]));
    let arm64 = arm64.to_str().unwrap();
    let output = run(&["docker", riscv64, arm64, etcd_amd64().to_str().unwrap()]);
    assert_eq!(text(&output.stdout), "linux/amd64", "{}", text(&output.stderr));
    assert!(
        text(&output.stderr)
            .contains("platform-gate: arm64 linux: etcd refuses there without its variable\n"),
        "{}",
        text(&output.stderr)
    );
    // kubernetes: arm64 is experimental in etcd's matrix; the pod's variable set to arm64 admits it.
    let output = run(&["kubernetes", arm64]);
    assert_eq!(output.status.code(), Some(1));
    let output = run(&["kubernetes", "--env", "arm64", arm64]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("values:\n          - arm64\n"), "{}", text(&output.stdout));
    let output = run(&["kubernetes", "--env", "riscv64", arm64]);
    assert!(
        text(&output.stderr).contains("etcd refuses there with its variable as given"),
        "{}",
        text(&output.stderr)
    );
    let output = run(&["kubernetes", "--env", "arm64", "--cpu-labels", "rule", arm64]);
    assert_eq!((output.status.code(), text(&output.stderr).lines().count()), (Some(2), 1));
}

fn etcd_amd64() -> PathBuf {
    file("etcd-amd64", &ETCD_MANIFEST)
}

/// Every subcommand that judges a platform takes `--env`, `--matrix`, `--program` and
/// `--cpu-labels`, or says in its `--help` why not.
#[test]
fn the_judging_flags_line_up_or_help_says_why_not() {
    for subcommand in ["check", "kubernetes", "nodes", "docker", "nfd-rule", "nfd-compat", "systemd"] {
        let help = text(&run(&[subcommand, "--help"]).stdout).to_string();
        let not_here = help.split("Not here:").nth(1).unwrap_or("");
        for flag in ["--env", "--matrix", "--program", "--cpu-labels"] {
            let taken = help.lines().any(|line| line.trim_start().starts_with(flag));
            assert!(
                taken != not_here.contains(flag),
                "{subcommand} {flag}: taken {taken}, or said why not\n{help}"
            );
        }
    }
}

#[test]
fn show_is_for_people_and_json_for_programs() {
    let kvd = file("kvd-show", &KV_MANIFEST);
    let output = run(&["show", kvd.to_str().unwrap()]);
    let shown = text(&output.stdout);
    assert!(shown.contains("kvd 2.7.1-rc.1, gated by platform-gate"), "{shown}");
    assert!(shown.contains("variable:  KVD_UNSUPPORTED_ARCH"), "{shown}");
    assert!(shown.contains("| s390x | Linux | Stable | IBM |"), "{shown}");
    let output = run(&["show", "--json", kvd.to_str().unwrap()]);
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        json["policy"],
        serde_json::json!({"check": "platform", "allow": "experimental", "exit_code": 3})
    );
    assert_eq!(json["platform"]["arch"], Platform::CURRENT.arch.go_name());
    assert_eq!(json["platform"]["arch_rust"], Platform::CURRENT.arch.rust_name());
    assert_eq!(json["matrix"][0]["note"], "Needs 4 GiB of memory.");
    assert_eq!(json["packager"], serde_json::Value::Null);
    assert_eq!(json["crate_version"], "2.7.1-rc.1");
}

#[test]
fn a_closed_stdout_is_status_2_not_a_panic() {
    let kvd = file("kvd-closed", &KV_MANIFEST);
    for args in [vec!["show", kvd.to_str().unwrap()], vec!["check", "--unset", kvd.to_str().unwrap()]] {
        let mut child =
            Command::new(COMMAND).args(&args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        drop(child.stdout.take()); // closed before the command writes
        let output = child.wait_with_output().unwrap();
        assert!(!text(&output.stderr).contains("panicked"), "{args:?}: {}", text(&output.stderr));
        assert!(matches!(output.status.code(), Some(0..=2)), "{args:?}: {:?}", output.status);
    }
}

#[test]
fn completions_are_generated_for_the_shells() {
    let output = run(&["completions", "bash"]);
    assert_eq!(output.status.code(), Some(0));
    assert!(text(&output.stdout).contains("platform-gate"));
}

/// Runs the command, failing the test rather than hanging if it does not end within 10 s.
fn run_bounded(args: &[&str]) -> Output {
    let mut child =
        Command::new(COMMAND).args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let start = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > std::time::Duration::from_secs(10) {
            child.kill().unwrap();
            panic!("{args:?} did not end in 10 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

#[cfg(unix)]
#[test]
fn devices_and_fifos_are_refused_at_once_without_being_read() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("command-special");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    for (path, says) in [
        ("/dev/zero", "is a character device, not a regular file"),
        (fifo.to_str().unwrap(), "is a FIFO, not a regular file"),
        (dir.to_str().unwrap(), "is a directory, not a regular file"),
    ] {
        for subcommand in ["show", "check"] {
            let output = run_bounded(&[subcommand, path]);
            let stderr = text(&output.stderr);
            assert_eq!(output.status.code(), Some(2), "{subcommand} {path}: {stderr}");
            assert!(stderr.contains(says) && stderr.lines().count() == 1, "{subcommand} {path}: {stderr}");
        }
    }
}

#[cfg(unix)]
#[test]
fn show_recursive_lists_every_gated_binary_once_and_follows_no_link() {
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("command-tree");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("usr/bin")).unwrap();
    std::fs::create_dir_all(root.join("opt/kv/bin")).unwrap();
    std::fs::write(root.join("usr/bin/kvd"), &KV_MANIFEST[..]).unwrap();
    std::fs::write(root.join("opt/kv/bin/etcd"), &ETCD_MANIFEST[..]).unwrap();
    std::fs::write(root.join("usr/bin/ls"), b"\x7fELF an ungated binary").unwrap();
    std::fs::write(root.join("usr/bin/empty"), b"").unwrap();
    std::os::unix::fs::symlink("kvd", root.join("usr/bin/kvd-link")).unwrap();
    std::os::unix::fs::symlink("..", root.join("usr/bin/loop")).unwrap();
    assert!(Command::new("mkfifo").arg(root.join("usr/bin/fifo")).status().unwrap().success());
    let output = run_bounded(&["show", "--json", "-r", root.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let mut files: Vec<String> = text(&output.stdout)
        .lines()
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line).unwrap()["file"].as_str().unwrap().to_string()
        })
        .collect();
    files.sort();
    let under = |path: &str| root.join(path).display().to_string();
    assert_eq!(files, [under("opt/kv/bin/etcd"), under("usr/bin/kvd")]);
    assert!(output.stderr.is_empty(), "{}", text(&output.stderr));
    // A tree without a gated binary: exit 2, in a line.
    let output = run_bounded(&["show", "--recursive", root.join("usr/bin/loop/bin").to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "the link given itself is walked: {}", text(&output.stderr));
    let bare = root.join("bare");
    std::fs::create_dir_all(&bare).unwrap();
    let output = run_bounded(&["show", "-r", bare.to_str().unwrap()]);
    assert_eq!(
        (output.status.code(), text(&output.stderr)),
        (Some(2), "platform-gate: no gated binary found\n")
    );
}

/// docs/command.md's supervisor script, run as it is written (the binary's and the refusal file's
/// paths replaced by the test's, `logger` by a stub that keeps what it is given): a binary that
/// starts is started, a refused one is not and its refusal is logged, and one whose manifest is
/// newer than the command reads (exit 2, cannot tell) is started, to decide for itself.
#[cfg(all(unix, target_arch = "x86_64", target_os = "linux"))]
#[test]
fn the_supervisor_recipe_starts_logs_a_refusal_and_lets_cannot_tell_start() {
    use std::os::unix::fs::PermissionsExt as _;

    let page = include_str!("../../docs/command.md");
    let start = page.find("```sh\nplatform-gate check /usr/bin/kvd").expect("the recipe") + "```sh\n".len();
    let script = &page[start..start + page[start..].find("```").unwrap()];
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("supervisor");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("bin")).unwrap();
    std::os::unix::fs::symlink(COMMAND, dir.join("bin/platform-gate")).unwrap();
    let logger = dir.join("bin/logger");
    std::fs::write(&logger, "#!/bin/sh\ncat > \"$LOGGED\"\n").unwrap();
    std::fs::set_permissions(&logger, std::fs::Permissions::from_mode(0o755)).unwrap();
    let newer = common::with_format(&ETCD_MANIFEST, 200);
    // (manifest, started, logged)
    let cases: [(&str, &[u8], bool, bool); 3] = [
        ("starts", &ETCD_MANIFEST, true, false),
        ("refused", &KV_MANIFEST, false, true),
        ("newer", &newer, true, false),
    ];
    for (name, manifest, started, logged) in cases {
        // A shell script that says it started, then stops reading: the manifest after it is data.
        let kvd = dir.join(name);
        std::fs::write(&kvd, [&b"#!/bin/sh\necho kvd started\nexit 0\n"[..], manifest].concat()).unwrap();
        std::fs::set_permissions(&kvd, std::fs::Permissions::from_mode(0o755)).unwrap();
        let refusal = dir.join(format!("{name}.refusal"));
        let log = dir.join(format!("{name}.log"));
        let script = script
            .replace("/usr/bin/kvd", kvd.to_str().unwrap())
            .replace("/run/kvd.refusal", refusal.to_str().unwrap());
        let path = format!("{}:{}", dir.join("bin").display(), std::env::var("PATH").unwrap());
        let output = Command::new("sh")
            .args(["-c", &script])
            .env("PATH", path)
            .env("LOGGED", &log)
            .env_remove("KVD_UNSUPPORTED_ARCH")
            .env_remove("ETCD_UNSUPPORTED_ARCH")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{name}: {}", text(&output.stderr));
        assert_eq!(text(&output.stdout) == "kvd started\n", started, "{name}: {}", text(&output.stdout));
        assert_eq!(log.exists(), logged, "{name}");
        let expected = match name {
            "starts" => 0,
            "refused" => 1,
            _ => 2,
        };
        assert_eq!(run(&["check", kvd.to_str().unwrap()]).status.code(), Some(expected), "{name}");
        if logged {
            let predicted = run(&["check", kvd.to_str().unwrap()]).stdout;
            assert!(predicted.starts_with(b"error: kvd will not start"), "{}", text(&predicted));
            assert_eq!(
                std::fs::read(&log).unwrap(),
                predicted,
                "{name}: the log holds exactly what kvd would print"
            );
        }
    }
}
