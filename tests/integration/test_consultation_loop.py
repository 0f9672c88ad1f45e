"""The whole consultation loop across the four real services, in-process on the real PostgreSQL,
Kafka and SMTP sink: intake, consent, experts and feedback, each with its own database, talking
over gRPC and the shared topics exactly as deployed.

1. An OT-TUKI request: the coordinators are told of it, the OT team asks for more information
   (the clock stops, the professional is told), the professional replies, the coordinator
   assigns an expert through experts (consent's sharing check), the expert is told, reads the
   case and the conversation (each read audited by consent) and writes a statement, the
   coordinator advises and returns the answer, the professional reads it, withdraws the consent,
   and the expert is refused at once. Every mail arrives once; none holds any text of the case.
2. A group consultation: the secretary publishes a meeting with a location, the professional
   books it (confirmed by mail with date and place) and sends the pre-information form in time
   (no material reminder), the secretary gets the agenda three days before, the group's member
   reads the case before the meeting (audited) while another group's member and secretary are
   refused, and after the meeting the secretary records and returns the recommendations: the
   member's right ends, the professional reads them.
3. The retention purge: every entry of the purged requests is unreadable and their content gone,
   while intake's list keeps type, categories, status and response times, and feedback's
   response-time statistics keep their count and figures.

All four services run on one clock that the test moves (a Monday in a March without Finnish
holidays, so working days are exact); feedback's scheduler is ticked by the test (`run_due()`).
Nothing sleeps: the test waits for the outboxes to empty and the consumer groups to catch up."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import grpc
import pytest
import sqlalchemy as sa
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from ot.common.v1 import case_pb2
from ot.consent.v1 import consent_pb2 as cpb
from ot.consent.v1 import consent_pb2_grpc
from ot.experts.v1 import experts_pb2 as xpb
from ot.experts.v1 import experts_pb2_grpc
from ot.feedback.v1 import feedback_pb2 as fpb
from ot.feedback.v1 import feedback_pb2_grpc
from ot.intake.v1 import intake_pb2 as pb
from ot.intake.v1 import intake_pb2_grpc

from ot_runtime.clock import FixedClock
from ot_runtime.testing import status_details
from ot_runtime.workdays import FINNISH_TIME

from conftest import TENANT, RunningService, wait_until
from experts_fixtures import experts_database_url, start_experts  # noqa: F401 (fixtures)
from feedback_fixtures import PORTAL_URL, feedback_database_url, smtp_sink, start_feedback  # noqa: F401 (fixtures)
from test_experts_flow import proposals_when_ready
from test_feedback_flow import worker_emails
from test_intake_conversation import reason_of, refused, ts, when

MONDAY = datetime(2030, 3, 4, 8, 0, tzinfo=timezone.utc)  # Monday 4 March 2030, 10.00 Finnish time
GROUP = "haastavat-erot-pohjois-savo"
OTHER_GROUP = "haastavat-erot-keski-suomi"
EXPERT = "barnahus"  # free, in every area's agreement
LOCATION = "Perheneuvola, neuvotteluhuone 2"
# Synthetic addresses from the guard's corpus (tests type no identifiers of their own).
PROFESSIONAL_EMAIL, COORDINATOR_A, COORDINATOR_B, SECRETARY_EMAIL, GROUP_PROFESSIONAL_EMAIL = worker_emails()[:5]

# What the cases say: no mail may carry any of it.
QUESTION = "Miten edetä, kun nuori karkailee sijaishuoltopaikasta toistuvasti?"
FAMILY = "pitkittynyt huoltoriita"
EARLIER = "perhetyö"
TEXTS = {
    "question": "Onko sijaishuoltopaikan kanssa pidetty yhteinen palaveri?",
    "reply": "Palaveri pidettiin, mutta sopimukset eivät ole pitäneet.",
    "note": "Sisäinen huomio: tarkistetaan asiantuntijaverkoston tilanne ensi viikolla.",
    "statement": "Lausunto: nuoren tilanne edellyttää moniammatillista arviota.",
    "advice": "Suosittelemme Barnahuksen konsultaatiota ja verkostopalaveria.",
    "pre_information": "Esitiedot: lapsi asuu vuorotellen, tapaamiset keskeytyvät.",
    "recommendations": "Ryhmä suosittelee perheasioiden sovittelua ja lapsen tapaamista erikseen.",
}
CASE_TEXTS = [QUESTION, FAMILY, EARLIER, *TEXTS.values()]

# Who consumes whose topic (each service's wire(consumes=...)).
CONSUMES = {"intake": ("experts", "consent"), "experts": ("intake", "consent"),
            "consent": ("intake", "experts"), "feedback": ("intake", "experts", "consent")}


def finnish(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=FINNISH_TIME).astimezone(timezone.utc)


def submission(type_, email: str, consent: pb.ConsentAssessment, anonymous: bool = False) -> pb.SubmitRequestRequest:
    return pb.SubmitRequestRequest(
        type=type_,
        professional=pb.Professional(name="Testi Ammattilainen", email=email, profession="sosiaalityöntekijä",
                                     organisation="Lapsiperhepalvelut", sector=case_pb2.SECTOR_SOCIAL,
                                     wellbeing_area=TENANT),
        categories=[case_pb2.CASE_CATEGORY_CHILD_PROTECTION_SPECIAL],
        client=pb.ClientFacts(age_years=15, gender=pb.GENDER_GIRL, family_situation=FAMILY, earlier_services=[EARLIER]),
        question=QUESTION, discussed_in_own_team=True, consent=consent, anonymous=anonymous)


NOT_NEEDED = pb.ConsentAssessment(need=pb.CONSENT_NEED_NOT_NEEDED)


@dataclass
class Loop:
    """The four running services on one clock, their stubs, and the mail sink."""
    clock: FixedClock
    services: dict[str, RunningService]
    sink: object
    kafka: str
    keys: object
    _kafka_clients: tuple | None = None

    @property
    def intake(self) -> intake_pb2_grpc.IntakeServiceStub:
        return intake_pb2_grpc.IntakeServiceStub(self.services["intake"].channel)

    @property
    def consent(self) -> consent_pb2_grpc.ConsentServiceStub:
        return consent_pb2_grpc.ConsentServiceStub(self.services["consent"].channel)

    @property
    def experts(self) -> experts_pb2_grpc.ExpertsServiceStub:
        return experts_pb2_grpc.ExpertsServiceStub(self.services["experts"].channel)

    @property
    def feedback(self) -> feedback_pb2_grpc.FeedbackServiceStub:
        return feedback_pb2_grpc.FeedbackServiceStub(self.services["feedback"].channel)

    def _outboxes(self) -> tuple[int, int]:
        """(rows still to publish, rows ever written) over every service's outbox."""
        pending = written = 0
        for service in self.services.values():
            with service.app.engine.connect() as c:
                pending += c.execute(sa.text("SELECT count(*) FROM outbox WHERE published_at IS NULL AND "
                                             "failed_at IS NULL")).scalar_one()
                written += c.execute(sa.text("SELECT count(*) FROM outbox")).scalar_one()
        return pending, written

    def _caught_up(self) -> bool:
        """Has every service's consumer group committed up to the end of every topic it reads?
        (conftest's wait_consumed for all groups at once, with one admin client: it is asked often.)"""
        if self._kafka_clients is None:
            self._kafka_clients = (KafkaAdminClient(bootstrap_servers=self.kafka.split(",")),
                                   KafkaConsumer(bootstrap_servers=self.kafka.split(","), group_id=None))
        admin, probe = self._kafka_clients
        reads = {f"{self.services[s].settings.topic_prefix}.{s}": [self.services[s].settings.topic(t) for t in topics]
                 for s, topics in CONSUMES.items()}
        partitions = {t: [TopicPartition(t, p) for p in probe.partitions_for_topic(t) or ()]
                      for t in {t for topics in reads.values() for t in topics}}
        assert all(partitions.values()), "the services create their topics at start"
        ends = probe.end_offsets([tp for tps in partitions.values() for tp in tps])
        committed = admin.list_group_offsets(list(reads))
        return all(committed.get(group, {}).get(tp) is not None and committed[group][tp].offset >= ends[tp]
                   for group, topics in reads.items() for t in topics for tp in partitions[t] if ends[tp] > 0)

    def settle(self) -> None:
        """Every event written so far is on Kafka and consumed by every service that reads it;
        again while consuming made new events (intake's ASSIGNED after experts' assignment)."""
        while True:
            wait_until(lambda: self._outboxes()[0] == 0, what="every outbox to be published")
            written = self._outboxes()[1]
            wait_until(self._caught_up, 60, "every consumer group to catch up")
            if self._outboxes() == (0, written):
                return

    def close(self) -> None:
        for client in self._kafka_clients or ():
            client.close()

    def tick(self) -> None:
        """Feedback's scheduler runs once, at the clock's time (as its thread would)."""
        self.services["feedback"].app.scheduler.run_due()

    def mails(self) -> Counter:
        """(recipient, kind) -> how many mails the sink received."""
        return Counter((to, m.message["X-OT-Mail-Kind"]) for m in self.sink.messages for to in m.envelope_to)

    def mail(self, to: str, kind: str):
        [found] = [m for m in self.sink.messages if to in m.envelope_to and m.message["X-OT-Mail-Kind"] == kind]
        return found

    def audit(self, request_id: str, actor: str) -> list[tuple[str, dict]]:
        """(action, detail fields) of `actor`'s entries about the request, as the data-protection
        officer sees them (QueryAudit)."""
        got = self.consent.QueryAudit(cpb.QueryAuditRequest(request_id=request_id, actor=actor),
                                      metadata=self.keys.metadata(roles=("admin",), subject="dpo-loop"))
        return [(e.action, dict(p.split("=", 1) for p in e.detail.split("; "))) for e in got.entries]


