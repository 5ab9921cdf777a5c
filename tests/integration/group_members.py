"""Consumer-group members as separate processes, one per client library, for the membership
tests (test_group_members_*.py, test_group_mixed.py). Each member is a driver program that
prints JSON-lines events (tests/clients/python/group_member.py, kafkajs/group-member.js,
`sarama_client group`): "assigned" with the partitions it claims after a rebalance, "revoked"
when one starts, "record" per record read, "closed" when it has left the group after SIGTERM.

The group's truth is cross-checked through DescribeGroups (confluent-kafka's AdminClient.
list_groups, which sends ListGroups and DescribeGroups): members are matched by client id, which
the test makes unique per member."""

import json
import signal
import struct
import subprocess
import tempfile
import threading
import time

import pytest
from confluent_kafka.admin import AdminClient
from kafka import KafkaAdminClient

import clients
from group_clients import DEADLINE_S, create_topic, produce

SESSION_MS = 6000
PYTHON_DRIVER = clients.SOURCE_DIR / "clients" / "python" / "group_member.py"
KIND_ASSIGNOR = {"kafka-python": "range", "confluent": "range", "kafkajs": "RoundRobinAssigner",
                 "sarama": "range"}


class Member:
    def __init__(self, kind, broker, topic, group, client_id, assignor=None,
                 session_ms=SESSION_MS):
        self.kind, self.topic, self.client_id = kind, topic, client_id
        assignor = assignor or KIND_ASSIGNOR[kind]
        if kind in ("kafka-python", "confluent"):
            args = ["/usr/bin/python3", str(PYTHON_DRIVER), kind, broker.bootstrap, topic, group,
                    assignor, str(session_ms), client_id]
        elif kind == "kafkajs":
            args = ["node", str(clients.kafkajs_script().parent / "group-member.js"),
                    broker.bootstrap, topic, group, assignor, str(session_ms), client_id]
        elif kind == "sarama":
            args = [str(clients.sarama_binary()), "group", "-brokers", broker.bootstrap,
                    "-topic", topic, "-group", group, "-assignor", assignor,
                    "-session-ms", str(session_ms), "-client-id", client_id]
        else:
            raise ValueError(kind)
        self.events = []
        self._lock = threading.Lock()
        self._stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self._stderr)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            event = json.loads(line)
            with self._lock:
                self.events.append(event)

    def snapshot(self):
        with self._lock:
            return list(self.events)

    def stderr(self):
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def assignment(self):
        """The partitions of the topic this member claims now, None between a revoke and the
        next assignment (or before the first)."""
        current = None
        for e in self.snapshot():
            if e["ev"] == "assigned":
                current = sorted((e.get("claims") or {}).get(self.topic, []))
            elif e["ev"] == "revoked":
                current = None
        return current

    def records(self):
        return [e for e in self.snapshot() if e["ev"] == "record"]

    def alive(self):
        return self.proc.poll() is None

    def terminate(self):
        """SIGTERM: the member commits, leaves the group and says "closed"."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(DEADLINE_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            pytest.fail(f"{self.client_id} did not stop on SIGTERM: {self.stderr()}")
        self._reader.join(DEADLINE_S)
        assert code == 0, f"{self.client_id} exited {code}: {self.stderr()}"
        assert self.snapshot()[-1]["ev"] == "closed", self.snapshot()[-3:]

    def kill(self):
        self.proc.kill()
        self.proc.wait(DEADLINE_S)
        self._reader.join(DEADLINE_S)

    def close(self):
        if self.alive():
            self.proc.kill()
            self.proc.wait()
        self._stderr.close()


def decode_assignment(data):
    """Kafka's ConsumerProtocol Assignment: version, [topic, [partition]], user data."""
    if not data:
        return {}
    pos = 2
    (n,) = struct.unpack_from(">i", data, pos)
    pos += 4
    out = {}
    for _ in range(n):
        (size,) = struct.unpack_from(">h", data, pos)
        topic = data[pos + 2:pos + 2 + size].decode()
        pos += 2 + size
        (count,) = struct.unpack_from(">i", data, pos)
        out[topic] = sorted(struct.unpack_from(f">{count}i", data, pos + 4))
        pos += 4 + 4 * count
    return out


def describe(broker, group):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    groups = admin.list_groups(group=group, timeout=10)
    assert len(groups) == 1 and groups[0].id == group
    return groups[0]


def settled(broker, group, members, topic, partitions):
    """True once every member claims its share, each partition has exactly one owner, and
    DescribeGroups shows a Stable group of exactly these members with these assignments."""
    owned = {m.client_id: m.assignment() for m in members}
    if any(a is None for a in owned.values()):
        return False
    every = sorted(p for a in owned.values() for p in a)
    if every != list(range(partitions)):
        return False
    g = describe(broker, group)
    if g.state != "Stable" or g.protocol_type != "consumer":
        return False
    seen = {m.client_id: decode_assignment(m.assignment).get(topic, []) for m in g.members}
    return seen == owned


def wait_settled(broker, group, members, topic, partitions):
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        if settled(broker, group, members, topic, partitions):
            return {m.client_id: m.assignment() for m in members}
        for m in members:
            if not m.alive():
                pytest.fail(f"{m.client_id} exited {m.proc.returncode}: {m.stderr()}")
        time.sleep(0.1)  # polling interval of a wait with a deadline, not synchronisation
    state = {m.client_id: m.assignment() for m in members}
    g = describe(broker, group)
    pytest.fail(f"group {group} did not settle: members report {state}; DescribeGroups says "
                f"{g.state} {[(m.client_id, decode_assignment(m.assignment)) for m in g.members]}")


