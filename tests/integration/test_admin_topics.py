"""Topic administration with real clients: CreateTopics, DeleteTopics, CreatePartitions and the
topics in Metadata (confluent-kafka AdminClient, kafka-python KafkaAdminClient, kcat), plus raw
requests for what those clients cannot send (admin_wire.py). Every Kafka error code the APIs
define for a single node is provoked, and topics survive a restart."""

import json
import subprocess

import pytest
from confluent_kafka import KafkaError
from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions, NewTopic
from kafka import KafkaAdminClient
from kafka.admin import NewPartitions as KpNewPartitions
from kafka.admin import NewTopic as KpNewTopic
from kafka import errors as kp_errors

import admin_wire as aw

DEADLINE_S = 30
NODE_ID = 3


@pytest.fixture
def broker(sluice):
    # A node id other than the default, so that leaders and replicas show what the broker set;
    # num.partitions other than 1 so that the default is visible.
    b = sluice.start(overrides={"node.id": str(NODE_ID), "num.partitions": "4"})
    yield b
    assert not b.problems_since(0), b.log()


def admin(broker):
    return AdminClient({"bootstrap.servers": broker.bootstrap})


def outcome(futures):
    """{name: None on success, else the KafkaError code}."""
    out = {}
    for name, f in futures.items():
        try:
            f.result(timeout=DEADLINE_S)
            out[name] = None
        except Exception as e:  # confluent raises KafkaException carrying a KafkaError
            out[name] = e.args[0].code()
    return out


def error_message(futures, name):
    try:
        futures[name].result(timeout=DEADLINE_S)
    except Exception as e:
        return e.args[0].str()
    return None


def topics_of(broker):
    a = admin(broker)
    md = a.list_topics(timeout=DEADLINE_S)
    return {name: t for name, t in md.topics.items()}


def kp_admin(broker):
    return KafkaAdminClient(bootstrap_servers=broker.bootstrap, client_id="sluice-admin-itest",
                            api_version_auto_timeout_ms=20000, request_timeout_ms=20000)


def kcat(*args):
    done = subprocess.run(["kcat", *args], capture_output=True, text=True, timeout=DEADLINE_S)
    return done.returncode, done.stdout, done.stderr


# ---------------------------------------------------------------------------------------------
# CreateTopics


def test_create_topics_and_list_them(broker):
    a = admin(broker)
    futures = a.create_topics([NewTopic("orders", 3, 1), NewTopic("defaults", -1, -1)])
    assert outcome(futures) == {"orders": None, "defaults": None}
    topics = topics_of(broker)
    assert sorted(topics) == ["defaults", "orders"]
    assert sorted(topics["orders"].partitions) == [0, 1, 2]
    assert sorted(topics["defaults"].partitions) == [0, 1, 2, 3]  # num.partitions
    for p in topics["orders"].partitions.values():
        assert (p.leader, p.replicas, p.isrs, p.error) == (NODE_ID, [NODE_ID], [NODE_ID], None)


def test_create_topics_validate_only_creates_nothing(broker):
    a = admin(broker)
    futures = a.create_topics([NewTopic("checked", 2, 1)], validate_only=True)
    assert outcome(futures) == {"checked": None}
    assert topics_of(broker) == {}
    futures = a.create_topics([NewTopic("checked", 2, 7)], validate_only=True)
    assert outcome(futures) == {"checked": KafkaError.INVALID_REPLICATION_FACTOR}
    # The raw answer to a validate-only request carries what the topic would be.
    [t] = aw.create_topics_v7(broker, [("checked", 2, 1, {"retention.ms": "60000"})],
                              validate_only=True)
    assert (t["error_code"], t["num_partitions"], t["replication_factor"]) == (0, 2, 1)
    assert t["configs"]["retention.ms"] == ("60000", 1)  # DYNAMIC_TOPIC_CONFIG
    assert topics_of(broker) == {}


