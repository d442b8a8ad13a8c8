#!/usr/bin/env bash
# Runs a command against Apache Kafka (from Maven Central, started by bench/kafka/run-kafka.sh on loopback, one
# broker in KRaft mode), with FJORD_KAFKA_BOOTSTRAP naming it; stops Kafka when the command ends. For the tests
# that show Fjord's SDK and tools behave the same against Kafka as against Fjord.
#
#   tests/with_kafka.sh COMMAND [ARGS...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
free_port() { python3 "$here/support/ports.py" --owner $$; }
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
FJORD_KAFKA_BOOTSTRAP="127.0.0.1:$port" "$@"
