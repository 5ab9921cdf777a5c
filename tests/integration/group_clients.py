"""Helpers shared by the consumer-group tests (test_groups.py, test_group_offsets.py)."""

import time

import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic

DEADLINE_S = 60
GROUP_OVERRIDES = {"group.initial.rebalance.delay.ms": "0", "offsets.topic.num.partitions": "5",
                   "group.min.session.timeout.ms": "1000"}


def create_topic(broker, name, partitions):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic(name, num_partitions=partitions,
                                  replication_factor=1)])[name].result(timeout=DEADLINE_S)


def produce(broker, topic, count, partitions, prefix="m"):
    p = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 5})
    for i in range(count):
        p.produce(topic, value=f"{prefix}-{i}".encode(), partition=i % partitions)
    assert p.flush(DEADLINE_S) == 0


def group_consumer(broker, group, **conf):
    config = {"bootstrap.servers": broker.bootstrap, "group.id": group,
              "auto.offset.reset": "earliest", "session.timeout.ms": 6000,
              "heartbeat.interval.ms": 500, "enable.auto.commit": False}
    config.update(conf)
    return Consumer(config)


def wait_until(condition, what, deadline_s=DEADLINE_S):
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if condition():
            return
    pytest.fail(f"timed out waiting for {what}")


def poll_all(consumers, seen, timeout=0.2):
    """One poll of each consumer; records values in `seen` (value -> count)."""
    for c in consumers:
        msg = c.poll(timeout)
        if msg is not None and msg.error() is None:
            v = msg.value().decode()
            seen[v] = seen.get(v, 0) + 1


def assignments_cover(consumers, topic, partitions):
    owned = []
    for c in consumers:
        owned += [tp.partition for tp in c.assignment() if tp.topic == topic]
    return sorted(owned) == list(range(partitions))
