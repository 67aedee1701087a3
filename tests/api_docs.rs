//! Every public item of the library crates users depend on (the gate and the fleet) has rustdoc
//! with an example, which `cargo test` runs as a doctest. docs.rs shows no README, so the rustdoc
//! must stand on its own.

use std::fs;
use std::path::{Path, PathBuf};

fn sources(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("read_dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            found.push(path);
        }
    }
}

/// Whether `line` declares a public item at the top level of its file. The name tables declare
/// their enum one level down, inside `name_table!`.
fn declares_public_item(line: &str) -> bool {
    let top = ["pub struct ", "pub enum ", "pub fn ", "pub const fn ", "pub trait ", "macro_rules! "];
    top.iter().any(|start| line.starts_with(start))
        || line.starts_with("pub use platform_gate_macros::")
        || line.starts_with("    pub enum ")
}

#[test]
fn every_public_item_has_an_example() {
    let mut files = Vec::new();
    for crate_dir in ["runtime", "fleet"] {
        sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(crate_dir).join("src"), &mut files);
    }
    let mut checked = Vec::new();
    let mut missing = Vec::new();
    for file in files {
        let text = fs::read_to_string(&file).expect("read");
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if !declares_public_item(line) {
                continue;
            }
            // The doc comment and attributes right above the item.
            let above: Vec<&str> = lines[..i]
                .iter()
                .rev()
                .map(|line| line.trim_start())
                .take_while(|line| line.starts_with("///") || line.starts_with("#["))
                .collect();
            let exported = !line.starts_with("macro_rules!") || above.contains(&"#[macro_export]");
            if !exported || above.iter().any(|line| line.starts_with("#[doc(hidden)]")) {
                continue;
            }
            let item = format!("{}: {}", file.display(), line.trim());
            if !above.iter().any(|line| line.starts_with("/// ```")) {
                missing.push(item.clone());
            }
            checked.push(item);
        }
    }
    assert!(
        checked.iter().filter(|item| item.contains("fleet/src")).count() >= 10 && checked.len() >= 30,
        "the scan found too few items to be working: {checked:#?}"
    );
    assert!(missing.is_empty(), "public items without an example: {missing:#?}");
}
