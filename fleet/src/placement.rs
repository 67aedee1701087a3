// Where a pod goes: the platforms for which every program has a binary that starts without its
// variable, each with the NFD labels that prove what its binaries assumed (`nfd::requirement`), which
// is the rule that reads a node's labels back (`nfd::proved`): the affinity admits exactly the nodes
// whose verdict (`judge.rs`) starts.

use std::ffi::OsStr;

use platform_gate::manifest::Manifest;
use platform_gate::{Platform, Verdict, decide};

use crate::nfd::{self, NodeLabel};
use crate::note::Note;
use crate::pod::{Binary, CpuLabels, Placement, Pod, PodError, Term};
use crate::schedule::Schedule;
use crate::yaml::{Expression, node_affinity};

impl<'a> Pod<'a> {
    /// The pod of `binaries`; an error where there are none, or two of one program for one
    /// platform.
    ///
    /// ```
    /// # let bytes = include_bytes!("../../runtime/tests/fixtures/etcd.manifest");
    /// # let manifest = platform_gate::manifest::Manifest::parse(bytes, 0)?;
    /// use platform_gate_fleet::{Binary, Pod, PodError};
    ///
    /// let etcd = Binary::from(&manifest);
    /// assert!(matches!(Pod::new(vec![etcd, etcd]), Err(PodError::TwoBinaries { .. })));
    /// # Ok::<(), platform_gate::manifest::ReadError>(())
    /// ```
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

