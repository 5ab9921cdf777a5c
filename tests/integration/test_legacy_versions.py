"""The API versions Apache Kafka 4.0 removed (KIP-896), which Sluice serves by default for older
clients, and the setting that turns them off (then they are refused as Kafka 4 refuses them).

Requests are built by hand at the old versions, as a pre-2.1 client sends them; a real old
client (kafka-python with its auto-detected versions) checks the same broker end to end.
"""

import struct

from confluent_kafka import Producer
from kafka.admin import KafkaAdminClient, NewTopic as KNewTopic

import kwire

CLIENT_DEADLINE_S = 60
# API key -> (version Kafka 4 starts at, version Sluice starts at by default)
FLOORS = {0: (0, 0), 2: (1, 0), 8: (2, 0), 9: (1, 0), 19: (2, 0), 20: (1, 0), 23: (2, 0),
          32: (1, 0), 35: (1, 0)}


def api_versions(sock):
    _, body = kwire.call(sock, 18, 3, kwire.api_versions_request(3, 1))
    return kwire.decode_api_versions(body, 3)["api_keys"]


def create_topics_v0(sock, name, partitions):
    w = kwire.Writer().int32(1).string(name).int32(partitions).int16(1).int32(0).int32(0)
    w.int32(30000)
    _, resp = kwire.call(sock, 19, 0, kwire.frame(19, 0, 3, w.bytes()))
    r = kwire.Reader(resp)
    assert r.int32() == 1 and r.string() == name
    code = r.int16()
    r.expect_end()
    return code


def delete_topics_v0(sock, name):
    w = kwire.Writer().int32(1).string(name).int32(30000)
    _, resp = kwire.call(sock, 20, 0, kwire.frame(20, 0, 4, w.bytes()))
    r = kwire.Reader(resp)
    assert r.int32() == 1 and r.string() == name
    code = r.int16()
    r.expect_end()
    return code


def list_offsets_v0(sock, topic, timestamp, max_offsets):
    w = kwire.Writer().int32(-1).int32(1).string(topic).int32(1).int32(0)
    body = w.bytes() + struct.pack(">qi", timestamp, max_offsets)
    _, resp = kwire.call(sock, 2, 0, kwire.frame(2, 0, 5, body))
    r = kwire.Reader(resp)
    assert r.int32() == 1 and r.string() == topic and r.int32() == 1 and r.int32() == 0
    code = r.int16()
    offsets = [r.int64() for _ in range(r.int32())]
    r.expect_end()
    return code, offsets


def describe_configs_v0(sock, topic, keys):
    w = kwire.Writer().int32(1).int8(2).string(topic).int32(len(keys))
    for k in keys:
        w.string(k)
    _, resp = kwire.call(sock, 32, 0, kwire.frame(32, 0, 6, w.bytes()))
    r = kwire.Reader(resp)
    r.int32()  # throttle
    assert r.int32() == 1
    code, _message = r.int16(), r.string(nullable=True)
    assert r.int8() == 2 and r.string() == topic
    configs = {}
    for _ in range(r.int32()):
        name, value = r.string(), r.string(nullable=True)
        read_only, is_default, sensitive = r.boolean(), r.boolean(), r.boolean()
        configs[name] = (value, read_only, is_default, sensitive)
    r.expect_end()
    return code, configs


def test_old_versions_are_advertised_and_served(sluice):
    b = sluice.start(overrides={"auto.create.topics.enable": "false"})
    with kwire.connect(b.host, b.port) as s:
        versions = api_versions(s)
        for key, (_kafka4, ours) in FLOORS.items():
            assert versions[key][0] == ours, (key, versions[key])
        assert create_topics_v0(s, "old-client", 1) == 0
        assert create_topics_v0(s, "old-client", 1) == 36  # TOPIC_ALREADY_EXISTS
        code, configs = describe_configs_v0(s, "old-client", ["retention.ms", "cleanup.policy"])
        assert code == 0
        assert configs["retention.ms"] == ("604800000", False, True, False)
        assert configs["cleanup.policy"][0] == "delete"
        # Empty partition: latest and earliest are both 0.
        assert list_offsets_v0(s, "old-client", -1, 10) == (0, [0])
        assert list_offsets_v0(s, "old-client", -2, 10) == (0, [0])
    p = Producer({"bootstrap.servers": b.bootstrap, "linger.ms": 0})
    for i in range(25):
        p.produce("old-client", value=b"x%d" % i, partition=0)
    assert p.flush(CLIENT_DEADLINE_S) == 0
    with kwire.connect(b.host, b.port) as s:
        # Newest first: the log end, then the base offset of the (only) segment.
        assert list_offsets_v0(s, "old-client", -1, 10) == (0, [25, 0])
        assert list_offsets_v0(s, "old-client", -1, 1) == (0, [25])
        assert list_offsets_v0(s, "old-client", -2, 10) == (0, [0])
        code, _ = list_offsets_v0(s, "no-such-topic", -1, 1)
        assert code == 3  # UNKNOWN_TOPIC_OR_PARTITION
        assert delete_topics_v0(s, "old-client") == 0
        assert delete_topics_v0(s, "old-client") == 3


def test_kafka_python_admin_with_auto_detected_versions(sluice):
    b = sluice.start()
    admin = KafkaAdminClient(bootstrap_servers=b.bootstrap, request_timeout_ms=30000)
    try:
        admin.create_topics([KNewTopic("kp-admin", 2, 1)])
        assert "kp-admin" in admin.list_topics()
        admin.delete_topics(["kp-admin"])
        assert "kp-admin" not in admin.list_topics()
    finally:
        admin.close()


