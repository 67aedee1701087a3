// The CPU a build assumed, against the CPU it runs on. A build raised above its architecture's
// baseline (`-C target-cpu=x86-64-v3`, `+avx2`, aarch64 `+lse`) dies with SIGILL where the CPU lacks
// what it assumed; the gate looks first and refuses with a message. This file holds the pure API;
// `refuse.rs`, `detect.rs` and `early.rs` are the code that runs on such a CPU, and obey its rules.

/// Items under a `cfg` predicate, and others under its negation: the predicate written once.
macro_rules! cfg_split {
    (($predicate:meta) { $($yes:item)* } else { $($no:item)* }) => {
        $( #[cfg($predicate)] $yes )*
        $( #[cfg(not($predicate))] $no )*
    };
}

mod detect;
// Its `cfg(any(target_feature = ...))` names every feature of the tables; see `names/mod.rs`.
#[allow(unexpected_cfgs)]
mod early;
mod image;
mod nfd;
mod refuse;
mod sys;

use crate::Arch;
use crate::names::cpu::{AARCH64_FEATURES, BUILD_FLAGS, Family, UNCHECKED, X86_FEATURES};

pub use self::nfd::{LabelValue, NFD_CPUID_LABEL, NfdRequirement, NodeLabel, has_nfd_cpu_labels};
pub(crate) use self::refuse::{Refusal, refuse_cpu};

/// A set of rows of one family's table: two words, so a family holds at most 128 rows. It is a
/// pair of integers, which the compiler moves as two scalars, never as one 16-byte vector: the
/// refusal path runs on CPUs that may lack the instructions such a move would use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct Rows {
    pub(crate) low: u64,
    pub(crate) high: u64,
}

impl Rows {
    pub(crate) const EMPTY: Rows = Rows { low: 0, high: 0 };

    #[inline]
    pub(crate) const fn is_empty(self) -> bool {
        self.low == 0 && self.high == 0
    }

    #[inline]
    pub(crate) const fn without(self, other: Rows) -> Rows {
        Rows { low: self.low & !other.low, high: self.high & !other.high }
    }

    #[inline]
    pub(crate) const fn union(self, other: Rows) -> Rows {
        Rows { low: self.low | other.low, high: self.high | other.high }
    }

    /// The set with row `row` added: for `const` code and tests, never the refusal path (it
    /// shifts by a variable).
    #[inline]
    pub(crate) const fn with(self, row: usize) -> Rows {
        if row < 64 {
            Rows { low: self.low | 1 << row, high: self.high }
        } else {
            Rows { low: self.low, high: self.high | 1 << (row - 64) }
        }
    }

    #[inline]
    pub(crate) const fn contains(self, row: usize) -> bool {
        if row < 64 { self.low & 1 << row != 0 } else { self.high & 1 << (row - 64) != 0 }
    }
}

const _: () = assert!(X86_FEATURES.len() <= 128 && AARCH64_FEATURES.len() <= 128, "a set is two u64s");

/// A set of CPU features the gate knows: those above an architecture's baseline that a build
/// can assume (`target_feature` names: `avx2`, `lse`, ...), of one architecture family.
///
/// ```
/// use platform_gate::{Arch, CpuFeatures};
///
/// let v3 = CpuFeatures::x86_64_level(3);
/// assert!(v3.names().any(|name| name == "avx2"));
/// assert_eq!(v3.level(), 3);
/// let some = CpuFeatures::from_names(Arch::X86_64, &["avx2", "fma"]).unwrap();
/// assert_eq!(some.names().collect::<Vec<_>>(), ["avx2", "fma"]);
/// assert_eq!(some.level(), 1, "two features are no level above the baseline");
/// assert!(CpuFeatures::from_names(Arch::Aarch64, &["lse", "mops"]).is_some());
/// assert!(CpuFeatures::from_names(Arch::Aarch64, &["avx2"]).is_none());
/// assert!(CpuFeatures::all(Arch::X86_64).unwrap().names().any(|name| name == "apxf"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CpuFeatures {
    family: Family,
    rows: Rows,
}

impl CpuFeatures {
    /// The features `arch` can have that `names` name; `None` if `arch` has no table or a name
    /// is not a feature the gate knows for it.
    #[inline]
    pub fn from_names(arch: Arch, names: &[&str]) -> Option<CpuFeatures> {
        let family = family(arch)?;
        let mut rows = Rows::EMPTY;
        for name in names {
            rows = rows.with(family.table().iter().position(|row| row.name == *name)?);
        }
        Some(CpuFeatures { family, rows })
    }

