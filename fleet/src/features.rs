//! Node Feature Discovery's raw CPU features: the `cpu.cpuid` feature NFD's worker stores in each
//! node's `NodeFeature` object, every flag its detector reports, unfiltered. NFD's labels are those
//! flags after its `attributeBlacklist` (which hides POPCNT, SSE4, CLMUL, BMI1 and more by default)
//! and, for the `X86_64_V*` level flags, only since NFD v0.19. A `NodeFeatureRule` matches the
//! features themselves, on every NFD release that has rules, so what a build assumed can be required
//! exactly: [`cpuid_match`] says what to require, and [`present`] reads a node's features back by the
//! same names, so a node matches a set's requirement exactly when its features prove the set.
//!
//! ```
//! use platform_gate::{Arch, CpuFeatures};
//! use platform_gate_fleet::features::{self, NodeCpuid};
//!
//! let v2 = features::cpuid_match(CpuFeatures::x86_64_level(2));
//! assert!(v2.flags.contains(&"POPCNT") && v2.flags.contains(&"SSE42"), "hidden as labels, not as features");
//! let nehalem = NodeCpuid::from_flags(["CX16", "LAHF", "POPCNT", "SSE3", "SSE4", "SSE42", "SSSE3"]);
//! assert!(v2.matches(&nehalem));
//! assert!(features::present(Arch::X86_64, &nehalem).unwrap().contains(CpuFeatures::x86_64_level(2)));
//! ```

use std::collections::{BTreeMap, BTreeSet};

use platform_gate::{Arch, CpuFeatures};

use crate::nfd::{arch_of, nfd_names};

/// The feature, in NFD's `domain.feature` form, that holds a node's CPUID flags (and its
/// `AVX10_VERSION` attribute): what a rule's `matchFeatures` term names.
pub const CPUID_FEATURE: &str = "cpu.cpuid";

/// What a set of CPU features asks of a node's [`CPUID_FEATURE`], in NFD's names.
///
/// ```
/// use platform_gate::{Arch, CpuFeatures};
///
/// let wanted = platform_gate_fleet::features::cpuid_match(CpuFeatures::from_names(Arch::X86_64, &["fma"]).unwrap());
/// assert_eq!((wanted.flags, wanted.at_least, wanted.unnamed), (vec!["FMA3"], vec![], vec![]));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct CpuidMatch {
    /// Flags the node must have (`op: Exists`), each once, sorted.
    pub flags: Vec<&'static str>,
    /// Attributes whose value must be an integer of at least this (`op: Gt`, one less), sorted.
    pub at_least: Vec<(&'static str, u8)>,
    /// Features NFD has no name for: no node's features prove them, so nothing matches.
    pub unnamed: Vec<&'static str>,
}

/// The flags and attributes of [`CPUID_FEATURE`] that prove a node has every feature of
/// `features`, each feature by all of NFD's names for it (x86: klauspost/cpuid's, with the flag
/// that proves the OS saves the feature's registers where NFD's name alone does not; arm64: the
/// kernel's hwcap names). The level flags `X86_64_V*` are never required: older NFD releases do not
/// report them, and the features they stand for are reported one by one on every release.
///
/// ```
/// use platform_gate::{Arch, CpuFeatures};
/// use platform_gate_fleet::features;
///
/// let avx10 = features::cpuid_match(CpuFeatures::from_names(Arch::X86_64, &["avx10.2"]).unwrap());
/// assert_eq!(avx10.at_least, [("AVX10_VERSION", 2)]);
/// let aes = features::cpuid_match(CpuFeatures::from_names(Arch::Aarch64, &["aes"]).unwrap());
/// assert_eq!(aes.flags, ["AES", "PMULL"]);
/// ```
pub fn cpuid_match(features: CpuFeatures) -> CpuidMatch {
    let arch = arch_of(features);
    let mut wanted = CpuidMatch::default();
    for feature in features.names() {
        let names = nfd_names(arch, feature);
        if names.is_empty() {
            wanted.unnamed.push(feature);
        }
        for name in names {
            match name.split_once(">=") {
                Some((name, least)) => {
                    let least = least.parse().expect("the table's `NAME>=N` holds a number");
                    wanted.at_least.push((name, least));
                }
                None => wanted.flags.push(name),
            }
        }
    }
    wanted.flags.sort_unstable();
    wanted.flags.dedup();
    wanted.at_least.sort_unstable();
    // Of two bounds on one attribute, the higher holds.
    wanted.at_least.reverse();
    wanted.at_least.dedup_by_key(|(name, _)| *name);
    wanted.at_least.reverse();
    wanted
}

