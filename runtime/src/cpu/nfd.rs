// What Kubernetes nodes say of their CPUs through Node Feature Discovery's labels, against what a build
// assumed: the labels a node must carry for a set of features, and the features a node's labels prove.
// One rule, row by row, serves both, so a node carries a set's labels exactly when its labels prove the
// set: what `platform-gate kubernetes` requires is what `platform-gate nodes` judges.
//
// NFD's names are in the feature table (`names/cpu.rs`), beside each `target_feature`;
// `runtime/tests/nfd.rs` holds them to NFD's and klauspost/cpuid's own lists.
//
// Zone: the fleet: pure policy, proved by `cargo test` (the consistency property in
// `cli/tests/fleet.rs`), and against real runs by `tests/cpu/run.sh` (see CONTRIBUTING.md).

use super::{CpuFeatures, Rows};
use crate::Arch;
use crate::names::cpu::{Family, NFD_HIDDEN_BY_DEFAULT};

/// The start of the key of every CPUID label NFD publishes: `feature.node.kubernetes.io/cpu-cpuid.AVX2`.
pub const NFD_CPUID_LABEL: &str = "feature.node.kubernetes.io/cpu-cpuid.";

/// A label a node must carry, by NFD's rules.
///
/// ```
/// use platform_gate::{Arch, CpuFeatures, LabelValue};
///
/// let aes = CpuFeatures::from_names(Arch::X86_64, &["aes"]).unwrap().nfd_requirement();
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
/// use platform_gate::{Arch, CpuFeatures, LabelValue};
///
/// let avx10 = CpuFeatures::from_names(Arch::X86_64, &["avx10.2"]).unwrap().nfd_requirement();
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
    /// expression [`NodeLabel::expression`] renders.
    ///
    /// ```
    /// use platform_gate::{LabelValue, NodeLabel};
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

    /// The Kubernetes `matchExpressions` entry, as YAML lines indented by `indent` spaces.
    #[inline]
    pub fn expression(&self, indent: usize) -> String {
        let (operator, value) = match self.value {
            LabelValue::True => ("In", "true".to_string()),
            LabelValue::AtLeast(least) => ("Gt", (i64::from(least) - 1).to_string()),
        };
        let pad = " ".repeat(indent);
        format!("{pad}- key: {}\n{pad}  operator: {operator}\n{pad}  values: [\"{value}\"]\n", self.key)
    }
}

/// What a set of CPU features asks of a node's NFD labels.
///
/// ```
/// use platform_gate::{Arch, CpuFeatures};
///
/// let clmul = CpuFeatures::from_names(Arch::X86_64, &["pclmulqdq"]).unwrap().nfd_requirement();
/// assert_eq!(clmul.hidden, [("pclmulqdq", "CLMUL")], "NFD hides CLMUL by default");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct NfdRequirement {
    /// The labels a node must carry, all of them, each once, in the table's order.
    pub labels: Vec<NodeLabel>,
    /// Features for which NFD publishes no label: no node can be proved to have them.
    pub unlabelled: Vec<&'static str>,
    /// Features whose label NFD's default configuration hides, with the label's name: a cluster
    /// publishes it only where its NFD configuration lists it in `attributeWhitelist`.
    pub hidden: Vec<(&'static str, &'static str)>,
}

impl CpuFeatures {
    /// The NFD labels a node must carry to prove it has every feature of the set. Features of an
    /// x86-64 level are proved by NFD's level labels (`X86_64_V2`..`X86_64_V4`), others by their own.
    ///
    /// ```
    /// use platform_gate::{Arch, CpuFeatures};
    ///
    /// let v3 = CpuFeatures::x86_64_level(3).nfd_requirement();
    /// let keys: Vec<&str> = v3.labels.iter().map(|label| label.key.as_str()).collect();
    /// assert_eq!(keys, ["feature.node.kubernetes.io/cpu-cpuid.X86_64_V2", "feature.node.kubernetes.io/cpu-cpuid.X86_64_V3"]);
    /// let lse = CpuFeatures::from_names(Arch::Aarch64, &["lse"]).unwrap().nfd_requirement();
    /// assert_eq!(lse.labels[0].key, "feature.node.kubernetes.io/cpu-cpuid.ATOMICS");
    /// assert_eq!(CpuFeatures::from_names(Arch::Aarch64, &["mops"]).unwrap().nfd_requirement().unlabelled, ["mops"]);
    /// ```
    #[inline]
    pub fn nfd_requirement(self) -> NfdRequirement {
        let mut requirement = NfdRequirement::default();
        let table = self.family.table();
        for row in (0..table.len()).filter(|&row| self.rows.contains(row)) {
            let feature = &table[row];
            match row_labels(self.family, row) {
                None => requirement.unlabelled.push(feature.name),
                Some(labels) => {
                    for label in labels {
                        if !requirement.labels.contains(&label) {
                            requirement.labels.push(label);
                        }
                    }
                    if feature.level < 2 {
                        if let Some(hidden) =
                            self.family.nfd()[row].iter().find(|name| NFD_HIDDEN_BY_DEFAULT.contains(name))
                        {
                            requirement.hidden.push((feature.name, hidden));
                        }
                    }
                }
            }
        }
        requirement
    }

