// From an image's top to each platform's manifest: an OCI layout's `index.json` through nested
// indexes (OCI's and Docker's manifest lists), or a `docker save` tarball's `manifest.json`; and
// from each manifest to its config and its layers. Every blob is checked against its digest.

use oci_spec::image::{Descriptor, ImageConfiguration, ImageIndex, ImageManifest, MediaType};

use crate::image::error::{ImageError, invalid};
use crate::image::layer::{Compression, LayerRef};
use crate::image::store::{BlobDigest, Store};

/// The annotation that names an image in a layout's index (`oci:DIR:REF`).
pub(crate) const REF_NAME: &str = "org.opencontainers.image.ref.name";

const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";

/// Nested indexes deeper than this are refused: a real image has one or two.
const MAX_DEPTH: usize = 8;

/// A platform's image: where it was found and what it is made of.
#[derive(Debug)]
pub(crate) struct PlatformManifest {
    /// `os`, `architecture`, `variant`: the index's entry, or the config's where no index says.
    pub(crate) os: String,
    pub(crate) architecture: String,
    pub(crate) variant: Option<String>,
    /// The manifest's digest; for a `docker save` tarball, the config's (the image ID).
    pub(crate) digest: String,
    pub(crate) reference: Option<String>,
    /// `Entrypoint` then `Cmd`.
    pub(crate) command: Vec<String>,
    pub(crate) working_dir: String,
    /// `PATH` of the config's `Env`.
    pub(crate) path_variable: Option<String>,
    pub(crate) layers: Vec<LayerRef>,
    /// The manifest's media type and size, for an artifact's `subject`; `None` in a tarball.
    pub(crate) subject: Option<(String, u64)>,
}

/// Every platform manifest of the OCI layout or archive in `store`, of the image `reference` names
/// where the layout holds several.
pub(crate) fn oci(store: &Store, reference: Option<&str>) -> Result<Vec<PlatformManifest>, ImageError> {
    let index = store.read_file("index.json", "the layout's index")?;
    let index = ImageIndex::from_reader(&index[..]).map_err(|error| not_spec("index.json", error))?;
    let named = |descriptor: &Descriptor| {
        descriptor.annotations().as_ref().and_then(|map| map.get(REF_NAME)).cloned()
    };
    let mut names: Vec<String> = index.manifests().iter().filter_map(named).collect();
    names.dedup();
    let chosen: Vec<&Descriptor> = match reference {
        Some(reference) => {
            let chosen: Vec<&Descriptor> = index
                .manifests()
                .iter()
                .filter(|descriptor| named(descriptor).as_deref() == Some(reference))
                .collect();
            if chosen.is_empty() {
                return Err(ImageError::Reference(format!(
                    "{}: no image named {reference:?} (it has {})",
                    store.path().display(),
                    list(&names)
                )));
            }
            chosen
        }
        None if names.len() > 1 => {
            return Err(ImageError::Reference(format!(
                "{}: holds {} images ({}); name one, as oci:DIR:NAME",
                store.path().display(),
                names.len(),
                list(&names)
            )));
        }
        None => index.manifests().iter().collect(),
    };
    let mut found = Vec::new();
    for descriptor in chosen {
        follow(store, descriptor, named(descriptor), &mut Vec::new(), &mut found)?;
    }
    Ok(found)
}

fn list(names: &[String]) -> String {
    if names.is_empty() { "no named image".to_string() } else { names.join(", ") }
}

/// Follows `descriptor` to the platform manifests under it; `parents` are the indexes above.
fn follow(
    store: &Store,
    descriptor: &Descriptor,
    reference: Option<String>,
    parents: &mut Vec<BlobDigest>,
    found: &mut Vec<PlatformManifest>,
) -> Result<(), ImageError> {
    let digest = BlobDigest::parse(descriptor.digest().as_ref())?;
    if parents.contains(&digest) {
        return Err(invalid(
            format!("index {}", parents.last().expect("a parent")),
            format!("refers to {digest}, an index above it (or itself): a loop"),
        ));
    }
    if parents.len() >= MAX_DEPTH {
        return Err(invalid(
            format!("blob {digest}"),
            format!("is under more than {MAX_DEPTH} nested indexes"),
        ));
    }
    let media_type = descriptor.media_type().to_string();
    match descriptor.media_type() {
        MediaType::ImageIndex => {}
        MediaType::ImageManifest => return manifest(store, descriptor, &digest, reference, found),
        MediaType::Other(other) if other == DOCKER_LIST => {}
        MediaType::Other(other) if other == DOCKER_MANIFEST => {
            return manifest(store, descriptor, &digest, reference, found);
        }
        _ => return Err(ImageError::UnknownMediaType { media_type, blob: digest.to_string() }),
    }
    // Read, and looked at for a loop before its digest is checked: an index that lists itself
    // cannot hash to its own digest, and "a loop" says more than "does not match".
    let (bytes, checked) = store.read_blob(&digest, descriptor.size(), "an index")?;
    let index =
        ImageIndex::from_reader(&bytes[..]).map_err(|error| not_spec(format!("index {digest}"), error));
    if let Ok(index) = &index {
        if let Some(looped) = index.manifests().iter().find(|child| {
            child.digest().as_ref() == digest.as_str()
                || parents.iter().any(|parent| child.digest().as_ref() == parent.as_str())
        }) {
            return Err(invalid(
                format!("index {digest}"),
                format!("refers to {}, itself or an index above it: a loop", looped.digest().as_ref()),
            ));
        }
    }
    checked?;
    let index = index?;
    parents.push(digest);
    for child in index.manifests() {
        follow(store, child, reference.clone(), parents, found)?;
    }
    parents.pop();
    Ok(())
}

