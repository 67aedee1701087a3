#!/usr/bin/env bash
# Proves the gate on the platforms its code names. Builds the etcd-shaped fixture
# (tests/cross/fixture: default matrix, ETCD_UNSUPPORTED_ARCH) for eighteen targets and runs each:
# the host; thirteen more Linux architectures under qemu-user (loongarch64 under qemu 10); musl,
# x86_64 natively and aarch64 under qemu-user; Windows x86_64 under wine (under both checks, with a
# value that is not valid UTF-16, and the runtime's unit tests); and WASI under node. Every case
# (the variable unset, set to the architecture's Go and Rust spellings, to what `uname -m` prints
# there, to another architecture, and empty) is checked against etcd's matrix as the issue states it, written out below rather
# than read from the code under test. For the systems it cannot run (macOS, FreeBSD, illumos,
# Android, Windows MSVC, riscv32), it compiles tests/cross/expected, whose `const` assertion fails
# the build unless `Platform::CURRENT` is the platform this script's table expects there.
# docs/platforms.md's "Tested on" table is this script's output: it fails when the two differ
# (UPDATE_README=1 rewrites that block).
#
# How: see common.sh, and `prepare` below for the targets that need more than Debian's cross gcc.
# Installs what it needs itself (root, apt): about 850 MB of packages, and about 100 MB (indexes
# included) fetched into target/cross-tools and unpacked there.
#
# Usage: tests/cross/run.sh [--prepare-only]
#   --prepare-only: install and fetch what the targets need, build and run nothing (.ci/run does this
#   while its first steps compile).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
target_dir="$root/target/cross"
tools="$root/target/cross-tools"
# shellcheck source=common.sh
. "$here/common.sh"

# triple | Debian packages | how it runs | Go arch | Rust arch | OS | check | status in etcd's matrix | 32-bit note
# "How it runs": `qemu-NAME GNU-PREFIX [CPU]` (linked by GNU-PREFIX-gcc against /usr/GNU-PREFIX), or one
# of the words `prepare` knows. Packages are Debian's, beside those common.sh always installs.
TARGETS=(
  "x86_64-unknown-linux-gnu||host|amd64|x86_64|linux|arch|stable|no"
  "aarch64-unknown-linux-gnu|gcc-aarch64-linux-gnu libc6-dev-arm64-cross|qemu-aarch64 aarch64-linux-gnu|arm64|aarch64|linux|arch|experimental|no"
  "i686-unknown-linux-gnu|gcc-i686-linux-gnu libc6-dev-i386-cross|qemu-i386 i686-linux-gnu|386|x86|linux|arch|unstable|yes"
  "armv7-unknown-linux-gnueabihf|gcc-arm-linux-gnueabihf libc6-dev-armhf-cross|qemu-arm arm-linux-gnueabihf|arm|arm|linux|arch|unstable|yes"
  "powerpc64le-unknown-linux-gnu|gcc-powerpc64le-linux-gnu libc6-dev-ppc64el-cross|qemu-ppc64le powerpc64le-linux-gnu|ppc64le|powerpc64le|linux|arch|stable|no"
  "powerpc64-unknown-linux-gnu|gcc-powerpc64-linux-gnu libc6-dev-ppc64-cross|qemu-ppc64 powerpc64-linux-gnu|ppc64|powerpc64|linux|arch|unlisted|no"
  "s390x-unknown-linux-gnu|gcc-s390x-linux-gnu libc6-dev-s390x-cross|qemu-s390x s390x-linux-gnu|s390x|s390x|linux|arch|unlisted|no"
  "riscv64gc-unknown-linux-gnu|gcc-riscv64-linux-gnu libc6-dev-riscv64-cross|qemu-riscv64 riscv64-linux-gnu|riscv64|riscv64|linux|arch|unlisted|no"
  "mips64el-unknown-linux-gnuabi64|gcc-mips64el-linux-gnuabi64 libc6-dev-mips64el-cross|qemu-mips64el mips64el-linux-gnuabi64|mips64le|mips64el|linux|arch|unlisted|no"
  "mips64-unknown-linux-gnuabi64|gcc-mips64-linux-gnuabi64 libc6-dev-mips64-cross|qemu-mips64 mips64-linux-gnuabi64|mips64|mips64|linux|arch|unlisted|no"
  "sparc64-unknown-linux-gnu|gcc-sparc64-linux-gnu libc6-dev-sparc64-cross|qemu-sparc64 sparc64-linux-gnu|sparc64|sparc64|linux|arch|unlisted|no"
  "powerpc-unknown-linux-gnu|gcc-powerpc-linux-gnu libc6-dev-powerpc-cross|qemu-ppc powerpc-linux-gnu|ppc|powerpc|linux|arch|unlisted|no"
  "armv5te-unknown-linux-gnueabi|gcc-arm-linux-gnueabi libc6-dev-armel-cross|qemu-arm arm-linux-gnueabi arm926|arm|arm|linux|arch|unstable|yes"
  "loongarch64-unknown-linux-gnu|clang-22 lld-22|loongarch64|loong64|loongarch64|linux|arch|unlisted|no"
  "x86_64-unknown-linux-musl|musl-tools libunwind-14-dev|musl x86_64|amd64|x86_64|linux|arch|stable|no"
  "aarch64-unknown-linux-musl|gcc-aarch64-linux-gnu|musl aarch64|arm64|aarch64|linux|arch|experimental|no"
  "x86_64-pc-windows-gnu|gcc-mingw-w64-x86-64 wine|wine|amd64|x86_64|windows|arch|stable|no"
  "x86_64-pc-windows-gnu|gcc-mingw-w64-x86-64 wine|wine|amd64|x86_64|windows|platform|experimental|no"
  "wasm32-wasip1|wasi-libc lld-22|node|wasm|wasm32|wasip1 (wasi)|arch|unlisted|no"
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
)

