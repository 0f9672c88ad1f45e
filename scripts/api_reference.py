"""Write the API reference (docs/api.md) and the events reference (docs/events.md) from the protos.

Everything in them comes from a source that the services themselves run on, so they cannot drift:
- the protos' comments, read from protoc's descriptors with source info (grpc_tools, the same
  compiler `make proto` uses);
- who may call each RPC, and the form rule of every request field: the services' edge tables
  (`ot_<service>.edge.ACCESS`, `FIELD_RULES`), which the gRPC server enforces;
- what each handler refuses: scripts/api_errors.py, checked against the services' source by
  tests/contracts;
- for events: the ce_type named in each payload's comment, who publishes it (the services'
  `outbox.add(ce_type=...)` calls, read from their source), who consumes it (each service's
  `consumers.event_handlers` table and the topics it reads, `wire(consumes=...)`), and the headers
  the outbox relay writes (ot_runtime.cloudevents).

    python scripts/api_reference.py          # rewrite docs/api.md and docs/events.md
    python scripts/api_reference.py --check  # exit 1 when either is out of date (the tests run this)
"""
from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import re
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from google.protobuf import descriptor_pb2

REPO = Path(__file__).resolve().parent.parent
PROTO = REPO / "proto"
DOCS = REPO / "docs"
SERVICES = ("intake", "experts", "consent", "feedback")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import api_errors  # noqa: E402  (scripts/ is not a package)

# Descriptor paths (descriptor.proto field numbers): where a comment sits in SourceCodeInfo.
FILE_MESSAGE, FILE_ENUM, FILE_SERVICE = 4, 5, 6
MESSAGE_FIELD, MESSAGE_NESTED, MESSAGE_ENUM = 2, 3, 4
ENUM_VALUE, SERVICE_METHOD = 2, 2
TIMESTAMP = ".google.protobuf.Timestamp"


# --- descriptors and their comments -------------------------------------------------------------
def proto_files() -> list[str]:
    return sorted(str(p.relative_to(PROTO)) for p in PROTO.rglob("*.proto"))


def descriptor_set() -> descriptor_pb2.FileDescriptorSet:
    """proto/ compiled by protoc (grpc_tools) with the comments (--include_source_info)."""
    import grpc_tools
    from grpc_tools import protoc
    well_known = Path(grpc_tools.__file__).parent / "_proto"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "set.binpb"
        code = protoc.main(["protoc", f"-I{PROTO}", f"-I{well_known}", "--include_source_info",
                            f"--descriptor_set_out={out}", *proto_files()])
        if code != 0:
            raise SystemExit(f"api_reference: protoc failed ({code})")
        return descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())


def _clean(text: str) -> str:
    """A proto comment as Markdown: the comment's own line breaks kept as paragraphs' lines."""
    lines = [line[1:] if line.startswith(" ") else line for line in text.strip("\n").split("\n")]
    return "\n".join(lines).strip()


@dataclass
class Doc:
    leading: str = ""
    trailing: str = ""

    def text(self) -> str:
        return "\n\n".join(part for part in (self.leading, self.trailing) if part)

    def line(self) -> str:
        """For a table cell: one line, pipes escaped."""
        return " ".join(self.text().split()).replace("|", "\\|")


@dataclass
class Message:
    full_name: str
    proto: descriptor_pb2.DescriptorProto
    doc: Doc
    fields: list[tuple[descriptor_pb2.FieldDescriptorProto, Doc]]
    file: str


@dataclass
class Enum:
    full_name: str
    doc: Doc
    values: list[tuple[descriptor_pb2.EnumValueDescriptorProto, Doc]]
    file: str


@dataclass
class Method:
    name: str
    input: str
    output: str
    doc: Doc


@dataclass
class Service:
    full_name: str
    doc: Doc
    file_doc: str
    methods: list[Method]
    file: str


@dataclass
class Protos:
    messages: dict[str, Message] = field(default_factory=dict)
    enums: dict[str, Enum] = field(default_factory=dict)
    services: dict[str, Service] = field(default_factory=dict)
    file_docs: dict[str, str] = field(default_factory=dict)


