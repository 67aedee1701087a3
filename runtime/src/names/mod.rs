// The spelling tables of architectures and operating systems, one line per name, and the rules for
// the other names and texts a gate holds. The macro crate compiles this same folder through a
// symlink, so `matrix!` and the attribute accept exactly what the runtime does.

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

/// The first item of a comma-separated list of names, with ASCII whitespace trimmed (only ASCII:
/// a no-break space is part of the item), and the rest of the list after its comma, if any.
pub(crate) const fn first_item(list: &str) -> (&str, Option<&str>) {
    let bytes = list.as_bytes();
    let mut comma = 0;
    while comma < bytes.len() && bytes[comma] != b',' {
        comma += 1;
    }
    let (item, rest) = bytes.split_at(comma);
    let rest = match rest.split_first() {
        Some((_, after_comma)) => Some(utf8(after_comma)),
        None => None,
    };
    (utf8(item.trim_ascii()), rest)
}

/// Whether any item of the comma-separated `list` names `arch` ([`names`]).
pub(crate) const fn list_names(list: &str, arch: Arch) -> bool {
    let mut rest = Some(list);
    while let Some(list) = rest {
        let (item, after) = first_item(list);
        if names(item, arch) {
            return true;
        }
        rest = after;
    }
    false
}

/// Whether an item of an override value or a packager's list names `arch`: one of its spellings
/// ([`Arch::is_named`]), after a Debian C-library prefix (`musl-linux-amd64`,
/// `uclibc-linux-armel`: `dpkg-architecture -L`'s names); or what `uname -m` prints on it where
/// that says no byte order: the kernel prints `mips64` on mips64el as on mips64, and `mips` on
/// mipsel as on mips, so those name both (a binary of the other byte order cannot run there).
pub(crate) const fn names(item: &str, arch: Arch) -> bool {
    arch.is_named(without_debian_libc(item))
        || matches!(arch, Arch::Mips64el) && same_ignoring_ascii_case(item, "mips64")
        || matches!(arch, Arch::Mipsel) && same_ignoring_ascii_case(item, "mips")
}

/// The architecture an item names, as [`names`] reads it (a name shared by two byte orders: the
/// big-endian one, whose Go name it is).
pub(crate) const fn architecture_named(item: &str) -> Option<Arch> {
    Arch::from_name(without_debian_libc(item))
}

/// `name` without Debian's prefix for a C library other than glibc (`musl-linux-`,
/// `uclibc-linux-`), ignoring ASCII case.
const fn without_debian_libc(name: &str) -> &str {
    const PREFIXES: [&str; 2] = ["musl-linux-", "uclibc-linux-"];
    let bytes = name.as_bytes();
    let mut i = 0;
    while i < PREFIXES.len() {
        let prefix = PREFIXES[i].as_bytes();
        let mut matched = bytes.len() > prefix.len();
        let mut at = 0;
        while matched && at < prefix.len() {
            matched = bytes[at].eq_ignore_ascii_case(&prefix[at]);
            at += 1;
        }
        if matched {
            // The prefix's bytes are ASCII, so what follows them starts a character.
            return utf8(bytes.split_at(prefix.len()).1);
        }
        i += 1;
    }
    name
}

/// The first non-empty item of the comma-separated `list` that names no architecture, if any.
#[inline]
pub(crate) const fn first_unknown_architecture(list: &str) -> Option<&str> {
    let mut rest = Some(list);
    while let Some(list) = rest {
        let (item, after) = first_item(list);
        if !item.is_empty() && architecture_named(item).is_none() {
            return Some(item);
        }
        rest = after;
    }
    None
}

/// Bytes cut from a `str` at ASCII positions, which are always UTF-8.
const fn utf8(bytes: &[u8]) -> &str {
    match core::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(_) => panic!("cut at an ASCII byte, so still UTF-8"),
    }
}

/// Whether `name` is a portable environment variable name: ASCII letters, digits and `_`, not
/// starting with a digit (POSIX's portable set). Shells, systemd and Kubernetes can all set it.
#[inline]
pub(crate) const fn is_portable_variable_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes[0].is_ascii_digit() {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if !(bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
            return false;
        }
        i += 1;
    }
    true
}

/// The end of a variable's name derived from a package's: `<PACKAGE>_UNSUPPORTED_ARCH`.
pub(crate) const DERIVED_SUFFIX: &str = "_UNSUPPORTED_ARCH";

/// A byte of a package's name as the variable derived from it spells it: upper case, `-` as `_`.
/// One rule for the three places that spell it: `Gate::variable_name`, the CPU refusal (which may
/// not allocate, and obeys `cpu/refuse.rs`'s rules) and the manifest (written at compile time).
#[inline(always)]
pub(crate) const fn derived_variable_byte(byte: u8) -> u8 {
    if byte == b'-' { b'_' } else { byte.to_ascii_uppercase() }
}

