"""The server-side session store: what the browser holds, what the database holds, when it ends."""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from ot_portal.sessions import sessions
from portal_testkit import person, sign_in


def rows(portal) -> list:
    with portal.engine.connect() as c:
        return list(c.execute(sa.select(sessions)))


def cookie_of(answer, name: str = "ot_portal_session") -> str:
    for header in answer.headers.getlist("Set-Cookie"):
        if header.startswith(f"{name}="):
            return header
    raise AssertionError(f"no {name} cookie in {answer.headers.getlist('Set-Cookie')}")


def test_the_cookie_is_a_random_id_http_only_same_site_lax(client, idp):
    header = cookie_of(sign_in(client, idp, person("professional")))
    flags = [part.strip().lower() for part in header.split(";")]
    assert "httponly" in flags and "samesite=lax" in flags and "path=/" in flags
    assert "secure" not in flags  # plain loopback (http://127.0.0.1): a Secure cookie would never come back
    assert not any(f.startswith(("expires=", "max-age=")) for f in flags)  # gone when the browser closes


def test_behind_tls_the_cookie_is_secure_and_host_only(make_portal, idp):
    client = make_portal(OT_PORTAL_PUBLIC_URL="https://ot.pohjois-savo.example").http_server.app.test_client()
    https = {"base_url": "https://ot.pohjois-savo.example"}
    answer = sign_in(client, idp, person("professional"), **https)
    header = cookie_of(answer, "__Host-ot_portal_session")
    assert "secure" in [part.strip().lower() for part in header.split(";")]
    assert "Domain" not in header
    assert answer.headers["Strict-Transport-Security"].startswith("max-age=")


def test_the_database_holds_neither_the_id_nor_the_tokens(client, idp, portal):
    answer = sign_in(client, idp, person("professional"))
    sid = cookie_of(answer).split(";")[0].split("=", 1)[1]
    (row,) = rows(portal)
    assert row.id_hash == hashlib.sha256(sid.encode()).hexdigest() and sid not in row.id_hash
    assert b"eyJ" not in row.data and b"professional" not in row.data and b"refresh" not in row.data


def test_a_new_id_is_issued_at_sign_in(client, idp, portal):
    started = client.get("/kirjaudu")
    before = cookie_of(started).split(";")[0]
    assert len(rows(portal)) == 1  # the sign-in's state, kept for the callback
    idp.next_claims = person("professional")
    after = cookie_of(sign_in(client, idp, person("professional"))).split(";")[0]
    assert after != before
    assert len(rows(portal)) == 1  # the anonymous one is gone


def test_an_anonymous_visit_stores_nothing(client, portal):
    for path in ("/", "/saavutettavuusseloste", "/kieli/en"):
        answer = client.get(path)
        assert "ot_portal_session" not in " ".join(answer.headers.getlist("Set-Cookie"))
    assert rows(portal) == []


def test_a_session_unused_for_30_minutes_has_ended(client, idp, portal):
    sign_in(client, idp, person("professional"))
    with portal.engine.begin() as c:
        c.execute(sa.update(sessions).values(expires_at=datetime.now(timezone.utc) - timedelta(seconds=1)))
    answer = client.get("/omat-pyynnot")
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/kirjaudu")


def test_a_session_ends_10_hours_after_sign_in_however_busy(client, idp, portal):
    sign_in(client, idp, person("professional"))
    with portal.engine.begin() as c:
        c.execute(sa.update(sessions).values(created_at=datetime.now(timezone.utc) - timedelta(hours=10, seconds=1)))
    assert client.get("/omat-pyynnot").status_code == 302


def test_a_row_does_not_open_under_another_id(client, idp, portal):
    """Copying a row under a known id (whoever can write the table) gives no session."""
    sign_in(client, idp, person("professional"))
    known = "A" * 43
    with portal.engine.begin() as c:
        c.execute(sa.update(sessions).values(id_hash=hashlib.sha256(known.encode()).hexdigest()))
    client.set_cookie("ot_portal_session", known)
    assert client.get("/omat-pyynnot").status_code == 302


def test_using_a_session_moves_its_idle_end_on(client, idp, portal):
    sign_in(client, idp, person("professional"))
    soon = datetime.now(timezone.utc) + timedelta(minutes=5)
    with portal.engine.begin() as c:
        c.execute(sa.update(sessions).values(expires_at=soon))
    client.get("/")
    (row,) = rows(portal)
    assert row.expires_at > soon + timedelta(minutes=20)
