#!/usr/bin/env bash
# The Java client from Maven Central, idempotence on, writes through a proxy that loses every 7th produce
# response; the log must hold each record exactly once, in order, and the broker must have suppressed retries.
set -euo pipefail
fjord=$1
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d)
. "$here/java/harness.sh"
port=$(free_port); admin=$(free_port); proxy=$(free_port)
"$fjord" broker --data-dir "$dir/data" --listen 127.0.0.1:$port --admin-listen 127.0.0.1:$admin > "$dir/broker.log" 2>&1 &
broker_pid=$!
python3 "$here/support/fault_proxy.py" --broker 127.0.0.1:$port --listen $proxy --drop-every 7 --stats "$dir/dropped" &
proxy_pid=$!
trap 'kill -9 $broker_pid $proxy_pid 2>/dev/null || true; rm -rf "$dir"' EXIT

# The client and its dependencies from Maven Central (cached in ~/.m2 after the first run).
compile_checks IdempotentProducerCheck
wait_port $port

count=${FJORD_JAVA_RECORDS:-20000}
run_check IdempotentProducerCheck 127.0.0.1:$port 127.0.0.1:$proxy java-exactly-once "$count"

dropped=$(cat "$dir/dropped" 2>/dev/null || echo 0)
[ "$dropped" -gt 0 ] || { echo "the proxy lost no response: nothing was retried"; exit 1; }
suppressed=$(curl -s http://127.0.0.1:$admin/metrics | awk '/^fjord_idempotent_duplicates_suppressed_total/ {print $2}')
echo "responses lost: $dropped; retries suppressed by the broker: $suppressed"
awk -v s="$suppressed" 'BEGIN { exit !(s > 0) }' || { echo "no retry reached the broker"; exit 1; }

# Each record exactly once, in order within its partition.
kcat -b 127.0.0.1:$port -t java-exactly-once -C -e -q -f '%p %k\n' > "$dir/records"
total=$(wc -l < "$dir/records")
[ "$total" -eq "$count" ] || { echo "log holds $total records, expected $count"; exit 1; }
python3 - "$dir/records" <<'PY'
import sys
nxt = {0: 0, 1: 1, 2: 2}
for line in open(sys.argv[1]):
    p, key = line.split()
    p = int(p)
    assert key == f"key-{nxt[p]}", f"partition {p}: {key} where key-{nxt[p]} belongs"
    nxt[p] += 3
PY
echo "java idempotence: ok"
