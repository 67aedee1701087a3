#!/usr/bin/env bash
# How fast `platform-gate show -r` reads an image, side by side with only decompressing its layers:
# an OCI image layout of 1 GiB of files (this machine's /usr/lib and /usr/share, real binaries and
# text, with the etcd example, a gated binary, in the last layer), in four gzip layers (GNU gzip -6,
# what `docker save | gzip` and most registries' layers are), read by `platform-gate show -r`
# (release build) and by `gzip -dc` over each layer to /dev/null, one after the other, alternately,
# three times each, from the page cache. Reports the medians, their ratio, the decompressed bytes'
# throughput, and each one's peak memory (maximum resident set, /usr/bin/time).
# Usage: benches/image.sh [GiB]    (default 1)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
work="$root/target/bench-image"
gib=${1:-1}
mkdir -p "$work"
cargo build --quiet --release -p platform-gate-cli --manifest-path "$root/Cargo.toml"
cargo build --quiet --release -p platform-gate --example etcd --manifest-path "$root/Cargo.toml"
[ -x /usr/bin/time ] || { echo "image: installing time"; apt-get install -y -q time > /dev/null; }
python3 - "$work" "$gib" "$root/target/release/examples/etcd" <<'PY'
import hashlib, json, os, subprocess, sys, tarfile
work, gib, etcd = sys.argv[1], float(sys.argv[2]), sys.argv[3]
layout = f"{work}/layout"
if os.path.exists(f"{layout}/index.json") and open(f"{work}/size").read() == str(gib):
    sys.exit(0)
subprocess.run(["rm", "-rf", layout], check=True)
os.makedirs(f"{layout}/blobs/sha256")
total, layers = int(gib * 2**30), 4
files = []
for top in ("/usr/lib", "/usr/share", "/usr/bin"):
    for directory, _, names in os.walk(top):
        for name in names:
            path = os.path.join(directory, name)
            if os.path.isfile(path) and not os.path.islink(path):
                files.append((path, os.path.getsize(path)))
chunks, chunk, size = [], [], 0
for path, length in files:
    if len(chunks) == layers:
        break
    chunk.append(path); size += length
    if size >= total / layers:
        chunks.append(chunk); chunk, size = [], 0
assert len(chunks) == layers, "not enough files on this machine"
descriptors = []
for number, chunk in enumerate(chunks):
    plain = f"{work}/layer{number}.tar"
    with tarfile.open(plain, "w") as tar:
        for path in chunk:
            try:
                tar.add(path, arcname=path.lstrip("/"), recursive=False)
            except OSError:
                pass
        if number == layers - 1:
            tar.add(etcd, arcname="usr/local/bin/etcd")
    with open(f"{work}/layer.gz", "wb") as out:
        subprocess.run(["gzip", "-6", "-c", plain], stdout=out, check=True)
    os.remove(plain)
    data = open(f"{work}/layer.gz", "rb").read()
    digest = hashlib.sha256(data).hexdigest()
    os.rename(f"{work}/layer.gz", f"{layout}/blobs/sha256/{digest}")
    descriptors.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": f"sha256:{digest}", "size": len(data)})
def blob(media_type, data):
    digest = hashlib.sha256(data).hexdigest()
    open(f"{layout}/blobs/sha256/{digest}", "wb").write(data)
    return {"mediaType": media_type, "digest": f"sha256:{digest}", "size": len(data)}
config = blob("application/vnd.oci.image.config.v1+json", json.dumps({"architecture": "amd64", "os": "linux",
    "config": {"Entrypoint": ["etcd"]}, "rootfs": {"type": "layers", "diff_ids": []}}).encode())
manifest = blob("application/vnd.oci.image.manifest.v1+json", json.dumps({"schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": config, "layers": descriptors}).encode())
open(f"{layout}/index.json", "w").write(json.dumps({"schemaVersion": 2, "manifests": [manifest]}))
open(f"{layout}/oci-layout", "w").write('{"imageLayoutVersion": "1.0.0"}')
open(f"{work}/size", "w").write(str(gib))
json.dump([d["digest"][7:] for d in descriptors], open(f"{work}/layers.json", "w"))
PY
python3 - "$root/target/release/platform-gate" "$work" <<'PY'
import json, os, statistics, subprocess, sys, time
command, work = sys.argv[1:]
layout = f"{work}/layout"
layers = [f"{layout}/blobs/sha256/{digest}" for digest in json.load(open(f"{work}/layers.json"))]
compressed = sum(os.path.getsize(layer) for layer in layers)
def timed(argv):
    """Seconds and peak resident KiB of one run, by /usr/bin/time."""
    start = time.perf_counter()
    result = subprocess.run(["/usr/bin/time", "-f", "%M"] + argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return time.perf_counter() - start, int(result.stderr.strip().splitlines()[-1])
gunzip = ["sh", "-c", 'for layer; do gzip -dc "$layer"; done > /dev/null', "gzip"] + layers
for layer in layers:
    subprocess.run(["cat", layer], stdout=subprocess.DEVNULL, check=True)  # warm the page cache
decompressed = sum(int(subprocess.run(f"gzip -dc '{layer}' | wc -c", shell=True, capture_output=True, text=True, check=True).stdout) for layer in layers)
runs = {"gzip -dc, layer by layer, > /dev/null": [], "platform-gate show -r": []}
for _ in range(3):
    runs["gzip -dc, layer by layer, > /dev/null"].append(timed(gunzip))
    runs["platform-gate show -r"].append(timed([command, "show", "-r", layout]))
shown = subprocess.run([command, "show", "-r", layout], check=True, capture_output=True, text=True).stdout.splitlines()[0]
print(f"{len(layers)} gzip layers, {compressed / 2**20:,.0f} MiB compressed, {decompressed / 2**20:,.0f} MiB decompressed; found: {shown}")
print(f"on {os.cpu_count()} cores")
print("| reading the image | s, median of 3 | MiB/s decompressed | peak memory, MiB |")
print("|---|---|---|---|")
medians = {}
for name, results in runs.items():
    seconds = statistics.median(t for t, _ in results)
    medians[name] = seconds
    peak = max(kib for _, kib in results) / 1024
    print(f"| {name} | {seconds:.2f} | {decompressed / 2**20 / seconds:,.0f} | {peak:.1f} |")
ratio = medians["platform-gate show -r"] / medians["gzip -dc, layer by layer, > /dev/null"]
print(f"platform-gate show -r takes x{ratio:.2f} the time of gzip -dc")
PY
