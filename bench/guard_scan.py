"""Benchmark of the client-identifier guard: ``ot_guard.scan()`` CPU time per kB.

Not a test (speed belongs here, not in assertions).  For realistic case text and
for shapes built to stall a scanner, it times ``scan()`` at 1 kB, 10 kB, 100 kB
and 1 MB (1 kB = 1,000 characters; median of 3 runs), and prints the time per kB
and its ratio to the 1 kB figure: a linear scanner keeps the ratio near 1.
First it prints the guard's start-up in a fresh process (import and one scan:
wall-clock and CPU seconds, median of 5) and the memory it adds to a bare Python
(VmRSS after import and one scan, minus a bare interpreter's); the issue's targets
are start-up under 1 s and each service under 100 MB.

    .venv/bin/python bench/guard_scan.py

Writes bench/results/guard_scan.json (results are not committed).  Identifiers
come from the guard's labelled corpus, the only place that holds them.
"""
from __future__ import annotations

import json
import platform
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

from ot_guard import scan
from ot_guard.testing import load_corpus

SIZES = {"1kB": 1_000, "10kB": 10_000, "100kB": 100_000, "1MB": 1_000_000}
RUNS = 3
RESULTS = Path(__file__).resolve().parent / "results" / "guard_scan.json"


def _value(corpus, kind, accept=lambda v: True) -> str:
    for entry in corpus:
        for f in entry["findings"]:
            v = entry["text"][f["start"]:f["end"]]
            if f["kind"] == kind and accept(v):
                return v
    raise LookupError(kind)


def shapes() -> dict[str, str]:
    """Name -> the unit repeated to the wanted size."""
    corpus = load_corpus()
    first_name = _value(corpus, "name", str.isalpha)
    many = next(e["text"] for e in corpus if len(e["findings"]) >= 3)
    disguised = [e["text"][f["start"]:f["end"]] for e in corpus
                 if e["note"].startswith("disguised") for f in e["findings"]]
    lines = [e["text"] for e in corpus]
    random.Random(0).shuffle(lines)  # so that even 1 kB mixes clean and identifying lines
    return {
        # every corpus line, clean and not, as running text
        "realistic case text": " ".join(lines) + "\n",
        "first name and comma": first_name + ", ",
        "identity codes": _value(corpus, "identity_code") + " ",
        "e-mails": _value(corpus, "email") + " ",
        "capitalised words (name + unknown surname)":
            _value(corpus, "name", lambda v: v.endswith("Möttönen")) + " ",
        "one huge hyphenated token": first_name + "-",
        "no spaces at all": "".join(many.split()),
        "disguised identifiers (Unicode tricks)": " ".join(disguised) + " ",
        "letter with a run of combining marks": "x" + "\u0301\u0316" * 500 + " ",
        "birth cue then whitespace": "s." + " " * 998,  # one cue per 1,000 characters
        "one whitespace run after a birth cue": None,    # "s." + spaces to the size
    }


def build(unit: str | None, size: int) -> str:
    if unit is None:
        return "s." + " " * (size - 2)
    return (unit * (size // len(unit) + 1))[:size]


def cpu_seconds(text: str) -> float:
    times = []
    for _ in range(RUNS):
        start = time.process_time()
        scan(text)
        times.append(time.process_time() - start)
    return statistics.median(times)


_STARTUP = r"""
import json, time
t0, c0 = time.perf_counter(), time.process_time()
import ot_guard
ot_guard.scan("Äiti Maija Virtanen soitti numerosta 040 123 4567.")
wall, cpu = time.perf_counter() - t0, time.process_time() - c0
rss = int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0])
print(json.dumps({"wall_s": wall, "cpu_s": cpu, "rss_kb": rss}))
"""
_BARE = r"""print(int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0]))"""


def _python(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                          text=True).stdout


def startup(runs: int = 5) -> dict:
    """Import and one scan in a fresh process, and the memory that adds."""
    probes = [json.loads(_python(_STARTUP)) for _ in range(runs)]
    bare_kb = statistics.median(int(_python(_BARE)) for _ in range(runs))
    guard_kb = statistics.median(p["rss_kb"] for p in probes)
    return {"import_and_first_scan_s": round(statistics.median(p["wall_s"] for p in probes), 3),
            "import_and_first_scan_cpu_s": round(statistics.median(p["cpu_s"] for p in probes), 3),
            "rss_mb": round(guard_kb / 1024, 1), "bare_python_rss_mb": round(bare_kb / 1024, 1),
            "added_rss_mb": round((guard_kb - bare_kb) / 1024, 1)}


def main() -> int:
    start = startup()
    print(f"start-up (import + first scan, fresh process, median of 5): "
          f"{start['import_and_first_scan_s']:.3f} s wall-clock, "
          f"{start['import_and_first_scan_cpu_s']:.3f} s CPU")
    print(f"memory after import + one scan: {start['rss_mb']:.1f} MB RSS, bare Python "
          f"{start['bare_python_rss_mb']:.1f} MB: the guard adds {start['added_rss_mb']:.1f} MB\n")
    units = shapes()
    scan(build(units["realistic case text"], 1_000))  # imports and caches warm
    results: dict[str, dict[str, dict[str, float]]] = {}
    print(f"{'shape':44s}" + "".join(f"{label:>18s}" for label in SIZES))
    print(f"{'':44s}" + "".join(f"{'ms/kB (ratio)':>18s}" for _ in SIZES))
    for name, unit in units.items():
        row = {}
        for label, size in SIZES.items():
            text = build(unit, size)
            per_kb = cpu_seconds(text) * 1000 / (len(text) / 1000)
            base = row["1kB"]["ms_per_kB"] if row else per_kb
            row[label] = {"ms_per_kB": round(per_kb, 4), "ratio_to_1kB": round(per_kb / base, 2)}
        results[name] = row
        print(f"{name:44s}" + "".join(
            f"{r['ms_per_kB']:10.3f} ({r['ratio_to_1kB']:4.2f})" for r in row.values()), flush=True)

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "what": "ot_guard.scan() CPU time per kB (1 kB = 1,000 characters), median of "
                f"{RUNS} runs, and its ratio to the 1 kB figure",
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "startup": start,
        "results": results,
    }, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nwrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
