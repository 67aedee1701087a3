// Images built here, byte by byte, with the tar, gzip and zstd crates: layers, whiteouts, symlinks,
// the three formats, and every hostile case the reader must refuse in one line. The same reader on
// images that umoci and skopeo wrote is `tests/image/run.sh`'s.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::{EntryVerdict, Image, ImageError, ImageFormat, PlatformImage, ReadOptions};
use crate::image::scan::Scanner;
use crate::image::store::BlobDigest;

pub(super) const ETCD: &[u8] = include_bytes!("../../../runtime/tests/fixtures/etcd.manifest");

/// A file that holds the etcd fixture's manifest, as a binary would.
pub(super) fn binary() -> Vec<u8> {
    let mut bytes = b"\x7fELF not really a binary".repeat(100);
    bytes.extend_from_slice(ETCD);
    bytes.extend_from_slice(&[0; 300]);
    bytes
}

pub(super) enum Entry<'a> {
    File(&'a str, &'a [u8], u32),
    Dir(&'a str),
    Symlink(&'a str, &'a str),
    Hardlink(&'a str, &'a str),
}

pub(super) fn tar(entries: &[Entry<'_>]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for entry in entries {
        let mut header = tar::Header::new_gnu();
        let (path, data): (&str, &[u8]) = match *entry {
            Entry::File(path, data, mode) => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(mode);
                (path, data)
            }
            Entry::Dir(path) => {
                header.set_entry_type(tar::EntryType::Directory);
                (path, &[])
            }
            Entry::Symlink(path, target) | Entry::Hardlink(path, target) => {
                let kind = if matches!(entry, Entry::Symlink(..)) {
                    tar::EntryType::Symlink
                } else {
                    tar::EntryType::Link
                };
                header.set_entry_type(kind);
                header.set_size(0);
                builder.append_link(&mut header, path, target).unwrap();
                continue;
            }
        };
        header.set_size(data.len() as u64);
        builder.append_data(&mut header, path, data).unwrap();
    }
    builder.into_inner().unwrap()
}

pub(super) fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

pub(super) fn zstd(bytes: &[u8]) -> Vec<u8> {
    zstd::stream::encode_all(bytes, 1).unwrap()
}

/// An OCI image layout under the tests' temporary directory, written blob by blob.
pub(super) struct Layout {
    pub(super) dir: PathBuf,
}

impl Layout {
    pub(super) fn new(name: &str) -> Layout {
        let dir =
            std::env::temp_dir().join(format!("platform-gate-image-tests-{}", std::process::id())).join(name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
        std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion": "1.0.0"}"#).unwrap();
        Layout { dir }
    }

    /// Writes the blob; its descriptor.
    pub(super) fn blob(&self, media_type: &str, bytes: &[u8]) -> Value {
        let digest = BlobDigest::sha256_of(bytes);
        std::fs::write(self.dir.join(digest.blob_path()), bytes).unwrap();
        json!({"mediaType": media_type, "digest": digest.as_str(), "size": bytes.len()})
    }

    /// An image of `layers` (media type, bytes) with `config` (the config's `config`), for `arch`.
    pub(super) fn image(&self, arch: &str, config: Value, layers: &[(&str, Vec<u8>)]) -> Value {
        let config = json!({"architecture": arch, "os": "linux", "config": config,
            "rootfs": {"type": "layers", "diff_ids": []}});
        let config = self.blob("application/vnd.oci.image.config.v1+json", config.to_string().as_bytes());
        let layers: Vec<Value> =
            layers.iter().map(|(media_type, bytes)| self.blob(media_type, bytes)).collect();
        let manifest = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": config, "layers": layers});
        let mut descriptor =
            self.blob("application/vnd.oci.image.manifest.v1+json", manifest.to_string().as_bytes());
        descriptor["platform"] = json!({"architecture": arch, "os": "linux"});
        descriptor
    }

    pub(super) fn index(&self, manifests: Vec<Value>) {
        let index = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests});
        std::fs::write(self.dir.join("index.json"), index.to_string()).unwrap();
    }

    pub(super) fn read(&self) -> Result<Vec<PlatformImage>, ImageError> {
        read_path(&self.dir)
    }
}

pub(super) fn read_path(path: &Path) -> Result<Vec<PlatformImage>, ImageError> {
    Image::recognise(path)?.expect("an image").read(&ReadOptions::default())
}

pub(super) const TAR: &str = "application/vnd.oci.image.layer.v1.tar";
pub(super) const TAR_GZ: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub(super) const TAR_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";

fn paths(image: &PlatformImage) -> Vec<(&str, bool)> {
    image.binaries.iter().map(|binary| (binary.path.as_str(), binary.entrypoint)).collect()
}

