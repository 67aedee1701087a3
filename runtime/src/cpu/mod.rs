// The CPU a build assumed, against the CPU it runs on. A build raised above its architecture's
// baseline (`-C target-cpu=x86-64-v3`, `+avx2`, aarch64 `+lse`) dies with SIGILL where the CPU lacks
// what it assumed; the gate looks first and refuses with a message. The files:
// - `set.rs`: sets of features (`Rows`, the public `CpuFeatures`) and the x86-64 levels;
// - `assumed.rs`: what a build assumed, computed at compile time from `cfg!(target_feature)`;
// - `check.rs`: the pure `CpuCheck`, which the command asks about any CPU;
// - `nfd.rs`: Node Feature Discovery's labels for a set, and the set a node's labels prove;
// - the refusal path, whose code runs on a CPU that lacks what the build assumed and obeys
//   `refuse.rs`'s rules (`tests/cpu/run.sh`, `tests/cpu/baseline_only.py`): `refuse.rs`, `detect.rs`,
//   `early.rs`, `image.rs` and `sys.rs`.

/// Items under a `cfg` predicate, and others under its negation: the predicate written once.
macro_rules! cfg_split {
    (($predicate:meta) { $($yes:item)* } else { $($no:item)* }) => {
        $( #[cfg($predicate)] $yes )*
        $( #[cfg(not($predicate))] $no )*
    };
}

mod assumed;
mod check;
mod detect;
// Its `cfg(any(target_feature = ...))` names every feature of the tables; see `names/mod.rs`.
#[allow(unexpected_cfgs)]
mod early;
mod image;
mod nfd;
mod refuse;
mod set;
mod sys;

use crate::Arch;
use crate::names::cpu::Family;

pub(crate) use self::assumed::{ASSUMED_BY_RUNTIME, checked_before_start, left_for_main};
pub use self::check::CpuCheck;
pub use self::nfd::{LabelValue, NFD_CPUID_LABEL, NfdRequirement, NodeLabel, has_nfd_cpu_labels};
pub(crate) use self::refuse::{Refusal, refuse_cpu};
pub use self::set::CpuFeatures;
pub(crate) use self::set::{Rows, const_level_of, level_rows};

/// Whether a refusal before std starts names the program by its file's name (Linux and Android
/// say what file was executed); elsewhere it says "this program".
pub(crate) const NAMES_PROGRAM_FILE: bool = sys::NAMES_PROGRAM_FILE;

/// Whether a refusal before std starts looks for the program's manifest in its running image, and
/// so names the program and its variable and exits with its exit code (see `image.rs`).
pub(crate) const READS_OWN_MANIFEST: bool = image::READS_OWN_MANIFEST;

/// This target's family; only called where it has one.
pub(crate) const fn this_family() -> Family {
    match family(crate::Platform::CURRENT.arch) {
        Some(family) => family,
        None => Family::X86,
    }
}

pub(crate) const fn family(arch: Arch) -> Option<Family> {
    match arch {
        Arch::X86_64 | Arch::X86 => Some(Family::X86),
        Arch::Aarch64 => Some(Family::Aarch64),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
