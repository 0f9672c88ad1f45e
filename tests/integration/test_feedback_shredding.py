"""What the worker wrote about a case goes with the case, on real Kafka and PostgreSQL: consent's
retention purge shreds the request's key, feedback reads the key-shredded event from consent's
topic and blanks the free text and what-happened-next of that request's answer; an answer given
after the shredding keeps only what statistics count. The counts do not change."""
from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from ot.common.v1 import case_pb2
from ot.consent.v1 import consent_pb2 as cpb
from ot.consent.v1 import consent_pb2_grpc
from ot.feedback.v1 import feedback_pb2 as fpb
from ot.feedback.v1 import feedback_pb2_grpc

from ot_runtime.clock import FixedClock

from conftest import wait_consumed, wait_until
from feedback_fixtures import feedback_database_url, smtp_sink, start_feedback  # noqa: F401 (fixtures)
from feedback_fixtures import answer_feedback, follow_up_mails, link_token, open_form
from test_feedback_flow import consult, link_in, worker_emails

START = datetime(2026, 1, 12, 9, 0, tzinfo=timezone.utc)
ANSWER = dict(usefulness=4, got_needed=fpb.GOT_NEEDED_PARTLY, what_next=fpb.WHAT_NEXT_REFERRED_TO_SERVICE,
              free_text="Ehdotus perheneuvolasta auttoi eteenpäin.")


def answer_row(feedback, request_id: str):
    with feedback.app.engine.connect() as c:
        return c.execute(sa.text(
            "SELECT a.usefulness, a.got_needed, a.what_next, a.free_text FROM answers a "
            "JOIN follow_ups f ON f.id = a.follow_up_id WHERE f.request_id = :r"), {"r": request_id}).first()


def statistics(feedback, keys) -> fpb.Statistics:
    return feedback_pb2_grpc.FeedbackServiceStub(feedback.channel).GetStatistics(
        fpb.GetStatisticsRequest(period="2026", type=case_pb2.REQUEST_TYPE_GROUP_CONSULTATION),
        metadata=keys.metadata(roles=("coordinator",)))


def test_consents_shredding_drops_what_the_worker_wrote_and_keeps_the_counts(
        start_intake, start_feedback, smtp_sink, keys, kafka_bootstrap):
    clock = FixedClock(START)
    intake = start_intake(clock=clock)
    # A short delay so that the mail (and one answer) comes before the retention purge.
    feedback = start_feedback(intake, clock, OT_FEEDBACK_DELAY_DAYS="1")
    emails = worker_emails()[:2]
    answered_early, answered_late = consult(intake, keys, clock, emails)
    wait_consumed(kafka_bootstrap, f"{feedback.settings.topic_prefix}.feedback", feedback.settings.topic("intake"))
    clock.advance(days=1)
    assert len(feedback.app.scheduler.run_due().sent) == 2
    links = {m.envelope_to[0]: link_token(link_in(m)) for m in follow_up_mails(smtp_sink)}

    assert open_form(feedback, links[emails[0]]).case_questions  # the case's content exists: they are asked
    answer_feedback(feedback, links[emails[0]], **ANSWER)
    assert answer_row(feedback, answered_early) == (4, "partly", "referred_to_service", ANSWER["free_text"])
    before = statistics(feedback, keys)

    # The group's retention: 14 days after the recommendations came back, consent shreds the key.
    with intake.consent.app.engine.connect() as c:
        wait_until(lambda: c.execute(sa.text("SELECT count(*) FROM cases WHERE recommendations_returned_at "
                                             "IS NOT NULL")).scalar() == 2, what="consent to see the recommendations")
    clock.advance(days=14)
    report = consent_pb2_grpc.ConsentServiceStub(intake.consent.channel).RunPurge(
        cpb.RunPurgeRequest(), metadata=keys.metadata(roles=("coordinator",), subject="coord-purge"))
    assert sorted(report.request_ids) == sorted([answered_early, answered_late])

    # Feedback hears it from consent's topic: the free text and what-next are gone, the counts stay.
    wait_until(lambda: answer_row(feedback, answered_early)[3] == "", what="feedback to drop the free text")
    assert answer_row(feedback, answered_early) == (4, "partly", None, "")
    with feedback.app.engine.connect() as c:
        assert c.execute(sa.text("SELECT count(*) FROM answers WHERE free_text <> ''")).scalar_one() == 0
    after = statistics(feedback, keys)
    assert after.tables == before.tables and after.response_rate_percent == before.response_rate_percent

    # The other worker answers after the shredding: the form asks only what is counted, and a form
    # opened earlier that still sends the case questions keeps none of them.
    wait_until(lambda: not open_form(feedback, links[emails[1]]).case_questions,
               what="the form to drop the case questions")
    answer_feedback(feedback, links[emails[1]], **{**ANSWER, "usefulness": 5})
    assert answer_row(feedback, answered_late) == (5, "partly", None, "")
