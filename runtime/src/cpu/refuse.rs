// The CPU refusal: rendering what this CPU lacks, writing it, and exiting. This code runs on a CPU
// that lacks instructions the whole build was compiled to use, this code included, so it keeps to
// what every CPU of the architecture runs. With AVX the compiler copies anything of 16 bytes or more
// (an array, a struct, an iterator) with vector moves, even unoptimised; with BMI it shifts by a
// variable with `shlx` and computes `a & !b` with `andn`; under LTO even std is recompiled with the
// raised flags. So, from the first instruction of a check to the exit:
// - values are integers, `&str`s, byte slices, `Rows` (two integers) and references, never a larger
//   aggregate moved by value: structs are passed by reference and read field by field;
// - a set is tested one row at a time against that row's mask from `ROW_MASKS`: no shift by a
//   variable, no `a & !b`;
// - loops count with an index, and `black_box` keeps the optimiser from folding tests back into
//   those instructions or unrolling them into vectors;
// - nothing of std or core that could be recompiled with the flags: the write and the exit are the C
//   library's (`sys.rs`), which the build does not recompile.
// tests/cpu/run.sh proves it under emulated CPUs, and disassembles this path in every build it makes.

use super::rows::{LEVEL_ROWS, Rows, any_beyond, has, level_of, next, this_family};
use super::sink::{BUFFER, Buffer, Sink};
use super::{detect, sys};
use crate::names::cpu::Family;

/// Who is refused. Always read by reference, from a gate or a static, never built or copied on the
/// refusal path: see the top of this file.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Refusal<'a> {
    pub(crate) family: Family,
    /// Whether to speak of x86-64 levels.
    pub(crate) x86_64: bool,
    /// The program's name, printable ASCII written as is and any other byte as `?`; `None` to ask
    /// the system for its file's name, which only a refusal needs.
    pub(crate) program: Option<&'a [u8]>,
    /// The override variable's name (with `from_package`, the package it is derived from), written
    /// as the program's name is; `None` where it is not known: "its override variable".
    pub(crate) variable: Option<&'a [u8]>,
    pub(crate) from_package: bool,
}

impl Refusal<'static> {
    /// What a refusal in `main` says: the program's name and its variable (with `from_package`,
    /// the package it is derived from).
    pub(crate) const fn in_main(program: &'static str, variable: &'static str, from_package: bool) -> Self {
        Refusal {
            family: this_family(),
            x86_64: cfg!(target_arch = "x86_64"),
            program: Some(program.as_bytes()),
            variable: Some(variable.as_bytes()),
            from_package,
        }
    }
}

/// Writes the refusal for a build that assumed `assumed` on a CPU with `present`: from `&'static`
/// pieces and names only, no formatting.
pub(crate) fn render(out: &mut impl Sink, refusal: &Refusal<'_>, assumed: Rows, present: Rows) {
    let family = refusal.family;
    let built_level = if refusal.x86_64 { level_of(assumed) } else { 1 };
    let cpu_level = level_of(present);
    out.text("error: ");
    match refusal.program {
        Some(program) => {
            let mut i = 0;
            while i < program.len() {
                out.printable(program[i]);
                i = next(i);
            }
        }
        None => sys::write_program_file_name(out),
    }
    out.text(" will not start on this CPU: it was built ");
    if built_level >= 2 {
        out.text("for ");
        level_name(out, built_level);
        let level = core::hint::black_box(&LEVEL_ROWS[built_level as usize]);
        let level = Rows { low: level.low, high: level.high };
        if any_beyond(assumed, level) {
            out.text(" with ");
            list(out, family, assumed, level, "");
        }
    } else {
        out.text("to use ");
        list(out, family, assumed, Rows::EMPTY, "");
    }
    out.text(", and this CPU lacks ");
    list(out, family, assumed, present, "");
    out.text("\n  = note: ");
    if refusal.x86_64 {
        out.text("this CPU is ");
        level_name(out, cpu_level);
        out.text("; ");
    }
    out.text("the program uses those instructions, and would crash with an illegal instruction\n");
    out.text("  = help: run it on a CPU with ");
    list(out, family, assumed, present, "");
    if built_level >= 2 {
        out.text(" (");
        level_name(out, built_level);
        out.text("), or ask for a build for ");
        level_name(out, cpu_level);
        out.text(", without `-C target-cpu=");
        level_name(out, built_level);
        out.text("`");
    } else {
        out.text(", or ask for a build without `-C target-feature=");
        list(out, family, assumed, present, "+");
        out.text("`");
    }
    out.text("\n  = note: ");
    match refusal.variable {
        None => out.text("its override variable"),
        Some(variable) => {
            let mut i = 0;
            while i < variable.len() {
                if refusal.from_package {
                    out.byte(crate::names::derived_variable_byte(variable[i]));
                } else {
                    out.printable(variable[i]);
                }
                i = next(i);
            }
            if refusal.from_package {
                out.text(crate::names::DERIVED_SUFFIX);
            }
        }
    }
    out.text(
        " cannot help: it overrides the support matrix, not the instructions the program was built with\n",
    );
}

