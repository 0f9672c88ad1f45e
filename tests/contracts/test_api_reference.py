"""docs/api.md and docs/events.md are generated from the protos and the services' own code, are
current, and the hand-kept parts cannot drift: every refusal reason and field violation in the
handlers is in scripts/api_errors.py (and nothing there is made up), every event type in the
reference is the one its producer publishes and its consumers decode, every field a caller sets
says what it is."""
from __future__ import annotations

import ast
import importlib.util
import re
import sys
from pathlib import Path

import pytest

from contracts_testkit import REPO

SCRIPTS = REPO / "scripts"
sys.path.insert(0, str(SCRIPTS))
spec = importlib.util.spec_from_file_location("api_reference", SCRIPTS / "api_reference.py")
api_reference = importlib.util.module_from_spec(spec)
sys.modules["api_reference"] = api_reference  # dataclasses look their module up while it loads
spec.loader.exec_module(api_reference)
api_errors = api_reference.api_errors

SERVICES = api_reference.SERVICES
PROTOS = api_reference.read_protos()
# Where the runtime refuses for every service (the common errors of docs/api.md).
RUNTIME_REASONS = {"ROLE_NOT_ALLOWED", "RPC_NOT_OPEN"}
UPPER = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*")


def test_the_references_are_generated_from_the_current_protos_and_code():
    assert api_reference.main(["--check"]) == 0, "run: .venv/bin/python scripts/api_reference.py"


def test_the_check_notices_a_reference_that_was_edited_by_hand(tmp_path, monkeypatch):
    stale = tmp_path / "api.md"
    stale.write_text("edited by hand\n", encoding="utf-8")
    monkeypatch.setattr(api_reference, "outputs", lambda: {stale: "generated\n"})
    monkeypatch.setattr(api_reference, "REPO", tmp_path)
    assert api_reference.main(["--check"]) == 1
    assert stale.read_text(encoding="utf-8") == "edited by hand\n"


# --- the refusals catalogue against the handlers' code -----------------------------------------
def _modules(name: str) -> list[Path]:
    return sorted((REPO / "services" / name / "src" / f"ot_{name}").glob("*.py"))


def _upper_constants(paths) -> set[str]:
    """Upper-case string constants that are not settings' names (OT_*, ...): the reasons and types."""
    found = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and UPPER.fullmatch(node.value) \
                    and len(node.value) > 3 and not node.value.startswith(("OT_", "OTEL_", "AUTH_", "KAFKA_")):
                found.add(node.value)
    return found


def _error_modules(name: str) -> list[Path]:
    """The modules where a service makes its errors (not bootstrap, settings, web pages, migrations)."""
    return [p for p in _modules(name) if p.stem in ("handlers", "policy", "domain", "sharing", "grpc_api")]


def _field_literal(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):  # f"scope[{i}].kind" -> "scope[i].kind"
        return "".join(v.value if isinstance(v, ast.Constant) else ast.unparse(v.value) for v in node.values)
    return None


def _violation_fields(paths) -> set[str]:
    """The field paths named literally in FieldViolation(...) and the handlers' bad(...) helpers."""
    found = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("FieldViolation", "bad") and node.args:
                value = _field_literal(node.args[0])
                if value is not None:
                    found.add(value)
    return found


def _strings(paths) -> set[str]:
    found = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            value = _field_literal(node) if isinstance(node, (ast.Constant, ast.JoinedStr)) else None
            if value is not None:
                found.add(value)
    return found


def _catalogue_reasons(name: str) -> set[str]:
    return {r.reason for refusals in api_errors.BY_SERVICE[name].values() for r in refusals
            if r.reason and r.code != "INVALID_ARGUMENT"}


@pytest.mark.parametrize("name", SERVICES)
def test_the_catalogue_names_exactly_the_rpcs_of_the_service(name):
    edge = api_reference.edges()[name]
    assert sorted(api_errors.BY_SERVICE[name]) == sorted(m.name for m in edge.SERVICE.methods)


@pytest.mark.parametrize("name", SERVICES)
def test_every_reason_in_the_handlers_is_in_the_reference_and_none_is_made_up(name):
    in_code = _upper_constants(_error_modules(name))
    documented = _catalogue_reasons(name)
    extra = set(api_errors.NOT_RPC_REASONS) | RUNTIME_REASONS
    if name == "consent":
        extra |= set(api_errors.SHARING_CODES)
    assert in_code - documented - extra == set(), "add these to scripts/api_errors.py (or NOT_RPC_REASONS)"
    assert documented - in_code == set(), "scripts/api_errors.py names reasons the handlers never give"


def test_the_runtime_reasons_of_every_rpc_are_the_runtimes():
    runtime = REPO / "libs" / "ot-runtime" / "src" / "ot_runtime"
    assert RUNTIME_REASONS <= _upper_constants([runtime / "interceptors.py"])


