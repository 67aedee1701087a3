//! Where a gate starts without its override variable, as schedulers read it: a Kubernetes node
//! affinity on architecture and OS, and a `docker buildx build --platform` list, so that a fleet
//! schedules a program only where it runs instead of discovering a crash loop.

use platform_gate::manifest::Manifest;
use platform_gate::{Arch, Check, Matrix, Os, Policy};

use crate::yaml::{Expression, node_affinity};

/// Where a gate starts without the override variable: architectures on one OS or on any, in the
/// order of its matrix, then its packager's. The schedulers' renderings are made from it, for one
/// program ([`Schedule::of`]) or for the platforms where several all start
/// ([`Schedule::intersection`], [`Schedule::of_all`]).
///
/// ```
/// use platform_gate::{Allow, Check, Matrix, Policy};
/// use platform_gate_fleet::Schedule;
///
/// let etcd = Schedule::of(&Matrix::ETCD, Policy::DEFAULT);
/// let lenient = Schedule::of(&Matrix::ETCD, Policy::DEFAULT.with_check(Check::Platform).with_allow(Allow::Experimental));
/// // amd64 on any OS, within amd64 on Darwin, Linux and Windows: amd64 on those three.
/// assert_eq!(etcd.intersection(&lenient).docker_platforms(), "linux/amd64,windows/amd64,linux/ppc64le");
/// assert_eq!(etcd.docker_platforms(), "linux/amd64,linux/ppc64le");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// An architecture on one OS, or on any (`None`), each once.
    starting: Vec<(Arch, Option<Os>)>,
}

impl Schedule {
    /// The platforms where a gate with `matrix` and `policy` starts without the override variable,
    /// in the matrix's order: under [`Check::Arch`] each admitted architecture on any OS, under
    /// [`Check::Platform`] each admitted (architecture, OS) row; and the policy's packager's
    /// architectures, on any OS.
    ///
    /// ```
    /// use platform_gate::{Matrix, Policy};
    /// use platform_gate_fleet::Schedule;
    ///
    /// let affinity = Schedule::of(&Matrix::ETCD, Policy::DEFAULT).kubernetes_node_affinity().unwrap();
    /// assert!(affinity.starts_with("affinity:\n  nodeAffinity:\n"));
    /// assert!(affinity.contains("values:\n          - amd64\n          - ppc64le\n"));
    /// ```
    pub fn of(matrix: &Matrix<'_>, policy: Policy<'_>) -> Schedule {
        let mut schedule = Schedule { starting: Vec::new() };
        for row in matrix.rows() {
            let platform = row.platform();
            if policy.passes(matrix, platform) {
                schedule.add(match policy.check() {
                    Check::Arch => (platform.arch, None),
                    // `Check::Platform`, and any finer check a later gate adds: the row's own OS.
                    _ => (platform.arch, Some(platform.os)),
                });
            }
        }
        if let Some(packager) = policy.packager() {
            for arch in packager.architectures() {
                schedule.add((arch, None));
            }
        }
        schedule
    }

