"""Topic administration and offset lookups through the admin APIs of KafkaJS and sarama, with
the errors as each client surfaces them: create and delete topics, describe and alter configs,
create partitions, list offsets by time.

The KafkaJS and sarama drivers (tests/clients) run a list of operations and print one JSON
result per operation: {"op", "error": Kafka error code or 0 (-1: not a Kafka error), ...}.
"""

import json
import time

import pytest

import clients

NONE = 0
UNKNOWN_TOPIC_OR_PARTITION = 3
INVALID_TOPIC_EXCEPTION = 17
INVALID_PARTITIONS = 37
INVALID_REPLICATION_FACTOR = 38
TOPIC_ALREADY_EXISTS = 36
INVALID_CONFIG = 40

DEFAULT_RETENTION_MS = "604800000"


def recent_base_ms():
    """A CreateTime an hour ago, in whole seconds: well inside the 7 days of retention."""
    return (int(time.time()) - 3600) * 1000


@pytest.fixture
def broker(sluice):
    b = sluice.start(overrides={"auto.create.topics.enable": "false"})
    yield b


def kafkajs_admin(broker, ops):
    code, out, err = clients.run(["node", str(clients.kafkajs_script()), "admin",
                                  broker.bootstrap],
                                 stdin="".join(json.dumps(o) + "\n" for o in ops).encode())
    assert code == 0, err
    results = [json.loads(line) for line in out.decode().splitlines()]
    assert [r["op"] for r in results] == [o["op"] for o in ops], err
    return results


def sarama_admin(broker, ops):
    code, out, err = clients.run([str(clients.sarama_binary()), "admin", "-brokers",
                                  broker.bootstrap],
                                 stdin="".join(json.dumps(o) + "\n" for o in ops).encode())
    assert code == 0, err
    results = [json.loads(line) for line in out.decode().splitlines()]
    assert [r["op"] for r in results] == [o["op"] for o in ops], err
    return results


def errors(results):
    return [r["error"] for r in results]


def test_kafkajs_topic_admin(broker):
    r = kafkajs_admin(broker, [
        {"op": "create", "topic": "kj", "partitions": 3, "replication": 1,
         "configs": {"retention.ms": "1234", "cleanup.policy": "compact"}},
        # KafkaJS answers TOPIC_ALREADY_EXISTS with `false` rather than an error.
        {"op": "create", "topic": "kj", "partitions": 3, "replication": 1},
        {"op": "create", "topic": "kj-zero", "partitions": 0, "replication": 1},
        {"op": "create", "topic": "kj-rf3", "partitions": 1, "replication": 3},
        {"op": "create", "topic": "bad/name", "partitions": 1, "replication": 1},
        {"op": "create", "topic": "kj-badconf", "partitions": 1, "replication": 1,
         "configs": {"retention.ms": "soon"}},
        {"op": "create", "topic": "kj-validate", "partitions": 1, "replication": 1,
         "validate_only": True},
        {"op": "list"},
    ])
    assert errors(r) == [NONE, NONE, INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR,
                         INVALID_TOPIC_EXCEPTION, INVALID_CONFIG, NONE, NONE], r
    assert r[0]["created"] is True and r[1]["created"] is False
    assert r[2]["type"] == "INVALID_PARTITIONS" and r[3]["type"] == "INVALID_REPLICATION_FACTOR"
    assert r[4]["type"] == "INVALID_TOPIC_EXCEPTION"
    assert r[7]["topics"] == ["kj"]  # nothing else was created

    r = kafkajs_admin(broker, [
        {"op": "describe_configs", "topic": "kj", "names": ["retention.ms", "cleanup.policy",
                                                            "segment.bytes"]},
        # AlterConfigs replaces the whole set: retention.ms goes back to its default.
        {"op": "alter_configs", "topic": "kj", "configs": {"cleanup.policy": "delete"}},
        {"op": "describe_configs", "topic": "kj", "names": ["retention.ms", "cleanup.policy"]},
        {"op": "alter_configs", "topic": "kj", "configs": {"retention.ms": "-7"}},
        {"op": "alter_configs", "topic": "kj", "configs": {"no.such.config": "1"}},
        {"op": "alter_configs", "topic": "missing", "configs": {"retention.ms": "1"}},
        {"op": "describe_configs", "topic": "missing", "names": ["retention.ms"]},
    ])
    assert errors(r)[:4] == [NONE, NONE, NONE, INVALID_CONFIG], r
    assert r[0]["configs"]["retention.ms"] == {"value": "1234", "default": False, "source": 1}
    assert r[0]["configs"]["cleanup.policy"]["value"] == "compact"
    assert r[0]["configs"]["segment.bytes"] == {"value": "1073741824", "default": True,
                                                "source": 5}  # DEFAULT_CONFIG
    assert r[2]["configs"]["retention.ms"]["value"] == DEFAULT_RETENTION_MS
    assert r[2]["configs"]["cleanup.policy"] == {"value": "delete", "default": False,
                                                 "source": 1}  # DYNAMIC_TOPIC_CONFIG
    assert r[4]["error"] == INVALID_CONFIG, r[4]
    assert r[5]["error"] == UNKNOWN_TOPIC_OR_PARTITION, r[5]
    assert r[6]["error"] == UNKNOWN_TOPIC_OR_PARTITION, r[6]

    r = kafkajs_admin(broker, [
        {"op": "create_partitions", "topic": "kj", "partitions": 5},
        {"op": "metadata", "topic": "kj"},
        {"op": "create_partitions", "topic": "kj", "partitions": 2},
        {"op": "create_partitions", "topic": "missing", "partitions": 2},
        {"op": "delete", "topic": "kj"},
        {"op": "delete", "topic": "kj"},
        {"op": "list"},
    ])
    assert errors(r) == [NONE, NONE, INVALID_PARTITIONS, UNKNOWN_TOPIC_OR_PARTITION, NONE,
                         UNKNOWN_TOPIC_OR_PARTITION, NONE], r
    assert len(r[1]["metadata"]["topics"][0]["partitions"]) == 5
    assert r[6]["topics"] == []


