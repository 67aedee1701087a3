//! Images as FILE arguments: `check` judges each platform entry against its binaries, with the exit
//! status that says whether an advertised platform refuses; `kubernetes IMAGE` is `kubernetes` on
//! the same binaries; a bad image is one line and exit 2; `nfd-compat --attach` writes into a
//! layout only, and only what it says.

#[path = "common/command.rs"]
mod command;
mod common;
#[path = "common/image.rs"]
mod image;

use command::{run, text};
use common::{ETCD_MANIFEST, KV_MANIFEST, file_of};
use image::{binary, layout};

/// `(status, stdout, stderr)` of the command.
fn status_of(args: &[&str]) -> (i32, String, String) {
    let output = run(args, b"");
    (output.status.code().unwrap(), text(&output.stdout).to_string(), text(&output.stderr).to_string())
}

#[test]
fn check_judges_every_entry_and_fails_where_an_advertised_platform_would_not_start() {
    let etcd = binary(&ETCD_MANIFEST);
    let good = layout("check-good", &[("amd64", &etcd)]);
    let (status, out, err) = status_of(&["check", good.to_str().unwrap()]);
    assert_eq!(status, 0, "{err}");
    assert!(
        out.ends_with("starts /usr/bin/server\n  /usr/bin/server (the entrypoint): etcd starts\n"),
        "{out}"
    );
    assert!(out.starts_with("linux/amd64 (sha256:"), "{out}");

    // The same binary advertised for arm64 too: that entry would not start it.
    let wrong = layout("check-wrong", &[("amd64", &etcd), ("arm64", &etcd)]);
    let (status, out, err) = status_of(&["check", &format!("oci:{}:latest", wrong.display())]);
    assert_eq!(status, 1, "{err}");
    assert!(out.contains("\n  /usr/bin/server (the entrypoint): etcd is a binary for linux/amd64, not for the platform its entry advertises\n"), "{out}");
    assert!(err.ends_with(": 1 of 2 advertised platforms would not start: linux/arm64\n"), "{err}");

    // kvd's matrix has amd64 unstable: it refuses without KVD_UNSUPPORTED_ARCH, exit 3.
    let kvd = layout("check-kvd", &[("amd64", &binary(&KV_MANIFEST))]);
    let (status, out, _) = status_of(&["check", kvd.to_str().unwrap()]);
    assert_eq!(status, 1);
    assert!(out.contains("kvd refuses without its variable (KVD_UNSUPPORTED_ARCH unset: exits 3): this advertised platform crash-loops"), "{out}");

    // A flag that judges one binary is refused for an image, in one line.
    let (status, _, err) = status_of(&["check", "--env", "amd64", good.to_str().unwrap()]);
    assert_eq!((status, err.lines().count()), (2, 1), "{err}");
    // No gated binary: cannot tell.
    let plain = layout("check-plain", &[("amd64", b"#!/bin/sh\n")]);
    let (status, out, err) = status_of(&["check", plain.to_str().unwrap()]);
    assert_eq!(
        (status, err.as_str()),
        (2, format!("platform-gate: {}: no gated binary in the image\n", plain.display()).as_str()),
        "{out}"
    );
}

#[test]
fn kubernetes_and_docker_on_an_image_are_what_they_are_on_its_binaries() {
    let etcd = binary(&ETCD_MANIFEST);
    let loose = file_of("image-kubernetes", "etcd", &etcd);
    let image = layout("kubernetes", &[("amd64", &etcd), ("arm64", &etcd)]);
    for command in ["kubernetes", "docker", "nfd-rule", "nfd-compat"] {
        let from_file = status_of(&[command, loose.to_str().unwrap()]);
        let (status, out, err) = status_of(&[command, image.to_str().unwrap()]);
        assert_eq!((status, out.as_str()), (from_file.0, from_file.1.as_str()), "{command}: {err}");
        // The arm64 entry's amd64 binary is left out, and said to be.
        assert!(err.contains(" linux/arm64 /usr/bin/server: is a binary for linux/amd64, not for the platform its entry advertises; left out\n"), "{command}: {err}");
    }
}

#[test]
fn a_bad_image_is_one_line_and_exit_2() {
    let etcd = binary(&ETCD_MANIFEST);
    let dir = layout("bad", &[("amd64", &etcd)]);
    let (status, _, err) = status_of(&["show", "--max-layer-size", "1000", dir.to_str().unwrap()]);
    assert_eq!((status, err.lines().count()), (2, 1), "{err}");
    assert!(
        err.contains(", over the limit of 1000, and was not read further (a decompression bomb?)"),
        "{err}"
    );
    for entry in std::fs::read_dir(dir.join("blobs/sha256")).unwrap() {
        let path = entry.unwrap().path();
        if std::fs::metadata(&path).unwrap().len() > 2000 {
            std::fs::remove_file(&path).unwrap();
            let digest = format!("sha256:{}", path.file_name().unwrap().to_str().unwrap());
            for command in ["show", "check", "kubernetes", "nodes"] {
                let args: Vec<&str> = if command == "nodes" {
                    vec![command, "-", dir.to_str().unwrap()]
                } else {
                    vec![command, dir.to_str().unwrap()]
                };
                let (status, _, err) = status_of(&args);
                let line = format!("platform-gate: blob {digest} (layer 1 of 1 of manifest sha256:");
                assert!(
                    status == 2
                        && err.starts_with(&line)
                        && err.ends_with(") is missing\n")
                        && err.lines().count() == 1,
                    "{command}: {err}"
                );
            }
        }
    }
    let (status, _, err) = status_of(&["check", "oci:/nonexistent/layout"]);
    assert_eq!(
        (status, err.as_str()),
        (2, "platform-gate: /nonexistent/layout/index.json: No such file or directory (os error 2)\n")
    );
}

#[test]
fn attach_writes_the_artifact_into_a_layout_and_nothing_else() {
    let etcd = binary(&ETCD_MANIFEST);
    let dir = layout("attach", &[("amd64", &etcd), ("arm64", &etcd)]);
    let index = std::fs::read(dir.join("index.json")).unwrap();
    let (status, out, err) = status_of(&["nfd-compat", "--attach", dir.to_str().unwrap()]);
    assert_eq!(status, 0, "{err}");
    // The arm64 entry holds no arm64 binary: nothing attached to it.
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.starts_with("linux/amd64 sha256:") && out.contains(": attached sha256:"), "{out}");
    assert!(err.contains("platform-gate: linux/arm64: nothing attached: "), "{err}");
    // Attached again: the earlier artifact is replaced, not doubled.
    assert_eq!(status_of(&["nfd-compat", "--attach", dir.to_str().unwrap()]).1, out);
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    let manifests = written["manifests"].as_array().unwrap();
    assert_eq!(manifests.len(), 2, "{written}");
    assert_eq!(manifests[1]["artifactType"], "application/vnd.nfd.image-compatibility.v1alpha1");
    // No temporary file is left, and the image reads as before.
    let stray: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .chain(std::fs::read_dir(dir.join("blobs/sha256")).unwrap())
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.starts_with('.'))
        .collect();
    assert!(stray.is_empty(), "{stray:?}");
    assert_eq!(status_of(&["check", dir.to_str().unwrap()]).0, 1);
    assert_ne!(std::fs::read(dir.join("index.json")).unwrap(), index);

    // Not a layout: nothing written, one line.
    let (status, _, err) = status_of(&["nfd-compat", "--attach", "oci-archive:/nonexistent.tar"]);
    assert_eq!((status, err.lines().count()), (2, 1), "{err}");
}
