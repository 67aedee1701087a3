//! The expansion is lint-clean: each supported form of a gated `main` (tokio multi-thread and
//! `current_thread`, actix, in both orders; `-> Result`, `-> ExitCode`; the runtime's attribute or
//! the gate inside `cfg_attr`; `cfg` twins) is linted with clippy's pedantic, nursery and restriction
//! groups, beside the same program without the gate. Any lint the gated program gets more often than
//! its twin is the attribute's doing, and fails the test.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// (binary, source): every form the attribute supports beside a runtime or `cfg`.
const FORMS: [(&str, &str); 12] = [
    ("tokio_above", "#[platform_gate::platform_gated]\n#[tokio::main]\nasync fn main() {\n    run();\n}\n"),
    ("tokio_below", "#[tokio::main]\n#[platform_gate::platform_gated]\nasync fn main() {\n    run();\n}\n"),
    (
        "tokio_current_thread_above",
        "#[platform_gate::platform_gated(env = \"LINT_ARCH\", exit_code = 78)]\n#[tokio::main(flavor = \"current_thread\")]\nasync fn main() {\n    run();\n}\n",
    ),
    (
        "tokio_current_thread_below",
        "#[tokio::main(flavor = \"current_thread\")]\n#[platform_gate::platform_gated(env = \"LINT_ARCH\", exit_code = 78)]\nasync fn main() {\n    run();\n}\n",
    ),
    (
        "actix_above",
        "#[platform_gate::platform_gated]\n#[actix_rt::main]\nasync fn main() {\n    run();\n}\n",
    ),
    (
        "actix_below",
        "#[actix_rt::main]\n#[platform_gate::platform_gated]\nasync fn main() {\n    run();\n}\n",
    ),
    (
        "result_main",
        "#[platform_gate::platform_gated(check = \"platform\")]\nfn main() -> Result<(), String> {\n    run();\n    std::env::var(\"LINT_FAIL\").map_or(Ok(()), Err)\n}\n",
    ),
    (
        "exit_code_main",
        "#[platform_gate::platform_gated(allow = \"experimental\")]\nfn main() -> std::process::ExitCode {\n    run();\n    std::process::ExitCode::SUCCESS\n}\n",
    ),
    (
        "cfg_attr_runtime_gate_above",
        "#[platform_gate::platform_gated]\n#[cfg_attr(all(), tokio::main)]\nasync fn main() {\n    run();\n}\n",
    ),
    (
        "cfg_attr_runtime_gate_below",
        "#[cfg_attr(all(), tokio::main)]\n#[platform_gate::platform_gated]\nasync fn main() {\n    run();\n}\n",
    ),
    ("cfg_attr_gate", "#[cfg_attr(all(), platform_gate::platform_gated)]\nfn main() {\n    run();\n}\n"),
    (
        "cfg_twins",
        "#[cfg(unix)]\n#[platform_gate::platform_gated]\nfn main() {\n    run();\n}\n\n#[cfg(not(unix))]\n#[platform_gate::platform_gated]\nfn main() {\n    run();\n}\n",
    ),
];

/// What every form's body calls, so that the program's own code is the same in every binary.
const RUN: &str = "\n/// The program.\nfn run() {\n    std::hint::black_box(1);\n}\n";

const LINTS: [&str; 8] = [
    "-W",
    "clippy::pedantic",
    "-W",
    "clippy::nursery",
    "-W",
    "clippy::restriction",
    "-A",
    "clippy::blanket_clippy_restriction_lints",
];

/// A package of the forms, gated or (each line naming the attribute left blank) not.
fn write_package(root: &Path, name: &str, gated: bool) {
    let dir = root.join(name);
    std::fs::create_dir_all(dir.join("src/bin")).expect("package folder");
    let runtime = Path::new(env!("CARGO_MANIFEST_DIR")).join("../runtime");
    let manifest = format!(
        "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         [dependencies]\nplatform-gate = {{ path = {runtime:?} }}\n\
         tokio = {{ version = \"1\", default-features = false, features = [\"macros\", \"rt-multi-thread\"] }}\n\
         actix-rt = {{ version = \"2\", default-features = false, features = [\"macros\"] }}\n",
        runtime = runtime.display().to_string()
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).expect("manifest");
    for (bin, source) in FORMS {
        let source: String = source
            .lines()
            .map(|line| if !gated && line.contains("platform_gated") { "" } else { line })
            .map(|line| format!("{line}\n"))
            .collect();
        let text = format!("//! `{bin}`: a form of gated `main`, linted.\n\n{source}{RUN}");
        std::fs::write(dir.join("src/bin").join(format!("{bin}.rs")), text).expect("source");
    }
}

/// (binary, lint) -> how many times clippy reported it, from cargo's JSON messages.
fn lints(root: &Path, package: &str) -> BTreeMap<(String, String), usize> {
    let output = Command::new(env!("CARGO"))
        .args(["clippy", "--offline", "--quiet", "--bins", "--message-format=json", "-p", package, "--"])
        .args(LINTS)
        .current_dir(root)
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo clippy runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "clippy failed on {package}:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut counts = BTreeMap::new();
    for line in stdout.lines().filter(|line| line.contains("\"reason\":\"compiler-message\"")) {
        let Some(lint) = field_after(line, "\"code\":{\"code\":\"") else { continue };
        let target = line.find("\"target\":{").and_then(|at| field_after(&line[at..], "\"name\":\""));
        let key = (target.unwrap_or_default(), lint);
        *counts.entry(key).or_insert(0) += 1;
    }
    counts
}

/// The JSON string value that follows `marker` in `line`.
fn field_after(line: &str, marker: &str) -> Option<String> {
    let start = line.find(marker)? + marker.len();
    let end = line[start..].find('"')?;
    Some(line[start..start + end].to_owned())
}

fn scratch() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/lint-check");
    std::fs::create_dir_all(&root).expect("scratch folder");
    // The versions this workspace was tested with, so that the check runs offline.
    std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.lock"), root.join("Cargo.lock"))
        .expect("Cargo.lock");
    std::fs::write(
        root.join("Cargo.toml"),
        "[workspace]\nmembers = [\"gated\", \"ungated\"]\nresolver = \"3\"\n",
    )
    .expect("workspace manifest");
    write_package(&root, "gated", true);
    write_package(&root, "ungated", false);
    root
}

#[test]
fn the_expansion_adds_no_lint_in_any_form() {
    let root = scratch();
    let gated = lints(&root, "gated");
    let ungated = lints(&root, "ungated");
    let added: Vec<String> = gated
        .iter()
        .filter(|(key, count)| ungated.get(*key).copied().unwrap_or(0) < **count)
        .map(|((bin, lint), count)| format!("{bin}: {lint} ({count} times)"))
        .collect();
    assert!(
        added.is_empty(),
        "the attribute causes lints that the same program without it does not get:\n{}",
        added.join("\n")
    );
    // The check can see lints at all: the ungated twins get some (restriction's `print_stdout` or
    // others) in every binary.
    assert!(ungated.keys().any(|(bin, _)| bin == "tokio_above"), "no lints read: {ungated:?}");
}
