"""kafka-python, a client not built on librdkafka, against Fjord: admin, every codec, headers, offsets."""
import time

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, NewPartitions, NewTopic
from kafka.errors import TopicAlreadyExistsError, UnknownTopicOrPartitionError

CODECS = ["gzip", "snappy", "lz4", "zstd", None]


def make_producer(broker, **settings):
    # kafka-python's own default since 3.0: idempotent (InitProducerId, then sequence numbers on every batch).
    return KafkaProducer(bootstrap_servers=broker.bootstrap, acks="all", enable_idempotence=True, **settings)


def test_admin_lifecycle(broker):
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    admin.create_topics([NewTopic("py-admin", 2, 1, topic_configs={"retention.ms": "7200000"})])
    assert "py-admin" in admin.list_topics()
    with pytest.raises(TopicAlreadyExistsError):
        admin.create_topics([NewTopic("py-admin", 2, 1)])
    configs = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, "py-admin")])
    assert str(configs).find("7200000") >= 0
    admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, "py-admin", configs={"retention.ms": "1000"})])
    configs = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, "py-admin")])
    assert str(configs).find("'1000'") >= 0
    admin.create_partitions({"py-admin": NewPartitions(4)})
    described = admin.describe_topics(["py-admin"])
    assert len(described[0]["partitions"]) == 4
    admin.delete_topics(["py-admin"])
    deadline = time.time() + 5
    while "py-admin" in admin.list_topics() and time.time() < deadline:
        time.sleep(0.05)
    assert "py-admin" not in admin.list_topics()
    admin.close()


@pytest.mark.parametrize("codec", CODECS)
def test_every_codec_round_trips(broker, codec):
    topic = f"py-{codec or 'none'}"
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    admin.create_topics([NewTopic(topic, 1, 1)])
    admin.close()
    producer = make_producer(broker, compression_type=codec, linger_ms=5)
    sent = []
    for i in range(2000):
        key = None if i % 7 == 0 else f"k{i}".encode()
        value = (f"value-{i}-" * (i % 50)).encode()
        headers = [("n", str(i).encode())] if i % 3 else []
        sent.append((key, value, headers))
        producer.send(topic, key=key, value=value, headers=headers, partition=0)
    producer.flush()
    producer.close()

    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, auto_offset_reset="earliest",
                             consumer_timeout_ms=10000, enable_auto_commit=False)
    tp = TopicPartition(topic, 0)
    consumer.assign([tp])
    consumer.seek_to_beginning(tp)
    got = []
    for message in consumer:
        got.append(message)
        if len(got) == len(sent):
            break
    consumer.close()
    assert len(got) == len(sent)
    for i, (message, (key, value, headers)) in enumerate(zip(got, sent)):
        assert message.offset == i
        assert message.key == key
        assert message.value == value
        assert list(message.headers) == headers


def test_offsets_for_times_and_watermarks(broker):
    topic = "py-times"
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    admin.create_topics([NewTopic(topic, 1, 1)])
    admin.close()
    producer = make_producer(broker)
    for i in range(10):
        producer.send(topic, value=b"early", partition=0, timestamp_ms=1_000_000 + i)
    for i in range(10):
        producer.send(topic, value=b"late", partition=0, timestamp_ms=2_000_000 + i)
    producer.flush()
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap)
    tp = TopicPartition(topic, 0)
    assert consumer.beginning_offsets([tp])[tp] == 0
    assert consumer.end_offsets([tp])[tp] == 20
    found = consumer.offsets_for_times({tp: 1_500_000})[tp]
    assert found.offset == 10 and found.timestamp == 2_000_000
    assert consumer.offsets_for_times({tp: 9_000_000_000_000})[tp] is None
    consumer.close()


def test_unknown_topic_is_reported(broker):
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    with pytest.raises(UnknownTopicOrPartitionError):
        admin.delete_topics(["never-created"])
    admin.close()


def test_idempotent_producer_outlives_its_records_being_deleted(broker):
    """With every record it wrote deleted the partition holds no state for the producer; its next batch (sequence 10)
    is accepted, as Kafka accepts it. (Refused UNKNOWN_PRODUCER_ID instead, kafka-python 3.0 takes it for retention,
    resets its sequence, yet resends the batch unchanged and is refused again until the delivery timeout.)"""
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    admin.create_topics([NewTopic("py-forgotten", 1, 1)])
    producer = make_producer(broker)
    for i in range(10):
        producer.send("py-forgotten", value=b"before%d" % i, partition=0)
    producer.flush(10)
    admin.delete_records({TopicPartition("py-forgotten", 0): 10})
    futures = [producer.send("py-forgotten", value=b"after%d" % i, partition=0) for i in range(10)]
    producer.flush(30)
    assert [f.get(timeout=1).offset for f in futures] == list(range(10, 20))
    producer.close()
    admin.close()
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, enable_auto_commit=False)
    consumer.assign([TopicPartition("py-forgotten", 0)])
    consumer.seek(TopicPartition("py-forgotten", 0), 10)
    values = []
    deadline = time.time() + 10
    while len(values) < 10 and time.time() < deadline:
        for records in consumer.poll(timeout_ms=500).values():
            values.extend(r.value for r in records)
    consumer.close()
    assert values == [b"after%d" % i for i in range(10)]
