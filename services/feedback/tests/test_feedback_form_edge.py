"""The answer form's calls, OpenFeedbackForm and AnswerFeedback, through the real interceptor chain:
open to anyone without a token (the link is the permission), checked like every request (the form
of each field first, then the guard), and every refusal a clear bilingual error that says nothing
about the case and stores nothing."""
from __future__ import annotations

import uuid
from datetime import timedelta

import grpc
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ot.common.v1 import case_pb2
from ot.feedback.v1 import feedback_pb2 as pb

from ot_guard.testing import sample
from ot_runtime import privacy
from ot_runtime.testing import field_violations, status_details
from ot_feedback.domain import MAX_FREE_TEXT, FollowUpState
from ot_feedback.store import answers, follow_ups

from feedback_testkit import NOW, TENANT
from test_feedback_edge import call, keys, refusal, server  # noqa: F401 (fixtures)
from test_feedback_web import stored, token  # noqa: F401 (fixtures)

ANSWER = dict(usefulness=4, got_needed=pb.GOT_NEEDED_PARTLY, what_next=pb.WHAT_NEXT_NOTHING_YET,
              free_text="Hyvä keskustelu.")
NO_TOKEN = ()


def answer(token: str, **fields) -> pb.AnswerFeedbackRequest:
    return pb.AnswerFeedbackRequest(link_token=token, **{**ANSWER, **fields})


def open_form(channel, token: str, metadata=NO_TOKEN) -> pb.FeedbackForm:
    return call(channel, "OpenFeedbackForm", pb.OpenFeedbackFormRequest(link_token=token), metadata)


def guard_calls(monkeypatch) -> list:
    """Every text the client-identifier guard is asked to scan from now on (it finds nothing)."""
    scanned: list = []
    monkeypatch.setattr(privacy, "check_fields", lambda fields: scanned.append(fields) or [])
    return scanned


def state(handlers, token: str) -> str:
    with handlers.sessions() as s:
        return s.execute(sa.select(follow_ups.c.state).where(follow_ups.c.id == token.split(".")[0])).scalar_one()


def error_info_reason(error: grpc.RpcError) -> str:
    return next((d.reason for d in status_details(error) if hasattr(d, "reason") and hasattr(d, "metadata")), "")


def violations(error: grpc.RpcError) -> list[tuple[str, str]]:
    return [(v.field, v.reason) for v in field_violations(error)]


# --- opening the form ----------------------------------------------------------------------------
def test_the_link_opens_its_form_without_any_sign_in(server, token):
    form = open_form(server, token)
    assert form.type == case_pb2.REQUEST_TYPE_GROUP_CONSULTATION
    assert form.case_questions is True and form.free_text_max_chars == MAX_FREE_TEXT
    assert form.answer_by.ToDatetime() == (NOW + timedelta(days=60 + 28)).replace(tzinfo=None)


def test_a_token_of_any_role_or_area_changes_nothing_the_link_decides(server, keys, token):
    # The call is open to anyone: a token is not read, so neither a role nor another area's token
    # opens more (or less) than the link does.
    for metadata in (keys.metadata(roles=("professional",)), keys.metadata(roles=("coordinator",), area="keski-suomi"),
                     (("authorization", "Bearer not-a-token"),)):
        assert open_form(server, token, metadata).case_questions is True


@pytest.mark.parametrize("mangle", [
    lambda fid, exp, mac: f"{fid}.{int(exp) + 999999}.{mac}",  # a later expiry: the MAC no longer fits
    lambda fid, exp, mac: f"{fid}.0{exp}.{mac}",              # the same expiry written differently
    lambda fid, exp, mac: f"{uuid.uuid4()}.{exp}.{mac}",       # another follow-up
    lambda fid, exp, mac: f"{fid}.{exp}.{mac[:-1]}",           # cut short
])
def test_a_link_that_is_not_exactly_as_signed_is_not_found_and_says_nothing_more(server, handlers, token, mangle):
    bad = mangle(*token.split("."))
    for method, message in (("OpenFeedbackForm", pb.OpenFeedbackFormRequest(link_token=bad)),
                            ("AnswerFeedback", answer(bad))):
        error = refusal(server, method, message, NO_TOKEN)
        assert error.code() is grpc.StatusCode.NOT_FOUND
        assert error.details().startswith("Linkki ei kelpaa.") and "The link is not valid." in error.details()
        assert "r-1" not in error.details() and token.split(".")[0] not in error.details()
    assert stored(handlers) == [] and open_form(server, token).case_questions