def test_create_topic_with_configs_and_replica_assignment(broker):
    a = admin(broker)
    futures = a.create_topics([
        NewTopic("compacted", 1, 1, config={"cleanup.policy": "compact",
                                            "min.cleanable.dirty.ratio": "0.2"}),
        NewTopic("placed", 2, replica_assignment=[[NODE_ID], [NODE_ID]]),
        NewTopic("misplaced", 1, replica_assignment=[[NODE_ID + 1]]),
    ])
    assert outcome(futures) == {"compacted": None, "placed": None,
                                "misplaced": KafkaError.INVALID_REPLICA_ASSIGNMENT}
    topics = topics_of(broker)
    assert sorted(topics) == ["compacted", "placed"]
    assert sorted(topics["placed"].partitions) == [0, 1]
    # CreateTopics v7 answers with the id and the effective configs with their sources.
    [t] = aw.create_topics_v7(broker, [("with-configs", 2, 1, {"segment.ms": "3600000"})])
    assert t["error_code"] == 0 and t["topic_id"] != bytes(16)
    assert t["configs"]["segment.ms"] == ("3600000", 1)  # DYNAMIC_TOPIC_CONFIG
    assert t["configs"]["cleanup.policy"] == ("delete", 5)  # DEFAULT_CONFIG
    assert aw.topic_ids(broker)["with-configs"] == t["topic_id"]


def test_create_topic_errors(broker):
    a = admin(broker)
    assert outcome(a.create_topics([NewTopic("taken", 1, 1)])) == {"taken": None}
    names = ["bad name!", "x" * 250, ".", "..", "taken", "factor", "with.dot", "with_dot"]
    futures = a.create_topics([NewTopic(n, 1, 3 if n == "factor" else 1) for n in names])
    got = outcome(futures)
    assert got == {
        "bad name!": KafkaError.TOPIC_EXCEPTION,
        "x" * 250: KafkaError.TOPIC_EXCEPTION,
        ".": KafkaError.TOPIC_EXCEPTION,
        "..": KafkaError.TOPIC_EXCEPTION,
        "taken": KafkaError.TOPIC_ALREADY_EXISTS,
        "factor": KafkaError.INVALID_REPLICATION_FACTOR,
        "with.dot": None,
        # Kafka refuses names that collide with an existing one once '.' and '_' are equal.
        "with_dot": KafkaError.TOPIC_EXCEPTION,
    }, got
    assert "already exists" in error_message(futures, "taken")
    assert "249" in error_message(futures, "x" * 250)
    # 249 characters is the longest legal name.
    assert outcome(a.create_topics([NewTopic("y" * 249, 1, 1)])) == {"y" * 249: None}

    futures = a.create_topics([NewTopic("bad-config", 1, 1, config={"no.such.key": "1"}),
                               NewTopic("bad-value", 1, 1, config={"retention.ms": "soon"})])
    assert outcome(futures) == {"bad-config": KafkaError.INVALID_CONFIG,
                                "bad-value": KafkaError.INVALID_CONFIG}
    assert "no.such.key" in error_message(futures, "bad-config")
    assert "taken" in topics_of(broker) and "bad-config" not in topics_of(broker)


def test_create_topic_errors_kafka_python(broker):
    # kafka-python sends what it is given (librdkafka checks these before sending).
    a = kp_admin(broker)
    try:
        with pytest.raises(kp_errors.InvalidPartitionsError):
            a.create_topics([KpNewTopic("zero", 0, 1)])
        with pytest.raises(kp_errors.InvalidReplicationFactorError):
            a.create_topics([KpNewTopic("zero", 1, 0)])
        # The same name twice in one request: both copies fail with INVALID_REQUEST.
        with pytest.raises(kp_errors.InvalidRequestError):
            a.create_topics([KpNewTopic("twice", 1, 1), KpNewTopic("twice", 2, 1)])
    finally:
        a.close()
    assert topics_of(broker) == {}


