#!/usr/bin/env bash
# The Java client from Maven Central over SASL_SSL with SCRAM-SHA-512 and over mutual TLS, its settings in
# properties files as Kafka's tools take them; a wrong password and a missing client certificate are refused
# (tests/java/src/main/java/SecureClientCheck.java).
set -euo pipefail
fjord=$1
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d)
. "$here/java/harness.sh"
port=$(free_port); sasl_port=$(free_port); ssl_port=$(free_port); admin=$(free_port)
broker_pid=
trap '[ -n "$broker_pid" ] && kill -9 $broker_pid 2>/dev/null; rm -rf "$dir"' EXIT

# A certificate authority, the broker's key store, a client's.
. "$here/support/test_ca.sh"
make_ca
make_certificate broker $'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth'
make_certificate writer 'extendedKeyUsage=clientAuth'

"$fjord" broker --data-dir "$dir/data" --listen 127.0.0.1:$port --admin-listen 127.0.0.1:$admin \
  --set "listeners=PLAINTEXT://127.0.0.1:$port,SASL_SSL://127.0.0.1:$sasl_port,SSL://127.0.0.1:$ssl_port" \
  --set "ssl.keystore.location=$dir/broker-keystore.pem" --set "ssl.truststore.location=$dir/ca.pem" \
  --set listener.name.ssl.ssl.client.auth=required > "$dir/broker.log" 2>&1 &
broker_pid=$!
compile_checks SecureClientCheck
wait_port $port
echo 'java-secret-42' | "$fjord" user create jane --bootstrap-server 127.0.0.1:$port

scram() {
  cat > "$dir/$1.properties" <<PROPERTIES
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="jane" password="$2";
ssl.truststore.type=PEM
ssl.truststore.location=$dir/ca.pem
PROPERTIES
}
scram good java-secret-42
scram wrong not-the-secret
cat > "$dir/mtls.properties" <<PROPERTIES
security.protocol=SSL
ssl.truststore.type=PEM
ssl.truststore.location=$dir/ca.pem
ssl.keystore.type=PEM
ssl.keystore.location=$dir/writer-keystore.pem
PROPERTIES
grep -v keystore "$dir/mtls.properties" > "$dir/no-certificate.properties"

fail() { echo "$1"; tail -30 "$dir/broker.log"; exit 1; }
run_check SecureClientCheck 127.0.0.1:$sasl_port "$dir/good.properties" accepted java-sasl 200 || fail "SASL_SSL failed"
run_check SecureClientCheck 127.0.0.1:$sasl_port "$dir/wrong.properties" refused java-sasl 0 || fail "wrong password"
run_check SecureClientCheck 127.0.0.1:$ssl_port "$dir/mtls.properties" accepted java-mtls 50 || fail "mTLS failed"
run_check SecureClientCheck 127.0.0.1:$ssl_port "$dir/no-certificate.properties" refused java-mtls 0 ||
  fail "no client certificate"
# Nothing beyond what was acknowledged: 200 and 50 records.
for topic_count in java-sasl:200 java-mtls:50; do
  topic=${topic_count%%:*} count=${topic_count##*:}
  got=$(kcat -b 127.0.0.1:$port -t "$topic" -C -e -q -f '%o\n' | wc -l)
  [ "$got" = "$count" ] || fail "$topic holds $got records, expected $count"
done
echo "java security: SASL_SSL/SCRAM-SHA-512 and mTLS accepted, wrong password and missing certificate refused"
