#!/usr/bin/env bash
# The Java client from Maven Central with group.protocol=consumer (KIP-848) against Fjord
# (tests/java/src/main/java/ConsumerProtocolCheck.java), and a classic group of Java consumers upgraded online by
# one and downgraded when it leaves (GroupMigrationCheck.java).
set -euo pipefail
fjord=$1
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d)
. "$here/java/harness.sh"
port=$(free_port); admin=$(free_port)
"$fjord" broker --data-dir "$dir/data" --listen 127.0.0.1:$port --admin-listen 127.0.0.1:$admin \
  --set group.consumer.heartbeat.interval.ms=1000 > "$dir/broker.log" 2>&1 &
broker_pid=$!
trap 'kill -9 $broker_pid 2>/dev/null || true; rm -rf "$dir"' EXIT

compile_checks ConsumerProtocolCheck GroupMigrationCheck
wait_port $port
kill -0 $broker_pid 2>/dev/null || { cat "$dir/broker.log"; exit 1; }
run_check ConsumerProtocolCheck 127.0.0.1:$port || { tail -50 "$dir/broker.log"; exit 1; }
run_check GroupMigrationCheck 127.0.0.1:$port || { tail -50 "$dir/broker.log"; exit 1; }
