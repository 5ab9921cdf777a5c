"""A tiny Kafka wire-protocol encoder/decoder for raw-socket tests: ApiVersions and Metadata
only, written from the message definitions in /work/shared/kafka-protocol/*.json.

Framing: int32 size, then the request header (v1: api_key int16, api_version int16,
correlation_id int32, client_id nullable int16-string; v2 adds an empty tagged-field section)
and the body. Responses: int32 size, correlation_id, an empty tagged-field section in header
v1, then the body. ApiVersions responses always use header v0.
"""

import socket
import struct
import time
import uuid
import zlib

API_VERSIONS = 18
METADATA = 3

NONE = 0
UNKNOWN_TOPIC_OR_PARTITION = 3
UNSUPPORTED_VERSION = 35
INVALID_REQUEST = 42


# ---------------------------------------------------------------------------------------------
# Encoding

class Writer:
    def __init__(self):
        self.buf = bytearray()

    def int8(self, v):
        self.buf += struct.pack(">b", v)
        return self

    def boolean(self, v):
        return self.int8(1 if v else 0)

    def int16(self, v):
        self.buf += struct.pack(">h", v)
        return self

    def int32(self, v):
        self.buf += struct.pack(">i", v)
        return self

    def uvarint(self, v):
        while True:
            b = v & 0x7F
            v >>= 7
            if v:
                self.buf.append(b | 0x80)
            else:
                self.buf.append(b)
                return self

    def string(self, s):  # int16 length; None is -1
        if s is None:
            return self.int16(-1)
        data = s.encode()
        self.int16(len(data))
        self.buf += data
        return self

    def compact_string(self, s):  # uvarint length + 1; None is 0
        if s is None:
            return self.uvarint(0)
        data = s.encode()
        self.uvarint(len(data) + 1)
        self.buf += data
        return self

    def uuid(self, u: bytes):
        assert len(u) == 16
        self.buf += u
        return self

    def tagged_fields(self):  # no tagged fields
        return self.uvarint(0)

    def bytes(self) -> bytes:
        return bytes(self.buf)


def request_header_version(api_key: int, version: int) -> int:
    flexible_from = {API_VERSIONS: 3, METADATA: 9}.get(api_key)
    return 2 if flexible_from is not None and version >= flexible_from else 1


def frame(api_key: int, version: int, correlation_id: int, body: bytes,
          client_id="sluice-itest", header_version=None) -> bytes:
    """A whole request: size prefix, header, body."""
    if header_version is None:
        header_version = request_header_version(api_key, version)
    w = Writer().int16(api_key).int16(version).int32(correlation_id)
    if header_version >= 1:
        w.string(client_id)
    if header_version >= 2:
        w.tagged_fields()
    payload = w.bytes() + body
    return struct.pack(">i", len(payload)) + payload


def api_versions_body(version: int) -> bytes:
    w = Writer()
    if version >= 3:
        w.compact_string("sluice-itest").compact_string("1.0").tagged_fields()
    return w.bytes()


def api_versions_request(version: int, correlation_id: int) -> bytes:
    return frame(API_VERSIONS, version, correlation_id, api_versions_body(version))


def metadata_body(version: int, topics, allow_auto_create=False) -> bytes:
    """topics: a list of names, or None for "all topics" (v0 has no null: an empty list)."""
    flexible = version >= 9
    w = Writer()
    if topics is None:
        if version == 0:
            w.int32(0)
        elif flexible:
            w.uvarint(0)
        else:
            w.int32(-1)
    else:
        if flexible:
            w.uvarint(len(topics) + 1)
        else:
            w.int32(len(topics))
        for name in topics:
            if version >= 10:
                w.uuid(bytes(16))
            if flexible:
                w.compact_string(name)
                w.tagged_fields()
            else:
                w.string(name)
    if version >= 4:
        w.boolean(allow_auto_create)
    if 8 <= version <= 10:
        w.boolean(False)  # include_cluster_authorized_operations
    if version >= 8:
        w.boolean(False)  # include_topic_authorized_operations
    if flexible:
        w.tagged_fields()
    return w.bytes()


def metadata_request(version: int, correlation_id: int, topics, allow_auto_create=False) -> bytes:
    return frame(METADATA, version, correlation_id,
                 metadata_body(version, topics, allow_auto_create))


# ---------------------------------------------------------------------------------------------
# Decoding

class DecodeError(Exception):
    pass


