//! End to end: real gated binaries (the fixtures in `fixtures/`), run as processes with an exact
//! environment, checked for exit code, stdout (did the program's own code run?) and stderr (the
//! message, compared with what the pure decision renders for the same inputs).

use std::ffi::{OsStr, OsString};
use std::process::{Command, Output, Stdio};

use platform_gate::{Matrix, Platform, Policy, decide};
use platform_gate_tests::{HERE_EXPERIMENTAL, HERE_UNSTABLE, STABLE_ON_ANOTHER_OS, USER_CODE_RAN};

const VAR: &str = "GATE_E2E_ARCH";

fn fixture(name: &str) -> Command {
    let path = match name {
        "default_matrix" => env!("CARGO_BIN_EXE_default_matrix"),
        "unstable_here" => env!("CARGO_BIN_EXE_unstable_here"),
        "exit_code" => env!("CARGO_BIN_EXE_exit_code"),
        "tokio_above" => env!("CARGO_BIN_EXE_tokio_above"),
        "tokio_below" => env!("CARGO_BIN_EXE_tokio_below"),
        "check_platform" => env!("CARGO_BIN_EXE_check_platform"),
        "check_arch" => env!("CARGO_BIN_EXE_check_arch"),
        "experimental_here" => env!("CARGO_BIN_EXE_experimental_here"),
        "allow_experimental" => env!("CARGO_BIN_EXE_allow_experimental"),
        _ => panic!("no fixture {name}"),
    };
    let mut command = Command::new(path);
    command.env_clear().stdin(Stdio::null());
    command
}

