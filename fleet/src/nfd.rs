//! Node Feature Discovery's names for the CPU features a gated build assumes: the labels a node must
//! carry to prove a set of features ([`requirement`]), and the features a node's labels prove
//! ([`proved`]). One rule, feature by feature, serves both, so a node carries a set's labels exactly
//! when its labels prove the set: what the affinity requires is what a verdict judges.
//!
//! NFD's names are this module's tables, keyed by the gate's `target_feature` names; a test holds them
//! to NFD's and klauspost/cpuid's own lists (`tests/fixtures/nfd.txt`) and to the gate's feature table.
//!
//! ```
//! use platform_gate::{Arch, CpuFeatures};
//! use platform_gate_fleet::nfd;
//!
//! let v3 = nfd::requirement(CpuFeatures::x86_64_level(3));
//! assert_eq!(v3.labels.last().unwrap().key, "feature.node.kubernetes.io/cpu-cpuid.X86_64_V3");
//! ```

use platform_gate::{Arch, CpuFeatures};

/// The start of the key of every CPUID label NFD publishes: `feature.node.kubernetes.io/cpu-cpuid.AVX2`.
pub const CPUID_LABEL: &str = "feature.node.kubernetes.io/cpu-cpuid.";

/// A label a node must carry, by NFD's rules.
///
/// ```
/// use platform_gate::{Arch, CpuFeatures};
/// use platform_gate_fleet::nfd::{self, LabelValue};
///
/// let aes = nfd::requirement(CpuFeatures::from_names(Arch::X86_64, &["aes"]).unwrap());
/// assert_eq!(aes.labels[0].key, "feature.node.kubernetes.io/cpu-cpuid.AESNI");
/// assert_eq!(aes.labels[0].value, LabelValue::True);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeLabel {
    /// The label's key.
    pub key: String,
    /// What its value must be.
    pub value: LabelValue,
}

/// What a label's value must be.
///
/// ```
/// use platform_gate::{Arch, CpuFeatures};
/// use platform_gate_fleet::nfd::{self, LabelValue};
///
/// let avx10 = nfd::requirement(CpuFeatures::from_names(Arch::X86_64, &["avx10.2"]).unwrap());
/// assert_eq!(avx10.labels[0].value, LabelValue::AtLeast(2));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LabelValue {
    /// `true`, as NFD labels a CPUID flag: a Kubernetes `In ["true"]`.
    True,
    /// An integer of at least this, as NFD labels `AVX10_VERSION`: a Kubernetes `Gt [N - 1]`.
    AtLeast(u8),
}

impl NodeLabel {
    /// Whether a node whose label has `value` satisfies this one, as Kubernetes matches the
    /// expression the affinity renders for it.
    ///
    /// ```
    /// use platform_gate_fleet::nfd::{LabelValue, NodeLabel};
    ///
    /// let avx10 = NodeLabel { key: "k".into(), value: LabelValue::AtLeast(2) };
    /// assert!(avx10.accepts("2") && avx10.accepts("10") && !avx10.accepts("1") && !avx10.accepts("true"));
    /// ```
    #[inline]
    pub fn accepts(&self, value: &str) -> bool {
        match self.value {
            LabelValue::True => value == "true",
            LabelValue::AtLeast(least) => {
                value.parse::<i64>().is_ok_and(|value| value > i64::from(least) - 1)
            }
        }
    }

    /// The Kubernetes `matchExpressions` entry that requires it.
    #[inline]
    pub(crate) fn expression(&self) -> crate::yaml::Expression<'_> {
        let (operator, value) = match self.value {
            LabelValue::True => ("In", "true".to_string()),
            LabelValue::AtLeast(least) => ("Gt", (i64::from(least) - 1).to_string()),
        };
        crate::yaml::Expression { key: &self.key, operator, values: vec![value] }
    }
}

/// What a set of CPU features asks of a node's NFD labels.
///
/// ```
/// use platform_gate::{Arch, CpuFeatures};
/// use platform_gate_fleet::nfd;
///
/// let clmul = nfd::requirement(CpuFeatures::from_names(Arch::X86_64, &["pclmulqdq"]).unwrap());
/// assert_eq!(clmul.hidden, [("pclmulqdq", "CLMUL")], "NFD hides CLMUL by default");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct NfdRequirement {
    /// The labels a node must carry, all of them, each once, in the feature table's order.
    pub labels: Vec<NodeLabel>,
    /// Features for which NFD publishes no label: no node can be proved to have them.
    pub unlabelled: Vec<&'static str>,
    /// Features whose label NFD's default configuration hides (its `attributeBlacklist`), with the
    /// label's name: a cluster publishes it only where its NFD configuration does not hide it.
    pub hidden: Vec<(&'static str, &'static str)>,
}

