"""Feedback end to end on real Kafka, PostgreSQL and SMTP: intake's consultation -> feedback's durable
schedule -> a mail in the SMTP sink at +60 days (the clock moved by the test, never slept) with a
link to the portal's form -> the link's form and answer over gRPC as the portal calls them
(OpenFeedbackForm, AnswerFeedback, no token), once; the feedback service's old address of the form
sends the browser on to the portal -> a reminder only to the worker who did not answer ->
statistics with small cells suppressed. Restarts and a second replica send nothing twice.
"""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import grpc
import pytest
import sqlalchemy as sa
from google.protobuf.timestamp_pb2 import Timestamp
from ot.common.v1 import case_pb2
from ot.feedback.v1 import feedback_pb2 as fpb
from ot.feedback.v1 import feedback_pb2_grpc
from ot.intake.v1 import intake_pb2 as pb
from ot.intake.v1 import intake_pb2_grpc

from ot_guard.testing import load_corpus, sample
from ot_runtime.clock import FixedClock
from ot_runtime.testing import field_violations

from conftest import TENANT, wait_consumed
from feedback_fixtures import feedback_database_url, smtp_sink, start_feedback  # noqa: F401 (fixtures)
from feedback_fixtures import (PORTAL_URL, answer_feedback, follow_up_mails, link_token, old_address, open_form,
                               redirect_of, refusal)

START = datetime(2026, 1, 12, 9, 0, tzinfo=timezone.utc)
GROUP = "haastavat-erot-kuopio"


def worker_emails() -> list[str]:
    """Distinct synthetic addresses from the guard's corpus (tests type no identifiers of their own)."""
    found: list[str] = []
    for entry in load_corpus():
        if entry["note"].startswith("disguised"):
            continue  # Unicode look-alikes: the guard's own tests, not a deliverable address
        for f in entry["findings"]:
            value = entry["text"][f["start"]:f["end"]]
            if f["kind"] == "email" and value not in found:
                found.append(value)
    return found


