// An image's index checked against its binaries: what each gated binary would do on a node of the
// platform its entry advertises, judged from its manifest by the gate's own decision.

use core::fmt;

use platform_gate::manifest::{Manifest, Start};
use platform_gate::{Arch, CpuFeatures, Platform};

use crate::image::read::PlatformImage;

/// What a binary of an image would do on a node of the platform its entry advertises, its override
/// variable unset.
///
/// ```
/// # let bytes = include_bytes!("../../../runtime/tests/fixtures/etcd.manifest");
/// use platform_gate::manifest::Manifest;
/// use platform_gate_fleet::image::EntryVerdict;
///
/// let etcd = Manifest::parse(bytes, 0)?; // a baseline linux/amd64 build
/// assert_eq!(EntryVerdict::judge("linux", "amd64", None, &etcd), EntryVerdict::Starts);
/// let other = EntryVerdict::judge("linux", "arm64", None, &etcd);
/// assert_eq!(other.to_string(), "is a binary for linux/amd64, not for the platform its entry advertises");
/// assert!(other.crash_loops());
/// # Ok::<(), platform_gate::manifest::ReadError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EntryVerdict {
    /// It starts, silently.
    Starts,
    /// It starts, with a warning on stderr (an experimental platform its policy admits).
    StartsWithWarning,
    /// Its matrix refuses the platform: without its variable it exits, and the pod crash-loops.
    RefusesWithoutVariable {
        /// The variable that would let it start.
        variable: String,
        /// What it exits with.
        exit_code: u8,
    },
    /// It assumed CPU features that the entry does not advertise (a `v3` build in a plain `amd64`
    /// entry): it refuses the nodes of that platform whose CPU lacks them.
    NeedsCpu {
        /// The features beyond what the entry advertises, as `target_feature` names.
        features: Vec<&'static str>,
        /// The x86-64 level those features make (2 to 4); 0 off x86-64 or where they make none.
        level: u8,
    },
    /// It was built for another platform than its entry advertises.
    OtherPlatform {
        /// What it was built for.
        built_for: Platform,
    },
}

impl EntryVerdict {
    /// What the binary of `manifest`, in `image`'s entry, would do on a node of that entry's platform.
    pub fn of(image: &PlatformImage, manifest: &Manifest<'_>) -> EntryVerdict {
        EntryVerdict::judge(&image.os, &image.architecture, image.variant.as_deref(), manifest)
    }

    /// What the binary of `manifest` would do in an entry that advertises `os`/`architecture`
    /// (Go's names), and `variant`.
    pub fn judge(
        os: &str,
        architecture: &str,
        variant: Option<&str>,
        manifest: &Manifest<'_>,
    ) -> EntryVerdict {
        let built_for = manifest.platform;
        if built_for.arch.go_name() != architecture || built_for.os.go_name() != os {
            return EntryVerdict::OtherPlatform { built_for };
        }
        let prediction = manifest.predict(&Start { value: None, cpu: None, file_name: b"" });
        if let Some(exit_code) = prediction.refusal {
            return EntryVerdict::RefusesWithoutVariable {
                variable: manifest.variable.to_string(),
                exit_code,
            };
        }
        if let Some(assumed) = manifest.cpu.assumed().filter(|assumed| !assumed.is_empty()) {
            // What every node of the entry's platform has: its x86-64 level where it names one.
            let beyond = match (built_for.arch, variant) {
                (Arch::X86_64, Some(level @ ("v2" | "v3" | "v4"))) => {
                    assumed.without(CpuFeatures::x86_64_level(level.as_bytes()[1] - b'0'))
                }
                _ => assumed,
            };
            if !beyond.is_empty() {
                let level = if built_for.arch == Arch::X86_64 { assumed.level() } else { 0 };
                return EntryVerdict::NeedsCpu {
                    features: beyond.names().collect(),
                    level: if level >= 2 { level } else { 0 },
                };
            }
        }
        if prediction.stderr.is_empty() { EntryVerdict::Starts } else { EntryVerdict::StartsWithWarning }
    }

    /// Whether a pod of that platform can crash-loop on it: everything but starting.
    pub fn crash_loops(&self) -> bool {
        !matches!(self, EntryVerdict::Starts | EntryVerdict::StartsWithWarning)
    }
}

impl fmt::Display for EntryVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EntryVerdict::Starts => f.write_str("starts"),
            EntryVerdict::StartsWithWarning => f.write_str("starts, with a warning"),
            EntryVerdict::RefusesWithoutVariable { variable, exit_code } => write!(
                f,
                "refuses without its variable ({variable} unset: exits {exit_code}): this advertised platform crash-loops"
            ),
            EntryVerdict::NeedsCpu { features, level } => {
                let level = if *level >= 2 { format!("x86-64-v{level}: ") } else { String::new() };
                write!(
                    f,
                    "needs a CPU with {level}{}, which the entry does not advertise: a node's affinity must require them",
                    features.join(", ")
                )
            }
            EntryVerdict::OtherPlatform { built_for } => {
                write!(
                    f,
                    "is a binary for {}/{}, not for the platform its entry advertises",
                    built_for.os.go_name(),
                    built_for.arch.go_name()
                )
            }
        }
    }
}
