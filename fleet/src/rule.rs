// Placement by NFD's raw features: per platform, a `NodeFeatureRule` rule that labels the nodes whose
// `cpu.cpuid` feature shows everything the pod's binaries there assumed, the affinity that requires
// that label, and NFD's image-compatibility spec with the same rules. The platform's binaries are
// those `placement.rs` admits; what they require is `features.rs`'s rule.

use core::fmt;

use platform_gate::{CpuFeatures, Platform};
use serde_json::{Map, Value, json};

use crate::features::{CPUID_FEATURE, CpuidMatch, cpuid_match};
use crate::nfd::{LabelValue, NodeLabel};
use crate::note::Note;
use crate::pod::{Placement, Pod, Term};
use crate::yaml::to_yaml;

/// The namespace of the labels the rules set: a sub-namespace of NFD's own, which NFD allows
/// without configuration (`-extra-label-ns` is for others).
pub const RULE_LABEL_NS: &str = "platform-gate.feature.node.kubernetes.io";

/// The longest name a Kubernetes label may have after its namespace.
const LONGEST_LABEL_NAME: usize = 63;

/// One platform's rule: the nodes NFD labels with `label` are those whose features show every CPU
/// feature the pod's binaries for `platform` assumed.
///
/// ```
/// # let bytes = include_bytes!("../../runtime/tests/fixtures/etcd.manifest");
/// # let manifest = platform_gate::manifest::Manifest::parse(bytes, 0)?;
/// let pod = platform_gate_fleet::Pod::from_manifests([&manifest]).unwrap();
/// let rules = pod.nfd_rules().unwrap();
/// let rule = &rules.rules[0]; // a baseline amd64 build: nothing to require
/// assert!(rule.cpuid.flags.is_empty() && rule.label.ends_with("/etcd.linux-amd64"));
/// # Ok::<(), platform_gate::manifest::ReadError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlatformRule {
    /// The platform, whose affinity term requires the label.
    pub platform: Platform,
    /// The pod's programs, in its order.
    pub programs: Vec<String>,
    /// The label's key: [`RULE_LABEL_NS`], then [`rule_label_name`]'s.
    pub label: String,
    /// What the rule requires of the node's `cpu.cpuid` feature: nothing for baseline builds.
    pub cpuid: CpuidMatch,
}

/// A pod's rules, one per platform where every program has a binary that starts without its
/// variable and whose features NFD names, and what keeps the other platforms out.
///
/// ```
/// # let bytes = include_bytes!("../../runtime/tests/fixtures/etcd.manifest");
/// # let manifest = platform_gate::manifest::Manifest::parse(bytes, 0)?;
/// let pod = platform_gate_fleet::Pod::from_manifests([&manifest]).unwrap();
/// let rules = pod.nfd_rules().unwrap();
/// assert_eq!((rules.rules.len(), rules.notes.len()), (1, 0));
/// let yaml = rules.node_feature_rule().unwrap();
/// assert!(yaml.starts_with("apiVersion: nfd.k8s-sigs.io/v1alpha1\nkind: NodeFeatureRule\n"));
/// assert!(rules.image_compatibility().unwrap().contains("tag: linux/amd64"));
/// # Ok::<(), platform_gate::manifest::ReadError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct NfdRules {
    /// The rules, in the order of the pod's binaries.
    pub rules: Vec<PlatformRule>,
    /// Why a platform has no rule.
    pub notes: Vec<Note>,
}

/// A program whose name cannot be part of a label's name.
///
/// ```
/// use platform_gate::Platform;
///
/// let error = platform_gate_fleet::rule_label_name(&["kv d"], Platform::CURRENT).unwrap_err();
/// assert!(error.to_string().starts_with("the program name \"kv d\" makes no valid label name"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelError {
    /// The program.
    pub program: String,
}

impl fmt::Display for LabelError {
    #[inline]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the program name {:?} makes no valid label name: a rule's label names its programs, and a \
             name there is ASCII letters, digits, '-' and '_', starting with a letter or digit",
            self.program
        )
    }
}

impl std::error::Error for LabelError {}

