#!/usr/bin/env bash
# The Java client from Maven Central with transactions (tests/java/src/main/java/TransactionsCheck.java): an
# exactly-once consume-transform-produce loop with aborts, and fencing; once with transaction.version 2 (the
# default: the client uses transactions v2) and once with 1.
set -euo pipefail
fjord=$1
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pids=()
trap 'for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$dir"' EXIT

mvn -B -q -f "$here/java/pom.xml" dependency:build-classpath -Dmdep.outputFile="$dir/classpath" > "$dir/mvn.log" 2>&1 \
  || { cat "$dir/mvn.log"; exit 1; }
mkdir -p "$dir/classes"
javac -d "$dir/classes" -cp "$(cat "$dir/classpath")" "$here/java/src/main/java/TransactionsCheck.java"
for version in 2 1; do
  port=$(free_port); admin=$(free_port)
  "$fjord" broker --data-dir "$dir/data-$version" --listen 127.0.0.1:$port --admin-listen 127.0.0.1:$admin \
    --set group.initial.rebalance.delay.ms=0 --set transaction.version=$version > "$dir/broker-$version.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do (echo > /dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.05; done
  java -cp "$dir/classes:$(cat "$dir/classpath")" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
    TransactionsCheck 127.0.0.1:$port $version || { tail -50 "$dir/broker-$version.log"; exit 1; }
done
