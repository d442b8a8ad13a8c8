#!/usr/bin/env python3
"""What transactions cost: records per second from one producer (confluent-kafka, a current librdkafka), 100-byte
records to one partition, acks=all, idempotent without transactions and transactional with 1, 10 and 100 records
per transaction (records per second and the median commit_transaction latency), against Fjord (at its default,
an fsync before every acknowledgement, and without fsync as Kafka's default) and
Apache Kafka (bench/kafka/run-kafka.sh) in the same run. Both brokers are
warmed up, the runs alternate between them, each case runs --rounds times for --seconds, and the medians are
reported with their ratio. Prints a Markdown table and writes bench/results/transactions.json.

    .venv/bin/python bench/transactions.py [--seconds 5] [--rounds 3] [--fjord build/release/cli/fjord] [--no-kafka]
"""
import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = [("idempotent", 0), ("1 per transaction", 1), ("10 per transaction", 10), ("100 per transaction", 100)]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port, process, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the broker exited at start")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the broker did not start")


class Fjord:
    """Fjord at its default (an fsync before every acknowledgement, coordinator writes included), or with
    Kafka's default durability (no fsync per write) when fsync is False."""

    def __init__(self, binary, fsync=True):
        self.name = "fjord" if fsync else "fjord-nofsync"
        self.dir = tempfile.mkdtemp(prefix="fjord-txn-bench-")
        self.port = free_port()
        self.process = subprocess.Popen(
            [binary, "broker", "--data-dir", self.dir + "/data", "--listen", f"127.0.0.1:{self.port}",
             "--admin-listen", f"127.0.0.1:{free_port()}"] +
            ([] if fsync else ["--set", "log.flush.interval.messages=9223372036854775807"]),
            stdout=open(self.dir + "/broker.log", "wb"), stderr=subprocess.STDOUT)
        wait_for(self.port, self.process, 30)

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)
        shutil.rmtree(self.dir, ignore_errors=True)


class Kafka:
    name = "kafka"

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="kafka-txn-bench-")
        self.port = free_port()
        env = dict(os.environ, KAFKA_LOG_LEVEL="WARN", KAFKA_GC_LOG="0")
        # One broker: the internal topics' replication and min ISR must fit it.
        self.process = subprocess.Popen(
            [os.path.join(HERE, "kafka", "run-kafka.sh"), self.dir + "/kafka", str(self.port), str(free_port()),
             "transaction.state.log.replication.factor=1", "transaction.state.log.min.isr=1",
             "offsets.topic.replication.factor=1"],
            stdout=open(self.dir + "/kafka.log", "wb"), stderr=subprocess.STDOUT, env=env)
        wait_for(self.port, self.process, 300)

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=120)
        shutil.rmtree(self.dir, ignore_errors=True)


def run_case(bootstrap, topic, per_transaction, seconds, sequence):
    payload = b"x" * 100
    config = {"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True, "linger.ms": 5}
    if per_transaction:
        config["transactional.id"] = f"bench-{sequence}"
    producer = Producer(config)
    if per_transaction:
        producer.init_transactions(60)
    records = transactions = 0
    commit_ms = []
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if per_transaction:
            producer.begin_transaction()
            for _ in range(per_transaction):
                producer.produce(topic, payload, partition=0)
            before = time.monotonic()
            producer.commit_transaction(60)
            commit_ms.append((time.monotonic() - before) * 1000)
            records += per_transaction
            transactions += 1
        else:
            for _ in range(1000):
                producer.produce(topic, payload, partition=0)
            producer.flush(60)
            records += 1000
    elapsed = time.monotonic() - started
    producer.flush(60)
    return records / elapsed, transactions / elapsed, statistics.median(commit_ms) if commit_ms else 0.0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--fjord", default="build/release/cli/fjord")
    parser.add_argument("--no-kafka", action="store_true")
    args = parser.parse_args()
    brokers = [Fjord(args.fjord), Fjord(args.fjord, fsync=False)] + ([] if args.no_kafka else [Kafka()])
    results = {b.name: {name: [] for name, _ in CASES} for b in brokers}
    sequence = 0
    try:
        for b in brokers:
            admin = AdminClient({"bootstrap.servers": f"127.0.0.1:{b.port}"})
            for f in admin.create_topics([NewTopic("txn-bench", 1, 1)]).values():
                f.result()
            # Warm-up: every case once, not counted.
            for _, per in CASES:
                sequence += 1
                run_case(f"127.0.0.1:{b.port}", "txn-bench", per, 1, sequence)
        for _ in range(args.rounds):
            for name, per in CASES:
                for b in brokers:
                    sequence += 1
                    results[b.name][name].append(run_case(f"127.0.0.1:{b.port}", "txn-bench", per, args.seconds,
                                                          sequence))
    finally:
        for b in brokers:
            b.stop()
    summary = {}
    for b in brokers:
        summary[b.name] = {name: {"records_per_s": statistics.median(r for r, _, _ in runs),
                                  "transactions_per_s": statistics.median(t for _, t, _ in runs),
                                  "commit_p50_ms": statistics.median(c for _, _, c in runs),
                                  "runs": runs} for name, runs in results[b.name].items()}
    os.makedirs("bench/results", exist_ok=True)
    with open("bench/results/transactions.json", "w") as f:
        json.dump({"seconds": args.seconds, "rounds": args.rounds, "brokers": summary}, f, indent=2)
    names = [b.name for b in brokers]
    header = "| 100 B records, acks=all, one partition |" + "".join(f" {n} records/s | {n} commit p50 |" for n in names)
    line = "|---|" + "---|---|" * len(names)
    if not args.no_kafka:
        header += "".join(f" {n} / kafka |" for n in names if n != "kafka")
        line += "---|" * (len(names) - 1)
    print(header)
    print(line)
    for name, per in CASES:
        row = f"| {name} |"
        for n in names:
            r = summary[n][name]
            row += f" {r['records_per_s']:,.0f} | " + (f"{r['commit_p50_ms']:.1f} ms |" if per else "- |")
        if not args.no_kafka:
            for n in names:
                if n != "kafka":
                    row += f" {summary[n][name]['records_per_s'] / summary['kafka'][name]['records_per_s']:.2f} |"
        print(row)

if __name__ == "__main__":
    main()
