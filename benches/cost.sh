#!/usr/bin/env bash
# What #[platform_gated] costs, measured side by side with its baseline in one run:
#   1. run time on a stable platform: a release hello world with and without the gate, instructions
#      counted by valgrind's callgrind (repeatable on a noisy machine), and whether getenv is called;
#   2. binary size: both hello worlds, stripped;
#   3. the refusal and the override paths, start to exit, against the plain hello world;
#   4. build time: the gated hello world and the same program under the emptiest syn-based attribute
#      (an identity attribute on syn with default features, quote and proc-macro2), alternately, five
#      times each, medians side by side: a clean debug build (and, from its `--timings`, our two
#      crates' own compile times); the rebuild after editing `main`'s body (three edits a round),
#      which a user waits for on every edit (and, once, its instructions: rustc and the linker under
#      callgrind, which the machine's load does not move); and a clean `cargo check`, which editors and
#      rust-analyzer pay;
#   5. the CPU check (x86_64 hosts): both hello worlds built for x86-64-v3, where the gate must read
#      the CPU before starting, their instructions and sizes side by side;
#   6. the CPU refusal before std starts, which scans the running image's read-only memory for the
#      program's manifest (x86_64 hosts without TBM: built with +tbm, it refuses here natively): a
#      gated hello world and the same with 100 MiB of read-only data, instructions and time side by
#      side, the difference being the scan's.
# Goals: at most 1 more instruction in `main` (what keeps the manifest in the binary), no getenv, at
# most 1 KiB larger (the manifest of etcd's matrix), clean-build ratio at most 1.05, the rebuild after an edit
# within 10% of the identity attribute's; and the CPU check at most 2,000 instructions. Exits 1 when
# one is missed.
# Usage: benches/cost.sh [--write-docs]    Needs valgrind (installed with apt-get when missing).
#        --write-docs also writes the report into docs/cost.md's generated block.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
work="$root/target/bench-cost"
rounds=5

if ! command -v valgrind >/dev/null; then
  echo "cost: installing valgrind"
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -q >/dev/null || true
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends valgrind >/dev/null
fi

# --- the programs --------------------------------------------------------------------------------
rm -rf "$work/src"
mkdir -p "$work/src"
cd "$work/src"
cp "$root/Cargo.lock" Cargo.lock # the versions this workspace was tested with; builds offline
cat > Cargo.toml <<'EOF'
[workspace]
members = ["plain", "gated", "unstable-here", "identity-attr", "identity", "refusing", "refusing-100mib"]
resolver = "3"
[profile.release]
debug = "line-tables-only"   # function names for callgrind; `strip` removes them for the size
# Both attributes are path dependencies here, which Cargo compiles incrementally; from crates.io, as
# users get them, they are not, and that costs their clean build about 0.25 s each. Built as users
# build them; the programs themselves stay incremental, as a user's own crate is.
[profile.dev.package.platform-gate]
incremental = false
[profile.dev.package.platform-gate-macros]
incremental = false
[profile.dev.package.identity-attr]
incremental = false
EOF
crate() { # crate NAME DEPENDENCIES MAIN
  mkdir -p "$1/src"
  printf '[package]\nname = "%s"\nversion = "0.0.0"\nedition = "2024"\npublish = false\n\n[dependencies]\n%s\n' "$1" "$2" > "$1/Cargo.toml"
  printf '%s\n' "$3" > "$1/src/main.rs"
}
gate="platform-gate = { path = \"$root/runtime\" }"
crate plain "" 'fn main() { println!("hello"); }'
crate gated "$gate" '#[platform_gate::platform_gated]
fn main() { println!("hello"); }'
crate unstable-here "$gate" 'const HERE: platform_gate::Platform = platform_gate::Platform::CURRENT;
const SUPPORT: platform_gate::Matrix =
    platform_gate::Matrix::new(&[platform_gate::Row::new(HERE.arch, HERE.os, platform_gate::Status::Unstable)]);
