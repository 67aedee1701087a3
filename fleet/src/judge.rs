// What a pod would do on one node, from the node's labels or NFD's features: each program judged as its binary judges
// itself (the CPU check before std starts, the one in `main`, then the platform check), and the line
// a person reads.

use std::ffi::OsStr;

use platform_gate::manifest::RefusedBy;
use platform_gate::{Arch, CpuCheck, CpuFeatures, Os, Platform, Verdict, decide};

use crate::features::{self, NodeCpuid};
use crate::nfd::{self, NodeLabel};
use crate::pod::{CpuLabels, Node, NodeJudgement, NodeVerdict, Pod, ProgramVerdict};

impl Pod<'_> {
    /// The pod's verdict on `node`, with the variable set to `value` (`None`: unset), the CPU read
    /// from the node's labels as `cpu` says. Each program is judged as its binary judges itself:
    /// the CPU checks, then the platform check.
    ///
    /// ```
    /// use std::ffi::OsStr;
    /// use platform_gate_fleet::{CpuLabels, Node, NodeVerdict, Pod};
    /// # let bytes = include_bytes!("../../runtime/tests/fixtures/etcd.manifest");
    /// # let manifest = platform_gate::manifest::Manifest::parse(bytes, 0)?;
    /// # let mut etcd = platform_gate_fleet::Binary::from(&manifest);
    /// etcd.platform = platform_gate::Platform::new(platform_gate::Arch::S390x, platform_gate::Os::Linux);
    /// let pod = Pod::new(vec![etcd]).unwrap();
    /// let node = Node { arch: "s390x", os: "linux", labels: &[] };
    /// assert_eq!(pod.judge(&node, None, CpuLabels::Nfd).verdict, NodeVerdict::Refuses);
    /// assert_eq!(pod.judge(&node, Some(OsStr::new("s390x")), CpuLabels::Nfd).verdict, NodeVerdict::Warns);
    /// # Ok::<(), platform_gate::manifest::ReadError>(())
    /// ```
    pub fn judge(&self, node: &Node<'_>, value: Option<&OsStr>, cpu: CpuLabels) -> NodeJudgement {
        let cpu = match cpu {
            CpuLabels::Nfd => CpuFrom::Labels,
            CpuLabels::None => CpuFrom::NotJudged,
        };
        self.judge_from(node, value, cpu)
    }

    /// The pod's verdict on `node`, as [`Pod::judge`] gives it, with the CPU read from the node's
    /// NFD features (its `NodeFeature` object's `cpu.cpuid`) instead of its labels. Features are not
    /// filtered as labels are: a feature they do not show, the node lacks.
    ///
    /// ```
    /// use platform_gate::manifest::RefusedBy;
    /// use platform_gate_fleet::features::NodeCpuid;
    /// use platform_gate_fleet::{Node, Pod};
    /// # let bytes = include_bytes!("../../runtime/tests/fixtures/etcd.manifest");
    /// # let manifest = platform_gate::manifest::Manifest::parse(bytes, 0)?;
    /// # let mut etcd = platform_gate_fleet::Binary::from(&manifest);
    /// etcd.before_start = Some(platform_gate::CpuFeatures::x86_64_level(2));
    /// let pod = Pod::new(vec![etcd]).unwrap();
    /// let qemu64 = NodeCpuid::from_flags(["CX16", "SSE3"]);
    /// let judged = pod.judge_by_features(&Node { arch: "amd64", os: "linux", labels: &[] }, &qemu64, None);
    /// assert_eq!(judged.programs[0].missing, ["popcnt", "sse4.1", "sse4.2", "ssse3"]);
    /// assert!(judged.programs[0].why.contains("lacks popcnt"));
    /// # Ok::<(), platform_gate::manifest::ReadError>(())
    /// ```
    pub fn judge_by_features(
        &self,
        node: &Node<'_>,
        cpuid: &NodeCpuid,
        value: Option<&OsStr>,
    ) -> NodeJudgement {
        self.judge_from(node, value, CpuFrom::Features(cpuid))
    }

    fn judge_from(&self, node: &Node<'_>, value: Option<&OsStr>, cpu: CpuFrom<'_>) -> NodeJudgement {
        let programs: Vec<ProgramVerdict> = self
            .programs()
            .into_iter()
            .map(|program| self.judge_program(program, node, value, cpu))
            .collect();
        let verdict = programs.iter().map(|program| program.verdict).max().unwrap_or(NodeVerdict::NoBinary);
        NodeJudgement { verdict, programs }
    }

    fn judge_program(
        &self,
        program: &str,
        node: &Node<'_>,
        value: Option<&OsStr>,
        cpu: CpuFrom<'_>,
    ) -> ProgramVerdict {
        let verdict = |verdict, refused_by, missing, why| ProgramVerdict {
            program: program.to_string(),
            verdict,
            refused_by,
            missing,
            why,
        };
        let platform = go_platform(node.arch, node.os);
        let Some(binary) = platform.and_then(|platform| self.binary(program, platform)) else {
            let why = format!("no binary of {program} for {} {}", node.arch, node.os);
            return verdict(NodeVerdict::NoBinary, None, Vec::new(), why);
        };
        let platform = binary.platform;
        if let Some(assumed) = binary.cpu().filter(|assumed| cpu != CpuFrom::NotJudged && !assumed.is_empty())
        {
            let present = match cpu {
                CpuFrom::Features(cpuid) => features::present(platform.arch, cpuid),
                _ if !nfd::has_cpu_labels(node.labels.iter().copied()) => {
                    let names: Vec<&str> = assumed.names().collect();
                    let why = format!(
                        "{program} assumes {}, and the node has no NFD labels to prove it",
                        names.join(", ")
                    );
                    return verdict(NodeVerdict::CpuUnknown, None, names, why);
                }
                _ => nfd::proved(platform.arch, node.labels.iter().copied()),
            };
            let present = present.expect("a table for the arch of a binary that assumed features");
            // The binary's two checks, in its order: a refusal names the first that fails.
            let checks =
                [(binary.before_start, RefusedBy::CpuBeforeStart), (binary.in_main, RefusedBy::CpuInMain)];
            let refused_by = checks.into_iter().find_map(|(checked, by)| {
                let checked = checked.filter(|checked| !checked.is_empty())?;
                (!CpuCheck::new(platform.arch, checked, present).passes()).then_some(by)
            });
            if let Some(by) = refused_by {
                let missing = CpuCheck::new(platform.arch, assumed, present).missing();
                let names: Vec<&str> = missing.names().collect();
                let why = match cpu {
                    CpuFrom::Features(_) => format!(
                        "{program} refuses this CPU: NFD's features show it lacks {}",
                        names.join(", ")
                    ),
                    _ => format!(
                        "{program} refuses this CPU unless it has {}, which the node's labels do not show{}",
                        names.join(", "),
                        unshown(missing, node.labels)
                    ),
                };
                return verdict(NodeVerdict::Refuses, Some(by), names, why);
            }
        }
        let decision = decide(&binary.matrix, binary.policy, platform, binary.variable, value);
        let why = decision.message(program).map_or(String::new(), |message| message.headline().to_string());
        match decision {
            Verdict::Supported => verdict(NodeVerdict::Starts, None, Vec::new(), why),
            Verdict::Refused { .. } => {
                verdict(NodeVerdict::Refuses, Some(RefusedBy::Platform), Vec::new(), why)
            }
            _ => verdict(NodeVerdict::Warns, None, Vec::new(), why),
        }
    }
}

