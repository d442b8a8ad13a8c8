#!/usr/bin/env python3
"""Generates C++ codecs from the message specs in protocol/specs (format: protocol/specs/FORMAT.md).

Usage: generate.py OUT_DIR SPEC...

For each spec `foo.spec` it writes `OUT_DIR/messages/foo.h` and `foo.cc` (request and response structs with
encode/decode for every version) and `foo_random.h` (a test-only filler used by the round-trip tests). It also
writes `OUT_DIR/messages/api_catalog.h`, the single table of the APIs the specs describe.
"""
import os
import re
import sys
from dataclasses import dataclass, field

PRIMITIVES = {
    "bool": ("bool", 1),
    "int8": ("int8_t", 1),
    "int16": ("int16_t", 2),
    "uint16": ("uint16_t", 2),
    "int32": ("int32_t", 4),
    "int64": ("int64_t", 8),
    "float64": ("double", 8),
    "uuid": ("Uuid", 16),
}
VARIABLE = {"string": "std::string", "bytes": "Bytes", "records": "Records"}
CPP_KEYWORDS = {"default", "template", "class", "struct", "operator", "private", "public", "protected",
                "delete", "new", "register", "union", "namespace", "auto", "this", "throw", "try"}
MAX_VERSION = 0x7FFF


class SpecError(Exception):
    pass


@dataclass
class VersionRange:
    lo: int
    hi: int

    def contains(self, v):
        return self.lo <= v <= self.hi

    def is_empty(self):
        return self.lo > self.hi

    def cpp_test(self, var="version", within=None):
        """A C++ condition for `var` in this range, simplified against the message's own range."""
        lo_needed = within is None or self.lo > within.lo
        hi_needed = within is None or self.hi < within.hi
        parts = []
        if lo_needed:
            parts.append(f"{var} >= {self.lo}")
        if hi_needed:
            parts.append(f"{var} <= {self.hi}")
        return " && ".join(parts) if parts else "true"


def parse_range(text, where):
    m = re.fullmatch(r"(\d+)\+", text)
    if m:
        return VersionRange(int(m.group(1)), MAX_VERSION)
    m = re.fullmatch(r"(\d+)-(\d+)", text)
    if m:
        return VersionRange(int(m.group(1)), int(m.group(2)))
    m = re.fullmatch(r"(\d+)", text)
    if m:
        return VersionRange(int(m.group(1)), int(m.group(1)))
    if text == "none":
        return VersionRange(1, 0)
    raise SpecError(f"{where}: bad version range '{text}'")


@dataclass
class Struct:
    name: str
    fields: list = field(default_factory=list)


@dataclass
class Field:
    name: str
    type_text: str
    versions: VersionRange
    nullable: VersionRange
    tag: int = None
    default: str = None
    struct: Struct = None  # element struct for arrays of structs and single structs
    line: str = ""

    @property
    def is_array(self):
        return self.type_text.startswith("[")

    @property
    def elem(self):
        return self.type_text[1:-1] if self.is_array else self.type_text

    @property
    def is_struct_elem(self):
        return self.elem[0].isupper()

    @property
    def cpp_name(self):
        return self.name + "_" if self.name in CPP_KEYWORDS else self.name


@dataclass
class Api:
    name: str
    key: int
    versions: VersionRange
    flexible: VersionRange
    structs: dict
    request: Struct = None
    response: Struct = None
    file_stem: str = ""


