// A pod's binaries and what is said of them: the types of a placement and of a verdict on a node.
// `placement.rs` computes where a pod goes, `judge.rs` what it does on one node.

use core::fmt;

use platform_gate::manifest::{Manifest, RefusedBy};
use platform_gate::{Arch, CpuFeatures, Matrix, Os, Platform, Policy};

use crate::nfd::NodeLabel;
use crate::note::Note;

/// One binary of a pod, as its manifest declares it: `Binary::from(&manifest)`.
///
/// ```
/// use platform_gate::{Arch, CpuFeatures, Matrix, Os, Platform, Policy};
/// use platform_gate_fleet::{Binary, Pod};
///
/// let etcd = Binary {
///     program: "etcd",
///     variable: "ETCD_UNSUPPORTED_ARCH",
///     platform: Platform::new(Arch::X86_64, Os::Linux),
///     matrix: Matrix::ETCD,
///     policy: Policy::DEFAULT,
///     before_start: Some(CpuFeatures::x86_64_level(3)),
///     in_main: CpuFeatures::none(Arch::X86_64),
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
    /// What its gate checks of the CPU before std starts; `None` where its architecture has no
    /// feature table.
    pub before_start: Option<CpuFeatures>,
    /// What its gate checks of the CPU at the top of `main`; `None` likewise.
    pub in_main: Option<CpuFeatures>,
}

impl Binary<'_> {
    /// Every CPU feature it assumed; `None` where its architecture has no feature table.
    ///
    /// ```
    /// # let bytes = include_bytes!("../../runtime/tests/fixtures/etcd.manifest");
    /// let manifest = platform_gate::manifest::Manifest::parse(bytes, 0)?;
    /// let etcd = platform_gate_fleet::Binary::from(&manifest);
    /// assert!(etcd.cpu().is_some_and(|features| features.is_empty()), "a baseline build");
    /// # Ok::<(), platform_gate::manifest::ReadError>(())
    /// ```
    pub fn cpu(&self) -> Option<CpuFeatures> {
        Some(self.before_start?.with(self.in_main?))
    }
}

impl<'a, 'm: 'a> From<&'a Manifest<'m>> for Binary<'a> {
    /// The binary as its manifest declares it.
    fn from(manifest: &'a Manifest<'m>) -> Binary<'a> {
        Binary {
            program: manifest.program,
            variable: manifest.variable,
            platform: manifest.platform,
            matrix: manifest.matrix(),
            policy: manifest.policy,
            before_start: manifest.cpu.before_start,
            in_main: manifest.cpu.in_main,
        }
    }
}

/// How the nodes tell their CPU.
///
/// ```
/// use platform_gate_fleet::{CpuLabels, Node, NodeVerdict, Pod};
/// # let bytes = include_bytes!("../../runtime/tests/fixtures/etcd.manifest");
/// # let manifest = platform_gate::manifest::Manifest::parse(bytes, 0)?;
/// # let mut etcd = platform_gate_fleet::Binary::from(&manifest);
/// etcd.before_start = Some(platform_gate::CpuFeatures::x86_64_level(3));
/// let pod = Pod::new(vec![etcd]).unwrap();
/// let bare = Node { arch: "amd64", os: "linux", labels: &[] };
/// assert_eq!(pod.judge(&bare, None, CpuLabels::Nfd).verdict, NodeVerdict::CpuUnknown);
/// assert_eq!(pod.judge(&bare, None, CpuLabels::None).verdict, NodeVerdict::Starts);
/// # Ok::<(), platform_gate::manifest::ReadError>(())
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
/// use platform_gate_fleet::{CpuLabels, Node, NodeVerdict, Pod};
/// # let bytes = include_bytes!("../../runtime/tests/fixtures/etcd.manifest");
/// # let manifest = platform_gate::manifest::Manifest::parse(bytes, 0)?;
/// # let mut etcd = platform_gate_fleet::Binary::from(&manifest);
/// etcd.before_start = Some(platform_gate::CpuFeatures::x86_64_level(3));
/// let pod = Pod::new(vec![etcd]).unwrap();
/// let affinity = pod.placement(CpuLabels::Nfd, false).kubernetes_node_affinity().unwrap();
/// assert!(affinity.contains("- key: feature.node.kubernetes.io/cpu-cpuid.X86_64_V3\n"));
/// let v3 = [
///     ("feature.node.kubernetes.io/cpu-cpuid.X86_64_V2", "true"),
///     ("feature.node.kubernetes.io/cpu-cpuid.X86_64_V3", "true"),
/// ];
/// let node = Node { arch: "amd64", os: "linux", labels: &v3 };
/// assert_eq!(pod.judge(&node, None, CpuLabels::Nfd).verdict, NodeVerdict::Starts);
/// # Ok::<(), platform_gate::manifest::ReadError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Pod<'a> {
    pub(crate) binaries: Vec<Binary<'a>>,
}

/// Why binaries make no pod.
///
/// ```
/// use platform_gate_fleet::{Pod, PodError};
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