/// The platform manifest `descriptor` points to, unless it is an artifact (an NFD spec, a
/// signature, an SBOM), which is no platform's image.
fn manifest(
    store: &Store,
    descriptor: &Descriptor,
    digest: &BlobDigest,
    reference: Option<String>,
    found: &mut Vec<PlatformManifest>,
) -> Result<(), ImageError> {
    let bytes = store
        .read_blob(digest, descriptor.size(), "a manifest")
        .and_then(|(bytes, checked)| checked.map(|()| bytes))?;
    let manifest = ImageManifest::from_reader(&bytes[..])
        .map_err(|error| not_spec(format!("manifest {digest}"), error))?;
    let config_type = manifest.config().media_type().to_string();
    if manifest.artifact_type().is_some()
        || (config_type != MediaType::ImageConfig.to_string() && config_type != DOCKER_CONFIG)
    {
        return Ok(());
    }
    let config_digest = BlobDigest::parse(manifest.config().digest().as_ref())?;
    let config = store
        .read_blob(&config_digest, manifest.config().size(), "a config")
        .and_then(|(bytes, checked)| checked.map(|()| bytes))?;
    let config = ImageConfiguration::from_reader(&config[..])
        .map_err(|error| not_spec(format!("config {config_digest}"), error))?;
    let mut layers = Vec::new();
    let count = manifest.layers().len();
    for (number, layer) in (1..).zip(manifest.layers()) {
        let layer_digest = BlobDigest::parse(layer.digest().as_ref())?;
        let compression = match layer.media_type() {
            MediaType::ImageLayer | MediaType::ImageLayerNonDistributable => Compression::None,
            MediaType::ImageLayerGzip | MediaType::ImageLayerNonDistributableGzip => Compression::Gzip,
            MediaType::ImageLayerZstd | MediaType::ImageLayerNonDistributableZstd => Compression::Zstd,
            MediaType::Other(other) if other == "application/vnd.docker.image.rootfs.diff.tar.gzip" => {
                Compression::Gzip
            }
            MediaType::Other(other) if other == "application/vnd.docker.image.rootfs.diff.tar" => {
                Compression::None
            }
            other => {
                return Err(ImageError::UnknownMediaType {
                    media_type: other.to_string(),
                    blob: layer_digest.to_string(),
                });
            }
        };
        layers.push(LayerRef {
            name: layer_digest.to_string(),
            referrer: format!("layer {number} of {count} of manifest {digest}"),
            compression,
            digest: Some(layer_digest),
            size: Some(layer.size()),
            diff_id: None,
        });
    }
    let platform = descriptor.platform().as_ref();
    found.push(PlatformManifest {
        os: platform.map_or_else(|| config.os().to_string(), |platform| platform.os().to_string()),
        architecture: platform.map_or_else(
            || config.architecture().to_string(),
            |platform| platform.architecture().to_string(),
        ),
        variant: platform.map_or_else(|| config.variant().clone(), |platform| platform.variant().clone()),
        digest: digest.to_string(),
        reference,
        layers,
        subject: Some((descriptor.media_type().to_string(), descriptor.size())),
        ..command_of(&config)
    });
    Ok(())
}

/// What the config says a container starts: its command, working directory and `PATH`.
fn command_of(config: &ImageConfiguration) -> PlatformManifest {
    let settings = config.config().as_ref();
    let mut command: Vec<String> =
        settings.and_then(|settings| settings.entrypoint().clone()).unwrap_or_default();
    command.extend(settings.and_then(|settings| settings.cmd().clone()).unwrap_or_default());
    let path_variable = settings
        .and_then(|settings| settings.env().as_ref())
        .and_then(|env| env.iter().rev().find_map(|pair| pair.strip_prefix("PATH=")))
        .map(str::to_string);
    PlatformManifest {
        os: String::new(),
        architecture: String::new(),
        variant: None,
        digest: String::new(),
        reference: None,
        command,
        working_dir: settings.and_then(|settings| settings.working_dir().clone()).unwrap_or_default(),
        path_variable,
        layers: Vec::new(),
        subject: None,
    }
}

