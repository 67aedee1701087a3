// The CPU a build assumed, against the CPU it runs on. A build raised above its architecture's
// baseline (`-C target-cpu=x86-64-v3`, `+avx2`, aarch64 `+lse`) dies with SIGILL where the CPU lacks
// what it assumed; the gate looks first and refuses with a message. All but `detect` is pure.

use crate::Arch;
use crate::names::cpu::{AARCH64_FEATURES, Family, Source, X86_FEATURES};

// The refusal below runs on a CPU that lacks instructions the whole build was compiled to use, this
// code included: with AVX the compiler copies anything of 16 bytes or more (an array, a struct, an
// iterator) with vector moves, even unoptimised, and with BMI it shifts by a variable with `shlx`
// and computes `a & !b` with `andn`. Rust cannot compile one function for a lower CPU, so from the
// check to the exit the code keeps to what every CPU of the architecture runs:
// - values are integers, `&str`s and references, never a larger aggregate moved by value;
// - a feature set is one `u64` of a family's table, tested one row at a time against that row's
//   mask from `ROW_MASKS`: no shift by a variable, no `a & !b`;
// - loops count with an index, and `black_box` keeps the optimiser from folding tests back into
//   those instructions or unrolling them into vectors.
// tests/cpu/run.sh proves it under emulated CPUs that lack what the build assumed.

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
/// assert!(CpuFeatures::from_names(Arch::Aarch64, &["lse"]).is_some());
/// assert!(CpuFeatures::from_names(Arch::Aarch64, &["avx2"]).is_none());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CpuFeatures {
    family: Family,
    bits: u64,
}

impl CpuFeatures {
    /// The features `arch` can have that `names` name; `None` if `arch` has no table or a name
    /// is not a feature the gate knows for it.
    pub fn from_names(arch: Arch, names: &[&str]) -> Option<CpuFeatures> {
        let family = family(arch)?;
        let mut bits = 0;
        for name in names {
            bits |= 1 << family.table().iter().position(|row| row.name == *name)?;
        }
        Some(CpuFeatures { family, bits })
    }

    /// The features of x86-64 microarchitecture level `level` (2, 3 or 4; 1 is the baseline).
    pub const fn x86_64_level(level: u8) -> CpuFeatures {
        CpuFeatures { family: Family::X86, bits: level_bits(level) }
    }

    /// What the build of `main` assumed: `flags` holds `cfg!(target_feature = ...)` for every
    /// row of the tables (x86, then aarch64), evaluated in `main`'s crate. Only this target's
    /// family counts, and nothing where this build cannot read the hardware: then the check
    /// compiles away.
    pub(crate) const fn assumed_by_build(flags: &[bool]) -> u64 {
        assert!(
            flags.len() == X86_FEATURES.len() + AARCH64_FEATURES.len(),
            "the macro and the runtime disagree on the CPU feature tables"
        );
        let Some(family) = family(crate::Platform::CURRENT.arch) else {
            return 0;
        };
        if !detect::AVAILABLE {
            return 0;
        }
        let offset = match family {
            Family::X86 => 0,
            Family::Aarch64 => X86_FEATURES.len(),
        };
        let mut bits = 0;
        let mut row = 0;
        while row < family.table().len() {
            if flags[offset + row] {
                bits |= 1 << row;
            }
            row += 1;
        }
        bits
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.bits == 0
    }

    /// The features of `self` that `other` lacks.
    pub const fn without(self, other: CpuFeatures) -> CpuFeatures {
        CpuFeatures { family: self.family, bits: self.bits & !other.bits }
    }

    /// Whether every feature of `other` is in the set.
    pub const fn contains(self, other: CpuFeatures) -> bool {
        other.bits & !self.bits == 0
    }

    /// The features' `target_feature` names, in the table's order (x86-64 levels first).
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        let table = self.family.table();
        (0..table.len()).filter(move |&row| self.bits & 1 << row != 0).map(move |row| table[row].name)
    }

    /// The highest x86-64 level whose features are all in the set: 1 (the baseline) to 4.
    pub fn level(self) -> u8 {
        level_of(self.bits)
    }
}