@pytest.mark.parametrize("name", SERVICES)
def test_every_field_violation_of_the_handlers_is_in_the_reference_and_none_is_made_up(name):
    in_code = _violation_fields(_modules(name))
    documented = {r.field for refusals in api_errors.BY_SERVICE[name].values() for r in refusals
                  if r.code == "INVALID_ARGUMENT"}
    assert in_code - documented - api_errors.NOT_RPC_FIELDS.get(f"ot_{name}", set()) == set()
    # Some are named in a table the helper loops over, so any string of the code counts here.
    assert documented - _strings(_modules(name)) == set(), "scripts/api_errors.py names fields no handler refuses"


def test_the_reason_check_sees_a_new_reason(tmp_path):
    handler = tmp_path / "handlers.py"
    handler.write_text('raise FailedPrecondition("...", "MEETING_CANCELLED", "meetings/1")\n', encoding="utf-8")
    assert "MEETING_CANCELLED" in _upper_constants([handler]) - _catalogue_reasons("intake")
    handler.write_text('v.append(FieldViolation(f"items[{i}].note", "...", "required"))\n', encoding="utf-8")
    assert _violation_fields([handler]) == {"items[i].note"}


# --- comments ----------------------------------------------------------------------------------
def _undocumented(full_names, what) -> list[str]:
    return [f"{what} {n}" for n in full_names]


def test_every_service_rpc_message_and_enum_says_what_it_is():
    missing = [f"service {s.full_name}" for s in PROTOS.services.values() if not s.doc.text()]
    missing += [f"rpc {s.full_name}/{m.name}" for s in PROTOS.services.values() for m in s.methods
                if not m.doc.text()]
    missing += [f"message {n}" for n, m in PROTOS.messages.items() if not m.doc.text()]
    missing += [f"enum {n}" for n, e in PROTOS.enums.items() if not e.doc.text()]
    assert missing == []


def test_every_field_a_caller_sets_and_every_event_field_says_what_it_is():
    messages = {n for s in PROTOS.services.values() for n in api_reference.request_messages(PROTOS, s)}
    messages |= {n for n in PROTOS.messages if n.startswith("ot.events.")}
    missing = [f"{n}.{fd.name}" for n in sorted(messages) for fd, doc in PROTOS.messages[n].fields if not doc.text()]
    assert missing == []


# --- events: the reference against the producers' and consumers' code ---------------------------
def test_the_event_types_match_their_producers_and_consumers():
    assert api_reference.event_problems(PROTOS) == []


def test_every_payload_names_its_type_and_its_record_key():
    for msg in PROTOS.messages.values():
        if msg.full_name.startswith("ot.events."):
            assert api_reference.CE_TYPE.search(msg.doc.text()), msg.full_name
            assert api_reference.RECORD_KEY.search(msg.doc.text()), msg.full_name


def test_a_renamed_event_type_in_the_producer_fails_the_check(monkeypatch):
    real = api_reference.produced

    def renamed(name):
        out = real(name)
        if name == "intake":
            out["ot.intake.request.created.v1"] = out.pop("ot.intake.request.submitted.v1")
        return out
    monkeypatch.setattr(api_reference, "produced", renamed)
    problems = api_reference.event_problems(PROTOS)
    assert "ot.intake.request.submitted.v1 (ot.events.v1.RequestSubmitted) is published by no service, " \
           "expected intake" in problems
    assert "ot.intake.request.created.v1 is published by ['intake'] but no payload's comment names it" in problems


def test_a_consumer_that_decodes_another_message_fails_the_check(monkeypatch):
    real = api_reference.consumed

    def swapped(name):
        out = real(name)
        if name == "feedback":
            out["ot.consent.key.shredded.v1"] = "ot.events.v1.ConsentWithdrawn"
        return out
    monkeypatch.setattr(api_reference, "consumed", swapped)
    assert "feedback decodes ot.consent.key.shredded.v1 as ot.events.v1.ConsentWithdrawn, the reference says " \
           "ot.events.v1.DataKeyShredded" in api_reference.event_problems(PROTOS)


def test_the_producers_code_is_read_not_assumed():
    """The producers' ce_type constants resolve to the strings the reference lists (intake's module
    constants through `events.X`, consent's through names in handlers.py)."""
    assert set(api_reference.produced("intake")) == {
        "ot.intake.request.submitted.v1", "ot.intake.request.status_changed.v1",
        "ot.intake.meeting.published.v1", "ot.intake.conversation.entry_added.v1"}
    assert set(api_reference.produced("consent")) == {
        "ot.consent.consent.recorded.v1", "ot.consent.consent.withdrawn.v1", "ot.consent.key.shredded.v1",
        "ot.consent.audit.anchored.v1"}
    assert api_reference.produced("feedback") == {}
