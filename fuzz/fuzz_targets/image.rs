//! The image reader on any bytes, as an archive, a layout's index, or a layer (plain or gzipped):
//! it never panics or hangs, every error is one line, and what it accepts has paths inside the
//! image's root (`platform_gate_fleet::image::fuzzing` says how an input becomes an image). Its
//! allocations are bounded by libFuzzer's `-malloc_limit_mb` (see `.ci/fuzz`), however much a
//! layer decompresses to.

#![no_main]

use libfuzzer_sys::fuzz_target;
use platform_gate_fleet::image::fuzzing::read_fuzzed;

fuzz_target!(|bytes: &[u8]| {
    // One scratch directory per fuzzing process, in memory where the machine has /dev/shm.
    let base = if std::path::Path::new("/dev/shm").is_dir() { "/dev/shm".into() } else { std::env::temp_dir() };
    let scratch = base.join(format!("platform-gate-fuzz-image-{}", std::process::id()));
    let _ = read_fuzzed(bytes, &scratch);
});
