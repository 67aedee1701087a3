//! A pod's binaries against a fleet's nodes, for schedulers: [`Pod::placement`] renders where a pod
//! starts as a Kubernetes node affinity, CPU included, and [`Pod::judge`] says what it would do on one
//! node, from the node's labels. The `platform-gate kubernetes` and `nodes` commands print them.

// A pod's binaries against a fleet's nodes: where every program of the pod has a binary for the node's
// platform that starts there without its override variable, its CPU included (Node Feature Discovery's
// labels), rendered as a Kubernetes node affinity; and one node's verdict from its labels. Verdicts are
// `decide`'s and the CPU check's, and the affinity requires, per platform, the labels that prove what
// its binaries assumed (`CpuFeatures::nfd_requirement`), which is the rule that reads a node's labels
// back (`CpuFeatures::from_nfd_labels`): the affinity admits exactly the nodes whose verdict starts.

use std::ffi::OsStr;

use crate::{
    Arch, CpuCheck, CpuFeatures, Matrix, NodeLabel, Os, Platform, Policy, Verdict, decide, has_nfd_cpu_labels,
};

/// One binary of a pod, as its manifest declares it (`platform-gate-cli`'s `Manifest::binary`).
///
/// ```
/// use platform_gate::fleet::{Binary, CpuLabels, Node, NodeVerdict, Pod};
/// use platform_gate::{Arch, CpuFeatures, Matrix, Os, Platform, Policy};
///
/// let etcd = Binary {
///     program: "etcd",
///     variable: "ETCD_UNSUPPORTED_ARCH",
///     platform: Platform::new(Arch::X86_64, Os::Linux),
///     matrix: &Matrix::ETCD,
///     policy: Policy::DEFAULT,
///     cpu: Some(CpuFeatures::x86_64_level(3)),
/// };
/// let pod = Pod::new(vec![etcd]).unwrap();
/// assert_eq!(pod.programs(), ["etcd"]);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Binary<'a> {
    /// Its program's name; a program's binaries for several platforms share it.
    pub program: &'a str,
    /// Its override variable.
    pub variable: &'a str,
    /// The platform it was built for.
    pub platform: Platform,
    /// Its support matrix.
    pub matrix: &'a Matrix,
    /// Its policy.
    pub policy: Policy,
    /// What it assumed of the CPU, which its gate checks; `None` where its architecture has no
    /// feature table.
    pub cpu: Option<CpuFeatures>,
}

/// How the nodes tell their CPU.
///
/// ```
/// use platform_gate::fleet::{Binary, CpuLabels, Node, NodeVerdict, Pod};
/// use platform_gate::{Arch, CpuFeatures, Matrix, Os, Platform, Policy};
///
/// let etcd = Binary {
///     program: "etcd",
///     variable: "ETCD_UNSUPPORTED_ARCH",
///     platform: Platform::new(Arch::X86_64, Os::Linux),
///     matrix: &Matrix::ETCD,
///     policy: Policy::DEFAULT,
///     cpu: Some(CpuFeatures::x86_64_level(3)),
/// };
/// let pod = Pod::new(vec![etcd]).unwrap();
/// let bare = Node { arch: "amd64", os: "linux", labels: &[] };
/// assert_eq!(pod.judge(&bare, None, CpuLabels::Nfd).verdict, NodeVerdict::CpuUnknown);
/// assert_eq!(pod.judge(&bare, None, CpuLabels::None).verdict, NodeVerdict::Starts);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CpuLabels {
    /// Node Feature Discovery's labels (`feature.node.kubernetes.io/cpu-cpuid.*`).
    Nfd,
    /// None: the CPU is not judged.
    None,
}

