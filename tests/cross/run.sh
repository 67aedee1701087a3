#!/usr/bin/env bash
# Proves the gate on real foreign architectures: builds the etcd-shaped fixture (tests/cross/fixture,
# default matrix, ETCD_UNSUPPORTED_ARCH) for twelve Linux targets and runs each under qemu-user with the
# variable unset, set to the architecture's Go and Rust spellings, to another architecture, and empty.
# Every exit code and message is checked against etcd's matrix as the issue states it, written out below
# rather than read from the code under test. For the systems it cannot run (macOS, FreeBSD, illumos,
# Android, Windows MSVC, WASI, riscv32), it compiles tests/cross/expected, whose `const` assertion fails
# the build unless `Platform::CURRENT` is the platform this script's table expects there.
# The README's "Tested on" table is this script's output: it fails when the two differ
# (UPDATE_README=1 rewrites the README's block).
#
# How: see common.sh. Installs what it needs itself (root, apt), about 470 MB.
#
# Usage: tests/cross/run.sh
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
target_dir="$root/target/cross"
# shellcheck source=common.sh
. "$here/common.sh"

# triple | gcc prefix | Debian cross arch | qemu | Go name | Rust name | status in etcd's matrix | 32-bit note
TARGETS=(
  "aarch64-unknown-linux-gnu|aarch64-linux-gnu|arm64|qemu-aarch64|arm64|aarch64|experimental|no"
  "i686-unknown-linux-gnu|i686-linux-gnu|i386|qemu-i386|386|x86|unstable|yes"
  "armv7-unknown-linux-gnueabihf|arm-linux-gnueabihf|armhf|qemu-arm|arm|arm|unstable|yes"
  "powerpc64le-unknown-linux-gnu|powerpc64le-linux-gnu|ppc64el|qemu-ppc64le|ppc64le|powerpc64le|stable|no"
  "powerpc64-unknown-linux-gnu|powerpc64-linux-gnu|ppc64|qemu-ppc64|ppc64|powerpc64|unlisted|no"
  "s390x-unknown-linux-gnu|s390x-linux-gnu|s390x|qemu-s390x|s390x|s390x|unlisted|no"
  "riscv64gc-unknown-linux-gnu|riscv64-linux-gnu|riscv64|qemu-riscv64|riscv64|riscv64|unlisted|no"
  "mips64el-unknown-linux-gnuabi64|mips64el-linux-gnuabi64|mips64el|qemu-mips64el|mips64le|mips64el|unlisted|no"
  "mips64-unknown-linux-gnuabi64|mips64-linux-gnuabi64|mips64|qemu-mips64|mips64|mips64|unlisted|no"
  "sparc64-unknown-linux-gnu|sparc64-linux-gnu|sparc64|qemu-sparc64|sparc64|sparc64|unlisted|no"
  "powerpc-unknown-linux-gnu|powerpc-linux-gnu|powerpc|qemu-ppc|ppc|powerpc|unlisted|no"
  "armv5te-unknown-linux-gnueabi|arm-linux-gnueabi|armel|qemu-arm|arm|arm|unstable|yes"
)
# Compiled only: triple | -Zbuild-std crates | expected architecture | expected OS (Rust names)
CHECKS=(
  "x86_64-apple-darwin|std|x86_64|macos"
  "aarch64-apple-darwin|std|aarch64|macos"
  "x86_64-unknown-freebsd|std|x86_64|freebsd"
  "x86_64-unknown-illumos|std|x86_64|illumos"
  "aarch64-linux-android|std|aarch64|android"
  "x86_64-pc-windows-msvc|std|x86_64|windows"
  "riscv32gc-unknown-linux-gnu|std|riscv32|linux"
  "wasm32-wasip1|std,panic_abort|wasm32|wasi"
)

failures=0
cases=0
# check NAME WANT_RC FILE_WITH_RC STDOUT STDERR [needles in stderr...]
check() {
  local label=$1 want=$2 rc=$3 out=$4 err=$5; shift 5
  local problem=""
  [ "$rc" = "$want" ] || problem="exit code $rc, expected $want"
  for needle in "$@"; do
    case "$needle" in
      "!"*) ! grep -qF -- "${needle#!}" "$err" || problem="${problem:+$problem; }stderr has '${needle#!}'" ;;
      "stdout:"*) grep -qxF -- "${needle#stdout:}" "$out" || problem="${problem:+$problem; }stdout lacks '${needle#stdout:}'" ;;
      "empty-stdout") [ ! -s "$out" ] || problem="${problem:+$problem; }the program's code ran" ;;
      "empty-stderr") [ ! -s "$err" ] || problem="${problem:+$problem; }stderr not empty" ;;
      *) grep -qF -- "$needle" "$err" || problem="${problem:+$problem; }stderr lacks '$needle'" ;;
    esac
  done
  cases=$((cases + 1))
  if [ -n "$problem" ]; then
    failures=$((failures + 1))
    echo "  FAIL $label: $problem"
    sed 's/^/    | /' "$out" "$err"
    return 1
  fi
  echo "  ok   $label"
}

