//! Refuse to start on a CPU architecture your project does not support, unless the operator
//! explicitly opts in: etcd's `ETCD_UNSUPPORTED_ARCH` policy, for any Rust binary.
//!
//! ```
//! #[platform_gate::platform_gated]
//! fn main() {
//!     // Runs only where the support matrix says so, or where the operator has set
//!     // `<PACKAGE>_UNSUPPORTED_ARCH` to this architecture.
//! }
//! ```
//!
//! With a project's own matrix and variable:
//!
//! ```
//! use platform_gate::{matrix, platform_gated, Matrix};
//!
//! const SUPPORT: Matrix = matrix! {
//!     amd64 linux => stable ["ops team"],
//!     arm64 linux => experimental,
//!     arm linux => unstable note = "Boards with 512 MiB of memory cannot hold a full index.",
//! };
//!
//! #[platform_gated(env = "KV_UNSUPPORTED_ARCH", matrix = SUPPORT)]
//! fn main() {}
//! ```
//!
//! The policy lives in plain functions that tests can call for any platform on any host:
//! [`decide`] takes the matrix, the [`Policy`], the [`Platform`] and the variable's value and
//! returns a [`Verdict`], whose [`message`](Verdict::message) is what the operator reads.
//! [`Gate::enforce`] is the only code that touches the process.

#![forbid(unsafe_code)]

mod decision;
mod gate;
mod matrix;
mod message;
mod names;
mod platform;
mod policy;

pub use crate::decision::{Assessment, Reason, Verdict, decide, names_arch};
pub use crate::gate::Gate;
pub use crate::matrix::{Matrix, Row, Status};
pub use crate::message::Message;
pub use crate::names::{Arch, Os};
pub use crate::platform::Platform;
pub use crate::policy::{Allow, Check, Policy};

/// Gates `fn main`: the program refuses to start on a platform its support matrix does not
/// admit unless the operator sets the override variable to the architecture.
///
/// Arguments, all optional: `env = "NAME"` (default `<PACKAGE>_UNSUPPORTED_ARCH`),
/// `matrix = CONST` (default [`Matrix::ETCD`]), `check = "arch" | "platform"`,
/// `allow = "stable" | "experimental"`, `exit_code = 1..=255` (default 1), and
/// `crate = "path"` when this crate is renamed in `Cargo.toml`.
///
/// ```
/// #[platform_gate::platform_gated(env = "KV_UNSUPPORTED_ARCH", check = "platform", exit_code = 3)]
/// fn main() -> Result<(), String> {
///     Ok(())
/// }
/// ```
pub use platform_gate_macros::platform_gated;

/// Builds a [`Matrix`] in a `const`: one row per platform, `ARCH OS => STATUS`, optionally
/// followed by maintainers in brackets and `note = "..."`.
///
/// Names are Go's or Rust's spellings (`arm64` or `aarch64`, `darwin` or `macos`; `386` for
/// 32-bit x86); statuses are `stable`, `experimental` and `unstable`. Mistakes are compile
/// errors that point at the token.
///
/// ```
/// use platform_gate::{Arch, Matrix, Os, Platform, Status};
///
/// const SUPPORT: Matrix = platform_gate::matrix! {
///     amd64 linux => stable ["ops team", "@alice"],
///     aarch64 macos => experimental,
///     386 linux => unstable note = "Known to run out of address space under load.",
/// };
/// assert_eq!(SUPPORT.rows().len(), 3);
/// assert_eq!(SUPPORT.status(Platform::new(Arch::Aarch64, Os::Darwin)), Some(Status::Experimental));
/// ```
#[macro_export]
macro_rules! matrix {
    ($($rows:tt)*) => {
        // `$crate` reaches this crate under whatever name the user's Cargo.toml gives it.
        $crate::__private::matrix_with_crate_path! { $crate; $($rows)* }
    };
}

/// What generated code calls. Not public API: it may change in any release, which is why the
/// runtime pins the macro crate to its exact version.
#[doc(hidden)]
pub mod __private {
    use core::num::NonZeroU8;

    pub use crate::{Allow, Arch, Check, Gate, Matrix, Os, Policy, Row, Status};
    pub use platform_gate_macros::matrix_with_crate_path;

    /// A gate together with whether the target passes it by itself, computed at compile time.
    pub struct Prepared {
        gate: Gate,
        passes_by_itself: bool,
    }

    /// Evaluated inside `const { }` by `#[platform_gated]`, so that `passes_by_itself` is a
    /// constant by the time [`enforce`] sees it. `module_path` is that of the gated `main`: the
    /// gate must be the program's entry point, at the crate root, or it would never run first.
    pub const fn prepare(gate: Gate, module_path: &str) -> Prepared {
        if contains_path_separator(module_path) {
            panic!(
                "#[platform_gated] is on a `main` inside a module, which is not the program's entry point; \
                 put it on `fn main` at the crate root (src/main.rs), where it runs before anything else"
            );
        }
        Prepared { passes_by_itself: gate.passes_by_itself(), gate }
    }

    const fn contains_path_separator(path: &str) -> bool {
        let bytes = path.as_bytes();
        let mut i = 0;
        while i + 1 < bytes.len() {
            if bytes[i] == b':' && bytes[i + 1] == b':' {
                return true;
            }
            i += 1;
        }
        false
    }

    /// The name messages call the program by: the Cargo binary's, else the package's, else the
    /// crate's (`module_path!()` at the crate root), for builds without Cargo.
    pub const fn program_name(
        binary: Option<&'static str>,
        package: Option<&'static str>,
        crate_name: &'static str,
    ) -> &'static str {
        match (binary, package) {
            (Some(name), _) | (None, Some(name)) => name,
            (None, None) => crate_name,
        }
    }

    /// The call `#[platform_gated]` puts at the top of `main`. On a target that passes by itself
    /// the branch is on a constant and the optimiser removes the call.
    #[inline(always)]
    pub fn enforce(prepared: Prepared) {
        if !prepared.passes_by_itself {
            prepared.gate.enforce_outside_support();
        }
    }

    /// An exit code the macro has already checked to be in 1..=255.
    pub const fn exit_code(code: u8) -> NonZeroU8 {
        match NonZeroU8::new(code) {
            Some(code) => code,
            None => panic!("exit code 0 would report success"),
        }
    }
}
