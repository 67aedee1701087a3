//! The generated blocks of README.md (the default matrix, what an operator sees) and of docs/ (the
//! fleet's renderings, the CPU refusal, the unchecked features) must be what the code renders, each
//! in the page that carries it. `UPDATE_README=1 cargo test --test readme` rewrites them; otherwise
//! a difference fails.

use std::ffi::OsStr;
use std::path::Path;

use platform_gate::{Arch, CpuCheck, CpuFeatures, Matrix, Os, Platform, Policy, decide, matrix};
use platform_gate_fleet::{Binary, CpuLabels, Pod, Schedule};

/// kvd's matrix in the README's fleet section.
const KVD: Matrix = matrix! {
    amd64 linux => stable,
    arm64 linux => stable,
    s390x linux => experimental,
};

/// The README's pod: kvd (x86-64-v3 for amd64, +lse for arm64) and kvd-backup (baseline builds),
/// its placement, and the lines of `platform-gate nodes` for a node list.
fn fleet() -> (String, String, String, String) {
    let binary = |program, arch, cpu: CpuFeatures| Binary {
        program,
        variable: "KVD_UNSUPPORTED_ARCH",
        platform: Platform::new(arch, Os::Linux),
        matrix: KVD,
        policy: Policy::DEFAULT,
        before_start: Some(cpu),
        in_main: CpuFeatures::none(arch),
    };
    let lse = CpuFeatures::from_names(Arch::Aarch64, &["lse"]).unwrap();
    let pod = Pod::new(vec![
        binary("kvd", Arch::X86_64, CpuFeatures::x86_64_level(3)),
        binary("kvd", Arch::Aarch64, lse),
        binary("kvd-backup", Arch::X86_64, CpuFeatures::none(Arch::X86_64).unwrap()),
        binary("kvd-backup", Arch::Aarch64, CpuFeatures::none(Arch::Aarch64).unwrap()),
    ])
    .unwrap();
    let affinity = pod.placement(CpuLabels::Nfd, false).kubernetes_node_affinity().unwrap();
    // docs/nodes.json, the node list the page's command reads.
    let listed = platform_gate_fleet::read_node_list(include_bytes!("../docs/nodes.json")).unwrap();
    let width = listed.iter().map(|node| node.name.len()).max().unwrap();
    let mut lines = String::from(
        "```console
$ platform-gate nodes docs/nodes.json kvd-amd64 kvd-arm64 kvd-backup-amd64 kvd-backup-arm64
",
    );
    for listed in &listed {
        let labels = listed.label_pairs();
        let node = listed.node(&labels);
        lines.push_str(&pod.judge(&node, None, CpuLabels::Nfd).line(&listed.name, &node, width));
        lines.push('\n');
    }
    lines.push_str("$ echo $?\n1\n```\n");
    let rule = pod.nfd_rules().unwrap().node_feature_rule().unwrap();
    let by_rule = pod.rule_placement(false).unwrap().kubernetes_node_affinity().unwrap();
    let rule = format!(
        "```console\n$ platform-gate nfd-rule kvd-amd64 kvd-arm64 kvd-backup-amd64 kvd-backup-arm64 | kubectl apply -f -\n```\n```yaml\n{rule}```\n"
    );
    (format!("```yaml\n{affinity}```\n"), lines, rule, format!("```yaml\n{by_rule}```\n"))
}

