"""The guard against Microsoft Presidio with the Finnish spaCy pipeline, on the same texts.

    .venv/bin/python bench/presidio_compare.py [--reps N]

Issue 14's target: the guard stays >= 100x Presidio's throughput.  Presidio is not a
dependency of the project, so this script builds (once, cached by version) a separate
virtualenv under ${XDG_CACHE_HOME:-~/.cache}/ot-platform/presidio-<version>/ with pinned
presidio-analyzer, spacy and spacy-fi-experimental-web-md (about 100 MB of downloads; the
model needs the system's libvoikko and voikko-fi), and runs a small worker in it.  Never
pip-installs into the project's .venv.

Texts: the held-out case notes that bench/guard_recall.py reads (notes_heldout3 and
notes_heldout2).  Both sides run single-threaded and are timed in CPU seconds (texts per
second on one core), after a warm-up, over several repetitions, median; the guard runs in
this process before and after the Presidio worker, so that both see the same machine.
Presidio runs as configured by default for "fi" (AnalyzerEngine, supported_languages
["fi"], the spaCy NLP engine with the Finnish model), plus its own Finnish identity-code
recognizer, which ships disabled; the Swedish notes are analysed as "fi" too, as a
service would have to.  Side figures, on the same texts: name recall (a labelled name counts as found when
PERSON findings cover all of it, the rule ot_guard.testing.evaluate applies to the
guard) and the share of clean texts (no label) that get any finding at all.

Writes bench/results/presidio_compare.json (not committed).  Not part of `make bench`:
the separate venv is 100+ MB and the figure is measured once and written down in
libs/ot-guard/README.md.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from ot_guard import Finding
from ot_guard.testing import evaluate, load_notes

sys.path.insert(0, str(Path(__file__).resolve().parent))
from guard_recall import throughput_runs  # noqa: E402  (the same measure as make bench's)

PRESIDIO_VERSION = "2.2.366"
REQUIREMENTS = (
    f"presidio-analyzer=={PRESIDIO_VERSION}",
    "spacy==3.8.18",
    "spacy-fi-experimental-web-md==0.15.0",
)
MODEL = "spacy_fi_experimental_web_md"
PARTS = ("heldout3", "heldout2")  # the held-out parts guard_recall.py reports first
RESULTS = Path(__file__).resolve().parent / "results" / "presidio_compare.json"

# Presidio's entity types that mean the same as a guard kind, so that recall per kind
# uses the guard's own rule.  Any other entity type still counts as a finding on clean text.
KIND_OF = {
    "PERSON": "name",
    "PHONE_NUMBER": "phone",
    "EMAIL_ADDRESS": "email",
    "FI_PERSONAL_IDENTITY_CODE": "identity_code",
    "LOCATION": "address",
    "DATE_TIME": "birth_date",
}

# Runs inside the Presidio venv: texts as JSON on stdin, figures as JSON on stdout.
# A warm-up on 50 texts, then ``reps`` timed passes over all of them (the last one's
# findings are kept: Presidio is deterministic).  One pass takes a minute or more.
_WORKER = r"""
import json, statistics, sys, time
reps, model = int(sys.argv[1]), sys.argv[2]
texts = json.load(sys.stdin)
t0, c0 = time.perf_counter(), time.process_time()
from presidio_analyzer import AnalyzerEngine
from presidio_analyzer.nlp_engine import NlpEngineProvider
nlp_engine = NlpEngineProvider(nlp_configuration={
    "nlp_engine_name": "spacy", "models": [{"lang_code": "fi", "model_name": model}]}).create_engine()