# prepare HOW: what building and running a target takes. Sets `linker`, TARGET_RUSTFLAGS (common.sh),
# `std_crates`, `suffix` (of the executable), `launch_env` and `launch` (the environment and command
# that run an executable, given after them) and `proof` (for the table).
prepare() {
  local how=$1
  linker="" TARGET_RUSTFLAGS="" std_crates=std suffix="" launch_env=() launch=() proof=""
  case "$how" in
    host)
      # The machine's own target, as the other rows are built: Debian's compiler and its std.
      linker=gcc std_crates=no proof="run natively" ;;
    qemu-*)
      # `qemu-NAME GNU-PREFIX [CPU]`: CPU, where given, is the model qemu emulates (an ARMv5TE CPU
      # for armv5te, where qemu's default is an ARMv7 one).
      local qemu prefix cpu
      read -r qemu prefix cpu <<< "$how"
      linker=$prefix-gcc launch=("$(command -v "$qemu")" ${cpu:+-cpu "$cpu"} -L "/usr/$prefix") proof="run under qemu-user" ;;
    loongarch64)
      prepare_loongarch64
      local sysroot=$tools/loong64/sysroot
      linker=clang-22 proof="run under qemu-user 10"
      TARGET_RUSTFLAGS="-C link-arg=--target=loongarch64-linux-gnu -C link-arg=--sysroot=$sysroot -C link-arg=-fuse-ld=lld"
      launch=("$tools/loong64/qemu/usr/bin/qemu-loongarch64" -L "$sysroot") ;;
    musl\ *)
      local arch=${how#musl }
      prepare_musl "$arch"
      # musl-gcc's specs bring musl's start files and libc; std brings none of its own (they are not
      # built by -Zbuild-std), and a static, non-PIE executable is what musl's static libc links into.
      TARGET_RUSTFLAGS="-C link-self-contained=no -L native=$tools/musl-$arch -C relocation-model=static"
      if [ "$arch" = x86_64 ]; then
        linker=musl-gcc proof="run natively"
      else
        linker=$arch-linux-gnu-gcc proof="run under qemu-user" launch=("$(command -v "qemu-$arch")")
        TARGET_RUSTFLAGS+=" -C link-arg=-specs=$tools/musl-$arch/musl-gcc.specs"
      fi ;;
    wine)
      prepare_wine
      linker=x86_64-w64-mingw32-gcc suffix=.exe proof="run under wine"
      launch_env=("${wine_env[@]}") launch=(wine) ;;
    node)
      # Debian's wasi-libc, linked by LLVM's wasm-ld: -Zbuild-std does not build the start file and
      # libc that rustup ships for this target.
      linker=wasm-ld-22 std_crates=std,panic_abort suffix=.wasm proof="run under node's WASI"
      TARGET_RUSTFLAGS="-C link-self-contained=no -L native=/usr/lib/wasm32-wasi -C link-arg=/usr/lib/wasm32-wasi/crt1-command.o"
      launch=("$(command -v node)" --no-warnings "$here/wasi.mjs") ;;
    *) echo "cross: no way to run '$how'" >&2; exit 2 ;;
  esac
}

