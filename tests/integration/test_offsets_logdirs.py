"""OffsetForLeaderEpoch, DeleteRecords and DescribeLogDirs.

The installed clients lack these admin calls (confluent-kafka 1.7's AdminClient has no
delete_records or describe_log_dirs; kafka-python 2.0.2's KafkaAdminClient has neither, and no
protocol classes for any of the three; librdkafka 2.0.2 predates KIP-320 and never sends
OffsetForLeaderEpoch), so requests go over raw sockets, written from the message definitions in
/work/shared/kafka-protocol/*.json. What a user sees afterwards is checked with real clients:
watermarks (ListOffsets) and consumers of librdkafka and kafka-python resuming after deleted
records.
"""

import os
import time
from pathlib import Path

import pytest
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from kafka import KafkaConsumer
from kafka import TopicPartition as KTopicPartition

import admin_wire
import kwire
from kwire import Reader, Writer

CLIENT_DEADLINE_S = 60

FETCH = 1
DELETE_RECORDS = 21
OFFSET_FOR_LEADER_EPOCH = 23
DESCRIBE_LOG_DIRS = 35

NONE = 0
OFFSET_OUT_OF_RANGE = 1
UNKNOWN_TOPIC_OR_PARTITION = 3
INVALID_TOPIC_EXCEPTION = 17
POLICY_VIOLATION = 44
KAFKA_STORAGE_ERROR = 56
FENCED_LEADER_EPOCH = 74
UNKNOWN_LEADER_EPOCH = 75


# ---------------------------------------------------------------------------------------------
# Raw requests

def call(broker, api_key, version, body, flexible):
    if flexible:
        return admin_wire.call_flexible(broker, api_key, version, body)
    return admin_wire.call_classic(broker, api_key, version, body)


def array(w, items, write_item, flexible):
    if flexible:
        w.uvarint(len(items) + 1)
    else:
        w.int32(len(items))
    for item in items:
        write_item(item)


def string(w, s, flexible):
    return w.compact_string(s) if flexible else w.string(s)


def read_string(r, flexible):
    return r.compact_string() if flexible else r.string()


def offset_for_leader_epoch(broker, partitions, version=4, replica_id=-1):
    """partitions: [(topic, partition, current_leader_epoch, leader_epoch)].
    Returns [(topic, partition, error, leader_epoch, end_offset)] in the order answered."""
    flexible = version >= 4
    by_topic = {}
    for topic, p, current, epoch in partitions:
        by_topic.setdefault(topic, []).append((p, current, epoch))
    w = Writer()
    if version >= 3:
        w.int32(replica_id)

    def topic_item(item):
        name, parts = item
        string(w, name, flexible)

        def part_item(p):
            w.int32(p[0]).int32(p[1]).int32(p[2])
            if flexible:
                w.tagged_fields()
        array(w, parts, part_item, flexible)
        if flexible:
            w.tagged_fields()
    array(w, list(by_topic.items()), topic_item, flexible)
    if flexible:
        w.tagged_fields()
    r = Reader(call(broker, OFFSET_FOR_LEADER_EPOCH, version, w.bytes(), flexible))
    r.int32()  # throttle
    out = []
    for _ in range(r.array_length(flexible)):
        topic = read_string(r, flexible)
        for _ in range(r.array_length(flexible)):
            error, partition, epoch, end = r.int16(), r.int32(), r.int32(), r.int64()
            if flexible:
                r.tagged_fields()
            out.append((topic, partition, error, epoch, end))
        if flexible:
            r.tagged_fields()
    if flexible:
        r.tagged_fields()
    r.expect_end()
    return out


def delete_records(broker, partitions, version=2, timeout_ms=30000):
    """partitions: [(topic, partition, offset)]. Returns {(topic, partition): (error, low)}."""
    flexible = version >= 2
    by_topic = {}
    for topic, p, offset in partitions:
        by_topic.setdefault(topic, []).append((p, offset))
    w = Writer()

    def topic_item(item):
        name, parts = item
        string(w, name, flexible)

        def part_item(p):
            w.int32(p[0])
            w.buf += p[1].to_bytes(8, "big", signed=True)
            if flexible:
                w.tagged_fields()
        array(w, parts, part_item, flexible)
        if flexible:
            w.tagged_fields()
    array(w, list(by_topic.items()), topic_item, flexible)
    w.int32(timeout_ms)
    if flexible:
        w.tagged_fields()
    r = Reader(call(broker, DELETE_RECORDS, version, w.bytes(), flexible))
    r.int32()  # throttle
    out = {}
    for _ in range(r.array_length(flexible)):
        topic = read_string(r, flexible)
        for _ in range(r.array_length(flexible)):
            partition, low, error = r.int32(), r.int64(), r.int16()
            if flexible:
                r.tagged_fields()
            out[(topic, partition)] = (error, low)
        if flexible:
            r.tagged_fields()
    if flexible:
        r.tagged_fields()
    r.expect_end()
    return out


