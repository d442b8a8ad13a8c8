#!/usr/bin/env bash
# kcat (librdkafka's command-line client) against a fresh broker: metadata, produce with keys and headers,
# consume with formatting, and an offset query.
set -euo pipefail
fjord=$1
dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
admin=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$fjord" broker --data-dir "$dir/data" --listen 127.0.0.1:$port --admin-listen 127.0.0.1:$admin > "$dir/broker.log" 2>&1 &
pid=$!
trap 'kill -9 $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 100); do (echo > /dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.05; done
b=127.0.0.1:$port

printf 'k1:first\nk2:second\nk3:third\n' | kcat -b $b -t kcat-test -P -K: -H source=kcat -X topic.request.required.acks=-1
out=$(kcat -b $b -t kcat-test -C -e -q -f '%k=%s %h @%o\n')
expected=$'k1=first source=kcat @0\nk2=second source=kcat @1\nk3=third source=kcat @2'
if [ "$out" != "$expected" ]; then
  echo "consumed:"; echo "$out"; echo "expected:"; echo "$expected"; exit 1
fi
kcat -b $b -L -t kcat-test | grep -q 'partition 0, leader 1, replicas: 1, isrs: 1' || { echo "metadata wrong"; exit 1; }
# -o -1: the last record only
last=$(kcat -b $b -t kcat-test -C -o -1 -e -q -f '%s\n')
[ "$last" = "third" ] || { echo "offset -1 gave '$last'"; exit 1; }
# A clean stop exits 0.
kill -TERM $pid
status=0
wait $pid || status=$?
[ "$status" = 0 ] || { echo "broker exited with $status on SIGTERM"; tail -20 "$dir/broker.log"; exit 1; }
echo "kcat: ok"
