"""The `sluice` command line as an operator meets it: help, version, configuration errors,
server.properties files, data directories, ports, signals and the lifecycle log lines."""

import re
import signal
import socket

import pytest

import kwire

# Kafka's cluster ids are a UUID in URL-safe base64 without padding (kafka-storage random-uuid).
CLUSTER_ID = re.compile(r"^[A-Za-z0-9_-]{22}$")


def read_properties(path):
    out = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line[0] in "#!":
            continue
        key, _, value = line.partition("=")
        out[key.strip()] = value.strip()
    return out


def api_versions_round_trip(host, port):
    with kwire.connect(host, port) as s:
        cid, body = kwire.call(s, kwire.API_VERSIONS, 0, kwire.api_versions_request(0, 11))
    assert cid == 11
    return kwire.decode_api_versions(body, 0)


def metadata_round_trip(host, port, version=1):
    with kwire.connect(host, port) as s:
        cid, body = kwire.call(s, kwire.METADATA, version,
                               kwire.metadata_request(version, 12, None))
    assert cid == 12
    return kwire.decode_metadata(body, version)


# ---------------------------------------------------------------------------------------------
# Help and version


def test_help_names_the_start_command(sluice):
    code, out, err = sluice.run("--help")
    assert code == 0, err
    assert re.search(r"^\s*start\b", out, re.M), f"--help does not list `start`:\n{out}"


def test_start_help_lists_configuration_keys_with_defaults(sluice):
    code, out, err = sluice.run("start", "--help")
    assert code == 0, err
    assert "--override" in out
    for key, default in [("num.partitions", "1"), ("log.dirs", None), ("listeners", None),
                         ("node.id", "1"), ("auto.create.topics.enable", "true"),
                         ("socket.request.max.bytes", "104857600")]:
        if default is None:
            assert re.search(rf"^\s*{re.escape(key)}\b", out, re.M), f"{key} missing:\n{out}"
        else:
            assert re.search(rf"^\s*{re.escape(key)} \[{default}\]", out, re.M), \
                f"{key} [{default}] missing:\n{out}"


def test_version_prints_the_version_the_broker_logs(sluice):
    code, out, err = sluice.run("--version")
    assert code == 0, err
    version = out.strip()
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", version), f"--version printed {out!r}"
    broker = sluice.start()
    assert f"Sluice {version} starting" in broker.log()


def test_no_command_is_an_error(sluice):
    code, out, err = sluice.run()
    assert code != 0
    assert "subcommand" in (out + err).lower() or "start" in (out + err), out + err


# ---------------------------------------------------------------------------------------------
# Configuration errors: a non-zero exit and a message naming the key (and value).


def test_unknown_key_is_named(sluice, tmp_path):
    data = tmp_path / "data"
    code, log = sluice.start_expecting_failure(overrides={"num.partitons": "3"}, data_dir=data)
    assert code != 0
    assert "num.partitons" in log, log
    assert not re.search(r"\bready in \d+ ms", log), log
    assert not (data / "meta.properties").exists(), "a rejected configuration wrote meta.properties"


def test_unknown_key_in_a_file_is_named(sluice, tmp_path):
    conf = tmp_path / "server.properties"
    conf.write_text("num.partitions=3\nlog.retention.hourz=10\n")
    code, log = sluice.start_expecting_failure(config_file=conf, data_dir=tmp_path / "data")
    assert code != 0
    assert "log.retention.hourz" in log, log


@pytest.mark.parametrize("key,value", [
    ("num.partitions", "zero"),
    ("num.partitions", "0"),  # Kafka: at least 1
    ("auto.create.topics.enable", "maybe"),
    ("node.id", "12x"),
])
def test_bad_value_names_key_and_value(sluice, tmp_path, key, value):
    code, log = sluice.start_expecting_failure(overrides={key: value},
                                               data_dir=tmp_path / "data")
    assert code != 0
    assert key in log and value in log, log
    assert not re.search(r"\bready in \d+ ms", log), log


def test_override_without_a_value_is_an_error(sluice, tmp_path):
    code, _, err = sluice.run("start", "--override", "num.partitions",
                              "--override", f"log.dirs={tmp_path / 'data'}")
    assert code != 0
    assert "num.partitions" in err, err
    assert not re.search(r"\bready in \d+ ms", err), err


