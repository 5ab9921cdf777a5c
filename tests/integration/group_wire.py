"""Raw group-coordinator requests for the tests that need to see exact error codes
(test_coordinator_load.py, test_offset_retention.py): OffsetCommit v2, OffsetFetch v1/v3/v8,
JoinGroup v1, SyncGroup v0, Heartbeat v0, LeaveGroup v0, DescribeGroups v0, ListGroups v0,
FindCoordinator v1, and the group
placement of Kafka (abs(String.hashCode) % partitions)."""

import struct

import kwire

OFFSET_COMMIT, OFFSET_FETCH, FIND_COORDINATOR = 8, 9, 10
JOIN_GROUP, HEARTBEAT, LEAVE_GROUP, SYNC_GROUP = 11, 12, 13, 14
DESCRIBE_GROUPS, LIST_GROUPS = 15, 16

NONE = 0
COORDINATOR_LOAD_IN_PROGRESS = 14
REBALANCE_IN_PROGRESS = 27


def partition_for(group: str, partitions: int) -> int:
    """Kafka's placement: Utils.abs(group.hashCode()) % partitions (ASCII names)."""
    h = 0
    for ch in group:
        h = (31 * h + ord(ch)) & 0xFFFFFFFF
    if h >= 1 << 31:
        h -= 1 << 32
    return (0 if h == -(1 << 31) else abs(h)) % partitions


def groups_on(partition: int, partitions: int, prefix: str, count: int):
    """`count` group names `<prefix>-<i>` that Kafka places on `partition`."""
    out, i = [], 0
    while len(out) < count:
        name = f"{prefix}-{i}"
        if partition_for(name, partitions) == partition:
            out.append(name)
        i += 1
    return out


def _i64(v: int) -> bytes:
    return struct.pack(">q", v)


def _bytes(b: bytes) -> bytes:
    return struct.pack(">i", len(b)) + b


# ---------------------------------------------------------------------------------------------
# OffsetCommit v2: group, generation, member, retention_time_ms, [topic [partition offset
# metadata]]; answer [topic [partition error]].

def offset_commit_v2(correlation_id: int, group: str, offsets, generation=-1, member="",
                     retention_ms=-1) -> bytes:
    """`offsets`: {topic: {partition: (offset, metadata)}}."""
    body = kwire.Writer().string(group).int32(generation).string(member).bytes() + _i64(
        retention_ms)
    body += kwire.Writer().int32(len(offsets)).bytes()
    for topic, parts in offsets.items():
        body += kwire.Writer().string(topic).int32(len(parts)).bytes()
        for p, (offset, metadata) in parts.items():
            body += kwire.Writer().int32(p).bytes() + _i64(offset)
            body += kwire.Writer().string(metadata).bytes()
    return kwire.frame(OFFSET_COMMIT, 2, correlation_id, body)


def decode_offset_commit_v2(body: bytes):
    """{(topic, partition): error}."""
    r = kwire.Reader(body)
    out = {}
    for _ in range(r.int32()):
        topic = r.string()
        for _ in range(r.int32()):
            p = r.int32()
            out[(topic, p)] = r.int16()
    r.expect_end()
    return out


def offset_commit(sock, group: str, offsets, **kw):
    _, resp = kwire.call(sock, OFFSET_COMMIT, 2, offset_commit_v2(1, group, offsets, **kw))
    return decode_offset_commit_v2(resp)


# ---------------------------------------------------------------------------------------------
# OffsetFetch

def offset_fetch_old(correlation_id: int, version: int, group: str, partitions) -> bytes:
    """v1-v7 (non-flexible up to v5): `partitions` {topic: [partition]} or None (v2+: all)."""
    assert 1 <= version <= 5
    body = kwire.Writer().string(group).bytes()
    if partitions is None:
        body += kwire.Writer().int32(-1).bytes()
    else:
        body += kwire.Writer().int32(len(partitions)).bytes()
        for topic, parts in partitions.items():
            body += kwire.Writer().string(topic).int32(len(parts)).bytes()
            for p in parts:
                body += kwire.Writer().int32(p).bytes()
    return kwire.frame(OFFSET_FETCH, version, correlation_id, body)


