// What schedulers and people read of a placement and a verdict: the Kubernetes affinity, and the line
// `platform-gate nodes` prints.
//
// Zone: the fleet: pure policy, proved by `cargo test` (the consistency property in
// `cli/tests/fleet.rs`), and against real runs by `tests/cpu/run.sh` (see CONTRIBUTING.md).

use super::{Node, NodeJudgement, Placement};

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
    ///     matrix: Matrix::ETCD,
    ///     policy: Policy::DEFAULT,
    ///     cpu: Some(CpuFeatures::x86_64_level(3)),
    /// };
    /// let pod = Pod::new(vec![etcd]).unwrap();
    /// let node = Node { arch: "amd64", os: "linux", labels: &[] };
    /// let judged = pod.judge(&node, None, CpuLabels::Nfd);
    /// assert!(judged.line("edge-1", &node, 6).starts_with("edge-1  linux/amd64   cpu-unknown: etcd assumes"));
    /// ```
    #[inline]
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

impl Placement {
    /// A Kubernetes `affinity` that admits exactly the placement's nodes: per term,
    /// `kubernetes.io/os`, `kubernetes.io/arch` and the CPU labels. `None` where there is no term.
    #[inline]
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
