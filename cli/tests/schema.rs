//! `docs/manifest.schema.json` is the contract of `platform-gate show --json`: every object the
//! command prints for the fixtures' manifests is valid, and none is once a required key is removed
//! or a value has the wrong type, so that the schema is not vacuous. And `tests/manifest_reader.py`,
//! a second reader written from `docs/manifest.md` alone, reads the fixtures alike.

mod common;
#[path = "common/image.rs"]
mod image;

use std::path::PathBuf;
use std::process::Command;

use common::{ALPINE_MANIFEST, ETCD_MANIFEST, KV_MANIFEST};
use serde_json::{Value, json};

fn schema() -> jsonschema::Validator {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/manifest.schema.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::draft202012::new(&schema).expect("a valid JSON Schema 2020-12")
}

/// What `platform-gate show --json` prints for a file of these bytes: one object per manifest.
fn shown(name: &str, bytes: &[u8]) -> Vec<Value> {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("schema");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    show_json(&path)
}

/// What `platform-gate show --json` prints for `path` (a binary, or an image): one object per manifest.
fn show_json(path: &std::path::Path) -> Vec<Value> {
    let output = Command::new(env!("CARGO_BIN_EXE_platform-gate"))
        .args(["show", "--json"])
        .arg(path)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn outputs() -> Vec<Value> {
    let both = [&ETCD_MANIFEST[..], &KV_MANIFEST[..]].concat();
    let mut all = shown("kvd", &KV_MANIFEST);
    all.extend(shown("etcd", &ETCD_MANIFEST));
    all.extend(shown("alpine", &ALPINE_MANIFEST));
    all.extend(shown("both", &both));
    assert_eq!(all.len(), 5);
    all
}

#[test]
fn the_commands_output_is_valid() {
    let schema = schema();
    for output in outputs() {
        let errors: Vec<String> = schema.iter_errors(&output).map(|error| error.to_string()).collect();
        assert!(errors.is_empty(), "{output}: {errors:?}");
    }
    // Both forms of the nullable keys occur, so both branches of the schema are exercised.
    let all = outputs();
    assert!(all.iter().any(|o| o["packager"].is_null()) && all.iter().any(|o| o["packager"].is_object()));
    assert!(
        all.iter().any(|o| o["crate_version"].is_null())
            && all.iter().any(|o| o["crate_version"].is_string())
    );
}

/// Every object key of `value`, as JSON pointers, nested ones included.
fn pointers(value: &Value, at: &str, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                let pointer = format!("{at}/{key}");
                found.push(pointer.clone());
                pointers(inner, &pointer, found);
            }
        }
        Value::Array(items) => {
            for (i, inner) in items.iter().enumerate() {
                pointers(inner, &format!("{at}/{i}"), found);
            }
        }
        _ => {}
    }
}

#[test]
fn a_removed_key_or_a_wrong_type_is_rejected() {
    let schema = schema();
    let kvd = shown("kvd-mutated", &KV_MANIFEST).remove(0);
    let mut keys = Vec::new();
    pointers(&kvd, "", &mut keys);
    assert!(keys.len() > 30, "{keys:?}");
    for pointer in &keys {
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        let mut removed = kvd.clone();
        removed.pointer_mut(parent).and_then(Value::as_object_mut).unwrap().remove(key);
        assert!(!schema.is_valid(&removed), "without {pointer}");
        // The wrong type: an object for a string, a number for a null, a string for the rest.
        let mut retyped = kvd.clone();
        let value = retyped.pointer_mut(pointer).unwrap();
        *value = match value {
            Value::String(_) => json!({"not": "a string"}),
            Value::Null => json!(42),
            _ => json!("a string"),
        };
        assert!(!schema.is_valid(&retyped), "{pointer} retyped");
    }
    for (pointer, bad) in [
        ("/policy/check", json!("os")),
        ("/policy/exit_code", json!(0)),
        ("/matrix/0/status", json!("supported")),
        ("/variable", json!("KVD=1")),
        ("/cpu/level", json!(5)),
    ] {
        let mut wrong = kvd.clone();
        *wrong.pointer_mut(pointer).unwrap() = bad.clone();
        assert!(!schema.is_valid(&wrong), "{pointer} = {bad}");
    }
}