fn level_name(out: &mut impl Sink, level: u8) {
    out.text("x86-64");
    match level {
        2 => out.text("-v2"),
        3 => out.text("-v3"),
        4 => out.text("-v4"),
        _ => {}
    }
}

/// `a, b, c`: the rows in `included` but not in `excluded`, each name after `prefix`; rustc's
/// flag syntax wants commas without spaces.
fn list(out: &mut impl Sink, family: Family, included: Rows, excluded: Rows, prefix: &str) {
    let separator = if prefix.is_empty() { ", " } else { "," };
    let table = family.table();
    let mut first = true;
    let mut row = 0;
    while row < table.len() {
        if has(included, row) && !has(excluded, row) {
            if !first {
                out.text(separator);
            }
            first = false;
            out.text(prefix);
            out.text(table[row].name);
        }
        row = next(row);
    }
}

/// Refuses, if this CPU lacks any of `assumed` (rows of this target's family's table): renders
/// the refusal, writes it to stderr in one write, and exits with `exit_code`. Not to be
/// overridden: the program would crash. Out of line and cold; see the top of this file for how
/// it is written.
#[cold]
#[inline(never)]
pub(crate) fn refuse_cpu(assumed: Rows, refusal: &Refusal<'_>, exit_code: u8) {
    if let Some(present) = lacking(assumed, refusal.x86_64) {
        refuse(assumed, present, refusal, exit_code);
    }
}

/// What this CPU has, if it lacks any of `assumed`; `None` where it has them all or cannot be
/// read (then the build is trusted). On x86-64 (`x86_64`) a refusal also reads the levels' rows, so
/// that it can say which level this CPU is.
#[inline(always)]
pub(crate) fn lacking(assumed: Rows, x86_64: bool) -> Option<Rows> {
    let present = detect::present(assumed)?;
    if !any_beyond(assumed, present) {
        return None;
    }
    let levels = if x86_64 { core::hint::black_box(&LEVEL_ROWS[4]) } else { &Rows::EMPTY };
    let wanted = Rows { low: assumed.low | levels.low, high: assumed.high | levels.high };
    match detect::present(wanted) {
        Some(present) => Some(present),
        None => Some(present),
    }
}

/// Renders the refusal of a build that assumed `assumed` on a CPU with `present`, writes it to
/// stderr in one write, and exits with `exit_code`.
#[cold]
#[inline(never)]
pub(crate) fn refuse(assumed: Rows, present: Rows, refusal: &Refusal<'_>, exit_code: u8) -> ! {
    // Zeroed by the C library's `memset`, which the build does not recompile.
    let mut bytes = [0; BUFFER];
    let mut buffer = Buffer { bytes: &mut bytes, len: 0 };
    render(&mut buffer, refusal, assumed, present);
    let len = core::hint::black_box(buffer.len);
    sys::write_stderr(&bytes, len);
    sys::exit(i32::from(exit_code));
}
