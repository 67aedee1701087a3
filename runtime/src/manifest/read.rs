// Reading one manifest back into the types the decision takes, for tools that read binaries
// (feature `read`, off in gated programs' builds). The layout is `mod.rs`'s `encode`, and
// `docs/manifest.md` describes both.
//
// What this reader promises of bytes nobody vouched for, each with a test in `read_tests.rs`:
// - it never panics, and it never reads outside `bytes`;
// - it allocates only the rows' list, at most one entry per 8 bytes the body holds, and every
//   string it returns borrows `bytes`: dropping the manifest returns all of its memory;
// - it returns a manifest only when every field is one a gate writes (the format, the length, the
//   checksum, each name, code and count), so that no verdict is made from an invalid manifest.
//
// - it judges the manifests of one file together (`Manifest::parse_all`), by the one rule the check
//   before std starts applies to its running image (`format::same_settings`).
// The field-by-field decoding is `body.rs`'s.

use core::fmt;

use super::body::{Body, Cpu};
use super::format::{FORMAT, HEADER, MAGIC, MAX_BODY, crc32, magic_byte, same_settings};
use crate::{Matrix, Platform, Policy, Row};

/// One gate's manifest, read from a binary's bytes, which its strings borrow.
///
/// ```
/// # fn gated_binary() -> Vec<u8> { include_bytes!("../../tests/fixtures/etcd.manifest").to_vec() }
/// use platform_gate::manifest::Manifest;
/// use platform_gate::{Matrix, Policy};
///
/// let bytes = gated_binary();
/// let manifest = Manifest::parse(&bytes, 0)?;
/// assert_eq!(manifest.program, "etcd");
/// assert_eq!(manifest.variable, "ETCD_UNSUPPORTED_ARCH");
/// assert_eq!(manifest.matrix(), Matrix::ETCD);
/// assert_eq!(manifest.policy, Policy::DEFAULT);
/// # Ok::<(), platform_gate::manifest::ReadError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Manifest<'a> {
    /// Where in its file it starts (the first byte of its magic), as its finder said.
    pub offset: usize,
    /// The format version it was written in.
    pub format: u8,
    /// The name the program's messages call it by.
    pub program: &'a str,
    /// The override variable's name.
    pub variable: &'a str,
    /// The program's package version; `None` when it was built without Cargo.
    pub crate_version: Option<&'a str>,
    /// The version of platform-gate that wrote the manifest.
    pub gate_version: &'a str,
    /// The platform the binary was built for.
    pub platform: Platform,
    /// The gate's policy: check, allow, exit code and packager.
    pub policy: Policy<'a>,
    /// What the build assumed of the CPU.
    pub cpu: Cpu,
    pub(super) rows: Vec<Row<'a>>,
    /// Its bytes, magic to checksum: what [`Manifest::parse_all`] compares.
    bytes: &'a [u8],
    /// Whether its file's other manifests, if any, have its settings: see
    /// [`Manifest::alone_in_file`].
    alone_in_file: bool,
}

/// Why bytes gave no manifest, or a wrong one.
///
/// ```
/// use platform_gate::manifest::{Manifest, ReadError};
///
/// let bytes = include_bytes!("../../tests/fixtures/etcd.manifest");
/// assert_eq!(Manifest::parse(&bytes[..40], 7), Err(ReadError::Truncated { offset: 7 }));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
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
    /// The bytes end inside a manifest.
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

/// How many bytes the manifest that starts `header` (its magic first) takes, header, body and
/// checksum, as its header announces; `None` if `header` is shorter than a header. A reader of a
/// file reads that many bytes from the magic on, and gives them to [`Manifest::parse`].
///
/// ```
/// use platform_gate::manifest::{HEADER, announced_len};
///
/// let bytes = include_bytes!("../../tests/fixtures/etcd.manifest");
/// assert_eq!(announced_len(&bytes[..HEADER]), Some(bytes.len()));
/// assert_eq!(announced_len(&bytes[..HEADER - 1]), None);
/// ```
pub fn announced_len(header: &[u8]) -> Option<usize> {
    let body = u32::from_le_bytes(*header.get(HEADER - 4..HEADER)?.first_chunk::<4>()?);
    HEADER.checked_add(usize::try_from(body).ok()?)?.checked_add(4)
}