    /// Every feature the gate checks on `arch`; `None` if `arch` has no table.
    #[inline]
    pub fn all(arch: Arch) -> Option<CpuFeatures> {
        let family = family(arch)?;
        let rows = (0..family.table().len()).fold(Rows::EMPTY, Rows::with);
        Some(CpuFeatures { family, rows })
    }

    /// The `target_feature`s rustc lists for `arch` that the gate does not check, each with the
    /// reason: the baseline, features that are no instructions, and features the hardware does not
    /// report to programs. Empty where `arch` has no table.
    ///
    /// ```
    /// use platform_gate::{Arch, CpuFeatures};
    ///
    /// let (name, why) = CpuFeatures::unchecked(Arch::X86_64).find(|(name, _)| *name == "sse2").unwrap();
    /// assert!(why.contains("baseline"), "{name}: {why}");
    /// ```
    #[inline]
    pub fn unchecked(arch: Arch) -> impl Iterator<Item = (&'static str, &'static str)> {
        let family = family(arch);
        UNCHECKED.iter().filter(move |(of, ..)| Some(*of) == family).map(|(_, name, why)| (*name, *why))
    }

    /// The features of x86-64 microarchitecture level `level` (2, 3 or 4; 1 is the baseline).
    #[inline]
    pub const fn x86_64_level(level: u8) -> CpuFeatures {
        CpuFeatures { family: Family::X86, rows: level_rows(level) }
    }

    /// Whether the set is empty.
    #[inline]
    pub const fn is_empty(self) -> bool {
        self.rows.is_empty()
    }

    /// The features of `self` that `other` lacks.
    #[inline]
    pub const fn without(self, other: CpuFeatures) -> CpuFeatures {
        CpuFeatures { family: self.family, rows: self.rows.without(other.rows) }
    }

    /// The features of `self` and those of `other`.
    ///
    /// # Panics
    ///
    /// If the two sets are of different families (x86 and aarch64).
    #[inline]
    pub const fn with(self, other: CpuFeatures) -> CpuFeatures {
        assert!(self.family as u8 == other.family as u8, "features of two architecture families");
        CpuFeatures { family: self.family, rows: self.rows.union(other.rows) }
    }

    /// Whether every feature of `other` is in the set.
    #[inline]
    pub const fn contains(self, other: CpuFeatures) -> bool {
        other.rows.without(self.rows).is_empty()
    }

    /// The features' `target_feature` names, in the table's order (x86-64 levels first).
    #[inline]
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        let table = self.family.table();
        (0..table.len()).filter(move |&row| self.rows.contains(row)).map(move |row| table[row].name)
    }

    /// The highest x86-64 level whose features are all in the set: 1 (the baseline) to 4.
    #[inline]
    pub fn level(self) -> u8 {
        refuse::level_of(self.rows)
    }

    /// What this CPU has of the features the gate knows for the architecture this code was
    /// compiled for, read as the gate reads it; `None` where the gate cannot read this CPU (see
    /// the README's CPU section).
    #[inline]
    pub fn of_this_cpu() -> Option<CpuFeatures> {
        let family = family(crate::Platform::CURRENT.arch)?;
        let all = (0..family.table().len()).fold(Rows::EMPTY, Rows::with);
        Some(CpuFeatures { family, rows: detect::present(all)? })
    }

    /// No features of `arch`'s family; `None` if `arch` has no table.
    #[inline]
    pub fn none(arch: Arch) -> Option<CpuFeatures> {
        Some(CpuFeatures { family: family(arch)?, rows: Rows::EMPTY })
    }
}

/// Whether a refusal before std starts names the program by its file's name (Linux and Android
/// say what file was executed); elsewhere it says "this program".
pub(crate) const NAMES_PROGRAM_FILE: bool = sys::NAMES_PROGRAM_FILE;

/// Whether a refusal before std starts looks for the program's manifest in its running image, and
/// so names the program and its variable and exits with its exit code (see `image.rs`).
pub(crate) const READS_OWN_MANIFEST: bool = image::READS_OWN_MANIFEST;

/// The highest x86-64 level all of whose features are in `rows`, at compile time (the refusal
/// path has its own, `refuse::level_of`, which obeys that path's rules).
#[inline]
pub(crate) const fn const_level_of(rows: Rows) -> u8 {
    let mut level = 1;
    while level < 4 && level_rows(level + 1).without(rows).is_empty() {
        level += 1;
    }
    level
}