def test_kafka_python_topic_lifecycle(broker):
    a = kp_admin(broker)
    try:
        a.create_topics([KpNewTopic("kp-one", 2, 1), KpNewTopic("kp-two", 1, 1,
                                                                 topic_configs={"retention.ms": "5000"})])
        assert sorted(a.list_topics()) == ["kp-one", "kp-two"]
        a.create_partitions({"kp-one": KpNewPartitions(5)})
        described = a.describe_topics(["kp-one"])
        assert [sorted(p["partition"] for p in t["partitions"]) for t in described] == \
            [[0, 1, 2, 3, 4]]
        with pytest.raises(kp_errors.TopicAlreadyExistsError):
            a.create_topics([KpNewTopic("kp-one", 1, 1)])
        a.delete_topics(["kp-two"])
        assert a.list_topics() == ["kp-one"]
        with pytest.raises(kp_errors.UnknownTopicOrPartitionError):
            a.delete_topics(["kp-two"])
    finally:
        a.close()


# ---------------------------------------------------------------------------------------------
# DeleteTopics


def test_delete_topics_by_name_and_by_id(broker):
    a = admin(broker)
    assert outcome(a.create_topics([NewTopic(n, 1, 1) for n in ("d1", "d2", "d3")])) == \
        {"d1": None, "d2": None, "d3": None}
    assert outcome(a.delete_topics(["d1", "missing"])) == \
        {"d1": None, "missing": KafkaError.UNKNOWN_TOPIC_OR_PART}
    assert sorted(topics_of(broker)) == ["d2", "d3"]

    ids = aw.topic_ids(broker)
    unknown_id = bytes(range(1, 17))
    got = aw.delete_topics_v6(broker, [(None, ids["d2"]), (None, unknown_id), ("d3", bytes(16)),
                                       ("d3", bytes(16))])
    assert [(n, i, c) for n, i, c, _ in got] == [
        ("d2", ids["d2"], 0),
        (None, unknown_id, aw.UNKNOWN_TOPIC_ID),
        ("d3", bytes(16), aw.INVALID_REQUEST),  # named twice in one request
        ("d3", bytes(16), aw.INVALID_REQUEST),
    ], got
    assert sorted(topics_of(broker)) == ["d3"]
    # A deleted topic's name can be used again, with a new id.
    assert outcome(a.create_topics([NewTopic("d2", 1, 1)])) == {"d2": None}
    assert aw.topic_ids(broker)["d2"] not in (ids["d2"], bytes(16))


# ---------------------------------------------------------------------------------------------
# CreatePartitions


def test_create_partitions(broker):
    a = admin(broker)
    assert outcome(a.create_topics([NewTopic("grow", 2, 1)])) == {"grow": None}
    assert outcome(a.create_partitions([NewPartitions("grow", 4)], validate_only=True)) == \
        {"grow": None}
    assert sorted(topics_of(broker)["grow"].partitions) == [0, 1]
    assert outcome(a.create_partitions([NewPartitions("grow", 4)])) == {"grow": None}
    assert sorted(topics_of(broker)["grow"].partitions) == [0, 1, 2, 3]
    assert outcome(a.create_partitions(
        [NewPartitions("grow", 5, replica_assignment=[[NODE_ID]])])) == {"grow": None}
    futures = a.create_partitions([NewPartitions("grow", 5), NewPartitions("nope", 3)])
    assert outcome(futures) == {"grow": KafkaError.INVALID_PARTITIONS,
                                "nope": KafkaError.UNKNOWN_TOPIC_OR_PART}
    futures = a.create_partitions([NewPartitions("grow", 2)])
    assert outcome(futures) == {"grow": KafkaError.INVALID_PARTITIONS}
    assert "5" in error_message(futures, "grow")
    futures = a.create_partitions([NewPartitions("grow", 6, replica_assignment=[[NODE_ID + 1]])])
    assert outcome(futures) == {"grow": KafkaError.INVALID_REPLICA_ASSIGNMENT}
    assert sorted(topics_of(broker)["grow"].partitions) == [0, 1, 2, 3, 4]


# ---------------------------------------------------------------------------------------------
# Metadata, DescribeTopicPartitions, DescribeCluster


