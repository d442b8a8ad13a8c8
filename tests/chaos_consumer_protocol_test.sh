#!/usr/bin/env bash
# `fjord chaos --group-protocol consumer` against Fjord: SDK members speaking KIP-848 through a current librdkafka
# (the one PyPI's confluent-kafka bundles: Debian's 2.0.2 cannot speak the protocol) are SIGKILLed mid-batch,
# restarted and scaled past the partition count, and nothing acknowledged is lost or skipped.
#
#   tests/chaos_consumer_protocol_test.sh FJORD_BINARY PYTHON
set -euo pipefail
fjord=$1
python=$2
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d)
port=$(python3 "$here/support/ports.py" --owner $$)
admin=$(python3 "$here/support/ports.py" --owner $$)
broker_pid=
trap '[ -n "$broker_pid" ] && kill -9 $broker_pid 2>/dev/null; [ -n "${FJORD_KEEP:-}" ] || rm -rf "$dir"' EXIT

# The members load this librdkafka in place of the system's (same C ABI; the SDK's C++ layer is a thin wrapper).
bundled=$("$python" -c "import confluent_kafka, glob, os
d = os.path.dirname(confluent_kafka.__file__) + '.libs'
print((glob.glob(d + '/librdkafka-*.so.1') + glob.glob(d + '/librdkafka.so.1'))[0])")
mkdir -p "$dir/lib"
ln -s "$bundled" "$dir/lib/librdkafka.so.1"
export LD_LIBRARY_PATH="$dir/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

# A short broker session, so that a killed member's partitions move within the run.
"$fjord" broker --data-dir "$dir/data" --listen 127.0.0.1:$port --admin-listen 127.0.0.1:$admin \
  --set group.consumer.session.timeout.ms=6000 --set group.consumer.heartbeat.interval.ms=1000 \
  > "$dir/broker.log" 2>&1 &
broker_pid=$!
for _ in $(seq 200); do (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done

check() {  # check REPORT PYTHON-EXPRESSION DESCRIPTION
  python3 -c "import json,sys; r=json.load(open('$1')); sys.exit(0 if ($2) else 1)" || {
    cat "$1"
    tail -n 40 "$dir/broker.log"
    echo "FAIL: $3"
    exit 1
  }
}

echo "== consumer protocol: mid-batch kills, restarts and scaling, commit after processing"
status=0
"$fjord" chaos --bootstrap-server 127.0.0.1:$port --format json --group-protocol consumer --dynamic \
  --duration 30 --fault-interval 5 --faults kill,restart,kill,scale --rate 300 --work-dir "$dir/run" \
  > "$dir/report.json" || status=$?
[ "$status" -eq 0 ] || {
  cat "$dir/report.json"
  for f in "$dir"/run/*.log; do echo "-- $f"; tail -n 20 "$f"; done
  tail -n 40 "$dir/broker.log"
  echo "FAIL: fjord chaos exited $status"
  exit 1
}
check "$dir/report.json" "r['settings']['group_protocol'] == 'consumer'" "the members did not run the consumer protocol"
check "$dir/report.json" "r['records']['acknowledged'] > 5000 and r['records']['processed'] == r['records']['acknowledged']" \
  "not everything acknowledged was processed"
check "$dir/report.json" "r['records']['lost'] == 0 and r['records']['skipped'] == 0" "records lost or skipped"
check "$dir/report.json" "r['kills']['total'] >= 2" "fewer kills than asked for"
grep -q "ConsumerGroupHeartbeat" <(curl -s "http://127.0.0.1:$admin/metrics") || {
  echo "FAIL: the broker served no ConsumerGroupHeartbeat"
  exit 1
}
echo "PASS: consumer-protocol members lost and skipped nothing through kills, restarts and scaling"
