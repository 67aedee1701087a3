// The CPU check before anything else runs: an initializer in the executable's earliest initializer
// list, which the system's loader or C runtime calls before std's start-up, before `main`, and before
// other crates' constructors. A raised build puts raised instructions into std's start-up when std is
// recompiled with the flags (LTO, `-Zbuild-std`), so a check in `main` would come too late.
//
// It checks what this crate was compiled to assume, which is what `RUSTFLAGS` and `-C target-cpu`
// give every crate, std included. The program's name, variable and exit code are arguments of the
// attribute in `main`'s crate, which this crate cannot see: a refusal reads them from the manifest that
// crate wrote, in the running image (`image.rs`), and falls back to the file's name, "its override
// variable" and exit code 1 where no single manifest can be trusted. Flags given to `main`'s crate
// alone are checked in `main`. It is compiled only into builds that assume a feature of the tables, so
// a baseline build has no initializer at all.
//
// Everything it runs obeys `refuse.rs`'s rules.

use super::assumed::{ASSUMED_BY_RUNTIME, assumed};
use super::image;
use super::refuse::{Refusal, lacking, refuse};
use super::rows::{Rows, this_family};
use crate::manifest::format::{raw_exit_code, raw_program, raw_variable};

/// The exit code of a refusal before std starts that finds no manifest it can trust: etcd's and
/// the attribute's default.
pub(crate) const EXIT_CODE: u8 = 1;

/// Whether this build's early check checks anything: the initializer below exists (a system
/// with a hook, and some feature of the tables assumed), and what was assumed goes beyond the
/// target's own baseline.
pub(super) const INSTALLED: bool = HOOKED && !ASSUMED_BY_RUNTIME.is_empty();

/// The check, called by the loader or the C runtime with no std set up yet: nothing here may use
/// std, and everything obeys `refuse.rs`'s rules.
#[allow(dead_code)] // Referenced only by the static below, in builds that assume a feature.
extern "C" fn check_before_start() {
    // Empty where the features the `cfg` below saw are all the target's own baseline (Windows and
    // macOS on x86_64 have some): then this function is a bare return.
    if !ASSUMED_BY_RUNTIME.is_empty() {
        refuse_before_start(ASSUMED_BY_RUNTIME);
    }
}

/// Refuses if this CPU lacks any of `assumed`: with the program's own settings where its manifest
/// is found, else with [`UNNAMED`] and [`EXIT_CODE`]. Looking for the manifest costs a scan of the
/// image's read-only memory, so only a refusal pays it.
#[cold]
#[inline(never)]
fn refuse_before_start(assumed: Rows) {
    let x86_64 = cfg!(target_arch = "x86_64");
    let Some(present) = lacking(assumed, x86_64) else {
        return;
    };
    let own = image::own_manifest();
    if own.is_empty() {
        refuse(assumed, present, &UNNAMED, EXIT_CODE);
    }
    // Built from values in registers, field by field; then read in place, as the statics are.
    let named = Refusal {
        family: this_family(),
        x86_64,
        program: Some(raw_program(own)),
        variable: Some(raw_variable(own)),
        from_package: false,
    };
    refuse(assumed, present, &named, raw_exit_code(own));
}

/// What a refusal before std starts says where no manifest can be trusted: the program by its
/// file's name, its variable unnamed. A static, read in place (see `refuse.rs`).
#[allow(dead_code)] // Read only by `check_before_start`.
static UNNAMED: Refusal<'static> = Refusal {
    family: this_family(),
    x86_64: cfg!(target_arch = "x86_64"),
    program: None,
    variable: None,
    from_package: false,
};

/// What `main`'s crate assumed (`flags`, its `cfg!`s) that is left to check in `main`: everything
/// the early check has not already checked before std started.
#[inline]
pub(crate) const fn left_for_main(flags: &[bool]) -> Rows {
    let assumed = assumed(flags);
    if INSTALLED { assumed.without(ASSUMED_BY_RUNTIME) } else { assumed }
}

/// What the check before std starts checks: nothing where it is not installed.
#[inline]
pub(crate) const fn checked_before_start() -> Rows {
    if INSTALLED { ASSUMED_BY_RUNTIME } else { Rows::EMPTY }
}

/// Places `check_before_start` where the system runs initializers, in builds that assume some
/// feature of the tables (`cfg(any(target_feature = ...))` of every row, written out by
/// `cpu_features!`): x86 on ELF systems, Windows and macOS, aarch64 on Linux and Android, where
/// `detect` can read the CPU. `HOOKED` says whether it did.
macro_rules! install_early_check {
    (
        x86: [$($x86:literal => $x86_source:expr, $level:literal;)*]
        aarch64: [$($arm:literal => $arm_source:expr;)*]
    ) => {
        cfg_split! {
            (any(
                all(
                    any(target_arch = "x86", target_arch = "x86_64"),
                    any(
                        target_os = "linux",
                        target_os = "android",
                        target_os = "freebsd",
                        target_os = "netbsd",
                        target_os = "openbsd",
                        target_os = "dragonfly",
                        target_os = "illumos",
                        target_os = "solaris",
                        target_os = "windows",
                        target_os = "macos",
                    ),
                    any($(target_feature = $x86),*),
                ),
                all(
                    target_arch = "aarch64",
                    any(target_os = "linux", target_os = "android"),
                    any($(target_feature = $arm),*),
                ),
            ))
            {
                const HOOKED: bool = true;

                // SAFETY: `link_section` puts a function pointer into the array of functions the
                // system calls at start-up, which is what that section is for; `check_before_start`
                // has the C ABI and takes no arguments, which the C ABI allows whatever the caller
                // passes. `used` keeps the linker from dropping the unreferenced static.
                // - ELF: `.init_array` sections with a priority run in increasing order, before those
                //   without one (`ctor`'s and C++'s) and before std's own (`.init_array.00099`, which
                //   saves `argv`). 90 leaves room below for the C library's and the toolchain's.
                // - Windows: the C runtime calls the pointers between `.CRT$XCA` and `.CRT$XCZ`, in
                //   the sections' order, before `main`; C++ constructors are in `.CRT$XCU`, std has
                //   none there.
                // - macOS: dyld calls `__mod_init_func`'s pointers before `main`.
                #[allow(unsafe_code)]
                #[used]
                #[cfg_attr(
                    not(any(target_os = "windows", target_os = "macos")),
                    unsafe(link_section = ".init_array.00090")
                )]
                #[cfg_attr(target_os = "windows", unsafe(link_section = ".CRT$XCT"))]
                #[cfg_attr(target_os = "macos", unsafe(link_section = "__DATA,__mod_init_func"))]
                static CHECK_BEFORE_START: extern "C" fn() = check_before_start;
            } else {
                const HOOKED: bool = false;
            }
        }
    };
}

cpu_features!(install_early_check);
