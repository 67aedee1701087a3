// Decoding a manifest's body, field by field, as `write.rs` encodes it: each field checked to be one a
// gate writes, each string borrowed from the bytes; and `Cpu`, the decoded CPU fields.

use core::num::NonZeroU8;

use super::codes::{allow_from_code, check_from_code, status_from_code};
use crate::maintainers::{List, Maintainers};
use crate::names::{first_forbidden_character, is_portable_variable_name};
use crate::packager::arch_bit;
use crate::{Arch, CpuFeatures, Os, Packager, Platform, Policy, Row};

/// A body's fields: program, variable, crate version, gate version, platform, policy, CPU, rows.
pub(super) type Fields<'a> =
    (&'a str, &'a str, Option<&'a str>, &'a str, Platform, Policy<'a>, Cpu, Vec<Row<'a>>);

/// A cursor over a manifest's body.
pub(super) struct Body<'a> {
    pub(super) bytes: &'a [u8],
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

    /// The body's fields, in the order `write.rs` writes them.
    pub(super) fn manifest(&mut self) -> Result<Fields<'a>, String> {
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
        Ok((program, variable, crate_version, gate_version, platform, policy, cpu, rows))
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

/// What a build assumed of the CPU, above its target's baseline, and where the gate checks it.
///
/// ```
/// # let bytes = include_bytes!("../../tests/fixtures/etcd.manifest");
/// let etcd = platform_gate::manifest::Manifest::parse(bytes, 0)?; // a baseline amd64 Linux build
/// assert_eq!(etcd.cpu.level, 1);
/// assert!(etcd.cpu.names_program_file && etcd.cpu.reads_own_manifest);
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
