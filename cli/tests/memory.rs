//! What reading manifests costs in memory, counted by this test binary's global allocator: a
//! long-lived supervisor that reads 100,000 distinct manifests and drops them holds no more than it
//! did, and a file is read in one piece of 1 MiB at a time, plus its manifests' bytes.
//!
//! One test function: the counts are process-wide, and a second test running beside it would move
//! them.

// The counting allocator is the one unsafe item: `GlobalAlloc` is an unsafe trait.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

mod common;
#[cfg(feature = "command")]
#[path = "common/image.rs"]
mod image;
use common::{ETCD_MANIFEST, KV_MANIFEST};

/// The system's allocator, counting the bytes live and the most ever live.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is passed to `System` unchanged, which upholds `GlobalAlloc`'s contract; the
// counters are atomics that never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's `layout` obligations are `System.alloc`'s.
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            let live = LIVE.fetch_add(layout.size(), Relaxed) + layout.size();
            PEAK.fetch_max(live, Relaxed);
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: `pointer` was allocated by `alloc` above, from `System`, with this `layout`.
        unsafe { System.dealloc(pointer, layout) };
        LIVE.fetch_sub(layout.size(), Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// CRC-32 as `docs/manifest.md` gives it (zlib's), a bit at a time.
fn crc32(bytes: &[u8]) -> u32 {
    let step = |crc: u32, _| if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
    !bytes.iter().fold(!0, |crc, &byte| (0..8).fold(crc ^ u32::from(byte), step))
}

/// KV's manifest with its first maintainer's name (`@storage-team`, 13 bytes) replaced by `name`
/// and its checksum made anew: a distinct manifest for each name.
fn kv_maintained_by(name: &[u8; 13]) -> Vec<u8> {
    let mut bytes = KV_MANIFEST.to_vec();
    let at =
        bytes.windows(13).position(|window| window == b"@storage-team").expect("the fixture's maintainer");
    bytes[at..at + 13].copy_from_slice(name);
    reseal(&mut bytes);
    bytes
}

/// Makes the checksum of the manifest `bytes` anew, after a change of the same length.
fn reseal(bytes: &mut [u8]) {
    let end = bytes.len() - 4;
    let crc = crc32(&bytes[15..end]);
    bytes[end..].copy_from_slice(&crc.to_le_bytes());
}

fn name(i: usize) -> [u8; 13] {
    let mut name = *b"@maintainer00";
    name[1..].copy_from_slice(format!("m{i:011}").as_bytes());
    name
}

#[test]
fn reading_returns_its_memory_and_a_file_is_read_in_pieces() {
    // 1. 100,000 distinct manifests, read and dropped. The bytes are made before the count starts.
    const MANIFESTS: usize = 100_000;
    let mut bytes = kv_maintained_by(&name(0));
    let at = bytes.windows(13).position(|window| window == name(0)).unwrap();
    let before = LIVE.load(Relaxed);
    for i in 0..MANIFESTS {
        bytes[at..at + 13].copy_from_slice(&name(i));
        reseal(&mut bytes);
        let manifests = platform_gate_cli::read(&bytes).expect("a manifest");
        let maintainer = manifests[0].matrix().rows()[0].maintainers().iter().next().unwrap();
        assert_eq!(maintainer.as_bytes(), name(i), "the manifest read is the one written");
        drop(manifests);
    }
    let growth = LIVE.load(Relaxed).saturating_sub(before);
    eprintln!("{MANIFESTS} distinct manifests read and dropped: {growth} bytes still allocated");
    assert!(growth <= 1 << 20, "{growth} bytes of growth");
    assert_eq!(growth, 0, "nothing read is kept");

    // 2. The same through files, each read into a buffer the caller reuses.
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let path = dir.join("memory-kv");
    let mut storage = Vec::new();
    let before = LIVE.load(Relaxed);
    for i in 0..1_000 {
        std::fs::write(&path, kv_maintained_by(&name(i))).unwrap();
        let manifests = platform_gate_cli::read_file(&path, &mut storage).expect("a manifest");
        assert_eq!(manifests[0].program, "kvd");
        drop(manifests);
        assert_eq!(storage.len(), KV_MANIFEST.len(), "the buffer holds this file's manifest alone");
    }
    let held = storage.capacity();
    drop(storage);
    let growth = LIVE.load(Relaxed).saturating_sub(before);
    eprintln!("1,000 files read: {growth} bytes still allocated (the buffer held {held})");
    assert_eq!(growth, 0);

    // 3. A file of 24 MiB with two manifests deep inside: one piece of 1 MiB at a time.
    let mut file = vec![0x55; 12 << 20];
    file.extend_from_slice(&KV_MANIFEST);
    file.extend(vec![0xaa; 12 << 20]);
    file.extend_from_slice(&ETCD_MANIFEST);
    std::fs::write(&path, &file).unwrap();
    drop(file);
    let mut storage = Vec::new();
    let before = LIVE.load(Relaxed);
    PEAK.store(before, Relaxed);
    let manifests = platform_gate_cli::read_file(&path, &mut storage).unwrap();
    let peak = PEAK.load(Relaxed) - before;
    let kept = LIVE.load(Relaxed) - before;
    eprintln!("a 24 MiB file: peak {peak} bytes above the start, {kept} kept for its 2 manifests");
    assert_eq!(manifests.len(), 2);
    assert!(peak <= (1 << 20) + 16 * 1024, "peak {peak}: more than one piece and the manifests");
    assert!(kept <= KV_MANIFEST.len() + ETCD_MANIFEST.len() + 4096, "kept {kept}");
    drop(manifests);

    // 4. A header that announces 4 GiB: no more than the longest manifest is read for it.
    let mut file = KV_MANIFEST[..16].to_vec();
    file.extend_from_slice(&u32::MAX.to_le_bytes());
    file.extend(vec![0x11; 8 << 20]);
    std::fs::write(&path, &file).unwrap();
    drop(file);
    let before = LIVE.load(Relaxed);
    PEAK.store(before, Relaxed);
    let error = platform_gate_cli::read_file(&path, &mut storage).unwrap_err();
    let peak = PEAK.load(Relaxed) - before;
    eprintln!("a header announcing 4 GiB: {error}; peak {peak} bytes");
    assert!(error.to_string().contains("longer than a manifest's may be"), "{error}");
    assert!(peak <= (1 << 20) + 16 * 1024, "peak {peak}: its body was read");

    // 5. Images: a layer is read a piece at a time, so a layer of 32 MiB costs what one of 1 MiB
    // does. Two platform entries, each one layer holding one gated binary of that size.
    #[cfg(feature = "command")]
    {
        use platform_gate_fleet::image::{Image, ReadOptions};

        let mut peaks = Vec::new();
        for mib in [1, 32] {
            let mut binary = vec![0x5a; mib << 20];
            binary.extend_from_slice(&ETCD_MANIFEST);
            let dir = image::layout(&format!("memory-{mib}"), &[("amd64", &binary), ("arm64", &binary)]);
            drop(binary);
            let before = LIVE.load(Relaxed);
            PEAK.store(before, Relaxed);
            let read = Image::recognise(&dir).unwrap().unwrap().read(&ReadOptions::default()).unwrap();
            let peak = PEAK.load(Relaxed) - before;
            assert_eq!(read[1].binaries[0].manifests().unwrap()[0].program, "etcd");
            eprintln!("an image of two {mib} MiB layers: peak {peak} bytes above the start");
            peaks.push(peak);
        }
        assert!(peaks[1] <= peaks[0] + 64 * 1024, "peaks {peaks:?}: memory grew with the layer");
        assert!(peaks[1] < 2 << 20, "peaks {peaks:?}");
    }
}
