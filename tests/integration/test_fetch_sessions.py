"""Fetch sessions (KIP-227) as Kafka serves them: a full fetch with epoch 0 creates a session,
incremental fetches name only what changed and get only partitions with something new,
forgotten_topics_data drops partitions, epoch -1 closes, and the session errors are Kafka's.

No installed client uses fetch sessions (see fetch_wire.py), so the session behaviour is driven
over raw sockets; librdkafka consumes alongside to show that sessionless fetches still work
while sessions exist, and a consumer that follows the Java client's session rules reads a topic
while librdkafka produces to it.
"""

import signal
import threading
import time

import pytest
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

import fetch_wire as fw
import kwire
from fetch_wire import Connection, partitions_of

CLIENT_DEADLINE_S = 60
V = 12  # by topic name, flexible
MAX = 1 << 20


def create_topic(broker, name, partitions):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)])[
        name].result(timeout=CLIENT_DEADLINE_S)


def topic_id(broker, name):
    with kwire.connect(broker.host, broker.port) as s:
        _, body = kwire.call(s, kwire.METADATA, 12, kwire.metadata_request(12, 1, [name]))
    return kwire.decode_metadata(body, 12)["topics"][0]["topic_id"]


def produce(broker, topic, partition, count, prefix="v"):
    p = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 0})
    errors = []
    for i in range(count):
        p.produce(topic, value=f"{prefix}-{i}".encode(), partition=partition,
                  on_delivery=lambda err, msg: errors.append(err) if err else None)
    assert p.flush(CLIENT_DEADLINE_S) == 0
    assert not errors, errors


def full_fetch(conn, topic, offsets, epoch=fw.INITIAL_EPOCH, session_id=0, version=V, **kw):
    parts = [(p, off, MAX) for p, off in sorted(offsets.items())]
    return conn.fetch(version, session_id=session_id, epoch=epoch, topics=[(topic, parts)], **kw)


@pytest.fixture
def broker(sluice):
    b = sluice.start(overrides={"auto.create.topics.enable": "false"}, log_level="debug")
    yield b
    assert not b.problems_since(0), b.log()


def new_session(broker, topic, partitions=3, version=V, topic_ref=None):
    """A topic with one record in partition 0 and a session on all its partitions, each at its
    high watermark. Returns (connection, session id, next epoch)."""
    create_topic(broker, topic, partitions)
    produce(broker, topic, 0, 1)
    conn = Connection(broker)
    ref = topic_ref if topic_ref is not None else topic
    resp = full_fetch(conn, ref, {p: 0 for p in range(partitions)}, version=version)
    assert resp["error_code"] == fw.NONE
    assert resp["session_id"] != 0
    got = partitions_of(resp)
    assert sorted(got) == [(ref, p) for p in range(partitions)]  # a full response: all of them
    assert [b[0] for b in got[(ref, 0)]["batches"]] == [0]
    assert got[(ref, 0)]["high_watermark"] == 1
    return conn, resp["session_id"], 1


def test_incremental_fetch_without_changes_is_empty_and_waits(broker):
    conn, sid, epoch = new_session(broker, "quiet")
    # The client moved past the record on partition 0: it names only that partition.
    started = time.monotonic()
    resp = conn.fetch(V, session_id=sid, epoch=epoch, topics=[("quiet", [(0, 1, MAX)])],
                      max_wait_ms=300, min_bytes=1)
    assert resp["error_code"] == fw.NONE and resp["session_id"] == sid
    assert resp["topics"] == []
    assert time.monotonic() - started >= 0.25  # long poll: nothing came, it waited max_wait_ms
    resp = conn.fetch(V, session_id=sid, epoch=epoch + 1, max_wait_ms=0)
    assert resp["error_code"] == fw.NONE and resp["session_id"] == sid and resp["topics"] == []
    assert any("incremental fetch session" in l.message for l in broker.lines())


def test_incremental_fetch_after_produce_returns_only_the_changed_partition(broker):
    conn, sid, epoch = new_session(broker, "changes", partitions=4)
    resp = conn.fetch(V, session_id=sid, epoch=epoch, topics=[("changes", [(0, 1, MAX)])])
    assert resp["topics"] == []
    produce(broker, "changes", 2, 3)
    resp = conn.fetch(V, session_id=sid, epoch=epoch + 1, max_wait_ms=5000)
    got = partitions_of(resp)
    assert list(got) == [("changes", 2)]
    assert got[("changes", 2)]["high_watermark"] == 3
    assert sum(b[2] for b in got[("changes", 2)]["batches"]) == 3


