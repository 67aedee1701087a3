//! An etcd-shaped server gated as etcd gates itself: `ETCD_UNSUPPORTED_ARCH` and etcd's support
//! matrix. Where it starts, it then shows what an operator would see on every other platform of
//! the matrix and on an unlisted one, from the same pure decision the gate itself uses.
//!
//! `cargo run --example etcd`

use std::ffi::OsStr;

use platform_gate::{Arch, Gate, Matrix, Os, Platform, Verdict, decide, platform_gated};

/// The gate `#[platform_gated]` below builds, spelled out so the tour can ask it questions.
const GATE: Gate = Gate::new("etcd", "ETCD_UNSUPPORTED_ARCH").with_matrix(Matrix::ETCD);

#[platform_gated(env = "ETCD_UNSUPPORTED_ARCH")]
fn main() {
    // The first line a gated program prints once past the gate; the cross-architecture test
    // reads it to know whether the program's own code ran.
    println!("etcd: started on {:#}", Platform::CURRENT);

    let variable = GATE.variable_name();
    let mut platforms: Vec<Platform> = GATE.matrix().rows().iter().map(|row| row.platform()).collect();
    platforms.push(Platform::new(Arch::Riscv64, Os::Linux));
    for platform in platforms.into_iter().filter(|&platform| platform != Platform::CURRENT) {
        let status = match GATE.matrix().status(platform) {
            Some(status) => status.to_string(),
            None => "not listed".to_owned(),
        };
        println!("\n=== {platform:#} ({status})");
        let (go_name, rust_name) = (platform.arch.go_name(), platform.arch.rust_name());
        let mut values = vec![None, Some(go_name)];
        if rust_name != go_name {
            values.push(Some(rust_name));
        }
        for value in values {
            let verdict = decide(GATE.matrix(), GATE.policy(), platform, &variable, value.map(OsStr::new));
            let command = match value {
                Some(value) => format!("{variable}={value} etcd"),
                None => "etcd".to_owned(),
            };
            let outcome = match &verdict {
                Verdict::Supported => "starts, prints nothing".to_owned(),
                Verdict::Overridden(_) => "starts after a warning".to_owned(),
                Verdict::Refused { .. } => format!("refused, exit code {}", GATE.policy().exit_code()),
                _ => "unknown verdict".to_owned(),
            };
            println!("$ {command}    # {outcome}");
            if let Some(message) = verdict.message(GATE.program()) {
                println!("{message}");
            }
            if value.is_none() && matches!(verdict, Verdict::Supported) && status != "stable" {
                // etcd's code checks the architecture alone: amd64 darwin starts because amd64 linux
                // is stable. `check = "platform"` would judge the pair, and refuse it.
                println!(
                    "(it starts although its own row is {status}: under check = \"arch\" an architecture counts as its best row, and {} is stable on another OS)",
                    platform.arch
                );
            }
        }
    }
}
