// The runtime's matrix types hold `&'static` data, as a matrix compiled into a binary does. A
// manifest read at run time is given that lifetime here: each distinct string or slice is leaked
// once and reused, so a supervisor that reads the same binaries again and again holds one copy of
// each, however often it reads them.
//
// Zone: the command and the format, proved by `cargo test -p platform-gate-cli`,
// `tests/manifest_reader.py` (run by `tests/cross` and `tests/cpu`) and `benches/scan.sh` (see
// CONTRIBUTING.md).

use std::collections::HashSet;
use std::hash::Hash;
use std::sync::{Mutex, PoisonError};

use platform_gate::Row;

static STRINGS: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);
static NAME_LISTS: Mutex<Option<HashSet<&'static [&'static str]>>> = Mutex::new(None);
static ROW_LISTS: Mutex<Option<HashSet<&'static [Row]>>> = Mutex::new(None);

/// `text`, for the life of the process.
pub(crate) fn str(text: String) -> &'static str {
    intern(&STRINGS, text, |text| &*text.leak())
}

/// `names`, for the life of the process.
pub(crate) fn names(names: Vec<&'static str>) -> &'static [&'static str] {
    intern(&NAME_LISTS, names, |names| &*names.leak())
}

/// `rows`, for the life of the process.
pub(crate) fn rows(rows: Vec<Row>) -> &'static [Row] {
    intern(&ROW_LISTS, rows, |rows| &*rows.leak())
}

fn intern<Owned, Shared>(
    pool: &Mutex<Option<HashSet<Shared>>>,
    value: Owned,
    leak: fn(Owned) -> Shared,
) -> Shared
where
    Owned: core::borrow::Borrow<<Shared as core::ops::Deref>::Target>,
    Shared: Copy + Eq + Hash + core::ops::Deref + core::borrow::Borrow<<Shared as core::ops::Deref>::Target>,
    <Shared as core::ops::Deref>::Target: Eq + Hash,
{
    let mut pool = pool.lock().unwrap_or_else(PoisonError::into_inner);
    let pool = pool.get_or_insert_with(HashSet::new);
    if let Some(&known) = pool.get(value.borrow()) {
        return known;
    }
    let leaked = leak(value);
    pool.insert(leaked);
    leaked
}
