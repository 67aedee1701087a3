//! Whether this compiler lets x86 code read CPUID without `unsafe`: `core::arch`'s `__cpuid` became a
//! safe function in late 2025, and this crate forbids `unsafe` and supports Rust 1.85. The CPU-level
//! check on x86 (src/cpu.rs) is compiled only where a probe that calls it under
//! `#![forbid(unsafe_code)]` compiles. Elsewhere the check is absent and costs nothing.

use std::env;
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn main() {
    println!("cargo::rustc-check-cfg=cfg(platform_gate_cpuid)");
    println!("cargo::rerun-if-changed=build.rs");
    let arch = env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    if (arch == "x86_64" || arch == "x86") && safe_cpuid(&arch) {
        println!("cargo::rustc-cfg=platform_gate_cpuid");
    }
}

/// Compiles `core::arch::<arch>::__cpuid` in a crate that forbids `unsafe`, for the target.
fn safe_cpuid(arch: &str) -> bool {
    let (Some(rustc), Some(out_dir), Ok(target)) =
        (env::var_os("RUSTC"), env::var_os("OUT_DIR").map(PathBuf::from), env::var("TARGET"))
    else {
        return false;
    };
    let probe = out_dir.join("cpuid_probe.rs");
    let source = format!(
        "#![no_std]\n#![forbid(unsafe_code)]\npub fn leaf_zero() -> u32 {{ core::arch::{arch}::__cpuid(0).eax }}\n"
    );
    if std::fs::write(&probe, source).is_err() {
        return false;
    }
    Command::new(rustc)
        .args(["--edition", "2021", "--crate-type", "lib", "--emit", "metadata", "--target", &target])
        .arg("--out-dir")
        .arg(&out_dir)
        .arg(&probe)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}
