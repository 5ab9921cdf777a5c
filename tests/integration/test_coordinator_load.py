"""Loading __consumer_offsets after a restart, with a real process: the broker accepts
connections at once and replays each partition of __consumer_offsets on its owner shard in
slices; requests for a group whose partition is still loading get Kafka's answers
(COORDINATOR_LOAD_IN_PROGRESS for OffsetFetch, OffsetCommit, JoinGroup, LeaveGroup,
DescribeGroups and ListGroups; REBALANCE_IN_PROGRESS for SyncGroup; no error for Heartbeat;
FindCoordinator answers as usual), groups of other partitions are served meanwhile, and once the partition is loaded
the exact committed offsets come back, also to real clients that started during the load; the
broker logs each load (`loaded __consumer_offsets-N: G groups, O offsets in T ms`) with the
counts the test wrote.

The partition under test is filled with enough commits (raw batched OffsetCommit) that its
replay takes far longer than the burst of requests sent right after the restart (the replay
runs in 64 KiB turns on its shard, and each request waits behind at most one turn); the other
partition is loaded by its first turn, queued on its shard before the listener opened, so its
group is always served."""

import re
import shutil
import signal
import threading

import pytest
from confluent_kafka import TopicPartition
from kafka import KafkaConsumer
from kafka import TopicPartition as KTopicPartition

import group_wire as gw
import kwire
from conftest import SluiceLauncher
from group_clients import create_topic, group_consumer, poll_all, produce, wait_until

OFFSETS_PARTITIONS = 2
LOADING = 0  # the __consumer_offsets partition filled with commits
OVERRIDES = {"group.initial.rebalance.delay.ms": "0",
             "offsets.topic.num.partitions": str(OFFSETS_PARTITIONS),
             "group.min.session.timeout.ms": "1000"}
FILL_TOPIC, FILL_PARTITIONS = "fill", 100
FILL_GROUPS = 20
# Commits per filler group: FILL_GROUPS * FILL_ROUNDS * 100 records, about 18 MB, some 300
# loading turns (0.4 s in a release build, 5-15 s under ASan); the burst after the restart
# costs about two turns per request.
FILL_ROUNDS = 150
LOADED = r"loaded __consumer_offsets-{}: (\d+) groups, (\d+) offsets in (\d+) ms"


def fill(broker, groups):
    """FILL_ROUNDS commits of every FILL_PARTITIONS partition for each group, pipelined."""
    frames = [gw.offset_commit_v2(i, g, {FILL_TOPIC: {p: (p, "") for p in
                                                      range(FILL_PARTITIONS)}})
              for i, g in enumerate(groups)]
    window, pending = 64, 0
    with kwire.connect(broker.host, broker.port) as s:

        def answer():
            _, body = kwire.split_response(kwire.recv_frame(s), 0)
            errors = gw.decode_offset_commit_v2(body)
            assert len(errors) == FILL_PARTITIONS and set(errors.values()) == {0}, errors

        for _ in range(FILL_ROUNDS):
            for f in frames:
                s.sendall(f)
                pending += 1
                if pending == window:
                    answer()
                    pending -= 1
        for _ in range(pending):
            answer()


TARGET = gw.groups_on(LOADING, OFFSETS_PARTITIONS, "target", 1)[0]
OTHER = gw.groups_on(1 - LOADING, OFFSETS_PARTITIONS, "other", 1)[0]
# The target group's offsets: every partition of FILL_TOPIC with metadata, and 4 on each
# partition of "data" (3 partitions of 10 records, d-i on partition i % 3).
EXPECTED = {**{(FILL_TOPIC, p): (1000 + p, f"meta-{p}") for p in range(FILL_PARTITIONS)},
            **{("data", p): (4, "") for p in range(3)}}


