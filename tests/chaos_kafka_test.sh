#!/usr/bin/env bash
# `fjord chaos` against Apache Kafka: the SDK consumer with repeated mid-batch SIGKILLs loses and skips nothing,
# and auto-commit is caught losing records, exactly as against Fjord (tests/integration/chaos_test.cc).
#
#   tests/with_kafka.sh tests/chaos_kafka_test.sh FJORD_BINARY
set -euo pipefail
fjord=$1
bootstrap=${FJORD_KAFKA_BOOTSTRAP:?run under tests/with_kafka.sh}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

check() {  # check REPORT PYTHON-EXPRESSION DESCRIPTION
  python3 -c "import json,sys; r=json.load(open('$1')); sys.exit(0 if ($2) else 1)" || {
    cat "$1"
    echo "FAIL: $3"
    exit 1
  }
}

echo "== mid-batch kills, commit after processing"
status=0
"$fjord" chaos --bootstrap-server "$bootstrap" --format json --duration 25 --fault-interval 4 --faults kill \
  --rate 300 > "$work/safe.json" || status=$?
[ "$status" -eq 0 ] || { cat "$work/safe.json"; echo "FAIL: fjord chaos exited $status against Kafka"; exit 1; }
check "$work/safe.json" "r['records']['acknowledged'] > 5000 and r['records']['processed'] == r['records']['acknowledged']" \
  "not everything acknowledged was processed"
check "$work/safe.json" "r['records']['lost'] == 0 and r['records']['skipped'] == 0" "records lost or skipped"
check "$work/safe.json" "r['kills']['total'] >= 4 and r['kills']['mid_batch'] >= 3" "the kills did not land mid-batch"
# A kill can land while its batch's commit is on the wire (the broker has it, the journal does not know): one such
# kill per run is allowed for, as in tests/integration/chaos_test.cc.
check "$work/safe.json" "r['records']['absorbed_by_sink'] == r['records']['duplicated'] >= r['kills']['uncommitted_at_kills'] - max([f['uncommitted_at_kill'] for f in r['faults'] if f['kind'] == 'kill'] + [0])" \
  "what the kills interrupted was not processed again, or not absorbed"
# Apache Kafka may run a rebalance when a returned static member joins again with its new member id (librdkafka
# rejoins when its first metadata for the topic arrives, and the coordinator rebalances for a known member whose
# subscription metadata changed, or for the leader); what it must not do is take partitions from anyone.
check "$work/safe.json" "all(e['revoked_partitions'] == 0 for e in r['rebalances'])" \
  "a static member back within its session had partitions taken from the group"

echo "== mid-batch kills, auto-commit (unsafe)"
status=0
"$fjord" chaos --bootstrap-server "$bootstrap" --format json --duration 20 --fault-interval 4 --faults kill \
  --rate 200 --process-ms 5 --auto-commit --consumer-property auto.commit.interval.ms=100 --drain-timeout 10 \
  --work-dir "$work/unsafe" \
  > "$work/unsafe.json" || status=$?
[ "$status" -eq 1 ] || { cat "$work/unsafe.json"; echo "FAIL: expected exit 1 from the unsafe run, got $status"; exit 1; }
check "$work/unsafe.json" "r['records']['lost'] > 0" "auto-commit lost nothing: the tool did not find what it exists to find"
echo "PASS: against Apache Kafka, nothing lost with commit-after-process; auto-commit caught losing records"
