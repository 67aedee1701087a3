// What an operator should know of a placement, one line each. The library words them without the
// command's flags: the command adds the flag that brought a note about, or that changes it.

use core::fmt;

use platform_gate::{Arch, Os, Platform};

use crate::nfd::{CPUID_LABEL, HIDDEN_BY_DEFAULT};

/// What an operator should know of a placement: each displays as one line.
///
/// ```
/// use platform_gate::{Arch, Os, Platform};
/// use platform_gate_fleet::Note;
///
/// let note = Note::NoBinary { platform: Platform::new(Arch::S390x, Os::Linux), program: "kvd".into() };
/// assert_eq!(note.to_string(), "s390x linux: no binary of kvd, so no node of it is admitted");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Note {
    /// The CPU is not judged ([`crate::CpuLabels::None`]): a raised build may refuse where it is
    /// placed.
    CpuNotJudged,
    /// A program has no binary for a platform another program has one for.
    NoBinary {
        /// The platform.
        platform: Platform,
        /// The program.
        program: String,
    },
    /// A program's binary refuses its own platform without the override variable.
    RefusesWithoutVariable {
        /// The platform.
        platform: Platform,
        /// The program.
        program: String,
    },
    /// A program's binary refuses its own platform with the override variable as it was given.
    RefusesWithVariable {
        /// The platform.
        platform: Platform,
        /// The program.
        program: String,
    },
    /// A feature is proved by a label that NFD's default configuration hides.
    HiddenLabel {
        /// The platform.
        platform: Platform,
        /// The program.
        program: String,
        /// The feature, by its `target_feature` name.
        feature: &'static str,
        /// The label's name, after [`crate::nfd::CPUID_LABEL`].
        label: &'static str,
    },
    /// The configuration that publishes the hidden labels a placement requires: NFD's default
    /// `attributeBlacklist` without them. Once per placement, after its [`Note::HiddenLabel`]s.
    HiddenByDefault {
        /// The labels' names, after [`crate::nfd::CPUID_LABEL`].
        labels: Vec<&'static str>,
    },
    /// A platform's term requires NFD's x86-64 level labels, which NFD publishes from v0.19.0 on.
    LevelLabels {
        /// The platform.
        platform: Platform,
        /// The labels' names (`X86_64_V2`..`X86_64_V4`).
        labels: Vec<&'static str>,
    },
    /// Features for which NFD publishes no label keep a platform out.
    Unlabelled {
        /// The platform.
        platform: Platform,
        /// The program.
        program: String,
        /// The features, by their `target_feature` names.
        features: Vec<&'static str>,
    },
    /// Features NFD's CPU features do not name keep a platform out of a placement by rule.
    Unnamed {
        /// The platform.
        platform: Platform,
        /// The program.
        program: String,
        /// The features, by their `target_feature` names.
        features: Vec<&'static str>,
    },
    /// An architecture the matrices admit, for which no binary was given: its CPU is not judged.
    MatrixOnly {
        /// The architecture.
        arch: Arch,
        /// The OS, where the matrices admit it on one only.
        os: Option<Os>,
    },
}

impl Note {
    /// NFD's default `attributeBlacklist` without `labels`: the blacklist that publishes them and
    /// hides all else the default hides. (A non-empty `attributeWhitelist` would replace the
    /// blacklist and hide every label it does not list, the `X86_64_V*` levels included.)
    ///
    /// ```
    /// let blacklist = platform_gate_fleet::Note::blacklist_without(&["CLMUL"]);
    /// assert!(blacklist.contains(&"POPCNT") && !blacklist.contains(&"CLMUL"));
    /// ```
    pub fn blacklist_without(labels: &[&str]) -> Vec<&'static str> {
        HIDDEN_BY_DEFAULT.iter().copied().filter(|hidden| !labels.contains(hidden)).collect()
    }
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::CpuNotJudged => {
                f.write_str("the CPU is not judged: a raised build may refuse where it is placed")
            }
            Note::NoBinary { platform, program } => {
                write!(f, "{platform}: no binary of {program}, so no node of it is admitted")
            }
            Note::RefusesWithoutVariable { platform, program } => {
                write!(f, "{platform}: {program} refuses there without its variable")
            }
            Note::RefusesWithVariable { platform, program } => {
                write!(f, "{platform}: {program} refuses there with its variable as given")
            }
            Note::HiddenLabel { platform, program, feature, label } => write!(
                f,
                "{platform}: {program} needs {feature}, proved by {CPUID_LABEL}{label}, which NFD's default \
                 configuration does not publish: only nodes whose NFD publishes it are admitted"
            ),
            Note::HiddenByDefault { labels } => write!(
                f,
                "to publish {}, set sources.cpu.cpuid.attributeBlacklist in NFD's worker configuration to \
                 [{}]: NFD's default without them",
                labels.join(", "),
                Note::blacklist_without(labels).join(", ")
            ),
            Note::LevelLabels { platform, labels } => write!(
                f,
                "{platform}: requires {}, which NFD publishes from v0.19.0 on: no node of an older NFD \
                 is admitted",
                labels.join(", ")
            ),
            Note::Unlabelled { platform, program, features } => write!(
                f,
                "{platform}: {program} needs {}, for which NFD publishes no label, so no node of it is admitted",
                features.join(", ")
            ),
            Note::Unnamed { platform, program, features } => write!(
                f,
                "{platform}: {program} needs {}, which NFD's CPU features do not name, so no node of it is admitted",
                features.join(", ")
            ),
            Note::MatrixOnly { arch, os } => {
                let on = os.map_or(String::new(), |os| format!(" {os}"));
                write!(f, "{arch}{on}: admitted by the matrices, with no binary given: its CPU is not judged")
            }
        }
    }
}
