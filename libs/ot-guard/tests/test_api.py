from __future__ import annotations

import dataclasses

import pytest

from ot_guard import KINDS, Finding, Violation, check_fields, scan
from ot_guard.policy import REFUSED_KINDS_IN_CLIENT_TEXT, refused_kinds_for
from ot_guard.testing import load_corpus, sample


def test_kinds():
    assert KINDS == ("identity_code", "name", "phone", "email", "address", "birth_date", "diagnosis_code")
    assert REFUSED_KINDS_IN_CLIENT_TEXT == frozenset(KINDS)


def test_dataclasses_frozen():
    f = Finding("email", 1, 2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.start = 3  # type: ignore[misc]
    v = Violation("question", "email", 1, 2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        v.kind = "name"  # type: ignore[misc]


def test_empty_and_clean_text():
    assert scan("") == []
    assert scan("Lapsi on 12-vuotias.") == []


def test_check_fields_reports_field_and_offsets():
    text = sample("identity_code")
    [finding] = scan(text)
    violations = check_fields({"client.family_situation": text, "question": "Mitä teemme?"})
    assert violations == [Violation("client.family_situation", "identity_code", finding.start, finding.end)]


def test_check_fields_skips_professional_contact_fields():
    email_text = sample("email")
    assert check_fields({"professional.email": email_text, "professional.name": sample("name")}) == []
    assert [v.kind for v in check_fields({"question": email_text})] == ["email"]
    assert refused_kinds_for("unknown.field") == frozenset(KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_violation_message_never_contains_value(kind):
    for entry in load_corpus():
        for f in entry["findings"]:
            if f["kind"] != kind:
                continue
            value = entry["text"][f["start"]:f["end"]]
            msg = Violation("question", kind, f["start"], f["end"]).message()
            assert value not in msg
    msg = Violation("question", kind, 11, 22).message()
    fi, en = msg.split(" / ")
    assert fi.startswith("Kenttä sisältää") and "merkit 12–22" in fi and fi.endswith("poista se.")
    assert en.startswith("The field contains") and "characters 12–22" in en and en.endswith("remove it.")


def test_message_example_wording():
    assert Violation("q", "identity_code", 11, 23).message() == (
        "Kenttä sisältää henkilötunnuksen (merkit 12–23): poista se. / "
        "The field contains a personal identity code (characters 12–23): remove it."
    )
