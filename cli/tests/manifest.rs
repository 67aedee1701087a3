//! The finder and the reader against manifests the runtime writes: built here by the code the
//! attribute calls, for gates of every shape, found in files, read back whole, and predicted as the
//! runtime decides. The format's own tests, field by field and mutated, are the runtime's
//! (`runtime/src/manifest/read_tests.rs`).

use std::ffi::OsStr;

use platform_gate::__private::{Prepared, prepare, target_feature_flags};
use platform_gate::{Allow, Arch, Check, Gate, Matrix, Os, Platform, Row, Status, decide};
use platform_gate_cli::{ReadError, RefusedBy, Start, read};

mod common;
use common::{ALPINE_MANIFEST, ETCD_MANIFEST, KV_MANIFEST, KV_MATRIX};

/// A manifest with bytes around it, as in a binary.
fn embedded(manifest: &[u8]) -> Vec<u8> {
    let mut file = b"\x7fELF and other bytes \xff\xffplatform-gate".to_vec();
    file.extend_from_slice(manifest);
    file.extend_from_slice(b"more bytes after it");
    file
}

#[test]
fn every_field_reads_back_as_the_gate_holds_it() {
    let file = embedded(&KV_MANIFEST);
    let kv = &read(&file).unwrap()[0];
    assert_eq!(kv.offset, 36);
    assert_eq!(kv.format, 1);
    assert_eq!((kv.program, kv.variable), ("kvd", "KVD_UNSUPPORTED_ARCH"));
    assert_eq!(kv.crate_version, Some("2.7.1-rc.1"));
    assert_eq!(kv.gate_version, env!("CARGO_PKG_VERSION"));
    assert_eq!(kv.platform, Platform::CURRENT);
    assert_eq!(kv.policy.check(), Check::Platform);
    assert_eq!(kv.policy.allow(), Allow::Experimental);
    assert_eq!(kv.policy.exit_code().get(), 3);
    assert_eq!(kv.policy.packager(), None);
    assert_eq!(kv.matrix().rows(), KV_MATRIX.rows());
    let maintainers: Vec<&str> = kv.matrix().rows()[0].maintainers().iter().collect();
    assert_eq!(maintainers, ["@storage-team", "Ops Team <ops@example.com>"]);
    assert_eq!(kv.matrix().rows()[0].note(), Some("Needs 4 GiB of memory."));

    let etcd = &read(&ETCD_MANIFEST).unwrap()[0];
    assert_eq!((etcd.program, etcd.variable), ("etcd", "ETCD_UNSUPPORTED_ARCH"));
    assert_eq!(etcd.crate_version, None);
    assert_eq!(etcd.matrix(), Matrix::ETCD);
    assert_eq!(etcd.policy.exit_code().get(), 1);

    let alpine = &read(&ALPINE_MANIFEST).unwrap()[0];
    assert_eq!((alpine.program, alpine.variable), ("my-serverd", "MY_SERVER_UNSUPPORTED_ARCH"));
    let packager = alpine.policy.packager().unwrap();
    assert_eq!(packager.name(), "Alpine Linux");
    assert_eq!(packager.architectures(), [Arch::X86_64, Arch::Riscv64, Arch::Loongarch64]);
}

#[test]
fn the_etcd_matrix_costs_under_a_kilobyte() {
    assert!(ETCD_MANIFEST.len() <= 1024, "{} bytes", ETCD_MANIFEST.len());
}

#[test]
fn predictions_are_the_runtimes_decisions_on_the_binarys_platform() {
    let kv = &read(&KV_MANIFEST).unwrap()[0];
    let values: [Option<&OsStr>; 6] = [
        None,
        Some(OsStr::new("")),
        Some(OsStr::new(Platform::CURRENT.arch.go_name())),
        Some(OsStr::new("s390x,ARM64")),
        Some(OsStr::new("amd64x")),
        non_utf8(),
    ];
    for manifest in [kv, &read(&ETCD_MANIFEST).unwrap()[0]] {
        for value in values {
            let prediction = manifest.predict(&Start { value, cpu: None, file_name: b"kvd" });
            let matrix = manifest.matrix();
            let verdict = decide(&matrix, manifest.policy, Platform::CURRENT, manifest.variable, value);
            let expected = verdict.message(manifest.program).map(|message| format!("{message}\n"));
            assert_eq!(prediction.stderr, expected.unwrap_or_default().into_bytes(), "{value:?}");
            let refused = matches!(verdict, platform_gate::Verdict::Refused { .. });
            assert_eq!(prediction.refusal, refused.then_some(manifest.policy.exit_code().get()));
            assert_eq!(prediction.refused_by, refused.then_some(RefusedBy::Platform));
        }
    }
}