#[platform_gate::platform_gated(env = "BENCH_ARCH", matrix = SUPPORT)]
fn main() { println!("hello"); }'
crate refusing "$gate" '#[platform_gate::platform_gated(exit_code = 78)]
fn main() { println!("hello"); }'
crate refusing-100mib "$gate" 'static BULK: &[u8] = include_bytes!("../bulk.bin");
#[platform_gate::platform_gated(exit_code = 78)]
fn main() { println!("hello {}", std::hint::black_box(BULK).len()); }'
[ -s refusing-100mib/bulk.bin ] || head -c $((100 * 1024 * 1024)) /dev/urandom > refusing-100mib/bulk.bin
crate identity "identity-attr = { path = \"../identity-attr\" }" '#[identity_attr::identity]
fn main() { println!("hello"); }'
mkdir -p identity-attr/src
cat > identity-attr/Cargo.toml <<'EOF'
[package]
name = "identity-attr"
version = "0.0.0"
edition = "2024"
publish = false
[lib]
proc-macro = true
[dependencies]
proc-macro2 = "1"
quote = "1"
syn = "3"
EOF
cat > identity-attr/src/lib.rs <<'EOF'
//! The emptiest syn-based attribute: parse the item with syn, print it back with quote.
use proc_macro::TokenStream;

