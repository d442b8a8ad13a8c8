"""Online migration between the group protocols (KIP-848) with a current librdkafka (confluent-kafka from PyPI): two
classic cooperative-sticky members consume and commit after processing; a member with group.protocol=consumer
joins and the running group becomes a consumer-protocol group with all three sharing the partitions; it leaves
and the group is classic again. At every poll no partition is owned by two members; at the end every record was
processed, the committed offsets reach the end, and a record processed twice is one whose commit had failed
(uncommitted work), never one whose commit the broker accepted."""
import json
import os
import subprocess
import time
from collections import Counter

import pytest
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from conftest import Broker

TOPIC = "migrate-py"
GROUP = "migrate-py-group"
PARTITIONS = 6


@pytest.fixture(scope="module")
def broker():
    b = Broker(["--set", "group.consumer.heartbeat.interval.ms=1000", "--set",
                "group.consumer.session.timeout.ms=6000", "--set", "group.initial.rebalance.delay.ms=0"])
    b.start()
    yield b
    b.cleanup()


def fjord_group(bootstrap, *args):
    out = subprocess.run([os.environ["FJORD_BINARY"], "group", "--bootstrap-server", bootstrap, "--format", "json",
                          *args], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


class Member:
    """One consumer polled from the test's thread: it processes a record, then commits it synchronously."""

    def __init__(self, bootstrap, name, protocol, ledger):
        config = {"bootstrap.servers": bootstrap, "group.id": GROUP, "client.id": name, "group.protocol": protocol,
                  "enable.auto.commit": False, "auto.offset.reset": "earliest"}
        if protocol == "classic":
            config.update({"partition.assignment.strategy": "cooperative-sticky", "session.timeout.ms": 6000,
                           "heartbeat.interval.ms": 500})
        self.consumer = Consumer(config)
        self.consumer.subscribe([TOPIC])
        self.ledger = ledger

    def step(self):
        m = self.consumer.poll(0.02)
        if m is None or m.error() is not None:
            return
        key = (m.partition(), m.offset())
        self.ledger.processed[key] += 1
        if key in self.ledger.committed:
            self.ledger.redelivered_after_commit.append(key)
        try:
            self.consumer.commit(message=m, asynchronous=False)
            self.ledger.committed.add(key)
        except KafkaException:
            pass  # uncommitted work: it may come again

    def owns(self):
        return {tp.partition for tp in self.consumer.assignment()}


class Ledger:
    def __init__(self):
        self.processed = Counter()
        self.committed = set()  # records whose commit the broker accepted
        self.redelivered_after_commit = []


def test_a_classic_group_is_upgraded_while_consuming_and_downgraded_back_losing_nothing(broker):
    bootstrap = broker.bootstrap
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for f in admin.create_topics([NewTopic(TOPIC, PARTITIONS, 1)]).values():
        f.result()
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True})
    produced = [0]

    def produce(count):
        for i in range(produced[0], produced[0] + count):
            producer.produce(TOPIC, key=f"k{i}".encode(), value=f"v{i}".encode())
        produced[0] += count
        assert producer.flush(30) == 0

    ledger = Ledger()
    members = {n: Member(bootstrap, n, "classic", ledger) for n in ("classic-a", "classic-b")}

    def run_until(done, seconds, feed=0):
        deadline = time.time() + seconds
        while time.time() < deadline:
            if feed:
                produce(feed)
            for m in list(members.values()):
                m.step()
            owners = Counter(p for m in members.values() for p in m.owns())
            assert all(n == 1 for n in owners.values()), {n: m.owns() for n, m in members.items()}
            if done():
                return True
        return False

    def everyone_owns_once(names):
        owned = [members[n].owns() for n in names]
        return all(owned) and set().union(*owned) == set(range(PARTITIONS)) and sum(map(len, owned)) == PARTITIONS

    produce(300)
    assert run_until(lambda: everyone_owns_once(["classic-a", "classic-b"]) and
                     sum(ledger.processed.values()) >= 300, 60)
    assert fjord_group(bootstrap, "describe", GROUP)["protocol"] == "classic"

    # A consumer-protocol member joins the running group: it is upgraded, and the three share the partitions.
    members["modern"] = Member(bootstrap, "modern", "consumer", ledger)
    assert run_until(lambda: everyone_owns_once(["classic-a", "classic-b", "modern"]), 60, feed=5), \
        {n: m.owns() for n, m in members.items()}
    described = fjord_group(bootstrap, "describe", GROUP)
    assert described["protocol"] == "consumer", described
    assert len(described["member_details"]) == 3, described
    listed = {g["group"]: g for g in fjord_group(bootstrap, "list")}
    assert listed[GROUP]["protocol"] == "consumer", listed

    # It leaves: the classic members are a classic group again and take its partitions back.
    members.pop("modern").consumer.close()
    assert run_until(lambda: everyone_owns_once(["classic-a", "classic-b"]), 60, feed=5), \
        {n: m.owns() for n, m in members.items()}
    deadline = time.time() + 30
    while time.time() < deadline and fjord_group(bootstrap, "describe", GROUP)["protocol"] != "classic":
        run_until(lambda: False, 0.5)
    assert fjord_group(bootstrap, "describe", GROUP)["protocol"] == "classic"

    produce(300)
    total = produced[0]
    assert run_until(lambda: len(ledger.processed) >= total, 60), (len(ledger.processed), total)
    for m in members.values():
        m.consumer.close()

    assert len(ledger.processed) == total, "every record processed"
    # A record comes again only while its commit had not been accepted (the commit is per record).
    assert not ledger.redelivered_after_commit, ledger.redelivered_after_commit
    check = Consumer({"bootstrap.servers": bootstrap, "group.id": GROUP})
    committed = check.committed([TopicPartition(TOPIC, p) for p in range(PARTITIONS)], timeout=20)
    ends = [check.get_watermark_offsets(TopicPartition(TOPIC, p), timeout=20)[1] for p in range(PARTITIONS)]
    check.close()
    assert [tp.offset for tp in committed] == ends, (committed, ends)
