"""Well-formed ApiVersions and Metadata requests at every version the broker advertises,
encoded and decoded by the test's own codec (kwire.py, from Kafka's message definitions)."""

import pytest

import kwire
from kwire import API_VERSIONS, METADATA

NODE_ID = 5


@pytest.fixture
def broker(sluice):
    # Without auto-creation, Kafka answers a request for a missing topic with
    # UNKNOWN_TOPIC_OR_PARTITION at every version.
    b = sluice.start(overrides={"node.id": str(NODE_ID), "auto.create.topics.enable": "false"})
    yield b
    b.stop()
    assert not b.problems_since(0), b.log()


def cluster_id_on_disk(broker):
    for line in (broker.data_dir / "meta.properties").read_text().splitlines():
        if line.startswith("cluster.id="):
            return line.split("=", 1)[1].strip()
    pytest.fail("meta.properties has no cluster.id")


def advertised(broker):
    with kwire.connect(broker.host, broker.port) as s:
        _, body = kwire.call(s, API_VERSIONS, 0, kwire.api_versions_request(0, 1))
    return kwire.decode_api_versions(body, 0)["api_keys"]


def test_api_versions_at_every_version(broker):
    supported = advertised(broker)
    lo, hi = supported[API_VERSIONS]
    # Kafka serves ApiVersions v0-v3 at least; every client starts with one of them.
    assert lo == 0 and hi >= 3, supported
    with kwire.connect(broker.host, broker.port) as s:
        for version in range(lo, hi + 1):
            cid = 100 + version
            got_cid, body = kwire.call(s, API_VERSIONS, version,
                                       kwire.api_versions_request(version, cid))
            assert got_cid == cid
            # Decoding checks the layout: the v0 response header (even for the flexible
            # versions), the fields of this version and nothing left over.
            answer = kwire.decode_api_versions(body, version)
            assert answer["error_code"] == kwire.NONE, (version, answer)
            assert answer["api_keys"] == supported, version
            if version >= 1:
                assert answer["throttle_time_ms"] == 0
    for key, (kmin, kmax) in supported.items():
        assert 0 <= kmin <= kmax, (key, kmin, kmax)
    assert supported[METADATA][0] == 0 and supported[METADATA][1] >= 4, supported


def test_metadata_at_every_version(broker):
    supported = advertised(broker)
    lo, hi = supported[METADATA]
    cluster_id = cluster_id_on_disk(broker)
    with kwire.connect(broker.host, broker.port) as s:
        for version in range(lo, hi + 1):
            for topics in (None, [], ["no-such-topic", "another-missing-one"]):
                if version == 0 and topics is None:
                    continue  # v0 has no null list: [] means all topics
                cid = version * 10 + (0 if topics is None else len(topics) + 1)
                got_cid, body = kwire.call(s, METADATA, version,
                                           kwire.metadata_request(version, cid, topics))
                assert got_cid == cid
                m = kwire.decode_metadata(body, version)
                where = f"Metadata v{version} topics={topics}: {m}"
                assert [(b["node_id"], b["host"], b["port"]) for b in m["brokers"]] == \
                    [(NODE_ID, broker.host, broker.port)], where
                if version >= 1:
                    assert m["brokers"][0]["rack"] is None, where
                    assert m["controller_id"] == NODE_ID, where
                if version >= 2:
                    assert m["cluster_id"] == cluster_id, where
                if version >= 13:
                    assert m["error_code"] == kwire.NONE, where
                if not topics:
                    assert m["topics"] == [], where
                    continue
                assert [t["name"] for t in m["topics"]] == topics, where
                for t in m["topics"]:
                    assert t["error_code"] == kwire.UNKNOWN_TOPIC_OR_PARTITION, where
                    assert t["partitions"] == [], where
                    if version >= 1:
                        assert t["is_internal"] is False, where
                    if version >= 10:
                        assert t["topic_id"] == bytes(16), where


def test_rack_is_published(sluice):
    b = sluice.start(overrides={"broker.rack": "rack-a"})
    with kwire.connect(b.host, b.port) as s:
        _, body = kwire.call(s, METADATA, 1, kwire.metadata_request(1, 1, None))
    assert [x["rack"] for x in kwire.decode_metadata(body, 1)["brokers"]] == ["rack-a"]


def test_advertised_listener_is_published(sluice):
    b = sluice.start(overrides={"advertised.listeners": "PLAINTEXT://broker.example:19092"})
    with kwire.connect(b.host, b.port) as s:
        _, body = kwire.call(s, METADATA, 1, kwire.metadata_request(1, 1, None))
    m = kwire.decode_metadata(body, 1)
    assert [(x["node_id"], x["host"], x["port"]) for x in m["brokers"]] == \
        [(1, "broker.example", 19092)]
