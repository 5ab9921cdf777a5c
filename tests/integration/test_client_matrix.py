"""Every real client the project targets against every compression codec: kcat,
confluent-kafka (librdkafka), kafka-python, KafkaJS and sarama each produce 10,000 keyed records
with headers and timestamps over four partitions with none, gzip, snappy, lz4 and zstd, read
them back, and compare keys, values, headers, timestamps and per-partition order; the stored
batches must carry the codec asked for. Then every client reads what each other client wrote
with gzip, and pairs of implementations exchange snappy, lz4 and zstd data.

One broker per producing client (one topic per codec in it) keeps the run short; see
clients.py for what each client can express (kcat: fixed headers, its own timestamps).
"""

import struct
import time

import pytest
from confluent_kafka.admin import AdminClient, NewTopic

import clients
from clients import CLIENTS, CODECS
from conftest import SluiceLauncher

RECORDS = 10_000
PARTITIONS = 4
# Recent CreateTimes: records older than retention.ms (7 days) would be deleted by the retention
# check if the run is slow enough to reach it.
BASE_TS = int(time.time() * 1000) - 3_600_000
CODEC_IDS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}

KAFKAJS_ZSTD = pytest.mark.xfail(
    strict=True, reason="no KafkaJS ZSTD codec installs on Node 20: @kafkajs/zstd 0.1.1 needs "
    "cppzst 2.0.6, whose native build (C++14) fails against Node 20's V8 headers (C++17)")
SARAMA_ZSTD = pytest.mark.xfail(
    strict=True, reason="sarama 1.22 sends ZSTD batches in Produce v3; Kafka (KIP-110) takes "
    "ZSTD only from Produce v7 on and answers UNSUPPORTED_COMPRESSION_TYPE, as Sluice does")
EXPECTED_FAILURES = {("kafkajs", "zstd"): KAFKAJS_ZSTD, ("sarama", "zstd"): SARAMA_ZSTD}


def records():
    return [{"p": i % PARTITIONS, "k": f"key-{i:05d}".encode(),
             "v": f"value-{i}-".encode() + b"x" * (i % 97),
             "h": [("i", str(i).encode()), ("e", b"")], "ts": BASE_TS + i}
            for i in range(RECORDS)]


class Matrix:
    """One broker per producing client, started on first use; what each client produced."""

    def __init__(self, launcher):
        self.launcher = launcher
        self.brokers = {}
        self.produced = {}

    def broker(self, client):
        if client not in self.brokers:
            self.brokers[client] = self.launcher.start(
                overrides={"auto.create.topics.enable": "false"})
        return self.brokers[client]

    def produce(self, client, codec):
        """Produces (once) `client`'s topic for `codec`; returns (broker, topic, expected)."""
        if (client, codec) not in self.produced:
            broker = self.broker(client)
            topic = f"{client}-{codec}"
            admin = AdminClient({"bootstrap.servers": broker.bootstrap})
            admin.create_topics([NewTopic(topic, PARTITIONS, 1)])[topic].result(
                timeout=clients.CLIENT_DEADLINE_S)
            before_ms = int(time.time() * 1000)
            clients.produce(client, broker, topic, codec, records())
            after_ms = int(time.time() * 1000) + 1
            expected = clients.as_produced_by(client, records(), before_ms, after_ms)
            self.produced[(client, codec)] = (broker, topic, expected)
        return self.produced[(client, codec)]


@pytest.fixture(scope="module")
def matrix(tmp_path_factory):
    launcher = SluiceLauncher(tmp_path_factory.mktemp("matrix"))
    m = Matrix(launcher)
    try:
        yield m
        problems = [f"{client}: {line.message}" for client, b in m.brokers.items()
                    for line in b.problems_since(0)]
        assert not problems, problems
    finally:
        launcher.finish()


def stored_codecs(broker, topic):
    """The compression codec of every batch stored in the topic's segments."""
    codecs = set()
    for log in broker.data_dir.glob(f"{topic}-*/*.log"):
        data, pos = log.read_bytes(), 0
        while pos + 61 <= len(data):
            length = struct.unpack(">i", data[pos + 8:pos + 12])[0]
            attributes = struct.unpack(">h", data[pos + 21:pos + 23])[0]
            codecs.add(attributes & 0x07)
            pos += 12 + length
    return codecs


def cells():
    for client in CLIENTS:
        for codec in CODECS:
            marks = [EXPECTED_FAILURES[(client, codec)]] \
                if (client, codec) in EXPECTED_FAILURES else []
            yield pytest.param(client, codec, marks=marks, id=f"{client}-{codec}")


@pytest.mark.parametrize("client,codec", cells())
def test_round_trip(matrix, client, codec):
    broker, topic, expected = matrix.produce(client, codec)
    got = clients.consume(client, broker, topic, PARTITIONS, RECORDS)
    clients.assert_same_records(got, expected, PARTITIONS)
    # The client really compressed: the stored batches carry the codec. librdkafka and
    # kafka-python send a batch uncompressed when compressing does not make it smaller (a small
    # last batch), so some may have none.
    stored = stored_codecs(broker, topic)
    assert CODEC_IDS[codec] in stored and stored <= {0, CODEC_IDS[codec]}, stored


@pytest.mark.parametrize("producer,consumer",
                         [(p, c) for p in CLIENTS for c in CLIENTS if p != c],
                         ids=[f"{p}-to-{c}" for p in CLIENTS for c in CLIENTS if p != c])
def test_cross_client_gzip(matrix, producer, consumer):
    broker, topic, expected = matrix.produce(producer, "gzip")
    got = clients.consume(consumer, broker, topic, PARTITIONS, RECORDS)
    clients.assert_same_records(got, expected, PARTITIONS)


# Each other codec's framing written by one implementation and read by others (KafkaJS and
# sarama produce no ZSTD, librdkafka sends no LZ4 yet: see the marks above).
CROSS_CODEC_PAIRS = [
    ("snappy", "kafkajs", "confluent"), ("snappy", "confluent", "kafkajs"),
    ("snappy", "sarama", "kafka-python"), ("snappy", "kafka-python", "sarama"),
    ("lz4", "sarama", "kafkajs"), ("lz4", "kafkajs", "kafka-python"),
    ("lz4", "kafka-python", "sarama"), ("lz4", "sarama", "confluent"),
    ("zstd", "confluent", "sarama"), ("zstd", "confluent", "kafka-python"),
    ("zstd", "kafka-python", "kcat"), ("zstd", "kcat", "sarama"),
]


@pytest.mark.parametrize("codec,producer,consumer", CROSS_CODEC_PAIRS,
                         ids=[f"{c}-{p}-to-{q}" for c, p, q in CROSS_CODEC_PAIRS])
def test_cross_client_codecs(matrix, codec, producer, consumer):
    broker, topic, expected = matrix.produce(producer, codec)
    got = clients.consume(consumer, broker, topic, PARTITIONS, RECORDS)
    clients.assert_same_records(got, expected, PARTITIONS)
