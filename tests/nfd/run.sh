#!/usr/bin/env bash
# Proves placement by NFD's features against a real detector and real runs. On each x86 CPU model
# qemu-user emulates (and natively), three answers must agree for each build of the etcd fixture
# (tests/cross/fixture: baseline, x86-64-v2, -v3, -v4, and +aes,+pclmulqdq,+sha):
# - the rule: `platform-gate nfd-rule` for the binary, matched against the model's NodeFeature by
#   NFD's matching rules (written here, in Python, from NFD's documentation: matchFeatures terms
#   ANDed, a term's feature must exist, `Exists` finds a flag or an attribute, `Gt` an attribute
#   whose integer value is greater), and the affinity `kubernetes --cpu-labels rule` prints;
# - `platform-gate nodes --features` on that NodeFeature;
# - by NFD's default labels instead (the flags its attributeBlacklist does not hide), `nodes` may keep a
#   node out that the run starts on (a label hidden), but never admits one where the run refuses,
#   and never says "lacks";
# - the run: the binary under `qemu-x86_64 -cpu MODEL` starts (exit 0) or refuses (exit 1), and
#   never dies of SIGILL.
# The NodeFeature is what NFD's worker makes (tests/nfd/detect.go): the flags of klauspost/cpuid,
# NFD's CPU detector, run under the same model. It is Debian's cpuid (2.2.3), which reports XSAVE and
# OSXSAVE from the SSE3 bit (qemu64 and Nehalem show them; neither has XSAVE) and reads AVXVNNIINT8
# from the wrong leaf; no build here assumes either alone, and docs/fleets.md says which releases
# report what.
# Usage: tests/nfd/run.sh    (installs qemu-user, Go and klauspost/cpuid, python3-yaml)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work="$root/target/nfd"
fixture="$root/tests/cross/fixture/Cargo.toml"
# shellcheck source=../cross/common.sh
. "$root/tests/cross/common.sh"

if [ "$(uname -m)" != x86_64 ]; then
  echo "nfd: the CPU models are x86's; skipped on $(uname -m)"
  exit 0
fi
install_packages qemu-user golang-go golang-github-klauspost-cpuid-dev python3-yaml
mkdir -p "$work/bin"

# NFD's detector, from Debian's sources of klauspost/cpuid (GOPATH mode: no network).
GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$work/go-cache" go build -o "$work/detect" "$here/detect.go"
cargo build --quiet -p platform-gate-cli --bin platform-gate --target-dir "$root/target"
platform_gate="$root/target/debug/platform-gate"

# The builds: flags for every crate, so the check before std starts refuses.
declare -A FLAGS=(
  [baseline]=""
  [v2]="-C target-cpu=x86-64-v2"
  [v3]="-C target-cpu=x86-64-v3"
  [v4]="-C target-cpu=x86-64-v4"
  [aes-sha]="-C target-feature=+aes,+pclmulqdq,+sha"
)
BUILDS=(baseline v2 v3 v4 aes-sha)
for build in "${BUILDS[@]}"; do
  # --target keeps RUSTFLAGS off the proc macros, which run here.
  RUSTFLAGS="${FLAGS[$build]}" cargo build --quiet --manifest-path "$fixture" --bin etcd \
    --target x86_64-unknown-linux-gnu --target-dir "$work/target-$build"
  cp "$work/target-$build/x86_64-unknown-linux-gnu/debug/etcd" "$work/bin/etcd-$build"
done

# The nodes: one per model, named after it, and this machine. NFD's detector runs on each.
MODELS=(qemu64 Nehalem Westmere SandyBridge Haswell Skylake-Client Icelake-Server EPYC max native)
runner() { if [ "$1" = native ]; then echo ""; else echo "qemu-x86_64 -cpu $1"; fi; }
: > "$work/features.jsonl"
for model in "${MODELS[@]}"; do
  # shellcheck disable=SC2046 # the runner is words
  $(runner "$model") "$work/detect" "$model" >> "$work/features.jsonl" 2> /dev/null
done
python3 - "$work" "${MODELS[@]}" <<'PY'
import json, sys
work, models = sys.argv[1], sys.argv[2:]
features = [json.loads(line) for line in open(f"{work}/features.jsonl")]
json.dump({"apiVersion": "v1", "kind": "List", "items": features}, open(f"{work}/features.json", "w"))
nodes = [{"kind": "Node", "metadata": {"name": model, "labels": {
    "kubernetes.io/arch": "amd64", "kubernetes.io/os": "linux"}}} for model in models]
json.dump({"apiVersion": "v1", "kind": "List", "items": nodes}, open(f"{work}/nodes.json", "w"))
# The same nodes as NFD's default configuration labels them: every flag its attributeBlacklist
# (fleet/tests/fixtures/nfd.txt) does not hide, as feature.node.kubernetes.io/cpu-cpuid.FLAG.
fixture = open(f"{work}/../../fleet/tests/fixtures/nfd.txt").read()
hidden = fixture.split("[blacklist]\n", 1)[1].split("[", 1)[0].split()
for node, feature in zip(nodes, features):
    for flag in feature["spec"]["features"]["flags"]["cpu.cpuid"]["elements"]:
        if flag not in hidden:
            node["metadata"]["labels"][f"feature.node.kubernetes.io/cpu-cpuid.{flag}"] = "true"
json.dump({"apiVersion": "v1", "kind": "List", "items": nodes}, open(f"{work}/nodes-labelled.json", "w"))
PY

