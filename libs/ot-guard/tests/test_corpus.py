"""The labelled corpus is the acceptance set: every line must match exactly."""
from __future__ import annotations

from collections import Counter

import pytest

from ot_guard import KINDS, scan
from ot_guard.testing import load_corpus, sample

CORPUS = load_corpus()


def _expected(entry):
    return [(f["kind"], f["start"], f["end"]) for f in entry["findings"]]


def test_corpus_is_big_enough_and_covers_every_kind():
    assert len(CORPUS) >= 120
    kinds = Counter(f["kind"] for e in CORPUS for f in e["findings"])
    for kind in KINDS:
        assert kinds[kind] >= 5, kind
    assert sum(1 for e in CORPUS if not e["findings"]) >= 40


@pytest.mark.parametrize("entry", CORPUS, ids=[f"{i}:{e['note']}" for i, e in enumerate(CORPUS)])
def test_corpus_line(entry):
    got = [(f.kind, f.start, f.end) for f in scan(entry["text"])]
    # Only offsets in the assertion message: the values stay out of CI logs.
    assert got == _expected(entry)


def test_precision_and_recall_per_kind():
    tp, fp, fn = Counter(), Counter(), Counter()
    for entry in CORPUS:
        expected = set(_expected(entry))
        got = {(f.kind, f.start, f.end) for f in scan(entry["text"])}
        for k, *_ in got & expected:
            tp[k] += 1
        for k, *_ in got - expected:
            fp[k] += 1
        for k, *_ in expected - got:
            fn[k] += 1
    print()
    for kind in KINDS:
        precision = tp[kind] / ((tp[kind] + fp[kind]) or 1)
        recall = tp[kind] / ((tp[kind] + fn[kind]) or 1)
        print(f"{kind:15s} precision {precision:.3f} recall {recall:.3f} (tp {tp[kind]}, fp {fp[kind]}, fn {fn[kind]})")
    for kind in KINDS:
        assert fp[kind] == 0 and fn[kind] == 0, kind


def test_findings_sorted_and_non_overlapping():
    for entry in CORPUS:
        findings = scan(entry["text"])
        for a, b in zip(findings, findings[1:]):
            assert a.end <= b.start


@pytest.mark.parametrize("kind", KINDS)
def test_sample_helper(kind):
    text = sample(kind)
    findings = scan(text)
    assert [f.kind for f in findings] == [kind]


def test_sample_unknown_kind():
    with pytest.raises(LookupError):
        sample("no_such_kind")


def test_corpus_is_reproducible(tmp_path, monkeypatch):
    """generate.py is deterministic: re-running it gives the committed file."""
    import importlib.util
    from pathlib import Path

    gen_path = Path(__file__).parent / "corpus" / "generate.py"
    spec = importlib.util.spec_from_file_location("ot_guard_corpus_generate", gen_path)
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    out = tmp_path / "labelled.jsonl"
    monkeypatch.setattr(gen, "OUT", out)
    gen.main()
    assert out.read_text(encoding="utf-8") == (gen_path.parent / "labelled.jsonl").read_text(encoding="utf-8")
