//! Compile-time proof of `Platform::CURRENT` for a target the cross check cannot run (see
//! ../Cargo.toml): a wrong `cfg!` arm is a build error here.
#![no_std]

use platform_gate::{Arch, Os, Platform};

const EXPECTED: Platform = Platform::new(
    match Arch::from_name(env!("EXPECTED_ARCH")) {
        Some(arch) => arch,
        None => panic!("EXPECTED_ARCH names no architecture"),
    },
    match Os::from_name(env!("EXPECTED_OS")) {
        Some(os) => os,
        None => panic!("EXPECTED_OS names no operating system"),
    },
);

const _: () = assert!(Platform::CURRENT.is(EXPECTED), "Platform::CURRENT is not the platform expected for this target");
