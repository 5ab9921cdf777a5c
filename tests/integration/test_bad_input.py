"""Raw-socket clients that misbehave. Whatever one connection sends, the broker closes that
connection (or answers, where Kafka answers), logs one warning naming the peer, and keeps
serving everyone else."""

import re
import socket
import struct
import threading

import pytest

import kwire
from kwire import API_VERSIONS, METADATA


def serves(broker):
    """A new connection gets ApiVersions and Metadata answers."""
    with kwire.connect(broker.host, broker.port) as s:
        cid, body = kwire.call(s, API_VERSIONS, 0, kwire.api_versions_request(0, 4242))
        assert cid == 4242
        versions = kwire.decode_api_versions(body, 0)
        assert versions["error_code"] == kwire.NONE
        assert API_VERSIONS in versions["api_keys"] and METADATA in versions["api_keys"]
        cid, body = kwire.call(s, METADATA, 1, kwire.metadata_request(1, 4343, None))
        assert cid == 4343
        meta = kwire.decode_metadata(body, 1)
        assert [(b["host"], b["port"]) for b in meta["brokers"]] == [(broker.host, broker.port)]
    return versions


def peer_name(sock) -> str:
    host, port = sock.getsockname()[:2]
    return f"{host}:{port}"


def stop_and_get_problems(broker):
    """Stops the broker (asserting a clean exit) and returns every warning or error it logged.
    After the stop, everything the broker had to say about our connections is in the log."""
    broker.stop()
    return broker.problems_since(0)


def h(data: str) -> bytes:
    return bytes.fromhex(data)


def size(n: int) -> bytes:
    return struct.pack(">i", n)


def truncated_header_metadata():
    # Metadata v1 header whose client id claims 1000 bytes but the frame ends after 3.
    payload = struct.pack(">hhih", METADATA, 1, 77, 1000) + b"abc"
    return size(len(payload)) + payload


def undecodable_metadata_body():
    # Metadata v1: the topics array claims 5 entries, none follow.
    return kwire.frame(METADATA, 1, 78, struct.pack(">i", 5))


