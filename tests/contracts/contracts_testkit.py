"""Helpers of the contract checks (a uniquely named module, so that it cannot clash with another
folder's conftest when several test folders run in one pytest process)."""
from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RELEASED = REPO / "proto" / "released.binpb"
# The same cache as scripts/lib.sh: the user's cache directory, not the clone.
TOOLS = Path(os.environ.get("OT_CACHE_DIR") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
             / "ot-platform").resolve() / "tools"


@dataclass
class Run:
    returncode: int
    output: str


def run_buf(buf_bin: Path, cwd: Path, *args: str) -> Run:
    done = subprocess.run([str(buf_bin), *args], cwd=cwd, capture_output=True, text=True, timeout=300)
    return Run(done.returncode, done.stdout + done.stderr)


def edit(path: Path, old: str, new: str) -> None:
    """Replace exactly one occurrence (so a proto that changed shape fails here, not silently)."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} is not in {path} exactly once"
    path.write_text(text.replace(old, new), encoding="utf-8")
