// The format where it lives: the writer's bytes, field by field, against a second encoder written
// from `docs/manifest.md` (`Fields`), and the reader's answer to every field a gate never writes.
//
// Zone: the command and the format, proved by `cargo test -p platform-gate --features read` (see
// CONTRIBUTING.md).

use core::num::NonZeroU8;

use super::*;
use crate::cpu::Rows;
use crate::{Matrix, Policy, Row};

/// A manifest's fields, as `docs/manifest.md` lists them, encoded by [`Fields::encode`] without the
/// writer's help: what a reader in another language would write.
#[derive(Clone)]
struct Fields {
    format: u8,
    program: &'static str,
    variable: &'static str,
    crate_version: &'static str,
    gate_version: &'static str,
    platform: [&'static str; 4],
    codes: [u8; 3],
    packager: (&'static str, Vec<&'static str>),
    rows: Vec<RowFields>,
    level: u8,
    flags: u8,
    before_start: Vec<&'static str>,
    in_main: Vec<&'static str>,
    trailing: Vec<u8>,
}

#[derive(Clone)]
struct RowFields {
    arch: &'static str,
    os: &'static str,
    status: u8,
    maintainers: Vec<&'static str>,
    note: Option<(u8, &'static str)>,
}

fn row(arch: &'static str, os: &'static str, status: u8) -> RowFields {
    RowFields { arch, os, status, maintainers: Vec::new(), note: None }
}

impl Fields {
    /// kvd's gate, as [`kvd`] builds it, on this platform, with nothing assumed of the CPU.
    fn kvd() -> Fields {
        let platform = Platform::CURRENT;
        Fields {
            format: 1,
            program: "kvd",
            variable: "KVD_UNSUPPORTED_ARCH",
            crate_version: "2.7.1",
            gate_version: env!("CARGO_PKG_VERSION"),
            platform: [
                platform.arch.go_name(),
                platform.arch.rust_name(),
                platform.os.go_name(),
                platform.os.rust_name(),
            ],
            codes: [1, 1, 3],
            packager: ("Alpine Linux", vec!["amd64", "riscv64"]),
            rows: vec![
                RowFields {
                    maintainers: vec!["@storage", "Ops <ops@example.com>"],
                    note: Some((1, "Needs 4 GiB.")),
                    ..row("amd64", "linux", 0)
                },
                row("arm64", "linux", 2),
                row("s390x", "linux", 1),
            ],
            level: if cfg!(target_arch = "x86_64") { 1 } else { 0 },
            flags: crate::cpu::NAMES_PROGRAM_FILE as u8 | (crate::cpu::READS_OWN_MANIFEST as u8) << 1,
            before_start: Vec::new(),
            in_main: Vec::new(),
            trailing: Vec::new(),
        }
    }

    /// etcd's gate, with etcd's matrix and no package version, on this platform.
    fn etcd() -> Fields {
        let note = Some((1, super::super::matrix::ETCD_32_BIT_NOTE));
        Fields {
            program: "etcd",
            variable: "ETCD_UNSUPPORTED_ARCH",
            crate_version: "",
            codes: [0, 0, 1],
            packager: ("", vec![]),
            rows: vec![
                RowFields { maintainers: vec!["etcd maintainers"], ..row("amd64", "darwin", 1) },
                RowFields { maintainers: vec!["etcd maintainers"], ..row("amd64", "linux", 2) },
                row("amd64", "windows", 1),
                row("arm64", "linux", 1),
                RowFields { note, ..row("arm", "linux", 0) },
                RowFields { note, ..row("386", "linux", 0) },
                RowFields {
                    maintainers: vec!["etcd maintainers", "@mkumatag"],
                    ..row("ppc64le", "linux", 2)
                },
            ],
            ..Fields::kvd()
        }
    }

