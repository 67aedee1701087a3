//! The manifest every gated binary carries: its gate written out as bytes at compile time, so that
//! supervisors, schedulers and packagers read the support policy from the binary instead of
//! copying it by hand. `docs/manifest.md` specifies it for readers in any language.
//!
//! A manifest is found by scanning a file for [`MAGIC`], as Go's build information is: it survives
//! stripping, needs no section of its own (naming one would take the unsafe `link_section`), and
//! reads the same in ELF, PE, Mach-O and wasm files, and in files that embed other binaries. Every
//! integer is little-endian; what follows the magic is checksummed with CRC-32 (zlib's).
//!
//! Two halves, as cargo-auditable's: every gated build writes one, in `const`; tools read them back
//! with the feature `read` (`Manifest::parse`, into the types the decision takes, borrowing the
//! bytes), which a gated program's own build does not compile. The `platform-gate` command (crate
//! `platform-gate-cli`) finds them in files and directory trees.
//!
//! ```
//! use platform_gate::manifest::{FORMAT, MAGIC};
//!
//! assert_eq!(&MAGIC, b"\xffplatform-gate:");
//! assert_eq!(FORMAT, 1);
//! ```
//
// The files, each using only those above it: `format.rs` (constants, checksum, what a refusal reads
// of raw bytes), `codes.rs` (the bytes the policy's words are written as), `write.rs` (every gated
// build's writer), then, with `read`, `read.rs` and `body.rs` (the reader) and `predict.rs`.

#[cfg(feature = "read")]
mod body;
mod codes;
pub(crate) mod format;
#[cfg(feature = "read")]
mod predict;
#[cfg(feature = "read")]
mod read;
#[cfg(all(test, feature = "read"))]
mod read_tests;
#[cfg(all(test, feature = "read"))]
mod read_tests_hostile;
mod write;

#[cfg(feature = "read")]
pub use self::body::Cpu;
pub use self::format::{FORMAT, HEADER, MAGIC, MAGIC_KEY, MASKED_MAGIC, MAX_BODY, magic, magic_byte};
#[cfg(feature = "read")]
pub use self::predict::{Prediction, RefusedBy, Start};
#[cfg(feature = "read")]
pub use self::read::{Manifest, ReadError, announced_len};
#[cfg(test)]
pub(crate) use self::write::to_vec;
pub(crate) use self::write::{Build, keep, len, write};
