#!/usr/bin/env bash
# Proves the gate on real foreign architectures: builds the etcd-shaped fixture (tests/cross/fixture,
# default matrix, ETCD_UNSUPPORTED_ARCH) for seven Linux targets and runs each under qemu-user with the
# variable unset, set to the architecture's Go and Rust spellings, to another architecture, and empty.
# Every exit code and message is checked against etcd's matrix as the issue states it, written out below
# rather than read from the code under test.
#
# How: see common.sh. Installs what it needs itself (root, apt), about 470 MB.
#
# Usage: tests/cross/run.sh [--table]    --table: print only the README's "Tested on" table at the end
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
table=("| Target | Architecture | Status in etcd's matrix | Cases | Result |" "|---|---|---|---|---|")

for row in "${TARGETS[@]}"; do
  IFS='|' read -r triple prefix _ qemu go rust status note32 <<< "$row"
  echo "== $triple ($go)"
  started=$(date +%s)
  if ! build "$triple" "$prefix" "$here/fixture/Cargo.toml" "$target_dir"; then
    echo "  FAIL build"; failures=$((failures + 1)); table+=("| $triple | $go | $status | build failed | FAIL |"); continue
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
  table+=("| \`$triple\` | $go ($rust) | $status | ${#values[@]} | $result |")
done

echo
printf '%s\n' "${table[@]}"
echo
echo "cross: $((cases - failures)) passed, $failures failed"
[ "$failures" = 0 ]