    fn encode(&self) -> Vec<u8> {
        fn str(out: &mut Vec<u8>, text: &str) {
            out.extend_from_slice(&(text.len() as u16).to_le_bytes());
            out.extend_from_slice(text.as_bytes());
        }
        fn list(out: &mut Vec<u8>, names: &[&str]) {
            out.extend_from_slice(&(names.len() as u16).to_le_bytes());
            names.iter().for_each(|name| str(out, name));
        }
        let mut body = Vec::new();
        for text in [self.program, self.variable, self.crate_version, self.gate_version] {
            str(&mut body, text);
        }
        self.platform.iter().for_each(|name| str(&mut body, name));
        body.extend_from_slice(&self.codes);
        str(&mut body, self.packager.0);
        list(&mut body, &self.packager.1);
        body.extend_from_slice(&(self.rows.len() as u16).to_le_bytes());
        for row in &self.rows {
            str(&mut body, row.arch);
            str(&mut body, row.os);
            body.push(row.status);
            list(&mut body, &row.maintainers);
            match row.note {
                Some((flag, note)) => {
                    body.push(flag);
                    str(&mut body, note);
                }
                None => body.push(0),
            }
        }
        body.extend_from_slice(&[self.level, self.flags]);
        list(&mut body, &self.before_start);
        list(&mut body, &self.in_main);
        body.extend_from_slice(&self.trailing);
        let mut out = MAGIC.to_vec();
        out.push(self.format);
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&body);
        out.extend_from_slice(&[0; 4]);
        seal(&mut out);
        out
    }

    /// What the reader says of these fields: the manifest's program, or its error.
    fn read(&self) -> Result<String, String> {
        let bytes = self.encode();
        Manifest::parse(&bytes, 9)
            .map(|manifest| manifest.program.to_owned())
            .map_err(|error| error.to_string())
    }

    fn malformed(&self) -> String {
        match self.read() {
            Err(error) => {
                error.strip_prefix("the manifest at byte 9 is malformed: ").unwrap_or(&error).to_owned()
            }
            Ok(program) => panic!("read as {program}'s manifest"),
        }
    }
}

/// Writes the body's length and the checksum of the manifest `bytes`, whose last 4 bytes are the
/// checksum's place: what a forger does after changing a manifest, so that the change reaches the
/// fields behind them.
fn seal(bytes: &mut [u8]) {
    let end = bytes.len() - 4;
    bytes[HEADER - 4..HEADER].copy_from_slice(&((end - HEADER) as u32).to_le_bytes());
    let crc = crc32(bytes, MAGIC.len(), end);
    bytes[end..].copy_from_slice(&crc.to_le_bytes());
}

const KVD_MATRIX: Matrix<'static> = Matrix::new(&[
    Row::new(Arch::X86_64, crate::Os::Linux, crate::Status::Unstable)
        .maintained_by(&["@storage", "Ops <ops@example.com>"])
        .with_note("Needs 4 GiB."),
    Row::new(Arch::Aarch64, crate::Os::Linux, crate::Status::Stable),
    Row::new(Arch::S390x, crate::Os::Linux, crate::Status::Experimental),
]);

fn kvd() -> Gate {
    Gate::new("kvd", "KVD_UNSUPPORTED_ARCH")
        .with_matrix(KVD_MATRIX)
        .with_check(Check::Platform)
        .with_allow(Allow::Experimental)
        .with_exit_code(NonZeroU8::new(3).unwrap())
        .with_policy(
            Policy::DEFAULT
                .with_check(Check::Platform)
                .with_allow(Allow::Experimental)
                .with_exit_code(NonZeroU8::new(3).unwrap())
                .with_packager(Some(Packager::new("Alpine Linux", "riscv64, x86_64"))),
        )
}

fn written(gate: &Gate, crate_version: Option<&'static str>, before_start: Rows, in_main: Rows) -> Vec<u8> {
    to_vec(gate, &Build { crate_version, before_start, in_main })
}

#[test]
fn the_writer_writes_what_the_specification_says() {
    assert_eq!(written(&kvd(), Some("2.7.1"), Rows::EMPTY, Rows::EMPTY), Fields::kvd().encode());
    let gate = Gate::new("etcd", "ETCD_UNSUPPORTED_ARCH");
    let bytes = written(&gate, None, Rows::EMPTY, Rows::EMPTY);
    assert_eq!(bytes, Fields::etcd().encode());
    assert!(bytes.len() <= 1024, "etcd's matrix takes {} bytes", bytes.len());
    assert_eq!(
        len(&gate, &Build { crate_version: None, before_start: Rows::EMPTY, in_main: Rows::EMPTY }),
        bytes.len()
    );
}

