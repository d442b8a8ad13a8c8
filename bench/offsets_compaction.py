#!/usr/bin/env python3
"""__consumer_offsets with and without compaction: a group commits COMMITS offsets (10 partitions per commit) to a
one-partition offsets topic; the broker is restarted with the cleaner off and the reload timed, restarted with
the cleaner off and produce latency measured from the start, then restarted with the cleaner on and produce
latency measured the same way while it cleans, and the reload timed again. Prints a Markdown table and writes bench/results/offsets-compaction.json.

    .venv/bin/python bench/offsets_compaction.py [--commits 100000] [--fjord build/release/cli/fjord]
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Broker:
    def __init__(self, binary, data_dir):
        self.binary, self.data_dir = binary, data_dir
        self.port, self.admin = free_port(), free_port()
        self.process = None

    def start(self, *settings):
        args = [self.binary, "broker", "--data-dir", self.data_dir, "--listen", f"127.0.0.1:{self.port}",
                "--admin-listen", f"127.0.0.1:{self.admin}", "--set", "offsets.topic.num.partitions=1",
                "--set", "offsets.topic.segment.bytes=16777216"]
        for s in settings:
            args += ["--set", s]
        self.log = open(self.data_dir + ".log", "ab")
        self.started = time.monotonic()
        self.process = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.005)

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=120)
        self.log.close()

    def metric(self, name):
        text = urllib.request.urlopen(f"http://127.0.0.1:{self.admin}/metrics").read().decode()
        return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name + " ")
                   or line.startswith(name + "{"))

    @property
    def bootstrap(self):
        return f"127.0.0.1:{self.port}"


def offsets_bytes(data_dir):
    directory = os.path.join(data_dir, "__consumer_offsets-0")
    return sum(os.path.getsize(os.path.join(directory, n)) for n in os.listdir(directory)
               if not n.endswith(".deleted"))


def reload_seconds(broker, expected):
    """From the broker's start until the group's committed offsets can be read (the coordinator loaded)."""
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "committer"})
    while True:
        try:
            got = consumer.committed([TopicPartition("work", p) for p in range(10)], timeout=60)
            if [tp.offset for tp in got] == expected:
                break
        except Exception:
            time.sleep(0.01)
    elapsed = time.monotonic() - broker.started
    consumer.close()
    return elapsed


def produce_latencies(bootstrap, seconds, rate, out):
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 1})
    payload = b"x" * 1024
    end = time.monotonic() + seconds
    interval = 1.0 / rate
    next_send = time.monotonic()
    while time.monotonic() < end:
        sent = time.monotonic()
        producer.produce("latency", payload, on_delivery=lambda err, msg, sent=sent: out.append(
            (sent, time.monotonic() - sent)) if err is None else None)
        producer.poll(0)
        next_send += interval
        delay = next_send - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    producer.flush(30)


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] * 1000 if values else float("nan")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--commits", type=int, default=100000)
    parser.add_argument("--fjord", default="build/release/cli/fjord")
    args = parser.parse_args()
    data_dir = tempfile.mkdtemp(prefix="fjord-offsets-")
    broker = Broker(args.fjord, data_dir)
    result = {"commits": args.commits, "records": args.commits * 10}
    try:
        broker.start("log.cleaner.enable=false")
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        for f in admin.create_topics([NewTopic("work", 10, 1), NewTopic("latency", 1, 1)]).values():
            f.result()
        consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "committer",
                             "enable.auto.commit": False})
        started = time.monotonic()
        for i in range(1, args.commits + 1):
            offsets = [TopicPartition("work", p, i * 10 + p) for p in range(10)]
            consumer.commit(offsets=offsets, asynchronous=i % 100 != 0)
        consumer.commit(offsets=[TopicPartition("work", p, args.commits * 10 + p) for p in range(10)],
                        asynchronous=False)
        result["commit_seconds"] = time.monotonic() - started
        consumer.close()
        expected = [args.commits * 10 + p for p in range(10)]
        broker.stop()

        broker.start("log.cleaner.enable=false")
        result["reload_uncompacted_s"] = reload_seconds(broker, expected)
        result["offsets_bytes_uncompacted"] = offsets_bytes(data_dir)
        broker.stop()

        # The same restart with the cleaner off: its producer starts with the broker, as the one below does, so
        # both windows hold a cold producer's first requests and differ only in the cleaner.
        broker.start("log.cleaner.enable=false")
        idle = []
        produce_latencies(broker.bootstrap, 10, 2000, idle)
        idle_started = broker.started
        broker.stop()

        broker.start("log.cleaner.backoff.ms=500")
        cleaning = []
        thread = threading.Thread(target=produce_latencies, args=(broker.bootstrap, 10, 2000, cleaning))
        thread.start()
        # Cleaning is over when the cleaner has stopped reading.
        last, stable_since = -1, time.monotonic()
        while time.monotonic() - stable_since < 3:
            read = broker.metric("fjord_log_cleaner_read_bytes_total")
            if read != last:
                last, stable_since = read, time.monotonic()
            time.sleep(0.2)
        result["cleaning_seconds"] = stable_since - broker.started
        thread.join()
        window = [lat for sent, lat in cleaning if sent - broker.started <= result["cleaning_seconds"]]
        result["cleaner_read_bytes"] = last
        result["offsets_bytes_compacted"] = offsets_bytes(data_dir)
        broker.stop()

        broker.start("log.cleaner.backoff.ms=500")
        result["reload_compacted_s"] = reload_seconds(broker, expected)
        broker.stop()
        # Compared over the same span after the restart: the cleaning window, and the whole 10 s.
        idle_window = [lat for sent, lat in idle if sent - idle_started <= result["cleaning_seconds"]]
        result["produce_p50_ms_cleaner_off"] = percentile(idle_window, 0.5)
        result["produce_p99_ms_cleaner_off"] = percentile(idle_window, 0.99)
        result["produce_p50_ms_cleaner_running"] = percentile(window, 0.5)
        result["produce_p99_ms_cleaner_running"] = percentile(window, 0.99)
        result["produce_samples_cleaner_running"] = len(window)
        result["produce_p99_ms_10s_cleaner_off"] = percentile([lat for _, lat in idle], 0.99)
        result["produce_p99_ms_10s_cleaner_on"] = percentile([lat for _, lat in cleaning], 0.99)
    finally:
        if broker.process and broker.process.poll() is None:
            broker.process.kill()
        shutil.rmtree(data_dir, ignore_errors=True)
        if os.path.exists(data_dir + ".log"):
            os.remove(data_dir + ".log")
    os.makedirs("bench/results", exist_ok=True)
    with open("bench/results/offsets-compaction.json", "w") as f:
        json.dump(result, f, indent=2)
    r = result
    print(f"| __consumer_offsets after {r['records']:,} commit records | uncompacted | compacted |")
    print("|---|---|---|")
    print(f"| bytes on disk | {r['offsets_bytes_uncompacted']:,} | {r['offsets_bytes_compacted']:,} |")
    print(f"| reload after a restart (s) | {r['reload_uncompacted_s']:.2f} | {r['reload_compacted_s']:.2f} |")
    print(f"| produce p50 / p99 (ms), 1 KiB acks=all at 2,000/s, first {r['cleaning_seconds']:.1f} s after the "
          f"restart (cleaning, when on) | {r['produce_p50_ms_cleaner_off']:.2f} / {r['produce_p99_ms_cleaner_off']:.2f}"
          f" (cleaner off) | {r['produce_p50_ms_cleaner_running']:.2f} / {r['produce_p99_ms_cleaner_running']:.2f} "
          f"(cleaning) |")
    print(f"| produce p99 (ms), first 10 s after the restart | {r['produce_p99_ms_10s_cleaner_off']:.2f} "
          f"(cleaner off) | {r['produce_p99_ms_10s_cleaner_on']:.2f} (cleaner on) |")


if __name__ == "__main__":
    main()