const fn family(arch: Arch) -> Option<Family> {
    match arch {
        Arch::X86_64 | Arch::X86 => Some(Family::X86),
        Arch::Aarch64 => Some(Family::Aarch64),
        _ => None,
    }
}

/// `1 << row` for every row, so that the refusal path never shifts by a variable.
const ROW_MASKS: [u64; 64] = {
    let mut masks = [0; 64];
    let mut row = 0;
    while row < 64 {
        masks[row] = 1 << row;
        row += 1;
    }
    masks
};

/// Whether row `row` is in `bits`.
#[inline(always)]
fn has(bits: u64, row: usize) -> bool {
    bits & core::hint::black_box(ROW_MASKS[row]) != 0
}

/// `i + 1`, opaque to the optimiser: every loop on the refusal path counts with it, so that none
/// is vectorised or unrolled into instructions this CPU may lack.
#[inline(always)]
fn next(i: usize) -> usize {
    core::hint::black_box(i + 1)
}

/// The x86 rows of levels 2 to `level`.
const fn level_bits(level: u8) -> u64 {
    let mut bits = 0;
    let mut row = 0;
    while row < X86_FEATURES.len() {
        let feature = &X86_FEATURES[row];
        if feature.level >= 2 && feature.level <= level {
            bits |= 1 << row;
        }
        row += 1;
    }
    bits
}

/// `level_bits` of every level, computed at compile time, for the refusal path to load.
const LEVEL_BITS: [u64; 5] = [0, 0, level_bits(2), level_bits(3), level_bits(4)];

/// The highest x86-64 level all of whose rows are in `bits`.
fn level_of(bits: u64) -> u8 {
    let mut level = 1;
    while level < 4 {
        let mut row = 0;
        while row < X86_FEATURES.len() {
            let needed = X86_FEATURES[row].level;
            if needed >= 2 && needed <= level + 1 && !has(bits, row) {
                return level;
            }
            row = next(row);
        }
        level += 1;
    }
    level
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
    /// A build for `arch` that assumed `assumed`, on a CPU that has `present`.
    ///
    /// # Panics
    ///
    /// If the two sets are not of `arch`'s family.
    pub fn new(arch: Arch, assumed: CpuFeatures, present: CpuFeatures) -> CpuCheck {
        let family = family(arch);
        assert!(
            family == Some(assumed.family) && family == Some(present.family),
            "features of another architecture"
        );
        CpuCheck { arch, assumed, present }
    }

    /// What the build assumed and the CPU lacks.
    pub const fn missing(&self) -> CpuFeatures {
        self.assumed.without(self.present)
    }

    /// Whether the CPU has everything the build assumed.
    pub const fn passes(&self) -> bool {
        self.missing().is_empty()
    }

    /// The refusal the gate prints, or `None` where the CPU has everything. `variable` is the
    /// override variable's name, which the refusal says cannot help.
    pub fn message(&self, program: &str, variable: &str) -> Option<String> {
        if self.passes() {
            return None;
        }
        let mut text = String::new();
        let (family, x86_64) = (self.assumed.family, self.arch == Arch::X86_64);
        render(&mut text, family, x86_64, self.assumed.bits, self.present.bits, program, variable, false);
        Some(text)
    }
}