def test_unknown_log_level_is_an_error(sluice, tmp_path):
    code, log = sluice.start_expecting_failure(data_dir=tmp_path / "data",
                                               log_level="loud")
    assert code != 0
    assert "loud" in log, log


# ---------------------------------------------------------------------------------------------
# server.properties files


KAFKA_PROTOCOL_MAP = ("CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL,"
                      "SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL")


def kraft_properties(data_dir):
    """The settings of Kafka's own config/kraft/server.properties (combined broker and
    controller), with free ports and a temporary data directory."""
    return f"""\
# A combined KRaft node, as in Kafka's config/kraft/server.properties.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@localhost:9093

listeners=PLAINTEXT://127.0.0.1:0,CONTROLLER://127.0.0.1:0
inter.broker.listener.name=PLAINTEXT
advertised.listeners=PLAINTEXT://localhost:9092
controller.listener.names=CONTROLLER
listener.security.protocol.map={KAFKA_PROTOCOL_MAP}
num.network.threads=3
num.io.threads=8
socket.send.buffer.bytes=102400
socket.receive.buffer.bytes=102400
socket.request.max.bytes=104857600

log.dirs={data_dir}
num.partitions=1
num.recovery.threads.per.data.dir=1

offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1

#log.flush.interval.messages=10000
#log.flush.interval.ms=1000
log.retention.hours=168
#log.retention.bytes=1073741824
log.segment.bytes=1073741824
log.retention.check.interval.ms=300000
"""


def test_kafka_kraft_server_properties_starts(sluice, tmp_path):
    conf = tmp_path / "server.properties"
    conf.write_text(kraft_properties(tmp_path / "kraft-combined-logs"))
    # The harness adds listeners=PLAINTEXT://127.0.0.1:0; the file's own listeners are kept.
    b = sluice.start(config_file=conf, overrides={"listeners": None})
    assert b.node_id == 1
    assert b.data_dir == tmp_path / "kraft-combined-logs"
    assert api_versions_round_trip(b.host, b.port)["error_code"] == kwire.NONE
    # advertised.listeners is what clients are told.
    meta = metadata_round_trip(b.host, b.port)
    assert [(x["node_id"], x["host"], x["port"]) for x in meta["brokers"]] == \
        [(1, "localhost", 9092)]


def test_properties_file_comments_formats_and_overrides(sluice, tmp_path):
    conf = tmp_path / "server.properties"
    conf.write_text(
        "# comment\n"
        "! also a comment\n"
        "\n"
        "process.roles=broker\n"
        "node.id = 3\n"
        "controller.quorum.voters: 3@localhost:9093\n"
        "num.partitions 4\n"
        "log.retention.hours=24\n"
        "   # an indented comment\n"
        f"log.dirs={tmp_path / 'from-file'}\n"
        "auto.create.topics.enable=\\\n"
        "    false\n")
    b = sluice.start(config_file=conf)
    assert b.node_id == 3
    assert b.data_dir == tmp_path / "from-file"
    b.stop()
    # --override wins over the file.
    b2 = sluice.start(config_file=conf, overrides={"node.id": "5", "log.dirs": tmp_path / "o"})
    assert b2.node_id == 5
    assert b2.data_dir == tmp_path / "o"
    assert metadata_round_trip(b2.host, b2.port)["controller_id"] == 5


def test_missing_properties_file_is_named(sluice, tmp_path):
    missing = tmp_path / "nope.properties"
    code, log = sluice.start_expecting_failure(config_file=missing, data_dir=tmp_path / "data")
    assert code != 0
    assert str(missing) in log, log


# ---------------------------------------------------------------------------------------------
# Ports and data directories


def test_occupied_port_is_reported(sluice, tmp_path):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        code, log = sluice.start_expecting_failure(
            data_dir=tmp_path / "data", listeners=f"PLAINTEXT://127.0.0.1:{port}")
    assert code != 0
    assert "address already in use" in log.lower(), log
    assert str(port) in log, log
    assert not re.search(r"\bready in \d+ ms", log), log


def test_advertised_listener_not_in_listeners_is_refused(sluice, tmp_path):
    # Kafka requires every advertised listener name to be one of `listeners`.
    code, log = sluice.start_expecting_failure(
        data_dir=tmp_path / "data",
        overrides={"advertised.listeners": "EXTERNAL://example.com:9092"})
    assert code != 0
    assert "EXTERNAL" in log, log
    assert not re.search(r"\bready in \d+ ms", log), log


