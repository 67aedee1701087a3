// The program's own manifest, found in its running image by the check before std starts, so that a
// CPU refusal there names the program and its variable and exits with its exit code, as the check in
// `main` does. That check runs in this crate and cannot see the attribute's arguments in `main`'s
// crate; the manifest that crate wrote holds them, in the same image's read-only data.
//
// Zone: the refusal path. Everything here runs on a CPU that lacks what the build assumed, and obeys
// `refuse.rs`'s rules; `tests/cpu/run.sh` runs it under emulated CPUs and `tests/cpu/baseline_only.py`
// reads its machine code. It runs only once a refusal is certain: a passing start never comes here.
//
// A manifest is trusted only when it is the one set of settings the image holds: where none is found,
// where two say different things (a binary that embeds another gated binary, as k0s embeds etcd), or
// where something after a magic is not a valid manifest of this format, the refusal stays generic.
// `platform-gate check` predicts which, from the same rule (`Manifest::predict`).

use super::refuse::next;
use crate::manifest::{FORMAT, HEADER, MAGIC, MAGIC_KEY, MASKED_MAGIC, crc32};

/// Whether the check before std starts looks for its own manifest on this system: Linux and Android
/// (the program headers, from the auxiliary vector) and Windows (the executable's sections). Elsewhere
/// its refusal is the generic one.
pub(crate) const READS_OWN_MANIFEST: bool =
    cfg!(any(target_os = "linux", target_os = "android", target_os = "windows"));

/// The one manifest the running executable holds in its read-only memory, from its magic to its
/// checksum; empty where there is none, where they disagree, or where one is not valid.
pub(super) fn own_manifest() -> &'static [u8] {
    let mut first: &'static [u8] = &[];
    let mut trusted = true;
    let walked = each_read_only_region(&mut |region| search(region, &mut first, &mut trusted));
    if walked && trusted { first } else { &[] }
}

/// Looks for manifests in `region`: the first one found goes into `first` (while it is empty), and
/// `trusted` turns false at a magic that starts no valid manifest, or at a manifest whose settings
/// differ from `first`'s.
pub(super) fn search<'a>(region: &'a [u8], first: &mut &'a [u8], trusted: &mut bool) {
    let mut at = 0;
    while at < region.len() {
        if region[at] == FIRST_BYTE && is_magic_at(region, at) {
            let len = manifest_len(region, at);
            if len == 0 {
                *trusted = false;
            } else if first.is_empty() {
                *first = &region[at..at + len];
            } else if !same_settings(first, &region[at..at + len]) {
                *trusted = false;
            }
        }
        at = next(at);
    }
}

/// The magic's first byte and length, scalar constants: `MAGIC[0]` or `MAGIC.len()` at run time
/// would put the plain magic into an unoptimised build's data (both were seen).
const FIRST_BYTE: u8 = MAGIC[0];
const MAGIC_LEN: usize = MAGIC.len();

/// Whether the magic starts at `at`, whose first byte is known to be the magic's.
fn is_magic_at(region: &[u8], at: usize) -> bool {
    if region.len() - at < MAGIC_LEN {
        return false;
    }
    // Opaque, so that the optimiser cannot fold the key back into a plain copy of the magic.
    let key = core::hint::black_box(MAGIC_KEY);
    let mut i = 1;
    while i < MAGIC_LEN {
        if region[at + i] ^ key != MASKED_MAGIC[i] {
            return false;
        }
        i = next(i);
    }
    true
}

