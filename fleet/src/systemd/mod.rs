//! systemd: a drop-in that skips a unit where its gated binary would refuse, instead of a start
//! that fails and, with `Restart=`, loops. It carries `ConditionArchitecture=` and
//! `ConditionCPUFeature=` lines (or their `Assert…=` forms) for what the binary requires, read from
//! its manifest by the same [`Binary`] and decision that place a pod, and `RestartPreventExitStatus=`
//! with the binary's own refusal codes for a refusal that still happens. This is the one place that
//! spells a systemd name: [`architectures`] and [`SYSTEMD_CPU_FEATURES`], each bound by a test to
//! systemd's own lists (`fleet/tests/fixtures/systemd.txt`).
//!
//! ```
//! # let bytes = include_bytes!("../../../runtime/tests/fixtures/etcd.manifest");
//! use platform_gate::manifest::Manifest;
//! use platform_gate_fleet::systemd::{DropInOptions, drop_in};
//!
//! let mut etcd = Manifest::parse(bytes, 0)?; // a baseline amd64 Linux build, etcd's matrix
//! etcd.cpu.before_start = Some(platform_gate::CpuFeatures::x86_64_level(2));
//! let drop_in = drop_in(&etcd, &DropInOptions::default()).unwrap();
//! assert!(drop_in.text.contains("\nConditionArchitecture=x86-64\nConditionCPUFeature=cx16\n"));
//! assert!(drop_in.text.contains("\nRestartPreventExitStatus=1\n"));
//! # Ok::<(), platform_gate::manifest::ReadError>(())
//! ```

use core::fmt;
use std::ffi::OsStr;
use std::fmt::Write as _;

use platform_gate::manifest::Manifest;
use platform_gate::{Arch, CpuCheck, Os, Platform, Verdict, decide};

use crate::pod::Binary;

mod names;

pub use self::names::{CpuConditions, SYSTEMD_CPU_FEATURES, architectures, cpu_conditions};

/// What the drop-in says of the unit beyond the binary itself.
///
/// ```
/// let options = platform_gate_fleet::systemd::DropInOptions::default();
/// assert!(options.value.is_none() && !options.assert && options.exec_condition.is_none());
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct DropInOptions<'a> {
    /// What the unit's environment sets the binary's override variable to (`None`: unset); the
    /// drop-in sets it with `Environment=`.
    pub value: Option<&'a OsStr>,
    /// `AssertArchitecture=` and `AssertCPUFeature=` in place of the `Condition…=` lines: a start
    /// where they fail is a failed job, logged loudly, rather than a skipped unit.
    pub assert: bool,
    /// An `ExecCondition=` that runs `platform-gate check` on the binary when the unit starts.
    pub exec_condition: Option<ExecCondition<'a>>,
}

/// `ExecCondition=COMMAND check BINARY`: the `platform-gate` command and the binary, by their
/// absolute paths on the unit's host. systemd starts the unit on exit 0, skips it on 1 to 254.
///
/// ```
/// use std::ffi::OsStr;
///
/// let command = OsStr::new("/usr/bin/platform-gate");
/// let check = platform_gate_fleet::systemd::ExecCondition { command, binary: OsStr::new("/usr/bin/kvd") };
/// assert_eq!(check.command, "/usr/bin/platform-gate");
/// ```
#[derive(Clone, Copy, Debug)]
pub struct ExecCondition<'a> {
    /// The `platform-gate` command.
    pub command: &'a OsStr,
    /// The gated binary the unit runs.
    pub binary: &'a OsStr,
}

/// A rendered drop-in, and what it cannot say.
///
/// ```
/// # let bytes = include_bytes!("../../../runtime/tests/fixtures/etcd.manifest");
/// # let mut etcd = platform_gate::manifest::Manifest::parse(bytes, 0)?;
/// use platform_gate_fleet::systemd::{DropInOptions, drop_in};
///
/// etcd.cpu.before_start = Some(platform_gate::CpuFeatures::x86_64_level(4));
/// let drop_in = drop_in(&etcd, &DropInOptions::default()).unwrap();
/// assert_eq!(drop_in.unnamed, ["avx512bw", "avx512cd", "avx512dq", "avx512f", "avx512vl"]);
/// assert_eq!(drop_in.exit_codes, [1]);
/// # Ok::<(), platform_gate::manifest::ReadError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DropIn {
    /// The file, for `/etc/systemd/system/UNIT.service.d/`.
    pub text: String,
    /// The CPU features the binary assumed that no `ConditionCPUFeature=` line can prove: only an
    /// `ExecCondition=` checks them before a start.
    pub unnamed: Vec<&'static str>,
    /// The exit codes the binary refuses with, in `RestartPreventExitStatus=`.
    pub exit_codes: Vec<u8>,
}

