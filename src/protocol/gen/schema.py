"""Reads Sluice protocol schema files (*.api); the format is in docs/design/schema-format.md.

Used by the code generator (generate.py) and by the conformance test. Errors name the file and
line so that a wrong schema is easy to fix.
"""

from __future__ import annotations

import dataclasses
import os
import re

PRIMITIVES = {
    "bool", "int8", "int16", "uint16", "int32", "int64", "float64",
    "string", "bytes", "records", "uuid",
}
NULLABLE_KINDS = {"string", "bytes", "records"}
API_KEYS = {"key", "versions", "flexible", "unstable", "legacy"}
NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")


class SchemaError(Exception):
    pass


@dataclasses.dataclass(frozen=True)
class Versions:
    """An inclusive version range; high None means open-ended, empty means none."""

    low: int = 0
    high: int | None = None
    empty: bool = False

    @staticmethod
    def parse(text: str) -> "Versions":
        if text == "none":
            return Versions(empty=True)
        m = re.fullmatch(r"(\d+)\+", text)
        if m:
            return Versions(int(m.group(1)), None)
        m = re.fullmatch(r"(\d+)-(\d+)", text)
        if m:
            low, high = int(m.group(1)), int(m.group(2))
            if high < low:
                raise ValueError(f"empty range {text}")
            return Versions(low, high)
        m = re.fullmatch(r"\d+", text)
        if m:
            return Versions(int(text), int(text))
        raise ValueError(f"bad version range '{text}'")

    def contains(self, v: int) -> bool:
        if self.empty:
            return False
        return v >= self.low and (self.high is None or v <= self.high)

    def intersect(self, other: "Versions") -> "Versions":
        if self.empty or other.empty:
            return Versions(empty=True)
        low = max(self.low, other.low)
        highs = [h for h in (self.high, other.high) if h is not None]
        high = min(highs) if highs else None
        if high is not None and high < low:
            return Versions(empty=True)
        return Versions(low, high)

    def __str__(self) -> str:
        if self.empty:
            return "none"
        if self.high is None:
            return f"{self.low}+"
        if self.high == self.low:
            return f"{self.low}"
        return f"{self.low}-{self.high}"


@dataclasses.dataclass
class Field:
    name: str
    type: str                 # as written: "int32", "[topic]", "topic", "[int32]"
    versions: Versions
    nullable: Versions = dataclasses.field(default_factory=lambda: Versions(empty=True))
    tag: int | None = None
    tagged: Versions = dataclasses.field(default_factory=lambda: Versions(empty=True))
    default: str | None = None
    ignorable: bool = False
    key: bool = False
    about: str = ""
    fields: list["Field"] = dataclasses.field(default_factory=list)  # children of a struct
    line: int = 0

    @property
    def is_array(self) -> bool:
        return self.type.startswith("[")

    @property
    def element_type(self) -> str:
        """The type of an array's elements, or the field's own type."""
        return self.type[1:-1] if self.is_array else self.type

    @property
    def is_struct(self) -> bool:
        """True when the field (or its array element) is a struct."""
        return self.element_type not in PRIMITIVES

    @property
    def is_tagged(self) -> bool:
        return self.tag is not None


@dataclasses.dataclass
class Message:
    kind: str                 # "request" or "response"
    fields: list[Field]


@dataclasses.dataclass
class Api:
    name: str                 # snake_case, e.g. "produce"
    key: int
    versions: Versions
    flexible: Versions
    unstable: int | None
    structs: dict[str, list[Field]]   # common structs by name
    request: Message
    response: Message
    path: str
    # The oldest versions, which Apache Kafka 3.9 served and 4.0 removed (KIP-896): "none" or
    # versions.low..N. The reference definitions start after them.
    legacy: Versions = dataclasses.field(default_factory=lambda: Versions(empty=True))

    @property
    def kafka4_versions(self) -> Versions:
        if self.legacy.empty:
            return self.versions
        return Versions(self.legacy.high + 1, self.versions.high)

    def is_flexible(self, version: int) -> bool:
        return self.flexible.contains(version)

    def struct_fields(self, field: Field) -> list[Field]:
        """The children of a struct field, inline or from a common struct."""
        if field.fields:
            return field.fields
        return self.structs[field.element_type]


def _parse_field(tokens: list[str], where: str, line: int) -> Field:
    about = ""
    if "--" in tokens:
        i = tokens.index("--")
        about = " ".join(tokens[i + 1:])
        tokens = tokens[:i]
    if len(tokens) < 3:
        raise SchemaError(f"{where}: a field needs 'name type versions'")
    name, type_, versions_text = tokens[0], tokens[1], tokens[2]
    if not NAME_RE.match(name):
        raise SchemaError(f"{where}: field name '{name}' is not snake_case")
    element = type_[1:-1] if type_.startswith("[") and type_.endswith("]") else type_
    if not NAME_RE.match(element):
        raise SchemaError(f"{where}: bad type '{type_}'")
    try:
        field = Field(name=name, type=type_, versions=Versions.parse(versions_text), line=line,
                      about=about)
        tagged_text = None
        for attr in tokens[3:]:
            key, _, value = attr.partition("=")
            if key == "nullable":
                field.nullable = Versions.parse(value)
            elif key == "tag":
                field.tag = int(value)
            elif key == "tagged":
                tagged_text = value
            elif key == "default":
                field.default = value
            elif key == "ignorable" and not value:
                field.ignorable = True
            elif key == "key" and not value:
                field.key = True
            else:
                raise SchemaError(f"{where}: unknown attribute '{attr}'")
        if field.tag is not None:
            field.tagged = Versions.parse(tagged_text) if tagged_text else field.versions
        elif tagged_text:
            raise SchemaError(f"{where}: 'tagged=' without 'tag='")
    except ValueError as e:
        raise SchemaError(f"{where}: {e}") from None
    if not field.nullable.empty:
        if not (field.is_array or field.is_struct or field.type in NULLABLE_KINDS):
            raise SchemaError(f"{where}: a {field.type} cannot be nullable")
    return field