#[cfg(unix)]
fn non_utf8() -> Option<&'static OsStr> {
    Some(std::os::unix::ffi::OsStrExt::from_bytes(b"amd\xff64"))
}

#[cfg(not(unix))]
fn non_utf8() -> Option<&'static OsStr> {
    None
}

#[test]
fn several_manifests_are_all_read_in_order() {
    let mut file = embedded(&KV_MANIFEST);
    file.extend_from_slice(&ETCD_MANIFEST);
    file.extend_from_slice(&KV_MANIFEST);
    let programs: Vec<&str> = read(&file).unwrap().into_iter().map(|manifest| manifest.program).collect();
    assert_eq!(programs, ["kvd", "etcd", "kvd"]);
}

/// What a CPU refusal before std starts would say and exit with, for `manifest` as read from its
/// file, with the check before std starts given a v3 build on a v2 CPU.
#[cfg(target_arch = "x86_64")]
fn before_start(manifest: &platform_gate_cli::Manifest<'_>) -> (String, Option<u8>) {
    use platform_gate::CpuFeatures;
    let mut manifest = manifest.clone();
    manifest.cpu.before_start = Some(CpuFeatures::x86_64_level(3));
    let prediction = manifest.predict(&Start {
        value: None,
        cpu: Some(CpuFeatures::x86_64_level(2)),
        file_name: b"kvd-file",
    });
    assert_eq!(prediction.refused_by, Some(RefusedBy::CpuBeforeStart));
    (String::from_utf8(prediction.stderr).unwrap(), prediction.refusal)
}

#[cfg(target_arch = "x86_64")]
#[test]
fn a_refusal_before_std_starts_names_the_program_where_its_file_holds_its_settings_alone() {
    use platform_gate::{CpuCheck, CpuFeatures};
    let check = CpuCheck::new(Arch::X86_64, CpuFeatures::x86_64_level(3), CpuFeatures::x86_64_level(2));
    let as_main = check.message("kvd", "KVD_UNSUPPORTED_ARCH").unwrap();
    // One manifest, or the same settings twice: the program's own words and exit code.
    for file in [embedded(&KV_MANIFEST), [&KV_MANIFEST[..], &KV_MANIFEST[..]].concat()] {
        let kv = &read(&file).unwrap()[0];
        assert_eq!(kv.cpu.reads_own_manifest, cfg!(any(target_os = "linux", target_os = "windows")));
        assert!(kv.alone_in_file() && kv.names_itself_before_start() == kv.cpu.reads_own_manifest);
        if kv.cpu.reads_own_manifest {
            assert_eq!(before_start(kv), (as_main.clone(), Some(3)));
        }
    }
    // A file that also holds another program's manifest (k0s embeds etcd): the generic refusal, by
    // the file's name where the system gives it, with exit code 1, for both of its programs.
    let file = [&KV_MANIFEST[..], &ETCD_MANIFEST[..]].concat();
    let both = read(&file).unwrap();
    for manifest in &both {
        assert!(!manifest.alone_in_file() && !manifest.names_itself_before_start());
        let name = manifest.cpu.names_program_file.then_some(&b"kvd-file"[..]);
        let generic = check.message_before_start(name).unwrap();
        assert_eq!(before_start(manifest), (generic, Some(CpuCheck::EXIT_CODE_BEFORE_START)));
    }
    // The same names with another exit code are other settings too.
    const KV_4: Prepared = prepare(
        Gate::new("kvd", "KVD_UNSUPPORTED_ARCH").with_exit_code(std::num::NonZeroU8::new(4).unwrap()),
        "kvd",
        &target_feature_flags!(),
        None,
    );
    static KV_4_MANIFEST: [u8; KV_4.manifest_len()] = KV_4.manifest();
    let file = [&KV_MANIFEST[..], &KV_4_MANIFEST[..]].concat();
    assert!(read(&file).unwrap().iter().all(|manifest| !manifest.alone_in_file()));
}

