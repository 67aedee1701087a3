// What a gated binary would do if started: the bytes it would write to stderr and how it would
// exit, from its manifest alone. It asks the runtime's own pure functions in the order the
// binary's gate runs them (the check before std starts, the CPU check in `main`, the platform
// check), so the prediction is the binary's behaviour, not a copy of it.

use std::ffi::OsStr;

use crate::{CpuCheck, CpuFeatures, decide};

use super::Manifest;

/// What a binary would do when started: [`Manifest::predict`]'s answer.
///
/// ```
/// use std::ffi::OsStr;
/// use platform_gate::manifest::{Manifest, RefusedBy, Start};
///
/// # let bytes = include_bytes!("../../tests/fixtures/etcd.manifest");
/// let etcd = Manifest::parse(bytes, 0)?; // etcd's matrix, built for amd64 Linux
/// let mut arm64 = etcd.clone();
/// arm64.platform = platform_gate::Platform::new(platform_gate::Arch::Aarch64, platform_gate::Os::Linux);
/// let start = Start { value: None, cpu: None, file_name: b"etcd" };
/// assert_eq!(etcd.predict(&start).refusal, None);
/// let refused = arm64.predict(&start);
/// assert_eq!((refused.refusal, refused.refused_by), (Some(1), Some(RefusedBy::Platform)));
/// assert!(refused.stderr.starts_with(b"error: etcd will not start on arm64 (aarch64) linux"));
/// let overridden = arm64.predict(&Start { value: Some(OsStr::new("arm64")), ..start });
/// assert_eq!(overridden.refusal, None);
/// assert!(overridden.stderr.starts_with(b"warning: "));
/// # Ok::<(), platform_gate::manifest::ReadError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prediction {
    /// Exactly what it would write to stderr before its own code runs: empty when it would start
    /// silently.
    pub stderr: Vec<u8>,
    /// `None` when it would start; the exit code of its refusal otherwise.
    pub refusal: Option<u8>,
    /// What refuses, if something does.
    pub refused_by: Option<RefusedBy>,
}

/// Which check refuses: see [`Prediction`]'s example.
///
/// ```
/// use platform_gate::manifest::RefusedBy;
///
/// assert_ne!(RefusedBy::CpuBeforeStart, RefusedBy::CpuInMain);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefusedBy {
    /// The CPU check before std starts: the CPU lacks what every crate was compiled to assume.
    CpuBeforeStart,
    /// The CPU check in `main`: the CPU lacks what `main`'s crate assumed.
    CpuInMain,
    /// The platform check: the matrix does not admit the platform and the variable does not
    /// override it.
    Platform,
}

/// The question: the variable's value and the CPU to judge. See [`Prediction`]'s example.
///
/// ```
/// use platform_gate::manifest::Start;
///
/// // Unset, on a CPU that has what the build assumed, started as `kvd`.
/// let start = Start { value: None, cpu: None, file_name: b"kvd" };
/// assert!(start.value.is_none());
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Start<'a> {
    /// The override variable's value in the environment it would start in; `None`: unset.
    pub value: Option<&'a OsStr>,
    /// The CPU it would start on, as the features the gate knows; `None`: not judged (the
    /// prediction then assumes the CPU has what the build assumed).
    pub cpu: Option<CpuFeatures>,
    /// The file name it would be started by (what Linux's `AT_EXECFN` ends with), which a refusal
    /// before std starts names.
    pub file_name: &'a [u8],
}

impl Manifest<'_> {
    /// What the binary would do if started as `start` says.
    ///
    /// # Panics
    ///
    /// If `start.cpu` holds features of another architecture family than the binary's.
    pub fn predict(&self, start: &Start<'_>) -> Prediction {
        let arch = self.platform.arch;
        if let Some(present) = start.cpu {
            if let Some(before) = self.cpu.before_start.filter(|features| !features.is_empty()) {
                let check = CpuCheck::new(arch, before, present);
                let refused = if self.names_itself_before_start() {
                    check
                        .message(self.program, self.variable)
                        .map(|text| (text, self.policy.exit_code().get()))
                } else {
                    let name = self
                        .cpu
                        .names_program_file
                        .then_some(start.file_name)
                        .filter(|name| !name.is_empty());
                    check.message_before_start(name).map(|text| (text, CpuCheck::EXIT_CODE_BEFORE_START))
                };
                if let Some((message, code)) = refused {
                    return refusal(message.into_bytes(), code, RefusedBy::CpuBeforeStart);
                }
            }
            if let Some(in_main) = self.cpu.in_main.filter(|features| !features.is_empty()) {
                let check = CpuCheck::new(arch, in_main, present);
                if let Some(message) = check.message(self.program, self.variable) {
                    return refusal(
                        message.into_bytes(),
                        self.policy.exit_code().get(),
                        RefusedBy::CpuInMain,
                    );
                }
            }
        }
        let matrix = self.matrix();
        let verdict = decide(&matrix, self.policy, self.platform, self.variable, start.value);
        let stderr = verdict
            .message(self.program)
            .map(|message| format!("{message}\n").into_bytes())
            .unwrap_or_default();
        match verdict {
            crate::Verdict::Refused { .. } => {
                refusal(stderr, self.policy.exit_code().get(), RefusedBy::Platform)
            }
            _ => Prediction { stderr, refusal: None, refused_by: None },
        }
    }
}

impl Manifest<'_> {
    /// Whether a CPU refusal before std starts would name the program and its variable and exit
    /// with its exit code, as the check in `main` does: its system reads the manifest from the
    /// running image, and the file holds no other settings. Otherwise that refusal is generic: the
    /// file's name (or "this program"), "its override variable", and
    /// [`CpuCheck::EXIT_CODE_BEFORE_START`].
    pub fn names_itself_before_start(&self) -> bool {
        self.cpu.reads_own_manifest && self.alone_in_file()
    }
}

fn refusal(stderr: Vec<u8>, code: u8, by: RefusedBy) -> Prediction {
    Prediction { stderr, refusal: Some(code), refused_by: Some(by) }
}
