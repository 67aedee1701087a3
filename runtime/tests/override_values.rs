//! The override rule against values nobody would think to write by hand: arbitrary strings and
//! bytes, near-misses of every architecture name, Unicode spaces and look-alike letters, very long
//! values. The oracle is a spelling table written out here, independently of the crate's own, so a
//! test never checks the code against itself. Every case also checks the message it renders.

use std::ffi::OsStr;

use platform_gate::{Arch, Matrix, Os, Platform, Policy, Verdict, decide};
use proptest::prelude::*;

/// Every spelling the rule accepts, per architecture, lower-case: Go's, Rust's, the distributions'
/// (Debian's `dpkg-architecture -L`, Nix's CPU names) and what `uname -m` prints.
fn accepted(arch: Arch) -> &'static [&'static str] {
    match arch {
        Arch::X86_64 => &["amd64", "x86_64", "x32"],
        Arch::X86 => &["386", "x86", "i386", "i486", "i586", "i686"],
        Arch::Aarch64 => &["arm64", "aarch64", "arm64ilp32", "aarch64_be"],
        Arch::Arm => &[
            "arm", "armhf", "armel", "armeb", "armv5tel", "armv6l", "armv6m", "armv7", "armv7a", "armv7l",
            "armv7m", "armv7r", "armv8a", "armv8l", "armv8m", "armv8r",
        ],
        Arch::Powerpc64le => &["ppc64le", "powerpc64le", "ppc64el"],
        Arch::Powerpc64 => &["ppc64", "powerpc64"],
        Arch::Powerpc => &["ppc", "powerpc", "powerpcspe", "powerpcel", "powerpcle", "ppcle"],
        Arch::S390x => &["s390x"],
        Arch::Riscv64 => &["riscv64"],
        Arch::Riscv32 => &["riscv32"],
        Arch::Loongarch64 => &["loong64", "loongarch64"],
        Arch::Mips => &["mips"],
        Arch::Mipsel => &["mipsle", "mipsel"],
        Arch::Mips64 => &["mips64", "mipsn32"],
        Arch::Mips64el => &["mips64le", "mips64el", "mipsn32el"],
        Arch::Sparc64 => &["sparc64"],
        Arch::Wasm32 => &["wasm", "wasm32"],
        other => panic!("no oracle for {other:?}"),
    }
}

/// What `uname -m` prints on both byte orders of MIPS, which names the little-endian one too.
fn uname_either_order(arch: Arch) -> Option<&'static str> {
    match arch {
        Arch::Mipsel => Some("mips"),
        Arch::Mips64el => Some("mips64"),
        _ => None,
    }
}

/// The rule as the README states it: some comma-separated item, with ASCII whitespace trimmed, is
/// a spelling, ignoring ASCII case, or a spelling after Debian's `musl-linux-` or `uclibc-linux-`,
/// or `uname -m`'s MIPS name for both byte orders.
fn oracle(value: &str, arch: Arch) -> bool {
    value.split(',').any(|item| {
        let item = item.trim_matches(|c: char| c.is_ascii_whitespace());
        let spelling = |name: &str| accepted(arch).iter().any(|accepted| name.eq_ignore_ascii_case(accepted));
        let lower = item.to_ascii_lowercase();
        let debian = ["musl-linux-", "uclibc-linux-"]
            .iter()
            .find_map(|prefix| lower.strip_prefix(prefix).filter(|rest| !rest.is_empty()));
        spelling(item)
            || debian.is_some_and(spelling)
            || uname_either_order(arch).is_some_and(|name| item.eq_ignore_ascii_case(name))
    })
}

/// Spaces that are not ASCII: no-break, NEL, ideographic, en quad, zero-width no-break, Ogham.
const UNICODE_SPACES: [char; 6] = ['\u{a0}', '\u{85}', '\u{3000}', '\u{2000}', '\u{feff}', '\u{1680}'];

