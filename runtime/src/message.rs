// What the operator reads: the refusal and the override warning, rendered from a verdict in the style
// of Rust command-line tools (`error:`/`warning:`, one line saying what happened, then what to do).

use core::fmt;

use crate::decision::{Assessment, Reason, Verdict};
use crate::echo::{Echo, NonAsciiNote};
use crate::{Allow, Arch, Check, Packager, Row, Status};

/// What a value that is not Unicode fails to be: Windows keeps environment values in UTF-16 (which
/// can hold an unpaired surrogate), other systems in bytes that should be UTF-8.
const ENV_ENCODING: &str = if cfg!(windows) { "UTF-16" } else { "UTF-8" };

impl<'a> Verdict<'a> {
    /// The message for the operator: `None` for a supported platform, which prints nothing.
    ///
    /// `program` is the name the message calls the program by.
    ///
    /// ```
    /// use platform_gate::{decide, Arch, Matrix, Os, Platform, Policy};
    ///
    /// let riscv = Platform::new(Arch::Riscv64, Os::Linux);
    /// let verdict = decide(&Matrix::ETCD, Policy::DEFAULT, riscv, "ETCD_UNSUPPORTED_ARCH", None);
    /// let message = verdict.message("etcd").unwrap().to_string();
    /// assert!(message.starts_with("error: etcd will not start on riscv64 linux"));
    /// assert!(message.contains("set ETCD_UNSUPPORTED_ARCH=riscv64"));
    /// ```
    pub fn message(&'a self, program: &'a str) -> Option<Message<'a>> {
        match self {
            Verdict::Supported => None,
            Verdict::Vouched { assessment, packager } => {
                Some(Message { program, assessment, kind: Kind::Vouched(packager) })
            }
            Verdict::Overridden(assessment) => Some(Message { program, assessment, kind: Kind::Overridden }),
            Verdict::Refused { assessment, reason } => {
                Some(Message { program, assessment, kind: Kind::Refusal(reason) })
            }
        }
    }
}

/// An operator-facing message; [`Display`](fmt::Display) renders it, without a trailing newline.
/// A refusal starts with `error:` and has one line per fact and fix; an override's warning is one
/// line starting with `warning:`.
///
/// ```
/// use std::ffi::OsStr;
/// use platform_gate::{decide, Arch, Matrix, Os, Platform, Policy};
///
/// let arm64 = Platform::new(Arch::Aarch64, Os::Linux);
/// let var = "ETCD_UNSUPPORTED_ARCH";
/// let refused = decide(&Matrix::ETCD, Policy::DEFAULT, arm64, var, None);
/// let message = refused.message("etcd").unwrap();
/// assert!(message.is_refusal());
/// assert!(message.to_string().starts_with("error: etcd will not start on arm64 (aarch64) linux"));
///
/// let overridden = decide(&Matrix::ETCD, Policy::DEFAULT, arm64, var, Some(OsStr::new("aarch64")));
/// let warning = overridden.message("etcd").unwrap();
/// assert!(!warning.is_refusal());
/// assert_eq!(warning.to_string().lines().count(), 1);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Message<'a> {
    program: &'a str,
    assessment: &'a Assessment<'a>,
    kind: Kind<'a>,
}

#[derive(Clone, Copy, Debug)]
enum Kind<'a> {
    Refusal(&'a Reason<'a>),
    Overridden,
    Vouched(&'a Packager<'a>),
}