impl<'a> Manifest<'a> {
    /// The manifest at the start of `bytes` (its magic first; what follows its checksum is not
    /// read), which its file holds at `offset`: only the errors and [`Manifest::offset`] say that.
    ///
    /// # Errors
    ///
    /// If `bytes` does not start with [`MAGIC`] ([`ReadError::NoManifest`]), the bytes end inside
    /// it, its format is newer than [`FORMAT`] or is 0, its checksum does
    /// not match, or any field is one no gate writes: see [`ReadError`].
    pub fn parse(bytes: &'a [u8], offset: usize) -> Result<Manifest<'a>, ReadError> {
        // Unmasked at run time, as `MAGIC_KEY` says: the plain magic in a reader's own data would be
        // a false manifest in every program that links the reader.
        if bytes.len() >= MAGIC.len()
            && !bytes.iter().enumerate().take(MAGIC.len()).all(|(i, &byte)| byte == magic_byte(i))
        {
            return Err(ReadError::NoManifest);
        }
        let Some(&format) = bytes.get(MAGIC.len()) else {
            return Err(ReadError::Truncated { offset });
        };
        if format > FORMAT {
            return Err(ReadError::NewerFormat { offset, format });
        }
        let malformed = |what: String| ReadError::Malformed { offset, what };
        if format == 0 {
            return Err(malformed("format 0 is no format".into()));
        }
        let Some(len) = announced_len(bytes) else {
            return Err(ReadError::Truncated { offset });
        };
        let body = len - HEADER - 4;
        if body > MAX_BODY {
            return Err(malformed(format!("its body of {body} bytes is longer than a manifest's may be")));
        }
        let end = len - 4;
        let Some(crc) = bytes.get(end..).and_then(|rest| rest.first_chunk::<4>()) else {
            return Err(ReadError::Truncated { offset });
        };
        if crc32(bytes, MAGIC.len(), end) != u32::from_le_bytes(*crc) {
            return Err(ReadError::Corrupted { offset });
        }
        let mut body = Body { bytes: &bytes[HEADER..end] };
        let fields = body.manifest().map_err(malformed)?;
        if !body.bytes.is_empty() {
            return Err(malformed(format!("{} bytes after its last field", body.bytes.len())));
        }
        let (program, variable, crate_version, gate_version, platform, policy, cpu, rows) = fields;
        Ok(Manifest {
            offset,
            format,
            program,
            variable,
            crate_version,
            gate_version,
            platform,
            policy,
            cpu,
            rows,
            bytes: &bytes[..len],
            alone_in_file: true,
        })
    }

    /// Every manifest of one file, each `(bytes, offset)` as [`Manifest::parse`] takes it, judged
    /// together: each one's [`Manifest::alone_in_file`] says whether the others agree with it. An
    /// error where any is not a valid manifest, or where there is none ([`ReadError::NoManifest`]).
    ///
    /// ```
    /// # let bytes = include_bytes!("../../tests/fixtures/etcd.manifest");
    /// use platform_gate::manifest::Manifest;
    ///
    /// let one = Manifest::parse_all([(&bytes[..], 0)])?;
    /// assert!(one[0].alone_in_file());
    /// // The same settings twice (a binary that embeds a copy of itself) still agree.
    /// let twice = Manifest::parse_all([(&bytes[..], 0), (&bytes[..], 4096)])?;
    /// assert!(twice.iter().all(Manifest::alone_in_file));
    /// # Ok::<(), platform_gate::manifest::ReadError>(())
    /// ```
    pub fn parse_all<I>(found: I) -> Result<Vec<Manifest<'a>>, ReadError>
    where
        I: IntoIterator<Item = (&'a [u8], usize)>,
    {
        let mut manifests = found
            .into_iter()
            .map(|(bytes, offset)| Manifest::parse(bytes, offset))
            .collect::<Result<Vec<_>, _>>()?;
        let Some(first) = manifests.first().map(|manifest| manifest.bytes) else {
            return Err(ReadError::NoManifest);
        };
        let alone = manifests.iter().all(|manifest| same_settings(first, manifest.bytes));
        for manifest in &mut manifests {
            manifest.alone_in_file = alone;
        }
        Ok(manifests)
    }

    /// Whether every manifest of its file has this one's program, variable and exit code: the
    /// binary's own settings, then, are the only ones its image holds, and a CPU refusal before std
    /// starts names them. A binary that embeds another gated binary (k0s embeds etcd) holds two, and
    /// that refusal stays generic. [`Manifest::parse_all`] finds it; a manifest read alone with
    /// [`Manifest::parse`] is taken to be its file's only one.
    ///
    /// ```
    /// # let bytes = include_bytes!("../../tests/fixtures/etcd.manifest");
    /// let etcd = platform_gate::manifest::Manifest::parse(bytes, 0)?;
    /// assert!(etcd.alone_in_file());
    /// # Ok::<(), platform_gate::manifest::ReadError>(())
    /// ```
    pub fn alone_in_file(&self) -> bool {
        self.alone_in_file
    }

    /// The support matrix.
    ///
    /// ```
    /// # let bytes = include_bytes!("../../tests/fixtures/etcd.manifest");
    /// let manifest = platform_gate::manifest::Manifest::parse(bytes, 0)?;
    /// assert_eq!(manifest.matrix().rows().len(), 7);
    /// # Ok::<(), platform_gate::manifest::ReadError>(())
    /// ```
    pub fn matrix(&self) -> Matrix<'_> {
        // The reader refused a platform listed twice, the only thing `new` panics on.
        Matrix::new(&self.rows)
    }
}