/// The binaries of one pod: one or more programs, each for one or more platforms.
///
/// ```
/// use platform_gate::fleet::{Binary, CpuLabels, Node, NodeVerdict, Pod};
/// use platform_gate::{Arch, CpuFeatures, Matrix, Os, Platform, Policy};
///
/// let etcd = Binary {
///     program: "etcd",
///     variable: "ETCD_UNSUPPORTED_ARCH",
///     platform: Platform::new(Arch::X86_64, Os::Linux),
///     matrix: &Matrix::ETCD,
///     policy: Policy::DEFAULT,
///     cpu: Some(CpuFeatures::x86_64_level(3)),
/// };
/// let pod = Pod::new(vec![etcd]).unwrap();
/// let affinity = pod.placement(CpuLabels::Nfd, false).kubernetes_node_affinity().unwrap();
/// assert!(affinity.contains("- key: feature.node.kubernetes.io/cpu-cpuid.X86_64_V3\n"));
/// let v3 = [
///     ("feature.node.kubernetes.io/cpu-cpuid.X86_64_V2", "true"),
///     ("feature.node.kubernetes.io/cpu-cpuid.X86_64_V3", "true"),
/// ];
/// let node = Node { arch: "amd64", os: "linux", labels: &v3 };
/// assert_eq!(pod.judge(&node, None, CpuLabels::Nfd).verdict, NodeVerdict::Starts);
/// ```
#[derive(Clone, Debug)]
pub struct Pod<'a> {
    binaries: Vec<Binary<'a>>,
}

/// Why binaries make no pod.
///
/// ```
/// use platform_gate::fleet::{Pod, PodError};
///
/// assert_eq!(Pod::new(Vec::new()).unwrap_err(), PodError::Empty);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PodError {
    /// No binaries.
    Empty,
    /// Two binaries of one program for one platform: a node runs one of them.
    TwoBinaries {
        /// The program.
        program: String,
        /// The platform.
        platform: Platform,
    },
}

impl core::fmt::Display for PodError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            PodError::Empty => f.write_str("no binaries"),
            PodError::TwoBinaries { program, platform } => {
                write!(f, "two binaries of {program} for {platform}: a node runs one, so give one")
            }
        }
    }
}

impl std::error::Error for PodError {}

/// One platform where a pod is placed, with the labels its nodes must carry.
///
/// ```
/// use platform_gate::fleet::{Binary, CpuLabels, Node, NodeVerdict, Pod};
/// use platform_gate::{Arch, CpuFeatures, Matrix, Os, Platform, Policy};
///
/// let etcd = Binary {
///     program: "etcd",
///     variable: "ETCD_UNSUPPORTED_ARCH",
///     platform: Platform::new(Arch::X86_64, Os::Linux),
///     matrix: &Matrix::ETCD,
///     policy: Policy::DEFAULT,
///     cpu: Some(CpuFeatures::x86_64_level(3)),
/// };
/// let pod = Pod::new(vec![etcd]).unwrap();
/// let term = &pod.placement(CpuLabels::Nfd, false).terms[0];
/// assert_eq!((term.arch, term.os, term.labels.len()), (Arch::X86_64, Some(Os::Linux), 2));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Term {
    /// The architecture, `kubernetes.io/arch`.
    pub arch: Arch,
    /// The OS, `kubernetes.io/os`; `None` for an architecture the matrices admit on any OS, with
    /// no binary given.
    pub os: Option<Os>,
    /// The CPU labels, all required.
    pub labels: Vec<NodeLabel>,
}

/// Where a pod goes: one term per platform (Kubernetes ORs terms and ANDs a term's expressions),
/// and what an operator should know of it.
///
/// ```
/// use platform_gate::fleet::{Binary, CpuLabels, Node, NodeVerdict, Pod};
/// use platform_gate::{Arch, CpuFeatures, Matrix, Os, Platform, Policy};
///
/// let etcd = Binary {
///     program: "etcd",
///     variable: "ETCD_UNSUPPORTED_ARCH",
///     platform: Platform::new(Arch::X86_64, Os::Linux),
///     matrix: &Matrix::ETCD,
///     policy: Policy::DEFAULT,
///     cpu: Some(CpuFeatures::x86_64_level(3)),
/// };
/// let pod = Pod::new(vec![etcd]).unwrap();
/// // etcd's matrix also admits ppc64le, for which no binary was given.
/// let placement = pod.placement(CpuLabels::Nfd, true);
/// assert_eq!(placement.terms.len(), 2);
/// assert!(placement.notes[0].starts_with("ppc64le: admitted by the matrices"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Placement {
    /// The platforms, in the order of the binaries.
    pub terms: Vec<Term>,
    /// One line each: what is not judged, what keeps a platform out, which labels NFD hides.
    pub notes: Vec<String>,
}

