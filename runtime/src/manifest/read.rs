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
// Zone: the command and the format, proved by `cargo test -p platform-gate --features read`,
// `cargo test -p platform-gate-cli` and `tests/manifest_reader.py` (see CONTRIBUTING.md).

use core::fmt;
use core::num::NonZeroU8;

use super::{
    FORMAT, HEADER, MAGIC, MAGIC_KEY, MASKED_MAGIC, MAX_BODY, allow_from_code, check_from_code, crc32,
    status_from_code,
};
use crate::fleet::Binary;
use crate::maintainers::{List, Maintainers};
use crate::names::{first_forbidden_character, is_portable_variable_name};
use crate::packager::arch_bit;
use crate::{Arch, CpuFeatures, Matrix, Os, Packager, Platform, Policy, Row};

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
    rows: Vec<Row<'a>>,
}

/// What a build assumed of the CPU, above its target's baseline, and where the gate checks it.
///
/// ```
/// # let bytes = include_bytes!("../../tests/fixtures/etcd.manifest");
/// let etcd = platform_gate::manifest::Manifest::parse(bytes, 0)?; // a baseline amd64 Linux build
/// assert_eq!(etcd.cpu.level, 1);
/// assert!(etcd.cpu.names_program_file && etcd.cpu.reads_own_manifest && etcd.cpu.alone_in_file);
/// # Ok::<(), platform_gate::manifest::ReadError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
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
    /// [`Manifest::parse`] sees one manifest and says `true`; whoever finds them all in a file
    /// tells each.
    pub alone_in_file: bool,
}

impl Cpu {
    /// Every feature the build assumed that the gate checks: both sets.
    ///
    /// ```
    /// # let bytes = include_bytes!("../../tests/fixtures/etcd.manifest");
    /// let manifest = platform_gate::manifest::Manifest::parse(bytes, 0)?;
    /// assert!(manifest.cpu.assumed().is_some_and(|features| features.is_empty()));
    /// # Ok::<(), platform_gate::manifest::ReadError>(())
    /// ```
    pub fn assumed(&self) -> Option<CpuFeatures> {
        Some(self.before_start?.with(self.in_main?))
    }
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
        // Compared masked, as `MASKED_MAGIC` says: the plain magic in a reader's own data would be a
        // false manifest in every program that links the reader.
        let key = core::hint::black_box(MAGIC_KEY);
        if bytes.len() >= MAGIC.len()
            && !bytes.iter().zip(MASKED_MAGIC).all(|(&byte, masked)| byte ^ key == masked)
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
        let manifest = body.manifest(offset, format).map_err(malformed)?;
        if !body.bytes.is_empty() {
            return Err(malformed(format!("{} bytes after its last field", body.bytes.len())));
        }
        Ok(manifest)
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

    /// The binary as a scheduler judges it: its platform, gate, and every CPU feature it checks.
    ///
    /// ```
    /// # let bytes = include_bytes!("../../tests/fixtures/etcd.manifest");
    /// use platform_gate::fleet::Pod;
    ///
    /// let manifest = platform_gate::manifest::Manifest::parse(bytes, 0)?;
    /// let pod = Pod::new(vec![manifest.binary()]).unwrap();
    /// assert_eq!(pod.programs(), ["etcd"]);
    /// # Ok::<(), platform_gate::manifest::ReadError>(())
    /// ```
    pub fn binary(&self) -> Binary<'_> {
        Binary {
            program: self.program,
            variable: self.variable,
            platform: self.platform,
            matrix: self.matrix(),
            policy: self.policy,
            cpu: self.cpu.assumed(),
        }
    }
}

/// A cursor over a manifest's body.
struct Body<'a> {
    bytes: &'a [u8],
}