#[test]
fn layers_apply_in_order_whiteouts_delete_and_the_entrypoint_resolves_through_path_and_symlinks() {
    let layout = Layout::new("layers");
    let etcd = binary();
    let lower = tar(&[
        Entry::Dir("usr/"),
        Entry::File("usr/bin/etcd", &etcd, 0o755),
        Entry::File("usr/bin/old-etcd", &etcd, 0o755),
        Entry::File("opt/tools/etcdctl", &etcd, 0o755),
        Entry::File("srv/replaced", &etcd, 0o755),
    ]);
    let upper = tar(&[
        Entry::File("usr/bin/.wh.old-etcd", b"", 0o644),
        Entry::File("opt/tools/.wh..wh..opq", b"", 0o644),
        Entry::File("opt/tools/fresh", b"not gated", 0o755),
        Entry::File("srv/replaced", b"a later layer wins", 0o755),
        Entry::Symlink("bin/server", "../usr/bin/etcd"),
        Entry::Hardlink("usr/local/etcd-link", "usr/bin/etcd"),
    ]);
    let image = layout.image(
        "amd64",
        json!({"Entrypoint": ["server"], "Cmd": ["--data-dir", "/var"], "Env": ["PATH=/nowhere:/bin"]}),
        &[(TAR_GZ, gzip(&lower)), (TAR_ZSTD, zstd(&upper))],
    );
    layout.index(vec![image]);
    let read = layout.read().unwrap();
    assert_eq!(read.len(), 1);
    let image = &read[0];
    assert_eq!(
        (image.platform().as_str(), image.entrypoint.as_deref()),
        ("linux/amd64", Some("/usr/bin/etcd"))
    );
    assert_eq!(image.command, ["server", "--data-dir", "/var"]);
    // The hard link is the same file, given once; the whited-out and replaced ones are gone.
    assert_eq!(paths(image), [("/usr/bin/etcd", true)]);
    assert_eq!(image.binaries[0].manifests().unwrap()[0].program, "etcd");
    assert_eq!(image.decompressed, (lower.len() + upper.len()) as u64);
}

#[test]
fn a_plain_tar_layer_a_non_executable_file_on_path_and_a_config_without_a_command() {
    let layout = Layout::new("plain");
    let etcd = binary();
    let layer = tar(&[Entry::File("bin/etcd", &etcd, 0o644), Entry::File("usr/bin/etcd", &etcd, 0o755)]);
    let first = layout.image("amd64", json!({"Cmd": ["etcd"]}), &[(TAR, layer.clone())]);
    let second = layout.image("arm64", json!({}), &[(TAR, layer)]);
    layout.index(vec![first, second]);
    let read = layout.read().unwrap();
    // /bin comes first in the default PATH, but its etcd is not executable: execvp passes it by.
    assert_eq!(read[0].entrypoint.as_deref(), Some("/usr/bin/etcd"));
    assert_eq!(paths(&read[1]), [("/bin/etcd", false), ("/usr/bin/etcd", false)]);
    assert_eq!(read[1].entrypoint, None);
}

#[test]
fn the_verdicts_of_an_index_against_its_binaries() {
    let layout = Layout::new("verdicts");
    let etcd = binary();
    let layer = tar(&[Entry::File("usr/bin/etcd", &etcd, 0o755)]);
    let command = json!({"Entrypoint": ["/usr/bin/etcd"]});
    let images = vec![
        layout.image("amd64", command.clone(), &[(TAR, layer.clone())]),
        layout.image("arm64", command, &[(TAR, layer)]),
    ];
    layout.index(images);
    let read = layout.read().unwrap();
    let verdicts: Vec<EntryVerdict> = read
        .iter()
        .map(|image| EntryVerdict::of(image, &image.binaries[0].manifests().unwrap()[0]))
        .collect();
    assert_eq!(verdicts[0], EntryVerdict::Starts);
    assert!(matches!(verdicts[1], EntryVerdict::OtherPlatform { .. }), "{:?}", verdicts[1]);
}

/// The one-line error of reading the layout at `dir`.
pub(super) fn error_of(path: &Path) -> String {
    let error = read_path(path).unwrap_err().to_string();
    assert!(!error.contains('\n'), "{error}");
    error
}