/// The features this target's own baseline includes, which every CPU that runs its system has:
/// Windows 10 and later need CMPXCHG16B, SSE3 and LAHF/SAHF, macOS on x86_64 starts at the Core 2,
/// Android's x86 ABIs include SSSE3 (and SSE4.2 and POPCNT on x86_64). Not checked, not named.
const TARGET_BASELINE: Rows = {
    let names: &[&str] = if cfg!(all(target_arch = "x86_64", target_os = "windows")) {
        &["cmpxchg16b", "sse3", "lahfsahf"]
    } else if cfg!(all(target_arch = "x86_64", target_os = "macos")) {
        &["cmpxchg16b", "sse3", "ssse3", "lahfsahf"]
    } else if cfg!(all(target_arch = "x86_64", target_os = "android")) {
        &["sse3", "ssse3", "sse4.1", "sse4.2", "popcnt"]
    } else if cfg!(all(target_arch = "x86", target_os = "android")) {
        &["sse3", "ssse3"]
    } else {
        &[]
    };
    let mut rows = Rows::EMPTY;
    let mut i = 0;
    while i < names.len() {
        let mut row = 0;
        while row < X86_FEATURES.len() {
            if crate::names::same_ignoring_ascii_case(X86_FEATURES[row].name, names[i]) {
                rows = rows.with(row);
            }
            row += 1;
        }
        i += 1;
    }
    rows
};

/// What a build assumed of the CPU above its target's baseline, as rows of this target's family's
/// table: `flags` holds `cfg!(target_feature = ...)` for every row of the tables (x86, then
/// aarch64) as some crate was compiled. Only this target's family counts, and nothing where this
/// build cannot read the hardware: then every check compiles away.
#[inline]
pub(crate) const fn assumed(flags: &[bool]) -> Rows {
    assert!(
        flags.len() == X86_FEATURES.len() + AARCH64_FEATURES.len(),
        "the macro and the runtime disagree on the CPU feature tables"
    );
    let Some(family) = family(crate::Platform::CURRENT.arch) else {
        return Rows::EMPTY;
    };
    if !detect::AVAILABLE {
        return Rows::EMPTY;
    }
    let offset = match family {
        Family::X86 => 0,
        Family::Aarch64 => X86_FEATURES.len(),
    };
    let mut rows = Rows::EMPTY;
    let mut row = 0;
    while row < family.table().len() {
        if flags[offset + row] {
            rows = rows.with(row);
        }
        row += 1;
    }
    rows.without(TARGET_BASELINE)
}

/// What this crate was compiled to assume: `RUSTFLAGS` and `-C target-cpu` reach every crate, std
/// too when it is rebuilt (`-Zbuild-std`) or recompiled with the program (LTO).
pub(crate) const ASSUMED_BY_RUNTIME: Rows = assumed(&BUILD_FLAGS);

/// What `main`'s crate assumed (`flags`, its `cfg!`s) that is left to check in `main`: everything
/// the early check has not already checked before std started.
#[inline]
pub(crate) const fn left_for_main(flags: &[bool]) -> Rows {
    let assumed = assumed(flags);
    if early::INSTALLED { assumed.without(ASSUMED_BY_RUNTIME) } else { assumed }
}

/// What the check before std starts checks: nothing where it is not installed.
#[inline]
pub(crate) const fn checked_before_start() -> Rows {
    if early::INSTALLED { ASSUMED_BY_RUNTIME } else { Rows::EMPTY }
}

/// This target's family; only called where it has one.
pub(crate) const fn this_family() -> Family {
    match family(crate::Platform::CURRENT.arch) {
        Some(family) => family,
        None => Family::X86,
    }
}

const fn family(arch: Arch) -> Option<Family> {
    match arch {
        Arch::X86_64 | Arch::X86 => Some(Family::X86),
        Arch::Aarch64 => Some(Family::Aarch64),
        _ => None,
    }
}

/// The x86 rows of levels 2 to `level`.
#[inline]
const fn level_rows(level: u8) -> Rows {
    let mut rows = Rows::EMPTY;
    let mut row = 0;
    while row < X86_FEATURES.len() {
        let feature = &X86_FEATURES[row];
        if feature.level >= 2 && feature.level <= level {
            rows = rows.with(row);
        }
        row += 1;
    }
    rows
}

