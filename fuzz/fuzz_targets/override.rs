//! The override variable's value, any bytes, through the decision and the message on every
//! architecture and OS of etcd's matrix: never a panic, and every message keeps the README's
//! promises (printable ASCII, at most 7 lines, under 4 KiB, so one write under PIPE_BUF).

#![no_main]

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt as _;

use libfuzzer_sys::fuzz_target;
use platform_gate::{Arch, Matrix, Os, Platform, Policy, Verdict, decide};

fuzz_target!(|bytes: &[u8]| {
    let value = OsStr::from_bytes(bytes);
    for &arch in Arch::ALL {
        for os in [Os::Linux, Os::Windows] {
            let platform = Platform::new(arch, os);
            let verdict =
                decide(&Matrix::ETCD, Policy::DEFAULT, platform, "ETCD_UNSUPPORTED_ARCH", Some(value));
            if let Verdict::Overridden(_) = verdict {
                let names = value.to_str().is_some_and(|value| platform_gate::names_arch(value, arch));
                assert!(names, "{arch:?} overridden by {bytes:?}");
            }
            if let Some(message) = verdict.message("etcd") {
                let text = message.to_string();
                assert!(text.bytes().all(|b| b == b'\n' || (b' '..=b'~').contains(&b)), "{text}");
                assert!(text.len() < 4096 && text.lines().count() <= 7, "{text}");
            }
        }
    }
});
