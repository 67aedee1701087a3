// Placements and verdicts for small pods.

use std::ffi::OsStr;

use platform_gate::manifest::RefusedBy;
use platform_gate::{Arch, CpuFeatures, Matrix, Os, Platform, Policy, matrix};

use crate::{Binary, CpuLabels, Node, NodeVerdict, Note, Pod, PodError};

const KVD: Matrix = matrix! {
    amd64 linux => stable,
    arm64 linux => stable,
    s390x linux => experimental,
};

fn binary(arch: Arch, cpu: &[&str]) -> Binary<'static> {
    Binary {
        program: "kvd",
        variable: "KVD_UNSUPPORTED_ARCH",
        platform: Platform::new(arch, Os::Linux),
        matrix: KVD,
        policy: Policy::DEFAULT,
        before_start: CpuFeatures::from_names(arch, cpu),
        in_main: CpuFeatures::none(arch),
    }
}

fn node<'a>(arch: &'a str, os: &'a str, labels: &'a [(&'a str, &'a str)]) -> Node<'a> {
    Node { arch, os, labels }
}

const V2: &[(&str, &str)] = &[
    ("feature.node.kubernetes.io/cpu-cpuid.X86_64_V1", "true"),
    ("feature.node.kubernetes.io/cpu-cpuid.X86_64_V2", "true"),
];
const V3: &[(&str, &str)] = &[
    ("feature.node.kubernetes.io/cpu-cpuid.X86_64_V1", "true"),
    ("feature.node.kubernetes.io/cpu-cpuid.X86_64_V2", "true"),
    ("feature.node.kubernetes.io/cpu-cpuid.X86_64_V3", "true"),
];

#[test]
fn a_v3_build_is_placed_on_v3_nodes_of_its_own_platform_only() {
    let v3: Vec<&str> = CpuFeatures::x86_64_level(3).names().collect();
    let pod = Pod::new(vec![binary(Arch::X86_64, &v3)]).unwrap();
    let placement = pod.placement(CpuLabels::Nfd, false);
    assert_eq!(placement.terms.len(), 1, "amd64 alone: no arm64 binary was given");
    let yaml = placement.kubernetes_node_affinity().unwrap();
    assert!(
        yaml.contains(
            "- key: kubernetes.io/os\n          operator: In\n          values:\n          - linux\n"
        ),
        "{yaml}"
    );
    assert!(
        yaml.contains("cpu-cpuid.X86_64_V3\n          operator: In\n          values:\n          - 'true'\n"),
        "{yaml}"
    );
    let judge = |node: Node<'_>| pod.judge(&node, None, CpuLabels::Nfd).verdict;
    assert_eq!(judge(node("amd64", "linux", V3)), NodeVerdict::Starts);
    assert_eq!(judge(node("amd64", "linux", V2)), NodeVerdict::Refuses);
    assert_eq!(judge(node("amd64", "linux", &[])), NodeVerdict::CpuUnknown);
    assert_eq!(judge(node("amd64", "windows", V3)), NodeVerdict::NoBinary);
    assert_eq!(judge(node("arm64", "linux", &[])), NodeVerdict::NoBinary);
    // Not judged: the platform alone.
    assert_eq!(pod.judge(&node("amd64", "linux", &[]), None, CpuLabels::None).verdict, NodeVerdict::Starts);
    assert!(pod.placement(CpuLabels::None, false).terms[0].labels.is_empty());
}

#[test]
fn every_program_needs_a_binary_that_starts() {
    let backup = |arch| Binary { program: "kvd-backup", ..binary(arch, &[]) };
    let pod = Pod::new(vec![
        binary(Arch::X86_64, &[]),
        binary(Arch::Aarch64, &["lse"]),
        binary(Arch::S390x, &[]),
        backup(Arch::X86_64),
        backup(Arch::Aarch64),
        backup(Arch::S390x),
    ])
    .unwrap();
    let placement = pod.placement(CpuLabels::Nfd, false);
    let archs: Vec<Arch> = placement.terms.iter().map(|term| term.arch).collect();
    assert_eq!(archs, [Arch::X86_64, Arch::Aarch64], "s390x is experimental: refused without the variable");
    assert_eq!(placement.terms[1].labels[0].key, "feature.node.kubernetes.io/cpu-cpuid.ATOMICS");
    let s390x = pod.judge(&node("s390x", "linux", &[]), None, CpuLabels::Nfd);
    assert_eq!(
        (s390x.verdict, s390x.programs[0].refused_by),
        (NodeVerdict::Refuses, Some(RefusedBy::Platform))
    );
    let overridden = pod.judge(&node("s390x", "linux", &[]), Some(OsStr::new("s390x")), CpuLabels::Nfd);
    assert_eq!(overridden.verdict, NodeVerdict::Warns);
    // A program without a binary for a platform keeps it out.
    let partial =
        Pod::new(vec![binary(Arch::X86_64, &[]), backup(Arch::Aarch64), binary(Arch::Aarch64, &[])]).unwrap();
    assert_eq!(partial.placement(CpuLabels::Nfd, false).terms.len(), 1);
    assert_eq!(
        Pod::new(vec![binary(Arch::X86_64, &[]), binary(Arch::X86_64, &["avx2"])]).unwrap_err(),
        PodError::TwoBinaries { program: "kvd".into(), platform: Platform::new(Arch::X86_64, Os::Linux) }
    );
}

