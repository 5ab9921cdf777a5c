"""Raw-socket Fetch requests with fetch sessions (KIP-227), which none of the installed clients
sends: librdkafka 2.0.2 and kafkajs always fetch with session id 0 and epoch -1, kafka-python
2.0.2 stops at Fetch v4 (before sessions), sarama 1.22 does not use them. Written from the
message definitions in /work/shared/kafka-protocol/Fetch*.json; framing and primitives come from
kwire.py.

Versions: 7 to 13. v12 is the first flexible version, v13 names topics by id.
"""

import struct

import kwire
from kwire import Reader, Writer

FETCH = 1

NONE = 0
OFFSET_OUT_OF_RANGE = 1
UNKNOWN_TOPIC_OR_PARTITION = 3
FETCH_SESSION_ID_NOT_FOUND = 70
INVALID_FETCH_SESSION_EPOCH = 71
UNKNOWN_TOPIC_ID = 100
FETCH_SESSION_TOPIC_ID_ERROR = 106

FINAL_EPOCH = -1
INITIAL_EPOCH = 0


def _array(w: Writer, flexible: bool, items, write_item):
    if flexible:
        w.uvarint(len(items) + 1)
    else:
        w.int32(len(items))
    for item in items:
        write_item(item)


def fetch_body(version, session_id=0, epoch=-1, topics=(), forgotten=(), max_wait_ms=0,
               min_bytes=1, max_bytes=50 * 1024 * 1024):
    """topics: [(topic name or 16-byte id, [(partition, fetch_offset, partition_max_bytes)])];
    forgotten: [(topic name or id, [partition])]. Names before v13, ids from v13."""
    assert 7 <= version <= 13
    flexible = version >= 12
    by_id = version >= 13
    w = Writer()

    def topic_ref(t):
        if by_id:
            w.uuid(t)
        elif flexible:
            w.compact_string(t)
        else:
            w.string(t)

    w.int32(-1)  # replica_id: a consumer
    w.int32(max_wait_ms).int32(min_bytes).int32(max_bytes)
    w.int8(0)  # isolation_level
    w.int32(session_id).int32(epoch)

    def write_partition(p):
        partition, offset, partition_max = p
        w.int32(partition)
        if version >= 9:
            w.int32(-1)  # current_leader_epoch
        w.buf += struct.pack(">q", offset)
        if version >= 12:
            w.int32(-1)  # last_fetched_epoch
        w.buf += struct.pack(">q", -1)  # log_start_offset (followers only)
        w.int32(partition_max)
        if flexible:
            w.tagged_fields()

    def write_topic(t):
        topic_ref(t[0])
        _array(w, flexible, t[1], write_partition)
        if flexible:
            w.tagged_fields()

    _array(w, flexible, list(topics), write_topic)

    def write_forgotten(t):
        topic_ref(t[0])
        _array(w, flexible, t[1], lambda p: w.int32(p))
        if flexible:
            w.tagged_fields()

    _array(w, flexible, list(forgotten), write_forgotten)
    if version >= 11:
        if flexible:
            w.compact_string("")
        else:
            w.string("")  # rack_id
    if flexible:
        w.tagged_fields()
    return w.bytes()


def decode_batches(records: bytes):
    """(base offset, last offset, record count) of each whole v2 batch in `records`."""
    out = []
    pos = 0
    while pos + 12 <= len(records):
        base, length = struct.unpack_from(">qi", records, pos)
        end = pos + 12 + length
        if end > len(records):
            break  # a partial batch at the end of a response
        last_delta = struct.unpack_from(">i", records, pos + 23)[0]
        count = struct.unpack_from(">i", records, pos + 57)[0]
        out.append((base, base + last_delta, count))
        pos = end
    return out


def decode_fetch(body: bytes, version: int) -> dict:
    flexible = version >= 12
    by_id = version >= 13
    r = Reader(body)
    out = {"throttle_time_ms": r.int32(), "error_code": r.int16(), "session_id": r.int32(),
           "topics": []}
    for _ in range(r.array_length(flexible)):
        if by_id:
            topic = r.uuid()
        elif flexible:
            topic = r.compact_string()
        else:
            topic = r.string()
        partitions = []
        for _ in range(r.array_length(flexible)):
            p = {"partition": r.int32(), "error_code": r.int16(), "high_watermark": r.int64(),
                 "last_stable_offset": r.int64(), "log_start_offset": r.int64()}
            aborted = r.array_length(flexible, nullable=True)
            for _ in range(aborted or 0):
                r.int64()
                r.int64()
                if flexible:
                    r.tagged_fields()
            if version >= 11:
                p["preferred_read_replica"] = r.int32()
            if flexible:
                n = r.uvarint()
                size = -1 if n == 0 else n - 1
            else:
                size = r.int32()
            records = b"" if size < 0 else r._take(size)
            p["batches"] = decode_batches(records)
            if flexible:
                r.tagged_fields()
            partitions.append(p)
        if flexible:
            r.tagged_fields()
        out["topics"].append({"topic": topic, "partitions": partitions})
    if flexible:
        r.tagged_fields()
    r.expect_end()
    return out


def partitions_of(response) -> dict:
    """{(topic, partition): partition dict} of a decoded response."""
    return {(t["topic"], p["partition"]): p for t in response["topics"] for p in t["partitions"]}


class Connection:
    """One connection sending Fetch requests in turn."""

    def __init__(self, broker):
        self.sock = kwire.connect(broker.host, broker.port)
        self.correlation_id = 0

    def close(self):
        self.sock.close()

    def send(self, version, **kwargs):
        self.correlation_id += 1
        header_version = 2 if version >= 12 else 1
        self.sock.sendall(kwire.frame(FETCH, version, self.correlation_id,
                                      fetch_body(version, **kwargs),
                                      header_version=header_version))
        return self.correlation_id

    def receive(self, version, correlation_id):
        cid, body = kwire.split_response(kwire.recv_frame(self.sock),
                                         1 if version >= 12 else 0)
        assert cid == correlation_id
        return decode_fetch(body, version)

    def fetch(self, version, **kwargs):
        return self.receive(version, self.send(version, **kwargs))
