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
