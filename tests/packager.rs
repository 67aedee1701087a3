//! The packager's knob end to end: one crate outside the repository, built again and again in one
//! target directory with and without `PLATFORM_GATE_PACKAGER(_SUPPORTS)`, and run each time. Cargo
//! must rebuild whenever the knob changes, and its mistakes must stop the build with their names.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use platform_gate::{Arch, Platform};

const PACKAGER: &str = "PLATFORM_GATE_PACKAGER";
const SUPPORTS: &str = "PLATFORM_GATE_PACKAGER_SUPPORTS";

struct Project {
    root: PathBuf,
    target: PathBuf,
}

impl Project {
    fn new() -> Project {
        let here = Path::new(env!("CARGO_MANIFEST_DIR"));
        let runtime = here.join("../runtime").canonicalize().expect("runtime/");
        let root = std::env::temp_dir().join(format!("platform-gate-packager-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(root.join("src")).expect("mkdir");
        fs::write(
            root.join("Cargo.toml"),
            format!(
                "[package]\nname = \"kv\"\nedition = \"2024\"\n\n[dependencies]\nplatform-gate = {{ path = {:?} }}\n\n[workspace]\n",
                runtime.display().to_string()
            ),
        )
        .expect("write");
        // This host's platform is unstable in the matrix, so without the knob the gate refuses.
        fs::write(
            root.join("src/main.rs"),
            r#"use platform_gate::{Matrix, Platform, Row, Status};

const HERE: Platform = Platform::CURRENT;
const SUPPORT: Matrix = Matrix::new(&[Row::new(HERE.arch, HERE.os, Status::Unstable)]);

#[platform_gate::platform_gated(env = "KV_UNSUPPORTED_ARCH", matrix = SUPPORT)]
fn main() {
    println!("kv started");
}
"#,
        )
        .expect("write");
        fs::copy(here.join("../Cargo.lock"), root.join("Cargo.lock")).expect("Cargo.lock");
        Project { root, target: here.join("../target/tests/packager") }
    }

    /// `cargo build` with the knob set to `packager` and `supports` (unset where `None`).
    fn build(&self, packager: Option<&str>, supports: Option<&str>) -> Output {
        let mut cargo = Command::new(env!("CARGO"));
        cargo
            .args(["build", "--offline", "--quiet"])
            .current_dir(&self.root)
            .env("CARGO_TARGET_DIR", &self.target);
        for (name, value) in [(PACKAGER, packager), (SUPPORTS, supports)] {
            match value {
                Some(value) => cargo.env(name, value),
                None => cargo.env_remove(name),
            };
        }
        cargo.output().expect("cargo runs")
    }

    #[track_caller]
    fn build_and_run(&self, packager: Option<&str>, supports: Option<&str>) -> Output {
        let build = self.build(packager, supports);
        assert!(build.status.success(), "{}", String::from_utf8_lossy(&build.stderr));
        Command::new(self.target.join("debug/kv")).env_clear().output().expect("kv runs")
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.root);
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn the_knob_is_read_at_build_time_rebuilt_on_change_and_checked() {
    let project = Project::new();
    let here = Platform::CURRENT.arch;
    let elsewhere = if here == Arch::S390x { Arch::Riscv64 } else { Arch::S390x };

    let refused = project.build_and_run(None, None);
    assert_eq!(refused.status.code(), Some(1), "without the knob: {}", text(&refused.stderr));
    assert!(text(&refused.stderr).starts_with("error: kv will not start on"));

    // With the knob naming this architecture (Rust spelling, in a list), the same source starts,
    // with one line that names the packager. Cargo must have rebuilt for it.
    let list = format!("{}, {}", elsewhere.go_name(), here.rust_name());
    let vouched = project.build_and_run(Some("Test Distro"), Some(&list));
    assert_eq!(vouched.status.code(), Some(0), "{}", text(&vouched.stderr));
    assert_eq!(text(&vouched.stdout), "kv started\n");
    let warning = text(&vouched.stderr);
    assert_eq!(warning.lines().count(), 1, "{warning}");
    assert!(warning.starts_with(&format!("warning: kv is running on {:#}", Platform::CURRENT)), "{warning}");
    assert!(warning.contains("where the architecture is unstable in kv's support matrix"), "{warning}");
    assert!(
        warning
            .ends_with("Test Distro, who packaged this build, supports it: report problems to Test Distro\n")
    );

    // The knob for another architecture changes nothing here.
    let elsewhere_only = project.build_and_run(Some("Test Distro"), Some(elsewhere.go_name()));
    assert_eq!(elsewhere_only.status.code(), Some(1), "{}", text(&elsewhere_only.stderr));
    assert_eq!(text(&elsewhere_only.stderr), text(&refused.stderr));

    // Mistakes stop the build, naming what is wrong.
    let misspelt = project.build(Some("Test Distro"), Some("riscv64, loong46"));
    assert!(!misspelt.status.success());
    let errors = text(&misspelt.stderr);
    assert!(
        errors.contains("PLATFORM_GATE_PACKAGER_SUPPORTS names `loong46`, which is no architecture"),
        "{errors}"
    );
    let nameless = project.build(None, Some(here.go_name()));
    assert!(!nameless.status.success());
    let errors = text(&nameless.stderr);
    assert!(
        errors.contains("PLATFORM_GATE_PACKAGER_SUPPORTS is set, but PLATFORM_GATE_PACKAGER is not"),
        "{errors}"
    );

    // And back: without the knob, refused again, not a stale build.
    let again = project.build_and_run(None, None);
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(text(&again.stderr), text(&refused.stderr));
}