def test_kafkajs_offsets_by_timestamp(broker):
    kafkajs_admin(broker, [{"op": "create", "topic": "times", "partitions": 2,
                            "replication": 1}])
    base = recent_base_ms()
    records = [{"p": i % 2, "k": b"k", "v": str(i).encode(), "h": [], "ts": base + 1000 * i}
               for i in range(100)]
    clients.produce("kafkajs", broker, "times", "none", records)
    r = kafkajs_admin(broker, [
        {"op": "offsets", "topic": "times"},
        # Partition 0 holds even i (offset i/2), partition 1 odd i.
        {"op": "offsets_by_time", "topic": "times", "timestamp": base + 1000 * 42},
        {"op": "offsets_by_time", "topic": "times", "timestamp": base + 1000 * 42 + 1},
        {"op": "offsets_by_time", "topic": "times", "timestamp": base - 1},
        # After the last record: KafkaJS falls back to the high watermark.
        {"op": "offsets_by_time", "topic": "times", "timestamp": base + 1000 * 1000},
    ])
    assert errors(r) == [NONE] * 5, r

    def by_partition(offsets):
        return {o["partition"]: o["offset"] for o in offsets}

    assert {o["partition"]: (o["low"], o["high"]) for o in r[0]["offsets"]} == \
        {0: ("0", "50"), 1: ("0", "50")}
    assert by_partition(r[1]["offsets"]) == {0: "21", 1: "21"}  # ts 42000 / 43000
    assert by_partition(r[2]["offsets"]) == {0: "22", 1: "21"}
    assert by_partition(r[3]["offsets"]) == {0: "0", 1: "0"}
    assert by_partition(r[4]["offsets"]) == {0: "50", 1: "50"}