/// The name (after [`RULE_LABEL_NS`]`/`) of the label a pod's rule for `platform` sets: the programs
/// joined by `.`, then `.os-arch` in Go's spelling (`etcd.linux-amd64`), so that no platform's label
/// is another's. Where that is over 63 characters, the programs part is cut and ends with 8 hex
/// digits of the FNV-1a hash of all of it. Program names may hold ASCII letters, digits, `-` and
/// `_` (Cargo's package and target names), starting with a letter or digit.
///
/// ```
/// use platform_gate::{Arch, Os, Platform};
/// use platform_gate_fleet::rule_label_name;
///
/// let amd64 = Platform::new(Arch::X86_64, Os::Linux);
/// assert_eq!(rule_label_name(&["etcd", "etcdctl"], amd64).unwrap(), "etcd.etcdctl.linux-amd64");
/// assert!(rule_label_name(&["my tool"], amd64).is_err());
/// assert_eq!(rule_label_name(&["x".repeat(80).as_str()], amd64).unwrap().len(), 63);
/// ```
pub fn rule_label_name(programs: &[&str], platform: Platform) -> Result<String, LabelError> {
    for program in programs {
        let valid = program.starts_with(|c: char| c.is_ascii_alphanumeric())
            && program.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !valid {
            return Err(LabelError { program: program.to_string() });
        }
    }
    let suffix = format!(".{}-{}", platform.os.go_name(), platform.arch.go_name());
    let joined = programs.join(".");
    if joined.len() + suffix.len() <= LONGEST_LABEL_NAME {
        return Ok(joined + &suffix);
    }
    let hash =
        joined.bytes().fold(0x811c_9dc5_u32, |hash, byte| (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193));
    let room = LONGEST_LABEL_NAME - suffix.len() - 9;
    Ok(format!("{}-{hash:08x}{suffix}", &joined[..room]))
}

impl Pod<'_> {
    /// The pod's NFD rules: for each platform where every program has a binary that starts
    /// without its variable, a rule whose label proves every CPU feature those binaries assumed,
    /// by NFD's features. A platform whose binaries assumed a feature NFD does not name has none.
    ///
    /// ```
    /// # let bytes = include_bytes!("../../runtime/tests/fixtures/etcd.manifest");
    /// # let manifest = platform_gate::manifest::Manifest::parse(bytes, 0)?;
    /// # let mut etcd = platform_gate_fleet::Binary::from(&manifest);
    /// etcd.before_start = Some(platform_gate::CpuFeatures::x86_64_level(2));
    /// let rules = platform_gate_fleet::Pod::new(vec![etcd]).unwrap().nfd_rules().unwrap();
    /// assert_eq!(rules.rules[0].label, "platform-gate.feature.node.kubernetes.io/etcd.linux-amd64");
    /// assert!(rules.rules[0].cpuid.flags.contains(&"POPCNT"));
    /// # Ok::<(), platform_gate::manifest::ReadError>(())
    /// ```
    pub fn nfd_rules(&self) -> Result<NfdRules, LabelError> {
        let mut found = NfdRules::default();
        let programs = self.programs();
        // Every program's name is in every rule's label: refuse a name that makes none, whether
        // or not its platform gets a rule.
        rule_label_name(&programs, Platform::CURRENT)?;
        for platform in self.platforms() {
            let Some(starting) = self.starting(platform, None, &mut found.notes) else {
                continue;
            };
            let mut assumed = CpuFeatures::none(platform.arch);
            let mut named = true;
            for (program, binary) in starting {
                let Some(cpu) = binary.cpu() else {
                    continue;
                };
                let unnamed = cpuid_match(cpu).unnamed;
                if !unnamed.is_empty() {
                    found.notes.push(Note::Unnamed { platform, program: program.into(), features: unnamed });
                    named = false;
                }
                assumed = Some(assumed.map_or(cpu, |assumed| assumed.with(cpu)));
            }
            if named {
                let label = format!("{RULE_LABEL_NS}/{}", rule_label_name(&programs, platform)?);
                let programs = programs.iter().map(|program| program.to_string()).collect();
                let cpuid = assumed.map(cpuid_match).unwrap_or_default();
                found.rules.push(PlatformRule { platform, programs, label, cpuid });
            }
        }
        Ok(found)
    }

    /// Where the pod goes by its NFD rules: one term per rule, which requires the rule's label with
    /// the platform's `kubernetes.io/os` and `kubernetes.io/arch`, and with `matrix_only_too`, as
    /// [`Pod::placement`] has them, the architectures the matrices admit with no binary given.
    pub fn rule_placement(&self, matrix_only_too: bool) -> Result<Placement, LabelError> {
        let rules = self.nfd_rules()?;
        let terms = rules.rules.iter().map(|rule| Term {
            arch: rule.platform.arch,
            os: Some(rule.platform.os),
            labels: vec![NodeLabel { key: rule.label.clone(), value: LabelValue::True }],
        });
        let mut placement = Placement { terms: terms.collect(), notes: rules.notes };
        if matrix_only_too {
            self.add_matrix_only(&mut placement);
        }
        Ok(placement)
    }
}

