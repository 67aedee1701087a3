#!/usr/bin/env bash
# Images as operators build them, read by `platform-gate`: per-platform images made with umoci from
# real gated builds (tests/cross/fixture: `imaged`, whose matrix has amd64 and arm64 stable, and
# etcd, whose matrix has arm64 experimental), assembled into two multi-platform indexes as the OCI
# image spec defines one, and copied by skopeo to an OCI archive and a `docker save` tarball.
# - good: linux/amd64 (baseline build), linux/amd64/v3 (x86-64-v3 build), linux/arm64;
# - bad: linux/amd64 holding the v3 build (needs a CPU level), linux/arm64 holding etcd (refuses
#   arm64 without ETCD_UNSUPPORTED_ARCH), linux/riscv64 holding an amd64 binary.
# Proven here: each entry's verdict from `check IMAGE` is what its binary, unpacked by umoci, does
# when run under qemu-user on a CPU of the entry's platform (Nehalem for a plain amd64 entry,
# Haswell for amd64/v3); `kubernetes IMAGE` prints what `kubernetes` prints for the same binaries;
# the archive, the tarball and skopeo's zstd recompression read as the layout does;
# `nfd-compat --attach` writes NFD's artifact, which skopeo and umoci still read past, with the spec
# `nfd-compat` prints for the binary; a blob flipped or missing is one line and exit 2.
# Usage: tests/image/run.sh    (installs skopeo, umoci, qemu-user, Debian's Rust and an aarch64 linker)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$root/target/image
fixture=$root/tests/cross/fixture/Cargo.toml
# shellcheck source=../cross/common.sh
source "$root/tests/cross/common.sh"

if [ "$(uname -m)" != x86_64 ]; then
  echo "image: the builds and CPU models are x86's; skipped on $(uname -m)"
  exit 0