impl fmt::Display for PodError {
    #[inline]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
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
/// use platform_gate::{Arch, Os};
/// use platform_gate_fleet::{CpuLabels, Pod};
/// # let bytes = include_bytes!("../../runtime/tests/fixtures/etcd.manifest");
/// # let manifest = platform_gate::manifest::Manifest::parse(bytes, 0)?;
/// # let mut etcd = platform_gate_fleet::Binary::from(&manifest);
/// etcd.before_start = Some(platform_gate::CpuFeatures::x86_64_level(3));
/// let pod = Pod::new(vec![etcd]).unwrap();
/// let term = &pod.placement(CpuLabels::Nfd, false).terms[0];
/// assert_eq!((term.arch, term.os, term.labels.len()), (Arch::X86_64, Some(Os::Linux), 2));
/// # Ok::<(), platform_gate::manifest::ReadError>(())
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
/// use platform_gate_fleet::{CpuLabels, Note, Pod};
/// # let bytes = include_bytes!("../../runtime/tests/fixtures/etcd.manifest");
/// # let manifest = platform_gate::manifest::Manifest::parse(bytes, 0)?;
/// # let etcd = platform_gate_fleet::Binary::from(&manifest);
/// let pod = Pod::new(vec![etcd]).unwrap();
/// // etcd's matrix also admits ppc64le, for which no binary was given.
/// let placement = pod.placement(CpuLabels::Nfd, true);
/// assert_eq!(placement.terms.len(), 2);
/// assert!(matches!(placement.notes[0], Note::MatrixOnly { .. }));
/// # Ok::<(), platform_gate::manifest::ReadError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Placement {
    /// The platforms, in the order of the binaries.
    pub terms: Vec<Term>,
    /// What is not judged, what keeps a platform out, which labels NFD hides.
    pub notes: Vec<Note>,
}

/// A node, as `kubectl get nodes -o json` describes it.
///
/// ```
/// use platform_gate_fleet::{CpuLabels, Node, NodeVerdict, Pod};
/// # let bytes = include_bytes!("../../runtime/tests/fixtures/etcd.manifest");
/// # let manifest = platform_gate::manifest::Manifest::parse(bytes, 0)?;
/// let pod = Pod::new(vec![(&manifest).into()]).unwrap();
/// let windows = Node { arch: "amd64", os: "windows", labels: &[] };
/// assert_eq!(pod.judge(&windows, None, CpuLabels::Nfd).verdict, NodeVerdict::NoBinary);
/// # Ok::<(), platform_gate::manifest::ReadError>(())
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
/// use platform_gate_fleet::NodeVerdict;
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
    /// Its name: `starts`, `warns`, `cpu-unknown`, `refuses`, `no-binary`.
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

/// One program's verdict on a node.
///
/// ```
/// use platform_gate::manifest::RefusedBy;
/// use platform_gate_fleet::{CpuLabels, Node, Pod};
/// # let bytes = include_bytes!("../../runtime/tests/fixtures/etcd.manifest");
/// # let manifest = platform_gate::manifest::Manifest::parse(bytes, 0)?;
/// # let mut etcd = platform_gate_fleet::Binary::from(&manifest);
/// etcd.before_start = Some(platform_gate::CpuFeatures::x86_64_level(3));
/// let pod = Pod::new(vec![etcd]).unwrap();
/// let v2 = [("feature.node.kubernetes.io/cpu-cpuid.X86_64_V2", "true")];
/// let judged = pod.judge(&Node { arch: "amd64", os: "linux", labels: &v2 }, None, CpuLabels::Nfd);
/// assert_eq!(judged.programs[0].refused_by, Some(RefusedBy::CpuBeforeStart));
/// assert_eq!(judged.programs[0].missing, ["avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "lzcnt", "movbe", "xsave"]);
/// # Ok::<(), platform_gate::manifest::ReadError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgramVerdict {
    /// The program.
    pub program: String,
    /// Its verdict.
    pub verdict: NodeVerdict,
    /// Which of its gate's checks refuses, where one does: [`RefusedBy::Platform`] for the matrix.
    pub refused_by: Option<RefusedBy>,
    /// The CPU features it assumed that the node's labels do not prove.
    pub missing: Vec<&'static str>,
    /// Why, in a line (empty where it starts silently).
    pub why: String,
}

/// A pod's verdict on a node: the worst of its programs'.
///
/// ```
/// use platform_gate_fleet::{CpuLabels, Node, NodeVerdict, Pod};
/// # let bytes = include_bytes!("../../runtime/tests/fixtures/etcd.manifest");
/// # let manifest = platform_gate::manifest::Manifest::parse(bytes, 0)?;
/// let pod = Pod::new(vec![(&manifest).into()]).unwrap();
/// let judged = pod.judge(&Node { arch: "arm64", os: "linux", labels: &[] }, None, CpuLabels::Nfd);
/// assert_eq!((judged.verdict, judged.programs.len()), (NodeVerdict::NoBinary, 1));
/// # Ok::<(), platform_gate::manifest::ReadError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeJudgement {
    /// The worst of the programs' verdicts.
    pub verdict: NodeVerdict,
    /// Each program's, in the pod's order.
    pub programs: Vec<ProgramVerdict>,
}