def decode_offset_fetch_old(body: bytes, version: int):
    """(top-level error or None before v2, {(topic, partition): (offset, metadata, error)})."""
    r = kwire.Reader(body)
    if version >= 3:
        r.int32()  # throttle
    out = {}
    for _ in range(r.int32()):
        topic = r.string()
        for _ in range(r.int32()):
            p = r.int32()
            offset = r.int64()
            if version >= 5:
                r.int32()  # leader epoch
            metadata = r.string(nullable=True)
            out[(topic, p)] = (offset, metadata, r.int16())
    error = r.int16() if version >= 2 else None
    r.expect_end()
    return error, out


def offset_fetch_v8(correlation_id: int, groups) -> bytes:
    """`groups` {group: {topic: [partition]} or None}."""
    w = kwire.Writer().uvarint(len(groups) + 1)
    for group, partitions in groups.items():
        w.compact_string(group)
        if partitions is None:
            w.uvarint(0)
        else:
            w.uvarint(len(partitions) + 1)
            for topic, parts in partitions.items():
                w.compact_string(topic).uvarint(len(parts) + 1)
                for p in parts:
                    w.int32(p)
                w.tagged_fields()
        w.tagged_fields()
    w.int8(0).tagged_fields()  # require_stable
    return kwire.frame(OFFSET_FETCH, 8, correlation_id, w.bytes(), header_version=2)


def decode_offset_fetch_v8(body: bytes):
    """{group: (error, {(topic, partition): (offset, metadata, error)})}."""
    r = kwire.Reader(body)
    r.int32()
    out = {}
    for _ in range(r.array_length(True)):
        group = r.compact_string()
        offsets = {}
        for _ in range(r.array_length(True)):
            topic = r.compact_string()
            for _ in range(r.array_length(True)):
                p = r.int32()
                offset = r.int64()
                r.int32()
                metadata = r.compact_string(nullable=True)
                offsets[(topic, p)] = (offset, metadata, r.int16())
                r.tagged_fields()
            r.tagged_fields()
        out[group] = (r.int16(), offsets)
        r.tagged_fields()
    r.tagged_fields()
    r.expect_end()
    return out


def fetch_v8(sock, groups):
    sock.sendall(offset_fetch_v8(2, groups))
    _, resp = kwire.split_response(kwire.recv_frame(sock), 1)  # flexible: header v1
    return decode_offset_fetch_v8(resp)


# ---------------------------------------------------------------------------------------------
# Membership (old non-flexible versions: only the error code is read back)

def join_group_v1(correlation_id: int, group: str, member="", session_ms=10000,
                  rebalance_ms=10000) -> bytes:
    body = (kwire.Writer().string(group).int32(session_ms).int32(rebalance_ms).string(member)
            .string("consumer").int32(1).string("range").bytes() + _bytes(b""))
    return kwire.frame(JOIN_GROUP, 1, correlation_id, body)


def sync_group_v0(correlation_id: int, group: str, generation: int, member: str) -> bytes:
    body = kwire.Writer().string(group).int32(generation).string(member).int32(0).bytes()
    return kwire.frame(SYNC_GROUP, 0, correlation_id, body)


def heartbeat_v0(correlation_id: int, group: str, generation: int, member: str) -> bytes:
    body = kwire.Writer().string(group).int32(generation).string(member).bytes()
    return kwire.frame(HEARTBEAT, 0, correlation_id, body)


def leave_group_v0(correlation_id: int, group: str, member: str) -> bytes:
    body = kwire.Writer().string(group).string(member).bytes()
    return kwire.frame(LEAVE_GROUP, 0, correlation_id, body)


def describe_groups_v0(correlation_id: int, group: str) -> bytes:
    body = kwire.Writer().int32(1).string(group).bytes()
    return kwire.frame(DESCRIBE_GROUPS, 0, correlation_id, body)


def list_groups_v0(correlation_id: int) -> bytes:
    return kwire.frame(LIST_GROUPS, 0, correlation_id, b"")


def find_coordinator_v1(correlation_id: int, group: str) -> bytes:
    body = kwire.Writer().string(group).int8(0).bytes()
    return kwire.frame(FIND_COORDINATOR, 1, correlation_id, body)


def first_error(body: bytes, throttle_first: bool = False) -> int:
    """The error code that opens a response body (after the throttle time when asked)."""
    r = kwire.Reader(body)
    if throttle_first:
        r.int32()
    return r.int16()