# apt_for DIR ARCH SUITE: an apt configuration of this script's own in DIR, for ARCH's packages in
# Debian's SUITE, with its index fetched; sets `apt`, the options that make apt-get and apt-cache use
# it. The machine's dpkg never learns of ARCH: packages are downloaded and unpacked, not installed.
apt_for() {
  local dir=$1 arch=$2 suite=$3
  mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
  : > "$dir/status"
  echo "deb [arch=$arch signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $suite main" \
    > "$dir/sources.list"
  apt=(-q -o Dir::Etc::SourceList="$dir/sources.list" -o Dir::Etc::SourceParts=/nonexistent
    -o Dir::State::Lists="$dir/lists" -o Dir::State::status="$dir/status" -o Dir::Cache="$dir/cache"
    -o APT::Architecture="$arch" -o APT::Architectures::="$arch"
    -o Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false -o APT::Sandbox::User="$(id -un)")
  apt-get "${apt[@]}" update > /dev/null
}

# fetch DEBS DEST PACKAGE...: downloads the packages with the last apt_for's configuration into
# DEBS, and unpacks each into DEST.
fetch() {
  local debs=$1 dest=$2 deb; shift 2
  mkdir -p "$debs" "$dest"
  (cd "$debs" && apt-get "${apt[@]}" download "$@" > /dev/null)
  for deb in "$debs"/*.deb; do dpkg-deb -x "$deb" "$dest"; done
}

# loongarch64: this Debian release has no cross gcc for it, and its qemu-user (7.2) cannot run it.
# Debian's unstable distribution carries loong64 glibc and libgcc, unpacked as a sysroot that clang
# and lld link against. qemu-user 10 from bookworm-backports, whose binaries are static, is unpacked
# beside it and runs the result.
prepare_loongarch64() {
  local dir=$tools/loong64
  [ -x "$dir/qemu/usr/bin/qemu-loongarch64" ] && [ -e "$dir/sysroot/lib64/ld-linux-loongarch-lp64d.so.1" ] && return
  echo "  fetching a loong64 sysroot (Debian unstable) and qemu-user 10 (bookworm-backports)"
  rm -rf "$dir"
  apt_for "$dir/apt-unstable" loong64 unstable
  # libgcc's development package is named after gcc's major version, which moves in unstable.
  local libgcc
  libgcc=$(apt-cache "${apt[@]}" pkgnames libgcc- | grep -E '^libgcc-[0-9]+-dev$' | sort -t- -k2 -n | tail -1)
  fetch "$dir/debs" "$dir/sysroot" libc6 libc6-dev linux-libc-dev libgcc-s1 "$libgcc"
  # Debian's merged /usr makes /lib and /lib64 links into /usr, which libc.so's loader path assumes.
  ln -s usr/lib "$dir/sysroot/lib"
  ln -s usr/lib64 "$dir/sysroot/lib64"
  apt_for "$dir/apt-backports" amd64 bookworm-backports
  fetch "$dir/qemu-deb" "$dir/qemu" qemu-user
}

# musl ARCH: std's unwinder links libunwind.a, which -Zbuild-std does not build; LLVM's from Debian
# works (gcc's libgcc_eh does not) once it has the glibc function it calls (musl-fprintf-chk.c).
# x86_64 has musl-tools; for another architecture, its musl and libunwind are downloaded from this
# release and its cross gcc is pointed at them with musl-gcc's specs file, rewritten for where they
# were unpacked.
prepare_musl() {
  local arch=$1 dir=$tools/musl-$1
  [ -e "$dir/libunwind.a" ] && return
  rm -rf "$dir"
  mkdir -p "$dir"
  local cc=(musl-gcc) ar=ar unwind=/usr/lib/llvm-14/lib/libunwind.a
  if [ "$arch" != x86_64 ]; then
    echo "  fetching musl and libunwind for $arch (Debian bookworm)"
    local debian_arch=$arch; [ "$arch" != aarch64 ] || debian_arch=arm64
    apt_for "$dir/apt" "$debian_arch" bookworm
    fetch "$dir/debs" "$dir/sysroot" musl musl-dev libunwind-14-dev
    sed "s|/usr/|$dir/sysroot/usr/|g" "$dir/sysroot/usr/lib/$arch-linux-musl/musl-gcc.specs" > "$dir/musl-gcc.specs"
    cc=("$arch-linux-gnu-gcc" -specs="$dir/musl-gcc.specs") ar=$arch-linux-gnu-ar
    unwind=$dir/sysroot$unwind
  fi
  "${cc[@]}" -O2 -c -o "$dir/fprintf_chk.o" "$here/musl-fprintf-chk.c"
  cp "$unwind" "$dir/libunwind.a.part"
  "$ar" rc "$dir/libunwind.a.part" "$dir/fprintf_chk.o"
  mv "$dir/libunwind.a.part" "$dir/libunwind.a"
}

failures=0
cases=0
# check LABEL WANT_RC RC STDOUT_FILE STDERR_FILE [NEEDLE...]: the run exited RC, which must be WANT_RC,
# and each NEEDLE holds: TEXT is in stderr, !TEXT is not, stdout:LINE is a whole line of stdout,
# empty-stdout and empty-stderr say what was written.
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

packages=()
for row in "${TARGETS[@]}"; do
  IFS='|' read -r _ row_packages _ <<< "$row"
  read -ra row_packages <<< "$row_packages"
  packages+=("${row_packages[@]}")
done
# This machine's kind has node (from NodeSource) already; Debian's is enough elsewhere.
command -v node > /dev/null || packages+=(nodejs)
began=$(date +%s)
install "${packages[@]}"
echo "cross: $(/usr/bin/rustc -V), $(qemu-aarch64 --version | head -1); packages ready in $(( $(date +%s) - began ))s"
if [ "${1:-}" = --prepare-only ]; then
  prepare_loongarch64
  prepare_musl x86_64
  prepare_musl aarch64
  prepare_wine
  env "${wine_env[@]}" wineserver --kill 2> /dev/null || true
  echo "cross: prepared in $(( $(date +%s) - began ))s"
  exit 0
fi
work=$(mktemp -d)
stop_wineserver="" check_lane=""
cleanup() {
  [ -z "$check_lane" ] || kill "$check_lane" 2> /dev/null || true
  [ -z "$stop_wineserver" ] || env "${wine_env[@]}" wineserver --kill || true
  rm -rf "$work"
}
trap cleanup EXIT
prepare_gate_command

# The compile-only targets share nothing with the others but the compiler, so they are checked in
# a second lane beside the run-time builds, in a target directory of their own: one -Zbuild-std
# build alone keeps only about 1.3 of this machine's 2 cores busy. Results are read after the runs.
# Then that lane builds run-time targets whose tools are at hand, from the end of the list, in a
# directory of its own, while the main lane builds and runs them from the start. Each lane claims a
# target before building it (`mkdir`, which one of them wins); the main lane runs a target the
# second claimed once it is built there. The runs stay in the main lane, in order.
check_targets() {
  local row triple crates arch os started result how i
  for row in "${CHECKS[@]}"; do
    IFS='|' read -r triple crates arch os <<< "$row"
    started=$(date +%s) result=FAIL
    if EXPECTED_ARCH=$arch EXPECTED_OS=$os TARGET_RUSTFLAGS="" BUILD_STD=$crates \
      build "$triple" none "$here/expected/Cargo.toml" "$root/target/cross-checks" check > "$work/$triple.log" 2>&1; then
      result=ok
    fi
    echo "$result $(( $(date +%s) - started ))" > "$work/$triple.result"
  done
  done_with "$root/target/cross-checks"
  for ((i = ${#TARGETS[@]} - 1; i >= 0; i--)); do
    IFS='|' read -r triple _ how _ _ _ check_by _ <<< "${TARGETS[$i]}"
    # Not the host's (built at once), Windows's (its lane sets up wine) or the platform check's
    # build, nor a target whose tools are not yet fetched (the main lane fetches them).
    case "$how" in
      qemu-* | node) ;;
      loongarch64) [ -x "$tools/loong64/qemu/usr/bin/qemu-loongarch64" ] || continue ;;
      musl\ *) [ -e "$tools/musl-${how#musl }/libunwind.a" ] || continue ;;
      *) continue ;;
    esac
    [ "$check_by" = arch ] || continue
    mkdir "$work/claim-$triple" 2> /dev/null || continue # the main lane has it
    result=FAIL
    if (prepare "$how"; BUILD_STD=$std_crates build "$triple" "$linker" "$here/fixture/Cargo.toml" "$lane_dir") \
      > "$work/prebuild-$triple.log" 2>&1; then
      result=ok
    fi
    echo "$result" > "$work/built-$triple.part" && mv "$work/built-$triple.part" "$work/built-$triple"
  done
}
lane_dir=$target_dir/second-lane
check_targets &
check_lane=$!

table=("| Target | Platform | Status in etcd's matrix | How it is proved | Cases | Result |" "|---|---|---|---|---|---|")

for ((t = 0; t < ${#TARGETS[@]}; t++)); do
  IFS='|' read -r triple _ how go rust os check_by status note32 <<< "${TARGETS[$t]}"
  platform="$go $os"; [ "$go" = "$rust" ] || platform="$go ($rust) $os"
  features=() noun=architecture shown_platform=$platform
  if [ "$check_by" = platform ]; then
    features=(--features check-platform) noun=platform shown_platform="$platform, \`check = \"platform\"\`"
    [ "$how" != wine ] || features=(--features check-platform,windows-parent)
  fi
  echo "== $triple ($shown_platform)"
  prepare "$how"
  started=$(date +%s)
  # The host's build gets a directory of its own: its proc macros differ from those of a -Zbuild-std
  # build, and sharing one directory would rebuild them for each on every run.
  dir=$target_dir; [ "$how" != host ] || dir=$target_dir/host
  built_there=""
  if [ "$check_by" = arch ] && ! mkdir "$work/claim-$triple" 2> /dev/null; then
    # The second lane claimed it: wait for its build and run that, or build it here if it failed.
    # (Not `build` in its directory, which its next build may hold for a minute.)
    while [ ! -e "$work/built-$triple" ]; do sleep 1; done
    if [ "$(cat "$work/built-$triple")" = ok ]; then
      dir=$lane_dir built_there=1
      echo "  built by the second lane"
    fi
  fi
  if [ -z "$built_there" ] && ! BUILD_STD=$std_crates build "$triple" "$linker" "$here/fixture/Cargo.toml" "$dir" build "${features[@]}"; then
    echo "  FAIL build"; failures=$((failures + 1))
    table+=("| \`$triple\` | $shown_platform | $status | $proof | build failed | FAIL |"); continue
  fi
  echo "  built in $(( $(date +%s) - started ))s"
  exe="$dir/$triple/debug/etcd$suffix"
  before=$failures cases_before=$cases
  reads_alike "$exe" || true
  other=amd64 other_shown="amd64 (x86_64)"
  [ "$go" != amd64 ] || other=arm64 other_shown="arm64 (aarch64)"
  values=(UNSET "$go"); [ "$rust" = "$go" ] || values+=("$rust"); values+=("$other" "")
  # What `uname -m` prints there (the fixture's uname-m, the same system call), which
  # docs/packagers.md tells operators to set the variable to: a case of its own where it is neither
  # spelling (armv7l, armv5tel, i686, mips64 on mips64el).
  machine=""
  if [ "$os" = linux ]; then
    machine=$(env -i "${launch_env[@]}" "${launch[@]}" "$dir/$triple/debug/uname-m" 2> /dev/null || true)
    [ -n "$machine" ] || { echo "  FAIL uname-m printed nothing"; failures=$((failures + 1)); }
    case "$machine" in "$go"|"$rust"|"") ;; *) values+=("$machine") ;; esac
  fi
  # A value no case matches where nothing was printed (Windows, WASI).
  uname_case=${machine:-(no uname -m)}
  case "$status" in
    unlisted) judged="the $noun is not in etcd's support matrix, so it is unsupported"; word=unsupported ;;
    *) judged="the $noun is $status in etcd's support matrix"; word=$status ;;
  esac
  note=("!32-bit"); [ "$note32" = yes ] && note=("known issues on 32-bit systems")
  for value in "${values[@]}"; do
    label="ETCD_UNSUPPORTED_ARCH=${value}"; [ "$value" = UNSET ] && label="variable unset"
    [ "$value" != "$uname_case" ] || label="$label (uname -m)"
    value_env=(); [ "$value" = UNSET ] || value_env=("ETCD_UNSUPPORTED_ARCH=$value")
    rc=0
    env -i "${launch_env[@]}" "${value_env[@]}" "${launch[@]}" "$exe" > "$work/out" 2> "$work/err" || rc=$?
    # The command, reading the binary on this machine, says what the run did.
    as_run=(--unset); [ "$value" = UNSET ] || as_run=(--env "$value")
    predicted "$label" "$rc" "$work/err" "$exe" "${as_run[@]}" || true
    if [ "$status" = stable ]; then
      check "$label" 0 "$rc" "$work/out" "$work/err" "stdout:etcd: started on $platform" empty-stderr || true
      continue
    fi
    case "$value" in
      "$go"|"$rust"|"$uname_case")
        check "$label" 0 "$rc" "$work/out" "$work/err" "stdout:etcd: started on $platform" \
          "warning: etcd is running on $platform, an $word $noun, because ETCD_UNSUPPORTED_ARCH is set" || true ;;
      UNSET)
        check "$label" 1 "$rc" "$work/out" "$work/err" empty-stdout "error: etcd will not start on $platform: $judged" \
          "ETCD_UNSUPPORTED_ARCH is not set" "set ETCD_UNSUPPORTED_ARCH=$go" "${note[@]}" || true ;;
      "$other")
        check "$label" 1 "$rc" "$work/out" "$work/err" empty-stdout "$judged" \
          "is set to \"$other\", which names $other_shown, not $go" "set ETCD_UNSUPPORTED_ARCH=$go" "${note[@]}" || true ;;
      "")
        check "$label" 1 "$rc" "$work/out" "$work/err" empty-stdout "$judged" "ETCD_UNSUPPORTED_ARCH is set, but empty" || true ;;
    esac
  done
  if [ "$how" = wine ] && [ "$check_by" = platform ]; then
    # Windows keeps values in UTF-16, which can hold what no UTF-8 string can: set by a Windows
    # parent (fixture/src/bin/non_utf16_parent.rs), because wine turns what Linux hands over into
    # UTF-8. The value is `amd64` and an unpaired surrogate.
    rc=0
    env -i "${launch_env[@]}" "${launch[@]}" "$dir/$triple/debug/non-utf16-parent$suffix" > "$work/out" 2> "$work/err" || rc=$?
    check "ETCD_UNSUPPORTED_ARCH=amd64 and U+D800, from a Windows parent" 1 "$rc" "$work/out" "$work/err" empty-stdout \
      "$judged" 'ETCD_UNSUPPORTED_ARCH is set to "amd64\u{d800}", which is not valid UTF-16' || true
  fi
  if [ "$how" = wine ] && [ "$check_by" = arch ]; then
    # The runtime's own unit tests, where their cfg(windows) tests and code are the ones compiled.
    rc=0
    if BUILD_STD=$std_crates build "$triple" "$linker" "$root/runtime/Cargo.toml" "$dir" test --lib --no-run \
      --message-format=json > "$work/json"; then
      unit_tests=$(grep -o '"executable":"[^"]*"' "$work/json" | cut -d'"' -f4)
      env -i "${launch_env[@]}" "${launch[@]}" "$unit_tests" > "$work/out" 2> "$work/err" || rc=$?
      grep -o 'test result: .*passed' "$work/out" | sed 's/^/  /' || true
    else
      rc=build-failed; : > "$work/out"; : > "$work/err"
    fi
    check "the runtime's unit tests" 0 "$rc" "$work/out" "$work/err" || true
  fi
  result=ok; [ "$failures" = "$before" ] || result=FAIL
  table+=("| \`$triple\` | $shown_platform | $status | $proof | $((cases - cases_before)) | $result |")
  # Its builds, unless the next row builds the same triple (Windows, under both checks).
  next=${TARGETS[$((t + 1))]:-}
  if [ "${next%%|*}" != "$triple" ]; then
    if [ "$how" = host ]; then done_with "$dir"; else done_with "$dir/$triple"; fi
  fi
done

wait "$check_lane" || true
check_lane=""
for row in "${CHECKS[@]}"; do
  IFS='|' read -r triple _ arch os <<< "$row"
  echo "== $triple (compiled: Platform::CURRENT must be $arch $os)"
  cases=$((cases + 1)) result=FAIL seconds=""
  [ ! -e "$work/$triple.result" ] || read -r result seconds < "$work/$triple.result"
  if [ "$result" = ok ]; then
    echo "  ok   $arch $os, checked in ${seconds}s"
  else
    echo "  FAIL Platform::CURRENT is not $arch $os, or the check failed:"; failures=$((failures + 1))
    sed 's/^/    | /' "$work/$triple.log" 2> /dev/null || true
  fi
  table+=("| \`$triple\` | $arch $os | | compile-time assertion | 1 | $result |")
done

echo
printf '%s\n' "${table[@]}" | tee "$work/table.md"
echo
# docs/platforms.md's table is this output.
if ! python3 - "$root/docs/platforms.md" "$work/table.md" <<'PY'
import os, sys
readme, table = open(sys.argv[1]).read(), open(sys.argv[2]).read()
begin, end = "<!-- generated:tested-on -->\n", "<!-- /generated:tested-on -->"
start = readme.index(begin) + len(begin)
stop = readme.index(end, start)
if readme[start:stop] == table:
    sys.exit(0)
if os.environ.get("UPDATE_README"):
    open(sys.argv[1], "w").write(readme[:start] + table + readme[stop:])
    print("cross: docs/platforms.md's Tested on table rewritten")
    sys.exit(0)
print("cross: docs/platforms.md's Tested on table is not this output; rerun with UPDATE_README=1 and read the diff")
sys.exit(1)
PY
then
  failures=$((failures + 1))
fi
echo "cross: $((cases - failures)) passed, $failures failed in $(( $(date +%s) - began ))s"
[ "$failures" = 0 ]
