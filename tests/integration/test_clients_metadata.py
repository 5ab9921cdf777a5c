"""Clients no one here wrote (kcat, confluent-kafka on librdkafka, kafka-python) connect to a
fresh broker, negotiate API versions and read its metadata."""

import json
import subprocess

import pytest
from confluent_kafka import KafkaError
from confluent_kafka.admin import AdminClient
from kafka import KafkaAdminClient

CLIENT_DEADLINE_S = 30
NODE_ID = 7


@pytest.fixture
def broker(sluice):
    # A node id other than the default, so that a client showing it shows what the broker said.
    # Without auto-creation, Kafka answers a request for a missing topic with
    # UNKNOWN_TOPIC_OR_PARTITION.
    b = sluice.start(overrides={"node.id": str(NODE_ID), "auto.create.topics.enable": "false"})
    yield b
    # A well-behaved client gives the broker nothing to warn about.
    assert not b.problems_since(0), b.log()


def cluster_id_on_disk(broker):
    for line in (broker.data_dir / "meta.properties").read_text().splitlines():
        if line.startswith("cluster.id="):
            return line.split("=", 1)[1].strip()
    pytest.fail("meta.properties has no cluster.id")


def kcat(*args):
    done = subprocess.run(["kcat", *args], capture_output=True, text=True,
                          timeout=CLIENT_DEADLINE_S)
    return done.returncode, done.stdout, done.stderr


# ---------------------------------------------------------------------------------------------
# kcat (librdkafka)


def test_kcat_lists_the_broker(broker):
    code, out, err = kcat("-b", broker.bootstrap, "-L", "-m", "10")
    assert code == 0, out + err
    assert " 1 brokers:" in out, out
    assert f"broker {NODE_ID} at {broker.host}:{broker.port}" in out, out
    assert "(controller)" in out, out
    assert " 0 topics:" in out, out


def test_kcat_json_metadata(broker):
    code, out, err = kcat("-b", broker.bootstrap, "-L", "-J", "-m", "10")
    assert code == 0, out + err
    meta = json.loads(out)
    assert meta["brokers"] == [{"id": NODE_ID, "name": f"{broker.host}:{broker.port}"}], meta
    assert meta["controllerid"] == NODE_ID, meta
    assert meta["originating_broker"]["id"] == NODE_ID, meta
    assert meta["topics"] == [], meta


def test_kcat_unknown_topic(broker):
    code, out, err = kcat("-b", broker.bootstrap, "-L", "-J", "-m", "10", "-t", "no-such-topic")
    assert code == 0, out + err
    meta = json.loads(out)
    topics = {t["topic"]: t for t in meta["topics"]}
    assert "no-such-topic" in topics, meta
    assert "Unknown topic" in topics["no-such-topic"].get("error", ""), meta


# ---------------------------------------------------------------------------------------------
# confluent-kafka (librdkafka)


def admin_client(broker):
    # broker.version.fallback=0.9.0 leaves Metadata v0 (no cluster id, no controller) as the
    # only version librdkafka could use without ApiVersions: seeing the cluster id and the
    # controller proves that the ApiVersions negotiation worked.
    return AdminClient({"bootstrap.servers": broker.bootstrap,
                        "broker.version.fallback": "0.9.0",
                        "api.version.request": True})


def test_confluent_admin_list_topics(broker):
    meta = admin_client(broker).list_topics(timeout=10)
    assert list(meta.brokers) == [NODE_ID]
    b = meta.brokers[NODE_ID]
    assert (b.id, b.host, b.port) == (NODE_ID, broker.host, broker.port)
    assert meta.cluster_id == cluster_id_on_disk(broker)
    assert meta.controller_id == NODE_ID
    assert meta.orig_broker_id == NODE_ID
    assert meta.topics == {}


def test_confluent_admin_unknown_topic(broker):
    meta = admin_client(broker).list_topics(topic="no-such-topic", timeout=10)
    t = meta.topics["no-such-topic"]
    assert t.error is not None and t.error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART, t.error
    assert t.partitions == {}


# ---------------------------------------------------------------------------------------------
# kafka-python


def test_kafka_python_admin_describe_cluster(broker):
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap, client_id="sluice-itest",
                             api_version_auto_timeout_ms=20000, request_timeout_ms=20000)
    try:
        # kafka-python guesses the broker version from the ApiVersions answer; anything from
        # (0, 10, 1) on needs ApiVersions to have listed Metadata v2 or later.
        assert admin.config["api_version"] >= (0, 10, 1), admin.config["api_version"]
        cluster = admin.describe_cluster()
        assert [(b["node_id"], b["host"], b["port"]) for b in cluster["brokers"]] == \
            [(NODE_ID, broker.host, broker.port)], cluster
        assert cluster["controller_id"] == NODE_ID, cluster
        assert cluster["cluster_id"] == cluster_id_on_disk(broker), cluster
        assert admin.list_topics() == []
    finally:
        admin.close()
