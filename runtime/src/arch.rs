// CPU architectures and their two spellings: Go's (which etcd's matrix and its override variable use)
// and Rust's `target_arch`. The macro crate compiles this same file, so it must name nothing outside it.

use core::fmt;

/// A CPU architecture, as an operator or a support matrix names it.
///
/// Every architecture has a Go spelling (`GOARCH`, used by etcd's matrix and its
/// `ETCD_UNSUPPORTED_ARCH` variable) and a Rust spelling (`target_arch`, or the target triple's
/// prefix where `target_arch` alone cannot tell two apart, as for `powerpc64le`). Names parse from
/// either, ASCII case-insensitively.
///
/// ```
/// use platform_gate::Arch;
///
/// assert_eq!(Arch::from_name("AMD64"), Some(Arch::X86_64));
/// assert_eq!(Arch::from_name("aarch64"), Some(Arch::Aarch64));
/// assert_eq!(Arch::Aarch64.to_string(), "arm64");
/// // The alternate form shows both spellings where they differ, as messages do.
/// assert_eq!(format!("{:#}", Arch::Aarch64), "arm64 (aarch64)");
/// assert_eq!(format!("{:#}", Arch::S390x), "s390x");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Arch {
    /// `amd64` in Go, `x86_64` in Rust.
    X86_64,
    /// 32-bit x86: `386` in Go, `x86` in Rust; `i386` and `i686` are accepted too.
    X86,
    /// `arm64` in Go, `aarch64` in Rust.
    Aarch64,
    /// 32-bit ARM: `arm` in both.
    Arm,
    /// Little-endian 64-bit POWER: `ppc64le` in Go, `powerpc64le` in Rust.
    Powerpc64le,
    /// Big-endian 64-bit POWER: `ppc64` in Go, `powerpc64` in Rust.
    Powerpc64,
    /// 32-bit POWER: `ppc` in Go, `powerpc` in Rust.
    Powerpc,
    /// IBM Z: `s390x` in both.
    S390x,
    /// `riscv64` in both.
    Riscv64,
    /// `riscv32` in both.
    Riscv32,
    /// `loong64` in Go, `loongarch64` in Rust.
    Loongarch64,
    /// Big-endian 32-bit MIPS: `mips` in both.
    Mips,
    /// Little-endian 32-bit MIPS: `mipsle` in Go, `mipsel` in Rust.
    Mipsel,
    /// Big-endian 64-bit MIPS: `mips64` in both.
    Mips64,
    /// Little-endian 64-bit MIPS: `mips64le` in Go, `mips64el` in Rust.
    Mips64el,
    /// `sparc64` in both.
    Sparc64,
    /// `wasm` in Go, `wasm32` in Rust.
    Wasm32,
    /// An architecture this crate has no name for, spelled as `std::env::consts::ARCH` spells it.
    /// Only the current platform produces it; names never parse to it.
    Other(&'static str),
}

impl Arch {
    /// Every architecture this crate names, in the order of the list above.
    pub const ALL: [Arch; 17] = [
        Arch::X86_64,
        Arch::X86,
        Arch::Aarch64,
        Arch::Arm,
        Arch::Powerpc64le,
        Arch::Powerpc64,
        Arch::Powerpc,
        Arch::S390x,
        Arch::Riscv64,
        Arch::Riscv32,
        Arch::Loongarch64,
        Arch::Mips,
        Arch::Mipsel,
        Arch::Mips64,
        Arch::Mips64el,
        Arch::Sparc64,
        Arch::Wasm32,
    ];

    /// The Go spelling (`GOARCH`): what etcd's matrix and its override variable use.
    pub const fn go_name(self) -> &'static str {
        match self {
            Arch::X86_64 => "amd64",
            Arch::X86 => "386",
            Arch::Aarch64 => "arm64",
            Arch::Arm => "arm",
            Arch::Powerpc64le => "ppc64le",
            Arch::Powerpc64 => "ppc64",
            Arch::Powerpc => "ppc",
            Arch::S390x => "s390x",
            Arch::Riscv64 => "riscv64",
            Arch::Riscv32 => "riscv32",
            Arch::Loongarch64 => "loong64",
            Arch::Mips => "mips",
            Arch::Mipsel => "mipsle",
            Arch::Mips64 => "mips64",
            Arch::Mips64el => "mips64le",
            Arch::Sparc64 => "sparc64",
            Arch::Wasm32 => "wasm",
            Arch::Other(name) => name,
        }
    }

    /// The Rust spelling: `target_arch`, or the target triple's prefix for the little-endian
    /// POWER and MIPS variants, whose `target_arch` is the same as their big-endian twin's.
    pub const fn rust_name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::X86 => "x86",
            Arch::Aarch64 => "aarch64",
            Arch::Arm => "arm",
            Arch::Powerpc64le => "powerpc64le",
            Arch::Powerpc64 => "powerpc64",
            Arch::Powerpc => "powerpc",
            Arch::S390x => "s390x",
            Arch::Riscv64 => "riscv64",
            Arch::Riscv32 => "riscv32",
            Arch::Loongarch64 => "loongarch64",
            Arch::Mips => "mips",
            Arch::Mipsel => "mipsel",
            Arch::Mips64 => "mips64",
            Arch::Mips64el => "mips64el",
            Arch::Sparc64 => "sparc64",
            Arch::Wasm32 => "wasm32",
            Arch::Other(name) => name,
        }
    }

    /// Further spellings that operators use for the same architecture.
    const fn aliases(self) -> &'static [&'static str] {
        match self {
            Arch::X86 => &["i386", "i686"],
            _ => &[],
        }
    }

    /// Whether `name` is one of this architecture's spellings, ignoring ASCII case.
    /// The whole name must match: `amd`, `amd64x` and `x86` do not name `x86_64`.
    ///
    /// ```
    /// use platform_gate::Arch;
    ///
    /// assert!(Arch::X86.is_named("i686"));
    /// assert!(!Arch::X86_64.is_named("x86"));
    /// ```
    pub const fn is_named(self, name: &str) -> bool {
        if name.eq_ignore_ascii_case(self.go_name()) || name.eq_ignore_ascii_case(self.rust_name()) {
            return true;
        }
        let aliases = self.aliases();
        let mut i = 0;
        while i < aliases.len() {
            if name.eq_ignore_ascii_case(aliases[i]) {
                return true;
            }
            i += 1;
        }
        false
    }

    /// The architecture a name spells, in Go or Rust spelling, ignoring ASCII case.
    pub const fn from_name(name: &str) -> Option<Arch> {
        let mut i = 0;
        while i < Arch::ALL.len() {
            if Arch::ALL[i].is_named(name) {
                return Some(Arch::ALL[i]);
            }
            i += 1;
        }
        None
    }

    /// `==` for `const` code. Two architectures are the same when their Go spellings are.
    pub const fn is(self, other: Arch) -> bool {
        self.go_name().eq_ignore_ascii_case(other.go_name())
    }
}

/// The Go spelling; with `{:#}`, the Rust spelling follows in parentheses where it differs.
impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.go_name())?;
        if f.alternate() && self.go_name() != self.rust_name() {
            write!(f, " ({})", self.rust_name())?;
        }
        Ok(())
    }
}
