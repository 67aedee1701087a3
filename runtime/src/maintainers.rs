// Who maintains a platform: the names a matrix in the source gives, or the same names as a
// manifest holds them, so that a matrix read from a binary borrows the binary's bytes instead of
// copying every name into a list of its own.

use core::fmt;
use core::hash::{Hash, Hasher};

/// Who maintains a platform, as a [`Row`](crate::Row) names them: iterate over it for the names.
///
/// ```
/// use platform_gate::{Arch, Os, Row, Status};
///
/// let row = Row::new(Arch::Powerpc64le, Os::Linux, Status::Stable).maintained_by(&["etcd maintainers", "@mkumatag"]);
/// let maintainers = row.maintainers();
/// assert_eq!(maintainers.len(), 2);
/// assert_eq!(maintainers.iter().collect::<Vec<_>>(), ["etcd maintainers", "@mkumatag"]);
/// assert!(Row::new(Arch::Arm, Os::Linux, Status::Unstable).maintainers().is_empty());
/// ```
#[derive(Clone, Copy)]
pub struct Maintainers<'a>(pub(crate) List<'a>);

#[derive(Clone, Copy)]
pub(crate) enum List<'a> {
    /// As a matrix in the source gives them.
    Names(&'a [&'a str]),
    /// As a manifest holds them: `count` names, each a little-endian u16 length and that many bytes
    /// of UTF-8, which the manifest's reader checked before it made this.
    #[cfg_attr(not(any(test, feature = "read")), allow(dead_code))]
    Encoded { count: usize, bytes: &'a [u8] },
}

impl<'a> Maintainers<'a> {
    /// How many names there are.
    #[inline]
    pub const fn len(&self) -> usize {
        match self.0 {
            List::Names(names) => names.len(),
            List::Encoded { count, .. } => count,
        }
    }

    /// Whether there are none.
    #[inline]
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The names, in the matrix's order.
    #[inline]
    pub fn iter(&self) -> MaintainerNames<'a> {
        MaintainerNames(self.0)
    }
}

/// The names of [`Maintainers`], in order.
///
/// ```
/// use platform_gate::Matrix;
///
/// let ppc64le = Matrix::ETCD.rows().last().unwrap();
/// let mut names = ppc64le.maintainers().iter();
/// assert_eq!(names.next(), Some("etcd maintainers"));
/// assert_eq!(names.next(), Some("@mkumatag"));
/// assert_eq!(names.next(), None);
/// ```
#[derive(Clone, Debug)]
pub struct MaintainerNames<'a>(List<'a>);

impl<'a> Iterator for MaintainerNames<'a> {
    type Item = &'a str;

    #[inline]
    fn next(&mut self) -> Option<&'a str> {
        match &mut self.0 {
            List::Names(names) => {
                let (first, rest) = names.split_first()?;
                *names = rest;
                Some(first)
            }
            List::Encoded { count, bytes } => {
                let (&[low, high], rest) = bytes.split_first_chunk::<2>()?;
                let len = usize::from(u16::from_le_bytes([low, high]));
                let (name, rest) = rest.split_at_checked(len)?;
                *count = count.saturating_sub(1);
                *bytes = rest;
                // Checked by the reader that made the list; an empty name would show a mistake
                // rather than hide it, but it cannot happen.
                Some(core::str::from_utf8(name).unwrap_or_default())
            }
        }
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = Maintainers(self.0).len();
        (left, Some(left))
    }
}

impl ExactSizeIterator for MaintainerNames<'_> {}

impl<'a> IntoIterator for Maintainers<'a> {
    type Item = &'a str;
    type IntoIter = MaintainerNames<'a>;

    #[inline]
    fn into_iter(self) -> MaintainerNames<'a> {
        self.iter()
    }
}

impl<'a> IntoIterator for &Maintainers<'a> {
    type Item = &'a str;
    type IntoIter = MaintainerNames<'a>;

    #[inline]
    fn into_iter(self) -> MaintainerNames<'a> {
        self.iter()
    }
}

impl fmt::Debug for List<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(MaintainerNames(*self)).finish()
    }
}

/// The names, as a list.
impl fmt::Debug for Maintainers<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Equal when the names are, however each is held.
impl PartialEq for Maintainers<'_> {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for Maintainers<'_> {}

impl Hash for Maintainers<'_> {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_usize(self.len());
        self.iter().for_each(|name| name.hash(state));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::hash_map::DefaultHasher;

    fn hash(maintainers: &Maintainers<'_>) -> u64 {
        let mut state = DefaultHasher::new();
        maintainers.hash(&mut state);
        state.finish()
    }

    #[test]
    fn a_manifests_names_read_back_equal_to_the_sources() {
        let names = Maintainers(List::Names(&["etcd maintainers", "", "@mkumatag"]));
        let bytes = b"\x10\x00etcd maintainers\x00\x00\x09\x00@mkumatag";
        let encoded = Maintainers(List::Encoded { count: 3, bytes });
        assert_eq!(encoded.iter().collect::<Vec<_>>(), ["etcd maintainers", "", "@mkumatag"]);
        assert_eq!(encoded.iter().len(), 3);
        assert!(!encoded.is_empty() && !names.is_empty());
        assert!(Maintainers(List::Encoded { count: 0, bytes: b"" }).is_empty());
        assert!(Maintainers(List::Names(&[])).is_empty());
        assert_eq!(encoded, names);
        assert_eq!(hash(&encoded), hash(&names));
        assert_eq!(format!("{encoded:?}"), r#"["etcd maintainers", "", "@mkumatag"]"#);
        let fewer = Maintainers(List::Encoded { count: 1, bytes: &bytes[..18] });
        assert_ne!(fewer, names);
        assert_ne!(hash(&fewer), hash(&names));
        let mut iter = encoded.iter();
        iter.next();
        assert_eq!(iter.size_hint(), (2, Some(2)));
    }

    #[test]
    fn a_cut_list_ends_instead_of_panicking() {
        // The reader never makes one; the iterator still stops where the bytes do.
        let cut = Maintainers(List::Encoded { count: 2, bytes: b"\x03\x00abc\x05\x00ab" });
        assert_eq!(cut.iter().collect::<Vec<_>>(), ["abc"]);
    }
}