/// The CPU check: what a build assumed against what a CPU has, on an architecture. Pure, so
/// that it can be asked about any CPU on any host; the gate asks it about this one.
///
/// ```
/// use platform_gate::{Arch, CpuCheck, CpuFeatures};
///
/// // A build for x86-64-v3 on a CPU with v2 (a Nehalem, say).
/// let check = CpuCheck::new(Arch::X86_64, CpuFeatures::x86_64_level(3), CpuFeatures::x86_64_level(2));
/// assert!(!check.passes());
/// assert!(check.missing().names().any(|name| name == "avx2"));
/// let message = check.message("kvd", "KVD_UNSUPPORTED_ARCH").unwrap();
/// assert!(message.starts_with("error: kvd will not start on this CPU: it was built for x86-64-v3"));
///
/// let fine = CpuCheck::new(Arch::X86_64, CpuFeatures::x86_64_level(2), CpuFeatures::x86_64_level(4));
/// assert!(fine.passes() && fine.message("kvd", "V").is_none());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpuCheck {
    arch: Arch,
    assumed: CpuFeatures,
    present: CpuFeatures,
}

impl CpuCheck {
    /// The exit code of the generic refusal before std starts ([`CpuCheck::message_before_start`]):
    /// 1, etcd's and the attribute's default. A refusal before std starts that finds the program's
    /// manifest in its running image (Linux, Android and Windows, where the image holds one set of
    /// settings) exits with the program's own `exit_code` instead, and says what
    /// [`CpuCheck::message`] says.
    pub const EXIT_CODE_BEFORE_START: u8 = early::EXIT_CODE;

    /// A build for `arch` that assumed `assumed`, on a CPU that has `present`.
    ///
    /// # Panics
    ///
    /// If the two sets are not of `arch`'s family.
    #[inline]
    pub fn new(arch: Arch, assumed: CpuFeatures, present: CpuFeatures) -> CpuCheck {
        let family = family(arch);
        assert!(
            family == Some(assumed.family) && family == Some(present.family),
            "features of another architecture"
        );
        CpuCheck { arch, assumed, present }
    }

    /// What the build assumed and the CPU lacks.
    #[inline]
    pub const fn missing(&self) -> CpuFeatures {
        self.assumed.without(self.present)
    }

    /// Whether the CPU has everything the build assumed.
    #[inline]
    pub const fn passes(&self) -> bool {
        self.missing().is_empty()
    }

    /// The refusal the gate prints in `main`, or `None` where the CPU has everything; also before
    /// std starts, where that check finds the program's manifest. `variable` is the override
    /// variable's name, which the refusal says cannot help.
    #[inline]
    pub fn message(&self, program: &str, variable: &str) -> Option<String> {
        self.render(program.as_bytes(), Some(variable))
    }

    /// The generic refusal the gate prints before std starts (see the README's CPU section), or
    /// `None` where the CPU has everything: where that check finds no single manifest of the
    /// program in its running image (none, several that disagree, or a system whose image it does
    /// not walk), the program's settings are not known there. It is named by its file's name,
    /// `program_file_name` (`None` where the system does not say, as on Windows), and its override
    /// variable goes unnamed. It exits with [`CpuCheck::EXIT_CODE_BEFORE_START`].
    ///
    /// ```
    /// use platform_gate::{Arch, CpuCheck, CpuFeatures};
    ///
    /// let check = CpuCheck::new(Arch::X86_64, CpuFeatures::x86_64_level(3), CpuFeatures::x86_64_level(1));
    /// let early = check.message_before_start(Some(b"kvd")).unwrap();
    /// assert!(early.starts_with("error: kvd will not start on this CPU"));
    /// assert!(early.contains("its override variable cannot help"));
    /// let unnamed = check.message_before_start(None).unwrap();
    /// assert!(unnamed.starts_with("error: this program will not start on this CPU"));
    /// ```
    #[inline]
    pub fn message_before_start(&self, program_file_name: Option<&[u8]>) -> Option<String> {
        self.render(program_file_name.unwrap_or(refuse::UNNAMED_PROGRAM.as_bytes()), None)
    }

    /// The refusal for `program` (its bytes shown as printable ASCII) and `variable` (`None`:
    /// unnamed), rendered by the code the gate runs.
    #[inline]
    fn render(&self, program: &[u8], variable: Option<&str>) -> Option<String> {
        if self.passes() {
            return None;
        }
        let refusal = refuse::Refusal {
            family: self.assumed.family,
            x86_64: self.arch == Arch::X86_64,
            program: Some(program),
            variable: variable.map(str::as_bytes),
            from_package: false,
        };
        let mut text = String::new();
        refuse::render(&mut text, &refusal, self.assumed.rows, self.present.rows);
        Some(text)
    }
}

#[cfg(test)]
mod tests;
