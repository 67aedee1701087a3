//! The manifest reader on any bytes: it never panics, and what it accepts is a manifest, which
//! reads back the same from its own offset and predicts a binary without panicking. Its
//! allocations are bounded by libFuzzer's `-malloc_limit_mb` (see `.ci/fuzz`).

#![no_main]

use libfuzzer_sys::fuzz_target;
use platform_gate::CpuFeatures;
use platform_gate::manifest::Manifest;
use platform_gate_cli::{Start, read};

fuzz_target!(|bytes: &[u8]| {
    // The format's reader alone, on bytes that start where a manifest would.
    if let Ok(manifest) = Manifest::parse(bytes, 0) {
        let rows = manifest.matrix().rows().iter().map(|row| row.maintainers().iter().count()).sum::<usize>();
        assert!(rows <= bytes.len());
    }
    let Ok(manifests) = read(bytes) else { return };
    for manifest in &manifests {
        // Never a verdict from an invalid manifest: an accepted one is whole where it says it is.
        let again = read(&bytes[manifest.offset..]).expect("an accepted manifest reads again");
        assert_eq!(again[0].program, manifest.program);
        assert_eq!(again[0].matrix(), manifest.matrix());
        assert_eq!(again[0].policy, manifest.policy);
        for cpu in [None, CpuFeatures::none(manifest.platform.arch), CpuFeatures::all(manifest.platform.arch)]
        {
            let prediction = manifest.predict(&Start { value: None, cpu, file_name: b"fuzzed" });
            assert_eq!(prediction.refusal.is_some(), prediction.refused_by.is_some());
        }
        let _ = platform_gate_fleet::Pod::from_manifests([manifest])
            .map(|pod| pod.placement(platform_gate_fleet::CpuLabels::Nfd, true));
    }
});
