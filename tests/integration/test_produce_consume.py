"""The produce/consume path with clients no one here wrote: kcat, confluent-kafka (librdkafka)
and kafka-python produce to a broker and read everything back by assigned partitions (consumer
groups are not implemented yet, so no subscribe() and no committed offsets)."""

import struct
import subprocess
import time

import pytest
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from kafka import KafkaConsumer, KafkaProducer
from kafka import TopicPartition as KTopicPartition

import kwire

CLIENT_DEADLINE_S = 60


@pytest.fixture
def broker(sluice):
    b = sluice.start(overrides={"auto.create.topics.enable": "false"})
    yield b
    assert not b.problems_since(0), b.log()


def create_topic(broker, name, partitions=1):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    futures = admin.create_topics([NewTopic(name, num_partitions=partitions,
                                            replication_factor=1)])
    futures[name].result(timeout=CLIENT_DEADLINE_S)


def kcat(*args, stdin=None):
    done = subprocess.run(["kcat", *args], input=stdin, capture_output=True, text=True,
                          timeout=CLIENT_DEADLINE_S)
    return done.returncode, done.stdout, done.stderr


def produce_all(broker, topic, messages, **conf):
    """Produces (key, value, headers, timestamp, partition) tuples; returns delivery reports."""
    config = {"bootstrap.servers": broker.bootstrap, "linger.ms": 5}
    config.update(conf)
    p = Producer(config)
    reports = []

    def on_delivery(err, msg):
        reports.append((err, msg.partition(), msg.offset()))

    for key, value, headers, ts, partition in messages:
        p.produce(topic, key=key, value=value, headers=headers, timestamp=ts or 0,
                  partition=partition, on_delivery=on_delivery)
        p.poll(0)
    assert p.flush(CLIENT_DEADLINE_S) == 0
    return reports


def consume_all(broker, topic, partitions, expected, start=0):
    """Reads `expected` messages from offset `start` of `partitions` with assign()."""
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "unused",
                  "enable.auto.commit": False, "enable.auto.offset.store": False})
    c.assign([TopicPartition(topic, p, start) for p in partitions])
    out = []
    deadline = time.monotonic() + CLIENT_DEADLINE_S
    while len(out) < expected and time.monotonic() < deadline:
        msg = c.poll(1.0)
        if msg is None:
            continue
        assert msg.error() is None or msg.error().code() == KafkaError._PARTITION_EOF, msg.error()
        if msg.error() is None:
            out.append(msg)
    c.close()
    return out


def test_kcat_produces_and_consumes_10000_keyed_messages(broker):
    create_topic(broker, "kcat-topic")
    lines = [f"key-{i}:value-{i}-{'x' * (i % 50)}" for i in range(10000)]
    code, out, err = kcat("-b", broker.bootstrap, "-P", "-t", "kcat-topic", "-K", ":",
                          stdin="\n".join(lines) + "\n")
    assert code == 0, out + err
    code, out, err = kcat("-b", broker.bootstrap, "-C", "-t", "kcat-topic", "-o", "beginning",
                          "-e", "-K", ":", "-q")
    assert code == 0, err
    assert out.splitlines() == lines


@pytest.mark.parametrize("compression", ["none", "gzip", "snappy", "lz4", "zstd"])
def test_confluent_producer_acks_all_and_consumer(broker, compression):
    topic = f"ck-{compression}"
    create_topic(broker, topic, partitions=3)
    base_ts = 1_700_000_000_000
    # No null header values here: Debian's confluent-kafka drops a reference to None for each one
    # it returns, which aborts the interpreter at exit ("none_dealloc").
    messages = [(f"k{i}".encode(), f"v{i}".encode() * (1 + i % 7),
                 [("h", f"{i}".encode()), ("e", b"")], base_ts + i, i % 3)
                for i in range(3000)]
    reports = produce_all(broker, topic, messages, acks="all", **{"compression.type": compression})
    assert all(err is None for err, _, _ in reports), reports[:5]
    for p in range(3):
        offsets = [o for _, part, o in reports if part == p]
        assert sorted(offsets) == list(range(1000)), p
    got = consume_all(broker, topic, [0, 1, 2], 3000)
    assert len(got) == 3000
    by_partition = {p: [m for m in got if m.partition() == p] for p in range(3)}
    for p, msgs in by_partition.items():
        expected = [m for m in messages if m[4] == p]
        assert [m.offset() for m in msgs] == list(range(len(expected)))
        for m, (key, value, headers, ts, _) in zip(msgs, expected):
            assert m.key() == key and m.value() == value
            assert m.headers() == headers
            assert m.timestamp() == (1, ts)  # CreateTime


