// The matrix where schedulers read it: the platforms where a build starts without the override
// variable, as a Kubernetes node affinity and a `docker buildx build --platform` list, so that a
// fleet schedules the program only where it will run instead of discovering a crash loop.

use core::fmt::Write as _;

use crate::{Arch, Check, Matrix, Os, Policy};

/// Where a gate starts without the variable: an architecture on one OS, or on any.
type Starting = (Arch, Option<Os>);

impl Matrix {
    /// The platforms where a gate with `policy` starts without the override variable, in the
    /// matrix's order: under [`Check::Arch`] each admitted architecture on any OS, under
    /// [`Check::Platform`] each admitted (architecture, OS) row; and the policy's packager's
    /// architectures, on any OS.
    fn starting(&self, policy: Policy) -> Vec<Starting> {
        let mut starting: Vec<Starting> = Vec::new();
        for row in self.rows() {
            let platform = row.platform();
            let entry = match policy.check() {
                Check::Arch => (platform.arch, None),
                Check::Platform => (platform.arch, Some(platform.os)),
            };
            if policy.passes(self, platform) && !starting.contains(&entry) {
                starting.push(entry);
            }
        }
        if let Some(packager) = policy.packager() {
            for arch in packager.architectures() {
                if !starting.contains(&(arch, None)) {
                    starting.push((arch, None));
                }
            }
        }
        starting
    }

    /// A Kubernetes `affinity` that schedules a pod only on nodes where a gate with `policy`
    /// starts without the override variable: `kubernetes.io/arch` (whose values are Go's names,
    /// as the matrix's are) and, under [`Check::Platform`], `kubernetes.io/os`. `None` when no
    /// platform starts without the variable.
    ///
    /// ```
    /// use platform_gate::{Matrix, Policy};
    ///
    /// let affinity = Matrix::ETCD.kubernetes_node_affinity(Policy::DEFAULT).unwrap();
    /// assert!(affinity.starts_with("affinity:\n  nodeAffinity:\n"));
    /// assert!(affinity.contains("- key: kubernetes.io/arch\n"));
    /// assert!(affinity.contains("values: [amd64, ppc64le]\n"));
    /// ```
    pub fn kubernetes_node_affinity(&self, policy: Policy) -> Option<String> {
        let starting = self.starting(policy);
        if starting.is_empty() {
            return None;
        }
        // One term per OS (terms are alternatives), each listing that OS's architectures.
        let mut terms: Vec<(Option<Os>, Vec<Arch>)> = Vec::new();
        for (arch, os) in starting {
            match terms.iter_mut().find(|(term_os, _)| *term_os == os) {
                Some((_, archs)) => archs.push(arch),
                None => terms.push((os, vec![arch])),
            }
        }
        let mut yaml = String::from(
            "affinity:\n  nodeAffinity:\n    requiredDuringSchedulingIgnoredDuringExecution:\n      nodeSelectorTerms:\n",
        );
        for (os, archs) in terms {
            yaml.push_str("        - matchExpressions:\n");
            if let Some(os) = os {
                let _ = write!(yaml, "{}", expression("kubernetes.io/os", &[os.go_name()]));
            }
            let names: Vec<&str> = archs.iter().map(|arch| arch.go_name()).collect();
            let _ = write!(yaml, "{}", expression("kubernetes.io/arch", &names));
        }
        Some(yaml)
    }

    /// The `--platform` list for `docker buildx build`: `os/arch` for each platform where a gate
    /// with `policy` starts without the override variable. Containers run on Linux and Windows,
    /// so under [`Check::Arch`] each architecture is listed on Linux, and under
    /// [`Check::Platform`] other systems are left out. Empty when no platform qualifies.
    ///
    /// ```
    /// use platform_gate::{Matrix, Policy};
    ///
    /// assert_eq!(Matrix::ETCD.docker_platforms(Policy::DEFAULT), "linux/amd64,linux/ppc64le");
    /// ```
    pub fn docker_platforms(&self, policy: Policy) -> String {
        let mut platforms: Vec<String> = Vec::new();
        for (arch, os) in self.starting(policy) {
            let os = os.unwrap_or(Os::Linux);
            if matches!(os, Os::Linux | Os::Windows) {
                let platform = format!("{}/{}", os.go_name(), arch.go_name());
                if !platforms.contains(&platform) {
                    platforms.push(platform);
                }
            }
        }
        platforms.join(",")
    }
}