install "${TARGETS[@]}"
echo "cross: $(/usr/bin/rustc -V), $(qemu-aarch64 --version | head -1)"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

table=("| Target | Platform | Status in etcd's matrix | How it is proved | Cases | Result |" "|---|---|---|---|---|---|")

for row in "${TARGETS[@]}"; do
  IFS='|' read -r triple prefix _ qemu go rust status note32 <<< "$row"
  echo "== $triple ($go)"
  started=$(date +%s)
  if ! build "$triple" "$prefix" "$here/fixture/Cargo.toml" "$target_dir"; then
    echo "  FAIL build"; failures=$((failures + 1)); table+=("| \`$triple\` | $go | $status | run under qemu-user | build failed | FAIL |"); continue
  fi
  echo "  built in $(( $(date +%s) - started ))s"
  exe="$target_dir/$triple/debug/etcd"
  platform="$go linux"; [ "$go" = "$rust" ] || platform="$go ($rust) linux"
  before=$failures
  values=(UNSET "$go"); [ "$rust" = "$go" ] || values+=("$rust"); values+=(amd64 "")
  for value in "${values[@]}"; do
    label="ETCD_UNSUPPORTED_ARCH=${value}"; [ "$value" = UNSET ] && label="variable unset"
    env_args=(-i); [ "$value" = UNSET ] || env_args+=("ETCD_UNSUPPORTED_ARCH=$value")
    rc=0
    env "${env_args[@]}" "$(command -v "$qemu")" -L "/usr/$prefix" "$exe" > "$work/out" 2> "$work/err" || rc=$?
    if [ "$status" = stable ]; then
      check "$label" 0 "$rc" "$work/out" "$work/err" "stdout:etcd: started on $platform" empty-stderr || true
      continue
    fi
    case "$status" in
      unlisted) judged="the architecture is not in etcd's support matrix, so it is unsupported"; word=unsupported ;;
      *) judged="the architecture is $status in etcd's support matrix"; word=$status ;;
    esac
    note=("!32-bit"); [ "$note32" = yes ] && note=("known issues on 32-bit systems")
    case "$value" in
      "$go"|"$rust")
        check "$label" 0 "$rc" "$work/out" "$work/err" "stdout:etcd: started on $platform" \
          "warning: etcd is running on $platform, an $word architecture, because ETCD_UNSUPPORTED_ARCH is set" || true ;;
      UNSET)
        check "$label" 1 "$rc" "$work/out" "$work/err" empty-stdout "error: etcd will not start on $platform: $judged" \
          "ETCD_UNSUPPORTED_ARCH is not set" "set ETCD_UNSUPPORTED_ARCH=$go" "${note[@]}" || true ;;
      amd64)
        check "$label" 1 "$rc" "$work/out" "$work/err" empty-stdout "$judged" \
          "is set to \"amd64\", which names amd64 (x86_64), not $go" "set ETCD_UNSUPPORTED_ARCH=$go" "${note[@]}" || true ;;
      "")
        check "$label" 1 "$rc" "$work/out" "$work/err" empty-stdout "$judged" "ETCD_UNSUPPORTED_ARCH is set, but empty" || true ;;
    esac
  done
  result=ok; [ "$failures" = "$before" ] || result=FAIL
  table+=("| \`$triple\` | $platform | $status | run under qemu-user | ${#values[@]} | $result |")
done

for row in "${CHECKS[@]}"; do
  IFS='|' read -r triple crates arch os <<< "$row"
  echo "== $triple (compiled: Platform::CURRENT must be $arch $os)"
  cases=$((cases + 1))
  if EXPECTED_ARCH=$arch EXPECTED_OS=$os build "$triple" none "$here/expected/Cargo.toml" "$target_dir" check "-Zbuild-std=$crates"; then
    echo "  ok   $arch $os"; result=ok
  else
    echo "  FAIL Platform::CURRENT is not $arch $os"; failures=$((failures + 1)); result=FAIL
  fi
  table+=("| \`$triple\` | $arch $os | | compile-time assertion | 1 | $result |")
done

echo
printf '%s\n' "${table[@]}" | tee "$work/table.md"
echo
# The README's table is this output.
if ! python3 - "$root/README.md" "$work/table.md" <<'PY'
import os, sys
readme, table = open(sys.argv[1]).read(), open(sys.argv[2]).read()
begin, end = "<!-- generated:tested-on -->\n", "<!-- /generated:tested-on -->"
start = readme.index(begin) + len(begin)
stop = readme.index(end, start)
if readme[start:stop] == table:
    sys.exit(0)
if os.environ.get("UPDATE_README"):
    open(sys.argv[1], "w").write(readme[:start] + table + readme[stop:])
    print("cross: README.md's Tested on table rewritten")
    sys.exit(0)
print("cross: README.md's Tested on table is not this output; rerun with UPDATE_README=1 and read the diff")
sys.exit(1)
PY
then
  failures=$((failures + 1))
fi
echo "cross: $((cases - failures)) passed, $failures failed"
[ "$failures" = 0 ]
