#!/usr/bin/env bash
# The Java client from Maven Central on a compacted topic (tests/java/src/main/java/CompactedTopicCheck.java):
# the latest value of every key after cleaning, and an idempotent producer that keeps writing.
set -euo pipefail
fjord=$1
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d)
. "$here/java/harness.sh"
port=$(free_port); admin=$(free_port)
"$fjord" broker --data-dir "$dir/data" --listen 127.0.0.1:$port --admin-listen 127.0.0.1:$admin \
  --set log.cleaner.backoff.ms=100 > "$dir/broker.log" 2>&1 &
broker_pid=$!
trap 'kill -9 $broker_pid 2>/dev/null || true; rm -rf "$dir"' EXIT

compile_checks CompactedTopicCheck
wait_port $port
run_check CompactedTopicCheck 127.0.0.1:$port || { tail -50 "$dir/broker.log"; exit 1; }
