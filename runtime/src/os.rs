// Operating systems and their two spellings: Go's `GOOS` (etcd's matrix) and Rust's `target_os`.
// The macro crate compiles this same file, so it must name nothing outside it.

use core::fmt;

/// An operating system, as an operator or a support matrix names it.
///
/// Names parse from the Go spelling (`GOOS`) or the Rust one (`target_os`), ASCII
/// case-insensitively; support matrices show the proper name (`Linux`, `Darwin`).
///
/// ```
/// use platform_gate::Os;
///
/// assert_eq!(Os::from_name("macos"), Some(Os::Darwin));
/// assert_eq!(Os::from_name("Darwin"), Some(Os::Darwin));
/// assert_eq!(format!("{:#}", Os::Darwin), "darwin (macos)");
/// assert_eq!(Os::Linux.proper_name(), "Linux");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Os {
    /// `linux` in both.
    Linux,
    /// `darwin` in Go, `macos` in Rust.
    Darwin,
    /// `windows` in both.
    Windows,
    /// `freebsd` in both.
    FreeBsd,
    /// `netbsd` in both.
    NetBsd,
    /// `openbsd` in both.
    OpenBsd,
    /// `dragonfly` in both.
    DragonFly,
    /// `illumos` in both.
    Illumos,
    /// `solaris` in both.
    Solaris,
    /// `android` in both.
    Android,
    /// `ios` in both.
    Ios,
    /// `aix` in both.
    Aix,
    /// WebAssembly System Interface: `wasip1` in Go, `wasi` in Rust.
    Wasi,
    /// An operating system this crate has no name for, spelled as `std::env::consts::OS` spells
    /// it. Only the current platform produces it; names never parse to it.
    Other(&'static str),
}

impl Os {
    /// Every operating system this crate names, in the order of the list above.
    pub const ALL: [Os; 13] = [
        Os::Linux,
        Os::Darwin,
        Os::Windows,
        Os::FreeBsd,
        Os::NetBsd,
        Os::OpenBsd,
        Os::DragonFly,
        Os::Illumos,
        Os::Solaris,
        Os::Android,
        Os::Ios,
        Os::Aix,
        Os::Wasi,
    ];

    /// The Go spelling (`GOOS`).
    pub const fn go_name(self) -> &'static str {
        match self {
            Os::Linux => "linux",
            Os::Darwin => "darwin",
            Os::Windows => "windows",
            Os::FreeBsd => "freebsd",
            Os::NetBsd => "netbsd",
            Os::OpenBsd => "openbsd",
            Os::DragonFly => "dragonfly",
            Os::Illumos => "illumos",
            Os::Solaris => "solaris",
            Os::Android => "android",
            Os::Ios => "ios",
            Os::Aix => "aix",
            Os::Wasi => "wasip1",
            Os::Other(name) => name,
        }
    }

    /// The Rust spelling (`target_os`).
    pub const fn rust_name(self) -> &'static str {
        match self {
            Os::Darwin => "macos",
            Os::Wasi => "wasi",
            other => other.go_name(),
        }
    }

    /// The name a support matrix shows, as etcd's does: `Linux`, `Darwin`, `FreeBSD`.
    pub const fn proper_name(self) -> &'static str {
        match self {
            Os::Linux => "Linux",
            Os::Darwin => "Darwin",
            Os::Windows => "Windows",
            Os::FreeBsd => "FreeBSD",
            Os::NetBsd => "NetBSD",
            Os::OpenBsd => "OpenBSD",
            Os::DragonFly => "DragonFly",
            Os::Illumos => "illumos",
            Os::Solaris => "Solaris",
            Os::Android => "Android",
            Os::Ios => "iOS",
            Os::Aix => "AIX",
            Os::Wasi => "WASI",
            Os::Other(name) => name,
        }
    }

    /// Whether `name` is this system's Go or Rust spelling, ignoring ASCII case.
    pub const fn is_named(self, name: &str) -> bool {
        name.eq_ignore_ascii_case(self.go_name()) || name.eq_ignore_ascii_case(self.rust_name())
    }

    /// The operating system a name spells, in Go or Rust spelling, ignoring ASCII case.
    pub const fn from_name(name: &str) -> Option<Os> {
        let mut i = 0;
        while i < Os::ALL.len() {
            if Os::ALL[i].is_named(name) {
                return Some(Os::ALL[i]);
            }
            i += 1;
        }
        None
    }

    /// `==` for `const` code. Two systems are the same when their Go spellings are.
    pub const fn is(self, other: Os) -> bool {
        self.go_name().eq_ignore_ascii_case(other.go_name())
    }
}

/// The Go spelling; with `{:#}`, the Rust spelling follows in parentheses where it differs.
impl fmt::Display for Os {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.go_name())?;
        if f.alternate() && self.go_name() != self.rust_name() {
            write!(f, " ({})", self.rust_name())?;
        }
        Ok(())
    }
}