    /// The platforms where every one of `manifests` starts without its override variable: the
    /// intersection of their schedules. `None` for no manifests.
    ///
    /// ```
    /// # let bytes = include_bytes!("../../runtime/tests/fixtures/etcd.manifest");
    /// use platform_gate::manifest::Manifest;
    /// use platform_gate_fleet::Schedule;
    ///
    /// let etcd = Manifest::parse(bytes, 0)?;
    /// assert_eq!(Schedule::of_all([&etcd]).unwrap().docker_platforms(), "linux/amd64,linux/ppc64le");
    /// # Ok::<(), platform_gate::manifest::ReadError>(())
    /// ```
    pub fn of_all<'a, 'm: 'a>(manifests: impl IntoIterator<Item = &'a Manifest<'m>>) -> Option<Schedule> {
        manifests
            .into_iter()
            .map(|manifest| Schedule::of(&manifest.matrix(), manifest.policy))
            .reduce(|all, next| all.intersection(&next))
    }

    /// The schedule of these platforms, each once, in their order.
    pub(crate) fn of_platforms(platforms: impl IntoIterator<Item = (Arch, Option<Os>)>) -> Schedule {
        let mut schedule = Schedule { starting: Vec::new() };
        platforms.into_iter().for_each(|platform| schedule.add(platform));
        schedule
    }

    fn add(&mut self, entry: (Arch, Option<Os>)) {
        if !self.starting.contains(&entry) {
            self.starting.push(entry);
        }
    }

    /// The schedule's platforms, in order: an architecture on one OS, or on any (`None`).
    #[inline]
    pub fn platforms(&self) -> impl Iterator<Item = (Arch, Option<Os>)> + '_ {
        self.starting.iter().copied()
    }

    /// Whether no platform is in the schedule.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.starting.is_empty()
    }

    /// The platforms in both schedules, in `self`'s order: an architecture on any OS in one and
    /// on one OS in the other is on that OS.
    #[inline]
    pub fn intersection(&self, other: &Schedule) -> Schedule {
        let mut both = Schedule { starting: Vec::new() };
        for &(arch, os) in &self.starting {
            for &(other_arch, other_os) in &other.starting {
                if arch != other_arch {
                    continue;
                }
                match (os, other_os) {
                    (None, os) | (os, None) => both.add((arch, os)),
                    (Some(os), Some(other_os)) if os == other_os => both.add((arch, Some(os))),
                    _ => {}
                }
            }
        }
        both
    }

    /// A Kubernetes `affinity` that schedules a pod only on nodes of the schedule's platforms:
    /// `kubernetes.io/arch` (whose values are Go's names, as the matrix's are) and, for
    /// architectures on one OS ([`Check::Platform`]), `kubernetes.io/os`. `None` when the
    /// schedule is empty.
    #[inline]
    pub fn kubernetes_node_affinity(&self) -> Option<String> {
        if self.starting.is_empty() {
            return None;
        }
        // One term per OS (terms are alternatives), each listing that OS's architectures.
        let mut terms: Vec<(Option<Os>, Vec<Arch>)> = Vec::new();
        for &(arch, os) in &self.starting {
            match terms.iter_mut().find(|(term_os, _)| *term_os == os) {
                Some((_, archs)) => archs.push(arch),
                None => terms.push((os, vec![arch])),
            }
        }
        let terms = terms.iter().map(|(os, archs)| {
            let mut expressions = Vec::new();
            if let Some(os) = os {
                let values = vec![os.go_name().to_string()];
                expressions.push(Expression { key: "kubernetes.io/os", operator: "In", values });
            }
            let values = archs.iter().map(|arch| arch.go_name().to_string()).collect();
            expressions.push(Expression { key: "kubernetes.io/arch", operator: "In", values });
            expressions
        });
        Some(node_affinity(terms))
    }

    /// The `--platform` list for `docker buildx build`: `os/arch` for each platform of the
    /// schedule. Containers run on Linux and Windows, so an architecture on any OS is listed on
    /// Linux, and other systems are left out. Empty when no platform qualifies.
    #[inline]
    pub fn docker_platforms(&self) -> String {
        let mut platforms: Vec<String> = Vec::new();
        for &(arch, os) in &self.starting {
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

#[cfg(test)]
mod tests {
    use super::*;
    use platform_gate::{Allow, Packager, Row, Status};

    fn affinity(matrix: &Matrix<'_>, policy: Policy<'_>) -> Option<String> {
        Schedule::of(matrix, policy).kubernetes_node_affinity()
    }

    fn docker(matrix: &Matrix<'_>, policy: Policy<'_>) -> String {
        Schedule::of(matrix, policy).docker_platforms()
    }

    #[test]
    fn etcds_matrix_schedules_on_its_stable_architectures() {
        let affinity = affinity(&Matrix::ETCD, Policy::DEFAULT).unwrap();
        assert_eq!(
            affinity,
            "affinity:
  nodeAffinity:
    requiredDuringSchedulingIgnoredDuringExecution:
      nodeSelectorTerms:
      - matchExpressions:
        - key: kubernetes.io/arch
          operator: In
          values:
          - amd64
          - ppc64le
"
        );
        assert_eq!(docker(&Matrix::ETCD, Policy::DEFAULT), "linux/amd64,linux/ppc64le");
    }

    #[test]
    fn the_platform_check_adds_the_os_and_one_term_per_os() {
        let policy = Policy::DEFAULT.with_check(Check::Platform).with_allow(Allow::Experimental);
        let affinity = affinity(&Matrix::ETCD, policy).unwrap();
        let terms: Vec<&str> = affinity.split("      - matchExpressions:\n").skip(1).collect();
        assert_eq!(terms.len(), 3, "{affinity}");
        let values =
            |list: &[&str]| list.iter().map(|value| format!("          - {value}\n")).collect::<String>();
        let has = |term: &str, list: &[&str]| term.contains(&format!("values:\n{}", values(list)));
        assert!(has(terms[0], &["darwin"]) && has(terms[0], &["amd64"]), "{affinity}");
        assert!(has(terms[1], &["linux"]) && has(terms[1], &["amd64", "arm64", "ppc64le"]), "{affinity}");
        assert!(has(terms[2], &["windows"]) && has(terms[2], &["amd64"]), "{affinity}");
        // Darwin runs no containers.
        assert_eq!(docker(&Matrix::ETCD, policy), "linux/amd64,windows/amd64,linux/arm64,linux/ppc64le");
    }

    #[test]
    fn a_custom_matrix_and_the_packagers_architectures() {
        const KV: Matrix = Matrix::new(&[
            Row::new(Arch::Aarch64, Os::Linux, Status::Stable),
            Row::new(Arch::S390x, Os::Linux, Status::Experimental),
            Row::new(Arch::X86_64, Os::Linux, Status::Stable),
        ]);
        let kv = affinity(&KV, Policy::DEFAULT).unwrap();
        assert!(kv.ends_with("values:\n          - arm64\n          - amd64\n"), "{kv}");
        assert_eq!(docker(&KV, Policy::DEFAULT), "linux/arm64,linux/amd64");
        let alpine = Policy::DEFAULT.with_packager(Some(Packager::new("Alpine Linux", "loong64")));
        assert_eq!(docker(&KV, alpine), "linux/arm64,linux/amd64,linux/loong64");
        assert!(
            affinity(&KV, alpine).unwrap().ends_with("- arm64\n          - amd64\n          - loong64\n")
        );
    }

    #[test]
    fn an_intersection_keeps_what_both_start_on_narrowed_to_an_os() {
        const KV: Matrix = Matrix::new(&[
            Row::new(Arch::Aarch64, Os::Linux, Status::Stable),
            Row::new(Arch::X86_64, Os::Windows, Status::Stable),
            Row::new(Arch::S390x, Os::Linux, Status::Stable),
        ]);
        let by_platform = Schedule::of(&KV, Policy::DEFAULT.with_check(Check::Platform));
        let etcd = Schedule::of(&Matrix::ETCD, Policy::DEFAULT);
        let both = by_platform.intersection(&etcd);
        assert_eq!(both.docker_platforms(), "windows/amd64");
        assert_eq!(etcd.intersection(&by_platform).docker_platforms(), "windows/amd64");
        assert!(
            by_platform
                .intersection(&Schedule::of(&Matrix::ETCD, Policy::DEFAULT.with_check(Check::Platform)))
                .is_empty()
        );
        assert_eq!(etcd.intersection(&etcd), etcd);
    }

    #[test]
    fn nothing_to_schedule_is_said_as_such() {
        const UNSTABLE: Matrix = Matrix::new(&[Row::new(Arch::Arm, Os::Linux, Status::Unstable)]);
        assert_eq!(affinity(&UNSTABLE, Policy::DEFAULT), None);
        assert_eq!(docker(&UNSTABLE, Policy::DEFAULT), "");
    }
}