fi
began=$(date +%s)
install skopeo umoci gcc-aarch64-linux-gnu libc6-dev-arm64-cross
rm -rf "$work/layout" "$work/unpacked" "$work/attached" "$work/hostile" "$work/zstd" "$work"/*.tar
mkdir -p "$work/bin"
cargo build --quiet -p platform-gate-cli --bin platform-gate --target-dir "$root/target"
pg=$root/target/debug/platform-gate

# The builds. --target keeps RUSTFLAGS off the proc macros, which run here.
for build in baseline v3; do
  flags=""; [ "$build" = baseline ] || flags="-C target-cpu=x86-64-v3"
  RUSTFLAGS="$flags" cargo build --quiet --manifest-path "$fixture" --features imaged --bin imaged \
    --target x86_64-unknown-linux-gnu --target-dir "$work/target-$build"
  cp "$work/target-$build/x86_64-unknown-linux-gnu/debug/imaged" "$work/bin/imaged-amd64-$build"
done
build aarch64-unknown-linux-gnu aarch64-linux-gnu-gcc "$fixture" "$work/target-arm64" build --features imaged --bin imaged --bin etcd
cp "$work/target-arm64/aarch64-unknown-linux-gnu/debug/imaged" "$work/bin/imaged-arm64"
cp "$work/target-arm64/aarch64-unknown-linux-gnu/debug/etcd" "$work/bin/etcd-arm64"
echo "image: builds ready in $(( $(date +%s) - began ))s"

# One image per entry: the binary as /usr/bin/NAME, and the entrypoint `server`, found through
# PATH as /usr/local/bin/server, a symlink to it.
layout=$work/layout
umoci init --layout "$layout"
image() { # TAG OS ARCH BINARY NAME
  local tag=$1 os=$2 arch=$3 binary=$4 name=$5 links=$work/links-$1
  umoci new --image "$layout:$tag"
  umoci insert --image "$layout:$tag" "$binary" "/usr/bin/$name"
  rm -rf "$links"; mkdir -p "$links"; ln -s "../../bin/$name" "$links/server"
  umoci insert --image "$layout:$tag" "$links" /usr/local/bin
  umoci config --image "$layout:$tag" --os "$os" --architecture "$arch" --config.entrypoint server \
    --config.env PATH=/usr/local/bin:/usr/bin
}
image good-amd64 linux amd64 "$work/bin/imaged-amd64-baseline" imaged
image good-amd64-v3 linux amd64 "$work/bin/imaged-amd64-v3" imaged
image good-arm64 linux arm64 "$work/bin/imaged-arm64" imaged
image bad-amd64 linux amd64 "$work/bin/imaged-amd64-v3" imaged
image bad-arm64 linux arm64 "$work/bin/etcd-arm64" etcd
image bad-riscv64 linux riscv64 "$work/bin/imaged-amd64-baseline" imaged
# The indexes: a blob of media type image index, its entries the images' manifests with their
# platforms, named in index.json by org.opencontainers.image.ref.name.
python3 - "$layout" <<'PY'
import hashlib, json, os, sys
layout = sys.argv[1]
index = json.load(open(f"{layout}/index.json"))
by_tag = {d["annotations"]["org.opencontainers.image.ref.name"]: d for d in index["manifests"]}
def entry(tag, arch, variant=None):
    d = {k: v for k, v in by_tag[tag].items() if k != "annotations"}
    d["platform"] = {"architecture": arch, "os": "linux", **({"variant": variant} if variant else {})}
    return d
indexes = {
    "good": [entry("good-amd64", "amd64"), entry("good-amd64-v3", "amd64", "v3"), entry("good-arm64", "arm64")],
    "bad": [entry("bad-amd64", "amd64"), entry("bad-arm64", "arm64"), entry("bad-riscv64", "riscv64")],
}
for name, entries in indexes.items():
    blob = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": entries}).encode()
    digest = hashlib.sha256(blob).hexdigest()
    open(f"{layout}/blobs/sha256/{digest}", "wb").write(blob)
    index["manifests"].append({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": f"sha256:{digest}",
        "size": len(blob), "annotations": {"org.opencontainers.image.ref.name": name}})
json.dump(index, open(f"{layout}/index.json", "w"))
PY
skopeo inspect --raw "oci:$layout:good" > /dev/null

fail() { echo "image: FAIL: $*" >&2; exit 1; }
status() { "$@" > /dev/null 2>&1 && echo 0 || echo $?; }

# The verdicts, and the runs. `check` prints "PLATFORM (DIGEST): starts PATH", then a line per binary.
for index in good bad; do
  set +e; "$pg" check "oci:$layout:$index" > "$work/check-$index.txt" 2> "$work/check-$index.err"; rc=$?; set -e
  cat "$work/check-$index.txt"
  want=0; [ "$index" = good ] || want=1
  [ "$rc" = "$want" ] || fail "check oci:$index exited $rc, not $want: $(cat "$work/check-$index.err")"
done
runs=0
verdict_of() { # INDEX PLATFORM: the entrypoint's verdict, in words
  awk -v platform="$2" '$1 == platform { found = 1; next } found && /\(the entrypoint\)/ { sub(/^.*\(the entrypoint\): [^ ]+ /, ""); print; exit }' "$work/check-$1.txt"
}
judge() { # INDEX TAG PLATFORM RUNNER...
  local index=$1 tag=$2 platform=$3; shift 3
  local verdict rootfs=$work/unpacked/$tag/rootfs out rc
  verdict=$(verdict_of "$index" "$platform")
  [ -n "$verdict" ] || fail "$index $platform: no verdict for the entrypoint"
  umoci unpack --rootless --image "$layout:$tag" "$work/unpacked/$tag" > /dev/null
  local binary; binary=$(readlink -f "$rootfs/usr/local/bin/server")
  set +e; out=$("$@" "$binary" 2>&1); rc=$?; set -e
  case "$verdict" in
    starts) [ "$rc" = 0 ] && [[ "$out" == *"started on"* ]] || fail "$index $platform: says '$verdict', the run exited $rc: $out" ;;
    "refuses without its variable"*)
      local code; code=$(sed -n 's/.*unset: exits \([0-9]*\)).*/\1/p' <<< "$verdict")
      [ "$rc" = "$code" ] && [[ "$out" == *UNSUPPORTED_ARCH* ]] || fail "$index $platform: says '$verdict', the run exited $rc: $out" ;;
    "needs a CPU"*) [ "$rc" != 0 ] && [[ "$out" != *"started on"* ]] || fail "$index $platform: says '$verdict', the run exited $rc: $out" ;;
    "is a binary for"*) [ "$rc" != 0 ] && [[ "$out" != *"started on"* ]] || fail "$index $platform: says '$verdict', the run exited $rc: $out" ;;
    *) fail "$index $platform: unknown verdict '$verdict'" ;;
  esac
  echo "image: $index $platform: '$verdict'; the run exited $rc"
  runs=$((runs + 1))
}
arm64=(qemu-aarch64 -L /usr/aarch64-linux-gnu)
judge good good-amd64 linux/amd64 qemu-x86_64 -cpu Nehalem
judge good good-amd64-v3 linux/amd64/v3 qemu-x86_64 -cpu Haswell
judge good good-arm64 linux/arm64 "${arm64[@]}"
judge bad bad-amd64 linux/amd64 qemu-x86_64 -cpu Nehalem
judge bad bad-arm64 linux/arm64 "${arm64[@]}"
judge bad bad-riscv64 linux/riscv64 qemu-riscv64
# Every verdict kind was met.
for kind in "starts" "refuses without its variable" "needs a CPU" "is a binary for"; do
  grep -q "): [a-z]* $kind" "$work/check-good.txt" "$work/check-bad.txt" || fail "no entry says '$kind'"