/// Writes the refusal for a build that assumed `assumed` on a CPU with `present` (rows of
/// `family`'s table): from `&'static` pieces and names only, no formatting. `variable` is the
/// override variable's name, or with `from_package` the package it is derived from.
#[allow(clippy::too_many_arguments)] // Scalars, on purpose: see the top of this file.
fn render(
    out: &mut impl Sink,
    family: Family,
    x86_64: bool,
    assumed: u64,
    present: u64,
    program: &str,
    variable: &str,
    from_package: bool,
) {
    let built_level = if x86_64 { level_of(assumed) } else { 1 };
    let cpu_level = level_of(present);
    out.text("error: ");
    out.text(program);
    out.text(" will not start on this CPU: it was built ");
    if built_level >= 2 {
        out.text("for ");
        level_name(out, built_level);
        let level = core::hint::black_box(LEVEL_BITS[built_level as usize]);
        if any_beyond(family, assumed, level) {
            out.text(" with ");
            list(out, family, assumed, level, "");
        }
    } else {
        out.text("to use ");
        list(out, family, assumed, 0, "");
    }
    out.text(", and this CPU lacks ");
    list(out, family, assumed, present, "");
    out.text("\n  = note: ");
    if x86_64 {
        out.text("this CPU is ");
        level_name(out, cpu_level);
        out.text("; ");
    }
    out.text("the program uses those instructions, and would crash with an illegal instruction\n");
    out.text("  = help: run it on a CPU with ");
    list(out, family, assumed, present, "");
    if built_level >= 2 {
        out.text(" (");
        level_name(out, built_level);
        out.text("), or ask for a build for ");
        level_name(out, cpu_level);
        out.text(", without `-C target-cpu=");
        level_name(out, built_level);
        out.text("`");
    } else {
        out.text(", or ask for a build without `-C target-feature=");
        list(out, family, assumed, present, "+");
        out.text("`");
    }
    out.text("\n  = note: ");
    if from_package {
        let bytes = variable.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            out.byte(if bytes[i] == b'-' { b'_' } else { bytes[i].to_ascii_uppercase() });
            i = next(i);
        }
        out.text("_UNSUPPORTED_ARCH");
    } else {
        out.text(variable);
    }
    out.text(
        " cannot help: it overrides the support matrix, not the instructions the program was built with\n",
    );
}

fn level_name(out: &mut impl Sink, level: u8) {
    out.text("x86-64");
    match level {
        2 => out.text("-v2"),
        3 => out.text("-v3"),
        4 => out.text("-v4"),
        _ => {}
    }
}

/// Whether some row of `family` is in `included` but not in `excluded`.
fn any_beyond(family: Family, included: u64, excluded: u64) -> bool {
    let mut row = 0;
    while row < family.table().len() {
        if has(included, row) && !has(excluded, row) {
            return true;
        }
        row = next(row);
    }
    false
}

/// `a, b, c`: the rows in `included` but not in `excluded`, each name after `prefix`; rustc's
/// flag syntax wants commas without spaces.
fn list(out: &mut impl Sink, family: Family, included: u64, excluded: u64, prefix: &str) {
    let separator = if prefix.is_empty() { ", " } else { "," };
    let table = family.table();
    let mut first = true;
    let mut row = 0;
    while row < table.len() {
        if has(included, row) && !has(excluded, row) {
            if !first {
                out.text(separator);
            }
            first = false;
            out.text(prefix);
            out.text(table[row].name);
        }
        row = next(row);
    }
}

/// Where a message is written: a `String` for the pure API, a fixed buffer on the refusal path.
trait Sink {
    fn byte(&mut self, byte: u8);

    fn text(&mut self, text: &str) {
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            self.byte(bytes[i]);
            i = next(i);
        }
    }
}

impl Sink for String {
    fn byte(&mut self, byte: u8) {
        self.push(char::from(byte));
    }

    fn text(&mut self, text: &str) {
        self.push_str(text);
    }
}

/// The refusal's buffer: a fixed array and a count. Every byte goes through `black_box`, so the
/// compiler cannot merge the stores into vector instructions.
struct Buffer<'a> {
    bytes: &'a mut [u8; BUFFER],
    len: usize,
}

const BUFFER: usize = 2048;

impl Sink for Buffer<'_> {
    fn byte(&mut self, byte: u8) {
        if self.len < BUFFER {
            self.bytes[self.len] = core::hint::black_box(byte);
            self.len += 1;
        }
    }
}

/// Refuses, if this CPU lacks what the build assumed (`assumed`, rows of this target's family's
/// table): before the architecture check and before any of the program's code, and not to be
/// overridden. `variable` and `from_package` are as for `render`. Out of line and cold; see the
/// top of this file for how it is written.
#[cold]
#[inline(never)]
pub(crate) fn refuse_cpu(assumed: u64, program: &str, variable: &str, from_package: bool, exit_code: u8) {
    let Some(family) = family(crate::Platform::CURRENT.arch) else {
        return;
    };
    let Some(present) = detect::present(assumed) else {
        return; // Nothing to read the CPU with: trust the build.
    };
    if !any_beyond(family, assumed, present) {
        return;
    }
    let mut bytes = [0; BUFFER];
    let mut buffer = Buffer { bytes: &mut bytes, len: 0 };
    let x86_64 = crate::Platform::CURRENT.arch.is(Arch::X86_64);
    render(&mut buffer, family, x86_64, assumed, present, program, variable, from_package);
    let len = core::hint::black_box(buffer.len);
    // Indexing, not `split_at`: debug builds check `split_at`'s alignment with `popcnt`.
    let _ = std::io::Write::write_all(&mut std::io::stderr(), &bytes[..len]);
    std::process::exit(i32::from(exit_code));
}