/// A node, as `kubectl get nodes -o json` describes it.
///
/// ```
/// use platform_gate::fleet::{Binary, CpuLabels, Node, NodeVerdict, Pod};
/// use platform_gate::{Arch, CpuFeatures, Matrix, Os, Platform, Policy};
///
/// let etcd = Binary {
///     program: "etcd",
///     variable: "ETCD_UNSUPPORTED_ARCH",
///     platform: Platform::new(Arch::X86_64, Os::Linux),
///     matrix: &Matrix::ETCD,
///     policy: Policy::DEFAULT,
///     cpu: Some(CpuFeatures::x86_64_level(3)),
/// };
/// let pod = Pod::new(vec![etcd]).unwrap();
/// let windows = Node { arch: "amd64", os: "windows", labels: &[] };
/// assert_eq!(pod.judge(&windows, None, CpuLabels::Nfd).verdict, NodeVerdict::NoBinary);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Node<'a> {
    /// Its architecture in Go's spelling (`amd64`), as `kubernetes.io/arch` says.
    pub arch: &'a str,
    /// Its OS in Go's spelling (`linux`), as `kubernetes.io/os` says.
    pub os: &'a str,
    /// Its labels.
    pub labels: &'a [(&'a str, &'a str)],
}

/// What would happen on a node, from best to worst: a pod's verdict is its worst program's.
///
/// ```
/// use platform_gate::fleet::NodeVerdict;
///
/// assert!(NodeVerdict::Warns.starts() && !NodeVerdict::CpuUnknown.starts());
/// assert_eq!(NodeVerdict::Starts.max(NodeVerdict::Refuses).name(), "refuses");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NodeVerdict {
    /// It starts silently.
    Starts,
    /// It starts with a warning: a packager vouches for it, or the variable overrides the matrix.
    Warns,
    /// It assumes CPU features, and the node has no NFD labels to prove them.
    CpuUnknown,
    /// It refuses: the matrix, or the CPU.
    Refuses,
    /// No binary of the program is for the node's platform.
    NoBinary,
}

impl NodeVerdict {
    /// Its name in `platform-gate nodes --json`: `starts`, `warns`, `cpu-unknown`, `refuses`,
    /// `no-binary`.
    #[inline]
    pub const fn name(self) -> &'static str {
        match self {
            NodeVerdict::Starts => "starts",
            NodeVerdict::Warns => "warns",
            NodeVerdict::CpuUnknown => "cpu-unknown",
            NodeVerdict::Refuses => "refuses",
            NodeVerdict::NoBinary => "no-binary",
        }
    }

    /// Whether the program (or the pod) starts there.
    #[inline]
    pub const fn starts(self) -> bool {
        matches!(self, NodeVerdict::Starts | NodeVerdict::Warns)
    }
}