/// The NFD labels a node must carry to prove it has every feature of `features`. Features of an
/// x86-64 level are proved by NFD's level labels (`X86_64_V2`..`X86_64_V4`), others by their own.
///
/// ```
/// use platform_gate::{Arch, CpuFeatures};
/// use platform_gate_fleet::nfd;
///
/// let v3 = nfd::requirement(CpuFeatures::x86_64_level(3));
/// let keys: Vec<&str> = v3.labels.iter().map(|label| label.key.as_str()).collect();
/// assert_eq!(keys, ["feature.node.kubernetes.io/cpu-cpuid.X86_64_V2", "feature.node.kubernetes.io/cpu-cpuid.X86_64_V3"]);
/// let lse = nfd::requirement(CpuFeatures::from_names(Arch::Aarch64, &["lse"]).unwrap());
/// assert_eq!(lse.labels[0].key, "feature.node.kubernetes.io/cpu-cpuid.ATOMICS");
/// assert_eq!(nfd::requirement(CpuFeatures::from_names(Arch::Aarch64, &["mops"]).unwrap()).unlabelled, ["mops"]);
/// ```
pub fn requirement(features: CpuFeatures) -> NfdRequirement {
    let mut requirement = NfdRequirement::default();
    let arch = arch_of(features);
    for name in features.names() {
        let Some(labels) = feature_labels(arch, name) else {
            requirement.unlabelled.push(name);
            continue;
        };
        for label in labels {
            if !requirement.labels.contains(&label) {
                requirement.labels.push(label);
            }
        }
        if x86_64_level(arch, name).is_none() {
            let hidden = nfd_names(arch, name).into_iter().find(|name| HIDDEN_BY_DEFAULT.contains(name));
            if let Some(hidden) = hidden {
                requirement.hidden.push((name, hidden));
            }
        }
    }
    requirement
}

/// The features of `arch` that a node's labels prove it has, by the rule [`requirement`] renders;
/// `None` where the gate has no feature table for `arch`. Labels other than NFD's CPUID labels are
/// ignored.
///
/// ```
/// use platform_gate::{Arch, CpuFeatures};
/// use platform_gate_fleet::nfd;
///
/// let nehalem = [
///     ("kubernetes.io/arch", "amd64"),
///     ("feature.node.kubernetes.io/cpu-cpuid.X86_64_V1", "true"),
///     ("feature.node.kubernetes.io/cpu-cpuid.X86_64_V2", "true"),
/// ];
/// let present = nfd::proved(Arch::X86_64, nehalem).unwrap();
/// assert!(present.contains(CpuFeatures::x86_64_level(2)));
/// assert!(!present.contains(CpuFeatures::x86_64_level(3)));
/// ```
pub fn proved<'a>(arch: Arch, labels: impl IntoIterator<Item = (&'a str, &'a str)>) -> Option<CpuFeatures> {
    let all = CpuFeatures::all(arch)?;
    let cpuid: Vec<(&str, &str)> =
        labels.into_iter().filter(|(key, _)| key.starts_with(CPUID_LABEL)).collect();
    let carries =
        |label: &NodeLabel| cpuid.iter().any(|(key, value)| *key == label.key && label.accepts(value));
    let proved: Vec<&str> = all
        .names()
        .filter(|name| feature_labels(arch, name).is_some_and(|labels| labels.iter().all(carries)))
        .collect();
    CpuFeatures::from_names(arch, &proved)
}

/// Whether `labels` hold any of NFD's CPU labels: a node without them runs no NFD, and nothing can
/// be proved of its CPU.
///
/// ```
/// use platform_gate_fleet::nfd;
///
/// assert!(nfd::has_cpu_labels([("feature.node.kubernetes.io/cpu-cpuid.X86_64_V1", "true")]));
/// assert!(!nfd::has_cpu_labels([("kubernetes.io/arch", "amd64")]));
/// ```
pub fn has_cpu_labels<'a>(labels: impl IntoIterator<Item = (&'a str, &'a str)>) -> bool {
    labels.into_iter().any(|(key, _)| key.starts_with("feature.node.kubernetes.io/cpu-"))
}

/// An architecture of `features`' table: x86 rows serve 32- and 64-bit x86 alike.
pub(crate) fn arch_of(features: CpuFeatures) -> Arch {
    if features.is_x86() { Arch::X86_64 } else { Arch::Aarch64 }
}