/// A node's [`CPUID_FEATURE`], as its `NodeFeature` object carries it: `spec.features.flags` and
/// `spec.features.attributes` under `cpu.cpuid`.
///
/// ```
/// let mut node = platform_gate_fleet::features::NodeCpuid::from_flags(["AVX512F"]);
/// node.attributes.insert("AVX10_VERSION".into(), "2".into());
/// assert_eq!(node.flags.len() + node.attributes.len(), 2);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct NodeCpuid {
    /// The flags' names (`elements`' keys).
    pub flags: BTreeSet<String>,
    /// The attributes, name to value.
    pub attributes: BTreeMap<String, String>,
}

impl NodeCpuid {
    /// A node's CPUID feature with these flags and no attribute.
    ///
    /// ```
    /// use platform_gate_fleet::features::NodeCpuid;
    ///
    /// assert!(NodeCpuid::from_flags(["AVX", "AVX2"]).flags.contains("AVX2"));
    /// ```
    pub fn from_flags<'a>(flags: impl IntoIterator<Item = &'a str>) -> NodeCpuid {
        NodeCpuid { flags: flags.into_iter().map(str::to_string).collect(), attributes: BTreeMap::new() }
    }

    /// Whether NFD's matching finds `name` with an integer value above `floor`, as `op: Gt` does: on
    /// a flag it finds no value, and a value that is not an integer matches nothing.
    fn above(&self, name: &str, floor: i64) -> bool {
        self.attributes
            .get(name)
            .and_then(|value| value.parse::<i64>().ok())
            .is_some_and(|value| value > floor)
    }
}

impl CpuidMatch {
    /// Whether a node with `cpuid` matches this, as NFD matches the rule's term that renders it:
    /// every flag exists and every attribute is at least its bound. Nothing matches a requirement
    /// with a feature NFD has no name for.
    ///
    /// ```
    /// use platform_gate::{Arch, CpuFeatures};
    /// use platform_gate_fleet::features::{self, NodeCpuid};
    ///
    /// let avx2 = features::cpuid_match(CpuFeatures::from_names(Arch::X86_64, &["avx2"]).unwrap());
    /// assert!(avx2.matches(&NodeCpuid::from_flags(["AVX", "AVX2"])));
    /// assert!(!avx2.matches(&NodeCpuid::from_flags(["AVX"])));
    /// ```
    pub fn matches(&self, cpuid: &NodeCpuid) -> bool {
        self.unnamed.is_empty()
            && self.flags.iter().all(|flag| cpuid.flags.contains(*flag))
            && self.at_least.iter().all(|&(name, least)| cpuid.above(name, i64::from(least) - 1))
    }
}

/// The features of `arch` that a node's `cpuid` proves it has, by the rule [`cpuid_match`] renders;
/// `None` where the gate has no feature table for `arch`. Unlike labels, features are not filtered:
/// a feature they do not prove, by a name NFD has, the node lacks.
///
/// ```
/// use platform_gate::{Arch, CpuFeatures};
/// use platform_gate_fleet::features::{self, NodeCpuid};
///
/// let present = features::present(Arch::X86_64, &NodeCpuid::from_flags(["AVX"])).unwrap();
/// assert_eq!(present.names().collect::<Vec<_>>(), ["avx"]);
/// ```
pub fn present(arch: Arch, cpuid: &NodeCpuid) -> Option<CpuFeatures> {
    let all = CpuFeatures::all(arch)?;
    let proved: Vec<&str> = all
        .names()
        .filter(|&name| {
            let one = CpuFeatures::from_names(arch, &[name]).expect("one of the table's");
            cpuid_match(one).matches(cpuid)
        })
        .collect();
    CpuFeatures::from_names(arch, &proved)
}

#[cfg(test)]
#[path = "features_tests.rs"]
mod tests;
