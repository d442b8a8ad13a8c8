#!/usr/bin/env bash
# The Java client from Maven Central in consumer groups: CooperativeStickyAssignor's incremental rebalance and
# static membership (tests/java/src/main/java/CooperativeGroupCheck.java).
set -euo pipefail
fjord=$1
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d)
. "$here/java/harness.sh"
port=$(free_port); admin=$(free_port)
"$fjord" broker --data-dir "$dir/data" --listen 127.0.0.1:$port --admin-listen 127.0.0.1:$admin \
  --set group.initial.rebalance.delay.ms=0 > "$dir/broker.log" 2>&1 &
broker_pid=$!
trap 'kill -9 $broker_pid 2>/dev/null || true; rm -rf "$dir"' EXIT

compile_checks CooperativeGroupCheck
wait_port $port
run_check CooperativeGroupCheck 127.0.0.1:$port || { tail -50 "$dir/broker.log"; exit 1; }