/// Reading what this CPU has, as rows of this target's family's table. x86: CPUID, where this
/// compiler lets safe code call it. aarch64 Linux and Android: the kernel's `AT_HWCAP` words,
/// from `/proc/self/auxv`.
mod detect {
    #[allow(unused_imports)] // Not every target reads the CPU.
    use super::{AARCH64_FEATURES, Source, X86_FEATURES};

    /// Whether this target has a way to read the CPU. (On x86 the compiler must also make
    /// `__cpuid_count` safe, which `present` finds out.)
    pub(super) const AVAILABLE: bool = cfg!(any(
        any(target_arch = "x86", target_arch = "x86_64"),
        all(target_arch = "aarch64", any(target_os = "linux", target_os = "android")),
    ));

    #[cfg(target_arch = "x86")]
    use core::arch::x86::{__cpuid_count, CpuidResult};
    #[cfg(target_arch = "x86_64")]
    use core::arch::x86_64::{__cpuid_count, CpuidResult};

    /// `core::arch`'s `__cpuid_count`, called only where this compiler made it a safe function
    /// (late 2025; Rust 1.85 has it `unsafe`, and this crate forbids `unsafe`). An `unsafe fn`
    /// does not implement `Fn`, so method resolution picks `Readable` for a safe one and falls
    /// back to `Unreadable`: one source, no build script, no `unsafe`.
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    struct Cpuid<F>(F);

    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    #[allow(dead_code)] // Each compiler uses one of the two.
    trait Readable {
        /// Register `register` (0 `eax` to 3 `edx`) of `cpuid(leaf, sub_leaf)`; `None` where
        /// CPUID cannot be called.
        fn read(&self, leaf: u32, sub_leaf: u32, register: u8) -> Option<u32>;
    }

    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    impl<F: Fn(u32, u32) -> CpuidResult> Readable for Cpuid<F> {
        fn read(&self, leaf: u32, sub_leaf: u32, register: u8) -> Option<u32> {
            // One field of the result, never the 16-byte result itself: see the file's top.
            Some(match register {
                0 => (self.0)(leaf, sub_leaf).eax,
                1 => (self.0)(leaf, sub_leaf).ebx,
                2 => (self.0)(leaf, sub_leaf).ecx,
                _ => (self.0)(leaf, sub_leaf).edx,
            })
        }
    }

    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    #[allow(dead_code)] // Each compiler uses one of the two.
    trait Unreadable {
        fn read(&self, _leaf: u32, _sub_leaf: u32, _register: u8) -> Option<u32> {
            None
        }
    }

    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    impl<F> Unreadable for &Cpuid<F> {}

