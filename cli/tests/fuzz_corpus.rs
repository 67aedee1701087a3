//! The fuzzers' corpus (`fuzz/corpus`: real manifests and values, and every input that ever made a
//! fuzz target fail) as a regression suite on stable: each input through the same properties the
//! targets check (`fuzz/fuzz_targets`), so that a fixed failure stays fixed without nightly.

use std::ffi::OsStr;
use std::path::PathBuf;

use platform_gate::{Arch, CpuFeatures, Matrix, Os, Platform, Policy, Verdict, decide};
use platform_gate_cli::{Start, read};

fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus").join(target);
    let mut inputs: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            (path.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&path).unwrap())
        })
        .collect();
    inputs.sort();
    inputs
}

#[test]
fn every_manifest_input_reads_as_the_read_target_demands() {
    let inputs = corpus("read");
    assert!(inputs.len() >= 5, "the seeds are there");
    let mut accepted = 0;
    for (name, bytes) in &inputs {
        let Ok(manifests) = read(bytes) else { continue };
        accepted += 1;
        for manifest in &manifests {
            let again = read(&bytes[manifest.offset..]).unwrap_or_else(|error| panic!("{name}: {error}"));
            assert_eq!(
                (&again[0].program, again[0].matrix()),
                (&manifest.program, manifest.matrix()),
                "{name}"
            );
            for cpu in
                [None, CpuFeatures::none(manifest.platform.arch), CpuFeatures::all(manifest.platform.arch)]
            {
                let prediction = manifest.predict(&Start { value: None, cpu, file_name: b"fuzzed" });
                assert_eq!(prediction.refusal.is_some(), prediction.refused_by.is_some(), "{name}");
            }
        }
    }
    assert!(accepted >= 4, "the real manifests among the seeds are read: {accepted}");
}

#[cfg(unix)]
#[test]
fn every_value_input_keeps_the_messages_promises() {
    use std::os::unix::ffi::OsStrExt as _;
    for (name, bytes) in corpus("override") {
        let value = OsStr::from_bytes(&bytes);
        for &arch in Arch::ALL {
            let platform = Platform::new(arch, Os::Linux);
            let verdict =
                decide(&Matrix::ETCD, Policy::DEFAULT, platform, "ETCD_UNSUPPORTED_ARCH", Some(value));
            if let Verdict::Overridden(_) = verdict {
                assert!(value.to_str().is_some_and(|value| platform_gate::names_arch(value, arch)), "{name}");
            }
            if let Some(message) = verdict.message("etcd") {
                let text = message.to_string();
                assert!(text.bytes().all(|b| b == b'\n' || (b' '..=b'~').contains(&b)), "{name}: {text}");
                assert!(text.len() < 4096 && text.lines().count() <= 7, "{name}: {text}");
            }
        }
    }
}

/// The image target's corpus, through the same function the target calls: each seed reads as it
/// was built to (a gated binary found, or the error it was made to hit), and every other input
/// (one that once failed) reads without breaking a promise.
#[cfg(feature = "command")]
#[test]
fn every_image_input_reads_as_the_image_target_demands() {
    use platform_gate_fleet::image::fuzzing::read_fuzzed;

    let scratch = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fuzz-corpus-image");
    let inputs = corpus("image");
    let expected: [(&str, Result<usize, &str>); 6] = [
        ("docker-archive", Ok(1)),
        ("index-nested-loop", Err("not what the image spec defines")),
        ("index-plain", Ok(0)),
        ("layer-gzip", Ok(1)),
        ("layer-plain", Ok(1)),
        ("oci-archive", Ok(1)),
    ];
    for (name, bytes) in &inputs {
        let read = read_fuzzed(bytes, &scratch);
        match expected.iter().find(|(seed, _)| seed == name) {
            Some((_, Ok(binaries))) => assert_eq!(read, Ok(*binaries), "{name}"),
            Some((_, Err(why))) => {
                assert!(read.as_ref().is_err_and(|error| error.contains(why)), "{name}: {read:?}")
            }
            None => {}
        }
    }
    assert!(
        expected.iter().all(|(seed, _)| inputs.iter().any(|(name, _)| name == seed)),
        "the seeds are there"
    );
}