impl<'a> Body<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], String> {
        let Some((taken, rest)) = self.bytes.split_at_checked(n) else {
            return Err(format!("its body ends inside {what}"));
        };
        self.bytes = rest;
        Ok(taken)
    }

    fn u8(&mut self, what: &str) -> Result<u8, String> {
        Ok(self.take(1, what)?[0])
    }

    fn u16(&mut self, what: &str) -> Result<usize, String> {
        let bytes = self.take(2, what)?;
        Ok(usize::from(u16::from_le_bytes([bytes[0], bytes[1]])))
    }

    /// A string: UTF-8, one line.
    fn str(&mut self, what: &str) -> Result<&'a str, String> {
        let len = self.u16(what)?;
        let text = core::str::from_utf8(self.take(len, what)?).map_err(|_| format!("{what} is not UTF-8"))?;
        if first_forbidden_character(text).is_some() {
            return Err(format!("{what} holds a control character or a bidirectional override"));
        }
        Ok(text)
    }

    /// A count, then that many strings, each given to `each`.
    fn list(
        &mut self,
        what: &str,
        mut each: impl FnMut(&'a str) -> Result<(), String>,
    ) -> Result<usize, String> {
        let count = self.u16(what)?;
        for _ in 0..count {
            each(self.str(what)?)?;
        }
        Ok(count)
    }

    fn manifest(&mut self, offset: usize, format: u8) -> Result<Manifest<'a>, String> {
        let program = self.str("the program's name")?;
        if program.is_empty() {
            return Err("the program's name is empty".into());
        }
        let variable = self.str("the variable's name")?;
        if !is_portable_variable_name(variable) {
            return Err(format!("{variable:?} is not a variable's name"));
        }
        let crate_version = Some(self.str("the program's version")?).filter(|version| !version.is_empty());
        let gate_version = self.str("platform-gate's version")?;
        let platform = self.platform()?;
        let check = check_from_code(self.u8("the check")?).ok_or("an unknown check")?;
        let allow = allow_from_code(self.u8("the allow")?).ok_or("an unknown allow")?;
        let exit_code = NonZeroU8::new(self.u8("the exit code")?).ok_or("exit code 0")?;
        let packager = self.packager()?;
        let rows = self.rows()?;
        let cpu = self.cpu(platform.arch)?;
        let policy = Policy::DEFAULT
            .with_check(check)
            .with_allow(allow)
            .with_exit_code(exit_code)
            .with_packager(packager);
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
        })
    }

    fn platform(&mut self) -> Result<Platform, String> {
        let arch = self.str("the architecture")?;
        let arch_rust = self.str("the architecture")?;
        let os = self.str("the OS")?;
        let os_rust = self.str("the OS")?;
        let arch = go_arch(arch)?;
        let os = go_os(os)?;
        if arch.rust_name() != arch_rust || os.rust_name() != os_rust {
            return Err(format!(
                "its platform's Rust names, {arch_rust} {os_rust}, are not {arch:#} {os:#}'s"
            ));
        }
        Ok(Platform::new(arch, os))
    }

    fn packager(&mut self) -> Result<Option<Packager<'a>>, String> {
        let name = self.str("the packager")?;
        let mut mask = 0u64;
        let count = self.list("the packager's architectures", |arch| {
            let arch = go_arch(arch)?;
            mask |= arch_bit(arch);
            Ok(())
        })?;
        if name.is_empty() {
            return match count {
                0 => Ok(None),
                _ => Err("architectures without a packager".into()),
            };
        }
        if name.trim_ascii().is_empty() || count == 0 {
            return Err("a packager that vouches for nothing".into());
        }
        Ok(Some(Packager::from_mask(name, mask)))
    }

    fn rows(&mut self) -> Result<Vec<Row<'a>>, String> {
        let count = self.u16("the matrix")?;
        // A row takes at least 8 bytes of the body: a count the body cannot hold allocates nothing.
        let mut rows: Vec<Row<'a>> = Vec::with_capacity(count.min(self.bytes.len() / 8));
        for _ in 0..count {
            let arch = go_arch(self.str("a row's architecture")?)?;
            let os = go_os(self.str("a row's OS")?)?;
            let status = status_from_code(self.u8("a row's status")?).ok_or("a row's status is unknown")?;
            let list = self.bytes;
            let names = self.list("a row's maintainers", |_| Ok(()))?;
            let list = &list[2..list.len() - self.bytes.len()];
            let mut row = Row::new(arch, os, status)
                .with_maintainers(Maintainers(List::Encoded { count: names, bytes: list }));
            match self.u8("a row's note")? {
                0 => {}
                1 => row = row.with_note(self.str("a row's note")?),
                _ => return Err("a row's note flag is neither 0 nor 1".into()),
            }
            if rows.iter().any(|other| other.platform() == row.platform()) {
                return Err(format!("the matrix lists {arch} {os} twice"));
            }
            rows.push(row);
        }
        Ok(rows)
    }

    fn cpu(&mut self, arch: Arch) -> Result<Cpu, String> {
        let level = self.u8("the CPU level")?;
        let flags = self.u8("the CPU flags")?;
        if flags > 3 {
            return Err(format!("unknown CPU flags {flags:#04x}"));
        }
        let mut features = || -> Result<Option<CpuFeatures>, String> {
            let mut names = Vec::new();
            self.list("the CPU features", |name| {
                names.push(name);
                Ok(())
            })?;
            match CpuFeatures::none(arch) {
                None if names.is_empty() => Ok(None),
                None => Err(format!("CPU features for {arch}, which has no feature table")),
                Some(_) => CpuFeatures::from_names(arch, &names).map(Some).ok_or_else(|| {
                    format!("a CPU feature this reader does not know for {arch}: {}", names.join(", "))
                }),
            }
        };
        let before_start = features()?;
        let in_main = features()?;
        let cpu = Cpu {
            level,
            before_start,
            in_main,
            names_program_file: flags & 1 != 0,
            reads_own_manifest: flags & 2 != 0,
            alone_in_file: true,
        };
        // x86-64 has a feature table, so `assumed` is `Some` there.
        let expected = match (arch, cpu.assumed()) {
            (Arch::X86_64, Some(assumed)) => assumed.level(),
            _ => 0,
        };
        if level != expected {
            return Err(format!("CPU level {level}, where its features make {expected}"));
        }
        Ok(cpu)
    }
}

/// An architecture in Go's spelling, as a manifest writes it.
fn go_arch(name: &str) -> Result<Arch, String> {
    Arch::from_go_name(name).ok_or_else(|| unknown(name, "architecture"))
}

/// An OS in Go's spelling, as a manifest writes it.
fn go_os(name: &str) -> Result<Os, String> {
    Os::from_go_name(name).ok_or_else(|| unknown(name, "OS"))
}

fn unknown(name: &str, what: &str) -> String {
    format!("{name:?} is no {what} this reader (platform-gate {}) knows", env!("CARGO_PKG_VERSION"))
}