    /// The features of `arch` that a node's labels prove it has, by the rule
    /// [`CpuFeatures::nfd_requirement`] renders; `None` where `arch` has no feature table. Labels
    /// other than NFD's CPUID labels are ignored.
    ///
    /// ```
    /// use platform_gate::{Arch, CpuFeatures};
    ///
    /// let nehalem = [
    ///     ("kubernetes.io/arch", "amd64"),
    ///     ("feature.node.kubernetes.io/cpu-cpuid.X86_64_V1", "true"),
    ///     ("feature.node.kubernetes.io/cpu-cpuid.X86_64_V2", "true"),
    /// ];
    /// let present = CpuFeatures::from_nfd_labels(Arch::X86_64, nehalem).unwrap();
    /// assert!(present.contains(CpuFeatures::x86_64_level(2)));
    /// assert!(!present.contains(CpuFeatures::x86_64_level(3)));
    /// ```
    #[inline]
    pub fn from_nfd_labels<'a>(
        arch: Arch,
        labels: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Option<CpuFeatures> {
        let family = super::family(arch)?;
        let cpuid: Vec<(&str, &str)> =
            labels.into_iter().filter(|(key, _)| key.starts_with(NFD_CPUID_LABEL)).collect();
        let carries =
            |label: &NodeLabel| cpuid.iter().any(|(key, value)| *key == label.key && label.accepts(value));
        let mut rows = Rows::EMPTY;
        for row in 0..family.table().len() {
            if row_labels(family, row).is_some_and(|labels| labels.iter().all(carries)) {
                rows = rows.with(row);
            }
        }
        Some(CpuFeatures { family, rows })
    }
}

/// Whether `labels` hold any of NFD's CPU labels: a node without them runs no NFD, and nothing can
/// be proved of its CPU.
///
/// ```
/// use platform_gate::has_nfd_cpu_labels;
///
/// assert!(has_nfd_cpu_labels([("feature.node.kubernetes.io/cpu-cpuid.X86_64_V1", "true")]));
/// assert!(!has_nfd_cpu_labels([("kubernetes.io/arch", "amd64")]));
/// ```
#[inline]
pub fn has_nfd_cpu_labels<'a>(labels: impl IntoIterator<Item = (&'a str, &'a str)>) -> bool {
    labels.into_iter().any(|(key, _)| key.starts_with("feature.node.kubernetes.io/cpu-"))
}

