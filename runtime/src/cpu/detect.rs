// Reading what this CPU has: CPUID and XGETBV on x86, the kernel's `AT_HWCAP`s on aarch64 Linux and
// Android. It runs on the refusal path, before std starts, so it obeys the rules at the top of
// `refuse.rs`: scalars only, one row at a time, loops through `next`.

#[allow(unused_imports)] // Each target uses what its family's reading needs.
use super::rows::{Rows, add, has, next};
#[allow(unused_imports)] // Each target reads only its own family's table.
use crate::names::cpu::{AARCH64_FEATURES, Source, X86_FEATURES};

// Whether this target's CPU can be read, and so checked: x86 on the systems whose C library the
// refusal writes with, and aarch64 where the kernel reports features. Each family's `present` is
// below; elsewhere there is nothing to read with.
cfg_split! {
    (any(
        all(any(target_arch = "x86", target_arch = "x86_64"), any(unix, windows)),
        all(target_arch = "aarch64", any(target_os = "linux", target_os = "android")),
    ))
    {
        pub(super) const AVAILABLE: bool = true;
    } else {
        pub(super) const AVAILABLE: bool = false;

        pub(super) fn present(_wanted: Rows) -> Option<Rows> {
            None
        }
    }
}

#[cfg(all(target_arch = "x86", any(unix, windows)))]
use core::arch::x86::{__cpuid_count, _xgetbv};
#[cfg(all(target_arch = "x86_64", any(unix, windows)))]
use core::arch::x86_64::{__cpuid_count, _xgetbv};

/// Register `register` (0 `eax` to 3 `edx`) of `cpuid(leaf, sub_leaf)`, or 0 past the CPU's last
/// leaf (`max_basic`, `max_extended`).
#[cfg(all(any(target_arch = "x86", target_arch = "x86_64"), any(unix, windows)))]
#[allow(unsafe_code, unused_unsafe)]
fn cpuid(leaf: u32, sub_leaf: u32, register: u8, max_basic: u32, max_extended: u32) -> u32 {
    let max = if leaf >= 0x8000_0000 { max_extended } else { max_basic };
    if leaf > max {
        return 0;
    }
    // SAFETY: CPUID exists on every CPU an x86_64 or i686 build runs on (i586's Pentium too), and
    // reading a leaf up to the maximum the CPU reports is defined. `__cpuid_count` is a safe
    // function in newer compilers and `unsafe` in Rust 1.85; this block serves both.
    let result = unsafe { __cpuid_count(leaf, sub_leaf) };
    // One field, never the 16-byte result by value: see `refuse.rs`.
    match register {
        0 => result.eax,
        1 => result.ebx,
        2 => result.ecx,
        _ => result.edx,
    }
}

/// XCR0's low word: which register states the OS saves. 0 where the OS has not enabled XSAVE.
/// Never inlined, so that tests/cpu/baseline_only.py finds XGETBV only here, behind its guard.
#[cfg(all(any(target_arch = "x86", target_arch = "x86_64"), any(unix, windows)))]
#[allow(unsafe_code)]
#[inline(never)]
fn xcr0(leaf_1_ecx: u32) -> u32 {
    if leaf_1_ecx & core::hint::black_box(1 << 27) == 0 {
        return 0;
    }
    // SAFETY: CPUID's OSXSAVE bit (leaf 1, ECX bit 27) says the OS has set CR4.OSXSAVE, which
    // makes XGETBV available (`_xgetbv` is `#[target_feature(enable = "xsave")]` for that reason),
    // and XCR0 (register 0) always exists where XGETBV does.
    let xcr0 = unsafe { _xgetbv(0) };
    xcr0 as u32
}

