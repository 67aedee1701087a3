// The policy: what a platform must be to start without the override, and how a refusal exits.
// Its checks are `const fn`, so a gated `main` can know at compile time that its target passes.

use core::num::NonZeroU8;

use crate::names::policy::{ALLOWS, CHECKS};
use crate::{Matrix, Packager, Platform, Status};

/// What the matrix is asked about.
///
/// ```
/// use platform_gate::{Arch, Check, Matrix, Os, Platform, Policy, Status};
///
/// // In etcd's matrix amd64 is stable on Linux and experimental on Darwin.
/// let amd64_darwin = Platform::new(Arch::X86_64, Os::Darwin);
/// let by_arch = Policy::DEFAULT.with_check(Check::Arch);
/// let by_platform = Policy::DEFAULT.with_check(Check::Platform);
/// assert_eq!(by_arch.status_of(&Matrix::ETCD, amd64_darwin), Some(Status::Stable));
/// assert_eq!(by_platform.status_of(&Matrix::ETCD, amd64_darwin), Some(Status::Experimental));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Check {
    /// The architecture alone, whatever the OS, as etcd's code does: an architecture is as
    /// supported as its best row. `#[platform_gated(check = "arch")]`, the default.
    Arch,
    /// The (architecture, OS) pair, as etcd's documentation rates them.
    /// `#[platform_gated(check = "platform")]`.
    Platform,
}

impl Check {
    /// The word the attribute takes for it, `check = "arch"` or `check = "platform"`, which the
    /// command's JSON prints too.
    ///
    /// ```
    /// use platform_gate::Check;
    ///
    /// assert_eq!((Check::Arch.name(), Check::Platform.name()), ("arch", "platform"));
    /// ```
    #[inline]
    pub const fn name(self) -> &'static str {
        CHECKS[self as usize]
    }
}

/// The lowest status that starts without the override variable. There is no `Unstable`: on an
/// unstable platform the operator opts in with the variable.
///
/// ```
/// use platform_gate::{Allow, Policy, Status};
///
/// assert!(!Policy::DEFAULT.admits(Some(Status::Experimental)));
/// let lenient = Policy::DEFAULT.with_allow(Allow::Experimental);
/// assert!(lenient.admits(Some(Status::Experimental)));
/// assert!(!lenient.admits(Some(Status::Unstable)));
/// assert!(!lenient.admits(None), "unlisted is unsupported");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Allow {
    /// Only stable platforms start by themselves. `#[platform_gated(allow = "stable")]`, the default.
    Stable,
    /// Experimental platforms start too. `#[platform_gated(allow = "experimental")]`.
    Experimental,
}

impl Allow {
    /// The word the attribute takes for it, `allow = "stable"` or `allow = "experimental"`, which
    /// the command's JSON prints too.
    ///
    /// ```
    /// use platform_gate::Allow;
    ///
    /// assert_eq!((Allow::Stable.name(), Allow::Experimental.name()), ("stable", "experimental"));
    /// ```
    #[inline]
    pub const fn name(self) -> &'static str {
        ALLOWS[self as usize]
    }
}

/// How a gate judges a platform: what it checks, what it allows, the exit code of a refusal, and
/// the packager (if any) who supports the build beyond the matrix.
///
/// ```
/// use platform_gate::{Allow, Arch, Check, Matrix, Os, Platform, Policy};
///
/// let arm64_linux = Platform::new(Arch::Aarch64, Os::Linux);
/// assert!(!Policy::DEFAULT.passes(&Matrix::ETCD, arm64_linux));
/// let lenient = Policy::DEFAULT.with_check(Check::Platform).with_allow(Allow::Experimental);
/// assert!(lenient.passes(&Matrix::ETCD, arm64_linux));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Policy<'a> {
    check: Check,
    allow: Allow,
    // Read in place by the CPU refusal, which must not copy the whole policy (see `cpu/refuse.rs`).
    pub(crate) exit_code: NonZeroU8,
    packager: Option<Packager<'a>>,
}

impl Policy<'static> {
    /// etcd's policy: the architecture must be stable somewhere in the matrix; a refusal exits 1.
    pub const DEFAULT: Policy<'static> =
        Policy { check: Check::Arch, allow: Allow::Stable, exit_code: NonZeroU8::MIN, packager: None };
}

