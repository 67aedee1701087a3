// `CpuFeatures`, the public set of CPU features with its family: what a build assumed, what a CPU
// has, by `target_feature` names.

use super::detect;
use super::rows::{Rows, family, level_of, level_rows};
use crate::Arch;
use crate::names::cpu::{Family, Source, UNCHECKED};

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
        level_of(self.rows)
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

    /// Whether the features are x86's (one table serves 32- and 64-bit x86), not aarch64's.
    ///
    /// ```
    /// use platform_gate::{Arch, CpuFeatures};
    ///
    /// assert!(CpuFeatures::none(Arch::X86).unwrap().is_x86());
    /// assert!(!CpuFeatures::none(Arch::Aarch64).unwrap().is_x86());
    /// ```
    #[inline]
    pub const fn is_x86(self) -> bool {
        matches!(self.family, Family::X86)
    }

    /// The bits of Linux's `AT_HWCAP` and `AT_HWCAP2` that report the features, as the gate reads
    /// them on aarch64 Linux and Android (a feature is present when all of its bits are); `None`
    /// for x86, whose features CPUID reports.
    ///
    /// ```
    /// use platform_gate::{Arch, CpuFeatures};
    ///
    /// let aes = CpuFeatures::from_names(Arch::Aarch64, &["aes"]).unwrap();
    /// assert_eq!(aes.linux_hwcaps(), Some((1 << 3 | 1 << 4, 0)), "AES and PMULL");
    /// assert_eq!(CpuFeatures::x86_64_level(2).linux_hwcaps(), None);
    /// ```
    #[inline]
    pub fn linux_hwcaps(self) -> Option<(u64, u64)> {
        if self.is_x86() {
            return None;
        }
        let table = self.family.table();
        let mut words = (0, 0);
        for row in (0..table.len()).filter(|&row| self.rows.contains(row)) {
            match table[row].source {
                Source::Hwcap { word: 1, mask } => words.0 |= mask,
                Source::Hwcap { mask, .. } => words.1 |= mask,
                Source::Cpuid { .. } | Source::Avx10 { .. } => {}
            }
        }
        Some(words)
    }

    /// No features of `arch`'s family; `None` if `arch` has no table.
    #[inline]
    pub fn none(arch: Arch) -> Option<CpuFeatures> {
        Some(CpuFeatures { family: family(arch)?, rows: Rows::EMPTY })
    }
}
