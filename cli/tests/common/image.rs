//! OCI image layouts built here from the tests' manifests: one image per platform entry, its one
//! layer a plain tar holding the binary as `/usr/bin/server`, which its config starts. What the
//! reader makes of every other shape of image (gzip, zstd, whiteouts, symlinks, archives, hostile
//! input) is the fleet's tests' (`fleet/src/image/tests.rs`) and `tests/image/run.sh`'s.

#![allow(dead_code)] // Each test file uses some of them.

use std::path::PathBuf;

use serde_json::{Value, json};

/// A file that holds `manifest`, as a binary does.
pub fn binary(manifest: &[u8]) -> Vec<u8> {
    let mut bytes = b"\x7fELF a test's binary\n".repeat(40);
    bytes.extend_from_slice(manifest);
    bytes
}

/// The layout `name` (under the tests' temporary directory): an index of one image per entry,
/// `(architecture, the file at /usr/bin/server)`.
pub fn layout(name: &str, entries: &[(&str, &[u8])]) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("images").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion": "1.0.0"}"#).unwrap();
    let blob = |media_type: &str, bytes: &[u8]| -> Value {
        let digest = sha256(bytes);
        std::fs::write(dir.join("blobs/sha256").join(&digest), bytes).unwrap();
        json!({"mediaType": media_type, "digest": format!("sha256:{digest}"), "size": bytes.len()})
    };
    let mut manifests = Vec::new();
    for (arch, file) in entries {
        let mut builder = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_ustar();
        header.set_size(file.len() as u64);
        header.set_mode(0o755);
        builder.append_data(&mut header, "usr/bin/server", *file).unwrap();
        let layer = blob("application/vnd.oci.image.layer.v1.tar", &builder.into_inner().unwrap());
        let config = json!({"architecture": arch, "os": "linux", "config": {"Entrypoint": ["server"]},
            "rootfs": {"type": "layers", "diff_ids": [layer["digest"]]}});
        let config = blob("application/vnd.oci.image.config.v1+json", config.to_string().as_bytes());
        let manifest = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": config, "layers": [layer]});
        let mut descriptor =
            blob("application/vnd.oci.image.manifest.v1+json", manifest.to_string().as_bytes());
        descriptor["platform"] = json!({"architecture": arch, "os": "linux"});
        manifests.push(descriptor);
    }
    let index = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests});
    let mut top = blob("application/vnd.oci.image.index.v1+json", index.to_string().as_bytes());
    top["annotations"] = json!({"org.opencontainers.image.ref.name": "latest"});
    std::fs::write(dir.join("index.json"), json!({"schemaVersion": 2, "manifests": [top]}).to_string())
        .unwrap();
    dir
}

/// The hex SHA-256 of `bytes`.
fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes).iter().map(|byte| format!("{byte:02x}")).collect()
}
