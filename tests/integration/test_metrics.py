"""The metrics endpoint (sluice.metrics.listener, GET /metrics in Prometheus' text format):
real clients produce and consume, a real HTTP client (urllib) scrapes, and the counters move by
what the clients did. Old clients (kafka-python forced to message format v1 and Fetch v2) move
the conversion counters by the number of records converted; a current client does not."""

import re
import socket
import time
import urllib.error
import urllib.request

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from kafka import KafkaConsumer, KafkaProducer
from kafka import TopicPartition as KTopicPartition

import kwire

CLIENT_DEADLINE_S = 60
HTTP_DEADLINE_S = 10
N = 200
METRICS_LINE = r"metrics listening on (http://\S+/metrics)"
SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\d+)$")
BYTES_IN = "kafka_server_brokertopicmetrics_bytes_in_total"
BYTES_OUT = "kafka_server_brokertopicmetrics_bytes_out_total"
MESSAGES_IN = "kafka_server_brokertopicmetrics_messages_in_total"
PRODUCE_CONVERSIONS = "kafka_server_brokertopicmetrics_produce_message_conversions_total"
FETCH_CONVERSIONS = "kafka_server_brokertopicmetrics_fetch_message_conversions_total"
REQUESTS = "kafka_network_requestmetrics_requests_total"


@pytest.fixture
def broker(sluice):
    b = sluice.start(overrides={"auto.create.topics.enable": "false"})
    yield b
    assert not b.problems_since(0), b.log()


def metrics_url(broker) -> str:
    return broker.process.wait_for_log(METRICS_LINE)[1]


def get(url, method="GET"):
    """(status, content type, body) of one HTTP request."""
    req = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(req, timeout=HTTP_DEADLINE_S) as r:
            return r.status, r.headers.get("Content-Type"), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read().decode()


def scrape(broker) -> dict:
    """{(name, labels text): value} of one scrape, after checking the format's shape."""
    status, content_type, body = get(metrics_url(broker))
    assert status == 200
    assert content_type == "text/plain; version=0.0.4; charset=utf-8"
    assert body.endswith("\n")
    samples = {}
    typed = {}
    for line in body.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            typed[name] = kind
            if kind == "counter":
                assert name.endswith("_total"), line
            continue
        if line.startswith("# HELP "):
            continue
        m = SAMPLE.match(line)
        assert m, f"not a sample line: {line!r}"
        assert m[1] in typed, f"sample before its # TYPE: {line!r}"
        samples[(m[1], m[2] or "")] = int(m[3])
    return samples


def requests_of(samples, api) -> dict:
    """{version: count} of the requests counted for one API."""
    out = {}
    for (name, labels), value in samples.items():
        m = re.fullmatch(r'\{request="(\w+)",version="(\d+)"\}', labels)
        if name == REQUESTS and m and m[1] == api:
            out[int(m[2])] = value
    return out


def delta(before, after, name):
    return after.get((name, ""), 0) - before.get((name, ""), 0)


def create_topic(broker, name):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic(name, 1, 1)])[name].result(timeout=CLIENT_DEADLINE_S)


def test_current_clients_move_bytes_messages_and_requests_but_not_conversions(broker):
    create_topic(broker, "m")
    before = scrape(broker)
    assert before[("kafka_controller_kafkacontroller_global_topic_count", "")] == 1
    assert before[("kafka_controller_kafkacontroller_global_partition_count", "")] == 1

    p = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 5})
    payload_bytes = 0
    for i in range(N):
        key, value = b"k%d" % i, b"value-%d" % i * 3
        payload_bytes += len(key) + len(value)
        p.produce("m", key=key, value=value, partition=0)
    assert p.flush(CLIENT_DEADLINE_S) == 0
    after_produce = scrape(broker)
    assert delta(before, after_produce, MESSAGES_IN) == N
    assert delta(before, after_produce, BYTES_IN) >= payload_bytes
    produces = requests_of(after_produce, "Produce")
    assert sum(produces.values()) - sum(requests_of(before, "Produce").values()) >= 1
    assert all(v >= 3 for v in produces), produces  # librdkafka uses current versions

    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "unused",
                  "enable.auto.commit": False})
    c.assign([TopicPartition("m", 0, 0)])
    got = []
    deadline = time.monotonic() + CLIENT_DEADLINE_S
    while len(got) < N and time.monotonic() < deadline:
        msg = c.poll(1.0)
        if msg is not None:
            assert msg.error() is None, msg.error()
            got.append(msg)
    # Scraped while the consumer is still connected: the gauge counts its connections.
    after = scrape(broker)
    c.close()
    assert len(got) == N
    assert delta(before, after, BYTES_OUT) >= payload_bytes
    assert delta(before, after, MESSAGES_IN) == N
    assert sum(requests_of(after, "Fetch").values()) >= 1
    assert sum(requests_of(after, "ApiVersions").values()) >= 2  # producer, consumer
    assert after[("kafka_server_socketservermetrics_connection_count", "")] >= 1
    # A current client needs no conversion.
    assert delta(before, after, PRODUCE_CONVERSIONS) == 0
    assert delta(before, after, FETCH_CONVERSIONS) == 0