def test_long_poll_of_an_incremental_fetch_is_woken_by_a_produce(broker):
    conn, sid, epoch = new_session(broker, "woken", partitions=2)
    conn.fetch(V, session_id=sid, epoch=epoch, topics=[("woken", [(0, 1, MAX)])])
    started = time.monotonic()
    cid = conn.send(V, session_id=sid, epoch=epoch + 1, max_wait_ms=20000, min_bytes=1)
    produce(broker, "woken", 1, 1)
    resp = conn.receive(V, cid)
    assert list(partitions_of(resp)) == [("woken", 1)]
    assert time.monotonic() - started < 15  # woken by the append, not by max_wait_ms


def test_forgotten_partitions_leave_the_session(broker):
    conn, sid, epoch = new_session(broker, "forget", partitions=3)
    resp = conn.fetch(V, session_id=sid, epoch=epoch, topics=[("forget", [(0, 1, MAX)])],
                      forgotten=[("forget", [1])])
    assert resp["error_code"] == fw.NONE and resp["topics"] == []
    produce(broker, "forget", 1, 1)
    produce(broker, "forget", 2, 1)
    resp = conn.fetch(V, session_id=sid, epoch=epoch + 1, max_wait_ms=5000)
    assert list(partitions_of(resp)) == [("forget", 2)]  # partition 1 is no longer fetched
    # Forgetting every partition closes the session: answered without one.
    resp = conn.fetch(V, session_id=sid, epoch=epoch + 2, forgotten=[("forget", [0, 2])])
    assert resp["error_code"] == fw.NONE and resp["session_id"] == 0 and resp["topics"] == []
    resp = conn.fetch(V, session_id=sid, epoch=epoch + 3)
    assert resp["error_code"] == fw.FETCH_SESSION_ID_NOT_FOUND


def test_added_partition_is_fetched_from_then_on(broker):
    conn, sid, epoch = new_session(broker, "grow", partitions=1)
    create_topic(broker, "other", 1)
    produce(broker, "other", 0, 2)
    resp = conn.fetch(V, session_id=sid, epoch=epoch,
                      topics=[("grow", [(0, 1, MAX)]), ("other", [(0, 0, MAX)])])
    assert list(partitions_of(resp)) == [("other", 0)]
    produce(broker, "other", 0, 1)
    resp = conn.fetch(V, session_id=sid, epoch=epoch + 1, max_wait_ms=5000)
    got = partitions_of(resp)
    # The session still fetches "other" from offset 0 (the client did not move it on).
    assert list(got) == [("other", 0)]
    assert got[("other", 0)]["high_watermark"] == 3


def test_wrong_epoch_and_unknown_session_are_errors(broker):
    conn, sid, epoch = new_session(broker, "epochs")
    for bad in (epoch + 1, epoch + 7, -5):
        resp = conn.fetch(V, session_id=sid, epoch=bad)
        assert resp["error_code"] == fw.INVALID_FETCH_SESSION_EPOCH, bad
        assert resp["topics"] == [] and resp["session_id"] == 0
    # The session is unharmed: the right epoch works.
    resp = conn.fetch(V, session_id=sid, epoch=epoch, topics=[("epochs", [(0, 1, MAX)])])
    assert resp["error_code"] == fw.NONE and resp["session_id"] == sid
    for unknown in (sid ^ 0x5A5A, 0, 2147483647):
        resp = conn.fetch(V, session_id=unknown, epoch=3)
        assert resp["error_code"] == fw.FETCH_SESSION_ID_NOT_FOUND, unknown
        assert resp["topics"] == [] and resp["session_id"] == 0


def test_final_epoch_closes_the_session_and_fetches_without_one(broker):
    conn, sid, _ = new_session(broker, "closing")
    resp = full_fetch(conn, "closing", {0: 0}, epoch=fw.FINAL_EPOCH, session_id=sid)
    assert resp["error_code"] == fw.NONE and resp["session_id"] == 0
    assert [b[0] for b in partitions_of(resp)[("closing", 0)]["batches"]] == [0]
    resp = conn.fetch(V, session_id=sid, epoch=1)
    assert resp["error_code"] == fw.FETCH_SESSION_ID_NOT_FOUND
    # A new full fetch naming the old id gets a new session.
    resp = full_fetch(conn, "closing", {0: 1}, session_id=sid)
    assert resp["session_id"] not in (0, sid)