/// Which of the rows in `wanted` this CPU has (the others are not read); `None` where this build
/// cannot read the CPU.
#[cfg(all(any(target_arch = "x86", target_arch = "x86_64"), any(unix, windows)))]
pub(super) fn present(wanted: Rows) -> Option<Rows> {
    use super::rows::ROW_MASKS;

    let max_basic = cpuid(0, 0, 0, u32::MAX, 0);
    let max_extended = cpuid(0x8000_0000, 0, 0, 0, u32::MAX);
    // The registers the table reads, one scalar each.
    let read = |leaf, sub_leaf, register| cpuid(leaf, sub_leaf, register, max_basic, max_extended);
    let leaf_1_ecx = read(1, 0, 2);
    let leaf_7_ebx = read(7, 0, 1);
    let leaf_7_ecx = read(7, 0, 2);
    let leaf_7_edx = read(7, 0, 3);
    let leaf_7_1_eax = read(7, 1, 0);
    let leaf_7_1_edx = read(7, 1, 3);
    let leaf_d_1_eax = read(0xd, 1, 0);
    let leaf_19_ebx = read(0x19, 0, 1);
    let leaf_1e_1_eax = read(0x1e, 1, 0);
    let leaf_24_ebx = read(0x24, 0, 1);
    let extended_ecx = read(0x8000_0001, 0, 2);
    let xcr0 = xcr0(leaf_1_ecx);

    let mut present = Rows::EMPTY;
    let mut row = 0;
    // The two families' walks stay apart: merged behind a closure, the optimiser turned the mask
    // loads into `shlx` (measured under qemu), and this code runs on CPUs without it.
    while row < X86_FEATURES.len() {
        if !has(wanted, row) {
            row = next(row);
            continue;
        }
        let (value, bit, needs_xcr0) = match &X86_FEATURES[row].source {
            Source::Cpuid { leaf, sub_leaf, register, bit, xcr0 } => {
                let value = match (*leaf, *sub_leaf, *register) {
                    (1, 0, 2) => leaf_1_ecx,
                    (7, 0, 1) => leaf_7_ebx,
                    (7, 0, 2) => leaf_7_ecx,
                    (7, 0, 3) => leaf_7_edx,
                    (7, 1, 0) => leaf_7_1_eax,
                    (7, 1, 3) => leaf_7_1_edx,
                    (0xd, 1, 0) => leaf_d_1_eax,
                    (0x19, 0, 1) => leaf_19_ebx,
                    (0x1e, 1, 0) => leaf_1e_1_eax,
                    (0x8000_0001, 0, 2) => extended_ecx,
                    _ => 0,
                };
                (value, *bit, *xcr0)
            }
            // AVX10's converged vector ISA at `version` or later: its flag, then its version.
            Source::Avx10 { version } => {
                let at_version = core::hint::black_box(leaf_24_ebx & 0xff) >= u32::from(*version);
                (if at_version { leaf_7_1_edx } else { 0 }, 19, 0xe6)
            }
            Source::Hwcap { .. } => (0, 0, u32::MAX),
        };
        let bit_mask = core::hint::black_box(ROW_MASKS[bit as usize]) as u32;
        // `black_box` between the `&` and the `==`: `x & m == m` is `andn`'s pattern (BMI1).
        if value & bit_mask != 0 && core::hint::black_box(xcr0 & needs_xcr0) == needs_xcr0 {
            add(&mut present, row);
        }
        row = next(row);
    }
    Some(present)
}

#[cfg(all(target_arch = "aarch64", any(target_os = "linux", target_os = "android")))]
pub(super) fn present(wanted: Rows) -> Option<Rows> {
    let (hwcap, hwcap2) = super::sys::hwcaps();
    let mut present = Rows::EMPTY;
    let mut row = 0;
    while row < AARCH64_FEATURES.len() {
        if !has(wanted, row) {
            row = next(row);
            continue;
        }
        if let Source::Hwcap { word, mask } = &AARCH64_FEATURES[row].source {
            let bits = if *word == 1 { hwcap } else { hwcap2 };
            if core::hint::black_box(bits & *mask) == *mask {
                add(&mut present, row);
            }
        }
        row = next(row);
    }
    Some(present)
}