def describe_log_dirs(broker, topics=None, version=4):
    """topics: None (all) or [(topic, [partitions])]. Returns (top error or None, [dir dicts])
    where each dir is {log_dir, error, topics: {name: {partition: (size, lag, future)}},
    total, usable}."""
    flexible = version >= 2
    w = Writer()
    if topics is None:
        if flexible:
            w.uvarint(0)
        else:
            w.int32(-1)
    else:
        def topic_item(t):
            string(w, t[0], flexible)
            array(w, t[1], lambda p: w.int32(p), flexible)
            if flexible:
                w.tagged_fields()
        array(w, topics, topic_item, flexible)
    if flexible:
        w.tagged_fields()
    r = Reader(call(broker, DESCRIBE_LOG_DIRS, version, w.bytes(), flexible))
    r.int32()  # throttle
    top_error = r.int16() if version >= 3 else None
    dirs = []
    for _ in range(r.array_length(flexible)):
        d = {"error": r.int16(), "log_dir": read_string(r, flexible), "topics": {}}
        for _ in range(r.array_length(flexible)):
            name = read_string(r, flexible)
            parts = {}
            for _ in range(r.array_length(flexible)):
                index, size, lag, future = r.int32(), r.int64(), r.int64(), r.boolean()
                if flexible:
                    r.tagged_fields()
                parts[index] = (size, lag, future)
            if flexible:
                r.tagged_fields()
            d["topics"][name] = parts
        if version >= 4:
            d["total"], d["usable"] = r.int64(), r.int64()
        if flexible:
            r.tagged_fields()
        dirs.append(d)
    if flexible:
        r.tagged_fields()
    r.expect_end()
    return top_error, dirs


def fetch_v5(broker, topic, partition, offset):
    """Returns (error, high watermark, log start offset, records bytes)."""
    w = Writer()
    w.int32(-1).int32(0).int32(1).int32(1 << 20).int8(0)
    w.int32(1)
    w.string(topic)
    w.int32(1)
    w.int32(partition)
    w.buf += offset.to_bytes(8, "big", signed=True)
    w.buf += (-1).to_bytes(8, "big", signed=True)
    w.int32(1 << 20)
    r = Reader(admin_wire.call_classic(broker, FETCH, 5, w.bytes()))
    r.int32()  # throttle
    assert r.int32() == 1
    assert r.string() == topic
    assert r.int32() == 1
    assert r.int32() == partition
    error, hw, _lso, log_start = r.int16(), r.int64(), r.int64(), r.int64()
    aborted = r.int32()
    for _ in range(max(aborted, 0)):
        r.int64(), r.int64()
    size = r.int32()
    records = r._take(size) if size > 0 else b""
    r.expect_end()
    return error, hw, log_start, records


# ---------------------------------------------------------------------------------------------
# Client helpers

def create_topic(broker, name, partitions=1, config=None):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    futures = admin.create_topics([NewTopic(name, num_partitions=partitions,
                                            replication_factor=1, config=config or {})])
    futures[name].result(timeout=CLIENT_DEADLINE_S)


def produce(broker, topic, count, partition=0, value=b"v", **conf):
    config = {"bootstrap.servers": broker.bootstrap, "linger.ms": 0, "acks": "all"}
    config.update(conf)
    p = Producer(config)
    failed = []
    for i in range(count):
        p.produce(topic, value=value + str(i).encode(), partition=partition,
                  on_delivery=lambda err, msg: failed.append(err) if err else None)
        p.poll(0)
    assert p.flush(CLIENT_DEADLINE_S) == 0
    assert not failed, failed


