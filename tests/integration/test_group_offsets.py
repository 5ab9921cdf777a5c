"""Committed offsets and group administration with clients no one here wrote: offsets survive
consumer and broker restarts, kafka-python's group consumer and admin client, confluent-kafka's
list_groups, FindCoordinator and the internal __consumer_offsets, and refused commits and
heartbeats (stale generation, unknown member, oversized metadata)."""

import struct

import pytest
from confluent_kafka.admin import AdminClient
from kafka import KafkaAdminClient, KafkaConsumer
from kafka.admin import ConfigResource, ConfigResourceType
from kafka import TopicPartition as KTopicPartition
from kafka.errors import KafkaError as KPythonError
from kafka.structs import OffsetAndMetadata

import kwire
from group_clients import (GROUP_OVERRIDES, create_topic, group_consumer, poll_all, produce,
                           wait_until)


@pytest.fixture
def broker(sluice):
    b = sluice.start(overrides=GROUP_OVERRIDES)
    yield b
    assert not b.problems_since(0), b.log()


def consume_group(broker, group, topic, expected, **conf):
    c = group_consumer(broker, group, **conf)
    c.subscribe([topic])
    seen = {}
    wait_until(lambda: (poll_all([c], seen), len(seen) >= expected)[-1], f"{expected} records")
    c.commit(asynchronous=False)
    c.close()
    return seen


def test_committed_offsets_survive_consumer_and_broker_restart(sluice, tmp_path):
    data = tmp_path / "data"
    b = sluice.start(overrides=GROUP_OVERRIDES, data_dir=data)
    create_topic(b, "resume", 3)
    produce(b, "resume", 90, 3, "first")
    assert len(consume_group(b, "resumer", "resume", 90)) == 90
    produce(b, "resume", 30, 3, "second")
    # A new consumer in the group starts from the committed offsets.
    seen = consume_group(b, "resumer", "resume", 30)
    assert sorted(seen) == sorted(f"second-{i}" for i in range(30))
    b.stop()
    b = sluice.start(overrides=GROUP_OVERRIDES, data_dir=data)
    produce(b, "resume", 15, 3, "third")
    seen = consume_group(b, "resumer", "resume", 15)
    assert sorted(seen) == sorted(f"third-{i}" for i in range(15))
    admin = KafkaAdminClient(bootstrap_servers=b.bootstrap)
    offsets = admin.list_consumer_group_offsets("resumer")
    assert sum(o.offset for o in offsets.values()) == 135
    admin.close()


def test_kafka_python_group_consumer_and_admin(broker):
    topic = "kp"
    create_topic(broker, topic, 2)
    produce(broker, topic, 40, 2)
    c = KafkaConsumer(topic, bootstrap_servers=broker.bootstrap, group_id="kp-group",
                      auto_offset_reset="earliest", enable_auto_commit=False,
                      session_timeout_ms=6000, heartbeat_interval_ms=500,
                      consumer_timeout_ms=20000)
    got = []
    for msg in c:
        got.append(msg.value)
        if len(got) == 40:
            break
    assert len(got) == 40
    c.commit()
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    groups = dict(admin.list_consumer_groups())
    assert groups.get("kp-group") == "consumer"
    described = admin.describe_consumer_groups(["kp-group"])[0]
    assert described.state == "Stable"
    assert described.protocol in ("range", "roundrobin")
    assert len(described.members) == 1
    offsets = admin.list_consumer_group_offsets("kp-group")
    assert {tp.partition: o.offset for tp, o in offsets.items()} == {0: 20, 1: 20}
    # Oversized metadata (offset.metadata.max.bytes 4096) is refused for that partition.
    with pytest.raises(KPythonError) as e:
        c.commit({KTopicPartition(topic, 0): OffsetAndMetadata(5, "x" * 5000)})
    assert "OffsetMetadataTooLarge" in type(e.value).__name__
    c.close()
    # The group is empty now: it can be deleted, and then is gone.
    wait_until(lambda: admin.describe_consumer_groups(["kp-group"])[0].state == "Empty",
               "the group to be empty")
    result = admin.delete_consumer_groups(["kp-group"])
    assert [err.__name__ for _, err in result] == ["NoError"]
    assert "kp-group" not in dict(admin.list_consumer_groups())
    admin.close()


def test_confluent_list_groups(broker):
    topic = "listed"
    create_topic(broker, topic, 1)
    c = group_consumer(broker, "listed-group")
    c.subscribe([topic])
    wait_until(lambda: (c.poll(0.2), len(c.assignment()) == 1)[-1], "the assignment")
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    groups = {g.id: g for g in admin.list_groups(timeout=10)}
    assert "listed-group" in groups
    g = groups["listed-group"]
    assert g.state == "Stable" and g.protocol_type == "consumer"
    assert len(g.members) == 1
    c.close()


OFFSET_COMMIT, HEARTBEAT = 8, 12
ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID = 22, 25


