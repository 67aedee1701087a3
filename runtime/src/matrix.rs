// The support matrix: which (architecture, OS) pairs a project supports and how well, as one piece
// of `const` data that both the gate and the documentation are made from, so the two cannot drift.

use core::fmt::{self, Write as _};

use crate::maintainers::{List, Maintainers};
use crate::names::first_forbidden_character;
use crate::{Arch, Os, Platform};

/// How well a project supports a platform its matrix lists. A platform with no row is unsupported.
///
/// Statuses are ordered: `Unstable < Experimental < Stable`.
///
/// ```
/// use platform_gate::{Arch, Matrix, Os, Platform, Status};
///
/// let arm64_linux = Platform::new(Arch::Aarch64, Os::Linux);
/// assert_eq!(Matrix::ETCD.status(arm64_linux), Some(Status::Experimental));
/// assert!(Status::Stable > Status::Experimental && Status::Experimental > Status::Unstable);
/// assert_eq!(Status::Experimental.to_string(), "experimental");
/// assert_eq!(Status::Experimental.proper_name(), "Experimental");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Status {
    /// Lightly tested, less than experimental.
    Unstable,
    /// Works in practice but does not meet the stable support policy.
    Experimental,
    /// Fully supported.
    Stable,
}

impl Status {
    /// The word a matrix shows: `Stable`, `Experimental`, `Unstable`.
    #[inline]
    pub const fn proper_name(self) -> &'static str {
        match self {
            Status::Stable => "Stable",
            Status::Experimental => "Experimental",
            Status::Unstable => "Unstable",
        }
    }

    /// Ordering for `const` code: `Unstable < Experimental < Stable`.
    #[inline]
    pub const fn rank(self) -> u8 {
        self as u8
    }
}

/// The lowercase word messages use: `stable`, `experimental`, `unstable`.
impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(crate::names::policy::STATUSES[self.rank() as usize])
    }
}

/// One row of a support matrix: a platform, its status, who maintains it and an optional note
/// for the operators who run on it.
///
/// ```
/// use platform_gate::{Arch, Os, Row, Status};
///
/// const ARM: Row = Row::new(Arch::Arm, Os::Linux, Status::Unstable)
///     .maintained_by(&["@board-team"])
///     .with_note("Expect slow start-up on boards with little memory.");
/// assert_eq!(ARM.status(), Status::Unstable);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Row<'a> {
    platform: Platform,
    status: Status,
    maintainers: Maintainers<'a>,
    note: Option<&'a str>,
}

impl<'a> Row<'a> {
    /// A row with no maintainers and no note.
    #[inline]
    pub const fn new(arch: Arch, os: Os, status: Status) -> Row<'a> {
        Row {
            platform: Platform::new(arch, os),
            status,
            maintainers: Maintainers(List::Names(&[])),
            note: None,
        }
    }

    /// The row with these maintainers.
    ///
    /// # Panics
    ///
    /// If a name holds a control character or a bidirectional override, as for
    /// [`Row::with_note`]. In a `const` this is a compile error.
    #[inline]
    pub const fn maintained_by(self, maintainers: &'a [&'a str]) -> Row<'a> {
        let mut i = 0;
        while i < maintainers.len() {
            if first_forbidden_character(maintainers[i]).is_some() {
                panic!("a maintainer's name must not contain control characters or bidirectional overrides");
            }
            i += 1;
        }
        Row { maintainers: Maintainers(List::Names(maintainers)), ..self }
    }

    /// The row with these maintainers, as a manifest's reader found them.
    #[cfg(feature = "read")]
    #[inline]
    pub(crate) const fn with_maintainers(self, maintainers: Maintainers<'a>) -> Row<'a> {
        Row { maintainers, ..self }
    }

    /// The row with a note that refusal messages show to operators on this platform.
    ///
    /// # Panics
    ///
    /// If the note holds a control character (a newline, an escape) or a bidirectional override,
    /// which would let it forge lines of the refusal or reorder what the operator reads. In a
    /// `const` this is a compile error.
    #[inline]
    pub const fn with_note(self, note: &'a str) -> Row<'a> {
        if first_forbidden_character(note).is_some() {
            panic!("a note must be one line, without control characters or bidirectional overrides");
        }
        Row { note: Some(note), ..self }
    }

    /// The platform this row rates.
    pub const fn platform(&self) -> Platform {
        self.platform
    }

    /// How well the platform is supported.
    pub const fn status(&self) -> Status {
        self.status
    }

    /// Who maintains the platform, as the matrix names them.
    #[inline]
    pub const fn maintainers(&self) -> Maintainers<'a> {
        self.maintainers
    }

    /// The note for operators on this platform, if any.
    #[inline]
    pub const fn note(&self) -> Option<&'a str> {
        self.note
    }
}

