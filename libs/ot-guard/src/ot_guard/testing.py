"""Helpers for other test suites: the labelled corpus is the only place in the
repository that holds (synthetic) client identifiers, so tests elsewhere take
their samples from here instead of writing identifiers of their own."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

# src/ot_guard/testing.py -> libs/ot-guard/tests/corpus/labelled.jsonl
CORPUS_PATH = Path(__file__).resolve().parent.parent.parent / "tests" / "corpus" / "labelled.jsonl"


@lru_cache(maxsize=1)
def _load() -> tuple[dict, ...]:
    if not CORPUS_PATH.is_file():
        raise FileNotFoundError(
            f"ot_guard corpus not found at {CORPUS_PATH}. It lives in the source tree "
            "(libs/ot-guard/tests/corpus/labelled.jsonl); install ot-guard in editable "
            "mode (pip install -e libs/ot-guard) or regenerate it with "
            "tests/corpus/generate.py."
        )
    with CORPUS_PATH.open(encoding="utf-8") as fh:
        return tuple(json.loads(line) for line in fh if line.strip())


def load_corpus() -> list[dict]:
    """All corpus entries: {"text", "findings": [{"kind","start","end"}], "note"}.

    Entries whose note starts with "disguised:" write their identifiers with
    Unicode tricks (a full-width @, a zero-width space inside...): skip them where a
    usable value is needed, such as an address to send mail to."""
    return [dict(e, findings=[dict(f) for f in e["findings"]]) for e in _load()]


def sample(kind: str) -> str:
    """Text of the first corpus entry with exactly one finding, of ``kind``."""
    for entry in _load():
        if len(entry["findings"]) == 1 and entry["findings"][0]["kind"] == kind:
            return entry["text"]
    raise LookupError(f"no corpus entry with exactly one finding of kind {kind!r}")


# --- case notes: recall and false positives -------------------------------------

# "dev": the guard was developed on it; "heldout3": the newest held-out part (heldout2's
# templates with a new seed, generated after the last tuning, measured once);
# "heldout2": the fresh held-out part of the second round; "heldout": the first
# held-out part, kept for comparison (see the guard's README).
NOTES_PARTS = ("dev", "heldout", "heldout2", "heldout3")
NOTES_PATHS = {part: CORPUS_PATH.with_name(f"notes_{part}.jsonl") for part in NOTES_PARTS}


@lru_cache(maxsize=len(NOTES_PARTS))
def _load_notes(part: str) -> tuple[dict, ...]:
    with NOTES_PATHS[part].open(encoding="utf-8") as fh:
        return tuple(json.loads(line) for line in fh if line.strip())


def load_notes(part: str) -> list[dict]:
    """The labelled case notes of one part, "dev", "heldout", "heldout2" or "heldout3" (see
    tests/corpus/generate_notes.py): {"text", "lang", "findings": [{"kind",
    "start", "end", "category", "origin"?}], "traps": [...], "template"}.
    An entry without findings is clean case text."""
    return [dict(e, findings=[dict(f) for f in e["findings"]]) for e in _load_notes(part)]


def _covered(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    """True when the union of ``spans`` covers [start, end)."""
    pos = start
    for s, e in sorted(spans):
        if s > pos:
            break
        pos = max(pos, e)
        if pos >= end:
            return True
    return pos >= end


def evaluate(entries: list[dict], scan=None) -> dict:
    """Recall per kind, per kind and category (and per origin for names), and
    the false-positive rate on clean entries.

    A labelled identifier counts as found when findings of the same kind cover
    all of its characters (a partial hit would leave the rest in the text).  A
    clean entry is a false positive when the guard finds anything in it.
    Findings on labelled entries that touch no label are counted as spurious."""
    from collections import Counter

    if scan is None:
        from . import scan
    total, found = Counter(), Counter()
    clean = flagged = spurious = 0
    clean_by_trap, flagged_by_trap = Counter(), Counter()
    for entry in entries:
        got = scan(entry["text"])
        if not entry["findings"]:
            clean += 1
            for trap in entry["traps"] or ["general"]:
                clean_by_trap[trap] += 1
                flagged_by_trap[trap] += bool(got)
            flagged += bool(got)
            continue
        for f in entry["findings"]:
            keys = [f["kind"], f"{f['kind']}/{f['category']}"]
            if "origin" in f:
                keys.append(f"{f['kind']}/origin/{f['origin']}")
            ok = _covered(f["start"], f["end"],
                          [(g.start, g.end) for g in got if g.kind == f["kind"]
                           and g.end > f["start"] and g.start < f["end"]])
            for key in keys:
                total[key] += 1
                found[key] += ok
        labels = [(f["start"], f["end"]) for f in entry["findings"]]
        spurious += sum(1 for g in got if not any(g.start < e and g.end > s for s, e in labels))

    def ratio(a, b):
        return round(a / b, 4) if b else None

    return {
        "recall": {key: {"found": found[key], "total": total[key], "recall": ratio(found[key], total[key])}
                   for key in sorted(total)},
        "clean": {"texts": clean, "flagged": flagged, "fp_rate": ratio(flagged, clean),
                  "by_trap": {t: {"texts": clean_by_trap[t], "flagged": flagged_by_trap[t]}
                              for t in sorted(clean_by_trap)}},
        "spurious_findings_on_labelled_texts": spurious,
    }
