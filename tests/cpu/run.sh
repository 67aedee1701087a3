#!/usr/bin/env bash
# Proves the CPU check where it matters, on CPUs that lack what a build assumed, in every kind of build
# users make. qemu-user emulates CPU models faithfully: qemu64 is x86-64 (v1: no SSSE3, SSE4, POPCNT),
# Nehalem is x86-64-v2 (no AVX), max has AVX2 and the rest of v3 but no AVX-512; cortex-a53 has no LSE.
#
# Two fixtures, from tests/cross/fixture: `etcd` (etcd's matrix, the variable derived from the package,
# exit code 1) and `kvd` (its own matrix with long notes and maintainers, `env = "KVD_UNSUPPORTED_ARCH"`,
# exit code 3). Two paths, and on both a refusal names the program and its variable and exits with its
# exit code:
# - flags for every crate (`RUSTFLAGS`: `-C target-cpu`, `-C target-feature`), which reach std under LTO
#   or `-Zbuild-std`: the check before std starts refuses, with the settings it reads from the manifest
#   in its running image;
# - flags for `main`'s crate alone (`cargo rustc -- -C ...`): the check in `main` refuses.
# And `k0s`, which embeds the etcd binary as k0s does: its image holds two manifests that disagree, so
# its refusal before std starts is the generic one (its file's name, "its override variable", exit 1).
# Each build runs on every model: where the CPU lacks something the gate must refuse with the expected
# code and name exactly what is missing (or, where the list depends on qemu's `max`, name only
# features the build assumed); never die of SIGILL (132); elsewhere it must start. Each binary is also
# disassembled (baseline_only.py): the refusal path must use only baseline instructions, in branches no
# run takes too.
#
# The matrix: opt-levels 0, 1, 2, 3, s and z, debug assertions with overflow checks, panic = "abort",
# one and many codegen units, on both paths; fat and thin LTO with +avx2,+fma, the x86-64-v4 set spelt
# out, every feature a stable compiler reports (what `target-cpu=native` is on a new CPU), and named
# levels; std rebuilt with raised flags (`-Zbuild-std`, Debian's compiler) on x86_64 and aarch64;
# aarch64 +lse under fat LTO on both paths; i686 +avx2,+fma on main's crate; Debian's compiler (the
# second toolchain, with its own std) on both paths at opt-levels 0 and 1; Rust 1.85 on both paths,
# where .ci/msrv has unpacked it (CI runs that first). On this machine's own
# CPU, natively and as Windows under wine: +tbm, which almost no CPU has. macOS and Windows MSVC,
# whose hooks cannot run here, are compiled with raised flags.
#
# Every run is also predicted by `platform-gate check` from the binary's manifest, with the model's
# features as the gate reads them on it (`--cpu-features`; this machine's own CPU without the flag):
# the same exit class and stderr byte for byte, or the case fails. Each x86_64 build's binary keeps
# its manifest through `strip --strip-all`, and one build strips at link time (`strip = true`) with
# fat LTO, opt-level z, one codegen unit and panic = "abort" all at once. Each build's first refusal
# runs again with stderr a pipe whose reader has gone (tests/cpu/stderr.py): it must exit with the
# gate's code, never by SIGPIPE; and one refusal before std starts, with stderr a full pipe nobody
# reads, must exit within a second or so.
#
# Usage: tests/cpu/run.sh    (installs qemu-user and what tests/cross needs for aarch64 and i686)
#        CPU_MEASURE_LIMITS=1 tests/cpu/run.sh    also measures aarch64 +lse on main's crate alone
#        under fat LTO, a known limit (docs/cpu.md), which is not asserted
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
fixture="$root/tests/cross/fixture/Cargo.toml"
work="$root/target/cpu"
tools="$root/target/cross-tools" # shared with tests/cross/run.sh (the wine prefix)
# shellcheck source=../cross/common.sh
. "$root/tests/cross/common.sh"

install gcc-aarch64-linux-gnu libc6-dev-arm64-cross binutils-aarch64-linux-gnu gcc-i686-linux-gnu \
  libc6-dev-i386-cross gcc-mingw-w64-x86-64 wine
mkdir -p "$work/bin"

failures=0
cases=0
fail() {
  failures=$((failures + 1))
  echo "  FAIL $1"
  shift
  for file in "$@"; do sed 's/^/    | /' "$file"; done
}

# The features a build assumed, as rustc reports them for FLAGS (cfg, the table's names).
assumed() { # TARGET FLAGS...
  local target=$1; shift
  rustc --print cfg --target "$target" "$@" 2>/dev/null | sed -n 's/^target_feature="\(.*\)"/\1/p'
}
X86_BASELINE=$(assumed x86_64-unknown-linux-gnu | paste -sd' ')

# The program and variable a refusal of BINARY names, by the fixture it is built from.
names_of() {
  case "$(basename "$1")" in
    kvd*) echo "kvd|KVD_UNSUPPORTED_ARCH" ;;
    etcd*) echo "etcd|ETCD_UNSUPPORTED_ARCH" ;;
  esac
}

