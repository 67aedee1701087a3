// The format where it lives: the writer's bytes, field by field, against a second encoder written
// from `docs/manifest.md` (`Fields`). `read_tests_hostile.rs` feeds the reader what no gate writes,
// with the same encoder.

use core::num::NonZeroU8;

use super::codes::{allow_code, allow_from_code, check_code, check_from_code, status_code, status_from_code};
use super::format::crc32;
use super::*;
use crate::cpu::Rows;
use crate::maintainers::List;
use crate::{Allow, Arch, Check, Gate, Matrix, Packager, Platform, Policy, Row, Status};

/// A manifest's fields, as `docs/manifest.md` lists them, encoded by [`Fields::encode`] without the
/// writer's help: what a reader in another language would write.
#[derive(Clone)]
pub(super) struct Fields {
    pub(super) format: u8,
    pub(super) program: &'static str,
    pub(super) variable: &'static str,
    pub(super) crate_version: &'static str,
    pub(super) gate_version: &'static str,
    pub(super) platform: [&'static str; 4],
    pub(super) codes: [u8; 3],
    pub(super) packager: (&'static str, Vec<&'static str>),
    pub(super) rows: Vec<RowFields>,
    pub(super) level: u8,
    pub(super) flags: u8,
    pub(super) before_start: Vec<&'static str>,
    pub(super) in_main: Vec<&'static str>,
    pub(super) trailing: Vec<u8>,
}

#[derive(Clone)]
pub(super) struct RowFields {
    pub(super) arch: &'static str,
    pub(super) os: &'static str,
    pub(super) status: u8,
    pub(super) maintainers: Vec<&'static str>,
    pub(super) note: Option<(u8, &'static str)>,
}

pub(super) fn row(arch: &'static str, os: &'static str, status: u8) -> RowFields {
    RowFields { arch, os, status, maintainers: Vec::new(), note: None }
}

impl Fields {
    /// kvd's gate, as [`kvd`] builds it, on this platform, with nothing assumed of the CPU.
    pub(super) fn kvd() -> Fields {
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
    pub(super) fn etcd() -> Fields {
        let note = Some((1, crate::matrix::ETCD_32_BIT_NOTE));
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

    pub(super) fn encode(&self) -> Vec<u8> {
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
    pub(super) fn read(&self) -> Result<String, String> {
        let bytes = self.encode();
        Manifest::parse(&bytes, 9)
            .map(|manifest| manifest.program.to_owned())
            .map_err(|error| error.to_string())
    }

    pub(super) fn malformed(&self) -> String {
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
pub(super) fn seal(bytes: &mut [u8]) {
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

pub(super) fn kvd() -> Gate {
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

pub(super) fn written(
    gate: &Gate,
    crate_version: Option<&'static str>,
    before_start: Rows,
    in_main: Rows,
) -> Vec<u8> {
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
    let v3 = crate::cpu::rows::level_rows(3);
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
    assert!(kvd.alone_in_file());
    let has_table = crate::cpu::rows::family(Platform::CURRENT.arch).is_some();
    assert_eq!(cpu.before_start.is_some(), has_table);
    // Read back, it writes the same bytes again: the maintainers as the manifest held them.
    let mut again = Vec::new();
    for row in kvd.matrix().rows() {
        match row.maintainers().0 {
            List::Encoded { count, bytes } => {
                again.extend_from_slice(&u16::try_from(count).unwrap().to_le_bytes());
                again.extend_from_slice(bytes);
            }
            List::Names(_) => panic!("a manifest's maintainers are read in place"),
        }
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
