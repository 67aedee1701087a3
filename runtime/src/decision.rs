// The decision: a pure function of the matrix, the policy, the platform and the override variable,
// so that tests can ask it about every architecture from any host. Nothing here touches the process.

use std::ffi::OsStr;

use crate::names::{first_item, list_names};
use crate::{Arch, Check, Matrix, Packager, Platform, Policy, Status};

/// What the gate decided, with what its message needs. [`decide`] makes it;
/// [`Verdict::message`] renders it for the operator.
///
/// ```
/// use std::ffi::OsStr;
/// use platform_gate::{decide, Arch, Matrix, Os, Platform, Policy, Verdict};
///
/// let var = "ETCD_UNSUPPORTED_ARCH";
/// for (arch, value, starts) in [
///     (Arch::X86_64, None, true),             // stable: the variable is not even read
///     (Arch::Aarch64, Some("arm64"), true),   // experimental, overridden
///     (Arch::Riscv64, Some("arm64"), false),  // unlisted, and the value names another
/// ] {
///     let platform = Platform::new(arch, Os::Linux);
///     let verdict = decide(&Matrix::ETCD, Policy::DEFAULT, platform, var, value.map(OsStr::new));
///     let started = match verdict {
///         Verdict::Supported | Verdict::Vouched { .. } | Verdict::Overridden(_) => true,
///         Verdict::Refused { .. } => false,
///         _ => unreachable!("a verdict this example does not know"),
///     };
///     assert_eq!(started, starts, "{arch:?}");
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict<'a> {
    /// The platform passes by itself; the variable was not consulted and nothing is printed.
    Supported,
    /// The platform does not pass by itself, but the build's packager supports its
    /// architecture (see [`Packager`](crate::Packager)); the variable was not consulted.
    Vouched {
        /// What the matrix says of the platform.
        assessment: Assessment<'a>,
        /// Who supports it.
        packager: Packager<'a>,
    },
    /// The platform does not pass by itself, but the variable names its architecture.
    Overridden(Assessment<'a>),
    /// The platform does not pass by itself, and the variable does not name its architecture.
    Refused {
        /// What the matrix says of the platform.
        assessment: Assessment<'a>,
        /// Why the variable did not let it start.
        reason: Reason<'a>,
    },
}

/// What the matrix says of a platform that does not pass by itself.
///
/// ```
/// use std::ffi::OsStr;
/// use platform_gate::{decide, Arch, Matrix, Os, Platform, Policy, Status, Verdict};
///
/// let arm = Platform::new(Arch::Arm, Os::Linux);
/// let verdict = decide(&Matrix::ETCD, Policy::DEFAULT, arm, "ETCD_UNSUPPORTED_ARCH", Some(OsStr::new("arm")));
/// let Verdict::Overridden(assessment) = verdict else { panic!("{verdict:?}") };
/// assert_eq!(assessment.platform, arm);
/// assert_eq!(assessment.status, Some(Status::Unstable));
/// assert_eq!(assessment.variable, "ETCD_UNSUPPORTED_ARCH");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Assessment<'a> {
    /// The platform judged.
    pub platform: Platform,
    /// Its status as the policy judges it; `None` when unlisted, and so unsupported.
    pub status: Option<Status>,
    /// The policy it was judged by.
    pub policy: Policy<'a>,
    /// The matrix it was judged against.
    pub matrix: &'a Matrix<'a>,
    /// The override variable's name.
    pub variable: &'a str,
}

/// Why the override variable did not let a platform start.
///
/// ```
/// use std::ffi::OsStr;
/// use platform_gate::{decide, Arch, Matrix, Os, Platform, Policy, Reason, Verdict};
///
/// let arm64 = Platform::new(Arch::Aarch64, Os::Linux);
/// let reason = |value: Option<&'static str>| {
///     match decide(&Matrix::ETCD, Policy::DEFAULT, arm64, "V", value.map(OsStr::new)) {
///         Verdict::Refused { reason, .. } => reason,
///         other => panic!("{other:?}"),
///     }
/// };
/// assert_eq!(reason(None), Reason::NotSet);
/// assert_eq!(reason(Some("")), Reason::Empty);
/// // `ARM` is 32-bit ARM, not arm64: the refusal says which architecture the value names.
/// assert_eq!(reason(Some("ARM")), Reason::Mismatch { value: "ARM", named: vec![Arch::Arm] });
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reason<'a> {
    /// The variable is not set.
    NotSet,
    /// The variable is set to the empty string.
    Empty,
    /// The variable's value is not Unicode (bytes that are not UTF-8, or on Windows UTF-16 with an
    /// unpaired surrogate), so it names nothing.
    NotUnicode(&'a OsStr),
    /// The variable's value does not name the platform's architecture.
    Mismatch {
        /// The value, as set.
        value: &'a str,
        /// The architectures it names instead, if any.
        named: Vec<Arch>,
    },
}

