// The bytes a manifest writes the policy's words as, both ways: the writer's and the reader's one
// table.

use crate::{Allow, Check, Status};

/// The byte a check is written as; [`check_from_code`] reads it.
#[inline]
pub(crate) const fn check_code(check: Check) -> u8 {
    match check {
        Check::Arch => 0,
        Check::Platform => 1,
    }
}

/// The byte an allow is written as.
#[inline]
pub(crate) const fn allow_code(allow: Allow) -> u8 {
    match allow {
        Allow::Stable => 0,
        Allow::Experimental => 1,
    }
}

/// The byte a status is written as: its rank.
#[inline]
pub(crate) const fn status_code(status: Status) -> u8 {
    status.rank()
}

/// The check written as `code`, if any: 0 `arch`, 1 `platform`.
#[cfg(feature = "read")]
#[inline]
pub(crate) const fn check_from_code(code: u8) -> Option<Check> {
    match code {
        0 => Some(Check::Arch),
        1 => Some(Check::Platform),
        _ => None,
    }
}

/// The allow written as `code`, if any: 0 `stable`, 1 `experimental`.
#[cfg(feature = "read")]
#[inline]
pub(crate) const fn allow_from_code(code: u8) -> Option<Allow> {
    match code {
        0 => Some(Allow::Stable),
        1 => Some(Allow::Experimental),
        _ => None,
    }
}

/// The status written as `code`, if any: 0 unstable, 1 experimental, 2 stable.
#[cfg(feature = "read")]
#[inline]
pub(crate) const fn status_from_code(code: u8) -> Option<Status> {
    match code {
        0 => Some(Status::Unstable),
        1 => Some(Status::Experimental),
        2 => Some(Status::Stable),
        _ => None,
    }
}
