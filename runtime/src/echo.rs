// How a refusal shows the variable's value: quoted, in printable ASCII only, and bounded, so that
// what the operator reads is exactly what was set and a hostile value cannot forge or flood a log.

use core::fmt::{self, Write as _};
use std::ffi::OsStr;

/// The most characters of a value a message shows; the rest is counted in bytes.
pub(crate) const SHOWN_CHARACTERS: usize = 100;

/// The most distinct non-ASCII characters a note names.
const NAMED_CHARACTERS: usize = 3;

/// A value as a message shows it: `"arm64\u{430}\xff"`. Printable ASCII stands for itself, `"`
/// and `\` are escaped, and everything else is escaped by value: `\n`, `\t`, `\r`, `\x1b` for
/// control characters, `\u{430}` for other characters, `\xff` for bytes that are not UTF-8 and,
/// on Windows, `\u{d800}` for an unpaired surrogate. After [`SHOWN_CHARACTERS`],
/// `"... (N more bytes)` ends it.
pub(crate) struct Echo<'a> {
    bytes: &'a [u8],
    /// Whether the bytes are WTF-8, where a three-byte sequence stands for an unpaired surrogate.
    wtf8: bool,
}

impl<'a> Echo<'a> {
    pub(crate) fn text(value: &'a str) -> Self {
        Echo { bytes: value.as_bytes(), wtf8: false }
    }

    /// A value as the platform handed it over. On Windows, values are UTF-16 and std encodes them
    /// as WTF-8, so an unpaired surrogate (which UTF-16 can hold and UTF-8 cannot) is shown as what
    /// the operator set, `\u{d800}`, rather than as the three bytes std stores it in.
    pub(crate) fn os_str(value: &'a OsStr) -> Self {
        Echo { bytes: value.as_encoded_bytes(), wtf8: cfg!(windows) }
    }

    #[cfg(test)]
    fn wtf8(bytes: &'a [u8]) -> Self {
        Echo { bytes, wtf8: true }
    }
}

impl fmt::Display for Echo<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('"')?;
        let mut shown = 0;
        let mut offset = 0;
        // The rest of a surrogate's bytes: each is an invalid chunk of its own.
        let mut surrogate_tail = 0;
        for chunk in self.bytes.utf8_chunks() {
            for c in chunk.valid().chars() {
                if shown == SHOWN_CHARACTERS {
                    return write!(f, "\"... ({} more bytes)", self.bytes.len() - offset);
                }
                write_escaped(f, c)?;
                shown += 1;
                offset += c.len_utf8();
            }
            for byte in chunk.invalid() {
                if surrogate_tail > 0 {
                    surrogate_tail -= 1;
                    offset += 1;
                    continue;
                }
                if shown == SHOWN_CHARACTERS {
                    return write!(f, "\"... ({} more bytes)", self.bytes.len() - offset);
                }
                match surrogate(&self.bytes[offset..]).filter(|_| self.wtf8) {
                    Some(unit) => {
                        write!(f, "\\u{{{unit:x}}}")?;
                        surrogate_tail = 2;
                    }
                    None => write!(f, "\\x{byte:02x}")?,
                }
                shown += 1;
                offset += 1;
            }
        }
        f.write_char('"')
    }
}

/// The unpaired surrogate that WTF-8 encodes at the start of `bytes`, if any: `ED A0..BF 80..BF`,
/// which UTF-8 forbids.
fn surrogate(bytes: &[u8]) -> Option<u16> {
    match *bytes {
        [0xED, second @ 0xA0..=0xBF, third @ 0x80..=0xBF, ..] => {
            Some(0xD000 | u16::from(second & 0x3F) << 6 | u16::from(third & 0x3F))
        }
        _ => None,
    }
}

fn write_escaped(f: &mut fmt::Formatter<'_>, c: char) -> fmt::Result {
    match c {
        '"' => f.write_str("\\\""),
        '\\' => f.write_str("\\\\"),
        '\n' => f.write_str("\\n"),
        '\r' => f.write_str("\\r"),
        '\t' => f.write_str("\\t"),
        ' '..='~' => f.write_char(c),
        '\0'..='\x7f' => write!(f, "\\x{:02x}", u32::from(c)),
        _ => write!(f, "\\u{{{:x}}}", u32::from(c)),
    }
}

/// The note for a value with characters outside ASCII, which can never name an architecture
/// (`U+0430`, a Cyrillic letter that looks like `a`; `U+00A0`, a space that is not trimmed), or
/// `None` when the value is ASCII or not UTF-8 at all.
pub(crate) struct NonAsciiNote<'a>(&'a str);

