//! The crates as a registry serves them. `cargo package` builds and verifies every `.crate` file;
//! a new crate outside the repository is built against the unpacked files alone (its manifest and
//! quick-start `main` are taken from README.md, word for word) and run; and a gated `main` is
//! compiled by plain `rustc`, as Bazel or Buck would, without Cargo's environment.

use std::fmt::Write as _;
use std::fs;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use platform_gate::{Arch, Matrix, Os, Platform, Policy};

/// What one `cargo package` and one downstream build leave behind, shared by the tests below.
struct Downstream {
    /// The unpacked `.crate` files: `platform-gate-0.2.0/`, `platform-gate-macros-0.2.0/`,
    /// `platform-gate-fleet-0.2.0/`.
    unpacked: PathBuf,
    /// The downstream crate's target directory.
    target: PathBuf,
    /// A stable architecture of the downstream matrix that is not this host's.
    elsewhere: Arch,
}

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ is in the workspace").to_path_buf()
}

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().expect("has a parent")).expect("mkdir");
    fs::write(path, text).expect("write");
}

#[track_caller]
fn succeeded(what: &str, output: Output) -> Output {
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The fenced block of `language` that follows `heading` in README.md.
fn readme_block(heading: &str, language: &str) -> String {
    let readme = fs::read_to_string(workspace().join("README.md")).expect("README.md");
    let section = &readme[readme.find(heading).unwrap_or_else(|| panic!("README.md has no {heading:?}"))..];
    let fence = format!("```{language}\n");
    let start = section.find(&fence).unwrap_or_else(|| panic!("no {language} block under {heading:?}"));
    let block = &section[start + fence.len()..];
    block[..block.find("```").expect("the block ends")].to_owned()
}

fn downstream() -> &'static Downstream {
    static DOWNSTREAM: OnceLock<Downstream> = OnceLock::new();
    DOWNSTREAM.get_or_init(|| {
        // Outside the repository, so that nothing can find the workspace by walking up. The tests
        // share it to the end of the process, so nothing removes it then: its name is this
        // workspace's rather than the process's, and the next run replaces it. (Named by the
        // process, each run left 65 MB behind in the temporary directory.)
        let mut checkout = DefaultHasher::new();
        workspace().hash(&mut checkout);
        let root = std::env::temp_dir().join(format!("platform-gate-packaged-{:016x}", checkout.finish()));
        let _ = fs::remove_dir_all(&root);
        let package_target = workspace().join("target/tests/package");
        forget_earlier_packages(&package_target);
        succeeded(
            "cargo package",
            Command::new(env!("CARGO"))
                .args(["package", "--workspace", "--exclude", "platform-gate-tests", "--allow-dirty"])
                .args(["--offline", "--quiet", "--target-dir"])
                .arg(&package_target)
                .current_dir(workspace())
                .output()
                .expect("cargo runs"),
        );
        let unpacked = root.join("unpacked");
        fs::create_dir_all(&unpacked).expect("mkdir");
        for name in ["platform-gate", "platform-gate-macros", "platform-gate-fleet"] {
            let file = package_target.join(format!("package/{name}-{VERSION}.crate"));
            succeeded(
                "tar",
                Command::new("tar")
                    .arg("xzf")
                    .arg(&file)
                    .arg("-C")
                    .arg(&unpacked)
                    .output()
                    .expect("tar runs"),
            );
        }

        // The README's quick start, as a new user would copy it, with the registry's crates
        // replaced by the unpacked ones.
        let dependency = readme_block("## Quick start", "toml");
        let patch = |name: &str| {
            let path = unpacked.join(format!("{name}-{VERSION}"));
            format!("{name} = {{ path = {:?} }}\n", path.display().to_string())
        };
        let manifest = format!(
            "[package]\nname = \"kv-server\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n{dependency}\n\
             [patch.crates-io]\n{}{}\n[workspace]\n",
            patch("platform-gate"),
            patch("platform-gate-macros"),
        );
        let crate_dir = root.join("kv-server");
        write(&crate_dir.join("Cargo.toml"), &manifest);
        write(&crate_dir.join("src/bin/quickstart.rs"), &readme_block("## Quick start", "rust"));
        let elsewhere = if Platform::CURRENT.arch == Arch::S390x { Arch::Riscv64 } else { Arch::S390x };
        write(&crate_dir.join("src/main.rs"), &custom_matrix_main(elsewhere));
        write(&crate_dir.join("src/bin/spellings.rs"), &spellings_main());

        let target = root.join("target");
        succeeded(
            "the downstream build",
            Command::new(env!("CARGO"))
                .args(["build", "--offline", "--quiet", "--bins"])
                .env("CARGO_TARGET_DIR", &target)
                .current_dir(&crate_dir)
                .output()
                .expect("cargo runs"),
        );
        Downstream { unpacked, target, elsewhere }
    })
}