def test_kafka_python_producer_and_consumer(broker):
    create_topic(broker, "kp-topic", partitions=2)
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap, acks=1)
    futures = [producer.send("kp-topic", key=f"k{i}".encode(), value=f"v{i}".encode(),
                             partition=i % 2, headers=[("i", str(i).encode())])
               for i in range(500)]
    producer.flush(CLIENT_DEADLINE_S)
    metas = [f.get(timeout=CLIENT_DEADLINE_S) for f in futures]
    assert sorted(m.offset for m in metas if m.partition == 0) == list(range(250))
    producer.close()

    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, enable_auto_commit=False,
                             consumer_timeout_ms=10000)
    consumer.assign([KTopicPartition("kp-topic", 0), KTopicPartition("kp-topic", 1)])
    consumer.seek_to_beginning()
    got = []
    for msg in consumer:
        got.append(msg)
        if len(got) == 500:
            break
    consumer.close()
    assert len(got) == 500
    for p in (0, 1):
        msgs = [m for m in got if m.partition == p]
        assert [m.key for m in msgs] == [f"k{i}".encode() for i in range(p, 500, 2)]
        assert [m.value for m in msgs] == [f"v{i}".encode() for i in range(p, 500, 2)]
        assert [m.headers for m in msgs] == [[("i", str(i).encode())] for i in range(p, 500, 2)]


def test_list_offsets(broker):
    create_topic(broker, "lo-topic")
    base_ts = 1_600_000_000_000
    messages = [(b"k", f"{i}".encode(), None, base_ts + 1000 * i, 0) for i in range(100)]
    produce_all(broker, "lo-topic", messages, acks="all", **{"linger.ms": 0,
                                                             "batch.num.messages": 10})
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "unused",
                  "enable.auto.commit": False})
    low, high = c.get_watermark_offsets(TopicPartition("lo-topic", 0),
                                        timeout=CLIENT_DEADLINE_S)
    assert (low, high) == (0, 100)
    found = c.offsets_for_times([TopicPartition("lo-topic", 0, base_ts + 1000 * 42)],
                                timeout=CLIENT_DEADLINE_S)
    assert found[0].offset == 42
    found = c.offsets_for_times([TopicPartition("lo-topic", 0, base_ts + 1000 * 42 + 1)],
                                timeout=CLIENT_DEADLINE_S)
    assert found[0].offset == 43
    # After the last record: the end of the log (librdkafka shows "no offset" as -1 or the end).
    found = c.offsets_for_times([TopicPartition("lo-topic", 0, base_ts + 1000 * 1000)],
                                timeout=CLIENT_DEADLINE_S)
    assert found[0].offset in (-1, 100)
    c.close()


def test_data_survives_a_restart(sluice, tmp_path):
    data = tmp_path / "restart-data"
    b = sluice.start(data_dir=data)
    create_topic(b, "durable", partitions=2)
    messages = [(f"k{i}".encode(), f"v{i}".encode(), None, None, i % 2) for i in range(1000)]
    reports = produce_all(b, "durable", messages, acks="all")
    assert all(err is None for err, _, _ in reports)
    b.stop()
    b2 = sluice.start(data_dir=data)
    got = consume_all(b2, "durable", [0, 1], 1000)
    assert sorted((m.partition(), m.offset()) for m in got) == \
        sorted((i % 2, i // 2) for i in range(1000))
    assert {m.value() for m in got} == {f"v{i}".encode() for i in range(1000)}
    # Appends continue after the offsets already there.
    reports = produce_all(b2, "durable", [(b"k", b"after", None, None, 0)], acks="all")
    assert reports == [(None, 0, 500)]


def test_produce_to_unknown_topic_fails(broker):
    p = Producer({"bootstrap.servers": broker.bootstrap, "message.timeout.ms": 5000,
                  "topic.metadata.propagation.max.ms": 1000})
    errors = []
    p.produce("no-such-topic", value=b"x", on_delivery=lambda err, msg: errors.append(err))
    p.flush(CLIENT_DEADLINE_S)
    assert len(errors) == 1 and errors[0] is not None
    assert errors[0].code() in (KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._UNKNOWN_TOPIC,
                                KafkaError._MSG_TIMED_OUT), errors[0]


def test_long_poll_wakes_on_append(broker):
    create_topic(broker, "poll-topic")
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "unused",
                  "enable.auto.commit": False, "fetch.wait.max.ms": 10000})
    c.assign([TopicPartition("poll-topic", 0, 0)])
    assert c.poll(0.5) is None
    produce_all(broker, "poll-topic", [(None, b"late", None, None, 0)], acks=1)
    started = time.monotonic()
    msg = None
    while msg is None and time.monotonic() - started < CLIENT_DEADLINE_S:
        msg = c.poll(1.0)
    # The fetch waiting for up to 10 s returned when the record arrived.
    assert msg is not None and msg.error() is None and msg.value() == b"late"
    assert time.monotonic() - started < 8
    c.close()