def watermarks(broker, topic, partition=0):
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "unused"})
    try:
        return c.get_watermark_offsets(TopicPartition(topic, partition),
                                       timeout=CLIENT_DEADLINE_S)
    finally:
        c.close()


def librdkafka_read(broker, topic, start, count, reset="earliest"):
    """Reads `count` messages from `start` with assign(); returns (offsets, errors)."""
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "unused",
                  "enable.auto.commit": False, "auto.offset.reset": reset})
    c.assign([TopicPartition(topic, 0, start)])
    offsets, errors = [], []
    deadline = time.monotonic() + CLIENT_DEADLINE_S
    while len(offsets) < count and not errors and time.monotonic() < deadline:
        msg = c.poll(0.5)
        if msg is None:
            continue
        if msg.error() is None:
            offsets.append(msg.offset())
        elif msg.error().code() != KafkaError._PARTITION_EOF:
            errors.append(msg.error())
    c.close()
    return offsets, errors


@pytest.fixture
def broker(sluice):
    b = sluice.start(overrides={"auto.create.topics.enable": "false"})
    yield b
    assert not b.problems_since(0), b.log()


def test_apis_are_advertised(broker):
    with kwire.connect(broker.host, broker.port) as s:
        s.sendall(kwire.api_versions_request(0, 1))
        _, body = kwire.split_response(kwire.recv_frame(s), 0)
    keys = kwire.decode_api_versions(body, 0)["api_keys"]
    # From v0: the versions Kafka 4 removed are served too (sluice.legacy.api.versions.enable).
    assert keys[OFFSET_FOR_LEADER_EPOCH] == (0, 4)
    assert keys[DELETE_RECORDS] == (0, 2)
    assert keys[DESCRIBE_LOG_DIRS] == (0, 4)


# ---------------------------------------------------------------------------------------------
# OffsetForLeaderEpoch

def leader_epoch(broker, topic, partition=0):
    meta = admin_wire.metadata(broker, 12, [topic])
    t = next(t for t in meta["topics"] if t["name"] == topic)
    return next(p for p in t["partitions"] if p["partition_index"] == partition)["leader_epoch"]


@pytest.mark.parametrize("version", [2, 3, 4])
def test_offset_for_leader_epoch(broker, version):
    create_topic(broker, "epochs", partitions=2)
    produce(broker, "epochs", 25)
    epoch = leader_epoch(broker, "epochs")
    assert epoch >= 0
    ask = [
        # (topic, partition, current_leader_epoch, leader_epoch) -> (error, epoch, end offset)
        (("epochs", 0, -1, epoch), (NONE, epoch, 25)),  # a consumer: the current epoch's end
        (("epochs", 0, epoch, epoch), (NONE, epoch, 25)),
        (("epochs", 1, epoch, epoch), (NONE, epoch, 0)),  # an empty partition
        (("epochs", 0, epoch, epoch + 1), (NONE, -1, -1)),  # no leader had it yet
        (("epochs", 0, epoch, -1), (NONE, -1, -1)),  # UNDEFINED_EPOCH
        (("epochs", 0, epoch + 1, epoch), (UNKNOWN_LEADER_EPOCH, -1, -1)),  # caller ahead
        (("epochs", 7, -1, epoch), (UNKNOWN_TOPIC_OR_PARTITION, -1, -1)),
        (("no-such-topic", 0, -1, 0), (UNKNOWN_TOPIC_OR_PARTITION, -1, -1)),
    ]
    # A stale caller; -1 means "no current epoch", so below epoch 1 Kafka fences -2 instead.
    stale = epoch - 1 if epoch > 0 else -2
    ask.insert(6, (("epochs", 0, stale, epoch), (FENCED_LEADER_EPOCH, -1, -1)))  # by topic
    got = offset_for_leader_epoch(broker, [a for a, _ in ask], version=version)
    assert got == [(a[0], a[1], *want) for a, want in ask]


def test_offset_for_leader_epoch_from_a_follower_id(broker):
    """replica_id (v3+) names a follower; the answer comes from the leader's log all the same."""
    create_topic(broker, "follower-asks")
    produce(broker, "follower-asks", 3)
    epoch = leader_epoch(broker, "follower-asks")
    got = offset_for_leader_epoch(broker, [("follower-asks", 0, epoch, epoch)], version=3,
                                  replica_id=broker.node_id)
    assert got == [("follower-asks", 0, NONE, epoch, 3)]


