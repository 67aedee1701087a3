#!/usr/bin/env bash
# Proves `platform-gate systemd` against systemd itself (Debian's systemd 252) and real runs. For each
# build of the fixtures (tests/cross/fixture: etcd at its baseline, x86-64-v2, -v3, -v4 and
# +aes,+pclmulqdq, flags for every crate so the check before std starts refuses; kvd at -v3, exit
# code 3), the rendered drop-in, beside a unit that runs the binary with Restart=always:
# - `systemd-analyze verify` accepts it, silently (a line systemd does not know is only a warning, so
#   any output fails the case; a control case proves verify reads the drop-in);
# - on each CPU model qemu-user emulates (and natively), systemd's own evaluation of the unit's
#   conditions (`systemd-analyze condition --unit`, run under the same model, so CPUID is the model's)
#   succeeds exactly where the binary, run under that model, starts; the same for `--assert`;
# - where systemd has no name for a feature (AVX-512), the drop-in's ExecCondition= command
#   (`platform-gate check BINARY`, under the model) exits 0 exactly where the run starts, 1 where it
#   refuses; the conditions must never fail where the run starts;
# - a refusal's exit code is the one RestartPreventExitStatus= lists, and no run dies of SIGILL.
# Usage: tests/systemd/run.sh    (installs qemu-user and systemd's tools where missing)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work="$root/target/systemd"
fixture="$root/tests/cross/fixture/Cargo.toml"
# shellcheck source=../cross/common.sh
. "$root/tests/cross/common.sh"

if [ "$(uname -m)" != x86_64 ]; then
  echo "systemd: the CPU models are x86's; skipped on $(uname -m)"
  exit 0
fi
install_packages qemu-user systemd
echo "systemd: $(systemd-analyze --version | head -1)"
rm -rf "$work/units"
mkdir -p "$work/bin" "$work/units"

cargo build --quiet -p platform-gate-cli --bin platform-gate --target-dir "$root/target"
platform_gate="$root/target/debug/platform-gate"

