// The image reader on fuzzed bytes, for cargo-fuzz's `image` target (`fuzz/fuzz_targets/image.rs`)
// and its corpus, replayed on stable by `cli/tests/fuzz_corpus.rs`: one place that turns an input
// into an image on disk, reads it, and checks what any read must be. Not part of the API.

use std::path::Path;

use serde_json::json;

use crate::image::read::{Image, ReadOptions};
use crate::image::store::BlobDigest;

/// Reads `input` as an image made in `scratch` (emptied first). The first byte chooses what the
/// rest is: 0, a whole archive (an OCI archive or a `docker save` tarball); 1, a layout's
/// `index.json`, where `@M` and `@S` stand for the digest and size of a valid image's manifest;
/// 2, that image's one layer, a tar; 3, the same layer gzipped. Returns how many gated binaries
/// it found, or the error, which must be one line; panics where a read breaks a promise.
///
/// ```
/// use platform_gate_fleet::image::fuzzing::read_fuzzed;
///
/// let scratch = std::env::temp_dir().join(format!("read-fuzzed-doctest-{}", std::process::id()));
/// assert_eq!(read_fuzzed(b"\x02", &scratch), Ok(0), "an empty layer: an image without binaries");
/// let error = read_fuzzed(b"\x01{}", &scratch).unwrap_err();
/// assert!(error.starts_with("index.json: not what the image spec defines"), "{error}");
/// # std::fs::remove_dir_all(&scratch).unwrap();
/// ```
pub fn read_fuzzed(input: &[u8], scratch: &Path) -> Result<usize, String> {
    let _ = std::fs::remove_dir_all(scratch);
    std::fs::create_dir_all(scratch.join("layout/blobs/sha256")).map_err(|error| error.to_string())?;
    let (mode, rest) = input.split_first().map_or((0, &[][..]), |(mode, rest)| (mode % 4, rest));
    let path = if mode == 0 {
        let path = scratch.join("image.tar");
        std::fs::write(&path, rest).map_err(|error| error.to_string())?;
        path
    } else {
        let layout = scratch.join("layout");
        let blob = |media_type: &str, bytes: &[u8]| {
            let digest = BlobDigest::sha256_of(bytes);
            std::fs::write(layout.join(digest.blob_path()), bytes).expect("a scratch file");
            json!({"mediaType": media_type, "digest": digest.as_str(), "size": bytes.len()})
        };
        let (media_type, layer) = match mode {
            1 => ("application/vnd.oci.image.layer.v1.tar", &[0u8; 1024][..]),
            2 => ("application/vnd.oci.image.layer.v1.tar", rest),
            _ => ("application/vnd.oci.image.layer.v1.tar+gzip", rest),
        };
        let layer = blob(media_type, layer);
        let config = json!({"architecture": "amd64", "os": "linux", "config": {"Entrypoint": ["server"]},
            "rootfs": {"type": "layers", "diff_ids": []}});
        let config = blob("application/vnd.oci.image.config.v1+json", config.to_string().as_bytes());
        let manifest = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": config, "layers": [layer]});
        let manifest = blob("application/vnd.oci.image.manifest.v1+json", manifest.to_string().as_bytes());
        let index = if mode == 1 {
            let text = String::from_utf8_lossy(rest);
            let digest = manifest["digest"].as_str().expect("a digest");
            text.replace("@M", digest).replace("@S", &manifest["size"].to_string()).into_bytes()
        } else {
            json!({"schemaVersion": 2, "manifests": [manifest]}).to_string().into_bytes()
        };
        std::fs::write(layout.join("index.json"), index).map_err(|error| error.to_string())?;
        std::fs::write(layout.join("oci-layout"), r#"{"imageLayoutVersion": "1.0.0"}"#)
            .map_err(|error| error.to_string())?;
        layout
    };
    let options = ReadOptions { max_layer_size: 16 << 20, threads: 1 };
    let read = Image::recognise(&path).and_then(|image| match image {
        Some(image) => image.read(&options).map(Some),
        None => Ok(None),
    });
    let platforms = match read {
        Ok(platforms) => platforms.unwrap_or_default(),
        Err(error) => {
            let line = error.to_string();
            assert!(!line.contains('\n') && !line.is_empty(), "an error of more than one line: {line:?}");
            return Err(line);
        }
    };
    let mut binaries = 0;
    for platform in &platforms {
        for binary in &platform.binaries {
            assert!(binary.path.starts_with('/') && !binary.path.contains("/../"), "{}", binary.path);
            let _ = binary.manifests();
            binaries += 1;
        }
        if let Some(entrypoint) = &platform.entrypoint {
            assert!(entrypoint.starts_with('/'), "{entrypoint}");
        }
    }
    Ok(binaries)
}
