// The packager's knob: a distribution that supports a build on architectures upstream does not
// says so at build time, instead of patching the source. It is read when this crate is compiled,
// so the decision stays a constant, and Cargo rebuilds when it changes.

use crate::Arch;
use crate::names::{first_forbidden_character, first_unknown_architecture, list_names};

/// Who packaged this build, and the architectures they support it on although the program's
/// own matrix does not. A gate started on one of them prints one line naming the packager
/// instead of refusing, and the operator needs no override variable.
///
/// A build sets it with two environment variables, read when this crate is compiled:
/// `PLATFORM_GATE_PACKAGER` (who vouches for the build, such as `Alpine Linux`) and
/// `PLATFORM_GATE_PACKAGER_SUPPORTS` (architectures in Go or Rust spelling, comma-separated).
/// A misspelt architecture, or the list without a packager, fails the build.
///
/// ```
/// use platform_gate::{Arch, Packager};
///
/// const ALPINE: Packager = Packager::new("Alpine Linux", "loong64, riscv64");
/// assert!(ALPINE.supports(Arch::Loongarch64));
/// assert!(!ALPINE.supports(Arch::S390x));
/// assert_eq!(ALPINE.name(), "Alpine Linux");
/// // What this build was given (nothing, in the tests).
/// let _ = Packager::FROM_BUILD;
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Packager<'a> {
    name: &'a str,
    /// Bit `i` for `Arch::ALL[i]`.
    architectures: u64,
}

// Every architecture has a bit.
const _: () = assert!(Arch::ALL.len() <= 64);

impl Packager<'static> {
    /// The packager this crate was compiled with: `PLATFORM_GATE_PACKAGER` and
    /// `PLATFORM_GATE_PACKAGER_SUPPORTS`, or `None` where the list is not set. Every gate starts
    /// from it.
    pub const FROM_BUILD: Option<Packager<'static>> =
        from_build(option_env!("PLATFORM_GATE_PACKAGER"), option_env!("PLATFORM_GATE_PACKAGER_SUPPORTS"));
}

impl<'a> Packager<'a> {
    /// `name` supports the comma-separated `architectures` (Go or Rust spelling).
    ///
    /// # Panics
    ///
    /// If the name is empty or holds a control character, or an item of the list names no
    /// architecture. In a `const` this is a compile error.
    #[inline]
    pub const fn new(name: &'a str, architectures: &str) -> Packager<'a> {
        if name.trim_ascii().is_empty() || first_forbidden_character(name).is_some() {
            panic!("a packager's name must be one line of text, such as \"Alpine Linux\"");
        }
        if let Some(unknown) = first_unknown_architecture(architectures) {
            panic!(
                "{}",
                Composed::new().push("a packager's list names `").push(unknown).push(UNKNOWN).as_str()
            );
        }
        let mut mask = 0;
        let mut i = 0;
        while i < Arch::ALL.len() {
            if list_names(architectures, Arch::ALL[i]) {
                mask |= arch_bit(Arch::ALL[i]);
            }
            i += 1;
        }
        Packager { name, architectures: mask }
    }

    /// `name`, who supports the architectures of `mask`'s bits ([`arch_bit`]'s): what a manifest's
    /// reader checked.
    #[cfg(feature = "read")]
    #[inline]
    pub(crate) const fn from_mask(name: &'a str, mask: u64) -> Packager<'a> {
        Packager { name, architectures: mask }
    }

    /// Who packaged the build.
    #[inline]
    pub const fn name(&self) -> &'a str {
        self.name
    }

    /// Whether the packager supports `arch`.
    pub const fn supports(&self, arch: Arch) -> bool {
        self.architectures & arch_bit(arch) != 0
    }

    /// The architectures the packager supports, each once, in the order of the list.
    #[inline]
    pub fn architectures(&self) -> Vec<Arch> {
        Arch::ALL.iter().copied().filter(|&arch| self.supports(arch)).collect()
    }
}

/// `arch`'s bit in a packager's set: bit `i` for `Arch::ALL[i]`, none for an architecture outside
/// the table.
#[inline]
pub(crate) const fn arch_bit(arch: Arch) -> u64 {
    let mut i = 0;
    while i < Arch::ALL.len() {
        if Arch::ALL[i].is(arch) {
            return 1 << i;
        }
        i += 1;
    }
    0
}

const UNKNOWN: &str = "`, which is no architecture; use Go or Rust names, such as loong64 or riscv64";

/// The packager the build environment names; its mistakes stop the build with what to fix.
#[inline]
const fn from_build(
    name: Option<&'static str>,
    architectures: Option<&'static str>,
) -> Option<Packager<'static>> {
    let Some(architectures) = architectures else {
        // A packager's name alone vouches for nothing: a distribution may set it for every build.
        return None;
    };
    let Some(name) = name else {
        panic!(
            "PLATFORM_GATE_PACKAGER_SUPPORTS is set, but PLATFORM_GATE_PACKAGER is not: name who supports \
             this build, such as PLATFORM_GATE_PACKAGER=\"Alpine Linux\""
        );
    };
    if let Some(unknown) = first_unknown_architecture(architectures) {
        let message =
            Composed::new().push("PLATFORM_GATE_PACKAGER_SUPPORTS names `").push(unknown).push(UNKNOWN);
        panic!("{}", message.as_str());
    }
    Some(Packager::new(name, architectures))
}