    /// The pod whose binaries `manifests` describe: one or more programs (told apart by their
    /// names), each for one or more platforms.
    ///
    /// ```
    /// # let bytes = include_bytes!("../../runtime/tests/fixtures/etcd.manifest");
    /// let etcd = platform_gate::manifest::Manifest::parse(bytes, 0)?;
    /// let pod = platform_gate_fleet::Pod::from_manifests([&etcd]).unwrap();
    /// assert_eq!(pod.programs(), ["etcd"]);
    /// # Ok::<(), platform_gate::manifest::ReadError>(())
    /// ```
    pub fn from_manifests<'m: 'a>(
        manifests: impl IntoIterator<Item = &'a Manifest<'m>>,
    ) -> Result<Pod<'a>, PodError> {
        Pod::new(manifests.into_iter().map(Binary::from).collect())
    }

    /// The programs, each once, in the order of their first binary.
    ///
    /// ```
    /// # let bytes = include_bytes!("../../runtime/tests/fixtures/etcd.manifest");
    /// # let manifest = platform_gate::manifest::Manifest::parse(bytes, 0)?;
    /// let etcd = platform_gate_fleet::Binary::from(&manifest);
    /// let sidecar = platform_gate_fleet::Binary { program: "etcd-backup", ..etcd };
    /// let pod = platform_gate_fleet::Pod::new(vec![etcd, sidecar]).unwrap();
    /// assert_eq!(pod.programs(), ["etcd", "etcd-backup"]);
    /// # Ok::<(), platform_gate::manifest::ReadError>(())
    /// ```
    pub fn programs(&self) -> Vec<&'a str> {
        let mut programs: Vec<&str> = Vec::new();
        for binary in &self.binaries {
            if !programs.contains(&binary.program) {
                programs.push(binary.program);
            }
        }
        programs
    }

    pub(crate) fn binary(&self, program: &str, platform: Platform) -> Option<&Binary<'a>> {
        self.binaries.iter().find(|binary| binary.program == program && binary.platform == platform)
    }

    /// Where the pod starts: the platforms for which every program has a binary that starts there
    /// without its variable, each with the CPU labels that prove what its binaries assumed
    /// (`cpu`). With `matrix_only_too`, also the architectures that all programs' matrices admit
    /// and no binary is for, whose CPU is not judged.
    ///
    /// ```
    /// # let bytes = include_bytes!("../../runtime/tests/fixtures/etcd.manifest");
    /// # let manifest = platform_gate::manifest::Manifest::parse(bytes, 0)?;
    /// use platform_gate_fleet::{CpuLabels, Note, Pod};
    ///
    /// let pod = Pod::from_manifests([&manifest]).unwrap();
    /// let placement = pod.placement(CpuLabels::None, false);
    /// assert_eq!((placement.terms.len(), &placement.notes[..]), (1, &[Note::CpuNotJudged][..]));
    /// # Ok::<(), platform_gate::manifest::ReadError>(())
    /// ```
    pub fn placement(&self, cpu: CpuLabels, matrix_only_too: bool) -> Placement {
        self.placement_with_variable(None, cpu, matrix_only_too)
    }

    /// Where the pod starts with the programs' override variables set to `value` in it (`None`:
    /// unset), as [`Pod::placement`] gives it without: a platform a program's matrix leaves out is
    /// admitted where the value names it, and its nodes start with a warning.
    ///
    /// ```
    /// # let bytes = include_bytes!("../../runtime/tests/fixtures/etcd.manifest");
    /// # let manifest = platform_gate::manifest::Manifest::parse(bytes, 0)?;
    /// use std::ffi::OsStr;
    /// use platform_gate::{Arch, Os, Platform};
    /// use platform_gate_fleet::{Binary, CpuLabels, Pod};
    ///
    /// let arm64 = Binary { platform: Platform::new(Arch::Aarch64, Os::Linux), ..Binary::from(&manifest) };
    /// let pod = Pod::new(vec![arm64]).unwrap(); // experimental in etcd's matrix
    /// assert!(pod.placement(CpuLabels::Nfd, false).terms.is_empty());
    /// let set = pod.placement_with_variable(Some(OsStr::new("arm64")), CpuLabels::Nfd, false);
    /// assert_eq!(set.terms.len(), 1);
    /// # Ok::<(), platform_gate::manifest::ReadError>(())
    /// ```
    pub fn placement_with_variable(
        &self,
        value: Option<&OsStr>,
        cpu: CpuLabels,
        matrix_only_too: bool,
    ) -> Placement {
        let mut placement = Placement::default();
        if cpu == CpuLabels::None {
            placement.notes.push(Note::CpuNotJudged);
        }
        let mut hidden: Vec<&'static str> = Vec::new();
        for platform in self.platforms() {
            let Some(starting) = self.starting(platform, value, &mut placement.notes) else {
                continue;
            };
            let mut labels: Vec<NodeLabel> = Vec::new();
            let mut admitted = true;
            for (program, binary) in starting {
                let Some(assumed) = binary.cpu().filter(|_| cpu == CpuLabels::Nfd) else {
                    continue;
                };
                let requirement = nfd::requirement(assumed);
                for &(feature, label) in &requirement.hidden {
                    let program = program.into();
                    placement.notes.push(Note::HiddenLabel { platform, program, feature, label });
                    if !hidden.contains(&label) {
                        hidden.push(label);
                    }
                }
                if !requirement.unlabelled.is_empty() {
                    let (program, features) = (program.into(), requirement.unlabelled);
                    placement.notes.push(Note::Unlabelled { platform, program, features });
                    admitted = false;
                }
                for label in requirement.labels {
                    if !labels.contains(&label) {
                        labels.push(label);
                    }
                }
            }
            if admitted {
                let levels: Vec<&'static str> = nfd::LEVEL_LABELS
                    .iter()
                    .copied()
                    .filter(|level| labels.iter().any(|label| label.key.ends_with(level)))
                    .collect();
                if !levels.is_empty() {
                    placement.notes.push(Note::LevelLabels { platform, labels: levels });
                }
                placement.terms.push(Term { arch: platform.arch, os: Some(platform.os), labels });
            }
        }
        if !hidden.is_empty() {
            placement.notes.push(Note::HiddenByDefault { labels: hidden });
        }
        if matrix_only_too {
            self.add_matrix_only(&mut placement);
        }
        placement
    }

    /// The platforms of the pod's binaries, in their order.
    pub(crate) fn platforms(&self) -> Vec<Platform> {
        let mut platforms: Vec<Platform> = Vec::new();
        for binary in &self.binaries {
            if !platforms.contains(&binary.platform) {
                platforms.push(binary.platform);
            }
        }
        platforms
    }

    /// Each program's binary for `platform` when every program has one there that starts with its
    /// variable set to `value` (`None`: unset); otherwise `None`, with a note for each program that
    /// has none or refuses.
    pub(crate) fn starting(
        &self,
        platform: Platform,
        value: Option<&OsStr>,
        notes: &mut Vec<Note>,
    ) -> Option<Vec<(&'a str, &Binary<'a>)>> {
        let mut starting = Vec::new();
        let mut all_start = true;
        for program in self.programs() {
            let Some(binary) = self.binary(program, platform) else {
                notes.push(Note::NoBinary { platform, program: program.into() });
                all_start = false;
                continue;
            };
            let verdict = decide(&binary.matrix, binary.policy, platform, binary.variable, value);
            if let Verdict::Refused { .. } = verdict {
                let program = program.into();
                notes.push(match value {
                    None => Note::RefusesWithoutVariable { platform, program },
                    Some(_) => Note::RefusesWithVariable { platform, program },
                });
                all_start = false;
                continue;
            }
            starting.push((program, binary));
        }
        all_start.then_some(starting)
    }

    /// The architectures all programs' matrices admit without the variable, for which no binary
    /// was given: as [`Schedule::of`] gives them.
    pub(crate) fn add_matrix_only(&self, placement: &mut Placement) {
        let schedules = self.programs().into_iter().map(|program| {
            let binary = self.binaries.iter().find(|binary| binary.program == program).expect("a binary");
            Schedule::of(&binary.matrix, binary.policy)
        });
        let Some(schedule) = schedules.reduce(|all, next| all.intersection(&next)) else {
            return;
        };
        for (arch, os) in schedule.platforms() {
            if self.binaries.iter().any(|binary| binary.platform.arch == arch) {
                continue;
            }
            placement.terms.push(Term { arch, os, labels: Vec::new() });
            placement.notes.push(Note::MatrixOnly { arch, os });
        }
    }
}