/// A letter that looks like `c` but is not ASCII: Cyrillic where one exists, else fullwidth.
fn look_alike(c: char) -> char {
    match c {
        'a' => '\u{430}',
        'c' => '\u{441}',
        'e' => '\u{435}',
        'o' => '\u{43e}',
        'p' => '\u{440}',
        'x' => '\u{445}',
        '!'..='~' => char::from_u32(u32::from(c) + 0xfee0).expect("fullwidth forms exist"),
        _ => c,
    }
}

const VARIABLE: &str = "APP_UNSUPPORTED_ARCH";

/// Decides for `arch` on a matrix that lists nothing, renders the message, and says whether it passed.
fn passes(arch: Arch, value: &OsStr) -> bool {
    const NOTHING: Matrix = Matrix::new(&[]);
    let verdict = decide(&NOTHING, Policy::DEFAULT, Platform::new(arch, Os::Linux), VARIABLE, Some(value));
    let message = verdict.message("app").expect("an unlisted platform always has a message").to_string();
    match verdict {
        Verdict::Overridden(_) => {
            assert!(message.starts_with("warning: "), "{message}");
            assert_eq!(message.lines().count(), 1, "a warning is one line: {message}");
            true
        }
        Verdict::Refused { .. } => {
            // Whatever the value: ASCII only, a bounded shape, one pipe buffer, and the variable named.
            assert!(message.starts_with("error: "), "{message}");
            assert!(message.is_ascii(), "{message}");
            assert!(message.lines().count() <= 7, "{message}");
            assert!(message.len() < 4096, "{} bytes: {message}", message.len());
            assert!(message.contains(&format!("set {VARIABLE}={}", arch.go_name())), "{message}");
            false
        }
        other => panic!("{other:?}"),
    }
}

fn check(arch: Arch, value: &str) {
    assert_eq!(passes(arch, OsStr::new(value)), oracle(value, arch), "{arch:?} with {value:?}");
}

/// A spelling of some architecture with one random edit: a near-miss, or occasionally a hit.
/// Edits include a Unicode space around it and a look-alike letter in it.
fn near_miss() -> impl Strategy<Value = String> {
    let names: Vec<&str> = Arch::ALL.iter().flat_map(|&arch| accepted(arch).iter().copied()).collect();
    let space = proptest::sample::select(&UNICODE_SPACES[..]);
    (proptest::sample::select(names), 0..6usize, any::<prop::sample::Index>(), any::<char>(), space).prop_map(
        |(name, edit, at, c, space)| {
            let mut chars: Vec<char> = name.chars().collect();
            let i = at.index(chars.len() + 1);
            match edit {
                0 => chars.insert(i, c),
                1 if i < chars.len() => drop(chars.remove(i)),
                2 if i < chars.len() => chars[i] = c,
                3 => chars.insert(if i % 2 == 0 { 0 } else { chars.len() }, space),
                4 if i < chars.len() => chars[i] = look_alike(chars[i]),
                _ => chars.truncate(i),
            }
            chars.into_iter().collect()
        },
    )
}

