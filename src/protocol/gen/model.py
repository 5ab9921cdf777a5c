"""What the C++ generators need to know about a schema beyond what schema.py parses.

For every struct (messages, common structs, inline structs) this works out its C++ name and the
set of versions in which it can be reached, and for every field the versions in which it is
present, tagged, nullable, plus its C++ type and default. Versions are plain Python sets of the
API's served versions, so that conditions can be simplified against what is reachable.
"""

from __future__ import annotations

import dataclasses

import schema as sc

CPP_KEYWORDS = {
    "alignas", "alignof", "and", "and_eq", "asm", "auto", "bitand", "bitor", "bool", "break",
    "case", "catch", "char", "class", "compl", "concept", "const", "consteval", "constexpr",
    "constinit", "const_cast", "continue", "co_await", "co_return", "co_yield", "decltype",
    "default", "delete", "do", "double", "dynamic_cast", "else", "enum", "explicit", "export",
    "extern", "false", "float", "for", "friend", "goto", "if", "inline", "int", "long", "mutable",
    "namespace", "new", "noexcept", "not", "not_eq", "nullptr", "operator", "or", "or_eq",
    "private", "protected", "public", "register", "reinterpret_cast", "requires", "return",
    "short", "signed", "sizeof", "static", "static_assert", "static_cast", "struct", "switch",
    "template", "this", "thread_local", "throw", "true", "try", "typedef", "typeid", "typename",
    "union", "unsigned", "using", "virtual", "void", "volatile", "wchar_t", "while", "xor",
    "xor_eq",
}
# Names the generated code uses unqualified inside the structs: the runtime's types and the
# namespaces. A member or nested type with one of them would hide it.
RUNTIME_NAMES = {
    "reader", "writer", "records_data", "tagged_fields", "codec_result", "codec_error", "result",
    "failure", "model", "std", "tagged_field_writer", "sluice", "protocol",
}
# Names the generated structs use for themselves; a field with one of them gets a '_' suffix.
RESERVED_MEMBERS = {"read", "write", "unknown_tags"} | RUNTIME_NAMES
RESERVED_MESSAGE_MEMBERS = RESERVED_MEMBERS | {
    "decode", "encode", "api_key", "api_name", "min_version", "max_version",
    "first_flexible_version", "is_request",
}

SCALARS = {
    "bool": ("bool", 1),
    "int8": ("int8_t", 1),
    "int16": ("int16_t", 2),
    "uint16": ("uint16_t", 2),
    "int32": ("int32_t", 4),
    "int64": ("int64_t", 8),
    "float64": ("double", 8),
    "uuid": ("model::uuid", 16),
}
INT_BITS = {"int8": 8, "int16": 16, "int32": 32, "int64": 64}


class GenError(Exception):
    pass


@dataclasses.dataclass
class FieldInfo:
    f: sc.Field
    member: str                 # C++ member name
    present: set[int]           # versions (of the reachable ones) where the field is on the wire
    regular: set[int]           # ... in the body of the struct
    tagged: set[int]            # ... in the tagged-field section
    nullable: set[int]          # ... and may be null
    optional: bool              # the C++ type is std::optional<...>
    cpp_type: str
    element_cpp: str            # for arrays: the element type; else the type without optional
    struct: "StructInfo | None" = None   # the struct type of a struct field or array


@dataclasses.dataclass
class StructInfo:
    name: str                   # schema name
    cpp: str                    # C++ name within its scope
    qualified: str              # C++ name from namespace sluice::protocol
    reachable: set[int]
    fields: list[FieldInfo] = dataclasses.field(default_factory=list)
    children: list["StructInfo"] = dataclasses.field(default_factory=list)  # inline structs
    message: str | None = None  # "request"/"response" for a message; None for nested structs

    @property
    def max_tag(self) -> int:
        tags = [fi.f.tag for fi in self.fields if fi.f.tag is not None]
        return max(tags) if tags else -1


@dataclasses.dataclass
class ApiInfo:
    api: sc.Api
    versions: list[int]
    flexible: set[int]
    namespace_structs: list[StructInfo]   # common structs and their inline children, in order
    request: StructInfo
    response: StructInfo

    @property
    def first_flexible(self) -> int:
        return -1 if self.api.flexible.empty else self.api.flexible.low