#[test]
fn an_oci_archive_and_a_docker_save_tarball_read_as_the_layout_does() {
    let layout = Layout::new("archives");
    let layer = tar(&[Entry::File("usr/bin/etcd", &binary(), 0o755)]);
    let image = layout.image("amd64", json!({"Entrypoint": ["etcd"]}), &[(TAR_GZ, gzip(&layer))]);
    layout.index(vec![image]);
    let archive = layout.dir.with_extension("tar");
    let mut builder = tar::Builder::new(std::fs::File::create(&archive).unwrap());
    builder.append_dir_all(".", &layout.dir).unwrap();
    builder.finish().unwrap();
    let image = Image::recognise(&archive).unwrap().unwrap();
    assert_eq!(image.format(), ImageFormat::OciArchive);
    assert_eq!(paths(&image.read(&ReadOptions::default()).unwrap()[0]), [("/usr/bin/etcd", true)]);

    // docker save: manifest.json, the config named by its digest, the layer by its path, checked by its diff ID.
    let diff_id = BlobDigest::sha256_of(&layer);
    let config = json!({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/usr/bin/etcd"]},
        "rootfs": {"type": "layers", "diff_ids": [diff_id.as_str()]}})
    .to_string();
    let config_digest = BlobDigest::sha256_of(config.as_bytes());
    let config_name = format!("{}.json", &config_digest.as_str()[7..]);
    let docker = |layer: &[u8]| {
        let manifest =
            json!([{"Config": config_name, "RepoTags": ["etcd:3.6"], "Layers": ["abc/layer.tar"]}])
                .to_string();
        let mut builder = tar::Builder::new(Vec::new());
        for (name, bytes) in [
            ("manifest.json", manifest.as_bytes()),
            (config_name.as_str(), config.as_bytes()),
            ("abc/layer.tar", layer),
        ] {
            let mut header = tar::Header::new_ustar();
            header.set_size(bytes.len() as u64);
            header.set_mode(0o644);
            builder.append_data(&mut header, name, bytes).unwrap();
        }
        let path = layout.dir.with_extension("docker.tar");
        std::fs::write(&path, builder.into_inner().unwrap()).unwrap();
        path
    };
    let path = docker(&layer);
    let image = Image::recognise(&path).unwrap().unwrap();
    assert_eq!(image.format(), ImageFormat::DockerArchive);
    let read = image.read(&ReadOptions::default()).unwrap();
    assert_eq!(
        (read[0].reference.as_deref(), read[0].digest.as_str()),
        (Some("etcd:3.6"), config_digest.as_str())
    );
    assert_eq!(paths(&read[0]), [("/usr/bin/etcd", true)]);
    // Compressed, as some tools write it: the diff ID is of the tar inside.
    assert_eq!(paths(&read_path(&docker(&gzip(&layer))).unwrap()[0]), [("/usr/bin/etcd", true)]);
    let mut tampered = layer.clone();
    tampered[600] ^= 1;
    let error = error_of(&docker(&tampered));
    assert!(error.starts_with(&format!("blob {diff_id} does not match its digest")), "{error}");
}

#[test]
fn a_reference_picks_one_image_of_several() {
    let layout = Layout::new("references");
    let layer = tar(&[Entry::File("usr/bin/etcd", &binary(), 0o755)]);
    let mut first = layout.image("amd64", json!({}), &[(TAR, layer.clone())]);
    let mut second = layout.image("arm64", json!({}), &[(TAR, layer)]);
    first["annotations"] = json!({"org.opencontainers.image.ref.name": "3.6"});
    second["annotations"] = json!({"org.opencontainers.image.ref.name": "3.7"});
    layout.index(vec![first, second]);
    let dir = layout.dir.display();
    assert_eq!(error_of(&layout.dir), format!("{dir}: holds 2 images (3.6, 3.7); name one, as oci:DIR:NAME"));
    let read = Image::open(&format!("oci:{dir}:3.7")).unwrap().read(&ReadOptions::default()).unwrap();
    assert_eq!(
        (read.len(), read[0].architecture.as_str(), read[0].reference.as_deref()),
        (1, "arm64", Some("3.7"))
    );
    let error = Image::open(&format!("oci:{dir}:3.8")).unwrap().read(&ReadOptions::default()).unwrap_err();
    assert_eq!(error.to_string(), format!("{dir}: no image named \"3.8\" (it has 3.6, 3.7)"));
}

#[test]
fn the_scanner_finds_what_the_whole_file_holds_in_pieces_of_any_size() {
    let bytes = binary();
    let whole = platform_gate::manifest::Manifest::parse_all([(ETCD, 2400)]).unwrap();
    for piece in (1..40).chain([511, 4096, bytes.len()]) {
        let mut scanner = Scanner::new();
        bytes.chunks(piece).for_each(|chunk| scanner.feed(chunk));
        let found = scanner.finish();
        assert_eq!(found.manifests().unwrap(), whole, "pieces of {piece}");
    }
    // A file cut inside its manifest: the parser's word on a short manifest.
    let mut scanner = Scanner::new();
    scanner.feed(&bytes[..2400 + 30]);
    assert!(scanner.finish().manifests().is_err());
}
