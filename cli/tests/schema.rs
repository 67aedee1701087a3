//! `docs/manifest.schema.json` is the contract of `platform-gate show --json` (and
//! `docs/check.schema.json` of `check --json`, `docs/nodes.schema.json` of `nodes --json`): every object the
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
    schema_of("manifest.schema.json")
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
    assert!(rejects_removed_and_retyped(&schema, &kvd) > 30, "{kvd}");
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

/// The schema at `docs/NAME`.
fn schema_of(name: &str) -> jsonschema::Validator {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs").join(name);
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::draft202012::new(&schema).expect("a valid JSON Schema 2020-12")
}

/// Each line the command prints for `args` (with `stdin`), as JSON.
fn json_lines(args: &[&str], stdin: &[u8]) -> Vec<Value> {
    use std::io::Write as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_platform-gate"))
        .args(args)
        .env_remove("KVD_UNSUPPORTED_ARCH")
        .env_remove("ETCD_UNSUPPORTED_ARCH")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let output = child.wait_with_output().unwrap();
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// Asserts that `schema` rejects `object` without any one of its keys, nested ones included, and
/// with any one value of the wrong type (an object for a string, a number for a null, a string
/// for the rest); returns how many keys it tried.
fn rejects_removed_and_retyped(schema: &jsonschema::Validator, object: &Value) -> usize {
    let mut keys = Vec::new();
    pointers(object, "", &mut keys);
    for pointer in &keys {
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        let mut removed = object.clone();
        removed.pointer_mut(parent).and_then(Value::as_object_mut).unwrap().remove(key);
        assert!(!schema.is_valid(&removed), "without {pointer}");
        let mut retyped = object.clone();
        let value = retyped.pointer_mut(pointer).unwrap();
        *value = match value {
            Value::String(_) => json!({"not": "a string"}),
            Value::Null => json!(42),
            _ => json!("a string"),
        };
        assert!(!schema.is_valid(&retyped), "{pointer} retyped");
    }
    keys.len()
}

/// Every object valid, and none once a key is removed or its value retyped.
fn bound(schema: &jsonschema::Validator, objects: &[Value]) {
    for object in objects {
        let errors: Vec<String> = schema.iter_errors(object).map(|error| error.to_string()).collect();
        assert!(errors.is_empty(), "{object}: {errors:?}");
        rejects_removed_and_retyped(schema, object);
        let mut extra = object.clone();
        extra.as_object_mut().unwrap().insert("undocumented".into(), json!(1));
        assert!(!schema.is_valid(&extra), "a key the schema does not name");
    }
}

/// `check --json` against `docs/check.schema.json`: a start, a warning and a refusal.
#[test]
fn check_json_is_valid_and_bound() {
    let schema = schema_of("check.schema.json");
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("schema");
    std::fs::create_dir_all(&dir).unwrap();
    let (etcd, kvd) = (dir.join("etcd-check"), dir.join("kvd-check"));
    std::fs::write(&etcd, ETCD_MANIFEST).unwrap();
    std::fs::write(&kvd, KV_MANIFEST).unwrap();
    let mut objects = Vec::new();
    for args in [
        vec!["check", "--json", etcd.to_str().unwrap()],
        vec!["check", "--json", "--unset", kvd.to_str().unwrap()],
        vec!["check", "--json", "--env", "amd64,arm64,s390x,riscv64,x86", kvd.to_str().unwrap()],
        vec!["check", "--json", "--cpu-features", "", kvd.to_str().unwrap()],
    ] {
        objects.extend(json_lines(&args, b""));
    }
    assert_eq!(objects.len(), 4);
    let verdicts: Vec<&str> = objects.iter().map(|object| object["verdict"].as_str().unwrap()).collect();
    assert!(verdicts.contains(&"starts") || verdicts.contains(&"warns"), "{verdicts:?}");
    assert!(
        objects
            .iter()
            .any(|object| object["exit_code"] != 0 && !object["stderr"].as_str().unwrap().is_empty())
    );
    bound(&schema, &objects);
}

/// `nodes --json` against `docs/nodes.schema.json`: nodes that start, refuse and have no binary,
/// with and without `--features`.
#[test]
fn nodes_json_is_valid_and_bound() {
    let schema = schema_of("nodes.schema.json");
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("schema");
    std::fs::create_dir_all(&dir).unwrap();
    let (etcd, kvd) = (dir.join("etcd-nodes"), dir.join("kvd-nodes"));
    std::fs::write(&etcd, ETCD_MANIFEST).unwrap();
    std::fs::write(&kvd, KV_MANIFEST).unwrap();
    let node = |name: &str, arch: &str| json!({"kind": "Node", "metadata": {"name": name, "labels": {"kubernetes.io/arch": arch, "kubernetes.io/os": "linux"}}});
    let list = json!({"apiVersion": "v1", "kind": "List", "items": [node("a", "amd64"), node("b", "arm64"), node("c", "s390x")]});
    let features = json!({"apiVersion": "v1", "kind": "List", "items": [{"kind": "NodeFeature",
        "metadata": {"name": "a", "labels": {"nfd.node.kubernetes.io/node-name": "a"}},
        "spec": {"features": {"flags": {"cpu.cpuid": {"elements": {"SSE3": {}}}}}}}]});
    let features_path = dir.join("features.json");
    std::fs::write(&features_path, features.to_string()).unwrap();
    let one = json!({"apiVersion": "v1", "kind": "List", "items": [node("a", "amd64")]});
    let mut objects = json_lines(
        &["nodes", "--json", "-", etcd.to_str().unwrap(), kvd.to_str().unwrap()],
        list.to_string().as_bytes(),
    );
    objects.extend(json_lines(
        &["nodes", "--json", "--features", features_path.to_str().unwrap(), "-", etcd.to_str().unwrap()],
        one.to_string().as_bytes(),
    ));
    assert_eq!(objects.len(), 4);
    assert!(
        objects.iter().any(|object| object["cpu_from"].is_null())
            && objects.iter().any(|object| object["cpu_from"] == "features")
    );
    bound(&schema, &objects);
}
