#!/usr/bin/env bash
# `fjord chaos` against Apache Kafka (from Maven Central, started by bench/kafka/run-kafka.sh on loopback): the SDK
# consumer with repeated mid-batch SIGKILLs loses and skips nothing, and auto-commit is caught losing records,
# exactly as against Fjord (tests/integration/chaos_test.cc).
#
#   tests/chaos_kafka_test.sh FJORD_BINARY
set -euo pipefail
fjord=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port)
controller_port=$(free_port)
KAFKA_LOG_LEVEL=WARN KAFKA_GC_LOG=0 KAFKA_HEAP_OPTS="-Xmx512m -Xms512m" \
  "$here/../bench/kafka/run-kafka.sh" "$work/kafka" "$port" "$controller_port" > "$work/kafka.log" 2>&1 &
kafka=$!
cleanup() {
  kill "$kafka" 2>/dev/null || true
  wait "$kafka" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 300); do
  kcat -b "127.0.0.1:$port" -L -m 2 >/dev/null 2>&1 && break
  kill -0 "$kafka" 2>/dev/null || { cat "$work/kafka.log"; echo "FAIL: Kafka did not start"; exit 1; }
  sleep 1
done

check() {  # check REPORT PYTHON-EXPRESSION DESCRIPTION
  python3 -c "import json,sys; r=json.load(open('$1')); sys.exit(0 if ($2) else 1)" || {
    cat "$1"
    echo "FAIL: $3"
    exit 1
  }
}

echo "== mid-batch kills, commit after processing"
status=0
"$fjord" chaos --bootstrap-server "127.0.0.1:$port" --format json --duration 25 --fault-interval 4 --faults kill \
  --rate 300 > "$work/safe.json" || status=$?
[ "$status" -eq 0 ] || { cat "$work/safe.json"; echo "FAIL: fjord chaos exited $status against Kafka"; exit 1; }
check "$work/safe.json" "r['records']['acknowledged'] > 5000 and r['records']['processed'] == r['records']['acknowledged']" \
  "not everything acknowledged was processed"
check "$work/safe.json" "r['records']['lost'] == 0 and r['records']['skipped'] == 0" "records lost or skipped"
check "$work/safe.json" "r['kills']['total'] >= 4 and r['kills']['mid_batch'] >= 3" "the kills did not land mid-batch"
check "$work/safe.json" "r['records']['absorbed_by_sink'] == r['records']['duplicated'] >= r['kills']['uncommitted_at_kills']" \
  "what the kills interrupted was not processed again, or not absorbed"
check "$work/safe.json" "len(r['rebalances']) == 0" "a static member back within its session caused a rebalance"

echo "== mid-batch kills, auto-commit (unsafe)"
status=0
"$fjord" chaos --bootstrap-server "127.0.0.1:$port" --format json --duration 20 --fault-interval 4 --faults kill \
  --rate 200 --process-ms 5 --auto-commit --consumer-property auto.commit.interval.ms=100 --drain-timeout 10 \
  --work-dir "$work/unsafe" \
  > "$work/unsafe.json" || status=$?
[ "$status" -eq 1 ] || { cat "$work/unsafe.json"; echo "FAIL: expected exit 1 from the unsafe run, got $status"; exit 1; }
check "$work/unsafe.json" "r['records']['lost'] > 0" "auto-commit lost nothing: the tool did not find what it exists to find"
echo "PASS: against Apache Kafka, nothing lost with commit-after-process; auto-commit caught losing records"
