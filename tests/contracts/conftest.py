"""Fixtures of the contract checks: the pinned buf (scripts/contract_tools.sh) and a scratch copy of
the protos to break on purpose.

A missing buf is a failure with the command that builds it, never a skip.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from contracts_testkit import REPO, TOOLS


@pytest.fixture(scope="session")
def buf_bin() -> Path:
    path = TOOLS / "bin" / "buf"
    if not path.exists():
        pytest.fail(f"{path} is missing: run `bash scripts/contract_tools.sh` first (make test does)", pytrace=False)
    return path


@pytest.fixture()
def scratch(tmp_path: Path) -> Path:
    """A copy of the repository's buf.yaml and proto/ (without the released image), to edit."""
    shutil.copy(REPO / "buf.yaml", tmp_path / "buf.yaml")
    shutil.copytree(REPO / "proto", tmp_path / "proto", ignore=shutil.ignore_patterns("*.binpb"))
    return tmp_path