/// docs/operators.md's drop-in: kvd, gated with its own variable and `exit_code = 78`, built for
/// x86-64-v3 (etcd's matrix, which rates amd64 stable), for Linux on amd64.
fn systemd_drop_in() -> String {
    let mut kvd = platform_gate::manifest::Manifest::parse(&ETCD_MANIFEST, 0).unwrap();
    kvd.program = "kvd";
    kvd.variable = "KVD_UNSUPPORTED_ARCH";
    kvd.platform = Platform::new(Arch::X86_64, Os::Linux);
    kvd.policy = kvd.policy.with_exit_code(core::num::NonZeroU8::new(78).unwrap());
    kvd.cpu.before_start = Some(CpuFeatures::x86_64_level(3));
    kvd.cpu.reads_own_manifest = true;
    let options = platform_gate_fleet::systemd::DropInOptions::default();
    let drop_in = platform_gate_fleet::systemd::drop_in(&kvd, &options).unwrap();
    format!(
        "```ini
{}```
",
        drop_in.text
    )
}

/// etcd's gate as `#[platform_gated]` writes it for a program `etcd` of package version 3.6.0.
const ETCD: platform_gate::__private::Prepared = platform_gate::__private::prepare(
    platform_gate::Gate::for_package("etcd", Some("etcd")),
    "etcd",
    &platform_gate::__private::target_feature_flags!(),
    Some("3.6.0"),
);
static ETCD_MANIFEST: [u8; ETCD.manifest_len()] = ETCD.manifest();

/// An annotated hex dump of `manifest`, field by field, in the order `docs/manifest.md` gives.
fn hex_dump(manifest: &[u8]) -> String {
    struct Walk<'a> {
        bytes: &'a [u8],
        at: usize,
        lines: Vec<String>,
    }
    impl Walk<'_> {
        fn field(&mut self, len: usize, what: String) {
            let bytes = &self.bytes[self.at..self.at + len];
            let mut hex: Vec<String> = bytes.iter().take(12).map(|byte| format!("{byte:02x}")).collect();
            if len > 12 {
                hex.push("..".into());
            }
            self.lines.push(format!("{:04x}    {:<38}  {what}", self.at, hex.join(" ")));
            self.at += len;
        }
        fn u16(&self) -> usize {
            usize::from(u16::from_le_bytes([self.bytes[self.at], self.bytes[self.at + 1]]))
        }
        fn string(&mut self, what: &str) {
            let len = self.u16();
            let text = String::from_utf8_lossy(&self.bytes[self.at + 2..self.at + 2 + len]).into_owned();
            self.field(2 + len, format!("{what}: {len} bytes, {text:?}"));
        }
        fn list(&mut self, what: &str, item: &str) {
            let count = self.u16();
            self.field(2, format!("{what}: {count}"));
            for _ in 0..count {
                self.string(item);
            }
        }
        fn byte(&mut self, what: &str) {
            let value = self.bytes[self.at];
            self.field(1, format!("{what}: {value}"));
        }
    }
    let mut walk = Walk { bytes: manifest, at: 0, lines: Vec::new() };
    walk.field(15, "magic: 0xff, then \"platform-gate:\"".into());
    walk.byte("format version");
    let body = u32::from_le_bytes(manifest[16..20].try_into().unwrap());
    walk.field(4, format!("body length B: {body}"));
    for what in [
        "program",
        "variable",
        "crate_version",
        "gate_version",
        "arch (Go)",
        "arch (Rust)",
        "OS (Go)",
        "OS (Rust)",
    ] {
        walk.string(what);
    }
    walk.byte("check (0 arch, 1 platform)");
    walk.byte("allow (0 stable, 1 experimental)");
    walk.byte("exit code");
    walk.string("packager");
    walk.list("packager's architectures", "architecture");
    let rows = walk.u16();
    walk.field(2, format!("matrix: {rows} rows"));
    for row in 0..rows {
        walk.string(&format!("row {row}: arch"));
        walk.string("        OS");
        walk.byte("        status (0 unstable, 1 experimental, 2 stable)");
        walk.list("        maintainers", "        maintainer");
        let note = walk.bytes[walk.at];
        walk.byte("        note flag");
        if note == 1 {
            walk.string("        note");
        }
    }
    walk.byte("CPU level (x86-64)");
    walk.byte("CPU flags (bit 0: names the file; bit 1: reads its own manifest)");
    walk.list("features checked before std starts", "feature");
    walk.list("features checked in main", "feature");
    let crc = u32::from_le_bytes(manifest[walk.at..walk.at + 4].try_into().unwrap());
    walk.field(4, format!("CRC-32 of bytes 0x0f up to 0x{:x}: 0x{crc:08x}", walk.at));
    assert_eq!(walk.at, manifest.len(), "the walk covers the manifest");
    format!("```text\noffset  {:<38}  field\n{}\n```\n", "bytes", walk.lines.join("\n"))
}