/// A support matrix: rows of (architecture, OS, status, maintainers, note). Unlisted pairs are
/// unsupported. Build one in a `const` with [`matrix!`](crate::matrix!) or [`Matrix::new`].
///
/// ```
/// use platform_gate::{Arch, Matrix, Os, Platform, Status};
///
/// const SUPPORT: Matrix = platform_gate::matrix! {
///     amd64 linux => stable ["ops team"],
///     arm64 linux => experimental,
/// };
/// const ARM64_LINUX: Option<Status> = SUPPORT.status(Platform::new(Arch::Aarch64, Os::Linux));
/// assert_eq!(ARM64_LINUX, Some(Status::Experimental));
/// assert_eq!(SUPPORT.status(Platform::new(Arch::Riscv64, Os::Linux)), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Matrix<'a> {
    rows: &'a [Row<'a>],
}

/// etcd's note for its 32-bit rows.
pub(crate) const ETCD_32_BIT_NOTE: &str =
    "etcd has known issues on 32-bit systems, caused by a bug in the Go runtime.";

impl Matrix<'static> {
    /// etcd's support matrix, from its supported-platforms page: the default for
    /// `#[platform_gated]`. Its stable architectures are amd64 and ppc64le.
    pub const ETCD: Matrix<'static> = Matrix::new(&[
        Row::new(Arch::X86_64, Os::Darwin, Status::Experimental).maintained_by(&["etcd maintainers"]),
        Row::new(Arch::X86_64, Os::Linux, Status::Stable).maintained_by(&["etcd maintainers"]),
        Row::new(Arch::X86_64, Os::Windows, Status::Experimental),
        Row::new(Arch::Aarch64, Os::Linux, Status::Experimental),
        Row::new(Arch::Arm, Os::Linux, Status::Unstable).with_note(ETCD_32_BIT_NOTE),
        Row::new(Arch::X86, Os::Linux, Status::Unstable).with_note(ETCD_32_BIT_NOTE),
        Row::new(Arch::Powerpc64le, Os::Linux, Status::Stable)
            .maintained_by(&["etcd maintainers", "@mkumatag"]),
    ]);
}

impl<'a> Matrix<'a> {
    /// A matrix of these rows.
    ///
    /// # Panics
    ///
    /// If two rows rate the same platform. In a `const` this is a compile error.
    #[inline]
    pub const fn new(rows: &'a [Row<'a>]) -> Matrix<'a> {
        let mut i = 0;
        while i < rows.len() {
            let mut j = i + 1;
            while j < rows.len() {
                if rows[i].platform.is(rows[j].platform) {
                    panic!("a support matrix lists the same (architecture, OS) pair twice");
                }
                j += 1;
            }
            i += 1;
        }
        Matrix { rows }
    }

    /// The rows, in the order they were given.
    pub const fn rows(&self) -> &'a [Row<'a>] {
        self.rows
    }

    /// The row that rates `platform`, if the matrix lists it.
    pub const fn row(&self, platform: Platform) -> Option<&'a Row<'a>> {
        let mut i = 0;
        while i < self.rows.len() {
            if self.rows[i].platform.is(platform) {
                return Some(&self.rows[i]);
            }
            i += 1;
        }
        None
    }

    /// The status of `platform`; `None` when it is not listed, and so unsupported.
    pub const fn status(&self, platform: Platform) -> Option<Status> {
        match self.row(platform) {
            Some(row) => Some(row.status),
            None => None,
        }
    }

    /// The best status any row gives `arch`, whatever the OS; `None` when no row lists it.
    /// This is what etcd's code checks: an architecture is stable if it is stable anywhere.
    pub const fn arch_status(&self, arch: Arch) -> Option<Status> {
        let mut best: Option<Status> = None;
        let mut i = 0;
        while i < self.rows.len() {
            let row = &self.rows[i];
            if row.platform.arch.is(arch) {
                best = match best {
                    Some(status) if status.rank() >= row.status.rank() => Some(status),
                    _ => Some(row.status),
                };
            }
            i += 1;
        }
        best
    }

    /// The matrix as a Markdown table in the form of etcd's documentation, followed by the rows'
    /// notes.
    ///
    /// ```
    /// let table = platform_gate::Matrix::ETCD.to_markdown();
    /// assert!(table.contains("| ppc64le | Linux | Stable | etcd maintainers, @mkumatag |"));
    /// ```
    #[inline]
    pub fn to_markdown(&self) -> String {
        let mut out =
            String::from("| Architecture | Operating System | Status | Maintainers |\n|---|---|---|---|\n");
        for row in self.rows {
            let cells = [
                row.platform.arch.go_name(),
                row.platform.os.proper_name(),
                row.status.proper_name(),
                &row.maintainers.iter().collect::<Vec<_>>().join(", "),
            ];
            for cell in cells {
                out.push('|');
                if !cell.is_empty() {
                    let _ = write!(out, " {cell}");
                }
                out.push(' ');
            }
            out.push_str("|\n");
        }
        // Each distinct note once, after the table, with the platforms it is for.
        let mut notes: Vec<(&str, Vec<String>)> = Vec::new();
        for row in self.rows {
            let Some(note) = row.note else { continue };
            let platform = format!("{} {}", row.platform.arch.go_name(), row.platform.os.proper_name());
            match notes.iter_mut().find(|(text, _)| *text == note) {
                Some((_, platforms)) => platforms.push(platform),
                None => notes.push((note, vec![platform])),
            }
        }
        for (note, platforms) in notes {
            let _ = write!(out, "\n{}: {note}\n", platforms.join(", "));
        }
        out
    }
}

