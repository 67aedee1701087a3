// Sets of CPU features: `Rows`, a set of rows of one family's table as two integers, which the
// refusal path moves safely (see `refuse.rs`), and `CpuFeatures`, the public set with its family;
// and the x86-64 levels as sets.
//
// Zone: the refusal path: its code runs on a CPU that lacks what the build assumed and obeys
// `cpu/refuse.rs`'s rules, proved by `tests/cpu/run.sh` and `tests/cpu/baseline_only.py` (see
// CONTRIBUTING.md).

use super::{detect, family, refuse};
use crate::Arch;
use crate::names::cpu::{AARCH64_FEATURES, Family, UNCHECKED, X86_FEATURES};

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
    pub(super) family: Family,
    pub(super) rows: Rows,
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
    /// `docs/cpu.md`).
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

/// The x86 rows of levels 2 to `level`.
#[inline]
pub(crate) const fn level_rows(level: u8) -> Rows {
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
