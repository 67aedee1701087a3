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