#[cfg(target_arch = "x86_64")]
#[test]
fn the_cpu_features_are_written_by_name_with_their_level() {
    // v3 checked before std starts, and in `main` one feature above it.
    let v3 = crate::cpu::level_rows(3);
    let table = crate::cpu::this_family().table();
    let above = (0..table.len()).find(|&row| !v3.contains(row)).unwrap();
    let mut fields = Fields::kvd();
    fields.level = 3;
    fields.before_start =
        (0..table.len()).filter(|&row| v3.contains(row)).map(|row| table[row].name).collect();
    fields.in_main = vec![table[above].name];
    let bytes = written(&kvd(), Some("2.7.1"), v3, Rows::EMPTY.with(above));
    assert_eq!(bytes, fields.encode());
    let manifest = Manifest::parse(&bytes, 0).unwrap();
    assert_eq!(manifest.cpu.level, 3);
    assert_eq!(manifest.cpu.before_start, Some(crate::CpuFeatures::x86_64_level(3)));
    assert!(manifest.cpu.assumed().unwrap().contains(crate::CpuFeatures::x86_64_level(3)));
    // The level is of both sets together, and must agree with them.
    fields.level = 2;
    assert_eq!(fields.malformed(), "CPU level 2, where its features make 3");
}

#[test]
fn every_field_reads_back_as_the_gate_holds_it() {
    let bytes = written(&kvd(), Some("2.7.1"), Rows::EMPTY, Rows::EMPTY);
    let kvd = Manifest::parse(&bytes, 40).unwrap();
    assert_eq!((kvd.offset, kvd.format, kvd.program, kvd.variable), (40, 1, "kvd", "KVD_UNSUPPORTED_ARCH"));
    assert_eq!((kvd.crate_version, kvd.gate_version), (Some("2.7.1"), env!("CARGO_PKG_VERSION")));
    assert_eq!(kvd.platform, Platform::CURRENT);
    assert_eq!(kvd.policy, self::kvd().policy());
    assert_eq!(kvd.policy.packager().unwrap().architectures(), [Arch::X86_64, Arch::Riscv64]);
    assert_eq!(kvd.matrix(), KVD_MATRIX);
    let amd64 = kvd.matrix().rows()[0];
    assert_eq!(amd64.maintainers().iter().collect::<Vec<_>>(), ["@storage", "Ops <ops@example.com>"]);
    assert_eq!(amd64.note(), Some("Needs 4 GiB."));
    let cpu = kvd.cpu;
    assert_eq!(
        (cpu.names_program_file, cpu.reads_own_manifest),
        (crate::cpu::NAMES_PROGRAM_FILE, crate::cpu::READS_OWN_MANIFEST)
    );
    assert!(cpu.alone_in_file);
    let has_table = crate::cpu::family(Platform::CURRENT.arch).is_some();
    assert_eq!(cpu.before_start.is_some(), has_table);
    // Read back, it writes the same bytes again: the maintainers as the manifest held them.
    let mut again = Vec::new();
    for row in kvd.matrix().rows() {
        let mut out = Out { bytes: [0; 256], len: 0 };
        match row.maintainers().0 {
            List::Encoded { count, bytes } => {
                out.u16(count);
                out.bytes(bytes);
            }
            List::Names(_) => panic!("a manifest's maintainers are read in place"),
        }
        again.extend_from_slice(&out.bytes[..out.len]);
    }
    assert_eq!(again, b"\x02\x00\x08\x00@storage\x15\x00Ops <ops@example.com>\x00\x00\x00\x00");

    let etcd = written(&Gate::new("etcd", "ETCD_UNSUPPORTED_ARCH"), None, Rows::EMPTY, Rows::EMPTY);
    let etcd = Manifest::parse(&etcd, 0).unwrap();
    assert_eq!((etcd.crate_version, etcd.policy), (None, Policy::DEFAULT));
    assert_eq!(etcd.matrix(), Matrix::ETCD);
}