#[test]
fn the_matrix_admits_architectures_without_binaries_only_when_asked() {
    let pod = Pod::new(vec![binary(Arch::X86_64, &[])]).unwrap();
    let placement = pod.placement(CpuLabels::Nfd, true);
    let terms: Vec<(Arch, Option<Os>)> = placement.terms.iter().map(|term| (term.arch, term.os)).collect();
    assert_eq!(terms, [(Arch::X86_64, Some(Os::Linux)), (Arch::Aarch64, None)]);
    assert!(placement.notes.contains(&Note::MatrixOnly { arch: Arch::Aarch64, os: None }));
    assert!(!placement.notes.iter().any(|note| note.to_string().contains("--")), "no flags: {placement:?}");
}

#[test]
fn a_cpu_refusal_names_the_check_that_refuses() {
    // x86-64-v2 for every crate (checked before std starts), avx2 for `main`'s crate alone.
    let split = Binary {
        before_start: Some(CpuFeatures::x86_64_level(2)),
        in_main: CpuFeatures::from_names(Arch::X86_64, &["avx2"]),
        ..binary(Arch::X86_64, &[])
    };
    let pod = Pod::new(vec![split]).unwrap();
    let v1 = [("feature.node.kubernetes.io/cpu-cpuid.X86_64_V1", "true")];
    let labels: [&[(&str, &str)]; 3] = [&v1, V2, V3];
    let expected = [
        (NodeVerdict::Refuses, Some(RefusedBy::CpuBeforeStart)),
        (NodeVerdict::Refuses, Some(RefusedBy::CpuInMain)),
        (NodeVerdict::Starts, None),
    ];
    for (labels, (verdict, refused_by)) in labels.into_iter().zip(expected) {
        let judged = pod.judge(&node("amd64", "linux", labels), None, CpuLabels::Nfd);
        assert_eq!((judged.verdict, judged.programs[0].refused_by), (verdict, refused_by), "{labels:?}");
    }
    // What a refusal lacks is everything the binary assumed that the node does not prove.
    let on_v1 = pod.judge(&node("amd64", "linux", &v1), None, CpuLabels::Nfd);
    assert!(on_v1.programs[0].missing.contains(&"avx2") && on_v1.programs[0].missing.contains(&"sse4.2"));
}

#[test]
fn a_verdict_from_labels_says_what_they_do_not_show_and_never_a_label_the_node_carries() {
    let pod = Pod::new(vec![binary(Arch::X86_64, &["avxvnniint8"])]).unwrap();
    // AVXVNNIINT8 is proved by its own label and AVX's (the OS saves the AVX registers).
    let avx = [("feature.node.kubernetes.io/cpu-cpuid.AVX", "true")];
    let judged = pod.judge(&node("amd64", "linux", &avx), None, CpuLabels::Nfd);
    let why = &judged.programs[0].why;
    assert_eq!(judged.verdict, NodeVerdict::Refuses);
    assert!(why.ends_with("which the node's labels do not show (no AVXVNNIINT8)"), "{why}");
    assert!(!why.contains("lacks"), "{why}");
    // Without AVX too, both are named.
    let none = [("feature.node.kubernetes.io/cpu-cpuid.X86_64_V1", "true")];
    let why = pod.judge(&node("amd64", "linux", &none), None, CpuLabels::Nfd).programs[0].why.clone();
    assert!(why.ends_with("(no AVXVNNIINT8, AVX)"), "{why}");
}
