"""Idempotent producers: InitProducerId, the sequence checks of Produce, producer state across
restarts (clean and SIGKILL) and its expiry.

The librdkafka producer (confluent-kafka, enable.idempotence=true) keeps producing while the
broker is stopped and restarted under it, once cleanly and once with SIGKILL; every record it
was told was delivered is then in the log exactly once and in order. The rules themselves are
checked on a raw socket with hand-built batches, where the test controls every sequence number.
"""

import signal
import struct
import time

import pytest
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

import kwire

CLIENT_DEADLINE_S = 60

NONE = 0
INVALID_REQUEST = 42
OUT_OF_ORDER_SEQUENCE_NUMBER = 45
INVALID_PRODUCER_EPOCH = 47
INVALID_TRANSACTION_TIMEOUT = 50
COORDINATOR_NOT_AVAILABLE = 15
INVALID_RECORD = 87
UNSUPPORTED_COMPRESSION_TYPE = 76


def create_topic(broker, name, partitions=1):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    futures = admin.create_topics([NewTopic(name, num_partitions=partitions,
                                            replication_factor=1)])
    futures[name].result(timeout=CLIENT_DEADLINE_S)


def consume_values(broker, topic, partition, expected):
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "unused",
                  "enable.auto.commit": False})
    c.assign([TopicPartition(topic, partition, 0)])
    out = []
    deadline = time.monotonic() + CLIENT_DEADLINE_S
    while len(out) < expected and time.monotonic() < deadline:
        msg = c.poll(1.0)
        if msg is None:
            continue
        assert msg.error() is None, msg.error()
        out.append(int(msg.value()))
    # Anything beyond `expected` would be a duplicate: read until the end to see it.
    high = c.get_watermark_offsets(TopicPartition(topic, partition),
                                   timeout=CLIENT_DEADLINE_S)[1]
    c.close()
    return out, high


# ---------------------------------------------------------------------------------------------
# A real idempotent producer across a clean restart and a SIGKILL.