# (id, bytes the client sends, what the broker's one warning line must say)
CLOSING_INPUTS = [
    ("huge_size_prefix", size(0x7FFFFFFF), r"request size 2147483647\b"),
    ("negative_size_prefix", size(-1), r"request size -1\b"),
    ("most_negative_size_prefix", size(-2**31), r"request size -2147483648\b"),
    ("zero_size_prefix", size(0), r"request size 0\b"),
    ("size_below_header", size(7) + bytes(7), r"request size 7\b"),
    ("http_request", b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", r"request size 1195725856\b"),
    # A TLS ClientHello sent to a plaintext listener (a client configured for SSL).
    ("tls_client_hello", h("16030100f4010000f00303") + bytes(40), r"request size 369295616\b"),
    ("garbage_in_a_valid_size", size(16) + b"ABCDEFGHIJKLMNOP", r"unknown API key 16706\b"),
    ("unknown_api_key_9999", kwire.frame(9999, 0, 1, b""), r"unknown API key 9999\b"),
    ("negative_api_key", kwire.frame(-1, 0, 1, b""), r"unknown API key -1\b"),
    ("metadata_v999", kwire.frame(METADATA, 999, 1, kwire.metadata_body(1, None)),
     r"version 999 is not supported"),
    ("metadata_negative_version", kwire.frame(METADATA, -1, 1, kwire.metadata_body(1, None)),
     r"version -1 is not supported"),
    ("truncated_request_header", truncated_header_metadata(), r"malformed"),
    ("undecodable_metadata_body", undecodable_metadata_body(), r"[Mm]alformed Metadata"),
]


@pytest.mark.parametrize("payload,warning", [c[1:] for c in CLOSING_INPUTS],
                         ids=[c[0] for c in CLOSING_INPUTS])
def test_bad_input_closes_only_that_connection(broker, payload, warning):
    # Another client is connected throughout and must not notice anything.
    with kwire.connect(broker.host, broker.port) as bystander:
        kwire.call(bystander, API_VERSIONS, 0, kwire.api_versions_request(0, 1))
        with kwire.connect(broker.host, broker.port) as s:
            peer = peer_name(s)
            s.sendall(payload)
            received = kwire.wait_closed(s)
        assert received == b"", f"the broker answered {received!r} before closing"
        cid, body = kwire.call(bystander, API_VERSIONS, 0, kwire.api_versions_request(0, 2))
        assert cid == 2 and kwire.decode_api_versions(body, 0)["error_code"] == kwire.NONE
    serves(broker)
    problems = stop_and_get_problems(broker)
    assert len(problems) == 1, "expected exactly one warning:\n" + broker.log()
    line = problems[0]
    assert line.level in ("warn", "warning"), broker.log()
    assert peer in line.message, f"the warning does not name the peer {peer}: {line.message}"
    assert re.search(warning, line.message), f"/{warning}/ not in: {line.message}"


def test_truncated_frame_then_close(broker):
    with kwire.connect(broker.host, broker.port) as s:
        s.sendall(size(100) + bytes(10))
    with kwire.connect(broker.host, broker.port) as s:
        s.sendall(b"\x00\x00\x00")  # not even a whole size prefix
    serves(broker)
    # A client that goes away is not the broker's problem: nothing worth a warning.
    assert stop_and_get_problems(broker) == [], broker.log()


def test_shutdown_with_clients_mid_request(sluice):
    broker = sluice.start()
    with kwire.connect(broker.host, broker.port) as mid_frame, \
            kwire.connect(broker.host, broker.port) as mid_prefix, \
            kwire.connect(broker.host, broker.port) as idle:
        mid_frame.sendall(size(100) + bytes(10))
        mid_prefix.sendall(b"\x00\x00")
        serves(broker)
        broker.stop()  # asserts a clean exit in time
        for s in (mid_frame, mid_prefix, idle):
            assert kwire.wait_closed(s) == b""


def test_shutdown_with_a_client_that_does_not_read(sluice):
    # ~4 MB of Metadata answers to a client that reads none of them: the broker's writes
    # block on a full socket, and the shutdown must still be clean and prompt.
    broker = sluice.start()
    topics = [f"t{i:05d}-" + "y" * 193 for i in range(200)]
    requests = b"".join(kwire.metadata_request(1, i, topics) for i in range(100))
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect((broker.host, broker.port))

    def send():
        try:
            s.sendall(requests)
        except OSError:
            pass  # the broker closed the connection while we were still sending

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    try:
        serves(broker)
        broker.stop()  # asserts a clean exit in time
        sender.join(timeout=kwire.IO_DEADLINE_S)
        assert not sender.is_alive(), "the client is still blocked sending after the shutdown"
    finally:
        s.close()


def test_unsupported_api_versions_version_gets_v0_error_answer(broker):
    supported = serves(broker)["api_keys"]
    lo, hi = supported[API_VERSIONS]
    with kwire.connect(broker.host, broker.port) as s:
        for version, cid in [(99, 501), (hi + 1, 502), (32767, 503), (-1, 504)]:
            # A client newer than the broker sends its own (flexible) header and a body the
            # broker cannot know; the answer is in the v0 format so that it can be read anyway.
            body = kwire.Writer().compact_string("future-client").compact_string("9.9") \
                .uvarint(1).uvarint(7).uvarint(2).int16(0x1234).tagged_fields().bytes()
            request = kwire.frame(API_VERSIONS, version, cid, body, header_version=2)
            got_cid, resp = kwire.call(s, API_VERSIONS, 0, request)
            assert got_cid == cid
            answer = kwire.decode_api_versions(resp, 0)
            assert answer["error_code"] == kwire.UNSUPPORTED_VERSION, (version, answer)
            # The list tells the client which ApiVersions versions to retry with.
            assert answer["api_keys"].get(API_VERSIONS) == (lo, hi), (version, answer)
        # The connection stays open: the client retries with a version the broker knows.
        cid, resp = kwire.call(s, API_VERSIONS, hi, kwire.api_versions_request(hi, 505))
        assert cid == 505
        assert kwire.decode_api_versions(resp, hi)["error_code"] == kwire.NONE
    assert stop_and_get_problems(broker) == [], broker.log()


def pipeline_plan(supported, count):
    """`count` requests cycling through every supported version of ApiVersions and Metadata,
    with an unsupported ApiVersions version in the middle; distinct correlation ids."""
    a_lo, a_hi = supported[API_VERSIONS]
    m_lo, m_hi = supported[METADATA]
    plan = []
    for i in range(count):
        cid = (i * 2654435761 + 17) & 0x7FFFFFFF
        if i == count // 2:
            plan.append((API_VERSIONS, 77, cid))
        elif i % 2 == 0:
            plan.append((API_VERSIONS, a_lo + (i // 2) % (a_hi - a_lo + 1), cid))
        else:
            plan.append((METADATA, m_lo + (i // 2) % (m_hi - m_lo + 1), cid))
    assert len({cid for _, _, cid in plan}) == count
    return plan


def run_pipeline(broker, count):
    supported = serves(broker)["api_keys"]
    plan = pipeline_plan(supported, count)
    wire = b""
    for api, version, cid in plan:
        if api == API_VERSIONS:
            wire += kwire.frame(API_VERSIONS, version, cid, kwire.api_versions_body(version)
                                if version <= supported[API_VERSIONS][1] else b"")
        else:
            wire += kwire.metadata_request(version, cid, [f"topic-{cid}"])
    with kwire.connect(broker.host, broker.port) as s:
        s.sendall(wire)
        for n, (api, version, cid) in enumerate(plan):
            supported_version = version <= supported[api][1]
            header = kwire.response_header_version(api, version) if supported_version else 0
            got_cid, body = kwire.split_response(kwire.recv_frame(s), header)
            assert got_cid == cid, f"response {n}: correlation id {got_cid}, expected {cid}"
            if api == API_VERSIONS:
                answer = kwire.decode_api_versions(body, version if supported_version else 0)
                assert answer["error_code"] == (kwire.NONE if supported_version
                                                else kwire.UNSUPPORTED_VERSION)
            else:
                answer = kwire.decode_metadata(body, version)
                assert [t["name"] for t in answer["topics"]] == [f"topic-{cid}"]


def test_50_pipelined_requests_are_answered_in_order(broker):
    run_pipeline(broker, 50)
    assert stop_and_get_problems(broker) == [], broker.log()


def test_pipelining_beyond_queued_max_requests(sluice):
    # The broker stops reading while 3 requests are in flight; the client still gets every
    # answer, in order.
    broker = sluice.start(overrides={"queued.max.requests": "3"})
    run_pipeline(broker, 50)
    assert stop_and_get_problems(broker) == [], broker.log()


def test_many_connections_at_once(broker):
    count = 100
    socks = [kwire.connect(broker.host, broker.port) for _ in range(count)]
    try:
        for i, s in enumerate(socks):
            s.sendall(kwire.api_versions_request(0, i))
        for i, s in enumerate(socks):
            cid, _ = kwire.split_response(kwire.recv_frame(s), 0)
            assert cid == i
        # Half with a request the broker has not answered yet; half reset rather than closed.
        for i, s in enumerate(socks):
            if i % 2 == 0:
                s.sendall(kwire.metadata_request(1, 10_000 + i, None))
            if i % 4 < 2:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    finally:
        for s in socks:
            s.close()
    # And as many again that connect and leave without a word.
    for _ in range(count):
        kwire.connect(broker.host, broker.port).close()
    serves(broker)
    assert stop_and_get_problems(broker) == [], broker.log()


def test_request_size_limit(sluice):
    limit = 65536
    broker = sluice.start(overrides={"socket.request.max.bytes": str(limit)})

    # A frame of exactly the limit is served: Metadata v1 for as many 200-byte topic names as
    # fit, the client id taking up the rest. Frame: header 2+2+4+2+len(client id), body
    # 4 + 202 per topic.
    count = (limit - 14 - 100) // 202
    topics = [f"t{i:05d}-" + "x" * 193 for i in range(count)]
    request = kwire.frame(METADATA, 1, 9, kwire.metadata_body(1, topics),
                          client_id="c" * (limit - 14 - 202 * count))
    assert struct.unpack(">i", request[:4])[0] == limit == len(request) - 4
    with kwire.connect(broker.host, broker.port) as s:
        cid, body = kwire.call(s, METADATA, 1, request)
        assert cid == 9
        assert [t["name"] for t in kwire.decode_metadata(body, 1)["topics"]] == topics

    # One byte more, or a 100 MB announcement the client sends slowly: the broker closes the
    # connection on the size prefix alone, without waiting for (or allocating) the frame.
    for announced in (limit + 1, 100 * 1024 * 1024):
        with kwire.connect(broker.host, broker.port) as s:
            s.sendall(size(announced) + b"\x00\x03")
            assert kwire.wait_closed(s) == b""
    serves(broker)
    problems = stop_and_get_problems(broker)
    assert len(problems) == 2, broker.log()
    assert re.search(rf"request size {limit + 1}\b.*\b{limit}\b", problems[0].message), \
        problems[0].message
    assert re.search(rf"request size {100 * 1024 * 1024}\b.*\b{limit}\b", problems[1].message), \
        problems[1].message
