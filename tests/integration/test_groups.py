"""Consumer group membership with clients no one here wrote: confluent-kafka (librdkafka)
consumers joining, leaving and being killed with SIGKILL, kcat -G, cooperative-sticky and static
membership. Timeouts are short (session.timeout.ms 6000, no initial rebalance delay) so that
each test finishes quickly; committed offsets are in test_group_offsets.py."""

import multiprocessing
import os
import signal
import subprocess

import pytest
from confluent_kafka import Consumer

from group_clients import (DEADLINE_S, GROUP_OVERRIDES, assignments_cover, create_topic,
                           group_consumer, poll_all, produce, wait_until)


@pytest.fixture
def broker(sluice):
    b = sluice.start(overrides=GROUP_OVERRIDES)
    yield b
    assert not b.problems_since(0), b.log()


def test_three_consumers_share_six_partitions_and_survive_leave_and_kill(broker):
    topic = "shared"
    create_topic(broker, topic, 6)
    produce(broker, topic, 600, 6, "a")
    consumers = [group_consumer(broker, "three") for _ in range(3)]
    for c in consumers:
        c.subscribe([topic])
    seen = {}
    wait_until(lambda: (poll_all(consumers, seen), assignments_cover(consumers, topic, 6))[-1]
               and all(len(c.assignment()) == 2 for c in consumers), "three owners of two each")
    # Records read before the last rebalance without a commit are read again (at least once).
    wait_until(lambda: (poll_all(consumers, seen), len(seen) >= 600)[-1], "600 records")
    assert set(seen) == {f"a-{i}" for i in range(600)}
    for c in consumers:
        c.commit(asynchronous=False)
    # One member leaves: the other two take over every partition.
    consumers[2].close()
    rest = consumers[:2]
    wait_until(lambda: (poll_all(rest, seen), assignments_cover(rest, topic, 6))[-1],
               "two owners after a leave")
    produce(broker, topic, 120, 6, "b")
    wait_until(lambda: (poll_all(rest, seen), all(f"b-{i}" in seen for i in range(120)))[-1],
               "records produced after the leave")
    for c in rest:
        c.close()


def killed_member(bootstrap, group, topic, ready):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "session.timeout.ms": 6000,
                  "heartbeat.interval.ms": 500, "auto.offset.reset": "earliest"})
    c.subscribe([topic])
    while True:
        c.poll(0.2)
        if c.assignment():
            ready.set()


def test_killed_member_is_expired_and_its_partitions_move(broker):
    topic = "killed"
    create_topic(broker, topic, 6)
    ready = multiprocessing.Event()
    child = multiprocessing.Process(target=killed_member,
                                    args=(broker.bootstrap, "kill-group", topic, ready))
    child.start()
    try:
        assert ready.wait(DEADLINE_S)
        survivor = group_consumer(broker, "kill-group")
        survivor.subscribe([topic])
        wait_until(lambda: (survivor.poll(0.2), 0 < len(survivor.assignment()) < 6)[-1],
                   "a share of the partitions")
        os.kill(child.pid, signal.SIGKILL)
        child.join()
        # The killed member's session expires (6 s); the survivor then owns everything.
        wait_until(lambda: (survivor.poll(0.2), len(survivor.assignment()) == 6)[-1],
                   "all partitions after the session timeout")
        survivor.close()
    finally:
        if child.is_alive():
            child.kill()


def test_kcat_balanced_consumer(broker):
    topic = "kcat-group"
    create_topic(broker, topic, 3)
    produce(broker, topic, 30, 3)
    done = subprocess.run(["kcat", "-b", broker.bootstrap, "-G", "kcat-g", topic, "-o",
                           "beginning", "-e", "-q", "-X", "session.timeout.ms=6000"],
                          capture_output=True, text=True, timeout=DEADLINE_S)
    assert done.returncode == 0, done.stderr
    assert sorted(done.stdout.split()) == sorted(f"m-{i}" for i in range(30))


def test_cooperative_sticky_rebalance(broker):
    topic = "coop"
    create_topic(broker, topic, 6)
    conf = {"partition.assignment.strategy": "cooperative-sticky"}
    a = group_consumer(broker, "coop-group", **conf)
    a.subscribe([topic])
    wait_until(lambda: (a.poll(0.2), len(a.assignment()) == 6)[-1], "a owns everything")
    b = group_consumer(broker, "coop-group", **conf)
    b.subscribe([topic])
    wait_until(lambda: (a.poll(0.1), b.poll(0.1), assignments_cover([a, b], topic, 6))[-1]
               and len(a.assignment()) == 3, "three partitions each")
    a.close()
    b.close()


def test_static_member_restart_does_not_rebalance(broker):
    topic = "static"
    create_topic(broker, topic, 4)
    revoked = []
    other = group_consumer(broker, "static-group", **{"group.instance.id": "other"})
    other.subscribe([topic], on_revoke=lambda c, parts: revoked.append(len(parts)))
    s = group_consumer(broker, "static-group", **{"group.instance.id": "restarts"})
    s.subscribe([topic])
    wait_until(lambda: (other.poll(0.1), s.poll(0.1), assignments_cover([other, s], topic, 4))[-1]
               and len(s.assignment()) == 2, "two static members with two partitions each")
    mine = sorted(tp.partition for tp in s.assignment())
    revoked.clear()
    # A static member leaves without LeaveGroup (close() of a static member sends none) and
    # comes back with the same group.instance.id within the session timeout.
    s.close()
    s = group_consumer(broker, "static-group", **{"group.instance.id": "restarts"})
    s.subscribe([topic])
    wait_until(lambda: (other.poll(0.1), s.poll(0.1), len(s.assignment()) == 2)[-1],
               "the restarted member's partitions")
    assert sorted(tp.partition for tp in s.assignment()) == mine
    assert revoked == [] and len(other.assignment()) == 2
    s.close()
    other.close()
