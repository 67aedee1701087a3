//! A crate outside this repository, depending on `runtime/` by path as a user's would: every form
//! of the pass suite compiles and runs there, and a real Cargo rename (`pg = { package = ... }`)
//! works with `crate = "pg"`. It catches what only shows outside the workspace: paths the macro
//! emits, the variable derived from a package name that is not ours, and the pinned macro crate.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use platform_gate::Platform;

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().expect("has a parent")).expect("mkdir");
    fs::write(path, text).expect("write");
}

#[test]
fn a_crate_outside_the_repository_can_use_every_form() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let runtime = here.join("../runtime").canonicalize().expect("runtime/");
    let root = std::env::temp_dir().join(format!("platform-gate-outside-{}", std::process::id()));
    let _ = fs::remove_dir_all(&root);
    let dependency = format!("path = {:?}", runtime.display().to_string());

    write(&root.join("Cargo.toml"), "[workspace]\nmembers = [\"plain\", \"renamed\"]\nresolver = \"3\"\n");
    // Our lock file, so that the build resolves to what this workspace was tested with, offline.
    fs::copy(here.join("../Cargo.lock"), root.join("Cargo.lock")).expect("Cargo.lock");

    let tokio =
        r#"tokio = { version = "1", default-features = false, features = ["macros", "rt-multi-thread"] }"#;
    write(
        &root.join("plain/Cargo.toml"),
        &format!(
            "[package]\nname = \"plain\"\nedition = \"2024\"\n\n[dependencies]\nplatform-gate = {{ {dependency} }}\n{tokio}\n"
        ),
    );
    write(&root.join("plain/src/lib.rs"), "");
    let mut cases = Vec::new();
    for entry in fs::read_dir(here.join("ui/pass")).expect("ui/pass") {
        let path = entry.expect("entry").path();
        let name = path.file_stem().expect("stem").to_string_lossy().into_owned();
        write(&root.join(format!("plain/src/bin/{name}.rs")), &fs::read_to_string(&path).expect("read"));
        cases.push(name);
    }
    assert!(cases.len() >= 8, "the pass suite went missing: {cases:?}");

    write(
        &root.join("renamed/Cargo.toml"),
        &format!(
            "[package]\nname = \"renamed-server\"\nedition = \"2024\"\n\n[dependencies]\npg = {{ package = \"platform-gate\", {dependency} }}\n"
        ),
    );
    write(
        &root.join("renamed/src/main.rs"),
        r#"
const HERE: pg::Platform = pg::Platform::CURRENT;
const SUPPORT: pg::Matrix = pg::Matrix::new(&[pg::Row::new(HERE.arch, HERE.os, pg::Status::Unstable)]);

#[pg::platform_gated(crate = "pg", matrix = SUPPORT)]
fn main() {
    println!("renamed ran");
}
"#,
    );

    let target: PathBuf = here.join("../target/tests/outside");
    let build = Command::new(env!("CARGO"))
        .args(["build", "--workspace", "--bins", "--offline", "--quiet"])
        .current_dir(&root)
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .expect("cargo runs");
    assert!(build.status.success(), "{}", String::from_utf8_lossy(&build.stderr));

    for case in &cases {
        let output = Command::new(target.join("debug").join(case)).env_clear().output().expect("runs");
        assert!(output.status.success(), "{case}: {}", String::from_utf8_lossy(&output.stderr));
    }

    // The renamed crate's gate: refused without the variable, which is derived from *its* package
    // name, and started with it.
    let renamed = target.join("debug/renamed-server");
    let refused = Command::new(&renamed).env_clear().output().expect("runs");
    assert_eq!(refused.status.code(), Some(1));
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.starts_with("error: renamed-server will not start on"), "{message}");
    let assignment = format!("set RENAMED_SERVER_UNSUPPORTED_ARCH={}", Platform::CURRENT.arch.go_name());
    assert!(message.contains(&assignment), "{message}");

    let started = Command::new(&renamed)
        .env_clear()
        .env("RENAMED_SERVER_UNSUPPORTED_ARCH", Platform::CURRENT.arch.rust_name())
        .output()
        .expect("runs");
    assert!(started.status.success());
    assert_eq!(String::from_utf8_lossy(&started.stdout), "renamed ran\n");

    let _ = fs::remove_dir_all(&root);
}
