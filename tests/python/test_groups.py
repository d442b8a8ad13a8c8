"""Consumer groups with both Python clients: kafka-python (its own protocol code, older group API versions) and
confluent-kafka (a current librdkafka). Each subscribes, consumes everything, commits, and a second consumer of
the same group resumes exactly where the first left off."""
import time

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from kafka import KafkaConsumer, KafkaProducer
from kafka import TopicPartition as KTopicPartition


def create(broker, topic, partitions):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    for f in admin.create_topics([NewTopic(topic, partitions, 1)]).values():
        f.result()


def test_confluent_kafka_group_commits_and_resumes(broker):
    create(broker, "ck-group", 3)
    producer = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all"})
    for i in range(300):
        producer.produce("ck-group", value=str(i).encode(), partition=i % 3)
    assert producer.flush(10) == 0

    def consumer():
        return Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "ck-readers",
                         "enable.auto.commit": False, "auto.offset.reset": "earliest",
                         "partition.assignment.strategy": "cooperative-sticky"})

    first = consumer()
    first.subscribe(["ck-group"])
    seen = []
    deadline = time.time() + 30
    while len(seen) < 200 and time.time() < deadline:
        m = first.poll(0.2)
        if m is None or m.error():
            continue
        seen.append(int(m.value()))
        first.commit(message=m, asynchronous=False)
    first.close()
    assert len(seen) == 200
    committed = {tp.partition: tp.offset for tp in consumer().committed(
        [TopicPartition("ck-group", p) for p in range(3)], timeout=10)}
    # Partitions the first consumer never read from have no commit (a negative offset).
    assert sum(max(offset, 0) for offset in committed.values()) == 200

    second = consumer()
    second.subscribe(["ck-group"])
    rest = []
    deadline = time.time() + 30
    while len(rest) < 100 and time.time() < deadline:
        m = second.poll(0.2)
        if m is None or m.error():
            continue
        rest.append(int(m.value()))
    second.close()
    assert sorted(seen + rest) == list(range(300)), "a record was lost or delivered twice across the hand-over"


def test_kafka_python_group_commits_and_resumes(broker):
    create(broker, "kp-group", 2)
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
    for i in range(100):
        producer.send("kp-group", value=str(i).encode(), partition=i % 2)
    producer.flush()
    producer.close()

    def consumer():
        return KafkaConsumer("kp-group", bootstrap_servers=broker.bootstrap, group_id="kp-readers",
                             enable_auto_commit=False, auto_offset_reset="earliest", consumer_timeout_ms=5000)

    first = consumer()
    seen = []
    for m in first:
        seen.append(int(m.value))
        if len(seen) == 60:
            break
    first.commit()
    first.close()
    assert len(seen) == 60

    second = consumer()
    rest = [int(m.value) for m in second]
    committed = [second.committed(KTopicPartition("kp-group", p)) for p in range(2)]
    second.close()
    assert sorted(seen + rest) == list(range(100))
    assert sum(c for c in committed if c is not None) == 60, "the first consumer's commit is what the group holds"
