// The CPU a build assumed, against the CPU it runs on. A build raised above its architecture's
// baseline (`-C target-cpu=x86-64-v3`, `+avx2`, aarch64 `+lse`) dies with SIGILL where the CPU lacks
// what it assumed; the gate looks first and refuses with a message. The files, each using only those
// above it in this list:
// - `rows.rs`: sets of a family's rows, the x86-64 levels, and the refusal path's scalar helpers;
// - `sink.rs`: where a refusal is written;
// - `sys.rs` and `detect.rs`: the C library, and reading what this CPU has;
// - `image.rs`: the program's own manifest, in its running image;
// - `refuse.rs`: rendering and writing a refusal, and exiting;
// - `assumed.rs`, then `early.rs`: what a build assumed, and the check before std starts;
// - `set.rs` and `check.rs`: the public `CpuFeatures` and the pure `CpuCheck`.
// `refuse.rs` states the rules of the refusal path, which every file but `set.rs` and `check.rs`
// obeys (`tests/cpu/run.sh`, `tests/cpu/baseline_only.py`).

mod assumed;
mod check;
mod detect;
// Its `cfg(any(target_feature = ...))` names every feature of the tables; see `names/mod.rs`.
#[allow(unexpected_cfgs)]
mod early;
mod image;
mod refuse;
pub(crate) mod rows;
mod set;
mod sink;
mod sys;

pub use self::check::CpuCheck;
pub(crate) use self::early::{checked_before_start, left_for_main};
pub(crate) use self::image::READS_OWN_MANIFEST;
pub(crate) use self::refuse::{Refusal, refuse_cpu};
pub(crate) use self::rows::{Rows, const_level_of, this_family};
pub use self::set::CpuFeatures;
pub(crate) use self::sys::NAMES_PROGRAM_FILE;

#[cfg(test)]
mod tests;
