from __future__ import annotations

import json
import subprocess
import sys

from ot_guard import scan
from ot_guard.testing import load_corpus, sample

CMD = [sys.executable, "-m", "ot_guard.cli"]


def run(args, stdin: str):
    return subprocess.run(CMD + args, input=stdin.encode("utf-8"), capture_output=True, timeout=60)


def expected(text):
    return [{"kind": f.kind, "start": f.start, "end": f.end} for f in scan(text)]


def test_plain_mode_offsets_are_characters():
    text = "Ääkköset ensin: " + sample("phone")  # non-ASCII before the finding
    proc = run([], text)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out == expected(text) and out


def test_disguised_identifiers_at_offsets_of_the_input():
    disguised = [e for e in load_corpus() if e["note"].startswith("disguised")]
    stdin = "".join(json.dumps({"text": e["text"]}, ensure_ascii=False) + "\n" for e in disguised)
    proc = run(["--jsonl"], stdin)
    assert proc.returncode == 0, proc.stderr
    got = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert got == [e["findings"] for e in disguised]


def test_jsonl_mode():
    texts = [sample("email"), "puhdas teksti", sample("identity_code")]
    stdin = "".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in texts)
    proc = run(["--jsonl"], stdin)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.decode().splitlines()
    assert [json.loads(line) for line in lines] == [expected(t) for t in texts]


def test_jsonl_streams_line_by_line():
    proc = subprocess.Popen(CMD + ["--jsonl"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        proc.stdin.write((json.dumps({"text": sample("name")}) + "\n").encode())
        proc.stdin.flush()
        first = proc.stdout.readline()  # must arrive before stdin closes
        assert json.loads(first) == expected(sample("name"))
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    assert proc.returncode == 0


def test_jsonl_malformed_line_exit_2_without_echo():
    secret = sample("identity_code")
    stdin = json.dumps({"text": "ok"}) + "\n" + "{broken " + secret + "\n"
    proc = run(["--jsonl"], stdin)
    assert proc.returncode == 2
    err = proc.stderr.decode()
    assert "line 2" in err and secret not in err
    assert secret not in proc.stdout.decode()


def test_console_script_installed():
    import shutil
    from pathlib import Path

    script = shutil.which("ot-pii-scan") or str(Path(sys.executable).with_name("ot-pii-scan"))
    proc = subprocess.run([script], input=sample("email").encode(), capture_output=True, timeout=60)
    assert proc.returncode == 0
    assert json.loads(proc.stdout) == expected(sample("email"))
