"""Notifications end to end on real Kafka, PostgreSQL and SMTP: the real intake (requests, a
meeting, a booking, the conversation) and experts' assignment events as experts publishes them;
feedback turns each into exactly one mail at the SMTP sink, to whom it concerns (the address looked
up at send time: intake, the real experts service, or the area's settings), with two replicas
consuming and ticking at once and one of them restarted mid-way; no mail holds any text written
into the case or its conversation. The clock is moved by the test, never slept.
"""
from __future__ import annotations

import threading
import urllib.request
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from google.protobuf.timestamp_pb2 import Timestamp
from ot.common.v1 import case_pb2
from ot.events.v1 import experts_events_pb2 as xev
from ot.feedback.v1 import feedback_pb2 as fpb
from ot.feedback.v1 import feedback_pb2_grpc
from ot.intake.v1 import intake_pb2 as pb
from ot.intake.v1 import intake_pb2_grpc

from ot_runtime.clock import FixedClock
from ot_runtime.workdays import FINNISH_TIME

from conftest import TENANT, wait_consumed
from experts_fixtures import experts_database_url, start_experts  # noqa: F401 (fixtures)
from feedback_fixtures import (PORTAL_URL, feedback_database_url, publish, smtp_sink,  # noqa: F401 (fixtures)
                               start_feedback)
from test_feedback_flow import worker_emails

START = datetime(2026, 1, 12, 9, 0, tzinfo=timezone.utc)  # Monday 12 January 2026, 11.00 Finnish time
MEETS = START + timedelta(days=21)                         # Monday 2 February; material due Monday 26 January
GROUP = "haastavat-erot-kuopio"
EXPERT, EXPERT_EMAIL = "valteri", "valteri@example.invalid"  # from the experts catalogue dataset
LOCATION = "Kuopion kaupungintalo, sali 2"

# Everything written into the cases: no mail may hold any of it.
CASE_QUESTION = "Miten tukea lasta, kun vanhempien riita jatkuu ja tapaamiset keskeytyvät?"
FAMILY = "pitkittynyt huoltoriita"
CONVERSATION = {
    pb.ENTRY_KIND_QUESTION: "Onko lapsen koulussa jo tehty tuen tarpeen arviointi?",
    pb.ENTRY_KIND_REPLY: "Arviointi tehtiin syksyllä, tehostettu tuki on käynnissä.",
    pb.ENTRY_KIND_ADVICE: "Suosittelemme perheneuvolan konsultaatiota ja koulun oppilashuoltoa.",
    pb.ENTRY_KIND_PRE_INFORMATION: "Esitiedot: tapaamiset ovat keskeytyneet kolmesti tänä keväänä.",
}
SECRET_TEXTS = [CASE_QUESTION, FAMILY, "Testi Ammattilainen", *CONVERSATION.values()]


