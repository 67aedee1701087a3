// Hostile images, each refused in one line: a digest that does not match, a missing blob, a tar
// header that lies about its size, a path that climbs out, a symlink loop, a gzip bomb, a truncated
// layer, an index that points to itself, unknown media types.

use serde_json::json;

use super::tests::{Entry, Layout, TAR, TAR_GZ, binary, error_of, gzip, tar};
use super::{Image, ReadOptions};
use crate::image::store::BlobDigest;

#[test]
fn a_blob_that_does_not_match_its_digest_and_a_missing_blob_are_named() {
    let layout = Layout::new("digest");
    let layer = tar(&[Entry::File("usr/bin/etcd", &binary(), 0o755)]);
    let image = layout.image("amd64", json!({}), &[(TAR, layer.clone())]);
    layout.index(vec![image]);
    let digest = BlobDigest::sha256_of(&layer);
    let path = layout.dir.join(digest.blob_path());
    let mut tampered = layer.clone();
    tampered[600] ^= 1; // in the file's bytes, before its manifest: the tar still reads
    std::fs::write(&path, &tampered).unwrap();
    let found = BlobDigest::sha256_of(&tampered);
    assert_eq!(
        error_of(&layout.dir),
        format!("blob {digest} does not match its digest: its bytes hash to {found}")
    );
    tampered.push(0);
    std::fs::write(&path, &tampered).unwrap();
    let longer = format!(
        "blob {digest} does not match its digest: more than {} bytes where its descriptor says {}",
        layer.len(),
        layer.len()
    );
    assert_eq!(error_of(&layout.dir), longer);
    std::fs::remove_file(&path).unwrap();
    let error = error_of(&layout.dir);
    assert!(
        error.starts_with(&format!("blob {digest} (layer 1 of 1 of manifest sha256:"))
            && error.ends_with(") is missing"),
        "{error}"
    );
}

/// The error of a layout whose one layer (plain tar) is `layer`.
fn error_of_layer(name: &str, layer: Vec<u8>, media_type: &str, options: &ReadOptions) -> String {
    let layout = Layout::new(name);
    let image = layout.image("amd64", json!({"Entrypoint": ["/a"]}), &[(media_type, layer)]);
    layout.index(vec![image]);
    let error = Image::recognise(&layout.dir).unwrap().unwrap().read(options).unwrap_err().to_string();
    assert!(!error.contains('\n'), "{error}");
    error
}

