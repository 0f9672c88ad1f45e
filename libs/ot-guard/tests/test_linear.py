"""The guard runs before anything else touches a request, so a text built to
stall it must not: scanning is linear in the length of the text.

Work is counted, not timed: the number of Python trace events (calls, lines,
returns) of one ``scan()``.  For a text eight times as long the count must grow
about eight times, not 64 (quadratic).  The old overlap check and name grouping
gave ratios of 30-53 on these shapes.  Work inside C code (regular expressions,
slicing) is not counted here; ``bench/guard_scan.py`` times scans from 1 kB to
1 MB, including the shapes that stall a regular expression."""
from __future__ import annotations

import sys

import pytest

from ot_guard import scan
from ot_guard.testing import load_corpus

CORPUS = load_corpus()
SIZE = 1_000  # characters; the long text is 8 * SIZE


def value(kind: str, accept=lambda v: True) -> str:
    for entry in CORPUS:
        for f in entry["findings"]:
            v = entry["text"][f["start"]:f["end"]]
            if f["kind"] == kind and accept(v):
                return v
    raise LookupError(kind)


def _shapes() -> dict[str, str]:
    first_name = value("name", str.isalpha)
    many = next(e["text"] for e in CORPUS if len(e["findings"]) >= 3)
    clean = next(e["text"] for e in CORPUS if not e["findings"] and len(e["text"].split()) > 6)
    disguised = [e["text"][f["start"]:f["end"]] for e in CORPUS
                 if e["note"].startswith("disguised") for f in e["findings"]]
    return {
        "first name and comma": first_name + ", ",
        "identity codes": value("identity_code") + " ",
        "e-mails": value("email") + " ",
        "first name and unknown surname": value("name", lambda v: v.endswith("Möttönen")) + " ",
        "capitalised words": " ".join(w.capitalize() for w in clean.split()) + " ",
        "one huge hyphenated token": first_name + "-",
        "one huge word": first_name + first_name.lower(),
        "no spaces": "".join(many.split()),
        "disguised identifiers": " ".join(disguised) + " ",
        # Names in capitals are looked for twice more (ot_guard._add_capitals); many separate
        # findings, each to be matched with its candidate.
        "names in capitals": value("name", lambda v: v.endswith("Möttönen")).upper() + ", ",
        "text in capitals": clean.upper() + " ",
    }


SHAPES = _shapes()


def _text(unit: str, size: int) -> str:
    return unit * max(1, size // len(unit))


def work(text: str) -> int:
    events = 0

    def tracer(frame, event, arg):
        nonlocal events
        events += 1
        return tracer

    sys.settrace(tracer)
    try:
        scan(text)
    finally:
        sys.settrace(None)
    return events


@pytest.mark.parametrize("shape", SHAPES)
def test_work_grows_linearly(shape):
    short, long = _text(SHAPES[shape], SIZE), _text(SHAPES[shape], 8 * SIZE)
    scan(short)  # warm the folding cache so both counts see the same state
    ratio = work(long) / work(short)
    assert ratio <= 10, f"{shape}: 8x the text took {ratio:.1f}x the work"


def test_findings_are_found_all_along_a_long_text():
    """Linear does not mean giving up part way: every repeated identifier is found."""
    unit = SHAPES["identity codes"]
    text = _text(unit, 8 * SIZE)
    assert len(scan(text)) == text.count(unit)
