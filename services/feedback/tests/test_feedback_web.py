"""The worker's form through Flask's test client: open, refuse identifiers, answer once."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from ot_guard.testing import sample
from ot_feedback.directory import Contact
from ot_feedback.domain import Category, RequestType, Sector, Status
from ot_feedback.store import answers
from ot_feedback.web import create_app
from ot_runtime.testing import TestKeys
from ot_runtime.auth import TokenVerifier
from ot_runtime.devtoken import DEV_AUDIENCE, DEV_ISSUER

from feedback_testkit import NOW, TENANT, worker_emails
from test_feedback_followup import consulted, token_of


@pytest.fixture()
def keys(tmp_path):
    return TestKeys(tmp_path / "keys")


@pytest.fixture()
def client(handlers, keys):
    verifier = TokenVerifier(issuer=DEV_ISSUER, audience=DEV_AUDIENCE, tenant=TENANT,
                             public_key_pem=keys.public_path.read_text())
    return create_app(TENANT, {}, handlers, verifier).test_client()


@pytest.fixture()
def token(handlers, scheduler, mailer, clock, directory):
    directory.contacts["r-1"] = Contact(worker_emails()[0], withdrawn=False)
    consulted(handlers, "r-1")
    clock.advance(days=60)
    scheduler.run_due()
    return token_of(mailer.sent[0])


def stored(handlers) -> list:
    with handlers.sessions() as s:
        return s.execute(sa.select(answers)).mappings().all()


def test_the_form_is_finnish_first_then_english(client, token):
    page = client.get(f"/palaute/{token}").get_data(as_text=True)
    assert page.index("Kuinka hyödyllinen") < page.index("How useful")
    assert "Saitko tarvitsemasi" in page and "What happened next" in page


def test_a_refused_free_text_names_the_field_stores_nothing_and_keeps_the_link(client, token, handlers):
    text = sample("identity_code")
    resp = client.post(f"/palaute/{token}", data={"usefulness": "4", "got_needed": "partly", "free_text": text})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "free_text-error" in page and "henkilötunnuksen" in page
    assert stored(handlers) == []
    resp = client.post(f"/palaute/{token}", data={"usefulness": "4", "got_needed": "partly",
                                                 "free_text": "Sain hyviä neuvoja jatkoon."})
    assert resp.status_code == 200 and "Kiitos" in resp.get_data(as_text=True)
    [row] = stored(handlers)
    assert (row["usefulness"], row["got_needed"], row["free_text"]) == (4, "partly", "Sain hyviä neuvoja jatkoon.")


def test_the_second_use_is_refused(client, token):
    data = {"usefulness": "3", "got_needed": "no"}
    assert client.post(f"/palaute/{token}", data=data).status_code == 200
    again = client.post(f"/palaute/{token}", data=data)
    assert again.status_code == 410 and "jo käytetty" in again.get_data(as_text=True)
    assert client.get(f"/palaute/{token}").status_code == 410


def test_a_forged_link_is_refused(client, token):
    fid, expires, mac = token.split(".")
    assert client.get(f"/palaute/{fid}.{int(expires) + 999999}.{mac}").status_code == 404


def test_statistics_need_a_coordinator(client, keys, handlers):
    assert client.get("/stats.csv?period=2026").status_code == 401
    prof = {"Authorization": f"Bearer {keys.token(roles=('professional',))}"}
    assert client.get("/stats.csv?period=2026", headers=prof).status_code == 401
    coord = {"Authorization": f"Bearer {keys.token(roles=('coordinator',))}"}
    resp = client.get("/stats.csv?period=2026-Q1", headers=coord)
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert resp.get_data(as_text=True).splitlines()[0] == "period,table,row,column,value"
    assert client.get("/stats.csv?period=yesterday", headers=coord).status_code == 400


def test_statistics_suppress_small_cells_in_csv_and_page(client, keys, handlers, clock):
    for i in range(7):
        with handlers.sessions.begin() as s:
            handlers.on_request_submitted(s, request_id=f"s-{i}", type_=RequestType.OT_TUKI,
                                          categories=[Category.NEUROPSYCHIATRIC],
                                          sector=Sector.HEALTH if i < 6 else Sector.EDUCATION,
                                          submitted_at=NOW + timedelta(days=i))
    coord = {"Authorization": f"Bearer {keys.token(roles=('coordinator',))}"}
    rows = client.get("/stats.csv?period=2026-03&type=ot_tuki", headers=coord).get_data(as_text=True).splitlines()
    # Social 0 and education 1 add up to 1: from the total 7 and health 6 a reader would know that
    # one education contact exists, so health is hidden too (marked x: it is not small).
    assert "2026-03,contacts_by_sector,health,ot_tuki,x" in rows
    assert "2026-03,contacts_by_sector,education,ot_tuki,<5" in rows
    assert "2026-03,contacts_by_sector,total,ot_tuki,7" in rows
    assert "2026-03,requests_by_category,neuropsychiatric,ot_tuki,7" in rows
    page = client.get("/stats?period=2026-03&type=ot_tuki", headers=coord).get_data(as_text=True)
    assert "<svg" in page and "&lt;5" in page
