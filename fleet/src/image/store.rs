// Where an image's blobs are: a directory (an OCI image layout) or a tar (an OCI archive, a
// `docker save` tarball), read in place, and every blob checked against its digest as it is read.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use sha2::Digest as _;

use crate::image::error::{ImageError, invalid};

/// A digest the image spec registers (`sha256:` or `sha512:`, lowercase hex of the right length),
/// checked before it names a file: a digest is also a path in a layout.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct BlobDigest(String);

impl BlobDigest {
    pub(crate) fn parse(text: &str) -> Result<BlobDigest, ImageError> {
        let well_formed = match text.split_once(':') {
            Some(("sha256", hex)) => hex.len() == 64 && is_lower_hex(hex),
            Some(("sha512", hex)) => hex.len() == 128 && is_lower_hex(hex),
            _ => false,
        };
        if !well_formed {
            return Err(invalid(format!("digest {text:?}"), "is not sha256: or sha512: and its hex"));
        }
        Ok(BlobDigest(text.to_string()))
    }

    /// `sha256:` and 64 hex digits of `bytes`' SHA-256.
    pub(crate) fn sha256_of(bytes: &[u8]) -> BlobDigest {
        BlobDigest(format!("sha256:{}", hex(&sha2::Sha256::digest(bytes))))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// Its path in a layout, and in an OCI archive: `blobs/ALGORITHM/HEX`.
    pub(crate) fn blob_path(&self) -> String {
        let (algorithm, hex) = self.0.split_once(':').expect("checked by parse");
        format!("blobs/{algorithm}/{hex}")
    }
}

impl core::fmt::Display for BlobDigest {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

fn is_lower_hex(text: &str) -> bool {
    text.bytes().all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// A reader that hashes and counts what passes through it, to be checked once read to the end.
pub(crate) struct Verified<R> {
    inner: io::Take<R>,
    hasher: Hasher,
    read: u64,
    expected: BlobDigest,
    size: Option<u64>,
}

enum Hasher {
    Sha256(sha2::Sha256),
    Sha512(sha2::Sha512),
}

impl<R: Read> Verified<R> {
    /// `inner`, to hash to `expected` and, when it is known, to be `size` bytes long: a blob longer
    /// than its descriptor says is read one byte past the size, and refused.
    pub(crate) fn new(inner: R, expected: BlobDigest, size: Option<u64>) -> Verified<R> {
        let hasher = if expected.0.starts_with("sha512:") {
            Hasher::Sha512(sha2::Sha512::new())
        } else {
            Hasher::Sha256(sha2::Sha256::new())
        };
        let limit = size.map_or(u64::MAX, |size| size.saturating_add(1));
        Verified { inner: inner.take(limit), hasher, read: 0, expected, size }
    }

    /// The bytes read so far.
    pub(crate) fn bytes_read(&self) -> u64 {
        self.read
    }

    /// Reads what is left, then checks the length and the digest.
    pub(crate) fn finish(mut self) -> Result<(), ImageError> {
        io::copy(&mut self, &mut io::sink())
            .map_err(|error| invalid(format!("blob {}", self.expected), error))?;
        let found = match self.hasher {
            Hasher::Sha256(hasher) => format!("sha256:{}", hex(&hasher.finalize())),
            Hasher::Sha512(hasher) => format!("sha512:{}", hex(&hasher.finalize())),
        };
        let blob = self.expected.0;
        match self.size {
            Some(size) if self.read != size => {
                let how = if self.read > size { "more than" } else { "only" };
                Err(ImageError::DigestMismatch {
                    blob,
                    found: format!("{how} {} bytes where its descriptor says {size}", self.read.min(size)),
                })
            }
            _ if found != blob => {
                Err(ImageError::DigestMismatch { blob, found: format!("its bytes hash to {found}") })
            }
            _ => Ok(()),
        }
    }
}

impl<R: Read> Read for Verified<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buffer)?;
        match &mut self.hasher {
            Hasher::Sha256(hasher) => hasher.update(&buffer[..read]),
            Hasher::Sha512(hasher) => hasher.update(&buffer[..read]),
        }
        self.read += read as u64;
        Ok(read)
    }
}

/// A blob or a file of the image, open for reading.
pub(crate) type Blob = Box<dyn Read + Send>;

/// Where the image's files are.
pub(crate) enum Store {
    /// An OCI image layout: a directory.
    Layout(PathBuf),
    /// A tar: each regular file's name (without `./`), and where its bytes are in the tar.
    Archive { path: PathBuf, files: HashMap<String, (u64, u64)> },
}