def _parse_block(lines: list[tuple[int, int, list[str]]], start: int, indent: int,
                 path: str) -> tuple[list[Field], int]:
    """Parses fields at exactly `indent` (and their children) from lines[start:]."""
    fields: list[Field] = []
    i = start
    while i < len(lines):
        line_no, line_indent, tokens = lines[i]
        if line_indent < indent:
            break
        where = f"{path}:{line_no}"
        if line_indent != indent:
            raise SchemaError(f"{where}: unexpected indentation")
        field = _parse_field(tokens, where, line_no)
        i += 1
        if i < len(lines) and lines[i][1] > indent:
            if not field.is_struct:
                raise SchemaError(f"{where}: only struct fields have children")
            field.fields, i = _parse_block(lines, i, indent + 2, path)
        fields.append(field)
    return fields, i


def parse_api(path: str) -> Api:
    lines: list[tuple[int, int, list[str]]] = []
    with open(path, encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            text = raw.rstrip("\n")
            stripped = text.lstrip(" ")
            if not stripped or stripped.startswith("#"):
                continue
            if "\t" in text:
                raise SchemaError(f"{path}:{n}: tabs are not allowed")
            # A '#' after the field text starts a comment too.
            code = stripped.split(" #", 1)[0].rstrip()
            lines.append((n, len(text) - len(stripped), code.split()))
    if not lines or lines[0][2][0] != "api":
        raise SchemaError(f"{path}: the first line must be 'api NAME key=N versions=V flexible=V'")

    header = lines[0][2]
    attrs = dict(t.split("=", 1) for t in header[2:] if "=" in t)
    unknown = [t for t in header[2:] if t.split("=", 1)[0] not in API_KEYS or "=" not in t]
    if unknown:
        raise SchemaError(f"{path}:{lines[0][0]}: unknown api attribute '{unknown[0]}'")
    try:
        name = header[1]
        key = int(attrs["key"])
        versions = Versions.parse(attrs["versions"])
        flexible = Versions.parse(attrs["flexible"])
        unstable = int(attrs["unstable"]) if "unstable" in attrs else None
        legacy = Versions.parse(attrs.get("legacy", "none"))
    except (KeyError, ValueError, IndexError) as e:
        raise SchemaError(f"{path}:{lines[0][0]}: bad api line ({e})") from None

    structs: dict[str, list[Field]] = {}
    messages: dict[str, Message] = {}
    i = 1
    while i < len(lines):
        line_no, indent, tokens = lines[i]
        where = f"{path}:{line_no}"
        if indent != 0:
            raise SchemaError(f"{where}: expected 'struct NAME', 'request' or 'response'")
        if tokens[0] == "struct" and len(tokens) == 2:
            fields, i = _parse_block(lines, i + 1, 2, path)
            structs[tokens[1]] = fields
        elif tokens[0] in ("request", "response") and len(tokens) == 1:
            fields, i = _parse_block(lines, i + 1, 2, path)
            messages[tokens[0]] = Message(tokens[0], fields)
        else:
            raise SchemaError(f"{where}: expected 'struct NAME', 'request' or 'response'")
    for kind in ("request", "response"):
        if kind not in messages:
            raise SchemaError(f"{path}: no {kind} section")

    if not legacy.empty and (legacy.low != versions.low or legacy.high is None or
                             legacy.high >= (versions.high or 0)):
        raise SchemaError(f"{path}:{lines[0][0]}: legacy versions must be the oldest ones, "
                          f"from {versions.low}, and leave at least one version after them")
    api = Api(name, key, versions, flexible, unstable, structs, messages["request"],
              messages["response"], path, legacy)
    _check(api)
    return api


def _check(api: Api) -> None:
    """Semantic checks: struct references resolve, tags are unique, struct names are unique."""
    seen_structs: dict[str, int] = {}

    def visit(fields: list[Field], scope: str) -> None:
        tags: set[int] = set()
        for f in fields:
            where = f"{api.path}:{f.line}"
            if f.is_struct:
                if f.fields:
                    if f.element_type in api.structs:
                        raise SchemaError(f"{where}: struct '{f.element_type}' defined twice")
                    if f.element_type in seen_structs:
                        raise SchemaError(f"{where}: struct name '{f.element_type}' reused "
                                          f"(first at line {seen_structs[f.element_type]})")
                    seen_structs[f.element_type] = f.line
                    visit(f.fields, f.element_type)
                elif f.element_type not in api.structs:
                    raise SchemaError(f"{where}: unknown type '{f.element_type}'")
            if f.tag is not None:
                if f.tag in tags:
                    raise SchemaError(f"{where}: tag {f.tag} used twice in {scope}")
                tags.add(f.tag)

    for name, fields in api.structs.items():
        visit(fields, name)
    visit(api.request.fields, "request")
    visit(api.response.fields, "response")


def load_all(schema_dir: str) -> list[Api]:
    apis = [parse_api(os.path.join(schema_dir, n))
            for n in sorted(os.listdir(schema_dir)) if n.endswith(".api")]
    keys: dict[int, str] = {}
    for api in apis:
        if api.key in keys:
            raise SchemaError(f"{api.path}: api key {api.key} also used by {keys[api.key]}")
        keys[api.key] = api.name
    return apis
