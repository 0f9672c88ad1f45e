"""The form of every field a caller can set, checked at the edge before anything else reads it.

Every string (and bytes) field of every request message has a rule in its service's table:
either a closed form (an id, a token, a choice, the professional's own e-mail or phone) or
free text that the client-identifier guard scans. The check runs in two steps so that hostile
input is cheap to refuse:

1. form: length (in characters, and items of a repeated field), control characters, the closed
   form's pattern, enum values the API knows, timestamps in a sane range. Any problem here
   refuses the call at once: the guard never sees an over-long or malformed value.
2. the guard (ot_guard) over the fields whose rule says `guarded`.

Violations name the field path ("client.earlier_services[2]"), the kind of problem and, for the
guard, where in the field it is; never the value. A string field with no rule is treated as
guarded one-line text of at most 200 characters (fail closed), and a test per service lists
every request field without a rule, so a new proto field cannot be forgotten. The table of all
rules is written into libs/ot-guard/README.md by scripts/policy_tables.py.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Iterator, Mapping

from google.protobuf.descriptor import Descriptor, FieldDescriptor, ServiceDescriptor
from google.protobuf.message import Message

from .errors import FieldViolation
from .privacy import guard
from .tenants import TENANTS


@dataclass(frozen=True)
class Rule:
    kind: str                      # text, line, contact, email, phone, uuid, slug, subject, token, choice, bytes
    max_chars: int                 # characters (bytes for a bytes field)
    guarded: bool = False          # scanned by the client-identifier guard
    multiline: bool = False        # line breaks and tabs allowed
    pattern: re.Pattern | None = None
    choices: frozenset[str] = frozenset()
    max_items: int = 20            # for a repeated field
    form_fi: str = ""              # what the closed form is, for the error message
    form_en: str = ""

    def describe(self) -> str:
        """One line for the README's table."""
        parts = [self.kind, f"≤ {self.max_chars} {'bytes' if self.kind == 'bytes' else 'chars'}"]
        if self.choices:
            parts.append("one of " + ", ".join(sorted(self.choices)))
        parts.append("guarded" if self.guarded else "not guarded (closed form)" if self.pattern or self.choices
                     else "not guarded")
        return "; ".join(parts)


# --- the kinds of field -------------------------------------------------------------------------
def text(max_chars: int, *, max_items: int = 20) -> Rule:
    """Free text about the case (a question, a note): may span lines; the guard scans it."""
    return Rule("text", max_chars, guarded=True, multiline=True, max_items=max_items)


def line(max_chars: int = 200, *, max_items: int = 20) -> Rule:
    """A short free-text value on one line (a profession, an organisation, a purpose): guarded."""
    return Rule("line", max_chars, guarded=True, max_items=max_items)


def contact_name(max_chars: int = 200) -> Rule:
    """The professional's own name: a person's name is expected here, so it is not guarded."""
    return Rule("contact", max_chars)


_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_PHONE = re.compile(r"\+?[0-9 ()-]{5,40}")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_SLUG = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*")
_SUBJECT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@-]*")
_TOKEN = re.compile(r"[A-Za-z0-9._~+/=-]+")


def email(max_chars: int = 254) -> Rule:
    """The professional's own work e-mail."""
    return Rule("email", max_chars, pattern=_EMAIL, form_fi="sähköpostiosoite, esim. nimi@organisaatio.fi",
                form_en="an e-mail address, e.g. name@organisation.fi")


def phone(max_chars: int = 40) -> Rule:
    """The professional's own work phone."""
    return Rule("phone", max_chars, pattern=_PHONE, form_fi="puhelinnumero: numeroita, välilyöntejä, +, - tai sulkeita",
                form_en="a phone number: digits, spaces, +, - or brackets")


def uuid(*, max_items: int = 20) -> Rule:
    """An id the platform made (a request, a meeting): a lower-case UUID."""
    return Rule("uuid", 36, pattern=_UUID, max_items=max_items, form_fi="tunnus (UUID)", form_en="an id (UUID)")


def slug(max_chars: int = 64, *, max_items: int = 20) -> Rule:
    """A catalogue id (an expert, a group): lower-case letters, digits and dashes. Also guarded,
    because such an id is kept and shown (a dash-separated identity code has the same shape)."""
    return Rule("slug", max_chars, guarded=True, pattern=_SLUG, max_items=max_items,
                form_fi="tunnus: pieniä kirjaimia, numeroita ja viivoja", form_en="an id: lower-case letters, "
                "digits and dashes")