impl Store {
    /// The tar at `path`, its files listed (their bytes are skipped, not read).
    pub(crate) fn archive(path: &Path) -> Result<Store, ImageError> {
        let io_error = |error| ImageError::Io { path: path.display().to_string(), error };
        let file = File::open(path).map_err(io_error)?;
        let mut archive = tar::Archive::new(file);
        let (mut files, mut links) = (HashMap::new(), Vec::new());
        for entry in archive.entries_with_seek().map_err(io_error)? {
            let entry =
                entry.map_err(|error| invalid(path.display(), format!("not a tar it can read: {error}")))?;
            let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let name = name.trim_start_matches("./").to_string();
            let kind = entry.header().entry_type();
            if kind.is_file() {
                files.insert(name, (entry.raw_file_position(), entry.size()));
            } else if kind.is_symlink() || kind.is_hard_link() {
                // `docker save` links each `ID/layer.tar` to the layer stored once (Docker 25 and
                // skopeo): a symlink relative to its directory, a hard link from the root.
                let target =
                    String::from_utf8_lossy(&entry.link_name_bytes().unwrap_or_default()).into_owned();
                let directory = if kind.is_symlink() {
                    name.rsplit_once('/').map_or("", |(directory, _)| directory)
                } else {
                    ""
                };
                if let Some(target) = crate::image::path::link_target(directory, &target) {
                    links.push((name, target));
                }
            }
        }
        // A link is the file it leads to (through links, a few deep), where that is in the tar.
        for _ in 0..8 {
            for (name, target) in &links {
                if let Some(&found) = files.get(target) {
                    files.entry(name.clone()).or_insert(found);
                }
            }
        }
        Ok(Store::Archive { path: path.to_path_buf(), files })
    }

    /// The layout's directory or the archive's file, for messages.
    pub(crate) fn path(&self) -> &Path {
        match self {
            Store::Layout(path) | Store::Archive { path, .. } => path,
        }
    }

    /// Whether the image has a file of that name (`index.json`, `oci-layout`, `manifest.json`).
    pub(crate) fn has(&self, name: &str) -> bool {
        match self {
            Store::Layout(dir) => dir.join(name).is_file(),
            Store::Archive { files, .. } => files.contains_key(name),
        }
    }

    /// The file `name` of the image, `what` saying what refers to it when it is missing.
    pub(crate) fn open(&self, name: &str, what: &str) -> Result<Blob, ImageError> {
        let missing = || ImageError::MissingBlob { blob: name.to_string(), what: what.to_string() };
        match self {
            Store::Layout(dir) => {
                let path = dir.join(name);
                match File::open(&path) {
                    Ok(file) if file.metadata().is_ok_and(|metadata| metadata.is_file()) => {
                        Ok(Box::new(file))
                    }
                    Ok(_) => Err(invalid(path.display(), "is not a regular file")),
                    // A blob that is not there is the image's fault; `index.json` missing, the path's.
                    Err(error) if error.kind() == io::ErrorKind::NotFound && name.starts_with("blobs/") => {
                        Err(missing())
                    }
                    Err(error) => Err(ImageError::Io { path: path.display().to_string(), error }),
                }
            }
            Store::Archive { path, files } => {
                let &(start, size) = files.get(name).ok_or_else(missing)?;
                let io_error = |error| ImageError::Io { path: path.display().to_string(), error };
                let mut file = File::open(path).map_err(io_error)?;
                file.seek(SeekFrom::Start(start)).map_err(io_error)?;
                Ok(Box::new(file.take(size)))
            }
        }
    }

    /// The blob of `digest`, to be read through and then checked ([`Verified::finish`]).
    pub(crate) fn open_blob(
        &self,
        digest: &BlobDigest,
        size: Option<u64>,
        what: &str,
    ) -> Result<Verified<Blob>, ImageError> {
        let blob = self.open(&digest.blob_path(), what).map_err(|error| match error {
            ImageError::MissingBlob { what, .. } => {
                ImageError::MissingBlob { blob: digest.to_string(), what }
            }
            error => error,
        })?;
        Ok(Verified::new(blob, digest.clone(), size))
    }

    /// The whole of a small blob (an index, a manifest, a config), at most `MAX_JSON`, and whether
    /// it matched its digest: the caller must not act on the bytes before it looked at that.
    #[allow(clippy::type_complexity)]
    pub(crate) fn read_blob(
        &self,
        digest: &BlobDigest,
        size: u64,
        what: &str,
    ) -> Result<(Vec<u8>, Result<(), ImageError>), ImageError> {
        if size > MAX_JSON {
            return Err(invalid(
                format!("blob {digest}"),
                format!("{what} of {size} bytes, more than a reader takes ({MAX_JSON})"),
            ));
        }
        let mut blob = self.open_blob(digest, Some(size), what)?;
        let mut bytes = Vec::new();
        (&mut blob)
            .take(MAX_JSON + 1)
            .read_to_end(&mut bytes)
            .map_err(|error| invalid(format!("blob {digest}"), error))?;
        Ok((bytes, blob.finish()))
    }

    /// The whole of a small file of the image that no digest names (`index.json`, `manifest.json`).
    pub(crate) fn read_file(&self, name: &str, what: &str) -> Result<Vec<u8>, ImageError> {
        let mut bytes = Vec::new();
        self.open(name, what)?
            .take(MAX_JSON + 1)
            .read_to_end(&mut bytes)
            .map_err(|error| invalid(name, error))?;
        if bytes.len() as u64 > MAX_JSON {
            return Err(invalid(name, format!("is more than a reader takes ({MAX_JSON} bytes)")));
        }
        Ok(bytes)
    }
}

/// The largest JSON document (index, manifest, config) read: a real one is a few KiB.
pub(crate) const MAX_JSON: u64 = 4 << 20;