def consumed(members):
    """value -> number of times any of the members read it."""
    counts = {}
    for m in members:
        for r in m.records():
            counts[r["v"]] = counts.get(r["v"], 0) + 1
    return counts


def wait_consumed(members, values, what):
    """Waits until the members (live or not) have read every value."""
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        if set(values) <= set(consumed(members)):
            return
        for m in members:
            if m.proc.poll() not in (None, 0, -9):
                pytest.fail(f"{m.client_id} exited {m.proc.returncode}: {m.stderr()}")
        time.sleep(0.1)  # polling interval of a wait with a deadline
    missing = sorted(set(values) - set(consumed(members)))
    pytest.fail(f"timed out waiting for {what}: {len(missing)} missing, e.g. {missing[:5]}")


def committed(broker, group, topic):
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    try:
        offsets = admin.list_consumer_group_offsets(group)
    finally:
        admin.close()
    return {tp.partition: o.offset for tp, o in offsets.items() if tp.topic == topic}


def produce_values(broker, topic, prefix, count, partitions):
    produce(broker, topic, count, partitions, prefix)
    return [f"{prefix}-{i}" for i in range(count)]


def membership_scenario(broker, kind):
    """Three members of one client library on six partitions: they join one by one, one
    leaves cleanly, one is SIGKILLed; after each rebalance every partition has exactly one owner
    (as the members report it and as DescribeGroups shows it); every record is read; a record
    is read twice only when the killed member read it past its last commit, and the new owner
    starts exactly at that commit; members started afterwards resume at the committed offsets."""
    topic, group, partitions = f"members-{kind}", f"members-{kind}", 6
    create_topic(broker, topic, partitions)
    produced = produce_values(broker, topic, "a", 300, partitions)
    members, everyone = [], []
    try:
        for i in range(3):
            m = Member(kind, broker, topic, group, f"{kind}-{i}")
            members.append(m)
            everyone.append(m)
            wait_settled(broker, group, members, topic, partitions)
        shares = wait_settled(broker, group, members, topic, partitions)
        assert sorted(len(a) for a in shares.values()) == [2, 2, 2]
        wait_consumed(everyone, produced, "the first records")
        # Records produced now spread over all six partitions: each of the three reads some.
        shared = produce_values(broker, topic, "s", 300, partitions)
        produced += shared
        wait_consumed(everyone, produced, "records produced to three members")
        for m in members:
            assert {r["v"] for r in m.records()} & set(shared), m.client_id

        # A clean leave: the other two take over its partitions.
        leaver = members.pop()
        leaver.terminate()
        wait_settled(broker, group, members, topic, partitions)
        produced += produce_values(broker, topic, "b", 120, partitions)
        wait_consumed(everyone, produced, "records produced after the leave")

        # A kill while the member is reading: its session expires and the survivor gets
        # everything.
        produced += produce_values(broker, topic, "c", 600, partitions)
        victim = members.pop()
        deadline = time.monotonic() + DEADLINE_S
        while not any(r["v"].startswith("c-") for r in victim.records()):
            assert time.monotonic() < deadline, "the victim never read a record"
            time.sleep(0.01)  # polling interval of a wait with a deadline
        killed_share = victim.assignment() or []
        victim.kill()
        at_kill = committed(broker, group, topic)
        survivor = members[0]
        mark = len(survivor.snapshot())
        wait_settled(broker, group, members, topic, partitions)
        produced += produce_values(broker, topic, "d", 60, partitions)
        wait_consumed(everyone, produced, "records produced after the kill")

        # Each record once, but for what the killed member read past its last commit.
        reads = {}
        for m in everyone:
            for r in m.records():
                reads.setdefault((r["p"], r["o"]), []).append(m.client_id)
        victim_reads = {(r["p"], r["o"]) for r in victim.records()}
        for (p, o), readers in reads.items():
            if len(readers) > 1:
                assert (p in killed_share and o >= at_kill.get(p, 0) and (p, o) in victim_reads
                        and len(readers) == 2), (p, o, readers, killed_share, at_kill)
        # The survivor's first record of each partition it took over is the committed one.
        after = survivor.snapshot()[mark:]
        last_assigned = max(i for i, e in enumerate(after) if e["ev"] == "assigned")
        for p in killed_share:
            first = next(e["o"] for e in after[last_assigned:]
                         if e["ev"] == "record" and e["p"] == p)
            assert first == at_kill.get(p, 0), (p, first, at_kill)

        # Restart: the survivor stops cleanly (commits, leaves); three new members read only
        # what was produced since, each record once.
        survivor.terminate()
        members = []
        ends = {}
        for (p, o) in reads:
            ends[p] = max(ends.get(p, 0), o + 1)
        assert committed(broker, group, topic) == ends
        fresh = produce_values(broker, topic, "e", 60, partitions)
        for i in range(3):
            m = Member(kind, broker, topic, group, f"{kind}-again-{i}")
            members.append(m)
            everyone.append(m)
        wait_settled(broker, group, members, topic, partitions)
        wait_consumed(members, fresh, "records produced while the group was empty")
        again = [r for m in members for r in m.records()]
        assert sorted(r["v"] for r in again) == sorted(fresh)
        for m in members:
            m.terminate()
        assert describe(broker, group).state == "Empty"
    finally:
        for m in everyone:
            m.close()
