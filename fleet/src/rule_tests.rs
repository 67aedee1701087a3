// `rule.rs`'s tests: the rendered rule, read back as NFD reads it and matched by NFD's rules (written
// here from NFD's documentation, apart from the crate's own matching), labels exactly the nodes
// where the pod's verdict by features starts; labels are valid and distinct per platform.

use platform_gate::{Arch, Matrix, Os, Row, Status};
use serde_json::Value;

use super::*;
use crate::features::NodeCpuid;
use crate::pod::{Binary, Node};

fn etcd() -> Binary<'static> {
    let bytes = include_bytes!("../../runtime/tests/fixtures/etcd.manifest");
    let manifest = Box::leak(Box::new(platform_gate::manifest::Manifest::parse(bytes, 0).unwrap()));
    Binary::from(&*manifest)
}

/// Stable on amd64 and arm64 Linux.
const MATRIX: Matrix<'static> = Matrix::new(&[
    Row::new(Arch::X86_64, Os::Linux, Status::Stable),
    Row::new(Arch::Aarch64, Os::Linux, Status::Stable),
]);

fn binary(program: &'static str, arch: Arch, features: &[&str]) -> Binary<'static> {
    let mut binary = etcd();
    binary.program = program;
    binary.platform = Platform::new(arch, Os::Linux);
    binary.matrix = MATRIX;
    binary.before_start = CpuFeatures::from_names(arch, features);
    binary.in_main = CpuFeatures::none(arch);
    binary
}

/// NFD's matching of one rule's `matchFeatures` (docs/usage/customization-guide.md): the terms
/// are ANDed; a term's feature must exist; each of its expressions matches a flag of that name or
/// an attribute of that name; `Exists` needs the name, `Gt` an attribute whose value is an integer
/// greater than the one given. An empty `matchFeatures` matches every node.
fn nfd_matches(rule: &Value, node: &NodeCpuid) -> bool {
    let terms = rule["matchFeatures"].as_array().expect("matchFeatures is a list");
    terms.iter().all(|term| {
        assert_eq!(term["feature"], "cpu.cpuid", "the only feature the rules read");
        let expressions = term["matchExpressions"].as_object().expect("a map of expressions");
        expressions.iter().all(|(name, expression)| match expression["op"].as_str().unwrap() {
            "Exists" => node.flags.contains(name) || node.attributes.contains_key(name),
            "Gt" => {
                let floor: i64 = expression["value"][0].as_str().unwrap().parse().unwrap();
                node.attributes
                    .get(name)
                    .and_then(|value| value.parse::<i64>().ok())
                    .is_some_and(|v| v > floor)
            }
            other => panic!("an operator the rules should not use: {other}"),
        })
    })
}

/// Kubernetes's label syntax: a prefix that is a DNS subdomain of at most 253 characters, and a
/// name of at most 63, alphanumerics with `-`, `_`, `.` inside.
fn is_label_key(key: &str) -> bool {
    let Some((prefix, name)) = key.split_once('/') else { return false };
    let alnum = |c: char| c.is_ascii_alphanumeric();
    let subdomain = prefix.len() <= 253
        && prefix.split('.').all(|part| {
            part.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
                && part.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
                && part.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        });
    subdomain
        && !name.is_empty()
        && name.len() <= 63
        && name.starts_with(alnum)
        && name.ends_with(alnum)
        && name.chars().all(|c| alnum(c) || matches!(c, '-' | '_' | '.'))
}

const X86_NODES: &[&[&str]] = &[
    &[],
    &["CX16", "SSE3"],
    &["CX16", "LAHF", "POPCNT", "SSE3", "SSE4", "SSE42", "SSSE3"],
    &["CX16", "LAHF", "POPCNT", "SSE3", "SSE4", "SSE42", "SSSE3", "AESNI", "CLMUL"],
    &[
        "CX16", "LAHF", "POPCNT", "SSE3", "SSE4", "SSE42", "SSSE3", "AVX", "AVX2", "BMI1", "BMI2", "F16C",
        "FMA3", "LZCNT", "MOVBE", "OSXSAVE", "XSAVE", "AESNI", "CLMUL",
    ],
];

#[test]
fn the_rule_labels_exactly_the_nodes_where_the_pod_starts() {
    let v2: Vec<&str> = CpuFeatures::x86_64_level(2).names().collect();
    let v3: Vec<&str> = CpuFeatures::x86_64_level(3).names().collect();
    let pods = [
        vec![binary("kvd", Arch::X86_64, &v3), binary("kvd", Arch::Aarch64, &["lse", "aes"])],
        vec![binary("kvd", Arch::X86_64, &[&v2[..], &["aes", "pclmulqdq"]].concat())],
        vec![binary("kvd", Arch::X86_64, &["avx2"]), binary("kvd-backup", Arch::X86_64, &v2)],
        vec![binary("kvd", Arch::X86_64, &[])],
    ];
    let arm_nodes: [&[&str]; 3] =
        [&["FP", "ASIMD"], &["FP", "ASIMD", "ATOMICS", "AES", "PMULL"], &["AES", "PMULL"]];
    let (mut admitted, mut kept_out) = (0, 0);
    for pod in pods {
        let pod = Pod::new(pod).unwrap();
        let yaml = pod.nfd_rules().unwrap().node_feature_rule().unwrap();
        let object: Value = serde_norway::from_str(&yaml).unwrap();
        assert_eq!(
            (&object["apiVersion"], &object["kind"]),
            (&json!("nfd.k8s-sigs.io/v1alpha1"), &json!("NodeFeatureRule"))
        );
        let rules = object["spec"]["rules"].as_array().unwrap();
        for (arch, os, flags) in X86_NODES
            .iter()
            .map(|flags| (Arch::X86_64, "amd64", *flags))
            .chain(arm_nodes.iter().map(|flags| (Arch::Aarch64, "arm64", *flags)))
        {
            let cpuid = NodeCpuid::from_flags(flags.iter().copied());
            // The labels NFD sets on the node: those of every rule that matches it.
            let labels: Vec<String> = rules
                .iter()
                .filter(|rule| nfd_matches(rule, &cpuid))
                .flat_map(|rule| rule["labels"].as_object().unwrap().keys().cloned())
                .collect();
            let node = Node { arch: os, os: "linux", labels: &[] };
            let starts = pod.judge_by_features(&node, &cpuid, None).verdict.starts();
            let placement = pod.rule_placement(false).unwrap();
            let term = placement.terms.iter().find(|term| term.arch == arch);
            let by_rule =
                term.is_some_and(|term| term.labels.iter().all(|label| labels.contains(&label.key)));
            assert_eq!(by_rule, starts, "{arch:?} {flags:?}:\n{yaml}");
            if starts { admitted += 1 } else { kept_out += 1 }
        }
    }
    assert!(admitted >= 5 && kept_out >= 5, "{admitted} admitted, {kept_out} kept out");
}

#[test]
fn labels_are_valid_and_one_platforms_is_never_anothers() {
    let pod = Pod::new(vec![
        binary("kvd", Arch::X86_64, &[]),
        binary("kvd", Arch::Aarch64, &[]),
        binary("kvd_backup", Arch::X86_64, &["avx2"]),
        binary("kvd_backup", Arch::Aarch64, &["lse"]),
    ])
    .unwrap();
    let rules = pod.nfd_rules().unwrap().rules;
    assert_eq!(rules.len(), 2);
    assert_ne!(rules[0].label, rules[1].label);
    assert_eq!(rules[0].label, "platform-gate.feature.node.kubernetes.io/kvd.kvd_backup.linux-amd64");
    for rule in &rules {
        assert!(is_label_key(&rule.label), "{}", rule.label);
    }
    // An arm64 baseline rule matches every node (NFD's features do not say the architecture), so
    // the amd64 term must not be satisfied by its label.
    let placement = pod.rule_placement(false).unwrap();
    for term in &placement.terms {
        let rule = rules.iter().find(|rule| rule.platform.arch == term.arch).unwrap();
        for other in rules.iter().filter(|other| other.platform != rule.platform) {
            assert!(term.labels.iter().all(|label| label.key != other.label));
        }
    }
    let long = [&"a".repeat(40)[..], &"b".repeat(40)[..]];
    for platform in [Platform::new(Arch::X86_64, Os::Linux), Platform::new(Arch::Mips64el, Os::Linux)] {
        let name = rule_label_name(&long, platform).unwrap();
        assert!(name.len() <= 63 && is_label_key(&format!("{RULE_LABEL_NS}/{name}")), "{name}");
        assert_ne!(name, rule_label_name(&[&"a".repeat(40)[..], &"c".repeat(40)[..]], platform).unwrap());
    }
    for bad in ["", "-x", "x y", "naïve", "a.b", "a/b"] {
        assert_eq!(rule_label_name(&[bad], Platform::CURRENT), Err(LabelError { program: bad.into() }));
    }
}

#[test]
fn unnamed_features_keep_a_platform_out_and_the_spec_tags_each_platform() {
    let pod = Pod::new(vec![binary("kvd", Arch::X86_64, &["movrs"]), binary("kvd", Arch::Aarch64, &["lse"])])
        .unwrap();
    let rules = pod.nfd_rules().unwrap();
    assert_eq!(rules.rules.len(), 1);
    assert!(matches!(&rules.notes[..], [Note::Unnamed { features, .. }] if features == &["movrs"]));
    let spec: Value = serde_norway::from_str(&rules.image_compatibility().unwrap()).unwrap();
    assert_eq!(spec["version"], "v1alpha1");
    let sets = spec["compatibilities"].as_array().unwrap();
    assert_eq!(sets.len(), 1);
    assert_eq!(sets[0]["tag"], "linux/arm64");
    assert_eq!(sets[0]["rules"][0]["matchFeatures"][0]["matchExpressions"]["ATOMICS"]["op"], "Exists");
    let none = Pod::new(vec![binary("kvd", Arch::X86_64, &["movrs"])]).unwrap().nfd_rules().unwrap();
    assert_eq!((none.node_feature_rule(), none.image_compatibility()), (None, None));
}
