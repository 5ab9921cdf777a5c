"""kafka-python 2.0.2 end to end at the protocol versions it picks for older brokers: its
producer, its group consumer (join, commit, resume at the committed offsets after a restart) and
its admin client, each with api_version auto-detected and forced to 0.10, 0.11, 1.0 and 2.0
(the group consumer also at 0.9, the first version with groups kept by the broker).

What kafka-python 2.0.2 sends (read from its source: producer/sender.py, producer/kafka.py,
consumer/fetcher.py, coordinator/base.py, coordinator/consumer.py, client_async.py,
admin/client.py):

| api_version | Produce (format) | Fetch | ListOffsets | JoinGroup | Sync/Heartbeat/Leave |
|-------------|------------------|-------|-------------|-----------|----------------------|
| 0.9         | v1 (v0 messages) | v1    | v0          | v0        | v0                   |
| 0.10        | v2 (v1 messages) | v2    | v0          | v0        | v0                   |
| 0.11        | v3 (v2 batches)  | v3    | v1          | v1        | v0                   |
| 1.0         | v4               | v4    | v1          | v2        | v1                   |
| 2.0         | v6               | v4    | v1          | v2        | v1                   |
| auto (2.4+) | v7               | v4    | v1          | v2        | v1                   |

The 0.11 row is kafka-python's own quirk: its producer compares with `>= (0, 11)` but its
consumer with `>= (0, 11, 0)`, and in Python (0, 11) < (0, 11, 0), so a consumer told (0, 11)
speaks as 0.10.1 does. At every version: Metadata v1 (v0 at 0.9; auto-detection also sends
ApiVersions v0 and Metadata v0 while probing), FindCoordinator (GroupCoordinator) v0,
OffsetCommit v2, OffsetFetch v1. Produce v0-v2, Fetch v0-v3 and ListOffsets v0 are versions
Kafka 4 removed (KIP-896) and Sluice serves. JoinGroup v0 has no rebalance timeout: kafka-python
then uses its session timeout for both. A recording wrapper around kafka-python's connection
checks this table against what each test really sends.

The admin client does not follow the forced api_version for its requests: it probes the broker
with ApiVersions and sends the highest version both sides know (Metadata v5, CreateTopics v3,
DeleteTopics v3, DescribeConfigs v2, ListGroups v2, DescribeGroups v3, OffsetFetch v3,
GroupCoordinator v0). Forcing it therefore checks that the same answers come back whatever the
client claims. Where the forced version stops kafka-python itself (headers below 0.11, zstd
below 2.1, offsets_for_times below 0.10.1), the client-side refusal is asserted: nothing
reaches the broker. The producer uses a different codec at each version.
"""

import time

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka import TopicPartition as KTP
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
from kafka.errors import (TopicAlreadyExistsError, UnknownTopicOrPartitionError,
                          UnsupportedVersionError)
from kafka.structs import OffsetAndMetadata

from kafka_python_requests import sent, versions_of  # noqa: F401 (a fixture)

DEADLINE_S = 60
VERSIONS = [None, (0, 10), (0, 11), (1, 0), (2, 0)]
IDS = ["auto", "0.10", "0.11", "1.0", "2.0"]


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    from conftest import SluiceLauncher
    launcher = SluiceLauncher(tmp_path_factory.mktemp("legacy-kafka-python"))
    try:
        # No first-rebalance delay: each case joins a fresh group and should not wait 3 s.
        yield launcher.start(overrides={"auto.create.topics.enable": "false",
                                        "group.initial.rebalance.delay.ms": "0"})
    finally:
        launcher.finish()


def tag(api_version):
    return "auto" if api_version is None else "-".join(map(str, api_version))


def has_headers(api_version):
    return api_version is None or api_version >= (0, 11)


def wait_until(condition, what, deadline_s=DEADLINE_S):
    deadline = time.monotonic() + deadline_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def admin_client(broker, api_version=None):
    return KafkaAdminClient(bootstrap_servers=broker.bootstrap, api_version=api_version,
                            request_timeout_ms=DEADLINE_S * 1000)


def create_topic(broker, name, partitions):
    admin = admin_client(broker)
    try:
        response = admin.create_topics([NewTopic(name, partitions, 1)])
        assert [(t[0], t[1]) for t in response.topic_errors] == [(name, 0)]
    finally:
        admin.close()


def read_with_librdkafka(broker, topic, partitions, count):
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "unused",
                  "enable.auto.commit": False})
    c.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    out = []
    deadline = time.monotonic() + DEADLINE_S
    while len(out) < count and time.monotonic() < deadline:
        for m in c.consume(500, 0.5):
            assert m.error() is None, m.error()
            out.append(m)
    c.close()
    return out