/// `show --json` on an image: each binary's object has `image`, which the schema binds as it binds
/// the rest (removed keys and wrong types rejected), and which a loose binary's object lacks.
#[test]
fn an_images_binaries_are_valid_with_where_they_are_in_the_image() {
    let schema = schema();
    let etcd = image::binary(&ETCD_MANIFEST);
    let layout = image::layout("schema", &[("amd64", &etcd), ("arm64", &etcd)]);
    let shown = show_json(&layout);
    assert_eq!(shown.len(), 2);
    for object in &shown {
        let errors: Vec<String> = schema.iter_errors(object).map(|error| error.to_string()).collect();
        assert!(errors.is_empty(), "{object}: {errors:?}");
        assert_eq!(
            (&object["image"]["path"], &object["image"]["entrypoint"]),
            (&json!("/usr/bin/server"), &json!(true))
        );
        assert_eq!(object["image"]["reference"], json!("latest"));
    }
    assert_eq!(
        shown[1]["image"]["platform"],
        json!({"os": "linux", "architecture": "arm64", "variant": null})
    );
    let mut keys = Vec::new();
    pointers(&shown[0]["image"], "/image", &mut keys);
    assert_eq!(keys.len(), 8, "{keys:?}");
    for pointer in &keys {
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        let mut removed = shown[0].clone();
        removed.pointer_mut(parent).and_then(Value::as_object_mut).unwrap().remove(key);
        assert!(!schema.is_valid(&removed), "without {pointer}");
        let mut retyped = shown[0].clone();
        *retyped.pointer_mut(pointer).unwrap() = json!(42);
        assert!(!schema.is_valid(&retyped), "{pointer} retyped");
    }
    assert!(outputs().iter().all(|object| object.get("image").is_none()));
}

/// `tests/manifest_reader.py`, a reader written from `docs/manifest.md` alone, reads every fixture
/// as the command does: in `cargo test` where `python3` exists, and always in CI (`CI=true`), where
/// its absence fails the test.
#[test]
fn the_python_reader_written_from_the_specification_reads_alike() {
    let python = Command::new("python3").arg("--version").output();
    if python.is_err() {
        assert!(std::env::var_os("CI").is_none(), "CI must run the Python reader: install python3");
        eprintln!("skipped: no python3 here");
        return;
    }
    let reader = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/manifest_reader.py");
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("schema");
    for (name, bytes) in [
        ("py-kvd", KV_MANIFEST.to_vec()),
        ("py-alpine", ALPINE_MANIFEST.to_vec()),
        ("py-both", [&ETCD_MANIFEST[..], b"between", &KV_MANIFEST[..]].concat()),
    ] {
        let ours = shown(name, &bytes);
        let output = Command::new("python3").arg(&reader).arg(dir.join(name)).output().unwrap();
        assert!(output.status.success(), "{name}: {}", String::from_utf8_lossy(&output.stderr));
        let python: Vec<Value> = String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        // The Python reader prints the manifest's own keys: not where it was found, nor the union
        // of the CPU features, which the command derives.
        let ours: Vec<Value> = ours
            .into_iter()
            .map(|mut object| {
                let map = object.as_object_mut().unwrap();
                map.remove("file");
                map.remove("offset");
                map["cpu"].as_object_mut().unwrap().remove("features");
                object
            })
            .collect();
        assert_eq!(python, ours, "{name}");
    }
    // And it rejects what the command rejects: a flipped byte.
    let mut flipped = KV_MANIFEST.to_vec();
    flipped[40] ^= 1;
    std::fs::write(dir.join("py-flipped"), &flipped).unwrap();
    let output = Command::new("python3").arg(&reader).arg(dir.join("py-flipped")).output().unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", String::from_utf8_lossy(&output.stdout));
}