def subject(max_chars: int = 128) -> Rule:
    """A user id as the identity provider gives it (sub). Guarded: it is written to the audit trail."""
    return Rule("subject", max_chars, guarded=True, pattern=_SUBJECT, form_fi="käyttäjätunnus",
                form_en="a user id")


def token(max_chars: int = 200, *, guarded: bool = False) -> Rule:
    """An opaque value: a page token (made by the server, never stored), or a client's
    idempotency key (stored, so guarded)."""
    return Rule("token", max_chars, guarded=guarded, pattern=_TOKEN,
                form_fi="merkkijono ilman välilyöntejä (A–Z, a–z, 0–9, . _ ~ + / = -)",
                form_en="a string without spaces (A–Z, a–z, 0–9, . _ ~ + / = -)")


def choice(values, *, max_items: int = 20) -> Rule:
    values = frozenset(values)
    return Rule("choice", max(len(v) for v in values), choices=values, max_items=max_items,
                form_fi="yksi arvoista " + ", ".join(sorted(values)), form_en="one of " + ", ".join(sorted(values)))


def area() -> Rule:
    """A wellbeing area's id."""
    return choice(TENANTS)


def data(max_bytes: int) -> Rule:
    return Rule("bytes", max_bytes)


# Fail closed: a field nobody gave a rule is short guarded text.
UNLISTED = line(200)

# "<message full name>.<field name>" -> Rule, e.g. "ot.intake.v1.Professional.email"
FieldRules = Mapping[str, Rule]


def field_rules(table: Mapping[type[Message], Mapping[str, Rule]]) -> dict[str, Rule]:
    """Build a service's table from {MessageClass: {"field": rule}}; refuses a field that does
    not exist or is not a string/bytes field, so the table cannot drift silently from the proto."""
    out: dict[str, Rule] = {}
    for message, rules in table.items():
        fields = message.DESCRIPTOR.fields_by_name
        for name, rule in rules.items():
            fd = fields.get(name)
            if fd is None:
                raise ValueError(f"{message.DESCRIPTOR.full_name} has no field {name!r}")
            if fd.type not in (FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_BYTES):
                raise ValueError(f"{fd.full_name} is not a string or bytes field")
            out[fd.full_name] = rule
    return out


# --- checking -----------------------------------------------------------------------------------
_TIMESTAMP = "google.protobuf.Timestamp"
_MIN_SECONDS, _MAX_SECONDS = 0, 7258118400  # 1970-01-01 .. 2200-01-01: any real date of this domain
_ALLOWED_CONTROLS = {"\n", "\r", "\t"}


def _has_bad_control(value: str, multiline: bool) -> bool:
    for ch in value:
        if ch in _ALLOWED_CONTROLS and multiline:
            continue
        if unicodedata.category(ch) == "Cc":  # NUL, other C0 and C1 controls; PostgreSQL refuses NUL
            return True
    return False


def _form_problem(path: str, value: str, rule: Rule) -> FieldViolation | None:
    if len(value) > rule.max_chars:
        return FieldViolation(path, f"Liian pitkä: enintään {rule.max_chars} merkkiä, nyt {len(value)}. / "
                                    f"Too long: at most {rule.max_chars} characters, {len(value)} given.", "too_long")
    if _has_bad_control(value, rule.multiline):
        return FieldViolation(path, "Kentässä on ohjausmerkkejä (esim. NUL)" + ("" if rule.multiline else
                              " tai rivinvaihto") + "; poista ne. / The field contains control characters (e.g. NUL)"
                              + ("" if rule.multiline else " or a line break") + "; remove them.",
                              "control_character")
    if rule.choices and value not in rule.choices:
        return FieldViolation(path, f"Odotettiin {rule.form_fi}. / Expected {rule.form_en}.", "not_allowed_value")
    if rule.pattern is not None and not rule.pattern.fullmatch(value):
        return FieldViolation(path, f"Muoto ei kelpaa: odotettiin {rule.form_fi}. / Not in the expected form: "
                                    f"{rule.form_en}.", "bad_form")
    return None