/// Decides whether the program starts on `platform`, given the override variable's value.
///
/// A platform that the policy admits is [`Verdict::Supported`] whatever the variable says. One
/// whose architecture the policy's packager supports is [`Verdict::Vouched`].
/// Otherwise the variable must name the architecture (see [`names_arch`]) for
/// [`Verdict::Overridden`]; anything else is [`Verdict::Refused`] with the reason.
///
/// ```
/// use std::ffi::OsStr;
/// use platform_gate::{decide, Arch, Matrix, Os, Platform, Policy, Reason, Verdict};
///
/// let arm64 = Platform::new(Arch::Aarch64, Os::Linux);
/// let var = "ETCD_UNSUPPORTED_ARCH";
/// let verdict = decide(&Matrix::ETCD, Policy::DEFAULT, arm64, var, Some(OsStr::new("aarch64")));
/// assert!(matches!(verdict, Verdict::Overridden(_)));
///
/// let verdict = decide(&Matrix::ETCD, Policy::DEFAULT, arm64, var, None);
/// assert!(matches!(verdict, Verdict::Refused { reason: Reason::NotSet, .. }));
/// ```
pub fn decide<'a>(
    matrix: &'a Matrix<'a>,
    policy: Policy<'a>,
    platform: Platform,
    variable: &'a str,
    value: Option<&'a OsStr>,
) -> Verdict<'a> {
    let status = policy.status_of(matrix, platform);
    if policy.admits(status) {
        return Verdict::Supported;
    }
    let assessment = Assessment { platform, status, policy, matrix, variable };
    if let Some(packager) = policy.packager() {
        if packager.supports(platform.arch) {
            return Verdict::Vouched { assessment, packager };
        }
    }
    let reason = match value {
        None => Reason::NotSet,
        Some(value) if value.is_empty() => Reason::Empty,
        Some(value) => match value.to_str() {
            None => Reason::NotUnicode(value),
            Some(text) if names_arch(text, platform.arch) => return Verdict::Overridden(assessment),
            Some(text) => Reason::Mismatch { value: text, named: named_archs(text) },
        },
    };
    Verdict::Refused { assessment, reason }
}

/// The override rule: whether an override value names `arch`.
///
/// The value is a comma-separated list; it names `arch` when any item, with surrounding ASCII
/// whitespace trimmed, is one of its spellings (Go or Rust, ASCII case-insensitive). A prefix,
/// a substring, another architecture, or any character outside ASCII never does.
///
/// ```
/// use platform_gate::{names_arch, Arch};
///
/// assert!(names_arch(" ARM64 ", Arch::Aarch64));
/// assert!(names_arch("s390x,aarch64", Arch::Aarch64));
/// assert!(!names_arch("arm", Arch::Aarch64));
/// assert!(!names_arch("amd64x", Arch::X86_64));
/// assert!(!names_arch("\u{a0}amd64", Arch::X86_64), "a no-break space is not trimmed");
/// ```
pub const fn names_arch(value: &str, arch: Arch) -> bool {
    list_names(value, arch)
}

/// The architectures an override value names, each once, in the order given.
fn named_archs(value: &str) -> Vec<Arch> {
    let mut named = Vec::new();
    let mut rest = Some(value);
    while let Some(list) = rest {
        let (item, after) = first_item(list);
        if let Some(arch) = crate::names::architecture_named(item) {
            if !named.contains(&arch) {
                named.push(arch);
            }
        }
        rest = after;
    }
    named
}