#[proc_macro_attribute]
pub fn identity(_args: TokenStream, item: TokenStream) -> TokenStream {
    let item = syn::parse_macro_input!(item as proc_macro2::TokenStream);
    quote::quote!(#item).into()
}
EOF

# --- 1-3: run time and size ----------------------------------------------------------------------
cargo build --quiet --offline --release -p plain -p gated -p unstable-here --target-dir "$work/run"
bin="$work/run/release"

# callgrind PROGRAM [ENV...]: prints "<instructions> <getenv calls> <exit code>"
# (valgrind exits with the program's own exit code).
callgrind() {
  local exe=$1 rc=0; shift
  local out="$work/callgrind.out"
  env -i "$@" valgrind --tool=callgrind --callgrind-out-file="$out" "$exe" >/dev/null 2>&1 || rc=$?
  python3 - "$out" "$rc" <<'PY'
import re, sys
names, calls, total, target = {}, 0, 0, None
for line in open(sys.argv[1], errors="replace"):
    if line.startswith("summary:") or line.startswith("totals:"):
        total = int(line.split()[1])
    # callgrind names a function once, on whichever of `fn=` or `cfn=` mentions it first, and
    # by its number alone after that: learn names from both, count calls after `cfn=`.
    m = re.match(r"(c?)fn=\((\d+)\)(?: (.*))?", line)
    if m:
        if m.group(3):
            names[m.group(2)] = m.group(3).strip()
        target = names.get(m.group(2), "") if m.group(1) else None
        continue
    m = re.match(r"calls=(\d+)", line)
    if m and target is not None and re.fullmatch(r"(__libc_|__)?(secure_)?getenv", target):
        calls += int(m.group(1))
    if not line.startswith("calls="):
        target = None
print(total, calls, sys.argv[2])
PY
}

read -r plain_ir plain_getenv _ < <(callgrind "$bin/plain")
read -r gated_ir gated_getenv _ < <(callgrind "$bin/gated")
# What `main` itself executes, calls included: start to exit also counts the dynamic loader, whose
# work moves by thousands of instructions with the binary's layout.
main_ir() { # PROGRAM: instructions from entering its `main` to leaving it
  valgrind --tool=callgrind --callgrind-out-file="$work/main.out" --toggle-collect="$(basename "$1")::main" "$1" >/dev/null 2>&1
  sed -n 's/^totals: //p' "$work/main.out"
}
plain_main_ir=$(main_ir "$bin/plain")
gated_main_ir=$(main_ir "$bin/gated")
read -r refused_ir refused_getenv refused_rc < <(callgrind "$bin/unstable-here")
# `uname -m` is the Rust spelling (x86_64, aarch64, s390x, ...), which the override accepts.
read -r override_ir override_getenv _ < <(callgrind "$bin/unstable-here" "BENCH_ARCH=$(uname -m)")

strip -o "$work/plain.stripped" "$bin/plain"
strip -o "$work/gated.stripped" "$bin/gated"
plain_size=$(stat -c %s "$work/plain.stripped")
gated_size=$(stat -c %s "$work/gated.stripped")
# The manifest's own length, from its header: 20 bytes, the body, 4 bytes of checksum.
manifest_size=$(python3 - "$work/gated.stripped" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
at = data.find(b"\xffplatform-gate:")
print(24 + struct.unpack("<I", data[at + 16:at + 20])[0] if at >= 0 else 0)
PY
)

# --- 5: the CPU check, on a build that raised the level ------------------------------------------
v3_plain_ir=0 v3_gated_ir=0 v3_check_ir=0 v3_plain_size=0 v3_gated_size=0
if [ "$(uname -m)" = x86_64 ] && grep -qw avx2 /proc/cpuinfo; then
  RUSTFLAGS="-C target-cpu=x86-64-v3" cargo build --quiet --offline --release -p plain -p gated \
    --target x86_64-unknown-linux-gnu --target-dir "$work/run-v3"
  v3="$work/run-v3/x86_64-unknown-linux-gnu/release"
  read -r v3_plain_ir _ _ < <(callgrind "$v3/plain")
  read -r v3_gated_ir _ _ < <(callgrind "$v3/gated")
  # The check's own instructions: the check before std starts (where every crate has the flags, as
  # here) or the one in main, inclusive of what they call.
  v3_check_ir=$(callgrind_annotate --inclusive=yes --threshold=100 "$work/callgrind.out" |
    awk '/platform_gate::cpu::(early::check_before_start|refuse::refuse_cpu)/ { gsub(",", "", $1); if ($1 + 0 > max) max = $1 + 0 } END { print max + 0 }')
  strip -o "$work/plain-v3.stripped" "$v3/plain"
  strip -o "$work/gated-v3.stripped" "$v3/gated"
  v3_plain_size=$(stat -c %s "$work/plain-v3.stripped")
  v3_gated_size=$(stat -c %s "$work/gated-v3.stripped")
fi

# --- 6: the refusal before std starts, and its scan for the manifest ------------------------------
scan_rows=""
if [ "$(uname -m)" = x86_64 ] && ! grep -qw tbm /proc/cpuinfo; then
  RUSTFLAGS="-C target-feature=+tbm" cargo build --quiet --offline --release -p refusing -p refusing-100mib \
    --target x86_64-unknown-linux-gnu --target-dir "$work/run-tbm"
  tbm="$work/run-tbm/x86_64-unknown-linux-gnu/release"
  scan_rows=$(python3 - "$tbm/refusing" "$tbm/refusing-100mib" "$work/callgrind-scan.out" <<'PY'
import os, statistics, subprocess, sys, time
small, big, out = sys.argv[1:]
def run(path):
    start = time.perf_counter()
    done = subprocess.run([path], capture_output=True)
    return time.perf_counter() - start, done.returncode, done.stderr
def instructions(path):
    subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", path], capture_output=True)
    return next(int(line.split()[1]) for line in open(out) if line.startswith(("summary:", "totals:")))
for path in (small, big):
    run(path)  # the page cache
rows = []
for path in (small, big):
    times, codes, named = [], set(), True
    for _ in range(5):
        seconds, code, stderr = run(path)
        times.append(seconds)
        codes.add(code)
        named &= stderr.startswith(b"error: refusing") and b"REFUSING" in stderr
    rows.append((os.path.getsize(path), statistics.median(times), codes, named, instructions(path)))
(s_size, s_time, s_codes, s_named, s_ir), (b_size, b_time, b_codes, b_named, b_ir) = rows
print(f"| binary, bytes (not stripped) | {s_size:,} | {b_size:,} | {b_size - s_size:+,} |")
print(f"| exit codes (the program's: 78), named from its manifest | {sorted(s_codes)}, {s_named} | {sorted(b_codes)}, {b_named} | |")
print(f"| instructions, start to exit (callgrind) | {s_ir:,} | {b_ir:,} | {b_ir - s_ir:+,} ({(b_ir - s_ir) / (b_size - s_size):.1f} per byte) |")
print(f"| time, start to exit, median of 5, ms | {s_time * 1e3:.1f} | {b_time * 1e3:.1f} | {(b_time - s_time) * 1e3:+.1f} |")
PY
)
fi

# --- 4: build time -------------------------------------------------------------------------------
# seconds COMMAND...: how long COMMAND takes, quiet.
seconds() {
  local start end
  start=$(date +%s.%N)
  "$@" > /dev/null 2>&1
  end=$(date +%s.%N)
  python3 -c "print(f'{$end - $start:.3f}')"
}
# crate_times DIR: "<macro crate> <runtime>" compile seconds, from the newest `--timings` report.
crate_times() {
  python3 - "$1" <<'PY'
import glob, json, re, sys
report = sorted(glob.glob(f"{sys.argv[1]}/cargo-timings/cargo-timing-*.html"))[-1]
units = json.loads(re.search(r"const UNIT_DATA = (\[.*?\]);", open(report).read(), re.S).group(1))
duration = {unit["name"]: unit["duration"] for unit in units}
print(duration.get("platform-gate-macros", 0), duration.get("platform-gate", 0))
PY
}
declare -A clean rebuild check path
# edit_main PACKAGE LABEL: an edit of main's body, as a user makes one, so that the next build
# compiles the binary's crate again.
edit_main() { sed -i "s/println!(\"hello[^\"]*\")/println!(\"hello $2\")/" "$work/src/$1/src/main.rs"; }
macros_t=() runtime_t=()
for round in $(seq 1 $rounds); do
  for package in gated identity; do
    dir="$work/build-$package"
    rm -rf "$dir"
    clean[$package]+="$(seconds cargo build --offline -p "$package" --target-dir "$dir" --timings) "
    if [ "$package" = gated ]; then
      read -r m r < <(crate_times "$dir")
      macros_t+=("$m"); runtime_t+=("$r")
    fi
    # Three edits a round: at about 0.2 s each, one sample moves by more than the goal's 10%.
    for edit in 1 2 3; do
      edit_main "$package" "$round.$edit"
      rebuild[$package]+="$(seconds cargo build --offline -p "$package" --target-dir "$dir") "
    done
    rm -rf "$dir-check"
    check[$package]+="$(seconds cargo check --offline -p "$package" --target-dir "$dir-check") "
    # For the record: both attributes as path dependencies, which Cargo compiles incrementally.
    rm -rf "$dir-path"
    path[$package]+="$(CARGO_INCREMENTAL=1 seconds cargo build --offline -p "$package" --target-dir "$dir-path") "
  done
  read -ra gated_times <<< "${clean[gated]}"; read -ra identity_times <<< "${clean[identity]}"
  echo "cost: build round $round/$rounds: clean build ${gated_times[-1]} s gated, ${identity_times[-1]} s identity" >&2
done

# The same rebuild in instructions, which this machine's load does not move: rustc and the linker,
# counted by callgrind, for the second of two more edits (the first after a build without the
# wrapper does more). A RUSTC_WRAPPER runs the binary's rustc under callgrind and names a counting
# linker, without Cargo seeing a changed flag.
count="$work/count"
cat > "$work/count-rustc.sh" <<WRAPPER
#!/usr/bin/env bash
rustc=\$1; shift
case " \$* " in
  *" --crate-name gated "* | *" --crate-name identity "*)
    exec valgrind --tool=callgrind --callgrind-out-file="$count/rustc.%p" "\$rustc" "\$@" -C linker="$work/count-cc.sh" ;;