# ---------------------------------------------------------------------------------------------
# Bad batches over a raw socket (Produce v3), answered per partition as Kafka does.

def batch_v2(value: bytes, magic=2, crc=0):
    """One batch of one record; the CRC is whatever the test says (0: wrong)."""
    return kwire.record_batch([value], magic=magic, crc=crc)


def produce_v3_error(broker, topic, records: bytes) -> int:
    w = kwire.Writer().string(None).int16(1).int32(10000).int32(1).string(topic)
    w.int32(1).int32(0)
    body = w.bytes() + struct.pack(">i", len(records)) + records
    with kwire.connect(broker.host, broker.port) as s:
        s.sendall(kwire.frame(0, 3, 42, body))
        r = kwire.Reader(kwire.recv_frame(s))
        assert r.int32() == 42
        assert r.int32() == 1 and r.string() == topic
        assert r.int32() == 1 and r.int32() == 0
        return r.int16()


def test_bad_batches_get_kafka_errors(sluice):
    b = sluice.start(overrides={"auto.create.topics.enable": "false"})
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    admin.create_topics([NewTopic("small", 1, 1, config={"max.message.bytes": "200"})])[
        "small"].result(timeout=CLIENT_DEADLINE_S)
    assert produce_v3_error(b, "small", batch_v2(b"x" * 10)) == 2  # CORRUPT_MESSAGE (CRC)
    assert produce_v3_error(b, "small", batch_v2(b"x" * 10)[:-3]) == 2  # truncated
    assert produce_v3_error(b, "small", batch_v2(b"x" * 10, magic=1)) == 43  # UNSUPPORTED_FOR_...
    assert produce_v3_error(b, "small", batch_v2(b"x" * 300)) == 10  # MESSAGE_TOO_LARGE
    assert produce_v3_error(b, "missing", batch_v2(b"x")) == 3  # UNKNOWN_TOPIC_OR_PARTITION
    # Nothing was appended.
    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "unused"})
    assert c.get_watermark_offsets(TopicPartition("small", 0), timeout=CLIENT_DEADLINE_S) == (0, 0)
    c.close()


def test_deleted_topic_loses_its_data(broker):
    create_topic(broker, "doomed", partitions=2)
    produce_all(broker, "doomed", [(b"k", b"v", None, None, i % 2) for i in range(20)], acks=1)
    assert (broker.data_dir / "doomed-0").is_dir()
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.delete_topics(["doomed"])["doomed"].result(timeout=CLIENT_DEADLINE_S)
    # The directories go in the background; wait for them with a deadline.
    deadline = time.monotonic() + CLIENT_DEADLINE_S
    while any(broker.data_dir.glob("doomed-*")) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not any(broker.data_dir.glob("doomed-*")), list(broker.data_dir.iterdir())
    # A new topic of the same name starts empty.
    create_topic(broker, "doomed", partitions=2)
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "unused"})
    assert c.get_watermark_offsets(TopicPartition("doomed", 0), timeout=CLIENT_DEADLINE_S) == \
        (0, 0)
    c.close()


def test_reads_span_segments_of_a_topic_config(broker):
    # segment.bytes given at creation reaches the log: the data spans several segments, and a
    # consumer reads across them.
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("segmented", 1, 1, config={"segment.bytes": "1048576"})])[
        "segmented"].result(timeout=CLIENT_DEADLINE_S)
    value = b"v" * 16384
    produce_all(broker, "segmented", [(None, value, None, None, 0) for _ in range(200)], acks=1)
    segments = sorted((broker.data_dir / "segmented-0").glob("*.log"))
    assert len(segments) >= 3, segments
    got = consume_all(broker, "segmented", [0], 200)
    assert [m.offset() for m in got] == list(range(200))
    assert all(m.value() == value for m in got)


