#!/usr/bin/env bash
# How fast `platform-gate nodes` judges a large cluster, side by side with only reading its node list:
# a NodeList of 5,000 nodes (Kubernetes documents clusters of up to 5,000) of about 60 labels each,
# half of them NFD's, judged for a pod of two programs by `platform-gate nodes` (release build), and
# read by `jq -c '.items[].metadata.name'`, alternately, five times each. Reports the medians and
# their ratio; the goal is at most 2x, and the script exits 1 when it is missed.
# Usage: benches/nodes.sh    (installs jq with apt-get when missing)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
work="$root/target/bench-nodes"
mkdir -p "$work"
if ! command -v jq > /dev/null; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -q > /dev/null || true
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends jq > /dev/null
fi
cargo build --quiet --release -p platform-gate-cli --manifest-path "$root/Cargo.toml"
# The pod: etcd's example (amd64) and the cross fixture's kvd, each for this machine.
cargo build --quiet --release -p platform-gate --example etcd --manifest-path "$root/Cargo.toml"
RUSTFLAGS="-C target-cpu=x86-64-v3" cargo build --quiet --release --manifest-path "$root/tests/cross/fixture/Cargo.toml" \
  --target x86_64-unknown-linux-gnu --target-dir "$work/fixture" --features kvd --bin kvd
python3 - "$work/nodes.json" <<'PY'
import json, random, sys
random.seed(5000)
nfd = ["X86_64_V1", "X86_64_V2", "X86_64_V3", "X86_64_V4", "AESNI", "AVX", "AVX2", "FMA3", "MOVBE", "ADX", "AVX512F",
       "AVX512BW", "AVX512CD", "AVX512DQ", "AVX512VL", "GFNI", "VAES", "VPCLMULQDQ", "SHA", "XSAVE", "XSAVEOPT",
       "XSAVEC", "XSAVES", "OSXSAVE", "LAHF", "FSRM", "IBPB", "STIBP", "SERIALIZE", "WAITPKG"]
items = []
for i in range(5000):
    arch = random.choice(["amd64", "amd64", "amd64", "arm64"])
    labels = {
        "kubernetes.io/arch": arch, "kubernetes.io/os": "linux", "beta.kubernetes.io/arch": arch,
        "beta.kubernetes.io/os": "linux", "kubernetes.io/hostname": f"node-{i:04}",
        "node.kubernetes.io/instance-type": random.choice(["m5.xlarge", "c6g.2xlarge", "n2-standard-8"]),
        "topology.kubernetes.io/region": "eu-west-1", "topology.kubernetes.io/zone": f"eu-west-1{'abc'[i % 3]}",
        "feature.node.kubernetes.io/cpu-model.vendor_id": "Intel", "feature.node.kubernetes.io/cpu-model.family": "6",
        "feature.node.kubernetes.io/cpu-model.id": str(random.choice([85, 106, 143])),
        "feature.node.kubernetes.io/cpu-hardware_multithreading": "true",
        "feature.node.kubernetes.io/kernel-version.full": "6.1.0-28-amd64",
    }
    level = random.choice([2, 3, 3, 4])
    for name in nfd:
        if not name.startswith("X86_64_V") or int(name[-1]) <= level:
            labels["feature.node.kubernetes.io/cpu-cpuid." + name] = "true"
    for j in range(60 - len(labels)):
        labels[f"example.com/team-{j}"] = f"value-{random.randrange(1000)}"
    items.append({"apiVersion": "v1", "kind": "Node", "metadata": {"name": f"node-{i:04}", "labels": labels},
                  "status": {"nodeInfo": {"architecture": arch, "operatingSystem": "linux", "kubeletVersion": "v1.32.4"}}})
json.dump({"apiVersion": "v1", "kind": "List", "items": items, "metadata": {"resourceVersion": ""}}, open(sys.argv[1], "w"), indent=4)
PY
python3 - "$root/target/release/platform-gate" "$work/nodes.json" "$root/target/release/examples/etcd" \
  "$work/fixture/x86_64-unknown-linux-gnu/release/kvd" <<'PY'
import os, statistics, subprocess, sys, time
command, nodes, etcd, kvd = sys.argv[1:]
def timed(argv):
    start = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start, done
ours_argv = [command, "nodes", nodes, etcd, kvd]
jq_argv = ["jq", "-c", ".items[].metadata.name", nodes]
timed(jq_argv)  # the page cache
ours, jq = [], []
for _ in range(5):
    seconds, done = timed(ours_argv)
    ours.append(seconds)
    assert done.returncode in (0, 1), done.returncode
    lines = done.stdout.decode().splitlines()
    seconds, names = timed(jq_argv)
    jq.append(seconds)
assert len(lines) == 5000 == len(names.stdout.splitlines()), (len(lines), len(names.stdout.splitlines()))
verdicts = {}
for line in lines:
    verdict = line.split()[2].rstrip(":")
    verdicts[verdict] = verdicts.get(verdict, 0) + 1
ratio = statistics.median(ours) / statistics.median(jq)
size = os.path.getsize(nodes)
print(f"a NodeList of 5,000 nodes, 60 labels each, {size / 2**20:.1f} MiB; verdicts: {verdicts}")
print("| reading the node list | s, median of 5 |")
print("|---|---|")
print(f"| jq -c '.items[].metadata.name' | {statistics.median(jq):.3f} |")
print(f"| platform-gate nodes (a pod of etcd and kvd) | {statistics.median(ours):.3f} |")
print(f"platform-gate nodes takes x{ratio:.2f} the time of jq (goal: at most x2.00): {'met' if ratio <= 2 else 'MISSED'}")
sys.exit(0 if ratio <= 2 else 1)
PY