    /// Which of the rows in `wanted` this CPU has (the others are not read); `None` where this
    /// build cannot read the CPU.
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    pub(super) fn present(wanted: u64) -> Option<u64> {
        let cpuid = Cpuid(__cpuid_count);
        // `&Cpuid<F>` exactly: one `&` more and `Unreadable` would match first, and without the
        // explicit one, where `__cpuid_count` is `unsafe`, no method would be found at all.
        #[allow(clippy::needless_borrow)]
        let read = |leaf: u32, sub_leaf: u32, register: u8| (&cpuid).read(leaf, sub_leaf, register);

        // The registers the table reads, one scalar each; a leaf past the CPU's last reads as 0.
        let max_basic = read(0, 0, 0)?;
        let max_extended = read(0x8000_0000, 0, 0)?;
        let register = |leaf: u32, sub_leaf: u32, register: u8| {
            let max = if leaf >= 0x8000_0000 { max_extended } else { max_basic };
            if leaf <= max { read(leaf, sub_leaf, register).unwrap_or(0) } else { 0 }
        };
        let leaf_1_ecx = register(1, 0, 2);
        let leaf_7_ebx = register(7, 0, 1);
        let leaf_7_ecx = register(7, 0, 2);
        let leaf_d1_eax = register(0xd, 1, 0);
        let extended_ecx = register(0x8000_0001, 0, 2);
        // OSXSAVE: the OS saves the extended registers. (XGETBV would say which; safe code
        // cannot run it, and an OS that sets OSXSAVE on a CPU with AVX saves its registers.)
        let os_saves_avx = leaf_1_ecx & 1 << 27 != 0;
        let mut present = 0;
        let mut row = 0;
        // The two families' walks stay apart: merged behind a closure, the optimiser turned the
        // mask loads into `shlx` (measured under qemu), and this code runs on CPUs without it.
        while row < X86_FEATURES.len() {
            if !super::has(wanted, row) {
                row = super::next(row);
                continue;
            }
            if let Source::Cpuid { leaf, sub_leaf, register, bit, avx_state } = &X86_FEATURES[row].source {
                let value = match (*leaf, *sub_leaf, *register) {
                    (1, 0, 2) => leaf_1_ecx,
                    (7, 0, 1) => leaf_7_ebx,
                    (7, 0, 2) => leaf_7_ecx,
                    (0xd, 1, 0) => leaf_d1_eax,
                    (0x8000_0001, 0, 2) => extended_ecx,
                    _ => 0,
                };
                let bit_mask = core::hint::black_box(super::ROW_MASKS[*bit as usize]) as u32;
                if value & bit_mask != 0 && (!*avx_state || os_saves_avx) {
                    present |= core::hint::black_box(super::ROW_MASKS[row]);
                }
            }
            row = super::next(row);
        }
        Some(present)
    }

    #[cfg(all(target_arch = "aarch64", any(target_os = "linux", target_os = "android")))]
    pub(super) fn present(wanted: u64) -> Option<u64> {
        const AT_HWCAP: u64 = 16;
        const AT_HWCAP2: u64 = 26;
        let auxv = std::fs::read("/proc/self/auxv").ok()?;
        let word = |at: usize| {
            let mut value = 0u64;
            let mut i = 0;
            while i < 8 {
                // Little-endian byte by byte, by multiplying: no shift by a variable.
                value = value * 256 + u64::from(core::hint::black_box(auxv[at + 7 - i]));
                i = super::next(i);
            }
            if cfg!(target_endian = "big") { value.swap_bytes() } else { value }
        };
        let (mut hwcap, mut hwcap2) = (0, 0);
        let mut at = 0;
        while at + 16 <= auxv.len() {
            match word(at) {
                AT_HWCAP => hwcap = word(at + 8),
                AT_HWCAP2 => hwcap2 = word(at + 8),
                _ => {}
            }
            at = core::hint::black_box(at + 16);
        }
        let mut present = 0;
        let mut row = 0;
        while row < AARCH64_FEATURES.len() {
            if !super::has(wanted, row) {
                row = super::next(row);
                continue;
            }
            if let Source::Hwcap { word, mask } = &AARCH64_FEATURES[row].source {
                let bits = if *word == 1 { hwcap } else { hwcap2 };
                if bits & *mask == core::hint::black_box(*mask) {
                    present |= core::hint::black_box(super::ROW_MASKS[row]);
                }
            }
            row = super::next(row);
        }
        Some(present)
    }