/// The portable variable name nearest to `name`: it ends where `=` or NUL would end it (`NAME=value`),
/// every other character becomes `_`, and a leading digit gets one before it. (`MY ARCH` gives
/// `MY_ARCH`, `KV_ARCH=arm64` gives `KV_ARCH`.)
#[allow(dead_code)] // Only the macro crate suggests names.
#[inline]
pub(crate) fn nearest_portable_variable_name(name: &str) -> String {
    let name = name.split(['=', '\0']).next().unwrap_or_default();
    let mut nearest: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    if nearest.starts_with(|c: char| c.is_ascii_digit()) || nearest.is_empty() {
        nearest.insert(0, '_');
    }
    nearest
}

/// Whether `c` may not appear in a note or a maintainer's name, which refusals print: control
/// characters (C0, DEL, C1), which can start a new line or drive the terminal, and the
/// bidirectional overrides, which reorder what the operator sees.
#[inline]
pub(crate) const fn is_forbidden_in_text(c: char) -> bool {
    matches!(c, '\0'..='\x1f' | '\x7f'..='\u{9f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// The first character of `text` that [`is_forbidden_in_text`], if any.
#[inline]
pub(crate) const fn first_forbidden_character(text: &str) -> Option<char> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        // Decodes one character of valid UTF-8, by its leading byte's length.
        let (length, mut code) = match bytes[i] {
            0x00..=0x7f => (1, bytes[i] as u32),
            0xc0..=0xdf => (2, (bytes[i] & 0x1f) as u32),
            0xe0..=0xef => (3, (bytes[i] & 0x0f) as u32),
            _ => (4, (bytes[i] & 0x07) as u32),
        };
        let mut j = 1;
        while j < length {
            code = (code << 6) | (bytes[i + j] & 0x3f) as u32;
            j += 1;
        }
        if let Some(c) = char::from_u32(code) {
            if is_forbidden_in_text(c) {
                return Some(c);
            }
        }
        i += length;
    }
    None
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
            #[inline]
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
            #[inline]
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

            /// What `name` spells if it is exactly a Go spelling, as Kubernetes labels and manifests
            /// write them: not another case, not the Rust spelling, not an alias.
            #[allow(dead_code)] // The macro crate compiles this table too, and takes any spelling.
            #[inline]
            pub fn from_go_name(name: &str) -> Option<$Enum> {
                $Enum::ALL.iter().copied().find(|named| named.go_name() == name)
            }

            /// `==` for `const` code: the same when the Go spellings are.
            #[inline]
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
// A compiler older than the tables (Rust 1.85) does not know every feature name: its `cfg!`s
// are false there, and must not warn.
#[allow(unexpected_cfgs)]
#[macro_use]
pub(crate) mod cpu;
mod os;
pub(crate) mod policy;

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
    fn lists_are_split_at_commas_and_trimmed_of_ascii_whitespace_only() {
        assert_eq!(first_item(" arm64 , s390x"), ("arm64", Some(" s390x")));
        assert_eq!(first_item("s390x"), ("s390x", None));
        assert_eq!(first_item("arm64,"), ("arm64", Some("")));
        assert_eq!(first_item("\u{a0}arm64"), ("\u{a0}arm64", None));
        assert!(list_names("s390x, AARCH64", Arch::Aarch64));
        assert!(!list_names("s390x,aarch", Arch::Aarch64));
        assert!(!list_names("", Arch::Aarch64));
        assert_eq!(first_unknown_architecture("loong64, riscv64,"), None);
        assert_eq!(first_unknown_architecture("loong64, loong46 ,x"), Some("loong46"));
    }

    #[test]
    fn portable_variable_names_and_the_nearest_one() {
        for good in ["ETCD_UNSUPPORTED_ARCH", "_X", "a1"] {
            assert!(is_portable_variable_name(good), "{good}");
        }
        for (bad, nearest) in [
            ("MY ARCH", "MY_ARCH"),
            ("A\nB", "A_B"),
            ("1ARCH", "_1ARCH"),
            ("KV-ARCH", "KV_ARCH"),
            ("KV_ARCH=arm64", "KV_ARCH"),
            ("KV_ARCH\0", "KV_ARCH"),
            ("\u{430}RCH", "_RCH"),
            ("", "_"),
        ] {
            assert!(!is_portable_variable_name(bad), "{bad:?}");
            assert_eq!(nearest_portable_variable_name(bad), nearest);
            assert!(is_portable_variable_name(&nearest_portable_variable_name(bad)));
        }
    }

    #[test]
    fn forbidden_characters_are_found_wherever_they_are() {
        assert_eq!(first_forbidden_character("Boards with 512 MiB \u{2014} slow"), None);
        assert_eq!(first_forbidden_character("x\n  = help: forged"), Some('\n'));
        assert_eq!(first_forbidden_character("\u{e9}t\u{e9}\x1b[31m"), Some('\x1b'));
        assert_eq!(first_forbidden_character("\u{85}"), Some('\u{85}'));
        assert_eq!(first_forbidden_character("abc\u{202e}cba"), Some('\u{202e}'));
        // Agrees with the standard library's view of control characters, over all of Unicode.
        for c in (0..=0x10ffff).filter_map(char::from_u32) {
            let text = format!("a\u{e9}{c}\u{1f600}");
            assert_eq!(first_forbidden_character(&text).is_some(), is_forbidden_in_text(c), "{c:?}");
            if c.is_control() {
                assert!(is_forbidden_in_text(c), "{c:?}");
            }
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
