//! Manifests the runtime writes, built here by the code `#[platform_gated]` calls: the tests'
//! fixtures.

#![allow(dead_code)] // Each test file uses some of them.

use std::num::NonZeroU8;

use platform_gate::__private::{Prepared, prepare, target_feature_flags};
use platform_gate::{Allow, Check, Gate, Matrix, Packager, Policy, matrix};

pub const KV_MATRIX: Matrix = matrix! {
    amd64 linux => unstable ["@storage-team", "Ops Team <ops@example.com>"] note = "Needs 4 GiB of memory.",
    arm64 linux => stable,
    riscv64 linux => experimental,
    s390x linux => stable ["IBM"],
};

const KV: Prepared = prepare(
    Gate::new("kvd", "KVD_UNSUPPORTED_ARCH")
        .with_matrix(KV_MATRIX)
        .with_check(Check::Platform)
        .with_allow(Allow::Experimental)
        .with_exit_code(NonZeroU8::new(3).unwrap()),
    "kvd",
    &target_feature_flags!(),
    Some("2.7.1-rc.1"),
);
pub static KV_MANIFEST: [u8; KV.manifest_len()] = KV.manifest();

const ETCD: Prepared = prepare(Gate::for_package("etcd", None), "etcd", &target_feature_flags!(), None);
pub static ETCD_MANIFEST: [u8; ETCD.manifest_len()] = ETCD.manifest();

const ALPINE: Prepared = prepare(
    Gate::for_package("my-server", Some("my-serverd")).with_policy(
        Policy::DEFAULT.with_packager(Some(Packager::new("Alpine Linux", "loong64, riscv64, x86_64"))),
    ),
    "my_server",
    &target_feature_flags!(),
    Some("0.1.0"),
);
pub static ALPINE_MANIFEST: [u8; ALPINE.manifest_len()] = ALPINE.manifest();

/// A file of `bytes` named `name` in `test`'s own directory of the tests' temporary directory.
pub fn file_of(test: &str, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(test);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// `manifest` (one the runtime wrote) rebuilt for another platform, its four names as docs/manifest.md
/// orders them (Go's architecture, Rust's, Go's OS, Rust's), and checking `before_start` before std
/// starts and nothing in `main`: a binary of a platform this machine cannot build for, as the
/// format specifies it, with its checksum.
pub fn rebuilt(manifest: &[u8], platform: [&str; 4], level: u8, before_start: &[&str]) -> Vec<u8> {
    let body = &manifest[20..manifest.len() - 4];
    let u16_at = |at: usize| usize::from(u16::from_le_bytes([body[at], body[at + 1]]));
    let string_end = |at: usize| at + 2 + u16_at(at);
    let list_end = |mut at: usize| {
        let count = u16_at(at);
        at += 2;
        for _ in 0..count {
            at = string_end(at);
        }
        at
    };
    let platform_start = (0..4).fold(0, |at, _| string_end(at));
    let platform_end = (0..4).fold(platform_start, |at, _| string_end(at));
    let mut at = list_end(string_end(platform_end + 3)); // the policy's bytes, the packager
    let rows = u16_at(at);
    at += 2;
    for _ in 0..rows {
        at = list_end(string_end(string_end(at)) + 1); // arch, os, status, maintainers
        let has_note = body[at] == 1;
        at += 1;
        if has_note {
            at = string_end(at);
        }
    }
    let cpu_flags = body[at + 1];
    let string = |text: &str| [&(text.len() as u16).to_le_bytes()[..], text.as_bytes()].concat();
    let mut new_body = body[..platform_start].to_vec();
    platform.iter().for_each(|name| new_body.extend(string(name)));
    new_body.extend_from_slice(&body[platform_end..at]);
    new_body.extend([level, cpu_flags]);
    new_body.extend((before_start.len() as u16).to_le_bytes());
    before_start.iter().for_each(|name| new_body.extend(string(name)));
    new_body.extend(0u16.to_le_bytes());
    let mut bytes = manifest[..16].to_vec();
    bytes.extend((new_body.len() as u32).to_le_bytes());
    bytes.extend(&new_body);
    let crc = crc32(&bytes[15..]);
    bytes.extend(crc.to_le_bytes());
    bytes
}

/// CRC-32 as zlib computes it, bit by bit: the format's checksum.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// `manifest` as a newer writer would mark it: format version `format`, its checksum recomputed.
pub fn with_format(manifest: &[u8], format: u8) -> Vec<u8> {
    let mut bytes = manifest.to_vec();
    bytes[15] = format;
    let end = bytes.len() - 4;
    let crc = crc32(&bytes[15..end]);
    bytes[end..].copy_from_slice(&crc.to_le_bytes());
    bytes
}
