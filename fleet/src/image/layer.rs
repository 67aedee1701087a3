// One layer: its blob decompressed as it is read, its tar's entries, each regular file's bytes
// streamed past the manifest scanner and dropped. Nothing is extracted to disk, and memory is one
// piece of a file at a time plus what the entries say (names, link targets, manifests).

use std::io::{self, Read};
use std::sync::Arc;

use crate::image::error::{ImageError, invalid};
use crate::image::path::normalize;
use crate::image::scan::{Found, Scanner};
use crate::image::store::{Blob, BlobDigest, Store, Verified};

/// How a layer's tar is compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Compression {
    None,
    Gzip,
    Zstd,
    /// A `docker save` layer, whose compression its first bytes tell.
    Sniff,
}

/// A layer to read: where its bytes are and how to check them.
#[derive(Clone, Debug)]
pub(crate) struct LayerRef {
    /// For messages: its digest, or its path in a `docker save` tarball.
    pub(crate) name: String,
    /// What refers to it, for a message that it is missing: `layer 2 of 3 of manifest DIGEST`.
    pub(crate) referrer: String,
    pub(crate) compression: Compression,
    /// The blob's digest (a layout's layers), or `None` where the file is named by path.
    pub(crate) digest: Option<BlobDigest>,
    pub(crate) size: Option<u64>,
    /// The digest of the uncompressed tar (the config's `rootfs.diff_ids`), checked where the
    /// blob has no digest of its own (`docker save`).
    pub(crate) diff_id: Option<BlobDigest>,
}

/// What a layer does to the filesystem below it, one entry at a time.
#[derive(Debug)]
pub(crate) enum Change {
    /// `.wh.NAME`: the path, and all under it, is deleted from the layers below.
    Whiteout(String),
    /// `.wh..wh..opq` in a directory: what the layers below have in it is deleted.
    Opaque(String),
    Dir(String),
    File {
        path: String,
        executable: bool,
        found: Arc<Found>,
    },
    Symlink {
        path: String,
        target: String,
    },
    /// A hard link to a path of the image (`target`, normalized).
    Hardlink {
        path: String,
        target: String,
    },
    /// A device, a FIFO: there, but nothing to read.
    Other(String),
}

/// What was read of a layer: its changes, in the tar's order, and the bytes it decompressed to.
pub(crate) struct ReadLayer {
    pub(crate) changes: Vec<Change>,
    pub(crate) decompressed: u64,
}

/// Reads the layer, refusing it once it has decompressed to more than `max_size` bytes.
pub(crate) fn read_layer(store: &Store, layer: &LayerRef, max_size: u64) -> Result<ReadLayer, ImageError> {
    let what = format!("layer {}", layer.name);
    let mut input = match &layer.digest {
        Some(digest) => Input::Verified(Box::new(store.open_blob(digest, layer.size, &layer.referrer)?)),
        None => Input::Raw(store.open(&layer.name, &layer.referrer)?, 0),
    };
    let at_layer = |error: io::Error| invalid(&what, error);
    let mut compression = layer.compression;
    let mut head = [0u8; 4];
    let mut head_len = 0;
    if compression == Compression::Sniff {
        head_len = read_up_to(&mut input, &mut head).map_err(at_layer)?;
        compression = match head[..head_len] {
            [0x1f, 0x8b, ..] => Compression::Gzip,
            [0x28, 0xb5, 0x2f, 0xfd] => Compression::Zstd,
            _ => Compression::None,
        };
    }
    let (changes, decompressed) = {
        let rejoined = (&head[..head_len]).chain(&mut input);
        let decoder: Box<dyn Read + '_> = match compression {
            Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(rejoined)),
            Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(rejoined).map_err(at_layer)?),
            Compression::None | Compression::Sniff => Box::new(rejoined),
        };
        let mut limited = Limited { inner: decoder, read: 0, max: max_size };
        let changes = match &layer.diff_id {
            Some(diff_id) => {
                let mut tar = Verified::new(&mut limited, diff_id.clone(), None);
                read_entries(&mut tar, &what).and_then(|changes| tar.finish().map(|()| changes))
            }
            None => read_entries(&mut limited, &what).and_then(|changes| {
                // The blocks after the tar's end, read to the end of the stream as a diff ID's check would.
                io::copy(&mut limited, &mut io::sink()).map(|_| changes).map_err(at_layer)
            }),
        };
        (changes, limited.read)
    };
    if decompressed > max_size {
        let (blob, compressed) = (layer.name.clone(), input.bytes_read());
        return Err(ImageError::TooLarge { blob, decompressed, limit: max_size, compressed });
    }
    let changes = changes?;
    input.finish(&what)?;
    Ok(ReadLayer { changes, decompressed })
}

/// A blob read with its digest checked, or a file of a `docker save` tarball, whose layer is checked
/// by its diff ID instead.
enum Input {
    Verified(Box<Verified<Blob>>),
    Raw(Blob, u64),
}

impl Input {
    fn bytes_read(&self) -> u64 {
        match self {
            Input::Verified(verified) => verified.bytes_read(),
            Input::Raw(_, read) => *read,
        }
    }