/// Why a binary gets no drop-in.
///
/// ```
/// # let bytes = include_bytes!("../../../runtime/tests/fixtures/etcd.manifest");
/// # let mut etcd = platform_gate::manifest::Manifest::parse(bytes, 0)?;
/// use platform_gate::{Arch, Os, Platform};
/// use platform_gate_fleet::systemd::{DropInError, DropInOptions, drop_in};
///
/// etcd.platform = Platform::new(Arch::Aarch64, Os::Linux); // experimental in etcd's matrix
/// let error = drop_in(&etcd, &DropInOptions::default()).unwrap_err();
/// assert!(matches!(error, DropInError::Refused { .. }));
/// assert!(error.to_string().ends_with("the architecture is experimental in etcd's support matrix"));
/// # Ok::<(), platform_gate::manifest::ReadError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DropInError {
    /// The binary is for another OS than Linux, where systemd runs.
    NotLinux(Platform),
    /// systemd has no name for the binary's architecture.
    NoArchitectureName(Arch),
    /// The binary refuses its platform with the variable as the unit's environment sets it: the
    /// headline of the refusal it would print.
    Refused {
        /// The refusal's first line, without `error: `.
        headline: String,
    },
    /// A value a unit file cannot carry: not UTF-8, or a control character.
    Unwritable {
        /// What it is: `the variable's value`, `the command's path`, `the binary's path`.
        what: &'static str,
        /// It, lossily.
        value: String,
    },
}

impl fmt::Display for DropInError {
    #[inline]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DropInError::NotLinux(platform) => {
                write!(f, "a binary for {platform:#}: systemd runs Linux binaries")
            }
            DropInError::NoArchitectureName(arch) => {
                write!(f, "systemd has no architecture name for {arch:#}")
            }
            DropInError::Refused { headline } => f.write_str(headline),
            DropInError::Unwritable { what, value } => {
                write!(
                    f,
                    "{what} {value:?} cannot be written in a unit file (not UTF-8, or a control character)"
                )
            }
        }
    }
}

impl std::error::Error for DropInError {}

/// The drop-in for the unit that runs the binary `manifest` describes: `[Unit]` conditions for its
/// architecture and every CPU feature it assumed ([`Binary::cpu`], as a pod's placement requires
/// them), and `[Service]` lines: `Environment=` where `options.value` is given, the
/// `ExecCondition=`, and `RestartPreventExitStatus=` with its refusal codes. An error where the
/// binary is not for Linux, or refuses its platform with the variable as `options.value` says.
///
/// ```
/// # let bytes = include_bytes!("../../../runtime/tests/fixtures/etcd.manifest");
/// # let mut etcd = platform_gate::manifest::Manifest::parse(bytes, 0)?;
/// use std::ffi::OsStr;
/// use platform_gate::{Arch, Os, Platform};
/// use platform_gate_fleet::systemd::{DropInOptions, drop_in};
///
/// etcd.platform = Platform::new(Arch::Aarch64, Os::Linux);
/// let options = DropInOptions { value: Some(OsStr::new("arm64")), assert: true, ..DropInOptions::default() };
/// let text = drop_in(&etcd, &options).unwrap().text;
/// assert!(text.contains("\nAssertArchitecture=arm64\n") && text.contains("\nEnvironment=ETCD_UNSUPPORTED_ARCH=arm64\n"));
/// # Ok::<(), platform_gate::manifest::ReadError>(())
/// ```
pub fn drop_in(manifest: &Manifest<'_>, options: &DropInOptions<'_>) -> Result<DropIn, DropInError> {
    let binary = Binary::from(manifest);
    let platform = binary.platform;
    if platform.os != Os::Linux {
        return Err(DropInError::NotLinux(platform));
    }
    let arch_names = architectures(platform.arch);
    if arch_names.is_empty() {
        return Err(DropInError::NoArchitectureName(platform.arch));
    }
    let verdict = decide(&binary.matrix, binary.policy, platform, binary.variable, options.value);
    let program = binary.program;
    let starts = match &verdict {
        Verdict::Refused { .. } => {
            let message = verdict.message(program).expect("a refusal has a message");
            return Err(DropInError::Refused { headline: message.headline().to_string() });
        }
        Verdict::Supported => "starts",
        Verdict::Overridden(_) => "starts with a warning (the variable overrides its matrix)",
        _ => "starts with a warning (its packager vouches for the architecture)",
    };
    let environment = match options.value {
        Some(value) => Some(unit_word(value, "the variable's value", Quote::Environment(binary.variable))?),
        None => None,
    };
    let exec_condition = match options.exec_condition {
        Some(check) => Some(format!(
            "{} check {}",
            unit_word(check.command, "the command's path", Quote::Command)?,
            unit_word(check.binary, "the binary's path", Quote::Command)?
        )),
        None => None,
    };
    // Every feature the binary assumed, as `Pod::placement` requires them of a node.
    let assumed = binary.cpu();
    let cpu = assumed.map(cpu_conditions).unwrap_or_default();
    let assumed: Vec<&str> = assumed.map(|features| features.names().collect()).unwrap_or_default();
    let exit_codes = exit_codes(manifest);

    let mut text = String::new();
    let kind = if options.assert { "Assert" } else { "Condition" };
    let _ = writeln!(text, "# For the unit that runs {program} ({platform}), from its manifest: install as");
    let _ = writeln!(
        text,
        "# /etc/systemd/system/UNIT.service.d/platform-gate.conf, then `systemctl daemon-reload`."
    );
    let cpu_words =
        if assumed.is_empty() { String::new() } else { format!(", on a CPU with {}", assumed.join(", ")) };
    let _ = writeln!(text, "# {program} {starts} on {}{cpu_words}.", arch_names.join(" or "));
    let _ = match options.assert {
        false => writeln!(
            text,
            "# Where a line below fails, systemd skips the unit: no start, no failure, no restart."
        ),
        true => writeln!(
            text,
            "# Where a line below fails, the start job fails and says so in the journal; the unit does not run."
        ),
    };
    text.push_str("[Unit]\n");
    if arch_names.len() > 1 {
        let _ = writeln!(
            text,
            "# Either architecture (\"|\"): these join any other \"|\" condition of the unit."
        );
    }
    let or = if arch_names.len() > 1 { "|" } else { "" };
    for name in arch_names {
        let _ = writeln!(text, "{kind}Architecture={or}{name}");
    }
    for name in &cpu.names {
        if *name == "osxsave" {
            text.push_str("# osxsave: the OS saves the AVX registers, which the gate checks too.\n");
        }
        let _ = writeln!(text, "{kind}CPUFeature={name}");
    }
    text.push_str("\n[Service]\n");
    if let Some(environment) = environment {
        let _ = writeln!(text, "Environment={environment}");
    }
    if !cpu.unnamed.is_empty() {
        let _ = writeln!(text, "# systemd has no Condition line for {}.", cpu.unnamed.join(", "));
    }
    if let Some(command) = exec_condition {
        let _ = writeln!(
            text,
            "# The gate's own check before each start: exit 0 starts; 1 (it would refuse) and 2 (cannot tell) skip."
        );
        let _ = writeln!(text, "ExecCondition={command}");
    }
    let codes: Vec<String> = exit_codes.iter().map(u8::to_string).collect();
    let _ = writeln!(
        text,
        "# {program} exits {} if it refuses anyway (its variable changed, the binary replaced): no restart on that.",
        codes.join(" or ")
    );
    if exit_codes.contains(&1) {
        let _ = writeln!(
            text,
            "# Programs exit 1 on other errors too; a policy's own exit code keeps this line to refusals."
        );
    }
    let _ = writeln!(text, "RestartPreventExitStatus={}", codes.join(" "));
    Ok(DropIn { text, unnamed: cpu.unnamed, exit_codes })
}

