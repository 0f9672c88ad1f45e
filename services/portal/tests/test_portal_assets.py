"""The design system's stylesheet: fetched once, integrity-checked, cached outside the clone."""
from __future__ import annotations

import shutil

import pytest

from ot_portal import assets


def test_the_cached_package_is_reused_and_checked(tmp_path, monkeypatch):
    cached = assets.fetch_tarball()  # the one `make install` fetched
    assert cached.parent == assets.cache_dir() and "ot-platform" in str(cached)
    monkeypatch.setenv("OT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(assets.shutil, "which", lambda name: None)  # no npm: the registry's tarball URL
    monkeypatch.setattr(assets, "TARBALL_URL", cached.as_uri())
    fetched = assets.fetch_tarball()
    assert fetched == tmp_path / "cache" / "npm" / cached.name and fetched.read_bytes() == cached.read_bytes()
    css = assets.install(tmp_path / "static")
    assert css.read_bytes().startswith(b"/* hds-core 5.2.2") and b".hds-notification" in css.read_bytes()
    assert "MIT" in (css.parent / "hds-core-LICENSE.txt").read_text()


def test_a_package_that_does_not_match_its_pin_is_refused(tmp_path, monkeypatch):
    tampered = tmp_path / "tampered.tgz"
    shutil.copy(assets.fetch_tarball(), tampered)
    with open(tampered, "ab") as f:
        f.write(b"\0")
    monkeypatch.setenv("OT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(assets.shutil, "which", lambda name: None)
    monkeypatch.setattr(assets, "TARBALL_URL", tampered.as_uri())
    with pytest.raises(SystemExit, match="integrity"):
        assets.fetch_tarball()
    assert not (tmp_path / "cache" / "npm" / f"hds-core-{assets.VERSION}.tgz").exists()
