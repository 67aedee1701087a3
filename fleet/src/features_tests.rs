// `features.rs`'s tests: the requirement and the reading agree, feature by feature and for sets,
// and NFD's matching rules for the two operators the requirement uses.

use super::*;

fn node(flags: &[&str], attributes: &[(&str, &str)]) -> NodeCpuid {
    let mut node = NodeCpuid::from_flags(flags.iter().copied());
    node.attributes = attributes.iter().map(|(name, value)| (name.to_string(), value.to_string())).collect();
    node
}

#[test]
fn a_node_matches_a_sets_requirement_exactly_when_its_features_prove_the_set() {
    let x86 = CpuFeatures::all(Arch::X86_64).unwrap();
    let arm = CpuFeatures::all(Arch::Aarch64).unwrap();
    let v2 = ["CX16", "LAHF", "POPCNT", "SSE3", "SSE4", "SSE42", "SSSE3"];
    let v3 =
        [&v2[..], &["AVX", "AVX2", "BMI1", "BMI2", "F16C", "FMA3", "LZCNT", "MOVBE", "OSXSAVE", "XSAVE"]]
            .concat();
    let nodes = [
        (Arch::X86_64, node(&[], &[])),
        (Arch::X86_64, node(&v2, &[])),
        (Arch::X86_64, node(&[&v2[..], &["AESNI", "CLMUL"]].concat(), &[])),
        (Arch::X86_64, node(&v3, &[("AVX10_VERSION", "1")])),
        (Arch::X86_64, node(&[&v3[..], &["AVX512F", "AVX512BF16"]].concat(), &[("AVX10_VERSION", "2")])),
        (Arch::X86_64, node(&["AVX512BF16"], &[("AVX10_VERSION", "x")])),
        (Arch::Aarch64, node(&["FP", "ASIMD", "AES", "ATOMICS"], &[])),
        (Arch::Aarch64, node(&["FP", "ASIMD", "AES", "PMULL", "SVE", "SVE2", "SVEAES", "SVEPMULL"], &[])),
    ];
    for (arch, node) in &nodes {
        let all = if *arch == Arch::X86_64 { x86 } else { arm };
        let present = present(*arch, node).unwrap();
        let mut sets: Vec<CpuFeatures> =
            all.names().map(|name| CpuFeatures::from_names(*arch, &[name]).unwrap()).collect();
        if *arch == Arch::X86_64 {
            sets.extend((2..=4).map(CpuFeatures::x86_64_level));
            sets.push(CpuFeatures::x86_64_level(3).with(CpuFeatures::from_names(*arch, &["aes"]).unwrap()));
        }
        for set in sets {
            let names: Vec<&str> = set.names().collect();
            assert_eq!(cpuid_match(set).matches(node), present.contains(set), "{names:?} on {node:?}");
        }
    }
}

#[test]
fn what_the_requirement_asks() {
    let v2 = cpuid_match(CpuFeatures::x86_64_level(2));
    assert_eq!(v2.flags, ["CX16", "POPCNT", "SSE3", "SSE4", "SSE42", "SSSE3"]);
    assert!(v2.at_least.is_empty() && v2.unnamed.is_empty());
    let bf16 = cpuid_match(CpuFeatures::from_names(Arch::X86_64, &["avx512bf16", "avx512f"]).unwrap());
    assert_eq!(bf16.flags, ["AVX512BF16", "AVX512F"], "each name once");
    let both = cpuid_match(CpuFeatures::from_names(Arch::X86_64, &["avx10.1", "avx10.2"]).unwrap());
    assert_eq!(both.at_least, [("AVX10_VERSION", 2)], "the higher bound holds");
    let movrs = cpuid_match(CpuFeatures::from_names(Arch::X86_64, &["movrs", "avx"]).unwrap());
    assert_eq!((movrs.flags, movrs.unnamed), (vec!["AVX"], vec!["movrs"]));
    assert_eq!(cpuid_match(CpuFeatures::none(Arch::X86_64).unwrap()), CpuidMatch::default());
}

#[test]
fn nothing_matches_an_unnamed_feature_and_only_integers_meet_a_bound() {
    let everything: Vec<&str> = crate::nfd::X86.iter().flat_map(|(_, names)| names.iter().copied()).collect();
    let movrs = cpuid_match(CpuFeatures::from_names(Arch::X86_64, &["movrs"]).unwrap());
    assert!(!movrs.matches(&node(&everything, &[("AVX10_VERSION", "2")])));
    let avx10 = cpuid_match(CpuFeatures::from_names(Arch::X86_64, &["avx10.2"]).unwrap());
    for (value, matches) in
        [("2", true), ("10", true), ("1", false), ("", false), ("2.0", false), ("true", false)]
    {
        assert_eq!(avx10.matches(&node(&[], &[("AVX10_VERSION", value)])), matches, "{value:?}");
    }
    assert!(!avx10.matches(&node(&["AVX10_VERSION"], &[])), "a flag has no value");
}
