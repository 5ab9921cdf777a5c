"""KafkaJS's group consumer against Sluice's group coordinator: it joins, gets every partition,
commits as it goes, and a second run of the same group resumes at the committed offsets."""

import json
import subprocess
import time

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

import clients

CLIENT_DEADLINE_S = 90


def group_consume(broker, topic, group, count):
    script = clients.kafkajs_script().parent / "group.js"
    done = subprocess.run(["node", str(script), broker.bootstrap, topic, group, str(count)],
                          capture_output=True, timeout=CLIENT_DEADLINE_S)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return [json.loads(line) for line in done.stdout.decode().splitlines()]


def produce(broker, topic, start, n):
    p = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 0})
    for i in range(start, start + n):
        p.produce(topic, value=b"v%d" % i, partition=i % 3)
    assert p.flush(CLIENT_DEADLINE_S) == 0


def test_kafkajs_group_consumes_everything_and_resumes_at_commits(sluice):
    b = sluice.start(overrides={"group.initial.rebalance.delay.ms": "0"})
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    admin.create_topics([NewTopic("kjs", 3, 1)])["kjs"].result(timeout=CLIENT_DEADLINE_S)
    produce(b, "kjs", 0, 30)
    first = group_consume(b, "kjs", "kjs-group", 30)
    assert sorted(r["v"] for r in first) == sorted("v%d" % i for i in range(30))
    assert len({(r["p"], r["o"]) for r in first}) == 30  # each record once
    produce(b, "kjs", 30, 15)
    second = group_consume(b, "kjs", "kjs-group", 15)
    # Only the new records: the group resumed at what the first run committed.
    assert sorted(r["v"] for r in second) == sorted("v%d" % i for i in range(30, 45))
    groups = admin.list_groups(timeout=CLIENT_DEADLINE_S)
    assert "kjs-group" in {g.id for g in groups}