done

# `kubernetes IMAGE` is `kubernetes` on the binaries a node of each entry runs (no node picks
# amd64/v3; the riscv64 entry's amd64 binary is left out).
compare() { # NAME EXPECTED-ARGS... -- IMAGE-ARGS...
  local name=$1; shift; local loose=() image=()
  while [ "$1" != -- ]; do loose+=("$1"); shift; done; shift; image=("$@")
  local a b
  a=$(set +e; "$pg" kubernetes "${loose[@]}" 2> /dev/null; echo "rc=$?")
  b=$(set +e; "$pg" kubernetes "${image[@]}" 2> /dev/null; echo "rc=$?")
  [ "$a" = "$b" ] || fail "$name: kubernetes on the image differs from kubernetes on its binaries:"$'\n'"$a"$'\n---\n'"$b"
  echo "image: kubernetes $name equals kubernetes on its binaries ($(tail -1 <<< "$a"))"
}
compare good "$work/bin/imaged-amd64-baseline" "$work/bin/imaged-arm64" -- "oci:$layout:good"
compare bad "$work/bin/imaged-amd64-v3" "$work/bin/etcd-arm64" -- "oci:$layout:bad"

# The same index in an OCI archive, and one platform in a `docker save` tarball, read alike.
skopeo copy -q --all "oci:$layout:good" "oci-archive:$work/good.tar:good"
"$pg" check "$work/good.tar" > "$work/check-archive.txt" 2> /dev/null || fail "check of the OCI archive"
diff "$work/check-good.txt" "$work/check-archive.txt" || fail "the OCI archive reads otherwise than the layout"
skopeo copy -q "oci:$layout:good-arm64" "docker-archive:$work/arm64.tar:imaged:arm64"
"$pg" check "docker-archive:$work/arm64.tar:imaged:arm64" > "$work/check-docker.txt" 2> /dev/null || fail "check of the docker-archive"
[ "$(tail -n +2 "$work/check-docker.txt")" = "$(awk '$1 == "linux/arm64" { found = 1; next } found && /^  / { print; next } found { exit }' "$work/check-good.txt")" ] \
  || fail "the docker save tarball reads otherwise: $(cat "$work/check-docker.txt")"