proptest! {
    #[test]
    fn arbitrary_strings_pass_exactly_when_they_name_the_architecture(value in ".{0,40}") {
        for &arch in Arch::ALL {
            check(arch, &value);
        }
    }

    #[test]
    fn near_misses_never_pass_unless_they_are_a_spelling(value in near_miss(), padded in any::<bool>()) {
        let value = if padded { format!(" {value} ,x") } else { value };
        for &arch in Arch::ALL {
            check(arch, &value);
        }
    }

    #[test]
    fn unicode_spaces_and_look_alikes_never_pass(arch_index in any::<prop::sample::Index>(), space in proptest::sample::select(&UNICODE_SPACES[..]), before in any::<bool>(), letter in any::<prop::sample::Index>()) {
        let arch = Arch::ALL[arch_index.index(Arch::ALL.len())];
        for name in [arch.go_name(), arch.rust_name()] {
            let spaced = if before { format!("{space}{name}") } else { format!("{name}{space}") };
            prop_assert!(!passes(arch, OsStr::new(&spaced)), "{:?}", spaced);
            let mut chars: Vec<char> = name.chars().collect();
            let i = letter.index(chars.len());
            if look_alike(chars[i]) != chars[i] {
                chars[i] = look_alike(chars[i]);
                let disguised: String = chars.into_iter().collect();
                prop_assert!(!passes(arch, OsStr::new(&disguised)), "{:?}", disguised);
            }
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_pass_only_as_utf8(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let value = os_str(&bytes);
        for &arch in Arch::ALL {
            let expected = std::str::from_utf8(&bytes).is_ok_and(|text| oracle(text, arch));
            prop_assert_eq!(passes(arch, &value), expected);
        }
    }
}

/// A million generated values through the decision and the message: no panic, no false pass.
/// Ignored by default; `cargo test -p platform-gate --release -- --ignored` runs it (about 10 s).
#[test]
#[ignore = "a soak: a million values"]
fn soak_a_million_values() {
    let names: Vec<&str> = Arch::ALL.iter().flat_map(|&arch| accepted(arch).iter().copied()).collect();
    let mut random = XorShift(0x9e37_79b9_7f4a_7c15);
    const VALUES: usize = 1_000_000;
    for n in 0..VALUES {
        let bytes: Vec<u8> = match n % 4 {
            // Random bytes, mostly not UTF-8.
            0 => (0..random.below(32)).map(|_| random.next() as u8).collect(),
            // A name behind a Unicode space, or with a look-alike letter.
            1 => {
                let name = names[random.below(names.len())];
                let space = UNICODE_SPACES[random.below(UNICODE_SPACES.len())];
                let value = match random.below(3) {
                    0 => format!("{space}{name}"),
                    1 => format!("{name}{space}"),
                    _ => name
                        .chars()
                        .enumerate()
                        .map(|(i, c)| if i == 0 { look_alike(c) } else { c })
                        .collect(),
                };
                value.into_bytes()
            }
            // A name with one byte changed, inserted or dropped.
            2 => {
                let mut name = names[random.below(names.len())].as_bytes().to_vec();
                let at = random.below(name.len() + 1);
                match random.below(3) {
                    0 => name.insert(at, random.next() as u8),
                    1 if at < name.len() => drop(name.remove(at)),
                    _ if at < name.len() => name[at] = random.next() as u8,
                    _ => name.push(b','),
                }
                name
            }
            // Very long: a long list, or a long run of one character around a name.
            _ => {
                let name = names[random.below(names.len())];
                let filler = "x".repeat(random.below(20_000));
                format!("{filler}{name}{filler},{filler}").into_bytes()
            }
        };
        let value = os_str(&bytes);
        let arch = Arch::ALL[random.below(Arch::ALL.len())];
        let expected = std::str::from_utf8(&bytes).is_ok_and(|text| oracle(text, arch));
        assert_eq!(passes(arch, &value), expected, "{arch:?} with {value:?}");
    }
}

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound as u64) as usize
    }
}

#[cfg(unix)]
fn os_str(bytes: &[u8]) -> std::ffi::OsString {
    use std::os::unix::ffi::OsStrExt;
    OsStr::from_bytes(bytes).to_owned()
}

#[cfg(windows)]
fn os_str(bytes: &[u8]) -> std::ffi::OsString {
    // Windows values are UTF-16: pair the bytes into units, which makes unpaired surrogates too.
    use std::os::windows::ffi::OsStringExt;
    let units: Vec<u16> =
        bytes.chunks(2).map(|pair| u16::from_le_bytes([pair[0], *pair.get(1).unwrap_or(&0)])).collect();
    std::ffi::OsString::from_wide(&units)
}
