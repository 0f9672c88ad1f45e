"""`ot-dev-token` signs with the project's existing key wherever it runs, or refuses and says where
it looked: a token signed with a key it made on the spot would be refused by every service."""
from pathlib import Path

import jwt
import pytest

from ot_runtime.auth import ROLES_CLAIM
from ot_runtime.devtoken import DEV_AUDIENCE, SERVICE_KEY, ensure_keys, find_keys, main


@pytest.fixture()
def repo(tmp_path, monkeypatch) -> Path:
    """A checkout as `make run` leaves it: the root's markers and its development keys."""
    root = tmp_path / "checkout"
    (root / "libs" / "ot-runtime").mkdir(parents=True)
    (root / "Makefile").write_text("run:\n")
    (root / "services" / "intake").mkdir(parents=True)
    ensure_keys(root / ".data" / "dev-keys", SERVICE_KEY)
    ensure_keys(root / ".data" / "dev-keys", "jwt")
    monkeypatch.delenv("OT_DEV_KEY_DIR", raising=False)
    monkeypatch.delenv("OT_DATA_DIR", raising=False)
    return root


def claims_with(public_pem: Path, token: str) -> dict:
    return jwt.decode(token, public_pem.read_bytes(), algorithms=["ES256"], audience=DEV_AUDIENCE)


@pytest.mark.parametrize("role,key", [("coordinator", "jwt"), ("service", SERVICE_KEY)])
def test_run_from_a_sub_folder_it_signs_with_the_repositorys_key(repo, monkeypatch, capsys, role, key):
    monkeypatch.chdir(repo / "services" / "intake")
    assert main(["--role", role]) == 0
    token = capsys.readouterr().out.strip()
    assert claims_with(repo / ".data" / "dev-keys" / f"{key}-public.pem", token)[ROLES_CLAIM] == [role]
    assert not (repo / "services" / "intake" / ".data").exists()  # no stray keys made where it ran


def test_the_data_folder_make_run_was_given_is_where_it_looks(repo, tmp_path, monkeypatch, capsys):
    elsewhere = tmp_path / "elsewhere"
    ensure_keys(elsewhere / "dev-keys", "jwt")
    monkeypatch.setenv("OT_DATA_DIR", str(elsewhere))
    monkeypatch.chdir(repo)
    assert main([]) == 0
    assert claims_with(elsewhere / "dev-keys" / "jwt-public.pem", capsys.readouterr().out.strip())


def test_with_no_key_anywhere_it_refuses_and_says_where_it_looked(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("OT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    assert main(["--role", "coordinator"]) == 2
    out = capsys.readouterr()
    assert out.out == ""  # no token to paste by mistake
    assert str(tmp_path / "data" / "dev-keys") in out.err and "make run" in out.err
    assert not list(tmp_path.rglob("*.pem"))  # and no new key


def test_outside_any_checkout_the_search_names_every_place(tmp_path, monkeypatch):
    (tmp_path / "somewhere").mkdir()
    with pytest.raises(LookupError) as missing:
        find_keys("jwt", cwd=tmp_path / "somewhere", environ={}, installed_at=tmp_path / "site-packages" / "x.py")
    assert "(no repository root above the working directory)" in str(missing.value)


def test_an_explicit_key_folder_is_made_on_purpose(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["--key-dir", str(tmp_path / "mine")]) == 0
    assert claims_with(tmp_path / "mine" / "jwt-public.pem", capsys.readouterr().out.strip())