def parse_spec(path):
    api_name = api_key = versions = flexible = None
    structs = {}
    messages = {}
    # stack of (indent, Struct) for the block being filled
    stack = []
    with open(path) as f:
        lines = f.readlines()
    pending_struct_field = None
    for lineno, raw in enumerate(lines, 1):
        where = f"{path}:{lineno}"
        text = raw.split("#", 1)[0].rstrip()
        if not text.strip():
            continue
        indent = len(text) - len(text.lstrip(" "))
        if indent % 2:
            raise SpecError(f"{where}: indentation must be a multiple of two spaces")
        words = text.split()
        if indent == 0:
            stack = []
            pending_struct_field = None
            if words[0] == "api" and len(words) == 3:
                api_name, api_key = words[1], int(words[2])
            elif words[0] == "versions" and len(words) == 2:
                versions = parse_range(words[1], where)
            elif words[0] == "flexible" and len(words) == 2:
                flexible = parse_range(words[1], where)
            elif words[0] in ("request", "response") and len(words) == 1:
                s = Struct(api_name + words[0].capitalize())
                messages[words[0]] = s
                stack = [(0, s)]
            elif words[0] == "struct" and len(words) == 2:
                s = Struct(words[1])
                if s.name in structs:
                    raise SpecError(f"{where}: struct {s.name} defined twice")
                structs[s.name] = s
                stack = [(0, s)]
            else:
                raise SpecError(f"{where}: unknown top-level line '{text.strip()}'")
            continue
        if not stack:
            raise SpecError(f"{where}: field outside a block")
        # An indented line below a struct-typed field starts that struct's body.
        if pending_struct_field is not None and indent == stack[-1][0] + 4 and pending_struct_field[0] == stack[-1][0] + 2:
            f_indent, f_field = pending_struct_field
            s = Struct(f_field.elem)
            if s.name in structs:
                raise SpecError(f"{where}: struct {s.name} defined twice")
            structs[s.name] = s
            f_field.struct = s
            stack.append((f_indent, s))
        while stack and indent <= stack[-1][0]:
            stack.pop()
        if not stack or indent != stack[-1][0] + 2:
            raise SpecError(f"{where}: unexpected indentation")
        if len(words) < 2:
            raise SpecError(f"{where}: a field needs a name and a type")
        fld = Field(words[0], words[1], VersionRange(0, MAX_VERSION), VersionRange(1, 0), line=where)
        if not re.fullmatch(r"[a-z][a-z0-9_]*", fld.name):
            raise SpecError(f"{where}: field names are snake_case")
        for attr in words[2:]:
            if re.fullmatch(r"v\d+(\+|-\d+)?", attr):
                fld.versions = parse_range(attr[1:], where)
            elif attr == "nullable":
                fld.nullable = VersionRange(0, MAX_VERSION)
            elif attr.startswith("nullable:v"):
                fld.nullable = parse_range(attr[len("nullable:v"):], where)
            elif attr.startswith("tag="):
                fld.tag = int(attr[4:])
            elif attr.startswith("default="):
                fld.default = attr[len("default="):]
            else:
                raise SpecError(f"{where}: unknown attribute '{attr}'")
        elem = fld.elem
        if fld.is_struct_elem:
            if elem in structs:
                fld.struct = structs[elem]
            pending_struct_field = (indent, fld)
        elif elem not in PRIMITIVES and elem not in VARIABLE:
            raise SpecError(f"{where}: unknown type '{elem}'")
        else:
            pending_struct_field = None
        stack[-1][1].fields.append(fld)
    for what, value in (("api", api_name), ("versions", versions), ("flexible", flexible)):
        if value is None:
            raise SpecError(f"{path}: missing '{what}' line")
    if "request" not in messages or "response" not in messages:
        raise SpecError(f"{path}: needs a request and a response block")
    api = Api(api_name, api_key, versions, flexible, structs, messages["request"], messages["response"])
    for s in [api.request, api.response, *structs.values()]:
        for fld in s.fields:
            if fld.is_struct_elem and fld.struct is None:
                raise SpecError(f"{fld.line}: struct {fld.elem} is used but never defined")
            if fld.tag is not None and fld.is_struct_elem is False and fld.elem == "records":
                raise SpecError(f"{fld.line}: records cannot be tagged")
    api.file_stem = os.path.splitext(os.path.basename(path))[0]
    return api


# ---------------------------------------------------------------------------------------------------------
# C++ emission


def elem_cpp(fld):
    e = fld.elem
    if fld.is_struct_elem:
        return e
    if e in PRIMITIVES:
        return PRIMITIVES[e][0]
    return VARIABLE[e]