#[test]
fn the_fixture_is_etcds_manifest() {
    // `tests/fixtures/etcd.manifest`, which the documentation's examples read: etcd's gate as this
    // crate writes it (see the test above) for an x86-64 Linux baseline build by platform-gate 0.1.0,
    // so that it cannot drift from the writer.
    let fixture = include_bytes!("../../tests/fixtures/etcd.manifest");
    let x86_64_linux = Fields {
        gate_version: "0.1.0",
        platform: ["amd64", "x86_64", "linux", "linux"],
        level: 1,
        flags: 3,
        ..Fields::etcd()
    };
    assert_eq!(x86_64_linux.encode(), fixture);
    let manifest = Manifest::parse(fixture, 0).unwrap();
    assert_eq!(
        (manifest.program, manifest.variable, manifest.matrix()),
        ("etcd", "ETCD_UNSUPPORTED_ARCH", Matrix::ETCD)
    );
}

#[test]
fn the_header_announces_the_whole_length() {
    let bytes = Fields::kvd().encode();
    assert_eq!(announced_len(&bytes), Some(bytes.len()));
    assert_eq!(announced_len(&bytes[..HEADER]), Some(bytes.len()));
    assert_eq!(announced_len(&bytes[..HEADER - 1]), None);
    let mut huge = bytes[..HEADER].to_vec();
    huge[HEADER - 4..].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(announced_len(&huge), (HEADER + u32::MAX as usize).checked_add(4));
}

#[test]
fn cut_corrupted_newer_and_overlong_manifests_are_named() {
    let bytes = Fields::kvd().encode();
    for len in 0..bytes.len() {
        assert_eq!(
            Manifest::parse(&bytes[..len], 5),
            Err(ReadError::Truncated { offset: 5 }),
            "cut at {len}"
        );
    }
    assert!(Manifest::parse(&[bytes.as_slice(), b"after"].concat(), 0).is_ok(), "what follows is not read");
    for at in 0..bytes.len() {
        for flip in [0x01, 0x80, 0xff] {
            let mut changed = bytes.clone();
            changed[at] ^= flip;
            assert!(Manifest::parse(&changed, 0).is_err(), "byte {at} ^ {flip:#x} was read as a manifest");
        }
    }
    let mut elf = bytes.clone();
    elf[..4].copy_from_slice(b"\x7fELF");
    assert_eq!(Manifest::parse(&elf, 0), Err(ReadError::NoManifest), "not a magic");
    let mut corrupted = bytes.clone();
    corrupted[30] ^= 1;
    assert_eq!(Manifest::parse(&corrupted, 2), Err(ReadError::Corrupted { offset: 2 }));
    let newer = Fields { format: 2, ..Fields::kvd() };
    assert_eq!(Manifest::parse(&newer.encode(), 0), Err(ReadError::NewerFormat { offset: 0, format: 2 }));
    assert_eq!(
        newer.read().unwrap_err(),
        "the manifest at byte 9 is in format 2, newer than this reader's 1; use a newer platform-gate"
    );
    assert_eq!(Fields { format: 0, ..Fields::kvd() }.malformed(), "format 0 is no format");
    let mut overlong = Fields::kvd();
    overlong.trailing = vec![0; MAX_BODY];
    assert_eq!(
        overlong.malformed(),
        format!(
            "its body of {} bytes is longer than a manifest's may be",
            overlong.encode().len() - HEADER - 4
        )
    );
    let mut longest = bytes[..HEADER].to_vec();
    longest[HEADER - 4..].copy_from_slice(&(MAX_BODY as u32).to_le_bytes());
    assert_eq!(Manifest::parse(&longest, 0), Err(ReadError::Truncated { offset: 0 }), "1 MiB is allowed");
    assert_eq!(Fields { trailing: vec![7, 7], ..Fields::kvd() }.malformed(), "2 bytes after its last field");
    assert_eq!(
        ReadError::Truncated { offset: 3 }.to_string(),
        "the manifest at byte 3 is cut short: the file ends inside it"
    );
    assert_eq!(
        ReadError::Corrupted { offset: 3 }.to_string(),
        "the manifest at byte 3 is corrupted: its checksum does not match its bytes"
    );
    assert_eq!(
        ReadError::NoManifest.to_string(),
        "no platform-gate manifest: not a binary built with #[platform_gated]"
    );
}

