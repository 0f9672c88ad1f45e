"""What the worker wrote about a case goes when consent shreds the case's key; the counts stay."""
from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from google.protobuf.timestamp_pb2 import Timestamp
from ot.events.v1 import consent_events_pb2
from ot.feedback.v1 import feedback_pb2 as pb

from ot_runtime.cloudevents import CloudEvent
from ot_runtime.consumer import Poison
from ot_feedback.consumers import KEY_SHREDDED, event_handlers
from ot_feedback.notifications import Notifications
from ot_feedback.stats import parse_period
from ot_feedback.store import follow_ups, shredded_requests

from feedback_testkit import TENANT
from test_feedback_edge import call, keys, server  # noqa: F401 (fixtures)
from test_feedback_web import stored, token  # noqa: F401 (fixtures)

ANSWER = {"usefulness": "4", "got_needed": "partly", "what_next": "referred_to_service",
          "free_text": "Ryhmän ehdotus perheneuvolasta auttoi."}


def answer_feedback(server, token: str, **fields) -> None:
    """The worker's answer as the portal's form sends it (AnswerFeedback, no token)."""
    values = dict(usefulness=4, got_needed=pb.GOT_NEEDED_PARTLY, what_next=pb.WHAT_NEXT_REFERRED_TO_SERVICE,
                  free_text=ANSWER["free_text"], **fields)
    call(server, "AnswerFeedback", pb.AnswerFeedbackRequest(link_token=token, **values), ())


def shredded(handlers, request_id: str, tenant: str = TENANT) -> None:
    """Consent's DataKeyShredded, through feedback's consumer handler, in one transaction."""
    at = Timestamp()
    at.FromDatetime(handlers.clock.now())
    msg = consent_events_pb2.DataKeyShredded(request_id=request_id, tenant=tenant, shredded_at=at,
                                             reason="retention: consultation finished + 14 days")
    event = CloudEvent(id=str(uuid.uuid4()), type=KEY_SHREDDED, source="ot/consent", subject=request_id,
                       tenant=TENANT, time=handlers.clock.now(), dataschema="", data=msg.SerializeToString())
    with handlers.sessions.begin() as s:
        event_handlers(handlers, Notifications(handlers.tenant, handlers.clock))[KEY_SHREDDED].handle(s, event, msg)


def request_of(handlers, token: str) -> str:
    with handlers.sessions() as s:
        return s.execute(sa.select(follow_ups.c.request_id).where(follow_ups.c.id == token.split(".")[0])).scalar_one()


def counted(handlers) -> dict:
    tables, rates = handlers.compute_statistics(parse_period("2026"), None)
    return {(t.name, r, c): t.cell(r, c) for t in tables for r in t.shown_rows for c in t.shown_columns} | rates


def test_an_answer_loses_its_free_text_and_what_next_when_the_case_is_shredded_and_still_counts(
        server, token, handlers, clock):
    answer_feedback(server, token)
    [row] = stored(handlers)
    assert (row["free_text"], row["what_next"]) == (ANSWER["free_text"], "referred_to_service")
    before = counted(handlers)

    clock.advance(days=5)
    shredded(handlers, request_of(handlers, token))
    shredded(handlers, request_of(handlers, token))  # a repeat changes nothing

    [row] = stored(handlers)
    assert (row["free_text"], row["what_next"]) == ("", None)
    assert (row["usefulness"], row["got_needed"], row["type"]) == (4, "partly", "group_consultation")
    assert counted(handlers) == before  # statistics count exactly what is kept


def test_after_the_shredding_the_form_asks_only_what_is_counted_and_keeps_nothing_else(server, token, handlers):
    assert call(server, "OpenFeedbackForm", pb.OpenFeedbackFormRequest(link_token=token), ()).case_questions
    shredded(handlers, request_of(handlers, token))
    assert not call(server, "OpenFeedbackForm", pb.OpenFeedbackFormRequest(link_token=token), ()).case_questions
    # A form opened before the shredding still sends the case questions: they are not kept.
    answer_feedback(server, token)
    [row] = stored(handlers)
    assert (row["usefulness"], row["got_needed"], row["free_text"], row["what_next"]) == (4, "partly", "", None)


def test_a_shredding_that_comes_before_the_follow_up_is_remembered(handlers, scheduler, mailer, clock, directory):
    from ot_feedback.directory import Contact
    from test_feedback_followup import consulted, token_of

    from feedback_testkit import worker_emails
    rid = str(uuid.uuid4())
    shredded(handlers, rid)  # the events of two topics come in either order
    directory.contacts[rid] = Contact(worker_emails()[0], withdrawn=False)
    consulted(handlers, rid)
    clock.advance(days=60)
    scheduler.run_due()
    ctx = handlers.answer(token_of(mailer.sent[0]), ANSWER)
    assert not ctx.content_kept
    [row] = stored(handlers)
    assert (row["free_text"], row["what_next"], row["usefulness"]) == ("", None, 4)


def test_a_shredding_in_another_area_or_without_a_request_is_poison(handlers):
    with pytest.raises(Poison):
        shredded(handlers, str(uuid.uuid4()), tenant="keski-suomi")
    with pytest.raises(Poison):
        shredded(handlers, "")
    with pytest.raises(Poison):
        shredded(handlers, "r" * 37)
    with handlers.sessions() as s:
        assert s.execute(sa.select(shredded_requests)).all() == []


def test_another_requests_shredding_leaves_this_answer_alone(server, token, handlers):
    answer_feedback(server, token)
    shredded(handlers, str(uuid.uuid4()))
    assert stored(handlers)[0]["free_text"] == ANSWER["free_text"]