fn run(name: &str, variable: &str, value: Option<&OsStr>) -> Output {
    let mut command = fixture(name);
    if let Some(value) = value {
        command.env(variable, value);
    }
    command.output().expect("the fixture runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// What the gate prints for `value`, rendered by the pure API: the binary must print exactly this.
fn expected_message(program: &str, matrix: &Matrix, policy: Policy, value: Option<&OsStr>) -> String {
    let verdict = decide(matrix, policy, Platform::CURRENT, VAR, value);
    verdict.message(program).map(|message| format!("{message}\n")).unwrap_or_default()
}

#[track_caller]
fn assert_refused(output: &Output, code: i32) {
    assert_eq!(output.status.code(), Some(code), "stderr: {}", stderr(output));
    assert_eq!(stdout(output), "", "the program's own code must not run");
    assert!(stderr(output).starts_with("error: "), "{}", stderr(output));
}

#[track_caller]
fn assert_started(output: &Output) {
    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(output));
    assert_eq!(stdout(output), format!("{USER_CODE_RAN}\n"));
}

fn spellings() -> Vec<String> {
    let arch = Platform::CURRENT.arch;
    let (go, rust) = (arch.go_name(), arch.rust_name());
    vec![
        go.to_owned(),
        rust.to_owned(),
        go.to_uppercase(),
        rust.to_uppercase(),
        format!("  {go}\t"),
        format!("s390x,{rust}"),
        format!("{go} , riscv64"),
    ]
}

#[test]
fn default_matrix_on_a_stable_host_prints_nothing_and_ignores_the_variable() {
    assert!(
        Policy::DEFAULT.passes(&Matrix::ETCD, Platform::CURRENT),
        "this test expects a host that etcd's matrix calls stable (amd64 or ppc64le)"
    );
    let variable = "PLATFORM_GATE_TESTS_UNSUPPORTED_ARCH";
    let junk = non_utf8();
    for value in [None, Some(OsStr::new("")), Some(OsStr::new("s390x")), Some(junk.as_os_str())] {
        let output = run("default_matrix", variable, value);
        assert_started(&output);
        assert_eq!(stderr(&output), "", "value {value:?}");
    }
}

#[test]
fn refusal_comes_before_user_code_with_the_rendered_message() {
    let junk = non_utf8();
    let wrong = if Platform::CURRENT.arch.go_name() == "s390x" { "amd64" } else { "s390x" };
    for value in [None, Some(OsStr::new("")), Some(OsStr::new(wrong)), Some(OsStr::new("amd")), Some(&junk)] {
        let output = run("unstable_here", VAR, value);
        assert_refused(&output, 1);
        assert_eq!(
            stderr(&output),
            expected_message("unstable_here", &HERE_UNSTABLE, Policy::DEFAULT, value)
        );
    }
}

#[test]
fn every_accepted_spelling_overrides_with_one_warning_line() {
    for value in spellings() {
        let value = OsString::from(value);
        let output = run("unstable_here", VAR, Some(&value));
        assert_started(&output);
        let expected = expected_message("unstable_here", &HERE_UNSTABLE, Policy::DEFAULT, Some(&value));
        assert!(expected.starts_with("warning: ") && expected.lines().count() == 1, "{expected}");
        assert_eq!(stderr(&output), expected, "value {value:?}");
    }
}

#[cfg(unix)]
#[test]
fn a_full_or_closed_stderr_still_exits_with_the_gates_code() {
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full");
    let output = fixture("unstable_here").stderr(full).output().expect("runs");
    assert_eq!(output.status.code(), Some(1), "a write error must not become a panic's 101");
    assert_eq!(stdout(&output), "");

    // `2>&-`: the shell closes stderr before the program starts.
    let output = Command::new("sh")
        .args(["-c", "exec \"$0\" 2>&-", env!("CARGO_BIN_EXE_exit_code")])
        .env_clear()
        .output()
        .expect("sh runs");
    assert_eq!(output.status.code(), Some(42));
    assert_eq!(stdout(&output), "");

    // An override's warning to a full stderr: the program still starts.
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full");
    let arch = Platform::CURRENT.arch.go_name();
    let output = fixture("unstable_here").env(VAR, arch).stderr(full).output().expect("runs");
    assert_started(&output);
}

#[test]
fn exit_code_is_honoured() {
    assert_refused(&run("exit_code", VAR, None), 42);
    assert_started(&run("exit_code", VAR, Some(OsStr::new(Platform::CURRENT.arch.rust_name()))));
}

#[test]
fn tokio_in_either_order_refuses_before_the_body_and_overrides() {
    for name in ["tokio_above", "tokio_below"] {
        let output = run(name, VAR, None);
        assert_refused(&output, 1);
        assert_eq!(stderr(&output), expected_message(name, &HERE_UNSTABLE, Policy::DEFAULT, None));
        assert_started(&run(name, VAR, Some(OsStr::new(Platform::CURRENT.arch.go_name()))));
    }
}

#[test]
fn check_platform_judges_the_os_and_check_arch_does_not() {
    // The architecture is stable, but only on an OS this host is not.
    let output = run("check_platform", VAR, None);
    assert_refused(&output, 1);
    let policy = Policy::DEFAULT.with_check(platform_gate::Check::Platform);
    assert_eq!(stderr(&output), expected_message("check_platform", &STABLE_ON_ANOTHER_OS, policy, None));
    assert!(stderr(&output).contains("the platform is not in check_platform's support matrix"));

    let output = run("check_arch", VAR, None);
    assert_started(&output);
    assert_eq!(stderr(&output), "");
}

#[test]
fn allow_experimental_lets_an_experimental_platform_start_silently() {
    let output = run("experimental_here", VAR, None);
    assert_refused(&output, 1);
    assert!(stderr(&output).contains("is experimental in experimental_here's support matrix"));
    assert_eq!(
        stderr(&output),
        expected_message("experimental_here", &HERE_EXPERIMENTAL, Policy::DEFAULT, None)
    );

    let output = run("allow_experimental", VAR, None);
    assert_started(&output);
    assert_eq!(stderr(&output), "");
}

#[cfg(unix)]
fn non_utf8() -> OsString {
    use std::os::unix::ffi::OsStringExt;
    let mut bytes = Platform::CURRENT.arch.go_name().as_bytes().to_vec();
    bytes.push(0xff);
    OsString::from_vec(bytes)
}

#[cfg(windows)]
fn non_utf8() -> OsString {
    use std::os::windows::ffi::OsStringExt;
    let mut wide: Vec<u16> = Platform::CURRENT.arch.go_name().encode_utf16().collect();
    wide.push(0xd800);
    OsString::from_wide(&wide)
}
