//! A pod's binaries against a cluster's nodes: the affinity `kubernetes` renders, matched by
//! Kubernetes's rules, admits exactly the nodes `nodes` says start, on generated node lists; and
//! `nodes` reads what `kubectl get nodes -o json` prints, and says so in one line, with status 2,
//! when it is not that.

#[path = "common/command.rs"]
mod command;
mod common;

use command::{run, text};
use std::path::PathBuf;

use common::{ALPINE_MANIFEST, ETCD_MANIFEST, KV_MANIFEST};
use platform_gate::{Arch, CpuFeatures, Matrix, Os, Platform, Policy};
use platform_gate_cli::{Manifest, read};
use platform_gate_fleet::{CpuLabels, Node, NodeVerdict, Pod, Schedule, read_node_list};

/// The KV fixture's manifest, rebuilt for `arch` (linux) with a CPU that assumed `features`
/// (checked before std starts), and named `program`.
fn binary(program: &'static str, arch: Arch, features: &[&str]) -> Manifest<'static> {
    let mut manifest = read(&KV_MANIFEST).unwrap().remove(0);
    manifest.program = program;
    manifest.platform = Platform::new(arch, Os::Linux);
    manifest.cpu.before_start = CpuFeatures::from_names(arch, features);
    manifest.cpu.in_main = CpuFeatures::none(arch);
    manifest
}

/// kvd (a v3 build with AES and CLMUL for amd64; +lse,+aes for arm64; s390x and riscv64 at their
/// baselines) and its sidecar kvd-backup (v2 for amd64, baseline for arm64 and riscv64). KV's matrix:
/// amd64 unstable (refused), arm64 and s390x stable, riscv64 experimental (started by `allow`).
fn pod_binaries() -> Vec<Manifest<'static>> {
    let v3: Vec<&str> = CpuFeatures::x86_64_level(3).names().collect();
    let v2: Vec<&str> = CpuFeatures::x86_64_level(2).names().collect();
    let kvd_amd64 = [&v3[..], &["aes", "pclmulqdq"]].concat();
    vec![
        binary("kvd", Arch::X86_64, &kvd_amd64),
        binary("kvd", Arch::Aarch64, &["lse", "aes"]),
        binary("kvd", Arch::S390x, &[]),
        binary("kvd", Arch::Riscv64, &[]),
        binary("kvd-backup", Arch::X86_64, &v2),
        binary("kvd-backup", Arch::Aarch64, &[]),
        binary("kvd-backup", Arch::Riscv64, &[]),
    ]
}

/// A small, fixed pseudo-random sequence (xorshift), so that a failure repeats.
struct Random(u64);

impl Random {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

const LABEL_POOL: &[(&str, &str)] = &[
    ("X86_64_V1", "true"),
    ("X86_64_V2", "true"),
    ("X86_64_V3", "true"),
    ("X86_64_V4", "true"),
    ("X86_64_V3", "false"),
    ("AESNI", "true"),
    ("CLMUL", "true"),
    ("AVX2", "true"),
    ("AVX10_VERSION", "1"),
    ("ATOMICS", "true"),
    ("AES", "true"),
    ("PMULL", "true"),
    ("SVE", "true"),
];

/// A `NodeList` of `count` nodes with random platforms and NFD labels, as JSON.
fn node_list(count: usize, seed: u64) -> String {
    let mut random = Random(seed);
    let arches = ["amd64", "arm64", "s390x", "riscv64", "ppc64le"];
    let systems = ["linux", "linux", "linux", "windows"];
    let mut items = Vec::new();
    for i in 0..count {
        let mut labels = serde_json::Map::new();
        labels.insert("kubernetes.io/arch".into(), arches[random.below(arches.len())].into());
        labels.insert("kubernetes.io/os".into(), systems[random.below(systems.len())].into());
        labels.insert("kubernetes.io/hostname".into(), format!("node-{i}").into());
        if random.below(5) > 0 {
            for (name, value) in LABEL_POOL {
                if random.below(2) == 0 {
                    labels.insert(format!("feature.node.kubernetes.io/cpu-cpuid.{name}"), (*value).into());
                }
            }
        }
        items.push(
            serde_json::json!({"kind": "Node", "metadata": {"name": format!("node-{i}"), "labels": labels}}),
        );
    }
    serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items}).to_string()
}

