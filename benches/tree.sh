#!/usr/bin/env bash
# How fast `platform-gate show --recursive` reads a whole tree, side by side with only reading its
# files: /usr/bin (or the directory given), by `platform-gate show -r --json` (release build) and by
# `find DIR -type f -exec cat {} + > /dev/null`, alternately, five times each, from the page cache
# (one read of each first warms it). Reports the medians and their ratio; the goal is at most 1.3x,
# and the script exits 1 when it is missed.
# Usage: benches/tree.sh [DIR]
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
tree=${1:-/usr/bin}
cargo build --quiet --release -p platform-gate-cli --manifest-path "$root/Cargo.toml"
python3 - "$root/target/release/platform-gate" "$tree" <<'PY'
import statistics, subprocess, sys, time
command, tree = sys.argv[1:]
ours_argv = [command, "show", "--recursive", "--json", tree]
cat_argv = ["sh", "-c", 'find "$1" -type f -exec cat {} + > /dev/null', "find", tree]
def timed(argv):
    start = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start, done
count = subprocess.run(["find", tree, "-type", "f"], capture_output=True, text=True).stdout.count("\n")
size = int(subprocess.run(["sh", "-c", 'find "$1" -type f -print0 | du -cb --files0-from=- | tail -1 | cut -f1', "du", tree],
                          capture_output=True, text=True).stdout or 0)
timed(cat_argv); timed(ours_argv)  # the page cache
ours, cat = [], []
for _ in range(5):
    seconds, done = timed(cat_argv)
    cat.append(seconds)
    seconds, done = timed(ours_argv)
    ours.append(seconds)
    found = done.stdout.count(b"\n")
ratio = statistics.median(ours) / statistics.median(cat)
print(f"{tree}: {count:,} files, {size / 2**20:,.0f} MiB; {found} gated binaries found")
print("| reading the tree | s, median of 5 |")
print("|---|---|")
print(f"| find -type f -exec cat {{}} + > /dev/null | {statistics.median(cat):.3f} |")
print(f"| platform-gate show --recursive --json | {statistics.median(ours):.3f} |")
print(f"platform-gate show -r takes x{ratio:.2f} the time of find and cat (goal: at most x1.30): {'met' if ratio <= 1.3 else 'MISSED'}")
sys.exit(0 if ratio <= 1.3 else 1)
PY
