// The reader against what no gate writes: cut, corrupted, newer and overlong manifests, fields out
// of range, bodies that end inside a field, and random mutations, encoded with `read_tests.rs`'s
// second encoder.

use super::read_tests::{Fields, RowFields, row, seal};
use super::*;

#[test]
fn the_header_announces_the_whole_length() {
    let bytes = Fields::kvd().encode();
    assert_eq!(announced_len(&bytes), Some(bytes.len()));
    assert_eq!(announced_len(&bytes[..HEADER]), Some(bytes.len()));
    assert_eq!(announced_len(&bytes[..HEADER - 1]), None);
    let mut huge = bytes[..HEADER].to_vec();
    huge[HEADER - 4..].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(announced_len(&huge), (HEADER + u32::MAX as usize).checked_add(4));
}

#[test]
fn cut_corrupted_newer_and_overlong_manifests_are_named() {
    let bytes = Fields::kvd().encode();
    for len in 0..bytes.len() {
        assert_eq!(
            Manifest::parse(&bytes[..len], 5),
            Err(ReadError::Truncated { offset: 5 }),
            "cut at {len}"
        );
    }
    assert!(Manifest::parse(&[bytes.as_slice(), b"after"].concat(), 0).is_ok(), "what follows is not read");
    for at in 0..bytes.len() {
        for flip in [0x01, 0x80, 0xff] {
            let mut changed = bytes.clone();
            changed[at] ^= flip;
            assert!(Manifest::parse(&changed, 0).is_err(), "byte {at} ^ {flip:#x} was read as a manifest");
        }
    }
    let mut elf = bytes.clone();
    elf[..4].copy_from_slice(b"\x7fELF");
    assert_eq!(Manifest::parse(&elf, 0), Err(ReadError::NoManifest), "not a magic");
    let mut corrupted = bytes.clone();
    corrupted[30] ^= 1;
    assert_eq!(Manifest::parse(&corrupted, 2), Err(ReadError::Corrupted { offset: 2 }));
    let newer = Fields { format: 2, ..Fields::kvd() };
    assert_eq!(Manifest::parse(&newer.encode(), 0), Err(ReadError::NewerFormat { offset: 0, format: 2 }));
    assert_eq!(
        newer.read().unwrap_err(),
        "the manifest at byte 9 is in format 2, newer than this reader's 1; use a newer platform-gate"
    );
    assert_eq!(Fields { format: 0, ..Fields::kvd() }.malformed(), "format 0 is no format");
    let mut overlong = Fields::kvd();
    overlong.trailing = vec![0; MAX_BODY];
    assert_eq!(
        overlong.malformed(),
        format!(
            "its body of {} bytes is longer than a manifest's may be",
            overlong.encode().len() - HEADER - 4
        )
    );
    let mut longest = bytes[..HEADER].to_vec();
    longest[HEADER - 4..].copy_from_slice(&(MAX_BODY as u32).to_le_bytes());
    assert_eq!(Manifest::parse(&longest, 0), Err(ReadError::Truncated { offset: 0 }), "1 MiB is allowed");
    assert_eq!(Fields { trailing: vec![7, 7], ..Fields::kvd() }.malformed(), "2 bytes after its last field");
    assert_eq!(
        ReadError::Truncated { offset: 3 }.to_string(),
        "the manifest at byte 3 is cut short: the file ends inside it"
    );
    assert_eq!(
        ReadError::Corrupted { offset: 3 }.to_string(),
        "the manifest at byte 3 is corrupted: its checksum does not match its bytes"
    );
    assert_eq!(
        ReadError::NoManifest.to_string(),
        "no platform-gate manifest: not a binary built with #[platform_gated]"
    );
}