impl Message<'_> {
    /// Whether this is a refusal (`error:`) rather than an override warning (`warning:`).
    pub fn is_refusal(&self) -> bool {
        matches!(self.kind, Kind::Refusal(_))
    }

    /// The message's first line without its `error: ` or `warning: `: what a table of nodes or a
    /// log field shows.
    ///
    /// ```
    /// use std::ffi::OsStr;
    /// use platform_gate::{decide, Arch, Matrix, Os, Platform, Policy};
    ///
    /// let arm64 = Platform::new(Arch::Aarch64, Os::Linux);
    /// let refused = decide(&Matrix::ETCD, Policy::DEFAULT, arm64, "ETCD_UNSUPPORTED_ARCH", None);
    /// let message = refused.message("etcd").unwrap();
    /// assert_eq!(
    ///     message.headline().to_string(),
    ///     "etcd will not start on arm64 (aarch64) linux: the architecture is experimental in etcd's support matrix"
    /// );
    /// assert_eq!(format!("error: {}", message.headline()), message.to_string().lines().next().unwrap());
    /// ```
    pub fn headline(&self) -> impl fmt::Display + '_ {
        Headline(self)
    }

    fn write_headline(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            Kind::Refusal(_) => {
                let Message { program, assessment: a, .. } = *self;
                write!(f, "{program} will not start on {:#}: the {} ", a.platform, a.subject())?;
                match a.status {
                    Some(status) => write!(f, "is {status} in {program}'s support matrix"),
                    None => write!(f, "is not in {program}'s support matrix, so it is unsupported"),
                }
            }
            Kind::Overridden => self.write_warning(f),
            Kind::Vouched(packager) => self.write_vouched(f, packager),
        }
    }

    fn write_refusal(&self, f: &mut fmt::Formatter<'_>, reason: &Reason<'_>) -> fmt::Result {
        let Message { assessment: a, .. } = *self;
        let (arch, variable) = (a.platform.arch, a.variable);
        write!(f, "error: ")?;
        self.write_headline(f)?;
        writeln!(f)?;
        write!(f, "  = note: {variable} ")?;
        match reason {
            Reason::NotSet => writeln!(f, "is not set")?,
            Reason::Empty => writeln!(f, "is set, but empty")?,
            Reason::NotUnicode(value) => {
                writeln!(f, "is set to {}, which is not valid {ENV_ENCODING}", Echo::os_str(value))?
            }
            Reason::Mismatch { value, named } if named.is_empty() => {
                write!(
                    f,
                    "is set to {}, which names no architecture; this one is {}",
                    Echo::text(value),
                    arch.go_name()
                )?;
                if arch.rust_name() != arch.go_name() {
                    write!(f, " or {}", arch.rust_name())?;
                }
                writeln!(f)?;
            }
            Reason::Mismatch { value, named } => {
                write!(f, "is set to {}, which names ", Echo::text(value))?;
                list(f, named.iter().map(|arch| format!("{arch:#}")))?;
                writeln!(f, ", not {arch:#}")?;
            }
        }
        if let Reason::Mismatch { value, .. } = reason {
            if let Some(note) = NonAsciiNote::of(value) {
                writeln!(f, "  = note: {note}")?;
            }
        }
        writeln!(f, "  = help: to start it anyway, set {variable}={}", arch.go_name())?;
        self.passing_platforms(f)?;
        if let Some(note) = a.matrix.row(a.platform).and_then(Row::note) {
            writeln!(f, "  = note: {note}")?;
        }
        write!(f, "  = note: problems on {:#} may not be fixed", a.platform)
    }

    fn write_warning(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let a = self.assessment;
        let status = match a.status {
            Some(Status::Experimental) => "an experimental",
            Some(Status::Unstable) => "an unstable",
            // Stable is never overridden, but a custom policy is free to ask for it.
            Some(Status::Stable) => "a stable",
            None => "an unsupported",
        };
        write!(
            f,
            "{} is running on {:#}, {status} {}, because {} is set",
            self.program,
            a.platform,
            a.subject(),
            a.variable
        )
    }

    /// One line: upstream does not support the platform, the packager of this build does, and
    /// problems go to the packager.
    fn write_vouched(&self, f: &mut fmt::Formatter<'_>, packager: &Packager) -> fmt::Result {
        let Message { program, assessment: a, .. } = *self;
        write!(f, "{program} is running on {:#}, ", a.platform)?;
        match a.status {
            Some(status) => write!(f, "where the {} is {status} in {program}'s support matrix", a.subject())?,
            None => write!(f, "which {program} does not support")?,
        }
        let name = packager.name();
        write!(f, "; {name}, who packaged this build, supports it: report problems to {name}")
    }

    /// The platforms that start without the variable under the same policy.
    fn passing_platforms(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let a = self.assessment;
        let passing = a.matrix.rows().iter().filter(|row| a.policy.admits(Some(row.status())));
        let names: Vec<String> = match a.policy.check() {
            Check::Arch => {
                let mut archs: Vec<Arch> = Vec::new();
                for arch in passing.map(|row| row.platform().arch) {
                    if !archs.contains(&arch) {
                        archs.push(arch);
                    }
                }
                archs.iter().map(|arch| format!("{arch:#}")).collect()
            }
            Check::Platform => passing.map(|row| format!("{:#}", row.platform())).collect(),
        };
        let kind = match a.policy.allow() {
            Allow::Stable => "stable",
            Allow::Experimental => "stable or experimental",
        };
        if names.is_empty() {
            return writeln!(f, "  = note: {}'s support matrix has no {kind} {}", self.program, a.subject());
        }
        write!(f, "  = note: {kind} {}s: ", a.subject())?;
        list(f, names.into_iter())?;
        writeln!(f)
    }
}