@pytest.fixture()
def loop(start_consent, start_intake, start_experts, start_feedback, smtp_sink, keys, kafka_bootstrap):
    clock = FixedClock(MONDAY)
    consent = start_consent(clock)
    intake = start_intake(clock=clock, consent=consent)
    experts = start_experts(consent, clock)
    feedback = start_feedback(intake, clock, experts, OT_NOTIFY_COORDINATORS=f"{COORDINATOR_A},{COORDINATOR_B}",
                              OT_NOTIFY_GROUP_SECRETARIES=f"{GROUP}={SECRETARY_EMAIL}")
    running = Loop(clock, {"intake": intake, "consent": consent, "experts": experts, "feedback": feedback},
                   smtp_sink, kafka_bootstrap, keys)
    yield running
    running.close()


def assert_no_case_text_in_any_mail(sink) -> None:
    assert sink.messages
    for m in sink.messages:
        # Decoded: every header and every part (a raw message may hold the text encoded).
        text = "\n".join([*(str(v) for v in m.message.values()),
                          *(p.get_content() for p in m.message.walk() if not p.is_multipart())])
        assert m.body in text
        for secret in CASE_TEXTS:
            assert secret not in text, (m.message["X-OT-Mail-Kind"], secret)


def key_refusal(loop: Loop, request_id: str, metadata) -> tuple[grpc.StatusCode, str]:
    """Consent asked directly (its own check, not intake's word): (code, ErrorInfo reason)."""
    try:
        loop.consent.GetDataKey(cpb.GetDataKeyRequest(request_id=request_id, purpose="valmistautuminen kokoukseen"),
                                metadata=metadata)
    except grpc.RpcError as error:
        return error.code(), reason_of(error)
    return grpc.StatusCode.OK, ""


