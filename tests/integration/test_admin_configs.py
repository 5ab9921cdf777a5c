"""Config administration with real clients: DescribeConfigs (values, defaults, sources, synonyms,
documentation, read-only/sensitive/type), AlterConfigs and IncrementalAlterConfigs (SET, DELETE,
APPEND, SUBTRACT) on topics and on this broker, with confluent-kafka, kafka-python and raw
requests for what those clients cannot send (admin_wire.py)."""

import pytest
from confluent_kafka import KafkaError
from confluent_kafka.admin import AdminClient, ConfigResource, ConfigSource, NewTopic
from kafka import KafkaAdminClient
from kafka.admin import ConfigResource as KpConfigResource
from kafka.admin import ConfigResourceType as KpConfigResourceType

import admin_wire as aw
import kwire

DEADLINE_S = 30
NODE_ID = 5


@pytest.fixture
def broker(sluice):
    # log.retention.hours set statically, so that retention.ms has a STATIC_BROKER_CONFIG
    # synonym (converted to ms).
    b = sluice.start(overrides={"node.id": str(NODE_ID), "log.retention.hours": "72"})
    yield b
    assert not b.problems_since(0), b.log()


@pytest.fixture
def client(broker):
    a = AdminClient({"bootstrap.servers": broker.bootstrap})
    futures = a.create_topics([NewTopic("cfg", 1, 1)])
    futures["cfg"].result(timeout=DEADLINE_S)
    return a


def describe(client, rtype, name):
    [f] = client.describe_configs([ConfigResource(rtype, name)]).values()
    return f.result(timeout=DEADLINE_S)


def error_code(futures):
    [f] = futures.values()
    try:
        f.result(timeout=DEADLINE_S)
        return None
    except Exception as e:
        return e.args[0].code()


def describe_raw(broker, resources, synonyms=True, documentation=True):
    """DescribeConfigs v3; resources: [(type, name, keys or None)]."""
    w = kwire.Writer()
    w.int32(len(resources))
    for rtype, name, keys in resources:
        w.int8(rtype).string(name)
        if keys is None:
            w.int32(-1)
        else:
            w.int32(len(keys))
            for k in keys:
                w.string(k)
    w.boolean(synonyms).boolean(documentation)
    r = kwire.Reader(aw.call_classic(broker, 32, 3, w.bytes()))
    r.int32()
    results = []
    for _ in range(r.int32()):
        res = {"error_code": r.int16(), "error_message": r.string(nullable=True),
               "type": r.int8(), "name": r.string(), "configs": {}}
        for _ in range(r.int32()):
            c = {"name": r.string(), "value": r.string(nullable=True), "read_only": r.boolean(),
                 "source": r.int8(), "sensitive": r.boolean()}
            c["synonyms"] = [(r.string(), r.string(nullable=True), r.int8())
                             for _ in range(r.int32())]
            c["type"] = r.int8()
            c["documentation"] = r.string(nullable=True)
            res["configs"][c["name"]] = c
        results.append(res)
    r.expect_end()
    return results


# ---------------------------------------------------------------------------------------------
# DescribeConfigs


def test_describe_topic_configs_defaults_sources_and_synonyms(client, broker):
    configs = describe(client, "topic", "cfg")
    seg = configs["segment.bytes"]
    assert (seg.value, seg.source, seg.is_read_only, seg.is_sensitive) == \
        ("1073741824", ConfigSource.DEFAULT_CONFIG.value, False, False)
    ret = configs["retention.ms"]
    assert (ret.value, ret.source) == (str(72 * 3600 * 1000), ConfigSource.STATIC_BROKER_CONFIG.value)
    # librdkafka asks for synonyms (and keeps one per name).
    assert "log.retention.hours" in ret.synonyms
    # In full: the static log.retention.hours, then its default (168 hours).
    [raw] = describe_raw(broker, [(aw.TOPIC, "cfg", ["retention.ms"])])
    assert raw["configs"]["retention.ms"]["synonyms"] == [
        ("log.retention.hours", "72", ConfigSource.STATIC_BROKER_CONFIG.value),
        ("log.retention.hours", "168", ConfigSource.DEFAULT_CONFIG.value)], raw
    # Without synonyms asked for, there are none; without documentation, it is null.
    [raw] = describe_raw(broker, [(aw.TOPIC, "cfg", ["retention.ms"])], False, False)
    assert raw["configs"]["retention.ms"]["synonyms"] == []
    assert raw["configs"]["retention.ms"]["documentation"] is None
    assert configs["cleanup.policy"].value == "delete"
    assert "no.such.key" not in configs