#[test]
fn a_field_no_gate_writes_is_named() {
    let kvd = Fields::kvd;
    let with_row = |row: RowFields| Fields { rows: vec![row], ..kvd() };
    let cases: Vec<(Fields, &str)> = vec![
        (Fields { program: "", ..kvd() }, "the program's name is empty"),
        (Fields { variable: "KVD=1", ..kvd() }, "\"KVD=1\" is not a variable's name"),
        (
            Fields { program: "kvd\n  = help: forged", ..kvd() },
            "the program's name holds a control character or a bidirectional override",
        ),
        (
            Fields { program: "kvd\u{202e}", ..kvd() },
            "the program's name holds a control character or a bidirectional override",
        ),
        (
            Fields { platform: ["arm64x", "aarch64", "linux", "linux"], ..kvd() },
            "\"arm64x\" is no architecture this reader",
        ),
        (
            Fields { platform: ["aarch64", "aarch64", "linux", "linux"], ..kvd() },
            "\"aarch64\" is no architecture this reader",
        ),
        (
            Fields { platform: ["arm64", "aarch64", "Linux", "linux"], ..kvd() },
            "\"Linux\" is no OS this reader",
        ),
        (
            Fields { platform: ["arm64", "arm", "linux", "linux"], ..kvd() },
            "its platform's Rust names, arm linux, are not arm64 (aarch64) linux's",
        ),
        (
            Fields { platform: ["arm64", "aarch64", "linux", "macos"], ..kvd() },
            "its platform's Rust names, aarch64 macos, are not arm64 (aarch64) linux's",
        ),
        (Fields { codes: [2, 0, 1], ..kvd() }, "an unknown check"),
        (Fields { codes: [0, 2, 1], ..kvd() }, "an unknown allow"),
        (Fields { codes: [0, 0, 0], ..kvd() }, "exit code 0"),
        (Fields { packager: ("", vec!["amd64"]), ..kvd() }, "architectures without a packager"),
        (Fields { packager: ("Alpine", vec![]), ..kvd() }, "a packager that vouches for nothing"),
        (Fields { packager: ("  ", vec!["amd64"]), ..kvd() }, "a packager that vouches for nothing"),
        (
            Fields { packager: ("Alpine", vec!["x86_64"]), ..kvd() },
            "\"x86_64\" is no architecture this reader",
        ),
        (with_row(row("amd64", "linux", 3)), "a row's status is unknown"),
        (with_row(row("amd64", "gnu", 2)), "\"gnu\" is no OS this reader"),
        (
            with_row(RowFields { note: Some((2, "x")), ..row("amd64", "linux", 2) }),
            "a row's note flag is neither 0 nor 1",
        ),
        (
            with_row(RowFields { note: Some((1, "a\tb")), ..row("amd64", "linux", 2) }),
            "a row's note holds a control character or a bidirectional override",
        ),
        (
            with_row(RowFields { maintainers: vec!["ok", "\x1b[2J"], ..row("amd64", "linux", 2) }),
            "a row's maintainers holds a control character or a bidirectional override",
        ),
        (
            Fields {
                rows: vec![row("amd64", "linux", 2), row("arm64", "linux", 2), row("amd64", "linux", 0)],
                ..kvd()
            },
            "the matrix lists amd64 linux twice",
        ),
        (Fields { flags: 4, ..kvd() }, "unknown CPU flags 0x04"),
        (Fields { level: 5, ..kvd() }, "CPU level 5, where its features make "),
    ];
    for (fields, expected) in cases {
        let error = fields.malformed();
        assert!(error.starts_with(expected), "{error:?}, not {expected:?}");
    }
    // A row's arch and OS may be any pair the names know, however the binary's platform is spelt.
    let wasi = with_row(RowFields { note: Some((0, "")), ..row("wasm", "wasip1", 0) });
    let mut bytes = wasi.encode();
    // A note flag of 0 writes no note: the forged note string is what follows, and is too much.
    assert!(Manifest::parse(&bytes, 0).is_err());
    bytes = Fields { rows: vec![row("wasm", "wasip1", 0), row("loong64", "linux", 1)], ..kvd() }.encode();
    let manifest = Manifest::parse(&bytes, 0).unwrap();
    assert_eq!(manifest.matrix().rows().len(), 2);
    // Not UTF-8.
    let mut bytes = Fields { program: "kv\u{e9}", ..kvd() }.encode();
    let at = bytes.windows(2).position(|pair| pair == "\u{e9}".as_bytes()).unwrap();
    bytes[at + 1] = 0x28;
    seal(&mut bytes);
    assert_eq!(
        Manifest::parse(&bytes, 0),
        Err(ReadError::Malformed { offset: 0, what: "the program's name is not UTF-8".into() })
    );
}

