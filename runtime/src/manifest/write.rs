// Every gated build's writer: its gate, its platform and what it assumed of the CPU, written out as
// bytes in `const` by the attribute, and the one instruction that keeps them in the linked binary.

use super::codes::{allow_code, check_code, status_code};
use super::format::{FORMAT, HEADER, MAGIC, MAX_BODY, crc32};
use crate::cpu::{NAMES_PROGRAM_FILE, READS_OWN_MANIFEST, Rows, const_level_of, this_family};
use crate::gate::Variable;
use crate::maintainers::List;
use crate::names::{DERIVED_SUFFIX, derived_variable_byte};
use crate::{Arch, Gate, Packager, Platform};

/// What the manifest holds beyond the gate: computed in `main`'s crate by the attribute.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Build {
    /// The program's package version (`CARGO_PKG_VERSION`), if built by Cargo.
    pub(crate) crate_version: Option<&'static str>,
    /// Checked before std starts, and in `main`: rows of this target's family's table.
    pub(crate) before_start: Rows,
    pub(crate) in_main: Rows,
}

/// The manifest of `gate`, in an array of `N` bytes: `N` must be [`len`]'s answer for the same
/// arguments, which the attribute computes first.
#[inline]
pub(crate) const fn write<const N: usize>(gate: &Gate, build: &Build) -> [u8; N] {
    let out = encode(Out { bytes: [0; N], len: 0 }, gate, build);
    assert!(out.len == N, "the manifest's length changed between two evaluations");
    out.bytes
}

/// The manifest of `gate`, for tests of its readers.
#[cfg(test)]
pub(crate) fn to_vec(gate: &Gate, build: &Build) -> Vec<u8> {
    let out = encode(Out { bytes: [0; 4096], len: 0 }, gate, build);
    assert!(out.len <= 4096, "a test's manifest is under 4 KiB");
    out.bytes[..out.len].to_vec()
}

/// The length of the manifest of `gate`.
#[inline]
pub(crate) const fn len(gate: &Gate, build: &Build) -> usize {
    encode(Out { bytes: [], len: 0 }, gate, build).len
}

/// A byte sink of capacity `N` that counts everything written to it, kept or not: with `N = 0`
/// it measures, with the measured `N` it writes. One encoder serves both, so they cannot differ.
struct Out<const N: usize> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> Out<N> {
    #[inline]
    const fn byte(&mut self, byte: u8) {
        if self.len < N {
            self.bytes[self.len] = byte;
        }
        self.len += 1;
    }

    #[inline]
    const fn u16(&mut self, value: usize) {
        assert!(value <= u16::MAX as usize, "a manifest's string or list is longer than 65,535");
        self.byte(value as u8);
        self.byte((value >> 8) as u8);
    }

    #[inline]
    const fn bytes(&mut self, bytes: &[u8]) {
        let mut i = 0;
        while i < bytes.len() {
            self.byte(bytes[i]);
            i += 1;
        }
    }

    #[inline]
    const fn str(&mut self, text: &str) {
        self.u16(text.len());
        self.bytes(text.as_bytes());
    }

    /// Writes `value` as a u32 at `at`, which was reserved.
    #[inline]
    const fn u32_at(&mut self, at: usize, value: u32) {
        // Measuring keeps nothing; writing, the `N` bytes hold the reserved place.
        if N == 0 {
            return;
        }
        let bytes = value.to_le_bytes();
        let mut i = 0;
        while i < 4 {
            self.bytes[at + i] = bytes[i];
            i += 1;
        }
    }
}

