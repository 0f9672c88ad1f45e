"""The Helsinki Design System's styles (the npm package `hds-core`), pinned, fetched once into the
user's cache directory and copied into the portal's static files, where Flask serves them.

    python services/portal/src/ot_portal/assets.py      # what `make install` and the Dockerfile run

Not committed: it is a third-party build (about 80 KB of minified CSS) that one pinned version
and its integrity hash describe exactly, so an upgrade is a one-line change here and the
repository holds only our own code. The file lands in src/ot_portal/static/vendor/ (ignored by
git) so that it ships inside the wheel like the rest of the static files.

The package comes from the npm registry with `npm pack` when npm is installed, otherwise as the
same tarball over HTTPS (the Docker build stage has no npm); either way its sha512 must equal
INTEGRITY, the registry's own `dist.integrity` of this version. Only the standard library is
used: this runs before the portal is installed.
"""
from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
from pathlib import Path

PACKAGE = "hds-core"
VERSION = "5.2.2"
# `npm view hds-core@5.2.2 dist.integrity`
INTEGRITY = "sha512-O83/0HetDiFtD2dBli1ntD65Wp+aAcdaniV3jJy6X8dYW8bmmbixu0bF2luyaR0FmdAMt0+tqZ9CtsxRAudviw=="
TARBALL_URL = f"https://registry.npmjs.org/{PACKAGE}/-/{PACKAGE}-{VERSION}.tgz"
# The base styles (colours, typography, spacing as CSS variables) and every component's classes;
# not the fonts (Helsinki Grotesk loads from the City of Helsinki's servers: the portal falls back
# to the system's sans-serif font rather than call a third party), nor the per-icon files.
PARTS = ("package/lib/base.min.css", "package/lib/components/all.min.css")
LICENSE = "package/LICENSE"

STATIC = Path(__file__).resolve().parent / "static"
# What the templates link to, relative to the static folder.
HDS_CSS = f"vendor/{PACKAGE}-{VERSION}.min.css"


def cache_dir() -> Path:
    """The same place as scripts/lib.sh's OT_CACHE_DIR."""
    base = os.environ.get("OT_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "ot-platform")
    return Path(base).resolve() / "npm"


def _verified(path: Path) -> bool:
    digest = base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()
    return f"sha512-{digest}" == INTEGRITY


def fetch_tarball() -> Path:
    """The package's tarball, from the cache or the registry, its integrity checked."""
    cached = cache_dir() / f"{PACKAGE}-{VERSION}.tgz"
    if cached.exists() and _verified(cached):
        return cached
    cached.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cached.parent) as tmp:
        tarball = Path(tmp) / cached.name
        if shutil.which("npm"):
            subprocess.run(["npm", "pack", f"{PACKAGE}@{VERSION}", "--pack-destination", tmp, "--silent"],
                           check=True, stdout=subprocess.DEVNULL)
        else:
            with urllib.request.urlopen(TARBALL_URL, timeout=60) as answer, open(tarball, "wb") as out:
                shutil.copyfileobj(answer, out)
        if not _verified(tarball):
            raise SystemExit(f"{PACKAGE}@{VERSION}: the downloaded package does not match its pinned integrity hash")
        os.replace(tarball, cached)
    return cached


def install(static: Path = STATIC) -> Path:
    """Write the stylesheet (and the package's licence beside it) under static/vendor/."""
    target = static / HDS_CSS
    if target.exists():
        return target
    tarball = fetch_tarball()
    with tarfile.open(tarball, "r:gz") as tar:
        def read(name: str) -> bytes:
            member = tar.extractfile(name)
            if member is None:
                raise SystemExit(f"{PACKAGE}@{VERSION}: {name} is missing from the package")
            return member.read()
        css = b"\n".join(read(name) for name in PARTS)
        licence = read(LICENSE)
    target.parent.mkdir(parents=True, exist_ok=True)
    header = f"/* {PACKAGE} {VERSION} (MIT, see {PACKAGE}-LICENSE.txt): {', '.join(PARTS)} */\n".encode()
    tmp = target.with_suffix(".tmp")
    tmp.write_bytes(header + css)
    (target.parent / f"{PACKAGE}-LICENSE.txt").write_bytes(licence)
    os.replace(tmp, target)
    return target


if __name__ == "__main__":
    print(install(), file=sys.stderr)
