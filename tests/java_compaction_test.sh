#!/usr/bin/env bash
# The Java client from Maven Central on a compacted topic (tests/java/src/main/java/CompactedTopicCheck.java):
# the latest value of every key after cleaning, and an idempotent producer that keeps writing.
set -euo pipefail
fjord=$1
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d)
free_port() { python3 "$here/support/ports.py" --owner $$; }
port=$(free_port); admin=$(free_port)
"$fjord" broker --data-dir "$dir/data" --listen 127.0.0.1:$port --admin-listen 127.0.0.1:$admin \
  --set log.cleaner.backoff.ms=100 > "$dir/broker.log" 2>&1 &
broker_pid=$!
trap 'kill -9 $broker_pid 2>/dev/null || true; rm -rf "$dir"' EXIT

mvn -B -q -f "$here/java/pom.xml" dependency:build-classpath -Dmdep.outputFile="$dir/classpath" > "$dir/mvn.log" 2>&1 \
  || { cat "$dir/mvn.log"; exit 1; }
mkdir -p "$dir/classes"
javac -d "$dir/classes" -cp "$(cat "$dir/classpath")" "$here/java/src/main/java/CompactedTopicCheck.java"
for _ in $(seq 100); do (echo > /dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.05; done
java -cp "$dir/classes:$(cat "$dir/classpath")" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  CompactedTopicCheck 127.0.0.1:$port || { tail -50 "$dir/broker.log"; exit 1; }
