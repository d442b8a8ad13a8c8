"""The console at / on the admin listener, rendered by a real browser (Debian's headless Chromium): the page's
scripts fetch the broker's JSON and build the DOM, which the test reads back (--dump-dom) and checks against
what it set up: the group with its status, each partition's lag, the lag-over-time chart with live values, and
the topics with their leader and ISR. A screenshot is kept in $FJORD_ARTIFACTS for people."""
import html.parser
import json
import os
import subprocess
import tempfile
import time
import urllib.request

import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka import TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from conftest import Broker

BROWSER = "chromium-headless-shell"


class Elements(html.parser.HTMLParser):
    """Every element's (tag, attributes) in document order, and the page's text."""

    def __init__(self, page):
        super().__init__()
        self.elements, self.text = [], []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def find(self, tag=None, **wanted):
        wanted = {k.replace("_", "-"): str(v) for k, v in wanted.items()}
        return [a for t, a in self.elements
                if (tag is None or t == tag) and all(a.get(k) == v for k, v in wanted.items())]


def render(url, screenshot=None):
    """The DOM after the page's scripts ran (virtual time lets its timers and fetches complete)."""
    common = [BROWSER, "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000", "--window-size=1280,900"]
    if screenshot:
        subprocess.run(common + [f"--screenshot={screenshot}", url], check=True, timeout=120,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    result = subprocess.run(common + ["--dump-dom", url], check=True, timeout=120,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    return Elements(result.stdout.decode())


def get_json(url):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


@pytest.fixture
def broker():
    b = Broker(["--set", "fjord.lag.window.ms=3000"])
    b.start()
    yield b
    b.stop()
    b.cleanup()


def test_the_console_shows_groups_partitions_lag_over_time_and_topics(broker):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    for f in admin.create_topics([NewTopic("invoices", 2, 1)]).values():
        f.result()
    producer = Producer({"bootstrap.servers": broker.bootstrap})
    written = int(time.time() * 1000) - 600_000
    for partition in (0, 1):
        for i in range(5):
            producer.produce("invoices", value=f"invoice-{partition}-{i}".encode(), partition=partition,
                             timestamp=written + i)
    assert producer.flush(10) == 0
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "accounting",
                         "enable.auto.commit": False})
    consumer.commit(offsets=[TopicPartition("invoices", 0, 2), TopicPartition("invoices", 1, 5)],
                    asynchronous=False)
    consumer.close()

    # Wait until the lag engine has a few samples of the group, so the chart has a line to draw.
    admin_url = f"http://127.0.0.1:{broker.admin_port}"
    deadline = time.time() + 30
    while len(get_json(admin_url + "/api/lag/history")["groups"].get("accounting", [])) < 3:
        assert time.time() < deadline, "no lag history for the group"
        time.sleep(0.2)

    artifacts = os.environ.get("FJORD_ARTIFACTS") or tempfile.mkdtemp(prefix="fjord-artifacts-")
    os.makedirs(artifacts, exist_ok=True)
    screenshot = os.path.join(artifacts, "console.png")
    page = render(admin_url + "/", screenshot)

    assert page.find("body", data_loaded="true"), "the page's scripts did not load the broker's data"
    groups = page.find("div", data_group="accounting")
    assert groups, "the group is not on the page"
    # Its status badge, the first on the page: ERR for ten minutes of lag, or STOP once records have waited a
    # window (3 s here) without a commit.
    badges = [a["data-status"] for a in page.find("span") if "data-status" in a]
    assert badges and badges[0] in ("ERR", "STOP"), badges
    # Each partition's row with its lag: 3 records behind on partition 0, caught up on 1.
    lagging = [a for a in page.find("tr", data_topic="invoices") if "data-lag" in a]
    assert {(a["data-partition"], a["data-lag"]) for a in lagging} == {("0", "3"), ("1", "0")}
    # The lag-over-time charts, drawn from several samples, ending at the live values.
    lines = page.find("polyline")
    assert len(lines) == 2, lines
    records = lines[0]
    assert int(records["data-points"]) >= 3 and float(records["data-last"]) == 3
    assert float(lines[1]["data-last"]) >= 590, "lag in seconds of records ten minutes old"
    # Topics: each partition with its leader (this broker) and ISR.
    topic_rows = [a for a in page.find("tr", data_topic="invoices") if "data-lag" not in a]
    assert sorted(a["data-partition"] for a in topic_rows) == ["0", "1"]
    text = "".join(page.text)
    assert "__consumer_offsets (internal)" in text and "all in sync" in text
    # The screenshot for people.
    assert os.path.getsize(screenshot) > 10_000