def test_kafkajs_delete_records(broker):
    kafkajs_admin(broker, [{"op": "create", "topic": "trimmed", "partitions": 2,
                            "replication": 1}])
    base = recent_base_ms()
    records = [{"p": i % 2, "k": b"k", "v": str(i).encode(), "h": [], "ts": base + i}
               for i in range(100)]
    clients.produce("kafkajs", broker, "trimmed", "none", records)
    r = kafkajs_admin(broker, [
        # KafkaJS's deleteTopicRecords needs the topic's metadata loaded first.
        {"op": "metadata", "topic": "trimmed"},
        {"op": "delete_records", "topic": "trimmed", "offsets": {"0": 20, "1": -1}},
        {"op": "offsets", "topic": "trimmed"},
        # Past the high watermark: OFFSET_OUT_OF_RANGE, and nothing moves.
        {"op": "delete_records", "topic": "trimmed", "offsets": {"0": 51}},
        {"op": "offsets", "topic": "trimmed"},
    ])
    assert errors(r[:3]) == [NONE, NONE, NONE], r
    assert {o["partition"]: (o["low"], o["high"]) for o in r[2]["offsets"]} == \
        {0: ("20", "50"), 1: ("50", "50")}
    assert r[3]["error"] == 1, r  # OFFSET_OUT_OF_RANGE
    assert {o["partition"]: o["low"] for o in r[4]["offsets"]} == {0: "20", 1: "50"}


def test_sarama_delete_records(broker):
    """sarama 1.22's ClusterAdmin.DeleteRecords (DeleteRecords v0) moves the low watermarks; it
    drops the per-partition errors of the answer, so an offset past the high watermark shows
    only as a log start that did not move."""
    sarama_admin(broker, [{"op": "create", "topic": "sa-trim", "partitions": 2,
                           "replication": 1}])
    base = recent_base_ms()
    records = [{"p": i % 2, "k": b"k", "v": str(i).encode(), "h": [], "ts": base + i}
               for i in range(100)]
    clients.produce("kafkajs", broker, "sa-trim", "none", records)
    earliest = [{"op": "offset_by_time", "topic": "sa-trim", "partition": p, "timestamp": -2}
                for p in (0, 1)]
    r = sarama_admin(broker, [
        {"op": "delete_records", "topic": "sa-trim", "offsets": {"0": 20, "1": -1}},
        *earliest,
        {"op": "delete_records", "topic": "sa-trim", "offsets": {"0": 51}},
        *earliest,
    ])
    assert errors(r) == [NONE] * 6, r
    assert [r[1]["offset"], r[2]["offset"]] == [20, 50]
    assert [r[4]["offset"], r[5]["offset"]] == [20, 50]


def test_sarama_topic_admin(broker):
    r = sarama_admin(broker, [
        {"op": "create", "topic": "sa", "partitions": 3, "replication": 1,
         "configs": {"retention.ms": "1234"}},
        {"op": "create", "topic": "sa", "partitions": 3, "replication": 1},
        {"op": "create", "topic": "sa-zero", "partitions": 0, "replication": 1},
        {"op": "create", "topic": "sa-rf3", "partitions": 1, "replication": 3},
        {"op": "create", "topic": "bad/name", "partitions": 1, "replication": 1},
        {"op": "create", "topic": "sa-badconf", "partitions": 1, "replication": 1,
         "configs": {"cleanup.policy": "sometimes"}},
        {"op": "create", "topic": "sa-validate", "partitions": 1, "replication": 1,
         "validate_only": True},
        {"op": "describe_topic", "topic": "sa-validate"},
        {"op": "describe_topic", "topic": "sa"},
    ])
    assert errors(r) == [NONE, TOPIC_ALREADY_EXISTS, INVALID_PARTITIONS,
                         INVALID_REPLICATION_FACTOR, INVALID_TOPIC_EXCEPTION, INVALID_CONFIG,
                         NONE, UNKNOWN_TOPIC_OR_PARTITION, NONE], r
    assert r[8]["partitions"] == 3

    r = sarama_admin(broker, [
        {"op": "describe_configs", "topic": "sa", "names": ["retention.ms", "segment.bytes"]},
        {"op": "alter_configs", "topic": "sa", "configs": {"cleanup.policy": "compact"}},
        {"op": "describe_configs", "topic": "sa", "names": ["retention.ms", "cleanup.policy"]},
        {"op": "alter_configs", "topic": "sa", "configs": {"retention.ms": "soon"}},
        {"op": "describe_configs", "topic": "missing", "names": []},
        {"op": "create_partitions", "topic": "sa", "partitions": 4},
        {"op": "create_partitions", "topic": "sa", "partitions": 4},
        {"op": "create_partitions", "topic": "missing", "partitions": 4},
        {"op": "describe_topic", "topic": "sa"},
        {"op": "delete", "topic": "sa"},
        {"op": "delete", "topic": "sa"},
    ])
    assert r[0]["error"] == NONE, r[0]
    # DescribeConfigs v1 has config sources, sarama's ConfigSource: 1 topic, 5 default.
    assert r[0]["configs"]["retention.ms"]["value"] == "1234"
    assert r[0]["configs"]["retention.ms"]["source"] == 1
    assert r[0]["configs"]["segment.bytes"]["value"] == "1073741824"
    assert r[0]["configs"]["segment.bytes"]["source"] == 5
    assert r[1]["error"] == NONE, r[1]
    assert r[2]["configs"]["retention.ms"]["value"] == DEFAULT_RETENTION_MS
    assert r[2]["configs"]["cleanup.policy"]["value"] == "compact"
    # sarama's AlterConfig turns a resource error into a plain error with the broker's message.
    assert r[3]["error"] == -1 and r[3]["message"], r[3]
    assert r[4]["error"] == UNKNOWN_TOPIC_OR_PARTITION, r[4]
    assert errors(r[5:]) == [NONE, INVALID_PARTITIONS, UNKNOWN_TOPIC_OR_PARTITION, NONE, NONE,
                             UNKNOWN_TOPIC_OR_PARTITION], r[5:]
    assert r[8]["partitions"] == 4


