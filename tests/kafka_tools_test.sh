#!/usr/bin/env bash
# Apache Kafka's own command-line tools (the classes behind kafka-topics.sh, kafka-leader-election.sh and
# kafka-log-dirs.sh, from Maven Central: tests/java/tools/pom.xml) drive a three-broker Fjord cluster with a real
# etcd: the topic is created and described by kafka-topics; a broker stopped with SIGTERM hands its leaderships
# over (controlled shutdown) and, with the automatic rebalance off, leads nothing after its restart until
# kafka-leader-election gives every partition back to its preferred replica; asked again, the tool reports nothing
# left to elect, nor for an unclean election of a led partition; kafka-log-dirs finds every replica on every
# broker, each as large as the others; and with a fourth broker, kafka-reassign-partitions moves every partition
# from brokers 1,2,3 to 2,3,4 under its --throttle, and its --verify reports each move complete and clears the
# throttles, with every record still there; kafka-configs sets, describes and removes client quotas.
set -euo pipefail
fjord=$1
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d)
free_port() { python3 "$here/support/ports.py" --owner $$; }
pids=()
cleanup() {
  for pid in "${pids[@]}"; do { kill -9 "$pid" && wait "$pid"; } 2>/dev/null || true; done
  rm -rf "$dir"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  for log in "$dir"/*.log; do echo "---- $log"; tail -n 25 "$log"; done
  exit 1
}

mvn -B -q -f "$here/java/tools/pom.xml" dependency:build-classpath -Dmdep.outputFile="$dir/classpath" \
  > "$dir/mvn.log" 2>&1 || fail "resolving Kafka's tools from Maven Central"
tool() { java -cp "$(cat "$dir/classpath")" "$@" 2>> "$dir/tools.log"; }

etcd_port=$(free_port); peer_port=$(free_port)
etcd --name tools --data-dir "$dir/etcd" --listen-client-urls "http://127.0.0.1:$etcd_port" \
  --advertise-client-urls "http://127.0.0.1:$etcd_port" --listen-peer-urls "http://127.0.0.1:$peer_port" \
  --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" --initial-cluster "tools=http://127.0.0.1:$peer_port" \
  --log-level error > "$dir/etcd.log" 2>&1 &
pids+=($!)

declare -A port admin pid
for id in 1 2 3 4; do port[$id]=$(free_port); admin[$id]=$(free_port); done
bootstrap="127.0.0.1:${port[1]},127.0.0.1:${port[2]},127.0.0.1:${port[3]}"
start_broker() {
  local id=$1
  "$fjord" broker --node-id "$id" --data-dir "$dir/broker-$id" --listen "127.0.0.1:${port[$id]}" \
    --admin-listen "127.0.0.1:${admin[$id]}" --metadata "etcd://127.0.0.1:$etcd_port" \
    --set auto.leader.rebalance.enable=false >> "$dir/broker-$id.log" 2>&1 &
  pid[$id]=$!
  pids+=($!)
}
for _ in $(seq 100); do (echo > "/dev/tcp/127.0.0.1/$etcd_port") 2>/dev/null && break; sleep 0.1; done
for id in 1 2 3; do start_broker "$id"; done

# "partition P, leader L, replicas: R, isrs: I" for each partition of the topic, as kcat reads the metadata.
partitions() { kcat -b "$bootstrap" -L -t elections 2>/dev/null | grep -E '^ +partition [0-9]+,' || true; }
# Whether every partition has three in-sync replicas (and, with "preferred", its first replica leading).
settled() {
  local lines
  lines=$(partitions)
  [ "$(grep -c 'isrs: [0-9],[0-9],[0-9]$' <<< "$lines")" = 3 ] || return 1
  [ "${1:-}" = preferred ] || return 0
  ! awk -F'[ ,:]+' '{ if ($5 != $7) bad = 1 } END { exit !bad }' <<< "$lines"
}
wait_for() {
  for _ in $(seq 300); do "$@" && return 0; sleep 0.2; done
  return 1
}
wait_for eval '[ "$(kcat -b "$bootstrap" -L 2>/dev/null | grep -c "^  broker ")" = 3 ]' || fail "the brokers did not register"

tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" --create --topic elections \
  --partitions 3 --replication-factor 3 > "$dir/create.out" || fail "kafka-topics --create: $(cat "$dir/create.out")"
grep -q "Created topic elections" "$dir/create.out" || fail "kafka-topics said: $(cat "$dir/create.out")"
wait_for settled preferred || fail "the topic was not placed with its preferred leaders in sync: $(partitions)"
tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" --describe --topic elections \
  > "$dir/describe.out" || fail "kafka-topics --describe"
[ "$(grep -c 'Leader: [123]' "$dir/describe.out")" = 3 ] || fail "kafka-topics --describe: $(cat "$dir/describe.out")"

kill -TERM "${pid[1]}"
status=0
wait "${pid[1]}" || status=$?
[ "$status" = 0 ] || fail "broker 1 exited with $status on SIGTERM"
grep -qE 'controlled shutdown: [1-9][0-9]* partitions handed' "$dir/broker-1.log" ||
  fail "broker 1 handed nothing over: $(grep 'controlled shutdown' "$dir/broker-1.log")"
start_broker 1
wait_for settled || fail "broker 1 did not catch up: $(partitions)"
if settled preferred; then fail "broker 1 leads again although the automatic rebalance is off: $(partitions)"; fi

tool org.apache.kafka.tools.LeaderElectionCommand --bootstrap-server "$bootstrap" --election-type PREFERRED \
  --all-topic-partitions > "$dir/elect.out" || fail "kafka-leader-election: $(cat "$dir/elect.out")"
grep -q "Successfully completed leader election (PREFERRED) for partitions elections-" "$dir/elect.out" ||
  fail "kafka-leader-election said: $(cat "$dir/elect.out")"
settled preferred || fail "after the election the preferred replicas do not all lead: $(partitions)"

tool org.apache.kafka.tools.LeaderElectionCommand --bootstrap-server "$bootstrap" --election-type PREFERRED \
  --topic elections --partition 0 > "$dir/again.out" || true
grep -q "Valid replica already elected for partitions elections-0" "$dir/again.out" ||
  fail "a second election said: $(cat "$dir/again.out")"
# An unclean election (type 1) of a partition that has a leader needs nothing either.
tool org.apache.kafka.tools.LeaderElectionCommand --bootstrap-server "$bootstrap" --election-type UNCLEAN \
  --topic elections --partition 1 > "$dir/unclean.out" || true
grep -q "Valid replica already elected for partitions elections-1" "$dir/unclean.out" ||
  fail "an unclean election of a led partition said: $(cat "$dir/unclean.out")"
# Records in every partition, then each broker's log directory as kafka-log-dirs reports it: all three replicas
# of each partition, equally large once the followers have caught up.
# (Each partition named: keyless records go to one partition per burst under librdkafka's sticky partitioner.)
for p in 0 1 2; do
  for i in $(seq 10); do echo "record-$p-$i"; done |
    kcat -b "$bootstrap" -t elections -p "$p" -P -X topic.request.required.acks=-1 || fail "kcat could not produce"
done
log_dirs_agree() {
  tool org.apache.kafka.tools.LogDirsCommand --bootstrap-server "$bootstrap" --describe --topic-list elections \
    > "$dir/logdirs.out" || return 1
  python3 - "$dir/logdirs.out" <<'PY'
import json, sys
report = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
sizes = {}
for broker in report["brokers"]:
    for log_dir in broker["logDirs"]:
        assert log_dir["error"] is None, log_dir
        for p in log_dir["partitions"]:
            assert p["offsetLag"] >= 0 and not p["isFuture"], p
            sizes.setdefault(p["partition"], []).append(p["size"])
assert sorted(sizes) == ["elections-0", "elections-1", "elections-2"], sizes
for partition, replicas in sizes.items():
    assert len(replicas) == 3 and len(set(replicas)) == 1 and replicas[0] > 0, (partition, replicas)
PY
}
agreed=0
for _ in $(seq 10); do
  if log_dirs_agree 2> "$dir/logdirs.err"; then agreed=1; break; fi
  sleep 1
done
[ "$agreed" = 1 ] || fail "kafka-log-dirs: $(cat "$dir/logdirs.out" "$dir/logdirs.err")"

# A fourth broker, and every partition moved from 1,2,3 to 2,3,4 by kafka-reassign-partitions, throttled.
start_broker 4
wait_for eval '[ "$(kcat -b "$bootstrap" -L 2>/dev/null | grep -c "^  broker ")" = 4 ]' || fail "broker 4 did not register"
python3 - > "$dir/plan.json" <<'PY'
import json
print(json.dumps({"version": 1, "partitions": [
    {"topic": "elections", "partition": p, "replicas": [2, 3, 4]} for p in range(3)]}))
PY
tool org.apache.kafka.tools.reassign.ReassignPartitionsCommand --bootstrap-server "$bootstrap" \
  --reassignment-json-file "$dir/plan.json" --execute --throttle 10000000 > "$dir/reassign.out" ||
  fail "kafka-reassign-partitions --execute: $(cat "$dir/reassign.out")"
grep -q "The inter-broker throttle limit was set to 10000000 B/s" "$dir/reassign.out" ||
  fail "kafka-reassign-partitions set no throttle: $(cat "$dir/reassign.out")"
grep -q "Successfully started partition reassignments for elections-0,elections-1,elections-2" "$dir/reassign.out" ||
  fail "kafka-reassign-partitions --execute said: $(cat "$dir/reassign.out")"
verified() {
  tool org.apache.kafka.tools.reassign.ReassignPartitionsCommand --bootstrap-server "$bootstrap" \
    --reassignment-json-file "$dir/plan.json" --verify > "$dir/verify.out" || return 1
  [ "$(grep -c 'Reassignment of partition elections-[012] is completed.' "$dir/verify.out")" = 3 ]
}
wait_for verified || fail "kafka-reassign-partitions --verify: $(cat "$dir/verify.out")"
grep -qE "Clearing broker-level throttles on brokers [1-4],[1-4],[1-4],[1-4]$" "$dir/verify.out" &&
  grep -q "Clearing topic-level throttles on topic elections" "$dir/verify.out" ||
  fail "--verify did not clear the throttles: $(cat "$dir/verify.out")"
moved() { [ "$(partitions | grep -c 'replicas: 2,3,4, isrs: [234],[234],[234]$')" = 3 ]; }
wait_for moved || fail "the partitions are not on 2,3,4, all in sync: $(partitions)"
records=$(kcat -b "$bootstrap" -C -t elections -o beginning -e -q 2>/dev/null | grep -c '^record-' || true)
[ "$records" = 30 ] || fail "after the move $records of 30 records are readable"
[ ! -d "$dir/broker-1/elections-0" ] || fail "broker 1 still holds elections-0 after the move"

# Client quotas with kafka-configs, kept in etcd: set for a user and client id, seen by every broker and by
# fjord quota, one of them removed.
configs() { tool org.apache.kafka.tools.ConfigCommand --bootstrap-server "$bootstrap" "$@"; }
quota_entity=(--entity-type users --entity-name alice --entity-type clients --entity-name batch)
configs --alter "${quota_entity[@]}" --add-config producer_byte_rate=1048576,request_percentage=25 \
  > "$dir/quota-alter.out" || fail "kafka-configs --alter: $(cat "$dir/quota-alter.out")"
# Another broker learns of a change from etcd's watch a moment after the one that wrote it answered.
described() {
  configs --describe "${quota_entity[@]}" > "$dir/quota-describe.out" || return 1
  grep -q "Quota configs for user-principal 'alice', client-id 'batch' are $1\$" "$dir/quota-describe.out"
}
wait_for described "producer_byte_rate=1048576.0, request_percentage=25.0" ||
  fail "kafka-configs --describe: $(cat "$dir/quota-describe.out")"
listed_on() {
  "$fjord" quota list --bootstrap-server "127.0.0.1:${port[$1]}" --user alice --client-id batch > "$dir/quota-$1.out" &&
    grep -q "request_percentage *25" "$dir/quota-$1.out"
}
for id in 2 3 4; do wait_for listed_on "$id" || fail "broker $id lists: $(cat "$dir/quota-$id.out")"; done
configs --alter "${quota_entity[@]}" --delete-config request_percentage > "$dir/quota-delete.out" ||
  fail "kafka-configs --delete-config: $(cat "$dir/quota-delete.out")"
wait_for described "producer_byte_rate=1048576.0" || fail "after the delete: $(cat "$dir/quota-describe.out")"
echo "kafka tools: ok"