esac
exec "\$rustc" "\$@"
WRAPPER
cat > "$work/count-cc.sh" <<WRAPPER
#!/usr/bin/env bash
exec valgrind --tool=callgrind --trace-children=yes --callgrind-out-file="$count/ld.%p" cc "\$@"
WRAPPER
chmod +x "$work/count-rustc.sh" "$work/count-cc.sh"
declare -A rebuild_ir
for package in gated identity; do
  for edit in 1 2; do
    edit_main "$package" "counted $edit"
    rm -rf "$count"; mkdir -p "$count"
    RUSTC_WRAPPER="$work/count-rustc.sh" cargo build --quiet --offline -p "$package" \
      --target-dir "$work/build-$package" 2> /dev/null
  done
  rebuild_ir[$package]=$(cat "$count"/* | sed -n 's/^totals: \([0-9]*\)$/\1/p' | awk '{ sum += $1 } END { print sum }')
done

# --- report --------------------------------------------------------------------------------------
report_status=0
(python3 - "$plain_ir" "$gated_ir" "$plain_getenv" "$gated_getenv" "$plain_size" "$gated_size" \
  "$refused_ir" "$refused_rc" "$override_ir" "$refused_getenv" "$override_getenv" \
  "${clean[gated]}" "${clean[identity]}" "$(rustc -V)" \
  "$v3_plain_ir" "$v3_gated_ir" "$v3_plain_size" "$v3_gated_size" "$v3_check_ir" "$manifest_size" "$plain_main_ir" "$gated_main_ir" \
  "${rebuild[gated]}" "${rebuild[identity]}" "${check[gated]}" "${check[identity]}" "${macros_t[*]}" "${runtime_t[*]}" "${path[gated]}" "${path[identity]}" \
  "${rebuild_ir[gated]}" "${rebuild_ir[identity]}" "$scan_rows" <<'PY'
import statistics, sys
(plain_ir, gated_ir, plain_getenv, gated_getenv, plain_size, gated_size,
 refused_ir, refused_rc, override_ir, refused_getenv, override_getenv) = map(int, sys.argv[1:12])
gated_t = [float(t) for t in sys.argv[12].split()]
identity_t = [float(t) for t in sys.argv[13].split()]
ratio = statistics.median(gated_t) / statistics.median(identity_t)
rows = [
    ("instructions in `main`, calls included (callgrind)", f"{int(sys.argv[21]):,}", f"{int(sys.argv[22]):,}",
     f"{int(sys.argv[22]) - int(sys.argv[21]):+,}", 0 < int(sys.argv[21]) and int(sys.argv[22]) - int(sys.argv[21]) <= 1),
    ("instructions, start to exit (callgrind; the loader's share moves with the layout)", f"{plain_ir:,}", f"{gated_ir:,}", f"{gated_ir - plain_ir:+,}", None),
    ("getenv calls", str(plain_getenv), str(gated_getenv), f"{gated_getenv - plain_getenv:+}", gated_getenv == plain_getenv),
    ("stripped release binary, bytes", f"{plain_size:,}", f"{gated_size:,}", f"{gated_size - plain_size:+,}", gated_size - plain_size <= 1024),
    ("of which the manifest (etcd's matrix), bytes", "", f"{int(sys.argv[20]):,}", "", 0 < int(sys.argv[20]) <= 1024),
    (f"clean debug build, median of {len(gated_t)}, s (identity attr. vs gated)", f"{statistics.median(identity_t):.2f}",
     f"{statistics.median(gated_t):.2f}", f"x{ratio:.3f}", ratio <= 1.05),
]
times = lambda i: [float(t) for t in sys.argv[i].split()]
rebuild_g, rebuild_i, check_g, check_i, macros_t, runtime_t, path_g, path_i = (times(i) for i in range(23, 31))
path_ratio = statistics.median(path_g) / statistics.median(path_i)
rebuild_ratio = statistics.median(rebuild_g) / statistics.median(rebuild_i)
check_ratio = statistics.median(check_g) / statistics.median(check_i)
rows += [
    (f"rebuild after editing `main`'s body, median of {len(rebuild_g)}, s", f"{statistics.median(rebuild_i):.2f}",
     f"{statistics.median(rebuild_g):.2f}", f"x{rebuild_ratio:.3f}", rebuild_ratio <= 1.10),
    ("the same rebuild in instructions: rustc and the linker (callgrind, one edit)", f"{int(sys.argv[32]):,}",
     f"{int(sys.argv[31]):,}", f"x{int(sys.argv[31]) / int(sys.argv[32]):.3f}", None),
    (f"clean `cargo check`, median of {len(check_g)}, s", f"{statistics.median(check_i):.2f}",
     f"{statistics.median(check_g):.2f}", f"x{check_ratio:.3f}", None),
    ("of the clean build: platform-gate-macros, then platform-gate (`--timings`, medians), s", "",
     f"{statistics.median(macros_t):.2f} + {statistics.median(runtime_t):.2f}", "", None),
    (f"for the record: clean build, both attributes as path dependencies (incremental), median of {len(path_g)}, s",
     f"{statistics.median(path_i):.2f}", f"{statistics.median(path_g):.2f}", f"x{path_ratio:.3f}", None),
]
print(f"platform-gate cost, measured {sys.argv[14]}")
print()
print("| measure | baseline | gated | difference | goal met |")
print("|---|---|---|---|---|")
for name, base, gated, diff, ok in rows:
    print(f"| {name} | {base} | {gated} | {diff} | {'' if ok is None else 'yes' if ok else 'NO'} |")
print()
# The paths off a supported platform read the variable: their getenv count shows the count above works.
print("| path (unstable matrix, release) | instructions | vs plain hello world | getenv calls |")
print("|---|---|---|---|")
print(f"| refusal (variable unset, exit {refused_rc}) | {refused_ir:,} | {refused_ir - plain_ir:+,} | {refused_getenv} |")
print(f"| override (variable set, warning) | {override_ir:,} | {override_ir - plain_ir:+,} | {override_getenv} |")
v3_plain_ir, v3_gated_ir, v3_plain_size, v3_gated_size, v3_check_ir = map(int, sys.argv[15:20])
if v3_plain_ir:
    rows.append(("CPU check's own instructions on an x86-64-v3 build", "", "", "", 0 < v3_check_ir <= 2000))
    print()
    print("| built for x86-64-v3, release | plain | gated | difference | goal met |")
    print("|---|---|---|---|---|")
    print(f"| instructions, start to exit (callgrind) | {v3_plain_ir:,} | {v3_gated_ir:,} | {v3_gated_ir - v3_plain_ir:+,} | |")
    print(f"| of which the CPU check (check_before_start, inclusive) | | {v3_check_ir:,} | | {'yes' if 0 < v3_check_ir <= 2000 else 'NO'} |")
    print(f"| stripped binary, bytes | {v3_plain_size:,} | {v3_gated_size:,} | {v3_gated_size - v3_plain_size:+,} | |")
else:
    print()
    print("(the CPU check is measured on x86_64 hosts with AVX2 only)")
print()
print("clean builds, s: gated", gated_t, "identity", identity_t)
print("rebuilds, s: gated", rebuild_g, "identity", rebuild_i)
print("checks, s: gated", check_g, "identity", check_i)
if sys.argv[33]:
    print()
    print("| the CPU refusal before std starts (+tbm, on this CPU) | gated hello world | with 100 MiB of read-only data | difference: the scan |")
    print("|---|---|---|---|")
    print(sys.argv[33])
sys.exit(0 if all(row[4] is not False for row in rows) else 1)
PY
) > "$work/report.md" || report_status=$?
cat "$work/report.md"
if [ "${1:-}" = --write-docs ]; then
  python3 - "$root/docs/cost.md" "$work/report.md" <<'PY'
import sys
page, report = sys.argv[1], open(sys.argv[2]).read()
text = open(page).read()
begin, end = "<!-- generated:cost -->\n", "<!-- /generated:cost -->"
start = text.index(begin) + len(begin)
open(page, "w").write(text[:start] + report + text[text.index(end, start):])
print(f"cost: the report is in {page}")
PY
fi
exit "$report_status"
