"""Connection limits that Kafka enforces and Sluice accepts under Kafka's names."""

import time

import kwire
from kwire import API_VERSIONS


def answered(sock, cid):
    got, body = kwire.call(sock, API_VERSIONS, 0, kwire.api_versions_request(0, cid))
    return got == cid and kwire.decode_api_versions(body, 0)["error_code"] == kwire.NONE


def test_idle_connection_is_closed(sluice):
    # Kafka closes a connection that has been idle for connections.max.idle.ms.
    broker = sluice.start(overrides={"connections.max.idle.ms": "300"})
    with kwire.connect(broker.host, broker.port) as s:
        assert answered(s, 1)
        assert kwire.wait_closed(s, timeout=10) == b""
    with kwire.connect(broker.host, broker.port) as s:
        assert answered(s, 2)


def test_max_connections_per_ip(sluice):
    # Kafka accepts, then closes, a connection from an address that already has
    # max.connections.per.ip of them; once one closes, there is room again.
    broker = sluice.start(overrides={"max.connections.per.ip": "3"})
    first = [kwire.connect(broker.host, broker.port) for _ in range(3)]
    try:
        for i, s in enumerate(first):
            assert answered(s, i)
        with kwire.connect(broker.host, broker.port) as extra:
            try:
                extra.sendall(kwire.api_versions_request(0, 99))
            except (BrokenPipeError, ConnectionResetError):
                pass
            assert kwire.wait_closed(extra, timeout=10) == b""
        first.pop().close()
        # The broker learns of that close asynchronously: a new connection is served within
        # the deadline.
        deadline = time.monotonic() + 20
        while True:
            with kwire.connect(broker.host, broker.port) as again:
                try:
                    if answered(again, 100):
                        break
                except (EOFError, ConnectionResetError, BrokenPipeError):
                    pass
            assert time.monotonic() < deadline, "no room for a new connection after a close"
    finally:
        for s in first:
            s.close()
