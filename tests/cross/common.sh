# What tests/cross/run.sh and tests/cpu/run.sh share: installing Debian's Rust compiler, its std
# source, qemu-user and cross linkers, building a crate for a foreign target with them, and a wine
# prefix for Windows.
#
# The rustup toolchain has only the x86_64 std and cannot download more, so Debian's Rust compiler
# (rustc-web) builds each target's std from Debian's std source with -Zbuild-std (RUSTC_BOOTSTRAP=1
# unlocks that flag on a stable compiler); Debian's cross gcc links against its target glibc; qemu-user
# runs the result with that glibc (-L).

# install_packages PACKAGE...: the given Debian packages, where they are missing (root, apt).
install_packages() {
  local missing=() p
  for p in "$@"; do
    case " ${missing[*]} " in *" $p "*) continue ;; esac
    [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${#missing[@]} packages: ${missing[*]}"
    local sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
    # `update` may complain about indexes unrelated to these packages; the install is what must work.
    $sudo apt-get -o DPkg::Lock::Timeout=900 update -q >/dev/null || echo "warning: apt-get update reported errors" >&2
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# install PACKAGE...: Debian's compiler, its std source and qemu-user, and the given packages, where
# they are missing.
install() {
  install_packages qemu-user rustc-web cargo-web rust-web-src libstd-rust-web-dev gcc libc6-dev "$@"
  # -Zbuild-std needs the std source of exactly the compiler's version.
  local release source
  release=$(/usr/bin/rustc -vV | sed -n 's/^release: //p')
  source=$(dpkg-query -W -f='${Version}' rust-web-src)
  case "$source" in
    "$release"+*) ;;
    *) echo "rustc-web is $release but rust-web-src is $source" >&2; exit 1 ;;
  esac
}