/// The labels that prove `name` on `arch`; `None` where NFD publishes none.
fn feature_labels(arch: Arch, name: &str) -> Option<Vec<NodeLabel>> {
    if let Some(level) = x86_64_level(arch, name) {
        let key = format!("{CPUID_LABEL}{}", LEVEL_LABELS[usize::from(level) - 2]);
        return Some(vec![NodeLabel { key, value: LabelValue::True }]);
    }
    let names = nfd_names(arch, name);
    if names.is_empty() {
        return None;
    }
    let labels = names.iter().map(|name| match name.split_once(">=") {
        Some((name, least)) => NodeLabel {
            key: format!("{CPUID_LABEL}{name}"),
            value: LabelValue::AtLeast(least.parse().expect("the table's `NAME>=N` holds a number")),
        },
        None => NodeLabel { key: format!("{CPUID_LABEL}{name}"), value: LabelValue::True },
    });
    Some(labels.collect())
}

/// The x86-64 level (2 to 4) that first requires `name`, on x86; `None` for other features.
fn x86_64_level(arch: Arch, name: &str) -> Option<u8> {
    let one = CpuFeatures::from_names(arch, &[name])?;
    if !one.is_x86() {
        return None;
    }
    (2..=4).find(|&level| CpuFeatures::x86_64_level(level).contains(one))
}

/// NFD's names for `name` on `arch`: every one of them must be labelled (`NAME>=N`: a label whose value
/// is at least N). Empty where NFD publishes none.
pub(crate) fn nfd_names(arch: Arch, name: &str) -> Vec<&'static str> {
    let Some(one) = CpuFeatures::from_names(arch, &[name]) else {
        return Vec::new();
    };
    if one.is_x86() {
        return X86
            .iter()
            .find(|(feature, _)| *feature == name)
            .map_or(Vec::new(), |(_, names)| names.to_vec());
    }
    let Some((hwcap, hwcap2)) = one.linux_hwcaps() else {
        return Vec::new();
    };
    let words = [(hwcap, &AT_HWCAP[..]), (hwcap2, &AT_HWCAP2[..])];
    let named: Option<Vec<&str>> = words
        .into_iter()
        .flat_map(|(bits, names)| {
            (0..64).filter(move |bit| bits & 1 << bit != 0).map(move |bit| names.get(bit).copied())
        })
        .collect();
    named.unwrap_or_default()
}

/// For each x86 feature, by its `target_feature` name, the NFD labels that together prove it, by their
/// names after [`CPUID_LABEL`]: klauspost/cpuid's feature names, with the label that proves the OS saves
/// the feature's registers where NFD's name alone does not, and `NAME>=N` for a label whose value is at
/// least N. Empty where NFD publishes none. Features of an x86-64 level are proved by NFD's level label
/// instead (`X86_64_V2`..`V4`), as NFD hides most of their own by default; they name their own flag
/// too, for people.
pub(crate) const X86: &[(&str, &[&str])] = &[
    ("cmpxchg16b", &["CX16"]),
    ("popcnt", &["POPCNT"]),
    ("sse3", &["SSE3"]),
    ("sse4.1", &["SSE4"]),
    ("sse4.2", &["SSE42"]),
    ("ssse3", &["SSSE3"]),
    ("avx", &["AVX"]),
    ("avx2", &["AVX2"]),
    ("bmi1", &["BMI1"]),
    ("bmi2", &["BMI2"]),
    ("f16c", &["F16C"]),
    ("fma", &["FMA3"]),
    ("lzcnt", &["LZCNT"]),
    ("movbe", &["MOVBE"]),
    ("xsave", &["XSAVE"]),
    ("avx512bw", &["AVX512BW"]),
    ("avx512cd", &["AVX512CD"]),
    ("avx512dq", &["AVX512DQ"]),
    ("avx512f", &["AVX512F"]),
    ("avx512vl", &["AVX512VL"]),
    ("adx", &["ADX"]),
    ("aes", &["AESNI"]),
    ("amx-avx512", &[]),
    ("amx-bf16", &["AMXBF16", "AMXTILE"]),
    ("amx-complex", &["AMXCOMPLEX", "AMXTILE"]),
    ("amx-fp16", &["AMXFP16", "AMXTILE"]),
    ("amx-fp8", &["AMXFP8", "AMXTILE"]),
    ("amx-int8", &["AMXINT8", "AMXTILE"]),
    ("amx-movrs", &[]),
    ("amx-tf32", &["AMXTF32", "AMXTILE"]),
    ("amx-tile", &["AMXTILE"]),
    ("apxf", &["APX_F"]),
    ("avx10.1", &["AVX10_VERSION>=1"]),
    ("avx10.2", &["AVX10_VERSION>=2"]),
    ("avx512bf16", &["AVX512BF16", "AVX512F"]),
    ("avx512bitalg", &["AVX512BITALG", "AVX512F"]),
    ("avx512fp16", &["AVX512FP16", "AVX512F"]),
    ("avx512ifma", &["AVX512IFMA", "AVX512F"]),
    ("avx512vbmi", &["AVX512VBMI", "AVX512F"]),
    ("avx512vbmi2", &["AVX512VBMI2", "AVX512F"]),
    ("avx512vnni", &["AVX512VNNI", "AVX512F"]),
    ("avx512vp2intersect", &["AVX512VP2INTERSECT", "AVX512F"]),
    ("avx512vpopcntdq", &["AVX512VPOPCNTDQ", "AVX512F"]),
    ("avxifma", &["AVXIFMA", "AVX"]),
    ("avxneconvert", &["AVXNECONVERT", "AVX"]),
    ("avxvnni", &["AVXVNNI", "AVX"]),
    ("avxvnniint16", &["AVXVNNIINT16", "AVX"]),
    ("avxvnniint8", &["AVXVNNIINT8", "AVX"]),
    ("ermsb", &["ERMS"]),
    ("fma4", &["FMA4", "AVX"]),
    ("gfni", &["GFNI"]),
    ("kl", &["KEYLOCKER"]),
    ("lahfsahf", &["LAHF"]),
    ("movrs", &[]),
    ("pclmulqdq", &["CLMUL"]),
    ("prfchw", &[]),
    ("rdrand", &["RDRAND"]),
    ("rdseed", &["RDSEED"]),
    ("rtm", &["RTM"]),
    ("sha", &["SHA"]),
    ("sha512", &[]),
    ("sm3", &["SM3_X86", "AVX"]),
    ("sm4", &["SM4_X86", "AVX"]),
    ("sse4a", &["SSE4A"]),
    ("tbm", &["TBM"]),
    ("vaes", &["VAES", "AVX"]),
    ("vpclmulqdq", &["VPCLMULQDQ", "AVX"]),
    ("widekl", &["KEYLOCKERW"]),
    ("xop", &["XOP", "AVX"]),
    ("xsavec", &["XSAVEC"]),
    ("xsaveopt", &["XSAVEOPT"]),
    ("xsaves", &["XSAVES"]),
];

