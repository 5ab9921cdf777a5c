"""Committed-offset retention with a real process, as Kafka 2.1+ keeps offsets (KIP-211): a
group with an active member keeps the offsets of the topics it subscribes to however old they
are; a group's offsets expire once it has been empty for the retention time (counted from when
it became empty, not from the commits); a simple consumer's (commits without a group) from
each commit. Expiry writes tombstones to __consumer_offsets, so it survives a restart, and a
consumer of the expired group starts over by its auto.offset.reset policy.

The retention is short (sluice.offsets.retention.ms; Kafka's offsets.retention.minutes cannot
go below a minute) and checked often (offsets.retention.check.interval.ms). Every wait is on
a condition the broker reports: the simple consumer's expiry shows that a commit made before
it is older than the retention and that a check has run since."""

import time

import pytest
from kafka import KafkaAdminClient

import group_wire as gw
import kwire
from group_clients import create_topic, group_consumer, poll_all, produce, wait_until

RETENTION_MS = 4000
OVERRIDES = {"group.initial.rebalance.delay.ms": "0", "offsets.topic.num.partitions": "3",
             "group.min.session.timeout.ms": "1000",
             "sluice.offsets.retention.ms": str(RETENTION_MS),
             "offsets.retention.check.interval.ms": "100"}
POLL_S = 0.05  # between two looks at the broker's state while waiting on it


def committed(broker, group):
    """The group's committed offsets, {(topic, partition): offset}, via OffsetFetch v8."""
    with kwire.connect(broker.host, broker.port) as s:
        error, offsets = gw.fetch_v8(s, {group: None})[group]
    assert error == gw.NONE
    return {tp: o for tp, (o, _, e) in offsets.items()}


def requested(broker, group, topic, partitions):
    """OffsetFetch of named partitions: -1 for those without a committed offset."""
    with kwire.connect(broker.host, broker.port) as s:
        error, offsets = gw.fetch_v8(s, {group: {topic: list(range(partitions))}})[group]
    assert error == gw.NONE
    return [offsets[(topic, p)][0] for p in range(partitions)]


def wait_for(condition, what):
    def look():
        if condition():
            return True
        time.sleep(POLL_S)
        return False

    wait_until(look, what)


def consume(broker, group, topic, count, **conf):
    c = group_consumer(broker, group, **conf)
    c.subscribe([topic])
    seen = {}
    wait_until(lambda: (poll_all([c], seen), len(seen) >= count)[-1], f"{count} records")
    return c, seen


def test_empty_groups_lose_their_offsets_active_ones_keep_them(sluice, tmp_path):
    data = tmp_path / "data"
    b = sluice.start(overrides=OVERRIDES, data_dir=data)
    create_topic(b, "r", 2)
    produce(b, "r", 20, 2, "r")  # 10 per partition
    everything = {("r", 0): 10, ("r", 1): 10}

    # Two consumer groups commit everything and stay members; then a simple consumer commits.
    active, _ = consume(b, "active", "r", 20)
    active.commit(asynchronous=False)
    leaver, _ = consume(b, "leaver", "r", 20)
    leaver.commit(asynchronous=False)
    with kwire.connect(b.host, b.port) as s:
        assert set(gw.offset_commit(s, "simple", {"r": {0: (3, "")}}).values()) == {0}
    assert committed(b, "active") == everything
    assert committed(b, "leaver") == everything

    # The simple consumer's offset expires from its commit: by then the groups' commits are
    # older than the retention too, but their groups have members.
    wait_for(lambda: committed(b, "simple") == {}, "the simple consumer's offset to expire")
    assert committed(b, "active") == everything
    assert committed(b, "leaver") == everything

    # The leaver's group becomes empty now: its retention starts now, not at the commit.
    leaver.close()
    emptied = time.monotonic()
    assert committed(b, "leaver") == everything
    wait_for(lambda: committed(b, "leaver") == {}, "the empty group's offsets to expire")
    assert time.monotonic() - emptied >= RETENTION_MS / 1000 * 0.9
    assert requested(b, "leaver", "r", 2) == [-1, -1]
    assert committed(b, "active") == everything
    assert "group leaver: 2 committed offsets expired" in b.log()
    assert "group simple: 1 committed offsets expired" in b.log()

    # The expiry is in __consumer_offsets: a restart does not bring the offsets back. (The
    # active group becomes empty here; its offsets expire RETENTION_MS later.)
    active.close()
    b.stop()
    b = sluice.start(overrides=OVERRIDES, data_dir=data)
    assert requested(b, "leaver", "r", 2) == [-1, -1]
    assert requested(b, "simple", "r", 1) == [-1]
    admin = KafkaAdminClient(bootstrap_servers=b.bootstrap)
    groups = {g[0] for g in admin.list_consumer_groups()}
    admin.close()
    assert "leaver" not in groups and "simple" not in groups

    # A consumer of the expired group follows auto.offset.reset: earliest reads it all again.
    again, seen = consume(b, "leaver", "r", 20)
    assert sorted(seen) == sorted(f"r-{i}" for i in range(20))
    again.close()
    assert not b.problems_since(0), b.log()