/// Every image of a `docker save` tarball's `manifest.json`, or the one whose tag `reference` is.
pub(crate) fn docker(store: &Store, reference: Option<&str>) -> Result<Vec<PlatformManifest>, ImageError> {
    use serde_json::Value;

    let bytes = store.read_file("manifest.json", "the tarball's manifest")?;
    let images: Value = serde_json::from_slice(&bytes).map_err(|error| not_spec("manifest.json", error))?;
    let images = images.as_array().ok_or_else(|| invalid("manifest.json", "is not a list of images"))?;
    let tags = |image: &Value| -> Vec<String> {
        image
            .get("RepoTags")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect()
    };
    let chosen: Vec<&Value> = match reference {
        Some(reference) => {
            images.iter().filter(|image| tags(image).iter().any(|tag| same_tag(tag, reference))).collect()
        }
        None => images.iter().collect(),
    };
    let all_tags: Vec<String> = images.iter().flat_map(tags).collect();
    if chosen.is_empty() {
        return Err(ImageError::Reference(format!(
            "{}: no image tagged {:?} (it has {})",
            store.path().display(),
            reference.unwrap_or(""),
            list(&all_tags)
        )));
    }
    if chosen.len() > 1 {
        return Err(ImageError::Reference(format!(
            "{}: holds {} images ({}); name one, as docker-archive:FILE:TAG",
            store.path().display(),
            chosen.len(),
            list(&all_tags)
        )));
    }
    let image = chosen[0];
    let text = |key: &str| {
        image
            .get(key)
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("manifest.json", format!("an image has no {key}")))
    };
    let config_name = text("Config")?;
    let config_bytes = store.read_file(config_name, "the image's config")?;
    let image_id = BlobDigest::sha256_of(&config_bytes);
    // The config is named by its digest (`HEX.json`, or `blobs/sha256/HEX` since Docker 25).
    let hex = config_name.trim_end_matches(".json").rsplit('/').next().unwrap_or_default();
    if BlobDigest::parse(&format!("sha256:{hex}")).is_ok() && image_id.as_str() != format!("sha256:{hex}") {
        return Err(ImageError::DigestMismatch {
            blob: format!("sha256:{hex}"),
            found: format!("its bytes hash to {image_id}"),
        });
    }
    let config =
        ImageConfiguration::from_reader(&config_bytes[..]).map_err(|error| not_spec(config_name, error))?;
    let diff_ids = config.rootfs().diff_ids();
    let names: Vec<&str> = image
        .get("Layers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if names.len() != diff_ids.len() {
        return Err(invalid(
            config_name,
            format!("lists {} layers, manifest.json {}", diff_ids.len(), names.len()),
        ));
    }
    let mut layers = Vec::new();
    let count = names.len();
    for ((number, name), diff_id) in (1..).zip(names).zip(diff_ids) {
        layers.push(LayerRef {
            name: name.to_string(),
            referrer: format!("layer {number} of {count} of image {image_id}"),
            compression: Compression::Sniff,
            digest: None,
            size: None,
            diff_id: Some(BlobDigest::parse(diff_id)?),
        });
    }
    Ok(vec![PlatformManifest {
        os: config.os().to_string(),
        architecture: config.architecture().to_string(),
        variant: config.variant().clone(),
        digest: image_id.to_string(),
        reference: tags(image).into_iter().next(),
        layers,
        ..command_of(&config)
    }])
}

/// Whether `tag` (as `docker save` writes it, `docker.io/library/etcd:3.6`) is what `reference`
/// names, in full or as Docker shortens it (`etcd:3.6`, `library/etcd:3.6`).
fn same_tag(tag: &str, reference: &str) -> bool {
    tag == reference
        || tag
            .strip_prefix("docker.io/")
            .is_some_and(|short| short == reference || short.strip_prefix("library/") == Some(reference))
}

/// JSON that is not what the image spec (or `docker save`) defines, in one line naming it.
fn not_spec(what: impl core::fmt::Display, error: impl std::error::Error) -> ImageError {
    // oci-spec's error says "serde failed", and what failed in its source.
    let mut why = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        why = format!("{why}: {cause}");
        source = cause.source();
    }
    invalid(what, format!("not what the image spec defines: {why}"))
}