#[inline]
const fn encode<const N: usize>(mut out: Out<N>, gate: &Gate, build: &Build) -> Out<N> {
    out.bytes(&MAGIC);
    out.byte(FORMAT);
    out.bytes(&[0; 4]); // the body's length, once known
    // 1. Names and versions.
    out.str(gate.program());
    variable_name(&mut out, gate);
    out.str(match build.crate_version {
        Some(version) => version,
        None => "",
    });
    out.str(env!("CARGO_PKG_VERSION"));
    // 2. The platform.
    let platform = Platform::CURRENT;
    out.str(platform.arch.go_name());
    out.str(platform.arch.rust_name());
    out.str(platform.os.go_name());
    out.str(platform.os.rust_name());
    // 3. The policy.
    let policy = gate.policy();
    out.byte(check_code(policy.check()));
    out.byte(allow_code(policy.allow()));
    out.byte(policy.exit_code().get());
    // 4. The packager.
    packager(&mut out, policy.packager());
    // 5. The matrix.
    let rows = gate.matrix().rows();
    out.u16(rows.len());
    let mut i = 0;
    while i < rows.len() {
        let row = &rows[i];
        out.str(row.platform().arch.go_name());
        out.str(row.platform().os.go_name());
        out.byte(status_code(row.status()));
        match row.maintainers().0 {
            List::Names(names) => {
                out.u16(names.len());
                let mut j = 0;
                while j < names.len() {
                    out.str(names[j]);
                    j += 1;
                }
            }
            // Read from a manifest: already as a manifest writes them.
            List::Encoded { count, bytes } => {
                out.u16(count);
                out.bytes(bytes);
            }
        }
        match row.note() {
            Some(note) => {
                out.byte(1);
                out.str(note);
            }
            None => out.byte(0),
        }
        i += 1;
    }
    // 6. The CPU.
    let assumed = build.before_start.union(build.in_main);
    let x86_64 = matches!(platform.arch, Arch::X86_64);
    out.byte(if x86_64 { const_level_of(assumed) } else { 0 });
    out.byte(NAMES_PROGRAM_FILE as u8 | (READS_OWN_MANIFEST as u8) << 1);
    features(&mut out, build.before_start);
    features(&mut out, build.in_main);
    // The length, then the checksum of all but the magic.
    let body = out.len - HEADER;
    assert!(body <= MAX_BODY, "a manifest's body is longer than 1 MiB");
    out.u32_at(HEADER - 4, body as u32);
    let crc = crc32(&out.bytes, MAGIC.len(), out.len);
    let end = out.len;
    out.bytes(&[0; 4]);
    out.u32_at(end, crc);
    out
}

/// The variable's name as the gate derives it: [`Gate::variable_name`], at compile time.
#[inline]
const fn variable_name<const N: usize>(out: &mut Out<N>, gate: &Gate) {
    match gate.variable() {
        Variable::Named(name) => out.str(name),
        Variable::FromPackage(package) => {
            out.u16(package.len() + DERIVED_SUFFIX.len());
            let bytes = package.as_bytes();
            let mut i = 0;
            while i < bytes.len() {
                out.byte(derived_variable_byte(bytes[i]));
                i += 1;
            }
            out.bytes(DERIVED_SUFFIX.as_bytes());
        }
    }
}

#[inline]
const fn packager<const N: usize>(out: &mut Out<N>, packager: Option<Packager>) {
    let Some(packager) = packager else {
        out.str("");
        out.u16(0);
        return;
    };
    out.str(packager.name());
    let mut count = 0;
    let mut i = 0;
    while i < Arch::ALL.len() {
        count += packager.supports(Arch::ALL[i]) as usize;
        i += 1;
    }
    out.u16(count);
    let mut i = 0;
    while i < Arch::ALL.len() {
        if packager.supports(Arch::ALL[i]) {
            out.str(Arch::ALL[i].go_name());
        }
        i += 1;
    }
}

/// The names of `rows` of this target's family's table.
#[inline]
const fn features<const N: usize>(out: &mut Out<N>, rows: Rows) {
    let table = this_family().table();
    let mut count = 0;
    let mut row = 0;
    while row < table.len() {
        count += rows.contains(row) as usize;
        row += 1;
    }
    out.u16(count);
    let mut row = 0;
    while row < table.len() {
        if rows.contains(row) {
            out.str(table[row].name);
        }
        row += 1;
    }
}

/// Keeps the manifest in the linked binary. Nothing reads it at run time, so the linker's garbage
/// collection would drop it (and `#[used]` keeps a static through it on ELF only from Rust 1.89):
/// one instruction that takes its address, and nothing else, is what keeps it. An empty `asm!`
/// where the architecture's inline assembly is stable in Rust 1.85; `black_box` (three
/// instructions: it stores the address) elsewhere.
#[inline(always)]
pub(crate) fn keep(manifest: &'static [u8]) {
    keep_address(manifest.as_ptr() as usize);
}

cfg_split! {
    (any(
        target_arch = "x86",
        target_arch = "x86_64",
        target_arch = "arm",
        target_arch = "aarch64",
        target_arch = "riscv32",
        target_arch = "riscv64",
        target_arch = "loongarch64",
    )) {
        #[inline(always)]
        fn keep_address(address: usize) {
            // SAFETY: the assembly is empty: it executes nothing, reads and writes no memory
            // (`nomem`), leaves the stack and the flags alone, and only takes `address` in a
            // register, which makes the compiler materialise it.
            #[allow(unsafe_code)]
            unsafe {
                core::arch::asm!("/* {0} */", in(reg) address, options(nomem, nostack, preserves_flags));
            }
        }
    } else {
        #[inline(always)]
        fn keep_address(address: usize) {
            core::hint::black_box(address);
        }
    }
}
