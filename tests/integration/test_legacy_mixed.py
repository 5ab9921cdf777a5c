"""Old and new clients on the same topics. Records that old producers write in message formats
v0 and v1 (kafka-python forced to 0.9: Produce v1 with v0 messages; forced to 0.10: Produce v2
with v1 messages; sarama at its default Version 0.8.2: Produce v0 with v0 messages), plain and
compressed, are read by KafkaJS and librdkafka from the v2 batches Sluice converted them to.
Records that KafkaJS writes (v2 batches with headers, gzip) are read by old consumers (Fetch
v0-v3), converted down.

Timestamps follow Kafka 3.x: a v0 message has none, so under CreateTime the converted record
carries NO_TIMESTAMP (-1); under LogAppendTime the broker's append time replaces whatever the
producer sent. Headers do not exist before format v2 and are dropped on the way down.
"""

import time

import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from kafka import KafkaConsumer, KafkaProducer
from kafka import TopicPartition as KTP

import clients
from kafka_python_requests import sent, versions_of  # noqa: F401 (a fixture)

DEADLINE_S = 60
N = 120
CREATE_TIME, LOG_APPEND_TIME = 1, 2  # librdkafka's timestamp types


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    from conftest import SluiceLauncher
    launcher = SluiceLauncher(tmp_path_factory.mktemp("legacy-mixed"))
    try:
        yield launcher.start(overrides={"auto.create.topics.enable": "false"})
    finally:
        launcher.finish()


def create_topic(broker, name, configs=None):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic(name, 1, 1, config=configs or {})])[name].result(
        timeout=DEADLINE_S)


def records(base_ms):
    """Keyed and unkeyed records, one with an empty value, timestamps an hour in the past."""
    return [{"p": 0, "k": None if i % 10 == 3 else b"key-%d" % i,
             "v": b"" if i == 7 else b"value-%d-" % i + b"x" * (i % 50), "h": [],
             "ts": base_ms + i} for i in range(N)]


def produce_kafka_python(broker, topic, api_version, codec, recs):
    p = KafkaProducer(bootstrap_servers=broker.bootstrap, api_version=api_version,
                      compression_type=None if codec == "none" else codec, linger_ms=20)
    futures = [p.send(topic, key=r["k"], value=r["v"], partition=0, timestamp_ms=r["ts"])
               for r in recs]
    offsets = [f.get(timeout=DEADLINE_S).offset for f in futures]
    p.close()
    assert offsets == list(range(len(recs)))


def produce_sarama(broker, topic, version, codec, recs):
    code, out, err = clients.run([str(clients.sarama_binary()), "produce", "-brokers",
                                  broker.bootstrap, "-topic", topic, "-codec", codec,
                                  "-version", version], stdin=clients.to_json_lines(recs))
    assert code == 0, f"sarama {version} produce failed: {err}"
    assert len(out.splitlines()) == len(recs)


def read_librdkafka(broker, topic):
    """(offset, key, value, headers, (timestamp type, timestamp)) of every record."""
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "unused",
                  "enable.auto.commit": False})
    c.assign([TopicPartition(topic, 0, 0)])
    out = []
    deadline = time.monotonic() + DEADLINE_S
    while len(out) < N and time.monotonic() < deadline:
        for m in c.consume(500, 0.5):
            assert m.error() is None, m.error()
            out.append((m.offset(), m.key(), m.value(), m.headers() or [], m.timestamp()))
    c.close()
    return out


# (producer, codec). kafka-python at 0.9 frames lz4 with the header checksum of Kafka 0.8/0.9
# (KAFKA-3160), which Kafka reads in format 0 without checking; sarama refuses lz4 below 0.10
# itself (a configuration error before anything is sent).
OLD_PRODUCERS = (
    [("kafka-python-0.9", c) for c in ("none", "gzip", "snappy", "lz4")]
    + [("kafka-python-0.10", c) for c in ("none", "gzip", "snappy", "lz4")]
    + [("sarama-default", c) for c in ("none", "gzip", "snappy")])


def produce_old(broker, topic, producer, codec, recs):
    if producer == "kafka-python-0.9":
        produce_kafka_python(broker, topic, (0, 9), codec, recs)
    elif producer == "kafka-python-0.10":
        produce_kafka_python(broker, topic, (0, 10), codec, recs)
    else:
        produce_sarama(broker, topic, "default", codec, recs)


@pytest.mark.parametrize("producer,codec", OLD_PRODUCERS)
def test_old_producer_read_by_kafkajs_and_librdkafka(broker, sent, producer, codec):
    topic = f"mixed-{producer}-{codec}".replace(".", "_")
    create_topic(broker, topic)
    recs = records(int(time.time() * 1000) - 3_600_000)
    produce_old(broker, topic, producer, codec, recs)
    if producer.startswith("kafka-python"):
        assert versions_of(sent, "ProduceRequest") == [1 if producer.endswith("0.9") else 2]
    # Format v1 carries the producer's timestamps; format v0 none (NO_TIMESTAMP).
    want_ts = [r["ts"] for r in recs] if producer == "kafka-python-0.10" else [-1] * N

    js = clients.consume("kafkajs", broker, topic, 1, N)
    assert [r["o"] for r in js] == list(range(N))
    assert [r["k"] for r in js] == [r["k"] for r in recs]
    assert [r["v"] for r in js] == [r["v"] for r in recs]
    assert [r["h"] for r in js] == [[]] * N
    assert [r["ts"] for r in js] == want_ts

    rd = read_librdkafka(broker, topic)
    assert [m[0] for m in rd] == list(range(N))
    assert [m[1] for m in rd] == [r["k"] for r in recs]
    assert [m[2] for m in rd] == [r["v"] for r in recs]
    assert [m[4] for m in rd] == [(CREATE_TIME, ts) for ts in want_ts]


