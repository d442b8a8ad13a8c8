"""Security with the Python clients: confluent-kafka (a current librdkafka) and kafka-python (its own SCRAM) over
SASL_SSL with SCRAM-SHA-512, and confluent-kafka over mutual TLS; a wrong password and an untrusted certificate
are refused and write nothing."""
import os
import subprocess
import tempfile
import time
import uuid

import pytest
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from kafka import KafkaConsumer, KafkaProducer
from kafka import errors as kafka_errors

from conftest import Broker, free_port

PASSWORD = "py-secret-81c"
NEW_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True)


class Authority:
    """A throwaway certificate authority made with the openssl command."""

    def __init__(self, name):
        self.dir = tempfile.mkdtemp(prefix="fjord-py-ca-")
        self.ca = os.path.join(self.dir, "ca.pem")
        self.ca_key = os.path.join(self.dir, "ca.key")
        openssl("req", "-x509", *NEW_KEY, "-days", "2", "-subj", "/CN=" + name, "-keyout", self.ca_key,
                "-out", self.ca)

    def issue(self, common_name, extensions):
        base = os.path.join(self.dir, common_name)
        with open(base + ".ext", "w") as f:
            f.write(extensions)
        openssl("req", *NEW_KEY, "-subj", "/CN=" + common_name, "-keyout", base + ".key", "-out", base + ".csr")
        openssl("x509", "-req", "-days", "2", "-in", base + ".csr", "-CA", self.ca, "-CAkey", self.ca_key,
                "-CAcreateserial", "-extfile", base + ".ext", "-out", base + ".pem")
        return base + ".pem", base + ".key"


@pytest.fixture(scope="module")
def secured():
    authority = Authority("fjord-py-ca")
    certificate, key = authority.issue(
        "broker", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n")
    keystore = os.path.join(authority.dir, "keystore.pem")
    with open(keystore, "w") as out:
        out.write(open(key).read() + open(certificate).read())
    sasl_ssl_port, ssl_port = free_port(), free_port()
    broker = Broker()
    broker.extra_args = [
        "--set", f"listeners=PLAINTEXT://{broker.bootstrap},SASL_SSL://127.0.0.1:{sasl_ssl_port},"
                 f"SSL://127.0.0.1:{ssl_port}",
        "--set", "ssl.keystore.location=" + keystore,
        "--set", "ssl.truststore.location=" + authority.ca,
        "--set", "listener.name.ssl.ssl.client.auth=required",
    ]
    broker.start()
    subprocess.run([os.environ["FJORD_BINARY"], "user", "create", "carol", "--bootstrap-server", broker.bootstrap],
                   input=PASSWORD + "\n", text=True, check=True, capture_output=True)
    broker.sasl_ssl = f"127.0.0.1:{sasl_ssl_port}"
    broker.ssl = f"127.0.0.1:{ssl_port}"
    broker.authority = authority
    yield broker
    broker.cleanup()


def confluent_sasl(secured, password=PASSWORD, ca=None):
    return {"bootstrap.servers": secured.sasl_ssl, "security.protocol": "SASL_SSL",
            "sasl.mechanisms": "SCRAM-SHA-512", "sasl.username": "carol", "sasl.password": password,
            "ssl.ca.location": ca or secured.authority.ca}


def confluent_produce(config, topic, count):
    """Returns how many of `count` records were acknowledged."""
    acknowledged = []
    producer = Producer({**config, "message.timeout.ms": 6000, "acks": "all"})
    for i in range(count):
        producer.produce(topic, value=f"{topic}-{i}".encode(),
                         on_delivery=lambda err, msg: acknowledged.append(err is None))
    producer.flush(15)
    return sum(acknowledged)


def plaintext_count(secured, topic):
    consumer = Consumer({"bootstrap.servers": secured.bootstrap, "group.id": "count-" + uuid.uuid4().hex,
                         "enable.auto.commit": False})
    low, high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
    consumer.close()
    return high - low


def test_confluent_kafka_over_sasl_ssl_with_scram_sha_512(secured):
    topic = "py-sasl-" + uuid.uuid4().hex[:8]
    assert confluent_produce(confluent_sasl(secured), topic, 50) == 50
    consumer = Consumer({**confluent_sasl(secured), "group.id": "py-sasl", "auto.offset.reset": "earliest",
                         "enable.auto.commit": False})
    consumer.subscribe([topic])
    values = []
    deadline = time.time() + 30
    while len(values) < 50 and time.time() < deadline:
        message = consumer.poll(0.5)
        if message is not None and message.error() is None:
            values.append(message.value().decode())
    consumer.commit(asynchronous=False)
    consumer.close()
    assert values == [f"{topic}-{i}" for i in range(50)]


def test_confluent_kafka_refused_with_a_wrong_password_or_an_untrusted_authority(secured):
    topic = "py-refused-" + uuid.uuid4().hex[:8]
    assert confluent_produce(confluent_sasl(secured), topic, 1) == 1
    assert confluent_produce(confluent_sasl(secured, password="not-" + PASSWORD), topic, 3) == 0
    other = Authority("other-py-ca")
    assert confluent_produce(confluent_sasl(secured, ca=other.ca), topic, 3) == 0
    assert plaintext_count(secured, topic) == 1


def test_confluent_kafka_over_mutual_tls(secured):
    topic = "py-mtls-" + uuid.uuid4().hex[:8]
    certificate, key = secured.authority.issue("py-writer", "extendedKeyUsage=clientAuth\n")
    config = {"bootstrap.servers": secured.ssl, "security.protocol": "SSL", "ssl.ca.location": secured.authority.ca,
              "ssl.certificate.location": certificate, "ssl.key.location": key}
    assert confluent_produce(config, topic, 10) == 10
    without = {k: v for k, v in config.items() if k not in ("ssl.certificate.location", "ssl.key.location")}
    assert confluent_produce(without, topic, 3) == 0
    assert plaintext_count(secured, topic) == 10


def test_kafka_python_over_sasl_ssl_with_scram_sha_512(secured):
    topic = "py-kp-" + uuid.uuid4().hex[:8]
    settings = dict(bootstrap_servers=secured.sasl_ssl, security_protocol="SASL_SSL", sasl_mechanism="SCRAM-SHA-512",
                    sasl_plain_username="carol", sasl_plain_password=PASSWORD, ssl_cafile=secured.authority.ca)
    producer = KafkaProducer(acks="all", **settings)
    for i in range(20):
        producer.send(topic, f"kp-{i}".encode()).get(timeout=30)
    producer.close()
    consumer = KafkaConsumer(topic, group_id="py-kp", auto_offset_reset="earliest", consumer_timeout_ms=10000,
                             **settings)
    values = [m.value.decode() for _, m in zip(range(20), consumer)]
    consumer.close()
    assert values == [f"kp-{i}" for i in range(20)]

    wrong = dict(settings, sasl_plain_password="not-" + PASSWORD)
    with pytest.raises(kafka_errors.KafkaError):
        KafkaProducer(acks="all", request_timeout_ms=5000, max_block_ms=5000, **wrong).send(
            topic, b"never").get(timeout=10)
    assert plaintext_count(secured, topic) == 20