def test_describe_configs_errors(client, broker):
    with pytest.raises(Exception) as e:
        describe(client, "topic", "missing")
    assert e.value.args[0].code() == KafkaError.UNKNOWN_TOPIC_OR_PART
    with pytest.raises(Exception) as e:
        describe(client, "topic", "bad name!")
    assert e.value.args[0].code() == KafkaError.TOPIC_EXCEPTION


def test_describe_broker_configs(client, broker):
    configs = describe(client, "broker", str(NODE_ID))
    hours = configs["log.retention.hours"]
    assert (hours.value, hours.source) == ("72", ConfigSource.STATIC_BROKER_CONFIG.value)
    assert configs["node.id"].is_read_only
    assert not configs["log.retention.ms"].is_read_only  # dynamic
    # The cluster-wide default resource lists only dynamic defaults: none yet.
    [raw] = describe_raw(broker, [(aw.BROKER, "", None)])
    assert (raw["error_code"], raw["configs"]) == (0, {}), raw


def test_describe_configs_raw_details(client, broker):
    # DescribeConfigs v3 with documentation and synonyms, an unknown resource type, another
    # broker's id and BROKER_LOGGER: each resource answers on its own.
    results = describe_raw(broker, [
        (aw.TOPIC, "cfg", ["segment.bytes", "no.such.key"]), (99, "x", None),
        (aw.BROKER, str(NODE_ID + 1), None), (aw.BROKER_LOGGER, str(NODE_ID), None),
        (aw.TOPIC, "cfg", [])])
    assert [(x["type"], x["name"], x["error_code"]) for x in results] == [
        (aw.TOPIC, "cfg", 0), (99, "x", aw.INVALID_REQUEST),
        (aw.BROKER, str(NODE_ID + 1), aw.INVALID_REQUEST),
        (aw.BROKER_LOGGER, str(NODE_ID), aw.INVALID_REQUEST), (aw.TOPIC, "cfg", 0)], results
    seg = results[0]["configs"]["segment.bytes"]
    assert list(results[0]["configs"]) == ["segment.bytes"]
    assert (seg["value"], seg["source"], seg["type"]) == ("1073741824", 5, 3)  # INT
    assert seg["documentation"], seg
    assert seg["synonyms"] == [("log.segment.bytes", "1073741824", 5)], seg
    assert results[4]["configs"] == {}  # an empty key list asks for nothing


# ---------------------------------------------------------------------------------------------
# AlterConfigs


def test_alter_configs_replaces_the_overrides(client):
    topic = ConfigResource("topic", "cfg", set_config={"retention.ms": "1000",
                                                       "cleanup.policy": "compact"})
    assert error_code(client.alter_configs([topic])) is None
    configs = describe(client, "topic", "cfg")
    assert (configs["retention.ms"].value, configs["retention.ms"].source) == \
        ("1000", ConfigSource.DYNAMIC_TOPIC_CONFIG.value)
    assert configs["cleanup.policy"].value == "compact"
    # AlterConfigs is not incremental: what is not named goes back to its default.
    topic = ConfigResource("topic", "cfg", set_config={"cleanup.policy": "delete"})
    assert error_code(client.alter_configs([topic])) is None
    configs = describe(client, "topic", "cfg")
    assert configs["retention.ms"].source == ConfigSource.STATIC_BROKER_CONFIG.value


