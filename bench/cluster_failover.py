#!/usr/bin/env python3
"""Failover in a three-broker cluster with many partitions: how long from a broker's kill -9 until every partition
it led is served again, and the same when the killed broker is the controller (so the survivors first elect a new
controller, which then moves the leaders).

    bench/cluster_failover.py [--partitions 10000] [--session-timeout-ms 9000] [--keep]

One etcd and three `fjord broker` processes on loopback, one topic of PARTITIONS partitions with replication factor
3, a record in each. Per kill it reports, from the kill:
  - detected: the killed broker's registration gone from etcd (its lease expired: broker.session.timeout.ms);
  - leaders moved: a surviving broker's Metadata answer names a live leader for every partition;
  - served: a producer started at the kill has a record acknowledged by every partition the killed broker led (what
    a client sees: its retries, metadata refreshes and the new leaders' first writes included). It asks for acks=1
    (the new leader's own durable write): acks=all to thousands of partitions one request per partition, as
    librdkafka sends them, waits on followers that fetch every partition in every request, and would measure that
    instead of the failover;
  - and, for the controller kill, the first topic creation that succeeds afterwards.
Then the broker is restarted and the time until every partition has all three replicas in sync again is reported.
Writes bench/results/cluster-failover.{json,md}; --render writes the .md again from the .json.
"""
import argparse
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from confluent_kafka import KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FJORD = os.path.join(ROOT, "build", "release", "cli", "fjord")
TOPIC = "failover-scale"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(what, check, seconds, every=0.05):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return time.monotonic()
        time.sleep(every)
    sys.exit(f"timed out waiting for {what}")


class Etcd:
    def __init__(self, work):
        self.port = free_port()
        peer = free_port()
        url, peer_url = f"http://127.0.0.1:{self.port}", f"http://127.0.0.1:{peer}"
        self.proc = subprocess.Popen(
            ["etcd", "--name", "bench", "--data-dir", os.path.join(work, "etcd"), "--listen-client-urls", url,
             "--advertise-client-urls", url, "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls",
             peer_url, "--initial-cluster", f"bench={peer_url}", "--log-level=error", "--logger=zap"],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "etcd.log"), "w"))
        wait_until("etcd", lambda: self.keys("/fjord/") is not None, 20)

    def keys(self, prefix):
        """The keys under `prefix` (None while etcd does not answer)."""
        end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        body = json.dumps({"key": base64.b64encode(prefix.encode()).decode(),
                           "range_end": base64.b64encode(end.encode()).decode(), "keys_only": True}).encode()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/v3/kv/range", body, timeout=2) as r:
                kvs = json.load(r).get("kvs", [])
        except OSError:
            return None
        return [base64.b64decode(kv["key"]).decode() for kv in kvs]

    def get(self, key):
        body = json.dumps({"key": base64.b64encode(key.encode()).decode()}).encode()
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/v3/kv/range", body, timeout=2) as r:
            kvs = json.load(r).get("kvs", [])
        return json.loads(base64.b64decode(kvs[0]["value"])) if kvs else None

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


class Broker:
    def __init__(self, node_id, work, etcd_port, session_timeout_ms):
        self.node_id = node_id
        self.port = free_port()
        self.args = [FJORD, "broker", "--node-id", str(node_id), "--data-dir", os.path.join(work, f"broker-{node_id}"),
                     "--listen", f"127.0.0.1:{self.port}", "--admin-listen", f"127.0.0.1:{free_port()}",
                     "--metadata", f"etcd://127.0.0.1:{etcd_port}",
                     "--set", f"broker.session.timeout.ms={session_timeout_ms}",
                     # Preferred leaders come back within seconds of the restart rather than Kafka's five minutes.
                     "--set", "leader.imbalance.check.interval.seconds=5",
                     "--set", "leader.imbalance.per.broker.percentage=0"]
        self.log_path = os.path.join(work, f"broker-{node_id}.log")
        self.proc = None
        self.start()

    def start(self):
        self.proc = subprocess.Popen(self.args, stdout=subprocess.DEVNULL, stderr=open(self.log_path, "a"))

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.kill()

    def rss_mib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0


