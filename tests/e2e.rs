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
        "actix_above" => env!("CARGO_BIN_EXE_actix_above"),
        "actix_below" => env!("CARGO_BIN_EXE_actix_below"),
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

#[cfg(unix)]
#[test]
fn refusals_on_a_pipe_shared_with_another_writer_are_never_torn() {
    // Another process writes lines to the same pipe as fast as it can (a supervisor, `2>&1 |
    // logger`) while the gate refuses a hundred times: each refusal must arrive whole.
    const RUNS: usize = 100;
    let script = r#"(while :; do echo "[other] heartbeat ok" >&2; done) & writer=$!
        i=0; while [ $i -lt "$1" ]; do "$0"; i=$((i + 1)); done
        kill $writer"#;
    let output = Command::new("sh")
        .args(["-c", script, env!("CARGO_BIN_EXE_unstable_here"), &RUNS.to_string()])
        .env_clear()
        .output()
        .expect("sh runs");
    let refusal = expected_message("unstable_here", &HERE_UNSTABLE, Policy::DEFAULT, None);
    let shared = String::from_utf8_lossy(&output.stderr);
    assert_eq!(shared.matches(&refusal).count(), RUNS, "some refusals were torn");
    let others = shared.replace(&refusal, "");
    assert!(others.lines().all(|line| line == "[other] heartbeat ok"), "interleaved:\n{others}");
}

#[cfg(unix)]
#[test]
fn a_huge_value_cannot_hang_the_refusal_on_a_full_pipe() {
    // The parent reads stderr only after the child exits, so a message larger than the pipe's
    // 64 KiB would block the child forever. Control characters escape to four bytes each. (Linux
    // takes at most 128 KiB in one environment string.)
    for value in ["x".repeat(100_000), "\x01".repeat(100_000)] {
        let mut child =
            fixture("unstable_here").env(VAR, &value).stderr(Stdio::piped()).spawn().expect("runs");
        let started = std::time::Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break status;
            }
            if started.elapsed() > std::time::Duration::from_secs(20) {
                let _ = child.kill();
                panic!("the refusal hung on a full pipe");
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        };
        assert_eq!(status.code(), Some(1));
        let mut message = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().expect("piped"), &mut message).expect("read");
        assert!(message.len() < 4096, "{} bytes", message.len());
        assert!(message.contains("more bytes)"), "{message}");
        assert_eq!(
            message,
            expected_message("unstable_here", &HERE_UNSTABLE, Policy::DEFAULT, Some(OsStr::new(&value)))
        );
    }
}

#[test]
fn look_alikes_and_unicode_spaces_are_refused_and_shown_as_they_are() {
    let name = Platform::CURRENT.arch.go_name();
    let first = name.chars().next().expect("a name");
    // A fullwidth first letter renders almost like the real one.
    let fullwidth = char::from_u32(u32::from(first) + 0xfee0).expect("fullwidth form");
    let cases = [
        (format!("\u{a0}{name}"), "U+00A0"),
        (format!("\u{85}{name}"), "U+0085"),
        (format!("{name}\u{3000}"), "U+3000"),
        (format!("{name}\u{3164}"), "U+3164"),
        (format!("{fullwidth}{}", &name[1..]), "U+FF"),
    ];
    for (value, code_point) in cases {
        let output = run("unstable_here", VAR, Some(OsStr::new(&value)));
        assert_refused(&output, 1);
        let message = stderr(&output);
        assert!(message.is_ascii(), "{message}");
        assert!(message.contains(&format!("the value contains {code_point}")), "{message}");
        let escaped: String = value
            .chars()
            .map(|c| if c.is_ascii() { c.to_string() } else { c.escape_unicode().to_string() })
            .collect();
        assert!(message.contains(&format!("is set to \"{escaped}\"")), "{message}");
    }
}

#[test]
fn exit_code_is_honoured() {
    assert_refused(&run("exit_code", VAR, None), 42);
    assert_started(&run("exit_code", VAR, Some(OsStr::new(Platform::CURRENT.arch.rust_name()))));
}

/// Gated `async fn main`s under a runtime's attribute, in both orders.
const ASYNC_FIXTURES: [&str; 4] = ["tokio_above", "tokio_below", "actix_above", "actix_below"];

#[test]
fn async_runtimes_in_either_order_refuse_before_the_body_and_override() {
    for name in ASYNC_FIXTURES {
        let output = run(name, VAR, None);
        assert_refused(&output, 1);
        assert_eq!(stderr(&output), expected_message(name, &HERE_UNSTABLE, Policy::DEFAULT, None));
        assert_started(&run(name, VAR, Some(OsStr::new(Platform::CURRENT.arch.go_name()))));
    }
}

/// `fixture` as user `nobody`, allowed one process: the first thread any runtime starts fails.
/// Needs root, to change user; `None` elsewhere.
#[cfg(target_os = "linux")]
fn with_one_process(name: &str, value: Option<&str>) -> Option<Output> {
    let root = Command::new("id").arg("-u").output().ok().is_some_and(|id| id.stdout == b"0\n");
    if !root {
        return None;
    }
    let mut command = Command::new("setpriv");
    command.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--", "prlimit", "--nproc=1", "--"]);
    command.arg(fixture(name).get_program()).env_clear().stdin(Stdio::null());
    if let Some(value) = value {
        command.env(VAR, value);
    }
    Some(command.output().expect("setpriv and prlimit run"))
}

#[cfg(target_os = "linux")]
#[test]
fn no_runtime_thread_exists_before_the_refusal_in_either_order() {
    let Some(control) = with_one_process("tokio_below", Some(Platform::CURRENT.arch.go_name())) else {
        eprintln!("skipped: RLIMIT_NPROC needs another user, and changing user needs root");
        return;
    };
    // The limit bites: past the gate, tokio cannot start its worker threads and panics.
    assert_eq!(control.status.code(), Some(101), "{}", stderr(&control));
    assert!(stderr(&control).contains("worker thread"), "{}", stderr(&control));
    for name in ASYNC_FIXTURES {
        let output = with_one_process(name, None).expect("as root");
        assert_eq!(output.status.code(), Some(1), "{name}: {}", stderr(&output));
        assert_eq!(stdout(&output), "", "{name}");
        assert_eq!(stderr(&output), expected_message(name, &HERE_UNSTABLE, Policy::DEFAULT, None), "{name}");
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
