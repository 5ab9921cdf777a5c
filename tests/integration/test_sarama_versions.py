"""sarama (Debian's 1.22) at every protocol Version it offers, from its default (0.8.2, which
sends Produce v0 and Fetch v0 with message format 0) to its newest (2.2.0): each produces and
reads back its own records, uncompressed and gzip-compressed. Kafka 4 refuses the old ones;
Sluice serves them (the legacy API versions and message formats v0/v1)."""

import time

import pytest
from confluent_kafka.admin import AdminClient, NewTopic

import clients

VERSIONS = ["default", "0.8.2.0", "0.9.0.0", "0.10.0.0", "0.10.1.0", "0.10.2.0", "0.11.0.0",
            "1.0.0", "1.1.0", "1.1.1", "2.0.0", "2.0.1", "2.1.0", "2.2.0"]
N = 200


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    from conftest import SluiceLauncher
    launcher = SluiceLauncher(tmp_path_factory.mktemp("sarama-versions"))
    try:
        yield launcher.start(overrides={"auto.create.topics.enable": "false"})
    finally:
        launcher.finish()


def has_timestamps(version):
    return version not in ("default", "0.8.2.0", "0.9.0.0")


def has_headers(version):
    return version.startswith(("0.11", "1.", "2."))


@pytest.mark.parametrize("codec", ["none", "gzip"])
@pytest.mark.parametrize("version", VERSIONS)
def test_sarama_version_round_trip(broker, version, codec):
    topic = f"sarama-{version}-{codec}".replace(".", "_")
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(timeout=clients.CLIENT_DEADLINE_S)
    base = int(time.time() * 1000) - 60_000
    records = [{"p": 0, "k": b"k%d" % i, "v": b"v%d" % i,
                "h": [("i", b"%d" % i)] if has_headers(version) else [], "ts": base + i}
               for i in range(N)]
    binary = str(clients.sarama_binary())
    code, out, err = clients.run([binary, "produce", "-brokers", broker.bootstrap, "-topic",
                                  topic, "-codec", codec, "-version", version],
                                 stdin=clients.to_json_lines(records))
    assert code == 0, f"sarama {version} produce failed: {err}"
    code, out, err = clients.run([binary, "consume", "-brokers", broker.bootstrap, "-topic",
                                  topic, "-partitions", "1", "-version", version])
    assert code == 0, f"sarama {version} consume failed: {err}"
    got = clients.from_json_lines(out)
    assert [r["o"] for r in got] == list(range(N))
    assert [r["v"] for r in got] == [r["v"] for r in records]
    assert [r["k"] for r in got] == [r["k"] for r in records]
    if has_timestamps(version):
        assert [r["ts"] for r in got] == [r["ts"] for r in records]
    if has_headers(version):
        assert [r["h"] for r in got] == [r["h"] for r in records]
