//! CONTRIBUTING.md's zone table is the one place that says which rules govern a file and which
//! check proves a change to it: every source file of the repository (Rust, shell, Python, and the
//! CI scripts) is in exactly one zone, and every path the table names is a file that exists.

use std::fs;
use std::path::Path;

/// The backticked paths of each zone's "files" column, by the zone's bold name.
fn zones(contributing: &str) -> Vec<(String, Vec<String>)> {
    let table = contributing.split("## The zones").nth(1).expect("CONTRIBUTING.md has \"## The zones\"");
    table
        .lines()
        .filter(|line| line.starts_with("| **"))
        .map(|line| {
            let cells: Vec<&str> = line.split(" | ").collect();
            let name = cells[0].trim_start_matches("| **").split("**").next().expect("a bold name");
            let paths = cells[1].split('`').skip(1).step_by(2).flat_map(expand_braces).collect();
            (name.to_owned(), paths)
        })
        .collect()
}

/// `a/{b,c}.rs` as `a/b.rs` and `a/c.rs`: one brace group, as the table writes them.
fn expand_braces(pattern: &str) -> Vec<String> {
    let Some((head, rest)) = pattern.split_once('{') else {
        return vec![pattern.to_owned()];
    };
    let (choices, tail) = rest.split_once('}').expect("a brace group ends");
    choices.split(',').map(|choice| format!("{head}{choice}{tail}")).collect()
}

/// Whether `path` matches `pattern`, both `/`-separated: `*` is any part of one component, `**`
/// any number of components.
fn matches(pattern: &str, path: &str) -> bool {
    fn components(pattern: &[&str], path: &[&str]) -> bool {
        match (pattern.split_first(), path.split_first()) {
            (None, None) => true,
            (Some((&"**", rest)), _) => {
                components(rest, path)
                    || path.split_first().is_some_and(|(_, tail)| components(pattern, tail))
            }
            (Some((glob, rest)), Some((name, tail))) => component(glob, name) && components(rest, tail),
            _ => false,
        }
    }
    fn component(glob: &str, name: &str) -> bool {
        match glob.split_once('*') {
            None => glob == name,
            Some((prefix, suffix)) => {
                name.len() >= prefix.len() + suffix.len()
                    && name.starts_with(prefix)
                    && name.ends_with(suffix)
            }
        }
    }
    components(&pattern.split('/').collect::<Vec<_>>(), &path.split('/').collect::<Vec<_>>())
}

/// Every source file under `dir`, relative to `root`: what a change is made to. Build output,
/// fuzzing's corpus and symlinks (the macro crate's view of the runtime's `names/`) are not.
fn source_files(root: &Path, dir: &Path, out: &mut Vec<String>) {
    for entry in fs::read_dir(dir).expect("read_dir") {
        let entry = entry.expect("entry");
        let path = entry.path();
        let relative = path.strip_prefix(root).expect("under the root").to_string_lossy().replace('\\', "/");
        let kind = entry.file_type().expect("file type");
        let name = entry.file_name().to_string_lossy().into_owned();
        if kind.is_symlink() {
            continue;
        }
        if kind.is_dir() {
            let skipped = name == "target" || name == "node_modules" || relative == "fuzz/corpus";
            if !skipped && (!name.starts_with('.') || name == ".ci") {
                source_files(root, &path, out);
            }
        } else if relative.starts_with(".ci/")
            || [".rs", ".sh", ".py", ".go"].iter().any(|ext| name.ends_with(ext))
        {
            out.push(relative);
        }
    }
}

#[test]
fn every_source_file_is_in_exactly_one_zone() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ is in the workspace");
    let zones = zones(&fs::read_to_string(root.join("CONTRIBUTING.md")).expect("CONTRIBUTING.md"));
    assert!(zones.len() >= 6, "the zone table was not read: {zones:?}");
    let mut files = Vec::new();
    source_files(root, root, &mut files);
    files.sort();
    assert!(files.iter().any(|file| file == "runtime/src/lib.rs") && files.len() > 100, "{files:?}");

    let mut problems = Vec::new();
    for file in &files {
        let homes: Vec<&str> = zones
            .iter()
            .filter(|(_, patterns)| patterns.iter().any(|pattern| matches(pattern, file)))
            .map(|(name, _)| name.as_str())
            .collect();
        match homes.len() {
            1 => {}
            0 => problems.push(format!("{file} is in no zone")),
            _ => problems.push(format!("{file} is in {} zones: {}", homes.len(), homes.join(", "))),
        }
    }
    for (name, patterns) in &zones {
        for pattern in patterns {
            if !files.iter().any(|file| matches(pattern, file)) {
                problems.push(format!("{name}: `{pattern}` names no source file"));
            }
        }
    }
    assert!(problems.is_empty(), "CONTRIBUTING.md's zone table:\n{}", problems.join("\n"));
}

#[test]
fn the_table_reader_expands_and_matches_as_the_table_means() {
    assert_eq!(expand_braces("a/{b,c}.rs"), ["a/b.rs", "a/c.rs"]);
    assert_eq!(expand_braces("a/*.rs"), ["a/*.rs"]);
    assert!(matches("cli/**", "cli/src/command/show.rs"));
    assert!(matches("tests/ui/**/*.rs", "tests/ui/fail/x.rs"));
    assert!(matches("runtime/src/cpu/*.rs", "runtime/src/cpu/set.rs"));
    assert!(!matches("runtime/src/cpu/*.rs", "runtime/src/cpu.rs"));
    assert!(!matches("runtime/src/*.rs", "runtime/src/cpu/set.rs"));
    assert!(!matches("tests/ui/**/*.rs", "tests/ui.rs"));
    assert!(!matches("runtime/src/cpu/set.rs", "runtime/src/cpu/sets.rs"));
    let table = "## The zones\n| zone | files |\n|---|---|\n| **A**: x `not/a/path` | `a/{b,c}.rs`, `d/**` | check |\n";
    assert_eq!(
        zones(table),
        [("A".to_owned(), vec!["a/b.rs".to_owned(), "a/c.rs".to_owned(), "d/**".to_owned()])]
    );
}
