//! Placement by NFD's features, as NFD reads it: the NodeFeatureRule `nfd-rule` prints decodes
//! against NFD's CRD schema, the image-compatibility spec `nfd-compat` prints has the shape of NFD's
//! Go types, `kubernetes --cpu-labels rule` requires each rule's label, and `nodes --features` reads
//! NodeFeature objects; bad input gets one line and status 2.

#[path = "common/command.rs"]
mod command;
mod common;

use command::{run, text};
use std::path::PathBuf;

use common::{ETCD_MANIFEST, KV_MANIFEST, KV_MATRIX};
use platform_gate::__private::{Prepared, prepare, target_feature_flags};
use platform_gate::{Arch, CpuFeatures, Gate, Os, Platform};
use platform_gate_cli::{Manifest, read};
use platform_gate_fleet::Pod;
use serde_json::Value;

/// A gate whose program name has a space.
const ODD: Prepared = prepare(
    Gate::new("kv d", "KVD_UNSUPPORTED_ARCH").with_matrix(KV_MATRIX),
    "kvd",
    &target_feature_flags!(),
    None,
);
static ODD_MANIFEST: [u8; ODD.manifest_len()] = ODD.manifest();

fn file(name: &str, bytes: &[u8]) -> PathBuf {
    common::file_of("nfd", name, bytes)
}

/// NFD's CRD schemas (`fleet/tests/fixtures/nfd-crd-schemas.json`), by kind.
fn crd_schema(kind: &str) -> jsonschema::Validator {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../fleet/tests/fixtures/nfd-crd-schemas.json");
    let schemas: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    // Kubernetes validates custom resources by OpenAPI v3 schemas: JSON Schema draft 4's keywords.
    jsonschema::draft4::new(&schemas[kind]).expect("a valid schema")
}

/// The KV fixture's manifest, rebuilt for `arch` (linux, stable in KV's matrix for arm64 and s390x;
/// amd64 is unstable there, so amd64 binaries get etcd's matrix) with a CPU that assumed `features`.
fn binary(program: &'static str, arch: Arch, features: &[&str]) -> Manifest<'static> {
    let source = if arch == Arch::X86_64 { &ETCD_MANIFEST[..] } else { &KV_MANIFEST[..] };
    let mut manifest = read(Box::leak(source.to_vec().into_boxed_slice())).unwrap().remove(0);
    manifest.program = program;
    manifest.platform = Platform::new(arch, Os::Linux);
    manifest.cpu.before_start = CpuFeatures::from_names(arch, features);
    manifest.cpu.in_main = CpuFeatures::none(arch);
    manifest
}

fn pods() -> Vec<Vec<Manifest<'static>>> {
    let v3: Vec<&str> = CpuFeatures::x86_64_level(3).names().collect();
    let v4: Vec<&str> = CpuFeatures::x86_64_level(4).names().collect();
    vec![
        vec![
            binary("kvd", Arch::X86_64, &[&v3[..], &["aes", "pclmulqdq"]].concat()),
            binary("kvd", Arch::Aarch64, &["lse", "aes"]),
        ],
        vec![binary("kvd", Arch::X86_64, &[&v4[..], &["avx10.1", "sha"]].concat())],
        vec![binary("kvd", Arch::X86_64, &[]), binary("kvd-backup", Arch::X86_64, &["avx2"])],
    ]
}