# Recompressed with zstd by skopeo: the same binaries, the same verdicts.
skopeo copy -q --dest-compress-format zstd "oci:$layout:good-arm64" "oci:$work/zstd:arm64"
grep -q 'tar+zstd' "$work"/zstd/blobs/sha256/* || fail "skopeo wrote no zstd layer"
"$pg" check "oci:$work/zstd:arm64" > "$work/check-zstd.txt" 2> /dev/null || fail "check of the zstd layout"
[ "$(tail -n +2 "$work/check-zstd.txt")" = "$(tail -n +2 "$work/check-docker.txt")" ] \
  || fail "the zstd layout reads otherwise: $(cat "$work/check-zstd.txt")"
echo "image: the OCI archive, the docker save tarball and skopeo's zstd layers read as the layout does"

# NFD's artifact, attached to each platform manifest the good index starts everywhere.
cp -r "$layout" "$work/attached"
"$pg" nfd-compat --attach "oci:$work/attached:good" | tee "$work/attached.txt"
[ "$(wc -l < "$work/attached.txt")" = 2 ] || fail "expected two artifacts (amd64 and arm64; amd64/v3 is no node's)"
"$pg" nfd-compat "$work/bin/imaged-amd64-baseline" > "$work/spec-amd64.yaml" 2> /dev/null
"$pg" nfd-compat "$work/bin/imaged-arm64" > "$work/spec-arm64.yaml" 2> /dev/null
python3 - "$work" <<'PY'
import hashlib, json, sys
work = sys.argv[1]; layout = f"{work}/attached"
def blob(digest):
    data = open(f"{layout}/blobs/{digest.replace(':', '/')}", "rb").read()
    assert "sha256:" + hashlib.sha256(data).hexdigest() == digest, digest
    return data
index = json.load(open(f"{layout}/index.json"))
artifacts = [d for d in index["manifests"] if d.get("artifactType") == "application/vnd.nfd.image-compatibility.v1alpha1"]
assert len(artifacts) == 2, artifacts
good = json.loads(blob(next(d for d in index["manifests"] if d.get("annotations", {}).get("org.opencontainers.image.ref.name") == "good")["digest"]))
platforms = {e["digest"]: e["platform"]["architecture"] + "/" + e["platform"].get("variant", "") for e in good["manifests"]}
for descriptor in artifacts:
    manifest = json.loads(blob(descriptor["digest"]))
    assert manifest["artifactType"] == descriptor["artifactType"]
    assert manifest["config"]["mediaType"] == "application/vnd.oci.empty.v1+json" and blob(manifest["config"]["digest"]) == b"{}"
    [layer] = manifest["layers"]
    assert layer["mediaType"] == "application/vnd.nfd.image-compatibility.spec.v1alpha1+yaml"
    subject = manifest["subject"]
    assert subject["mediaType"] == "application/vnd.oci.image.manifest.v1+json" and subject["digest"] in platforms
    arch = platforms[subject["digest"]].rstrip("/")
    assert len(blob(subject["digest"])) == subject["size"]
    spec = blob(layer["digest"]).decode()
    assert spec == open(f"{work}/spec-{arch}.yaml").read(), (arch, spec)
    print(f"image: artifact for {arch}: {len(spec)} bytes of spec, as nfd-compat prints it for the binary")
PY
skopeo inspect "oci:$work/attached:good-arm64" > /dev/null || fail "skopeo cannot read the layout after the attach"
skopeo copy -q --all "oci:$work/attached:good" "oci-archive:$work/attached.tar:good" || fail "skopeo cannot copy the layout after the attach"
umoci stat --image "$work/attached:good-amd64" > /dev/null || fail "umoci cannot read the layout after the attach"
"$pg" check "oci:$work/attached:good" > "$work/check-attached.txt" 2> /dev/null
diff "$work/check-good.txt" "$work/check-attached.txt" || fail "the layout reads otherwise after the attach"
echo "image: skopeo inspect, skopeo copy and umoci stat read the layout after the attach"

# Hostile: a layer's byte flipped, then the blob gone: one line on stderr, exit 2.
cp -r "$layout" "$work/hostile"
layer=$(python3 -c "
import json,sys
m=json.load(open('$work/hostile/index.json'))['manifests']
d=[x for x in m if x['annotations']['org.opencontainers.image.ref.name']=='good-arm64'][0]['digest']
print(json.load(open('$work/hostile/blobs/'+d.replace(':','/')))['layers'][0]['digest'])")
path=$work/hostile/blobs/${layer/://}
python3 -c "import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read()); b[len(b)//2]^=1; open(p,'wb').write(b)" "$path"
for case in flipped missing; do
  [ "$case" = flipped ] || rm "$path"
  set +e; "$pg" check "oci:$work/hostile:good" > /dev/null 2> "$work/hostile.err"; rc=$?; set -e
  [ "$rc" = 2 ] && [ "$(wc -l < "$work/hostile.err")" = 1 ] && grep -q "$layer" "$work/hostile.err" \
    || fail "$case blob: exit $rc, $(cat "$work/hostile.err")"
  echo "image: $case blob: exit 2, $(cat "$work/hostile.err")"
done
done_with "$work/target-baseline" "$work/target-v3" "$work/target-arm64"
echo "image: $runs entries judged and run, in $(( $(date +%s) - began ))s"