/// What refuses on a node.
///
/// ```
/// use platform_gate::fleet::{Binary, CpuLabels, Node, NodeVerdict, Pod};
/// use platform_gate::{Arch, CpuFeatures, Matrix, Os, Platform, Policy};
///
/// let etcd = Binary {
///     program: "etcd",
///     variable: "ETCD_UNSUPPORTED_ARCH",
///     platform: Platform::new(Arch::X86_64, Os::Linux),
///     matrix: &Matrix::ETCD,
///     policy: Policy::DEFAULT,
///     cpu: Some(CpuFeatures::x86_64_level(3)),
/// };
/// let pod = Pod::new(vec![etcd]).unwrap();
/// use platform_gate::fleet::RefusedBy;
/// let s390x = Binary { platform: Platform::new(Arch::S390x, Os::Linux), cpu: None, ..etcd };
/// let pod = Pod::new(vec![s390x]).unwrap();
/// let judged = pod.judge(&Node { arch: "s390x", os: "linux", labels: &[] }, None, CpuLabels::Nfd);
/// assert_eq!(judged.programs[0].refused_by, Some(RefusedBy::Matrix));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefusedBy {
    /// The support matrix and policy, with the variable as given.
    Matrix,
    /// The CPU check: the node's CPU lacks what the binary assumed.
    Cpu,
}

/// One program's verdict on a node.
///
/// ```
/// use platform_gate::fleet::{Binary, CpuLabels, Node, NodeVerdict, Pod};
/// use platform_gate::{Arch, CpuFeatures, Matrix, Os, Platform, Policy};
///
/// let etcd = Binary {
///     program: "etcd",
///     variable: "ETCD_UNSUPPORTED_ARCH",
///     platform: Platform::new(Arch::X86_64, Os::Linux),
///     matrix: &Matrix::ETCD,
///     policy: Policy::DEFAULT,
///     cpu: Some(CpuFeatures::x86_64_level(3)),
/// };
/// let pod = Pod::new(vec![etcd]).unwrap();
/// let v2 = [("feature.node.kubernetes.io/cpu-cpuid.X86_64_V2", "true")];
/// let judged = pod.judge(&Node { arch: "amd64", os: "linux", labels: &v2 }, None, CpuLabels::Nfd);
/// assert_eq!(judged.programs[0].missing, ["avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "lzcnt", "movbe", "xsave"]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgramVerdict {
    /// The program.
    pub program: String,
    /// Its verdict.
    pub verdict: NodeVerdict,
    /// What refuses, where it refuses.
    pub refused_by: Option<RefusedBy>,
    /// The CPU features it assumed that the node's labels do not prove.
    pub missing: Vec<&'static str>,
    /// Why, in a line (empty where it starts silently).
    pub why: String,
}

/// A pod's verdict on a node: the worst of its programs'.
///
/// ```
/// use platform_gate::fleet::{Binary, CpuLabels, Node, NodeVerdict, Pod};
/// use platform_gate::{Arch, CpuFeatures, Matrix, Os, Platform, Policy};
///
/// let etcd = Binary {
///     program: "etcd",
///     variable: "ETCD_UNSUPPORTED_ARCH",
///     platform: Platform::new(Arch::X86_64, Os::Linux),
///     matrix: &Matrix::ETCD,
///     policy: Policy::DEFAULT,
///     cpu: Some(CpuFeatures::x86_64_level(3)),
/// };
/// let pod = Pod::new(vec![etcd]).unwrap();
/// let judged = pod.judge(&Node { arch: "arm64", os: "linux", labels: &[] }, None, CpuLabels::Nfd);
/// assert_eq!((judged.verdict, judged.programs.len()), (NodeVerdict::NoBinary, 1));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeJudgement {
    /// The worst of the programs' verdicts.
    pub verdict: NodeVerdict,
    /// Each program's, in the pod's order.
    pub programs: Vec<ProgramVerdict>,
}

impl<'a> Pod<'a> {
    /// The pod of `binaries`; an error where there are none, or two of one program for one
    /// platform.
    pub fn new(binaries: Vec<Binary<'a>>) -> Result<Pod<'a>, PodError> {
        if binaries.is_empty() {
            return Err(PodError::Empty);
        }
        for (i, binary) in binaries.iter().enumerate() {
            let twin = binaries[..i]
                .iter()
                .any(|other| other.program == binary.program && other.platform == binary.platform);
            if twin {
                return Err(PodError::TwoBinaries {
                    program: binary.program.to_string(),
                    platform: binary.platform,
                });
            }
        }
        Ok(Pod { binaries })
    }

    /// The programs, each once, in the order of their first binary.
    pub fn programs(&self) -> Vec<&'a str> {
        let mut programs: Vec<&str> = Vec::new();
        for binary in &self.binaries {
            if !programs.contains(&binary.program) {
                programs.push(binary.program);
            }
        }
        programs
    }

