"""Message formats v0 and v1 (KIP-724 removed them from Kafka 4; Sluice converts, as Kafka 3.x
did): kafka-python with its protocol version forced to the old ones produces with Produce v0-v2,
and a current client (librdkafka) reads the same records back: keys, values, timestamps and
order, uncompressed and compressed.
"""

import time

import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from confluent_kafka import Producer
from kafka import KafkaConsumer, KafkaProducer
from kafka import TopicPartition as KTopicPartition

import kwire

CLIENT_DEADLINE_S = 60
N = 300


def create_topic(broker, name):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic(name, 1, 1)])[name].result(timeout=CLIENT_DEADLINE_S)


def read_back(broker, topic, n):
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "unused",
                  "enable.auto.commit": False})
    c.assign([TopicPartition(topic, 0, 0)])
    out = []
    deadline = time.monotonic() + CLIENT_DEADLINE_S
    while len(out) < n and time.monotonic() < deadline:
        msg = c.poll(1.0)
        if msg is not None:
            assert msg.error() is None, msg.error()
            out.append(msg)
    c.close()
    return out


# (kafka-python api_version, Produce version it sends, message format)
OLD_CLIENTS = [((0, 8, 2), 0, 0), ((0, 9), 1, 0), ((0, 10), 2, 1)]


@pytest.mark.parametrize("api_version,produce_version,magic", OLD_CLIENTS)
@pytest.mark.parametrize("compression", [None, "gzip"])
def test_old_producer_records_read_by_a_new_client(broker, api_version, produce_version, magic,
                                                    compression):
    topic = f"old-{produce_version}-{compression or 'none'}"
    create_topic(broker, topic)
    p = KafkaProducer(bootstrap_servers=broker.bootstrap, api_version=api_version,
                      compression_type=compression, linger_ms=5)
    now = int(time.time() * 1000)
    futures = [p.send(topic, key=b"k%d" % i if i % 2 else None, value=b"v%d" % i, partition=0,
                      timestamp_ms=now + i) for i in range(N)]
    offsets = [f.get(timeout=CLIENT_DEADLINE_S).offset for f in futures]
    p.close()
    assert offsets == list(range(N))
    got = read_back(broker, topic, N)
    assert [m.value() for m in got] == [b"v%d" % i for i in range(N)]
    assert [m.key() for m in got] == [b"k%d" % i if i % 2 else None for i in range(N)]
    if magic == 1:
        assert [m.timestamp()[1] for m in got] == [now + i for i in range(N)]
    else:
        # Format 0 has no timestamps: Kafka stores NO_TIMESTAMP (-1).
        assert all(m.timestamp()[1] == -1 for m in got)


def test_damaged_old_message_sets_get_kafka_errors(broker):
    create_topic(broker, "old-bad")
    legacy = kwire.legacy_message_set([b"hello"], magic=1)
    bad_crc = bytearray(legacy)
    bad_crc[-1] ^= 0x01
    with kwire.connect(broker.host, broker.port) as s:
        assert kwire.produce(s, "old-bad", bytes(bad_crc), version=2)[0] == 2  # CORRUPT_MESSAGE
        assert kwire.produce(s, "old-bad", legacy[:-3], version=2)[0] == 2
        assert kwire.produce(s, "old-bad", legacy, version=2) == (0, 0)
        assert kwire.produce(s, "old-bad", kwire.legacy_message_set([b"a", b"b"], magic=0),
                             version=0) == (0, 1)


# (kafka-python api_version, Fetch version it sends, message format it reads)
OLD_CONSUMERS = [((0, 9), 1, 0), ((0, 10), 2, 1), ((0, 10, 1), 3, 1)]


@pytest.mark.parametrize("api_version,fetch_version,magic", OLD_CONSUMERS)
def test_new_producer_records_read_by_an_old_consumer(broker, api_version, fetch_version, magic):
    """librdkafka writes v2 batches (zstd and gzip, with headers); kafka-python with an old
    protocol version reads them through Fetch v1-v3, converted down."""
    topic = f"for-old-{fetch_version}"
    create_topic(broker, topic)
    now = int(time.time() * 1000)
    for codec in ("zstd", "gzip"):
        p = Producer({"bootstrap.servers": broker.bootstrap, "compression.codec": codec,
                      "linger.ms": 5})
        base = 0 if codec == "zstd" else N
        for i in range(base, base + N):
            p.produce(topic, key=b"k%d" % i, value=b"v%d" % i, partition=0, timestamp=now + i,
                      headers=[("h", b"dropped")])
        assert p.flush(CLIENT_DEADLINE_S) == 0
    c = KafkaConsumer(bootstrap_servers=broker.bootstrap, api_version=api_version,
                      group_id=None, enable_auto_commit=False, consumer_timeout_ms=10000,
                      max_partition_fetch_bytes=4096)  # several fetches, each a limit
    tp = KTopicPartition(topic, 0)
    c.assign([tp])
    c.seek(tp, 5)  # mid-batch: the conversion starts at the fetch offset
    got = []
    deadline = time.monotonic() + CLIENT_DEADLINE_S
    while len(got) < 2 * N - 5 and time.monotonic() < deadline:
        for records in c.poll(timeout_ms=1000).values():
            got.extend(records)
    c.close()
    assert [r.offset for r in got] == list(range(5, 2 * N))
    assert [r.value for r in got] == [b"v%d" % i for i in range(5, 2 * N)]
    assert [r.key for r in got] == [b"k%d" % i for i in range(5, 2 * N)]
    if magic == 1:
        assert [r.timestamp for r in got] == [now + i for i in range(5, 2 * N)]