@pytest.mark.parametrize("bad,why", [
    ("A" * 100000, "too_long"),
    ("\x00", "control_character"),
    ("linkki ä", "bad_form"),
    ("", "bad_form"),
])
def test_a_link_token_of_the_wrong_form_is_refused_at_the_edge_naming_the_field(server, handlers, bad, why):
    for method, message in (("OpenFeedbackForm", pb.OpenFeedbackFormRequest(link_token=bad)),
                            ("AnswerFeedback", answer(bad))):
        error = refusal(server, method, message, NO_TOKEN)
        if bad == "":  # an empty string is not on the wire: the link is simply not ours
            assert error.code() is grpc.StatusCode.NOT_FOUND
        else:
            assert error.code() is grpc.StatusCode.INVALID_ARGUMENT and violations(error) == [("link_token", why)]
    assert stored(handlers) == []


def test_an_expired_link_is_a_failed_precondition_in_words(server, handlers, clock, token):
    clock.advance(days=29)
    for method, message in (("OpenFeedbackForm", pb.OpenFeedbackFormRequest(link_token=token)),
                            ("AnswerFeedback", answer(token))):
        error = refusal(server, method, message, NO_TOKEN)
        assert error.code() is grpc.StatusCode.FAILED_PRECONDITION and error_info_reason(error) == "LINK_EXPIRED"
        assert "vanhentunut" in error.details() and "expired" in error.details()
    assert stored(handlers) == []


def test_a_cancelled_follow_up_does_not_open(server, handlers, token):
    with handlers.sessions.begin() as s:
        handlers.cancel(s, "r-1", "withdrawn")
    error = refusal(server, "OpenFeedbackForm", pb.OpenFeedbackFormRequest(link_token=token), NO_TOKEN)
    assert error.code() is grpc.StatusCode.FAILED_PRECONDITION and error_info_reason(error) == "FOLLOW_UP_CANCELLED"


# --- answering -----------------------------------------------------------------------------------
def test_an_answer_is_stored_once_and_the_second_is_refused(server, handlers, token):
    assert call(server, "AnswerFeedback", answer(token), NO_TOKEN) == pb.AnswerFeedbackResponse()
    [row] = stored(handlers)
    assert (row["usefulness"], row["got_needed"], row["what_next"], row["free_text"]) == (
        4, "partly", "nothing_yet", "Hyvä keskustelu.")
    assert state(handlers, token) == FollowUpState.ANSWERED
    again = refusal(server, "AnswerFeedback", answer(token, usefulness=1), NO_TOKEN)
    assert again.code() is grpc.StatusCode.FAILED_PRECONDITION and error_info_reason(again) == "LINK_USED"
    assert "jo käytetty" in again.details() and "already been used" in again.details()
    used = refusal(server, "OpenFeedbackForm", pb.OpenFeedbackFormRequest(link_token=token), NO_TOKEN)
    assert error_info_reason(used) == "LINK_USED"
    assert [r["usefulness"] for r in stored(handlers)] == [4]


def test_an_identity_code_in_the_free_text_is_refused_at_its_field_and_nothing_is_stored(server, handlers, token):
    error = refusal(server, "AnswerFeedback", answer(token, free_text=f"Asiakas {sample('identity_code')}"),
                    NO_TOKEN)
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert violations(error) == [("free_text", "identity_code")]
    assert "henkilötunnuksen" in field_violations(error)[0].description
    assert sample("identity_code") not in error.details() + field_violations(error)[0].description
    assert stored(handlers) == [] and state(handlers, token) == FollowUpState.SENT
    # The link still works: the fixed answer is stored.
    call(server, "AnswerFeedback", answer(token, free_text="Sain hyviä neuvoja."), NO_TOKEN)
    assert stored(handlers)[0]["free_text"] == "Sain hyviä neuvoja."


def test_missing_choices_are_named_by_their_fields(server, handlers, token):
    error = refusal(server, "AnswerFeedback", pb.AnswerFeedbackRequest(link_token=token), NO_TOKEN)
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert violations(error) == [("usefulness", "required"), ("got_needed", "required")]
    assert all(" / " in v.description for v in field_violations(error))  # Finnish / English
    assert stored(handlers) == []