def field_cpp_type(fld):
    t = elem_cpp(fld)
    if fld.is_array:
        t = f"std::vector<{t}>"
    if not fld.nullable.is_empty():
        t = f"std::optional<{t}>"
    return t


def default_initializer(fld):
    d = fld.default
    nullable = not fld.nullable.is_empty()
    if d is None:
        if nullable or fld.is_array or fld.is_struct_elem or fld.elem in VARIABLE:
            if nullable and not fld.is_array and fld.elem in VARIABLE:
                # A nullable string/bytes defaults to the empty value, as Kafka's do, unless the spec says null.
                return " = " + {"string": 'std::string{}', "bytes": "Bytes{}", "records": "Records{}"}[fld.elem]
            if nullable and fld.is_array:
                return " = " + f"std::vector<{elem_cpp(fld)}>{{}}"
            return ""
        if fld.elem == "uuid":
            return ""
        return " = " + ("false" if fld.elem == "bool" else "0")
    if d == "null":
        if not nullable:
            raise SpecError(f"{fld.line}: default=null on a field that is never nullable")
        return " = std::nullopt"
    if fld.elem == "bool":
        if d not in ("true", "false"):
            raise SpecError(f"{fld.line}: bool default must be true or false")
        return " = " + d
    if fld.elem == "string":
        if not (d.startswith('"') and d.endswith('"')):
            raise SpecError(f"{fld.line}: string default must be quoted")
        return " = std::string(" + d + ")"
    if fld.elem in PRIMITIVES and fld.elem != "uuid":
        try:
            int(d, 0)
        except ValueError:
            raise SpecError(f"{fld.line}: bad numeric default '{d}'")
        suffix = "LL" if fld.elem == "int64" else ""
        return f" = {d}{suffix}"
    raise SpecError(f"{fld.line}: unsupported default for type {fld.type_text}")