#[test]
fn a_body_that_ends_inside_a_field_is_named() {
    // The length and checksum are right, the body is cut: the field it ends in is named.
    let bytes = Fields::kvd().encode();
    let body = &bytes[HEADER..bytes.len() - 4];
    let mut named = Vec::new();
    for cut in 0..body.len() {
        let mut short = [&bytes[..HEADER], &body[..cut], &[0; 4]].concat();
        seal(&mut short);
        match Manifest::parse(&short, 0) {
            Err(ReadError::Malformed { what, .. }) if what.starts_with("its body ends inside ") => {
                named.push(what)
            }
            other => panic!("cut at {cut}: {other:?}"),
        }
    }
    for field in [
        "the program's name",
        "the variable's name",
        "the program's version",
        "the check",
        "the exit code",
        "the packager's architectures",
        "a row's maintainers",
        "a row's note",
        "the CPU flags",
        "the CPU features",
    ] {
        assert!(named.contains(&format!("its body ends inside {field}")), "{field}");
    }
}

#[test]
fn mutated_manifests_never_panic_and_a_broken_one_is_never_read() {
    // A deterministic generator (xorshift64*), so that a failure can be replayed.
    let mut state = 0x5eed_1234_abcd_ef01u64;
    let mut random = |n: usize| {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        (state.wrapping_mul(0x2545_F491_4F6C_DD1D) % n.max(1) as u64) as usize
    };
    let original = Fields::kvd().encode();
    let mut resealed_read = 0;
    let cases: usize = std::env::var("MUTATIONS").ok().and_then(|n| n.parse().ok()).unwrap_or(1_000_000);
    for case in 0..cases {
        let mut bytes = original.clone();
        for _ in 0..1 + random(3) {
            let at = random(bytes.len());
            match random(3) {
                0 => bytes[at] ^= 1 + random(255) as u8,
                1 => bytes.insert(at, random(256) as u8),
                _ => drop(bytes.remove(at)),
            }
        }
        let reseal =
            random(2) == 0 && bytes.len() >= HEADER + 4 && bytes.starts_with(&original[..HEADER - 4]);
        if reseal {
            seal(&mut bytes);
        }
        match Manifest::parse(&bytes, 0) {
            // Bytes after a whole manifest are not read, as in any binary.
            Ok(manifest) if !bytes.starts_with(&original) => {
                assert!(reseal, "case {case}: a broken manifest was read");
                resealed_read += 1;
                // What was read is whole: its matrix is a matrix, its names are one line each.
                let matrix = manifest.matrix();
                for row in matrix.rows() {
                    assert!(
                        row.maintainers()
                            .iter()
                            .all(|name| crate::names::first_forbidden_character(name).is_none())
                    );
                    assert_eq!(row.maintainers().iter().count(), row.maintainers().len());
                }
            }
            Ok(_) => {}
            Err(error) => drop(error.to_string()),
        }
    }
    assert!(resealed_read > 0, "some resealed changes are manifests (a changed name, say)");
}

