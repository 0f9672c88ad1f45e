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