#[test]
fn bad_files_say_what_is_wrong() {
    assert_eq!(read(b""), Err(ReadError::NoManifest));
    assert_eq!(read(b"\x7fELF\x02\x01\x01 a binary without the gate"), Err(ReadError::NoManifest));
    // Cut anywhere after the magic: truncated.
    for len in 15..KV_MANIFEST.len() {
        assert_eq!(read(&KV_MANIFEST[..len]), Err(ReadError::Truncated { offset: 0 }), "cut at {len}");
    }
    // A newer format is named, whatever follows.
    let mut newer = KV_MANIFEST.to_vec();
    newer[15] = 2;
    assert_eq!(read(&newer), Err(ReadError::NewerFormat { offset: 0, format: 2 }));
    assert!(read(&newer).unwrap_err().to_string().contains("format 2, newer than this reader's 1"));
    // One manifest of two broken: the file is not read.
    let mut file = ETCD_MANIFEST.to_vec();
    file.extend_from_slice(&KV_MANIFEST[..40]);
    assert!(read(&file).is_err());
}

#[test]
fn a_row_of_every_status_and_os_reads_back() {
    const EVERY: Matrix = Matrix::new(&[
        Row::new(Arch::Wasm32, Os::Wasi, Status::Unstable),
        Row::new(Arch::Loongarch64, Os::Linux, Status::Experimental),
        Row::new(Arch::Aarch64, Os::Darwin, Status::Stable)
            .with_note("Apple silicon; Rosetta is not supported."),
        Row::new(Arch::X86, Os::Windows, Status::Unstable),
    ]);
    const EVERY_GATE: Prepared = prepare(
        Gate::new("every", "EVERY_ARCH").with_matrix(EVERY),
        "every",
        &target_feature_flags!(),
        Some("1.0.0"),
    );
    static EVERY_MANIFEST: [u8; EVERY_GATE.manifest_len()] = EVERY_GATE.manifest();
    assert_eq!(read(&EVERY_MANIFEST).unwrap()[0].matrix(), EVERY);
}

#[test]
fn a_file_read_in_pieces_gives_what_its_bytes_give() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let piece = 1 << 20;
    // Manifests whose magic, header or body cross the reader's 1 MiB pieces; then one cut short.
    for (case, at) in
        [0, piece - 7, piece - 17, piece - 100, piece + 3, 3 * piece - 1].into_iter().enumerate()
    {
        let mut bytes = vec![0x55; at];
        bytes.extend_from_slice(&KV_MANIFEST);
        bytes.extend(vec![0xaa; 5000]);
        bytes.extend_from_slice(&ETCD_MANIFEST);
        let path = dir.join(format!("pieces-{case}"));
        std::fs::write(&path, &bytes).unwrap();
        let mut storage = Vec::new();
        assert_eq!(
            platform_gate_cli::read_file(&path, &mut storage).unwrap(),
            read(&bytes).unwrap(),
            "at {at}"
        );
        // The buffer holds the manifests' bytes, and nothing else of the file.
        assert_eq!(storage, [&KV_MANIFEST[..], &ETCD_MANIFEST[..]].concat());
        bytes.truncate(bytes.len() - 30);
        std::fs::write(&path, &bytes).unwrap();
        let offset = at + KV_MANIFEST.len() + 5000;
        assert_eq!(read(&bytes), Err(ReadError::Truncated { offset }));
        match platform_gate_cli::read_file(&path, &mut Vec::new()) {
            Err(platform_gate_cli::FileError::Manifest(error)) => {
                assert_eq!(error, ReadError::Truncated { offset })
            }
            other => panic!("at {at}: {other:?}"),
        }
    }
}
