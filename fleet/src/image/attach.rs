// An artifact attached to a platform's manifest in an OCI image layout, as `oras attach` does to
// a registry's: its own manifest (the empty config, one layer, `subject` the platform's manifest),
// listed in `index.json`. Every file is written beside its place and renamed into it, `index.json`
// last, so an interrupted attach leaves the index as it was.

use std::io::Write as _;
use std::path::Path;

use serde_json::{Value, json};

use crate::image::error::{ImageError, invalid};
use crate::image::read::{Image, ImageFormat, PlatformImage};
use crate::image::store::BlobDigest;

/// NFD's artifact type for an image-compatibility spec.
pub const NFD_COMPAT_ARTIFACT_TYPE: &str = "application/vnd.nfd.image-compatibility.v1alpha1";

/// The media type of the spec itself, the artifact's one layer.
pub const NFD_COMPAT_SPEC_MEDIA_TYPE: &str = "application/vnd.nfd.image-compatibility.spec.v1alpha1+yaml";

/// The image spec's empty descriptor: `{}`, which an artifact with no config of its own names.
const EMPTY_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";

impl Image {
    /// Attaches `content`, of `media_type`, to `platform`'s manifest as an artifact of
    /// `artifact_type`, replacing one of that type attached to it before. Only an OCI image layout
    /// is written into. Returns the artifact manifest's digest.
    ///
    /// ```no_run
    /// use platform_gate_fleet::image::{Image, NFD_COMPAT_ARTIFACT_TYPE, NFD_COMPAT_SPEC_MEDIA_TYPE};
    ///
    /// let image = Image::open("oci:build/kvd:1.4")?;
    /// let platforms = image.read(&Default::default())?;
    /// let spec = b"version: v1alpha1\ncompatibilities: []\n";
    /// image.attach(&platforms[0], NFD_COMPAT_ARTIFACT_TYPE, NFD_COMPAT_SPEC_MEDIA_TYPE, spec)?;
    /// # Ok::<(), platform_gate_fleet::image::ImageError>(())
    /// ```
    pub fn attach(
        &self,
        platform: &PlatformImage,
        artifact_type: &str,
        media_type: &str,
        content: &[u8],
    ) -> Result<String, ImageError> {
        let dir = self.path();
        if self.format() != ImageFormat::Layout {
            return Err(invalid(
                dir.display(),
                "is not an OCI image layout, which is all an artifact is attached to (copy it to one: skopeo copy ... oci:DIR)",
            ));
        }
        let (subject_type, subject_size) = platform
            .subject
            .clone()
            .ok_or_else(|| invalid(dir.display(), "the platform has no manifest to attach to"))?;
        let config = write_blob(dir, b"{}")?;
        let layer = write_blob(dir, content)?;
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "artifactType": artifact_type,
            "config": {"mediaType": EMPTY_MEDIA_TYPE, "digest": config.0, "size": config.1, "data": "e30="},
            "layers": [{"mediaType": media_type, "digest": layer.0, "size": layer.1}],
            "subject": {"mediaType": subject_type, "digest": platform.digest, "size": subject_size},
        });
        let manifest = write_blob(dir, manifest.to_string().as_bytes())?;

        let index_path = dir.join("index.json");
        let bytes = std::fs::read(&index_path)
            .map_err(|error| ImageError::Io { path: index_path.display().to_string(), error })?;
        let mut index: Value =
            serde_json::from_slice(&bytes).map_err(|error| invalid(index_path.display(), error))?;
        let manifests = index
            .get_mut("manifests")
            .and_then(Value::as_array_mut)
            .ok_or_else(|| invalid(index_path.display(), "has no list of manifests"))?;
        // One artifact of a type per manifest: an earlier one for this manifest is dropped from the
        // index (its blobs stay, for `umoci gc` to collect).
        manifests.retain(|descriptor| {
            descriptor.get("artifactType").and_then(Value::as_str) != Some(artifact_type)
                || !attached_to(dir, descriptor, &platform.digest)
        });
        manifests.push(json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "artifactType": artifact_type,
            "digest": manifest.0,
            "size": manifest.1,
        }));
        let text = serde_json::to_vec(&index).map_err(|error| invalid(index_path.display(), error))?;
        replace(&index_path, &text)?;
        Ok(manifest.0)
    }
}

/// Whether the artifact manifest `descriptor` names has `subject` as its subject.
fn attached_to(dir: &Path, descriptor: &Value, subject: &str) -> bool {
    let Some(digest) =
        descriptor.get("digest").and_then(Value::as_str).and_then(|digest| BlobDigest::parse(digest).ok())
    else {
        return false;
    };
    let Ok(bytes) = std::fs::read(dir.join(digest.blob_path())) else { return false };
    serde_json::from_slice::<Value>(&bytes)
        .ok()
        .and_then(|manifest| {
            manifest.pointer("/subject/digest").and_then(Value::as_str).map(|found| found == subject)
        })
        .unwrap_or(false)
}

/// Writes `bytes` as a blob of the layout (unless it is there already); its digest and size.
fn write_blob(dir: &Path, bytes: &[u8]) -> Result<(String, usize), ImageError> {
    let digest = BlobDigest::sha256_of(bytes);
    let path = dir.join(digest.blob_path());
    if std::fs::read(&path).is_ok_and(|there| there == bytes) {
        return Ok((digest.to_string(), bytes.len()));
    }
    replace(&path, bytes)?;
    Ok((digest.to_string(), bytes.len()))
}

/// Writes `bytes` to `path` by a file beside it, synced, then renamed over it.
fn replace(path: &Path, bytes: &[u8]) -> Result<(), ImageError> {
    let io_error = |error| ImageError::Io { path: path.display().to_string(), error };
    let name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    let temporary = path.with_file_name(format!(".{name}.platform-gate-{}", std::process::id()));
    let result = std::fs::File::create(&temporary)
        .and_then(|mut file| {
            file.write_all(bytes)?;
            file.sync_all()
        })
        .and_then(|()| std::fs::rename(&temporary, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result.map_err(io_error)
}