def ts(value: datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(value)
    return out


def finnish(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=FINNISH_TIME).astimezone(timezone.utc)


def intake_stub(intake) -> intake_pb2_grpc.IntakeServiceStub:
    return intake_pb2_grpc.IntakeServiceStub(intake.channel)


def submit(intake, keys, email: str, subject: str, type_) -> str:
    req = pb.SubmitRequestRequest(
        type=type_,
        professional=pb.Professional(name="Testi Ammattilainen", email=email, profession="sosiaalityöntekijä",
                                     organisation="Perheoikeudelliset palvelut", sector=case_pb2.SECTOR_SOCIAL,
                                     wellbeing_area=TENANT),
        categories=[case_pb2.CASE_CATEGORY_CHALLENGING_DIVORCE],
        client=pb.ClientFacts(age_years=9, gender=pb.GENDER_BOY, family_situation=FAMILY),
        question=CASE_QUESTION, discussed_in_own_team=True,
        consent=pb.ConsentAssessment(need=pb.CONSENT_NEED_NOT_NEEDED))
    return intake_stub(intake).SubmitRequest(req, metadata=keys.metadata(subject=subject)).request_id


def write(intake, metadata, request_id: str, kind) -> None:
    intake_stub(intake).AddEntry(pb.AddEntryRequest(request_id=request_id, kind=kind, text=CONVERSATION[kind]),
                                 metadata=metadata)


def publish_meeting(intake, keys, starts_at: datetime) -> str:
    secretary = keys.metadata(roles=("secretary",), subject="secretary-1", groups=(GROUP,))
    return intake_stub(intake).PublishMeeting(pb.PublishMeetingRequest(
        group_id=GROUP, starts_at=ts(starts_at), capacity=6, location=LOCATION), metadata=secretary).meeting_id


def book(intake, keys, request_id: str, meeting_id: str, subject: str) -> None:
    intake_stub(intake).BookMeeting(pb.BookMeetingRequest(request_id=request_id, meeting_id=meeting_id),
                                    metadata=keys.metadata(subject=subject))


def consumed(feedback, kafka_bootstrap) -> None:
    group = f"{feedback.settings.topic_prefix}.feedback"
    for service in ("intake", "experts"):
        wait_consumed(kafka_bootstrap, group, feedback.settings.topic(service), timeout=60)


def tick_together(*replicas) -> None:
    """Every replica runs its scheduler's tick at the same moment."""
    barrier = threading.Barrier(len(replicas))

    def tick(app):
        barrier.wait()
        app.scheduler.run_due()
    threads = [threading.Thread(target=tick, args=(r.app,)) for r in replicas]
    [t.start() for t in threads]
    [t.join(60) for t in threads]


def received(sink, start: int = 0) -> Counter:
    """(recipient, kind) -> how many mails, among what the sink received from `start` on."""
    return Counter((to, m.message["X-OT-Mail-Kind"]) for m in sink.messages[start:] for to in m.envelope_to)


def assert_nothing_of_the_case_in(sink) -> None:
    for m in sink.messages:
        text = m.message.as_string() + m.body
        for secret in SECRET_TEXTS:
            assert secret not in text, (m.message["X-OT-Mail-Kind"], secret)


def test_each_event_brings_exactly_one_mail_with_two_replicas_and_a_restart_and_none_holds_case_text(
        start_intake, start_experts, start_feedback, smtp_sink, keys, kafka_bootstrap):
    clock = FixedClock(START)
    intake = start_intake(clock=clock)
    experts = start_experts(intake.consent, clock)
    e0, e1, coord_a, coord_b, secretary = worker_emails()[:5]
    settings = {"OT_NOTIFY_COORDINATORS": f"{coord_a},{coord_b}", "OT_NOTIFY_GROUP_SECRETARIES": f"{GROUP}={secretary}"}
    first = start_feedback(intake, clock, experts, **settings)
    replica = start_feedback(intake, clock, experts, **settings)
    coordinator = keys.metadata(roles=("coordinator",), subject="coordinator-1")

    # An OT-TUKI request that gets a question; a group consultation booked into a meeting.
    advice = submit(intake, keys, e0, "worker-0", case_pb2.REQUEST_TYPE_OT_TUKI)
    group = submit(intake, keys, e1, "worker-1", case_pb2.REQUEST_TYPE_GROUP_CONSULTATION)
    meeting = publish_meeting(intake, keys, MEETS)
    book(intake, keys, group, meeting, "worker-1")
    intake_stub(intake).TriageRequest(pb.TriageRequestRequest(request_id=advice, note="OT-TUKI"), metadata=coordinator)
    write(intake, coordinator, advice, pb.ENTRY_KIND_QUESTION)
    consumed(first, kafka_bootstrap)

    # One replica goes away mid-way (a rolling restart); the other takes its partitions.
    first.stop()
    write(intake, keys.metadata(subject="worker-0"), advice, pb.ENTRY_KIND_REPLY)
    write(intake, coordinator, advice, pb.ENTRY_KIND_ADVICE)
    experts_topic = replica.settings.topic("experts")
    publish(kafka_bootstrap, experts_topic, "ot.experts.assignment.made.v1", xev.ExpertsAssigned(
        assignment_id=str(uuid.uuid4()), request_id=advice, tenant=TENANT, expert_ids=[EXPERT],
        assigned_at=ts(clock.now())), key=advice, at=clock.now())
    publish(kafka_bootstrap, experts_topic, "ot.experts.assignment.removed.v1", xev.ExpertsUnassigned(
        assignment_id=str(uuid.uuid4()), request_id=advice, tenant=TENANT, removed_expert_ids=[EXPERT],
        remaining_expert_ids=[], unassigned_at=ts(clock.now())), key=advice, at=clock.now())
    restarted = start_feedback(intake, clock, experts, **settings)
    consumed(restarted, kafka_bootstrap)

    tick_together(restarted, replica)
    tick_together(restarted, replica)  # a second tick finds nothing more to send
    got = received(smtp_sink)
    assert got == Counter({
        (coord_a, "new_request"): 2, (coord_b, "new_request"): 2,  # one mail per request, to both coordinators
        (e1, "booking_confirmed"): 1, (e0, "question"): 1, (e0, "advice"): 1,
        (EXPERT_EMAIL, "expert_assigned"): 1, (EXPERT_EMAIL, "expert_unassigned"): 1}), got
    assert len({m.message_id for m in smtp_sink.messages}) == len(smtp_sink.messages) == 7
    confirmation = next(m for m in smtp_sink.messages if m.message["X-OT-Mail-Kind"] == "booking_confirmed")
    text = confirmation.body
    assert text.index("on varattu konsultaatioryhmän kokoukseen") < text.index("is booked into")  # Finnish first
    assert f"viite {group[:8]}" in text and f"Paikka: {LOCATION}" in text
    assert "Kokous: ma 2.2.2026 klo 11.00" in text and "Esitietolomakkeen määräaika: ma 26.1.2026" in text
    assert f"Kirjaudu OT-palveluun: {PORTAL_URL}" in text

    # The scheduled ones, at their time, once each: the material reminder (two working days
    # before Monday 26 January: Thursday 22), the agenda (three days before), the day before.
    for moment in (finnish(2026, 1, 22, 8, 0), finnish(2026, 1, 30, 8, 0), finnish(2026, 2, 1, 8, 0)):
        clock.set(moment)
        tick_together(restarted, replica)
    later = received(smtp_sink, 7)
    assert later == Counter({(e1, "material_reminder"): 1, (secretary, "agenda"): 1, (e1, "meeting_reminder"): 1})
    agenda = next(m for m in smtp_sink.messages if m.message["X-OT-Mail-Kind"] == "agenda")
    assert "on varattu 1 tapausta; 1 niistä on vielä ilman esitietolomaketta" in " ".join(agenda.body.split())
    assert_nothing_of_the_case_in(smtp_sink)


def test_the_material_arriving_cancels_its_reminder_and_an_opt_out_stops_the_reminders_only(
        start_intake, start_feedback, smtp_sink, keys, kafka_bootstrap):
    clock = FixedClock(START)
    intake = start_intake(clock=clock)
    feedback = start_feedback(intake, clock)
    quiet, sends, silent = worker_emails()[:3]
    # The first worker turns the reminders off, with their own token.
    settings = feedback_pb2_grpc.FeedbackServiceStub(feedback.channel)
    me = keys.metadata(subject="worker-quiet")
    assert settings.GetNotificationSettings(fpb.GetNotificationSettingsRequest(), metadata=me).reminders_enabled
    settings.SetNotificationSettings(fpb.NotificationSettings(reminders_enabled=False), metadata=me)
    meeting = publish_meeting(intake, keys, MEETS)
    ids = {}
    for email, subject in ((quiet, "worker-quiet"), (sends, "worker-sends"), (silent, "worker-silent")):
        ids[email] = submit(intake, keys, email, subject, case_pb2.REQUEST_TYPE_GROUP_CONSULTATION)
        book(intake, keys, ids[email], meeting, subject)
    write(intake, keys.metadata(subject="worker-sends"), ids[sends], pb.ENTRY_KIND_PRE_INFORMATION)
    consumed(feedback, kafka_bootstrap)
    for moment in (clock.now(), finnish(2026, 1, 22, 8, 0), finnish(2026, 2, 1, 8, 0)):
        clock.set(moment)
        feedback.app.scheduler.run_due()
    got = received(smtp_sink)
    assert got == Counter({
        (quiet, "booking_confirmed"): 1, (sends, "booking_confirmed"): 1, (silent, "booking_confirmed"): 1,
        (silent, "material_reminder"): 1,                                   # the only one still missing it
        (sends, "meeting_reminder"): 1, (silent, "meeting_reminder"): 1}), got  # not to the one who opted out
    with feedback.app.engine.connect() as c:
        reasons = dict(c.execute(sa.text("SELECT request_id || ':' || kind, last_error FROM notifications "
                                         "WHERE state = 'cancelled' AND kind LIKE '%reminder'")).all())
    assert reasons == {f"{ids[sends]}:material_reminder": "material_received",
                       f"{ids[quiet]}:material_reminder": "opted_out", f"{ids[quiet]}:meeting_reminder": "opted_out"}
    assert_nothing_of_the_case_in(smtp_sink)


def metric(feedback, kind: str, outcome: str) -> float:
    url = f"http://127.0.0.1:{feedback.app.http_server.port}/metrics"
    with urllib.request.urlopen(url, timeout=10) as resp:
        lines = resp.read().decode().splitlines()
    line = f'ot_feedback_notifications_total{{kind="{kind}",outcome="{outcome}"}} '
    return next((float(x[len(line):]) for x in lines if x.startswith(line)), 0.0)


def test_a_refused_smtp_send_is_retried_with_growing_waits_and_at_last_counted_failed(
        start_intake, start_feedback, smtp_sink, keys, kafka_bootstrap):
    clock = FixedClock(START)
    intake = start_intake(clock=clock)
    coordinator = worker_emails()[0]
    feedback = start_feedback(intake, clock, OT_NOTIFY_COORDINATORS=coordinator)
    comes_late = submit(intake, keys, worker_emails()[1], "worker-1", case_pb2.REQUEST_TYPE_OT_TUKI)
    consumed(feedback, kafka_bootstrap)

    def due(request_id: str):
        with feedback.app.engine.connect() as c:
            return c.execute(sa.text("SELECT state, due_at, attempts FROM notifications WHERE request_id = :r AND "
                                     "kind = 'new_request'"), {"r": request_id}).one()

    # The relay is down for two tries; the third goes through, once.
    smtp_sink.stop()
    try:
        waits = []
        for _ in range(2):
            assert feedback.app.scheduler.run_due().notices.retried == 1
            waits.append(due(comes_late).due_at - clock.now())
            clock.set(due(comes_late).due_at)
    finally:
        smtp_sink.start()
    assert waits == [timedelta(minutes=5), timedelta(minutes=10)]
    assert len(feedback.app.scheduler.run_due().notices.sent) == 1
    assert received(smtp_sink) == Counter({(coordinator, "new_request"): 1})

    # Down for every try: the mail is failed after the eighth, counted, and never sent afterwards.
    never = submit(intake, keys, worker_emails()[2], "worker-2", case_pb2.REQUEST_TYPE_OT_TUKI)
    consumed(feedback, kafka_bootstrap)
    failed_before = metric(feedback, "new_request", "failed")
    smtp_sink.stop()
    try:
        for _ in range(8):
            feedback.app.scheduler.run_due()
            clock.set(max(clock.now(), due(never).due_at))
    finally:
        smtp_sink.start()
    state, _, attempts = due(never)
    assert (state, attempts) == ("failed", 8)
    assert metric(feedback, "new_request", "failed") == failed_before + 1
    clock.advance(days=1)
    feedback.app.scheduler.run_due()
    assert received(smtp_sink) == Counter({(coordinator, "new_request"): 1})