class Reader:
    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def _take(self, n):
        if n < 0 or self.pos + n > len(self.data):
            raise DecodeError(f"need {n} bytes at offset {self.pos}, have "
                              f"{len(self.data) - self.pos}")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def int8(self):
        return struct.unpack(">b", self._take(1))[0]

    def boolean(self):
        v = self.int8()
        if v not in (0, 1):
            raise DecodeError(f"bool byte {v}")
        return v == 1

    def int16(self):
        return struct.unpack(">h", self._take(2))[0]

    def int32(self):
        return struct.unpack(">i", self._take(4))[0]

    def int64(self):
        return struct.unpack(">q", self._take(8))[0]

    def uvarint(self):
        shift = 0
        out = 0
        while True:
            b = self._take(1)[0]
            out |= (b & 0x7F) << shift
            if not b & 0x80:
                return out
            shift += 7
            if shift > 35:
                raise DecodeError("varint too long")

    def string(self, nullable=False):
        n = self.int16()
        if n == -1 and nullable:
            return None
        if n < 0:
            raise DecodeError(f"string length {n}")
        return self._take(n).decode()

    def compact_string(self, nullable=False):
        n = self.uvarint()
        if n == 0:
            if nullable:
                return None
            raise DecodeError("null compact string where none is allowed")
        return self._take(n - 1).decode()

    def uuid(self):
        return self._take(16)

    def array_length(self, flexible, nullable=False):
        if flexible:
            n = self.uvarint()
            if n == 0:
                if nullable:
                    return None
                raise DecodeError("null compact array")
            return n - 1
        n = self.int32()
        if n == -1 and nullable:
            return None
        if n < 0:
            raise DecodeError(f"array length {n}")
        return n

    def tagged_fields(self):
        """Skips a tagged-field section; returns {tag: raw bytes}."""
        out = {}
        for _ in range(self.uvarint()):
            tag = self.uvarint()
            size = self.uvarint()
            out[tag] = self._take(size)
        return out

    def expect_end(self):
        if self.pos != len(self.data):
            raise DecodeError(f"{len(self.data) - self.pos} bytes left over after the body")


def split_response(payload: bytes, header_version: int):
    """Returns (correlation id, body bytes) of a response frame without its size prefix."""
    r = Reader(payload)
    correlation_id = r.int32()
    if header_version >= 1:
        r.tagged_fields()
    return correlation_id, payload[r.pos:]


def decode_api_versions(body: bytes, version: int) -> dict:
    flexible = version >= 3
    r = Reader(body)
    out = {"error_code": r.int16(), "api_keys": {}}
    for _ in range(r.array_length(flexible)):
        key, lo, hi = r.int16(), r.int16(), r.int16()
        if flexible:
            r.tagged_fields()
        if key in out["api_keys"]:
            raise DecodeError(f"api key {key} listed twice")
        out["api_keys"][key] = (lo, hi)
    if version >= 1:
        out["throttle_time_ms"] = r.int32()
    if flexible:
        out["tagged_fields"] = r.tagged_fields()
    r.expect_end()
    return out


def decode_metadata(body: bytes, version: int) -> dict:
    flexible = version >= 9
    r = Reader(body)
    s = (lambda nullable=False: r.compact_string(nullable)) if flexible else \
        (lambda nullable=False: r.string(nullable))
    out = {}
    if version >= 3:
        out["throttle_time_ms"] = r.int32()
    out["brokers"] = []
    for _ in range(r.array_length(flexible)):
        b = {"node_id": r.int32(), "host": s(), "port": r.int32()}
        if version >= 1:
            b["rack"] = s(nullable=True)
        if flexible:
            r.tagged_fields()
        out["brokers"].append(b)
    if version >= 2:
        out["cluster_id"] = s(nullable=True)
    if version >= 1:
        out["controller_id"] = r.int32()
    out["topics"] = []
    for _ in range(r.array_length(flexible)):
        t = {"error_code": r.int16(), "name": s(nullable=version >= 12)}
        if version >= 10:
            t["topic_id"] = r.uuid()
        if version >= 1:
            t["is_internal"] = r.boolean()
        t["partitions"] = []
        for _ in range(r.array_length(flexible)):
            p = {"error_code": r.int16(), "partition_index": r.int32(), "leader_id": r.int32()}
            if version >= 7:
                p["leader_epoch"] = r.int32()
            p["replica_nodes"] = [r.int32() for _ in range(r.array_length(flexible))]
            p["isr_nodes"] = [r.int32() for _ in range(r.array_length(flexible))]
            if version >= 5:
                p["offline_replicas"] = [r.int32() for _ in range(r.array_length(flexible))]
            if flexible:
                r.tagged_fields()
            t["partitions"].append(p)
        if version >= 8:
            t["topic_authorized_operations"] = r.int32()
        if flexible:
            r.tagged_fields()
        out["topics"].append(t)
    if 8 <= version <= 10:
        out["cluster_authorized_operations"] = r.int32()
    if version >= 13:
        out["error_code"] = r.int16()
    if flexible:
        r.tagged_fields()
    r.expect_end()
    return out


def response_header_version(api_key: int, version: int) -> int:
    if api_key == API_VERSIONS:
        return 0  # always, so that a client can read it before it knows the versions
    return 1 if request_header_version(api_key, version) == 2 else 0


# ---------------------------------------------------------------------------------------------
# Record batches (v2), built by hand so that a test controls every field