@pytest.mark.parametrize("fields,expected", [
    (dict(usefulness=7), [("usefulness", "required")]),
    (dict(usefulness=-1), [("usefulness", "required")]),
    (dict(got_needed=99), [("got_needed", "unknown_value")]),
    (dict(what_next=42), [("what_next", "unknown_value")]),
    (dict(free_text="Hyvä\x00keskustelu"), [("free_text", "control_character")]),
    (dict(free_text="x" * (MAX_FREE_TEXT + 1)), [("free_text", "too_long")]),
    (dict(free_text="Matti, " * 20000), [("free_text", "too_long")]),
])
def test_a_field_of_the_wrong_form_is_refused_before_the_guard_reads_anything(server, handlers, token, monkeypatch,
                                                                            fields, expected):
    scanned = guard_calls(monkeypatch)
    error = refusal(server, "AnswerFeedback", answer(token, **fields), NO_TOKEN)
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT and violations(error) == expected
    if "usefulness" not in fields:  # a number is not the edge's (its range is the handler's, after the guard)
        assert scanned == []
    assert stored(handlers) == [] and state(handlers, token) == FollowUpState.SENT


def test_a_message_over_the_servers_limit_is_refused_before_anything_reads_it(server, handlers, token, monkeypatch):
    scanned = guard_calls(monkeypatch)
    error = refusal(server, "AnswerFeedback", answer(token, free_text="Matti, " * 80000), NO_TOKEN)
    assert error.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert scanned == [] and stored(handlers) == [] and state(handlers, token) == FollowUpState.SENT


def test_the_longest_free_text_is_taken_whole(server, handlers, token):
    longest = "€" * MAX_FREE_TEXT
    call(server, "AnswerFeedback", answer(token, free_text=longest), NO_TOKEN)
    assert stored(handlers)[0]["free_text"] == longest


def test_the_case_questions_may_be_left_out(server, handlers, token):
    call(server, "AnswerFeedback", pb.AnswerFeedbackRequest(link_token=token, usefulness=5,
                                                           got_needed=pb.GOT_NEEDED_YES), NO_TOKEN)
    [row] = stored(handlers)
    assert (row["usefulness"], row["got_needed"], row["what_next"], row["free_text"]) == (5, "yes", None, "")


# --- property: whatever arrives, never an internal error, stored whole or not at all -------------
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
requests = st.builds(pb.AnswerFeedbackRequest, usefulness=st.integers(-3, 9), got_needed=st.integers(0, 5),
                     what_next=st.integers(0, 7), free_text=st.one_of(st.just(""), st.just("Kiitos avusta."), any_text))
PROPERTY = settings(max_examples=80, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))
OK_OR_REFUSED = {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND, grpc.StatusCode.FAILED_PRECONDITION}


@PROPERTY
@given(token_text=any_text, message=requests)
def test_any_token_and_any_answer_is_refused_in_words_and_stores_nothing(server, handlers, token_text, message):
    before = count_answers(handlers)
    message.link_token = token_text
    for method, request in (("OpenFeedbackForm", pb.OpenFeedbackFormRequest(link_token=token_text)),
                            ("AnswerFeedback", message)):
        error = refusal(server, method, request, NO_TOKEN)
        assert error is not None and error.code() in OK_OR_REFUSED, error and error.code()  # no random token is ours
    assert count_answers(handlers) == before


@PROPERTY
@given(message=requests)
def test_any_answer_to_a_working_link_is_stored_whole_or_not_at_all(server, handlers, message):
    link = fresh_link(handlers)
    message.link_token = link
    error = refusal(server, "AnswerFeedback", message, NO_TOKEN)
    if error is None:
        [row] = [r for r in stored(handlers) if r["follow_up_id"] == link.split(".")[0]]
        assert 1 <= row["usefulness"] <= 5 and row["got_needed"] in {"yes", "partly", "no"}
        assert row["free_text"] == message.free_text.strip()
        assert state(handlers, link) == FollowUpState.ANSWERED
    else:
        assert error.code() is grpc.StatusCode.INVALID_ARGUMENT, error.code()
        assert state(handlers, link) == FollowUpState.SENT
        assert not [r for r in stored(handlers) if r["follow_up_id"] == link.split(".")[0]]
