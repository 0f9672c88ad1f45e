"""Unicode tricks: a disguised identifier is found, at offsets in the caller's
text that cover all of it, and normalisation adds no false positive.

Every identifier here is a corpus value (plain lines only) disguised at test
time, so the tests check the guard, not the corpus's own disguised lines."""
from __future__ import annotations

import unicodedata

import pytest

from ot_guard import Finding, check_fields, scan
from ot_guard import normalise as normalise_module
from ot_guard.normalise import CONFUSABLES, MAX_MARKS, normalise
from ot_guard.testing import load_corpus

PLAIN = [e for e in load_corpus() if not e["note"].startswith("disguised")]
CLEAN_LINES = [e["text"] for e in PLAIN if not e["findings"]]

ZWSP, SOFT_HYPHEN, NBSP, NARROW_NBSP = "\u200b", "\u00ad", "\u00a0", "\u202f"
EN_DASH, NB_HYPHEN = "\u2013", "\u2011"
# Cyrillic and Greek look-alikes of Latin letters (escaped: they look the same).
CYRILLIC = str.maketrans(
    "ABCEHKMOPTXYaceopxy",
    "\u0410\u0412\u0421\u0415\u041d\u041a\u041c\u041e\u0420\u0422\u0425\u0423\u0430\u0441\u0435\u043e\u0440\u0445\u0443",
)
GREEK = str.maketrans(
    "ABEHIKMNOPTXYZo",
    "\u0391\u0392\u0395\u0397\u0399\u039a\u039c\u039d\u039f\u03a1\u03a4\u03a7\u03a5\u0396\u03bf",
)


def fullwidth(s: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in s)


def middle(s: str, ch: str) -> str:
    i = len(s) // 2
    return s[:i] + ch + s[i:]


def corpus_value(kind: str, accept=lambda value: True) -> tuple[str, int, int]:
    """(text, start, end) of the first plain corpus finding of ``kind`` whose
    value passes ``accept``."""
    for entry in PLAIN:
        for f in entry["findings"]:
            value = entry["text"][f["start"]:f["end"]]
            if f["kind"] == kind and accept(value):
                return entry["text"], f["start"], f["end"]
    raise LookupError(kind)


def with_sign(code: str, sign: str) -> str:
    return code[:6] + sign + code[7:]


# (kind, which corpus value, how it is disguised)
TRICKS = {
    "identity code, full-width": (
        "identity_code", lambda v: True, fullwidth),
    "identity code, zero-width space inside": (
        "identity_code", lambda v: True, lambda v: middle(v, ZWSP)),
    "identity code, soft hyphen inside": (
        "identity_code", lambda v: True, lambda v: middle(v, SOFT_HYPHEN)),
    "identity code, en dash as century sign": (
        "identity_code", lambda v: v[6] == "-", lambda v: with_sign(v, EN_DASH)),
    "identity code, non-breaking hyphen as century sign": (
        "identity_code", lambda v: v[6] == "-", lambda v: with_sign(v, NB_HYPHEN)),
    "identity code, Cyrillic letter as century sign": (
        "identity_code", lambda v: v[6] in "ABCEXY", lambda v: v.translate(CYRILLIC)),
    "identity code, combining mark on a digit": (
        "identity_code", lambda v: True, lambda v: v[:2] + "\u0301" + v[2:]),
    "identity code, 100 combining marks on a digit": (
        "identity_code", lambda v: True, lambda v: v[:3] + "\u0301\u0316" * 50 + v[3:]),
    "identity code, Arabic-Indic digits": (
        "identity_code", lambda v: True,
        lambda v: "".join(chr(0x0660 + int(c)) if c.isdigit() else c for c in v)),
    "phone, no-break spaces": (
        "phone", lambda v: v.count(" ") >= 2, lambda v: v.replace(" ", NBSP)),
    "phone, narrow no-break spaces": (
        "phone", lambda v: v.count(" ") >= 2, lambda v: v.replace(" ", NARROW_NBSP)),
    "phone, zero-width spaces for spaces": (
        "phone", lambda v: v.count(" ") >= 2, lambda v: v.replace(" ", ZWSP)),
    "phone, zero-width space inside a group": (
        "phone", lambda v: v.isdigit(), lambda v: middle(v, ZWSP)),
    "phone, full-width digits": (
        "phone", lambda v: True, fullwidth),
    "phone, private-use character inside": (
        "phone", lambda v: v.isdigit(), lambda v: middle(v, "\ue000")),
    "name, Cyrillic look-alike letters": (
        "name", lambda v: " " in v and v != v.translate(CYRILLIC), lambda v: v.translate(CYRILLIC)),
    "name, Greek look-alike letters": (
        "name", lambda v: " " in v and v != v.translate(GREEK), lambda v: v.translate(GREEK)),
    "name, soft hyphen inside": (
        "name", lambda v: " " in v, lambda v: middle(v, SOFT_HYPHEN)),
    "name, Hangul filler inside": (
        "name", lambda v: " " in v, lambda v: middle(v, "\u3164")),
    "name, ä written as a + combining diaeresis": (
        "name", lambda v: "ä" in v, lambda v: unicodedata.normalize("NFD", v)),
    "e-mail, full-width at sign": (
        "email", lambda v: True, lambda v: v.replace("@", "\uff20")),
    "e-mail, small commercial at": (
        "email", lambda v: True, lambda v: v.replace("@", "\ufe6b")),
    "ICD-10 code, full-width": (
        "diagnosis_code", lambda v: True, fullwidth),
}