def test_kcat_lists_topics_and_partitions(broker):
    a = admin(broker)
    assert outcome(a.create_topics(
        [NewTopic("kc-a", 2, 1), NewTopic("kc-b", 1, 1)])) == {"kc-a": None, "kc-b": None}
    code, out, err = kcat("-b", broker.bootstrap, "-L", "-J", "-m", "10")
    assert code == 0, out + err
    meta = json.loads(out)
    topics = {t["topic"]: t for t in meta["topics"]}
    assert sorted(topics) == ["kc-a", "kc-b"]
    assert [(p["partition"], p["leader"], [r["id"] for r in p["replicas"]],
             [r["id"] for r in p["isrs"]]) for p in topics["kc-a"]["partitions"]] == \
        [(0, NODE_ID, [NODE_ID], [NODE_ID]), (1, NODE_ID, [NODE_ID], [NODE_ID])]
    code, out, err = kcat("-b", broker.bootstrap, "-L", "-m", "10")
    assert code == 0 and " 2 topics:" in out and 'topic "kc-a" with 2 partitions:' in out, out


def test_metadata_topics_at_every_version(broker):
    a = admin(broker)
    assert outcome(a.create_topics([NewTopic("m", 2, 1)])) == {"m": None}
    ids = aw.topic_ids(broker)
    for version in range(0, 14):
        m = aw.metadata(broker, version, ["m", "bad name!"] if version else ["m"])
        where = f"Metadata v{version}: {m}"
        t = m["topics"][0]
        assert (t["error_code"], t["name"]) == (0, "m"), where
        assert [p["partition_index"] for p in t["partitions"]] == [0, 1], where
        assert all(p["leader_id"] == NODE_ID and p["replica_nodes"] == [NODE_ID]
                   and p["isr_nodes"] == [NODE_ID] for p in t["partitions"]), where
        if version >= 7:
            assert all(p["leader_epoch"] == 0 for p in t["partitions"]), where
        if version >= 10:
            assert t["topic_id"] == ids["m"], where
        if version >= 1:
            assert (m["topics"][1]["name"], m["topics"][1]["error_code"]) == \
                ("bad name!", aw.INVALID_TOPIC_EXCEPTION), where
        # All topics: [] at v0, null from v1 on.
        everything = aw.metadata(broker, version, None)
        assert [t["name"] for t in everything["topics"]] == ["m"], where


def test_metadata_auto_creates_topics(sluice):
    broker = sluice.start(overrides={"num.partitions": "3"})
    # Not allowed by the request: nothing is created.
    m = aw.metadata(broker, 9, ["auto-no"], allow_auto_create=False)
    assert m["topics"][0]["error_code"] == aw.UNKNOWN_TOPIC_OR_PARTITION
    # Allowed: as in Kafka 4, the first answer is UNKNOWN_TOPIC_OR_PARTITION and the topic is
    # there for the next request, with num.partitions partitions.
    m = aw.metadata(broker, 9, ["auto-yes", "bad name!"], allow_auto_create=True)
    assert [(t["name"], t["error_code"]) for t in m["topics"]] == \
        [("auto-yes", aw.UNKNOWN_TOPIC_OR_PARTITION), ("bad name!", aw.INVALID_TOPIC_EXCEPTION)]
    m = aw.metadata(broker, 9, ["auto-yes", "auto-no"])
    assert [(t["name"], t["error_code"], len(t["partitions"])) for t in m["topics"]] == \
        [("auto-yes", 0, 3), ("auto-no", aw.UNKNOWN_TOPIC_OR_PARTITION, 0)]
    # Before v4 the request cannot refuse auto-creation.
    aw.metadata(broker, 3, ["auto-v3"])
    assert "auto-v3" in [t["name"] for t in aw.metadata(broker, 3, None)["topics"]]


def test_metadata_without_auto_creation(sluice):
    broker = sluice.start(overrides={"auto.create.topics.enable": "false"})
    for _ in range(2):
        m = aw.metadata(broker, 9, ["never"], allow_auto_create=True)
        assert m["topics"][0]["error_code"] == aw.UNKNOWN_TOPIC_OR_PARTITION
    assert aw.metadata(broker, 9, None)["topics"] == []