def test_setting_off_refuses_old_versions_as_kafka_4(sluice):
    b = sluice.start(overrides={"sluice.legacy.api.versions.enable": "false"})
    with kwire.connect(b.host, b.port) as s:
        versions = api_versions(s)
        for key, (kafka4, _ours) in FLOORS.items():
            assert versions[key][0] == kafka4, (key, versions[key])
        # Produce is advertised from v0 regardless, as Kafka 4 does (FLOORS says so too).
    s = kwire.connect(b.host, b.port)
    w = kwire.Writer().int32(1).string("refused").int32(1).int16(1).int32(0).int32(0).int32(1000)
    s.sendall(kwire.frame(19, 0, 9, w.bytes()))
    kwire.wait_closed(s)
    s.close()
    assert "create_topics version 0 is not supported" in b.log()


def test_setting_off_advertises_produce_v0_but_refuses_it(sluice):
    """Kafka 4 advertises Produce from v0 (librdkafka turns compression off otherwise) but
    closes the connection of a Produce below v3."""
    broker = sluice.start(overrides={"sluice.legacy.api.versions.enable": "false"})
    sock = kwire.connect(broker.host, broker.port)
    versions = api_versions(sock)
    assert versions[0][0] == 0 and versions[0][1] >= 9
    # A Produce v1 request (empty body is enough: the version is refused before decoding).
    sock.sendall(kwire.frame(0, 1, 2, b""))
    kwire.wait_closed(sock)
    sock.close()
    # The broker keeps serving.
    sock = kwire.connect(broker.host, broker.port)
    _, body = kwire.call(sock, 18, 3, kwire.api_versions_request(3, 3))
    assert kwire.decode_api_versions(body, 3)["error_code"] == 0
    sock.close()
    assert "produce version 1 is not supported" in broker.log()


def find_coordinator_v0(sock, group):
    _, resp = kwire.call(sock, 10, 0, kwire.frame(10, 0, 20, kwire.Writer().string(group).bytes()))
    r = kwire.Reader(resp)
    return r.int16(), r.int32()


def offset_commit_v0(sock, group, topic, offset, metadata):
    w = kwire.Writer().string(group).int32(1).string(topic).int32(1).int32(0)
    body = w.bytes() + struct.pack(">q", offset) + kwire.Writer().string(metadata).bytes()
    _, resp = kwire.call(sock, 8, 0, kwire.frame(8, 0, 21, body))
    r = kwire.Reader(resp)
    assert r.int32() == 1 and r.string() == topic and r.int32() == 1 and r.int32() == 0
    return r.int16()


def offset_fetch_v0(sock, group, topic):
    w = kwire.Writer().string(group).int32(1).string(topic).int32(1).int32(0)
    _, resp = kwire.call(sock, 9, 0, kwire.frame(9, 0, 22, w.bytes()))
    r = kwire.Reader(resp)
    assert r.int32() == 1 and r.string() == topic and r.int32() == 1 and r.int32() == 0
    offset, metadata, code = r.int64(), r.string(nullable=True), r.int16()
    r.expect_end()
    return code, offset, metadata


def offset_for_leader_epoch_v0(sock, topic, epoch):
    w = kwire.Writer().int32(1).string(topic).int32(1).int32(0).int32(epoch)
    _, resp = kwire.call(sock, 23, 0, kwire.frame(23, 0, 23, w.bytes()))
    r = kwire.Reader(resp)
    assert r.int32() == 1 and r.string() == topic and r.int32() == 1
    code, partition, end_offset = r.int16(), r.int32(), r.int64()
    r.expect_end()
    return code, partition, end_offset


def describe_log_dirs_v0(sock):
    w = kwire.Writer().int32(-1)  # null: every topic
    _, resp = kwire.call(sock, 35, 0, kwire.frame(35, 0, 24, w.bytes()))
    r = kwire.Reader(resp)
    r.int32()  # throttle
    dirs = []
    for _ in range(r.int32()):
        code, path = r.int16(), r.string()
        topics = {}
        for _ in range(r.int32()):
            name = r.string()
            for _ in range(r.int32()):
                partition, size, lag, future = r.int32(), r.int64(), r.int64(), r.boolean()
                topics[(name, partition)] = size
        dirs.append((code, path, topics))
    r.expect_end()
    return dirs


def test_old_group_offset_epoch_and_log_dir_versions(sluice):
    b = sluice.start()
    p = Producer({"bootstrap.servers": b.bootstrap})
    for i in range(5):
        p.produce("old-offsets", value=b"x", partition=0)
    assert p.flush(CLIENT_DEADLINE_S) == 0
    with kwire.connect(b.host, b.port) as s:
        code, node = find_coordinator_v0(s, "old-group")
        assert code == 0 and node == b.node_id
        # A v0 commit has no generation: a simple consumer's commit.
        assert offset_commit_v0(s, "old-group", "old-offsets", 3, "meta") == 0
        assert offset_fetch_v0(s, "old-group", "old-offsets") == (0, 3, "meta")
        assert offset_for_leader_epoch_v0(s, "old-offsets", 0) == (0, 0, 5)
        dirs = describe_log_dirs_v0(s)
        assert len(dirs) == 1 and dirs[0][0] == 0
        assert dirs[0][2][("old-offsets", 0)] > 0