def test_idempotent_producer_survives_restart_and_sigkill(sluice, tmp_path):
    data = tmp_path / "idem-data"
    b = sluice.start(data_dir=data)
    port = b.port
    create_topic(b, "idem", partitions=3)
    delivered = []
    failed = []

    def on_delivery(err, msg):
        if err is None:
            delivered.append((msg.partition(), msg.offset(), int(msg.value())))
        else:
            failed.append(err)

    p = Producer({"bootstrap.servers": b.bootstrap, "enable.idempotence": True, "acks": "all",
                  "linger.ms": 2, "batch.num.messages": 50, "message.timeout.ms": 120000,
                  "retry.backoff.ms": 50, "reconnect.backoff.ms": 50,
                  "reconnect.backoff.max.ms": 200})
    total = 0

    def produce(n, until_delivered):
        nonlocal total
        for _ in range(n):
            p.produce("idem", value=str(total).encode(), partition=total % 3,
                      on_delivery=on_delivery)
            total += 1
            p.poll(0)
        deadline = time.monotonic() + CLIENT_DEADLINE_S
        while len(delivered) < until_delivered and time.monotonic() < deadline:
            p.poll(0.05)
        assert len(delivered) >= until_delivered, (len(delivered), failed)

    # Records in flight while the broker stops are retried by the producer afterwards, with the
    # same sequence numbers; what the broker already had must not be written twice.
    produce(3000, 500)
    b.stop()
    b = sluice.start(data_dir=data, listeners=f"PLAINTEXT://127.0.0.1:{port}")
    produce(3000, 3500)
    b.process.kill()  # SIGKILL: no snapshot, the producer state is rebuilt from the log
    b.stopped = True
    b = sluice.start(data_dir=data, listeners=f"PLAINTEXT://127.0.0.1:{port}")
    produce(3000, 6000)
    assert p.flush(CLIENT_DEADLINE_S) == 0
    assert not failed, failed
    assert len(delivered) == total == 9000

    for partition in range(3):
        want = [i for i in range(total) if i % 3 == partition]
        got, high = consume_values(b, "idem", partition, len(want))
        assert got == want  # no duplicate, no gap, in order
        assert high == len(want)
    # Every acknowledged offset holds the value it was acknowledged for.
    by_offset = {(part, off): v for part, off, v in delivered}
    assert all(v % 3 == part and off == v // 3 for (part, off), v in by_offset.items())


# ---------------------------------------------------------------------------------------------
# The rules on a raw socket.

def batch(count, producer_id, epoch, sequence, attributes=0):
    """A valid v2 batch of `count` one-byte records from the given producer."""
    return kwire.record_batch([b"x"] * count, producer_id, epoch, sequence, attributes,
                              timestamp=int(time.time() * 1000))


def init_producer_id(sock, transactional_id=None, timeout_ms=60000):
    body = kwire.Writer().string(transactional_id).int32(timeout_ms).bytes()
    _, resp = kwire.call(sock, 22, 1, kwire.frame(22, 1, 7, body))
    r = kwire.Reader(resp)
    r.int32()  # throttle
    return r.int16(), r.int64(), r.int16()


def produce(sock, topic, records, version=3):
    return kwire.produce(sock, topic, records, version)


def log_end(sock, topic):
    """ListOffsets v1 latest of partition 0."""
    w = kwire.Writer().int32(-1).int32(1).string(topic).int32(1).int32(0)
    body = w.bytes() + struct.pack(">q", -1)
    _, resp = kwire.call(sock, 2, 1, kwire.frame(2, 1, 11, body))
    r = kwire.Reader(resp)
    assert r.int32() == 1 and r.string() == topic and r.int32() == 1 and r.int32() == 0
    assert r.int16() == 0
    r.int64()  # timestamp
    return r.int64()


def test_init_producer_id_hands_out_new_ids_across_restarts(sluice, tmp_path):
    data = tmp_path / "ids"
    b = sluice.start(data_dir=data)
    with kwire.connect(b.host, b.port) as s:
        first = [init_producer_id(s) for _ in range(5)]
        assert all(err == NONE and epoch == 0 for err, _, epoch in first)
        ids = [pid for _, pid, _ in first]
        assert len(set(ids)) == 5 and min(ids) >= 0
        # Transactions need a transaction coordinator, which Sluice does not have yet.
        assert init_producer_id(s, "tx-1")[0] == COORDINATOR_NOT_AVAILABLE
        assert init_producer_id(s, "")[0] == INVALID_REQUEST
        assert init_producer_id(s, "tx-1", timeout_ms=10**9)[0] == INVALID_TRANSACTION_TIMEOUT
    b.stop()
    b = sluice.start(data_dir=data)
    with kwire.connect(b.host, b.port) as s:
        err, pid, _ = init_producer_id(s)
        assert err == NONE and pid > max(ids)  # never reused


@pytest.mark.parametrize("restart", ["clean", "sigkill"])
def test_sequence_rules_and_duplicates_across_restart(sluice, tmp_path, restart):
    data = tmp_path / "seq"
    b = sluice.start(data_dir=data)
    create_topic(b, "seq")
    with kwire.connect(b.host, b.port) as s:
        _, pid, epoch = init_producer_id(s)
        assert produce(s, "seq", batch(3, pid, epoch, 0)) == (NONE, 0)
        assert produce(s, "seq", batch(2, pid, epoch, 3)) == (NONE, 3)
        # A retry of either of the last batches is acknowledged with its original offset.
        assert produce(s, "seq", batch(3, pid, epoch, 0)) == (NONE, 0)
        assert produce(s, "seq", batch(2, pid, epoch, 3)) == (NONE, 3)
        assert log_end(s, "seq") == 5
        # A gap is refused.
        assert produce(s, "seq", batch(1, pid, epoch, 9))[0] == OUT_OF_ORDER_SEQUENCE_NUMBER
        # A new epoch starts at sequence 0; the old one is fenced from then on.
        assert produce(s, "seq", batch(1, pid, epoch + 1, 4))[0] == OUT_OF_ORDER_SEQUENCE_NUMBER
        assert produce(s, "seq", batch(1, pid, epoch + 1, 0)) == (NONE, 5)
        assert produce(s, "seq", batch(1, pid, epoch, 5))[0] == INVALID_PRODUCER_EPOCH
        assert log_end(s, "seq") == 6
    if restart == "clean":
        b.stop()
    else:
        b.process.proc.send_signal(signal.SIGKILL)
        b.process.proc.wait()
        b.stopped = True
    b = sluice.start(data_dir=data)
    with kwire.connect(b.host, b.port) as s:
        assert produce(s, "seq", batch(1, pid, epoch + 1, 0)) == (NONE, 5)
        assert produce(s, "seq", batch(1, pid, epoch, 5))[0] == INVALID_PRODUCER_EPOCH
        assert produce(s, "seq", batch(1, pid, epoch + 1, 2))[0] == OUT_OF_ORDER_SEQUENCE_NUMBER
        assert produce(s, "seq", batch(1, pid, epoch + 1, 1)) == (NONE, 6)
        assert log_end(s, "seq") == 7


def test_idle_producers_expire(sluice):
    b = sluice.start(overrides={"producer.id.expiration.ms": "1000",
                                "producer.id.expiration.check.interval.ms": "200"})
    create_topic(b, "expiring")
    with kwire.connect(b.host, b.port) as s:
        _, pid, epoch = init_producer_id(s)
        assert produce(s, "expiring", batch(1, pid, epoch, 0)) == (NONE, 0)
        assert produce(s, "expiring", batch(1, pid, epoch, 5))[0] == OUT_OF_ORDER_SEQUENCE_NUMBER
        b.process.wait_for_log(r"expiring-0: expired 1 idle producer ids")
        # Forgotten: the producer may continue from any sequence, as a new one.
        assert produce(s, "expiring", batch(1, pid, epoch, 5)) == (NONE, 1)


def test_produce_request_rules(sluice):
    b = sluice.start()
    create_topic(b, "rules")
    with kwire.connect(b.host, b.port) as s:
        two = batch(1, -1, -1, -1) + batch(1, -1, -1, -1)
        assert produce(s, "rules", two)[0] == INVALID_RECORD  # one batch per partition
        assert produce(s, "rules", batch(1, 77, 0, -1))[0] == INVALID_RECORD  # id, no sequence
        zstd = batch(1, -1, -1, -1, attributes=4)
        # zstd needs Produce v7 (checked before the records would be decompressed).
        assert produce(s, "rules", zstd, version=6)[0] == UNSUPPORTED_COMPRESSION_TYPE
        assert log_end(s, "rules") == 0
        assert produce(s, "rules", batch(2, -1, -1, -1)) == (NONE, 0)
