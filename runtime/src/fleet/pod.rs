// A pod's placement and its verdict on a node: the rules, by `decide`, the CPU check, and the NFD
// requirement that reads a node's labels back (see `mod.rs`).
//
// Zone: the fleet: pure policy, proved by `cargo test` (the consistency property in
// `cli/tests/fleet.rs`), and against real runs by `tests/cpu/run.sh` (see CONTRIBUTING.md).

use std::ffi::OsStr;

use super::{
    Binary, CpuLabels, Node, NodeJudgement, NodeVerdict, Placement, Pod, PodError, ProgramVerdict, RefusedBy,
    Term,
};
use crate::{Arch, CpuCheck, CpuFeatures, NodeLabel, Os, Platform, Verdict, decide, has_nfd_cpu_labels};

impl<'a> Pod<'a> {
    /// The pod of `binaries`; an error where there are none, or two of one program for one
    /// platform.
    #[inline]
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
    #[inline]
    pub fn programs(&self) -> Vec<&'a str> {
        let mut programs: Vec<&str> = Vec::new();
        for binary in &self.binaries {
            if !programs.contains(&binary.program) {
                programs.push(binary.program);
            }
        }
        programs
    }

    #[inline]
    fn binary(&self, program: &str, platform: Platform) -> Option<&Binary<'a>> {
        self.binaries.iter().find(|binary| binary.program == program && binary.platform == platform)
    }

    /// Where the pod starts: the platforms for which every program has a binary that starts there
    /// without its variable, each with the CPU labels that prove what its binaries assumed
    /// (`cpu`). With `matrix_only_too`, also the architectures that all programs' matrices admit
    /// and no binary is for, whose CPU is not judged.
    #[inline]
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
                let verdict = decide(&binary.matrix, binary.policy, platform, binary.variable, None);
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
    #[inline]
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
    #[inline]
    pub fn judge(&self, node: &Node<'_>, value: Option<&OsStr>, cpu: CpuLabels) -> NodeJudgement {
        let programs: Vec<ProgramVerdict> = self
            .programs()
            .into_iter()
            .map(|program| self.judge_program(program, node, value, cpu))
            .collect();
        let verdict = programs.iter().map(|program| program.verdict).max().unwrap_or(NodeVerdict::NoBinary);
        NodeJudgement { verdict, programs }
    }

    #[inline]
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
        let decision = decide(&binary.matrix, binary.policy, platform, binary.variable, value);
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

/// The platform `arch` and `os` name in Go's spelling, exactly, as Kubernetes labels them.
#[inline]
fn go_platform(arch: &str, os: &str) -> Option<Platform> {
    Some(Platform::new(Arch::from_go_name(arch)?, Os::from_go_name(os)?))
}