class Emitter:
    def __init__(self, api):
        self.api = api
        self.vr = api.versions

    # Order nested structs so that each is declared before it is used.
    def struct_order(self, root):
        order, seen = [], set()

        def visit(s):
            for fld in s.fields:
                if fld.struct is not None and fld.struct.name not in seen:
                    visit(fld.struct)
            if s.name not in seen:
                seen.add(s.name)
                order.append(s)

        visit(root)
        return order

    def header(self):
        a = self.api
        out = []
        guard = f"FJORD_PROTOCOL_MESSAGES_{a.file_stem.upper()}_H"
        out += [f"// Generated from protocol/specs/{a.file_stem}.spec by protocol/codegen/generate.py. Do not edit.",
                f"#ifndef {guard}", f"#define {guard}", "",
                '#include "protocol/codec_runtime.h"', "",
                "namespace fjord::protocol {", ""]
        for msg in (a.request, a.response):
            out += self.message_decl(msg)
        out += ["}  // namespace fjord::protocol", "", f"#endif  // {guard}", ""]
        return "\n".join(out)

    def message_decl(self, msg):
        a = self.api
        out = [f"struct {msg.name} {{",
               f"  static constexpr int16_t kApiKey = {a.key};",
               f"  static constexpr int16_t kMinVersion = {a.versions.lo};",
               f"  static constexpr int16_t kMaxVersion = {a.versions.hi};",
               f"  static constexpr int16_t kFirstFlexibleVersion = {a.flexible.lo if not a.flexible.is_empty() else -1};",
               ""]
        for s in self.struct_order(msg)[:-1]:
            out.append(f"  struct {s.name} {{")
            out += ["  " + line for line in self.members(s)]
            out += ["    bool operator==(const " + s.name + "&) const = default;", "  };", ""]
        out += self.members(msg)
        out += ["",
                f"  bool operator==(const {msg.name}&) const = default;",
                "  void encode(Writer& writer, int16_t version) const;",
                "  void decode(Reader& reader, int16_t version);",
                "};", ""]
        return out

    def members(self, s):
        out = []
        for fld in s.fields:
            out.append(f"  {field_cpp_type(fld)} {fld.cpp_name}{default_initializer(fld)};")
        out.append("  TaggedFields unknown_tagged_fields;")
        return out

    def flexible_decl(self, indent="  "):
        if self.api.flexible.is_empty():
            return indent + "const bool flexible = false;\n" + indent + "(void)version;"
        return indent + f"const bool flexible = version >= {self.api.flexible.lo};"

    # --- encoding ---------------------------------------------------------------------------------------
    def source(self):
        a = self.api
        out = [f"// Generated from protocol/specs/{a.file_stem}.spec by protocol/codegen/generate.py. Do not edit.",
               f'#include "protocol/messages/{a.file_stem}.h"', "",
               "namespace fjord::protocol {", "namespace {", ""]
        first_flex = a.flexible.lo if not a.flexible.is_empty() else MAX_VERSION + 1
        self.first_flex = first_flex
        for msg in (a.request, a.response):
            for s in self.struct_order(msg)[:-1]:
                qual = f"{msg.name}::{s.name}"
                out += [f"void encode_{msg.name}_{s.name}(Writer& w, const {qual}& v, int16_t version);",
                        f"void decode_{msg.name}_{s.name}(Reader& r, {qual}& v, int16_t version);"]
        out.append("")
        for msg in (a.request, a.response):
            for s in self.struct_order(msg)[:-1]:
                qual = f"{msg.name}::{s.name}"
                out += self.encode_body(msg, s, f"void encode_{msg.name}_{s.name}(Writer& w, const {qual}& v, int16_t version)")
                out += self.decode_body(msg, s, f"void decode_{msg.name}_{s.name}(Reader& r, {qual}& v, int16_t version)")
        out += ["}  // namespace", ""]
        for msg in (a.request, a.response):
            out += self.encode_body(msg, msg, f"void {msg.name}::encode(Writer& w, int16_t version) const",
                                    self_ref="(*this)")
            out += self.decode_body(msg, msg, f"void {msg.name}::decode(Reader& r, int16_t version)", self_ref="(*this)")
        out += ["}  // namespace fjord::protocol", ""]
        return "\n".join(out)

    def encode_value(self, msg, fld, expr, w="w", depth=0):
        """Lines that write `expr` (the field's value, not optional) with writer `w`."""
        flex = "flexible"
        e = fld.elem
        if fld.is_array:
            item = f"item{depth}"
            lines = [f"{w}.write_array_length({expr}.size(), {flex});", f"for (const auto& {item} : {expr}) {{"]
            lines += ["  " + l for l in self.encode_scalar(msg, fld, item, w, depth + 1)]
            lines.append("}")
            return lines
        return self.encode_scalar(msg, fld, expr, w, depth)

    def encode_scalar(self, msg, fld, expr, w, depth):
        e = fld.elem
        if fld.is_struct_elem:
            return [f"encode_{msg.name}_{e}({w}, {expr}, version);"]
        if e == "string":
            return [f"{w}.write_string({expr}, flexible);"]
        if e == "bytes":
            return [f"{w}.write_bytes({expr}, flexible);"]
        if e == "records":
            return [f"{w}.write_records({expr}, flexible);"]
        return [f"{w}.write_{e}({expr});"]

    def encode_field(self, msg, fld, ref):
        """Lines that write a regular (untagged) field, including its null marker."""
        member = f"{ref}.{fld.cpp_name}"
        if fld.nullable.is_empty():
            return self.encode_value(msg, fld, member)
        cond = fld.nullable.cpp_test(within=self.vr)
        null_write = self.null_write(fld)
        present_value = f"(*{member})"
        lines = [f"if (!{member}.has_value()) {{",
                 f"  if (!({cond})) throw EncodeError(\"{msg.name}.{fld.name} is null in a version where it cannot be\");",
                 f"  {null_write}",
                 "} else {"]
        if fld.is_struct_elem and not fld.is_array:
            lines.append("  w.write_int8(1);")
        lines += ["  " + l for l in self.encode_value(msg, fld, present_value)]
        lines.append("}")
        return lines

    def null_write(self, fld):
        if fld.is_array:
            return "w.write_null_array(flexible);"
        if fld.is_struct_elem:
            return "w.write_int8(-1);"
        if fld.elem == "string":
            return "w.write_null_string(flexible);"
        return "w.write_null_bytes(flexible);"

    def encode_body(self, msg, s, signature, self_ref="v"):
        lines = [signature + " {", self.flexible_decl(), "  (void)flexible;"]
        tagged = []
        for fld in s.fields:
            if fld.tag is not None:
                tagged.append(fld)
                continue
            body = self.encode_field(msg, fld, self_ref)
            cond = fld.versions.cpp_test(within=self.vr)
            if cond == "true":
                lines += ["  " + l for l in body]
            else:
                lines.append(f"  if ({cond}) {{")
                lines += ["    " + l for l in body]
                lines.append("  }")
        # Tagged fields: known ones that hold a non-default value, merged with the unknown ones in tag order.
        lines.append("  if (flexible) {")
        lines.append(f"    TaggedFieldWriter tags({self_ref}.unknown_tagged_fields);")
        for fld in sorted(tagged, key=lambda f: f.tag):
            member = f"{self_ref}.{fld.cpp_name}"
            cond = fld.versions.cpp_test(within=self.vr)
            default_value = f"decltype({member}){{{default_initializer(fld)[3:] if default_initializer(fld) else ''}}}"
            lines.append(f"    if (({cond}) && !({member} == {default_value})) {{")
            lines.append(f"      Writer& tw = tags.begin({fld.tag});")
            body = self.encode_field(msg, fld, self_ref)
            body = [l.replace("w.write", "tw.write").replace(", w,", ", tw,").replace("(w,", "(tw,") for l in body]
            lines += ["      " + l for l in body]
            lines.append("      tags.end();")
            lines.append("    }")
        lines.append("    tags.finish(w);")
        lines.append("  }")
        lines.append("}")
        lines.append("")
        return lines

    # --- decoding ---------------------------------------------------------------------------------------
    def decode_value(self, msg, fld, target, r="r", depth=0):
        if fld.is_array:
            n = f"count{depth}"
            item = f"item{depth}"
            min_size = self.min_elem_size(fld)
            lines = ["{",
                     f"  const size_t {n} = {r}.read_array_length(flexible, {min_size});",
                     f"  {target}.clear();",
                     f"  {target}.reserve({n});",
                     f"  for (size_t i{depth} = 0; i{depth} < {n}; ++i{depth}) {{",
                     f"    auto& {item} = {target}.emplace_back();"]
            lines += ["    " + l for l in self.decode_scalar(msg, fld, item, r, depth + 1)]
            lines += ["  }", "}"]
            return lines
        return self.decode_scalar(msg, fld, target, r, depth)

    def min_elem_size(self, fld):
        e = fld.elem
        if e in PRIMITIVES:
            return PRIMITIVES[e][1]
        return 1

    def decode_scalar(self, msg, fld, target, r, depth):
        e = fld.elem
        if fld.is_struct_elem:
            return [f"decode_{msg.name}_{e}({r}, {target}, version);"]
        if e == "string":
            return [f"{target} = {r}.read_string(flexible);"]
        if e == "bytes":
            return [f"{target} = {r}.read_bytes(flexible);"]
        if e == "records":
            return [f"{target} = {r}.read_records(flexible);"]
        return [f"{target} = {r}.read_{e}();"]

    def decode_field(self, msg, fld, ref, r="r"):
        member = f"{ref}.{fld.cpp_name}"
        if fld.nullable.is_empty():
            return self.decode_value(msg, fld, member, r)
        cond = fld.nullable.cpp_test(within=self.vr)
        if fld.is_array:
            probe = f"{r}.next_array_is_null(flexible)"
        elif fld.is_struct_elem:
            probe = f"{r}.next_struct_is_null()"
        elif fld.elem == "string":
            probe = f"{r}.next_string_is_null(flexible)"
        else:
            probe = f"{r}.next_bytes_is_null(flexible)"
        lines = [f"if (({cond}) && {probe}) {{",
                 f"  {member}.reset();",
                 "} else {",
                 f"  if (!({cond}) && {probe}) throw DecodeError(\"{msg.name}.{fld.name}: null where not allowed\");"]
        if fld.is_struct_elem and not fld.is_array:
            lines.append(f"  if ({r}.read_int8() != 1) throw DecodeError(\"{msg.name}.{fld.name}: bad struct marker\");")
        lines.append(f"  {member}.emplace();")
        lines += ["  " + l for l in self.decode_value(msg, fld, f"(*{member})", r)]
        lines.append("}")
        return lines

    def decode_body(self, msg, s, signature, self_ref="v"):
        lines = [signature + " {", self.flexible_decl(), "  (void)flexible;"]
        tagged = []
        for fld in s.fields:
            if fld.tag is not None:
                tagged.append(fld)
                continue
            body = self.decode_field(msg, fld, self_ref)
            cond = fld.versions.cpp_test(within=self.vr)
            if cond == "true":
                lines += ["  " + l for l in body]
            else:
                lines.append(f"  if ({cond}) {{")
                lines += ["    " + l for l in body]
                lines.append("  }")
        lines.append("  if (flexible) {")
        lines.append(f"    {self_ref}.unknown_tagged_fields.clear();")
        if not tagged:
            lines.append(f"    r.read_tagged_fields([](uint32_t, Reader&) {{ return false; }}, {self_ref}.unknown_tagged_fields);")
        else:
            lines.append("    r.read_tagged_fields([&](uint32_t tag, Reader& tr) {")
            lines.append("      switch (tag) {")
            for fld in sorted(tagged, key=lambda f: f.tag):
                cond = fld.versions.cpp_test(within=self.vr)
                lines.append(f"        case {fld.tag}: {{")
                lines.append(f"          if (!({cond})) return false;")
                body = self.decode_field(msg, fld, self_ref, r="tr")
                lines += ["          " + l for l in body]
                lines.append("          return true;")
                lines.append("        }")
            lines.append("        default:")
            lines.append("          return false;")
            lines.append("      }")
            lines.append(f"    }}, {self_ref}.unknown_tagged_fields);")
        lines.append("  }")
        lines.append("}")
        lines.append("")
        return lines

    # --- random filler for round-trip tests -------------------------------------------------------------
    def random_header(self):
        a = self.api
        out = [f"// Generated from protocol/specs/{a.file_stem}.spec by protocol/codegen/generate.py. Do not edit.",
               "// Test-only: fills a message with random values for the fields a version carries.",
               "#pragma once", f'#include "protocol/messages/{a.file_stem}.h"',
               '#include "protocol/testing/random_values.h"', "",
               "namespace fjord::protocol::testing {", ""]
        for msg in (a.request, a.response):
            for s in self.struct_order(msg)[:-1]:
                out.append(f"inline void randomize(RandomValues& rnd, {msg.name}::{s.name}& v, int16_t version);")
        out.append("")
        for msg in (a.request, a.response):
            for s in self.struct_order(msg):
                qual = msg.name if s is msg else f"{msg.name}::{s.name}"
                out.append(f"inline void randomize(RandomValues& rnd, {qual}& v, int16_t version) {{")
                out.append(self.flexible_decl())
                out.append("  (void)flexible;")
                for fld in s.fields:
                    cond = fld.versions.cpp_test(within=self.vr)
                    if fld.tag is not None:
                        cond = f"flexible && {cond}"
                    out.append(f"  if ({cond}) {{")
                    member = f"v.{fld.cpp_name}"
                    if not fld.nullable.is_empty():
                        ncond = fld.nullable.cpp_test(within=self.vr)
                        out.append(f"    if (({ncond}) && rnd.coin(4)) {{ {member}.reset(); }} else {{")
                        out.append(f"      {member}.emplace();")
                        out += ["      " + l for l in self.random_value(fld, f"(*{member})")]
                        out.append("    }")
                    else:
                        out += ["    " + l for l in self.random_value(fld, member)]
                    out.append("  }")
                out.append("  if (flexible) rnd.unknown_tags(v.unknown_tagged_fields);")
                out.append("}")
                out.append("")
        out += ["}  // namespace fjord::protocol::testing", ""]
        return "\n".join(out)

    def random_value(self, fld, target):
        if fld.is_array:
            return [f"{target}.resize(rnd.count());",
                    f"for (auto& item : {target}) {{",
                    *["  " + l for l in self.random_scalar(fld, "item")],
                    "}"]
        return self.random_scalar(fld, target)

    def random_scalar(self, fld, target):
        if fld.is_struct_elem:
            return [f"randomize(rnd, {target}, version);"]
        return [f"rnd.fill({target});"]