/// The exit codes the binary refuses with: its policy's, and the generic refusal's before std
/// starts where that one cannot name the program ([`Manifest::names_itself_before_start`]).
fn exit_codes(manifest: &Manifest<'_>) -> Vec<u8> {
    let mut codes = vec![manifest.policy.exit_code().get()];
    let checks_before_start = manifest.cpu.before_start.is_some_and(|features| !features.is_empty());
    if checks_before_start
        && !manifest.names_itself_before_start()
        && !codes.contains(&CpuCheck::EXIT_CODE_BEFORE_START)
    {
        codes.push(CpuCheck::EXIT_CODE_BEFORE_START);
    }
    codes.sort_unstable();
    codes
}

/// How a word is written in a unit file.
#[derive(Clone, Copy)]
enum Quote<'a> {
    /// A word of an `Exec…=` command line: `$` is a variable there, so `$$`.
    Command,
    /// `Environment=VARIABLE=value`, as one word.
    Environment(&'a str),
}

/// `value` as one word of a unit file line: bare where it holds only characters no parser treats
/// specially, otherwise in double quotes with `\` and `"` escaped; `%` (a specifier) is `%%`
/// either way. An error for what a unit file cannot hold: not UTF-8, a control character.
fn unit_word(value: &OsStr, what: &'static str, quote: Quote<'_>) -> Result<String, DropInError> {
    let unwritable = || DropInError::Unwritable { what, value: value.to_string_lossy().into_owned() };
    let text = value.to_str().ok_or_else(unwritable)?;
    if text.chars().any(char::is_control) {
        return Err(unwritable());
    }
    let word = match quote {
        Quote::Command => text.to_string(),
        Quote::Environment(variable) => format!("{variable}={text}"),
    };
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+,:=@".contains(c);
    let mut out = String::new();
    let quoted = !word.chars().all(plain) || word.is_empty();
    if quoted {
        out.push('"');
    }
    for c in word.chars() {
        match c {
            '%' => out.push_str("%%"),
            '$' if matches!(quote, Quote::Command) => out.push_str("$$"),
            '\\' | '"' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    if quoted {
        out.push('"');
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