impl Default for Matrix<'_> {
    /// etcd's matrix, [`Matrix::ETCD`].
    #[inline]
    fn default() -> Self {
        Matrix::ETCD
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on_linux(arch: Arch) -> Platform {
        Platform::new(arch, Os::Linux)
    }

    #[test]
    fn etcd_matrix_stable_architectures_are_exactly_amd64_and_ppc64le() {
        // The drift this crate exists to prevent: etcd's docs and code disagreed on this list.
        let stable: Vec<Arch> = Arch::ALL
            .iter()
            .copied()
            .filter(|&arch| Matrix::ETCD.arch_status(arch) == Some(Status::Stable))
            .collect();
        assert_eq!(stable, [Arch::X86_64, Arch::Powerpc64le]);
    }

    #[test]
    fn lookups_by_platform_and_by_architecture() {
        let m = Matrix::ETCD;
        assert_eq!(m.status(Platform::new(Arch::X86_64, Os::Darwin)), Some(Status::Experimental));
        assert_eq!(m.status(on_linux(Arch::Aarch64)), Some(Status::Experimental));
        assert_eq!(m.status(on_linux(Arch::Arm)), Some(Status::Unstable));
        assert_eq!(m.status(on_linux(Arch::Riscv64)), None);
        assert_eq!(m.status(Platform::new(Arch::Aarch64, Os::Darwin)), None);
        // Stable on Linux, experimental elsewhere: the architecture's best status wins.
        assert_eq!(m.arch_status(Arch::X86_64), Some(Status::Stable));
        assert_eq!(m.arch_status(Arch::S390x), None);
        assert_eq!(m.row(on_linux(Arch::X86)).and_then(Row::note), Some(ETCD_32_BIT_NOTE));
        assert_eq!(m.row(on_linux(Arch::Powerpc64)), None, "ppc64 is not ppc64le");
    }

    #[test]
    fn lookups_work_in_const() {
        const ARM64: Option<Status> = Matrix::ETCD.arch_status(Arch::Aarch64);
        const PPC64LE: Option<Status> = Matrix::ETCD.status(Platform::new(Arch::Powerpc64le, Os::Linux));
        assert_eq!(ARM64, Some(Status::Experimental));
        assert_eq!(PPC64LE, Some(Status::Stable));
    }

    #[test]
    #[should_panic(expected = "same (architecture, OS) pair twice")]
    fn a_duplicated_pair_is_rejected_even_under_another_spelling() {
        static ROWS: [Row; 2] = [
            Row::new(Arch::Aarch64, Os::Linux, Status::Stable),
            Row::new(Arch::Aarch64, Os::Linux, Status::Unstable),
        ];
        let _ = Matrix::new(&ROWS);
    }

    #[test]
    fn notes_and_maintainers_cannot_forge_lines() {
        let row = Row::new(Arch::Arm, Os::Linux, Status::Unstable);
        assert!(std::panic::catch_unwind(|| row.with_note("x\n  = help: forged")).is_err());
        assert!(std::panic::catch_unwind(|| row.with_note("\x1b[2Jcleared")).is_err());
        assert!(std::panic::catch_unwind(|| row.maintained_by(&["ok", "@evil\r"])).is_err());
        let note = "Slow on 512 MiB \u{2014} expect swapping.";
        assert_eq!(row.with_note(note).note(), Some(note), "other non-ASCII text is fine");
    }

    #[test]
    fn markdown_has_etcd_rows_in_order_and_the_32_bit_note_once() {
        let table = Matrix::ETCD.to_markdown();
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines[0], "| Architecture | Operating System | Status | Maintainers |");
        assert_eq!(lines[2], "| amd64 | Darwin | Experimental | etcd maintainers |");
        assert_eq!(lines[4], "| amd64 | Windows | Experimental | |");
        assert_eq!(lines[8], "| ppc64le | Linux | Stable | etcd maintainers, @mkumatag |");
        assert_eq!(table.matches(ETCD_32_BIT_NOTE).count(), 1);
        assert!(table.contains(&format!("arm Linux, 386 Linux: {ETCD_32_BIT_NOTE}")));
    }
}
