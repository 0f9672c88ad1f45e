"""Signing in and out: the code flow with PKCE, who gets in, token refresh, RP-initiated logout."""
from __future__ import annotations

from ot.intake.v1 import intake_pb2

from urllib.parse import parse_qs, urlsplit

import requests

from portal_testkit import PUBLIC_URL, person, sign_in


def test_sign_in_uses_the_code_flow_with_pkce_and_shows_who_signed_in(client, idp):
    answer = sign_in(client, idp, person("coordinator"), next_path="/saavutettavuusseloste")
    assert answer.status_code == 302 and answer.headers["Location"] == "/saavutettavuusseloste"
    asked = idp.authorize_requests[-1]
    assert asked["response_type"] == "code" and asked["code_challenge_method"] == "S256"
    assert asked["redirect_uri"] == f"{PUBLIC_URL}/auth/callback" and asked["nonce"]
    assert "openid" in asked["scope"].split() and asked["ui_locales"] == "fi"
    exchanged = idp.token_requests[-1]
    assert exchanged["grant_type"] == "authorization_code" and len(exchanged["code_verifier"]) >= 43
    front = client.get("/")
    page = front.get_data(as_text=True)
    assert "Demo Coordinator" in page and "koordinaattori" in page and "Kirjaudu ulos" in page
    assert front.headers["Cache-Control"] == "no-store"  # a signed-in page stays out of every cache


def test_the_tokens_never_reach_the_browser(client, idp):
    answer = sign_in(client, idp, person("professional"))
    cookies = answer.headers.getlist("Set-Cookie")
    assert len(cookies) == 1 and cookies[0].startswith("ot_portal_session=")
    value = cookies[0].split(";")[0].split("=", 1)[1]
    assert len(value) == 43 and "." not in value  # a random id, not a token nor signed data
    page = client.get("/").get_data(as_text=True)
    assert "eyJ" not in page  # no JWT anywhere in the page


def test_another_areas_person_is_refused(client, idp):
    answer = sign_in(client, idp, person("professional", area="keski-suomi"))
    assert answer.status_code == 403
    assert "toisen hyvinvointialueen" in answer.get_data(as_text=True)
    assert client.get("/omat-pyynnot").status_code == 302  # not signed in


def test_a_person_without_a_platform_role_is_refused(client, idp):
    answer = sign_in(client, idp, {**person("professional"), "ot_roles": ["service", "offline_access"]})
    assert answer.status_code == 403
    assert "Ei pääsyä OT-portaaliin" in answer.get_data(as_text=True)


def test_a_callback_that_was_not_started_here_is_refused(client, idp):
    sign_in(client, idp, person("professional"))  # a signed-in session, then a forged or replayed callback
    answer = client.get("/auth/callback?code=stolen&state=not-ours")
    assert answer.status_code == 400 and "Kirjautuminen jäi kesken" in answer.get_data(as_text=True)


def test_a_cancelled_sign_in_says_so(client, idp):
    client.get("/kirjaudu")
    answer = client.get("/auth/callback?error=access_denied&state=x")
    assert answer.status_code == 400 and "peruttiin" in answer.get_data(as_text=True)


def test_a_provider_that_does_not_answer_is_shown_as_such(make_portal, idp):
    idp.stop()
    client = make_portal().http_server.app.test_client()
    answer = client.get("/kirjaudu")
    assert answer.status_code == 503 and "Kirjautuminen ei ole juuri nyt käytettävissä" in answer.get_data(as_text=True)


def test_next_never_leads_to_another_site(client, idp):
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        answer = sign_in(client, idp, person("professional"), next_path=target)
        assert answer.headers["Location"] == "/", target
        client.post("/kirjaudu-ulos", data={"csrf_token": csrf_token(client)})


def csrf_token(client) -> str:
    page = client.get("/").get_data(as_text=True)
    return page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def test_sign_out_ends_the_session_here_and_at_the_provider(client, idp, portal):
    sign_in(client, idp, person("professional"))
    answer = client.post("/kirjaudu-ulos", data={"csrf_token": csrf_token(client)})
    assert answer.status_code == 302
    end = urlsplit(answer.headers["Location"])
    assert end.path.endswith("/protocol/openid-connect/logout")
    args = parse_qs(end.query)
    assert args["post_logout_redirect_uri"] == [f"{PUBLIC_URL}/uloskirjautunut"] and args["id_token_hint"]
    assert any(c.startswith("ot_portal_session=;") for c in answer.headers.getlist("Set-Cookie"))
    assert client.get("/omat-pyynnot").status_code == 302  # signed out
    back = requests.get(answer.headers["Location"], allow_redirects=False, timeout=10)
    assert back.headers["Location"] == f"{PUBLIC_URL}/uloskirjautunut" and idp.logouts


def test_sign_out_without_the_forms_token_is_refused(client, idp):
    sign_in(client, idp, person("professional"))
    answer = client.post("/kirjaudu-ulos")
    assert answer.status_code == 400 and "Lomake vanheni" in answer.get_data(as_text=True)
    assert client.get("/omat-pyynnot").status_code != 302  # still signed in


def test_a_token_about_to_expire_is_refreshed_before_a_call(client, idp, services):
    idp.expires_in = 30  # under the refresh margin: the next call refreshes first
    sign_in(client, idp, person("professional"))
    first_token = idp.token_requests[-1]
    services.answers["ListRequests"] = intake_pb2.ListRequestsResponse()
    assert client.get("/omat-pyynnot").status_code == 200
    assert idp.token_requests[-1]["grant_type"] == "refresh_token" and idp.token_requests[-1] is not first_token
    sent = services.calls[-1][1]["authorization"].removeprefix("Bearer ")
    assert sent not in (None, "") and sent.count(".") == 2


def test_a_refresh_the_provider_refuses_ends_the_session(client, idp, services):
    idp.expires_in = 30
    sign_in(client, idp, person("professional"))
    idp.refuse_refresh = True
    answer = client.get("/omat-pyynnot")
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/kirjaudu")
    assert services.calls == []  # nothing was called with a dead token
    assert client.get("/").get_data(as_text=True).count("Kirjaudu sisään") == 1


def test_a_fresh_token_is_not_refreshed(client, idp, services):
    sign_in(client, idp, person("professional"))
    services.answers["ListRequests"] = intake_pb2.ListRequestsResponse()
    before = len(idp.token_requests)
    client.get("/omat-pyynnot")
    assert len(idp.token_requests) == before