/// Each generated block: the page that carries it, its marker name and its content.
fn blocks() -> Vec<(&'static str, &'static str, String)> {
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
    let etcd = Schedule::of(&Matrix::ETCD, Policy::DEFAULT);
    let affinity = etcd.kubernetes_node_affinity().expect("etcd has stable platforms");
    let buildx =
        format!("```sh\ndocker buildx build --platform {} -t my-server .\n```\n", etcd.docker_platforms());
    let v3_on_v2 = CpuCheck::new(Arch::X86_64, CpuFeatures::x86_64_level(3), CpuFeatures::x86_64_level(2));
    let cpu_refusal = v3_on_v2.message("kvd", "KVD_UNSUPPORTED_ARCH").expect("v2 lacks v3");
    let mut unchecked = String::from("| family | feature | why it is not checked |\n|---|---|---|\n");
    for (family, arch) in [("x86", Arch::X86_64), ("aarch64", Arch::Aarch64)] {
        for (name, why) in CpuFeatures::unchecked(arch) {
            unchecked.push_str(&format!("| {family} | `{name}` | {why} |\n"));
        }
    }
    let (fleet_affinity, fleet_nodes, fleet_rule, fleet_rule_affinity) = fleet();
    let mut blocks = vec![
        ("docs/fleets.md", "fleet-affinity", fleet_affinity),
        ("docs/fleets.md", "fleet-nodes", fleet_nodes),
        ("docs/fleets.md", "fleet-rule", fleet_rule),
        ("docs/fleets.md", "fleet-rule-affinity", fleet_rule_affinity),
        ("docs/cpu.md", "cpu-unchecked", unchecked),
        (
            "docs/cpu.md",
            "cpu-refusal",
            format!(
                "```console\n# an x86-64-v3 build of kvd, on a Nehalem (x86-64-v2)\n$ kvd\n{cpu_refusal}```\n"
            ),
        ),
        ("README.md", "matrix", Matrix::ETCD.to_markdown()),
        ("README.md", "operator-view", operator),
        ("docs/fleets.md", "kubernetes", format!("```yaml\n{affinity}```\n")),
        ("docs/fleets.md", "buildx", buildx),
        ("docs/operators.md", "systemd-drop-in", systemd_drop_in()),
    ];
    // The manifest holds the platform it was built for: its dump is this host's where the page's is.
    if cfg!(all(target_arch = "x86_64", target_os = "linux")) {
        blocks.push(("docs/manifest.md", "manifest-hex", hex_dump(&ETCD_MANIFEST)));
    }
    blocks
}

#[test]
fn generated_blocks_are_what_the_code_renders() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let blocks = blocks();
    let mut pages: Vec<&str> = blocks.iter().map(|(page, ..)| *page).collect();
    pages.sort_unstable();
    pages.dedup();
    let mut stale = Vec::new();
    for page in pages {
        let path = root.join(page);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{page}: {error}"));
        let mut updated = text.clone();
        for (_, name, content) in blocks.iter().filter(|(of, ..)| *of == page) {
            let begin = format!("<!-- generated:{name} -->\n");
            let end = format!("<!-- /generated:{name} -->");
            let start =
                updated.find(&begin).unwrap_or_else(|| panic!("{page} has no {begin:?}")) + begin.len();
            let stop = start + updated[start..].find(&end).unwrap_or_else(|| panic!("{page} has no {end:?}"));
            updated.replace_range(start..stop, content);
        }
        if std::env::var_os("UPDATE_README").is_some() {
            std::fs::write(&path, &updated).expect("write the page");
        } else if text != updated {
            stale.push(page);
        }
    }
    assert!(
        stale.is_empty(),
        "{stale:?}: generated blocks differ from the code; run `UPDATE_README=1 cargo test --test readme` and read the diff"
    );
}

