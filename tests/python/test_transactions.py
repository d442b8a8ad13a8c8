"""Transactions from Python: confluent-kafka (a current librdkafka, KIP-447 group metadata in TxnOffsetCommit v3)
and kafka-python (its own protocol code): commit and abort seen through read_committed, and a
consume-transform-produce step whose offsets commit only with its output."""
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from kafka import KafkaConsumer, KafkaProducer
from kafka import TopicPartition as KpTopicPartition
from kafka.consumer.fetcher import ConsumerRecord  # noqa: F401  (imported to fail early on an old kafka-python)
from kafka.structs import OffsetAndMetadata


def create(broker, name, partitions=1):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    for f in admin.create_topics([NewTopic(name, partitions, 1)]).values():
        f.result()


def read(broker, topic, isolation, partitions=1, expected=None, seconds=8):
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "reader-" + isolation,
                         "isolation.level": isolation, "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    values = []
    deadline = time.time() + seconds
    while time.time() < deadline and (expected is None or len(values) < expected):
        m = consumer.poll(0.2)
        if m is not None and not m.error():
            values.append(m.value().decode())
    consumer.close()
    return sorted(values)


def test_confluent_kafka_commit_abort_and_offsets_in_a_transaction(broker):
    create(broker, "ck-txn-in", 2)
    create(broker, "ck-txn-out", 2)
    seed = Producer({"bootstrap.servers": broker.bootstrap})
    for i in range(20):
        seed.produce("ck-txn-in", value=f"in-{i}", partition=i % 2)
    assert seed.flush(30) == 0

    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "ck-txn-job",
                         "isolation.level": "read_committed", "enable.auto.commit": False,
                         "auto.offset.reset": "earliest"})
    consumer.subscribe(["ck-txn-in"])
    producer = Producer({"bootstrap.servers": broker.bootstrap, "transactional.id": "ck-txn-job"})
    producer.init_transactions(30)

    def step(messages, commit):
        producer.begin_transaction()
        for m in messages:
            producer.produce("ck-txn-out", value="out-" + m.value().decode(), partition=m.partition())
        positions = {}
        for m in messages:
            positions[(m.topic(), m.partition())] = m.offset() + 1
        producer.send_offsets_to_transaction(
            [TopicPartition(t, p, o) for (t, p), o in positions.items()], consumer.consumer_group_metadata(), 30)
        if commit:
            producer.commit_transaction(30)
        else:
            producer.flush(30)  # in the log, then aborted (an abort drops what was not sent yet)
            producer.abort_transaction(30)

    batch = []
    deadline = time.time() + 20
    while len(batch) < 10 and time.time() < deadline:
        m = consumer.poll(0.5)
        if m is not None and not m.error():
            batch.append(m)
    assert len(batch) == 10
    step(batch, commit=True)
    committed = {tp.partition: tp.offset for tp in consumer.committed(
        [TopicPartition("ck-txn-in", 0), TopicPartition("ck-txn-in", 1)], timeout=10)}
    # Each partition's position after what the batch read from it (-1001: nothing committed there yet).
    assert sum(max(o, 0) for o in committed.values()) == 10, committed

    rest = []
    deadline = time.time() + 20
    while len(rest) < 10 and time.time() < deadline:
        m = consumer.poll(0.5)
        if m is not None and not m.error():
            rest.append(m)
    assert len(rest) == 10
    step(rest, commit=False)
    after_abort = {tp.partition: tp.offset for tp in consumer.committed(
        [TopicPartition("ck-txn-in", 0), TopicPartition("ck-txn-in", 1)], timeout=10)}
    assert after_abort == committed, "an aborted transaction's offsets were committed"
    consumer.close()

    out = read(broker, "ck-txn-out", "read_committed", 2, expected=10)
    assert out == sorted("out-" + m.value().decode() for m in batch)
    assert len(read(broker, "ck-txn-out", "read_uncommitted", 2, expected=20)) == 20


def test_confluent_kafka_fenced_producer_is_fatal(broker):
    create(broker, "ck-txn-fenced")
    first = Producer({"bootstrap.servers": broker.bootstrap, "transactional.id": "ck-fenced"})
    first.init_transactions(30)
    first.begin_transaction()
    first.produce("ck-txn-fenced", value="first")
    first.flush(30)
    second = Producer({"bootstrap.servers": broker.bootstrap, "transactional.id": "ck-fenced"})
    second.init_transactions(30)
    try:
        first.commit_transaction(10)
        raise AssertionError("a fenced producer committed")
    except KafkaException as e:
        assert e.args[0].fatal(), e
    second.begin_transaction()
    second.produce("ck-txn-fenced", value="second")
    second.commit_transaction(30)
    assert read(broker, "ck-txn-fenced", "read_committed", expected=1) == ["second"]


def test_kafka_python_transactions(broker):
    create(broker, "kp-txn-in")
    create(broker, "kp-txn-out")
    seed = KafkaProducer(bootstrap_servers=broker.bootstrap)
    for i in range(6):
        seed.send("kp-txn-in", value=f"in-{i}".encode(), partition=0)
    seed.flush()
    seed.close()

    producer = KafkaProducer(bootstrap_servers=broker.bootstrap, transactional_id="kp-txn")
    producer.init_transactions()
    producer.begin_transaction()
    producer.send("kp-txn-out", value=b"committed-1", partition=0)
    producer.send("kp-txn-out", value=b"committed-2", partition=0)
    producer.send_offsets_to_transaction({KpTopicPartition("kp-txn-in", 0): OffsetAndMetadata(3, "", -1)},
                                         "kp-txn-group")
    producer.commit_transaction()
    producer.begin_transaction()
    producer.send("kp-txn-out", value=b"aborted", partition=0)
    producer.flush()
    producer.abort_transaction()
    producer.close()

    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, isolation_level="read_committed",
                             enable_auto_commit=False)
    consumer.assign([KpTopicPartition("kp-txn-out", 0)])
    consumer.seek_to_beginning()
    values = []
    deadline = time.time() + 8
    while time.time() < deadline:
        for records in consumer.poll(timeout_ms=200).values():
            values.extend(r.value.decode() for r in records)
    consumer.close()
    assert sorted(values) == ["committed-1", "committed-2"]

    group = KafkaConsumer(bootstrap_servers=broker.bootstrap, group_id="kp-txn-group", enable_auto_commit=False)
    assert group.committed(KpTopicPartition("kp-txn-in", 0)) == 3
    group.close()