def version_set(versions: sc.Versions, universe: set[int]) -> set[int]:
    return {v for v in universe if versions.contains(v)}


def condition(subset: set[int], reachable: set[int], var: str = "v_") -> str:
    """A C++ condition on `var` that is true for the versions in `subset`, for any version in
    `reachable` (versions outside it are never seen, so they may go either way)."""
    subset = subset & reachable
    if not subset:
        return "false"
    if subset == reachable:
        return "true"
    order = sorted(reachable)
    terms = []
    i = 0
    while i < len(order):
        if order[i] not in subset:
            i += 1
            continue
        j = i
        while j + 1 < len(order) and order[j + 1] in subset:
            j += 1
        parts = []
        if i > 0:
            parts.append(f"{var} >= {order[i]}")
        if j < len(order) - 1:
            parts.append(f"{var} <= {order[j]}")
        terms.append(" && ".join(parts))
        i = j + 1
    if len(terms) == 1:
        return terms[0]
    return " || ".join(f"({t})" for t in terms)


def int_literal(type_: str, value: int) -> str:
    bits = INT_BITS.get(type_)
    if bits is not None:
        low, high = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
        if not low <= value <= high:
            raise GenError(f"default {value} does not fit {type_}")
        if value == low:
            return f"INT{bits}_MIN"
        if bits == 64:
            return f"INT64_C({value})"
        return str(value)
    if type_ == "uint16":
        if not 0 <= value <= 0xFFFF:
            raise GenError(f"default {value} does not fit uint16")
        return str(value)
    return str(value)


def cpp_string_literal(text: str) -> str:
    if text in ('""', "''"):
        text = ""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


