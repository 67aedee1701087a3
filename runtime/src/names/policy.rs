// The words of a gate's policy and a matrix's statuses: what the attribute's `check = "..."` and
// `allow = "..."` and `matrix!`'s rows take, and what the runtime and the command print. Each table
// is in the order of its enum's variants, which is also each word's code in a manifest.

/// `check = "..."`: `Check::Arch`, `Check::Platform`.
pub(crate) const CHECKS: [&str; 2] = ["arch", "platform"];

/// `allow = "..."`: `Allow::Stable`, `Allow::Experimental`.
pub(crate) const ALLOWS: [&str; 2] = ["stable", "experimental"];

/// A matrix row's status, by rank: `Status::Unstable`, `Status::Experimental`, `Status::Stable`.
pub(crate) const STATUSES: [&str; 3] = ["unstable", "experimental", "stable"];
