"""The consumer group protocol (KIP-848, group.protocol=consumer) with a current librdkafka (confluent-kafka from
PyPI): members split the partitions with the broker's assignor; a member SIGKILLed in its own process has its
partitions moved to the survivor after the session timeout; with commits after processing, every record is
processed and the committed offsets reach the end. Debian's librdkafka 2.0.2 predates the protocol."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from conftest import Broker

TOPIC = "kip848-py"
GROUP = "kip848-py-group"
PARTITIONS = 4

CHILD = r"""
import sys
from confluent_kafka import Consumer
c = Consumer({"bootstrap.servers": sys.argv[1], "group.id": sys.argv[2], "group.protocol": "consumer",
              "client.id": "py-child", "enable.auto.commit": False, "auto.offset.reset": "earliest"})
c.subscribe([sys.argv[3]])
while True:
    m = c.poll(0.1)
    if m is not None and m.error() is None:
        print(f"processed {m.partition()} {m.offset()}", flush=True)
        c.commit(message=m, asynchronous=False)
    print("owns " + ",".join(str(tp.partition) for tp in c.assignment()), flush=True)
"""


@pytest.fixture(scope="module")
def kip848_broker():
    b = Broker(["--set", "group.consumer.heartbeat.interval.ms=1000", "--set",
                "group.consumer.session.timeout.ms=6000"])
    b.start()
    yield b
    b.cleanup()


def produce(bootstrap, start, count):
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True})
    for i in range(start, start + count):
        p.produce(TOPIC, key=f"k{i}".encode(), value=f"v{i}".encode())
    assert p.flush(30) == 0


def owned(consumer):
    return {tp.partition for tp in consumer.assignment()}


def test_members_share_partitions_and_a_killed_member_is_replaced_losing_nothing(kip848_broker):
    bootstrap = kip848_broker.bootstrap
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for f in admin.create_topics([NewTopic(TOPIC, PARTITIONS, 1)]).values():
        f.result()
    produce(bootstrap, 0, 2000)

    processed = set()
    survivor = Consumer({"bootstrap.servers": bootstrap, "group.id": GROUP, "group.protocol": "consumer",
                         "client.id": "py-survivor", "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    survivor.subscribe([TOPIC])
    child = subprocess.Popen([sys.executable, "-c", CHILD, bootstrap, GROUP, TOPIC], stdout=subprocess.PIPE, text=True)
    os.set_blocking(child.stdout.fileno(), False)
    child_owns = set()

    def step():
        m = survivor.poll(0.1)
        if m is not None and m.error() is None:
            processed.add((m.partition(), m.offset()))
            survivor.commit(message=m, asynchronous=False)  # after processing
        for line in child.stdout.readlines():
            if line.startswith("processed "):
                _, p, o = line.split()
                processed.add((int(p), int(o)))
            elif line.startswith("owns"):
                child_owns.clear()
                child_owns.update(int(p) for p in line[5:].strip().split(",") if p)

    try:
        deadline = time.time() + 60
        while time.time() < deadline and not (owned(survivor) and child_owns and
                                               owned(survivor) | child_owns == set(range(PARTITIONS)) and
                                               not owned(survivor) & child_owns):
            step()
        assert owned(survivor) and child_owns, (owned(survivor), child_owns)
        assert owned(survivor) | child_owns == set(range(PARTITIONS)) and not owned(survivor) & child_owns

        child.send_signal(signal.SIGKILL)
        child.wait()
        killed_at = time.time()
        while time.time() < killed_at + 30 and owned(survivor) != set(range(PARTITIONS)):
            step()
        moved_after = time.time() - killed_at
        assert owned(survivor) == set(range(PARTITIONS)), owned(survivor)
        assert moved_after >= 4, f"moved after {moved_after:.1f} s: before the session timeout (6 s) ran out"

        produce(bootstrap, 2000, 500)
        deadline = time.time() + 60
        while time.time() < deadline and len(processed) < 2500:
            step()
        assert len(processed) == 2500
        committed = survivor.committed([TopicPartition(TOPIC, p) for p in range(PARTITIONS)], timeout=10)
        assert sum(tp.offset for tp in committed) == 2500
    finally:
        if child.poll() is None:
            child.kill()
        survivor.close()


def test_the_group_is_listed_and_described_as_a_consumer_protocol_group(kip848_broker):
    admin = AdminClient({"bootstrap.servers": kip848_broker.bootstrap})
    listed = admin.list_consumer_groups().result()
    kinds = {g.group_id: g.type for g in listed.valid}
    assert str(kinds.get(GROUP)).endswith("CONSUMER"), kinds


def fjord_group(bootstrap, *args):
    out = subprocess.run([os.environ["FJORD_BINARY"], "group", "--bootstrap-server", bootstrap, "--format", "json",
                          *args], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_fjord_group_shows_the_protocol_the_epochs_and_each_members_assignment(kip848_broker):
    bootstrap = kip848_broker.bootstrap
    topic, group = "kip848-described", "kip848-described-group"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for f in admin.create_topics([NewTopic(topic, 6, 1)]).values():
        f.result()
    consumers = [Consumer({"bootstrap.servers": bootstrap, "group.id": group, "group.protocol": "consumer",
                           "client.id": f"py-described-{n}"}) for n in "ab"]
    try:
        for c in consumers:
            c.subscribe([topic])

        def settled():
            a, b = owned(consumers[0]), owned(consumers[1])
            return a and b and a | b == set(range(6)) and not a & b

        deadline = time.time() + 60
        while time.time() < deadline and not settled():
            for c in consumers:
                c.poll(0.05)
        assert settled(), [owned(c) for c in consumers]
        # Past a heartbeat or two: the broker has heard every member confirm what it owns.
        until = time.time() + 3
        while time.time() < until:
            for c in consumers:
                c.poll(0.05)

        described = fjord_group(bootstrap, "describe", group)
        assert described["protocol"] == "consumer" and described["state"] == "Stable", described
        assert described["group_epoch"] >= 2 and described["assignment_epoch"] == described["group_epoch"]
        members = {m["client_id"]: m for m in described["member_details"]}
        assert set(members) == {"py-described-a", "py-described-b"}, members
        for c, name in zip(consumers, "ab"):
            m = members[f"py-described-{name}"]
            assert m["instance_id"] is None
            assert m["member_epoch"] == described["group_epoch"]
            assert {p["partition"] for p in m["assigned"]} == owned(c), (m, owned(c))
            assert m["assigned"] == m["target"]
        owners = {row["partition"]: row["client_id"] for row in described["partitions"]}
        assert sorted(owners) == list(range(6)), described["partitions"]

        listed = {g["group"]: g for g in fjord_group(bootstrap, "list")}
        assert listed[group]["protocol"] == "consumer" and listed[group]["state"] == "Stable", listed
    finally:
        for c in consumers:
            c.close()


def test_a_broker_killed_and_restarted_keeps_the_group_and_its_members_carry_on():
    """The group's state is in __consumer_offsets: after a kill -9 and a restart the members are still members
    (no partitions lost or revoked), and commit-after-processing loses nothing."""
    topic, group = "kip848-restart", "kip848-restart-group"
    b = Broker(["--set", "group.consumer.heartbeat.interval.ms=1000", "--set",
                "group.consumer.session.timeout.ms=6000"])
    b.start()
    events = []
    consumers = []
    try:
        admin = AdminClient({"bootstrap.servers": b.bootstrap})
        for f in admin.create_topics([NewTopic(topic, PARTITIONS, 1)]).values():
            f.result()
        p = Producer({"bootstrap.servers": b.bootstrap, "acks": "all", "enable.idempotence": True})
        for i in range(1000):
            p.produce(topic, key=f"k{i}".encode(), value=f"v{i}".encode())
        assert p.flush(30) == 0
        processed = set()
        for name in ("a", "b"):
            c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": group, "group.protocol": "consumer",
                          "client.id": f"py-{name}", "enable.auto.commit": False, "auto.offset.reset": "earliest"})
            c.subscribe([topic],
                        on_revoke=lambda c, parts, n=name: events.append((n, "revoke", len(parts))),
                        on_lost=lambda c, parts, n=name: events.append((n, "lost", len(parts))))
            consumers.append(c)

        def step():
            for c in consumers:
                m = c.poll(0.05)
                if m is not None and m.error() is None:
                    processed.add((m.partition(), m.offset()))
                    c.commit(message=m, asynchronous=False)

        def settled():
            a, bb = owned(consumers[0]), owned(consumers[1])
            return a and bb and a | bb == set(range(PARTITIONS)) and not a & bb

        deadline = time.time() + 60
        while time.time() < deadline and not (settled() and len(processed) == 1000):
            step()
        assert settled() and len(processed) == 1000, (owned(consumers[0]), owned(consumers[1]), len(processed))
        before = [owned(c) for c in consumers]
        events.clear()

        b.kill()
        b.start()
        # Past a whole session: a member the restarted broker did not know would have been told so by now.
        until = time.time() + 10
        while time.time() < until:
            step()
        for i in range(1000, 1500):
            p.produce(topic, key=f"k{i}".encode(), value=f"v{i}".encode())
        assert p.flush(30) == 0
        deadline = time.time() + 60
        while time.time() < deadline and len(processed) < 1500:
            step()
        assert len(processed) == 1500
        assert [owned(c) for c in consumers] == before
        assert not [e for e in events if e[1] in ("lost", "revoke") and e[2] > 0], events
        committed = consumers[0].committed([TopicPartition(topic, p) for p in range(PARTITIONS)], timeout=10)
        # A partition the producer's batches skipped has no commit (-1001).
        assert sum(max(tp.offset, 0) for tp in committed) == 1500, [(tp.partition, tp.offset) for tp in committed]
        assert not [tp for tp in committed if tp.error], committed
    finally:
        for c in consumers:
            c.close()
        b.cleanup()
