#!/usr/bin/env bash
# Proves the CPU check where it matters, on CPUs that lack what a build assumed. qemu-user emulates
# CPU models faithfully: qemu64 is x86-64 (v1: no SSSE3, SSE4, POPCNT), Nehalem is x86-64-v2 (no AVX),
# max has AVX2 and the rest of v3; cortex-a53 has no LSE. The etcd-shaped fixture of tests/cross is
# built at the baseline, x86-64-v2, x86-64-v3 (release, and debug too) and +avx2,+fma, all crates
# with the flags, and run on every model: where the CPU lacks something the gate must refuse with
# its exit code (1) and name what is missing, never die of SIGILL (132); elsewhere it must start.
# The x86-64-v3 build also runs natively here. For aarch64 (+lse) and i686 (+avx2,+fma), the flags
# are given to the binary's crate alone (`cargo rustc -- -C target-feature=...`), which only the
# expansion in `main` can see.
#
# Usage: tests/cpu/run.sh    (installs qemu-user and, for aarch64 and i686, what tests/cross needs)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
fixture="$root/tests/cross/fixture/Cargo.toml"
work="$root/target/cpu"
# shellcheck source=../cross/common.sh
. "$root/tests/cross/common.sh"

install gcc-aarch64-linux-gnu libc6-dev-arm64-cross gcc-i686-linux-gnu libc6-dev-i386-cross
mkdir -p "$work/bin"

# name | profile | RUSTFLAGS
BUILDS=(
  "baseline|release|"
  "x86-64-v2|release|-C target-cpu=x86-64-v2"
  "x86-64-v3|release|-C target-cpu=x86-64-v3"
  "x86-64-v3-debug|debug|-C target-cpu=x86-64-v3"
  "avx2-fma|release|-C target-feature=+avx2,+fma"
)
# model | what it lacks of each build, by build name ("" = it has everything the build assumed)
declare -A LACKS=(
  [qemu64/x86-64-v2]="popcnt, sse4.1, sse4.2, ssse3"
  [qemu64/x86-64-v3]="popcnt, sse4.1, sse4.2, ssse3, avx, avx2, bmi1, bmi2, f16c, fma, lzcnt, movbe, xsave"
  [qemu64/x86-64-v3-debug]="popcnt, sse4.1, sse4.2, ssse3, avx, avx2, bmi1, bmi2, f16c, fma, lzcnt, movbe, xsave"
  # +avx2 implies avx and the SSE chain below it, and rustc enables (and reports) them all.
  [qemu64/avx2-fma]="sse4.1, sse4.2, ssse3, avx, avx2, fma"
  [Nehalem/x86-64-v3]="avx, avx2, bmi1, bmi2, f16c, fma, lzcnt, movbe, xsave"
  [Nehalem/x86-64-v3-debug]="avx, avx2, bmi1, bmi2, f16c, fma, lzcnt, movbe, xsave"
  [Nehalem/avx2-fma]="avx, avx2, fma"
)
MODELS=(qemu64 Nehalem max)

failures=0
cases=0

# run LABEL EXPECTED_LACK COMMAND...: a start where nothing is lacking, else a refusal naming it.
run() {
  local label=$1 lack=$2 rc=0 problem=""; shift 2
  "$@" > "$work/out" 2> "$work/err" || rc=$?
  if [ -z "$lack" ]; then
    [ "$rc" = 0 ] || problem="exit code $rc, expected 0"
    grep -qF "etcd: started on" "$work/out" || problem="${problem:+$problem; }the program's code did not run"
  else
    [ "$rc" = 1 ] || problem="exit code $rc, expected the gate's 1"
    [ ! -s "$work/out" ] || problem="${problem:+$problem; }the program's code ran"
    grep -qF "will not start on this CPU" "$work/err" || problem="${problem:+$problem; }no CPU refusal"
    local first; first=$(head -1 "$work/err")
    [[ "$first" == *"this CPU lacks $lack" ]] || problem="${problem:+$problem; }does not say it lacks exactly '$lack'"
  fi
  cases=$((cases + 1))
  if [ -n "$problem" ]; then
    failures=$((failures + 1))
    echo "  FAIL $label: $problem"
    sed 's/^/    | /' "$work/out" "$work/err"
  else
    echo "  ok   $label${lack:+ (refused: lacks $lack)}"
  fi
}

