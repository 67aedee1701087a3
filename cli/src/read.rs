// Finding manifests in a file's bytes and parsing them. The layout is the runtime's
// (`platform_gate::manifest`, and the README's "Manifest format"); this file reads it back and
// rejects anything that file does not describe: an unknown version, a wrong checksum, a body that
// does not end where its length says, a name no gate could have written.

use core::fmt;
use core::num::NonZeroU8;

use platform_gate::manifest::{
    FORMAT, HEADER, MAGIC, allow_from_code, check_from_code, crc32, is_one_line, is_portable_variable_name,
    status_from_code,
};
use platform_gate::{Arch, CpuFeatures, Matrix, Os, Packager, Platform, Policy, Row};

use crate::intern;

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
    /// The file was read, and [`read`] would say this of it.
    Manifest(ReadError),
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileError::Io(error) => error.fmt(f),
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

    let mut file = std::fs::File::open(path)?;
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

/// Finds the magic.
fn magic_finder() -> memchr::memmem::Finder<'static> {
    // The magic is kept masked and unmasked at run time with a key the optimiser cannot see: a
    // copy of it in this program's data would be a false manifest in every binary that links this
    // reader (this command, a supervisor that is itself gated).
    const KEY: u8 = 0xa5;
    const MASKED: [u8; MAGIC.len()] = {
        let mut masked = MAGIC;
        let mut i = 0;
        while i < masked.len() {
            masked[i] ^= KEY;
            i += 1;
        }
        masked
    };
    let key = core::hint::black_box(KEY);
    let needle: Vec<u8> = MASKED.iter().map(|&byte| byte ^ key).collect();
    memchr::memmem::Finder::new(&needle).into_owned()
}

/// The body's length a manifest's header announces, if `manifest` holds the whole header.
fn body_len(manifest: &[u8]) -> Option<usize> {
    let length = manifest.get(HEADER - 4..HEADER)?;
    Some(u32::from_le_bytes([length[0], length[1], length[2], length[3]]) as usize)
}

/// The manifest at the start of `manifest` (its magic first), which its file holds at `offset`:
/// only the errors name that.
fn parse(manifest: &[u8], offset: usize) -> Result<Manifest, ReadError> {
    let Some(&format) = manifest.get(MAGIC.len()) else {
        return Err(ReadError::Truncated { offset });
    };
    if format > FORMAT {
        return Err(ReadError::NewerFormat { offset, format });
    }
    let malformed = |what: String| ReadError::Malformed { offset, what };
    if format == 0 {
        return Err(malformed("format 0 is no format".into()));
    }
    let Some(body_len) = body_len(manifest) else {
        return Err(ReadError::Truncated { offset });
    };
    let end = HEADER.checked_add(body_len).ok_or(ReadError::Truncated { offset })?;
    let Some(crc) = manifest.get(end..).and_then(|rest| rest.get(..4)) else {
        return Err(ReadError::Truncated { offset });
    };
    if crc32(manifest, MAGIC.len(), end) != u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]) {
        return Err(ReadError::Corrupted { offset });
    }
    let mut body = Body { bytes: &manifest[HEADER..end] };
    let manifest = body.manifest(offset, format).map_err(malformed)?;
    if !body.bytes.is_empty() {
        return Err(malformed(format!("{} bytes after its last field", body.bytes.len())));
    }
    Ok(manifest)
}

/// A cursor over a manifest's body.
struct Body<'a> {
    bytes: &'a [u8],
}