# run LABEL EXPECT CODE COMMAND...: EXPECT is "start"; "lacks:LIST" (exactly that list, in order);
# "set:NAMES" (exactly those names, in any order); or "any:ASSUMED" (a start, or a refusal naming only
# names of ASSUMED, for qemu's max, whose features the script does not list). CODE is the refusal's
# exit code. Never 132. A refusal must name the program and its variable as `names_of` the binary (the
# last word of COMMAND) says, or as NAMES says ("PROGRAM|VARIABLE"; an empty VARIABLE: "its override
# variable").
run() {
  local label=$1 expect=$2 code=$3 rc=0 problem="" lacks=""; shift 3
  "$@" > "$work/out" 2> "$work/err" || rc=$?
  last_rc=$rc
  cases=$((cases + 1))
  if [[ "$expect" == any:* && "$rc" == 0 ]]; then
    expect=start
  fi
  if [ "$expect" = start ]; then
    [ "$rc" = 0 ] || problem="exit code $rc, expected 0"
    grep -qF ": started on" "$work/out" || problem="${problem:+$problem; }the program's code did not run"
  else
    [ "$rc" = "$code" ] || problem="exit code $rc, expected the gate's $code"
    [ ! -s "$work/out" ] || problem="${problem:+$problem; }the program's code ran"
    local first lacks; first=$(head -1 "$work/err")
    lacks=${first##*and this CPU lacks }
    local names program variable
    names=${NAMES-$(names_of "${*: -1}")}
    program=${names%%|*} variable=${names#*|}
    if [[ "$first" != *"will not start on this CPU"* || "$lacks" == "$first" || -z "$lacks" ]]; then
      problem="${problem:+$problem; }no CPU refusal naming what is missing"
    elif [[ "$first" != "error: $program will not start on this CPU"* ]]; then
      problem="${problem:+$problem; }the refusal does not name the program $program"
    elif ! grep -qxF "  = note: ${variable:-its override variable} cannot help: it overrides the support matrix, not the instructions the program was built with" "$work/err"; then
      problem="${problem:+$problem; }the refusal does not name ${variable:-its override variable}"
    elif [[ "$expect" == lacks:* ]]; then
      [ "$lacks" = "${expect#lacks:}" ] || problem="${problem:+$problem; }lacks '$lacks', expected '${expect#lacks:}'"
    elif [[ "$expect" == set:* ]]; then
      local got want
      got=$(echo "${lacks//,/}" | tr ' ' '\n' | sort | paste -sd' ')
      want=$(echo "${expect#set:}" | tr ' ' '\n' | sed '/^$/d' | sort | paste -sd' ')
      [ "$got" = "$want" ] || problem="${problem:+$problem; }lacks '$got', expected '$want'"
    else
      local feature
      for feature in ${lacks//,/}; do
        [[ " ${expect#any:} " == *" $feature "* ]] || problem="${problem:+$problem; }names $feature, which the build did not assume"
      done
    fi
  fi
  if [ -n "$problem" ]; then
    fail "$label: $problem" "$work/out" "$work/err"
  else
    echo "  ok   $label (exit $rc${lacks:+, lacks $lacks})"
  fi
  # Each build's first refusal again, with stderr a pipe whose reader has gone: the exit code must
  # be the gate's, not SIGPIPE's (std ignores SIGPIPE only once it has started).
  local binary="${*: -1}"
  if [ "$expect" != start ] && [ "$rc" = "$code" ] && [ -z "${DEAD_PIPE_DONE[$binary]:-}" ]; then
    DEAD_PIPE_DONE[$binary]=1
    cases=$((cases + 1))
    local ended; ended=$(python3 "$here/stderr.py" dead "$@")
    if [[ "$ended" == "exit $code "* ]]; then
      echo "  ok   $label, stderr a dead pipe ($ended s)"
    else
      failures=$((failures + 1))
      echo "  FAIL $label, stderr a dead pipe: $ended, expected exit $code"
    fi
  fi
}
declare -A DEAD_PIPE_DONE=()

# The nodes of a cluster whose NFD labels describe the CPU models these runs use, as NFD labels them
# under qemu: qemu's TCG has no AVX-512, so its Skylake-Server is an x86-64-v3 CPU here.
nodes_json="$work/nodes.json"
python3 - > "$nodes_json" <<'PY'
import json
def node(name, arch, flags):
    labels = {"kubernetes.io/arch": arch, "kubernetes.io/os": "linux"}
    labels.update({"feature.node.kubernetes.io/cpu-cpuid." + flag: "true" for flag in flags})
    return {"kind": "Node", "metadata": {"name": name, "labels": labels}}
v2 = ["X86_64_V1", "X86_64_V2"]
v3 = v2 + ["X86_64_V3", "AVX", "AVX2", "FMA3", "MOVBE", "AESNI"]
a53 = ["FP", "ASIMD", "EVTSTRM", "AES", "PMULL", "SHA1", "SHA2", "CRC32", "CPUID"]
print(json.dumps({"apiVersion": "v1", "kind": "List", "items": [
    node("Nehalem", "amd64", v2),
    node("Westmere", "amd64", v2 + ["AESNI"]),
    node("Haswell", "amd64", v3),
    node("Skylake-Server", "amd64", v3 + ["ADX"]),
    node("cortex-a53", "arm64", a53),
    node("cortex-a76", "arm64", a53 + ["ATOMICS", "FPHP", "ASIMDHP", "ASIMDRDM", "LRCPC", "DCPOP", "ASIMDDP", "SSBS"]),
]}))
PY

# fleet LABEL MODEL BINARY ENV_VALUE -- RUNNER...: `platform-gate nodes --env ENV_VALUE` says of the
# node that describes MODEL what a run of BINARY under MODEL (RUNNER... -cpu MODEL BINARY) does:
# starts (or warns) exactly when the run starts. ENV_VALUE is the override variable's value that
# RUNNER sets, "" where it sets none.
fleet() {
  local label=$1 model=$2 binary=$3 value=$4 verdict rc=0; shift 5
  cases=$((cases + 1))
  verdict=$("$platform_gate" nodes --json ${value:+--env "$value"} "$nodes_json" "$binary" 2> "$work/fleet.err" |
    python3 -c 'import json, sys; print(*[o["verdict"] for o in map(json.loads, sys.stdin) if o["node"] == sys.argv[1]])' "$model") || true
  "$@" -cpu "$model" "$binary" > /dev/null 2>&1 || rc=$?
  if [[ ( "$verdict" =~ ^(starts|warns)$ && "$rc" == 0 ) || ( "$verdict" == refuses && "$rc" != 0 && "$rc" != 132 ) ]]; then
    echo "  ok   nodes: $label on $model: $verdict, and the run exits $rc"
  else
    failures=$((failures + 1))
    echo "  FAIL nodes: $label on $model: the verdict is '$verdict', and the run exits $rc"
    sed 's/^/    | /' "$work/fleet.err"
  fi
}

# static BINARY OBJDUMP: the refusal path's machine code is the baseline's.
static() {
  cases=$((cases + 1))
  if python3 "$here/baseline_only.py" "$2" "$1" > "$work/static" 2>&1; then
    echo "  ok   baseline instructions only: $(sed -n 's/.*: walked \([0-9]*\) functions.*/\1 functions walked/p' "$work/static")"
  else
    fail "baseline instructions only: $1" "$work/static"
  fi
}

# What each x86 model lacks of the well-known builds, exactly (by build flags); elsewhere a refusal
# may name any feature the build assumed that the model lacks.
v2="popcnt, sse4.1, sse4.2, ssse3"
v3="avx, avx2, bmi1, bmi2, f16c, fma, lzcnt, movbe, xsave"
declare -A LACKS=(
  ["qemu64/-C target-cpu=x86-64-v3"]="$v2, $v3"
  ["Nehalem/-C target-cpu=x86-64-v3"]="$v3"
  # +avx2 implies avx and the SSE chain below it, and rustc enables (and reports) them all.
  ["qemu64/-C target-feature=+avx2,+fma"]="sse4.1, sse4.2, ssse3, avx, avx2, fma"
  ["Nehalem/-C target-feature=+avx2,+fma"]="avx, avx2, fma"
  ["qemu64/-C target-cpu=x86-64-v2"]="$v2"
)
MODELS=(qemu64 Nehalem max)
# What qemu64 and Nehalem have of the tables' features that a stable compiler reports.
declare -A HAS=([qemu64]="cmpxchg16b sse3" [Nehalem]="cmpxchg16b popcnt sse3 sse4.1 sse4.2 ssse3")
V3_AND_BELOW="cmpxchg16b popcnt sse3 sse4.1 sse4.2 ssse3 $(echo "$v3" | tr -d ,)"
V4_SPELT="-C target-feature=+avx512f,+avx512bw,+avx512cd,+avx512dq,+avx512vl,+avx2,+fma,+bmi1,+bmi2,+lzcnt,+movbe,+f16c,+xsave,+popcnt,+sse4.2,+cmpxchg16b"
STABLE_ALL=$(assumed x86_64-unknown-linux-gnu -C "target-feature=+$(rustc --print target-features \
  | sed -n '/supported by rustc/,/^$/p' | awk 'NR > 1 && NF { print $1 }' | grep -vx crt-static | paste -sd, | sed 's/,/,+/g')" \
  | grep -vxF -f <(echo "$X86_BASELINE" | tr ' ' '\n') | paste -sd, | sed 's/^/+/; s/,/,+/g')

# x86_64 build: NAME | PROFILE (dev/release) | profile settings (CARGO_PROFILE_<P>_...) | FLAGS | WHERE
# WHERE is "all" (RUSTFLAGS: refused before std, exit 1) or "main" (main's crate only).
BUILDS=(
  "baseline|release|||all"
  "v2|release||-C target-cpu=x86-64-v2|all"
  # One feature outside the levels: Westmere has it, Nehalem does not (platform-gate nodes, below).
  "aes|release||-C target-feature=+aes|all"
  # The profile matrix, main's crate alone: the check in main.
  "main-O0|dev|OPT_LEVEL=0|-C target-cpu=x86-64-v3|main"
  "main-O1|dev|OPT_LEVEL=1|-C target-cpu=x86-64-v3|main"
  "main-O2-cgu1-abort|release|OPT_LEVEL=2 CODEGEN_UNITS=1 PANIC=abort|-C target-cpu=x86-64-v3|main"
  "main-O3|release|OPT_LEVEL=3|-C target-cpu=x86-64-v3|main"
  "main-Os|release|OPT_LEVEL=s|-C target-cpu=x86-64-v3|main"
  "main-Oz-checks|release|OPT_LEVEL=z DEBUG_ASSERTIONS=true OVERFLOW_CHECKS=true|-C target-cpu=x86-64-v3|main"
  # The same profiles, every crate: the check before std starts.
  "all-O0|dev|OPT_LEVEL=0|-C target-cpu=x86-64-v3|all"
  "all-O1|dev|OPT_LEVEL=1|-C target-cpu=x86-64-v3|all"
  "all-O3|release||-C target-cpu=x86-64-v3|all"
  "all-Oz-cgu1-abort|release|OPT_LEVEL=z CODEGEN_UNITS=1 PANIC=abort|-C target-cpu=x86-64-v3|all"
  "all-Os-checks|release|OPT_LEVEL=s DEBUG_ASSERTIONS=true OVERFLOW_CHECKS=true|-C target-cpu=x86-64-v3|all"
  # LTO with explicit features, which reach std's start-up; and named levels.
  "fat-avx2-fma|release|LTO=fat|-C target-feature=+avx2,+fma|all"
  "thin-avx2-fma|release|LTO=thin|-C target-feature=+avx2,+fma|all"
  "fat-v4-spelt|release|LTO=fat CODEGEN_UNITS=1|$V4_SPELT|all"
  "thin-every-feature|release|LTO=thin|-C target-feature=$STABLE_ALL|all"
  "fat-O0-every-feature|dev|LTO=fat|-C target-feature=$STABLE_ALL|all"
  "thin-v4|release|LTO=thin|-C target-cpu=x86-64-v4|all"
  "fat-v3|release|LTO=fat|-C target-cpu=x86-64-v3|all"
)

began=$(date +%s)
echo "cpu: $(rustc -V), $(qemu-x86_64 --version | head -1)"
# What each model has, as the gate reads it: the command's `cpu`, run on the model. `check
# --cpu-features` with that list must predict each run on the model byte for byte (`predicted`).
prepare_gate_command
declare -A HAS_READ
for model in "${MODELS[@]}"; do
  HAS_READ[$model]=$(qemu-x86_64 -cpu "$model" "$platform_gate" cpu)
  echo "  $model: ${HAS_READ[$model]:-the baseline}"
done
for row in "${BUILDS[@]}"; do
  IFS='|' read -r name profile settings flags where <<< "$row"
  upper=$(echo "$profile" | tr a-z A-Z)
  env_settings=(); for setting in $settings; do env_settings+=("CARGO_PROFILE_${upper}_$setting"); done
  # One target directory: builds with other flags or profiles sit beside each other in it, and the
  # proc macros, built for the host, are built once. The binaries are copied out after each build.
  dir="$work/x86_64"
  built="$dir/x86_64-unknown-linux-gnu/$([ "$profile" = dev ] && echo debug || echo release)"
  out="$work/bin/$name"
  mkdir -p "$out"
  # --target keeps RUSTFLAGS off the proc macros, which run here.
  common=(--quiet --profile "$profile" --target x86_64-unknown-linux-gnu --manifest-path "$fixture" --target-dir "$dir")
  if [ "$where" = all ]; then
    env "${env_settings[@]}" RUSTFLAGS="$flags" cargo build "${common[@]}" --features kvd 2> "$work/build" \
      || { fail "build $name" "$work/build"; continue; }
  else
    for bin in etcd kvd; do
      # shellcheck disable=SC2086 # the flags are words
      env "${env_settings[@]}" cargo rustc "${common[@]}" --features kvd --bin $bin -- $flags 2> "$work/build" \
        || { fail "build $name $bin" "$work/build"; continue 2; }
    done
  fi
  cp "$built/etcd" "$built/kvd" "$out/"
  # The manifest survives `strip --strip-all`, whatever the profile did.
  strip --strip-all -o "$out/kvd.stripped" "$out/kvd"
  reads_alike "$out/kvd.stripped" || true
  # shellcheck disable=SC2086
  build_assumes=$(assumed x86_64-unknown-linux-gnu $flags | { grep -vxF -f <(echo "$X86_BASELINE" | tr ' ' '\n') || true; } | paste -sd' ')
  scope="every crate"; [ "$where" = all ] || scope="main's crate alone"
  echo "== $name ($profile${settings:+, $settings}${flags:+, $flags} for $scope): $(stat -c %s "$out/kvd") bytes"
  for bin in etcd kvd; do
    code=1; [ "$bin" = kvd ] && code=3
    for model in "${MODELS[@]}"; do
      if [ -n "${LACKS[$model/$flags]:-}" ]; then
        expect="lacks:${LACKS[$model/$flags]}"
      elif [ "$model" != max ]; then
        missing=$(for f in $build_assumes; do [[ " ${HAS[$model]} " == *" $f "* ]] || echo "$f"; done | paste -sd' ')
        expect=start; [ -z "$missing" ] || expect="set:$missing"
      else
        beyond=$(for f in $build_assumes; do [[ " $V3_AND_BELOW " == *" $f "* ]] || echo "$f"; done)
        expect=start; [ -z "$beyond" ] || expect="any:$build_assumes"
      fi
      run "$bin on $model" "$expect" "$code" qemu-x86_64 -cpu "$model" "$out/$bin"
      predicted "$bin on $model" "$last_rc" "$work/err" "$out/$bin" --cpu-features "${HAS_READ[$model]}" || true
    done
    static "$out/$bin" objdump
  done
done
# A binary that embeds another gated binary (k0s embeds etcd): two manifests that disagree in one image,
# so the refusal before std starts is the generic one, and `check` predicts it and says why.
echo "== k0s: x86-64-v3 for every crate, embedding all-O3's etcd"
K0S_EMBEDDED="$work/bin/all-O3/etcd" RUSTFLAGS="-C target-cpu=x86-64-v3" cargo build --quiet --release \
  --target x86_64-unknown-linux-gnu --manifest-path "$fixture" --target-dir "$work/x86_64" --features k0s --bin k0s
cp "$work/x86_64/x86_64-unknown-linux-gnu/release/k0s" "$work/bin/k0s"
NAMES="k0s|" run "k0s on Nehalem" "lacks:$v3" 1 qemu-x86_64 -cpu Nehalem "$work/bin/k0s"
predicted "k0s on Nehalem" "$last_rc" "$work/err" "$work/bin/k0s" --program k0s \
  --cpu-features "${HAS_READ[Nehalem]}" || true
cases=$((cases + 1))
if grep -qF "generically: the file holds other programs' manifests too" "$work/predicted.log"; then
  echo "  ok   the prediction says why: $(cat "$work/predicted.log")"
else
  fail "the prediction does not say that k0s falls back" "$work/predicted.log"
fi
run "k0s on max" start 1 qemu-x86_64 -cpu max "$work/bin/k0s"
static "$work/bin/k0s" objdump

# platform-gate nodes against real runs: a node's verdict from its NFD labels is the run's on its model.
for build in baseline aes all-O3 thin-v4; do
  for model in Nehalem Westmere Haswell Skylake-Server; do
    fleet "$build kvd" "$model" "$work/bin/$build/kvd" "" -- qemu-x86_64
  done
done

# The variable cannot let a build run where it would crash; and a v3 build runs natively here.
v3_main="$work/bin/main-O3"
run "main-O3 kvd on Nehalem, KVD_UNSUPPORTED_ARCH=amd64" "lacks:$v3" 3 \
  env KVD_UNSUPPORTED_ARCH=amd64 qemu-x86_64 -cpu Nehalem "$v3_main/kvd"
predicted "main-O3 kvd on Nehalem, KVD_UNSUPPORTED_ARCH=amd64" "$last_rc" "$work/err" "$v3_main/kvd" \
  --env amd64 --cpu-features "${HAS_READ[Nehalem]}" || true
if grep -qw avx2 /proc/cpuinfo; then
  run "all-O3 etcd natively" start 1 "$work/bin/all-O3/etcd"
  # Without --cpu-features, the command judges this machine's CPU.
  predicted "all-O3 etcd natively" "$last_rc" "$work/err" "$work/bin/all-O3/etcd" || true
fi

# On this machine's own CPU: a feature it lacks, for every crate. TBM is AMD's Bulldozer family's
# alone, so almost every CPU lacks it.
if grep -qw tbm /proc/cpuinfo; then
  echo "== +tbm natively: skipped, this CPU has TBM"
else
  echo "== +tbm for every crate, fat LTO, natively on this CPU"
  CARGO_PROFILE_RELEASE_LTO=fat RUSTFLAGS="-C target-feature=+tbm" cargo build --quiet --release \
    --target x86_64-unknown-linux-gnu --manifest-path "$fixture" --target-dir "$work/x86_64" --features kvd
  mkdir -p "$work/bin/native-tbm"
  cp "$work/x86_64/x86_64-unknown-linux-gnu/release/kvd" "$work/bin/native-tbm/"
  run "kvd natively" "lacks:tbm" 3 "$work/bin/native-tbm/kvd"
  predicted "kvd natively, this machine's CPU" "$last_rc" "$work/err" "$work/bin/native-tbm/kvd" || true
  static "$work/bin/native-tbm/kvd" objdump
fi
# Every binary built there is copied out under bin/; the builds are done with (common.sh).
done_with "$work/x86_64"

# The manifest through everything a release profile can do to a binary at once: stripped at link time
# (`strip = true`), fat LTO, opt-level "z", one codegen unit, panic = "abort"; every crate raised to
# x86-64-v3. Stripped, the static check cannot name its functions: the command and the Python reader
# read the manifest, and the command predicts its runs.
echo "== strip = true, fat LTO, opt-level z, one codegen unit, panic = abort, x86-64-v3 for every crate"
CARGO_PROFILE_RELEASE_STRIP=true CARGO_PROFILE_RELEASE_LTO=fat CARGO_PROFILE_RELEASE_OPT_LEVEL=z \
  CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 CARGO_PROFILE_RELEASE_PANIC=abort RUSTFLAGS="-C target-cpu=x86-64-v3" \
  cargo build --quiet --release --target x86_64-unknown-linux-gnu --manifest-path "$fixture" \
  --target-dir "$work/x86_64-stripped" --features kvd
out="$work/bin/stripped-everything"
mkdir -p "$out"
cp "$work/x86_64-stripped/x86_64-unknown-linux-gnu/release/kvd" "$out/"
reads_alike "$out/kvd" || true
for model in Nehalem max; do
  expect=start; [ "$model" = max ] || expect="lacks:$v3"
  run "kvd on $model" "$expect" 3 qemu-x86_64 -cpu "$model" "$out/kvd"
  predicted "kvd on $model" "$last_rc" "$work/err" "$out/kvd" --cpu-features "${HAS_READ[$model]}" || true
done
# And with stderr a full pipe whose reader never reads: the refusal gives up on stderr after a second
# (sys.rs's STDERR_PATIENCE_MS), and exits with the gate's code instead of waiting forever.
cases=$((cases + 1))
ended=$(python3 "$here/stderr.py" full qemu-x86_64 -cpu Nehalem "$out/kvd")
if [[ "$ended" =~ ^exit\ 3\ [0-4]\. ]]; then
  echo "  ok   kvd on Nehalem, stderr a full pipe nobody reads ($ended s)"
else
  failures=$((failures + 1))
  echo "  FAIL kvd on Nehalem, stderr a full pipe nobody reads: $ended, expected exit 3 within 5 s"
fi
done_with "$work/x86_64-stripped"

# The second toolchain, Debian's compiler with the std it ships: both paths at opt-level 0 and 1.
echo "== x86_64 with $(/usr/bin/rustc -V | cut -d' ' -f1-2), its own std"
for row in "main-O0|0|main" "main-O1|1|main" "all-O0|0|all" "all-O1|1|all"; do
  IFS='|' read -r name level where <<< "$row"
  dir="$work/debian-x86_64" out="$work/bin/debian-$name"
  mkdir -p "$out"
  if [ "$where" = all ]; then
    CARGO_PROFILE_DEV_OPT_LEVEL=$level TARGET_RUSTFLAGS="-C target-cpu=x86-64-v3" BUILD_STD=no \
      build x86_64-unknown-linux-gnu gcc "$fixture" "$dir" build --features kvd
  else
    for bin in etcd kvd; do
      CARGO_PROFILE_DEV_OPT_LEVEL=$level BUILD_STD=no build x86_64-unknown-linux-gnu gcc "$fixture" "$dir" \
        rustc --features kvd --bin $bin -- -C target-cpu=x86-64-v3
    done
  fi
  code=3
  cp "$dir/x86_64-unknown-linux-gnu/debug/etcd" "$dir/x86_64-unknown-linux-gnu/debug/kvd" "$out/"
  echo "  $name"
  run "kvd on Nehalem" "lacks:$v3" "$code" qemu-x86_64 -cpu Nehalem "$out/kvd"
  predicted "kvd on Nehalem" "$last_rc" "$work/err" "$out/kvd" --cpu-features "${HAS_READ[Nehalem]}" || true
  run "kvd on max" start "$code" qemu-x86_64 -cpu max "$out/kvd"
  static "$out/kvd" objdump
done
done_with "$work/debian-x86_64"

# The minimum supported Rust, Debian's 1.85, as .ci/msrv unpacks it: CPUID is an `unsafe` function
# there, which the check calls in an audited block; before, it could not read the CPU at all.
msrv=$root/target/debian-rust-1.85/root
if [ ! -x "$msrv/usr/bin/cargo" ]; then
  echo "== Rust 1.85: skipped, run .ci/msrv first (it unpacks Debian's 1.85 under target/)"
else
  echo "== x86_64 with $(LD_LIBRARY_PATH="$msrv/usr/lib/x86_64-linux-gnu" "$msrv/usr/bin/rustc" -V | cut -d' ' -f1-2) (the minimum supported Rust)"
  out="$work/bin/msrv"
  mkdir -p "$out"
  (
    unset RUSTUP_TOOLCHAIN RUSTC_WRAPPER
    export LD_LIBRARY_PATH="$msrv/usr/lib/x86_64-linux-gnu" RUSTC="$msrv/usr/bin/rustc" RUSTDOC="$msrv/usr/bin/rustdoc"
    common=(--quiet --locked --features kvd --manifest-path "$fixture" --target x86_64-unknown-linux-gnu
      --target-dir "$work/msrv")
    RUSTFLAGS="-C target-cpu=x86-64-v3" "$msrv/usr/bin/cargo" build --release "${common[@]}"
    cp "$work/msrv/x86_64-unknown-linux-gnu/release/kvd" "$out/kvd-all"
    RUSTFLAGS="" "$msrv/usr/bin/cargo" rustc "${common[@]}" --bin kvd -- -C target-cpu=x86-64-v3
    cp "$work/msrv/x86_64-unknown-linux-gnu/debug/kvd" "$out/kvd-main"
  )
  run "every crate, release: kvd on Nehalem" "lacks:$v3" 3 qemu-x86_64 -cpu Nehalem "$out/kvd-all"
  predicted "every crate, release: kvd on Nehalem" "$last_rc" "$work/err" "$out/kvd-all" \
    --cpu-features "${HAS_READ[Nehalem]}" || true
  strip --strip-all -o "$out/kvd-all.stripped" "$out/kvd-all"
  reads_alike "$out/kvd-all.stripped" || true
  run "every crate, release: kvd on max" start 3 qemu-x86_64 -cpu max "$out/kvd-all"
  static "$out/kvd-all" objdump
  run "main's crate, debug: kvd on Nehalem" "lacks:$v3" 3 qemu-x86_64 -cpu Nehalem "$out/kvd-main"
  predicted "main's crate, debug: kvd on Nehalem" "$last_rc" "$work/err" "$out/kvd-main" \
    --cpu-features "${HAS_READ[Nehalem]}" || true
  run "main's crate, debug: kvd on max" start 3 qemu-x86_64 -cpu max "$out/kvd-main"
  static "$out/kvd-main" objdump
  done_with "$work/msrv"
fi

echo "== x86_64, std rebuilt with -C target-cpu=x86-64-v3 (-Zbuild-std, $(/usr/bin/rustc -V))"
TARGET_RUSTFLAGS="-C target-cpu=x86-64-v3" build x86_64-unknown-linux-gnu gcc "$fixture" "$work/x86_64-build-std" \
  build --features kvd
out="$work/x86_64-build-std/x86_64-unknown-linux-gnu/debug"
run "kvd on Nehalem" "lacks:$v3" 3 qemu-x86_64 -cpu Nehalem "$out/kvd"
predicted "kvd on Nehalem" "$last_rc" "$work/err" "$out/kvd" --cpu-features "${HAS_READ[Nehalem]}" || true
run "kvd on max" start 3 qemu-x86_64 -cpu max "$out/kvd"
static "$out/kvd" objdump
done_with "$work/x86_64-build-std"

# Windows: the check before std starts is in `.CRT$XCT`, run by the C runtime. wine runs this
# machine's CPU, so the build assumes a feature this CPU lacks (TBM, as above).
if grep -qw tbm /proc/cpuinfo; then
  echo "== Windows under wine: skipped, this CPU has TBM"
else
  echo "== Windows x86_64 under wine, +tbm for every crate, std rebuilt with it"
  prepare_wine
  TARGET_RUSTFLAGS="-C target-feature=+tbm" build x86_64-pc-windows-gnu x86_64-w64-mingw32-gcc "$fixture" \
    "$work/windows-tbm" build --features kvd
  out="$work/windows-tbm/x86_64-pc-windows-gnu/debug"
  # Named from the manifest in the executable's sections: kvd, its variable, exit code 3.
  run "kvd.exe under wine" "lacks:tbm" 3 env -i "${wine_env[@]}" wine "$out/kvd.exe"
  predicted "kvd.exe under wine, this machine's CPU" "$last_rc" "$work/err" "$out/kvd.exe" || true
  static "$out/kvd.exe" objdump
  env "${wine_env[@]}" wineserver --kill 2> /dev/null || true
  done_with "$work/windows-tbm"
fi

# The hooks of the systems not run here, compiled with raised flags: Mach-O's `__mod_init_func` and
# MSVC's `.CRT$XCT` (tests/cross/expected asserts the platform, as in tests/cross/run.sh).
for check in "x86_64-apple-darwin|macos" "x86_64-pc-windows-msvc|windows"; do
  IFS='|' read -r triple os <<< "$check"
  cases=$((cases + 1))
  if EXPECTED_ARCH=x86_64 EXPECTED_OS=$os TARGET_RUSTFLAGS="-C target-cpu=x86-64-v3" BUILD_STD=std \
    build "$triple" none "$root/tests/cross/expected/Cargo.toml" "$work/checks" check > "$work/build" 2>&1; then
    echo "  ok   $triple compiles with x86-64-v3 and its hook"
  else
    fail "$triple does not compile with x86-64-v3" "$work/build"
  fi
done
done_with "$work/checks"

echo "== aarch64 ($(/usr/bin/rustc -V), std built for the target)"
qemu=(env ETCD_UNSUPPORTED_ARCH=arm64 KVD_UNSUPPORTED_ARCH=arm64 qemu-aarch64 -L /usr/aarch64-linux-gnu)
# +lse on main's crate alone, unoptimised: the check in main.
build aarch64-unknown-linux-gnu aarch64-linux-gnu-gcc "$fixture" "$work/aarch64" rustc --bin etcd -- -C target-feature=+lse
mkdir -p "$work/bin/aarch64-main-lse"
lse="$work/bin/aarch64-main-lse/etcd"
cp "$work/aarch64/aarch64-unknown-linux-gnu/debug/etcd" "$lse"
# The same directory, whose std (built for aarch64, no flags) serves both; the +lse binary is copied
# out above.
build aarch64-unknown-linux-gnu aarch64-linux-gnu-gcc "$fixture" "$work/aarch64" build --features cpu-features
baseline="$work/aarch64/aarch64-unknown-linux-gnu/debug"
# What each model has, as the gate reads it there; the command's predictions take that list.
declare -A ARM_HAS
for model in cortex-a53 max; do ARM_HAS[$model]=$("${qemu[@]}" -cpu "$model" "$baseline/cpu-features"); done
echo "  cortex-a53: ${ARM_HAS[cortex-a53]:-the baseline}; max: ${ARM_HAS[max]}"
# arm64_case LABEL EXPECT MODEL BINARY: run on MODEL, and the command's prediction of that run.
arm64_case() {
  local code=1; [ "$(basename "$4")" = kvd ] && code=3
  run "$1" "$2" "$code" "${qemu[@]}" -cpu "$3" "$4"
  predicted "$1" "$last_rc" "$work/err" "$4" --env arm64 --cpu-features "${ARM_HAS[$3]}" || true
}
arm64_case "+lse on main's crate, on cortex-a53" "lacks:lse" cortex-a53 "$lse"
arm64_case "+lse on main's crate, on max" start max "$lse"
static "$lse" aarch64-linux-gnu-objdump
arm64_case "baseline on cortex-a53" start cortex-a53 "$baseline/etcd"
# +lse for every crate, std rebuilt with it, fat LTO: the check before std starts.
CARGO_PROFILE_RELEASE_LTO=fat TARGET_RUSTFLAGS="-C target-feature=+lse" build aarch64-unknown-linux-gnu \
  aarch64-linux-gnu-gcc "$fixture" "$work/aarch64-lse" build --release --features kvd
out="$work/aarch64-lse/aarch64-unknown-linux-gnu/release"
arm64_case "+lse everywhere, fat LTO, on cortex-a53" "lacks:lse" cortex-a53 "$out/kvd"
arm64_case "+lse everywhere, fat LTO, on max" start max "$out/kvd"
# platform-gate nodes on the arm64 nodes, with the variable the runs set (arm64 is experimental for kvd).
for model in cortex-a53 cortex-a76; do
  fleet "+lse kvd" "$model" "$out/kvd" arm64 -- "${qemu[@]}"
  fleet "baseline etcd" "$model" "$baseline/etcd" arm64 -- "${qemu[@]}"
done
# The affinity of a pod of both kvd builds decodes as a Deployment's (kubectl, offline) and holds the
# CPU labels: x86-64-v2 and v3 for amd64; arm64, where kvd is experimental, stays out.
cases=$((cases + 1))
if ! command -v kubectl > /dev/null; then
  echo "  skip kubectl is not installed: the affinity's decoding is not checked"
else
  printf '%s' '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"kvd"},"spec":{"selector":{"matchLabels":{"app":"kvd"}},"template":{"metadata":{"labels":{"app":"kvd"}},"spec":{"containers":[{"name":"kvd","image":"example.com/kvd"}]}}}}' > "$work/deployment.json"
  "$platform_gate" kubernetes "$work/bin/all-O3/kvd" "$out/kvd" 2> "$work/fleet.err" | sed 's/^/      /' > "$work/affinity.yaml" || true
  if printf 'spec:\n  template:\n    spec:\n%s\n' "$(cat "$work/affinity.yaml")" > "$work/patch.yaml" &&
    kubectl patch --local -f "$work/deployment.json" --patch-file "$work/patch.yaml" -o json > "$work/patched.json" 2> "$work/kubectl.err" &&
    python3 - "$work/patched.json" <<'PY' > "$work/decoded" 2>&1
import json, sys
affinity = json.load(open(sys.argv[1]))["spec"]["template"]["spec"]["affinity"]
terms = affinity["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
keys = {next(e["values"][0] for e in t["matchExpressions"] if e["key"] == "kubernetes.io/arch"):
        [e["key"].rsplit(".", 1)[-1] for e in t["matchExpressions"] if e["key"].startswith("feature.")] for t in terms}
assert all(e["values"] and all(isinstance(v, str) for v in e["values"]) for t in terms for e in t["matchExpressions"])
assert keys == {"amd64": ["X86_64_V2", "X86_64_V3"]}, keys
print(keys)
PY
  then
    echo "  ok   the affinity decodes as a Deployment's (kubectl patch --local): $(cat "$work/decoded")"
  else
    failures=$((failures + 1))
    echo "  FAIL the affinity does not decode as a Deployment's:"
    cat "$work/fleet.err" "$work/kubectl.err" "$work/decoded" 2> /dev/null | sed 's/^/    | /'
  fi
fi
static "$out/kvd" aarch64-linux-gnu-objdump
# +lse on main's crate alone under fat LTO: measured, not required (docs/cpu.md's limits), and only
# with CPU_MEASURE_LIMITS=1: it costs a release std for aarch64, about a minute, to say again what
# docs/cpu.md says. Nothing that runs before std starts was compiled knowing of the flag; LTO still
# compiles std's start-up with it.
if [ "${CPU_MEASURE_LIMITS:-}" = 1 ]; then
  CARGO_PROFILE_RELEASE_LTO=fat build aarch64-unknown-linux-gnu aarch64-linux-gnu-gcc "$fixture" \
    "$work/aarch64-lse-main" rustc --release --bin etcd -- -C target-feature=+lse
  rc=0; "${qemu[@]}" -cpu cortex-a53 "$work/aarch64-lse-main/aarch64-unknown-linux-gnu/release/etcd" > "$work/out" 2> "$work/err" || rc=$?
  echo "  measured: +lse on main's crate alone, fat LTO, on cortex-a53: exit $rc ($(head -c 120 "$work/err" | head -1))"
fi
done_with "$work/aarch64" "$work/aarch64-lse" "$work/aarch64-lse-main"

echo "== i686, +avx2,+fma on main's crate alone"
build i686-unknown-linux-gnu i686-linux-gnu-gcc "$fixture" "$work/i686" rustc --bin etcd -- -C target-feature=+avx2,+fma
i686="$work/i686/i686-unknown-linux-gnu/debug/etcd"
build i686-unknown-linux-gnu i686-linux-gnu-gcc "$fixture" "$work/i686" build --features cpu-features --bin cpu-features
# 386 is unstable in etcd's matrix; the 32-bit x86 code reads CPUID as the 64-bit code does.
qemu=(env ETCD_UNSUPPORTED_ARCH=386 qemu-i386 -L /usr/i686-linux-gnu)
# Nehalem without its 64-bit features, which qemu-i386 would otherwise warn it cannot give.
for row in "Nehalem,-lm,-syscall|lacks:avx, avx2, fma" "max|start"; do
  IFS='|' read -r model expect <<< "$row"
  run "+avx2,+fma on ${model%%,*}" "$expect" 1 "${qemu[@]}" -cpu "$model" "$i686"
  predicted "+avx2,+fma on ${model%%,*}" "$last_rc" "$work/err" "$i686" --env 386 \
    --cpu-features "$("${qemu[@]}" -cpu "$model" "$work/i686/i686-unknown-linux-gnu/debug/cpu-features")" || true
done
static "$i686" objdump
done_with "$work/i686"

echo
echo "cpu: $((cases - failures)) passed, $failures failed in $(( $(date +%s) - began ))s"
[ "$failures" = 0 ]