engine = AnalyzerEngine(nlp_engine=nlp_engine, supported_languages=["fi"])
# Presidio's own Finnish identity-code recognizer ships disabled; a fair comparison uses it.
from presidio_analyzer.predefined_recognizers import FiPersonalIdentityCodeRecognizer
engine.registry.add_recognizer(FiPersonalIdentityCodeRecognizer())
engine.analyze(text=texts[0], language="fi")
load = {"wall_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0}
for t in texts[:50]:
    engine.analyze(text=t, language="fi")  # warm-up
runs = []
for _ in range(reps):
    w, c = time.perf_counter(), time.process_time()
    findings = [engine.analyze(text=t, language="fi") for t in texts]
    runs.append({"cpu_s": time.process_time() - c, "wall_s": time.perf_counter() - w})
findings = [[[r.entity_type, r.start, r.end, r.score] for r in f] for f in findings]
from importlib.metadata import version
print(json.dumps({
    "load": load, "runs": runs, "findings": findings,
    "recognizers": sorted({type(r).__name__ for r in engine.get_recognizers(language="fi")}),
    "versions": {p: version(p) for p in ("presidio-analyzer", "spacy", "spacy-fi-experimental-web-md")},
}))
"""

# One thread everywhere: "per core" is the figure, and the machine has two.
_ONE_THREAD = {v: "1" for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}


def venv_dir() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "ot-platform" / f"presidio-{PRESIDIO_VERSION}"


def ensure_venv() -> Path:
    """The Presidio venv's python; built on first use.  A marker with the pinned
    requirements is written only after pip succeeded, so a broken build is retried."""
    root = venv_dir()
    python, marker = root / "bin" / "python", root / "ot-platform-requirements.txt"
    wanted = "\n".join(REQUIREMENTS) + "\n"
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        return python
    print(f"building {root} (once; about 100 MB of downloads)...", flush=True)
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(root)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q",
                    *REQUIREMENTS], check=True)
    marker.write_text(wanted)
    return python


def guard_runs(texts: list[str], reps: int) -> list[float]:
    """Texts per CPU second, one figure per repetition (bench/guard_recall.py's measure)."""
    return throughput_runs(texts, rounds=reps)


def presidio_run(python: Path, texts: list[str], reps: int) -> dict:
    proc = subprocess.run([str(python), "-c", _WORKER, str(reps), MODEL],
                          input=json.dumps(texts), capture_output=True, text=True,
                          env={**os.environ, **_ONE_THREAD})
    if proc.returncode:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"the Presidio worker failed (exit {proc.returncode})")
    return json.loads(proc.stdout)


def _summary(result: dict) -> dict:
    clean = result["clean"]
    name = result["recall"].get("name", {})
    return {"name_recall": name.get("recall"), "names": name.get("total"),
            "clean_texts": clean["texts"], "clean_flagged": clean["flagged"],
            "clean_flagged_share": clean["fp_rate"],
            "recall_by_kind": {k: v["recall"] for k, v in result["recall"].items() if "/" not in k}}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=3, help="timed repetitions per side (default 3)")
    args = ap.parse_args()

    python = ensure_venv()
    entries = [e for part in PARTS for e in load_notes(part)]
    texts = [e["text"] for e in entries]
    load = {"start": os.getloadavg()}

    guard_before = guard_runs(texts, args.reps)
    load["after_guard"] = os.getloadavg()
    presidio = presidio_run(python, texts, args.reps)
    load["after_presidio"] = os.getloadavg()
    guard_after = guard_runs(texts, args.reps)
    load["end"] = os.getloadavg()

    guard_rate = statistics.median(guard_before + guard_after)
    presidio_rates = [len(texts) / r["cpu_s"] for r in presidio["runs"]]
    presidio_wall = [len(texts) / r["wall_s"] for r in presidio["runs"]]
    presidio_rate = statistics.median(presidio_rates)
    ratio = guard_rate / presidio_rate

    by_text = {t: [Finding(KIND_OF.get(e, e), s, end) for e, s, end, _ in f]
               for t, f in zip(texts, presidio["findings"])}
    quality = {
        "guard": _summary(evaluate(entries)),
        "presidio": _summary(evaluate(entries, scan=by_text.__getitem__)),
    }
    # Which of Presidio's entity types flag clean texts (a text counts once per type).
    clean_by_type: dict[str, int] = {}
    for e, f in zip(entries, presidio["findings"]):
        if not e["findings"]:
            for etype in {x[0] for x in f}:
                clean_by_type[etype] = clean_by_type.get(etype, 0) + 1
    quality["presidio"]["clean_flagged_by_entity_type"] = dict(
        sorted(clean_by_type.items(), key=lambda kv: -kv[1]))

    g, p = quality["guard"], quality["presidio"]
    print(f"\n{len(texts)} texts ({', '.join(PARTS)}; mean {statistics.mean(map(len, texts)):.0f} "
          f"characters), one core, CPU time, median of {args.reps} (guard: {2 * args.reps}, "
          f"before and after Presidio)")
    print(f"{'':28s} {'texts/s':>10s} {'name recall':>12s} {'clean flagged':>16s}")
    print(f"{'ot_guard.scan':28s} {guard_rate:10.0f} {g['name_recall']:12.3f} "
          f"{g['clean_flagged']:5d}/{g['clean_texts']:<4d} {g['clean_flagged_share']:5.3f}")
    print(f"{'Presidio + fi spaCy':28s} {presidio_rate:10.1f} {p['name_recall']:12.3f} "
          f"{p['clean_flagged']:5d}/{p['clean_texts']:<4d} {p['clean_flagged_share']:5.3f}")
    print(f"ratio guard / Presidio: {ratio:.0f}x (target >= 100x)")
    print(f"Presidio wall-clock texts/s: {statistics.median(presidio_wall):.1f}; "
          f"start-up (import, load model, first text): {presidio['load']['wall_s']:.1f} s wall, "
          f"{presidio['load']['cpu_s']:.1f} s CPU")
    print("Presidio on clean texts, by entity type: " + ", ".join(
        f"{k} {v}" for k, v in p["clean_flagged_by_entity_type"].items()))
    print(f"recognizers for 'fi': {', '.join(presidio['recognizers'])}")
    print("load average (1, 5, 15 min): " + "; ".join(
        f"{k} {' '.join(f'{x:.2f}' for x in v)}" for k, v in load.items()))

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "what": "ot_guard.scan vs Presidio AnalyzerEngine with the Finnish spaCy pipeline "
                "on the held-out case notes: texts per CPU second on one core, name recall, "
                "share of clean texts with any finding",
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cores": os.cpu_count(), "arch": platform.machine(),
                    "python": sys.version.split()[0], "load_average": load},
        "texts": {"parts": list(PARTS), "count": len(texts),
                  "mean_chars": round(statistics.mean(map(len, texts)))},
        "reps": args.reps,
        "guard": {"texts_per_cpu_s": round(guard_rate),
                  "runs": [round(r) for r in guard_before + guard_after]},
        "presidio": {"texts_per_cpu_s": round(presidio_rate, 2),
                     "texts_per_wall_s": round(statistics.median(presidio_wall), 2),
                     "runs": presidio["runs"], "startup": presidio["load"],
                     "recognizers": presidio["recognizers"], "versions": presidio["versions"],
                     "entity_to_guard_kind": KIND_OF},
        "ratio": round(ratio, 1),
        "quality": quality,
    }, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
