#!/usr/bin/env bash
# The Java client from Maven Central with transactions (tests/java/src/main/java/TransactionsCheck.java): an
# exactly-once consume-transform-produce loop with aborts, and fencing; once with transaction.version 2 (the
# default: the client uses transactions v2) and once with 1; then with transactions v2 on three brokers (`fjord
# dev --brokers 3`), where partition leaders and group coordinators add partitions at a coordinator on another
# broker (AddPartitionsToTxn v5, which the client itself never sends under v2).
set -euo pipefail
fjord=$1
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d)
. "$here/java/harness.sh"
pids=()
dev=
# `fjord dev` stops its brokers and etcd on SIGTERM.
trap '[ -n "$dev" ] && { kill "$dev" 2>/dev/null; wait "$dev" 2>/dev/null; }
      for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$dir"' EXIT

compile_checks TransactionsCheck
for version in 2 1; do
  port=$(free_port); admin=$(free_port)
  "$fjord" broker --data-dir "$dir/data-$version" --listen 127.0.0.1:$port --admin-listen 127.0.0.1:$admin \
    --set group.initial.rebalance.delay.ms=0 --set transaction.version=$version > "$dir/broker-$version.log" 2>&1 &
  pids+=($!)
  wait_port $port
  run_check TransactionsCheck 127.0.0.1:$port $version || { tail -50 "$dir/broker-$version.log"; exit 1; }
done

"$fjord" dev --brokers 3 --no-demo --data-dir "$dir/cluster" > "$dir/dev.log" 2>&1 &
dev=$!
for _ in $(seq 600); do grep -q "serving until" "$dir/dev.log" && break; sleep 0.1; done
bootstrap=$(sed -n 's/.*bootstrap servers: \([^ ]*\).*/\1/p' "$dir/dev.log")
[ -n "$bootstrap" ] || { cat "$dir/dev.log"; echo "FAIL: fjord dev --brokers 3 did not start"; exit 1; }
run_check TransactionsCheck "$bootstrap" 2 || { tail -50 "$dir/dev.log"; exit 1; }
# Requests a broker received, summed over the three brokers' metrics.
received() {
  local total=0 n
  for url in $(sed -n 's/.*admin \/ metrics: \(http[^ ]*\).*/\1/p' "$dir/dev.log"); do
    n=$(curl -s "$url" | awk -v api="$1" '$1 ~ "^fjord_requests_total\\{api=\"" api "\"" {s += $2} END {print s + 0}')
    total=$((total + ${n%.*}))
  done
  echo "$total"
}
adds=$(received AddPartitionsToTxn)
markers=$(received WriteTxnMarkers)
echo "three brokers: AddPartitionsToTxn received $adds times (all from brokers), WriteTxnMarkers $markers times"
[ "$adds" -gt 0 ] && [ "$markers" -gt 0 ] || { echo "FAIL: no partition was added or marked across brokers"; exit 1; }