def read_protos() -> Protos:
    out = Protos()
    for f in descriptor_set().file:
        if f.name.startswith("google/"):
            continue
        docs = {tuple(loc.path): Doc(_clean(loc.leading_comments), _clean(loc.trailing_comments))
                for loc in f.source_code_info.location}
        # The file's own comment is the one above `package` (path [2]), detached or leading.
        package_loc = [loc for loc in f.source_code_info.location if tuple(loc.path) == (2,)]
        file_doc = ""
        if package_loc:
            loc = package_loc[0]
            file_doc = _clean(loc.leading_comments) or "\n\n".join(_clean(c) for c in loc.leading_detached_comments)
        out.file_docs[f.name] = file_doc

        def enum(e, path, prefix):
            name = f"{prefix}.{e.name}"
            out.enums[name] = Enum(name, docs.get(path, Doc()),
                                   [(v, docs.get(path + (ENUM_VALUE, i), Doc())) for i, v in enumerate(e.value)],
                                   f.name)

        def message(m, path, prefix):
            name = f"{prefix}.{m.name}"
            if m.options.map_entry:
                return
            out.messages[name] = Message(name, m, docs.get(path, Doc()),
                                         [(fd, docs.get(path + (MESSAGE_FIELD, i), Doc()))
                                          for i, fd in enumerate(m.field)], f.name)
            for i, nested in enumerate(m.nested_type):
                message(nested, path + (MESSAGE_NESTED, i), name)
            for i, e in enumerate(m.enum_type):
                enum(e, path + (MESSAGE_ENUM, i), name)

        for i, m in enumerate(f.message_type):
            message(m, (FILE_MESSAGE, i), f.package)
        for i, e in enumerate(f.enum_type):
            enum(e, (FILE_ENUM, i), f.package)
        for i, s in enumerate(f.service):
            name = f"{f.package}.{s.name}"
            out.services[name] = Service(
                name, docs.get((FILE_SERVICE, i), Doc()), file_doc,
                [Method(m.name, m.input_type.lstrip("."), m.output_type.lstrip("."),
                        docs.get((FILE_SERVICE, i, SERVICE_METHOD, j), Doc())) for j, m in enumerate(s.method)],
                f.name)
    return out


# --- types as Markdown ----------------------------------------------------------------------------
_LABELS = {descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED: "repeated "}
_SCALARS = {v: k.removeprefix("TYPE_").lower() for k, v in descriptor_pb2.FieldDescriptorProto.Type.items()}


def anchor(full_name: str) -> str:
    return full_name.replace(".", "-").lower()


def link(full_name: str, protos: Protos) -> str:
    short = full_name.rsplit(".", 1)[-1]
    if full_name in protos.messages or full_name in protos.enums:
        return f"[{short}](#{anchor(full_name)})"
    return f"`{full_name}`"


def type_of(fd: descriptor_pb2.FieldDescriptorProto, protos: Protos, owner: descriptor_pb2.DescriptorProto) -> str:
    if fd.type_name:
        name = fd.type_name.lstrip(".")
        entry = next((n for n in owner.nested_type if n.options.map_entry and name.endswith("." + n.name)), None)
        if entry is not None:
            key, value = entry.field
            return f"map<{_SCALARS[key.type]}, {_SCALARS[value.type]}>"
        text = link(name, protos)
    else:
        text = _SCALARS[fd.type]
    optional = "optional " if fd.proto3_optional else ""
    return _LABELS.get(fd.label, "") + optional + text


# --- the services' own tables ---------------------------------------------------------------------
def edges() -> dict[str, object]:
    return {name: importlib.import_module(f"ot_{name}.edge") for name in SERVICES}


def roles_of(edge, method: str) -> list[str]:
    from ot_runtime.access import ANYONE, method_path
    from ot_runtime.auth import ROLES
    allowed = edge.ACCESS.get(method_path(edge.SERVICE, method), frozenset())
    if ANYONE in allowed:
        return [ANYONE]
    return [r for r in ROLES if r in allowed]