/// Where a verdict reads the node's CPU from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum CpuFrom<'a> {
    /// NFD's labels, filtered by its configuration: what they do not show is not proved.
    Labels,
    /// NFD's features, unfiltered: what they do not show, the node lacks.
    Features(&'a NodeCpuid),
    /// Nowhere: the CPU is not judged.
    NotJudged,
}

/// The labels that would prove `missing` and that the node does not carry, as ` (no A, B)`; empty
/// where it carries them all (a feature NFD publishes no label for).
fn unshown(missing: CpuFeatures, labels: &[(&str, &str)]) -> String {
    let carried =
        |label: &NodeLabel| labels.iter().any(|(key, value)| *key == label.key && label.accepts(value));
    let requirement = nfd::requirement(missing);
    let unshown: Vec<&str> = requirement
        .labels
        .iter()
        .filter(|label| !carried(label))
        .map(|label| label.key.trim_start_matches(nfd::CPUID_LABEL))
        .collect();
    if unshown.is_empty() { String::new() } else { format!(" (no {})", unshown.join(", ")) }
}

/// The platform `arch` and `os` name in Go's spelling, exactly, as Kubernetes labels them.
fn go_platform(arch: &str, os: &str) -> Option<Platform> {
    Some(Platform::new(Arch::from_go_name(arch)?, Os::from_go_name(os)?))
}

impl NodeJudgement {
    /// The line a person reads for the node: its name (padded to `width`), its platform, the
    /// verdict, and why, program by program.
    ///
    /// ```
    /// use platform_gate_fleet::{CpuLabels, Node, Pod};
    /// # let bytes = include_bytes!("../../runtime/tests/fixtures/etcd.manifest");
    /// # let manifest = platform_gate::manifest::Manifest::parse(bytes, 0)?;
    /// # let mut etcd = platform_gate_fleet::Binary::from(&manifest);
    /// etcd.before_start = Some(platform_gate::CpuFeatures::x86_64_level(3));
    /// let pod = Pod::new(vec![etcd]).unwrap();
    /// let node = Node { arch: "amd64", os: "linux", labels: &[] };
    /// let judged = pod.judge(&node, None, CpuLabels::Nfd);
    /// assert!(judged.line("edge-1", &node, 6).starts_with("edge-1  linux/amd64   cpu-unknown: etcd assumes"));
    /// # Ok::<(), platform_gate::manifest::ReadError>(())
    /// ```
    pub fn line(&self, name: &str, node: &Node<'_>, width: usize) -> String {
        let platform = format!("{}/{}", node.os, node.arch);
        let mut line = format!("{name:width$}  {platform:13} {}", self.verdict.name());
        let why: Vec<&str> =
            self.programs.iter().map(|program| program.why.as_str()).filter(|why| !why.is_empty()).collect();
        if !why.is_empty() {
            line.push_str(": ");
            line.push_str(&why.join("; "));
        }
        line.trim_end().to_string()
    }
}