impl PlatformRule {
    /// The rule's `matchFeatures`: one term on `cpu.cpuid`, or none for a baseline build.
    fn match_features(&self) -> Value {
        let mut expressions = Map::new();
        for flag in &self.cpuid.flags {
            expressions.insert((*flag).to_string(), json!({"op": "Exists"}));
        }
        for &(name, least) in &self.cpuid.at_least {
            // `Gt` rather than `Ge`, which older NFD releases do not have.
            let floor = (i64::from(least) - 1).to_string();
            expressions.insert(name.to_string(), json!({"op": "Gt", "value": [floor]}));
        }
        if expressions.is_empty() {
            return json!([]);
        }
        json!([{"feature": CPUID_FEATURE, "matchExpressions": expressions}])
    }

    /// The rule's name, for people: `etcd, etcdctl start on linux/amd64`.
    fn name(&self) -> String {
        let verb = if self.programs.len() == 1 { "starts" } else { "start" };
        format!(
            "{} {verb} on {}/{}",
            self.programs.join(", "),
            self.platform.os.go_name(),
            self.platform.arch.go_name()
        )
    }
}

impl NfdRules {
    /// The `NodeFeatureRule` (`nfd.k8s-sigs.io/v1alpha1`) that holds the rules, as YAML, named
    /// `platform-gate-` and the programs (lower-cased, `_` as `-`); `None` where there is no rule.
    pub fn node_feature_rule(&self) -> Option<String> {
        let first = self.rules.first()?;
        let programs = first.programs.join(".").to_ascii_lowercase().replace('_', "-");
        let rules: Vec<Value> = self
            .rules
            .iter()
            .map(|rule| {
                json!({
                    "name": rule.name(),
                    "labels": {rule.label.clone(): "true"},
                    "matchFeatures": rule.match_features(),
                })
            })
            .collect();
        Some(to_yaml(&json!({
            "apiVersion": "nfd.k8s-sigs.io/v1alpha1",
            "kind": "NodeFeatureRule",
            "metadata": {"name": format!("platform-gate-{programs}")},
            "spec": {"rules": rules},
        })))
    }

    /// NFD's image-compatibility spec (`v1alpha1`, as `nfd compat validate-node` reads it) for an
    /// image of the pod's binaries: one compatibility set per rule, tagged `os/arch`, whose one
    /// group rule requires what the rule does. `None` where there is no rule.
    pub fn image_compatibility(&self) -> Option<String> {
        if self.rules.is_empty() {
            return None;
        }
        let sets: Vec<Value> = self
            .rules
            .iter()
            .map(|rule| {
                let tag = format!("{}/{}", rule.platform.os.go_name(), rule.platform.arch.go_name());
                json!({
                    "tag": tag,
                    "description": format!("what the CPU needs for {}", rule.name()),
                    "rules": [{"name": rule.name(), "matchFeatures": rule.match_features()}],
                })
            })
            .collect();
        Some(to_yaml(&json!({"version": "v1alpha1", "compatibilities": sets})))
    }
}

#[cfg(test)]
#[path = "rule_tests.rs"]
mod tests;