def request_messages(protos: Protos, service: Service) -> list[str]:
    """The messages a caller of `service` fills in: each RPC's input and what it contains."""
    seen: list[str] = []

    def visit(name: str) -> None:
        if name in seen or name not in protos.messages:
            return
        seen.append(name)
        for fd, _ in protos.messages[name].fields:
            if fd.type == fd.TYPE_MESSAGE:
                visit(fd.type_name.lstrip("."))

    for m in service.methods:
        visit(m.input)
    return seen


def edge_reasons(protos: Protos, edge, message: str) -> list[str]:
    """The BadRequest reasons the edge can give for a request of this message type (ot_runtime.fields)."""
    from ot_guard import KINDS
    from ot_runtime.fields import UNLISTED
    reasons = {"undecodable"}
    guarded = False
    seen: set[str] = set()

    def visit(name: str) -> None:
        nonlocal guarded
        if name in seen or name not in protos.messages:
            return
        seen.add(name)
        for fd, _ in protos.messages[name].fields:
            repeated = fd.label == fd.LABEL_REPEATED
            if fd.type == fd.TYPE_MESSAGE:
                if fd.type_name == TIMESTAMP:
                    reasons.add("out_of_range")
                if repeated:
                    reasons.add("too_many")
                visit(fd.type_name.lstrip("."))
            elif fd.type == fd.TYPE_ENUM:
                reasons.add("unknown_value")
            elif fd.type in (fd.TYPE_STRING, fd.TYPE_BYTES):
                rule = edge.FIELD_RULES.get(f"{name}.{fd.name}", UNLISTED)
                reasons.add("too_long")
                if repeated:
                    reasons.add("too_many")
                if fd.type == fd.TYPE_STRING:
                    reasons.add("control_character")
                    if rule.choices:
                        reasons.add("not_allowed_value")
                    elif rule.pattern is not None:
                        reasons.add("bad_form")
                    guarded = guarded or rule.guarded

    visit(message)
    order = ["undecodable", "too_long", "too_many", "control_character", "bad_form", "not_allowed_value",
             "unknown_value", "out_of_range"]
    return [r for r in order if r in reasons] + (["a guard kind"] if guarded else [])


# --- docs/api.md ----------------------------------------------------------------------------------
HEADER = ("<!-- Generated by scripts/api_reference.py from proto/, the services' edge tables and "
          "scripts/api_errors.py. Do not edit by hand: run `.venv/bin/python scripts/api_reference.py`. -->")

FIELD_REASONS = [
    ("undecodable", "the bytes are not a valid message, or a string in it is not valid UTF-8 (field \"\")"),
    ("too_long", "a string over its rule's length in characters (bytes: in bytes)"),
    ("too_many", "a repeated field over its rule's number of items (messages: over 100)"),
    ("control_character", "a control character such as NUL (line breaks too, in a one-line field)"),
    ("bad_form", "not in the field's closed form (an id, a slug, an e-mail, a phone number, a token)"),
    ("not_allowed_value", "not one of the field's allowed values (an area, a choice)"),
    ("unknown_value", "an enum number this API does not know"),
    ("out_of_range", "a time outside the years 1970–2199 (and some numbers, see the RPC)"),
]


def guard_kinds() -> str:
    from ot_guard import KINDS
    return ", ".join(f"`{k}`" for k in KINDS)