#[test]
fn hostile_layers_get_one_line_each() {
    let options = ReadOptions::default();
    // A header whose size is larger than what follows it.
    let mut lying = tar(&[Entry::File("usr/bin/etcd", &binary(), 0o755)]);
    lying.truncate(512 + 1024);
    let error = error_of_layer("lying", lying, TAR, &options);
    let expected = format!(
        ": /usr/bin/etcd: the tar ends inside it: its header says {} bytes, the layer has 1024",
        binary().len()
    );
    assert!(error.contains(&expected), "{error}");
    // A path that climbs out of the root: written as a raw header, which the tar crate will not write.
    let mut climbing = tar(&[Entry::File("xx/passwd", b"root", 0o644)]);
    climbing[..9].copy_from_slice(b"../passwd");
    let mut header = tar::Header::from_byte_slice(&climbing[..512]).clone();
    header.set_cksum();
    climbing[..512].copy_from_slice(header.as_bytes());
    let error = error_of_layer("climbing", climbing, TAR, &options);
    assert!(error.ends_with(r#"the path "../passwd" climbs out of the image's root"#), "{error}");
    // A symlink loop on the entrypoint's way.
    let looping = tar(&[Entry::Symlink("a", "b"), Entry::Symlink("b", "/a")]);
    let error = error_of_layer("looping", looping, TAR, &options);
    assert_eq!(error, "/a: resolves through more than 40 symlinks (a symlink loop)");
    // A truncated gzip layer, whose digest is of the truncated bytes (the digest does not catch it).
    let mut truncated = gzip(&tar(&[Entry::File("usr/bin/etcd", &binary(), 0o755)]));
    truncated.truncate(truncated.len() / 2);
    let error = error_of_layer("truncated", truncated, TAR_GZ, &options);
    assert!(
        error.starts_with("layer sha256:") && error.ends_with(": /usr/bin/etcd: incomplete deflate stream"),
        "{error}"
    );
    // A gzip bomb: 12 MiB of zeros in 12 KiB, against a limit of 4 MiB. It stops within a piece
    // (256 KiB) of the limit, having read a few KiB of the blob.
    let bomb = gzip(&tar(&[Entry::File("zeros", &vec![0; 12 << 20], 0o644)]));
    let small = ReadOptions { max_layer_size: 4 << 20, ..ReadOptions::default() };
    let error = error_of_layer("bomb", bomb, TAR_GZ, &small);
    let words: Vec<&str> = error.split(' ').collect();
    let (decompressed, compressed): (u64, u64) =
        (words[4].parse().unwrap(), words[7].trim_end_matches(',').parse().unwrap());
    assert!((4 << 20..(4 << 20) + (512 << 10)).contains(&decompressed) && compressed <= 128 << 10, "{error}");
    assert!(
        error.ends_with("over the limit of 4194304, and was not read further (a decompression bomb?)"),
        "{error}"
    );
    // A layer of a media type the reader does not know.
    let error = error_of_layer("media", tar(&[]), "application/vnd.example.layer", &options);
    assert!(
        error.ends_with(r#"has media type "application/vnd.example.layer", which this reader does not know"#),
        "{error}"
    );
}

#[test]
fn an_index_that_points_to_itself_and_an_unknown_manifest_type() {
    let layout = Layout::new("loop");
    // An index whose child has its own digest: found by reading it, before its digest is checked.
    let index = json!({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.index.v1+json",
        "digest": format!("sha256:{}", "a".repeat(64)), "size": 10}]});
    let bytes = index.to_string();
    std::fs::write(layout.dir.join(format!("blobs/sha256/{}", "a".repeat(64))), &bytes).unwrap();
    let mut descriptor = json!({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": format!("sha256:{}", "a".repeat(64)), "size": bytes.len()});
    layout.index(vec![descriptor.clone()]);
    let error = error_of(&layout.dir);
    assert_eq!(
        error,
        format!(
            "index sha256:{0}: refers to sha256:{0}, itself or an index above it: a loop",
            "a".repeat(64)
        )
    );
    descriptor["mediaType"] = json!("application/vnd.example.thing");
    layout.index(vec![descriptor]);
    let error = error_of(&layout.dir);
    assert!(
        error.ends_with(r#"has media type "application/vnd.example.thing", which this reader does not know"#),
        "{error}"
    );
    // A digest that would climb out of the layout is no digest.
    layout.index(vec![json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:../../etc/passwd", "size": 1})]);
    let error = error_of(&layout.dir);
    assert!(
        error.starts_with("index.json: not what the image spec defines: ")
            && error.contains("../../etc/passwd"),
        "{error}"
    );
}

#[test]
fn what_an_image_says_is_written_on_one_line() {
    // A name in a tar with a newline in it, as the error names it: escaped, not a second line.
    let mut named = tar(&[Entry::File("usr/bin/x", b"x", 0o644)]);
    named[..9].copy_from_slice(b"../a\nb\tcc");
    let mut header = tar::Header::from_byte_slice(&named[..512]).clone();
    header.set_cksum();
    named[..512].copy_from_slice(header.as_bytes());
    let layout = Layout::new("newline");
    let image = layout.image("amd64", json!({}), &[(TAR, named)]);
    layout.index(vec![image]);
    let error = error_of(&layout.dir);
    assert!(error.ends_with(r#"the path "../a\nb\tcc" climbs out of the image's root"#), "{error}");
    let error = super::ImageError::Reference("tag \"a\nb\" \u{1b}[31m".to_string()).to_string();
    assert_eq!(error, r#"tag "a\nb" \u{1b}[31m"#);
}