def entries(loop: Loop, request_id: str, metadata) -> list[tuple[int, str]]:
    return [(e.kind, e.text) for e in loop.intake.ListEntries(pb.ListEntriesRequest(request_id=request_id),
                                                              metadata=metadata).entries]


def write(loop: Loop, request_id: str, kind, key: str, metadata, **extra) -> None:
    loop.intake.AddEntry(pb.AddEntryRequest(request_id=request_id, kind=kind, text=TEXTS[key], **extra),
                         metadata=metadata)


def test_an_ot_tuki_request_asked_replied_worked_by_an_assigned_expert_advised_returned_and_then_withdrawn(
        loop, keys):
    intake, consent, experts, clock = loop.intake, loop.consent, loop.experts, loop.clock
    owner = keys.metadata(subject="prof-loop")
    coordinator = keys.metadata(roles=("coordinator",), subject="coord-loop")
    expert = keys.metadata(roles=("expert",), subject=f"expert-{EXPERT}")
    expert_email = experts.GetExpert(xpb.GetExpertRequest(expert_id=EXPERT), metadata=coordinator).contact.email
    assert expert_email  # the catalogue's contact address

    # The professional submits (written consent of the guardians, nobody outside the OT team in scope yet).
    rid = intake.SubmitRequest(submission(case_pb2.REQUEST_TYPE_OT_TUKI, PROFESSIONAL_EMAIL, pb.ConsentAssessment(
        need=pb.CONSENT_NEED_WRITTEN_ORGANISATION_FORM, given_by=pb.CONSENT_GIVER_GUARDIANS)),
        metadata=owner).request_id
    loop.settle()
    loop.tick()
    assert loop.mails() == Counter({(COORDINATOR_A, "new_request"): 1, (COORDINATOR_B, "new_request"): 1})
    told = loop.mail(COORDINATOR_A, "new_request").body
    assert rid[:8] in told and PORTAL_URL in told  # the short reference and where to read it

    # Tuesday: the coordinator asks for more information; the request waits, the clock stops.
    clock.advance(days=1)
    write(loop, rid, pb.ENTRY_KIND_QUESTION, "question", coordinator, author_name="OT-tiimi")
    asked = intake.GetRequest(pb.GetRequestRequest(request_id=rid), metadata=owner)
    assert (asked.status, asked.waiting_working_days) == (case_pb2.REQUEST_STATUS_AWAITING_INFORMATION, 1)
    loop.settle()
    loop.tick()
    assert loop.mails()[(PROFESSIONAL_EMAIL, "question")] == 1

    # Friday: still one working day on the clock; the professional replies and it runs again.
    clock.advance(days=3)
    assert intake.GetRequest(pb.GetRequestRequest(request_id=rid), metadata=coordinator).waiting_working_days == 1
    write(loop, rid, pb.ENTRY_KIND_REPLY, "reply", owner)
    assert intake.GetRequest(pb.GetRequestRequest(request_id=rid), metadata=owner).status == \
        case_pb2.REQUEST_STATUS_SUBMITTED
    loop.settle()  # experts knows the request is assignable again

    # The coordinator assigns the expert experts proposes: refused while the consent does not
    # cover it, done once the professional records the expert organisation in its scope.
    assert EXPERT in [p.expert.expert_id for p in proposals_when_ready(experts, rid, coordinator).proposals]
    error = refused(experts.AssignExperts, xpb.AssignExpertsRequest(request_id=rid, expert_ids=[EXPERT]),
                    metadata=coordinator)
    assert error.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert any(getattr(v, "type", "") == "SHARING_NOT_ALLOWED" for d in status_details(error)
               for v in getattr(d, "violations", ()))
    consent.RecordConsent(cpb.RecordConsentRequest(
        request_id=rid, form=cpb.CONSENT_FORM_WRITTEN_ORGANISATION_FORM, given_by=cpb.CONSENT_GIVER_GUARDIANS,
        scope=[cpb.Party(kind=cpb.PARTY_KIND_EXPERT_ORGANISATION, id=EXPERT)]), metadata=owner)
    assert reason_of(refused(intake.ListEntries, pb.ListEntriesRequest(request_id=rid), metadata=expert)) \
        == "NOT_ASSIGNED"
    experts.AssignExperts(xpb.AssignExpertsRequest(request_id=rid, expert_ids=[EXPERT]), metadata=coordinator)
    loop.settle()
    assigned = intake.GetRequest(pb.GetRequestRequest(request_id=rid), metadata=coordinator)
    assert (assigned.status, list(assigned.expert_ids)) == (case_pb2.REQUEST_STATUS_ASSIGNED, [EXPERT])
    loop.tick()
    assert loop.mails()[(expert_email, "expert_assigned")] == 1
    assert rid[:8] in loop.mail(expert_email, "expert_assigned").body
    mine = experts.ListMyAssignments(xpb.ListMyAssignmentsRequest(), metadata=expert).assignments
    assert [(a.request_id, a.expert_id) for a in mine] == [(rid, EXPERT)]

    # The OT team's internal note is for the team only.
    write(loop, rid, pb.ENTRY_KIND_NOTE, "note", coordinator)
    # The expert reads the case and the conversation (no note), each read a key from consent, audited.
    seen = intake.GetRequest(pb.GetRequestRequest(request_id=rid), metadata=expert)
    assert seen.content_included and seen.question == QUESTION and seen.client.family_situation == FAMILY
    assert entries(loop, rid, expert) == [(pb.ENTRY_KIND_QUESTION, TEXTS["question"]),
                                          (pb.ENTRY_KIND_REPLY, TEXTS["reply"])]
    party = f"expert_organisation:{EXPERT}"
    assert [(action, d["purpose"], d["as"], d["party"], d["sharing"]) for action, d in
            loop.audit(rid, f"expert-{EXPERT}")] == [
        ("content.read", "view", "assigned_expert", party, "CONSENT_IN_SCOPE"),
        ("content.read", "conversation", "assigned_expert", party, "CONSENT_IN_SCOPE")]

    # Monday: the expert's statement, the coordinator's advice, and the answer goes back.
    clock.advance(days=3)
    write(loop, rid, pb.ENTRY_KIND_STATEMENT, "statement", expert)
    write(loop, rid, pb.ENTRY_KIND_ADVICE, "advice", coordinator, expert_ids=[EXPERT])
    answered = intake.ReturnRecommendations(pb.RequestRef(request_id=rid), metadata=coordinator)
    assert answered.status == case_pb2.REQUEST_STATUS_RECOMMENDATIONS_RETURNED
    assert (when(answered.first_response_at), when(answered.answered_at), answered.waiting_working_days) == (
        MONDAY + timedelta(days=1), MONDAY + timedelta(days=7), 2)  # five working days, three of them paused
    loop.settle()
    loop.tick()

    # The professional reads the answer (never the note).
    assert entries(loop, rid, owner) == [(pb.ENTRY_KIND_QUESTION, TEXTS["question"]),
                                         (pb.ENTRY_KIND_REPLY, TEXTS["reply"]),
                                         (pb.ENTRY_KIND_STATEMENT, TEXTS["statement"]),
                                         (pb.ENTRY_KIND_ADVICE, TEXTS["advice"])]

    # The professional withdraws the consent: the expert, who could read a moment ago, is refused
    # at once, at intake and in consent's trail.
    assert [k for k, _ in entries(loop, rid, expert)] == [pb.ENTRY_KIND_QUESTION, pb.ENTRY_KIND_REPLY,
                                                         pb.ENTRY_KIND_STATEMENT, pb.ENTRY_KIND_ADVICE]
    consent.WithdrawConsent(cpb.WithdrawConsentRequest(request_id=rid), metadata=owner)
    error = refused(intake.ListEntries, pb.ListEntriesRequest(request_id=rid), metadata=expert)
    assert (error.code(), reason_of(error)) == (grpc.StatusCode.PERMISSION_DENIED, "CONSENT_REFUSED")
    assert not intake.GetRequest(pb.GetRequestRequest(request_id=rid), metadata=expert).content_included
    assert [(a, d["purpose"], d["refused"], d["party"]) for a, d in loop.audit(rid, f"expert-{EXPERT}")[-2:]] == [
        ("content.refused", "conversation", "CONSENT_WITHDRAWN", party),
        ("content.refused", "view", "CONSENT_WITHDRAWN", party)]

    # Each mail once, to whom it concerns; none holds the question, the client facts or an entry.
    loop.settle()
    loop.tick()
    assert loop.mails() == Counter({
        (COORDINATOR_A, "new_request"): 1, (COORDINATOR_B, "new_request"): 1, (PROFESSIONAL_EMAIL, "question"): 1,
        (expert_email, "expert_assigned"): 1, (PROFESSIONAL_EMAIL, "statement"): 1,
        (PROFESSIONAL_EMAIL, "advice"): 1}), loop.mails()
    assert_no_case_text_in_any_mail(loop.sink)


