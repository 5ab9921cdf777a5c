"""One member of a consumer group for the membership tests, run as its own process (with
/usr/bin/python3) so that a test can SIGKILL it; the Python twin of kafkajs/group-member.js and
`sarama_client group`. Prints JSON lines on stdout: {"ev":"assigned","member","claims":{topic:
[partitions]}} after each rebalance, {"ev":"revoked","member"} before one, {"ev":"record","t",
"p","o","v"} per record, and {"ev":"closed"} after SIGTERM once it has left the group. Offsets
are committed synchronously after each batch of printed records.

    group_member.py kafka-python|confluent BOOTSTRAP TOPIC GROUP ASSIGNOR[,ASSIGNOR] SESSION_MS CLIENT_ID
"""

import json
import signal
import sys

stopping = False


def emit(event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def on_sigterm(signum, frame):
    global stopping
    stopping = True


def claims(partitions):
    out = {}
    for tp in partitions:
        out.setdefault(tp.topic, []).append(tp.partition)
    return {t: sorted(p) for t, p in out.items()}


def run_kafka_python(bootstrap, topic, group, assignors, session_ms, client_id):
    from kafka import KafkaConsumer, ConsumerRebalanceListener
    from kafka.coordinator.assignors.range import RangePartitionAssignor
    from kafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor
    known = {"range": RangePartitionAssignor, "roundrobin": RoundRobinPartitionAssignor}
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group,
                             client_id=client_id,
                             auto_offset_reset="earliest", enable_auto_commit=False,
                             session_timeout_ms=session_ms,
                             heartbeat_interval_ms=max(100, session_ms // 10),
                             max_poll_interval_ms=session_ms,
                             partition_assignment_strategy=[known[a] for a in assignors])

    def member():
        generation = consumer._coordinator._generation  # kafka-python keeps it internal
        return generation.member_id if generation else None

    class Listener(ConsumerRebalanceListener):
        def on_partitions_revoked(self, revoked):
            emit({"ev": "revoked", "member": member()})

        def on_partitions_assigned(self, assigned):
            emit({"ev": "assigned", "member": member(), "claims": claims(assigned)})

    consumer.subscribe([topic], listener=Listener())
    while not stopping:
        batches = consumer.poll(timeout_ms=100)
        for records in batches.values():
            for r in records:
                emit({"ev": "record", "t": r.topic, "p": r.partition, "o": r.offset,
                      "v": r.value.decode()})
        if batches:
            consumer.commit()
    consumer.close()


def run_confluent(bootstrap, topic, group, assignors, session_ms, client_id):
    from confluent_kafka import Consumer, KafkaException
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                         "client.id": client_id,
                         "auto.offset.reset": "earliest", "enable.auto.commit": False,
                         "session.timeout.ms": session_ms,
                         "heartbeat.interval.ms": max(100, session_ms // 10),
                         "max.poll.interval.ms": max(session_ms, 10000),
                         "partition.assignment.strategy": ",".join(assignors)})

    def member():
        return None  # confluent-kafka 1.7 does not tell its member id

    def on_assign(c, partitions):
        emit({"ev": "assigned", "member": member(), "claims": claims(partitions)})

    def on_revoke(c, partitions):
        emit({"ev": "revoked", "member": member()})

    consumer.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke)
    while not stopping:
        msgs = consumer.consume(num_messages=100, timeout=0.1)
        good = [m for m in msgs if m.error() is None]
        for m in good:
            emit({"ev": "record", "t": m.topic(), "p": m.partition(), "o": m.offset(),
                  "v": m.value().decode()})
        if good:
            try:
                consumer.commit(asynchronous=False)
            except KafkaException as e:
                print(f"commit: {e}", file=sys.stderr, flush=True)
    consumer.close()


def main():
    kind, bootstrap, topic, group, assignors, session_ms, client_id = sys.argv[1:]
    signal.signal(signal.SIGTERM, on_sigterm)
    run = {"kafka-python": run_kafka_python, "confluent": run_confluent}[kind]
    run(bootstrap, topic, group, assignors.split(","), int(session_ms), client_id)
    emit({"ev": "closed"})


if __name__ == "__main__":
    main()
