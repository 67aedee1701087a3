// Finding manifests in a file's bytes, in memory or a piece at a time, and the types they are read
// into. The layout is the runtime's (`platform_gate::manifest`, and `docs/manifest.md`); `parse.rs`
// reads one manifest back.
//
// Zone: the command and the format, proved by `cargo test -p platform-gate-cli`,
// `tests/manifest_reader.py` (run by `tests/cross` and `tests/cpu`) and `benches/scan.sh` (see
// CONTRIBUTING.md).

use core::fmt;

use platform_gate::manifest::{FORMAT, HEADER, MAGIC, MAGIC_KEY, MASKED_MAGIC};
use platform_gate::{CpuFeatures, Matrix, Platform, Policy};

use crate::parse::{body_len, parse};

/// One gate's manifest, as read from a binary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    /// Where in the file it starts (the first byte of its magic).
    pub offset: usize,
    /// The format version it was written in.
    pub format: u8,
    /// The name the program's messages call it by.
    pub program: String,
    /// The override variable's name.
    pub variable: String,
    /// The program's package version; `None` when it was built without Cargo.
    pub crate_version: Option<String>,
    /// The version of platform-gate that wrote the manifest.
    pub gate_version: String,
    /// The platform the binary was built for.
    pub platform: Platform,
    /// The gate's policy: check, allow, exit code and packager.
    pub policy: Policy,
    /// The support matrix.
    pub matrix: Matrix,
    /// What the build assumed of the CPU.
    pub cpu: Cpu,
}

/// What a build assumed of the CPU, above its target's baseline, and where the gate checks it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cpu {
    /// The x86-64 level of what the build assumed (1 to 4); 0 off x86-64.
    pub level: u8,
    /// Checked before std starts: features every crate was compiled with. `None` where the
    /// architecture has no feature table (nothing is checked).
    pub before_start: Option<CpuFeatures>,
    /// Checked at the top of `main`: features `main`'s crate alone assumed.
    pub in_main: Option<CpuFeatures>,
    /// Whether a refusal before std starts that finds no manifest it can trust names the program
    /// by its file's name (Linux, Android); elsewhere it says "this program".
    pub names_program_file: bool,
    /// Whether a refusal before std starts looks for the binary's manifest in its running image
    /// (Linux, Android, Windows), and, where it finds one set of settings, refuses as the check in
    /// `main` does: the program's name, its variable and its exit code.
    pub reads_own_manifest: bool,
    /// Whether every manifest of its file has this one's program, variable and exit code: the
    /// binary's own settings, then, are the only ones its image holds. A binary that embeds another
    /// gated binary (k0s embeds etcd) has two, and a refusal before std starts stays generic.
    pub alone_in_file: bool,
}

impl Cpu {
    /// Every feature the build assumed that the gate checks: both sets.
    pub fn assumed(&self) -> Option<CpuFeatures> {
        Some(self.before_start?.with(self.in_main?))
    }
}

/// Why a file's bytes gave no manifest, or a wrong one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadError {
    /// No manifest's magic anywhere: a binary built without the gate, or not a binary.
    NoManifest,
    /// A manifest in a format newer than this reader knows.
    NewerFormat {
        /// Where it starts.
        offset: usize,
        /// Its format version.
        format: u8,
    },
    /// The file ends inside a manifest.
    Truncated {
        /// Where it starts.
        offset: usize,
    },
    /// A manifest whose bytes changed after it was written: its CRC-32 does not match.
    Corrupted {
        /// Where it starts.
        offset: usize,
    },
    /// A manifest whose checksum matches but whose content no gate writes.
    Malformed {
        /// Where it starts.
        offset: usize,
        /// What is wrong.
        what: String,
    },
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::NoManifest => {
                f.write_str("no platform-gate manifest: not a binary built with #[platform_gated]")
            }
            ReadError::NewerFormat { offset, format } => write!(
                f,
                "the manifest at byte {offset} is in format {format}, newer than this reader's {FORMAT}; \
                 use a newer platform-gate"
            ),
            ReadError::Truncated { offset } => {
                write!(f, "the manifest at byte {offset} is cut short: the file ends inside it")
            }
            ReadError::Corrupted { offset } => {
                write!(f, "the manifest at byte {offset} is corrupted: its checksum does not match its bytes")
            }
            ReadError::Malformed { offset, what } => {
                write!(f, "the manifest at byte {offset} is malformed: {what}")
            }
        }
    }
}

impl std::error::Error for ReadError {}

/// Every manifest in `bytes`, in the order they appear: one for a gated binary, several for a file
/// that embeds gated binaries. An error if there is none, or if any is not a valid manifest: a
/// reader must not act on part of what a file declares.
pub fn read(bytes: &[u8]) -> Result<Vec<Manifest>, ReadError> {
    let finder = magic_finder();
    let manifests = finder
        .find_iter(bytes)
        .map(|offset| parse(&bytes[offset..], offset))
        .collect::<Result<Vec<_>, _>>()?;
    if manifests.is_empty() {
        return Err(ReadError::NoManifest);
    }
    Ok(with_file(manifests))
}

/// `manifests`, all of one file, each told whether the others agree with it.
fn with_file(mut manifests: Vec<Manifest>) -> Vec<Manifest> {
    // The rule of the runtime's search (`cpu/image.rs`): the settings a refusal reads.
    let settings = |manifest: &Manifest| {
        (manifest.program.clone(), manifest.variable.clone(), manifest.policy.exit_code())
    };
    let first = settings(&manifests[0]);
    let alone = manifests.iter().all(|manifest| settings(manifest) == first);
    for manifest in &mut manifests {
        manifest.cpu.alone_in_file = alone;
    }
    manifests
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

/// [`read`] of the file at `path`, read a piece at a time: only the manifests are kept in memory,
/// so a file of any size is read at about the speed of the disk or the page cache.
pub fn read_file(path: &std::path::Path) -> Result<Vec<Manifest>, FileError> {
    use std::io::{Read, Seek, SeekFrom};

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
    let file_len = start + carried as u64;
    let mut manifests = Vec::with_capacity(offsets.len());
    for offset in offsets {
        // The header, then as much of the body and checksum as it announces and the file holds.
        let mut region = Vec::new();
        file.seek(SeekFrom::Start(offset))?;
        (&mut file).take(HEADER as u64).read_to_end(&mut region)?;
        if let Some(body) = body_len(&region) {
            (&mut file).take((body as u64 + 4).min(file_len - offset)).read_to_end(&mut region)?;
        }
        let offset = usize::try_from(offset).unwrap_or(usize::MAX);
        manifests.push(parse(&region, offset).map_err(FileError::Manifest)?);
    }
    if manifests.is_empty() {
        return Err(FileError::Manifest(ReadError::NoManifest));
    }
    Ok(with_file(manifests))
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
    // Held masked (see `MASKED_MAGIC`): a plain copy in this program's data would be a false
    // manifest in every binary that links this reader (this command, a supervisor that is gated).
    let key = core::hint::black_box(MAGIC_KEY);
    let needle: Vec<u8> = MASKED_MAGIC.iter().map(|&byte| byte ^ key).collect();
    memchr::memmem::Finder::new(&needle).into_owned()
}