def partitions(admin):
    """{partition: (leader, isr)} of the topic as the broker asked sees it ({} when it does not answer in time)."""
    try:
        md = admin.list_topics(TOPIC, timeout=10)
    except KafkaException:
        return {}
    topic = md.topics.get(TOPIC)
    if topic is None or topic.error is not None:
        return {}
    return {p.id: (p.leader, list(p.isrs)) for p in topic.partitions.values()}


def produce_to_each(bootstrap, targets, timeout_s):
    """Produces one record to each partition in `targets` (acks=1) and returns the time the last one was
    acknowledged, or None if any failed."""
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "1",
                         "message.timeout.ms": int(timeout_s * 1000), "linger.ms": 5, "log_level": 0})
    failed = []
    last = [0.0]

    def done(err, _msg):
        if err is not None:
            failed.append(err)
        else:
            last[0] = time.monotonic()

    for p in targets:
        while True:
            try:
                producer.produce(TOPIC, b"x" * 100, partition=p, on_delivery=done)
                break
            except BufferError:
                producer.poll(0.05)
    remaining = producer.flush(timeout_s + 10)
    if failed or remaining:
        print(f"  {len(failed)} records failed ({failed[:3]}), {remaining} not acknowledged", file=sys.stderr)
        return None
    return last[0]


def all_in_sync(admin, expected):
    state = partitions(admin)
    return len(state) == expected and all(leader >= 0 and len(isr) == 3 for leader, isr in state.values())


def controller_id(etcd):
    value = etcd.get("/fjord/controller")
    return value["node_id"] if value else None


def kill_and_measure(label, victim, brokers, etcd, partition_count, create_topic_after):
    survivors = [b for b in brokers if b is not victim]
    survivor_admin = AdminClient({"bootstrap.servers": f"127.0.0.1:{survivors[0].port}", "log_level": 0})
    bootstrap = ",".join(f"127.0.0.1:{b.port}" for b in survivors)
    led = [p for p, (leader, _) in partitions(survivor_admin).items() if leader == victim.node_id]
    if not led:
        sys.exit(f"broker {victim.node_id} leads no partition: nothing to fail over")
    print(f"{label}: killing broker {victim.node_id} (leads {len(led)} of {partition_count} partitions)", flush=True)
    killed_at = time.monotonic()
    victim.kill()

    # The producer runs from the kill on, beside the Metadata polls below.
    served = {}

    def produce():
        served["at"] = produce_to_each(bootstrap, led, 120)

    producing = threading.Thread(target=produce)
    producing.start()
    registration = f"/fjord/brokers/{victim.node_id}"
    detected = wait_until("the killed broker's lease to expire", lambda: etcd.keys(registration) == [], 120)
    # Metadata of 10,000 partitions is work for the broker answering it: asked for five times a second.
    def all_moved():
        state = partitions(survivor_admin)
        return len(state) == partition_count and all(
            leader >= 0 and leader != victim.node_id for leader, _ in state.values())

    moved = wait_until("every partition to have a live leader", all_moved, 300, 0.2)
    created = None
    if create_topic_after:
        admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0})
        name = f"after-controller-kill-{int(time.time())}"
        give_up = time.monotonic() + 120
        while created is None:
            if time.monotonic() > give_up:
                sys.exit("no topic could be created after the controller was killed")
            futures = admin.create_topics([NewTopic(name, 1, 2)], operation_timeout=30)
            try:
                futures[name].result()
                created = time.monotonic()
            except Exception as error:  # retried until the new controller places it
                if "TOPIC_ALREADY_EXISTS" in str(error):
                    created = time.monotonic()
                else:
                    time.sleep(0.1)
    producing.join()
    if served.get("at") is None:
        sys.exit("records to the failed-over partitions were not acknowledged")
    result = {
        "kill": label,
        "partitions_led": len(led),
        "detected_s": round(detected - killed_at, 2),
        "leaders_moved_s": round(moved - killed_at, 2),
        "served_s": round(served["at"] - killed_at, 2),
    }
    if created is not None:
        result["topic_created_s"] = round(created - killed_at, 2)
    print(f"  {result}", flush=True)

    victim.start()
    restarted = time.monotonic()
    back = wait_until("every replica back in sync", lambda: all_in_sync(survivor_admin, partition_count), 600, 0.2)
    result["back_in_sync_s"] = round(back - restarted, 2)
    print(f"  restarted: all replicas in sync {result['back_in_sync_s']} s later", flush=True)
    return result