def commit_target_and_other(b):
    commits = {}
    for (topic, p), v in EXPECTED.items():
        commits.setdefault(topic, {})[p] = v
    with kwire.connect(b.host, b.port) as s:
        assert set(gw.offset_commit(s, TARGET, commits).values()) == {0}
        assert set(gw.offset_commit(s, OTHER, {FILL_TOPIC: {0: (7, "o")}}).values()) == {0}


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    """A data directory of a cleanly stopped broker: __consumer_offsets-LOADING holds the
    fillers' commits and then TARGET's (EXPECTED), the other partition one commit of OTHER;
    topic "data" has 3 partitions of 10 records. Written once for the module (the fill is
    the slow part under ASan); each test starts from a copy."""
    root = tmp_path_factory.mktemp("filled")
    launcher = SluiceLauncher(root)
    try:
        b = launcher.start(overrides=OVERRIDES, data_dir=root / "data")
        create_topic(b, FILL_TOPIC, FILL_PARTITIONS)
        create_topic(b, "data", 3)
        produce(b, "data", 30, 3, "d")
        with kwire.connect(b.host, b.port) as s:  # creates __consumer_offsets, as clients do
            _, body = kwire.call(s, gw.FIND_COORDINATOR, 1, gw.find_coordinator_v1(1, "any"))
            assert gw.first_error(body, throttle_first=True) == gw.NONE
        fill(b, gw.groups_on(LOADING, OFFSETS_PARTITIONS, "filler", FILL_GROUPS))
        commit_target_and_other(b)
        b.stop()
    finally:
        launcher.finish()
    return root / "data"


def start_copy(sluice, filled, data, how):
    """A broker restarted on a copy of the filled data directory. "sigkill": first a broker
    on the copy commits TARGET's offsets again (the log's tail) and is killed with SIGKILL."""
    shutil.copytree(filled, data)
    if how == "sigkill":
        b = sluice.start(overrides=OVERRIDES, data_dir=data)
        b.process.wait_for_log(LOADED.format(LOADING), timeout=120)
        commit_target_and_other(b)
        b.process.proc.send_signal(signal.SIGKILL)
        b.process.proc.wait()
        b.stopped = True
    return sluice.start(overrides=OVERRIDES, data_dir=data)


def loaded_line(b, partition):
    for line in b.lines():
        m = re.search(LOADED.format(partition), line.message)
        if m:
            return m
    return None


