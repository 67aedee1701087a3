// The program's own manifest, found in its running image by the check before std starts, so that a
// CPU refusal there names the program and its variable and exits with its exit code, as the check in
// `main` does. That check runs in this crate and cannot see the attribute's arguments in `main`'s
// crate; the manifest that crate wrote holds them, in the same image's read-only data.
//
// Everything here runs on a CPU that lacks what the build assumed, and obeys `refuse.rs`'s rules. It
// runs only once a refusal is certain: a passing start never comes here.
//
// A manifest is trusted only when it is the one set of settings the image holds: where none is found,
// where two say different things (a binary that embeds another gated binary, as k0s embeds etcd), or
// where something after a magic is not a valid manifest of this format, the refusal stays generic.
// `platform-gate check` predicts which, from the same rule (`Manifest::predict`).

use super::rows::next;
use crate::manifest::format::{MAGIC, MAGIC_LEN, magic_byte, raw_len, same_settings};

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
            let len = raw_len(region, at);
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

/// The magic's first byte, a scalar constant: `MAGIC[0]` at run time put the plain magic into an
/// unoptimised build's data (seen with rustup's 1.95).
const FIRST_BYTE: u8 = MAGIC[0];

/// Whether the magic starts at `at`, whose first byte is known to be the magic's.
fn is_magic_at(region: &[u8], at: usize) -> bool {
    if region.len() - at < MAGIC_LEN {
        return false;
    }
    let mut i = 1;
    while i < MAGIC_LEN {
        if region[at + i] != magic_byte(i) {
            return false;
        }
        i = next(i);
    }
    true
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