/// Cargo treats the crates of `cargo package`'s temporary registry as registry crates: it unpacks
/// them into `$CARGO_HOME/registry/src` once, and reuses what it compiled of them, while the
/// version stays the same. So an earlier package of this version would be verified instead of
/// this one: forget both. The unpacked copies sit under a registry whose name is empty
/// (`-<hash>`); crates.io's are left alone.
fn forget_earlier_packages(package_target: &Path) {
    let _ = fs::remove_dir_all(package_target);
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")));
    let Some(sources) = home.map(|home| home.join("registry/src")) else { return };
    let Ok(registries) = fs::read_dir(sources) else { return };
    for registry in registries.flatten() {
        if !registry.file_name().to_string_lossy().starts_with('-') {
            continue;
        }
        for name in ["platform-gate", "platform-gate-macros", "platform-gate-fleet"] {
            let _ = fs::remove_dir_all(registry.path().join(format!("{name}-{VERSION}")));
        }
    }
}

/// A server with its own matrix, variable and exit code: this host is not in the matrix.
fn custom_matrix_main(elsewhere: Arch) -> String {
    format!(
        r#"use platform_gate::{{matrix, platform_gated, Matrix}};

const SUPPORT: Matrix = matrix! {{
    {} linux => stable ["storage team"],
}};

#[platform_gated(env = "KV_UNSUPPORTED_ARCH", matrix = SUPPORT, exit_code = 3)]
fn main() {{
    println!("kv-server started");
}}
"#,
        elsewhere.go_name()
    )
}

/// Matrices with one row for every spelling of every architecture the runtime knows, each on a
/// different OS (Go and Rust spellings alternating; an architecture with more spellings than there
/// are OSes goes on in the next matrix), printed back as the runtime reads them.
fn spellings_main() -> String {
    let mut matrices = Vec::new();
    for (arch, os, _, matrix) in spelling_rows_in_matrices() {
        if matrices.len() <= matrix {
            matrices.push(String::new());
        }
        let _ = writeln!(matrices[matrix], "    {arch} {os} => unstable,");
    }
    let mut main = String::new();
    for (i, rows) in matrices.iter().enumerate() {
        let _ = writeln!(
            main,
            "const EVERY_SPELLING_{i}: platform_gate::Matrix = platform_gate::matrix! {{\n{rows}}};\n"
        );
    }
    main.push_str("fn main() {\n");
    for i in 0..matrices.len() {
        let _ = writeln!(
            main,
            "    for row in EVERY_SPELLING_{i}.rows() {{\n        println!(\"{{}}\", row.platform());\n    }}"
        );
    }
    main.push_str("}\n");
    main
}

/// `(arch as written, os as written, the platform they must parse to)` for every spelling.
fn spelling_rows() -> Vec<(&'static str, &'static str, Platform)> {
    let mut rows = spelling_rows_in_matrices();
    rows.sort_by_key(|row| row.3);
    rows.into_iter().map(|(arch, os, platform, _)| (arch, os, platform)).collect()
}

/// [`spelling_rows`], each with the matrix it goes in.
fn spelling_rows_in_matrices() -> Vec<(&'static str, &'static str, Platform, usize)> {
    let mut rows = Vec::new();
    for &arch in Arch::ALL {
        let mut names = vec![arch.go_name(), arch.rust_name()];
        names.extend(arch.aliases());
        names.dedup();
        for (i, name) in names.into_iter().enumerate() {
            let os = Os::ALL[i % Os::ALL.len()];
            let os_name = if i % 2 == 0 { os.go_name() } else { os.rust_name() };
            rows.push((name, os_name, Platform::new(arch, os), i / Os::ALL.len()));
        }
    }
    rows
}