echo "cpu: $(rustc -V), $(qemu-x86_64 --version | head -1)"
for row in "${BUILDS[@]}"; do
  IFS='|' read -r name profile flags <<< "$row"
  profile_flag=(); [ "$profile" = release ] && profile_flag=(--release)
  # --target keeps RUSTFLAGS off the proc macros, which run here: one host build serves all.
  RUSTFLAGS="$flags" cargo build --quiet "${profile_flag[@]}" --target x86_64-unknown-linux-gnu \
    --manifest-path "$fixture" --target-dir "$work/x86_64"
  cp "$work/x86_64/x86_64-unknown-linux-gnu/$profile/etcd" "$work/bin/$name"
  echo "== $name ($profile${flags:+, $flags}): $(stat -c %s "$work/bin/$name") bytes"
  for model in "${MODELS[@]}"; do
    run "qemu-x86_64 -cpu $model" "${LACKS[$model/$name]:-}" qemu-x86_64 -cpu "$model" "$work/bin/$name"
  done
done
# The variable cannot let a build run where it would crash.
run "x86-64-v3 on Nehalem, ETCD_UNSUPPORTED_ARCH=amd64" "${LACKS[Nehalem/x86-64-v3]}" \
  env ETCD_UNSUPPORTED_ARCH=amd64 qemu-x86_64 -cpu Nehalem "$work/bin/x86-64-v3"
run "x86-64-v3 natively" "" "$work/bin/x86-64-v3"

echo "== aarch64, +lse on the binary's crate only"
build aarch64-unknown-linux-gnu aarch64-linux-gnu-gcc "$fixture" "$work/aarch64" rustc --bin etcd -- -C target-feature=+lse
lse="$work/aarch64/aarch64-unknown-linux-gnu/debug/etcd"
build aarch64-unknown-linux-gnu aarch64-linux-gnu-gcc "$fixture" "$work/aarch64-baseline"
baseline="$work/aarch64-baseline/aarch64-unknown-linux-gnu/debug/etcd"
# arm64 is experimental in etcd's matrix: the variable gets past that gate, never past the CPU's.
qemu=(env ETCD_UNSUPPORTED_ARCH=arm64 qemu-aarch64 -L /usr/aarch64-linux-gnu)
run "+lse on cortex-a53" "lse" "${qemu[@]}" -cpu cortex-a53 "$lse"
run "+lse on max" "" "${qemu[@]}" -cpu max "$lse"
run "baseline on cortex-a53" "" "${qemu[@]}" -cpu cortex-a53 "$baseline"

echo "== i686, +avx2,+fma on the binary's crate only"
build i686-unknown-linux-gnu i686-linux-gnu-gcc "$fixture" "$work/i686" rustc --bin etcd -- -C target-feature=+avx2,+fma
i686="$work/i686/i686-unknown-linux-gnu/debug/etcd"
# 386 is unstable in etcd's matrix; the 32-bit x86 code reads CPUID as the 64-bit code does.
qemu=(env ETCD_UNSUPPORTED_ARCH=386 qemu-i386 -L /usr/i686-linux-gnu)
# Nehalem without its 64-bit features, which qemu-i386 would otherwise warn it cannot give.
run "+avx2,+fma on Nehalem" "avx, avx2, fma" "${qemu[@]}" -cpu Nehalem,-lm,-syscall "$i686"
run "+avx2,+fma on max" "" "${qemu[@]}" -cpu max "$i686"

echo
echo "cpu: $((cases - failures)) passed, $failures failed"
[ "$failures" = 0 ]