class Builder:
    def __init__(self, api: sc.Api):
        self.api = api
        if api.versions.empty or api.versions.high is None:
            raise GenError(f"{api.path}: versions= must be a closed range like 0-13")
        self.versions = list(range(api.versions.low, api.versions.high + 1))
        self.universe = set(self.versions)
        self.flexible = version_set(api.flexible, self.universe)
        self.field_names: set[str] = set()
        self._collect_names(api.request.fields)
        self._collect_names(api.response.fields)
        for fields in api.structs.values():
            self._collect_names(fields)
        self.type_names: dict[str, str] = {}
        self.common: dict[str, StructInfo] = {}

    def _collect_names(self, fields: list[sc.Field]) -> None:
        for f in fields:
            self.field_names.add(f.name)
            self._collect_names(f.fields)

    def type_name(self, name: str) -> str:
        """A struct's C++ name: its schema name, unless that is also a field name (a member
        cannot share its name with a type used in the same class) or a keyword."""
        if name not in self.type_names:
            cpp = name
            taken = set(self.type_names.values())
            while (cpp in self.field_names or cpp in CPP_KEYWORDS or cpp in RUNTIME_NAMES
                   or cpp in taken):
                cpp += "_data"
            self.type_names[name] = cpp
        return self.type_names[name]

    def build(self) -> ApiInfo:
        ns_structs: list[StructInfo] = []
        # Common structs may be used from anywhere, so they are reachable in every version.
        for name in self.api.structs:
            cpp = self.type_name(name)
            self.common[name] = StructInfo(name, cpp, f"{self.api.name}_{cpp}", self.universe)
        for name in self._common_order():
            info = self.common[name]
            self._fill(info, self.api.structs[name], None, ns_structs)
            ns_structs.append(info)
        messages = {}
        self.hoisted: list[StructInfo] = []
        for kind, msg in (("request", self.api.request), ("response", self.api.response)):
            cpp = f"{self.api.name}_{kind}"
            info = StructInfo(kind, cpp, cpp, self.universe, message=kind)
            self._fill(info, msg.fields, info, None)
            messages[kind] = info
        ns_structs += self.hoisted
        return ApiInfo(self.api, self.versions, self.flexible, ns_structs, messages["request"],
                       messages["response"])

    def _common_order(self) -> list[str]:
        """Common structs, each after the common structs its fields use."""
        order: list[str] = []
        state: dict[str, int] = {}

        def uses(fields: list[sc.Field]) -> list[str]:
            out = []
            for f in fields:
                if f.is_struct and not f.fields:
                    out.append(f.element_type)
                out.extend(uses(f.fields))
            return out

        def visit(name: str) -> None:
            if state.get(name) == 2:
                return
            if state.get(name) == 1:
                raise GenError(f"{self.api.path}: common struct {name} contains itself")
            state[name] = 1
            for used in uses(self.api.structs[name]):
                visit(used)
            state[name] = 2
            order.append(name)

        for name in self.api.structs:
            visit(name)
        return order

    def _fill(self, info: StructInfo, fields: list[sc.Field], message: StructInfo | None,
              ns_structs: list[StructInfo] | None) -> None:
        """Works out `info`'s fields; inline struct types go to the message's nested types, or to
        namespace scope when `message` is None."""
        members: set[str] = set()
        for f in fields:
            member = f.name
            reserved = RESERVED_MESSAGE_MEMBERS if info.message else RESERVED_MEMBERS
            while member in CPP_KEYWORDS or member in reserved or member in members:
                member += "_"
            members.add(member)
            present = version_set(f.versions, info.reachable)
            tagged = set()
            if f.tag is not None:
                tagged = version_set(f.tagged, present) & self.flexible
                # A version tagged outside the flexible ones has no tag section: the field
                # is absent there, as it cannot be a regular field either.
                present = present - (version_set(f.tagged, present) - self.flexible)
            regular = present - tagged
            nullable = version_set(f.nullable, present)
            struct = None
            if f.is_struct:
                if f.fields:
                    cpp = self.type_name(f.element_type)
                    # A struct held in std::optional inside its enclosing message cannot be
                    # nested there: clang finds it not default-constructible until the message
                    # is complete. Such structs live at namespace scope, like common ones.
                    hoist = not f.nullable.empty and not f.is_array
                    if message is not None and not hoist:
                        qualified = f"{message.qualified}::{cpp}"
                    else:
                        qualified = f"{self.api.name}_{cpp}"
                    struct = StructInfo(f.element_type, cpp, qualified, present or {self.versions[0]})
                    if message is not None and not hoist:
                        self._fill(struct, f.fields, message, ns_structs)
                        info.children.append(struct)
                    else:
                        self._fill(struct, f.fields, None, self.hoisted if message else ns_structs)
                        (self.hoisted if message else ns_structs).append(struct)
                else:
                    struct = self.common[f.element_type]
            element = struct.qualified if struct else self._element_cpp(f)
            optional = not f.nullable.empty and f.type != "records"
            if f.is_array:
                cpp_type = f"std::vector<{element}>"
            else:
                cpp_type = element
            if optional:
                cpp_type = f"std::optional<{cpp_type}>"
            if f.type == "records" and f.is_array:
                raise GenError(f"{self.api.path}:{f.line}: arrays of records are not supported")
            info.fields.append(FieldInfo(f, member, present, regular, tagged, nullable, optional,
                                         cpp_type, element, struct))

    def _element_cpp(self, f: sc.Field) -> str:
        t = f.element_type
        if t in SCALARS:
            return SCALARS[t][0]
        return {"string": "std::string", "bytes": "std::vector<uint8_t>",
                "records": "records_data"}[t]


def scalar_default(fi: FieldInfo) -> str:
    """The C++ literal of a scalar field's default."""
    f = fi.f
    t = f.type
    d = f.default
    if t == "bool":
        if d in (None, "false"):
            return "false"
        if d == "true":
            return "true"
        raise GenError(f"line {f.line}: bad bool default {d}")
    if t == "float64":
        return repr(float(d)) if d is not None else "0.0"
    if t == "uuid":
        if d not in (None, "0", "null", "AAAAAAAAAAAAAAAAAAAAAA"):
            raise GenError(f"line {f.line}: only the zero uuid can be a default")
        return "model::uuid{}"
    if d is None:
        return "0"
    try:
        value = int(d, 0)
    except ValueError:
        try:
            value = int(d, 10)  # int(..., 0) refuses leading zeros
        except ValueError:
            raise GenError(f"line {f.line}: bad {t} default {d}") from None
    return int_literal(t, value)


