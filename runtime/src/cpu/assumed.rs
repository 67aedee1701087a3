// What a build assumed of the CPU, at compile time: the features `cfg!(target_feature)` saw, less the
// target's own baseline. Evaluated in `const`, so a build at its baseline compiles every check away;
// `early.rs` says which of them the check before std starts takes and which are left to `main`.

use super::detect;
use super::rows::{Rows, family};
use crate::names::cpu::{AARCH64_FEATURES, BUILD_FLAGS, Family, X86_FEATURES};

/// The features this target's own baseline includes, which every CPU that runs its system has:
/// Windows 10 and later need CMPXCHG16B, SSE3 and LAHF/SAHF, macOS on x86_64 starts at the Core 2,
/// Android's x86 ABIs include SSSE3 (and SSE4.2 and POPCNT on x86_64). Not checked, not named.
const TARGET_BASELINE: Rows = {
    let names: &[&str] = if cfg!(all(target_arch = "x86_64", target_os = "windows")) {
        &["cmpxchg16b", "sse3", "lahfsahf"]
    } else if cfg!(all(target_arch = "x86_64", target_os = "macos")) {
        &["cmpxchg16b", "sse3", "ssse3", "lahfsahf"]
    } else if cfg!(all(target_arch = "x86_64", target_os = "android")) {
        &["sse3", "ssse3", "sse4.1", "sse4.2", "popcnt"]
    } else if cfg!(all(target_arch = "x86", target_os = "android")) {
        &["sse3", "ssse3"]
    } else {
        &[]
    };
    let mut rows = Rows::EMPTY;
    let mut i = 0;
    while i < names.len() {
        let mut row = 0;
        while row < X86_FEATURES.len() {
            if crate::names::same_ignoring_ascii_case(X86_FEATURES[row].name, names[i]) {
                rows = rows.with(row);
            }
            row += 1;
        }
        i += 1;
    }
    rows
};

/// What a build assumed of the CPU above its target's baseline, as rows of this target's family's
/// table: `flags` holds `cfg!(target_feature = ...)` for every row of the tables (x86, then
/// aarch64) as some crate was compiled. Only this target's family counts, and nothing where this
/// build cannot read the hardware: then every check compiles away.
#[inline]
pub(crate) const fn assumed(flags: &[bool]) -> Rows {
    assert!(
        flags.len() == X86_FEATURES.len() + AARCH64_FEATURES.len(),
        "the macro and the runtime disagree on the CPU feature tables"
    );
    let Some(family) = family(crate::Platform::CURRENT.arch) else {
        return Rows::EMPTY;
    };
    if !detect::AVAILABLE {
        return Rows::EMPTY;
    }
    let offset = match family {
        Family::X86 => 0,
        Family::Aarch64 => X86_FEATURES.len(),
    };
    let mut rows = Rows::EMPTY;
    let mut row = 0;
    while row < family.table().len() {
        if flags[offset + row] {
            rows = rows.with(row);
        }
        row += 1;
    }
    rows.without(TARGET_BASELINE)
}

/// What this crate was compiled to assume: `RUSTFLAGS` and `-C target-cpu` reach every crate, std
/// too when it is rebuilt (`-Zbuild-std`) or recompiled with the program (LTO).
pub(crate) const ASSUMED_BY_RUNTIME: Rows = assumed(&BUILD_FLAGS);