def test_sessions_by_topic_id(broker):
    create_topic(broker, "ids", 2)
    tid = topic_id(broker, "ids")
    produce(broker, "ids", 0, 1)
    conn = Connection(broker)
    resp = full_fetch(conn, tid, {0: 0, 1: 0}, version=13)
    sid = resp["session_id"]
    assert sid != 0 and sorted(partitions_of(resp)) == [(tid, 0), (tid, 1)]
    # An unknown topic id added to the session gets UNKNOWN_TOPIC_ID, in every response
    # (errors are never left out).
    ghost = kwire.random_topic_id()
    for epoch in (1, 2):
        topics = [(tid, [(0, 1, MAX)]), (ghost, [(0, 0, MAX)])] if epoch == 1 else []
        resp = conn.fetch(13, session_id=sid, epoch=epoch, topics=topics)
        assert resp["error_code"] == fw.NONE and resp["session_id"] == sid
        got = partitions_of(resp)
        assert list(got) == [(ghost, 0)]
        assert got[(ghost, 0)]["error_code"] == fw.UNKNOWN_TOPIC_ID
    # A session by topic id cannot go on by name (v12), nor the reverse.
    resp = conn.fetch(12, session_id=sid, epoch=3)
    assert resp["error_code"] == fw.FETCH_SESSION_TOPIC_ID_ERROR and resp["topics"] == []
    resp = conn.fetch(13, session_id=sid, epoch=3, forgotten=[(ghost, [0])])
    assert resp["error_code"] == fw.NONE and resp["topics"] == []
    by_name = full_fetch(conn, "ids", {0: 1}, version=12)["session_id"]
    assert by_name != 0
    resp = conn.fetch(13, session_id=by_name, epoch=1)
    assert resp["error_code"] == fw.FETCH_SESSION_TOPIC_ID_ERROR


def test_full_cache_answers_without_a_session(sluice):
    b = sluice.start(overrides={"auto.create.topics.enable": "false", "sluice.shards": "1",
                                "max.incremental.fetch.session.cache.slots": "1"})
    create_topic(b, "full", 1)
    produce(b, "full", 0, 1)
    first, second = Connection(b), Connection(b)
    sid = full_fetch(first, "full", {0: 0})["session_id"]
    assert sid != 0
    resp = full_fetch(second, "full", {0: 0})
    assert resp["error_code"] == fw.NONE and resp["session_id"] == 0  # no room, no eviction
    assert [x[0] for x in partitions_of(resp)[("full", 0)]["batches"]] == [0]  # data anyway
    # The first session is intact; once it is closed, the slot is free again.
    assert first.fetch(V, session_id=sid, epoch=1)["error_code"] == fw.NONE
    full_fetch(first, "full", {0: 1}, epoch=fw.FINAL_EPOCH, session_id=sid)
    assert full_fetch(second, "full", {0: 0})["session_id"] != 0


def test_idle_session_is_evicted_for_a_new_one(sluice):
    b = sluice.start(overrides={"auto.create.topics.enable": "false", "sluice.shards": "1",
                                "max.incremental.fetch.session.cache.slots": "1",
                                "sluice.fetch.session.min.eviction.ms": "300"})
    create_topic(b, "evict", 1)
    first, second = Connection(b), Connection(b)
    old = full_fetch(first, "evict", {0: 0})["session_id"]
    assert old != 0
    # The second client retries until the first session has been idle long enough.
    deadline = time.monotonic() + CLIENT_DEADLINE_S
    new = 0
    while new == 0 and time.monotonic() < deadline:
        new = full_fetch(second, "evict", {0: 0}, max_wait_ms=100)["session_id"]
    assert new not in (0, old)
    assert first.fetch(V, session_id=old, epoch=1)["error_code"] == fw.FETCH_SESSION_ID_NOT_FOUND


def test_slots_zero_disables_sessions(sluice):
    b = sluice.start(overrides={"auto.create.topics.enable": "false",
                                "max.incremental.fetch.session.cache.slots": "0"})
    create_topic(b, "nosession", 1)
    assert full_fetch(Connection(b), "nosession", {0: 0})["session_id"] == 0


class SessionConsumer:
    """Reads partitions the way the Java consumer's FetchSessionHandler does: a full fetch
    creates the session, each later fetch names only the partitions whose position moved since
    the session last heard of them, and a session error falls back to a full fetch."""

    def __init__(self, broker, topic, partitions):
        self.conn = Connection(broker)
        self.topic = topic
        self.position = {p: 0 for p in partitions}
        self.session_position = {}
        self.session_id = 0
        self.epoch = fw.INITIAL_EPOCH
        self.records = {p: 0 for p in partitions}
        self.incremental = 0
        self.last_partitions = []  # the partitions of the last response

    def poll(self):
        full = self.epoch == fw.INITIAL_EPOCH
        moved = {p: off for p, off in self.position.items()
                 if full or self.session_position.get(p) != off}
        parts = [(p, o, MAX) for p, o in moved.items()]
        resp = self.conn.fetch(V, session_id=self.session_id, epoch=self.epoch,
                               topics=[(self.topic, parts)] if parts else [],
                               max_wait_ms=100, min_bytes=1)
        if resp["error_code"] in (fw.FETCH_SESSION_ID_NOT_FOUND, fw.INVALID_FETCH_SESSION_EPOCH):
            self.session_id, self.epoch = 0, fw.INITIAL_EPOCH
            return
        assert resp["error_code"] == fw.NONE, resp
        if full:
            self.session_id = resp["session_id"]
            self.epoch = 1 if self.session_id else fw.INITIAL_EPOCH
        else:
            assert resp["session_id"] == self.session_id
            self.incremental += 1
            self.epoch += 1
        self.session_position.update(moved)
        got = partitions_of(resp)
        self.last_partitions = sorted(p for _, p in got)
        for (_, p), data in got.items():
            assert data["error_code"] == fw.NONE, data
            for base, last, count in data["batches"]:
                assert base == self.position[p], (p, base, self.position[p])  # no gap, no repeat
                self.position[p] = last + 1
                self.records[p] += count