fn run(binary: &Path, variable: Option<(&str, &str)>) -> Output {
    let mut command = Command::new(binary);
    command.env_clear();
    if let Some((name, value)) = variable {
        command.env(name, value);
    }
    command.output().expect("the downstream binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn the_packages_carry_what_users_need_and_no_more() {
    let unpacked = &downstream().unpacked;
    let runtime = unpacked.join(format!("platform-gate-{VERSION}"));
    let macros = unpacked.join(format!("platform-gate-macros-{VERSION}"));
    let fleet = unpacked.join(format!("platform-gate-fleet-{VERSION}"));
    for (dir, needed, documentation) in [
        (
            &runtime,
            &["README.md", "CHANGELOG.md", "LICENSE-MIT", "LICENSE-APACHE", "src/lib.rs"][..],
            "platform-gate",
        ),
        (&macros, &["LICENSE-MIT", "LICENSE-APACHE", "src/lib.rs"][..], "platform-gate"),
        (&fleet, &["LICENSE-MIT", "LICENSE-APACHE", "src/lib.rs"][..], "platform-gate-fleet"),
    ] {
        for file in needed {
            assert!(dir.join(file).is_file(), "{} lacks {file}", dir.display());
        }
        for absent in ["tests", "examples", "benches", "fixtures", "target"] {
            assert!(!dir.join(absent).exists(), "{} carries {absent}/", dir.display());
        }
        let manifest = fs::read_to_string(dir.join("Cargo.toml")).expect("Cargo.toml");
        for field in [
            "rust-version = \"1.85\"",
            "license = \"MIT OR Apache-2.0\"",
            &format!("documentation = \"https://docs.rs/{documentation}\""),
            "keywords = [",
            "categories = [",
        ] {
            assert!(manifest.contains(field), "{} lacks {field}", dir.display());
        }
    }
    let runtime_manifest = fs::read_to_string(runtime.join("Cargo.toml")).expect("Cargo.toml");
    assert!(runtime_manifest.contains("readme = \"README.md\""));
    // What every gated program compiles depends on its macros alone: the fleet's crates stay out.
    let dependencies: Vec<&str> = runtime_manifest
        .lines()
        .filter_map(|line| line.strip_prefix("[dependencies.")?.strip_suffix(']'))
        .collect();
    assert_eq!(dependencies, ["platform-gate-macros"], "the runtime's dependencies");
    let macros_manifest = fs::read_to_string(macros.join("Cargo.toml")).expect("Cargo.toml");
    assert!(macros_manifest.contains("depend on platform-gate"), "the description sends users on");

    // The spelling tables: one copy in the repository, and identical copies in the two packages.
    let names = workspace().join("runtime/src/names");
    let linked = workspace().join("macros/src/names");
    assert!(fs::symlink_metadata(&linked).expect("macros/src/names").file_type().is_symlink());
    assert_eq!(linked.canonicalize().expect("resolves"), names.canonicalize().expect("resolves"));
    let mut files: Vec<PathBuf> =
        fs::read_dir(&names).expect("names/").map(|entry| entry.expect("entry").path()).collect();
    files.sort();
    assert!(files.len() >= 3, "{files:?}");
    for file in files {
        let name = file.file_name().expect("a name");
        let packaged = |dir: &Path| fs::read(dir.join("src/names").join(name)).expect("packaged");
        assert_eq!(packaged(&runtime), packaged(&macros), "{name:?} differs between the packages");
        assert_eq!(packaged(&runtime), fs::read(&file).expect("read"), "{name:?} is not what was packaged");
    }
}

#[test]
fn the_downstream_build_reads_only_the_packaged_files() {
    let Downstream { unpacked, target, .. } = downstream();
    let workspace = workspace();
    let (mut from_packages, mut checked) = (0, 0);
    for entry in fs::read_dir(target.join("debug/deps")).expect("deps/") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|extension| extension != "d") {
            continue;
        }
        // Dep-info: every source file rustc read for that crate.
        let dep_info = fs::read_to_string(&path).expect("read");
        checked += 1;
        for source in ["runtime", "macros", "tests"] {
            let inside = format!("{}/", workspace.join(source).display());
            assert!(!dep_info.contains(&inside), "{} read {inside}:\n{dep_info}", path.display());
        }
        from_packages += usize::from(dep_info.contains(&unpacked.display().to_string()));
    }
    assert!(checked > 0 && from_packages >= 2, "both crates are built from {}", unpacked.display());
}

