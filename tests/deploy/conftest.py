"""Fixtures of the chart checks: the pinned tools (scripts/helm_tools.sh) and the renders.

A missing tool is a failure with the command that installs it, never a skip.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "deploy" / "helm" / "ot-platform"
AREA_DIR = REPO / "deploy" / "helm" / "values"
AREAS = sorted(p.stem for p in AREA_DIR.glob("*.yaml"))
# The Kubernetes version the chart is rendered for and validated against (schemas from the
# PyPI package kubernetes-validate, pinned in scripts/helm_tools.sh).
KUBE_VERSION = "1.35.0"
# The same cache as scripts/lib.sh: the user's cache directory, not the clone.
TOOLS = Path(os.environ.get("OT_CACHE_DIR") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
             / "ot-platform").resolve() / "tools"


def _tool(path: Path) -> Path:
    if not path.exists():
        pytest.fail(f"{path} is missing: run `bash scripts/helm_tools.sh` first (make deploy-check does)",
                    pytrace=False)
    return path


@pytest.fixture(scope="session")
def helm_bin() -> Path:
    return _tool(TOOLS / "bin" / "helm")


@pytest.fixture(scope="session")
def tools_python() -> Path:
    return _tool(TOOLS / "pytools" / "bin" / "python")


@pytest.fixture(scope="session")
def checkov_bin() -> Path:
    return _tool(TOOLS / "bin" / "checkov")


def run_helm(helm_bin: Path, *args: str) -> str:
    done = subprocess.run([str(helm_bin), *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"helm {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def render_text(helm_bin: Path, area: str, *sets: str, release: str | None = None) -> str:
    release = release or f"ot-{area}"
    args = ["template", release, str(CHART), "--namespace", release, "--kube-version", KUBE_VERSION,
            "-f", str(AREA_DIR / f"{area}.yaml")]
    for s in sets:
        args += ["--set", s]
    return run_helm(helm_bin, *args)


# The project's .venv has no YAML parser; the tools venv (scripts/helm_tools.sh) has PyYAML.
_YAML_TO_JSON = "import json, sys, yaml; json.dump([d for d in yaml.safe_load_all(sys.stdin) if d], sys.stdout)"


def parse_yaml(text: str) -> list[dict]:
    python = _tool(TOOLS / "pytools" / "bin" / "python")
    done = subprocess.run([str(python), "-c", _YAML_TO_JSON], input=text, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def render(helm_bin: Path, area: str, *sets: str, release: str | None = None) -> list[dict]:
    """`helm template` of one area (plus --set overrides), as a list of objects."""
    return parse_yaml(render_text(helm_bin, area, *sets, release=release))


@pytest.fixture(scope="session")
def renders(helm_bin) -> dict[str, list[dict]]:
    return {area: render(helm_bin, area) for area in AREAS}


def find(objs: list[dict], kind: str, name_suffix: str = "") -> list[dict]:
    return [o for o in objs if o["kind"] == kind and o["metadata"]["name"].endswith(name_suffix)]


def pod_specs(objs: list[dict]):
    """(object, pod spec) of everything that runs containers."""
    for o in objs:
        if o["kind"] in ("Deployment", "Job"):
            yield o, o["spec"]["template"]["spec"]
        elif o["kind"] == "Pod":
            yield o, o["spec"]


def dumps(objs) -> str:
    return json.dumps(objs, default=str)