def test_session_consumer_reads_everything_librdkafka_produces(broker):
    partitions, per_partition = 4, 500
    create_topic(broker, "stream", partitions)
    consumer = SessionConsumer(broker, "stream", range(partitions))

    def producer():
        p = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 2})
        for i in range(per_partition):
            for part in range(partitions):
                p.produce("stream", value=f"{part}-{i}".encode(), partition=part)
            if i % 50 == 0:
                p.flush(CLIENT_DEADLINE_S)
        assert p.flush(CLIENT_DEADLINE_S) == 0

    t = threading.Thread(target=producer)
    t.start()
    deadline = time.monotonic() + CLIENT_DEADLINE_S
    try:
        while sum(consumer.records.values()) < partitions * per_partition and \
                time.monotonic() < deadline:
            consumer.poll()
    finally:
        t.join(CLIENT_DEADLINE_S)
    assert consumer.records == {p: per_partition for p in range(partitions)}
    assert consumer.position == {p: per_partition for p in range(partitions)}
    assert consumer.session_id != 0 and consumer.incremental > 0
    # One more record: the incremental response carries that partition alone.
    produce(broker, "stream", 1, 1)
    while consumer.records[1] == per_partition and time.monotonic() < deadline:
        consumer.poll()
    assert consumer.records[1] == per_partition + 1
    assert consumer.last_partitions == [1]
    prefix = f"incremental fetch session {consumer.session_id} "
    incremental_lines = [l for l in broker.lines() if l.message.startswith(prefix)]
    assert len(incremental_lines) == consumer.incremental


def test_librdkafka_consumes_while_sessions_exist(broker):
    """librdkafka 2.0.2 fetches without a session (id 0, epoch -1): it must read every record
    of a multi-partition topic produced while it reads, next to a session client."""
    partitions, per_partition = 3, 300
    create_topic(broker, "mixed", partitions)
    session_client = SessionConsumer(broker, "mixed", range(partitions))
    session_client.poll()
    assert session_client.session_id != 0
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "unused",
                  "enable.auto.commit": False, "fetch.wait.max.ms": 100})
    c.assign([TopicPartition("mixed", p, 0) for p in range(partitions)])
    done = threading.Event()

    def producer():
        p = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 2})
        for i in range(per_partition):
            for part in range(partitions):
                p.produce("mixed", value=f"{part}-{i}".encode(), partition=part)
            p.poll(0)
        assert p.flush(CLIENT_DEADLINE_S) == 0
        done.set()

    t = threading.Thread(target=producer)
    t.start()
    seen = {p: [] for p in range(partitions)}
    deadline = time.monotonic() + CLIENT_DEADLINE_S
    while sum(len(v) for v in seen.values()) < partitions * per_partition and \
            time.monotonic() < deadline:
        for msg in c.consume(1000, 0.2):
            assert msg.error() is None or msg.error().code() == KafkaError._PARTITION_EOF
            if msg.error() is None:
                seen[msg.partition()].append((msg.offset(), msg.value()))
        session_client.poll()
    t.join(CLIENT_DEADLINE_S)
    c.close()
    for p in range(partitions):
        assert [o for o, _ in seen[p]] == list(range(per_partition))
        assert [v for _, v in seen[p]] == [f"{p}-{i}".encode() for i in range(per_partition)]
    # Only the raw session client made a session: librdkafka never asked for one.
    created = [l for l in broker.lines() if "fetch session" in l.message and "created" in l.message]
    assert len(created) == 1, created


def test_shutdown_does_not_wait_for_a_long_poll(sluice):
    b = sluice.start(overrides={"auto.create.topics.enable": "false"}, log_level="trace")
    create_topic(b, "idle", 1)
    conn = Connection(b)
    mark = b.line_count()
    conn.send(V, topics=[("idle", [(0, 0, MAX)])], max_wait_ms=60000, min_bytes=1)
    b.process.wait_for_log(r"fetch from .* waits up to 60000 ms", start=mark)
    started = time.monotonic()
    b.stop(signal.SIGTERM)
    # Before, a waiting fetch held the shutdown for 5 s (the bound on closing connections).
    assert time.monotonic() - started < 4
    conn.close()
