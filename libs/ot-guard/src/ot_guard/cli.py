"""``ot-pii-scan``: print the findings of stdin text as JSON.

    ot-pii-scan < text.txt            -> [{"kind": ..., "start": ..., "end": ...}]
    ot-pii-scan --jsonl < lines.jsonl -> one JSON array per input line

Only kinds and offsets are printed, never the matched text, and input text is
never echoed (not even in error messages), so the output is safe to log.
"""
from __future__ import annotations

import argparse
import io
import json
import sys

from . import scan


def _findings_json(text: str) -> str:
    return json.dumps([{"kind": f.kind, "start": f.start, "end": f.end} for f in scan(text)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ot-pii-scan", description=__doc__.split("\n")[0])
    parser.add_argument("--jsonl", action="store_true",
                        help='read one {"text": ...} object per line, print one array per line')
    args = parser.parse_args(argv)

    # Offsets are Python str indices, so decode stdin as UTF-8 regardless of locale.
    stdin = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", newline="")
    out = sys.stdout
    if not args.jsonl:
        out.write(_findings_json(stdin.read()) + "\n")
        out.flush()
        return 0

    for lineno, line in enumerate(stdin, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            text = obj["text"]
            if not isinstance(text, str):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            print(f'ot-pii-scan: line {lineno}: expected a JSON object {{"text": "..."}}',
                  file=sys.stderr)
            return 2
        out.write(_findings_json(text) + "\n")
        out.flush()  # callers stream line by line
    return 0


if __name__ == "__main__":
    sys.exit(main())