def test_alter_configs_validate_only_and_errors(client):
    topic = ConfigResource("topic", "cfg", set_config={"retention.ms": "42"})
    assert error_code(client.alter_configs([topic], validate_only=True)) is None
    assert describe(client, "topic", "cfg")["retention.ms"].value != "42"
    for bad in ({"no.such.key": "1"}, {"retention.ms": "soon"},
                {"cleanup.policy": "sometimes"}):
        topic = ConfigResource("topic", "cfg", set_config=bad)
        assert error_code(client.alter_configs([topic])) == KafkaError.INVALID_CONFIG, bad
    missing = ConfigResource("topic", "missing", set_config={"retention.ms": "1"})
    assert error_code(client.alter_configs([missing])) == KafkaError.UNKNOWN_TOPIC_OR_PART
    # A broker key that cannot change at run time.
    static = ConfigResource("broker", str(NODE_ID), set_config={"num.io.threads": "4"})
    assert error_code(client.alter_configs([static])) == KafkaError.INVALID_CONFIG


def test_dynamic_broker_config_reaches_topics(client, broker):
    b = ConfigResource("broker", str(NODE_ID), set_config={"log.retention.ms": "7777"})
    assert error_code(client.alter_configs([b])) is None
    ret = describe(client, "topic", "cfg")["retention.ms"]
    assert (ret.value, ret.source) == ("7777", ConfigSource.DYNAMIC_BROKER_CONFIG.value)
    # The cluster-wide default (resource name ""), which librdkafka cannot name.
    assert aw.incremental_alter_configs(broker, [(aw.BROKER, "", [
        ("log.segment.bytes", aw.SET, "2097152")])])[0][0] == 0
    seg = describe(client, "topic", "cfg")["segment.bytes"]
    assert (seg.value, seg.source) == ("2097152",
                                       ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG.value)
    [raw] = describe_raw(broker, [(aw.BROKER, "", None)])
    assert {n: (c["value"], c["source"]) for n, c in raw["configs"].items()} == \
        {"log.segment.bytes": ("2097152", ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG.value)}


def test_alter_configs_keeps_the_sasl_keys_kafka_reloads(client):
    # Kafka's listeners reload these SASL keys, so AlterConfigs on a broker accepts them even
    # where no listener uses SASL (librdkafka's admin tests set one). Sluice keeps the value.
    b = ConfigResource("broker", str(NODE_ID),
                       set_config={"sasl.kerberos.min.time.before.relogin": "58000"})
    assert error_code(client.alter_configs([b])) is None
    relogin = describe(client, "broker", str(NODE_ID))["sasl.kerberos.min.time.before.relogin"]
    assert (relogin.value, relogin.source, relogin.is_read_only) == \
        ("58000", ConfigSource.DYNAMIC_BROKER_CONFIG.value, False)
    bad = ConfigResource("broker", str(NODE_ID),
                         set_config={"sasl.kerberos.min.time.before.relogin": "soon"})
    assert error_code(client.alter_configs([bad])) == KafkaError.INVALID_CONFIG
    # The SASL keys Kafka does not reload stay unknown here (Sluice has no SASL yet).
    other = ConfigResource("broker", str(NODE_ID), set_config={"sasl.server.max.receive.size": "1"})
    assert error_code(client.alter_configs([other])) == KafkaError.INVALID_CONFIG


# ---------------------------------------------------------------------------------------------
# IncrementalAlterConfigs (raw: the installed clients predate it)


def test_incremental_alter_configs_operations(client, broker):
    def policy():
        return describe(client, "topic", "cfg")["cleanup.policy"]

    assert aw.incremental_alter_configs(broker, [(aw.TOPIC, "cfg", [
        ("retention.ms", aw.SET, "5000"), ("cleanup.policy", aw.APPEND, "compact")])]) == \
        [(0, None, aw.TOPIC, "cfg")]
    configs = describe(client, "topic", "cfg")
    assert configs["retention.ms"].value == "5000"
    assert policy().value == "delete,compact"
    assert aw.incremental_alter_configs(broker, [(aw.TOPIC, "cfg", [
        ("cleanup.policy", aw.SUBTRACT, "delete")])])[0][0] == 0
    assert policy().value == "compact"
    # DELETE returns a key to its default; deleting a key that is not set changes nothing.
    assert aw.incremental_alter_configs(broker, [(aw.TOPIC, "cfg", [
        ("cleanup.policy", aw.DELETE, None), ("segment.ms", aw.DELETE, None)])])[0][0] == 0
    assert (policy().value, policy().source) == ("delete", ConfigSource.DEFAULT_CONFIG.value)
    assert describe(client, "topic", "cfg")["retention.ms"].value == "5000"
    # validate_only changes nothing.
    assert aw.incremental_alter_configs(broker, [(aw.TOPIC, "cfg", [
        ("retention.ms", aw.SET, "9")])], validate_only=True)[0][0] == 0
    assert describe(client, "topic", "cfg")["retention.ms"].value == "5000"
    # On this broker: SET a dynamic key.
    assert aw.incremental_alter_configs(broker, [(aw.BROKER, str(NODE_ID), [
        ("log.retention.ms", aw.SET, "86400000")])])[0][0] == 0
    assert describe(client, "broker", str(NODE_ID))["log.retention.ms"].value == "86400000"


