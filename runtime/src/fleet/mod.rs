//! A pod's binaries against a fleet's nodes, for schedulers: [`Pod::placement`] renders where a pod
//! starts as a Kubernetes node affinity, CPU included, and [`Pod::judge`] says what it would do on one
//! node, from the node's labels. The `platform-gate kubernetes` and `nodes` commands print them.
//
// Zone: the fleet: pure policy, proved by `cargo test` (the consistency property in
// `cli/tests/fleet.rs`), and against real runs by `tests/cpu/run.sh` (see CONTRIBUTING.md).

// A pod's binaries against a fleet's nodes: where every program of the pod has a binary for the node's
// platform that starts there without its override variable, its CPU included (Node Feature Discovery's
// labels), rendered as a Kubernetes node affinity; and one node's verdict from its labels. Verdicts are
// `decide`'s and the CPU check's, and the affinity requires, per platform, the labels that prove what
// its binaries assumed (`CpuFeatures::nfd_requirement`), which is the rule that reads a node's labels
// back (`CpuFeatures::from_nfd_labels`): the affinity admits exactly the nodes whose verdict starts.

use crate::{Arch, CpuFeatures, Matrix, NodeLabel, Os, Platform, Policy};

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
///     matrix: Matrix::ETCD,
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
    pub matrix: Matrix<'a>,
    /// Its policy.
    pub policy: Policy<'a>,
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
///     matrix: Matrix::ETCD,
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
///     matrix: Matrix::ETCD,
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
    #[inline]
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
///     matrix: Matrix::ETCD,
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
///     matrix: Matrix::ETCD,
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
///     matrix: Matrix::ETCD,
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
///     matrix: Matrix::ETCD,
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
///     matrix: Matrix::ETCD,
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
///     matrix: Matrix::ETCD,
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

mod pod;
mod render;
#[cfg(test)]
mod tests;