def test_sarama_describe_config_v0(sluice):
    # sarama 1.22's ClusterAdmin.DescribeConfig always sends DescribeConfigs v0, which Kafka 4
    # removed (KIP-896) and Sluice serves unless sluice.legacy.api.versions.enable=false.
    b = sluice.start()
    sarama_admin(b, [{"op": "create", "topic": "v0", "partitions": 1, "replication": 1,
                      "configs": {"retention.ms": "1234"}}])
    r = sarama_admin(b, [{"op": "describe_configs_v0", "topic": "v0",
                          "names": ["retention.ms", "segment.bytes"]}])
    assert r[0]["error"] == NONE, r
    assert r[0]["configs"]["retention.ms"]["value"] == "1234"
    assert r[0]["configs"]["retention.ms"]["default"] is False
    assert r[0]["configs"]["segment.bytes"]["default"] is True

    kafka4 = sluice.start(overrides={"sluice.legacy.api.versions.enable": "false"})
    sarama_admin(kafka4, [{"op": "create", "topic": "v0", "partitions": 1, "replication": 1}])
    r = sarama_admin(kafka4, [{"op": "describe_configs_v0", "topic": "v0", "names": []}])
    assert r[0]["error"] == -1 and r[0]["configs"] == {}, r  # the connection was closed
    assert "describe_configs version 0 is not supported" in kafka4.log()


# sarama 1.22 leaves max_timestamp at -1 in the batches it writes; Kafka's LogValidator (and
# Sluice's Produce) rewrites a CreateTime batch's max timestamp from its records.
def test_sarama_offsets_by_time(broker):
    sarama_admin(broker, [{"op": "create", "topic": "times", "partitions": 1,
                           "replication": 1}])
    base = recent_base_ms()
    records = [{"p": 0, "k": b"k", "v": str(i).encode(), "h": [], "ts": base + 1000 * i}
               for i in range(100)]
    clients.produce("sarama", broker, "times", "gzip", records)
    r = sarama_admin(broker, [
        {"op": "offset_by_time", "topic": "times", "partition": 0, "timestamp": -2},
        {"op": "offset_by_time", "topic": "times", "partition": 0, "timestamp": -1},
        {"op": "offset_by_time", "topic": "times", "partition": 0, "timestamp": base + 42000},
        {"op": "offset_by_time", "topic": "times", "partition": 0,
         "timestamp": base + 42000 + 1},
        {"op": "offset_by_time", "topic": "times", "partition": 0, "timestamp": base + 10**6},
        {"op": "offset_by_time", "topic": "times", "partition": 5, "timestamp": -1},
    ])
    assert [x["offset"] for x in r[:5]] == [0, 100, 42, 43, -1], r
    assert errors(r[:5]) == [NONE] * 5
    assert r[5]["error"] == UNKNOWN_TOPIC_OR_PARTITION, r[5]