    fn binary(&self, program: &str, platform: Platform) -> Option<&Binary<'a>> {
        self.binaries.iter().find(|binary| binary.program == program && binary.platform == platform)
    }

    /// Where the pod starts: the platforms for which every program has a binary that starts there
    /// without its variable, each with the CPU labels that prove what its binaries assumed
    /// (`cpu`). With `matrix_only_too`, also the architectures that all programs' matrices admit
    /// and no binary is for, whose CPU is not judged.
    pub fn placement(&self, cpu: CpuLabels, matrix_only_too: bool) -> Placement {
        let mut placement = Placement::default();
        let programs = self.programs();
        if cpu == CpuLabels::None {
            placement.notes.push(
                "the CPU is not judged (--cpu-labels none): a raised build may refuse where it is placed"
                    .into(),
            );
        }
        let mut platforms: Vec<Platform> = Vec::new();
        for binary in &self.binaries {
            if !platforms.contains(&binary.platform) {
                platforms.push(binary.platform);
            }
        }
        for platform in platforms {
            let mut labels: Vec<NodeLabel> = Vec::new();
            let mut admitted = true;
            for program in &programs {
                let Some(binary) = self.binary(program, platform) else {
                    placement
                        .notes
                        .push(format!("{platform}: no binary of {program}, so no node of it is admitted"));
                    admitted = false;
                    continue;
                };
                let verdict = decide(binary.matrix, binary.policy, platform, binary.variable, None);
                if let Verdict::Refused { .. } = verdict {
                    placement.notes.push(format!("{platform}: {program} refuses there without its variable"));
                    admitted = false;
                    continue;
                }
                let Some(assumed) = binary.cpu.filter(|_| cpu == CpuLabels::Nfd) else {
                    continue;
                };
                let requirement = assumed.nfd_requirement();
                for (feature, label) in &requirement.hidden {
                    placement.notes.push(format!(
                        "{platform}: {program} needs {feature}, proved by feature.node.kubernetes.io/cpu-cpuid.{label}, which \
                         NFD's default configuration hides: list {label} in its sources.cpu.cpuid.attributeWhitelist"
                    ));
                }
                if !requirement.unlabelled.is_empty() {
                    placement.notes.push(format!(
                        "{platform}: {program} needs {}, for which NFD publishes no label, so no node of it is admitted",
                        requirement.unlabelled.join(", ")
                    ));
                    admitted = false;
                }
                for label in requirement.labels {
                    if !labels.contains(&label) {
                        labels.push(label);
                    }
                }
            }
            if admitted {
                placement.terms.push(Term { arch: platform.arch, os: Some(platform.os), labels });
            }
        }
        if matrix_only_too {
            self.add_matrix_only(&mut placement);
        }
        placement
    }

    /// The architectures all programs' matrices admit without the variable, for which no binary
    /// was given: as [`Matrix::schedule`] gives them.
    fn add_matrix_only(&self, placement: &mut Placement) {
        let schedules = self.programs().into_iter().map(|program| {
            let binary = self.binaries.iter().find(|binary| binary.program == program).expect("a binary");
            binary.matrix.schedule(binary.policy)
        });
        let Some(schedule) = schedules.reduce(|all, next| all.intersection(&next)) else {
            return;
        };
        for (arch, os) in schedule.platforms() {
            if self.binaries.iter().any(|binary| binary.platform.arch == arch) {
                continue;
            }
            placement.terms.push(Term { arch, os, labels: Vec::new() });
            let on = os.map_or(String::new(), |os| format!(" {os}"));
            placement.notes.push(format!(
                "{arch}{on}: admitted by the matrices (--matrix), with no binary given: its CPU is not judged"
            ));
        }
    }

    /// The pod's verdict on `node`, with the variable set to `value` (`None`: unset), the CPU read
    /// from the node's labels as `cpu` says. Each program is judged as its binary judges itself:
    /// the CPU check, then the platform check.
    pub fn judge(&self, node: &Node<'_>, value: Option<&OsStr>, cpu: CpuLabels) -> NodeJudgement {
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
        cpu: CpuLabels,
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
        if let Some(assumed) = binary.cpu.filter(|assumed| cpu == CpuLabels::Nfd && !assumed.is_empty()) {
            if !has_nfd_cpu_labels(node.labels.iter().copied()) {
                let names: Vec<&str> = assumed.names().collect();
                let why = format!(
                    "{program} assumes {}, and the node has no NFD labels to prove it",
                    names.join(", ")
                );
                return verdict(NodeVerdict::CpuUnknown, None, names, why);
            }
            let present = CpuFeatures::from_nfd_labels(platform.arch, node.labels.iter().copied())
                .expect("a table for the arch");
            let check = CpuCheck::new(platform.arch, assumed, present);
            if !check.passes() {
                let missing: Vec<&str> = check.missing().names().collect();
                let labels: Vec<String> = check
                    .missing()
                    .nfd_requirement()
                    .labels
                    .iter()
                    .map(|label| label.key.trim_start_matches(crate::NFD_CPUID_LABEL).to_string())
                    .collect();
                let why = format!(
                    "{program} refuses this CPU: it lacks {} (not proved by NFD's labels{})",
                    missing.join(", "),
                    if labels.is_empty() { String::new() } else { format!(": {}", labels.join(", ")) }
                );
                return verdict(NodeVerdict::Refuses, Some(RefusedBy::Cpu), missing, why);
            }
        }
        let decision = decide(binary.matrix, binary.policy, platform, binary.variable, value);
        let line = decision.message(program).map(|message| {
            let text = message.to_string();
            let first = text.lines().next().unwrap_or_default().to_string();
            first
                .strip_prefix("error: ")
                .or_else(|| first.strip_prefix("warning: "))
                .unwrap_or(&first)
                .to_string()
        });
        match decision {
            Verdict::Supported => verdict(NodeVerdict::Starts, None, Vec::new(), String::new()),
            Verdict::Refused { .. } => {
                verdict(NodeVerdict::Refuses, Some(RefusedBy::Matrix), Vec::new(), line.unwrap_or_default())
            }
            _ => verdict(NodeVerdict::Warns, None, Vec::new(), line.unwrap_or_default()),
        }
    }
}

