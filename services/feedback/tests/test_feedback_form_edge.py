"""The answer form is a public edge too: what a browser (or anyone with a link, or without one)
can post. Every refusal is a clear 4xx page and stores nothing; nothing is a 500."""
from __future__ import annotations

import uuid
from datetime import timedelta
from urllib.parse import quote, urlencode

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ot_guard.testing import sample
from ot_runtime import privacy
from ot_feedback import edge
from ot_feedback.domain import MAX_FREE_TEXT, FollowUpState, GotNeeded, WhatNext
from ot_feedback.store import answers, follow_ups
from ot_feedback.web import MAX_BODY_BYTES

from feedback_testkit import NOW, TENANT
from test_feedback_web import client, keys, stored, token  # noqa: F401 (fixtures)

FORM = "application/x-www-form-urlencoded"
ANSWER = {"usefulness": "4", "got_needed": "partly", "what_next": "nothing_yet", "free_text": "Hyvä keskustelu."}


def post(client, token: str, body: bytes | str, content_type: str = FORM):
    return client.post(f"/palaute/{quote(token, safe='')}", data=body, content_type=content_type)


def guard_calls(monkeypatch) -> list:
    """Every text the client-identifier guard is asked to scan from now on (it finds nothing)."""
    scanned: list = []
    monkeypatch.setattr(privacy, "check_fields", lambda fields: scanned.append(fields) or [])
    return scanned


def state(handlers, token: str) -> str:
    with handlers.sessions() as s:
        return s.execute(sa.select(follow_ups.c.state).where(follow_ups.c.id == token.split(".")[0])).scalar_one()


# --- the link ----------------------------------------------------------------------------------
def test_a_link_with_a_non_ascii_mac_is_not_valid_rather_than_a_server_error(client, token):
    fid, expires, mac = token.split(".")
    forged = f"{fid}.{expires}.{'ä' * len(mac)}"
    for resp in (client.get(f"/palaute/{quote(forged)}"), post(client, forged, urlencode(ANSWER))):
        assert resp.status_code == 404 and "Linkki ei kelpaa" in resp.get_data(as_text=True)


@pytest.mark.parametrize("mangle", [
    lambda fid, exp, mac: f"{fid}.0{exp}.{mac}",            # the same expiry written differently
    lambda fid, exp, mac: f"{fid}. {exp}.{mac}",            # int() would take the space
    lambda fid, exp, mac: f"{fid}.{exp}.{mac}\n",           # a line break after it
    lambda fid, exp, mac: f"{fid}.{exp}.{mac}" + "A" * 100000,  # huge
    lambda fid, exp, mac: f"{fid}.{'9' * 5000}.{mac}",      # a number too long for int()
    lambda fid, exp, mac: f"{fid}\x00.{exp}.{mac}",         # NUL
    lambda fid, exp, mac: "\ufffd" * 3,                     # what an undecodable path becomes
])
def test_only_the_link_exactly_as_signed_opens_the_form(client, token, handlers, mangle):
    bad = mangle(*token.split("."))
    for resp in (client.get(f"/palaute/{quote(bad, safe='')}"), post(client, bad, urlencode(ANSWER))):
        assert resp.status_code == 404 and "Linkki ei kelpaa" in resp.get_data(as_text=True)
    assert stored(handlers) == []
    assert client.get(f"/palaute/{token}").status_code == 200


def test_a_path_that_is_not_utf8_is_not_a_valid_link(client):
    resp = client.get("/palaute/%FF%FE.%C3.abc")
    assert resp.status_code == 404 and "Linkki ei kelpaa" in resp.get_data(as_text=True)


# --- the body ----------------------------------------------------------------------------------
def test_a_huge_body_is_refused_with_413_before_anything_reads_it(client, token, handlers, monkeypatch):
    scanned = guard_calls(monkeypatch)
    resp = post(client, token, urlencode({**ANSWER, "free_text": "Matti, " * 80000}))
    page = resp.get_data(as_text=True)
    assert resp.status_code == 413 and "liian suuri" in page and "too large" in page
    assert scanned == [] and stored(handlers) == [] and state(handlers, token) == FollowUpState.SENT