# build TRIPLE LINKER MANIFEST TARGET_DIR [CARGO_SUBCOMMAND_AND_ARGS...]: with Debian's compiler and
# std source, for TRIPLE, linked by LINKER, with TARGET_RUSTFLAGS (for std too) if set. The
# subcommand defaults to `build`. BUILD_STD names the std crates to build (`std,panic_abort`), or is
# `no` for the std Debian ships, the host's.
build() {
  local triple=$1 linker=$2 manifest=$3 dir=$4 upper; shift 4
  [ $# -gt 0 ] || set -- build
  upper=$(echo "$triple" | tr 'a-z-' 'A-Z_')
  (
    unset RUSTUP_TOOLCHAIN CARGO_BUILD_TARGET RUSTC_WRAPPER RUSTFLAGS
    export RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1
    export "CARGO_TARGET_${upper}_LINKER=$linker" "CARGO_TARGET_${upper}_RUSTFLAGS=${TARGET_RUSTFLAGS:-}"
    local subcommand=$1 build_std=(-Zbuild-std${BUILD_STD:+=$BUILD_STD}); shift
    [ "${BUILD_STD:-}" != no ] || build_std=()
    /usr/bin/cargo "$subcommand" --quiet "${build_std[@]}" --target "$triple" --target-dir "$dir" \
      --manifest-path "$manifest" "$@"
  )
}

# done_with DIR...: with PRUNE_BUILDS=1 (.ci/run sets it), deletes build directories whose runs are
# done. A cold run of tests/cross and tests/cpu together writes about 9 GB of builds (std rebuilt
# for a score of targets and flag sets, with debug info), and a CI machine's disk is not ours to
# fill: one CI run ran out of space there. Kept otherwise, so that a second run here is warm.
done_with() {
  [ "${PRUNE_BUILDS:-}" = 1 ] || return 0
  rm -rf "$@"
}

# prepare_wine: for Windows, a wine prefix of these scripts' own (under `$tools`), with the DLL that
# Rust's std needs and wine 8 lacks (windows-process-prng.c), and its wineserver kept running between
# cases. Sets `wine_env`, the environment wine runs in.
prepare_wine() {
  local prefix=$tools/wine
  wine_env=(PATH="$PATH" HOME="$HOME" WINEPREFIX="$prefix" WINEDEBUG=-all)
  local dll=$prefix/drive_c/windows/system32/bcryptprimitives.dll
  if [ ! -e "$dll" ]; then
    rm -rf "$prefix"
    mkdir -p "$tools"
    env "${wine_env[@]}" wine wineboot --init > /dev/null 2>&1
    # The prefix is written when its wineserver exits, a few seconds after wineboot.
    env "${wine_env[@]}" wineserver --wait
    x86_64-w64-mingw32-gcc -shared -O2 -o "$dll.part" "$(dirname "${BASH_SOURCE[0]}")/windows-process-prng.c" -ladvapi32 -Wl,--kill-at
    mv "$dll.part" "$dll"
  fi
  # One wineserver for every case rather than one each (it exits once idle): best effort, as it
  # cannot start while another one serves the prefix, and the cases run either way.
  env "${wine_env[@]}" wineserver --persistent 2> /dev/null || true
  stop_wineserver=1
}

# prepare_gate_command: the `platform-gate` command, built for this machine (`cargo test` has built
# it already; this makes sure). Sets `platform_gate`, its path.
prepare_gate_command() {
  local root_dir
  root_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  cargo build --quiet -p platform-gate-cli --manifest-path "$root_dir/Cargo.toml"
  platform_gate=$root_dir/target/debug/platform-gate
}

# predicted LABEL RC STDERR_FILE BINARY [CHECK_ARGS...]: `platform-gate check` predicted the run of
# BINARY that exited RC and wrote STDERR_FILE: the same class (0 started, 1 refused) and its stdout
# byte for byte the run's stderr. Counts a case; on a difference counts a failure and shows it.
predicted() {
  local label=$1 rc=$2 err=$3 binary=$4 want=0 got=0; shift 4
  [ "$rc" = 0 ] || want=1
  "$platform_gate" check "$@" "$binary" > "$work/predicted" 2> "$work/predicted.log" || got=$?
  cases=$((cases + 1))
  if [ "$got" = "$want" ] && cmp -s "$work/predicted" "$err"; then
    echo "  ok   predicted: $label (check $*: exit $got)"
    return 0
  fi
  failures=$((failures + 1))
  echo "  FAIL predicted: $label: \`check $*\` exited $got for a run that exited $rc; its stdout against the run's stderr:"
  diff "$err" "$work/predicted" | sed 's/^/    | /' | head -20
  sed 's/^/    | /' "$work/predicted.log"
  return 1
}

# reads_alike BINARY: tests/manifest_reader.py, written from docs/manifest.md alone, and
# `platform-gate show --json` read the same manifest from BINARY. Counts a case.
reads_alike() {
  local binary=$1
  cases=$((cases + 1))
  if python3 - "$binary" "$platform_gate" "$(dirname "${BASH_SOURCE[0]}")/../manifest_reader.py" > "$work/alike" 2>&1 <<'PY'
import json, subprocess, sys
binary, command, reader = sys.argv[1:]
ours = [json.loads(line) for line in subprocess.run([command, "show", "--json", binary], check=True, capture_output=True, text=True).stdout.splitlines()]
python = [json.loads(line) for line in subprocess.run([sys.executable, reader, binary], check=True, capture_output=True, text=True).stdout.splitlines()]
for manifest in ours:
    del manifest["file"], manifest["offset"], manifest["cpu"]["features"]
if ours != python or not ours:
    sys.exit(f"the command read {ours}\nthe Python reader read {python}")
print(f"{len(ours)} manifest(s): {ours[0]['program']}, {ours[0]['platform']['arch']} {ours[0]['platform']['os']}, {len(ours[0]['matrix'])} rows")
PY
  then
    echo "  ok   manifest read alike by the command and the Python reader written from docs/manifest.md: $(cat "$work/alike")"
  else
    failures=$((failures + 1))
    echo "  FAIL manifest of $binary:"
    sed 's/^/    | /' "$work/alike"
  fi
}