    #[cfg(not(any(
        any(target_arch = "x86", target_arch = "x86_64"),
        all(target_arch = "aarch64", any(target_os = "linux", target_os = "android")),
    )))]
    pub(super) fn present(_wanted: u64) -> Option<u64> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn x86_64(assumed: CpuFeatures, present: CpuFeatures) -> CpuCheck {
        CpuCheck::new(Arch::X86_64, assumed, present)
    }

    fn features(arch: Arch, names: &[&str]) -> CpuFeatures {
        CpuFeatures::from_names(arch, names).expect("known names")
    }

    fn union(a: CpuFeatures, b: CpuFeatures) -> CpuFeatures {
        CpuFeatures { family: a.family, bits: a.bits | b.bits }
    }

    #[test]
    fn levels_are_nested_and_read_back() {
        for level in 1..=4 {
            assert_eq!(CpuFeatures::x86_64_level(level).level(), level);
        }
        assert!(CpuFeatures::x86_64_level(4).contains(CpuFeatures::x86_64_level(3)));
        let v3: Vec<&str> =
            CpuFeatures::x86_64_level(3).without(CpuFeatures::x86_64_level(2)).names().collect();
        assert_eq!(v3, ["avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "lzcnt", "movbe", "xsave"]);
        // Missing one v3 feature is v2.
        let almost = CpuFeatures::x86_64_level(3).without(features(Arch::X86_64, &["movbe"]));
        assert_eq!(almost.level(), 2);
    }

    #[test]
    fn a_v3_build_on_a_v2_cpu_names_the_level_and_what_is_missing() {
        let check = x86_64(CpuFeatures::x86_64_level(3), CpuFeatures::x86_64_level(2));
        assert_eq!(
            check.message("kvd", "KVD_UNSUPPORTED_ARCH").unwrap(),
            "error: kvd will not start on this CPU: it was built for x86-64-v3, and this CPU lacks avx, avx2, bmi1, bmi2, f16c, fma, lzcnt, movbe, xsave
  = note: this CPU is x86-64-v2; the program uses those instructions, and would crash with an illegal instruction
  = help: run it on a CPU with avx, avx2, bmi1, bmi2, f16c, fma, lzcnt, movbe, xsave (x86-64-v3), or ask for a build for x86-64-v2, without `-C target-cpu=x86-64-v3`
  = note: KVD_UNSUPPORTED_ARCH cannot help: it overrides the support matrix, not the instructions the program was built with
"
        );
    }

    #[test]
    fn single_features_are_named_with_the_flag_to_drop() {
        let assumed = features(Arch::X86_64, &["avx2", "fma"]);
        let present = CpuFeatures::x86_64_level(2).without(features(Arch::X86_64, &["popcnt"]));
        let text = x86_64(assumed, present).message("kvd", "V").unwrap();
        assert!(
            text.starts_with(
                "error: kvd will not start on this CPU: it was built to use avx2, fma, and this CPU lacks avx2, fma\n"
            ),
            "{text}"
        );
        assert!(text.contains("  = note: this CPU is x86-64; "), "{text}");
        assert!(text.contains("or ask for a build without `-C target-feature=+avx2,+fma`\n"), "{text}");
        // A level with extras names them.
        let assumed = union(CpuFeatures::x86_64_level(2), features(Arch::X86_64, &["aes", "pclmulqdq"]));
        let text = x86_64(assumed, CpuFeatures::x86_64_level(2)).message("kvd", "V").unwrap();
        assert!(
            text.contains(
                "it was built for x86-64-v2 with aes, pclmulqdq, and this CPU lacks aes, pclmulqdq\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn aarch64_names_features_and_no_level() {
        let check = CpuCheck::new(
            Arch::Aarch64,
            features(Arch::Aarch64, &["lse"]),
            features(Arch::Aarch64, &["crc"]),
        );
        let text = check.message("kvd", "KVD_UNSUPPORTED_ARCH").unwrap();
        assert!(text.starts_with(
            "error: kvd will not start on this CPU: it was built to use lse, and this CPU lacks lse\n"
        ));
        assert!(text.contains("\n  = note: the program uses those instructions"), "{text}");
        assert!(!text.contains("x86-64"));
    }

    #[test]
    fn every_combination_of_levels_decides_by_containment() {
        for built in 1..=4 {
            for cpu in 1..=4 {
                let check = x86_64(CpuFeatures::x86_64_level(built), CpuFeatures::x86_64_level(cpu));
                assert_eq!(check.passes(), cpu >= built, "v{built} on v{cpu}");
                if let Some(text) = check.message("kvd", "V") {
                    assert!(text.is_ascii() && text.len() < 4096 && text.lines().count() == 4, "{text}");
                }
            }
        }
    }

    #[test]
    fn the_refusal_buffer_renders_what_the_string_does() {
        let (assumed, present) = (level_bits(4), 0);
        let mut bytes = [0; BUFFER];
        let mut buffer = Buffer { bytes: &mut bytes, len: 0 };
        render(&mut buffer, Family::X86, true, assumed, present, "kv-server", "kv-server", true);
        let len = buffer.len;
        let text = core::str::from_utf8(&bytes[..len]).unwrap();
        let check = x86_64(CpuFeatures::x86_64_level(4), features(Arch::X86_64, &[]));
        assert_eq!(Some(text.to_owned()), check.message("kv-server", "KV_SERVER_UNSUPPORTED_ARCH"));
        // Every feature of the table missing at once still fits.
        let everything = CpuFeatures { family: Family::X86, bits: u64::MAX >> (64 - X86_FEATURES.len()) };
        let text = x86_64(everything, features(Arch::X86_64, &[])).message("kvd", "V").unwrap();
        assert!(text.len() < BUFFER, "{} bytes", text.len());
    }

    #[test]
    fn every_x86_row_reads_a_register_that_detection_reads() {
        // The (leaf, sub-leaf, register) triples `detect::present` reads into scalars; a row
        // outside them would always read as absent, and refuse on every CPU.
        const READ: [(u32, u32, u8); 5] = [(1, 0, 2), (7, 0, 1), (7, 0, 2), (0xd, 1, 0), (0x8000_0001, 0, 2)];
        for row in &X86_FEATURES {
            let Source::Cpuid { leaf, sub_leaf, register, .. } = row.source else {
                panic!("{} is not read with CPUID", row.name);
            };
            assert!(READ.contains(&(leaf, sub_leaf, register)), "{} would always be absent", row.name);
        }
    }

    #[test]
    fn names_are_unique_within_a_family() {
        for family in [Family::X86, Family::Aarch64] {
            let mut names: Vec<&str> = family.table().iter().map(|row| row.name).collect();
            let count = names.len();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), count);
            assert!(count <= 64, "a set is one u64");
        }
    }

    #[test]
    fn the_build_is_read_for_this_target_only() {
        let mut flags = [false; X86_FEATURES.len() + AARCH64_FEATURES.len()];
        flags[X86_FEATURES.len()] = true; // aarch64's first row
        flags[0] = true; // x86's first row
        let assumed = CpuFeatures::assumed_by_build(&flags);
        match family(crate::Platform::CURRENT.arch) {
            Some(Family::X86) if detect::AVAILABLE => assert_eq!(assumed, 1),
            Some(Family::Aarch64) if detect::AVAILABLE => assert_eq!(assumed, 1),
            _ => assert_eq!(assumed, 0),
        }
    }

    #[test]
    fn this_cpu_is_read_and_agrees_with_std() {
        let present = detect::present(u64::MAX);
        if cfg!(any(target_arch = "x86", target_arch = "x86_64")) {
            // Only a compiler whose `__cpuid_count` is `unsafe` (Rust 1.85's) cannot read it; the
            // MSRV job says so, and everywhere else a silent `None` would disable the check.
            let readable = std::env::var_os("PLATFORM_GATE_TEST_CPUID_UNSAFE").is_none();
            assert_eq!(present.is_some(), readable);
        }
        #[cfg(target_arch = "x86_64")]
        if let Some(present) = present {
            let present = CpuFeatures { family: Family::X86, bits: present };
            for name in ["sse4.2", "popcnt", "avx", "avx2", "bmi2", "fma", "aes"] {
                let detected = match name {
                    "sse4.2" => std::arch::is_x86_feature_detected!("sse4.2"),
                    "popcnt" => std::arch::is_x86_feature_detected!("popcnt"),
                    "avx" => std::arch::is_x86_feature_detected!("avx"),
                    "avx2" => std::arch::is_x86_feature_detected!("avx2"),
                    "bmi2" => std::arch::is_x86_feature_detected!("bmi2"),
                    "fma" => std::arch::is_x86_feature_detected!("fma"),
                    _ => std::arch::is_x86_feature_detected!("aes"),
                };
                assert_eq!(present.contains(features(Arch::X86_64, &[name])), detected, "{name}");
            }
        }
    }
}
