#!/usr/bin/env bash
# How fast `platform-gate` finds a manifest in a large file, side by side with only reading it: a
# 100 MiB file of random bytes with a gated binary at its end (so the whole file is scanned), read
# by `platform-gate show` (release build) and by `cat > /dev/null`, alternately, five times each,
# from the page cache (one read first warms it). Reports the medians and their ratio.
# Usage: benches/scan.sh
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
work="$root/target/bench-scan"
mkdir -p "$work"
cargo build --quiet --release -p platform-gate-cli --manifest-path "$root/Cargo.toml"
cargo build --quiet --release -p platform-gate --example etcd --manifest-path "$root/Cargo.toml"
file="$work/100MiB-then-a-gated-binary"
head -c $((100 * 1024 * 1024)) /dev/urandom > "$file"
cat "$root/target/release/examples/etcd" >> "$file"
python3 - "$root/target/release/platform-gate" "$file" <<'PY'
import statistics, subprocess, sys, time
command, path = sys.argv[1:]
size = __import__("os").path.getsize(path)
def timed(argv, **kwargs):
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, **kwargs)
    return time.perf_counter() - start
timed(["cat", path])  # warm the page cache
cat, scan = [], []
for _ in range(5):
    cat.append(timed(["cat", path]))
    scan.append(timed([command, "show", path]))
shown = subprocess.run([command, "show", path], check=True, capture_output=True, text=True).stdout.splitlines()[0]
print(f"{size / 2**20:.0f} MiB, the manifest at its end: {shown}")
print("| reading the file | s, median of 5 | MiB/s |")
print("|---|---|---|")
for name, times in (("cat > /dev/null", cat), ("platform-gate show", scan)):
    print(f"| {name} | {statistics.median(times):.3f} | {size / 2**20 / statistics.median(times):,.0f} |")
print(f"platform-gate show takes x{statistics.median(scan) / statistics.median(cat):.2f} the time of cat")
PY