# ---------------------------------------------------------------------------------------------
# DeleteRecords

@pytest.mark.parametrize("version", [0, 1, 2])
def test_delete_records_moves_the_log_start(broker, version):
    create_topic(broker, "trim", partitions=2)
    produce(broker, "trim", 30)
    produce(broker, "trim", 4, partition=1)
    got = delete_records(broker, [("trim", 0, 10), ("trim", 1, -1)], version=version)
    assert got[("trim", 0)] == (NONE, 10)
    assert got[("trim", 1)] == (NONE, 4)  # -1: up to the high watermark
    # Lower than the log start: nothing moves, the current start is answered.
    assert delete_records(broker, [("trim", 0, 3)], version)[("trim", 0)] == (NONE, 10)
    # The users' view: ListOffsets earliest and a fetch below the start.
    assert watermarks(broker, "trim") == (10, 30)
    assert watermarks(broker, "trim", 1) == (4, 4)
    error, hw, log_start, _ = fetch_v5(broker, "trim", 0, 5)
    assert error == OFFSET_OUT_OF_RANGE
    error, hw, log_start, records = fetch_v5(broker, "trim", 0, 10)
    assert (error, hw, log_start) == (NONE, 30, 10)
    # The first batch returned holds offset 10 (base offset, then lastOffsetDelta at byte 23).
    base = int.from_bytes(records[0:8], "big")
    last = base + int.from_bytes(records[23:27], "big")
    assert base <= 10 <= last, (base, last)


def test_delete_records_errors(broker):
    create_topic(broker, "errs")
    create_topic(broker, "compacted", config={"cleanup.policy": "compact"})
    create_topic(broker, "both", config={"cleanup.policy": "compact,delete"})
    produce(broker, "errs", 5)
    got = delete_records(broker, [
        ("errs", 0, 6),             # above the high watermark
        ("errs", 3, 1),             # no such partition
        ("no-such-topic", 0, 1),
        ("compacted", 0, 0),        # cleanup.policy=compact only
        ("both", 0, -1),            # compact,delete may be trimmed
    ])
    assert got[("errs", 0)] == (OFFSET_OUT_OF_RANGE, -1)
    assert got[("errs", 3)] == (UNKNOWN_TOPIC_OR_PARTITION, -1)
    assert got[("no-such-topic", 0)] == (UNKNOWN_TOPIC_OR_PARTITION, -1)
    assert got[("compacted", 0)] == (POLICY_VIOLATION, -1)
    assert got[("both", 0)] == (NONE, 0)
    assert delete_records(broker, [("errs", 0, -2)])[("errs", 0)] == (OFFSET_OUT_OF_RANGE, -1)
    assert watermarks(broker, "errs") == (0, 5)  # nothing moved


def test_delete_records_on_an_internal_topic_is_refused(broker):
    create_topic(broker, "__consumer_offsets")
    got = delete_records(broker, [("__consumer_offsets", 0, 0)])
    assert got[("__consumer_offsets", 0)] == (INVALID_TOPIC_EXCEPTION, -1)


def test_deleted_records_stay_deleted_after_a_restart(sluice, tmp_path):
    data = tmp_path / "trim-restart"
    b = sluice.start(data_dir=data)
    create_topic(b, "kept")
    produce(b, "kept", 40)
    assert delete_records(b, [("kept", 0, 12)])[("kept", 0)] == (NONE, 12)
    b.stop()
    b = sluice.start(data_dir=data)
    assert watermarks(b, "kept") == (12, 40)
    # And after kill -9: the start was checkpointed before DeleteRecords answered.
    assert delete_records(b, [("kept", 0, 21)])[("kept", 0)] == (NONE, 21)
    b.process.kill()
    b.stopped = True
    b = sluice.start(data_dir=data)
    assert watermarks(b, "kept") == (21, 40)
    offsets, errors = librdkafka_read(b, "kept", 0, 19)
    assert not errors and offsets == list(range(21, 40))


