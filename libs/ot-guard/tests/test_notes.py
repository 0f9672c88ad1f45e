"""Quality gates on realistic case notes (tests/corpus/generate_notes.py): recall
per kind and the false-positive rate on clean case text meet the targets of the
project's issue 10 on every part: the newest held-out part ("heldout3", heldout2's
templates with a new seed, generated after the third round of rules and measured
once), the held-out part of the second round ("heldout2"), the first held-out part
and the development part.
Figures of fixed files, not timings: speed, start-up and memory are measured by
bench/guard_recall.py."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from ot_guard import KINDS, Finding, lexicon
from ot_guard.testing import NOTES_PARTS, evaluate, load_notes

# Issue 10: identity codes 1.00, names >= 0.90, every other kind >= 0.95; at most 2 %
# of clean case texts flagged.  Every part is gated at these targets.  Names on the
# newest held-out part measured 0.927 (519 of 560) the one time it was measured, with
# the rules of the third round (see the guard's README): its gate holds that figure so
# that it cannot fall.  (heldout2's names were 0.889 before that round, 0.916 after.)
TARGETS = {kind: 0.95 for kind in KINDS} | {"identity_code": 1.0, "name": 0.90}
GATES = {part: dict(TARGETS) for part in NOTES_PARTS}
GATES["heldout3"]["name"] = 0.92
FP_TARGET = 0.02
RESULTS = {part: evaluate(load_notes(part)) for part in NOTES_PARTS}

# Every category the issue names, for the positives and for the traps.
CATEGORIES = {
    "name": {"fi_full", "fi_rare_first", "foreign", "sv_fi", "lowercase", "commonword_alone",
             "commonword_start", "commonword_mid", "initials", "plural_family", "inflected"},
    "address": {"street", "street_inflected", "street_no_number", "postal", "sv_street"},
    "birth_date": {"cue", "name_paren", "sv_fodd", "month_word"},
    "phone": {"fi", "slash", "nnbsp", "foreign"},
    "email": {"plain", "at_written"},
    "diagnosis_code": {"dotted", "no_dot", "spaced", "hyphen_suffix"},
    "identity_code": {"plain", "spaced_sign"},
}
TRAPS = {"name_word_use", "place_surname", "org_person_name", "meeting_datetime", "year", "age",
         "diary_court_number", "business_id", "dose", "grade", "law_section", "icd_like"}
# Trap kinds added with the work on false positives (the known sources: authorities, apps
# and services, typos and shorthand, Swedish and English lines); the first held-out part
# predates them.
NEW_TRAPS = {"authority_service", "typo_abbrev", "swedish", "english"}
ORIGINS = {"fi", "fi_rare", "sv", "so", "ar", "ku", "fa", "ru", "uk", "et", "vi", "th"}
MIN_CLEAN = {"dev": 300, "heldout": 140, "heldout2": 300, "heldout3": 300}


@pytest.mark.parametrize("part", NOTES_PARTS)
@pytest.mark.parametrize("kind", KINDS)
def test_recall_meets_the_gate(part, kind):
    r = RESULTS[part]["recall"][kind]
    assert r["recall"] >= GATES[part][kind], f"{part} {kind}: {r['found']}/{r['total']} found"


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "name"])
def test_the_newest_heldout_part_finds_every_kind_but_names_in_full(kind):
    # What the READMEs say of it (the gates above ask 0.95 of most kinds; it measured 1.00).
    r = RESULTS["heldout3"]["recall"][kind]
    assert r["recall"] == 1.0, f"heldout3 {kind}: {r['found']}/{r['total']} found"


@pytest.mark.parametrize("part", NOTES_PARTS)
def test_false_positive_rate_on_clean_text_meets_the_target(part):
    clean = RESULTS[part]["clean"]
    assert clean["fp_rate"] <= FP_TARGET, clean["by_trap"]


@pytest.mark.parametrize("part", NOTES_PARTS)
def test_every_category_trap_and_origin_is_covered(part):
    recall = RESULTS[part]["recall"]
    for kind, categories in CATEGORIES.items():
        for category in categories:
            assert recall.get(f"{kind}/{category}", {}).get("total", 0) >= 14, (kind, category)
    for origin in ORIGINS:
        assert recall.get(f"name/origin/{origin}", {}).get("total", 0) >= 10, origin
    traps = RESULTS[part]["clean"]["by_trap"]
    expected = TRAPS | (NEW_TRAPS if part != "heldout" else set())
    assert expected <= set(traps), expected - set(traps)
    assert RESULTS[part]["clean"]["texts"] >= MIN_CLEAN[part]


@pytest.mark.parametrize("part", ["heldout", "heldout2", "heldout3"])
def test_heldout_names_are_names_the_lexicon_does_not_hold(part):
    """The held-out figure is honest: its surnames come from the slice of Faker's
    lists that the guard leaves out, and its "less common" first names from a
    dictionary the guard does not use, none of them in the lexicon."""
    known = lexicon.lexicon()[0] | lexicon.lexicon()[1]
    held_out_surnames, rare_first = set(), set()
    for entry in load_notes(part):
        for f in entry["findings"]:
            value = entry["text"][f["start"]:f["end"]]
            if f["kind"] == "name" and f["category"] == "fi_rare_first":
                rare_first.add(value)
            elif (f["kind"] == "name" and f["category"] in ("fi_full", "sv_fi")
                  and value.count(" ") == 1):
                held_out_surnames.add(value.split()[1])
    assert len(held_out_surnames) >= 30 and len(rare_first) >= 20
    assert not held_out_surnames & known
    assert not rare_first & known


def test_a_miss_is_counted_as_a_miss():
    """The evaluation itself: a guard that finds nothing has recall 0 and no
    false positives, one that flags everything has a false-positive rate of 1."""
    entries = load_notes("heldout3")
    nothing = evaluate(entries, scan=lambda text: [])
    assert all(r["recall"] == 0 for r in nothing["recall"].values())
    assert nothing["clean"]["fp_rate"] == 0
    flagged = evaluate(entries, scan=lambda text: [Finding("name", 0, len(text))])
    assert flagged["clean"]["fp_rate"] == 1
    assert flagged["recall"]["name"]["recall"] == 1 and flagged["recall"]["phone"]["recall"] == 0


def test_partial_hit_is_not_a_hit():
    """A finding must cover the whole identifier: "Maija" of "Maija Virtanen"
    would leave the surname in the text."""
    entry = next(e for e in load_notes("dev") if any(
        f["kind"] == "name" and " " in e["text"][f["start"]:f["end"]] for f in e["findings"]))
    target = next(f for f in entry["findings"]
                  if f["kind"] == "name" and " " in entry["text"][f["start"]:f["end"]])
    half = evaluate([entry], scan=lambda text: [Finding("name", target["start"], target["start"] + 2)])
    assert half["recall"]["name"]["found"] == 0


def test_notes_are_reproducible(tmp_path, monkeypatch):
    """generate_notes.py is deterministic: re-running it gives the committed files."""
    gen_path = Path(__file__).parent / "corpus" / "generate_notes.py"
    spec = importlib.util.spec_from_file_location("ot_guard_notes_generate", gen_path)
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    out = {part: tmp_path / path.name for part, path in gen.OUT.items()}
    monkeypatch.setattr(gen, "OUT", out)
    gen.main()
    for part, path in out.items():
        assert path.read_text(encoding="utf-8") == gen_path.with_name(path.name).read_text(
            encoding="utf-8"), part
