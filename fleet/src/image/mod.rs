//! Images, as operators deploy them: an OCI image layout, an OCI archive, a `docker save` tarball,
//! multi-platform indexes included. [`Image::read`] follows the index to each platform's manifest,
//! applies its layers in order (whiteouts delete, later layers win) without extracting anything,
//! checks every blob against its digest, and finds every gated binary, the entrypoint first.
//! [`EntryVerdict`] says what each binary would do on a node of the platform its entry advertises.
//!
//! ```no_run
//! use platform_gate_fleet::image::{EntryVerdict, Image, ReadOptions};
//!
//! let image = Image::open("oci:/srv/images/kvd:1.4")?;
//! for platform in image.read(&ReadOptions::default())? {
//!     for binary in &platform.binaries {
//!         for manifest in binary.manifests()? {
//!             let verdict = EntryVerdict::of(&platform, &manifest);
//!             println!("{} {}: {verdict}", platform.platform(), binary.path);
//!         }
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod attach;
mod check;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod layer;
mod path;
mod read;
mod scan;
mod store;
mod tree;
mod walk;

pub use crate::image::attach::{NFD_COMPAT_ARTIFACT_TYPE, NFD_COMPAT_SPEC_MEDIA_TYPE};
pub use crate::image::check::EntryVerdict;
pub use crate::image::error::ImageError;
pub use crate::image::read::{Image, ImageBinary, ImageFormat, PlatformImage, ReadOptions, TRANSPORTS};

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_hostile;