def test_consumers_resume_after_deleted_records(broker):
    """A consumer whose position was deleted follows auto.offset.reset, as against Kafka."""
    create_topic(broker, "resume")
    produce(broker, "resume", 20)
    offsets, errors = librdkafka_read(broker, "resume", 0, 5)
    assert not errors and offsets == [0, 1, 2, 3, 4]
    assert delete_records(broker, [("resume", 0, 10)])[("resume", 0)] == (NONE, 10)
    # librdkafka resuming at its stored position 5.
    offsets, errors = librdkafka_read(broker, "resume", 5, 10)
    assert not errors and offsets == list(range(10, 20))
    offsets, errors = librdkafka_read(broker, "resume", 5, 1, reset="error")
    assert offsets == [] and errors and errors[0].code() == KafkaError._AUTO_OFFSET_RESET, errors
    # kafka-python the same way.
    c = KafkaConsumer(bootstrap_servers=broker.bootstrap, auto_offset_reset="earliest",
                      enable_auto_commit=False, consumer_timeout_ms=CLIENT_DEADLINE_S * 1000)
    tp = KTopicPartition("resume", 0)
    c.assign([tp])
    assert c.beginning_offsets([tp])[tp] == 10
    c.seek(tp, 5)
    got = []
    for msg in c:
        got.append(msg.offset)
        if len(got) == 10:
            break
    c.close()
    assert got == list(range(10, 20))


# ---------------------------------------------------------------------------------------------
# DescribeLogDirs

def size_on_disk(log_dir, topic, partition):
    d = Path(log_dir) / f"{topic}-{partition}"
    return sum(f.stat().st_size for f in d.iterdir() if f.name.endswith(".log"))


@pytest.mark.parametrize("version", [1, 2, 3, 4])
def test_describe_log_dirs(sluice, tmp_path, version):
    dirs = [tmp_path / "ld-a", tmp_path / "ld-b"]
    b = sluice.start(overrides={"log.dirs": ",".join(str(d) for d in dirs)})
    create_topic(b, "spread", partitions=3)
    create_topic(b, "other")
    produce(b, "spread", 10, partition=0, value=b"x" * 100)
    produce(b, "spread", 3, partition=1)
    top, got = describe_log_dirs(b, None, version)
    assert top == (NONE if version >= 3 else None)
    assert [d["log_dir"] for d in got] == [str(d) for d in dirs]
    placed = {}
    for d in got:
        assert d["error"] == NONE
        for topic, parts in d["topics"].items():
            for p, (size, lag, future) in parts.items():
                assert (lag, future) == (0, False)
                assert size == size_on_disk(d["log_dir"], topic, p)
                placed[(topic, p)] = d["log_dir"]
        if version >= 4:
            assert 0 < d["usable"] <= d["total"]
            st = os.statvfs(d["log_dir"])
            assert d["total"] == st.f_blocks * st.f_frsize
        else:
            assert "total" not in d
    assert sorted(placed) == [("other", 0), ("spread", 0), ("spread", 1), ("spread", 2)]
    sizes = {k: v for d in got for t, ps in d["topics"].items() for p, v in ps.items()
             for k in [(t, p)]}
    assert sizes[("spread", 0)][0] > sizes[("spread", 1)][0] > 0
    assert sizes[("spread", 2)][0] == 0

    # A filter: only the partitions asked for, topics without one left out; unknown ones ignored.
    _, got = describe_log_dirs(b, [("spread", [1, 2, 9]), ("nope", [0])], version)
    listed = {(t, p) for d in got for t, ps in d["topics"].items() for p in ps}
    assert listed == {("spread", 1), ("spread", 2)}
    assert len(got) == 2
    _, got = describe_log_dirs(b, [], version)
    assert [d["topics"] for d in got] == [{}, {}]


def test_describe_log_dirs_reports_an_unreadable_dir(sluice, tmp_path):
    dirs = [tmp_path / "ok", tmp_path / "gone"]
    b = sluice.start(overrides={"log.dirs": ",".join(str(d) for d in dirs)})
    away = tmp_path / "gone-away"
    os.rename(dirs[1], away)
    try:
        _, got = describe_log_dirs(b, None, 4)
    finally:
        os.rename(away, dirs[1])
    assert [(d["log_dir"], d["error"]) for d in got] == \
        [(str(dirs[0]), NONE), (str(dirs[1]), KAFKA_STORAGE_ERROR)]
    assert got[1]["topics"] == {} and (got[1]["total"], got[1]["usable"]) == (-1, -1)