#[test]
fn the_rule_decodes_against_nfds_crd_schema() {
    let schema = crd_schema("NodeFeatureRule");
    let mut rendered = Vec::new();
    for pod in pods() {
        let pod = Pod::from_manifests(&pod).unwrap();
        rendered.push(pod.nfd_rules().unwrap().node_feature_rule().unwrap());
    }
    // And as the command prints it, for a baseline build (a rule without matchFeatures terms).
    let etcd = file("etcd", &ETCD_MANIFEST);
    let output = run(&["nfd-rule", etcd.to_str().unwrap()], b"");
    if Platform::CURRENT.arch == Arch::X86_64 {
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
        rendered.push(text(&output.stdout).to_string());
    }
    for yaml in &rendered {
        let rule: Value = serde_norway::from_str(yaml).unwrap();
        let errors: Vec<String> = schema.iter_errors(&rule).map(|error| error.to_string()).collect();
        assert!(errors.is_empty(), "{errors:?}\n{yaml}");
        for rule in rule["spec"]["rules"].as_array().unwrap() {
            let labels = rule["labels"].as_object().unwrap();
            assert_eq!(labels.len(), 1, "one label per rule");
            let (key, value) = labels.iter().next().unwrap();
            assert!(key.starts_with("platform-gate.feature.node.kubernetes.io/") && value == "true", "{key}");
        }
    }
    // Not a vacuous pass: the schema refuses what NFD refuses.
    let mut broken: Value = serde_norway::from_str(&rendered[0]).unwrap();
    broken["spec"]["rules"][0]["matchFeatures"][0]["matchExpressions"]["AVX"] =
        serde_json::json!({"op": "Has"});
    assert!(!schema.is_valid(&broken), "an operator NFD does not have");
    let avx10: Value = serde_norway::from_str(&rendered[1]).unwrap();
    let expressions = &avx10["spec"]["rules"][0]["matchFeatures"][0]["matchExpressions"];
    assert_eq!(
        expressions["AVX10_VERSION"],
        serde_json::json!({"op": "Gt", "value": ["0"]}),
        "{}",
        rendered[1]
    );
    assert_eq!(expressions["SHA"], serde_json::json!({"op": "Exists"}), "{}", rendered[1]);
}

/// The JSON field names of `type` in NFD's Go sources, as `fleet/tests/fixtures/nfd.txt` copies
/// them from `api/image-compatibility/v1alpha1/spec.go` and `api/nfd/v1alpha1/types.go`.
fn go_fields(r#type: &str) -> Vec<String> {
    let fixture = include_str!("../../fleet/tests/fixtures/nfd.txt");
    let start = fixture.find(&format!("[go {type}]\n")).expect("a section") + r#type.len() + 6;
    let mut fields: Vec<String> =
        fixture[start..].lines().take_while(|line| !line.starts_with('[')).map(str::to_string).collect();
    fields.sort();
    fields
}

#[test]
fn the_image_compatibility_spec_has_nfds_shape() {
    for pod in pods() {
        let pod = Pod::from_manifests(&pod).unwrap();
        let rules = pod.nfd_rules().unwrap();
        let yaml = rules.image_compatibility().unwrap();
        let spec: Value = serde_norway::from_str(&yaml).unwrap();
        let keys = |value: &Value| value.as_object().unwrap().keys().cloned().collect::<Vec<String>>();
        assert_eq!(keys(&spec), go_fields("Spec"), "{yaml}");
        assert_eq!(spec["version"], "v1alpha1");
        let sets = spec["compatibilities"].as_array().unwrap();
        assert_eq!(sets.len(), rules.rules.len());
        let group = crd_schema("NodeFeatureGroup");
        for (set, rule) in sets.iter().zip(&rules.rules) {
            assert!(keys(set).iter().all(|key| go_fields("Compatibility").contains(key)), "{yaml}");
            assert_eq!(
                set["tag"],
                format!("{}/{}", rule.platform.os.go_name(), rule.platform.arch.go_name())
            );
            for group_rule in set["rules"].as_array().unwrap() {
                assert!(keys(group_rule).iter().all(|key| go_fields("GroupRule").contains(key)), "{yaml}");
                // A GroupRule is a NodeFeatureGroup's featureGroupRules item: decode it as one.
                let object = serde_json::json!({
                    "apiVersion": "nfd.k8s-sigs.io/v1alpha1", "kind": "NodeFeatureGroup",
                    "metadata": {"name": "g"}, "spec": {"featureGroupRules": [group_rule]},
                });
                assert!(group.is_valid(&object), "{yaml}");
            }
            // The same requirement as the NodeFeatureRule's.
            let rule_yaml = rules.node_feature_rule().unwrap();
            let node_rule: Value = serde_norway::from_str(&rule_yaml).unwrap();
            let same = node_rule["spec"]["rules"].as_array().unwrap().iter().any(|node_rule| {
                node_rule["matchFeatures"] == set["rules"][0]["matchFeatures"]
                    && node_rule["name"] == set["rules"][0]["name"]
            });
            assert!(same, "{yaml}\n{rule_yaml}");
        }
    }
}