/// The terms of a rendered affinity, read as Kubernetes reads its YAML: each a list of (key,
/// operator, values).
fn terms(affinity: &str) -> Vec<Vec<(String, String, Vec<String>)>> {
    let affinity: serde_json::Value = serde_norway::from_str(affinity).unwrap();
    let terms = &affinity["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"];
    let string = |value: &serde_json::Value| value.as_str().expect("a string").to_string();
    terms
        .as_array()
        .unwrap()
        .iter()
        .map(|term| {
            let expressions = term["matchExpressions"].as_array().unwrap();
            expressions
                .iter()
                .map(|e| {
                    (
                        string(&e["key"]),
                        string(&e["operator"]),
                        e["values"].as_array().unwrap().iter().map(string).collect(),
                    )
                })
                .collect()
        })
        .collect()
}

/// Kubernetes's rule: a node is admitted when all expressions of some term hold. `In`: the label
/// exists with one of the values; `Gt`: it exists, and its value is an integer greater than the one.
fn admits(terms: &[Vec<(String, String, Vec<String>)>], labels: &[(&str, &str)]) -> bool {
    terms.iter().any(|term| {
        term.iter().all(|(key, operator, values)| {
            let Some((_, value)) = labels.iter().find(|(name, _)| name == key) else { return false };
            match operator.as_str() {
                "In" => values.iter().any(|wanted| wanted == value),
                "Gt" => value.parse::<i64>().is_ok_and(|value| value > values[0].parse::<i64>().unwrap()),
                other => panic!("an operator Kubernetes has but the affinity should not use: {other}"),
            }
        })
    })
}

#[test]
fn the_affinity_admits_exactly_the_nodes_where_the_pod_starts() {
    let binaries = pod_binaries();
    let pod = Pod::from_manifests(&binaries).unwrap();
    for cpu in [CpuLabels::Nfd, CpuLabels::None] {
        let affinity = pod.placement(cpu, false).kubernetes_node_affinity().unwrap();
        let terms = terms(&affinity);
        assert_eq!(
            terms.len(),
            2,
            "arm64 and riscv64; amd64 is refused, s390x has no kvd-backup:\n{affinity}"
        );
        let (mut starts, mut refuses) = (0, 0);
        for seed in 1..=4 {
            for node in read_node_list(node_list(500, seed).as_bytes()).unwrap() {
                let labels: Vec<(&str, &str)> =
                    node.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                let judged = pod.judge(&Node { arch: &node.arch, os: &node.os, labels: &labels }, None, cpu);
                assert_eq!(
                    admits(&terms, &labels),
                    judged.verdict.starts(),
                    "{cpu:?} {node:?}: {judged:?}\n{affinity}"
                );
                if judged.verdict.starts() {
                    starts += 1;
                } else if judged.verdict == NodeVerdict::Refuses {
                    refuses += 1;
                }
            }
        }
        // Not a vacuous pass: both answers occur.
        assert!(starts > 100 && refuses > 100, "{cpu:?}: {starts} start, {refuses} refuse");
    }
    // The CPU counts: with NFD, an arm64 node without ATOMICS is kept out.
    let a53 = [
        ("kubernetes.io/arch", "arm64"),
        ("kubernetes.io/os", "linux"),
        ("feature.node.kubernetes.io/cpu-cpuid.AES", "true"),
    ];
    let judged = pod.judge(&Node { arch: "arm64", os: "linux", labels: &a53 }, None, CpuLabels::Nfd);
    assert_eq!(
        (judged.verdict, &judged.programs[0].missing[..]),
        (NodeVerdict::Refuses, &["aes", "lse"][..])
    );
}

#[test]
fn the_matrix_only_adds_architectures_without_binaries_and_says_so() {
    let binaries = vec![binary("kvd", Arch::Aarch64, &["lse"])];
    let pod = Pod::from_manifests(&binaries).unwrap();
    let placement = pod.placement(CpuLabels::Nfd, true);
    let affinity = placement.kubernetes_node_affinity().unwrap();
    let terms = terms(&affinity);
    // arm64 from its binary (with ATOMICS), and KV's other admitted architectures on linux.
    assert_eq!(terms[0][1].2, ["arm64"]);
    assert_eq!(terms[0][2].0, "feature.node.kubernetes.io/cpu-cpuid.ATOMICS");
    let others: Vec<&str> = terms[1..]
        .iter()
        .map(|term| term.iter().find(|e| e.0 == "kubernetes.io/arch").unwrap().2[0].as_str())
        .collect();
    assert_eq!(others, ["riscv64", "s390x"]);
    assert!(
        placement
            .notes
            .iter()
            .any(|note| note.to_string().starts_with("riscv64 linux: admitted by the matrices")),
        "{:?}",
        placement.notes
    );
}