def test_the_longest_answer_the_form_allows_fits_in_the_body_limit(client, token, handlers):
    longest = "€" * MAX_FREE_TEXT  # three bytes in UTF-8, nine percent-encoded
    assert len(urlencode({**ANSWER, "free_text": longest})) < MAX_BODY_BYTES
    assert post(client, token, urlencode({**ANSWER, "free_text": longest})).status_code == 200
    assert stored(handlers)[0]["free_text"] == longest


def test_line_breaks_count_once_as_the_browser_counts_them(client, token, handlers):
    # A browser lets 2000 characters into the textarea and sends each line break as CR LF.
    text = ("Rivi.\n" * 333 + "xy").replace("\n", "\r\n")
    assert len(text.replace("\r\n", "\n")) == MAX_FREE_TEXT and len(text) > MAX_FREE_TEXT
    assert post(client, token, urlencode({**ANSWER, "free_text": text})).status_code == 200
    assert stored(handlers)[0]["free_text"] == ("Rivi.\n" * 333 + "xy").strip()


@pytest.mark.parametrize("body", [
    b"usefulness=4&got_needed=yes&free_text=%FF%FE",      # escapes that are not UTF-8
    b"usefulness=4&got_needed=yes&free_text=\xc3\xa4",    # raw bytes (a browser always escapes them)
    b"usefulness=4&got_needed=yes&free_text=%C3",         # a cut UTF-8 sequence
    b"&".join([b"x=1"] * 50),                              # not our form: far too many fields
])
def test_a_body_that_is_not_a_utf8_form_is_a_clear_400_and_stores_nothing(client, token, handlers, body):
    resp = post(client, token, body)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "Lomaketta ei voi lukea" in page and "cannot be read" in page
    assert stored(handlers) == [] and state(handlers, token) == FollowUpState.SENT


def test_another_kind_of_body_is_415(client, token, handlers):
    multipart = (b"--b\r\nContent-Disposition: form-data; name=\"usefulness\"\r\n\r\n4\r\n--b--\r\n")
    resp = post(client, token, multipart, content_type="multipart/form-data; boundary=b")
    assert resp.status_code == 415 and "x-www-form-urlencoded" in resp.get_data(as_text=True)
    assert stored(handlers) == []


# --- the fields --------------------------------------------------------------------------------
@pytest.mark.parametrize("field,value,why", [
    ("free_text", "Hyvä\x00keskustelu", "control_character"),
    ("free_text", "x" * (MAX_FREE_TEXT + 1), "too_long"),
    ("usefulness", "4\x00", "too_long"),
    ("got_needed", "yes\x00", "control_character"),
    ("what_next", "nothing_yet" * 10, "too_long"),
])
def test_a_field_of_the_wrong_form_is_marked_before_the_guard_reads_anything(client, token, handlers, monkeypatch,
                                                                            field, value, why):
    scanned = guard_calls(monkeypatch)
    resp = post(client, token, urlencode({**ANSWER, field: value, "free_text": sample("name")}
                                         if field != "free_text" else {**ANSWER, field: value}))
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422 and f"{field}-error" in page
    assert scanned == [] and stored(handlers) == []
    assert [p.reason for p in edge.check_form({**ANSWER, field: value})] == [why]


def test_the_guard_still_refuses_identifiers_in_well_formed_text(client, token, handlers):
    resp = post(client, token, urlencode({**ANSWER, "free_text": f"Soita {sample('phone')}"}))
    assert resp.status_code == 422 and "puhelinnumeron" in resp.get_data(as_text=True)
    assert stored(handlers) == []


def test_a_statistics_period_no_calendar_has_is_400_not_500(client, keys):
    coord = {"Authorization": f"Bearer {keys.token(roles=('coordinator',))}"}
    for period in ("9999", "0000-Q1", "%00", "٢٠٢٦"):
        assert client.get(f"/stats.csv?period={period}", headers=coord).status_code == 400
        assert client.get(f"/stats?period={period}", headers=coord).status_code == 400


def test_the_sign_in_form_is_read_the_same_strict_way(client, keys):
    coordinator = urlencode({"token": keys.token(roles=("coordinator",))})
    resp = client.post("/stats/login", data=coordinator, content_type=FORM)
    assert resp.status_code == 302 and "ot_token=" in resp.headers["Set-Cookie"]
    professional = urlencode({"token": keys.token(roles=("professional",))})
    assert client.post("/stats/login", data=professional, content_type=FORM).status_code == 401
    assert client.post("/stats/login", data=b"token=%FF", content_type=FORM).status_code == 400
    assert client.post("/stats/login", data="x" * (MAX_BODY_BYTES + 1), content_type=FORM).status_code == 413


