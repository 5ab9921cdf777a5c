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
import time

import pytest
from confluent_kafka import TopicPartition
from kafka import KafkaConsumer
from kafka import TopicPartition as KTopicPartition

import group_wire as gw
import kwire
from conftest import _LISTENING, START_DEADLINE_S, Broker, SluiceLauncher
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
LISTENING = re.compile(_LISTENING)
ATTEMPTS = 5
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


def start_listening(sluice, data):
    """Starts a broker on `data` and returns it as soon as it listens (the harness's start also
    waits for `ready`), looking at its log every millisecond, so that the first requests
    arrive as early as a client's would."""
    p = sluice.spawn(*sluice.start_args(overrides=OVERRIDES, data_dir=data))
    deadline = time.monotonic() + START_DEADLINE_S
    while True:
        log = p.log()
        m = LISTENING.search(log)
        if m:
            node = int(re.search(r"node id (-?\d+)", log)[1])
            b = Broker(p, m["host"], int(m["port"]), data, node)
            sluice._brokers.append(b)  # stopped (cleanly, asserted) at the end of the test
            return b
        assert p.proc.poll() is None and time.monotonic() < deadline, p.describe()
        time.sleep(0.001)


def restarts(sluice, filled, data, how):
    """Brokers restarted on a copy of the filled data directory, one per attempt (the test
    stops each before asking for the next). "sigkill": before the first, a broker on the copy
    commits TARGET's offsets again (the log's tail) and is killed with SIGKILL."""
    shutil.copytree(filled, data)
    if how == "sigkill":
        b = sluice.start(overrides=OVERRIDES, data_dir=data)
        b.process.wait_for_log(LOADED.format(LOADING), timeout=120)
        commit_target_and_other(b)
        b.process.proc.send_signal(signal.SIGKILL)
        b.process.proc.wait()
        b.stopped = True
    for _ in range(ATTEMPTS):
        yield start_listening(sluice, data)


def loaded_line(b, partition):
    for line in b.lines():
        m = re.search(LOADED.format(partition), line.message)
        if m:
            return m
    return None


def burst(b):
    """Requests for TARGET (and one for OTHER) in one burst on one connection; the answers."""
    with kwire.connect(b.host, b.port) as s:
        s.sendall(gw.offset_fetch_old(1, 1, TARGET, {FILL_TOPIC: [0, 1]})
                  + gw.offset_fetch_old(2, 3, TARGET, {FILL_TOPIC: [0, 1]})
                  + gw.offset_fetch_v8(3, {TARGET: {FILL_TOPIC: [0, 1]}})
                  + gw.offset_commit_v2(4, TARGET, {FILL_TOPIC: {0: (1, "")}})
                  + gw.join_group_v1(5, TARGET)
                  + gw.sync_group_v0(6, TARGET, 1, "m")
                  + gw.heartbeat_v0(7, TARGET, 1, "m")
                  + gw.leave_group_v0(8, TARGET, "m")
                  + gw.describe_groups_v0(9, TARGET)
                  + gw.list_groups_v0(10)
                  + gw.find_coordinator_v1(11, TARGET)
                  + gw.offset_fetch_v8(12, {OTHER: None}))

        def answer(header_version=0):
            return kwire.split_response(kwire.recv_frame(s), header_version)[1]

        out = {"OffsetFetch v1": gw.decode_offset_fetch_old(answer(), 1),
               "OffsetFetch v3": gw.decode_offset_fetch_old(answer(), 3),
               "OffsetFetch v8": gw.decode_offset_fetch_v8(answer(1)),
               "OffsetCommit": gw.decode_offset_commit_v2(answer()),
               "JoinGroup": gw.first_error(answer()),
               "SyncGroup": gw.first_error(answer()),
               "Heartbeat": gw.first_error(answer()),
               "LeaveGroup": gw.first_error(answer())}
        r = kwire.Reader(answer())
        out["DescribeGroups"] = (r.int32(), r.int16())
        out["ListGroups"] = gw.first_error(answer())
        r = kwire.Reader(answer())
        r.int32()
        out["FindCoordinator"] = r.int16()
        out["OffsetFetch v8 (other partition)"] = gw.decode_offset_fetch_v8(answer(1))
    return out