impl Placement {
    /// The `--platform` list for `docker buildx build` of the placement's platforms, rendered as
    /// [`Schedule::docker_platforms`] renders a schedule: the platforms a binary was given for (and
    /// with `matrix_only_too`, the matrices' others), not every platform the matrices admit.
    ///
    /// ```
    /// # let bytes = include_bytes!("../../runtime/tests/fixtures/etcd.manifest");
    /// # let manifest = platform_gate::manifest::Manifest::parse(bytes, 0)?;
    /// use platform_gate_fleet::{CpuLabels, Pod};
    ///
    /// let pod = Pod::from_manifests([&manifest]).unwrap(); // an amd64 build; etcd's matrix has ppc64le too
    /// assert_eq!(pod.placement(CpuLabels::None, false).docker_platforms(), "linux/amd64");
    /// assert_eq!(pod.placement(CpuLabels::None, true).docker_platforms(), "linux/amd64,linux/ppc64le");
    /// # Ok::<(), platform_gate::manifest::ReadError>(())
    /// ```
    pub fn docker_platforms(&self) -> String {
        Schedule::of_platforms(self.terms.iter().map(|term| (term.arch, term.os))).docker_platforms()
    }

    /// A Kubernetes `affinity` that admits exactly the placement's nodes: per term,
    /// `kubernetes.io/os`, `kubernetes.io/arch` and the CPU labels. `None` where there is no term.
    ///
    /// ```
    /// # let bytes = include_bytes!("../../runtime/tests/fixtures/etcd.manifest");
    /// # let manifest = platform_gate::manifest::Manifest::parse(bytes, 0)?;
    /// let pod = platform_gate_fleet::Pod::from_manifests([&manifest]).unwrap();
    /// let affinity = pod.placement(platform_gate_fleet::CpuLabels::Nfd, false).kubernetes_node_affinity();
    /// assert!(affinity.unwrap().ends_with("- key: kubernetes.io/arch\n          operator: In\n          values:\n          - amd64\n"));
    /// # Ok::<(), platform_gate::manifest::ReadError>(())
    /// ```
    pub fn kubernetes_node_affinity(&self) -> Option<String> {
        if self.terms.is_empty() {
            return None;
        }
        let terms = self.terms.iter().map(|term| {
            let mut expressions = Vec::new();
            if let Some(os) = term.os {
                let values = vec![os.go_name().to_string()];
                expressions.push(Expression { key: "kubernetes.io/os", operator: "In", values });
            }
            let values = vec![term.arch.go_name().to_string()];
            expressions.push(Expression { key: "kubernetes.io/arch", operator: "In", values });
            expressions.extend(term.labels.iter().map(NodeLabel::expression));
            expressions
        });
        Some(node_affinity(terms))
    }
}
