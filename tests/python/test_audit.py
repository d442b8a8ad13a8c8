"""The checklist audit with the Python clients: kafka-python with its defaults (range and roundrobin, no
group.instance.id; a producer with acks=1) is named by the right rules and by the software it reports;
confluent-kafka configured as the checklist asks (acks=all with idempotence, cooperative-sticky, a static
group.instance.id) produces no finding. Read back from the broker's /api/audit."""
import json
import time
import urllib.request

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic
from kafka import KafkaConsumer, KafkaProducer


def audit(broker):
    with urllib.request.urlopen(f"http://127.0.0.1:{broker.admin_port}/api/audit", timeout=5) as response:
        return json.load(response)


def rules_for(report, client_id):
    return sorted(f["rule"] for f in report["findings"]
                  if f["subject_kind"] == "client" and f["subject"].startswith(f"client.id={client_id} "))


def consume_one(consumer):
    deadline = time.time() + 30
    while time.time() < deadline:
        if consumer.poll(timeout_ms=200) if isinstance(consumer, KafkaConsumer) else consumer.poll(0.2):
            return
    raise AssertionError("nothing consumed")


def test_kafka_python_defaults_are_named_and_a_checklist_confluent_client_is_not(broker):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    for f in admin.create_topics([NewTopic("audited", 1, 1)]).values():
        f.result()

    legacy = KafkaProducer(bootstrap_servers=broker.bootstrap, client_id="py-legacy-producer", acks=1)
    legacy.send("audited", b"x").get(timeout=10)
    legacy.close()
    safe = Producer({"bootstrap.servers": broker.bootstrap, "client.id": "py-safe-producer", "acks": "all",
                     "enable.idempotence": True})
    safe.produce("audited", b"y")
    assert safe.flush(10) == 0

    eager = KafkaConsumer("audited", bootstrap_servers=broker.bootstrap, group_id="py-eager",
                          client_id="py-eager-consumer", auto_offset_reset="earliest", enable_auto_commit=False)
    consume_one(eager)
    eager.close()
    static = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "py-static",
                       "client.id": "py-safe-consumer", "group.instance.id": "py-safe-1",
                       "partition.assignment.strategy": "cooperative-sticky", "enable.auto.commit": False,
                       "auto.offset.reset": "earliest"})
    static.subscribe(["audited"])
    consume_one(static)
    static.close()

    deadline = time.time() + 15
    report = audit(broker)
    while time.time() < deadline and len(rules_for(report, "py-eager-consumer")) < 2:
        time.sleep(0.5)
        report = audit(broker)
    assert rules_for(report, "py-legacy-producer") == ["producer-acks-all", "producer-idempotence"], report
    assert rules_for(report, "py-eager-consumer") == ["consumer-cooperative", "consumer-static-membership"], report
    assert rules_for(report, "py-safe-producer") == [], report
    assert rules_for(report, "py-safe-consumer") == [], report
    # Named by the software each reported in ApiVersions.
    software = {c["client_id"]: c["software_name"] for c in report["clients"]}
    assert software["py-eager-consumer"] == "kafka-python", software
    assert software["py-safe-consumer"] == "confluent-kafka-python", software