def common_section() -> list[str]:
    from ot_runtime.auth import AREA_CLAIM, GROUPS_CLAIM, ROLES_CLAIM
    from ot_runtime.grpc_server import MAX_REQUEST_BYTES
    out = [
        "## Calling any RPC",
        "",
        "Every call needs `authorization: Bearer <JWT>` metadata: a token of this wellbeing area (claim "
        f"`{AREA_CLAIM}`) with a subject and at least one role (claim `{ROLES_CLAIM}`; secretaries and group members "
        f"also `{GROUPS_CLAIM}`, the groups they run or sit in); `grpc.health.v1.Health` and server reflection "
        "need none. "
        "The README's \"Calling the API\" and \"Who may do what\" say how to get one and what each role is.",
        "",
        "Errors are `google.rpc.Status` with rich details (`grpc-status-details-bin`; the message is Finnish "
        "first, then English, and never repeats a refused value). Besides what each RPC lists, any call can get:",
        "",
        "| status | detail | when |",
        "|---|---|---|",
        "| `UNAUTHENTICATED` | — | no token, or one that is not valid: bad signature, expired, no subject, living "
        "longer than the allowed maximum, malformed claims |",
        "| `PERMISSION_DENIED` | `ErrorInfo` `ROLE_NOT_ALLOWED` (metadata `allowed_roles`) | the caller has none of "
        "the RPC's roles (the **Roles** line of each RPC) |",
        "| `PERMISSION_DENIED` | `ErrorInfo` `RPC_NOT_OPEN` | the RPC is in no role's table (fail closed; none is "
        "today) |",
        "| `PERMISSION_DENIED` | — | a token of another wellbeing area, a token with no known role, a service token "
        "with another role than `service` |",
        "| `INVALID_ARGUMENT` | `BadRequest` | a field breaks its form rule, or the client-identifier guard finds "
        "client-identifying data in it (reasons below); checked before the handler runs |",
        f"| `RESOURCE_EXHAUSTED` | — | a request over {MAX_REQUEST_BYTES // 1024} KiB |",
        "| `UNAVAILABLE` | — | the service's database does not answer: nothing was changed, retry |",
        "| `INTERNAL` | — | a bug; the message says nothing more (the service logs it) |",
        "",
        "`BadRequest` field violations name the field path (`client.earlier_services[2]`), say what is wrong and, "
        "in `reason`, what kind of problem it is; never the value. The edge's reasons:",
        "",
        "| reason | when |",
        "|---|---|",
        *[f"| `{r}` | {w} |" for r, w in FIELD_REASONS],
        f"| {guard_kinds()} | the guard found this kind of client-identifying data in a guarded field; the "
        "description gives its character positions |",
        "",
        "Every RPC below lists the edge reasons its request can give, and what its handler refuses beyond them. "
        "A `FAILED_PRECONDITION` carries `google.rpc.PreconditionFailure` (violation `type` = the reason, "
        "`subject` = what it is about, e.g. `requests/<id>`), plus an `ErrorInfo` with the same reason when it "
        "has metadata; a `PERMISSION_DENIED` of a handler carries `ErrorInfo` (domain `ot.platform`) whose "
        "`reason` says which rule refused.",
        "",
    ]
    return out


def refusal_rows(refusals: list[api_errors.Refusal]) -> list[str]:
    rows = ["| status | detail | reason | when |", "|---|---|---|---|"]
    for r in refusals:
        if r.code == "INVALID_ARGUMENT":
            detail = f"`BadRequest` `{r.field}`"
        elif r.code in ("FAILED_PRECONDITION", "RESOURCE_EXHAUSTED"):
            detail = "`PreconditionFailure`" + (f", `ErrorInfo` ({r.info})" if r.info else "")
        elif r.code == "PERMISSION_DENIED":
            detail = "`ErrorInfo`" + (f" ({r.info})" if r.info else "")
        else:
            detail = "—"
        reason = f"`{r.reason}`" if r.reason else "—"
        rows.append(f"| `{r.code}` | {detail} | {reason} | {r.when} |")
    return rows


def field_rows(protos: Protos, msg: Message, rules: dict | None) -> list[str]:
    from ot_runtime.fields import UNLISTED
    with_rules = rules is not None
    head = "| field | type | rule at the edge | description |" if with_rules else "| field | type | description |"
    rows = [head, "|---|---|---|---|" if with_rules else "|---|---|---|"]
    for fd, doc in msg.fields:
        cells = [f"`{fd.name}` = {fd.number}", type_of(fd, protos, msg.proto)]
        if with_rules:
            if fd.type in (fd.TYPE_STRING, fd.TYPE_BYTES):
                rule = rules.get(f"{msg.full_name}.{fd.name}")
                cells.append(rule.describe() if rule else f"no rule: {UNLISTED.describe()}")
            else:
                cells.append("")
        cells.append(doc.line())
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def enum_section(protos: Protos, e: Enum) -> list[str]:
    out = [f'<a id="{anchor(e.full_name)}"></a>', f"#### enum {e.full_name}", ""]
    if e.doc.text():
        out += [e.doc.text(), ""]
    out += ["| value | number | description |", "|---|---|---|"]
    out += [f"| `{v.name}` | {v.number} | {doc.line()} |" for v, doc in e.values]
    return out + [""]