def test_describe_topic_partitions_pages(broker):
    a = admin(broker)
    assert outcome(a.create_topics(
        [NewTopic("pa", 3, 1), NewTopic("pb", 2, 1), NewTopic("pc", 1, 1)])) == \
        {"pa": None, "pb": None, "pc": None}
    ids = aw.topic_ids(broker)
    pages = []
    cursor = None
    for _ in range(10):
        topics, cursor = aw.describe_topic_partitions(broker, [], limit=2, cursor=cursor)
        pages.append([(name, parts) for _, name, _, parts in topics])
        if cursor is None:
            break
    assert pages == [[("pa", [0, 1])], [("pa", [2]), ("pb", [0])], [("pb", [1]), ("pc", [0])]]
    topics, cursor = aw.describe_topic_partitions(broker, ["pc", "missing", "pa"])
    assert [(c, n, parts) for c, n, _, parts in topics] == [
        (aw.UNKNOWN_TOPIC_OR_PARTITION, "missing", []), (0, "pa", [0, 1, 2]), (0, "pc", [0])]
    assert cursor is None
    assert topics[1][2] == ids["pa"]


def test_describe_cluster(broker):
    d = aw.describe_cluster(broker)
    assert (d["error_code"], d["controller_id"]) == (0, NODE_ID), d
    assert d["brokers"] == [{"broker_id": NODE_ID, "host": broker.host, "port": broker.port,
                             "rack": None}], d
    assert d["cluster_id"] == aw.metadata(broker, 2, None)["cluster_id"]
    assert aw.describe_cluster(broker, endpoint_type=2)["error_code"] == \
        aw.MISMATCHED_ENDPOINT_TYPE
    a = kp_admin(broker)
    try:
        assert a.describe_cluster()["controller_id"] == NODE_ID
    finally:
        a.close()


# ---------------------------------------------------------------------------------------------
# Restart


def test_topics_ids_and_configs_survive_a_restart(sluice, tmp_path):
    data = tmp_path / "data"
    first = sluice.start(data_dir=data, overrides={"node.id": str(NODE_ID)})
    a = admin(first)
    assert outcome(a.create_topics([
        NewTopic("kept", 3, 1, config={"retention.ms": "123456"}),
        NewTopic("dropped", 1, 1), NewTopic("grown", 1, 1)])) == \
        {"kept": None, "dropped": None, "grown": None}
    assert outcome(a.delete_topics(["dropped"])) == {"dropped": None}
    assert outcome(a.create_partitions([NewPartitions("grown", 2)])) == {"grown": None}
    ids = aw.topic_ids(first)
    first.stop()

    second = sluice.start(data_dir=data, overrides={"node.id": str(NODE_ID)})
    assert "metadata log replayed: 2 topics, 5 partitions" in second.log()
    assert aw.topic_ids(second) == ids
    topics = topics_of(second)
    assert {n: sorted(t.partitions) for n, t in topics.items()} == \
        {"kept": [0, 1, 2], "grown": [0, 1]}
    [t] = aw.create_topics_v7(second, [("kept", 1, 1, {})])
    assert t["error_code"] == aw.TOPIC_ALREADY_EXISTS
    a = admin(second)
    [f] = a.describe_configs([ConfigResource("topic", "kept")]).values()
    entry = f.result(timeout=DEADLINE_S)["retention.ms"]
    assert (entry.value, entry.source) == ("123456", 1)
    assert not second.problems_since(0), second.log()


def test_a_metadata_log_that_cannot_be_opened_stops_the_start(sluice, tmp_path):
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    code, log = sluice.start_expecting_failure(overrides={"metadata.log.dir": str(not_a_dir)},
                                               data_dir=tmp_path / "data")
    assert code != 0, log
    assert f"cannot open the metadata log in {not_a_dir}" in log, log
