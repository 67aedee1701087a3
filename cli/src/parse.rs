// Parsing one manifest's bytes into the runtime's types, rejecting anything `docs/manifest.md` does not
// describe: an unknown version, a wrong checksum, a body that does not end where its length says, a
// name no gate could have written. `read.rs` finds the manifests.
//
// Zone: the command and the format, proved by `cargo test -p platform-gate-cli`,
// `tests/manifest_reader.py` (run by `tests/cross` and `tests/cpu`) and `benches/scan.sh` (see
// CONTRIBUTING.md).

use core::num::NonZeroU8;

use platform_gate::manifest::{
    FORMAT, HEADER, MAGIC, allow_from_code, check_from_code, crc32, is_one_line, is_portable_variable_name,
    status_from_code,
};
use platform_gate::{Arch, CpuFeatures, Matrix, Os, Packager, Platform, Policy, Row};

use crate::intern;
use crate::read::{Cpu, Manifest, ReadError};

/// The body's length a manifest's header announces, if `manifest` holds the whole header.
pub(crate) fn body_len(manifest: &[u8]) -> Option<usize> {
    let length = manifest.get(HEADER - 4..HEADER)?;
    Some(u32::from_le_bytes([length[0], length[1], length[2], length[3]]) as usize)
}

/// The manifest at the start of `manifest` (its magic first), which its file holds at `offset`:
/// only the errors name that.
pub(crate) fn parse(manifest: &[u8], offset: usize) -> Result<Manifest, ReadError> {
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
        // A row takes at least 8 bytes of the body: a count the body cannot hold allocates nothing.
        let mut rows: Vec<Row> = Vec::with_capacity(count.min(self.bytes.len() / 8));
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
