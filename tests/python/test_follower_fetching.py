"""KIP-392 follower fetching with a current librdkafka (the one confluent-kafka bundles): three brokers in three
racks on one etcd, replica.selector.class set to the rack-aware selector. A consumer naming a follower's rack
(client.rack) reads every record from that follower, and the leader serves it none; a consumer naming no rack
reads from the leader. (The C++ integration test RackedCluster does the same with Debian's librdkafka 2.0.2.)"""
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from conftest import Broker, free_port

TOPIC = "nearby"
RECORDS = 300


def wait_until(check, seconds, what):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def racked_cluster():
    etcd_binary = shutil.which("etcd")
    if etcd_binary is None:
        pytest.skip("etcd is not installed (Debian: etcd-server)")
    work = tempfile.mkdtemp(prefix="fjord-py-etcd-")
    client_port, peer_port = free_port(), free_port()
    client_url, peer_url = f"http://127.0.0.1:{client_port}", f"http://127.0.0.1:{peer_port}"
    etcd = subprocess.Popen(
        [etcd_binary, "--name", "py", "--data-dir", work, "--listen-client-urls", client_url,
         "--advertise-client-urls", client_url, "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls",
         peer_url, "--initial-cluster", f"py={peer_url}", "--logger=zap", "--log-level=error"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    brokers = []
    try:
        def etcd_healthy():
            try:
                with urllib.request.urlopen(client_url + "/health", timeout=1) as r:
                    return b'"true"' in r.read()
            except OSError:
                return False

        wait_until(etcd_healthy, 20, "etcd")
        for node in (1, 2, 3):
            b = Broker(["--node-id", str(node), "--metadata", f"etcd://127.0.0.1:{client_port}",
                        "--set", f"broker.rack=rack-{node}",
                        "--set", "replica.selector.class=org.apache.kafka.common.replica.RackAwareReplicaSelector"])
            brokers.append(b)
            b.start()
        for b in brokers:
            admin = AdminClient({"bootstrap.servers": b.bootstrap})
            wait_until(lambda: len(admin.list_topics(timeout=5).brokers) == 3, 30, f"broker on {b.port} to see all three")
        yield brokers
    finally:
        for b in brokers:
            b.stop()
            b.cleanup()
        etcd.terminate()
        etcd.wait()
        shutil.rmtree(work, ignore_errors=True)


def bytes_out(broker, topic):
    """Record bytes consumers have read from this broker's replicas of `topic` (its /metrics)."""
    series = f'fjord_topic_bytes_out_total{{topic="{topic}"}} '
    with urllib.request.urlopen(f"http://127.0.0.1:{broker.admin_port}/metrics", timeout=5) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(series):
                return float(line[len(series):])
    return 0.0


def read_all(bootstrap, extra):
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"nearby-{time.time()}",
                         "enable.auto.commit": False, **extra})
    consumer.assign([TopicPartition(TOPIC, 0, 0)])
    offsets = []
    deadline = time.time() + 30
    while len(offsets) < RECORDS and time.time() < deadline:
        message = consumer.poll(0.5)
        if message is not None and message.error() is None:
            offsets.append(message.offset())
    consumer.close()
    return offsets


def test_a_consumer_reads_from_the_follower_in_its_rack(racked_cluster):
    brokers = racked_cluster
    bootstrap = ",".join(b.bootstrap for b in brokers)
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(TOPIC, 1, 3)])[TOPIC].result(30)
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True})
    for i in range(RECORDS):
        producer.produce(TOPIC, value=b"record-%d" % i, partition=0)
    assert producer.flush(30) == 0

    def partition():
        return admin.list_topics(TOPIC, timeout=5).topics[TOPIC].partitions[0]

    # The leader sends a consumer to a follower only once it knows the follower holds what the consumer asks for.
    wait_until(lambda: len(partition().isrs) == 3, 20, "all three replicas in sync")
    leader = partition().leader
    follower = next(r for r in partition().replicas if r != leader)
    by_id = {node: b for node, b in zip((1, 2, 3), brokers)}

    offsets = read_all(bootstrap, {"client.rack": f"rack-{follower}"})
    assert offsets == list(range(RECORDS))
    assert bytes_out(by_id[follower], TOPIC) > 0, "the follower in the consumer's rack served nothing"
    assert bytes_out(by_id[leader], TOPIC) == 0, "the leader served records it should have sent to the follower"

    follower_before = bytes_out(by_id[follower], TOPIC)
    offsets = read_all(bootstrap, {})
    assert offsets == list(range(RECORDS))
    assert bytes_out(by_id[leader], TOPIC) > 0, "a consumer naming no rack was not served by the leader"
    assert bytes_out(by_id[follower], TOPIC) == follower_before
