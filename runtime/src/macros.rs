// The crate's own `macro_rules!` helpers, declared first so that every module below can use them,
// and in a file of their own, which uses nothing.

/// Items under a `cfg` predicate, and others under its negation: the predicate written once.
macro_rules! cfg_split {
    (($predicate:meta) { $($yes:item)* } else { $($no:item)* }) => {
        $( #[cfg($predicate)] $yes )*
        $( #[cfg(not($predicate))] $no )*
    };
}
