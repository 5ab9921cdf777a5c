"""Raw-socket encoders and decoders for the admin APIs that the installed clients cannot send
(confluent-kafka 1.7 and kafka-python 2.0 have no IncrementalAlterConfigs, DescribeCluster or
DescribeTopicPartitions, and neither deletes topics by id). Written from the message definitions
in /work/shared/kafka-protocol/*.json; framing and primitives come from kwire.py.
"""

import kwire
from kwire import Reader, Writer

CREATE_TOPICS = 19
DELETE_TOPICS = 20
INCREMENTAL_ALTER_CONFIGS = 44
DESCRIBE_CLUSTER = 60
DESCRIBE_TOPIC_PARTITIONS = 75

# Error codes the tests expect.
UNKNOWN_TOPIC_OR_PARTITION = 3
LEADER_NOT_AVAILABLE = 5
INVALID_TOPIC_EXCEPTION = 17
TOPIC_ALREADY_EXISTS = 36
INVALID_PARTITIONS = 37
INVALID_REPLICATION_FACTOR = 38
INVALID_REPLICA_ASSIGNMENT = 39
INVALID_CONFIG = 40
INVALID_REQUEST = 42
UNKNOWN_TOPIC_ID = 100
MISMATCHED_ENDPOINT_TYPE = 114

# IncrementalAlterConfigs operations and ConfigResource types.
SET, DELETE, APPEND, SUBTRACT = 0, 1, 2, 3
TOPIC, BROKER, BROKER_LOGGER = 2, 4, 8


def _compact_array(w: Writer, items, write_item):
    w.uvarint(len(items) + 1)
    for item in items:
        write_item(item)


def call_flexible(broker, api_key: int, version: int, body: bytes, correlation_id: int = 1):
    """One request with header v2 (every API here is flexible at the versions used); returns
    the response body."""
    with kwire.connect(broker.host, broker.port) as s:
        s.sendall(kwire.frame(api_key, version, correlation_id, body, header_version=2))
        cid, out = kwire.split_response(kwire.recv_frame(s), 1)
        assert cid == correlation_id
        return out


def call_classic(broker, api_key: int, version: int, body: bytes, correlation_id: int = 1):
    """One request with header v1 (a non-flexible version); returns the response body."""
    with kwire.connect(broker.host, broker.port) as s:
        s.sendall(kwire.frame(api_key, version, correlation_id, body, header_version=1))
        cid, out = kwire.split_response(kwire.recv_frame(s), 0)
        assert cid == correlation_id
        return out


# ---------------------------------------------------------------------------------------------
# DeleteTopics v6: topics by name or id.

def delete_topics_v6(broker, topics):
    """topics: list of (name or None, 16-byte id). Returns [(name, id, error_code, message)]."""
    w = Writer()

    def item(t):
        w.compact_string(t[0])
        w.uuid(t[1])
        w.tagged_fields()
    _compact_array(w, topics, item)
    w.int32(30000)  # timeout_ms
    w.tagged_fields()
    r = Reader(call_flexible(broker, DELETE_TOPICS, 6, w.bytes()))
    r.int32()  # throttle
    out = []
    for _ in range(r.array_length(True)):
        name = r.compact_string(nullable=True)
        topic_id = r.uuid()
        code = r.int16()
        message = r.compact_string(nullable=True)
        r.tagged_fields()
        out.append((name, topic_id, code, message))
    r.tagged_fields()
    r.expect_end()
    return out


# ---------------------------------------------------------------------------------------------
# CreateTopics v7: the answer carries the topic id and the resulting configs.

def create_topics_v7(broker, topics, validate_only=False):
    """topics: list of (name, partitions, replication factor, {config: value}). Returns a list
    of dicts with name, topic_id, error_code, error_message, num_partitions,
    replication_factor and configs {name: (value, source)}."""
    w = Writer()

    def item(t):
        name, partitions, factor, configs = t
        w.compact_string(name)
        w.int32(partitions)
        w.int16(factor)
        w.uvarint(1)  # no assignments
        _compact_array(w, list(configs.items()),
                       lambda kv: (w.compact_string(kv[0]), w.compact_string(kv[1]),
                                   w.tagged_fields()))
        w.tagged_fields()
    _compact_array(w, topics, item)
    w.int32(30000)
    w.boolean(validate_only)
    w.tagged_fields()
    r = Reader(call_flexible(broker, CREATE_TOPICS, 7, w.bytes()))
    r.int32()
    out = []
    for _ in range(r.array_length(True)):
        t = {"name": r.compact_string(), "topic_id": r.uuid(), "error_code": r.int16(),
             "error_message": r.compact_string(nullable=True), "num_partitions": r.int32(),
             "replication_factor": r.int16(), "configs": {}}
        count = r.array_length(True, nullable=True)
        for _ in range(count or 0):
            name = r.compact_string()
            value = r.compact_string(nullable=True)
            r.boolean()  # read_only
            source = r.int8()
            r.boolean()  # sensitive
            r.tagged_fields()
            t["configs"][name] = (value, source)
        r.tagged_fields()
        out.append(t)
    r.tagged_fields()
    r.expect_end()
    return out