def test_sarama_default_refuses_lz4_itself(broker):
    """sarama below 0.10 has no lz4: its configuration check fails before it connects."""
    create_topic(broker, "mixed-sarama-lz4")
    code, out, err = clients.run([str(clients.sarama_binary()), "produce", "-brokers",
                                  broker.bootstrap, "-topic", "mixed-sarama-lz4", "-codec", "lz4",
                                  "-version", "default"],
                                 stdin=clients.to_json_lines(records(0)[:1]))
    assert code != 0 and "lz4 compression requires Version >= V0_10_0_0" in err, err
    assert clients.consume("kafkajs", broker, "mixed-sarama-lz4", 1, 0) == []


@pytest.mark.parametrize("producer", ["kafka-python-0.9", "kafka-python-0.10",
                                      "sarama-default"])
def test_old_producer_into_log_append_time_topic(broker, producer):
    """message.timestamp.type=LogAppendTime: the broker stamps its own time on the converted
    records, whether the old producer sent a timestamp (v1) or could not (v0)."""
    topic = f"mixed-lat-{producer}".replace(".", "_")
    create_topic(broker, topic, {"message.timestamp.type": "LogAppendTime"})
    recs = records(1_000_000)  # long ago: must not survive
    before = int(time.time() * 1000)
    produce_old(broker, topic, producer, "gzip", recs)
    after = int(time.time() * 1000)

    rd = read_librdkafka(broker, topic)
    assert [(m[1], m[2]) for m in rd] == [(r["k"], r["v"]) for r in recs]
    kinds = {m[4][0] for m in rd}
    assert kinds == {LOG_APPEND_TIME}
    assert all(before <= m[4][1] <= after for m in rd), (before, after, rd[0][4])

    js = clients.consume("kafkajs", broker, topic, 1, N)
    assert [(r["k"], r["v"]) for r in js] == [(r["k"], r["v"]) for r in recs]
    assert [r["ts"] for r in js] == [m[4][1] for m in rd]


# ---------------------------------------------------------------------------------------------
# KafkaJS writes, old consumers read

@pytest.fixture(scope="module")
def kafkajs_topic(broker):
    """N records written by KafkaJS (gzip, headers), and what was sent."""
    topic = "mixed-from-kafkajs"
    create_topic(broker, topic)
    base = int(time.time() * 1000) - 7_200_000
    recs = [{"p": 0, "k": None if i % 9 == 4 else b"js-key-%d" % i, "v": b"js-value-%d" % i,
             "h": [("n", b"%d" % i), ("source", b"kafkajs")], "ts": base + i} for i in range(N)]
    clients.produce("kafkajs", broker, topic, "gzip", recs)
    # The records as a current client sees them, headers and all.
    js = clients.consume("kafkajs", broker, topic, 1, N)
    clients.assert_same_records(js, recs, 1)
    return topic, recs


# kafka-python: (api_version, Fetch version it sends, message format it gets)
OLD_KAFKA_PYTHON = [((0, 9), 1, 0), ((0, 10), 2, 1), ((0, 10, 1), 3, 1)]


@pytest.mark.parametrize("api_version,fetch_version,magic", OLD_KAFKA_PYTHON,
                         ids=["0.9", "0.10", "0.10.1"])
def test_kafkajs_records_read_by_old_kafka_python(broker, kafkajs_topic, sent, api_version,
                                                  fetch_version, magic):
    topic, recs = kafkajs_topic
    c = KafkaConsumer(bootstrap_servers=broker.bootstrap, api_version=api_version,
                      group_id=None, enable_auto_commit=False)
    c.assign([KTP(topic, 0)])
    c.seek_to_beginning()
    got = []
    deadline = time.monotonic() + DEADLINE_S
    while len(got) < N and time.monotonic() < deadline:
        for batch in c.poll(timeout_ms=500).values():
            got.extend(batch)
    c.close()
    assert versions_of(sent, "FetchRequest") == [fetch_version]
    assert [r.offset for r in got] == list(range(N))
    assert [r.key for r in got] == [r["k"] for r in recs]
    assert [r.value for r in got] == [r["v"] for r in recs]
    assert all(list(r.headers) == [] for r in got)  # no headers before format v2
    if magic == 1:
        assert [(r.timestamp_type, r.timestamp) for r in got] == [(0, r["ts"]) for r in recs]
    else:
        assert all(r.timestamp is None for r in got)  # format v0: no timestamp at all


@pytest.mark.parametrize("version", ["default", "0.10.0.0"])
def test_kafkajs_records_read_by_old_sarama(broker, kafkajs_topic, version):
    """sarama at 0.8.2 (its default) reads through Fetch v0 (format v0), at 0.10.0 through
    Fetch v2 (format v1, timestamps)."""
    topic, recs = kafkajs_topic
    code, out, err = clients.run([str(clients.sarama_binary()), "consume", "-brokers",
                                  broker.bootstrap, "-topic", topic, "-partitions", "1",
                                  "-version", version])
    assert code == 0, f"sarama {version} consume failed: {err}"
    got = clients.from_json_lines(out)
    assert [r["o"] for r in got] == list(range(N))
    assert [r["k"] for r in got] == [r["k"] for r in recs]
    assert [r["v"] for r in got] == [r["v"] for r in recs]
    assert all(r["h"] == [] for r in got)
    if version != "default":
        assert [r["ts"] for r in got] == [r["ts"] for r in recs]