def test_retention_moves_the_log_start(sluice):
    b = sluice.start(overrides={"log.retention.check.interval.ms": "100"})
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    admin.create_topics([NewTopic("retained", 1, 1, config={
        "segment.bytes": "1048576", "retention.bytes": "1048576"})])["retained"].result(
            timeout=CLIENT_DEADLINE_S)
    value = b"r" * 16384
    produce_all(b, "retained", [(None, value, None, None, 0) for _ in range(200)], acks=1)
    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "unused"})
    deadline = time.monotonic() + CLIENT_DEADLINE_S
    low, high = 0, 0
    while low == 0 and time.monotonic() < deadline:
        low, high = c.get_watermark_offsets(TopicPartition("retained", 0),
                                            timeout=CLIENT_DEADLINE_S)
        time.sleep(0.05)
    c.close()
    assert 0 < low < high == 200
    got = consume_all(b, "retained", [0], 200 - low, start=low)
    assert got[0].offset() == low


def test_log_append_time_topic_is_stamped_by_the_broker(broker):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("stamped", 1, 1, config={
        "message.timestamp.type": "LogAppendTime"})])["stamped"].result(
            timeout=CLIENT_DEADLINE_S)
    before_ms = int(time.time() * 1000)
    produce_all(broker, "stamped", [(b"k", f"{i}".encode(), None, 1000 + i, 0)
                                    for i in range(50)], acks=1, **{"compression.type": "lz4"})
    after_ms = int(time.time() * 1000)
    got = consume_all(broker, "stamped", [0], 50)
    assert [m.value() for m in got] == [f"{i}".encode() for i in range(50)]
    for m in got:
        kind, ts = m.timestamp()
        assert kind == 2 and before_ms <= ts <= after_ms, (kind, ts)  # LogAppendTime


def stored_codecs(data_dir, topic):
    """The compression codec of every batch stored in partition 0's first segment."""
    log = (data_dir / f"{topic}-0" / "00000000000000000000.log").read_bytes()
    codecs, pos = [], 0
    while pos + 61 <= len(log):
        length = struct.unpack(">i", log[pos + 8:pos + 12])[0]
        attributes = struct.unpack(">h", log[pos + 21:pos + 23])[0]
        codecs.append(attributes & 0x07)
        pos += 12 + length
    return codecs


@pytest.mark.parametrize("compression,codec", [("gzip", 1), ("snappy", 2), ("lz4", 3),
                                               ("zstd", 4)])
def test_librdkafka_really_compresses(broker, compression, codec):
    # librdkafka turns compression off unless ApiVersions lists Produce v0-v2, as Kafka 4 does;
    # the data would still round-trip, so look at what was stored.
    topic = f"codec-{compression}"
    create_topic(broker, topic)
    messages = [(b"k", b"x" * 1000, None, None, 0) for _ in range(200)]
    reports = produce_all(broker, topic, messages, **{"compression.type": compression})
    assert all(err is None for err, _, _ in reports)
    codecs = stored_codecs(broker.data_dir, topic)
    assert codecs and set(codecs) == {codec}, codecs


def test_timestamps_outside_the_topic_bounds_get_invalid_timestamp(broker):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("bounded", 1, 1, config={
        "message.timestamp.before.max.ms": "60000"})])["bounded"].result(
        timeout=CLIENT_DEADLINE_S)
    now = int(time.time() * 1000)
    errors = {}

    def report(err, msg):
        errors[msg.value()] = err

    p = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 0, "retries": 0})
    # Each in its own request: a failed batch fails every record in it.
    for value, ts in ((b"day-old", now - 86_400_000), (b"now", now),
                      (b"two-hours-ahead", now + 7_200_000)):  # after.max.ms defaults to 1 h
        p.produce("bounded", value=value, timestamp=ts, partition=0, on_delivery=report)
        p.flush(CLIENT_DEADLINE_S)
    assert errors[b"now"] is None
    assert errors[b"day-old"].code() == KafkaError.INVALID_TIMESTAMP
    assert errors[b"two-hours-ahead"].code() == KafkaError.INVALID_TIMESTAMP
    got = consume_all(broker, "bounded", [0], 1)
    assert [m.value() for m in got] == [b"now"]
