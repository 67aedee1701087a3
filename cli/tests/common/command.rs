//! Running the `platform-gate` command with stdin: for the test files built with the command
//! (feature `command`), which `common/mod.rs`, shared with those built without it, cannot name.

use std::process::{Command, Output, Stdio};

const COMMAND: &str = env!("CARGO_BIN_EXE_platform-gate");

/// The command's output for `args`, with `stdin` written to it.
pub fn run(args: &[&str], stdin: &[u8]) -> Output {
    use std::io::Write as _;
    let mut child = Command::new(COMMAND)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

/// `bytes` as text; the command writes UTF-8.
pub fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap()
}
