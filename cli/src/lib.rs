//! Reads the manifest that every `#[platform_gated]` binary carries, and answers what the
//! `platform-gate` command answers, in-process: what a binary declares (program, variable,
//! policy, matrix, the platform and CPU it was built for), what it would do if started here
//! (the exact bytes it would write to stderr and its exit code). Where a set of binaries starts, as
//! a Kubernetes node affinity or a `docker buildx --platform` list, is `platform-gate-fleet`'s.
//!
//! ```no_run
//! use platform_gate::{CpuFeatures, Platform};
//! use platform_gate_cli::{Start, read_file};
//!
//! // The manifests borrow `storage`, which the next `read_file` reuses: their memory is its.
//! let mut storage = Vec::new();
//! let manifests = read_file("/usr/bin/kvd".as_ref(), &mut storage)?;
//! let kvd = &manifests[0];
//! let value = std::env::var_os(kvd.variable);
//! let prediction = kvd.predict(&Start {
//!     value: value.as_deref(),
//!     cpu: CpuFeatures::of_this_cpu().filter(|_| kvd.platform.arch == Platform::CURRENT.arch),
//!     file_name: b"kvd",
//! });
//! if let Some(code) = prediction.refusal {
//!     eprint!("{}", String::from_utf8_lossy(&prediction.stderr));
//!     std::process::exit(i32::from(code));
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The format and its reader are the runtime's (`platform_gate::manifest`, with its feature
//! `read`): this crate finds manifests in files and directories and answers as the command does.
//!
//! Depend on it with `default-features = false` to leave out the command's own dependencies.

mod read;

// The Rust examples of the command's documentation page, run as doctests of this crate.
#[cfg(doctest)]
#[doc = include_str!("../../docs/command.md")]
struct CommandPage;

pub use crate::read::{FileError, read, read_file};
pub use platform_gate::manifest::{Cpu, Manifest, Prediction, ReadError, RefusedBy, Start};