def message_section(protos: Protos, msg: Message, rules: dict | None) -> list[str]:
    out = [f'<a id="{anchor(msg.full_name)}"></a>', f"#### {msg.full_name}", ""]
    if msg.doc.text():
        out += [msg.doc.text(), ""]
    if msg.fields:
        out += field_rows(protos, msg, rules)
    else:
        out.append("No fields.")
    return out + [""]


def api_markdown(protos: Protos) -> str:
    es = edges()
    out = [HEADER, "", "# API reference", "",
           "The gRPC APIs of the four services, generated from the protos' comments in `proto/` and from the "
           "services' own tables: who may call each RPC (the access tables the server enforces), the form rule of "
           "every field a caller sets, and what each handler refuses (`scripts/api_errors.py`, checked against the "
           "handlers' code). Events are in [events.md](events.md); how the contracts are checked and released is "
           "in [contracts.md](contracts.md).", "",
           "Services (each area runs its own; addresses in the README):", ""]
    for name in SERVICES:
        svc = protos.services[es[name].SERVICE.full_name]
        out.append(f"- [{svc.full_name}](#{anchor(svc.full_name)}): {len(svc.methods)} RPCs")
    out += ["- [Shared vocabulary: ot.common.v1](#ot-common-v1)", ""]
    out += common_section()
    for name in SERVICES:
        edge = es[name]
        svc = protos.services[edge.SERVICE.full_name]
        catalogue = api_errors.BY_SERVICE[name]
        out += [f'<a id="{anchor(svc.full_name)}"></a>', f"## {svc.full_name}", ""]
        if svc.file_doc:
            out += [svc.file_doc, ""]
        if svc.doc.text():
            out += [svc.doc.text(), ""]
        for m in svc.methods:
            out += [f'<a id="{anchor(svc.full_name + "." + m.name)}"></a>', f"### {m.name}", "",
                    f"`rpc {m.name}({m.input.rsplit('.', 1)[-1]}) returns ({m.output.rsplit('.', 1)[-1]})`: "
                    f"request {link(m.input, protos)}, response {link(m.output, protos)}.", ""]
            if m.doc.text():
                out += [m.doc.text(), ""]
            roles = roles_of(edge, m.name)
            if roles == ["anyone"]:
                out += ["**Roles:** anyone, without a token (no sign-in; the access table says why)", ""]
            else:
                out += ["**Roles:** " + (", ".join(f"`{r}`" for r in roles) if roles else "none (closed)"), ""]
            reasons = edge_reasons(protos, edge, m.input)
            out += ["**Checked at the edge** (`INVALID_ARGUMENT`, `BadRequest` reasons): "
                    + ", ".join(f"`{r}`" if r != "a guard kind" else "a guard kind" for r in reasons) + ".", ""]
            refusals = catalogue[m.name]
            if refusals:
                out += ["**Refused by the handler:**", ""] + refusal_rows(refusals) + [""]
            else:
                out += ["**Refused by the handler:** nothing beyond the above.", ""]
            if name == "consent" and m.name == "CheckSharing":
                out += ["**Answers** (`SharingDecision.reason_code`, not an error):", "",
                        "| reason_code | meaning |", "|---|---|"]
                out += [f"| `{k}` | {v} |" for k, v in api_errors.SHARING_CODES.items()] + [""]
        out += [f"### Messages of {svc.full_name.rsplit('.', 1)[0]}", ""]
        package = svc.full_name.rsplit(".", 1)[0]
        requests = set(request_messages(protos, svc))
        for full, msg in protos.messages.items():
            if full.rsplit(".", 1)[0] == package:
                out += message_section(protos, msg, edge.FIELD_RULES if full in requests else None)
        for full, e in protos.enums.items():
            if full.rsplit(".", 1)[0] == package:
                out += enum_section(protos, e)
    out += ['<a id="ot-common-v1"></a>', "## Shared vocabulary: ot.common.v1", ""]
    common_file = next(f for f in protos.file_docs if f.startswith("ot/common/"))
    if protos.file_docs[common_file]:
        out += [protos.file_docs[common_file], ""]
    for full, e in protos.enums.items():
        if full.startswith("ot.common.v1."):
            out += enum_section(protos, e)
    return "\n".join(out).rstrip() + "\n"


