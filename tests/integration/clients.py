"""One produce/consume interface over every real client the tests drive: kcat,
confluent-kafka (librdkafka), kafka-python, KafkaJS (tests/clients/kafkajs, installed by
scripts/install-deps.sh with `npm ci`) and sarama (tests/clients/sarama, built here from
Debian's packaged sources into the build tree).

A record is a dict: p (partition), k and v (bytes), h (list of (name, bytes)), ts (ms, CreateTime)
and, when read back, o (offset). The KafkaJS and sarama drivers exchange records as JSON lines
with bytes in base64.
"""

import base64
import fcntl
import functools
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

CLIENT_DEADLINE_S = 120

SOURCE_DIR = Path(__file__).resolve().parent.parent
KAFKAJS_DIR = SOURCE_DIR / "clients" / "kafkajs"
SARAMA_DIR = SOURCE_DIR / "clients" / "sarama"
# Debian's packaged Go sources (golang-github-shopify-sarama-dev and its dependencies); no
# module proxy is needed or reachable.
DEBIAN_GOPATH = "/usr/share/gocode"

CLIENTS = ["kcat", "confluent", "kafka-python", "kafkajs", "sarama"]
CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]


def work_dir() -> Path:
    """Where built client programs go: the build tree under ctest, a temp dir by hand."""
    path = Path(os.environ.get("SLUICE_TEST_WORK_DIR",
                               Path(tempfile.gettempdir()) / "sluice-test-clients"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def run(args, stdin=None, env=None, cwd=None, timeout=CLIENT_DEADLINE_S):
    done = subprocess.run(args, input=stdin, capture_output=True, timeout=timeout, env=env,
                          cwd=cwd)
    return done.returncode, done.stdout, done.stderr.decode(errors="replace")


@functools.lru_cache(maxsize=None)
def sarama_binary() -> Path:
    """Builds tests/clients/sarama into the build tree, once per test run (Go's cache makes a
    rebuild cheap); a lock keeps test files that run in parallel from building it at once."""
    out = work_dir() / "sarama_client"
    env = dict(os.environ, GOPATH=DEBIAN_GOPATH, GO111MODULE="off", GOFLAGS="",
               GOCACHE=str(work_dir() / "go-cache"), CGO_ENABLED="1")
    with open(work_dir() / "sarama_client.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        code, _, err = run(["go", "build", "-o", str(out), "."], env=env, cwd=SARAMA_DIR,
                           timeout=300)
    if code != 0:
        pytest.fail(f"building the sarama client failed:\n{err}", pytrace=False)
    return out


def kafkajs_script() -> Path:
    if not (KAFKAJS_DIR / "node_modules" / "kafkajs").is_dir():
        pytest.fail(f"KafkaJS is not installed in {KAFKAJS_DIR}: run scripts/install-deps.sh",
                    pytrace=False)
    return KAFKAJS_DIR / "client.js"


# ---------------------------------------------------------------------------------------------
# JSON-lines records for the KafkaJS and sarama drivers

def _b64(data):
    return None if data is None else base64.b64encode(data).decode()


def _unb64(text):
    return None if text is None else base64.b64decode(text)


def to_json_lines(records) -> bytes:
    return "".join(json.dumps({"p": r["p"], "k": _b64(r["k"]), "v": _b64(r["v"]),
                               "h": [[n, _b64(v)] for n, v in r["h"]], "ts": r["ts"]}) + "\n"
                   for r in records).encode()


def from_json_lines(out: bytes):
    records = []
    for line in out.decode().splitlines():
        j = json.loads(line)
        records.append({"p": j["p"], "o": j["o"], "k": _unb64(j["k"]), "v": _unb64(j["v"]),
                        "h": [(n, _unb64(v)) for n, v in (j["h"] or [])], "ts": j["ts"]})
    return records


# ---------------------------------------------------------------------------------------------
# Produce. Each returns nothing and fails the test if the client reports an error.

def produce(client, broker, topic, codec, records):
    PRODUCERS[client](broker, topic, codec, records)


def _produce_kcat(broker, topic, codec, records):
    # kcat takes one partition per run and the same headers for every record (see
    # KCAT_HEADERS); librdkafka stamps the CreateTime itself.
    for p in sorted({r["p"] for r in records}):
        lines = b"".join(r["k"] + b"\t" + r["v"] + b"\n" for r in records if r["p"] == p)
        code, out, err = run(["kcat", "-b", broker.bootstrap, "-P", "-t", topic, "-p", str(p),
                              "-K", "\\t", "-z", codec, "-X", "linger.ms=5",
                              *[a for n, v in KCAT_HEADERS for a in ("-H", f"{n}={v.decode()}")]],
                             stdin=lines)
        assert code == 0, f"kcat -P failed ({code}): {err}"


def _produce_confluent(broker, topic, codec, records):
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 5, "acks": "all",
                  "compression.type": codec})
    errors = []

    def on_delivery(err, msg):
        if err is not None:
            errors.append(err)

    for r in records:
        p.produce(topic, key=r["k"], value=r["v"], headers=r["h"], timestamp=r["ts"],
                  partition=r["p"], on_delivery=on_delivery)
        p.poll(0)
    assert p.flush(CLIENT_DEADLINE_S) == 0
    assert not errors, errors[:5]


def _produce_kafka_python(broker, topic, codec, records):
    from kafka import KafkaProducer
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap, acks=1, linger_ms=5,
                             compression_type=None if codec == "none" else codec,
                             max_in_flight_requests_per_connection=1)
    futures = [producer.send(topic, key=r["k"], value=r["v"], headers=r["h"],
                             partition=r["p"], timestamp_ms=r["ts"]) for r in records]
    producer.flush(CLIENT_DEADLINE_S)
    for f in futures:
        f.get(timeout=CLIENT_DEADLINE_S)
    producer.close()