# The builds, in tests/nfd's target directories where it makes the same ones (CI runs it first).
declare -A FLAGS=(
  [baseline]=""
  [v2]="-C target-cpu=x86-64-v2"
  [v3]="-C target-cpu=x86-64-v3"
  [v4]="-C target-cpu=x86-64-v4"
  [aes]="-C target-feature=+aes,+pclmulqdq"
)
BUILDS=(etcd-baseline etcd-v2 etcd-v3 etcd-v4 etcd-aes kvd-v3)
for build in "${BUILDS[@]}"; do
  program=${build%%-*} flags=${build#*-}
  features=(); [ "$program" = kvd ] && features=(--features kvd)
  # --target keeps RUSTFLAGS off the proc macros, which run here.
  RUSTFLAGS="${FLAGS[$flags]}" cargo build --quiet --manifest-path "$fixture" --bin "$program" "${features[@]}" \
    --target x86_64-unknown-linux-gnu --target-dir "$root/target/nfd/target-$flags"
  cp "$root/target/nfd/target-$flags/x86_64-unknown-linux-gnu/debug/$program" "$work/bin/$build"
done

MODELS=(qemu64 Nehalem Haswell max native)
runner() { if [ "$1" = native ]; then echo ""; else echo "qemu-x86_64 -cpu $1"; fi; }

failures=0 cases=0 starts=0 skips=0 exec_checked=0
fail() {
  failures=$((failures + 1))
  echo "  FAIL $1"
  shift
  for file in "$@"; do sed 's/^/    | /' "$file"; done
}

# unit BUILD [OPTIONS...]: writes the unit and its rendered drop-in under $work/units/BUILD; prints
# the command's exit status.
unit() {
  local build=$1; shift
  local dir="$work/units/$build"
  mkdir -p "$dir/$build.service.d"
  printf '[Unit]\nDescription=%s\n\n[Service]\nExecStart=%s\nRestart=always\n\n[Install]\nWantedBy=multi-user.target\n' \
    "$build" "$work/bin/$build" > "$dir/$build.service"
  local rc=0
  "$platform_gate" systemd "$@" "$work/bin/$build" > "$dir/$build.service.d/platform-gate.conf" 2> "$dir/render.err" || rc=$?
  echo "$rc"
}

# verify BUILD: systemd-analyze verify, which must accept the unit with its drop-in and say nothing.
verify() {
  local dir="$work/units/$1" rc=0
  SYSTEMD_UNIT_PATH="$dir:" systemd-analyze verify --man=no "$dir/$1.service" > "$dir/verify.log" 2>&1 || rc=$?
  [ "$rc" = 0 ] && [ ! -s "$dir/verify.log" ]
}

# conditions BUILD MODEL: systemd's evaluation of the unit's conditions and asserts on MODEL's CPU.
conditions() {
  local dir="$work/units/$1" rc=0
  # shellcheck disable=SC2046 # the runner is words
  SYSTEMD_UNIT_PATH="$dir:" $(runner "$2") /usr/bin/systemd-analyze condition --unit="$1.service" \
    > "$dir/condition.log" 2>&1 || rc=$?
  echo "$rc"
}

# The control: verify reads the drop-in, so a key systemd does not know in it is reported.
[ "$(unit etcd-baseline)" = 0 ]
printf 'ConditionCPUFeatur=avx2\n' >> "$work/units/etcd-baseline/etcd-baseline.service.d/platform-gate.conf"
if verify etcd-baseline || ! grep -q "platform-gate.conf:.*ConditionCPUFeatur" "$work/units/etcd-baseline/verify.log"; then
  fail "control: systemd-analyze verify did not report a misspelt key in the drop-in" "$work/units/etcd-baseline/verify.log"
fi

for build in "${BUILDS[@]}"; do
  for mode in condition assert; do
    options=(--exec-condition "$platform_gate"); [ "$mode" = assert ] && options+=(--assert)
    cases=$((cases + 1))
    dir="$work/units/$build"
    rc=$(unit "$build" "${options[@]}")
    if [ "$rc" != 0 ]; then fail "$build ($mode): systemd exited $rc" "$dir/render.err"; continue; fi
    if ! verify "$build"; then fail "$build ($mode): systemd-analyze verify" "$dir/verify.log" "$dir/$build.service.d/platform-gate.conf"; continue; fi
    unnamed=no; grep -q "systemd has no ConditionCPUFeature=" "$dir/render.err" && unnamed=yes
    prevent=$(sed -n 's/^RestartPreventExitStatus=//p' "$dir/$build.service.d/platform-gate.conf")
    for model in "${MODELS[@]}"; do
      cases=$((cases + 1))
      run_rc=0
      # shellcheck disable=SC2046 # the runner is words
      $(runner "$model") "$work/bin/$build" > "$dir/run.out" 2> "$dir/run.err" < /dev/null || run_rc=$?
      cond_rc=$(conditions "$build" "$model")
      label="$build ($mode) on $model"
      if [ "$run_rc" = 132 ]; then fail "$label: the binary died of SIGILL" "$dir/run.err"; continue; fi
      if [ "$run_rc" != 0 ] && ! printf ' %s ' "$prevent" | grep -q " $run_rc "; then
        fail "$label: it refused with $run_rc, RestartPreventExitStatus=$prevent" "$dir/run.err"
      fi
      if [ "$unnamed" = no ]; then
        # The conditions alone: systemd skips exactly where the binary refuses.
        if { [ "$run_rc" = 0 ] && [ "$cond_rc" != 0 ]; } || { [ "$run_rc" != 0 ] && [ "$cond_rc" = 0 ]; }; then
          fail "$label: the run exited $run_rc, systemd's conditions exited $cond_rc" "$dir/condition.log" "$dir/run.err"
        fi
      else
        # The conditions must not skip a start; the ExecCondition= command decides the rest.
        if [ "$run_rc" = 0 ] && [ "$cond_rc" != 0 ]; then
          fail "$label: the run starts, systemd's conditions exited $cond_rc" "$dir/condition.log"
        fi
        exec_line=$(sed -n 's/^ExecCondition=//p' "$dir/$build.service.d/platform-gate.conf")
        read -r -a exec_words <<< "$exec_line"
        exec_rc=0
        # shellcheck disable=SC2046 # the runner is words
        $(runner "$model") "${exec_words[@]}" > /dev/null 2> "$dir/exec.err" || exec_rc=$?
        exec_checked=$((exec_checked + 1))
        if { [ "$run_rc" = 0 ] && [ "$exec_rc" != 0 ]; } || { [ "$run_rc" != 0 ] && [ "$exec_rc" != 1 ]; }; then
          fail "$label: the run exited $run_rc, ExecCondition= exited $exec_rc" "$dir/exec.err" "$dir/run.err"
        fi
      fi
      if [ "$run_rc" = 0 ]; then starts=$((starts + 1)); else skips=$((skips + 1)); fi
    done
  done
done

echo "systemd: $cases cases, $failures failures (runs that start: $starts, refuse: $skips; ExecCondition= checked: $exec_checked)"
[ "$failures" = 0 ]