# --- events: who publishes and who consumes, from the code ----------------------------------------
CE_TYPE = re.compile(r"ce_type:\s*`?([a-z0-9_.]+\.v[0-9]+)`?")
RECORD_KEY = re.compile(r"record key:\s*([^.;\n]+)")


def event_messages(protos: Protos) -> dict[str, Message]:
    """ce_type -> its payload message, as the payload's comment names it."""
    out = {}
    for full, msg in protos.messages.items():
        if full.startswith("ot.events."):
            found = CE_TYPE.search(msg.doc.text())
            if found is None:
                raise SystemExit(f"api_reference: {full} has no `ce_type: ...` in its comment")
            out[found.group(1)] = msg
    return out


def _service_modules(name: str) -> list[Path]:
    return sorted((REPO / "services" / name / "src" / f"ot_{name}").glob("*.py"))


def _resolve(module, node: ast.expr):
    """The value of a Name or `alias.NAME` expression in `module` (imported), or None."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return getattr(module, node.id, None)
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return getattr(getattr(module, node.value.id, None), node.attr, None)
    return None


def produced(name: str) -> dict[str, list[str]]:
    """ce_type -> where service `name` adds it to its outbox (`<module>.py:<line>`), from the source:
    every call `<...>.add(..., ce_type=X, ...)` with X resolved in its module."""
    out: dict[str, list[str]] = {}
    for path in _service_modules(name):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                 and n.func.attr == "add" and any(k.arg == "ce_type" for k in n.keywords)]
        if not calls:
            continue
        module = importlib.import_module(f"ot_{name}.{path.stem}")
        for call in calls:
            expr = next(k.value for k in call.keywords if k.arg == "ce_type")
            value = _resolve(module, expr)
            if not isinstance(value, str):
                raise SystemExit(f"api_reference: {path}:{call.lineno}: cannot resolve the ce_type {ast.unparse(expr)}")
            out.setdefault(value, []).append(f"{path.name}:{call.lineno}")
    return out


def consumed(name: str) -> dict[str, str]:
    """ce_type -> the payload message (full name) service `name`'s consumer decodes it as."""
    module = importlib.import_module(f"ot_{name}.consumers")
    params = inspect.signature(module.event_handlers).parameters
    table = module.event_handlers(*([None] * len(params)))  # the handlers only close over their arguments
    return {ce_type: handler.message_type.DESCRIPTOR.full_name for ce_type, handler in table.items()}


def topics_read(name: str) -> list[str]:
    """The services whose topics `name` reads: `wire(..., consumes=[...])` in its bootstrap.py."""
    path = REPO / "services" / name / "src" / f"ot_{name}" / "bootstrap.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "wire":
            for k in node.keywords:
                if k.arg == "consumes":
                    return [ast.literal_eval(e) for e in k.value.elts]
    raise SystemExit(f"api_reference: no wire(consumes=[...]) in {path}")


@dataclass
class EventInfo:
    ce_type: str
    message: Message
    producer: str
    consumers: list[str]


def events(protos: Protos) -> list[EventInfo]:
    by_type = event_messages(protos)
    producers: dict[str, str] = {}
    for name in SERVICES:
        for ce_type in produced(name):
            producers.setdefault(ce_type, name)
    consumers = {name: consumed(name) for name in SERVICES}
    out = []
    for ce_type, msg in by_type.items():
        out.append(EventInfo(ce_type, msg, producers.get(ce_type, ""),
                             [n for n in SERVICES if ce_type in consumers[n]]))
    return sorted(out, key=lambda e: (SERVICES.index(e.producer) if e.producer in SERVICES else 99, e.ce_type))