#[test]
fn the_const_writer_and_the_measure_agree_with_the_tests_writer() {
    // What `#[platform_gated]` calls: `len`, then `write` into exactly that many bytes.
    const GATE: Gate = Gate::new("kvd", "KVD_UNSUPPORTED_ARCH").with_matrix(Matrix::new(&[Row::new(
        Arch::Aarch64,
        crate::Os::Linux,
        crate::Status::Stable,
    )
    .with_note(LONG_NOTE)]));
    const BUILD: Build =
        Build { crate_version: Some("1.0.0"), before_start: Rows::EMPTY, in_main: Rows::EMPTY };
    const LEN: usize = len(&GATE, &BUILD);
    const BYTES: [u8; LEN] = write(&GATE, &BUILD);
    assert_eq!(BYTES[..], to_vec(&GATE, &BUILD)[..]);
    assert_eq!(write::<LEN>(&GATE, &BUILD), BYTES, "the same at run time");
    // A string over 255 bytes: its length's high byte.
    let manifest = Manifest::parse(&BYTES, 0).unwrap();
    assert_eq!(manifest.matrix().rows()[0].note(), Some(LONG_NOTE));
    let at = BYTES.windows(LONG_NOTE.len()).position(|window| window == LONG_NOTE.as_bytes()).unwrap();
    assert_eq!(BYTES[at - 2..at], (LONG_NOTE.len() as u16).to_le_bytes());
}

const LONG_NOTE: &str = "Boards with 512 MiB of memory cannot hold a full index, and swap makes every \
    compaction take minutes; run it on 2 GiB or more, with the index on local storage, and expect a \
    restart to take as long as the last compaction did. This note is long on purpose: over 255 bytes.";

#[test]
fn the_cpu_flags_and_an_architecture_without_a_feature_table_read_back() {
    for flags in 0..4 {
        let cpu = Manifest::parse(&Fields { flags, ..Fields::kvd() }.encode(), 0).unwrap().cpu;
        assert_eq!(
            (cpu.names_program_file, cpu.reads_own_manifest),
            (flags & 1 == 1, flags & 2 == 2),
            "{flags}"
        );
    }
    let s390x = Fields { platform: ["s390x", "s390x", "linux", "linux"], level: 0, ..Fields::kvd() };
    let cpu = Manifest::parse(&s390x.encode(), 0).unwrap().cpu;
    assert_eq!((cpu.before_start, cpu.in_main, cpu.assumed(), cpu.level), (None, None, None, 0));
    let with_features = Fields { before_start: vec!["vector"], ..s390x.clone() };
    assert_eq!(with_features.malformed(), "CPU features for s390x, which has no feature table");
    let unknown =
        Fields { platform: ["arm64", "aarch64", "linux", "linux"], level: 0, in_main: vec!["avx2"], ..s390x };
    assert_eq!(unknown.malformed(), "a CPU feature this reader does not know for arm64: avx2");
}

#[test]
fn codes_read_back_as_they_are_written() {
    for check in [Check::Arch, Check::Platform] {
        assert_eq!(check_from_code(check_code(check)), Some(check));
    }
    for allow in [Allow::Stable, Allow::Experimental] {
        assert_eq!(allow_from_code(allow_code(allow)), Some(allow));
    }
    for status in [Status::Unstable, Status::Experimental, Status::Stable] {
        assert_eq!(status_from_code(status_code(status)), Some(status));
    }
    assert_eq!(
        (check_code(Check::Platform), allow_code(Allow::Experimental), status_code(Status::Stable)),
        (1, 1, 2)
    );
    assert_eq!((check_from_code(2), allow_from_code(2), status_from_code(3)), (None, None, None));
    // The standard check value of CRC-32/ISO-HDLC, and a range within a slice.
    assert_eq!(crc32(b"123456789", 0, 9), 0xcbf4_3926);
    assert_eq!(crc32(b"..123456789..", 2, 11), 0xcbf4_3926);
    assert_eq!(crc32(b"123", 0, 9), crc32(b"123", 0, 3), "the end is bounded by the bytes");
}

#[test]
fn the_magic_is_held_masked() {
    let key = core::hint::black_box(MAGIC_KEY);
    assert!(MASKED_MAGIC.iter().zip(MAGIC).all(|(masked, plain)| masked ^ key == plain && *masked != plain));
    assert_eq!(&MAGIC, b"\xffplatform-gate:");
}