def _walk(message: Message, prefix: str, rules: FieldRules, problems: list, guarded: dict) -> None:
    for fd, value in message.ListFields():
        path = f"{prefix}{fd.name}"
        repeated = fd.is_repeated
        items = list(value) if repeated else [value]
        if fd.type == FieldDescriptor.TYPE_MESSAGE:
            if fd.message_type.GetOptions().map_entry:
                items = [value.GetEntryClass()(key=k, value=value[k]) for k in value] if repeated else items
            if repeated and len(items) > 100:
                problems.append(FieldViolation(path, "Liian monta: enintään 100. / Too many: at most 100.",
                                               "too_many"))
                continue
            for i, item in enumerate(items):
                item_path = f"{path}[{i}]" if repeated else path
                if fd.message_type.full_name == _TIMESTAMP:
                    if not (_MIN_SECONDS <= item.seconds < _MAX_SECONDS and 0 <= item.nanos < 1_000_000_000):
                        problems.append(FieldViolation(item_path, "Aika ei ole vuosien 1970–2199 väliltä. / The time "
                                                                  "is not between the years 1970 and 2199.",
                                                       "out_of_range"))
                else:
                    _walk(item, item_path + ".", rules, problems, guarded)
        elif fd.type == FieldDescriptor.TYPE_ENUM:
            for i, number in enumerate(items):
                if fd.enum_type.values_by_number.get(number) is None:
                    problems.append(FieldViolation(f"{path}[{i}]" if repeated else path,
                                                   f"Tuntematon arvo {number}. / Unknown value {number}.",
                                                   "unknown_value"))
        elif fd.type in (FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_BYTES):
            rule = rules.get(fd.full_name, UNLISTED)
            if repeated and len(items) > rule.max_items:
                problems.append(FieldViolation(path, f"Liian monta: enintään {rule.max_items}. / Too many: at most "
                                                     f"{rule.max_items}.", "too_many"))
                continue
            for i, item in enumerate(items):
                item_path = f"{path}[{i}]" if repeated else path
                if fd.type == FieldDescriptor.TYPE_BYTES:
                    if len(item) > rule.max_chars:
                        problems.append(FieldViolation(item_path, f"Liian suuri: enintään {rule.max_chars} tavua. / "
                                                                  f"Too large: at most {rule.max_chars} bytes.",
                                                       "too_long"))
                    continue
                problem = _form_problem(item_path, item, rule)
                if problem:
                    problems.append(problem)
                elif rule.guarded:
                    guarded[item_path] = item


def check(message: Message, rules: FieldRules) -> list[FieldViolation]:
    """Every problem with `message`'s fields: form first; the guard only when the form is right."""
    problems: list[FieldViolation] = []
    guarded: dict[str, str] = {}
    _walk(message, "", rules, problems, guarded)
    if problems:
        return problems
    return guard(guarded)


def check_form(values: Mapping[str, str], rules: Mapping[str, Rule]) -> list[FieldViolation]:
    """The same two steps for a plain form (an HTTP page's fields): `rules` names every field the
    form accepts; a field without a rule is refused."""
    problems: list[FieldViolation] = []
    guarded: dict[str, str] = {}
    for name, value in values.items():
        rule = rules.get(name)
        if rule is None:
            problems.append(FieldViolation(name, "Tuntematon kenttä. / Unknown field.", "unknown_field"))
            continue
        problem = _form_problem(name, value, rule)
        if problem:
            problems.append(problem)
        elif rule.guarded and value:
            guarded[name] = value
    if problems:
        return problems
    return guard(guarded)


# --- completeness (for tests and the README table) ----------------------------------------------
def request_fields(service: ServiceDescriptor) -> Iterator[FieldDescriptor]:
    """Every string and bytes field a caller can set in any request of `service`, once each."""
    seen: set[str] = set()

    def visit(message: Descriptor) -> Iterator[FieldDescriptor]:
        if message.full_name in seen or message.full_name.startswith("google.protobuf."):
            return
        seen.add(message.full_name)
        for fd in message.fields:
            if fd.type in (FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_BYTES):
                yield fd
            elif fd.type == FieldDescriptor.TYPE_MESSAGE:
                yield from visit(fd.message_type)

    for method in service.methods:
        yield from visit(method.input_type)


def unruled_fields(service: ServiceDescriptor, rules: FieldRules) -> list[str]:
    """Request fields of `service` without a rule (each would fall back to UNLISTED)."""
    return [fd.full_name for fd in request_fields(service) if fd.full_name not in rules]