def header_rows() -> list[str]:
    """The record headers, in the order the outbox relay writes them (ot_runtime.cloudevents)."""
    from ot_runtime.cloudevents import CloudEvent
    meaning = {
        "ce_specversion": "`1.0`",
        "ce_id": "the event's id (a UUID): the consumers' inbox key, so a redelivery is processed once",
        "ce_type": "the event type below",
        "ce_source": "`/ot/<area>/<service>`, e.g. `/ot/pohjois-savo/intake`",
        "ce_subject": "the record key (below)",
        "ce_time": "when it happened, ISO 8601 with offset",
        "ce_tenant": "the wellbeing area, e.g. `pohjois-savo`; a consumer dead-letters another area's event",
        "ce_dataschema": "`proto:<payload message full name>`, e.g. `proto:ot.events.v1.RequestSubmitted`",
        "content-type": "`application/protobuf`: the record value is the payload message, serialized",
    }
    sample = CloudEvent(id="", type="", source="", subject="", tenant="", time=datetime.now(timezone.utc),
                        dataschema="", data=b"")
    rows = ["| header | value |", "|---|---|"]
    for key, _ in sample.headers():
        rows.append(f"| `{key}` | {meaning.get(key, '')} |")
    rows.append("| `traceparent` (and `tracestate` when set) | W3C trace context of the call that wrote the event: "
                "the consumer's span joins the same trace |")
    return rows


def event_problems(protos: Protos) -> list[str]:
    """Where the events' code and their reference disagree (empty when they agree): a ce_type the
    payload comments name but no service publishes (or two do, or not the service whose topic it
    names), one a service publishes or consumes that no payload names, a consumer that decodes it
    as another message, or one that handles it without reading the producer's topic."""
    problems = []
    by_type = event_messages(protos)
    producers: dict[str, list[str]] = {}
    for name in SERVICES:
        for ce_type in produced(name):
            producers.setdefault(ce_type, []).append(name)
    for ce_type, msg in by_type.items():
        owner = ce_type.split(".")[1]
        found = producers.get(ce_type, [])
        if found != [owner]:
            problems.append(f"{ce_type} ({msg.full_name}) is published by {found or 'no service'}, expected {owner}")
        if not msg.file.endswith(f"/{owner}_events.proto"):
            problems.append(f"{msg.full_name} is in {msg.file}, not in {owner}_events.proto")
    for ce_type, names in producers.items():
        if ce_type not in by_type:
            problems.append(f"{ce_type} is published by {names} but no payload's comment names it")
    for name in SERVICES:
        reads = topics_read(name)
        for ce_type, message in consumed(name).items():
            if ce_type not in by_type:
                problems.append(f"{name} consumes {ce_type}, which no payload's comment names")
                continue
            if message != by_type[ce_type].full_name:
                problems.append(f"{name} decodes {ce_type} as {message}, the reference says "
                                f"{by_type[ce_type].full_name}")
            if ce_type.split(".")[1] not in reads:
                problems.append(f"{name} handles {ce_type} but does not read the {ce_type.split('.')[1]} topic")
    return problems


def _key(e: EventInfo) -> str:
    found = RECORD_KEY.search(e.message.doc.text())
    if found is None:
        raise SystemExit(f"api_reference: {e.message.full_name} has no `record key: ...` in its comment")
    return found.group(1).strip()


