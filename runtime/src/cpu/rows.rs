// Sets of rows of a family's feature table (`Rows`, two integers the refusal path moves safely), the
// x86-64 levels as sets, and the scalar helpers every loop of the refusal path counts and tests with
// (`next`, `has`, `ROW_MASKS`): the bottom of the CPU check, which uses nothing of it.

use crate::names::cpu::{AARCH64_FEATURES, Family, X86_FEATURES};
use crate::{Arch, Platform};

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

/// `1 << bit` for every bit of a word, so that the refusal path never shifts by a variable.
pub(crate) const ROW_MASKS: [u64; 64] = {
    let mut masks = [0; 64];
    let mut bit = 0;
    while bit < 64 {
        masks[bit] = 1 << bit;
        bit += 1;
    }
    masks
};

/// Whether row `row` is in `rows`, by its mask (see `refuse.rs`).
#[inline(always)]
pub(crate) fn has(rows: Rows, row: usize) -> bool {
    if row < 64 {
        rows.low & core::hint::black_box(ROW_MASKS[row]) != 0
    } else {
        rows.high & core::hint::black_box(ROW_MASKS[row - 64]) != 0
    }
}

/// `rows` with row `row` added, by its mask: the refusal path's [`Rows::with`].
#[inline(always)]
pub(crate) fn add(rows: &mut Rows, row: usize) {
    if row < 64 {
        rows.low |= core::hint::black_box(ROW_MASKS[row]);
    } else {
        rows.high |= core::hint::black_box(ROW_MASKS[row - 64]);
    }
}

/// `i + 1`, opaque to the optimiser: every loop on the refusal path counts with it, so that none
/// is vectorised or unrolled into instructions the CPU may lack.
#[inline(always)]
pub(crate) fn next(i: usize) -> usize {
    core::hint::black_box(i + 1)
}

/// Whether some row is in `included` but not in `excluded`: two words at once. The complements
/// pass through `black_box`, or the optimiser fuses `a & !b` into `andn` (BMI1).
pub(crate) fn any_beyond(included: Rows, excluded: Rows) -> bool {
    let low = included.low & core::hint::black_box(!excluded.low);
    let high = included.high & core::hint::black_box(!excluded.high);
    low | high != 0
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

/// `level_rows` of every level, computed at compile time, for the refusal path to load.
pub(crate) const LEVEL_ROWS: [Rows; 5] =
    [Rows::EMPTY, Rows::EMPTY, level_rows(2), level_rows(3), level_rows(4)];

/// The highest x86-64 level all of whose rows are in `rows`, by the refusal path's rules.
pub(crate) fn level_of(rows: Rows) -> u8 {
    let mut level = 1;
    while level < 4 {
        let mut row = 0;
        while row < X86_FEATURES.len() {
            let needed = X86_FEATURES[row].level;
            if needed >= 2 && needed <= level + 1 && !has(rows, row) {
                return level;
            }
            row = next(row);
        }
        level += 1;
    }
    level
}

/// The highest x86-64 level all of whose features are in `rows`, at compile time ([`level_of`] is
/// the refusal path's).
#[inline]
pub(crate) const fn const_level_of(rows: Rows) -> u8 {
    let mut level = 1;
    while level < 4 && level_rows(level + 1).without(rows).is_empty() {
        level += 1;
    }
    level
}

/// The family of `arch`'s feature table, if it has one.
pub(crate) const fn family(arch: Arch) -> Option<Family> {
    match arch {
        Arch::X86_64 | Arch::X86 => Some(Family::X86),
        Arch::Aarch64 => Some(Family::Aarch64),
        _ => None,
    }
}

/// This target's family; only called where it has one.
pub(crate) const fn this_family() -> Family {
    match family(Platform::CURRENT.arch) {
        Some(family) => family,
        None => Family::X86,
    }
}