impl Assessment<'_> {
    /// What was judged, in a message's words: "the architecture" or "the platform".
    pub(crate) fn subject(&self) -> &'static str {
        match self.policy.check() {
            Check::Arch => "architecture",
            Check::Platform => "platform",
        }
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::OsString;

    use super::*;
    use crate::Os;

    const VAR: &str = "APP_UNSUPPORTED_ARCH";
    /// A matrix that lists nothing, so that every architecture needs the variable.
    const NOTHING: Matrix = Matrix::new(&[]);

    fn verdict_for(arch: Arch, value: Option<&OsStr>) -> Verdict<'_> {
        decide(&NOTHING, Policy::DEFAULT, Platform::new(arch, Os::Linux), VAR, value)
    }

    fn passes(arch: Arch, value: &str) -> bool {
        match verdict_for(arch, Some(OsStr::new(value))) {
            Verdict::Overridden(assessment) => {
                assert_eq!(assessment.platform.arch, arch);
                assert_eq!(assessment.status, None);
                true
            }
            Verdict::Refused { .. } => false,
            Verdict::Supported | Verdict::Vouched { .. } => panic!("nothing is supported by an empty matrix"),
        }
    }

    fn reason(arch: Arch, value: Option<&OsStr>) -> Reason<'_> {
        match verdict_for(arch, value) {
            Verdict::Refused { reason, .. } => reason,
            other => panic!("{arch:?} with {value:?}: expected a refusal, got {other:?}"),
        }
    }

    /// Another architecture than `arch`, for the "names another architecture" case.
    fn another(arch: Arch) -> Arch {
        if arch == Arch::S390x { Arch::X86_64 } else { Arch::S390x }
    }

    #[test]
    fn every_architecture_against_every_kind_of_value() {
        for &arch in Arch::ALL {
            let (go, rust) = (arch.go_name(), arch.rust_name());
            assert_eq!(reason(arch, None), Reason::NotSet, "{arch:?} unset");
            assert_eq!(reason(arch, Some(OsStr::new(""))), Reason::Empty, "{arch:?} empty");
            assert!(passes(arch, go), "{arch:?} in Go spelling");
            assert!(passes(arch, rust), "{arch:?} in Rust spelling");
            assert!(passes(arch, &go.to_uppercase()), "{arch:?} upper-case Go");
            assert!(passes(arch, &swap_case(rust)), "{arch:?} mixed-case Rust");
            assert!(passes(arch, &format!(" \t{go}\n")), "{arch:?} padded");
            assert!(passes(arch, &format!("{},{rust}", another(arch).go_name())), "{arch:?} in a list");
            assert!(passes(arch, &format!("{go} , {}", another(arch).go_name())), "{arch:?} first in a list");

            let other = another(arch).go_name();
            assert_eq!(
                reason(arch, Some(OsStr::new(other))),
                Reason::Mismatch { value: other, named: vec![another(arch)] },
                "{arch:?} with another architecture"
            );
            for near_miss in [&go[..go.len() - 1], &format!("{go}x"), &format!("x{rust}"), &format!("{go};")]
            {
                assert!(!passes(arch, near_miss), "{arch:?} must not pass with {near_miss:?}");
            }
            let bytes = non_utf8(go);
            assert_eq!(reason(arch, Some(&bytes)), Reason::NotUnicode(&bytes), "{arch:?} non-UTF-8");
        }
    }

    #[test]
    fn the_etcd_examples_from_the_brief() {
        // `amd`, `amd64x` and `x86` never pass on x86_64; `aarch64` and `ARM64` do on arm64.
        for value in ["amd", "amd64x", "x86", "x86-64", "amd64 x86_64"] {
            assert!(!passes(Arch::X86_64, value), "{value}");
        }
        assert!(passes(Arch::Aarch64, "aarch64"));
        assert!(passes(Arch::Aarch64, "ARM64"));
        assert!(passes(Arch::X86, "i686"));
        assert!(!passes(Arch::Arm, "arm64"), "arm64 is not arm");
        assert!(!passes(Arch::Powerpc64, "ppc64le"), "the endians are different architectures");
        assert!(!passes(Arch::Powerpc64le, "powerpc64"), "the endians are different architectures");
    }

    #[test]
    fn only_ascii_is_trimmed_and_only_ascii_matches() {
        for value in [
            "\u{a0}amd64",   // no-break space
            "\u{85}amd64",   // NEL
            "amd64\u{3000}", // ideographic space
            "amd64\u{3164}", // Hangul filler, which renders blank
            "\u{430}md64",   // Cyrillic a
            "\u{ff41}md64",  // fullwidth a
            "AMD\u{661}4",   // Arabic-Indic digit six
            "\u{212a}",      // Kelvin sign, which Unicode lower-cases to k
        ] {
            assert!(!passes(Arch::X86_64, value), "{value:?}");
        }
        assert!(passes(Arch::X86_64, "\x0c\r amd64 \t\n"), "ASCII whitespace is trimmed");
    }

    #[test]
    fn a_mismatch_says_what_the_value_names() {
        let named = |value| match reason(Arch::Aarch64, Some(OsStr::new(value))) {
            Reason::Mismatch { named, .. } => named,
            other => panic!("{other:?}"),
        };
        assert_eq!(named("amd64, x86_64, s390x"), [Arch::X86_64, Arch::S390x]);
        assert_eq!(named("aarch46"), []);
        assert_eq!(named(" "), [], "blank is a value that names nothing, not an empty one");
    }

    #[test]
    fn a_supported_platform_ignores_the_variable_entirely() {
        let amd64 = Platform::new(Arch::X86_64, Os::Linux);
        let bytes = non_utf8("x");
        for value in [None, Some(OsStr::new("")), Some(OsStr::new("s390x")), Some(bytes.as_os_str())] {
            assert_eq!(decide(&Matrix::ETCD, Policy::DEFAULT, amd64, VAR, value), Verdict::Supported);
        }
    }

    #[test]
    fn an_unnamed_architecture_is_overridden_by_its_own_spelling() {
        let m68k = Arch::Other("m68k");
        assert!(passes(m68k, "M68K"));
        assert!(!passes(m68k, "m68"));
    }

    fn swap_case(s: &str) -> String {
        s.chars().enumerate().map(|(i, c)| if i % 2 == 0 { c.to_ascii_uppercase() } else { c }).collect()
    }

    #[cfg(unix)]
    fn non_utf8(prefix: &str) -> OsString {
        use std::os::unix::ffi::OsStringExt;
        let mut bytes = prefix.as_bytes().to_vec();
        bytes.push(0xff);
        OsString::from_vec(bytes)
    }

    #[cfg(windows)]
    fn non_utf8(prefix: &str) -> OsString {
        use std::os::windows::ffi::OsStringExt;
        let mut wide: Vec<u16> = prefix.encode_utf16().collect();
        wide.push(0xd800); // an unpaired surrogate
        OsString::from_wide(&wide)
    }
}