/// NFD's names for Linux's `AT_HWCAP` bits on arm64, bit by bit: the kernel's hwcap names,
/// upper-cased (`flagNames_arm64`). An aarch64 feature is proved by the names of all its bits.
pub(crate) const AT_HWCAP: [&str; 32] = [
    "FP", "ASIMD", "EVTSTRM", "AES", "PMULL", "SHA1", "SHA2", "CRC32", "ATOMICS", "FPHP", "ASIMDHP", "CPUID",
    "ASIMDRDM", "JSCVT", "FCMA", "LRCPC", "DCPOP", "SHA3", "SM3", "SM4", "ASIMDDP", "SHA512", "SVE",
    "ASIMDFHM", "DIT", "USCAT", "ILRCPC", "FLAGM", "SSBS", "SB", "PACA", "PACG",
];

/// Likewise for `AT_HWCAP2` (`flag2Names_arm64`); later bits have no NFD name.
pub(crate) const AT_HWCAP2: [&str; 34] = [
    "DCPODP",
    "SVE2",
    "SVEAES",
    "SVEPMULL",
    "SVEBITPERM",
    "SVESHA3",
    "SVESM4",
    "FLAGM2",
    "FRINT",
    "SVEI8MM",
    "SVEF32MM",
    "SVEF64MM",
    "SVEBF16",
    "I8MM",
    "BF16",
    "DGH",
    "RNG",
    "BTI",
    "MTE",
    "ECV",
    "AFP",
    "RPRES",
    "MTE3",
    "SME",
    "SMEI16I64",
    "SMEF64F64",
    "SMEI8I32",
    "SMEF16F32",
    "SMEB16F32",
    "SMEF32F32",
    "SMEFA64",
    "WFXT",
    "EBF16",
    "SVEEBF16",
];

/// NFD's x86-64 level labels, levels 2 to 4 (`microarchLevelFlags`), published from v0.19.0 on.
pub(crate) const LEVEL_LABELS: [&str; 3] = ["X86_64_V2", "X86_64_V3", "X86_64_V4"];

/// What Node Feature Discovery's default configuration (`source/cpu/cpu.go`, `newDefaultConfig`'s
/// `attributeBlacklist`) keeps from publishing as labels.
pub(crate) const HIDDEN_BY_DEFAULT: &[&str] = &[
    "AVX10",
    "BMI1",
    "BMI2",
    "CLMUL",
    "CMOV",
    "CX16",
    "ERMS",
    "F16C",
    "HTT",
    "LZCNT",
    "MMX",
    "MMXEXT",
    "NX",
    "POPCNT",
    "RDRAND",
    "RDSEED",
    "RDTSCP",
    "SGX",
    "SGXLC",
    "SSE",
    "SSE2",
    "SSE3",
    "SSE4",
    "SSE42",
    "SSSE3",
    "TDX_GUEST",
];

#[cfg(test)]
#[path = "nfd_tests.rs"]
mod tests;
