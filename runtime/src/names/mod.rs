// The spelling tables of architectures and operating systems, one line per name. The macro crate
// compiles this same folder through a symlink, so `matrix!` accepts exactly what the runtime parses.

/// ASCII case-insensitive equality, usable in `const` (`str::eq_ignore_ascii_case` is const only
/// from Rust 1.89, and this crate supports 1.85).
pub(crate) const fn same_ignoring_ascii_case(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if !a[i].eq_ignore_ascii_case(&b[i]) {
            return false;
        }
        i += 1;
    }
    true
}

/// Writes `{go}`, then ` ({rust})` where the two differ and `{:#}` asked for both.
fn write_spellings(f: &mut core::fmt::Formatter<'_>, go: &str, rust: &str) -> core::fmt::Result {
    f.write_str(go)?;
    if f.alternate() && go != rust {
        write!(f, " ({rust})")?;
    }
    Ok(())
}

/// Generates a name enum from its table. Each row is
/// `Variant = "go" / "rust" [also "alias", ...] [shown "Proper"] when CFG;`:
/// the Go spelling, the Rust spelling, further accepted spellings, the name a matrix shows (the Go
/// spelling unless given), and the `cfg` predicate that is true when compiling for it. After the
/// table, `Other = PATH;` names the `std::env::consts` item that spells anything else.
macro_rules! name_table {
    (
        $(#[$enum_doc:meta])*
        pub enum $Enum:ident {
            $(
                $(#[$doc:meta])*
                $Variant:ident = $go:literal / $rust:literal
                    $(also $($alias:literal),+)? $(shown $shown:literal)? when $cfg:meta;
            )*
        }
        $(#[$other_doc:meta])*
        Other = $std_name:path;
    ) => {
        $(#[$enum_doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $Enum {
            $( $(#[$doc])* $Variant, )*
            $(#[$other_doc])*
            Other(&'static str),
        }

        impl $Enum {
            /// Every name this crate knows, in the order of its table. A slice, so that adding a
            /// name is not a breaking change.
            pub const ALL: &'static [$Enum] = &[$($Enum::$Variant),*];

            /// The Go spelling (`GOARCH`/`GOOS`), which etcd's matrix and its variable use.
            pub const fn go_name(self) -> &'static str {
                match self {
                    $($Enum::$Variant => $go,)*
                    $Enum::Other(name) => name,
                }
            }

            /// The Rust spelling (`target_arch`/`target_os`, or the target triple's prefix where
            /// `target_arch` alone cannot tell two apart, as for `powerpc64le`).
            pub const fn rust_name(self) -> &'static str {
                match self {
                    $($Enum::$Variant => $rust,)*
                    $Enum::Other(name) => name,
                }
            }

            /// The name a support matrix shows, as etcd's documentation does (`amd64`, `Linux`).
            pub const fn proper_name(self) -> &'static str {
                match self {
                    $($Enum::$Variant => first_of!($($shown)? $go),)*
                    $Enum::Other(name) => name,
                }
            }

            /// Further spellings operators use, beyond the Go and Rust ones (`i686` for `386`).
            pub const fn aliases(self) -> &'static [&'static str] {
                match self {
                    $($Enum::$Variant => &[$($($alias),+)?],)*
                    $Enum::Other(_) => &[],
                }
            }

            /// Whether `name` is one of these spellings, ignoring ASCII case. The whole name must
            /// match: a prefix or a longer word never does.
            pub const fn is_named(self, name: &str) -> bool {
                use $crate::names::same_ignoring_ascii_case as same;
                if same(name, self.go_name()) || same(name, self.rust_name()) {
                    return true;
                }
                let aliases = self.aliases();
                let mut i = 0;
                while i < aliases.len() {
                    if same(name, aliases[i]) {
                        return true;
                    }
                    i += 1;
                }
                false
            }

            /// What `name` spells, in Go or Rust spelling (or an alias), ignoring ASCII case.
            pub const fn from_name(name: &str) -> Option<$Enum> {
                let mut i = 0;
                while i < $Enum::ALL.len() {
                    if $Enum::ALL[i].is_named(name) {
                        return Some($Enum::ALL[i]);
                    }
                    i += 1;
                }
                None
            }

            /// `==` for `const` code: the same when the Go spellings are.
            pub const fn is(self, other: $Enum) -> bool {
                $crate::names::same_ignoring_ascii_case(self.go_name(), other.go_name())
            }

            /// What this code is compiled for: the first row whose `cfg` holds.
            #[allow(dead_code)] // The macro crate compiles this table too, but runs on the build host.
            pub(crate) const fn compiled_for() -> $Enum {
                $(if cfg!($cfg) {
                    return $Enum::$Variant;
                })*
                $Enum::Other($std_name)
            }
        }

        /// The Go spelling; with `{:#}`, the Rust spelling follows in parentheses where it differs.
        impl core::fmt::Display for $Enum {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                $crate::names::write_spellings(f, self.go_name(), self.rust_name())
            }
        }
    };
}

/// The first of its literals: the `shown` name where a row gives one, else the Go spelling.
macro_rules! first_of {
    ($first:literal $($rest:literal)*) => {
        $first
    };
}

// Declared after the macros, which are then in scope in their files.
mod arch;
mod os;

pub use self::arch::Arch;
pub use self::os::Os;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_spelling_names_two_things() {
        fn spellings<T: Copy>(all: &[T], names: impl Fn(T) -> Vec<&'static str>) -> Vec<String> {
            let mut seen: Vec<String> =
                all.iter().flat_map(|&x| names(x)).map(str::to_ascii_lowercase).collect();
            seen.sort();
            seen.dedup();
            seen
        }
        let arch_names = |arch: Arch| {
            let mut names = vec![arch.go_name()];
            if arch.rust_name() != arch.go_name() {
                names.push(arch.rust_name());
            }
            names.extend(arch.aliases());
            names
        };
        // Each spelling is counted once per architecture, so a clash would shrink the deduplicated list.
        let total: usize = Arch::ALL.iter().map(|&arch| arch_names(arch).len()).sum();
        assert_eq!(spellings(Arch::ALL, arch_names).len(), total);
        for &arch in Arch::ALL {
            for name in arch_names(arch) {
                assert_eq!(Arch::from_name(name), Some(arch), "{name}");
                assert_eq!(Arch::from_name(&name.to_ascii_uppercase()), Some(arch), "{name}");
            }
        }
        for &os in Os::ALL {
            assert_eq!(Os::from_name(os.go_name()), Some(os));
            assert_eq!(Os::from_name(os.rust_name()), Some(os));
        }
    }

    #[test]
    fn ascii_case_is_folded_and_nothing_else() {
        assert!(same_ignoring_ascii_case("ARM64", "arm64"));
        assert!(!same_ignoring_ascii_case("arm6", "arm64"));
        assert!(!same_ignoring_ascii_case("ａrm64", "arm64"), "fullwidth is not ASCII");
        assert!(!same_ignoring_ascii_case("İ", "i"));
    }
}