@pytest.mark.parametrize("layout", ["under_a_file", "is_a_file"])
def test_unusable_data_dir_is_reported(sluice, tmp_path, layout):
    # Tests run as root, so permissions would not stop the broker; a regular file in the way
    # does.
    afile = tmp_path / "afile"
    afile.write_text("not a directory\n")
    data = afile / "sub" if layout == "under_a_file" else afile
    code, log = sluice.start_expecting_failure(data_dir=data)
    assert code != 0
    assert str(data) in log, log
    assert not re.search(r"\bready in \d+ ms", log), log
    assert afile.read_text() == "not a directory\n"


def test_second_broker_on_the_same_data_dir_is_refused(sluice, tmp_path):
    first = sluice.start()
    meta_before = (first.data_dir / "meta.properties").read_text()
    code, log = sluice.start_expecting_failure(data_dir=first.data_dir)
    assert code != 0
    assert "in use by another broker" in log, log
    assert str(first.data_dir) in log, log
    # The first broker is unaffected.
    assert api_versions_round_trip(first.host, first.port)["error_code"] == kwire.NONE
    assert (first.data_dir / "meta.properties").read_text() == meta_before


# ---------------------------------------------------------------------------------------------
# Lifecycle


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_shuts_down_cleanly(sluice, sig):
    b = sluice.start()
    # A connected client must not hold up the shutdown.
    with kwire.connect(b.host, b.port) as s:
        kwire.call(s, kwire.API_VERSIONS, 0, kwire.api_versions_request(0, 1))
        b.stop(sig)  # asserts exit code 0 and "shut down cleanly"
        assert kwire.wait_closed(s) == b""
    messages = [l.message for l in b.lines()]
    assert f"received {sig.name}" in messages, b.log()
    assert not [l for l in b.lines() if l.level in ("error", "critical")], b.log()


def test_lifecycle_log_lines_in_order(sluice):
    b = sluice.start(overrides={"sluice.shards": "3"})
    b.stop()
    expected = [
        r"^Sluice \S+ starting$",
        rf"^data directory {re.escape(str(b.data_dir))}$",
        r"^cluster id \S+, node id 1$",
        r"^3 shards running$",
        rf"^listening on PLAINTEXT://127\.0\.0\.1:{b.port}$",
        r"^ready in \d+ ms$",
        r"^received SIGTERM$",
        r"^shutting down$",
        r"^shut down cleanly$",
    ]
    messages = [l.message for l in b.lines()]
    at = 0
    for pattern in expected:
        while at < len(messages) and not re.search(pattern, messages[at]):
            at += 1
        assert at < len(messages), f"/{pattern}/ missing or out of order in:\n{b.log()}"
        at += 1
    assert b.port != 0


def test_meta_properties_written_and_cluster_id_stable(sluice, tmp_path):
    data = tmp_path / "data"
    b = sluice.start(data_dir=data, overrides={"node.id": "7"})
    meta = read_properties(data / "meta.properties")
    assert meta.get("node.id") == "7", meta
    assert meta.get("version") == "1", meta
    cluster_id = meta.get("cluster.id")
    assert cluster_id and CLUSTER_ID.match(cluster_id), meta
    assert f"cluster id {cluster_id}, node id 7" in b.log()
    # What clients are told.
    assert metadata_round_trip(b.host, b.port, version=2)["cluster_id"] == cluster_id
    b.stop()

    again = sluice.start(data_dir=data, overrides={"node.id": "7"})
    assert f"cluster id {cluster_id}, node id 7" in again.log()
    assert read_properties(data / "meta.properties")["cluster.id"] == cluster_id
    assert metadata_round_trip(again.host, again.port, version=2)["cluster_id"] == cluster_id
    again.stop()

    # A fresh directory is a new cluster.
    other = sluice.start(data_dir=tmp_path / "other")
    other_id = read_properties(other.data_dir / "meta.properties")["cluster.id"]
    assert other_id != cluster_id


def test_data_dir_of_another_node_is_refused(sluice, tmp_path):
    # Kafka refuses to start when meta.properties records a different node id.
    data = tmp_path / "data"
    sluice.start(data_dir=data, overrides={"node.id": "1"}).stop()
    before = (data / "meta.properties").read_text()
    code, log = sluice.start_expecting_failure(data_dir=data, overrides={"node.id": "2"})
    assert code != 0
    assert "node" in log and "2" in log, log
    assert (data / "meta.properties").read_text() == before
