"""Batches no well-behaved client sends, over a raw socket (Produce v8): each gets the error
Apache Kafka gives it (its LogValidator and record-batch checks), nothing is appended, and
afterwards a real client still produces and consumes on the same broker.

test_produce_consume.py already covers a zeroed CRC, a truncated batch, magic 1, a batch over a
topic's max.message.bytes and an unknown topic; this file covers the record count, a flipped
byte under a valid-looking CRC, and the broker-wide message.max.bytes.
"""

import time

import pytest
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

import kwire

CLIENT_DEADLINE_S = 60
NONE = 0
CORRUPT_MESSAGE = 2
MESSAGE_TOO_LARGE = 10
INVALID_RECORD = 87


@pytest.fixture
def broker(sluice):
    b = sluice.start(overrides={"auto.create.topics.enable": "false",
                                "message.max.bytes": "10000"})
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    futures = admin.create_topics([NewTopic("t", 1, 1),
                                   NewTopic("roomy", 1, 1,
                                            config={"max.message.bytes": "100000"})])
    for f in futures.values():
        f.result(timeout=CLIENT_DEADLINE_S)
    return b


def produce(broker, topic, records):
    with kwire.connect(broker.host, broker.port) as s:
        cid, body = kwire.call(s, kwire.PRODUCE, 8,
                               kwire.produce_request(8, 7, topic, 0, records))
        assert cid == 7
        return kwire.decode_produce(body, 8)


def still_serves(broker, topic, expected_before):
    """confluent-kafka produces one record and reads the partition back: exactly the records
    produced so far plus the new one, nothing of the refused batches."""
    p = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all"})
    errors = []
    p.produce(topic, value=b"after", partition=0,
              on_delivery=lambda err, msg: errors.append(err))
    assert p.flush(CLIENT_DEADLINE_S) == 0 and errors == [None], errors
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "unused",
                  "enable.auto.commit": False})
    c.assign([TopicPartition(topic, 0, 0)])
    values = []
    deadline = time.monotonic() + CLIENT_DEADLINE_S
    while len(values) < len(expected_before) + 1 and time.monotonic() < deadline:
        m = c.poll(1.0)
        if m is not None and m.error() is None:
            values.append(m.value())
        elif m is not None:
            assert m.error().code() == KafkaError._PARTITION_EOF, m.error()
    assert c.get_watermark_offsets(TopicPartition(topic, 0), timeout=CLIENT_DEADLINE_S) == \
        (0, len(expected_before) + 1)
    c.close()
    assert values == expected_before + [b"after"]


def flip_last_byte(batch: bytes) -> bytes:
    return batch[:-1] + bytes([batch[-1] ^ 0x01])


# (id, batch, Kafka's error). Kafka's LogValidator refuses a record_count that disagrees with
# last_offset_delta or is not positive, and reading the records finds too few or too many
# (InvalidRecordException: INVALID_RECORD). The CRC covers everything after it, so any flipped
# byte is CORRUPT_MESSAGE.
BAD_BATCHES = [
    ("count_above_records", kwire.record_batch([b"a"], record_count=3, last_offset_delta=2),
     INVALID_RECORD),
    ("count_below_records", kwire.record_batch([b"a", b"b", b"c"], record_count=1,
                                               last_offset_delta=0), INVALID_RECORD),
    ("count_disagrees_with_last_offset_delta",
     kwire.record_batch([b"a", b"b"], last_offset_delta=0), INVALID_RECORD),
    ("count_zero", kwire.record_batch([b"a"], record_count=0), INVALID_RECORD),
    ("count_negative", kwire.record_batch([b"a"], record_count=-1), INVALID_RECORD),
    ("flipped_byte_in_a_value", flip_last_byte(kwire.record_batch([b"abc" * 10])),
     CORRUPT_MESSAGE),
]


@pytest.mark.parametrize("batch,error", [b[1:] for b in BAD_BATCHES],
                         ids=[b[0] for b in BAD_BATCHES])
def test_bad_batch_is_refused_and_the_broker_serves_on(broker, batch, error):
    good = produce(broker, "t", kwire.record_batch([b"good"]))
    assert good["error_code"] == NONE and good["base_offset"] == 0, good
    answer = produce(broker, "t", batch)
    assert answer["error_code"] == error, answer
    assert answer["base_offset"] == -1, answer
    still_serves(broker, "t", [b"good"])


def test_broker_message_max_bytes_bounds_batches(broker):
    big = kwire.record_batch([b"x" * 12000])
    answer = produce(broker, "t", big)
    assert answer["error_code"] == MESSAGE_TOO_LARGE, answer
    # A topic's max.message.bytes overrides the broker's message.max.bytes.
    answer = produce(broker, "roomy", big)
    assert answer["error_code"] == NONE and answer["base_offset"] == 0, answer
    assert produce(broker, "roomy", kwire.record_batch([b"y" * 120000]))["error_code"] == \
        MESSAGE_TOO_LARGE
    still_serves(broker, "t", [])
    still_serves(broker, "roomy", [b"x" * 12000])


def test_a_changed_topic_config_applies_to_the_next_produce(broker):
    """Produce keeps each topic's settings per metadata image: a config change through the admin
    API takes effect for the very next batch, both ways, on every connection."""
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})

    def set_max_message_bytes(value):
        resource = ConfigResource("topic", "roomy", set_config={"max.message.bytes": value})
        admin.alter_configs([resource])[resource].result(timeout=CLIENT_DEADLINE_S)

    batch = kwire.record_batch([b"z" * 5000])
    assert produce(broker, "roomy", batch)["error_code"] == NONE
    set_max_message_bytes("1000")
    assert produce(broker, "roomy", batch)["error_code"] == MESSAGE_TOO_LARGE
    set_max_message_bytes("200000")
    assert produce(broker, "roomy", kwire.record_batch([b"w" * 150000]))["error_code"] == NONE
