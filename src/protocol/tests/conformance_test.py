#!/usr/bin/env python3
"""Checks our protocol schema files (*.api) against Apache Kafka's reference definitions.

    conformance_test.py --schema-dir DIR --reference-dir DIR
    conformance_test.py --self-test

For every .api file (every API the broker serves) the matching `<Name>Request.json` and
`<Name>Response.json` of the reference are read (// comments stripped) and compared: api key,
valid versions (our max one below theirs, with `unstable=`, when their latest version is
unstable; our `legacy=` versions, which Kafka 4 removed, before theirs and ignored, with the
fields that only they have), flexible versions, and every field recursively and in order: name, type, versions,
nullable versions, tag, tagged versions, default, ignorable and map key. Common structs and inline
structs are compared alike on either side.

Exit codes: 0 everything matches, 1 mismatches (each printed as
`api request field.path attribute: ours X, reference Y`), 77 skipped (no reference directory).
`--self-test` runs the checker on a made-up API with deliberate mistakes and confirms that each is
reported. Python 3 standard library only.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
from contextlib import redirect_stdout

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "gen"))
import schema  # noqa: E402  (src/protocol/gen/schema.py)

SKIP = 77
INTEGER_TYPES = {"int8", "int16", "uint16", "int32", "int64"}


# ---------------------------------------------------------------------------------------------
# Reading the reference


def strip_comments(text: str) -> str:
    """Removes // line comments, leaving string literals (which may contain "//") intact."""
    out: list[str] = []
    i, n = 0, len(text)
    in_string = False
    while i < n:
        c = text[i]
        if in_string:
            out.append(c)
            if c == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 2
                continue
            if c == '"':
                in_string = False
            i += 1
        elif c == '"':
            in_string = True
            out.append(c)
            i += 1
        elif text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def load_reference(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.loads(strip_comments(f.read()))


def camel_name(snake: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in snake.split("_"))


class Reference:
    """The reference directory: files by lower-cased name, and request files by api key."""

    def __init__(self, directory: str):
        self.directory = directory
        self.by_lower = {n.lower(): n for n in os.listdir(directory) if n.endswith(".json")}
        self._by_key: dict[int, str] | None = None

    def find(self, camel: str, kind: str) -> str | None:
        name = self.by_lower.get(f"{camel}{kind}.json".lower())
        return os.path.join(self.directory, name) if name else None

    def name_for_key(self, key: int) -> str | None:
        if self._by_key is None:
            self._by_key = {}
            for name in self.by_lower.values():
                if not name.endswith("Request.json"):
                    continue
                try:
                    doc = load_reference(os.path.join(self.directory, name))
                except (OSError, ValueError):
                    continue
                if doc.get("type") == "request" and isinstance(doc.get("apiKey"), int):
                    self._by_key[doc["apiKey"]] = name[: -len("Request.json")]
        return self._by_key.get(key)


# ---------------------------------------------------------------------------------------------
# Normalisation


def ref_versions(text) -> schema.Versions:
    return schema.Versions.parse(str(text).strip())


def norm_name(name: str) -> str:
    return name.replace("_", "").lower()


def ours_type(t: str) -> str:
    array = t.startswith("[")
    element = t[1:-1] if array else t
    if element not in schema.PRIMITIVES:
        element = "struct:" + norm_name(element)
    return f"[{element}]" if array else element


def ref_type(t: str) -> str:
    array = t.startswith("[]")
    element = t[2:] if array else t
    if element not in schema.PRIMITIVES:
        element = "struct:" + norm_name(element)
    return f"[{element}]" if array else element


def _number(text: str):
    try:
        return int(text, 0)
    except ValueError:
        return float(text)


def norm_default(value, type_: str, from_ours: bool) -> str:
    """A canonical text for a default: numbers by value, null/true/false, strings; an absent
    default becomes the type's implicit one (0, false, empty string, empty array, ...)."""
    if value is None:
        if type_ in INTEGER_TYPES:
            return "0"
        if type_ == "float64":
            return repr(0.0)
        if type_ == "bool":
            return "false"
        if type_ == "string":
            return '""'
        if type_ == "uuid":
            return "zero-uuid"
        return "empty"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        value = str(value)
    text = str(value).strip()
    if from_ours and text == '""':
        text = ""
    if text == "null":
        return "null"
    if type_ == "bool" and text in ("true", "false"):
        return text
    if type_ in INTEGER_TYPES or type_ == "float64":
        try:
            n = _number(text)
        except ValueError:
            return f"'{text}'"
        return repr(float(n)) if type_ == "float64" else str(n)
    if text == "":
        return '""'
    return f"'{text}'"


# ---------------------------------------------------------------------------------------------
# Comparison


class Checker:
    def __init__(self, reference_dir: str):
        self.reference = Reference(reference_dir)
        self.mismatches: list[str] = []
        self.apis = 0
        self.fields = 0

    def report(self, where: str, what: str, ours, theirs) -> None:
        self.mismatches.append(f"{where} {what}: ours {ours}, reference {theirs}")

    def check_file(self, path: str) -> None:
        base = os.path.basename(path)[: -len(".api")]
        try:
            api = schema.parse_api(path)
        except schema.SchemaError as e:
            self.mismatches.append(f"{base} schema: does not parse: {e}")
            return
        self.apis += 1
        camel = camel_name(api.name)
        req_path = self.reference.find(camel, "Request")
        resp_path = self.reference.find(camel, "Response")
        if req_path is None or resp_path is None:
            by_key = self.reference.name_for_key(api.key)
            hint = f" (api key {api.key} is {by_key} there)" if by_key else ""
            self.report(api.name, "api name", f"{camel}Request/Response",
                        f"no such files{hint}")
            return
        try:
            req, resp = load_reference(req_path), load_reference(resp_path)
        except (OSError, ValueError) as e:
            self.mismatches.append(f"{api.name} reference: cannot read: {e}")
            return
        self.check_header(api, req, resp)
        self.check_fields(api, f"{api.name} request", "", api.request.fields,
                          req.get("fields", []), req)
        self.check_fields(api, f"{api.name} response", "", api.response.fields,
                          resp.get("fields", []), resp)

    def check_header(self, api: schema.Api, req: dict, resp: dict) -> None:
        where = f"{api.name} api"
        for kind, doc in (("request", req), ("response", resp)):
            if doc.get("apiKey") != api.key:
                self.report(where, f"key ({kind})", api.key, doc.get("apiKey"))
            if doc.get("type") != kind:
                self.report(where, f"type of {kind} file", kind, doc.get("type"))
        valid = ref_versions(req["validVersions"])
        unstable = bool(req.get("latestVersionUnstable", False))
        if ref_versions(resp["validVersions"]) != valid:
            self.report(where, "versions (response)", api.versions, resp["validVersions"])
        # Our legacy versions (those Kafka 4 removed) come before the reference's range.
        ours = api.kafka4_versions
        if unstable:
            expected = schema.Versions(valid.low, valid.high - 1) if valid.high > valid.low \
                else schema.Versions(empty=True)
            if ours != expected:
                self.report(where, "versions", ours,
                            f"{valid} with {valid.high} unstable, so {expected}")
            if api.unstable != valid.high:
                self.report(where, "unstable", api.unstable, valid.high)
        else:
            if ours != valid:
                self.report(where, "versions", ours, valid)
            if api.unstable is not None:
                self.report(where, "unstable", api.unstable, "none (latest version is stable)")
        for kind, doc in (("request", req), ("response", resp)):
            flexible = ref_versions(doc.get("flexibleVersions", "none"))
            if api.flexible != flexible:
                self.report(where, "flexible" + ("" if kind == "request" else f" ({kind})"),
                            api.flexible, flexible)

    def ref_children(self, field: dict, doc: dict) -> list[dict] | None:
        if "fields" in field:
            return field["fields"]
        element = field["type"][2:] if field["type"].startswith("[]") else field["type"]
        for struct in doc.get("commonStructs", []):
            if struct.get("name") == element:
                return struct.get("fields", [])
        return None

    def check_fields(self, api: schema.Api, label: str, path: str, ours: list[schema.Field],
                     theirs: list[dict], doc: dict) -> None:
        """Compares one level of fields; label is "api request", path the dotted parent."""
        def where(name: str) -> str:
            return f"{label} {path}.{name}" if path else f"{label} {name}"

        ours_by = {norm_name(f.name): f for f in ours}
        theirs_by = {t["name"].lower(): t for t in theirs}
        for t in theirs:
            if t["name"].lower() not in ours_by:
                self.report(where(t["name"]), "field", "missing", "present")
        for f in ours:
            # A field of legacy versions only (Kafka 4 removed them) is not in the reference.
            legacy_only = not api.legacy.empty and f.versions.high is not None and \
                f.versions.high <= api.legacy.high
            if norm_name(f.name) not in theirs_by and not legacy_only:
                self.report(where(f.name), "field", "present", "missing")
        common = [norm_name(f.name) for f in ours if norm_name(f.name) in theirs_by]
        ref_order = [t["name"].lower() for t in theirs if t["name"].lower() in ours_by]
        if common != ref_order:
            self.report(f"{label} {path}".rstrip(), "field order",
                        ",".join(ours_by[c].name for c in common),
                        ",".join(theirs_by[r]["name"] for r in ref_order))
        for f in ours:
            t = theirs_by.get(norm_name(f.name))
            if t is not None:
                child_path = f"{path}.{f.name}" if path else f.name
                self.check_field(api, label, child_path, f, t, doc)

    def check_field(self, api: schema.Api, label: str, path: str, f: schema.Field, t: dict,
                    doc: dict) -> None:
        self.fields += 1
        where = f"{label} {path}"
        if ours_type(f.type) != ref_type(t["type"]):
            self.report(where, "type", f.type, t["type"])
        try:
            versions = ref_versions(t["versions"])
            nullable = ref_versions(t.get("nullableVersions", "none"))
            tag = t.get("tag")
            if "taggedVersions" in t:
                tagged = ref_versions(t["taggedVersions"])
            else:
                tagged = versions if tag is not None else schema.Versions(empty=True)
        except (KeyError, ValueError) as e:
            self.mismatches.append(f"{where}: unreadable reference field: {e}")
            return
        if f.versions != versions:
            self.report(where, "versions", f.versions, versions)
        if f.nullable != nullable:
            self.report(where, "nullable", f.nullable, nullable)
        if f.tag != (int(tag) if tag is not None else None):
            self.report(where, "tag", f.tag, tag)
        if f.tagged != tagged:
            self.report(where, "tagged", f.tagged, tagged)
        ours_default = norm_default(f.default, "array" if f.is_array else f.type, True)
        ref_default = norm_default(t.get("default"),
                                   "array" if t["type"].startswith("[]") else t["type"], False)
        if ours_default != ref_default:
            self.report(where, "default", ours_default, ref_default)
        if f.ignorable != bool(t.get("ignorable", False)):
            self.report(where, "ignorable", f.ignorable, bool(t.get("ignorable", False)))
        if f.key != bool(t.get("mapKey", False)):
            self.report(where, "key", f.key, bool(t.get("mapKey", False)))
        if f.is_struct:
            children = self.ref_children(t, doc)
            if children is not None:
                self.check_fields(api, label, path, api.struct_fields(f), children, doc)


def run(schema_dir: str, reference_dir: str) -> int:
    if not os.path.isdir(reference_dir):
        print("conformance test skipped: ../shared/kafka-protocol is absent "
              f"(no directory {reference_dir})")
        return SKIP
    checker = Checker(reference_dir)
    files = sorted(n for n in os.listdir(schema_dir) if n.endswith(".api"))
    keys: dict[int, str] = {}
    for name in files:
        checker.check_file(os.path.join(schema_dir, name))
    for name in files:
        try:
            api = schema.parse_api(os.path.join(schema_dir, name))
        except schema.SchemaError:
            continue
        if api.key in keys:
            checker.mismatches.append(f"{api.name} api key: {api.key} also used by {keys[api.key]}")
        keys[api.key] = api.name
    for line in checker.mismatches:
        print(line)
    if checker.mismatches:
        print(f"conformance: FAILED, {len(checker.mismatches)} mismatches "
              f"({checker.apis} APIs, {checker.fields} fields checked)")
        return 1
    print(f"conformance: OK, {checker.apis} APIs and {checker.fields} fields match the reference")
    return 0


# ---------------------------------------------------------------------------------------------
# Self-test: a made-up API, written correctly and then with one deliberate mistake at a time.

SELF_REQUEST = """// A made-up API for the conformance test's self-test.
{
  "apiKey": 9001,
  "type": "request",
  "name": "SelfCheckRequest",
  // Version 3 is still being worked on.
  "validVersions": "0-3",
  "latestVersionUnstable": true,
  "flexibleVersions": "2+",
  "fields": [
    { "name": "GroupId", "type": "string", "versions": "0+", "nullableVersions": "1+",
      "default": "null", "about": "see http://example.com // not a comment" },
    { "name": "MaxWaitMs", "type": "int32", "versions": "0+", "default": "0x7fffffff" },
    { "name": "Epoch", "type": "int32", "versions": "1+", "default": -1, "ignorable": true },
    { "name": "Items", "type": "[]Item", "versions": "0+", "fields": [
      { "name": "ItemId", "type": "int64", "versions": "0+", "mapKey": true },
      { "name": "Labels", "type": "[]string", "versions": "0+" },
      { "name": "Owner", "type": "Owner", "versions": "2+" }
    ]},
    { "name": "Hint", "type": "string", "versions": "2+", "taggedVersions": "2+", "tag": 0,
      "default": "" },
    { "name": "Extra", "type": "bool", "versions": "3+", "default": "false" }
  ],
  "commonStructs": [
    { "name": "Owner", "versions": "0+", "fields": [
      { "name": "OwnerName", "type": "string", "versions": "0+" }
    ]}
  ]
}
"""

SELF_RESPONSE = """{
  "apiKey": 9001,
  "type": "response",
  "name": "SelfCheckResponse",
  "validVersions": "0-3",
  "flexibleVersions": "2+",
  "fields": [
    { "name": "ThrottleTimeMs", "type": "int32", "versions": "0+", "ignorable": true },
    { "name": "Result", "type": "Summary", "versions": "0+", "nullableVersions": "1+",
      "fields": [
      { "name": "ErrorCode", "type": "int16", "versions": "0+", "default": "0" }
    ]}
  ]
}
"""

# Inline where the reference has a common struct (owner) and the other way round (summary).
SELF_SCHEMA = """# self-test schema
api self_check key=9001 versions=0-2 flexible=2+ unstable=3

struct summary
  error_code       int16    0+

request
  group_id         string   0+  nullable=1+ default=null
  max_wait_ms      int32    0+  default=2147483647
  epoch            int32    1+  default=-1 ignorable
  items            [item]   0+
    item_id        int64    0+  key
    labels         [string] 0+
    owner          owner    2+
      owner_name   string   0+
  hint             string   2+  tag=0 default=""
  extra            bool     3+  default=false

response
  throttle_time_ms int32    0+  ignorable
  result           summary  0+  nullable=1+
"""

# (old text, new text, text every reported mismatch set must contain)
SELF_MUTATIONS = [
    ("key=9001", "key=9002", "self_check api key (request): ours 9002, reference 9001"),
    ("versions=0-2 flexible=2+ unstable=3", "versions=0-3 flexible=2+",
     "self_check api versions: ours 0-3"),
    (" unstable=3", "", "self_check api unstable: ours None, reference 3"),
    ("flexible=2+", "flexible=1+", "self_check api flexible: ours 1+, reference 2+"),
    ("nullable=1+ default=null", "nullable=0+ default=null",
     "self_check request group_id nullable: ours 0+, reference 1+"),
    ("default=2147483647", "default=2147483646",
     "self_check request max_wait_ms default: ours 2147483646, reference 2147483647"),
    ("default=-1 ignorable", "ignorable", "self_check request epoch default: ours 0, reference -1"),
    ("default=-1 ignorable", "default=-1", "self_check request epoch ignorable: ours False"),
    ("epoch            int32    1+", "epoch            int32    2+",
     "self_check request epoch versions: ours 2+, reference 1+"),
    ("0+  key", "0+", "self_check request items.item_id key: ours False, reference True"),
    ("[string]", "[int32]", "self_check request items.labels type: ours [int32], reference []string"),
    ("owner_name   string", "owner_name   bytes",
     "self_check request items.owner.owner_name type: ours bytes, reference string"),
    ("[item]", "[entry]", "self_check request items type: ours [entry], reference []Item"),
    ("tag=0", "tag=1", "self_check request hint tag: ours 1, reference 0"),
    ("tag=0", "tag=0 tagged=3+", "self_check request hint tagged: ours 3+, reference 2+"),
    ('default=""', "default=x", "self_check request hint default: ours 'x', reference \"\""),
    ("extra            bool", "extras           bool",
     "self_check request extras field: ours present, reference missing"),
    ("  extra            bool     3+  default=false\n", "",
     "self_check request Extra field: ours missing, reference present"),
    ("  max_wait_ms      int32    0+  default=2147483647\n  epoch            int32    1+  default=-1 ignorable\n",
     "  epoch            int32    1+  default=-1 ignorable\n  max_wait_ms      int32    0+  default=2147483647\n",
     "self_check request field order: ours group_id,epoch,max_wait_ms"),
    ("  error_code       int16    0+", "  error_code       int32    0+",
     "self_check response result.error_code type: ours int32, reference int16"),
    ("nullable=1+\n", "\n", "self_check response result nullable: ours none, reference 1+"),
    ("response\n  throttle_time_ms int32    0+  ignorable\n", "response\n",
     "self_check response ThrottleTimeMs field: ours missing, reference present"),
    ("  group_id ", "  group-id ", "self_check schema: does not parse"),
    # Legacy versions come before the reference's: one too many is a shifted range.
    ("versions=0-2 flexible=2+", "versions=0-2 legacy=0 flexible=2+",
     "self_check api versions: ours 1-2"),
    # A field of legacy versions only is allowed, but not one that reaches Kafka 4's versions.
    ("  max_wait_ms      int32    0+", "  old_field        int32    0\n  max_wait_ms      int32    0+",
     "self_check request old_field field: ours present, reference missing"),
]


def _check_dirs(schema_text: str, root: str, tag: str) -> tuple[int, str]:
    schema_dir = os.path.join(root, tag)
    os.makedirs(schema_dir)
    with open(os.path.join(schema_dir, "self_check.api"), "w", encoding="utf-8") as f:
        f.write(schema_text)
    out = io.StringIO()
    with redirect_stdout(out):
        rc = run(schema_dir, os.path.join(root, "reference"))
    return rc, out.getvalue()


def self_test() -> int:
    failures: list[str] = []
    assert strip_comments('{"a": "x//y"} // c\n') == '{"a": "x//y"} \n'
    with tempfile.TemporaryDirectory() as root:
        ref = os.path.join(root, "reference")
        os.makedirs(ref)
        with open(os.path.join(ref, "SelfCheckRequest.json"), "w", encoding="utf-8") as f:
            f.write(SELF_REQUEST)
        with open(os.path.join(ref, "SelfCheckResponse.json"), "w", encoding="utf-8") as f:
            f.write(SELF_RESPONSE)

        rc, out = _check_dirs(SELF_SCHEMA, root, "good")
        if rc != 0 or "1 APIs and 13 fields" not in out:
            failures.append(f"the correct schema should pass (rc {rc}):\n{out}")

        for i, (old, new, expected) in enumerate(SELF_MUTATIONS):
            if old not in SELF_SCHEMA:
                failures.append(f"mutation {i}: '{old}' is not in the self-test schema")
                continue
            rc, out = _check_dirs(SELF_SCHEMA.replace(old, new, 1), root, f"m{i}")
            if rc != 1 or expected not in out:
                failures.append(f"mutation {i} ({old!r} -> {new!r}) should report "
                                f"'{expected}' (rc {rc}):\n{out}")

        out = io.StringIO()
        with redirect_stdout(out):
            rc = run(os.path.join(root, "good"), os.path.join(root, "absent"))
        if rc != SKIP or "skipped" not in out.getvalue():
            failures.append(f"a missing reference dir should skip with {SKIP}, got {rc}")

    for failure in failures:
        print("self-test FAILED:", failure)
    if failures:
        return 1
    print(f"conformance self-test: OK, {len(SELF_MUTATIONS)} deliberate mistakes all reported")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schema-dir")
    parser.add_argument("--reference-dir")
    parser.add_argument("--self-test", action="store_true")
    args = parser.parse_args()
    if args.self_test:
        return self_test()
    if not args.schema_dir or not args.reference_dir:
        parser.error("--schema-dir and --reference-dir are required (or --self-test)")
    return run(args.schema_dir, args.reference_dir)


if __name__ == "__main__":
    sys.exit(main())