/// The labels that prove row `row` of `family`'s table; `None` where NFD publishes none.
#[inline]
fn row_labels(family: Family, row: usize) -> Option<Vec<NodeLabel>> {
    let feature = &family.table()[row];
    if family == Family::X86 && feature.level >= 2 {
        let key = format!("{NFD_CPUID_LABEL}X86_64_V{}", feature.level);
        return Some(vec![NodeLabel { key, value: LabelValue::True }]);
    }
    let names = family.nfd()[row];
    if names.is_empty() {
        return None;
    }
    let labels = names.iter().map(|name| match name.split_once(">=") {
        Some((name, least)) => NodeLabel {
            key: format!("{NFD_CPUID_LABEL}{name}"),
            value: LabelValue::AtLeast(least.parse().expect("the table's `NAME>=N` holds a number")),
        },
        None => NodeLabel { key: format!("{NFD_CPUID_LABEL}{name}"), value: LabelValue::True },
    });
    Some(labels.collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(names: &[&str]) -> Vec<(String, String)> {
        names
            .iter()
            .map(|name| match name.split_once('=') {
                Some((name, value)) => (format!("{NFD_CPUID_LABEL}{name}"), value.to_string()),
                None => (format!("{NFD_CPUID_LABEL}{name}"), "true".to_string()),
            })
            .collect()
    }

    fn proved(arch: Arch, names: &[&str]) -> CpuFeatures {
        let labels = labels(names);
        CpuFeatures::from_nfd_labels(arch, labels.iter().map(|(k, v)| (k.as_str(), v.as_str()))).unwrap()
    }

    /// Whether a node with `names` carries every label `features` requires.
    fn carries(features: CpuFeatures, names: &[&str]) -> bool {
        let labels = labels(names);
        let requirement = features.nfd_requirement();
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
            let present = proved(arch, names);
            // Every single feature, and a few sets, both ways.
            for name in all.names() {
                let one = CpuFeatures::from_names(arch, &[name]).unwrap();
                assert_eq!(carries(one, names), present.contains(one), "{name} on {names:?}");
            }
            for set in [CpuFeatures::x86_64_level(3), CpuFeatures::x86_64_level(4)] {
                if arch == Arch::X86_64 {
                    assert_eq!(carries(set, names), present.contains(set), "{names:?}");
                }
            }
        }
    }

    #[test]
    fn levels_prove_their_features_and_nothing_else_does() {
        let nehalem = proved(Arch::X86_64, &["X86_64_V1", "X86_64_V2"]);
        assert_eq!(nehalem, CpuFeatures::x86_64_level(2));
        // AVX2's own label without the level: not proved (NFD before v0.19 had no level labels).
        assert!(proved(Arch::X86_64, &["AVX2", "AVX"]).is_empty());
        let westmere = proved(Arch::X86_64, &["X86_64_V1", "X86_64_V2", "AESNI"]);
        assert_eq!(westmere.without(nehalem).names().collect::<Vec<_>>(), ["aes"]);
        // A label's value must be NFD's.
        assert!(proved(Arch::X86_64, &["AESNI=false"]).is_empty());
        assert_eq!(proved(Arch::X86_64, &["AVX10_VERSION=1"]).names().collect::<Vec<_>>(), ["avx10.1"]);
        // Both labels of a feature that needs two.
        assert!(proved(Arch::Aarch64, &["AES"]).is_empty());
        assert_eq!(proved(Arch::Aarch64, &["AES", "PMULL"]).names().collect::<Vec<_>>(), ["aes"]);
    }

    #[test]
    fn hidden_and_unlabelled_features_are_named() {
        let clmul = CpuFeatures::from_names(Arch::X86_64, &["pclmulqdq", "avx2", "movrs"]).unwrap();
        let requirement = clmul.nfd_requirement();
        assert_eq!(requirement.hidden, [("pclmulqdq", "CLMUL")], "avx2's level label is published");
        assert_eq!(requirement.unlabelled, ["movrs"]);
        assert!(CpuFeatures::none(Arch::X86_64).unwrap().nfd_requirement() == NfdRequirement::default());
    }

    /// The fixture's `[section]`'s lines.
    fn section(name: &str) -> Vec<&'static str> {
        const FIXTURE: &str = include_str!("../../tests/fixtures/nfd.txt");
        let start = FIXTURE.find(&format!("[{name}]\n")).expect("a section") + name.len() + 3;
        FIXTURE[start..].lines().take_while(|line| !line.starts_with('[')).collect()
    }

    #[test]
    fn the_tables_nfd_names_are_nfds_own() {
        use crate::names::cpu::{AARCH64_FEATURES, AARCH64_NFD, Source, X86_FEATURES, X86_NFD};
        assert_eq!(section("blacklist"), NFD_HIDDEN_BY_DEFAULT);
        // x86: klauspost/cpuid's feature names, and NFD's AVX10_VERSION attribute.
        let x86 = section("x86");
        for (feature, nfd) in X86_FEATURES.iter().zip(X86_NFD) {
            for name in nfd {
                let name = name.split_once(">=").map_or(*name, |(name, _)| name);
                assert!(x86.contains(&name) || name == "AVX10_VERSION", "{}: {name}", feature.name);
            }
            // A level's features name their own flag too, for people; the level label proves them.
            assert!(feature.level < 2 || nfd.len() == 1, "{}", feature.name);
        }
        // aarch64: the names NFD gives the row's hwcap bits, exactly; none where NFD has no name for
        // one of them.
        let words = [section("hwcap"), section("hwcap2")];
        for (feature, nfd) in AARCH64_FEATURES.iter().zip(AARCH64_NFD) {
            let Source::Hwcap { word, mask } = feature.source else { panic!("{}", feature.name) };
            let names: Option<Vec<&str>> = (0..64)
                .filter(|bit| mask & 1 << bit != 0)
                .map(|bit| {
                    let prefix = format!("{bit} ");
                    words[usize::from(word) - 1].iter().find_map(|line| line.strip_prefix(prefix.as_str()))
                })
                .collect();
            assert_eq!(nfd, names.unwrap_or_default(), "{}", feature.name);
        }
    }

    #[test]
    fn expressions_are_kubernetes_yaml() {
        let v2 = &CpuFeatures::x86_64_level(2).nfd_requirement().labels[0];
        assert_eq!(
            v2.expression(2),
            "  - key: feature.node.kubernetes.io/cpu-cpuid.X86_64_V2\n    operator: In\n    values: [\"true\"]\n"
        );
        let avx10 = CpuFeatures::from_names(Arch::X86_64, &["avx10.2"]).unwrap().nfd_requirement();
        assert!(avx10.labels[0].expression(0).contains("operator: Gt\n  values: [\"1\"]\n"));
    }
}