/// One `matchExpressions` entry: `key In [values]`.
fn expression(key: &str, values: &[&str]) -> String {
    format!(
        "            - key: {key}\n              operator: In\n              values: [{}]\n",
        values.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Allow, Packager, Row, Status};

    #[test]
    fn etcds_matrix_schedules_on_its_stable_architectures() {
        let affinity = Matrix::ETCD.kubernetes_node_affinity(Policy::DEFAULT).unwrap();
        assert_eq!(
            affinity,
            "affinity:
  nodeAffinity:
    requiredDuringSchedulingIgnoredDuringExecution:
      nodeSelectorTerms:
        - matchExpressions:
            - key: kubernetes.io/arch
              operator: In
              values: [amd64, ppc64le]
"
        );
        assert_eq!(Matrix::ETCD.docker_platforms(Policy::DEFAULT), "linux/amd64,linux/ppc64le");
    }

    #[test]
    fn the_platform_check_adds_the_os_and_one_term_per_os() {
        let policy = Policy::DEFAULT.with_check(Check::Platform).with_allow(Allow::Experimental);
        let affinity = Matrix::ETCD.kubernetes_node_affinity(policy).unwrap();
        let terms: Vec<&str> = affinity.split("        - matchExpressions:\n").skip(1).collect();
        assert_eq!(terms.len(), 3, "{affinity}");
        assert!(terms[0].contains("values: [darwin]\n") && terms[0].contains("values: [amd64]\n"));
        assert!(
            terms[1].contains("values: [linux]\n") && terms[1].contains("values: [amd64, arm64, ppc64le]\n")
        );
        assert!(terms[2].contains("values: [windows]\n") && terms[2].contains("values: [amd64]\n"));
        // Darwin runs no containers.
        assert_eq!(
            Matrix::ETCD.docker_platforms(policy),
            "linux/amd64,windows/amd64,linux/arm64,linux/ppc64le"
        );
    }

    #[test]
    fn a_custom_matrix_and_the_packagers_architectures() {
        const KV: Matrix = Matrix::new(&[
            Row::new(Arch::Aarch64, Os::Linux, Status::Stable),
            Row::new(Arch::S390x, Os::Linux, Status::Experimental),
            Row::new(Arch::X86_64, Os::Linux, Status::Stable),
        ]);
        let affinity = KV.kubernetes_node_affinity(Policy::DEFAULT).unwrap();
        assert!(affinity.ends_with("values: [arm64, amd64]\n"), "{affinity}");
        assert_eq!(KV.docker_platforms(Policy::DEFAULT), "linux/arm64,linux/amd64");
        let alpine = Policy::DEFAULT.with_packager(Some(Packager::new("Alpine Linux", "loong64")));
        assert_eq!(KV.docker_platforms(alpine), "linux/arm64,linux/amd64,linux/loong64");
        assert!(KV.kubernetes_node_affinity(alpine).unwrap().ends_with("values: [arm64, amd64, loong64]\n"));
    }

    #[test]
    fn nothing_to_schedule_is_said_as_such() {
        const UNSTABLE: Matrix = Matrix::new(&[Row::new(Arch::Arm, Os::Linux, Status::Unstable)]);
        assert_eq!(UNSTABLE.kubernetes_node_affinity(Policy::DEFAULT), None);
        assert_eq!(UNSTABLE.docker_platforms(Policy::DEFAULT), "");
    }
}
