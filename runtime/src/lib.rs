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

// `deny`, not `forbid`: a few items allow it, each with why it is sound. The CPU check before std
// starts needs an initializer hook (`cpu/early.rs`), the C library or Windows' API (`cpu/sys.rs`),
// CPUID and XGETBV (`cpu/detect.rs`) and its own image's bytes (`cpu/image.rs`); the manifest's
// keep (`manifest/write.rs`) is an empty `asm!` that holds the manifest's address.
#![deny(unsafe_code)]

#[macro_use]
mod macros;
#[macro_use]
mod names;
mod cpu;
mod decision;
mod echo;
mod gate;
mod maintainers;
pub mod manifest;
mod matrix;
mod message;
mod packager;
mod platform;
mod policy;

pub use crate::cpu::{CpuCheck, CpuFeatures};
pub use crate::decision::{Assessment, Reason, Verdict, decide, names_arch};
pub use crate::gate::Gate;
pub use crate::maintainers::{MaintainerNames, Maintainers};
pub use crate::matrix::{Matrix, Row, Status};
pub use crate::message::Message;
pub use crate::names::{Arch, Os};
pub use crate::packager::Packager;
pub use crate::platform::Platform;
pub use crate::policy::{Allow, Check, Policy};

/// Gates `fn main`: the program refuses to start on a platform its support matrix does not
/// admit, unless the operator sets the override variable to the platform's architecture.
///
/// The attribute inserts one call at the top of `main`, before any of the program's code, and
/// keeps everything else as written: other attributes, `async`, the return type, the body. On a
/// platform that passes by itself the call compiles to nothing and the variable is never read.
/// Otherwise the gate reads the variable: if it names the architecture (see [`names_arch`]), a
/// one-line warning goes to stderr and `main` runs; if not, the refusal goes to stderr and the
/// process exits with the policy's exit code. The decision is [`decide`]'s and the text is
/// [`Verdict::message`]'s.
///
/// The attribute also puts the gate's [`manifest`] into the binary, so that supervisors, schedulers
/// and packagers can read its support policy without running it (the `platform-gate` command).
///
/// # Arguments
///
/// All are optional, and each mistake is a compile error that points at the token.
///
/// - `env = "NAME"`: the override variable. Without it, the name is derived from the Cargo
///   package, upper-cased with `-` turned into `_`: package `my-server` gives
///   `MY_SERVER_UNSUPPORTED_ARCH` (see [`Gate::variable_name`]). A build without Cargo (Bazel,
///   Buck, plain `rustc`) must name the variable; without it, the compile error says so.
/// - `matrix = PATH`: a `const` of type [`Matrix`], usually built with [`matrix!`]. The default
///   is etcd's, [`Matrix::ETCD`].
/// - `check = "arch"` or `"platform"`: the [`Check`]. `"arch"`, the default, judges the
///   architecture by its best row on any OS, as etcd's code does; `"platform"` judges the
///   (architecture, OS) pair, as etcd's documentation rates them.
/// - `allow = "stable"` or `"experimental"`: the [`Allow`], the lowest status that starts
///   without the variable. The default is `"stable"`.
/// - `exit_code = N`: the refusal's exit code, 1 to 255; the default is 1, as etcd's.
/// - `crate = "path"`: where this crate is, when `Cargo.toml` renames it
///   (`pg = { package = "platform-gate", ... }` goes with `crate = "pg"`).
///
/// `check`, `allow` and `exit_code` together make the gate's [`Policy`].
///
/// # Where it goes
///
/// On `fn main` at the crate root, the program's entry point: on a `main` inside a module it is a
/// compile error, since that function would not run first. `main` may return `()`, a `Result` or
/// an `ExitCode`, and may be `async` under a runtime's attribute.
///
/// With an async runtime's attribute (`#[tokio::main]`, `#[actix_web::main]`, any
/// `#[...::main]`), the gate still runs first, before the runtime or any of its threads exist.
/// Written above the runtime's attribute, it makes a synchronous `main` that runs the gate and
/// then the runtime's. Written below, it sees the synchronous `main` that tokio or actix
/// generate, and goes at its top. async-std moves other attributes onto an inner function, so
/// with it only the first order works; an `async fn main` with no runtime attribute below the
/// gate is a compile error that says which order to write. So the order that always works is:
///
/// ```text
/// #[platform_gate::platform_gated]
/// #[tokio::main]
/// async fn main() { ... }
/// ```
///
/// ```
/// #[platform_gate::platform_gated(env = "KV_UNSUPPORTED_ARCH", check = "platform", exit_code = 3)]
/// fn main() -> Result<(), String> {
///     Ok(())
/// }
/// ```
///
/// With a project's own matrix:
///
/// ```
/// use platform_gate::{matrix, platform_gated, Matrix};
///
/// const SUPPORT: Matrix = matrix! {
///     amd64 linux => stable,
///     arm64 linux => experimental,
/// };
///
/// #[platform_gated(env = "KV_UNSUPPORTED_ARCH", matrix = SUPPORT, allow = "experimental")]
/// fn main() {}
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

    use crate::cpu::Rows;
    pub use crate::{Allow, Arch, Check, Gate, Matrix, Os, Policy, Row, Status};
    pub use platform_gate_macros::{matrix_with_crate_path, target_feature_flags};

    /// A gate, whether the target passes it by itself, and what the build of `main` assumed of
    /// the CPU: all computed at compile time.
    pub struct Prepared {
        gate: Gate,
        passes_by_itself: bool,
        cpu: Rows,
        build: crate::manifest::Build,
    }

    impl Prepared {
        /// The length of the gate's manifest, the array [`Prepared::manifest`] fills.
        #[inline]
        pub const fn manifest_len(&self) -> usize {
            crate::manifest::len(&self.gate, &self.build)
        }

        /// The gate's manifest (see [`crate::manifest`]), for the static the attribute emits.
        #[inline]
        pub const fn manifest<const N: usize>(&self) -> [u8; N] {
            crate::manifest::write(&self.gate, &self.build)
        }

        /// Whether `main` checks the CPU: its crate assumed features no check before it did.
        #[inline]
        pub const fn checks_cpu(&self) -> bool {
            !self.cpu.is_empty()
        }

        /// Whether the target passes the gate by itself, whatever the variable says.
        #[inline]
        pub const fn passes_by_itself(&self) -> bool {
            self.passes_by_itself
        }
    }

    /// Evaluated in a `const` item by `#[platform_gated]`, so that everything [`enforce`]
    /// branches on is a constant. `module_path` is that of the gated `main`: the gate must be the
    /// program's entry point, at the crate root, or it would never run first. `cpu_features` is
    /// the value of [`target_feature_flags!`] in `main`'s crate, with its flags (the attribute
    /// writes all false at once where no row holds); `crate_version` is its package's version,
    /// for the manifest.
    #[inline]
    pub const fn prepare(
        gate: Gate,
        module_path: &str,
        cpu_features: &[bool],
        crate_version: Option<&'static str>,
    ) -> Prepared {
        if contains_path_separator(module_path) {
            panic!(
                "#[platform_gated] is on a `main` inside a module, which is not the program's entry point; \
                 put it on `fn main` at the crate root (src/main.rs), where it runs before anything else"
            );
        }
        let cpu = crate::cpu::left_for_main(cpu_features);
        Prepared {
            passes_by_itself: gate.passes_by_itself(),
            cpu,
            build: crate::manifest::Build {
                crate_version,
                before_start: crate::cpu::checked_before_start(),
                in_main: cpu,
            },
            gate,
        }
    }

    #[inline]
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
    #[inline]
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

    /// The call `#[platform_gated]` puts at the top of `main`: the CPU check left for `main`
    /// (what its crate assumed beyond the check before std started), then the platform check.
    /// Both branch on constant parameters ([`Prepared::checks_cpu`],
    /// [`Prepared::passes_by_itself`]), so on a build at its architecture's baseline, on a
    /// platform that passes by itself, what is left is one instruction that keeps `manifest`
    /// (the static [`Prepared::manifest`] filled) in the binary. Parameters rather than fields
    /// read at run time: rustc then compiles no dead branch even unoptimised, so a debug build
    /// neither references nor links the refusal's code, and the linker's work on a rebuild is what
    /// it would be without the gate. `prepared` is a reference to a
    /// constant, so nothing is copied before the CPU check, which may run on a CPU that lacks
    /// the instructions a copy could use.
    #[inline(always)]
    pub fn enforce<const CHECKS_CPU: bool, const PASSES_BY_ITSELF: bool>(
        prepared: &'static Prepared,
        manifest: &'static [u8],
    ) {
        if CHECKS_CPU {
            prepared.gate.refuse_cpu_in_main(prepared.cpu);
        }
        crate::manifest::keep(manifest);
        if !PASSES_BY_ITSELF {
            prepared.gate.enforce_outside_support();
        }
    }

    /// An exit code the macro has already checked to be in 1..=255.
    #[inline]
    pub const fn exit_code(code: u8) -> NonZeroU8 {
        match NonZeroU8::new(code) {
            Some(code) => code,
            None => panic!("exit code 0 would report success"),
        }
    }
}