def test_a_group_booking_read_by_its_members_before_the_meeting_and_answered_by_its_secretary(loop, keys):
    intake, clock = loop.intake, loop.clock
    owner = keys.metadata(subject="prof-group-loop")
    secretary = keys.metadata(roles=("secretary",), subject="secr-loop", groups=(GROUP,))
    member = keys.metadata(roles=("group-member",), subject="member-loop", groups=(GROUP,))
    other_member = keys.metadata(roles=("group-member",), subject="member-other-loop", groups=(OTHER_GROUP,))
    other_secretary = keys.metadata(roles=("secretary",), subject="secr-other-loop", groups=(OTHER_GROUP,))
    meets = MONDAY + timedelta(days=14)  # Monday 18 March, 10.00 Finnish time; material due Monday 11 March

    meeting = intake.PublishMeeting(pb.PublishMeetingRequest(group_id=GROUP, starts_at=ts(meets), capacity=3,
                                                             location=LOCATION), metadata=secretary)
    rid = intake.SubmitRequest(submission(case_pb2.REQUEST_TYPE_GROUP_CONSULTATION, GROUP_PROFESSIONAL_EMAIL,
                                          NOT_NEEDED, anonymous=True), metadata=owner).request_id
    intake.BookMeeting(pb.BookMeetingRequest(request_id=rid, meeting_id=meeting.meeting_id), metadata=owner)
    loop.settle()
    loop.tick()
    assert loop.mails()[(GROUP_PROFESSIONAL_EMAIL, "booking_confirmed")] == 1
    confirmation = " ".join(loop.mail(GROUP_PROFESSIONAL_EMAIL, "booking_confirmed").body.split())
    assert f"viite {rid[:8]}" in confirmation and f"Paikka: {LOCATION}" in confirmation
    assert "18.3.2030 klo 10.00" in confirmation and "Esitietolomakkeen määräaika: ma 11.3.2030" in confirmation

    # Tuesday: the pre-information form, well before the deadline.
    clock.advance(days=1)
    write(loop, rid, pb.ENTRY_KIND_PRE_INFORMATION, "pre_information", owner)
    agenda = intake.GetMeetingAgenda(pb.GetMeetingAgendaRequest(meeting_id=meeting.meeting_id), metadata=secretary)
    assert [(i.request_id, i.anonymous, i.material_missing) for i in agenda.items] == [(rid, True, False)]
    assert when(agenda.items[0].material_received_at) == clock.now() and agenda.meeting.location == LOCATION
    # The secretary asks one more thing; the booked request waits for the professional, who replies.
    write(loop, rid, pb.ENTRY_KIND_QUESTION, "question", secretary)
    assert intake.GetRequest(pb.GetRequestRequest(request_id=rid), metadata=owner).status == \
        case_pb2.REQUEST_STATUS_AWAITING_INFORMATION
    loop.settle()
    write(loop, rid, pb.ENTRY_KIND_REPLY, "reply", owner)
    back = intake.GetRequest(pb.GetRequestRequest(request_id=rid), metadata=owner)
    assert (back.status, back.meeting_id) == (case_pb2.REQUEST_STATUS_SCHEDULED, meeting.meeting_id)
    loop.settle()

    # Thursday morning, two working days before the deadline: no material reminder (it arrived);
    # the agenda is not due yet.
    clock.set(finnish(2030, 3, 7, 9, 0))
    loop.tick()
    assert {kind for _, kind in loop.mails()} == {"new_request", "booking_confirmed", "question"}

    # Friday 15 March, three days before: the agenda reaches the group's secretary.
    clock.set(finnish(2030, 3, 15, 9, 0))
    loop.tick()
    assert loop.mails()[(SECRETARY_EMAIL, "agenda")] == 1
    sent_agenda = " ".join(loop.mail(SECRETARY_EMAIL, "agenda").body.split())
    assert "on varattu 1 tapausta; 0 niistä on vielä ilman esitietolomaketta" in sent_agenda

    # Before the meeting the member reads the case and the form (audited by consent as theirs).
    seen = intake.GetRequest(pb.GetRequestRequest(request_id=rid), metadata=member)
    assert seen.content_included and seen.question == QUESTION
    assert entries(loop, rid, member) == [(pb.ENTRY_KIND_PRE_INFORMATION, TEXTS["pre_information"]),
                                          (pb.ENTRY_KIND_QUESTION, TEXTS["question"]),
                                          (pb.ENTRY_KIND_REPLY, TEXTS["reply"])]
    assert [(a, d["purpose"], d["as"], d["party"]) for a, d in loop.audit(rid, "member-loop")] == [
        ("content.read", "view", "group_member", f"group:{GROUP}"),
        ("content.read", "conversation", "group_member", f"group:{GROUP}")]
    # Another group's member and secretary: refused by intake, and by consent when asked directly.
    for stranger, reason in ((other_member, "NOT_GROUP_MEMBER"), (other_secretary, "NOT_GROUP_SECRETARY")):
        assert reason_of(refused(intake.ListEntries, pb.ListEntriesRequest(request_id=rid),
                                 metadata=stranger)) == reason
        assert key_refusal(loop, rid, stranger) == (grpc.StatusCode.PERMISSION_DENIED, "NOT_BOOKED_GROUP")
    assert reason_of(refused(intake.GetRequest, pb.GetRequestRequest(request_id=rid), metadata=other_member)) \
        == "NOT_GROUP_MEMBER"
    assert not intake.GetRequest(pb.GetRequestRequest(request_id=rid), metadata=other_secretary).content_included
    for stranger in ("member-other-loop", "secr-other-loop"):  # consent's refusals are in its trail too
        assert [(a, d["refused"]) for a, d in loop.audit(rid, stranger)] == [("content.refused", "NOT_BOOKED_GROUP")]

    # Sunday morning: the day-before reminder to the professional.
    clock.set(finnish(2030, 3, 17, 9, 0))
    loop.tick()

    # After the meeting the secretary marks it consulted, records the recommendations and returns them.
    clock.set(meets + timedelta(hours=3))
    intake.MarkConsulted(pb.RequestRef(request_id=rid), metadata=secretary)
    write(loop, rid, pb.ENTRY_KIND_RECOMMENDATIONS, "recommendations", secretary)
    returned = intake.ReturnRecommendations(pb.RequestRef(request_id=rid), metadata=secretary)
    assert returned.status == case_pb2.REQUEST_STATUS_RECOMMENDATIONS_RETURNED
    loop.settle()
    loop.tick()

    # The member's right ended with the answer: intake refuses, and so does consent.
    for call, request in ((intake.ListEntries, pb.ListEntriesRequest(request_id=rid)),
                          (intake.GetRequest, pb.GetRequestRequest(request_id=rid))):
        assert reason_of(refused(call, request, metadata=member)) == "ANSWER_RETURNED"
    assert key_refusal(loop, rid, member) == (grpc.StatusCode.PERMISSION_DENIED, "RECOMMENDATIONS_RETURNED")
    # The professional reads the recommendations.
    assert entries(loop, rid, owner) == [(pb.ENTRY_KIND_PRE_INFORMATION, TEXTS["pre_information"]),
                                         (pb.ENTRY_KIND_QUESTION, TEXTS["question"]),
                                         (pb.ENTRY_KIND_REPLY, TEXTS["reply"]),
                                         (pb.ENTRY_KIND_RECOMMENDATIONS, TEXTS["recommendations"])]

    assert loop.mails() == Counter({
        (COORDINATOR_A, "new_request"): 1, (COORDINATOR_B, "new_request"): 1,
        (GROUP_PROFESSIONAL_EMAIL, "booking_confirmed"): 1, (GROUP_PROFESSIONAL_EMAIL, "question"): 1,
        (SECRETARY_EMAIL, "agenda"): 1,
        (GROUP_PROFESSIONAL_EMAIL, "meeting_reminder"): 1,
        (GROUP_PROFESSIONAL_EMAIL, "recommendations"): 1}), loop.mails()  # and no material reminder
    assert_no_case_text_in_any_mail(loop.sink)