# NFD's matching, from its documentation (docs/usage/customization-guide.md): the labels each node
# gets from the rules, then whether the affinity's term for amd64/linux admits it, printed as
# "NODE admitted|kept-out".
cat > "$work/match.py" <<'PY'
import json, sys, yaml
rule, affinity, features = (open(path).read() for path in sys.argv[1:4])
rules = yaml.safe_load(rule)["spec"]["rules"]
terms = yaml.safe_load(affinity)["affinity"]["nodeAffinity"][
    "requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]

def matches(rule, node):
    flags = node["spec"]["features"].get("flags", {})
    attributes = node["spec"]["features"].get("attributes", {})
    for term in rule.get("matchFeatures") or []:
        name = term["feature"]
        if name not in flags and name not in attributes:
            return False
        keys = flags.get(name, {}).get("elements", {})
        values = attributes.get(name, {}).get("elements", {})
        for element, expression in (term.get("matchExpressions") or {}).items():
            op = expression["op"]
            if op == "Exists":
                found = element in keys or element in values
            elif op == "Gt":
                value = values.get(element)
                found = value is not None and value.lstrip("-").isdigit() and int(value) > int(expression["value"][0])
            else:
                raise SystemExit(f"an operator the rules should not use: {op}")
            if not found:
                return False
    return True

for node in json.load(open(sys.argv[3]))["items"]:
    name = node["metadata"]["labels"]["nfd.node.kubernetes.io/node-name"]
    labels = {"kubernetes.io/arch": "amd64", "kubernetes.io/os": "linux"}
    for rule in rules:
        if matches(rule, node):
            labels.update(rule["labels"])
    admitted = any(
        all(labels.get(e["key"]) in e["values"] for e in term["matchExpressions"] if e["operator"] == "In")
        and all(e["operator"] == "In" for e in term["matchExpressions"])
        for term in terms)
    print(name, "admitted" if admitted else "kept-out")
PY

failures=0 cases=0 starts=0 refusals=0 unproved=0
for build in "${BUILDS[@]}"; do
  binary="$work/bin/etcd-$build"
  "$platform_gate" nfd-rule "$binary" > "$work/rule.yaml"
  "$platform_gate" kubernetes --cpu-labels rule "$binary" > "$work/affinity.yaml"
  python3 "$work/match.py" "$work/rule.yaml" "$work/affinity.yaml" "$work/features.json" > "$work/admitted"
  "$platform_gate" nodes --json --features "$work/features.json" "$work/nodes.json" "$binary" > "$work/verdicts" || true
  "$platform_gate" nodes --json "$work/nodes-labelled.json" "$binary" > "$work/by-labels" || true
  for model in "${MODELS[@]}"; do
    cases=$((cases + 1))
    by_rule=$(awk -v node="$model" '$1 == node { print $2 }' "$work/admitted")
    verdict=$(python3 -c 'import json, sys; print(*[o["verdict"] + "/" + str(o["cpu_from"]) for o in map(json.loads, open(sys.argv[1])) if o["node"] == sys.argv[2]])' "$work/verdicts" "$model")
    rc=0
    # shellcheck disable=SC2046
    $(runner "$model") "$binary" > /dev/null 2> "$work/run.err" || rc=$?
    run=$([ "$rc" = 0 ] && echo starts || echo "refuses($rc)")
    agree=no
    if [ "$rc" = 0 ] && [ "$by_rule" = admitted ] && [[ "$verdict" =~ ^(starts|warns)/features$ ]]; then
      agree=yes starts=$((starts + 1))
    elif [ "$rc" = 1 ] && [ "$by_rule" = kept-out ] && [ "$verdict" = refuses/features ]; then
      agree=yes refusals=$((refusals + 1))
    fi
    # By NFD's default labels, a verdict may be "not shown" where the run starts (a hidden label),
    # but never admit a node where it refuses, and never say "lacks".
    by_labels=$(python3 -c 'import json, sys; print(*[o["verdict"] for o in map(json.loads, open(sys.argv[1])) if o["node"] == sys.argv[2]])' "$work/by-labels" "$model")
    if grep -q lacks "$work/by-labels"; then
      agree="no: a verdict by labels says lacks"
    elif [[ "$by_labels" =~ ^(starts|warns)$ && "$rc" != 0 ]]; then
      agree="no: by labels it starts"
    elif [[ ! "$by_labels" =~ ^(starts|warns)$ && "$rc" == 0 ]]; then
      unproved=$((unproved + 1))
    fi
    if [ "$agree" = yes ]; then
      echo "  ok   $build on $model: the run $run, the rule $by_rule, nodes says $verdict (by NFD's default labels: $by_labels)"
    else
      failures=$((failures + 1))
      echo "  FAIL $build on $model: the run $run, the rule $by_rule, nodes says $verdict, by labels $by_labels ($agree)"
      sed 's/^/    | /' "$work/run.err"
    fi
  done
done
# CI's disk: the five builds are done with (PRUNE_BUILDS, as tests/cross/common.sh has it).
[ -z "${PRUNE_BUILDS:-}" ] || rm -rf "$work"/target-*
echo "nfd: $((cases - failures)) agreed, $failures failed, of $cases ($starts starts, $refusals refusals)"
echo "nfd: by NFD's default labels instead, $unproved of the $starts starts are kept out (not shown), none admitted that refuses"
# Not a vacuous pass: both answers occur.
[ "$failures" = 0 ] && [ "$starts" -gt 5 ] && [ "$refusals" -gt 5 ]