def ts(value: datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(value)
    return out


def submit(intake, keys, email: str, subject: str) -> str:
    req = pb.SubmitRequestRequest(
        type=case_pb2.REQUEST_TYPE_GROUP_CONSULTATION,
        professional=pb.Professional(name="Testi Ammattilainen", email=email, profession="sosiaalityöntekijä",
                                     organisation="Perheoikeudelliset palvelut", sector=case_pb2.SECTOR_SOCIAL,
                                     wellbeing_area=TENANT),
        categories=[case_pb2.CASE_CATEGORY_CHALLENGING_DIVORCE],
        client=pb.ClientFacts(age_years=9, gender=pb.GENDER_BOY, family_situation="pitkittynyt huoltoriita"),
        question="Miten tukea lasta, kun vanhempien riita jatkuu ja tapaamiset keskeytyvät?",
        discussed_in_own_team=True, consent=pb.ConsentAssessment(need=pb.CONSENT_NEED_NOT_NEEDED))
    return intake_pb2_grpc.IntakeServiceStub(intake.channel).SubmitRequest(
        req, metadata=keys.metadata(subject=subject)).request_id


# What the group writes back: case text, which no mail may carry.
RECOMMENDATIONS = "Ryhmä suosittaa vuoroasumisen kokeilua ja perheneuvolan tukea tapaamisiin."


def consult(intake, keys, clock, emails: list[str], who: str = "worker") -> list[str]:
    """Each worker books a case into one group meeting; the meeting is held; recommendations returned."""
    stub = intake_pb2_grpc.IntakeServiceStub(intake.channel)
    secretary = keys.metadata(roles=("secretary",), subject="secretary-1", groups=(GROUP,))  # the group's secretary
    meeting = stub.PublishMeeting(pb.PublishMeetingRequest(group_id=GROUP, starts_at=ts(clock.now() + timedelta(days=10)),
                                                          capacity=len(emails)), metadata=secretary)
    ids = []
    for i, email in enumerate(emails):
        rid = submit(intake, keys, email, subject=f"{who}-{i}")
        stub.BookMeeting(pb.BookMeetingRequest(request_id=rid, meeting_id=meeting.meeting_id),
                         metadata=keys.metadata(subject=f"{who}-{i}"))
        ids.append(rid)
    clock.advance(days=10)  # the meeting day
    for rid in ids:
        stub.MarkConsulted(pb.RequestRef(request_id=rid), metadata=secretary)
        stub.AddEntry(pb.AddEntryRequest(request_id=rid, kind=pb.ENTRY_KIND_RECOMMENDATIONS, text=RECOMMENDATIONS),
                      metadata=keys.metadata(roles=("coordinator",), subject="coordinator-1"))
        stub.ReturnRecommendations(pb.RequestRef(request_id=rid), metadata=secretary)
    return ids


def link_in(received) -> str:
    return next(line.strip() for line in received.body.splitlines() if "/palaute/" in line)


def follow_up(feedback, keys, request_id: str) -> fpb.FollowUp:
    return feedback_pb2_grpc.FeedbackServiceStub(feedback.channel).GetFollowUp(
        fpb.GetFollowUpRequest(request_id=request_id), metadata=keys.metadata(roles=("coordinator",)))


def wait_for_feedback_to_consume(feedback, kafka_bootstrap) -> None:
    wait_consumed(kafka_bootstrap, f"{feedback.settings.topic_prefix}.feedback", feedback.settings.topic("intake"))


def test_a_consultation_brings_one_feedback_mail_at_sixty_days_and_one_reminder_to_the_silent(
        start_intake, start_feedback, smtp_sink, keys, kafka_bootstrap):
    clock = FixedClock(START)
    intake = start_intake(clock=clock)
    feedback = start_feedback(intake, clock)
    emails = worker_emails()[:7]
    assert len(emails) == 7
    ids = consult(intake, keys, clock, emails)
    consulted_at = clock.now()
    # An eighth case, ten days later, whose professional has their data erased: its feedback is
    # cancelled, unsent.
    erased = consult(intake, keys, clock, [emails[0]], who="leaving-worker")[0]
    wait_for_feedback_to_consume(feedback, kafka_bootstrap)

    scheduled = follow_up(feedback, keys, ids[0])
    assert scheduled.state == fpb.FOLLOW_UP_STATE_SCHEDULED
    assert scheduled.request_due_at.ToDatetime(tzinfo=timezone.utc) == consulted_at + timedelta(days=60)

    # A restart between scheduling and sending: the schedule is in the database, not in memory.
    feedback.stop()
    feedback = start_feedback(intake, clock)
    officer = keys.metadata(roles=("admin",), subject="tietosuojavastaava")
    report = intake_pb2_grpc.IntakeServiceStub(intake.channel).EraseProfessionalData(
        pb.ProfessionalRef(subject="leaving-worker-0"), metadata=officer)
    assert report.requests_erased == 1

    clock.set(consulted_at + timedelta(days=60) - timedelta(hours=1))
    assert feedback.app.scheduler.run_due().sent == []
    assert follow_up_mails(smtp_sink) == []

    # Due now; two replicas tick at the same moment.
    clock.set(consulted_at + timedelta(days=60))
    replica = start_feedback(intake, clock)
    barrier = threading.Barrier(2)

    def tick(app):
        barrier.wait()
        app.scheduler.run_due()
    threads = [threading.Thread(target=tick, args=(s.app,)) for s in (feedback, replica)]
    [t.start() for t in threads]
    [t.join(60) for t in threads]
    replica.stop()

    first = follow_up_mails(smtp_sink)
    assert sorted(m.envelope_to[0] for m in first) == sorted(emails)  # each worker exactly once
    assert len({m.message_id for m in first}) == 7
    for m in first:
        body = m.body
        assert body.index("Sait OT-keskuksen") < body.index("You used the OT centre")  # Finnish first
        assert "huoltoriita" not in body and "Testi Ammattilainen" not in body  # no case content

    # The mailed link is the portal's form; the form opens without a token; a refused free text
    # stores nothing and keeps the link.
    links = {m.envelope_to[0]: link_token(link_in(m)) for m in first}
    responders, silent = emails[:6], emails[6]
    form = open_form(feedback, links[responders[0]])
    assert form.case_questions is True and form.type == case_pb2.REQUEST_TYPE_GROUP_CONSULTATION
    # A link mailed before the form moved (the feedback service's own address) lands on the portal's form.
    assert redirect_of(old_address(links[responders[0]], feedback)) == (
        308, f"{PORTAL_URL}/palaute/{links[responders[0]]}")
    error = refusal(lambda: answer_feedback(feedback, links[responders[0]], free_text=f"Soita {sample('phone')}"))
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert [(v.field, v.reason) for v in field_violations(error)] == [("free_text", "phone")]
    assert "puhelinnumeron" in field_violations(error)[0].description
    with feedback.app.engine.connect() as c:
        assert c.execute(sa.text("SELECT count(*) FROM answers")).scalar_one() == 0
    for i, email in enumerate(responders):
        answer_feedback(feedback, links[email], usefulness=4 if i == 0 else 5)
    error = refusal(lambda: answer_feedback(feedback, links[responders[0]]))  # the second use
    assert error.code() is grpc.StatusCode.FAILED_PRECONDITION and "jo käytetty" in error.details()
    assert refusal(lambda: open_form(feedback, links[responders[1]])).code() is grpc.StatusCode.FAILED_PRECONDITION

    # Another restart, then two weeks: the reminder goes to the one who did not answer, once.
    feedback.stop()
    feedback = start_feedback(intake, clock)
    assert feedback.app.scheduler.run_due().sent == []
    clock.advance(days=14)
    feedback.app.scheduler.run_due()
    feedback.app.scheduler.run_due()
    reminders = follow_up_mails(smtp_sink)[len(first):]
    assert [m.envelope_to[0] for m in reminders] == [silent]  # and nothing for the erased request
    gone = follow_up(feedback, keys, erased)
    assert gone.state == fpb.FOLLOW_UP_STATE_CANCELLED and gone.cancel_reason == "no_email"
    assert reminders[0].message["Subject"].startswith("Muistutus")
    assert link_token(link_in(reminders[0])) == links[silent] and open_form(feedback, links[silent])

    state = follow_up(feedback, keys, ids[6])
    assert state.state == fpb.FOLLOW_UP_STATE_SENT and state.HasField("reminder_sent_at")
    assert follow_up(feedback, keys, ids[0]).state == fpb.FOLLOW_UP_STATE_ANSWERED

    # Statistics of the year: the answers are counted, small cells are not shown.
    stats = feedback_pb2_grpc.FeedbackServiceStub(feedback.channel).GetStatistics(
        fpb.GetStatisticsRequest(period="2026", type=case_pb2.REQUEST_TYPE_GROUP_CONSULTATION),
        metadata=keys.metadata(roles=("coordinator",)))
    cells = {(t.name, c.row, c.column): c.value for t in stats.tables for c in t.cells}
    col = "group_consultation"
    assert cells[("contacts_by_sector", "social", col)] == "8"
    assert cells[("cases_by_group", GROUP, col)] == "8"
    assert cells[("meetings_by_group", GROUP, "meetings")] == "<5"  # two meetings
    assert cells[("got_what_needed", "yes", col)] == "6"
    assert cells[("got_what_needed", "total", col)] == "6"
    assert cells[("usefulness", "4", col)] == "<5"
    assert cells[("usefulness", "5", col)] == "x"       # 5 would give the single "4" away (6 - 5)
    assert cells[("feedback_responses", "not_answered", col)] == "<5"
    assert cells[("feedback_responses", "answered", col)] == "x"
    assert cells[("feedback_responses", "total", col)] == "7"
    assert stats.response_rate_percent[col] == ""         # it would reveal the hidden counts
    assert all(int(v) >= 5 for v in cells.values() if v not in ("<5", "x")), cells  # no small figure shows
    # Response times from intake's status events: eight answered in the first quarter. Seven were
    # submitted on Monday 12 January and answered on Thursday 22nd (8 working days), the eighth ten
    # days later in 6. Other quarters have none to show.
    times = {(t.quarter, t.type): t for t in stats.response_times}
    q1 = times[("2026-Q1", case_pb2.REQUEST_TYPE_GROUP_CONSULTATION)]
    assert (q1.requests, q1.first_response_median_days, q1.first_response_p90_days, q1.answer_median_days,
            q1.answer_p90_days) == ("8", "8", "8", "8", "8")
    assert [t.requests for q, t in times.items() if q[0] != "2026-Q1"] == ["<5"] * 3
    assert all(t.first_response_median_days == "" for q, t in times.items() if q[0] != "2026-Q1")



def test_a_withdrawn_request_never_gets_a_feedback_mail(start_intake, start_feedback, smtp_sink, keys,
                                                       kafka_bootstrap):
    clock = FixedClock(START)
    intake = start_intake(clock=clock)
    feedback = start_feedback(intake, clock)
    email = worker_emails()[0]
    rid = submit(intake, keys, email, subject="worker-0")
    intake_pb2_grpc.IntakeServiceStub(intake.channel).WithdrawRequest(
        pb.RequestRef(request_id=rid), metadata=keys.metadata(subject="worker-0"))
    [kept] = consult(intake, keys, clock, [worker_emails()[1]])
    wait_for_feedback_to_consume(feedback, kafka_bootstrap)
    with pytest.raises(grpc.RpcError) as err:
        follow_up(feedback, keys, rid)
    assert err.value.code() is grpc.StatusCode.NOT_FOUND
    clock.advance(days=61)
    feedback.app.scheduler.run_due()
    assert [m.envelope_to[0] for m in follow_up_mails(smtp_sink)] == [worker_emails()[1]]
    assert follow_up(feedback, keys, kept).state == fpb.FOLLOW_UP_STATE_SENT


def test_smtp_down_at_the_due_time_delays_the_mail_and_loses_nothing(start_intake, start_feedback, smtp_sink, keys,
                                                                    kafka_bootstrap):
    clock = FixedClock(START)
    intake = start_intake(clock=clock)
    feedback = start_feedback(intake, clock)
    [rid] = consult(intake, keys, clock, [worker_emails()[2]])
    wait_for_feedback_to_consume(feedback, kafka_bootstrap)
    clock.advance(days=60)
    smtp_sink.stop()
    try:
        assert feedback.app.scheduler.run_due().retried == 1
    finally:
        smtp_sink.start()
    clock.advance(minutes=16)
    assert len(feedback.app.scheduler.run_due().sent) == 1
    assert [m.envelope_to[0] for m in follow_up_mails(smtp_sink)] == [worker_emails()[2]]
