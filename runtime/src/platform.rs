// The platform a binary was compiled for. It is read from `cfg!` in this crate, which is compiled for
// the target, because a proc macro runs on the build host and would see the wrong machine.

use core::fmt;

use crate::{Arch, Os};

/// An (architecture, operating system) pair.
///
/// ```
/// use platform_gate::{Arch, Os, Platform};
///
/// const HERE: Platform = Platform::CURRENT;
/// # #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
/// assert_eq!(HERE, Platform::new(Arch::X86_64, Os::Linux));
/// assert_eq!(format!("{:#}", Platform::new(Arch::Aarch64, Os::Linux)), "arm64 (aarch64) linux");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Platform {
    /// The CPU architecture.
    pub arch: Arch,
    /// The operating system.
    pub os: Os,
}

impl Platform {
    /// The platform this code was compiled for: the target, never the build host. It tells
    /// `ppc64` from `ppc64le` and `mips64` from `mips64le` by the target's endianness, which
    /// `std::env::consts::ARCH` does not.
    pub const CURRENT: Platform = Platform { arch: Arch::compiled_for(), os: Os::compiled_for() };

    /// The platform of `arch` running `os`.
    #[inline]
    pub const fn new(arch: Arch, os: Os) -> Platform {
        Platform { arch, os }
    }

    /// `==` for `const` code.
    pub const fn is(self, other: Platform) -> bool {
        self.arch.is(other.arch) && self.os.is(other.os)
    }
}

/// `arch os` in Go spelling; with `{:#}`, each followed by its Rust spelling where it differs.
impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.alternate() {
            write!(f, "{:#} {:#}", self.arch, self.os)
        } else {
            write!(f, "{} {}", self.arch, self.os)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_platform_agrees_with_std_where_std_can_tell() {
        let arch = Platform::CURRENT.arch;
        // std spells both POWER and both MIPS64 endians the same; our Rust spelling must extend it.
        assert!(
            arch.rust_name().starts_with(std::env::consts::ARCH),
            "{arch:?} vs {}",
            std::env::consts::ARCH
        );
        assert_eq!(Platform::CURRENT.os.rust_name(), std::env::consts::OS);
    }

    #[test]
    fn current_platform_is_a_named_one_on_the_hosts_we_test() {
        // The hosts this crate is tested on all have names; `Other` would mean a missing `cfg!` arm.
        assert!(!matches!(Platform::CURRENT.arch, Arch::Other(_)));
        assert!(!matches!(Platform::CURRENT.os, Os::Other(_)));
    }
}