/// A message put together at compile time, so that a `const` panic can name the mistake.
struct Composed {
    bytes: [u8; 256],
    len: usize,
}

impl Composed {
    #[inline]
    const fn new() -> Composed {
        Composed { bytes: [0; 256], len: 0 }
    }

    /// Appends `text` whole, or `...` where it would not fit.
    #[inline]
    const fn push(mut self, text: &str) -> Composed {
        let (text, fits) = match self.len + text.len() <= self.bytes.len() - 3 {
            true => (text.as_bytes(), true),
            false => ("...".as_bytes(), false),
        };
        let mut i = 0;
        while i < text.len() && (fits || self.len < self.bytes.len()) {
            self.bytes[self.len] = text[i];
            self.len += 1;
            i += 1;
        }
        self
    }

    #[inline]
    const fn as_str(&self) -> &str {
        match core::str::from_utf8(self.bytes.split_at(self.len).0) {
            Ok(text) => text,
            Err(_) => "a packager's setting is wrong",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_takes_go_and_rust_spellings_and_nothing_else() {
        let packager = Packager::new("Debian", " LOONG64,riscv64 ,");
        assert_eq!(packager.architectures(), [Arch::Riscv64, Arch::Loongarch64]);
        assert!(std::panic::catch_unwind(|| Packager::new("Debian", "loong46")).is_err());
        assert!(std::panic::catch_unwind(|| Packager::new("", "riscv64")).is_err());
        assert!(std::panic::catch_unwind(|| Packager::new("Evil\n  = help: x", "riscv64")).is_err());
    }

    #[test]
    fn the_build_environment_names_its_mistakes() {
        assert_eq!(from_build(None, None), None);
        assert_eq!(from_build(Some("Debian"), None), None, "a name alone vouches for nothing");
        assert_eq!(from_build(Some("Debian"), Some("riscv64")), Some(Packager::new("Debian", "riscv64")));
        let panic = |name, list| {
            let payload = std::panic::catch_unwind(|| from_build(name, Some(list))).expect_err("must panic");
            match payload.downcast_ref::<&str>() {
                Some(text) => text.to_string(),
                None => payload.downcast_ref::<String>().cloned().unwrap_or_default(),
            }
        };
        assert!(
            panic(Some("Debian"), "riscv64,loong46")
                .contains("PLATFORM_GATE_PACKAGER_SUPPORTS names `loong46`")
        );
        assert!(panic(None, "riscv64").contains("PLATFORM_GATE_PACKAGER is not"));
    }

    #[test]
    fn composed_messages_stop_short_of_their_buffer() {
        let long = "x".repeat(1000).leak();
        let message = Composed::new().push("names `").push(long).push("`");
        assert!(message.as_str().starts_with("names `..."));
        assert!(message.as_str().len() <= 256);
    }
}