impl<'a> Policy<'a> {
    /// The policy with this check.
    #[inline]
    pub const fn with_check(self, check: Check) -> Policy<'a> {
        Policy { check, ..self }
    }

    /// The policy with this lowest status that starts by itself.
    #[inline]
    pub const fn with_allow(self, allow: Allow) -> Policy<'a> {
        Policy { allow, ..self }
    }

    /// The policy with this exit code for a refusal.
    #[inline]
    pub const fn with_exit_code(self, exit_code: NonZeroU8) -> Policy<'a> {
        Policy { exit_code, ..self }
    }

    /// The policy with a packager who supports this build on further architectures (see
    /// [`Packager`]); gates start from [`Packager::FROM_BUILD`].
    #[inline]
    pub const fn with_packager(self, packager: Option<Packager<'a>>) -> Policy<'a> {
        Policy { packager, ..self }
    }

    /// What the matrix is asked about.
    #[inline]
    pub const fn check(self) -> Check {
        self.check
    }

    /// The lowest status that starts by itself.
    #[inline]
    pub const fn allow(self) -> Allow {
        self.allow
    }

    /// The exit code of a refusal.
    pub const fn exit_code(self) -> NonZeroU8 {
        self.exit_code
    }

    /// The packager who supports this build beyond the matrix, if any.
    #[inline]
    pub const fn packager(self) -> Option<Packager<'a>> {
        self.packager
    }

    /// The status this policy judges `platform` by: its architecture's best status, or its own
    /// row's, depending on [`Check`]. `None` means unsupported.
    pub const fn status_of(self, matrix: &Matrix<'_>, platform: Platform) -> Option<Status> {
        match self.check {
            Check::Arch => matrix.arch_status(platform.arch),
            Check::Platform => matrix.status(platform),
        }
    }

    /// Whether a platform of this status starts without the override variable.
    pub const fn admits(self, status: Option<Status>) -> bool {
        let lowest = match self.allow {
            Allow::Stable => Status::Stable,
            Allow::Experimental => Status::Experimental,
        };
        match status {
            Some(status) => status.rank() >= lowest.rank(),
            None => false,
        }
    }

    /// Whether `platform` starts by itself under this policy, with no variable read.
    pub const fn passes(self, matrix: &Matrix<'_>, platform: Platform) -> bool {
        self.admits(self.status_of(matrix, platform))
    }
}

impl Default for Policy<'_> {
    /// [`Policy::DEFAULT`], etcd's.
    fn default() -> Self {
        Policy::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Arch, Os};

    #[test]
    fn etcd_policy_passes_an_architecture_stable_on_any_os() {
        // amd64 is experimental on Darwin but stable on Linux: etcd's code lets it start.
        let amd64_darwin = Platform::new(Arch::X86_64, Os::Darwin);
        assert!(Policy::DEFAULT.passes(&Matrix::ETCD, amd64_darwin));
        assert!(!Policy::DEFAULT.with_check(Check::Platform).passes(&Matrix::ETCD, amd64_darwin));
    }

    #[test]
    fn allow_experimental_passes_experimental_but_not_unstable_or_unlisted() {
        let policy = Policy::DEFAULT.with_allow(Allow::Experimental);
        assert!(policy.passes(&Matrix::ETCD, Platform::new(Arch::Aarch64, Os::Linux)));
        assert!(!policy.passes(&Matrix::ETCD, Platform::new(Arch::Arm, Os::Linux)));
        assert!(!policy.passes(&Matrix::ETCD, Platform::new(Arch::Riscv64, Os::Linux)));
    }

    #[test]
    fn the_check_is_usable_in_const() {
        // Checked by the compiler: this is what lets `#[platform_gated]` decide at compile time.
        const {
            assert!(Policy::DEFAULT.passes(&Matrix::ETCD, Platform::new(Arch::Powerpc64le, Os::Linux)));
            assert!(!Policy::DEFAULT.passes(&Matrix::ETCD, Platform::new(Arch::Powerpc64, Os::Linux)));
        }
    }
}
