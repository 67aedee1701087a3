// The CPU check as a pure function: what a build assumed against what a CPU has, on an architecture,
// and the refusal it renders, by the refusal path's own renderer. The command asks it about any CPU
// on any host; the gate asks it about this one.

use super::early;
use super::refuse::{Refusal, render};
use super::rows::family;
use super::set::CpuFeatures;
use super::sink::UNNAMED_PROGRAM;
use crate::Arch;

/// The CPU check: what a build assumed against what a CPU has, on an architecture. Pure, so
/// that it can be asked about any CPU on any host; the gate asks it about this one.
///
/// ```
/// use platform_gate::{Arch, CpuCheck, CpuFeatures};
///
/// // A build for x86-64-v3 on a CPU with v2 (a Nehalem, say).
/// let check = CpuCheck::new(Arch::X86_64, CpuFeatures::x86_64_level(3), CpuFeatures::x86_64_level(2));
/// assert!(!check.passes());
/// assert!(check.missing().names().any(|name| name == "avx2"));
/// let message = check.message("kvd", "KVD_UNSUPPORTED_ARCH").unwrap();
/// assert!(message.starts_with("error: kvd will not start on this CPU: it was built for x86-64-v3"));
///
/// let fine = CpuCheck::new(Arch::X86_64, CpuFeatures::x86_64_level(2), CpuFeatures::x86_64_level(4));
/// assert!(fine.passes() && fine.message("kvd", "V").is_none());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpuCheck {
    arch: Arch,
    assumed: CpuFeatures,
    present: CpuFeatures,
}

impl CpuCheck {
    /// The exit code of the generic refusal before std starts ([`CpuCheck::message_before_start`]):
    /// 1, etcd's and the attribute's default. A refusal before std starts that finds the program's
    /// manifest in its running image (Linux, Android and Windows, where the image holds one set of
    /// settings) exits with the program's own `exit_code` instead, and says what
    /// [`CpuCheck::message`] says.
    pub const EXIT_CODE_BEFORE_START: u8 = early::EXIT_CODE;

    /// A build for `arch` that assumed `assumed`, on a CPU that has `present`.
    ///
    /// # Panics
    ///
    /// If the two sets are not of `arch`'s family.
    #[inline]
    pub fn new(arch: Arch, assumed: CpuFeatures, present: CpuFeatures) -> CpuCheck {
        let family = family(arch);
        assert!(
            family == Some(assumed.family) && family == Some(present.family),
            "features of another architecture"
        );
        CpuCheck { arch, assumed, present }
    }

    /// What the build assumed and the CPU lacks.
    #[inline]
    pub const fn missing(&self) -> CpuFeatures {
        self.assumed.without(self.present)
    }

    /// Whether the CPU has everything the build assumed.
    #[inline]
    pub const fn passes(&self) -> bool {
        self.missing().is_empty()
    }

    /// The refusal the gate prints in `main`, or `None` where the CPU has everything; also before
    /// std starts, where that check finds the program's manifest. `variable` is the override
    /// variable's name, which the refusal says cannot help.
    #[inline]
    pub fn message(&self, program: &str, variable: &str) -> Option<String> {
        self.render(program.as_bytes(), Some(variable))
    }

    /// The generic refusal the gate prints before std starts (see `docs/cpu.md`), or
    /// `None` where the CPU has everything: where that check finds no single manifest of the
    /// program in its running image (none, several that disagree, or a system whose image it does
    /// not walk), the program's settings are not known there. It is named by its file's name,
    /// `program_file_name` (`None` where the system does not say, as on Windows), and its override
    /// variable goes unnamed. It exits with [`CpuCheck::EXIT_CODE_BEFORE_START`].
    ///
    /// ```
    /// use platform_gate::{Arch, CpuCheck, CpuFeatures};
    ///
    /// let check = CpuCheck::new(Arch::X86_64, CpuFeatures::x86_64_level(3), CpuFeatures::x86_64_level(1));
    /// let early = check.message_before_start(Some(b"kvd")).unwrap();
    /// assert!(early.starts_with("error: kvd will not start on this CPU"));
    /// assert!(early.contains("its override variable cannot help"));
    /// let unnamed = check.message_before_start(None).unwrap();
    /// assert!(unnamed.starts_with("error: this program will not start on this CPU"));
    /// ```
    #[inline]
    pub fn message_before_start(&self, program_file_name: Option<&[u8]>) -> Option<String> {
        self.render(program_file_name.unwrap_or(UNNAMED_PROGRAM.as_bytes()), None)
    }

    /// The refusal for `program` (its bytes shown as printable ASCII) and `variable` (`None`:
    /// unnamed), rendered by the code the gate runs.
    #[inline]
    fn render(&self, program: &[u8], variable: Option<&str>) -> Option<String> {
        if self.passes() {
            return None;
        }
        let refusal = Refusal {
            family: self.assumed.family,
            x86_64: self.arch == Arch::X86_64,
            program: Some(program),
            variable: variable.map(str::as_bytes),
            from_package: false,
        };
        let mut text = String::new();
        render(&mut text, &refusal, self.assumed.rows, self.present.rows);
        Some(text)
    }
}