/// The README's block after the main job, run as a new user runs it: the command built from this
/// clone (in place of `cargo install`), the example built by `cargo run --example etcd`, each line
/// in `sh` from the repository's root.
#[test]
fn the_readmes_try_it_block_runs_as_written() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let start = readme.find("```sh\ncargo install --path cli").expect("the block") + "```sh\n".len();
    let block = &readme[start..start + readme[start..].find("```").unwrap()];
    let cargo = |args: &[&str]| {
        let status = std::process::Command::new(env!("CARGO"))
            .args(args)
            .current_dir(&root)
            .env_remove("CARGO_TARGET_DIR")
            .status()
            .unwrap();
        assert!(status.success(), "cargo {args:?}");
    };
    cargo(&["build", "--quiet", "-p", "platform-gate-cli", "--bin", "platform-gate"]);
    cargo(&["build", "--quiet", "-p", "platform-gate", "--example", "etcd"]);
    let path = format!("{}:{}", root.join("target/debug").display(), std::env::var("PATH").unwrap());
    let mut outputs = Vec::new();
    for line in block.lines().filter(|line| !line.starts_with("cargo install")) {
        let output = std::process::Command::new("sh")
            .args(["-c", line])
            .current_dir(&root)
            .env("PATH", &path)
            .env_remove("ETCD_UNSUPPORTED_ARCH")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(output.status.success(), "{line}: {stdout}{}", String::from_utf8_lossy(&output.stderr));
        outputs.push(stdout);
    }
    assert_eq!(outputs.len(), 4);
    assert!(outputs[0].contains("etcd") && outputs[0].contains("ETCD_UNSUPPORTED_ARCH"), "{}", outputs[0]);
    // What it would do here: the page's matrix rates this host's platform, the exit code says.
    let here = decide(&Matrix::ETCD, Policy::DEFAULT, Platform::CURRENT, "ETCD_UNSUPPORTED_ARCH", None);
    let refused = matches!(here, platform_gate::Verdict::Refused { .. });
    assert!(outputs[1].ends_with(&format!("exit {}\n", u8::from(refused))), "{}", outputs[1]);
    // One line per node of docs/nodes.json, and not every node starts: exit 1.
    assert_eq!(outputs[3].lines().count(), 7 + 1, "{}", outputs[3]);
    assert!(outputs[3].ends_with("exit 1\n"), "{}", outputs[3]);
}

/// The Quick start names the version these pages describe, which is the workspace's, and the
/// CHANGELOG's newest heading is that version; its `platform-gate = "X.Y"` asks for it.
#[test]
fn the_quick_start_and_the_changelog_name_the_workspaces_version() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let version = env!("CARGO_PKG_VERSION");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    assert!(readme.contains(&format!("These pages describe {version}, the version of this checkout")));
    let (major_minor, _) = version.rsplit_once('.').unwrap();
    assert!(readme.contains(&format!("platform-gate = \"{major_minor}\"\n")), "the Quick start's dependency");
    let changelog = std::fs::read_to_string(root.join("CHANGELOG.md")).unwrap();
    let newest = changelog.lines().find(|line| line.starts_with("## [")).unwrap();
    assert!(newest.starts_with(&format!("## [{version}] - ")), "{newest}");
    let released = !newest.ends_with("Unreleased");
    assert_eq!(
        released,
        !readme.contains("which is not yet released"),
        "the README says whether {version} is out"
    );
}

/// docs/cpu.md quotes what benches/cost.sh measured of an x86-64-v3 build: the number it gives is
/// docs/cost.md's generated table's, and "about N KB" rounds it.
#[test]
fn numbers_quoted_from_the_cost_bench_are_the_benchs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let cost = std::fs::read_to_string(root.join("docs/cost.md")).unwrap();
    let row =
        cost.lines().find(|line| line.starts_with("| stripped binary, bytes |")).expect("the bench's row");
    let measured = row.split('|').map(str::trim).find(|cell| cell.starts_with('+')).expect("the difference");
    let cpu = std::fs::read_to_string(root.join("docs/cpu.md")).unwrap().replace('\n', " ");
    let quoted = cpu.split(" bytes stripped").next().unwrap().rsplit("(").next().unwrap();
    assert_eq!(quoted, measured, "docs/cpu.md quotes {quoted}, docs/cost.md measured {measured}");
    let bytes: u64 = measured.trim_start_matches('+').replace(',', "").parse().unwrap();
    assert!(
        cpu.contains(&format!("about {} KiB larger", (bytes + 512) / 1024)),
        "docs/cpu.md's rounding of {bytes}"
    );
}