# ---------------------------------------------------------------------------------------------
# IncrementalAlterConfigs v1.

def incremental_alter_configs(broker, resources, validate_only=False):
    """resources: list of (resource type, name, [(key, op, value)]). Returns
    [(error_code, message, type, name)] in response order."""
    w = Writer()

    def config(c):
        w.compact_string(c[0])
        w.int8(c[1])
        w.compact_string(c[2])
        w.tagged_fields()

    def resource(res):
        w.int8(res[0])
        w.compact_string(res[1])
        _compact_array(w, res[2], config)
        w.tagged_fields()
    _compact_array(w, resources, resource)
    w.boolean(validate_only)
    w.tagged_fields()
    r = Reader(call_flexible(broker, INCREMENTAL_ALTER_CONFIGS, 1, w.bytes()))
    r.int32()
    out = []
    for _ in range(r.array_length(True)):
        code = r.int16()
        message = r.compact_string(nullable=True)
        rtype = r.int8()
        name = r.compact_string()
        r.tagged_fields()
        out.append((code, message, rtype, name))
    r.tagged_fields()
    r.expect_end()
    return out


# ---------------------------------------------------------------------------------------------
# DescribeCluster v1.

def describe_cluster(broker, endpoint_type=1):
    w = Writer().boolean(False).int8(endpoint_type)
    w.tagged_fields()
    r = Reader(call_flexible(broker, DESCRIBE_CLUSTER, 1, w.bytes()))
    out = {"throttle_time_ms": r.int32(), "error_code": r.int16(),
           "error_message": r.compact_string(nullable=True), "endpoint_type": r.int8(),
           "cluster_id": r.compact_string(), "controller_id": r.int32(), "brokers": []}
    for _ in range(r.array_length(True)):
        b = {"broker_id": r.int32(), "host": r.compact_string(), "port": r.int32(),
             "rack": r.compact_string(nullable=True)}
        r.tagged_fields()
        out["brokers"].append(b)
    out["cluster_authorized_operations"] = r.int32()
    r.tagged_fields()
    r.expect_end()
    return out


# ---------------------------------------------------------------------------------------------
# DescribeTopicPartitions v0.

def describe_topic_partitions(broker, names, limit=2000, cursor=None):
    """Returns ([(error_code, name, topic_id, [partition index])], next cursor or None)."""
    w = Writer()
    _compact_array(w, names, lambda n: (w.compact_string(n), w.tagged_fields()))
    w.int32(limit)
    if cursor is None:
        w.int8(-1)
    else:
        w.int8(1)
        w.compact_string(cursor[0])
        w.int32(cursor[1])
        w.tagged_fields()
    w.tagged_fields()
    r = Reader(call_flexible(broker, DESCRIBE_TOPIC_PARTITIONS, 0, w.bytes()))
    r.int32()
    topics = []
    for _ in range(r.array_length(True)):
        code = r.int16()
        name = r.compact_string(nullable=True)
        topic_id = r.uuid()
        r.boolean()  # internal
        partitions = []
        for _ in range(r.array_length(True)):
            p = {"error_code": r.int16(), "partition_index": r.int32(), "leader_id": r.int32(),
                 "leader_epoch": r.int32()}
            p["replicas"] = [r.int32() for _ in range(r.array_length(True))]
            p["isr"] = [r.int32() for _ in range(r.array_length(True))]
            for _ in range(2):  # eligible leader replicas, last known ELR
                n = r.array_length(True, nullable=True)
                [r.int32() for _ in range(n or 0)]
            [r.int32() for _ in range(r.array_length(True))]  # offline
            r.tagged_fields()
            partitions.append(p["partition_index"])
        r.int32()  # authorized operations
        r.tagged_fields()
        topics.append((code, name, topic_id, partitions))
    next_cursor = None
    if r.int8() != -1:
        next_cursor = (r.compact_string(), r.int32())
        r.tagged_fields()
    r.tagged_fields()
    r.expect_end()
    return topics, next_cursor


# ---------------------------------------------------------------------------------------------
# Metadata with topic ids.

def metadata(broker, version, topics, allow_auto_create=False):
    with kwire.connect(broker.host, broker.port) as s:
        _, body = kwire.call(s, kwire.METADATA, version,
                             kwire.metadata_request(version, 1, topics, allow_auto_create))
    return kwire.decode_metadata(body, version)


def topic_ids(broker):
    """{name: 16-byte topic id} from Metadata v12."""
    return {t["name"]: t["topic_id"] for t in metadata(broker, 12, None)["topics"]}