impl NodeJudgement {
    /// The line `platform-gate nodes` prints for the node: its name (padded to `width`), its
    /// platform, the verdict, and why, program by program.
    ///
    /// ```
    /// use platform_gate::fleet::{Binary, CpuLabels, Node, Pod};
    /// use platform_gate::{Arch, CpuFeatures, Matrix, Os, Platform, Policy};
    ///
    /// let etcd = Binary {
    ///     program: "etcd",
    ///     variable: "ETCD_UNSUPPORTED_ARCH",
    ///     platform: Platform::new(Arch::X86_64, Os::Linux),
    ///     matrix: &Matrix::ETCD,
    ///     policy: Policy::DEFAULT,
    ///     cpu: Some(CpuFeatures::x86_64_level(3)),
    /// };
    /// let pod = Pod::new(vec![etcd]).unwrap();
    /// let node = Node { arch: "amd64", os: "linux", labels: &[] };
    /// let judged = pod.judge(&node, None, CpuLabels::Nfd);
    /// assert!(judged.line("edge-1", &node, 6).starts_with("edge-1  linux/amd64   cpu-unknown: etcd assumes"));
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

/// The platform `arch` and `os` name in Go's spelling, exactly, as Kubernetes labels them.
fn go_platform(arch: &str, os: &str) -> Option<Platform> {
    let arch = Arch::from_name(arch).filter(|named| named.go_name() == arch)?;
    let os = Os::from_name(os).filter(|named| named.go_name() == os)?;
    Some(Platform::new(arch, os))
}

impl Placement {
    /// A Kubernetes `affinity` that admits exactly the placement's nodes: per term,
    /// `kubernetes.io/os`, `kubernetes.io/arch` and the CPU labels. `None` where there is no term.
    pub fn kubernetes_node_affinity(&self) -> Option<String> {
        if self.terms.is_empty() {
            return None;
        }
        let mut yaml = String::from(
            "affinity:\n  nodeAffinity:\n    requiredDuringSchedulingIgnoredDuringExecution:\n      nodeSelectorTerms:\n",
        );
        for term in &self.terms {
            yaml.push_str("        - matchExpressions:\n");
            if let Some(os) = term.os {
                yaml.push_str(&crate::schedulers::expression("kubernetes.io/os", &[os.go_name()]));
            }
            yaml.push_str(&crate::schedulers::expression("kubernetes.io/arch", &[term.arch.go_name()]));
            for label in &term.labels {
                yaml.push_str(&label.expression(12));
            }
        }
        Some(yaml)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix;

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
            matrix: &KVD,
            policy: Policy::DEFAULT,
            cpu: CpuFeatures::from_names(arch, cpu),
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
                "- key: kubernetes.io/os\n              operator: In\n              values: [linux]\n"
            ),
            "{yaml}"
        );
        assert!(
            yaml.contains(
                "cpu-cpuid.X86_64_V3\n              operator: In\n              values: [\"true\"]\n"
            ),
            "{yaml}"
        );
        let judge = |node: Node<'_>| pod.judge(&node, None, CpuLabels::Nfd).verdict;
        assert_eq!(judge(node("amd64", "linux", V3)), NodeVerdict::Starts);
        assert_eq!(judge(node("amd64", "linux", V2)), NodeVerdict::Refuses);
        assert_eq!(judge(node("amd64", "linux", &[])), NodeVerdict::CpuUnknown);
        assert_eq!(judge(node("amd64", "windows", V3)), NodeVerdict::NoBinary);
        assert_eq!(judge(node("arm64", "linux", &[])), NodeVerdict::NoBinary);
        // Not judged: the platform alone.
        assert_eq!(
            pod.judge(&node("amd64", "linux", &[]), None, CpuLabels::None).verdict,
            NodeVerdict::Starts
        );
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
        assert_eq!(
            archs,
            [Arch::X86_64, Arch::Aarch64],
            "s390x is experimental: refused without the variable"
        );
        assert_eq!(placement.terms[1].labels[0].key, "feature.node.kubernetes.io/cpu-cpuid.ATOMICS");
        let s390x = pod.judge(&node("s390x", "linux", &[]), None, CpuLabels::Nfd);
        assert_eq!(
            (s390x.verdict, s390x.programs[0].refused_by),
            (NodeVerdict::Refuses, Some(RefusedBy::Matrix))
        );
        let overridden = pod.judge(&node("s390x", "linux", &[]), Some(OsStr::new("s390x")), CpuLabels::Nfd);
        assert_eq!(overridden.verdict, NodeVerdict::Warns);
        // A program without a binary for a platform keeps it out.
        let partial =
            Pod::new(vec![binary(Arch::X86_64, &[]), backup(Arch::Aarch64), binary(Arch::Aarch64, &[])])
                .unwrap();
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
        let terms: Vec<(Arch, Option<Os>)> =
            placement.terms.iter().map(|term| (term.arch, term.os)).collect();
        assert_eq!(terms, [(Arch::X86_64, Some(Os::Linux)), (Arch::Aarch64, None)]);
        assert!(placement.notes.iter().any(|note| note.starts_with("arm64: admitted by the matrices")));
    }
}