@pytest.mark.parametrize("trick", TRICKS)
def test_disguised_identifier_is_found_at_original_offsets(trick):
    kind, accept, disguise = TRICKS[trick]
    text, start, end = corpus_value(kind, accept)
    disguised = disguise(text[start:end])
    assert disguised != text[start:end]
    new = text[:start] + disguised + text[end:]
    expected = Finding(kind, start, start + len(disguised))
    found = scan(new)
    # Offsets only in the message: the values stay out of CI logs.
    assert expected in found, [(f.kind, f.start, f.end) for f in found]
    assert new[expected.start:expected.end] == disguised
    # and the field-level check refuses it at the same characters
    assert [(v.kind, v.start, v.end) for v in check_fields({"question": new})
            if v.kind == kind] == [(kind, expected.start, expected.end)]


@pytest.mark.parametrize("prefix", [
    "ﬁ ½ … ",                       # NFKC makes these longer (fi, 1/2, ...)
    "Äiti\u0308 e\u0301 ",             # combining marks: shorter after NFC
    "\u200b\u00ad\u2060\ufeff ",     # dropped characters before the identifier
    "\U0001d7ce\U0001d7cf ",         # mathematical digits (two UTF-16 units, one character)
])
@pytest.mark.parametrize("kind", ["identity_code", "phone", "email"])
def test_offsets_stay_in_the_original_text(prefix, kind):
    text, start, end = corpus_value(kind)
    new = prefix + text
    f = next(f for f in scan(new) if f.kind == kind)
    assert (f.start, f.end) == (start + len(prefix), end + len(prefix))


def test_finnish_and_swedish_letters_survive():
    letters = "åäöÅÄÖéüÉÜ"
    assert normalise(letters).text == letters
    assert normalise(unicodedata.normalize("NFD", letters)).text == letters
    assert not set(letters) & (set(CONFUSABLES) | set(CONFUSABLES.values()))
    for line in CLEAN_LINES + [e["text"] for e in PLAIN if e["findings"]]:
        if all(c.isascii() or c in letters for c in line):
            assert normalise(line).text == line


def test_confusables_come_from_the_package_table():
    assert len(CONFUSABLES) > 1000
    assert CONFUSABLES["\u0410"] == "A" and CONFUSABLES["\u03bf"] == "o"
    assert CONFUSABLES["\u0406"] == "I"  # capital look-alike of I stays a capital
    assert all(len(v) == 1 and v.isascii() for v in CONFUSABLES.values())


CLEAN_TRICKS = {
    "full-width": fullwidth,
    "no-break spaces": lambda s: s.replace(" ", NBSP),
    "zero-width space after every word": lambda s: s.replace(" ", ZWSP + " "),
    "soft hyphens in long words": lambda s: " ".join(
        middle(w, SOFT_HYPHEN) if len(w) > 8 else w for w in s.split(" ")),
    "en dash for hyphen": lambda s: s.replace("-", EN_DASH),
}


@pytest.mark.parametrize("trick", CLEAN_TRICKS)
def test_normalisation_adds_no_false_positive_on_clean_lines(trick):
    dirty = [i for i, line in enumerate(CLEAN_LINES) if scan(CLEAN_TRICKS[trick](line))]
    assert dirty == []


def test_clean_lines_with_unicode_stay_clean():
    unicode_lines = [line for line in CLEAN_LINES if not line.isascii()
                     and normalise(line).text != line]
    assert len(unicode_lines) >= 8  # the corpus has clean lines that normalisation changes
    assert [i for i, line in enumerate(unicode_lines) if scan(line)] == []


def test_empty_and_invisible_only_text():
    assert scan("") == []
    assert scan("\u200b\u00ad\ufeff") == []
    assert normalise("\u200b\u00ad").text == ""


def test_long_runs_of_marks_are_folded_in_bounded_pieces(monkeypatch):
    """CPython's canonical reordering is quadratic in a run of combining marks,
    so no piece handed to it may grow with the text."""
    seen = []
    real_fold = normalise_module.fold

    def spy(chunk):
        seen.append(len(chunk))
        return real_fold(chunk)

    monkeypatch.setattr(normalise_module, "fold", spy)
    text, start, end = corpus_value("identity_code")
    zalgo = "x" + "\u0301\u0316" * 5_000 + " "
    result = normalise(zalgo + text)
    assert max(seen) == 1 + MAX_MARKS
    assert result.text == "x " + text  # the marks are gone, the text after them intact
    assert [(f.kind, f.start, f.end) for f in scan(zalgo + text) if f.kind == "identity_code"] == [
        ("identity_code", start + len(zalgo), end + len(zalgo))]
