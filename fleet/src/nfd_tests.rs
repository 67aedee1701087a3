// `nfd.rs`'s tests: the two directions of the one rule agree, and the tables are NFD's own and cover
// the gate's.

use super::*;

fn labels(names: &[&str]) -> Vec<(String, String)> {
    names
        .iter()
        .map(|name| match name.split_once('=') {
            Some((name, value)) => (format!("{CPUID_LABEL}{name}"), value.to_string()),
            None => (format!("{CPUID_LABEL}{name}"), "true".to_string()),
        })
        .collect()
}

fn proved_by(arch: Arch, names: &[&str]) -> CpuFeatures {
    let labels = labels(names);
    proved(arch, labels.iter().map(|(k, v)| (k.as_str(), v.as_str()))).unwrap()
}

/// Whether a node with `names` carries every label `features` requires.
fn carries(features: CpuFeatures, names: &[&str]) -> bool {
    let labels = labels(names);
    let requirement = requirement(features);
    requirement.unlabelled.is_empty()
        && requirement
            .labels
            .iter()
            .all(|label| labels.iter().any(|(key, value)| *key == label.key && label.accepts(value)))
}

#[test]
fn a_node_carries_a_sets_labels_exactly_when_its_labels_prove_the_set() {
    let x86 = CpuFeatures::all(Arch::X86_64).unwrap();
    let arm = CpuFeatures::all(Arch::Aarch64).unwrap();
    let nodes: [(Arch, &[&str]); 8] = [
        (Arch::X86_64, &[]),
        (Arch::X86_64, &["X86_64_V1", "X86_64_V2"]),
        (Arch::X86_64, &["X86_64_V1", "X86_64_V2", "AESNI"]),
        (Arch::X86_64, &["X86_64_V1", "X86_64_V2", "X86_64_V3", "AVX2", "AESNI", "VAES", "AVX"]),
        (Arch::X86_64, &["X86_64_V3", "X86_64_V4", "AVX512F", "AVX512VNNI", "AVX10_VERSION=2"]),
        (Arch::X86_64, &["AVX2", "SSE42", "AVX10_VERSION=1", "CLMUL"]),
        (Arch::Aarch64, &["ASIMD", "AES", "CRC32"]),
        (Arch::Aarch64, &["ASIMD", "AES", "PMULL", "ATOMICS", "SHA1", "SHA2", "SVE", "I8MM"]),
    ];
    for (arch, names) in nodes {
        let all = if arch == Arch::X86_64 { x86 } else { arm };
        let present = proved_by(arch, names);
        // Every single feature, and a few sets, both ways.
        for name in all.names() {
            let one = CpuFeatures::from_names(arch, &[name]).unwrap();
            assert_eq!(carries(one, names), present.contains(one), "{name} on {names:?}");
        }
        if arch == Arch::X86_64 {
            for set in [CpuFeatures::x86_64_level(3), CpuFeatures::x86_64_level(4)] {
                assert_eq!(carries(set, names), present.contains(set), "{names:?}");
            }
        }
    }
}

#[test]
fn levels_prove_their_features_and_nothing_else_does() {
    let nehalem = proved_by(Arch::X86_64, &["X86_64_V1", "X86_64_V2"]);
    assert_eq!(nehalem, CpuFeatures::x86_64_level(2));
    // AVX2's own label without the level: not proved (NFD before v0.19 had no level labels).
    assert!(proved_by(Arch::X86_64, &["AVX2", "AVX"]).is_empty());
    let westmere = proved_by(Arch::X86_64, &["X86_64_V1", "X86_64_V2", "AESNI"]);
    assert_eq!(westmere.without(nehalem).names().collect::<Vec<_>>(), ["aes"]);
    // A label's value must be NFD's.
    assert!(proved_by(Arch::X86_64, &["AESNI=false"]).is_empty());
    assert_eq!(proved_by(Arch::X86_64, &["AVX10_VERSION=1"]).names().collect::<Vec<_>>(), ["avx10.1"]);
    // Both labels of a feature that needs two.
    assert!(proved_by(Arch::Aarch64, &["AES"]).is_empty());
    assert_eq!(proved_by(Arch::Aarch64, &["AES", "PMULL"]).names().collect::<Vec<_>>(), ["aes"]);
    // 32-bit x86 reads the same labels.
    assert_eq!(proved_by(Arch::X86, &["X86_64_V2"]), CpuFeatures::x86_64_level(2));
}

