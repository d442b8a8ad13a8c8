#!/usr/bin/env bash
# The commit-pattern check with the Java client from Maven Central (tests/java/src/main/java/CommitPatternCheck.java):
# 10 runs that auto-commit with the client's defaults and 10 that commit after processing, side by side. The
# broker's audit (/api/audit) must tell each run's pattern from the timing of its commits ("unknown" is a miss),
# name the auto-commit runs by rule consumer-commit-after-processing and, for the default range assignor,
# consumer-cooperative, and never name a run that commits after processing for its commits. Prints the table.
set -euo pipefail
fjord=$1
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d)
. "$here/java/harness.sh"
port=$(free_port); admin=$(free_port)
"$fjord" broker --data-dir "$dir/data" --listen 127.0.0.1:$port --admin-listen 127.0.0.1:$admin \
  --set group.initial.rebalance.delay.ms=0 > "$dir/broker.log" 2>&1 &
broker_pid=$!
java_pid=
trap 'exec 3>&- 2>/dev/null || true; [ -n "$java_pid" ] && kill -9 $java_pid 2>/dev/null; kill -9 $broker_pid 2>/dev/null || true; rm -rf "$dir"' EXIT

compile_checks CommitPatternCheck
wait_port $port
kill -0 $broker_pid 2>/dev/null || { cat "$dir/broker.log"; exit 1; }

# The consumers run until their input closes.
mkfifo "$dir/input"
run_check CommitPatternCheck 127.0.0.1:$port < "$dir/input" > "$dir/java.log" 2>&1 &
java_pid=$!
exec 3> "$dir/input"
for _ in $(seq 600); do grep -q '^consuming' "$dir/java.log" && break; kill -0 $java_pid || break; sleep 0.1; done
grep -q '^consuming' "$dir/java.log" || { cat "$dir/java.log"; tail -50 "$dir/broker.log"; exit 1; }
# Long enough for the slowest timer (3 s) to commit five times with room to spare.
sleep 22
curl -sf "http://127.0.0.1:$admin/api/audit" > "$dir/audit.json"
exec 3>&-
wait $java_pid || { cat "$dir/java.log"; exit 1; }
java_pid=

grep '^Run\[' "$dir/java.log"
python3 - "$dir/audit.json" <<'PY'
import json, sys
audit = json.load(open(sys.argv[1]))

def pattern(run):
    for client in audit["clients"]:
        if client["client_id"] == run and run in client["groups"]:
            for member in client["groups"][run]["commits"]:
                return member["pattern"]
    return "unknown"

def rules(run):
    return {f["rule"] for f in audit["findings"]
            if f["subject_kind"] == "client" and f["subject"].startswith(f"client.id={run} ")}

software = {c["software_name"] + " " + c["software_version"] for c in audit["clients"]
            if c["client_id"].startswith("java-")}
table = {"auto-commit": {}, "commit after processing": {}}
failures = []
for i in range(10):
    for kind, run in (("auto-commit", f"java-auto-{i}"), ("commit after processing", f"java-manual-{i}")):
        said = pattern(run)
        table[kind][said] = table[kind].get(said, 0) + 1
        found = rules(run)
        print(f"{run:15} {said:17} {sorted(found)}")
        if "consumer-cooperative" not in found:
            failures.append(f"{run}: the default range assignor is not named")
auto_named = sum(1 for i in range(10) if "consumer-commit-after-processing" in rules(f"java-auto-{i}"))
manual_named = sum(1 for i in range(10) if "consumer-commit-after-processing" in rules(f"java-manual-{i}"))
manual_told = table["commit after processing"].get("after-processing", 0)
print(f"\n| runs ({', '.join(sorted(software))}) | periodic | after-processing | unknown |\n|---|---|---|---|")
for kind, said in table.items():
    print(f"| {kind} | {said.get('periodic', 0)} | {said.get('after-processing', 0)} | {said.get('unknown', 0)} |")
if auto_named < 9:
    failures.append(f"auto-commit runs named by the rule: {auto_named}/10")
if manual_told < 9:
    failures.append(f"commit-after-processing runs told apart: {manual_told}/10")
# A run whose commits happen to fall on a beat is a miss the rates above count; more than one is a failure.
if manual_named > 1:
    failures.append(f"commit-after-processing runs named for auto-commit: {manual_named}/10")
for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
PY