def catalog_header(apis):
    out = ["// Generated from protocol/specs/*.spec by protocol/codegen/generate.py. Do not edit.",
           "#pragma once", "#include <array>", "#include <cstdint>", "#include <string_view>", "",
           "namespace fjord::protocol {", "",
           "// What a spec says about one API: the versions Fjord implements and where flexible encoding starts.",
           "struct ApiSpec {", "  int16_t key;", "  std::string_view name;", "  int16_t min_version;",
           "  int16_t max_version;", "  int16_t first_flexible_version;  // -1: never flexible", "};", "",
           f"inline constexpr std::array<ApiSpec, {len(apis)}> kApiSpecs = {{{{"]
    for a in sorted(apis, key=lambda a: a.key):
        ff = a.flexible.lo if not a.flexible.is_empty() else -1
        out.append(f'    {{{a.key}, "{a.name}", {a.versions.lo}, {a.versions.hi}, {ff}}},')
    out += ["}};", "", "constexpr const ApiSpec* find_api_spec(int16_t key) {",
            "  for (const auto& spec : kApiSpecs) {", "    if (spec.key == key) return &spec;", "  }",
            "  return nullptr;", "}", "", "}  // namespace fjord::protocol", ""]
    return "\n".join(out)


def all_messages_header(apis):
    out = ["// Generated by protocol/codegen/generate.py. Do not edit.", "#pragma once"]
    for a in sorted(apis, key=lambda a: a.key):
        out.append(f'#include "protocol/messages/{a.file_stem}.h"')
    out += ["", "// X(Request, Response) for every API with a spec.", "#define FJORD_FOR_EACH_API(X) \\"]
    out += [f"  X({a.name}Request, {a.name}Response) \\" for a in sorted(apis, key=lambda a: a.key)]
    out += ["", ""]
    return "\n".join(out)


