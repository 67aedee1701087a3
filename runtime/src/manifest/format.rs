// The format's constants, its checksum, the one unmasking of the magic, and what a CPU refusal reads
// of a manifest's raw bytes (its length, the program, the variable, the exit code, and whether two
// agree): the leaf that the check before std starts, the writer and the reader all build on. What
// runs before std starts obeys `cpu/refuse.rs`'s rules: scalars, byte by byte, loops through `next`.

use crate::cpu::rows::next;

/// The bytes a manifest starts with: `0xff`, which no text has, then `platform-gate:`.
pub const MAGIC: [u8; 15] = *b"\xffplatform-gate:";

/// The key a program that looks for manifests holds the magic with: [`MASKED_MAGIC`] is the magic,
/// each byte xor this. A plain copy of the magic in a program's own data would be a manifest's start
/// that no manifest follows, so readers (the `platform-gate` command, the check before std starts)
/// unmask it at run time ([`magic`], [`magic_byte`]) with the key passed through
/// [`core::hint::black_box`], which the optimiser cannot fold back into the plain bytes.
///
/// ```
/// use platform_gate::manifest::{MAGIC, MAGIC_KEY, MASKED_MAGIC};
///
/// let key = core::hint::black_box(MAGIC_KEY);
/// assert!(MASKED_MAGIC.iter().zip(MAGIC).all(|(masked, plain)| masked ^ key == plain && *masked != plain));
/// ```
pub const MAGIC_KEY: u8 = 0x5a;

/// The magic, each byte xor [`MAGIC_KEY`].
pub const MASKED_MAGIC: [u8; MAGIC.len()] = {
    let mut masked = MAGIC;
    let mut i = 0;
    while i < masked.len() {
        masked[i] ^= MAGIC_KEY;
        i += 1;
    }
    masked
};

/// Byte `i` of the magic, unmasked at run time: the one unmasking every reader uses, a byte at a
/// time so that the check before std starts can too. `i` must be under the magic's length.
///
/// ```
/// use platform_gate::manifest::{MAGIC, magic_byte};
///
/// assert!((0..MAGIC.len()).all(|i| magic_byte(i) == MAGIC[i]));
/// ```
#[inline(always)]
pub fn magic_byte(i: usize) -> u8 {
    MASKED_MAGIC[i] ^ core::hint::black_box(MAGIC_KEY)
}

/// The magic, unmasked at run time (see [`MAGIC_KEY`]), for a reader's search.
///
/// ```
/// assert_eq!(platform_gate::manifest::magic(), *b"\xffplatform-gate:");
/// ```
pub fn magic() -> [u8; MAGIC.len()] {
    core::array::from_fn(magic_byte)
}

/// The magic's length, a scalar constant: `MAGIC.len()` at run time put the plain magic into an
/// unoptimised build's data (seen with Debian's 1.96 on PE).
pub(crate) const MAGIC_LEN: usize = MAGIC.len();

/// The format version this crate writes.
pub const FORMAT: u8 = 1;

/// The bytes before the body: the magic, the format version, and the body's length (a u32).
pub const HEADER: usize = MAGIC.len() + 1 + 4;

/// The longest body a manifest may have: a gate's is under 1 KiB, and the limit is what lets a reader
/// of untrusted files bound what it reads for one manifest. The writer refuses to compile more.
pub const MAX_BODY: usize = 1 << 20;

/// CRC-32 (IEEE 802.3, reflected, as zlib's `crc32` and Python's `zlib.crc32`) of
/// `bytes[start..end]`.
#[inline]
pub(crate) const fn crc32(bytes: &[u8], start: usize, end: usize) -> u32 {
    let mut crc = !0u32;
    let mut i = start;
    while i < end && i < bytes.len() {
        crc = CRC_TABLE[((crc ^ bytes[i] as u32) & 0xff) as usize] ^ (crc >> 8);
        i += 1;
    }
    !crc
}

/// The CRC of each byte value, so that [`crc32`] takes one step a byte.
const CRC_TABLE: [u32; 256] = {
    let mut table = [0; 256];
    let mut byte = 0;
    while byte < 256 {
        let mut crc = byte as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            bit += 1;
        }
        table[byte] = crc;
        byte += 1;
    }
    table
};

/// The length of the manifest whose magic starts at `at` in `region`, checksum included: 0 unless it
/// is whole, in this format, its checksum matches, and the fields a refusal reads are inside its body
/// (a program's name that is not empty, and an exit code that is not 0). The magic itself is the
/// caller's to have checked.
pub(crate) fn raw_len(region: &[u8], at: usize) -> usize {
    let rest = region.len() - at;
    if rest < HEADER + 4 || region[at + MAGIC_LEN] != FORMAT {
        return 0;
    }
    let body = u32_at(region, at + HEADER - 4) as usize;
    if body > rest - HEADER - 4 {
        return 0;
    }
    let len = HEADER + body + 4;
    let manifest = &region[at..at + len];
    if crc32(manifest, MAGIC_LEN, HEADER + body) != u32_at(manifest, HEADER + body) {
        return 0;
    }
    let end = HEADER + body;
    let policy = after_strings(manifest, end, STRINGS_BEFORE_POLICY);
    if policy > end || end - policy < 3 || u16_at(manifest, HEADER) == 0 || manifest[policy + 2] == 0 {
        return 0;
    }
    len
}

/// The strings before the policy: program, variable, the two versions, the platform's four names.
const STRINGS_BEFORE_POLICY: usize = 8;

/// Where the string after the first `count` strings of the body starts; past `end` where one of
/// them would end past it.
fn after_strings(manifest: &[u8], end: usize, count: usize) -> usize {
    let mut at = HEADER;
    let mut n = 0;
    while n < count {
        if end - at < 2 {
            return end + 1;
        }
        at = at + 2 + u16_at(manifest, at);
        if at > end {
            return end + 1;
        }
        n = next(n);
    }
    at
}

/// String `index` of a valid manifest's body (0 the program, 1 the variable).
fn string(manifest: &[u8], index: usize) -> &[u8] {
    let at = after_strings(manifest, manifest.len(), index);
    &manifest[at + 2..at + 2 + u16_at(manifest, at)]
}

/// A valid manifest's program name.
pub(crate) fn raw_program(manifest: &[u8]) -> &[u8] {
    string(manifest, 0)
}

/// A valid manifest's override variable.
pub(crate) fn raw_variable(manifest: &[u8]) -> &[u8] {
    string(manifest, 1)
}

/// A valid manifest's exit code: the policy's third byte.
pub(crate) fn raw_exit_code(manifest: &[u8]) -> u8 {
    manifest[after_strings(manifest, manifest.len(), STRINGS_BEFORE_POLICY) + 2]
}

/// Whether two valid manifests say the same to a CPU refusal before std starts: program, variable
/// and exit code. The one rule of agreement, for the check that reads its running image and for the
/// reader that predicts it.
pub(crate) fn same_settings(a: &[u8], b: &[u8]) -> bool {
    same_bytes(raw_program(a), raw_program(b))
        && same_bytes(raw_variable(a), raw_variable(b))
        && raw_exit_code(a) == raw_exit_code(b)
}

/// `a == b`, a byte at a time (slice equality may call `memcmp` or compare in vectors).
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i = next(i);
    }
    true
}

fn u16_at(bytes: &[u8], at: usize) -> usize {
    usize::from(bytes[at]) | usize::from(bytes[at + 1]) << 8
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from(bytes[at])
        | u32::from(bytes[at + 1]) << 8
        | u32::from(bytes[at + 2]) << 16
        | u32::from(bytes[at + 3]) << 24
}