def zigzag(v: int) -> bytes:
    """Kafka's signed varint/varlong."""
    out = bytearray()
    u = (v << 1) ^ (v >> 63)
    while True:
        b = u & 0x7F
        u >>= 7
        if u:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC32C_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    c = 0xFFFFFFFF
    for b in data:
        c = _CRC32C_TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def record_batch(values, producer_id=-1, epoch=-1, sequence=-1, attributes=0, timestamp=0,
                 magic=2, crc=None, record_count=None, last_offset_delta=None) -> bytes:
    """One uncompressed batch of records with these values (no keys, no headers). The CRC,
    record_count and last_offset_delta are the right ones unless the test gives others."""
    records = b""
    for i, value in enumerate(values):
        body = bytes([0]) + zigzag(0) + zigzag(i) + zigzag(-1) + zigzag(len(value)) + value + \
            zigzag(0)
        records += zigzag(len(body)) + body
    if record_count is None:
        record_count = len(values)
    if last_offset_delta is None:
        last_offset_delta = len(values) - 1
    after_crc = struct.pack(">hiqqqhii", attributes, last_offset_delta, timestamp, timestamp,
                            producer_id, epoch, sequence, record_count) + records
    header = struct.pack(">qiib", 0, 4 + 1 + 4 + len(after_crc), -1, magic)
    return header + struct.pack(">I", crc32c(after_crc) if crc is None else crc) + after_crc


def legacy_message_set(values, magic=1, timestamp=0) -> bytes:
    """Uncompressed messages of format 0 or 1 (Produce v0-v2), offsets 0..n-1, null keys."""
    out = b""
    for i, value in enumerate(values):
        body = struct.pack(">bb", magic, 0)
        if magic == 1:
            body += struct.pack(">q", timestamp)
        body += struct.pack(">i", -1) + struct.pack(">i", len(value)) + value
        message = struct.pack(">I", zlib.crc32(body)) + body
        out += struct.pack(">qi", i, len(message)) + message
    return out


# ---------------------------------------------------------------------------------------------
# Sockets

IO_DEADLINE_S = 20.0


def connect(host: str, port: int, timeout: float = IO_DEADLINE_S) -> socket.socket:
    s = socket.create_connection((host, port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def recv_exact(sock: socket.socket, n: int) -> bytes:
    """Reads exactly n bytes; raises EOFError if the peer closes first."""
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError(f"connection closed after {len(buf)} of {n} bytes")
        buf += chunk
    return bytes(buf)


def recv_frame(sock: socket.socket) -> bytes:
    """One response frame without its size prefix."""
    (size,) = struct.unpack(">i", recv_exact(sock, 4))
    if size < 4:
        raise DecodeError(f"response size {size}")
    return recv_exact(sock, size)


def call(sock: socket.socket, api_key: int, version: int, request: bytes):
    """Sends one request frame and returns (correlation id, response body)."""
    sock.sendall(request)
    return split_response(recv_frame(sock), response_header_version(api_key, version))


def wait_closed(sock: socket.socket, timeout: float = IO_DEADLINE_S) -> bytes:
    """Waits (with a deadline) for the peer to close; returns any bytes received before the
    close. Raises AssertionError if the connection is still open at the deadline."""
    received = bytearray()
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"the broker did not close the connection within {timeout}s")
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return bytes(received)
        except socket.timeout:
            continue
        if not chunk:
            return bytes(received)
        received += chunk


def random_topic_id() -> bytes:
    return uuid.uuid4().bytes


def produce(sock: socket.socket, topic: str, records: bytes, version: int = 3,
            partition: int = 0, acks: int = -1):
    """Produce (v0..v8, non-flexible) of one partition; returns (error code, base offset)."""
    w = Writer()
    if version >= 3:
        w.string(None)  # transactional id
    w.int16(acks).int32(10000).int32(1).string(topic).int32(1).int32(partition)
    body = w.bytes() + struct.pack(">i", len(records)) + records
    _, resp = call(sock, 0, version, frame(0, version, 9, body))
    r = Reader(resp)
    assert r.int32() == 1 and r.string() == topic
    assert r.int32() == 1 and r.int32() == partition
    return r.int16(), r.int64()
# ---------------------------------------------------------------------------------------------
# Produce v3-v8 (not flexible), with batches from record_batch()

PRODUCE = 0


def produce_request(version: int, correlation_id: int, topic: str, partition: int,
                    records: bytes, acks=-1, timeout_ms=10000) -> bytes:
    assert 3 <= version <= 8
    body = Writer().string(None).int16(acks).int32(timeout_ms).int32(1).string(topic) \
        .int32(1).int32(partition).bytes() + struct.pack(">i", len(records)) + records
    return frame(PRODUCE, version, correlation_id, body)


def decode_produce(body: bytes, version: int) -> dict:
    """The answer for the one partition of a produce_request."""
    assert 3 <= version <= 8
    r = Reader(body)
    assert r.int32() == 1
    out = {"topic": r.string()}
    assert r.int32() == 1
    out.update(partition=r.int32(), error_code=r.int16(), base_offset=r.int64(),
               log_append_time_ms=r.int64())
    if version >= 5:
        out["log_start_offset"] = r.int64()
    if version >= 8:
        out["record_errors"] = [(r.int32(), r.string(nullable=True))
                                for _ in range(r.int32())]
        out["error_message"] = r.string(nullable=True)
    out["throttle_time_ms"] = r.int32()
    r.expect_end()
    return out