#[test]
fn kubernetes_by_rule_requires_each_rules_label_with_its_platform() {
    let pod_binaries = &pods()[0];
    let pod = Pod::from_manifests(pod_binaries).unwrap();
    let placement = pod.rule_placement(false).unwrap();
    let rules = pod.nfd_rules().unwrap();
    assert_eq!(placement.terms.len(), 2);
    for (term, rule) in placement.terms.iter().zip(&rules.rules) {
        assert_eq!((term.arch, term.os), (rule.platform.arch, Some(rule.platform.os)));
        assert_eq!(term.labels.len(), 1);
        assert_eq!(term.labels[0].key, rule.label);
    }
    // The command, on etcd's baseline build for this machine.
    let etcd = file("etcd-rule", &ETCD_MANIFEST);
    let output = run(&["kubernetes", "--cpu-labels", "rule", etcd.to_str().unwrap()], b"");
    if Platform::CURRENT.arch == Arch::X86_64 {
        let stdout = text(&output.stdout);
        assert!(
            stdout.contains("- key: platform-gate.feature.node.kubernetes.io/etcd.linux-amd64\n"),
            "{stdout}"
        );
        assert!(!stdout.contains("cpu-cpuid"), "{stdout}");
    }
}

#[test]
fn the_label_advice_names_the_blacklist_that_works() {
    let v2: Vec<&str> = CpuFeatures::x86_64_level(2).names().collect();
    let pod = [binary("kvd", Arch::X86_64, &[&v2[..], &["aes", "pclmulqdq"]].concat())];
    let placement = Pod::from_manifests(&pod).unwrap().placement(platform_gate_fleet::CpuLabels::Nfd, false);
    let notes: Vec<String> = placement.notes.iter().map(ToString::to_string).collect();
    let advice = notes.iter().find(|note| note.contains("attributeBlacklist")).expect("advice");
    assert!(advice.starts_with("to publish CLMUL, set sources.cpu.cpuid.attributeBlacklist"), "{advice}");
    let blacklist = &advice[advice.find('[').unwrap()..];
    assert!(
        blacklist.starts_with("[AVX10, BMI1, BMI2, CMOV, CX16,") && !blacklist.contains("CLMUL"),
        "{advice}"
    );
    for note in &notes {
        assert!(!note.contains("attributeWhitelist"), "{note}");
    }
    assert!(
        notes.iter().any(|note| note.contains("X86_64_V2, which NFD publishes from v0.19.0 on")),
        "{notes:?}"
    );
}

fn node_list(nodes: &[(&str, &str)]) -> String {
    let items: Vec<Value> = nodes
        .iter()
        .map(|(name, arch)| {
            serde_json::json!({"kind": "Node", "metadata": {"name": name, "labels": {
                "kubernetes.io/arch": arch, "kubernetes.io/os": "linux",
                "feature.node.kubernetes.io/cpu-cpuid.X86_64_V1": "true",
            }}})
        })
        .collect();
    serde_json::json!({"kind": "List", "items": items}).to_string()
}

fn node_features(nodes: &[(&str, &[&str])]) -> String {
    let items: Vec<Value> = nodes
        .iter()
        .map(|(name, flags)| {
            let elements: serde_json::Map<String, Value> =
                flags.iter().map(|flag| (flag.to_string(), serde_json::json!({}))).collect();
            serde_json::json!({"apiVersion": "nfd.k8s-sigs.io/v1alpha1", "kind": "NodeFeature",
                "metadata": {"name": format!("{name}-abcde"), "labels": {"nfd.node.kubernetes.io/node-name": name}},
                "spec": {"features": {"flags": {"cpu.cpuid": {"elements": elements}}}}})
        })
        .collect();
    serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items}).to_string()
}

