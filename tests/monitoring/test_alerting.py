"""The shipped monitoring, end to end: a real Prometheus (Debian's) scrapes a Fjord broker and evaluates
deploy/prometheus/fjord-lag.rules.yml unmodified (only the scrape and evaluation intervals shortened); a real
Alertmanager routes with deploy/alertmanager/alertmanager.yml (its webhook pointed at a receiver in this test, its
wait times shortened). A group whose consumer stopped with records waiting fires the stalled and SLO alerts, the
critical one reaches the on-call receiver, and both resolve once the group catches up. Every query of the Grafana
dashboard (deploy/grafana) is run against the same Prometheus and must return the group's series."""
import http.server
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.parse
import urllib.request

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from conftest import Broker, free_port

DEPLOY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "deploy")


class WebhookReceiver:
    """Collects what Alertmanager posts, by path (/on-call, /team)."""

    def __init__(self):
        self.notifications = []
        received = self.notifications

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((self.path, json.loads(body)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def alerts(self, path):
        """(alertname, status, labels) of every alert posted to `path`."""
        return [(a["labels"]["alertname"], a["status"], a["labels"])
                for p, n in list(self.notifications) if p == path for a in n["alerts"]]

    def stop(self):
        self.server.shutdown()


def get_json(url):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def wait_for(predicate, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if predicate():
                return
        except OSError:
            pass  # not listening yet
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def substitute(text, replacements):
    for old, new in replacements:
        assert old in text, f"{old!r} is no longer in the shipped file"
        text = text.replace(old, new)
    return text


@pytest.fixture
def stack():
    workdir = tempfile.mkdtemp(prefix="fjord-monitoring-")
    broker = Broker(["--set", "fjord.lag.window.ms=3000", "--set", "fjord.metrics.cluster.name=test-cluster"])
    broker.start()
    receiver = WebhookReceiver()
    alertmanager_port, prometheus_port = free_port(), free_port()
    processes = []
    try:
        shutil.copy(os.path.join(DEPLOY, "prometheus", "fjord-lag.rules.yml"), workdir)
        with open(os.path.join(DEPLOY, "prometheus", "prometheus.yml")) as f:
            prometheus_config = substitute(f.read(), [
                ("scrape_interval: 15s", "scrape_interval: 1s"),
                ("evaluation_interval: 15s", "evaluation_interval: 1s"),
                ('"127.0.0.1:9093"', f'"127.0.0.1:{alertmanager_port}"'),
                ('"127.0.0.1:9644"', f'"127.0.0.1:{broker.admin_port}"')])
        with open(os.path.join(workdir, "prometheus.yml"), "w") as f:
            f.write(prometheus_config)
        with open(os.path.join(DEPLOY, "alertmanager", "alertmanager.yml")) as f:
            alertmanager_config = substitute(f.read(), [
                ("http://127.0.0.1:9095", f"http://127.0.0.1:{receiver.port}"),
                ("group_wait: 30s", "group_wait: 1s"),
                ("group_wait: 10s", "group_wait: 1s"),
                ("group_interval: 5m", "group_interval: 1s")])
        with open(os.path.join(workdir, "alertmanager.yml"), "w") as f:
            f.write(alertmanager_config)
        log = open(os.path.join(workdir, "services.log"), "ab")
        processes.append(subprocess.Popen(
            ["prometheus-alertmanager", f"--config.file={workdir}/alertmanager.yml",
             f"--storage.path={workdir}/alertmanager", f"--web.listen-address=127.0.0.1:{alertmanager_port}",
             "--cluster.listen-address="], stdout=log, stderr=subprocess.STDOUT))
        processes.append(subprocess.Popen(
            ["prometheus", f"--config.file={workdir}/prometheus.yml", f"--storage.tsdb.path={workdir}/prometheus",
             f"--web.listen-address=127.0.0.1:{prometheus_port}"], stdout=log, stderr=subprocess.STDOUT))
        for port in (alertmanager_port, prometheus_port):
            wait_for(lambda: urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=2).status == 200,
                     30, f"port {port} to be ready")
        yield {"broker": broker, "receiver": receiver, "prometheus": f"http://127.0.0.1:{prometheus_port}",
               "workdir": workdir}
    finally:
        for p in processes:
            p.terminate()
            p.wait(timeout=30)
        receiver.stop()
        broker.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)


def firing(prometheus, group):
    """(alertname, labels) of the alerts Prometheus has firing for `group`."""
    alerts = get_json(prometheus + "/api/v1/alerts")["data"]["alerts"]
    return [(a["labels"]["alertname"], a["labels"]) for a in alerts
            if a["state"] == "firing" and a["labels"].get("group") == group]


def query(prometheus, expr):
    return get_json(prometheus + "/api/v1/query?" + urllib.parse.urlencode({"query": expr}))


def test_a_stopped_group_pages_on_call_and_resolves_when_it_catches_up(stack):
    broker, receiver, prometheus = stack["broker"], stack["receiver"], stack["prometheus"]
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    for f in admin.create_topics([NewTopic("payments", 1, 1)]).values():
        f.result()
    producer = Producer({"bootstrap.servers": broker.bootstrap})
    written = int(time.time() * 1000) - 600_000  # ten minutes ago: past the warning and the 5-minute SLO
    for i in range(10):
        producer.produce("payments", value=f"payment-{i}".encode(), partition=0, timestamp=written + i)
    assert producer.flush(10) == 0
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "settlement",
                         "enable.auto.commit": False})
    consumer.commit(offsets=[TopicPartition("payments", 0, 4)], asynchronous=False)

    # Records wait and nothing is committed for a window: the broker says STOP and the rules fire.
    wait_for(lambda: {"FjordConsumerGroupStalled", "FjordConsumerLagCritical"}
             <= {name for name, _ in firing(prometheus, "settlement")}, 60, "the stalled and SLO alerts")
    labels = dict(firing(prometheus, "settlement"))["FjordConsumerGroupStalled"]
    assert labels["status"] == "STOP" and labels["severity"] == "critical"
    assert labels["cluster_name"] == "test-cluster"

    # The critical alert reaches the on-call receiver through Alertmanager's routing.
    wait_for(lambda: any(name == "FjordConsumerGroupStalled" and status == "firing"
                         and labels["group"] == "settlement" for name, status, labels in receiver.alerts("/on-call")),
             60, "the on-call webhook to receive the stalled alert")
    assert not any(name == "FjordConsumerGroupStalled" for name, _, _ in receiver.alerts("/team"))

    # The dashboard's queries, as Grafana would send them with every group selected, return the group.
    with open(os.path.join(DEPLOY, "grafana", "fjord-consumer-lag.json")) as f:
        dashboard = json.load(f)
    variable = next(v for v in dashboard["templating"]["list"] if v["name"] == "group")
    assert variable["query"]["query"] == "label_values(kafka_consumergroup_group_max_lag, group)"
    values = get_json(prometheus + "/api/v1/label/group/values?"
                      + urllib.parse.urlencode({"match[]": "kafka_consumergroup_group_max_lag"}))["data"]
    assert "settlement" in values
    checked = 0
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            expr = target["expr"].replace("$group", ".*")
            answer = query(prometheus, expr)
            assert answer["status"] == "success", (panel["title"], answer)
            assert answer["data"]["result"], f"panel {panel['title']!r}: {expr} returned nothing"
            checked += 1
    assert checked == len(dashboard["panels"])

    # Caught up: the alerts resolve, in Prometheus and at the receiver.
    consumer.commit(offsets=[TopicPartition("payments", 0, 10)], asynchronous=False)
    consumer.close()
    wait_for(lambda: not firing(prometheus, "settlement"), 60, "the alerts to resolve")
    wait_for(lambda: any(name == "FjordConsumerGroupStalled" and status == "resolved"
                         for name, status, _ in receiver.alerts("/on-call")),
             60, "the on-call webhook to receive the resolution")
    assert query(prometheus, 'fjord_consumergroup_status{group="settlement",status="OK"}')["data"]["result"]
