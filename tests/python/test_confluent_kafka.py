"""confluent-kafka from PyPI: a current librdkafka (newer than Debian's), which speaks the flexible versions
(Fetch 12+ with topic ids, Metadata 12, IncrementalAlterConfigs)."""
import time

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import (AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource, NewTopic,
                                   ResourceType)


def test_current_librdkafka_round_trip(broker):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    for f in admin.create_topics([NewTopic("ck-round-trip", 3, 1)]).values():
        f.result()
    producer = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all", "enable.idempotence": True,
                         "compression.type": "zstd", "linger.ms": 5})
    for i in range(3000):
        producer.produce("ck-round-trip", key=str(i), value=("v%d" % i) * (i % 40), partition=i % 3,
                         headers={"i": str(i)})
    assert producer.flush(30) == 0
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "unused", "enable.auto.commit": False})
    consumer.assign([TopicPartition("ck-round-trip", p, 0) for p in range(3)])
    seen = {}
    deadline = time.time() + 20
    while len(seen) < 3000 and time.time() < deadline:
        m = consumer.poll(0.5)
        if m is None or m.error():
            continue
        i = int(m.key())
        assert m.partition() == i % 3
        assert m.offset() == i // 3
        assert m.value() == (("v%d" % i) * (i % 40)).encode()
        assert dict(m.headers()) == {"i": str(i).encode()}
        seen[i] = True
    consumer.close()
    assert len(seen) == 3000


def test_incremental_alter_configs(broker):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    for f in admin.create_topics([NewTopic("ck-configs", 1, 1)]).values():
        f.result()
    resource = ConfigResource(ResourceType.TOPIC, "ck-configs", incremental_configs=[
        ConfigEntry("retention.ms", "123456", incremental_operation=AlterConfigOpType.SET),
        ConfigEntry("cleanup.policy", "delete", incremental_operation=AlterConfigOpType.APPEND)])
    for f in admin.incremental_alter_configs([resource]).values():
        f.result()
    # Appending compact to cleanup.policy makes the topic compact,delete; compaction's settings are described.
    compact = ConfigResource(ResourceType.TOPIC, "ck-configs", incremental_configs=[
        ConfigEntry("cleanup.policy", "compact", incremental_operation=AlterConfigOpType.APPEND)])
    for f in admin.incremental_alter_configs([compact]).values():
        f.result()
    described = list(admin.describe_configs([ConfigResource(ResourceType.TOPIC, "ck-configs")]).values())[0].result()
    assert described["retention.ms"].value == "123456"
    assert described["cleanup.policy"].value == "delete,compact"
    assert described["retention.ms"].source == 1  # the topic's own setting
    assert described["min.cleanable.dirty.ratio"].value == "0.5"


def test_compacted_topic_with_compressed_batches_keeps_the_latest_value_of_each_key():
    """zstd batches from a current librdkafka lose some of their records to the cleaner: the kept ones come back
    with their offsets, inside batches compressed again."""
    from conftest import Broker
    broker = Broker(["--set", "log.cleaner.backoff.ms=100"])
    broker.start()
    try:
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        for f in admin.create_topics([NewTopic("ck-table", 1, 1, config={
                "cleanup.policy": "compact", "segment.bytes": "32768", "segment.ms": "1000",
                "min.cleanable.dirty.ratio": "0.01"})]).values():
            f.result()
        producer = Producer({"bootstrap.servers": broker.bootstrap, "compression.type": "zstd", "linger.ms": 20,
                             "enable.idempotence": True})
        latest = {}
        for version in range(10):
            for key in range(100):
                producer.produce("ck-table", key=f"k{key}", value=f"k{key}-v{version}", partition=0)
        for key in range(10):
            producer.produce("ck-table", key=f"k{key}", value=None, partition=0)
        assert producer.flush(30) == 0

        def read_back():
            consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "unused",
                                 "enable.auto.commit": False})
            low, high = consumer.get_watermark_offsets(TopicPartition("ck-table", 0), timeout=10)
            consumer.assign([TopicPartition("ck-table", 0, 0)])
            records, last = [], -1
            deadline = time.time() + 20
            while last + 1 < high and time.time() < deadline:
                m = consumer.poll(0.5)
                if m is None or m.error():
                    continue
                assert m.offset() > last
                last = m.offset()
                records.append((m.key().decode(), m.value()))
            consumer.close()
            return records

        deadline = time.time() + 30
        while time.time() < deadline:
            time.sleep(0.5)
            producer.produce("ck-table", key="filler", value="x", partition=0)  # rolls the active segment
            producer.flush(10)
            records = [r for r in read_back() if r[0] != "filler"]
            latest = {}
            for key, value in records:
                latest.setdefault(key, []).append(value)
            if len(records) == 100 and all(len(v) == 1 for v in latest.values()):
                break
        assert len(records) == 100, f"{len(records)} records: not compacted"
        for key in range(100):
            assert latest[f"k{key}"] == [None if key < 10 else f"k{key}-v9".encode()]
    finally:
        broker.cleanup()


def test_delete_records_and_watermarks(broker):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    for f in admin.create_topics([NewTopic("ck-trim", 1, 1)]).values():
        f.result()
    producer = Producer({"bootstrap.servers": broker.bootstrap, "enable.idempotence": False})
    for i in range(50):
        producer.produce("ck-trim", value=b"x", partition=0)
    producer.flush(10)
    result = admin.delete_records([TopicPartition("ck-trim", 0, 20)])
    for f in result.values():
        assert f.result().low_watermark == 20
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "unused"})
    assert consumer.get_watermark_offsets(TopicPartition("ck-trim", 0), timeout=10) == (20, 50)
    consumer.close()


def test_idempotent_producer_outlives_its_records_being_deleted(broker):
    """Once every record a producer wrote is deleted the partition holds no state for it; its next batch (sequence
    10) is accepted as Kafka accepts it: only a producer never seen on a partition must start at sequence 0."""
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    for f in admin.create_topics([NewTopic("ck-forgotten", 1, 1)]).values():
        f.result()
    producer = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all", "enable.idempotence": True})
    errors = []

    def delivered(err, _):
        errors.append(err)

    for i in range(10):
        producer.produce("ck-forgotten", value=b"before%d" % i, partition=0, on_delivery=delivered)
    assert producer.flush(10) == 0
    for f in admin.delete_records([TopicPartition("ck-forgotten", 0, 10)]).values():
        assert f.result().low_watermark == 10
    for i in range(10):
        producer.produce("ck-forgotten", value=b"after%d" % i, partition=0, on_delivery=delivered)
    assert producer.flush(30) == 0
    assert errors == [None] * 20
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "unused", "enable.auto.commit": False})
    consumer.assign([TopicPartition("ck-forgotten", 0, 10)])
    values = []
    deadline = time.time() + 10
    while len(values) < 10 and time.time() < deadline:
        m = consumer.poll(0.5)
        if m is not None and not m.error():
            values.append(m.value())
    consumer.close()
    assert values == [b"after%d" % i for i in range(10)]