#[test]
fn nodes_reads_nfds_features_and_says_lacks_only_for_what_they_show_missing() {
    if Platform::CURRENT.arch != Arch::X86_64 {
        return; // etcd's fixture is a build for this machine, and etcd's matrix admits amd64.
    }
    // A baseline etcd starts anywhere; judge the features through kvd's v2 build instead.
    let v2: Vec<&str> = CpuFeatures::x86_64_level(2).names().collect();
    let pod = [binary("etcd", Arch::X86_64, &v2)];
    let pod = Pod::from_manifests(&pod).unwrap();
    let qemu64 = platform_gate_fleet::features::NodeCpuid::from_flags(["CX16", "LAHF", "SSE3"]);
    let node = platform_gate_fleet::Node { arch: "amd64", os: "linux", labels: &[] };
    let judged = pod.judge_by_features(&node, &qemu64, None);
    assert_eq!(judged.programs[0].missing, ["popcnt", "sse4.1", "sse4.2", "ssse3"]);
    assert!(judged.programs[0].why.contains("lacks popcnt, sse4.1, sse4.2, ssse3"), "{judged:?}");
    // By labels, the same node shows neither SSE3 nor CX16 (hidden by default): not "lacks".
    let labels = [("feature.node.kubernetes.io/cpu-cpuid.X86_64_V1", "true")];
    let by_labels = pod.judge(
        &platform_gate_fleet::Node { labels: &labels, ..node },
        None,
        platform_gate_fleet::CpuLabels::Nfd,
    );
    assert!(!by_labels.programs[0].why.contains("lacks"), "{by_labels:?}");
    assert!(by_labels.programs[0].why.contains("do not show (no X86_64_V2)"), "{by_labels:?}");

    // The command: etcd's baseline binary starts on both; the verdicts say their source.
    let etcd = file("etcd-nodes", &ETCD_MANIFEST);
    let nodes = file("nodes.json", node_list(&[("n1", "amd64"), ("n2", "amd64")]).as_bytes());
    let features = file("features.json", node_features(&[("n2", &["SSE3"]), ("n1", &["AVX"])]).as_bytes());
    let args = [
        "nodes",
        "--json",
        "--features",
        features.to_str().unwrap(),
        nodes.to_str().unwrap(),
        etcd.to_str().unwrap(),
    ];
    let output = run(&args, b"");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    for line in text(&output.stdout).lines() {
        let line: Value = serde_json::from_str(line).unwrap();
        assert_eq!(line["cpu_from"], "features", "{line}");
    }
}

#[test]
fn bad_input_gets_one_line_and_status_2() {
    let etcd = file("etcd-bad", &ETCD_MANIFEST);
    let etcd = etcd.to_str().unwrap();
    let nodes = file("nodes-bad.json", node_list(&[("n1", "amd64")]).as_bytes());
    let nodes = nodes.to_str().unwrap();
    let long = "X".repeat(60);
    let cases: Vec<(String, &str)> = vec![
        ("not json".into(), "the NodeFeature list is not JSON"),
        (r#"{"kind":"NodeList","items":[]}"#.into(), "is not a NodeFeature or a List of NodeFeatures: it has kind \"NodeList\""),
        (r#"{"kind":"List"}"#.into(), "the NodeFeature List has no items array"),
        (r#"{"kind":"List","items":[{"kind":"Node"}]}"#.into(), "item 0 of the NodeFeature List is a Node"),
        (r#"{"kind":"List","items":[{"kind":"NodeFeature","metadata":{}}]}"#.into(), "has no nfd.node.kubernetes.io/node-name label"),
        (node_features(&[("n2", &[])]), "no NodeFeature for node n1"),
        (node_features(&[("n1", &[]), ("n1", &[])]), "two NodeFeatures for node n1"),
        (node_features(&[("n1", &[long.as_str()])]), "a 60-byte name, over the 53 that NFD's labels allow"),
        (
            r#"{"kind":"List","items":[{"metadata":{"labels":{"nfd.node.kubernetes.io/node-name":"n1"}},"spec":{"features":{"flags":{"cpu.cpuid":{"elements":[]}}}}}]}"#.into(),
            "flags' cpu.cpuid elements is not an object",
        ),
    ];
    for (input, says) in cases {
        let features = file("features-bad.json", input.as_bytes());
        let output = run(&["nodes", "--features", features.to_str().unwrap(), nodes, etcd], b"");
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{input:.80}: {stderr}");
        assert!(stderr.starts_with("platform-gate: ") && stderr.contains(says), "{input:.80}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(output.stdout.is_empty());
    }
    // A program name that makes no label: every command that names a rule's label refuses it.
    let odd = file("odd", &ODD_MANIFEST);
    for command in [&["nfd-rule"][..], &["nfd-compat"], &["kubernetes", "--cpu-labels", "rule"]] {
        let output = run(&[command, &[odd.to_str().unwrap()]].concat(), b"");
        let stderr = text(&output.stderr);
        assert_eq!((output.status.code(), stderr.lines().count()), (Some(2), 1), "{command:?}: {stderr}");
        assert!(stderr.contains("the program name \"kv d\" makes no valid label name"), "{stderr}");
    }
}