def events_markdown(protos: Protos) -> str:
    problems = event_problems(protos)
    if problems:
        raise SystemExit("api_reference: the events' code and their comments disagree:\n- " + "\n- ".join(problems))
    infos = events(protos)
    reads = {name: topics_read(name) for name in SERVICES}
    out = [HEADER, "", "# Events reference", "",
           "What the services publish on Kafka, generated from the payloads' comments in "
           "`proto/ot/events/v1/` and from the services' code: who publishes each type (their outbox calls), who "
           "consumes it (their consumer tables) and the headers the outbox relay writes. The gRPC APIs are in "
           "[api.md](api.md).", "",
           "## Transport", "",
           "- **Topics**: one per publishing service and area, `<prefix>.<service>.v1`; the prefix is "
           "`OT_TOPIC_PREFIX`, by default `ot.<area>` (e.g. `ot.pohjois-savo.intake.v1`). Each consumer's "
           "dead letters go to `<prefix>.<consumer>.dlt.v1` (README, Operations).",
           "- **Records**: CloudEvents 1.0 in Kafka binary mode: the attributes are `ce_*` headers and the value "
           "is the protobuf payload. The record key keeps one case's events in order on one partition.",
           "- **Delivery**: at least once, through each service's outbox (written in the same transaction as the "
           "change) and each consumer's inbox (keyed by `ce_id`): process an event once however often it arrives.",
           "- **Content**: ids, kinds, times and the area; never contact data or free text. The one piece of case "
           "content, `RequestSubmitted.sealed_content`, is ciphertext under the request's data key.",
           "- **Compatibility**: payloads change only compatibly (`buf breaking`, [contracts.md](contracts.md)); "
           "a consumer skips fields and enum values it does not know.", "",
           "Headers of every record:", "", *header_rows(), "",
           "## Event types", "",
           "| ce_type | topic | record key | payload | producer | consumers |", "|---|---|---|---|---|---|"]
    for e in infos:
        out.append(f"| `{e.ce_type}` | `<prefix>.{e.producer}.v1` | {_key(e)} | "
                   f"[{e.message.full_name.rsplit('.', 1)[-1]}](#{anchor(e.message.full_name)}) | {e.producer} | "
                   f"{', '.join(e.consumers) or '— (none of the services)'} |")
    out += ["", "Topics each service reads (`wire(consumes=...)`): "
            + "; ".join(f"{n}: {', '.join(f'`<prefix>.{t}.v1`' for t in reads[n])}" for n in SERVICES) + ".", ""]
    for e in infos:
        msg = e.message
        out += [f'<a id="{anchor(msg.full_name)}"></a>', f"### {msg.full_name.rsplit('.', 1)[-1]}", "",
                f"- ce_type `{e.ce_type}`, topic `<prefix>.{e.producer}.v1`, `ce_dataschema` "
                f"`proto:{msg.full_name}`",
                f"- record key: {_key(e)}",
                f"- produced by **{e.producer}**; consumed by "
                + (", ".join(f"**{c}**" for c in e.consumers) or "none of the services (for other systems and "
                                                                    "operators)"), ""]
        # The comment without its first line (ce_type and record key, shown above).
        described = "\n".join(line for line in msg.doc.text().split("\n") if not CE_TYPE.match(line)).strip()
        if described:
            out += [described, ""]
        out += field_rows(protos, msg, None) + [""]
    enums_used = sorted({fd.type_name.lstrip(".") for e in infos for fd, _ in e.message.fields
                         if fd.type == fd.TYPE_ENUM})
    if enums_used:
        out += ["## Enums the payloads use", "",
                "Defined in `ot.common.v1` (see [api.md](api.md#ot-common-v1)):", ""]
        for name in enums_used:
            out.append(f"- [{name}](api.md#{anchor(name)})")
        out.append("")
    text = "\n".join(out).rstrip() + "\n"
    # Links to common enums point into api.md from here.
    return re.sub(r"\]\(#(ot-common-v1-[a-z]+)\)", r"](api.md#\1)", text)


# --- main -----------------------------------------------------------------------------------------
def outputs() -> dict[Path, str]:
    protos = read_protos()
    return {DOCS / "api.md": api_markdown(protos), DOCS / "events.md": events_markdown(protos)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that the files are up to date")
    args = parser.parse_args(argv)
    stale = []
    for path, text in outputs().items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != text:
            stale.append(str(path.relative_to(REPO)))
            if not args.check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
    if args.check and stale:
        print("api_reference: out of date (run `.venv/bin/python scripts/api_reference.py`): " + ", ".join(stale),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