def test_requests_are_counted_by_api_and_version(broker):
    before = requests_of(scrape(broker), "Metadata")
    with kwire.connect(broker.host, broker.port) as s:
        for i in range(3):
            kwire.call(s, 3, 1, kwire.metadata_request(1, i, []))
    after = requests_of(scrape(broker), "Metadata")
    assert after.get(1, 0) - before.get(1, 0) == 3
    assert {v: n for v, n in after.items() if v != 1} == \
        {v: n for v, n in before.items() if v != 1}


@pytest.mark.parametrize("consumer_api_version,fetch_version", [((0, 10), 2), ((0, 10, 1), 3)])
def test_old_client_conversions_count_converted_records(broker, consumer_api_version,
                                                        fetch_version):
    """kafka-python at api_version (0, 10) produces message format v1 (Produce v2) and, at
    (0, 10) or (0, 10, 1), reads through Fetch v2 or v3: every record is converted up once and
    down once."""
    create_topic(broker, "old")
    before = scrape(broker)
    p = KafkaProducer(bootstrap_servers=broker.bootstrap, api_version=(0, 10), linger_ms=5)
    futures = [p.send("old", key=b"k%d" % i, value=b"v%d" % i, partition=0) for i in range(N)]
    assert [f.get(timeout=CLIENT_DEADLINE_S).offset for f in futures] == list(range(N))
    p.close()
    after_produce = scrape(broker)
    assert delta(before, after_produce, PRODUCE_CONVERSIONS) == N
    assert delta(before, after_produce, MESSAGES_IN) == N
    assert set(requests_of(after_produce, "Produce")) == {2}
    assert delta(before, after_produce, FETCH_CONVERSIONS) == 0

    c = KafkaConsumer(bootstrap_servers=broker.bootstrap, api_version=consumer_api_version,
                      group_id=None, enable_auto_commit=False, consumer_timeout_ms=10000)
    tp = KTopicPartition("old", 0)
    c.assign([tp])
    c.seek(tp, 0)
    got = []
    deadline = time.monotonic() + CLIENT_DEADLINE_S
    while len(got) < N and time.monotonic() < deadline:
        for records in c.poll(timeout_ms=1000).values():
            got.extend(records)
    c.close()
    assert [r.value for r in got] == [b"v%d" % i for i in range(N)]
    after = scrape(broker)
    assert set(requests_of(after, "Fetch")) == {fetch_version}
    assert delta(after_produce, after, FETCH_CONVERSIONS) == N
    assert delta(after_produce, after, PRODUCE_CONVERSIONS) == 0


def test_group_count_follows_committed_groups(broker):
    groups = "kafka_coordinator_group_groupmetadatamanager_num_groups"
    assert scrape(broker)[(groups, "")] == 0
    create_topic(broker, "g")
    for group in ("first", "second"):
        c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group,
                      "enable.auto.commit": False})
        c.commit(offsets=[TopicPartition("g", 0, 0)], asynchronous=False)
        c.close()
    assert scrape(broker)[(groups, "")] == 2


def test_other_paths_are_404_and_other_methods_405(broker):
    url = metrics_url(broker)
    base = url[:-len("/metrics")]
    assert get(base + "/")[0] == 404
    assert get(base + "/metrics/x")[0] == 404
    assert get(url, method="POST")[0] == 405
    assert get(url, method="DELETE")[0] == 405
    assert get(url, method="HEAD")[0] == 200


def test_empty_setting_disables_the_endpoint(sluice):
    b = sluice.start(overrides={"sluice.metrics.listener": ""})
    assert "metrics listening" not in b.log()


@pytest.mark.parametrize("value", ["nonsense", "127.0.0.1:99999", "127.0.0.1", "::1:80"])
def test_bad_listener_value_refuses_to_start(sluice, value):
    code, log = sluice.start_expecting_failure(overrides={"sluice.metrics.listener": value})
    assert code != 0
    assert f"sluice.metrics.listener '{value}'" in log, log
    assert "expected host:port" in log, log


def test_address_in_use_refuses_to_start(sluice):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        code, log = sluice.start_expecting_failure(
            overrides={"sluice.metrics.listener": f"127.0.0.1:{port}"})
    assert code != 0
    assert f"cannot bind the metrics listener (sluice.metrics.listener) to 127.0.0.1:{port}: " \
           "Address already in use" in log, log
