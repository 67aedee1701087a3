//! The names packagers' recipes produce (docs/packagers.md) name the architecture they build for,
//! for the override variable and for the packager's list alike: every Linux architecture
//! `dpkg-architecture -L` lists (`$(DEB_HOST_ARCH)`), run here, and every CPU name Nix uses
//! (`parsed.cpu.name`, tests/fixtures/nix-cpu-types.txt, copied from nixpkgs), for an
//! architecture the gate names; and nothing else passes. What `uname -m` prints under qemu-user on
//! each architecture of the Tested-on table is tests/cross/run.sh's.

use std::process::Command;

use platform_gate::{Arch, Packager, names_arch};

/// Whether `value` names `arch` for the variable and for the packager's list, and names nothing
/// (the packager's list: a compile error naming it) when `arch` is `None`.
fn assert_names(value: &str, arch: Option<Arch>, source: &str) {
    for &each in Arch::ALL {
        assert_eq!(
            names_arch(value, each),
            Some(each) == arch,
            "{source} {value:?}: the variable, for {each:#}"
        );
    }
    let packager = std::panic::catch_unwind(|| Packager::new("a distribution", value));
    match (arch, packager) {
        (Some(arch), Ok(packager)) => {
            assert!(packager.supports(arch), "{source} {value:?}: the packager's list")
        }
        (None, Err(panic)) => {
            let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
            assert!(message.contains(&format!("`{value}`")), "{source} {value:?}: {message}");
        }
        (arch, packager) => {
            panic!("{source} {value:?}: expected {arch:?}, the packager's list gave {packager:?}")
        }
    }
}

/// The gate's architecture for Debian's `DEB_HOST_ARCH_CPU` and `DEB_HOST_ARCH_BITS`: Rust's
/// `target_arch` for that CPU and ABI (Debian's x32 and mipsn32 are the 64-bit CPUs' with 32-bit
/// pointers; the r6 MIPS are `target_arch`s of their own, which the gate does not name).
fn debian_cpu(cpu: &str) -> Option<Arch> {
    Some(match cpu {
        "amd64" => Arch::X86_64,
        "i386" => Arch::X86,
        "arm64" => Arch::Aarch64,
        "arm" | "armeb" => Arch::Arm,
        "powerpc" | "powerpcel" => Arch::Powerpc,
        "ppc64" => Arch::Powerpc64,
        "ppc64el" => Arch::Powerpc64le,
        "s390x" => Arch::S390x,
        "riscv64" => Arch::Riscv64,
        "loong64" => Arch::Loongarch64,
        "mips" => Arch::Mips,
        "mipsel" => Arch::Mipsel,
        "mips64" => Arch::Mips64,
        "mips64el" => Arch::Mips64el,
        "sparc64" => Arch::Sparc64,
        _ => return None,
    })
}

/// For `mips` and `mips64`, which `uname -m` prints for both byte orders and so name both
/// (docs/operators.md), the little-endian one; `None` for every other name.
fn uname_other_byte_order(name: &str) -> Option<Arch> {
    match name {
        "mips" => Some(Arch::Mipsel),
        "mips64" => Some(Arch::Mips64el),
        _ => None,
    }
}

/// `value` names `arch` and `other`, and no third.
fn assert_names_both(value: &str, arch: Arch, other: Arch) {
    for &each in Arch::ALL {
        assert_eq!(names_arch(value, each), each == arch || each == other, "{value:?} for {each:#}");
    }
}

fn dpkg_architecture(args: &[&str]) -> String {
    let output = Command::new("dpkg-architecture")
        .args(args)
        .output()
        .unwrap_or_else(|error| panic!("dpkg-architecture: {error}"));
    assert!(
        output.status.success(),
        "dpkg-architecture {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn every_debian_linux_architecture_names_its_own() {
    if Command::new("dpkg-architecture").arg("--version").output().is_err() {
        // CI installs dpkg-dev (.ci/run); elsewhere the check needs Debian's tool.
        assert!(std::env::var_os("CI").is_none(), "CI must run dpkg-architecture: install dpkg-dev");
        eprintln!("skipped: no dpkg-architecture here (Debian's dpkg-dev)");
        return;
    }
    let linux = dpkg_architecture(&["-L", "-W", "linux-any"]);
    let mut named = 0;
    let values: Vec<&str> = linux.lines().collect();
    assert!(
        values.len() > 60 && values.contains(&"armhf") && values.contains(&"musl-linux-arm64"),
        "{values:?}"
    );
    for value in values {
        let variables = dpkg_architecture(&["-a", value, "-q", "DEB_HOST_ARCH_CPU"]);
        let arch = debian_cpu(variables.trim());
        named += usize::from(arch.is_some());
        if let Some(other) = uname_other_byte_order(value) {
            assert_names_both(value, arch.unwrap(), other);
            continue;
        }
        assert_names(value, arch, "DEB_HOST_ARCH");
    }
    assert!(named > 40, "{named}");
}

#[test]
fn every_nix_cpu_name_names_its_own() {
    let fixture = include_str!("fixtures/nix-cpu-types.txt");
    for line in fixture.lines().filter(|line| !line.starts_with('#')) {
        let fields: Vec<&str> = line.split(' ').collect();
        let [name, bits, order, family] = fields[..] else { panic!("{line}") };
        let arch = match (family, bits, order) {
            ("x86", "64", _) => Some(Arch::X86_64),
            ("x86", "32", _) => Some(Arch::X86),
            ("arm", "64", _) => Some(Arch::Aarch64),
            ("arm", "32", _) => Some(Arch::Arm),
            ("mips", "32", "big") => Some(Arch::Mips),
            ("mips", "32", "little") => Some(Arch::Mipsel),
            ("mips", "64", "big") => Some(Arch::Mips64),
            ("mips", "64", "little") => Some(Arch::Mips64el),
            ("power", "32", _) => Some(Arch::Powerpc),
            ("power", "64", "big") => Some(Arch::Powerpc64),
            ("power", "64", "little") => Some(Arch::Powerpc64le),
            ("riscv", "32", _) => Some(Arch::Riscv32),
            ("riscv", "64", _) => Some(Arch::Riscv64),
            ("sparc", "64", _) => Some(Arch::Sparc64),
            ("wasm", "32", _) => Some(Arch::Wasm32),
            _ => None,
        };
        if let Some(other) = uname_other_byte_order(name) {
            assert_names_both(name, arch.unwrap(), other);
            continue;
        }
        assert_names(name, arch, "parsed.cpu.name");
    }
}
