"""Write the tables that say who may call which RPC and what every request field may hold.

They are generated from the services' own edge tables (`ot_<service>.edge.ACCESS` and
`FIELD_RULES`), which the gRPC server enforces, so the documentation cannot drift from the code:
- README.md, between the markers `<!-- roles:begin -->` and `<!-- roles:end -->`: role × RPC;
- libs/ot-guard/README.md, between `<!-- fields:begin -->` and `<!-- fields:end -->`: every
  caller-settable field with its rule.

    python scripts/policy_tables.py          # rewrite both sections
    python scripts/policy_tables.py --check  # exit 1 when a section is out of date (the tests run this)
"""
from __future__ import annotations

import argparse
import importlib
import re
import sys
from pathlib import Path

from ot_runtime.access import ANYONE, method_path
from ot_runtime.auth import ROLES
from ot_runtime.fields import UNLISTED, request_fields

REPO = Path(__file__).resolve().parent.parent
SERVICES = ("intake", "experts", "consent", "feedback")


def edges():
    for name in SERVICES:
        yield name, importlib.import_module(f"ot_{name}.edge")


def roles_table() -> str:
    lines = ["| RPC | " + " | ".join(ROLES) + " |", "|---|" + "---|" * len(ROLES)]
    for name, edge in edges():
        for method in edge.SERVICE.methods:
            allowed = edge.ACCESS.get(method_path(edge.SERVICE, method.name), frozenset())
            if ANYONE in allowed:  # no sign-in at all (the access table says why)
                cells = ["anyone, no token"] + [""] * (len(ROLES) - 1)
            else:
                cells = ["✓" if role in allowed else "" for role in ROLES]
            lines.append(f"| {name} `{method.name}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def fields_table() -> str:
    lines = ["| service | field | rule |", "|---|---|---|"]
    for name, edge in edges():
        for fd in request_fields(edge.SERVICE):
            rule = edge.FIELD_RULES.get(fd.full_name)
            described = rule.describe() if rule else f"NO RULE (falls back to: {UNLISTED.describe()})"
            lines.append(f"| {name} | `{fd.full_name}` | {described} |")
    return "\n".join(lines)


SECTIONS = (
    (REPO / "README.md", "roles", roles_table),
    (REPO / "libs/ot-guard/README.md", "fields", fields_table),
)


def render(text: str, marker: str, table: str) -> str:
    pattern = re.compile(rf"(<!-- {marker}:begin -->\n).*?(<!-- {marker}:end -->)", re.S)
    if not pattern.search(text):
        raise SystemExit(f"policy_tables: the markers <!-- {marker}:begin/end --> are missing")
    return pattern.sub(lambda m: m.group(1) + table + "\n" + m.group(2), text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that the files are up to date")
    args = parser.parse_args(argv)
    stale = []
    for path, marker, make in SECTIONS:
        text = path.read_text(encoding="utf-8")
        new = render(text, marker, make())
        if new != text:
            stale.append(str(path.relative_to(REPO)))
            if not args.check:
                path.write_text(new, encoding="utf-8")
    if args.check and stale:
        print("policy_tables: out of date (run `python scripts/policy_tables.py`): " + ", ".join(stale),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