def raw_offset_commit(broker, group, generation, member, topic):
    """OffsetCommit v2 (non-flexible): one partition at offset 1; returns its error code."""
    body = (kwire.Writer().string(group).int32(generation).string(member).bytes()
            + struct.pack(">q", -1)
            + kwire.Writer().int32(1).string(topic).int32(1).int32(0).bytes()
            + struct.pack(">q", 1) + kwire.Writer().string("").bytes())
    with kwire.connect(broker.host, broker.port) as s:
        _, resp = kwire.call(s, OFFSET_COMMIT, 2, kwire.frame(OFFSET_COMMIT, 2, 7, body))
    r = kwire.Reader(resp)
    assert r.int32() == 1 and r.string() == topic and r.int32() == 1 and r.int32() == 0
    return r.int16()


def raw_heartbeat(broker, group, generation, member):
    body = kwire.Writer().string(group).int32(generation).string(member).bytes()
    with kwire.connect(broker.host, broker.port) as s:
        _, resp = kwire.call(s, HEARTBEAT, 0, kwire.frame(HEARTBEAT, 0, 8, body))
    return kwire.Reader(resp).int16()


def test_stale_generation_and_unknown_member_are_refused(broker):
    topic = "stale"
    create_topic(broker, topic, 1)
    c = group_consumer(broker, "stale-group")
    c.subscribe([topic])
    wait_until(lambda: (c.poll(0.2), len(c.assignment()) == 1)[-1], "the assignment")
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    member = admin.describe_consumer_groups(["stale-group"])[0].members[0].member_id
    admin.close()
    assert raw_offset_commit(broker, "stale-group", 999, member, topic) == ILLEGAL_GENERATION
    assert raw_offset_commit(broker, "stale-group", 1, "nobody", topic) == UNKNOWN_MEMBER_ID
    assert raw_heartbeat(broker, "stale-group", 999, member) == ILLEGAL_GENERATION
    assert raw_heartbeat(broker, "stale-group", 1, "nobody") == UNKNOWN_MEMBER_ID
    # A commit with a generation for a group that does not exist is from a stale member too.
    assert raw_offset_commit(broker, "no-such-group", 3, "m", topic) == ILLEGAL_GENERATION
    # Without a generation it is a simple consumer's commit, allowed for an unknown group.
    assert raw_offset_commit(broker, "simple-group", -1, "", topic) == 0
    c.close()


FIND_COORDINATOR, METADATA = 10, 3
COORDINATOR_NOT_AVAILABLE = 15


def test_find_coordinator_creates_the_internal_offsets_topic(broker):
    with kwire.connect(broker.host, broker.port) as s:
        # v1: a group key; the first lookup creates __consumer_offsets.
        body = kwire.Writer().string("any-group").int8(0).bytes()
        _, resp = kwire.call(s, FIND_COORDINATOR, 1, kwire.frame(FIND_COORDINATOR, 1, 1, body))
        r = kwire.Reader(resp)
        r.int32()
        assert r.int16() == 0
        r.string(nullable=True)
        assert (r.int32(), r.string(), r.int32()) == (broker.node_id, broker.host, broker.port)
        # A transactional id: no transaction coordinator yet.
        body = kwire.Writer().string("txn").int8(1).bytes()
        _, resp = kwire.call(s, FIND_COORDINATOR, 1, kwire.frame(FIND_COORDINATOR, 1, 2, body))
        r = kwire.Reader(resp)
        r.int32()
        assert r.int16() == COORDINATOR_NOT_AVAILABLE
        # v4: several keys in one request (flexible: header v2, response header v1).
        body = (kwire.Writer().int8(0).uvarint(3).compact_string("a").compact_string("b")
                .tagged_fields().bytes())
        s.sendall(kwire.frame(FIND_COORDINATOR, 4, 3, body, header_version=2))
        _, resp = kwire.split_response(kwire.recv_frame(s), 1)
        r = kwire.Reader(resp)
        r.int32()
        answers = []
        for _ in range(r.array_length(True)):
            key, node, host, port, err = (r.compact_string(), r.int32(), r.compact_string(),
                                          r.int32(), r.int16())
            r.compact_string(nullable=True)
            r.tagged_fields()
            answers.append((key, node, host, port, err))
        assert answers == [("a", broker.node_id, broker.host, broker.port, 0),
                           ("b", broker.node_id, broker.host, broker.port, 0)]
        _, resp = kwire.call(s, METADATA, 1, kwire.metadata_request(1, 4, None))
        topics = {t["name"]: t for t in kwire.decode_metadata(resp, 1)["topics"]}
    offsets = topics["__consumer_offsets"]
    assert offsets["is_internal"] and len(offsets["partitions"]) == 5
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC,
                                                       "__consumer_offsets")])
    configs = {c[0]: c[1] for c in described[0].resources[0][4]}
    assert configs["cleanup.policy"] == "compact"
    assert configs["segment.bytes"] == "104857600"
    admin.close()