def response_times(loop: Loop, coordinator) -> list[tuple]:
    got = loop.feedback.GetStatistics(fpb.GetStatisticsRequest(period="2030-Q1", type=case_pb2.REQUEST_TYPE_OT_TUKI),
                                      metadata=coordinator)
    return [(r.quarter, r.requests, r.first_response_median_days, r.first_response_p90_days, r.answer_median_days,
             r.answer_p90_days) for r in got.response_times]


def facts(loop: Loop, coordinator) -> dict[str, tuple]:
    """What intake's list shows of each OT-TUKI request (type, categories, status, response times)."""
    listed = loop.intake.ListRequests(pb.ListRequestsRequest(type=case_pb2.REQUEST_TYPE_OT_TUKI, page_size=100),
                                      metadata=coordinator).requests
    return {r.request_id: (r.type, tuple(r.categories), r.status, when(r.first_response_at), when(r.answered_at),
                           r.waiting_working_days) for r in listed}


def test_after_the_retention_purge_no_entry_is_readable_and_the_lists_and_statistics_keep_their_times(loop, keys):
    intake, clock = loop.intake, loop.clock
    owner = keys.metadata(subject="prof-purge-loop")
    coordinator = keys.metadata(roles=("coordinator",), subject="coord-purge-loop")
    # Five OT-TUKI requests submitted on Monday (five: the least the statistics show a figure for).
    ids = [intake.SubmitRequest(submission(case_pb2.REQUEST_TYPE_OT_TUKI, PROFESSIONAL_EMAIL, NOT_NEEDED),
                                metadata=owner).request_id for _ in range(5)]
    waiting = ids[4]
    clock.advance(days=1)  # Tuesday: the last one is asked for more information
    write(loop, waiting, pb.ENTRY_KIND_QUESTION, "question", coordinator)
    write(loop, waiting, pb.ENTRY_KIND_NOTE, "note", coordinator)
    for day, rid in enumerate(ids[:4]):  # Tuesday to Friday: one answered each day
        if day:
            clock.advance(days=1)
        if day == 2:  # Thursday: the reply comes (the clock stood still two working days)
            write(loop, waiting, pb.ENTRY_KIND_REPLY, "reply", owner)
        write(loop, rid, pb.ENTRY_KIND_ADVICE, "advice", coordinator)
        intake.ReturnRecommendations(pb.RequestRef(request_id=rid), metadata=coordinator)
    clock.advance(days=3)  # Monday: the last one is answered too
    write(loop, waiting, pb.ENTRY_KIND_ADVICE, "advice", coordinator)
    intake.ReturnRecommendations(pb.RequestRef(request_id=waiting), metadata=coordinator)
    loop.settle()

    before = facts(loop, coordinator)
    assert [before[rid][3:] for rid in ids] == [
        (MONDAY + timedelta(days=1), MONDAY + timedelta(days=1), 1),
        (MONDAY + timedelta(days=2), MONDAY + timedelta(days=2), 2),
        (MONDAY + timedelta(days=3), MONDAY + timedelta(days=3), 3),
        (MONDAY + timedelta(days=4), MONDAY + timedelta(days=4), 4),
        (MONDAY + timedelta(days=1), MONDAY + timedelta(days=7), 3)]  # five working days, two paused
    # Working days to the first response 1, 2, 3, 4, 1; to the answer 1, 2, 3, 4, 3: the count is
    # five, so feedback shows the figures (median, nearest-rank 90th percentile).
    statistics = response_times(loop, coordinator)
    assert statistics == [("2030-Q1", "5", "2", "4", "3", "4")]

    # The OT-TUKI retention: 30 days after the answer went back. Consent's clock passes it.
    clock.advance(days=31)
    purged = loop.consent.RunPurge(cpb.RunPurgeRequest(), metadata=coordinator).request_ids
    assert sorted(purged) == sorted(ids)
    loop.settle()  # intake and feedback hear of the shredded keys

    for rid in ids:
        for reader in (owner, coordinator):
            listed = intake.ListEntries(pb.ListEntriesRequest(request_id=rid), metadata=reader)
            assert listed.content_erased and listed.entries
            assert all(e.content_erased and e.text == "" for e in listed.entries)
        kept = intake.GetRequest(pb.GetRequestRequest(request_id=rid), metadata=owner)
        assert kept.content_erased and not kept.content_included and kept.question == ""
        assert kept.client.family_situation == "" and not kept.client.earlier_services
    assert [e.kind for e in intake.ListEntries(pb.ListEntriesRequest(request_id=waiting),
                                               metadata=coordinator).entries] == [
        pb.ENTRY_KIND_QUESTION, pb.ENTRY_KIND_NOTE, pb.ENTRY_KIND_REPLY, pb.ENTRY_KIND_ADVICE]
    with loop.services["intake"].app.engine.connect() as c:
        assert set(c.execute(sa.text("SELECT sealed_text FROM entries")).scalars()) == {None}

    # The list still shows what the OT team and the statistics count, unchanged; so does feedback.
    after = facts(loop, coordinator)
    assert after == before
    assert {v[:3] for v in after.values()} == {(case_pb2.REQUEST_TYPE_OT_TUKI,
                                                (case_pb2.CASE_CATEGORY_CHILD_PROTECTION_SPECIAL,),
                                                case_pb2.REQUEST_STATUS_RECOMMENDATIONS_RETURNED)}
    assert response_times(loop, coordinator) == statistics