#[test]
fn hidden_and_unlabelled_features_are_named() {
    let clmul = CpuFeatures::from_names(Arch::X86_64, &["pclmulqdq", "avx2", "movrs"]).unwrap();
    let requirement = requirement(clmul);
    assert_eq!(requirement.hidden, [("pclmulqdq", "CLMUL")], "avx2's level label is published");
    assert_eq!(requirement.unlabelled, ["movrs"]);
    assert_eq!(super::requirement(CpuFeatures::none(Arch::X86_64).unwrap()), NfdRequirement::default());
    assert_eq!(super::requirement(CpuFeatures::none(Arch::Aarch64).unwrap()), NfdRequirement::default());
}

/// The fixture's `[section]`'s lines.
fn section(name: &str) -> Vec<&'static str> {
    const FIXTURE: &str = include_str!("../tests/fixtures/nfd.txt");
    let start = FIXTURE.find(&format!("[{name}]\n")).expect("a section") + name.len() + 3;
    FIXTURE[start..].lines().take_while(|line| !line.starts_with('[')).collect()
}

#[test]
fn the_tables_are_nfds_own() {
    assert_eq!(section("blacklist"), HIDDEN_BY_DEFAULT);
    for (word, names) in [("hwcap", &AT_HWCAP[..]), ("hwcap2", &AT_HWCAP2[..])] {
        let listed: Vec<String> =
            names.iter().enumerate().map(|(bit, name)| format!("{bit} {name}")).collect();
        assert_eq!(section(word), listed, "{word}");
    }
    // x86: klauspost/cpuid's feature names, and NFD's AVX10_VERSION attribute.
    let x86 = section("x86");
    for (feature, names) in X86 {
        for name in *names {
            let name = name.split_once(">=").map_or(*name, |(name, _)| name);
            assert!(x86.contains(&name) || name == "AVX10_VERSION", "{feature}: {name}");
        }
    }
}

/// The aarch64 features whose hwcap bits NFD does not name: no node can be proved to have them.
const AARCH64_UNLABELLED: &[&str] = &[
    "cssc",
    "faminmax",
    "fp8",
    "fp8dot2",
    "fp8dot4",
    "fp8fma",
    "hbc",
    "lse128",
    "lut",
    "mops",
    "rcpc3",
    "sme-b16b16",
    "sme-f16f16",
    "sme-f8f16",
    "sme-f8f32",
    "sme-lutv2",
    "sme2",
    "sme2p1",
    "ssve-fp8dot2",
    "ssve-fp8dot4",
    "ssve-fp8fma",
    "sve-b16b16",
    "sve2p1",
];

#[test]
fn every_feature_the_gate_checks_has_nfd_names_or_is_listed_as_having_none() {
    // x86: the table's rows are the gate's, one each, in the gate's order.
    let gate: Vec<&str> = CpuFeatures::all(Arch::X86_64).unwrap().names().collect();
    let table: Vec<&str> = X86.iter().map(|(name, _)| *name).collect();
    assert_eq!(table, gate, "fleet's x86 NFD table against the gate's feature table");
    for name in gate {
        let level = x86_64_level(Arch::X86_64, name);
        let names = nfd_names(Arch::X86_64, name);
        // A level's features name their own flag too, for people; the level label proves them.
        assert!(level.is_none() || names.len() == 1, "{name}");
    }
    // aarch64: named through the hwcap bits the gate reads, or listed as unnamed.
    for name in CpuFeatures::all(Arch::Aarch64).unwrap().names() {
        let names = nfd_names(Arch::Aarch64, name);
        assert_eq!(names.is_empty(), AARCH64_UNLABELLED.contains(&name), "{name}: {names:?}");
        let one = CpuFeatures::from_names(Arch::Aarch64, &[name]).unwrap();
        let (hwcap, hwcap2) = one.linux_hwcaps().expect("aarch64 reads hwcaps");
        assert!(hwcap | hwcap2 != 0, "{name} has a hwcap bit");
    }
    let spot: [(&str, &[&str]); 4] = [
        ("aes", &["AES", "PMULL"]),
        ("lse", &["ATOMICS"]),
        ("sve2-aes", &["SVEAES", "SVEPMULL"]),
        ("mops", &[]),
    ];
    for (name, names) in spot {
        assert_eq!(nfd_names(Arch::Aarch64, name), names, "{name}");
    }
}
