"""Feedback's HTTP side: the old address of the answer form sends the browser to the portal's form
(mails sent before the move keep working); statistics and the token sign-in are gone (the portal
has them). Also the fixtures of a mailed link that other test files use."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from ot_feedback.directory import Contact
from ot_feedback.store import answers
from ot_feedback.web import create_app

from feedback_testkit import worker_emails
from test_feedback_followup import consulted, token_of

PORTAL = "https://ot.pohjois-savo.example.invalid"


@pytest.fixture()
def client():
    return create_app(f"{PORTAL}/", {}).test_client()


@pytest.fixture()
def token(handlers, scheduler, mailer, clock, directory):
    """The link token of a follow-up whose request mail went out (the form is open)."""
    directory.contacts["r-1"] = Contact(worker_emails()[0], withdrawn=False)
    consulted(handlers, "r-1")
    clock.advance(days=60)
    scheduler.run_due()
    return token_of(mailer.sent[0])


def stored(handlers) -> list:
    with handlers.sessions() as s:
        return s.execute(sa.select(answers)).mappings().all()


def test_an_old_mailed_link_opens_the_portals_form_of_the_same_link(client, token):
    resp = client.get(f"/palaute/{token}")
    assert resp.status_code == 308
    assert resp.headers["Location"] == f"{PORTAL}/palaute/{token}"
    assert resp.headers["Referrer-Policy"] == "no-referrer" and resp.headers["Cache-Control"] == "no-store"


def test_a_form_opened_before_the_move_and_sent_after_it_shows_the_portals_form(client, token, handlers):
    resp = client.post(f"/palaute/{token}", data={"usefulness": "4", "got_needed": "yes"})
    assert resp.status_code == 303 and resp.headers["Location"] == f"{PORTAL}/palaute/{token}"
    assert stored(handlers) == []  # the answer is given at the portal, not taken here


def test_whatever_the_link_holds_it_stays_one_path_segment_at_the_portal(client):
    # A link is sent on, not read: a cut or odd one is the portal's "the link is not valid".
    resp = client.get("/palaute/x%3Fnext%3Devil.example%23y%40z%20")
    assert resp.status_code == 308
    assert resp.headers["Location"] == f"{PORTAL}/palaute/x%3Fnext%3Devil.example%23y%40z%20"


@pytest.mark.parametrize("path", ["/stats", "/stats.csv?period=2026", "/stats/login", "/"])
def test_the_statistics_pages_and_the_token_sign_in_are_gone(client, path):
    assert client.get(path).status_code == 404
    assert client.post("/stats/login", data={"token": "x"}).status_code == 404


def test_health_readiness_and_metrics_stay(client):
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/metrics").status_code == 200