fn file(name: &str, bytes: &[u8]) -> PathBuf {
    common::file_of("fleet", name, bytes)
}

#[test]
fn nodes_says_each_nodes_verdict_and_exits_by_them() {
    let kvd = file("kvd-here", &KV_MANIFEST);
    let here = Platform::CURRENT;
    let list = |arch: &str| {
        format!(
            r#"{{"kind":"List","items":[{{"kind":"Node","metadata":{{"name":"n1","labels":{{"kubernetes.io/arch":"{arch}","kubernetes.io/os":"{os}"}}}}}}]}}"#,
            os = here.os.go_name()
        )
    };
    // KV's matrix refuses amd64 and admits arm64 by itself; its binary is for this machine.
    let output = run(&["nodes", "--json", "-", kvd.to_str().unwrap()], list(here.arch.go_name()).as_bytes());
    let line: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let starts = line["verdict"] == "starts" || line["verdict"] == "warns";
    assert_eq!(output.status.code(), Some(if starts { 0 } else { 1 }), "{line}");
    assert_eq!(line["node"], "n1");
    assert_eq!(line["programs"][0]["program"], "kvd");
    let other = if here.arch == Arch::S390x { "riscv64" } else { "s390x" };
    let output = run(&["nodes", "-", kvd.to_str().unwrap()], list(other).as_bytes());
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stdout).starts_with(&format!("n1  {}/{other}", here.os.go_name())),
        "{}",
        text(&output.stdout)
    );
    assert!(text(&output.stdout).contains("no-binary: no binary of kvd"), "{}", text(&output.stdout));
}

