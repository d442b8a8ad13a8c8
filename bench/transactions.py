#!/usr/bin/env python3
"""What transactions cost: records per second from one producer (confluent-kafka, a current librdkafka), 100-byte
records to one partition, acks=all, idempotent without transactions and transactional with 1, 10 and 100 records
per transaction, against Fjord and Apache Kafka (bench/kafka/run-kafka.sh) in the same run. Both brokers are
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
    name = "fjord"

    def __init__(self, binary):
        self.dir = tempfile.mkdtemp(prefix="fjord-txn-bench-")
        self.port = free_port()
        self.process = subprocess.Popen(
            [binary, "broker", "--data-dir", self.dir + "/data", "--listen", f"127.0.0.1:{self.port}",
             "--admin-listen", f"127.0.0.1:{free_port()}"],
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
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if per_transaction:
            producer.begin_transaction()
            for _ in range(per_transaction):
                producer.produce(topic, payload, partition=0)
            producer.commit_transaction(60)
            records += per_transaction
            transactions += 1
        else:
            for _ in range(1000):
                producer.produce(topic, payload, partition=0)
            producer.flush(60)
            records += 1000
    elapsed = time.monotonic() - started
    producer.flush(60)
    return records / elapsed, transactions / elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--fjord", default="build/release/cli/fjord")
    parser.add_argument("--no-kafka", action="store_true")
    args = parser.parse_args()
    brokers = [Fjord(args.fjord)] + ([] if args.no_kafka else [Kafka()])
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
        summary[b.name] = {name: {"records_per_s": statistics.median(r for r, _ in runs),
                                  "transactions_per_s": statistics.median(t for _, t in runs),
                                  "runs": runs} for name, runs in results[b.name].items()}
    os.makedirs("bench/results", exist_ok=True)
    with open("bench/results/transactions.json", "w") as f:
        json.dump({"seconds": args.seconds, "rounds": args.rounds, "brokers": summary}, f, indent=2)
    header = "| 100 B records, acks=all, one partition | fjord records/s | fjord transactions/s |"
    line = "|---|---|---|"
    if not args.no_kafka:
        header += " kafka records/s | kafka transactions/s | fjord / kafka |"
        line += "---|---|---|"
    print(header)
    print(line)
    for name, per in CASES:
        f = summary["fjord"][name]
        row = f"| {name} | {f['records_per_s']:,.0f} | {f['transactions_per_s']:,.0f} |" if per else \
            f"| {name} | {f['records_per_s']:,.0f} | - |"
        if not args.no_kafka:
            k = summary["kafka"][name]
            row += (f" {k['records_per_s']:,.0f} | {k['transactions_per_s']:,.0f} |" if per else
                    f" {k['records_per_s']:,.0f} | - |")
            row += f" {f['records_per_s'] / k['records_per_s']:.2f} |"
        print(row)


if __name__ == "__main__":
    main()