impl<'a> NonAsciiNote<'a> {
    pub(crate) fn of(value: &'a str) -> Option<NonAsciiNote<'a>> {
        (!value.is_ascii()).then_some(NonAsciiNote(value))
    }
}

impl fmt::Display for NonAsciiNote<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut named: Vec<char> = Vec::new();
        let mut more = 0;
        for c in self.0.chars().filter(|c| !c.is_ascii()) {
            if named.contains(&c) {
                continue;
            }
            if named.len() < NAMED_CHARACTERS {
                named.push(c);
            } else {
                more += 1;
            }
        }
        f.write_str("the value contains ")?;
        for (i, c) in named.iter().enumerate() {
            let separator = match i {
                0 => "",
                _ if i + 1 == named.len() && more == 0 => " and ",
                _ => ", ",
            };
            write!(f, "{separator}U+{:04X}", u32::from(*c))?;
        }
        if more > 0 {
            write!(f, " and {more} more")?;
        }
        let verb = if named.len() + more == 1 { "which is" } else { "which are" };
        write!(f, ", {verb} not ASCII; architecture names, commas and the spaces around them are ASCII only")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn echo(bytes: &[u8]) -> String {
        Echo { bytes, wtf8: false }.to_string()
    }

    #[test]
    fn printable_ascii_stands_for_itself_and_the_rest_is_escaped() {
        assert_eq!(echo(b"arm64, s390x"), r#""arm64, s390x""#);
        assert_eq!(echo("\"a\\b\"".as_bytes()), r#""\"a\\b\"""#);
        assert_eq!(echo(b"\x1b[31mred\n\t\r\x7f\0"), r#""\x1b[31mred\n\t\r\x7f\x00""#);
        assert_eq!(echo("\u{430}md64".as_bytes()), r#""\u{430}md64""#);
        assert_eq!(echo("amd64\u{3164}".as_bytes()), r#""amd64\u{3164}""#);
        assert_eq!(echo("\u{85}amd64".as_bytes()), r#""\u{85}amd64""#);
        assert_eq!(echo(b"arm64\xff\xfe"), r#""arm64\xff\xfe""#);
        assert_eq!(echo(b""), r#""""#);
    }

    #[test]
    fn an_unpaired_surrogate_is_shown_by_value_where_values_are_utf16() {
        // "amd64" and U+D800, then U+DFFF and "x", as std stores them on Windows.
        let bytes = b"amd64\xed\xa0\x80\xed\xbf\xbfx";
        assert_eq!(Echo::wtf8(bytes).to_string(), r#""amd64\u{d800}\u{dfff}x""#);
        // The same bytes where values are bytes: not UTF-8, shown byte by byte.
        assert_eq!(echo(bytes), r#""amd64\xed\xa0\x80\xed\xbf\xbfx""#);
        // Not a surrogate: a lead byte without its tail, or a tail out of range.
        assert_eq!(Echo::wtf8(b"\xed\xa0").to_string(), r#""\xed\xa0""#);
        assert_eq!(Echo::wtf8(b"\xed\xc0\x80").to_string(), r#""\xed\xc0\x80""#);
        // A surrogate counts as one character, and its bytes are not counted again when cut.
        let long = b"\xed\xa0\x80".repeat(150);
        assert_eq!(
            Echo::wtf8(&long).to_string(),
            format!("\"{}\"... (150 more bytes)", "\\u{d800}".repeat(100))
        );
        // What std really hands over for such a value (run under wine by tests/cross/run.sh).
        #[cfg(windows)]
        {
            use std::ffi::OsString;
            use std::os::windows::ffi::OsStringExt;
            let value = OsString::from_wide(&[u16::from(b'a'), 0xDBFF]);
            assert_eq!(Echo::os_str(&value).to_string(), r#""a\u{dbff}""#);
        }
    }

    #[test]
    fn long_values_are_cut_and_counted_in_bytes() {
        let value = "a".repeat(100_000);
        let shown = echo(value.as_bytes());
        assert_eq!(shown, format!("\"{}\"... (99900 more bytes)", "a".repeat(100)));
        // Exactly the limit is shown whole.
        assert_eq!(echo("b".repeat(100).as_bytes()), format!("\"{}\"", "b".repeat(100)));
        // The limit counts characters, escapes included, and the rest is counted in bytes.
        let cyrillic = "\u{430}".repeat(150);
        assert_eq!(echo(cyrillic.as_bytes()), format!("\"{}\"... (100 more bytes)", "\\u{430}".repeat(100)));
        let invalid = [0xffu8; 300];
        assert!(echo(&invalid).ends_with("\"... (200 more bytes)"));
    }

    #[test]
    fn the_note_names_non_ascii_characters_by_code_point() {
        assert!(NonAsciiNote::of("amd64").is_none());
        let note = |value| NonAsciiNote::of(value).expect("not ASCII").to_string();
        assert_eq!(
            note("\u{430}md64"),
            "the value contains U+0430, which is not ASCII; architecture names, commas and the spaces around them are ASCII only"
        );
        assert!(
            note("\u{a0}amd64\u{3000}")
                .starts_with("the value contains U+00A0 and U+3000, which are not ASCII")
        );
        assert!(
            note("\u{ff41}\u{ff4d}\u{ff44}\u{ff41}64\u{3164}")
                .starts_with("the value contains U+FF41, U+FF4D, U+FF44 and 1 more, which are not ASCII")
        );
    }
}
