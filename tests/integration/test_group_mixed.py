"""One consumer group whose members are four different client libraries (confluent-kafka,
kafka-python, KafkaJS, sarama), each its own process. Kafka admits a member when its protocol
type is the group's and at least one of its assignors is supported by every member
(GroupMetadata.supportsProtocols); the group then uses the assignor most members prefer among
those all support. Here the common one is "roundrobin" (KafkaJS under that name through
group-member.js, since its own is called "RoundRobinAssigner"), so: each partition has exactly
one owner, every record is read once, and the refusals are exactly Kafka's:
INCONSISTENT_GROUP_PROTOCOL for a member with no assignor in common (raw JoinGroup, kafka-python
with only range, KafkaJS with its default assigner) or another protocol type."""

import pytest
from kafka import KafkaConsumer
from kafka.coordinator.assignors.range import RangePartitionAssignor
from kafka.errors import InconsistentGroupProtocolError

import kwire
from group_clients import DEADLINE_S, GROUP_OVERRIDES, create_topic
from group_members import (Member, committed, consumed, describe, produce_values,
                           wait_consumed, wait_settled)

JOIN_GROUP, LEAVE_GROUP = 11, 13
INCONSISTENT_GROUP_PROTOCOL, MEMBER_ID_REQUIRED = 23, 79


@pytest.fixture
def broker(sluice):
    b = sluice.start(overrides=GROUP_OVERRIDES)
    yield b
    assert not b.problems_since(0), b.log()


def consumer_metadata(topic):
    """ConsumerProtocol Subscription v0: version, [topic], user data."""
    return kwire.Writer().int16(0).int32(1).string(topic).int32(0).bytes()


def raw_join(broker, group, protocol_type, protocols):
    """JoinGroup v5 as a new member (empty member id); returns (error code, member id)."""
    w = (kwire.Writer().string(group).int32(6000).int32(6000).string("").string(None)
         .string(protocol_type).int32(len(protocols)))
    for name, metadata in protocols:
        w.string(name).int32(len(metadata))
        w.buf += metadata
    with kwire.connect(broker.host, broker.port) as s:
        _, resp = kwire.call(s, JOIN_GROUP, 5, kwire.frame(JOIN_GROUP, 5, 11, w.bytes()))
    r = kwire.Reader(resp)
    r.int32()  # throttle
    error = r.int16()
    r.int32()  # generation
    r.string(), r.string()  # protocol name, leader
    return error, r.string()


KINDS = [("confluent", "range,roundrobin"), ("kafka-python", "roundrobin,range"),
         ("kafkajs", "roundrobin"), ("sarama", "roundrobin")]


def raw_leave(broker, group, member_id):
    """LeaveGroup v0; returns its error code."""
    body = kwire.Writer().string(group).string(member_id).bytes()
    with kwire.connect(broker.host, broker.port) as s:
        _, resp = kwire.call(s, LEAVE_GROUP, 0, kwire.frame(LEAVE_GROUP, 0, 12, body))
    return kwire.Reader(resp).int16()


@pytest.mark.parametrize("leader", [kind for kind, _ in KINDS])
def test_four_client_libraries_share_one_group_and_strangers_are_refused(broker, leader):
    # The first member to join leads: its library's roundrobin assigns for all four, from the
    # others' subscription metadata.
    topic, group, partitions = f"mixed-{leader}", f"mixed-{leader}", 6
    create_topic(broker, topic, partitions)
    produced = produce_values(broker, topic, "a", 300, partitions)
    # Each member lists the assignors it has; only roundrobin is in every list.
    kinds = sorted(KINDS, key=lambda k: k[0] != leader)
    if leader == "sarama":
        # sarama 1.22's leader cannot read librdkafka 1.7's subscription: it is version 1 (an
        # empty list of owned partitions after the user data), and this sarama refuses
        # trailing bytes ("error decoding packet: invalid length") where Kafka's
        # ConsumerProtocol reads a newer version's known fields. A client limitation: the
        # broker passes the metadata through as it came.
        kinds = [k for k in kinds if k[0] != "confluent"]
    members = []
    try:
        for kind, assignors in kinds:
            members.append(Member(kind, broker, topic, group, f"mixed-{kind}", assignors))
            wait_settled(broker, group, members, topic, partitions)
        g = describe(broker, group)
        assert g.protocol == "roundrobin"
        assert members[0].assignment() is not None
        assert sorted(m.client_id for m in g.members) == sorted(m.client_id for m in members)
        wait_consumed(members, produced, "the first records")
        more = produce_values(broker, topic, "b", 300, partitions)
        produced += more
        wait_consumed(members, produced, "records produced to four members")
        for m in members:  # roundrobin: one or two of the six partitions each
            assert {r["v"] for r in m.records()} & set(more), m.client_id

        # Refused: no assignor in common (range is not everyone's), another protocol type.
        # Both are what a joining client is told; the group itself is not disturbed.
        meta = consumer_metadata(topic)
        assert raw_join(broker, group, "consumer", [("range", meta)])[0] == \
            INCONSISTENT_GROUP_PROTOCOL
        assert raw_join(broker, group, "connect", [("roundrobin", meta)])[0] == \
            INCONSISTENT_GROUP_PROTOCOL
        assert raw_join(broker, group, "consumer", [("sticky", meta), ("range", meta)])[0] == \
            INCONSISTENT_GROUP_PROTOCOL
        # Not refused: one assignor in common is enough (KIP-394 then asks for the member id).
        error, member_id = raw_join(broker, group, "consumer", [("range", meta),
                                                                ("roundrobin", meta)])
        assert error == MEMBER_ID_REQUIRED and member_id
        # The id is pending until it joins with it; a LeaveGroup gives it up (as Kafka does),
        # so that it does not hold up the group's next join phase until its session expires.
        assert raw_leave(broker, group, member_id) == 0
        # A real client with only range sees the refusal as kafka-python reports it.
        stranger = KafkaConsumer(topic, bootstrap_servers=broker.bootstrap, group_id=group,
                                 partition_assignment_strategy=[RangePartitionAssignor],
                                 session_timeout_ms=6000, heartbeat_interval_ms=500)
        try:
            with pytest.raises(InconsistentGroupProtocolError):
                stranger.poll(timeout_ms=10000)
        finally:
            stranger.close(autocommit=False)
        # And KafkaJS with its own assigner's name, "RoundRobinAssigner", shared by no one.
        kafkajs = Member("kafkajs", broker, topic, group, "mixed-kafkajs-default")
        try:
            code = kafkajs.proc.wait(DEADLINE_S)
            kafkajs._reader.join(DEADLINE_S)
            assert code == 2 and kafkajs.snapshot()[-1]["error"] == "INCONSISTENT_GROUP_PROTOCOL", \
                (code, kafkajs.snapshot(), kafkajs.stderr())
        finally:
            kafkajs.close()
        wait_settled(broker, group, members, topic, partitions)
        g = describe(broker, group)
        assert g.state == "Stable" and len(g.members) == len(members)

        # Every record once: rebalances in this group were clean, each after a commit.
        counts = consumed(members)
        assert set(counts) == set(produced)
        assert [v for v, n in counts.items() if n > 1] == []
        for m in members:
            m.terminate()
        ends = {}
        for m in members:
            for r in m.records():
                ends[r["p"]] = max(ends.get(r["p"], 0), r["o"] + 1)
        assert committed(broker, group, topic) == ends
        assert describe(broker, group).state == "Empty"
    finally:
        for m in members:
            m.close()