/// The length of the manifest whose magic starts at `at`, checksum included: 0 unless it is whole,
/// in this format, its checksum matches, and the fields a refusal reads are inside its body (a
/// program's name that is not empty, and an exit code that is not 0).
fn manifest_len(region: &[u8], at: usize) -> usize {
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
pub(super) fn program(manifest: &[u8]) -> &[u8] {
    string(manifest, 0)
}

/// A valid manifest's override variable.
pub(super) fn variable(manifest: &[u8]) -> &[u8] {
    string(manifest, 1)
}

/// A valid manifest's exit code: the policy's third byte.
pub(super) fn exit_code(manifest: &[u8]) -> u8 {
    manifest[after_strings(manifest, manifest.len(), STRINGS_BEFORE_POLICY) + 2]
}

/// Whether two valid manifests say the same to a refusal: program, variable and exit code.
fn same_settings(a: &[u8], b: &[u8]) -> bool {
    same_bytes(program(a), program(b)) && same_bytes(variable(a), variable(b)) && exit_code(a) == exit_code(b)
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

/// Calls `visit` with each loaded segment of the executable that is readable and not writable,
/// where the manifest lies; false where the image cannot be walked with certainty.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn each_read_only_region(visit: &mut impl FnMut(&'static [u8])) -> bool {
    #[cfg(target_pointer_width = "64")]
    #[repr(C)]
    struct ProgramHeader {
        kind: u32,
        flags: u32,
        offset: u64,
        address: u64,
        physical_address: u64,
        file_size: u64,
        memory_size: u64,
        align: u64,
    }
    #[cfg(target_pointer_width = "32")]
    #[repr(C)]
    struct ProgramHeader {
        kind: u32,
        offset: u32,
        address: u32,
        physical_address: u32,
        file_size: u32,
        memory_size: u32,
        flags: u32,
        align: u32,
    }
    const AT_PHDR: core::ffi::c_ulong = 3;
    const AT_PHENT: core::ffi::c_ulong = 4;
    const AT_PHNUM: core::ffi::c_ulong = 5;
    const PT_LOAD: u32 = 1;
    const PT_PHDR: u32 = 6;
    const PF_W: u32 = 2;
    const PF_R: u32 = 4;

    let table = super::sys::auxval(AT_PHDR) as usize;
    let count = super::sys::auxval(AT_PHNUM) as usize;
    let entry = super::sys::auxval(AT_PHENT) as usize;
    if table == 0 || table % core::mem::align_of::<ProgramHeader>() != 0 {
        return false;
    }
    if entry != core::mem::size_of::<ProgramHeader>() {
        return false;
    }
    // SAFETY: the kernel's `AT_PHDR` is the address of the executable's `AT_PHNUM` program headers
    // of `AT_PHENT` bytes (checked to be this layout's size, and the address its alignment), which
    // the loader maps with the executable and never unmaps or writes; `i < count` below.
    #[allow(unsafe_code)]
    let header =
        |i: usize| -> &'static ProgramHeader { unsafe { &*(table as *const ProgramHeader).wrapping_add(i) } };
    // The load bias: where the headers are against where they say they are (`PT_PHDR`); 0 for an
    // executable without that header, which is not position-independent, or the check below fails.
    let mut bias = 0usize;
    let mut i = 0;
    while i < count {
        if header(i).kind == PT_PHDR {
            bias = table.wrapping_sub(header(i).address as usize);
        }
        i = next(i);
    }
    // The bias is right if this very code lies in a loaded segment at it.
    let here = own_manifest as fn() -> &'static [u8] as usize;
    let mut holds_here = false;
    let mut i = 0;
    while i < count {
        let segment = header(i);
        let start = bias.wrapping_add(segment.address as usize);
        if segment.kind == PT_LOAD && here >= start && here - start < segment.memory_size as usize {
            holds_here = true;
        }
        i = next(i);
    }
    if !holds_here {
        return false;
    }
    let mut i = 0;
    while i < count {
        let segment = header(i);
        if segment.kind == PT_LOAD && segment.flags & PF_R != 0 && segment.flags & PF_W == 0 {
            let start = bias.wrapping_add(segment.address as usize);
            // SAFETY: a loaded segment, at the bias checked above: the loader mapped its first
            // `file_size` bytes from the file at `start`, readable, for the life of the process, and
            // nothing writes to a segment that is not writable. Made from a raw slice pointer, not
            // `from_raw_parts`, whose debug checks use instructions the CPU may lack.
            #[allow(unsafe_code)]
            let region =
                unsafe { &*core::ptr::slice_from_raw_parts(start as *const u8, segment.file_size as usize) };
            visit(region);
        }
        i = next(i);
    }
    true
}

/// As above: the sections of the executable's module that are readable and not writable.
#[cfg(target_os = "windows")]
fn each_read_only_region(visit: &mut impl FnMut(&'static [u8])) -> bool {
    const IMAGE_SCN_MEM_READ: u32 = 0x4000_0000;
    const IMAGE_SCN_MEM_WRITE: u32 = 0x8000_0000;
    let base = super::sys::executable_base();
    if base == 0 {
        return false;
    }
    // SAFETY: `base` is the executable's image, whose headers the loader validated and mapped
    // readable for the life of the process: the DOS header, the PE headers at `e_lfanew` and the
    // section table after them, which every read below stays within.
    #[allow(unsafe_code)]
    let byte = |at: usize| -> u8 { unsafe { *(at as *const u8) } };
    let u16_at = |at: usize| usize::from(byte(at)) | usize::from(byte(at + 1)) << 8;
    let u32_at = |at: usize| u16_at(at) | u16_at(at + 2) << 16;
    if u16_at(base) != 0x5a4d {
        return false; // "MZ"
    }
    let headers = base + u32_at(base + 0x3c);
    if u32_at(headers) != 0x4550 {
        return false; // "PE\0\0"
    }
    let sections = u16_at(headers + 6);
    let table = headers + 24 + u16_at(headers + 20);
    let mut i = 0;
    while i < sections {
        let section = table + 40 * i;
        let virtual_size = u32_at(section + 8);
        let len = if virtual_size == 0 { u32_at(section + 16) } else { virtual_size };
        let characteristics = u32_at(section + 36) as u32;
        if characteristics & IMAGE_SCN_MEM_READ != 0 && characteristics & IMAGE_SCN_MEM_WRITE == 0 {
            // SAFETY: a section of the image, which the loader mapped readable at `base` plus its
            // address for its virtual size (its file size where that is 0), and which nothing
            // writes, as it is not writable.
            #[allow(unsafe_code)]
            let region =
                unsafe { &*core::ptr::slice_from_raw_parts((base + u32_at(section + 12)) as *const u8, len) };
            visit(region);
        }
        i = next(i);
    }
    true
}

/// Elsewhere the image is not walked: the refusal is the generic one.
#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "windows")))]
fn each_read_only_region(_: &mut impl FnMut(&'static [u8])) -> bool {
    false
}

#[cfg(test)]
#[path = "image_tests.rs"]
mod tests;
