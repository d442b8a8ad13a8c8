#!/usr/bin/env bash
# kafkajs (npm), a client in pure JavaScript, over SASL_SSL with SCRAM-SHA-512; a wrong password is refused and
# writes nothing (tests/js/security_check.js).
set -euo pipefail
fjord=$1
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d)
free_port() { python3 "$here/support/ports.py" --owner $$; }
wait_port() { for _ in $(seq 200); do (echo > "/dev/tcp/127.0.0.1/$1") 2>/dev/null && return; sleep 0.05; done; }
port=$(free_port); sasl_port=$(free_port); admin=$(free_port)
broker_pid=
trap '[ -n "$broker_pid" ] && kill -9 $broker_pid 2>/dev/null; rm -rf "$dir"' EXIT
. "$here/support/test_ca.sh"
make_ca
make_certificate broker $'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth'

"$fjord" broker --data-dir "$dir/data" --listen 127.0.0.1:$port --admin-listen 127.0.0.1:$admin \
  --set "listeners=PLAINTEXT://127.0.0.1:$port,SASL_SSL://127.0.0.1:$sasl_port" \
  --set "ssl.keystore.location=$dir/broker-keystore.pem" > "$dir/broker.log" 2>&1 &
broker_pid=$!
wait_port $port
echo 'js-secret-7' | "$fjord" user create jo --bootstrap-server 127.0.0.1:$port

fail() { echo "$1"; tail -30 "$dir/broker.log"; exit 1; }
check() { node "$here/js/security_check.js" 127.0.0.1:$sasl_port "$dir/ca.pem" jo "$@"; }
check js-secret-7 accepted kafkajs-sasl 100 || fail "kafkajs over SASL_SSL failed"
check not-the-secret refused kafkajs-sasl 0 || fail "kafkajs with a wrong password was not refused"
got=$(kcat -b 127.0.0.1:$port -t kafkajs-sasl -C -e -q -f '%o\n' | wc -l)
[ "$got" = 100 ] || fail "kafkajs-sasl holds $got records, expected 100"
echo "kafkajs security: SASL_SSL/SCRAM-SHA-512 accepted, a wrong password refused"
