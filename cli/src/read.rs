// Finding manifests in a file's bytes, in memory or a piece at a time. The format and its reader are
// the runtime's (`platform_gate::manifest`, and `docs/manifest.md`): this file only finds where each
// manifest starts and hands its bytes over.
//
// What reading a file promises, each with a test in `tests/manifest.rs` or `tests/memory.rs`:
// - a device, a FIFO, a socket or a directory is refused before it is opened, and again once open;
// - memory: one piece of the file (1 MiB) at a time, plus the bytes of the manifests found, each
//   checked before the next is read, so an invalid one ends the read at once;
// - every manifest returned borrows the caller's buffer, which gets all of that memory back when
//   it is dropped or cleared.

use core::fmt;

use platform_gate::manifest::{HEADER, MAGIC, MAX_BODY, Manifest, ReadError, announced_len, magic};

/// Every manifest in `bytes`, in the order they appear: one for a gated binary, several for a file
/// that embeds gated binaries. An error if there is none, or if any is not a valid manifest: a
/// reader must not act on part of what a file declares.
///
/// ```
/// # let bytes = include_bytes!("../../runtime/tests/fixtures/etcd.manifest");
/// let manifests = platform_gate_cli::read(bytes)?;
/// assert_eq!(manifests[0].program, "etcd");
/// # Ok::<(), platform_gate_cli::ReadError>(())
/// ```
pub fn read(bytes: &[u8]) -> Result<Vec<Manifest<'_>>, ReadError> {
    let finder = magic_finder();
    Manifest::parse_all(finder.find_iter(bytes).map(|offset| (&bytes[offset..], offset)))
}

/// Why a file gave no manifests: it could not be read, or what it holds is not one.
#[derive(Debug)]
pub enum FileError {
    /// Opening or reading the file failed.
    Io(std::io::Error),
    /// Not a regular file: a directory, a device, a FIFO or a socket, which are not opened (a
    /// device can be endless, a FIFO without a writer blocks).
    NotAFile {
        /// What it is: `a directory`, `a character device`, `a block device`, `a FIFO`, `a socket`.
        kind: &'static str,
    },
    /// The file was read, and [`read`] would say this of it.
    Manifest(ReadError),
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileError::Io(error) => error.fmt(f),
            FileError::NotAFile { kind } => write!(f, "is {kind}, not a regular file, and is not read"),
            FileError::Manifest(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for FileError {}

impl From<std::io::Error> for FileError {
    fn from(error: std::io::Error) -> FileError {
        FileError::Io(error)
    }
}

/// [`read`] of the file at `path`, read a piece at a time: the manifests' bytes are kept in `storage`
/// (whatever it held before is dropped), which the manifests borrow, and nothing else of the file
/// stays in memory, so a file of any size is read at about the speed of the disk or the page cache.
/// Reuse `storage` for the next file: its memory is the only memory the manifests held.
///
/// ```no_run
/// let mut storage = Vec::new();
/// for path in ["/usr/bin/kvd", "/usr/bin/etcd"] {
///     let manifests = platform_gate_cli::read_file(path.as_ref(), &mut storage)?;
///     println!("{path}: {}", manifests[0].program);
/// }
/// # Ok::<(), platform_gate_cli::FileError>(())
/// ```
pub fn read_file<'a>(
    path: &std::path::Path,
    storage: &'a mut Vec<u8>,
) -> Result<Vec<Manifest<'a>>, FileError> {
    use std::io::{Read, Seek, SeekFrom};

    // The manifests of an earlier file cannot borrow it any more: a caller that reuses one buffer
    // for every file holds one file's manifests, not all of them.
    storage.clear();

    // Looked at before it is opened, since opening a FIFO blocks; and the opened file again, in case
    // the path was swapped in between.
    not_a_file(&std::fs::metadata(path)?.file_type())?;
    let mut file = std::fs::File::open(path)?;
    not_a_file(&file.metadata()?.file_type())?;
    let finder = magic_finder();
    // The magic's start in the file, found in pieces of 1 MiB; each piece begins with the last
    // bytes of the one before, too few for a whole magic, so that none is missed or found twice.
    let mut offsets: Vec<u64> = Vec::new();
    let mut buffer = vec![0; 1 << 20];
    let (mut carried, mut start) = (0, 0u64);
    loop {
        let read = match file.read(&mut buffer[carried..]) {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error.into()),
        };
        let filled = carried + read;
        offsets.extend(finder.find_iter(&buffer[..filled]).map(|at| start + at as u64));
        carried = filled.min(MAGIC.len() - 1);
        buffer.copy_within(filled - carried..filled, 0);
        start += (filled - carried) as u64;
    }
    drop(buffer);
    let file_len = start + carried as u64;
    // Each manifest's bytes, where `storage` holds them: the header, then as much of the body and
    // checksum as it announces and the file holds, checked before the next is read (so a file of
    // invalid manifests stops at the first instead of filling `storage`), then parsed again, once
    // `storage` is done growing, for the manifests that borrow it.
    let mut found: Vec<(usize, core::ops::Range<usize>)> = Vec::with_capacity(offsets.len());
    for offset in offsets {
        let at = storage.len();
        file.seek(SeekFrom::Start(offset))?;
        (&mut file).take(HEADER as u64).read_to_end(storage)?;
        // The body and checksum, unless the header announces more than a manifest may hold, which
        // the header alone tells the reader.
        if let Some(rest) =
            announced_len(&storage[at..]).map(|len| len - HEADER).filter(|&rest| rest <= MAX_BODY + 4)
        {
            let rest = (rest as u64).min(file_len - offset);
            storage.reserve_exact(rest as usize);
            (&mut file).take(rest).read_to_end(storage)?;
        }
        let offset = usize::try_from(offset).unwrap_or(usize::MAX);
        Manifest::parse(&storage[at..], offset).map_err(FileError::Manifest)?;
        found.push((offset, at..storage.len()));
    }
    let storage: &'a [u8] = storage;
    Manifest::parse_all(found.into_iter().map(|(offset, bytes)| (&storage[bytes], offset)))
        .map_err(FileError::Manifest)
}

/// `Err` unless `kind` is a regular file's.
fn not_a_file(kind: &std::fs::FileType) -> Result<(), FileError> {
    if kind.is_file() {
        return Ok(());
    }
    let kind = if kind.is_dir() { "a directory" } else { unix_kind(kind).unwrap_or("not a regular file") };
    Err(FileError::NotAFile { kind })
}

#[cfg(unix)]
fn unix_kind(kind: &std::fs::FileType) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt as _;
    [
        (kind.is_char_device(), "a character device"),
        (kind.is_block_device(), "a block device"),
        (kind.is_fifo(), "a FIFO"),
        (kind.is_socket(), "a socket"),
    ]
    .into_iter()
    .find_map(|(is, name)| is.then_some(name))
}

#[cfg(not(unix))]
fn unix_kind(_: &std::fs::FileType) -> Option<&'static str> {
    None
}

/// Finds the magic.
fn magic_finder() -> memchr::memmem::Finder<'static> {
    // Unmasked at run time (see `MAGIC_KEY`): a plain copy in this program's data would be a false
    // manifest in every binary that links this reader (this command, a supervisor that is gated).
    let needle = magic();
    memchr::memmem::Finder::new(&needle).into_owned()
}