LOAD = gw.COORDINATOR_LOAD_IN_PROGRESS
# Kafka's answers while TARGET's partition loads.
WHILE_LOADING = {
    # v1: every requested partition carries the error; v2-7: the top-level error and no
    # partitions; v8+: the group's error and no partitions.
    "OffsetFetch v1": (None, {(FILL_TOPIC, 0): (-1, "", LOAD), (FILL_TOPIC, 1): (-1, "", LOAD)}),
    "OffsetFetch v3": (LOAD, {}),
    "OffsetFetch v8": {TARGET: (LOAD, {})},
    "OffsetCommit": {(FILL_TOPIC, 0): LOAD},
    "JoinGroup": LOAD,
    "SyncGroup": gw.REBALANCE_IN_PROGRESS,
    "Heartbeat": gw.NONE,
    "LeaveGroup": LOAD,
    "DescribeGroups": (1, LOAD),
    "ListGroups": LOAD,
    "FindCoordinator": gw.NONE,  # this broker
    # The other partition is small: loaded by its first turn and served meanwhile.
    "OffsetFetch v8 (other partition)": {OTHER: (gw.NONE, {(FILL_TOPIC, 0): (7, "o", 0)})},
}


@pytest.mark.parametrize("how", ["sigterm", "sigkill"])
def test_group_requests_during_the_load_then_the_exact_offsets(sluice, filled, tmp_path, how):
    # Should the load end before the burst is answered (a machine much faster than the
    # filler's size assumes), the answers are not all the loading ones: the broker is
    # restarted and the burst sent again, a bounded number of times.
    tried = []
    for b in restarts(sluice, filled, tmp_path / "data", how):
        answers = burst(b)
        if answers == WHILE_LOADING:
            break
        tried.append(answers)
        b.stop()
    assert answers == WHILE_LOADING, tried

    with kwire.connect(b.host, b.port) as s:
        # Until the load ends, the same request keeps getting COORDINATOR_LOAD_IN_PROGRESS;
        # then the exact offsets.
        answers = []

        def loaded():
            out = gw.fetch_v8(s, {TARGET: None})[TARGET]
            answers.append(out[0])
            return out[0] == gw.NONE

        wait_until(loaded, "the end of the load")
        assert set(answers[:-1]) <= {LOAD}, answers
        got = gw.fetch_v8(s, {TARGET: None})[TARGET]
        assert got == (gw.NONE, {tp: (o, m, 0) for tp, (o, m) in EXPECTED.items()})

    b.process.wait_for_log(r"ready in \d+ ms")
    m = loaded_line(b, LOADING)
    assert m is not None, b.log()
    assert int(m[1]) == FILL_GROUPS + 1
    assert int(m[2]) == FILL_GROUPS * FILL_PARTITIONS + len(EXPECTED)
    assert loaded_line(b, 1 - LOADING).group(1, 2) == ("1", "1")
    assert not b.problems_since(0), b.log()


def test_clients_started_during_the_load_get_the_committed_offsets(sluice, filled, tmp_path):
    tried = 0
    for b in restarts(sluice, filled, tmp_path / "data", "sigterm"):
        committed = {}

        def kafka_python():
            c = KafkaConsumer(bootstrap_servers=b.bootstrap, group_id=TARGET,
                              enable_auto_commit=False)
            for p in range(3):
                committed[p] = c.committed(KTopicPartition("data", p))
            c.close()

        thread = threading.Thread(target=kafka_python)
        thread.start()
        c = group_consumer(b, TARGET)  # auto.offset.reset=earliest: d-0... if offsets were lost
        c.subscribe(["data"])
        c.poll(0)
        # Both clients started while the load was under way (else: again, as above).
        with kwire.connect(b.host, b.port) as s:
            during = gw.fetch_v8(s, {TARGET: None})[TARGET][0] == LOAD
        if during:
            break
        tried += 1
        c.close()
        thread.join(60)
        b.stop()
    assert during, f"the load ended before the clients started, {tried} times"
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