def test_incremental_alter_configs_errors(client, broker):
    got = aw.incremental_alter_configs(broker, [
        (aw.TOPIC, "cfg", [("retention.ms", aw.APPEND, "1")]),        # not a list
        (aw.TOPIC, "missing", [("retention.ms", aw.SET, "1")]),
        (aw.TOPIC, "cfg", [("no.such.key", aw.SET, "1")]),           # cfg twice: both fail
        (99, "x", [("a", aw.SET, "1")]),
        (aw.BROKER, str(NODE_ID), [("log.retention.ms", 9, "1")]),   # unknown operation
        (aw.BROKER, str(NODE_ID), [("log.retention.ms", aw.SET, "soon")]),
    ])
    assert [(code, rtype, name) for code, _, rtype, name in got] == [
        (aw.INVALID_REQUEST, aw.TOPIC, "cfg"),
        (aw.UNKNOWN_TOPIC_OR_PARTITION, aw.TOPIC, "missing"),
        (aw.INVALID_REQUEST, aw.TOPIC, "cfg"),
        (aw.INVALID_REQUEST, 99, "x"),
        (aw.INVALID_REQUEST, aw.BROKER, str(NODE_ID)),
        (aw.INVALID_REQUEST, aw.BROKER, str(NODE_ID)),
    ], got
    got = aw.incremental_alter_configs(broker, [
        (aw.TOPIC, "cfg", [("retention.ms", aw.APPEND, "1")]),
        (aw.TOPIC, "cfg2", [("no.such.key", aw.SET, "1")]),
        (aw.BROKER, str(NODE_ID), [("log.retention.ms", aw.SET, "soon")]),
        (aw.TOPIC, "cfg3", [("cleanup.policy", aw.SUBTRACT, None)]),
    ])
    assert [code for code, *_ in got] == [aw.INVALID_CONFIG, aw.UNKNOWN_TOPIC_OR_PARTITION,
                                          aw.INVALID_CONFIG, aw.UNKNOWN_TOPIC_OR_PARTITION], got
    assert all(message for _, message, *_ in got), got


# ---------------------------------------------------------------------------------------------
# kafka-python


def test_kafka_python_describe_and_alter_configs(client, broker):
    a = KafkaAdminClient(bootstrap_servers=broker.bootstrap, client_id="sluice-admin-itest",
                         api_version_auto_timeout_ms=20000, request_timeout_ms=20000)
    try:
        a.alter_configs([KpConfigResource(KpConfigResourceType.TOPIC, "cfg",
                                          configs={"retention.ms": "3000"})])
        [resp] = a.describe_configs([KpConfigResource(KpConfigResourceType.TOPIC, "cfg")])
        [(code, message, rtype, name, entries)] = resp.resources
        assert (code, rtype, name) == (0, aw.TOPIC, "cfg")
        values = {e[0]: e[1] for e in entries}
        assert values["retention.ms"] == "3000"
        assert values["segment.bytes"] == "1073741824"
        [resp] = a.describe_configs([KpConfigResource(KpConfigResourceType.BROKER,
                                                      str(NODE_ID))])
        values = {e[0]: e[1] for e in resp.resources[0][4]}
        assert values["log.retention.hours"] == "72"
    finally:
        a.close()
