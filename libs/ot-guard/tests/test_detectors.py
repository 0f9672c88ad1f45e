"""Focused unit tests for individual rules (the corpus holds the bulk)."""
from __future__ import annotations

import pytest

from ot_guard import scan
from ot_guard.names import inflections


def kinds(text):
    return [(f.kind, text[f.start:f.end]) for f in scan(text)]


def test_inflections_cover_gradation_and_nen():
    assert {"Matin", "Matille", "Mattia", "Mattiin"} <= inflections("Matti")
    assert {"Pekan", "Pekalle"} <= inflections("Pekka")
    assert {"Virtasen", "Virtaselle", "Virtasta", "Virtaseen"} <= inflections("Virtanen")
    assert {"Eliaksen", "Eliasta"} <= inflections("Elias")
    assert {"Oskarin", "Oskarille"} <= inflections("Oskar")


@pytest.mark.parametrize("text", [
    "040 123 4567", "040-1234567", "0401234567", "+358 40 123 4567", "+358401234567",
    "017 123 4567", "09 1234 5678", "(017) 123 456",
])
def test_phone_formats(text):
    assert kinds(f"puh. {text}.") == [("phone", text)]


@pytest.mark.parametrize("text", [
    "20.3.2023 klo 14.30", "20.3.–3.11.2023", "21 (+3) yhteydenottoa", "11 kertaa",
    "12-vuotias", "15 v", "3 kk", "2023", "0-5 v", "2019–2021",
])
def test_numbers_that_are_not_identifiers(text):
    assert scan(text) == []


def test_birth_date_needs_cue():
    assert kinds("kokous 20.3.2023") == []
    assert kinds("s. 12.3.2012") == [("birth_date", "12.3.2012")]
    assert kinds("vs. 12.3.2012") == []


def test_diagnosis_code_exclusions():
    assert kinds("huone B12") == []
    assert kinds("B12 vitamiini") == []
    assert kinds("A4-paperi") == []
    assert kinds("dg F84.0") == [("diagnosis_code", "F84.0")]


def test_common_word_names_rule():
    assert kinds("Usko omiin kykyihin on vahvistunut.") == []
    assert kinds("Isä kertoi, että Usko nukkuu huonosti.") == [("name", "Usko")]
    # same name used as a name elsewhere in the text -> also at sentence start
    assert kinds("Onni kertoi. Isän mukaan Onni pelkää.") == [("name", "Onni"), ("name", "Onni")]


def test_places_and_organisations():
    assert kinds("Elmeri-koulu, Elmeri school, Valteri, Kaarina ja Lahti.") == []
    assert kinds("Äiti Kaarina soitti.") == [("name", "Kaarina")]


def test_overlap_priority_email_over_name():
    assert kinds("Maija.Virtanen@example.fi") == [("email", "Maija.Virtanen@example.fi")]
