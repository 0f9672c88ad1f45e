"""The images the chart runs: every enabled service has a Dockerfile of the same shape as intake's
(pinned base, multi-stage, only wheels in the runtime stage, the chart's non-root user, its ports
and entry point), and the service's wheel, which is all the runtime stage gets, carries every file
of its package: migrations, and for experts the catalogue dataset that `ot-experts seed` loads.
No Docker engine is needed: the Dockerfiles are read, and the wheels built as their build stage does.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from conftest import REPO, find

VENV_PYTHON = REPO / ".venv" / "bin" / "python"


def _enabled(renders) -> dict[str, dict]:
    """service -> its rendered Deployment, for the services an area release runs."""
    objs = renders["pohjois-savo"]
    return {d["metadata"]["labels"]["app.kubernetes.io/component"]: d for d in find(objs, "Deployment")}


def _stages(dockerfile: str) -> dict[str, list[str]]:
    """Instructions of each stage (continuation lines joined, comments dropped), by stage name."""
    text = re.sub(r"\\\n\s*", " ", "\n".join(line for line in dockerfile.splitlines()
                                          if not line.lstrip().startswith("#")))
    stages: dict[str, list[str]] = {"": []}
    current = ""
    for line in filter(None, (ln.strip() for ln in text.splitlines())):
        m = re.match(r"FROM\s+\S+\s+AS\s+(\S+)$", line, re.I)
        if m:
            current = m.group(1)
            stages[current] = []
        stages[current].append(line)
    return stages


def test_every_enabled_service_has_an_image_like_intakes(renders):
    # The shipped chart runs the four services and the portal; each is checked here (a newly enabled one too).
    assert set(_enabled(renders)) == {"intake", "experts", "consent", "feedback", "portal"}
    for svc, dep in _enabled(renders).items():
        path = REPO / "services" / svc / "Dockerfile"
        assert path.is_file(), f"{svc} is enabled in the chart but has no {path.relative_to(REPO)}"
        stages = _stages(path.read_text())
        where = str(path.relative_to(REPO))
        base = next(ln for ln in stages[""] if ln.startswith("ARG PYTHON_IMAGE="))
        assert re.fullmatch(r"ARG PYTHON_IMAGE=python:\d+\.\d+\.\d+-slim-[a-z]+(@sha256:[0-9a-f]{64})?", base), \
            f"{where}: the base image must be pinned to a patch release: {base}"
        assert set(stages) == {"", "build", "runtime"}, where
        build, runtime = stages["build"], stages["runtime"]
        assert f"COPY services/{svc} ./services/{svc}" in build, where
        assert any(ln.startswith("RUN ") and "pip wheel" in ln and f"./services/{svc}" in ln for ln in build), where
        # The generated protobuf code is made afresh: libs/ot-proto/src is gitignored, so a clean
        # clone has no such folder (protoc would fail) and a working copy's may be stale.
        protoc = [ln for ln in build if ln.startswith("RUN ") and "grpc_tools.protoc" in ln]
        assert len(protoc) == 1 and re.match(r"RUN rm -rf libs/ot-proto/src/ot\s+&&\s+mkdir -p libs/ot-proto/src\s+&&\s+"
                                             r"python -m grpc_tools\.protoc ", protoc[0]), f"{where}: {protoc}"
        # The guard's data file is not in git: the build stage builds it before the wheels.
        data = [i for i, ln in enumerate(build) if "python libs/ot-guard/src/ot_guard/data.py" in ln]
        wheel = [i for i, ln in enumerate(build) if "pip wheel" in ln]
        assert data and data[0] <= wheel[0], f"{where}: build the guard's data file before its wheel"
        # The runtime stage gets wheels (and the pins), never source trees.
        copies = [ln for ln in runtime if ln.startswith(("COPY", "ADD"))]
        assert copies == ["COPY --from=build /wheels /wheels", "COPY constraints.txt /tmp/constraints.txt"], where
        spec = dep["spec"]["template"]["spec"]
        container = spec["containers"][0]
        assert f"USER {spec['securityContext']['runAsUser']}" in runtime, f"{where}: not the chart's runAsUser"
        assert f'ENTRYPOINT ["ot-{svc}"]' in runtime, where
        exposed = {int(p) for ln in runtime if ln.startswith("EXPOSE ") for p in ln.split()[1:]}
        assert {p["containerPort"] for p in container["ports"]} <= exposed, where


@pytest.fixture(scope="module")
def wheels(renders, tmp_path_factory) -> dict[str, Path]:
    """Each enabled service's wheel, built from a copy of its folder (no build/ or egg-info left in
    the repository), as the image's build stage builds it, without the network."""
    root = tmp_path_factory.mktemp("wheels")
    services = sorted(_enabled(renders))
    for svc in services:
        shutil.copytree(REPO / "services" / svc, root / svc,
                        ignore=shutil.ignore_patterns("*.egg-info", "__pycache__", "build", "dist", "tests"))
    done = subprocess.run([str(VENV_PYTHON), "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                           "--disable-pip-version-check", "-w", str(root / "out"), *(f"./{s}" for s in services)],
                          cwd=root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-4000:]
    return {svc: next((root / "out").glob(f"ot_{svc}-*.whl")) for svc in services}


def test_each_wheel_carries_every_file_of_its_package(wheels):
    for svc, wheel in wheels.items():
        package = REPO / "services" / svc / "src" / f"ot_{svc}"
        wanted = {p.relative_to(package.parent).as_posix() for p in package.rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts}
        with zipfile.ZipFile(wheel) as z:
            names = set(z.namelist())
            entry_points = z.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
        missing = sorted(wanted - names)
        assert missing == [], f"{wheel.name} lacks {missing}: add them to [tool.setuptools.package-data]"
        assert re.search(rf"^ot-{svc} = ot_{svc}\.main:main$", entry_points, re.M), entry_points
        assert any(n.startswith(f"ot_{svc}/migrations/versions/") for n in names), wheel.name
    assert "ot_experts/data/catalogue.json" in zipfile.ZipFile(wheels["experts"]).namelist()
    # feedback's image also runs the Alembic environment (env.py, script.py.mako) of its migrations.
    feedback = set(zipfile.ZipFile(wheels["feedback"]).namelist())
    assert {"ot_feedback/migrations/env.py", "ot_feedback/migrations/script.py.mako"} <= feedback