#[test]
fn the_readme_quick_start_builds_from_the_packages_and_gates() {
    let binary = downstream().target.join("debug/quickstart");
    let output = run(&binary, None);
    if Policy::DEFAULT.passes(&Matrix::ETCD, Platform::CURRENT) {
        assert!(output.status.success(), "{}", text(&output.stderr));
        assert_eq!(text(&output.stderr), "");
    } else {
        assert_eq!(output.status.code(), Some(1));
        let variable = "KV_SERVER_UNSUPPORTED_ARCH";
        assert!(text(&output.stderr).contains(&format!("set {variable}=")), "{}", text(&output.stderr));
        assert!(run(&binary, Some((variable, Platform::CURRENT.arch.go_name()))).status.success());
    }
}

#[test]
fn a_custom_matrix_refuses_and_the_variable_overrides() {
    let Downstream { target, elsewhere, .. } = downstream();
    let binary = target.join("debug/kv-server");
    let here = Platform::CURRENT.arch;

    let refused = run(&binary, None);
    assert_eq!(refused.status.code(), Some(3), "{}", text(&refused.stderr));
    assert_eq!(text(&refused.stdout), "", "the program's own code must not run");
    let message = text(&refused.stderr);
    assert!(message.starts_with(&format!("error: kv-server will not start on {here:#}")), "{message}");
    assert!(message.contains("is not in kv-server's support matrix"), "{message}");
    assert!(message.contains(&format!("set KV_UNSUPPORTED_ARCH={}", here.go_name())), "{message}");
    assert!(message.contains(&format!("stable architectures: {elsewhere:#}")), "{message}");

    let started = run(&binary, Some(("KV_UNSUPPORTED_ARCH", here.rust_name())));
    assert!(started.status.success(), "{}", text(&started.stderr));
    assert_eq!(text(&started.stdout), "kv-server started\n");
    assert!(
        text(&started.stderr).starts_with("warning: kv-server is running on"),
        "{}",
        text(&started.stderr)
    );
}

#[test]
fn matrix_accepts_every_spelling_the_runtime_parses() {
    let output = succeeded("spellings", run(&downstream().target.join("debug/spellings"), None));
    let printed: Vec<String> = text(&output.stdout).lines().map(str::to_owned).collect();
    let expected: Vec<String> = spelling_rows().iter().map(|(_, _, platform)| platform.to_string()).collect();
    assert!(expected.len() > Arch::ALL.len(), "some architectures have several spellings");
    assert_eq!(printed, expected);
}

/// `rustc` alone, as Bazel or Buck drive it: no `CARGO_*` variable in its environment.
fn plain_rustc(name: &str, source: &str) -> (Output, PathBuf) {
    let Downstream { target, .. } = downstream();
    let deps = target.join("debug/deps");
    let runtime = fs::read_dir(&deps)
        .expect("deps/")
        .map(|entry| entry.expect("entry").path())
        .find(|path| {
            let file = path.file_name().expect("a name").to_string_lossy();
            file.starts_with("libplatform_gate-") && file.ends_with(".rlib")
        })
        .expect("the runtime's rlib");
    let dir = target.join("plain-rustc");
    write(&dir.join(format!("{name}.rs")), source);
    let mut rustc = Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("CARGO") {
            rustc.env_remove(key);
        }
    }
    let output = rustc
        .args(["--edition", "2024", "--crate-type", "bin", "--crate-name", name])
        .arg(dir.join(format!("{name}.rs")))
        .arg("--extern")
        .arg(format!("platform_gate={}", runtime.display()))
        .arg("-L")
        .arg(format!("dependency={}", deps.display()))
        .arg("-o")
        .arg(dir.join(name))
        .output()
        .expect("rustc runs");
    (output, dir.join(name))
}

#[test]
fn without_cargo_a_named_variable_builds_and_a_derived_one_says_how() {
    let elsewhere = downstream().elsewhere;
    let source = custom_matrix_main(elsewhere).replace("exit_code = 3", "exit_code = 4");
    let (output, binary) = plain_rustc("kvd", &source);
    succeeded("rustc with env = \"...\"", output);
    let refused = run(&binary, None);
    assert_eq!(refused.status.code(), Some(4));
    // No Cargo binary or package name: the program is called by its crate name.
    assert!(text(&refused.stderr).starts_with("error: kvd will not start on"), "{}", text(&refused.stderr));

    let (output, _) = plain_rustc("derived", "#[platform_gate::platform_gated]\nfn main() {}\n");
    assert!(!output.status.success());
    let errors = text(&output.stderr);
    assert!(errors.contains("names the override variable after the Cargo package"), "{errors}");
    assert!(errors.contains("#[platform_gated(env = \"APP_UNSUPPORTED_ARCH\")]"), "{errors}");
}