# --- property: whatever arrives, never a 5xx, and nothing stored on refusal ----------------------
def fresh_link(handlers) -> str:
    """A follow-up whose request mail went out, and its link."""
    fid = str(uuid.uuid4())
    expires = NOW + timedelta(days=28)
    with handlers.sessions.begin() as s:
        s.execute(follow_ups.insert().values(
            id=fid, tenant=TENANT, request_id=str(uuid.uuid4()), type="group_consultation",
            state=FollowUpState.SENT.value, consulted_at=NOW - timedelta(days=60), sent_at=NOW, expires_at=expires,
            created_at=NOW, updated_at=NOW))
    return handlers.signer.sign(fid, expires)


def count_answers(handlers) -> int:
    with handlers.sessions() as s:
        return s.execute(sa.select(sa.func.count()).select_from(answers)).scalar_one()


any_text = st.one_of(st.text(max_size=50), st.text(max_size=3000),
                     st.sampled_from(["", "\x00", "a" * 40000, "\r\n" * 1500, "é" * 2001]))
tokens = st.one_of(any_text, st.binary(max_size=300).map(lambda b: b.decode("latin-1")),
                   st.builds(lambda a, b, c: f"{a}.{b}.{c}", any_text, any_text, any_text))
field_values = {"usefulness": st.one_of(st.sampled_from(["1", "5", " 3"]), any_text),
                "got_needed": st.one_of(st.sampled_from([g.value for g in GotNeeded]), any_text),
                "what_next": st.one_of(st.sampled_from(["", *[w.value for w in WhatNext]]), any_text),
                "free_text": st.one_of(st.just(""), st.just("Kiitos avusta."), any_text)}
forms = st.fixed_dictionaries({}, optional={**field_values, "other": any_text}).map(urlencode)
# Answers a person could give (any text in the free field), so that some are stored.
answers_given = st.fixed_dictionaries(
    {"usefulness": st.sampled_from("12345"), "got_needed": st.sampled_from([g.value for g in GotNeeded])},
    optional={"what_next": st.sampled_from([w.value for w in WhatNext]), "free_text": st.text(max_size=300)},
).map(urlencode)
bodies = st.one_of(answers_given, forms, st.binary(max_size=2000),
                   st.just(b"free_text=" + b"A" * (MAX_BODY_BYTES + 1)))
PROPERTY = settings(max_examples=120, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))


@PROPERTY
@given(token_text=tokens, body=bodies, content_type=st.sampled_from([FORM, FORM, "text/plain", "multipart/form-data"]))
def test_any_token_and_any_body_gets_a_page_never_a_server_error(client, handlers, token_text, body, content_type):
    before = count_answers(handlers)
    url = f"/palaute/{quote(token_text, safe='')}"
    assert client.get(url).status_code < 500
    resp = client.post(url, data=body, content_type=content_type)
    assert 400 <= resp.status_code < 500, resp.status_code  # no random token is ours
    assert count_answers(handlers) == before


@PROPERTY
@given(body=bodies, content_type=st.sampled_from([FORM, FORM, FORM, "text/plain"]))
def test_any_body_to_a_working_link_is_stored_whole_or_not_at_all(client, handlers, body, content_type):
    link = fresh_link(handlers)
    before = count_answers(handlers)
    resp = client.post(f"/palaute/{link}", data=body, content_type=content_type)
    assert resp.status_code < 500, resp.status_code
    if resp.status_code == 200:
        [row] = [r for r in stored(handlers) if r["follow_up_id"] == link.split(".")[0]]
        assert 1 <= row["usefulness"] <= 5 and row["got_needed"] in {g.value for g in GotNeeded}
        assert len(row["free_text"]) <= MAX_FREE_TEXT and not edge.check_form({"free_text": row["free_text"]})
        assert state(handlers, link) == FollowUpState.ANSWERED
    else:
        assert 400 <= resp.status_code < 500
        assert count_answers(handlers) == before and state(handlers, link) == FollowUpState.SENT