def write_if_changed(path, text):
    try:
        with open(path) as f:
            if f.read() == text:
                return
    except FileNotFoundError:
        pass
    with open(path, "w") as f:
        f.write(text)


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    out_dir = os.path.join(argv[1], "protocol", "messages")
    os.makedirs(out_dir, exist_ok=True)
    apis = []
    try:
        for path in argv[2:]:
            api = parse_spec(path)
            e = Emitter(api)
            write_if_changed(os.path.join(out_dir, api.file_stem + ".h"), e.header())
            write_if_changed(os.path.join(out_dir, api.file_stem + ".cc"), e.source())
            write_if_changed(os.path.join(out_dir, api.file_stem + "_random.h"), e.random_header())
            apis.append(api)
    except SpecError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    keys = [a.key for a in apis]
    if len(keys) != len(set(keys)):
        print("error: two specs share an API key", file=sys.stderr)
        return 1
    write_if_changed(os.path.join(out_dir, "api_catalog.h"), catalog_header(apis))
    write_if_changed(os.path.join(out_dir, "all_messages.h"), all_messages_header(apis))
    write_if_changed(os.path.join(out_dir, "all_random.h"),
                     "// Generated by protocol/codegen/generate.py. Do not edit. Test-only.\n#pragma once\n" +
                     "".join(f'#include "protocol/messages/{a.file_stem}_random.h"\n'
                             for a in sorted(apis, key=lambda a: a.key)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