def initializer(fi: FieldInfo) -> str:
    """The default member initializer, ' = x' or '{...}'. Every member has one, so that GCC's
    -Wmissing-field-initializers accepts designated initializers that name only some fields."""
    text = _initializer(fi)
    return text if text else "{}"


def _initializer(fi: FieldInfo) -> str:
    f = fi.f
    d = f.default
    if f.type == "records":
        return ""
    if f.is_array or f.is_struct:
        if fi.optional and d != "null":
            return "{std::in_place}"
        return ""
    if f.type in ("string", "bytes"):
        if fi.optional:
            if d == "null":
                return ""
            if f.type == "string" and d not in (None, '""', "''"):
                return f"{{{cpp_string_literal(d)}}}"
            return "{std::in_place}"
        if f.type == "string" and d not in (None, '""', "''", "null"):
            return f" = {cpp_string_literal(d)}"
        return ""
    if f.type == "uuid":
        scalar_default(fi)  # validates
        return ""
    return f" = {scalar_default(fi)}"


def is_default(fi: FieldInfo, x: str) -> str:
    """A C++ expression: `x` (the field's value) equals the field's default."""
    f = fi.f
    d = f.default
    if f.type == "records":
        return f"{x}.is_null()"
    if f.is_array or f.type == "bytes":
        if fi.optional:
            return f"!{x}" if d == "null" else f"({x} && {x}->empty())"
        return f"{x}.empty()"
    if f.is_struct:
        t = fi.struct.qualified
        if fi.optional:
            return f"!{x}" if d == "null" else f"({x} && *{x} == {t}{{}})"
        return f"{x} == {t}{{}}"
    if f.type == "string":
        empty = d in (None, '""', "''")
        if fi.optional:
            if d == "null":
                return f"!{x}"
            return f"({x} && {x}->empty())" if empty else f"({x} && *{x} == {cpp_string_literal(d)})"
        return f"{x}.empty()" if empty else f"{x} == {cpp_string_literal(d)}"
    if f.type == "bool":
        return f"!{x}" if scalar_default(fi) == "false" else x
    if f.type == "uuid":
        return f"{x} == model::uuid{{}}"
    return f"{x} == {scalar_default(fi)}"


def nested_post_order(s: StructInfo) -> list[StructInfo]:
    """The inline struct types of a message, each after the types its fields use."""
    out = []
    for child in s.children:
        out += nested_post_order(child)
        out.append(child)
    return out


def all_structs(api: ApiInfo) -> list[StructInfo]:
    out = list(api.namespace_structs)
    for msg in (api.request, api.response):
        out += nested_post_order(msg)
        out.append(msg)
    return out


def wire_size_min(s: StructInfo, version: int, flexible: bool) -> int:
    """The fewest bytes struct `s` takes on the wire at `version`."""
    size = 1 if flexible else 0  # the tagged-field count
    for fi in s.fields:
        if version not in fi.regular:
            continue
        f = fi.f
        if f.is_array or f.type in ("bytes", "records"):
            size += 1 if flexible else 4
        elif fi.struct:
            size += 1 if fi.optional else wire_size_min(fi.struct, version, flexible)
        elif f.type == "string":
            size += 1 if flexible else 2
        else:
            size += SCALARS[f.type][1]
    return size


def _check_array_bounds(info: ApiInfo) -> None:
    """The runtime bounds an array of structs by one byte per element (reader::read_structs);
    an element that could take no bytes at all would make that bound refuse valid input."""
    for s in all_structs(info):
        for fi in s.fields:
            if not (fi.f.is_array and fi.struct):
                continue
            for v in sorted(fi.present):
                if wire_size_min(fi.struct, v, v in info.flexible) == 0:
                    raise GenError(f"line {fi.f.line}: elements of {fi.f.name} can be empty at "
                                   f"version {v}; the array length bound needs one byte each")


def build(api: sc.Api) -> ApiInfo:
    try:
        info = Builder(api).build()
        _check_array_bounds(info)
        return info
    except GenError as e:
        raise GenError(f"{api.path}: {e}") from None