def _produce_kafkajs(broker, topic, codec, records):
    code, out, err = run(["node", str(kafkajs_script()), "produce", broker.bootstrap, topic,
                          codec], stdin=to_json_lines(records))
    assert code == 0, f"kafkajs produce failed ({code}): {err}"


def _produce_sarama(broker, topic, codec, records):
    code, out, err = run([str(sarama_binary()), "produce", "-brokers", broker.bootstrap,
                          "-topic", topic, "-codec", codec], stdin=to_json_lines(records))
    assert code == 0, f"sarama produce failed ({code}): {err}"
    assert len(out.splitlines()) == len(records)


PRODUCERS = {"kcat": _produce_kcat, "confluent": _produce_confluent,
             "kafka-python": _produce_kafka_python, "kafkajs": _produce_kafkajs,
             "sarama": _produce_sarama}

# The headers kcat puts on every record it produces (-H takes no per-record headers).
KCAT_HEADERS = [("source", b"kcat"), ("e", b"")]


def as_produced_by(client, records, before_ms, after_ms):
    """What a producer client can send of `records`: kcat sends fixed headers and its own
    timestamps (any time in [before_ms, after_ms])."""
    if client != "kcat":
        return records
    return [dict(r, h=KCAT_HEADERS, ts=(before_ms, after_ms)) for r in records]


# ---------------------------------------------------------------------------------------------
# Consume: every record of partitions 0..partitions-1 from offset 0, `count` in all.

def consume(client, broker, topic, partitions, count):
    got = CONSUMERS[client](broker, topic, partitions, count)
    assert len(got) == count, f"{client} read {len(got)} of {count} records"
    return got


def _consume_kcat(broker, topic, partitions, count):
    code, out, err = run(["kcat", "-b", broker.bootstrap, "-C", "-t", topic, "-o", "beginning",
                          "-e", "-J", "-q"])
    assert code == 0, f"kcat -C failed ({code}): {err}"
    records = []
    for line in out.decode().splitlines():
        j = json.loads(line)
        assert j["tstype"] == "create", j
        flat = j.get("headers") or []
        records.append({"p": j["partition"], "o": j["offset"], "k": j["key"].encode(),
                        "v": j["payload"].encode(), "ts": j["ts"],
                        "h": [(flat[i], flat[i + 1].encode()) for i in range(0, len(flat), 2)]})
    return records


def _consume_confluent(broker, topic, partitions, count):
    from confluent_kafka import Consumer, KafkaError, TopicPartition
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "unused",
                  "enable.auto.commit": False, "enable.auto.offset.store": False})
    c.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    records = []
    deadline = time.monotonic() + CLIENT_DEADLINE_S
    while len(records) < count and time.monotonic() < deadline:
        for m in c.consume(1000, 1.0):
            if m.error() is not None:
                assert m.error().code() == KafkaError._PARTITION_EOF, m.error()
                continue
            kind, ts = m.timestamp()
            assert kind == 1, (kind, ts)  # CreateTime
            records.append({"p": m.partition(), "o": m.offset(), "k": m.key(), "v": m.value(),
                            "h": m.headers() or [], "ts": ts})
    c.close()
    return records


def _consume_kafka_python(broker, topic, partitions, count):
    from kafka import KafkaConsumer, TopicPartition
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, enable_auto_commit=False)
    consumer.assign([TopicPartition(topic, p) for p in range(partitions)])
    consumer.seek_to_beginning()
    records = []
    deadline = time.monotonic() + CLIENT_DEADLINE_S
    while len(records) < count and time.monotonic() < deadline:
        for batch in consumer.poll(timeout_ms=1000, max_records=5000).values():
            for m in batch:
                assert m.timestamp_type == 0, m  # CreateTime
                records.append({"p": m.partition, "o": m.offset, "k": m.key, "v": m.value,
                                "h": list(m.headers), "ts": m.timestamp})
    consumer.close()
    return records


def _consume_kafkajs(broker, topic, partitions, count):
    code, out, err = run(["node", str(kafkajs_script()), "consume", broker.bootstrap, topic,
                          str(partitions)])
    assert code == 0, f"kafkajs consume failed ({code}): {err}"
    return from_json_lines(out)


def _consume_sarama(broker, topic, partitions, count):
    code, out, err = run([str(sarama_binary()), "consume", "-brokers", broker.bootstrap,
                          "-topic", topic, "-partitions", str(partitions)])
    assert code == 0, f"sarama consume failed ({code}): {err}"
    return from_json_lines(out)


CONSUMERS = {"kcat": _consume_kcat, "confluent": _consume_confluent,
             "kafka-python": _consume_kafka_python, "kafkajs": _consume_kafkajs,
             "sarama": _consume_sarama}


def assert_same_records(got, expected, partitions):
    """Per partition: offsets 0..n-1 in order, and each record's key, value, headers and
    timestamp as produced (a (low, high) timestamp is a window)."""
    for p in range(partitions):
        want = [r for r in expected if r["p"] == p]
        have = [r for r in got if r["p"] == p]
        assert [r["o"] for r in have] == list(range(len(want))), f"partition {p} offsets"
        for w, h in zip(want, have):
            where = f"partition {p} offset {h['o']}"
            assert h["k"] == w["k"], where
            assert h["v"] == w["v"], where
            assert [(n, bytes(v) if v is not None else None) for n, v in h["h"]] == \
                [(n, v) for n, v in w["h"]], where
            if isinstance(w["ts"], tuple):
                assert w["ts"][0] <= h["ts"] <= w["ts"][1], (where, h["ts"], w["ts"])
            else:
                assert h["ts"] == w["ts"], where
