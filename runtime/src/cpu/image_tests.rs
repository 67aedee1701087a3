// `image.rs`'s tests: the search on manifests in memory the tests make, and the walk of this
// program's own image.

use super::*;
use crate::Gate;
use crate::manifest::format::{
    FORMAT, crc32, raw_exit_code as exit_code, raw_program as program, raw_variable as variable,
};

fn manifest_of(gate: Gate) -> Vec<u8> {
    let build = crate::manifest::Build {
        crate_version: Some("1.0.0"),
        before_start: crate::cpu::Rows::EMPTY,
        in_main: crate::cpu::Rows::EMPTY,
    };
    crate::manifest::to_vec(&gate, &build)
}

fn kvd_gate() -> Gate {
    Gate::new("kvd", "KVD_UNSUPPORTED_ARCH").with_exit_code(core::num::NonZeroU8::new(3).unwrap())
}

fn found(region: &[u8]) -> Option<(&[u8], &[u8], u8)> {
    let (mut first, mut trusted) = (&[][..], true);
    search(region, &mut first, &mut trusted);
    (trusted && !first.is_empty()).then(|| (program(first), variable(first), exit_code(first)))
}

fn in_data(manifests: &[&[u8]]) -> Vec<u8> {
    let mut region = b"\x7fELF code and data \xff\xffplatform-gate? not a magic".to_vec();
    for manifest in manifests {
        region.extend_from_slice(manifest);
        region.extend_from_slice(b" more data \xff");
    }
    region
}

#[test]
fn the_one_manifest_gives_the_programs_settings() {
    let kvd = manifest_of(kvd_gate());
    assert_eq!(found(&in_data(&[&kvd])), Some((&b"kvd"[..], &b"KVD_UNSUPPORTED_ARCH"[..], 3)));
    // The same settings twice (a copy of the same binary, or of its manifest) still agree.
    assert_eq!(found(&in_data(&[&kvd, &kvd])).map(|settings| settings.2), Some(3));
    // The derived variable is read as the manifest spells it.
    let etcd = manifest_of(Gate::for_package("my-etcd", Some("etcd")));
    assert_eq!(found(&in_data(&[&etcd])), Some((&b"etcd"[..], &b"MY_ETCD_UNSUPPORTED_ARCH"[..], 1)));
}

#[test]
fn several_settings_none_or_an_invalid_manifest_is_no_settings() {
    let kvd = manifest_of(kvd_gate());
    let etcd = manifest_of(Gate::new("etcd", "ETCD_UNSUPPORTED_ARCH"));
    assert_eq!(found(&in_data(&[])), None);
    assert_eq!(found(&in_data(&[&kvd, &etcd])), None, "a binary that embeds another");
    let other_code = manifest_of(kvd_gate().with_exit_code(core::num::NonZeroU8::new(4).unwrap()));
    assert_eq!(found(&in_data(&[&kvd, &other_code])), None, "the same names, another exit code");
    // Any byte of a manifest changed: its checksum fails, and nothing is trusted.
    for at in MAGIC.len()..kvd.len() {
        let mut corrupted = kvd.clone();
        corrupted[at] ^= 0x10;
        assert_eq!(found(&in_data(&[&kvd, &corrupted])), None, "byte {at}");
    }
    // Cut anywhere after its magic, at the region's end.
    for len in MAGIC.len()..kvd.len() {
        assert_eq!(found(&[&kvd[..], &kvd[..len]].concat()), None, "{len} bytes");
    }
    // Another format, even with a checksum that matches.
    let mut newer = kvd.clone();
    newer[MAGIC.len()] = FORMAT + 1;
    let crc = crc32(&newer, MAGIC.len(), newer.len() - 4).to_le_bytes();
    let end = newer.len();
    newer[end - 4..].copy_from_slice(&crc);
    assert_eq!(found(&in_data(&[&newer])), None);
}

#[test]
fn a_manifest_whose_checksum_holds_but_whose_fields_overrun_is_not_read() {
    // A body that ends inside its strings, with a checksum computed over it.
    let mut bytes = MAGIC.to_vec();
    bytes.push(FORMAT);
    let body: &[u8] = b"\x03\x00kvd\x50\x00KVD";
    bytes.extend_from_slice(&(body.len() as u32).to_le_bytes());
    bytes.extend_from_slice(body);
    let crc = crc32(&bytes, MAGIC.len(), bytes.len());
    bytes.extend_from_slice(&crc.to_le_bytes());
    assert_eq!(found(&in_data(&[&bytes])), None);
}

#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
fn the_walk_covers_this_programs_read_only_data() {
    static MARK: [u8; 16] = *b"read-only marker";
    let mark = core::hint::black_box(&MARK).as_ptr() as usize;
    let mut covered = false;
    let mut regions = 0;
    let walked = each_read_only_region(&mut |region| {
        regions += 1;
        let start = region.as_ptr() as usize;
        covered |= mark >= start && mark - start < region.len();
    });
    assert!(walked && covered, "{regions} regions");
}
