#!/usr/bin/env bash
# The Java client from Maven Central with group.protocol=consumer (KIP-848) against Fjord
# (tests/java/src/main/java/ConsumerProtocolCheck.java).
set -euo pipefail
fjord=$1
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d)
free_port() { python3 "$here/support/ports.py" --owner $$; }
port=$(free_port); admin=$(free_port)
"$fjord" broker --data-dir "$dir/data" --listen 127.0.0.1:$port --admin-listen 127.0.0.1:$admin \
  --set group.consumer.heartbeat.interval.ms=1000 > "$dir/broker.log" 2>&1 &
broker_pid=$!
trap 'kill -9 $broker_pid 2>/dev/null || true; rm -rf "$dir"' EXIT

mvn -B -q -f "$here/java/pom.xml" dependency:build-classpath -Dmdep.outputFile="$dir/classpath" > "$dir/mvn.log" 2>&1 \
  || { cat "$dir/mvn.log"; exit 1; }
mkdir -p "$dir/classes"
javac -d "$dir/classes" -cp "$(cat "$dir/classpath")" "$here/java/src/main/java/ConsumerProtocolCheck.java"
for _ in $(seq 100); do (echo > /dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.05; done
kill -0 $broker_pid 2>/dev/null || { cat "$dir/broker.log"; exit 1; }
java -cp "$dir/classes:$(cat "$dir/classpath")" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  ConsumerProtocolCheck 127.0.0.1:$port || { tail -50 "$dir/broker.log"; exit 1; }