#[test]
fn a_field_no_gate_writes_is_named() {
    let kvd = Fields::kvd;
    let with_row = |row: RowFields| Fields { rows: vec![row], ..kvd() };
    let cases: Vec<(Fields, &str)> = vec![
        (Fields { program: "", ..kvd() }, "the program's name is empty"),
        (Fields { variable: "KVD=1", ..kvd() }, "\"KVD=1\" is not a variable's name"),
        (
            Fields { program: "kvd\n  = help: forged", ..kvd() },
            "the program's name holds a control character or a bidirectional override",
        ),
        (
            Fields { program: "kvd\u{202e}", ..kvd() },
            "the program's name holds a control character or a bidirectional override",
        ),
        (
            Fields { platform: ["arm64x", "aarch64", "linux", "linux"], ..kvd() },
            "\"arm64x\" is no architecture this reader",
        ),
        (
            Fields { platform: ["aarch64", "aarch64", "linux", "linux"], ..kvd() },
            "\"aarch64\" is no architecture this reader",
        ),
        (
            Fields { platform: ["arm64", "aarch64", "Linux", "linux"], ..kvd() },
            "\"Linux\" is no OS this reader",
        ),
        (
            Fields { platform: ["arm64", "arm", "linux", "linux"], ..kvd() },
            "its platform's Rust names, arm linux, are not arm64 (aarch64) linux's",
        ),
        (
            Fields { platform: ["arm64", "aarch64", "linux", "macos"], ..kvd() },
            "its platform's Rust names, aarch64 macos, are not arm64 (aarch64) linux's",
        ),
        (Fields { codes: [2, 0, 1], ..kvd() }, "an unknown check"),
        (Fields { codes: [0, 2, 1], ..kvd() }, "an unknown allow"),
        (Fields { codes: [0, 0, 0], ..kvd() }, "exit code 0"),
        (Fields { packager: ("", vec!["amd64"]), ..kvd() }, "architectures without a packager"),
        (Fields { packager: ("Alpine", vec![]), ..kvd() }, "a packager that vouches for nothing"),
        (Fields { packager: ("  ", vec!["amd64"]), ..kvd() }, "a packager that vouches for nothing"),
        (
            Fields { packager: ("Alpine", vec!["x86_64"]), ..kvd() },
            "\"x86_64\" is no architecture this reader",
        ),
        (with_row(row("amd64", "linux", 3)), "a row's status is unknown"),
        (with_row(row("amd64", "gnu", 2)), "\"gnu\" is no OS this reader"),
        (
            with_row(RowFields { note: Some((2, "x")), ..row("amd64", "linux", 2) }),
            "a row's note flag is neither 0 nor 1",
        ),
        (
            with_row(RowFields { note: Some((1, "a\tb")), ..row("amd64", "linux", 2) }),
            "a row's note holds a control character or a bidirectional override",
        ),
        (
            with_row(RowFields { maintainers: vec!["ok", "\x1b[2J"], ..row("amd64", "linux", 2) }),
            "a row's maintainers holds a control character or a bidirectional override",
        ),
        (
            Fields {
                rows: vec![row("amd64", "linux", 2), row("arm64", "linux", 2), row("amd64", "linux", 0)],
                ..kvd()
            },
            "the matrix lists amd64 linux twice",
        ),
        (Fields { flags: 4, ..kvd() }, "unknown CPU flags 0x04"),
        (Fields { level: 5, ..kvd() }, "CPU level 5, where its features make "),
    ];
    for (fields, expected) in cases {
        let error = fields.malformed();
        assert!(error.starts_with(expected), "{error:?}, not {expected:?}");
    }
    // A row's arch and OS may be any pair the names know, however the binary's platform is spelt.
    let wasi = with_row(RowFields { note: Some((0, "")), ..row("wasm", "wasip1", 0) });
    let mut bytes = wasi.encode();
    // A note flag of 0 writes no note: the forged note string is what follows, and is too much.
    assert!(Manifest::parse(&bytes, 0).is_err());
    bytes = Fields { rows: vec![row("wasm", "wasip1", 0), row("loong64", "linux", 1)], ..kvd() }.encode();
    let manifest = Manifest::parse(&bytes, 0).unwrap();
    assert_eq!(manifest.matrix().rows().len(), 2);
    // Not UTF-8.
    let mut bytes = Fields { program: "kv\u{e9}", ..kvd() }.encode();
    let at = bytes.windows(2).position(|pair| pair == "\u{e9}".as_bytes()).unwrap();
    bytes[at + 1] = 0x28;
    seal(&mut bytes);
    assert_eq!(
        Manifest::parse(&bytes, 0),
        Err(ReadError::Malformed { offset: 0, what: "the program's name is not UTF-8".into() })
    );
}

#[test]
fn a_body_that_ends_inside_a_field_is_named() {
    // The length and checksum are right, the body is cut: the field it ends in is named.
    let bytes = Fields::kvd().encode();
    let body = &bytes[HEADER..bytes.len() - 4];
    let mut named = Vec::new();
    for cut in 0..body.len() {
        let mut short = [&bytes[..HEADER], &body[..cut], &[0; 4]].concat();
        seal(&mut short);
        match Manifest::parse(&short, 0) {
            Err(ReadError::Malformed { what, .. }) if what.starts_with("its body ends inside ") => {
                named.push(what)
            }
            other => panic!("cut at {cut}: {other:?}"),
        }
    }
    for field in [
        "the program's name",
        "the variable's name",
        "the program's version",
        "the check",
        "the exit code",
        "the packager's architectures",
        "a row's maintainers",
        "a row's note",
        "the CPU flags",
        "the CPU features",
    ] {
        assert!(named.contains(&format!("its body ends inside {field}")), "{field}");
    }
}

#[test]
fn mutated_manifests_never_panic_and_a_broken_one_is_never_read() {
    // A deterministic generator (xorshift64*), so that a failure can be replayed.
    let mut state = 0x5eed_1234_abcd_ef01u64;
    let mut random = |n: usize| {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        (state.wrapping_mul(0x2545_F491_4F6C_DD1D) % n.max(1) as u64) as usize
    };
    let original = Fields::kvd().encode();
    let mut resealed_read = 0;
    let cases: usize = std::env::var("MUTATIONS").ok().and_then(|n| n.parse().ok()).unwrap_or(1_000_000);
    for case in 0..cases {
        let mut bytes = original.clone();
        for _ in 0..1 + random(3) {
            let at = random(bytes.len());
            match random(3) {
                0 => bytes[at] ^= 1 + random(255) as u8,
                1 => bytes.insert(at, random(256) as u8),
                _ => drop(bytes.remove(at)),
            }
        }
        let reseal =
            random(2) == 0 && bytes.len() >= HEADER + 4 && bytes.starts_with(&original[..HEADER - 4]);
        if reseal {
            seal(&mut bytes);
        }
        match Manifest::parse(&bytes, 0) {
            // Bytes after a whole manifest are not read, as in any binary.
            Ok(manifest) if !bytes.starts_with(&original) => {
                assert!(reseal, "case {case}: a broken manifest was read");
                resealed_read += 1;
                // What was read is whole: its matrix is a matrix, its names are one line each.
                let matrix = manifest.matrix();
                for row in matrix.rows() {
                    assert!(
                        row.maintainers()
                            .iter()
                            .all(|name| crate::names::first_forbidden_character(name).is_none())
                    );
                    assert_eq!(row.maintainers().iter().count(), row.maintainers().len());
                }
            }
            Ok(_) => {}
            Err(error) => drop(error.to_string()),
        }
    }
    assert!(resealed_read > 0, "some resealed changes are manifests (a changed name, say)");
}