def write_results(summary):
    base = os.path.join(ROOT, "bench", "results", "cluster-failover")
    with open(base + ".json", "w") as f:
        json.dump(summary, f, indent=2)
    lines = [
        "# Failover in a three-broker cluster",
        "",
        f"`bench/cluster_failover.py`: one etcd and three brokers on this machine, one topic of "
        f"{summary['partitions']:,} partitions with replication factor 3 (a record in each), "
        f"broker.session.timeout.ms={summary['session_timeout_ms']}. Seconds from the kill -9 (the last column: from "
        f"the restart); the write is acks=1 (see the script's header for why):",
        "",
        "| killed | partitions it led | lease expired | every partition has a live leader | "
        "a write acknowledged by each of its partitions | first topic created | back in sync after restart |",
        "|---|---|---|---|---|---|---|",
    ]
    for run in summary["runs"]:
        lines.append(f"| {run['kill']} | {run['partitions_led']:,} | {run['detected_s']} | {run['leaders_moved_s']} "
                     f"| {run['served_s']} | {run.get('topic_created_s', '—')} | {run['back_in_sync_s']} |")
    lines += ["", "Resident memory per broker at the end (MiB): " + ", ".join(str(m) for m in summary["rss_mib"]) +
              ".", ""]
    with open(base + ".md", "w") as f:
        f.write("\n".join(lines))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--partitions", type=int, default=10000)
    parser.add_argument("--session-timeout-ms", type=int, default=9000)
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    parser.add_argument("--render", action="store_true", help="only write the .md from the last .json")
    options = parser.parse_args()
    if options.render:
        with open(os.path.join(ROOT, "bench", "results", "cluster-failover.json")) as f:
            write_results(json.load(f))
        return

    work = tempfile.mkdtemp(prefix="fjord-failover-")
    etcd = Etcd(work)
    brokers = [Broker(i, work, etcd.port, options.session_timeout_ms) for i in (1, 2, 3)]
    try:
        admin = AdminClient({"bootstrap.servers": f"127.0.0.1:{brokers[0].port}", "log_level": 0})
        wait_until("three brokers registered", lambda: len(etcd.keys("/fjord/brokers/") or []) == 3, 60)
        started = time.monotonic()
        admin.create_topics([NewTopic(TOPIC, options.partitions, 3)], operation_timeout=120)[TOPIC].result()
        in_sync = wait_until("the topic placed and in sync", lambda: all_in_sync(admin, options.partitions), 600)
        print(f"created {options.partitions} partitions x 3 replicas, all in sync in {in_sync - started:.1f} s",
              flush=True)
        bootstrap = ",".join(f"127.0.0.1:{b.port}" for b in brokers)
        if produce_to_each(bootstrap, range(options.partitions), 120) is None:
            sys.exit("the first record to each partition was not acknowledged")
        print("a record in every partition; RSS per broker (MiB): " +
              ", ".join(f"{b.rss_mib():.0f}" for b in brokers), flush=True)
        results = []
        # A broker that is not the controller, then the controller itself.
        controller = controller_id(etcd)
        other = next(b for b in brokers if b.node_id != controller)
        results.append(kill_and_measure("a broker", other, brokers, etcd, options.partitions, False))
        wait_until("preferred leaders back", lambda: sum(
            1 for leader, _ in partitions(admin).values() if leader == other.node_id) > 0, 120)
        controller = controller_id(etcd)
        victim = next(b for b in brokers if b.node_id == controller)
        results.append(kill_and_measure("the controller", victim, brokers, etcd, options.partitions, True))
        summary = {"partitions": options.partitions, "replication_factor": 3,
                   "session_timeout_ms": options.session_timeout_ms, "runs": results,
                   "rss_mib": [round(b.rss_mib()) for b in brokers]}
        print(json.dumps(summary, indent=2))
        write_results(summary)
    finally:
        for b in brokers:
            b.stop()
        etcd.stop()
        if not options.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