    /// Reads what is left, and checks the digest.
    fn finish(self, what: &str) -> Result<(), ImageError> {
        match self {
            Input::Verified(verified) => verified.finish(),
            Input::Raw(mut blob, _) => {
                io::copy(&mut blob, &mut io::sink()).map(drop).map_err(|error| invalid(what, error))
            }
        }
    }
}

impl Read for Input {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        match self {
            Input::Verified(verified) => verified.read(buffer),
            Input::Raw(blob, read) => {
                let count = blob.read(buffer)?;
                *read += count as u64;
                Ok(count)
            }
        }
    }
}

/// A decompressed stream that fails once it has given more than `max` bytes.
struct Limited<R> {
    inner: R,
    read: u64,
    max: u64,
}

impl<R: Read> Read for Limited<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        if self.read > self.max {
            return Err(io::Error::other("over the limit"));
        }
        let count = self.inner.read(buffer)?;
        self.read += count as u64;
        if self.read > self.max {
            return Err(io::Error::other("over the limit"));
        }
        Ok(count)
    }
}

/// Fills `buffer` as far as the reader goes.
fn read_up_to(reader: &mut impl Read, buffer: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match reader.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(count) => filled += count,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(filled)
}

/// The size of the pieces a file's bytes are read in.
const PIECE: usize = 256 << 10;

/// The changes of the tar that `reader` gives.
fn read_entries(reader: &mut dyn Read, what: &str) -> Result<Vec<Change>, ImageError> {
    let mut changes = Vec::new();
    let mut piece = vec![0u8; PIECE];
    let ended = std::cell::Cell::new(false);
    let mut archive = tar::Archive::new(EndSeen { inner: reader, ended: &ended });
    let entries = archive.entries().map_err(|error| invalid(what, error))?;
    // Whether every byte of the last entry was read: a stream that ends there, without the padding
    // and the two zero blocks that close a tar, is a whole layer. umoci 0.4's `insert` writes its
    // layers so, and umoci, skopeo and Go's runtimes apply them.
    let mut last_whole = false;
    for entry in entries {
        let mut entry = match entry {
            Ok(entry) => entry,
            Err(_) if last_whole && ended.get() => break,
            Err(error) => return Err(invalid(what, format!("its tar: {error}"))),
        };
        last_whole = false;
        let path = normalize(&entry.path_bytes()).map_err(|why| invalid(what, why))?;
        let header = entry.header();
        let kind = header.entry_type();
        let (directory, name) = path.rsplit_once('/').unwrap_or(("", &path));
        if name == ".wh..wh..opq" {
            changes.push(Change::Opaque(directory.to_string()));
            continue;
        }
        if let Some(deleted) = name.strip_prefix(".wh.") {
            let deleted =
                if directory.is_empty() { deleted.to_string() } else { format!("{directory}/{deleted}") };
            changes.push(Change::Whiteout(deleted));
            continue;
        }
        let change = if kind.is_file() || kind.is_contiguous() || kind.is_gnu_sparse() {
            let executable = header.mode().is_ok_and(|mode| mode & 0o111 != 0);
            let size = entry.size();
            let mut scanner = Scanner::new();
            let mut read = 0u64;
            loop {
                let count = match entry.read(&mut piece) {
                    Ok(0) => break,
                    Ok(count) => count,
                    Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                    Err(error) => return Err(invalid(format!("{what}: /{path}"), error)),
                };
                scanner.feed(&piece[..count]);
                read += count as u64;
            }
            if read < size && !kind.is_gnu_sparse() {
                return Err(invalid(
                    format!("{what}: /{path}"),
                    format!("the tar ends inside it: its header says {size} bytes, the layer has {read}"),
                ));
            }
            Change::File { path, executable, found: Arc::new(scanner.finish()) }
        } else if kind.is_dir() {
            Change::Dir(path)
        } else if kind.is_symlink() {
            let target = entry.link_name_bytes().map(|target| String::from_utf8_lossy(&target).into_owned());
            Change::Symlink { path, target: target.unwrap_or_default() }
        } else if kind.is_hard_link() {
            let target = entry.link_name_bytes().unwrap_or_default();
            let target = normalize(&target).map_err(|why| invalid(format!("{what}: /{path}"), why))?;
            Change::Hardlink { path, target }
        } else if kind.is_pax_global_extensions() || kind.is_pax_local_extensions() {
            continue;
        } else {
            Change::Other(path)
        };
        if !matches!(&change, Change::Dir(path) if path.is_empty()) {
            changes.push(change);
        }
        last_whole = true;
    }
    Ok(changes)
}

/// A reader that notes when its stream has ended.
struct EndSeen<'a, R: ?Sized> {
    inner: &'a mut R,
    ended: &'a std::cell::Cell<bool>,
}

impl<R: Read + ?Sized> Read for EndSeen<'_, R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let count = self.inner.read(buffer)?;
        if count == 0 && !buffer.is_empty() {
            self.ended.set(true);
        }
        Ok(count)
    }
}