def produce_with_librdkafka(broker, topic, records):
    p = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 5})
    for part, key, value, ts in records:
        p.produce(topic, key=key, value=value, partition=part, timestamp=ts)
    assert p.flush(DEADLINE_S) == 0


def poll_records(consumer, count):
    got = []
    deadline = time.monotonic() + DEADLINE_S
    while len(got) < count and time.monotonic() < deadline:
        for records in consumer.poll(timeout_ms=200).values():
            got.extend(records)
    return got


# ---------------------------------------------------------------------------------------------
# (a) KafkaProducer

PRODUCE_VERSION = {None: 7, (0, 10): 2, (0, 11): 3, (1, 0): 4, (2, 0): 6}
# A different codec at each version; zstd needs 2.1 (Produce v7), so only auto-detection has it.
CODEC = {None: "zstd", (0, 10): "lz4", (0, 11): "snappy", (1, 0): "lz4", (2, 0): "gzip"}


@pytest.mark.parametrize("api_version", VERSIONS, ids=IDS)
def test_producer(broker, sent, api_version):
    topic = f"kp-produce-{tag(api_version)}"
    create_topic(broker, topic, 2)
    n = 200
    base = int(time.time() * 1000) - 3_600_000
    headers = has_headers(api_version)
    if api_version is not None:
        with pytest.raises(AssertionError, match="Zstd Requires"):  # refused client-side
            KafkaProducer(bootstrap_servers=broker.bootstrap, api_version=api_version,
                          compression_type="zstd")
    p = KafkaProducer(bootstrap_servers=broker.bootstrap, api_version=api_version,
                      compression_type=CODEC[api_version], linger_ms=5, acks="all")
    futures = [p.send(topic, key=None if i % 5 == 0 else b"k%d" % i,
                      value=b"" if i % 7 == 0 else b"v%d" % i, partition=i % 2,
                      timestamp_ms=base + i, headers=[("i", b"%d" % i)] if headers else None)
               for i in range(n)]
    if not headers:
        # Message formats 0 and 1 have no headers: kafka-python refuses them before sending.
        with pytest.raises(AssertionError, match="Headers not supported"):
            p.send(topic, value=b"x", partition=0, headers=[("h", b"v")])
    metadata = [f.get(timeout=DEADLINE_S) for f in futures]
    p.close()
    assert versions_of(sent, "ProduceRequest") == [PRODUCE_VERSION[api_version]]
    assert [(m.partition, m.offset) for m in metadata] == [(i % 2, i // 2) for i in range(n)]
    assert [m.timestamp for m in metadata] == [base + i for i in range(n)]

    got = read_with_librdkafka(broker, topic, 2, n)
    assert len(got) == n
    by_offset = {(m.partition(), m.offset()): m for m in got}
    for i in range(n):
        m = by_offset[(i % 2, i // 2)]
        assert m.key() == (None if i % 5 == 0 else b"k%d" % i), i
        assert m.value() == (b"" if i % 7 == 0 else b"v%d" % i), i
        assert m.timestamp() == (1, base + i), i  # CreateTime, as sent
        assert (m.headers() or []) == ([("i", b"%d" % i)] if headers else []), i


# ---------------------------------------------------------------------------------------------
# (b) KafkaConsumer in a group

def group_consumer(broker, topic, group, api_version):
    return KafkaConsumer(topic, bootstrap_servers=broker.bootstrap, api_version=api_version,
                         group_id=group, enable_auto_commit=False, auto_offset_reset="earliest",
                         session_timeout_ms=10000, heartbeat_interval_ms=1000,
                         request_timeout_ms=40000, max_poll_records=100)


def consumer_versions(api_version):
    """The versions of the consumer's requests at `api_version` (Heartbeat is left out: a short
    test may not live long enough to send one)."""
    level = {(0, 9): 0, (0, 10): 1, (0, 11): 2}.get(api_version, 3)
    return {"FetchRequest": [[1, 2, 3, 4][level]], "OffsetRequest": [[0, 0, 1, 1][level]],
            "JoinGroupRequest": [[0, 0, 1, 2][level]], "SyncGroupRequest": [[0, 0, 0, 1][level]],
            "LeaveGroupRequest": [[0, 0, 0, 1][level]], "GroupCoordinatorRequest": [0],
            "OffsetCommitRequest": [2], "OffsetFetchRequest": [1],
            "MetadataRequest": {None: [0, 1], (0, 9): [0]}.get(api_version, [1])}


# Also 0.9, the first version with broker-side groups: Fetch v1, message format 0.
@pytest.mark.parametrize("api_version", VERSIONS + [(0, 9)], ids=IDS + ["0.9"])
def test_group_consumer_commits_and_resumes(broker, sent, api_version):
    topic = f"kp-group-{tag(api_version)}"
    group = f"kp-group-{tag(api_version)}"
    create_topic(broker, topic, 2)
    base = int(time.time() * 1000) - 60_000
    first = [(i % 2, b"a%d" % i, b"first-%d" % i, base + i) for i in range(40)]
    produce_with_librdkafka(broker, topic, first)

    sent.clear()
    c1 = group_consumer(broker, topic, group, api_version)
    got = poll_records(c1, 40)
    assert sorted((r.partition, r.offset) for r in got) == \
        sorted((p, o) for p in range(2) for o in range(20))
    assert c1.assignment() == {KTP(topic, 0), KTP(topic, 1)}
    if api_version == (0, 9):  # format 0: no timestamps
        assert sorted((r.key, r.value, r.timestamp) for r in got) == \
            sorted((k, v, None) for _, k, v, _ in first)
    else:
        assert sorted((r.key, r.value, r.timestamp) for r in got) == \
            sorted((k, v, ts) for _, k, v, ts in first)
        assert all(r.timestamp_type == 0 for r in got)  # CreateTime
    if api_version in ((0, 9), (0, 10)):
        with pytest.raises(UnsupportedVersionError):  # needs ListOffsets v1: refused client-side
            c1.offsets_for_times({KTP(topic, 0): base})
    else:
        found = c1.offsets_for_times({KTP(topic, 0): base + 10})
        assert found[KTP(topic, 0)].offset == 5  # first record of partition 0 at or after it
    c1.commit({KTP(topic, 0): OffsetAndMetadata(20, "p0 done"),
               KTP(topic, 1): OffsetAndMetadata(20, "p1 done")})
    assert c1.committed(KTP(topic, 0)) == 20
    assert c1.committed(KTP(topic, 1)) == 20
    c1.close()  # LeaveGroup
    consumer_sent = set(sent)

    # The commits as the admin client sees them.
    admin = admin_client(broker)
    try:
        assert admin.list_consumer_group_offsets(group) == {
            KTP(topic, 0): OffsetAndMetadata(20, "p0 done"),
            KTP(topic, 1): OffsetAndMetadata(20, "p1 done")}
    finally:
        admin.close()
    sent.clear()  # not the admin's requests

    second = [(i % 2, b"b%d" % i, b"second-%d" % i, base + 100 + i) for i in range(20)]
    produce_with_librdkafka(broker, topic, second)

    # A restarted consumer of the group resumes at the commits (earliest would re-read `first`).
    c2 = group_consumer(broker, topic, group, api_version)
    got = poll_records(c2, 20)
    assert sorted((r.partition, r.offset) for r in got) == \
        sorted((p, o) for p in range(2) for o in range(20, 30))
    assert sorted((r.key, r.value) for r in got) == sorted((k, v) for _, k, v, _ in second)
    if api_version != (0, 9):
        assert sorted(r.timestamp for r in got) == sorted(ts for _, _, _, ts in second)
    c2.commit()  # the consumed positions
    c2.close()
    consumer_sent |= sent
    for api, versions in consumer_versions(api_version).items():
        assert versions_of(consumer_sent, api) == versions, (api, sorted(consumer_sent))

    watcher = KafkaConsumer(bootstrap_servers=broker.bootstrap, api_version=api_version,
                            group_id=group, enable_auto_commit=False)
    try:
        assert watcher.committed(KTP(topic, 0)) == 30
        assert watcher.committed(KTP(topic, 1)) == 30
    finally:
        watcher.close()


# ---------------------------------------------------------------------------------------------
# (c) KafkaAdminClient

def config_entries(response):
    """{name: (value, read_only, source)} from a DescribeConfigs v1/v2 response of one resource."""
    assert len(response.resources) == 1
    error_code, error_message, _, _, entries = response.resources[0]
    assert error_code == 0, error_message
    return {e[0]: (e[1], e[2], e[3]) for e in entries}


# The admin's requests, whatever api_version it is given (see the table at the top).
ADMIN_VERSIONS = {"ApiVersionRequest": [0], "CreateTopicsRequest": [3],
                  "DeleteTopicsRequest": [3], "DescribeConfigsRequest": [2],
                  "ListGroupsRequest": [2], "DescribeGroupsRequest": [3]}


@pytest.mark.parametrize("api_version", VERSIONS, ids=IDS)
def test_admin_client(broker, sent, api_version):
    topic = f"kp-admin-{tag(api_version)}"
    group = f"kp-admin-{tag(api_version)}"
    admin = admin_client(broker, api_version)
    try:
        new = NewTopic(topic, 3, 1, topic_configs={"retention.ms": "3600000",
                                                   "cleanup.policy": "compact"})
        response = admin.create_topics([new])
        assert [(t[0], t[1]) for t in response.topic_errors] == [(topic, 0)]
        with pytest.raises(TopicAlreadyExistsError):  # error 36, raised by kafka-python
            admin.create_topics([NewTopic(topic, 1, 1)])
        assert topic in admin.list_topics()
        [described] = admin.describe_topics([topic])
        assert described["error_code"] == 0
        assert sorted(p["partition"] for p in described["partitions"]) == [0, 1, 2]

        [configs] = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
        entries = config_entries(configs)
        assert entries["retention.ms"][0] == "3600000"
        assert entries["retention.ms"][2] == 1  # DYNAMIC_TOPIC_CONFIG
        assert entries["cleanup.policy"][0] == "compact"
        assert entries["segment.bytes"] == ("1073741824", False, 5)  # DEFAULT_CONFIG
        [some] = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic,
                                                        configs={"retention.ms": None})])
        assert list(config_entries(some)) == ["retention.ms"]

        # A member of a group (at the same forced version) makes the group visible.
        c = group_consumer(broker, topic, group, api_version)
        try:
            wait_until(lambda: c.poll(timeout_ms=100) is not None and len(c.assignment()) == 3,
                       "the consumer's assignment")
            assert (group, "consumer") in admin.list_consumer_groups()
            [info] = admin.describe_consumer_groups([group])
            assert (info.group, info.state, info.protocol_type, info.protocol) == \
                (group, "Stable", "consumer", "range")
            assert len(info.members) == 1
            assignment = info.members[0].member_assignment.assignment
            assert [(t, sorted(ps)) for t, ps in assignment] == [(topic, [0, 1, 2])]
            c.commit({KTP(topic, 1): OffsetAndMetadata(0, "")})
        finally:
            c.close()
        [info] = admin.describe_consumer_groups([group])
        assert (info.state, info.members) == ("Empty", [])
        assert admin.list_consumer_group_offsets(group) == \
            {KTP(topic, 1): OffsetAndMetadata(0, "")}

        response = admin.delete_topics([topic])
        assert [(t[0], t[1]) for t in response.topic_error_codes] == [(topic, 0)]
        wait_until(lambda: topic not in admin.list_topics(), "the topic to go")
        with pytest.raises(UnknownTopicOrPartitionError):  # error 3
            admin.delete_topics([topic])
        for api, versions in ADMIN_VERSIONS.items():
            assert versions_of(sent, api) == versions, (api, sorted(sent))
        assert 3 in versions_of(sent, "OffsetFetchRequest")  # the admin's; the consumer's is v1
    finally:
        admin.close()


# ---------------------------------------------------------------------------------------------
# Before broker-side groups: a consumer at 0.8.2 assigns its partitions itself and keeps its
# offsets in the broker (GroupCoordinator v0, OffsetCommit v1, OffsetFetch v1) and reads with
# Fetch v0 and ListOffsets v0. At 0.8.1 kafka-python has no coordinator lookup: it sends
# OffsetCommit v0 / OffsetFetch v0 to any node, which must work before anything has created
# __consumer_offsets.

@pytest.mark.parametrize("api_version", [(0, 8, 2), (0, 8, 1)], ids=["0.8.2", "0.8.1"])
def test_assigned_consumer_keeps_offsets_in_the_broker(broker, sent, api_version):
    topic = f"kp-assigned-{tag(api_version)}"
    group = f"kp-assigned-{tag(api_version)}"
    create_topic(broker, topic, 1)
    produce_with_librdkafka(broker, topic, [(0, b"k%d" % i, b"v%d" % i, 1000 + i)
                                            for i in range(30)])
    tp = KTP(topic, 0)
    sent.clear()

    def consumer():
        c = KafkaConsumer(bootstrap_servers=broker.bootstrap, api_version=api_version,
                          group_id=group, enable_auto_commit=False, auto_offset_reset="earliest")
        c.assign([tp])
        return c

    c1 = consumer()
    got = poll_records(c1, 30)
    assert [(r.offset, r.key, r.value, r.timestamp) for r in got] == \
        [(i, b"k%d" % i, b"v%d" % i, None) for i in range(30)]  # format 0: no timestamps
    c1.commit({tp: OffsetAndMetadata(12, "twelve")})
    assert c1.committed(tp) == 12
    c1.close()

    c2 = consumer()  # starts at the committed offset
    got = poll_records(c2, 18)
    assert [r.offset for r in got] == list(range(12, 30))
    c2.close()
    v = 0 if api_version == (0, 8, 1) else 1
    assert versions_of(sent, "OffsetCommitRequest") == [v]
    assert versions_of(sent, "OffsetFetchRequest") == [v]
    assert versions_of(sent, "GroupCoordinatorRequest") == ([] if v == 0 else [0])
    assert versions_of(sent, "FetchRequest") == [0]
    assert versions_of(sent, "OffsetRequest") == [0]

    admin = admin_client(broker)
    try:
        assert admin.list_consumer_group_offsets(group) == {tp: OffsetAndMetadata(12, "twelve")}
    finally:
        admin.close()
