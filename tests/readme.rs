//! README.md's generated blocks (the default matrix, what an operator sees) must be what the code
//! renders. `UPDATE_README=1 cargo test --test readme` rewrites them; otherwise a difference fails.

use std::ffi::OsStr;
use std::path::Path;

use platform_gate::{Arch, CpuCheck, CpuFeatures, Matrix, Os, Platform, Policy, decide};

/// Each generated block: its marker name and its content.
fn blocks() -> Vec<(&'static str, String)> {
    let mut operator = String::new();
    let cases = [
        (Arch::Aarch64, None),
        (Arch::Aarch64, Some("aarch64")),
        (Arch::Arm, Some("ARM64")),
        (Arch::Aarch64, Some("\u{430}rm64")), // a Cyrillic а
        (Arch::Riscv64, Some("")),
        (Arch::X86_64, Some("junk")),
    ];
    for (arch, value) in cases {
        let platform = Platform::new(arch, Os::Linux);
        let verdict =
            decide(&Matrix::ETCD, Policy::DEFAULT, platform, "ETCD_UNSUPPORTED_ARCH", value.map(OsStr::new));
        let command = match value {
            Some(value) => format!("ETCD_UNSUPPORTED_ARCH={value:?} etcd"),
            None => "etcd".to_owned(),
        };
        operator.push_str(&format!("# on {platform:#}\n$ {command}\n"));
        match verdict.message("etcd") {
            Some(message) => operator.push_str(&format!("{message}\n")),
            None => operator.push_str("(nothing: the platform is stable, and the variable is not read)\n"),
        }
        operator.push('\n');
    }
    let operator = format!("```console\n{}```\n", operator.trim_end().to_owned() + "\n");
    let affinity = Matrix::ETCD.kubernetes_node_affinity(Policy::DEFAULT).expect("etcd has stable platforms");
    let buildx = format!(
        "```sh\ndocker buildx build --platform {} -t my-server .\n```\n",
        Matrix::ETCD.docker_platforms(Policy::DEFAULT)
    );
    let v3_on_v2 = CpuCheck::new(Arch::X86_64, CpuFeatures::x86_64_level(3), CpuFeatures::x86_64_level(2));
    let cpu_refusal = v3_on_v2.message("kvd", "KVD_UNSUPPORTED_ARCH").expect("v2 lacks v3");
    let mut unchecked = String::from("| family | feature | why it is not checked |\n|---|---|---|\n");
    for (family, arch) in [("x86", Arch::X86_64), ("aarch64", Arch::Aarch64)] {
        for (name, why) in CpuFeatures::unchecked(arch) {
            unchecked.push_str(&format!("| {family} | `{name}` | {why} |\n"));
        }
    }
    vec![
        ("cpu-unchecked", unchecked),
        (
            "cpu-refusal",
            format!(
                "```console\n# an x86-64-v3 build of kvd, on a Nehalem (x86-64-v2)\n$ kvd\n{cpu_refusal}```\n"
            ),
        ),
        ("matrix", Matrix::ETCD.to_markdown()),
        ("operator-view", operator),
        ("kubernetes", format!("```yaml\n{affinity}```\n")),
        ("buildx", buildx),
    ]
}

#[test]
fn readme_blocks_are_what_the_code_renders() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    let readme = std::fs::read_to_string(&path).expect("README.md");
    let mut updated = readme.clone();
    for (name, content) in blocks() {
        let begin = format!("<!-- generated:{name} -->\n");
        let end = format!("<!-- /generated:{name} -->");
        let start =
            updated.find(&begin).unwrap_or_else(|| panic!("README.md has no {begin:?}")) + begin.len();
        let stop = start + updated[start..].find(&end).unwrap_or_else(|| panic!("README.md has no {end:?}"));
        updated.replace_range(start..stop, &content);
    }
    if std::env::var_os("UPDATE_README").is_some() {
        std::fs::write(&path, &updated).expect("write README.md");
    } else {
        assert!(
            readme == updated,
            "README.md's generated blocks differ from the code; run `UPDATE_README=1 cargo test --test readme` and read the diff"
        );
    }
}