@pytest.mark.parametrize("how", ["sigterm", "sigkill"])
def test_group_requests_during_the_load_then_the_exact_offsets(sluice, filled, tmp_path, how):
    b = start_copy(sluice, filled, tmp_path / "data", how)
    target, expected, other = TARGET, EXPECTED, OTHER
    with kwire.connect(b.host, b.port) as s:
        # Right after the start, all in one burst on one connection.
        s.sendall(gw.offset_fetch_old(1, 1, target, {FILL_TOPIC: [0, 1]})
                  + gw.offset_fetch_old(2, 3, target, {FILL_TOPIC: [0, 1]})
                  + gw.offset_fetch_v8(3, {target: {FILL_TOPIC: [0, 1]}})
                  + gw.offset_commit_v2(4, target, {FILL_TOPIC: {0: (1, "")}})
                  + gw.join_group_v1(5, target)
                  + gw.sync_group_v0(6, target, 1, "m")
                  + gw.heartbeat_v0(7, target, 1, "m")
                  + gw.leave_group_v0(8, target, "m")
                  + gw.describe_groups_v0(11, target)
                  + gw.list_groups_v0(12)
                  + gw.find_coordinator_v1(9, target)
                  + gw.offset_fetch_v8(10, {other: None}))

        def answer(header_version=0):
            return kwire.split_response(kwire.recv_frame(s), header_version)

        cid, body = answer()
        assert cid == 1
        # v1: every requested partition carries the error.
        assert gw.decode_offset_fetch_old(body, 1) == (None, {
            (FILL_TOPIC, 0): (-1, "", gw.COORDINATOR_LOAD_IN_PROGRESS),
            (FILL_TOPIC, 1): (-1, "", gw.COORDINATOR_LOAD_IN_PROGRESS)})
        # v2-7: the top-level error and no partitions.
        assert gw.decode_offset_fetch_old(answer()[1], 3) == (gw.COORDINATOR_LOAD_IN_PROGRESS, {})
        # v8+: the group's error and no partitions.
        assert gw.decode_offset_fetch_v8(answer(1)[1]) == {
            target: (gw.COORDINATOR_LOAD_IN_PROGRESS, {})}
        assert gw.decode_offset_commit_v2(answer()[1]) == {
            (FILL_TOPIC, 0): gw.COORDINATOR_LOAD_IN_PROGRESS}
        assert gw.first_error(answer()[1]) == gw.COORDINATOR_LOAD_IN_PROGRESS  # JoinGroup
        assert gw.first_error(answer()[1]) == gw.REBALANCE_IN_PROGRESS  # SyncGroup
        assert gw.first_error(answer()[1]) == gw.NONE  # Heartbeat
        assert gw.first_error(answer()[1]) == gw.COORDINATOR_LOAD_IN_PROGRESS  # LeaveGroup
        r = kwire.Reader(answer()[1])  # DescribeGroups: the group's error
        assert r.int32() == 1 and r.int16() == gw.COORDINATOR_LOAD_IN_PROGRESS
        assert gw.first_error(answer()[1]) == gw.COORDINATOR_LOAD_IN_PROGRESS  # ListGroups
        cid, body = answer()
        r = kwire.Reader(body)
        r.int32()
        assert cid == 9 and r.int16() == gw.NONE  # FindCoordinator: this broker
        # The other partition of __consumer_offsets is small: loaded and served meanwhile.
        assert gw.decode_offset_fetch_v8(answer(1)[1]) == {
            other: (gw.NONE, {(FILL_TOPIC, 0): (7, "o", 0)})}

        # Until the load ends, the same request keeps getting COORDINATOR_LOAD_IN_PROGRESS;
        # then the exact offsets.
        answers = []

        def loaded():
            out = gw.fetch_v8(s, {target: None})[target]
            answers.append(out[0])
            return out[0] == gw.NONE

        wait_until(loaded, "the end of the load")
        assert set(answers[:-1]) <= {gw.COORDINATOR_LOAD_IN_PROGRESS}, answers
        got = gw.fetch_v8(s, {target: None})[target]
        assert got == (gw.NONE, {tp: (o, m, 0) for tp, (o, m) in expected.items()})

    m = loaded_line(b, LOADING)
    assert m is not None, b.log()
    assert int(m[1]) == FILL_GROUPS + 1
    assert int(m[2]) == FILL_GROUPS * FILL_PARTITIONS + len(EXPECTED)
    assert loaded_line(b, 1 - LOADING).group(1, 2) == ("1", "1")
    assert not b.problems_since(0), b.log()


def test_clients_started_during_the_load_get_the_committed_offsets(sluice, filled, tmp_path):
    b = start_copy(sluice, filled, tmp_path / "data", "sigterm")
    target = TARGET
    committed = {}

    def kafka_python():
        c = KafkaConsumer(bootstrap_servers=b.bootstrap, group_id=target,
                          enable_auto_commit=False)
        for p in range(3):
            committed[p] = c.committed(KTopicPartition("data", p))
        c.close()

    thread = threading.Thread(target=kafka_python)
    thread.start()
    c = group_consumer(b, target)  # auto.offset.reset=earliest: d-0... if offsets were lost
    c.subscribe(["data"])
    c.poll(0)
    # Both clients started while the load was under way.
    with kwire.connect(b.host, b.port) as s:
        assert gw.fetch_v8(s, {target: None})[target][0] == gw.COORDINATOR_LOAD_IN_PROGRESS
    seen = {}
    wait_until(lambda: (poll_all([c], seen), len(seen) >= 18)[-1], "18 records")
    # The group resumed at the committed offsets (4 on each partition).
    assert sorted(seen) == sorted(f"d-{i}" for i in range(12, 30))
    assert c.committed([TopicPartition("data", p) for p in range(3)], timeout=30)[0].offset == 4
    c.close()
    thread.join(60)
    assert not thread.is_alive()
    assert committed == {0: 4, 1: 4, 2: 4}
    assert loaded_line(b, LOADING) is not None
    assert not b.problems_since(0), b.log()