impl fmt::Display for Message<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            Kind::Refusal(reason) => self.write_refusal(f, reason),
            Kind::Overridden | Kind::Vouched(_) => {
                f.write_str("warning: ")?;
                self.write_headline(f)
            }
        }
    }
}

/// [`Message::headline`].
struct Headline<'a>(&'a Message<'a>);

impl fmt::Display for Headline<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.write_headline(f)
    }
}

/// Writes `a, b and c`.
fn list(f: &mut fmt::Formatter<'_>, items: impl ExactSizeIterator<Item = String>) -> fmt::Result {
    let count = items.len();
    for (i, item) in items.enumerate() {
        let separator = match i {
            0 => "",
            _ if i + 1 == count => " and ",
            _ => ", ",
        };
        write!(f, "{separator}{item}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::ffi::OsStr;

    use crate::{Arch, Check, Matrix, Os, Platform, Policy, decide};

    const VAR: &str = "ETCD_UNSUPPORTED_ARCH";

    fn render(platform: Platform, policy: Policy, value: Option<&str>) -> Option<String> {
        let verdict = decide(&Matrix::ETCD, policy, platform, VAR, value.map(OsStr::new));
        verdict.message("etcd").map(|message| message.to_string())
    }

    fn linux(arch: Arch) -> Platform {
        Platform::new(arch, Os::Linux)
    }

    #[test]
    fn supported_prints_nothing() {
        assert_eq!(render(linux(Arch::X86_64), Policy::DEFAULT, None), None);
        assert_eq!(render(linux(Arch::Powerpc64le), Policy::DEFAULT, Some("junk")), None);
    }

    #[test]
    fn refusal_of_an_experimental_architecture_with_the_variable_unset() {
        let text = render(linux(Arch::Aarch64), Policy::DEFAULT, None).unwrap();
        assert_eq!(
            text,
            "error: etcd will not start on arm64 (aarch64) linux: the architecture is experimental in etcd's support matrix\n\
             \x20 = note: ETCD_UNSUPPORTED_ARCH is not set\n\
             \x20 = help: to start it anyway, set ETCD_UNSUPPORTED_ARCH=arm64\n\
             \x20 = note: stable architectures: amd64 (x86_64) and ppc64le (powerpc64le)\n\
             \x20 = note: problems on arm64 (aarch64) linux may not be fixed"
        );
    }

    #[test]
    fn refusal_of_an_unlisted_architecture_says_unsupported() {
        let text = render(linux(Arch::Riscv64), Policy::DEFAULT, Some("")).unwrap();
        assert!(text.starts_with(
            "error: etcd will not start on riscv64 linux: the architecture is not in etcd's support matrix, so it is unsupported\n"
        ));
        assert!(text.contains("\n  = note: ETCD_UNSUPPORTED_ARCH is set, but empty\n"), "{text}");
        assert!(text.contains("\n  = help: to start it anyway, set ETCD_UNSUPPORTED_ARCH=riscv64\n"));
    }

    #[test]
    fn refusal_on_32_bit_shows_the_rows_note() {
        for arch in [Arch::Arm, Arch::X86] {
            let text = render(linux(arch), Policy::DEFAULT, None).unwrap();
            assert!(text.contains("the architecture is unstable in etcd's support matrix"), "{text}");
            assert!(text.contains("\n  = note: etcd has known issues on 32-bit systems"), "{text}");
        }
        let text = render(linux(Arch::Aarch64), Policy::DEFAULT, None).unwrap();
        assert!(!text.contains("32-bit"), "{text}");
    }

    #[test]
    fn refusal_says_what_a_wrong_value_names() {
        let text = render(linux(Arch::Aarch64), Policy::DEFAULT, Some("amd64,s390x")).unwrap();
        assert!(
            text.contains(
                "= note: ETCD_UNSUPPORTED_ARCH is set to \"amd64,s390x\", which names amd64 (x86_64) and s390x, not arm64 (aarch64)\n"
            ),
            "{text}"
        );
        // `ARM` is the 32-bit architecture, and the operator is told so.
        let text = render(linux(Arch::Aarch64), Policy::DEFAULT, Some("ARM")).unwrap();
        assert!(text.contains("is set to \"ARM\", which names arm, not arm64 (aarch64)\n"), "{text}");
        let text = render(linux(Arch::Aarch64), Policy::DEFAULT, Some("aarch46")).unwrap();
        assert!(
            text.contains(
                "is set to \"aarch46\", which names no architecture; this one is arm64 or aarch64\n"
            ),
            "{text}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn refusal_shows_a_non_utf8_value_escaped() {
        use std::os::unix::ffi::OsStrExt;
        let value = OsStr::from_bytes(b"arm64\xff");
        let verdict = decide(&Matrix::ETCD, Policy::DEFAULT, linux(Arch::Aarch64), VAR, Some(value));
        let text = verdict.message("etcd").unwrap().to_string();
        assert!(text.contains(r#"is set to "arm64\xff", which is not valid UTF-8"#), "{text}");
    }

    // Run under wine by tests/cross/run.sh.
    #[cfg(windows)]
    #[test]
    fn refusal_shows_a_non_utf16_value_as_set() {
        use std::ffi::OsString;
        use std::os::windows::ffi::OsStringExt;
        let mut units: Vec<u16> = "arm64".encode_utf16().collect();
        units.push(0xDC00);
        let value = OsString::from_wide(&units);
        let verdict = decide(&Matrix::ETCD, Policy::DEFAULT, linux(Arch::Aarch64), VAR, Some(&value));
        let text = verdict.message("etcd").unwrap().to_string();
        assert!(text.contains(r#"is set to "arm64\u{dc00}", which is not valid UTF-16"#), "{text}");
    }

    #[test]
    fn platform_check_names_the_platform_and_lists_stable_platforms() {
        let policy = Policy::DEFAULT.with_check(Check::Platform);
        let text = render(Platform::new(Arch::X86_64, Os::Darwin), policy, None).unwrap();
        assert!(text.starts_with(
            "error: etcd will not start on amd64 (x86_64) darwin (macos): the platform is experimental"
        ));
        assert!(
            text.contains("= note: stable platforms: amd64 (x86_64) linux and ppc64le (powerpc64le) linux\n"),
            "{text}"
        );
    }

    #[test]
    fn a_packager_vouches_in_one_line_and_only_for_its_architectures() {
        let alpine = Policy::DEFAULT.with_packager(Some(crate::Packager::new("Alpine Linux", "loong64,arm")));
        let text = render(linux(Arch::Loongarch64), alpine, None).unwrap();
        assert_eq!(
            text,
            "warning: etcd is running on loong64 (loongarch64) linux, which etcd does not support; \
             Alpine Linux, who packaged this build, supports it: report problems to Alpine Linux"
        );
        let text = render(linux(Arch::Arm), alpine, Some("s390x")).unwrap();
        assert!(
            text.starts_with("warning: etcd is running on arm linux, where the architecture is unstable"),
            "{text}"
        );
        // Elsewhere nothing changes: refused without the variable, silent where stable.
        assert!(render(linux(Arch::Riscv64), alpine, None).unwrap().starts_with("error: "));
        assert_eq!(render(linux(Arch::X86_64), alpine, None), None);
    }

    #[test]
    fn override_is_one_warning_line() {
        let text = render(linux(Arch::Aarch64), Policy::DEFAULT, Some("aarch64")).unwrap();
        assert_eq!(
            text,
            "warning: etcd is running on arm64 (aarch64) linux, an experimental architecture, because ETCD_UNSUPPORTED_ARCH is set"
        );
        let text = render(linux(Arch::S390x), Policy::DEFAULT, Some("S390X")).unwrap();
        assert_eq!(
            text,
            "warning: etcd is running on s390x linux, an unsupported architecture, because ETCD_UNSUPPORTED_ARCH is set"
        );
    }
}
