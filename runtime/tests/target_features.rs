//! Every CPU feature the compiler can enable is checked, or listed with the reason it is not: the
//! tables and `CpuFeatures::unchecked` against `rustc --print target-features`, for x86 (32- and
//! 64-bit) and aarch64. A compiler that lists a new feature fails this test until a row or a reason
//! is added, so the next compiler's features are noticed. An older compiler lists fewer; that passes.

use std::collections::BTreeSet;
use std::process::Command;

use platform_gate::{Arch, CpuFeatures};

/// The names under "Features supported by rustc for this target", as `RUSTC` (or `rustc`) lists them.
fn listed_by_rustc(target: &str) -> BTreeSet<String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let output = Command::new(rustc)
        .args(["--print", "target-features", "--target", target])
        .output()
        .expect("run rustc --print target-features");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout).expect("UTF-8");
    let section = text.split("Features supported by rustc for this target:").nth(1).expect("rustc's section");
    let section = section.split("\n\n").next().unwrap_or(section);
    let names: BTreeSet<String> =
        section.lines().filter_map(|line| line.split_whitespace().next()).map(str::to_owned).collect();
    assert!(names.len() > 40, "too few features parsed for {target}: {names:?}");
    names
}

fn known(arch: Arch) -> BTreeSet<String> {
    let checked = CpuFeatures::all(arch).expect("a table").names();
    checked.chain(CpuFeatures::unchecked(arch).map(|(name, _)| name)).map(str::to_owned).collect()
}

#[test]
fn every_feature_rustc_lists_is_checked_or_explained() {
    for (target, arch) in [
        ("x86_64-unknown-linux-gnu", Arch::X86_64),
        ("i686-unknown-linux-gnu", Arch::X86),
        ("aarch64-unknown-linux-gnu", Arch::Aarch64),
    ] {
        let unknown: Vec<String> = listed_by_rustc(target).difference(&known(arch)).cloned().collect();
        assert!(
            unknown.is_empty(),
            "rustc lists CPU features for {target} that no table row checks and no reason explains: \
             {unknown:?}; add a row to runtime/src/names/cpu.rs (where the hardware reports it) or a \
             reason to its UNCHECKED, and to the README's list"
        );
    }
}

#[test]
fn every_unchecked_feature_has_a_reason_and_no_row() {
    for arch in [Arch::X86_64, Arch::Aarch64] {
        for (name, why) in CpuFeatures::unchecked(arch) {
            assert!(!why.is_empty(), "{name}");
            assert!(CpuFeatures::from_names(arch, &[name]).is_none(), "{name} is both checked and unchecked");
        }
    }
}