impl Body<'_> {
    fn take(&mut self, n: usize, what: &str) -> Result<&[u8], String> {
        if self.bytes.len() < n {
            return Err(format!("its body ends inside {what}"));
        }
        let (taken, rest) = self.bytes.split_at(n);
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
    fn str(&mut self, what: &str) -> Result<String, String> {
        let len = self.u16(what)?;
        let text = std::str::from_utf8(self.take(len, what)?).map_err(|_| format!("{what} is not UTF-8"))?;
        if !is_one_line(text) {
            return Err(format!("{what} holds a control character or a bidirectional override"));
        }
        Ok(text.to_owned())
    }

    fn list(&mut self, what: &str) -> Result<Vec<String>, String> {
        let count = self.u16(what)?;
        (0..count).map(|_| self.str(what)).collect()
    }

    fn manifest(&mut self, offset: usize, format: u8) -> Result<Manifest, String> {
        let program = self.str("the program's name")?;
        if program.is_empty() {
            return Err("the program's name is empty".into());
        }
        let variable = self.str("the variable's name")?;
        if !is_portable_variable_name(&variable) {
            return Err(format!("{variable:?} is not a variable's name"));
        }
        let crate_version = Some(self.str("the program's version")?).filter(|version| !version.is_empty());
        let gate_version = self.str("platform-gate's version")?;
        let platform = self.platform()?;
        let check = check_from_code(self.u8("the check")?).ok_or("an unknown check")?;
        let allow = allow_from_code(self.u8("the allow")?).ok_or("an unknown allow")?;
        let exit_code = NonZeroU8::new(self.u8("the exit code")?).ok_or("exit code 0")?;
        let packager = self.packager()?;
        let matrix = self.matrix()?;
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
            matrix,
            cpu,
        })
    }

    fn platform(&mut self) -> Result<Platform, String> {
        let arch = self.str("the architecture")?;
        let arch_rust = self.str("the architecture")?;
        let os = self.str("the OS")?;
        let os_rust = self.str("the OS")?;
        let arch = go_arch(&arch)?;
        let os = go_os(&os)?;
        if arch.rust_name() != arch_rust || os.rust_name() != os_rust {
            return Err(format!(
                "its platform's Rust names, {arch_rust} {os_rust}, are not {arch:#} {os:#}'s"
            ));
        }
        Ok(Platform::new(arch, os))
    }

    fn packager(&mut self) -> Result<Option<Packager>, String> {
        let name = self.str("the packager")?;
        let architectures = self.list("the packager's architectures")?;
        if name.is_empty() {
            return match architectures.is_empty() {
                true => Ok(None),
                false => Err("architectures without a packager".into()),
            };
        }
        if name.trim_ascii().is_empty() || architectures.is_empty() {
            return Err("a packager that vouches for nothing".into());
        }
        for arch in &architectures {
            go_arch(arch)?;
        }
        Ok(Some(Packager::new(intern::str(name), intern::str(architectures.join(",")))))
    }

    fn matrix(&mut self) -> Result<Matrix, String> {
        let count = self.u16("the matrix")?;
        let mut rows: Vec<Row> = Vec::with_capacity(count);
        for _ in 0..count {
            let arch = go_arch(&self.str("a row's architecture")?)?;
            let os = go_os(&self.str("a row's OS")?)?;
            let status = status_from_code(self.u8("a row's status")?).ok_or("a row's status is unknown")?;
            let maintainers: Vec<&'static str> =
                self.list("a row's maintainers")?.into_iter().map(intern::str).collect();
            let mut row = Row::new(arch, os, status).maintained_by(intern::names(maintainers));
            match self.u8("a row's note")? {
                0 => {}
                1 => row = row.with_note(intern::str(self.str("a row's note")?)),
                _ => return Err("a row's note flag is neither 0 nor 1".into()),
            }
            if rows.iter().any(|other| other.platform() == row.platform()) {
                return Err(format!("the matrix lists {arch} {os} twice"));
            }
            rows.push(row);
        }
        Ok(Matrix::new(intern::rows(rows)))
    }

    fn cpu(&mut self, arch: Arch) -> Result<Cpu, String> {
        let level = self.u8("the CPU level")?;
        let flags = self.u8("the CPU flags")?;
        if flags > 3 {
            return Err(format!("unknown CPU flags {flags:#04x}"));
        }
        let mut features = || -> Result<Option<CpuFeatures>, String> {
            let names = self.list("the CPU features")?;
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
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
        let expected = match (arch, cpu.assumed()) {
            (Arch::X86_64, Some(assumed)) => assumed.level(),
            (Arch::X86_64, None) => 1,
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
    go_spelling(name, "architecture", Arch::from_name, Arch::go_name)
}

/// An OS in Go's spelling, as a manifest writes it.
fn go_os(name: &str) -> Result<Os, String> {
    go_spelling(name, "OS", Os::from_name, Os::go_name)
}

/// What `name` names, if it is that thing's Go spelling exactly.
fn go_spelling<T: Copy>(
    name: &str,
    what: &str,
    from_name: fn(&str) -> Option<T>,
    go_name: fn(T) -> &'static str,
) -> Result<T, String> {
    match from_name(name) {
        Some(named) if go_name(named) == name => Ok(named),
        _ => Err(format!(
            "{name:?} is no {what} this reader (platform-gate-cli {}) knows",
            env!("CARGO_PKG_VERSION")
        )),
    }
}