#[test]
fn bad_node_lists_get_one_line_and_status_2() {
    let kvd = file("kvd-bad-lists", &KV_MANIFEST);
    let huge = "x".repeat(1 << 20);
    let cases: Vec<(String, &str)> = vec![
        (String::new(), "the node list is empty"),
        ("   \n".into(), "the node list is empty"),
        ("not json".into(), "the node list is not JSON"),
        (
            r#"{"kind":"List","items":[{"kind":"Node","metadata":{"name":"n1""#.into(),
            "the node list is not JSON",
        ),
        (r#"[1, 2]"#.into(), "is not a Node or a List of Nodes: it has no kind"),
        (r#"{"kind":"Pod"}"#.into(), "is not a Node or a List of Nodes: it has kind \"Pod\""),
        (r#"{"kind":"List"}"#.into(), "the List has no items array"),
        (
            r#"{"kind":"List","items":[{"kind":"Pod","metadata":{"name":"p"}}]}"#.into(),
            "item 0 of the List is a Pod",
        ),
        (r#"{"kind":"List","items":[{"kind":"Node"}]}"#.into(), "item 0 of the List has no metadata.name"),
        (
            r#"{"kind":"List","items":[{"kind":"Node","metadata":{"name":"n1"}}]}"#.into(),
            "node n1 has no architecture",
        ),
        (
            format!(
                r#"{{"kind":"List","items":[{{"kind":"Node","metadata":{{"name":"n1","labels":{{"big":"{huge}"}}}}}}]}}"#
            ),
            "node n1: label big's value is 1048576 bytes, and Kubernetes allows at most 63",
        ),
        (
            r#"{"kind":"List","items":[{"metadata":{"name":"n1","labels":{"a":1}}}]}"#.into(),
            "label a's value is not a string",
        ),
    ];
    for (input, says) in cases {
        let output = run(&["nodes", "-", kvd.to_str().unwrap()], input.as_bytes());
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{input:.80}: {stderr}");
        assert!(stderr.starts_with("platform-gate: ") && stderr.contains(says), "{input:.80}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(output.stdout.is_empty());
    }
    // A node list that is a directory, and one that does not exist.
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    for path in [dir.to_str().unwrap(), "/nonexistent/nodes.json"] {
        let output = run(&["nodes", path, kvd.to_str().unwrap()], b"");
        assert_eq!(output.status.code(), Some(2), "{path}");
        assert_eq!(text(&output.stderr).lines().count(), 1);
    }
}

#[test]
fn kubernetes_says_why_a_pod_goes_nowhere() {
    // Two binaries of one program for one platform: a node runs one of them.
    let one = file("kvd-one", &KV_MANIFEST);
    let two = file("kvd-two", &KV_MANIFEST);
    let output = run(&["kubernetes", one.to_str().unwrap(), two.to_str().unwrap()], b"");
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("two binaries of kvd for"), "{}", text(&output.stderr));
    // --program picks in the file that holds several manifests, and a file of one is taken whole:
    // a pod of etcd and of the kvd inside a binary that embeds etcd, read once each.
    let etcd = file("etcd-one", &common::ETCD_MANIFEST);
    let pair = file("etcd-and-kvd", &[&common::ETCD_MANIFEST[..], b"between", &KV_MANIFEST[..]].concat());
    let output =
        run(&["kubernetes", "--program", "kvd", etcd.to_str().unwrap(), pair.to_str().unwrap()], b"");
    assert_ne!(output.status.code(), Some(2), "{}", text(&output.stderr));
    let output = run(&["kubernetes", etcd.to_str().unwrap(), pair.to_str().unwrap()], b"");
    assert!(text(&output.stderr).contains("pick one with --program NAME"), "{}", text(&output.stderr));
    // KV refuses amd64 by itself: on an amd64 host its binary goes nowhere, and stderr says why.
    if Platform::CURRENT.arch == Arch::X86_64 {
        let output = run(&["kubernetes", one.to_str().unwrap()], b"");
        assert_eq!((output.status.code(), output.stdout.len()), (Some(1), 0));
        assert!(
            text(&output.stderr).contains("kvd refuses there without its variable"),
            "{}",
            text(&output.stderr)
        );
    }
}

#[test]
fn schedules_intersect_the_binaries() {
    let kv = read(&KV_MANIFEST).unwrap().remove(0);
    let etcd = read(&ETCD_MANIFEST).unwrap().remove(0);
    let alone = Schedule::of_all([&etcd]).unwrap();
    assert_eq!(alone, Schedule::of(&Matrix::ETCD, Policy::DEFAULT));
    let both = Schedule::of_all([&etcd, &kv]).unwrap();
    assert!(both.is_empty(), "kvd starts on arm64, riscv64 and s390x; etcd on amd64 and ppc64le");
    let alpine = read(&ALPINE_MANIFEST).unwrap().remove(0);
    let both = Schedule::of_all([&alpine, &kv]).unwrap();
    assert_eq!(both.docker_platforms(), "linux/riscv64");
}

/// `kubectl get node NAME -o json` prints one Node: judged as the List of it is; an empty List is
/// every node of none starting, exit 0, and said on stderr.
#[test]
fn nodes_takes_a_single_node_and_says_when_the_list_is_empty() {
    let kvd = file("kvd-single", &KV_MANIFEST);
    let node = r#"{"kind":"Node","metadata":{"name":"edge-1","labels":{"kubernetes.io/arch":"arm64","kubernetes.io/os":"linux"}}}"#;
    let one = run(&["nodes", "-", kvd.to_str().unwrap()], node.as_bytes());
    let list = format!(r#"{{"apiVersion":"v1","kind":"List","items":[{node}]}}"#);
    let listed = run(&["nodes", "-", kvd.to_str().unwrap()], list.as_bytes());
    assert_eq!((one.status.code(), text(&one.stdout)), (listed.status.code(), text(&listed.stdout)));
    assert!(text(&one.stdout).starts_with("edge-1  linux/arm64"), "{}", text(&one.stdout));
    let empty =
        run(&["nodes", "-", kvd.to_str().unwrap()], br#"{"apiVersion":"v1","kind":"List","items":[]}"#);
    assert_eq!((empty.status.code(), empty.stdout.len()), (Some(0), 0));
    assert_eq!(text(&empty.stderr), "platform-gate: -: the node list has no nodes\n");
}
