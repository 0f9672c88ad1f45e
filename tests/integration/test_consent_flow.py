"""Consent and privacy over real Kafka and PostgreSQL: sharing follows consent and its withdrawal
(experts stops offering the case), case content becomes unreadable everywhere once its retention
ends while the request still counts, and the audit trail verifies and exposes tampering."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import grpc
import pytest
import sqlalchemy as sa
from google.protobuf.timestamp_pb2 import Timestamp
from ot.common.v1 import case_pb2
from ot.consent.v1 import consent_pb2 as cpb
from ot.consent.v1 import consent_pb2_grpc
from ot.events.v1 import intake_events_pb2
from ot.experts.v1 import experts_pb2 as xpb
from ot.experts.v1 import experts_pb2_grpc
from ot.intake.v1 import intake_pb2 as ipb
from ot.intake.v1 import intake_pb2_grpc

from ot_runtime.clock import FixedClock
from ot_runtime.crypto import CannotOpen, open_sealed

from conftest import TENANT, header, read_topic, wait_until
from experts_fixtures import experts_database_url, start_experts  # noqa: F401 (fixtures)
from test_experts_flow import proposals_when_ready

EXPERT = "kys-vaativa-lastenpsykiatria"


def submission(type_=case_pb2.REQUEST_TYPE_EXPERT_REINFORCEMENT) -> ipb.SubmitRequestRequest:
    return ipb.SubmitRequestRequest(
        type=type_,
        professional=ipb.Professional(name="Testi Ammattilainen", email="testi@example.fi",
                                      profession="sosiaalityöntekijä", organisation="Lastensuojelu",
                                      sector=case_pb2.SECTOR_SOCIAL, wellbeing_area=TENANT),
        categories=[case_pb2.CASE_CATEGORY_PSYCHIATRIC_SUBSTANCE_SCHOOL, case_pb2.CASE_CATEGORY_CHALLENGING_DIVORCE],
        client=ipb.ClientFacts(age_years=14, gender=ipb.GENDER_GIRL, family_situation="vuoroasuminen",
                               health_information="toistuvia päivystyskäyntejä"),
        question="Miten tukea nuorta, jonka koulunkäynti on katkennut ja vanhemmat kiistelevät hoidosta?",
        discussed_in_own_team=True,
        consent=ipb.ConsentAssessment(need=ipb.CONSENT_NEED_WRITTEN_ORGANISATION_FORM,
                                      given_by=ipb.CONSENT_GIVER_GUARDIANS))


def stubs(service):
    return (intake_pb2_grpc.IntakeServiceStub(service.channel),
            consent_pb2_grpc.ConsentServiceStub(service.consent.channel))


def test_sharing_follows_consent_and_withdrawal_stops_the_experts_offering_the_case(start_intake, start_experts,
                                                                                  keys):
    intake_service = start_intake()
    experts = experts_pb2_grpc.ExpertsServiceStub(start_experts(intake_service.consent).channel)
    intake, consent = stubs(intake_service)
    professional = keys.metadata(subject="prof-consent")
    coordinator = keys.metadata(roles=("coordinator",), subject="coord-consent")
    service = keys.metadata(roles=("service",), subject="ot-experts")
    request_id = intake.SubmitRequest(submission(), metadata=professional).request_id
    party = cpb.Party(kind=cpb.PARTY_KIND_EXPERT_ORGANISATION, id=EXPERT)

    # The initial assessment came with the submission: written consent, the OT team only.
    first = consent.CheckSharing(cpb.CheckSharingRequest(request_id=request_id, party=party), metadata=service)
    assert (first.allowed, first.reason_code) == (False, "NOT_IN_SCOPE")
    consent.RecordConsent(cpb.RecordConsentRequest(
        request_id=request_id, form=cpb.CONSENT_FORM_WRITTEN_ORGANISATION_FORM, given_by=cpb.CONSENT_GIVER_GUARDIANS,
        scope=[party]), metadata=professional)
    allowed = consent.CheckSharing(cpb.CheckSharingRequest(request_id=request_id, party=party), metadata=service)
    assert (allowed.allowed, allowed.reason_code) == (True, "CONSENT_IN_SCOPE")

    offered = proposals_when_ready(experts, request_id, coordinator).proposals
    assert EXPERT in [p.expert.expert_id for p in offered]

    consent.WithdrawConsent(cpb.WithdrawConsentRequest(request_id=request_id), metadata=professional)
    refused = consent.CheckSharing(cpb.CheckSharingRequest(request_id=request_id, party=party), metadata=service)
    assert (refused.allowed, refused.reason_code) == (False, "CONSENT_WITHDRAWN")
    wait_until(lambda: not experts.ListProposals(xpb.ListProposalsRequest(request_id=request_id),
                                                 metadata=coordinator).proposals,
               what="experts to stop offering the case")
    with pytest.raises(grpc.RpcError) as err:
        experts.AssignExperts(xpb.AssignExpertsRequest(request_id=request_id, expert_ids=[EXPERT], cost_approved=True),
                              metadata=coordinator)
    assert err.value.code() is grpc.StatusCode.FAILED_PRECONDITION and "peruttu" in err.value.details()
    history = consent.GetConsent(cpb.GetConsentRequest(request_id=request_id), metadata=professional)
    assert [v.version for v in history.versions] == [1, 2, 3] and history.current.withdrawn


def test_after_retention_the_case_text_is_unreadable_everywhere_but_the_request_still_counts(
        start_intake, start_consent, keys, kafka_bootstrap):
    consent_clock = FixedClock(datetime.now(timezone.utc))
    # Intake on the same clock: its booking is consulted only once the meeting has taken place.
    intake_service = start_intake(clock=consent_clock, consent=start_consent(consent_clock))
    intake, consent = stubs(intake_service)
    professional = keys.metadata(subject="prof-retention")
    # The secretary of the group whose meeting the request is booked into (ot_groups).
    secretary = keys.metadata(roles=("secretary",), subject="secr-retention", groups=("haastavat-erot-kuopio",))
    coordinator = keys.metadata(roles=("coordinator",), subject="coord-retention")

    starts = Timestamp()
    starts.FromDatetime(consent_clock.now() + timedelta(days=20))
    meeting = intake.PublishMeeting(ipb.PublishMeetingRequest(group_id="haastavat-erot-kuopio", starts_at=starts,
                                                              capacity=4), metadata=secretary)
    created = intake.SubmitRequest(submission(case_pb2.REQUEST_TYPE_GROUP_CONSULTATION), metadata=professional)
    rid = created.request_id
    intake.BookMeeting(ipb.BookMeetingRequest(request_id=rid, meeting_id=meeting.meeting_id), metadata=professional)
    consent_clock.advance(days=20)  # the meeting day
    intake.MarkConsulted(ipb.RequestRef(request_id=rid), metadata=secretary)
    # The answer to return (the coordinator reads and writes whatever the consent's scope).
    intake.AddEntry(ipb.AddEntryRequest(request_id=rid, kind=ipb.ENTRY_KIND_RECOMMENDATIONS,
                                        text="Ryhmä suosittelee perheasioiden sovittelua."), metadata=coordinator)
    intake.ReturnRecommendations(ipb.RequestRef(request_id=rid), metadata=secretary)

    # The published copy is ciphertext that the request's key opens, while the key exists.
    key = consent.GetDataKey(cpb.GetDataKeyRequest(request_id=rid, purpose="test"), metadata=professional).data_key
    [published] = [r for r in read_topic(kafka_bootstrap, intake_service.settings.topic("intake"), expect=5)
                   if header(r, "ce_type") == "ot.intake.request.submitted.v1"]
    sealed = intake_events_pb2.RequestSubmitted.FromString(published.value).sealed_content
    aad = f"ot-case:{TENANT}:{rid}:content".encode()
    assert b"koulunk" in open_sealed(key, sealed, aad) and b"koulunk" not in published.value

    # Consent has seen the recommendations returned; the group's grace period is 14 days.
    with intake_service.consent.app.engine.connect() as c:
        wait_until(lambda: c.execute(sa.text("SELECT recommendations_returned_at FROM cases WHERE request_id=:r"),
                                     {"r": rid}).scalar(), what="consent to start the retention clock")
    consent_clock.advance(days=13)
    assert consent.RunPurge(cpb.RunPurgeRequest(), metadata=coordinator).shredded == 0
    consent_clock.advance(days=2)
    report = consent.RunPurge(cpb.RunPurgeRequest(), metadata=coordinator)
    assert list(report.request_ids) == [rid]
    assert consent.RunPurge(cpb.RunPurgeRequest(), metadata=coordinator).shredded == 0  # idempotent

    # No one can get the key any more, and intake has dropped its ciphertext too.
    with pytest.raises(grpc.RpcError) as err:
        consent.GetDataKey(cpb.GetDataKeyRequest(request_id=rid, purpose="late"), metadata=professional)
    assert err.value.code() is grpc.StatusCode.NOT_FOUND
    with intake_service.consent.app.engine.connect() as c:
        assert c.execute(sa.text("SELECT wrapped_key FROM data_keys WHERE request_id=:r"), {"r": rid}).scalar() is None
    erased = wait_until(lambda: (r := intake.GetRequest(ipb.GetRequestRequest(request_id=rid), metadata=coordinator))
                        .content_erased and r, what="intake to erase the content")
    assert erased.question == "" and not erased.content_included
    with intake_service.app.engine.connect() as c:
        row = c.execute(sa.text("SELECT sealed_content, sealed_triage_note FROM requests WHERE id=:r"),
                        {"r": rid}).one()
    assert row == (None, None)
    with pytest.raises(CannotOpen):  # a wrong key opens nothing: only the shredded one ever could
        open_sealed(b"\0" * 32, sealed, aad)

    # What statistics need is still there.
    listed = intake.ListRequests(ipb.ListRequestsRequest(type=case_pb2.REQUEST_TYPE_GROUP_CONSULTATION),
                                 metadata=coordinator)
    assert listed.total_count == 1
    assert listed.requests[0].status == case_pb2.REQUEST_STATUS_RECOMMENDATIONS_RETURNED
    assert set(listed.requests[0].categories) == set(submission().categories)


def test_the_audit_trail_verifies_and_a_tampered_entry_is_found(start_intake, keys):
    intake_service = start_intake()
    intake, consent = stubs(intake_service)
    professional = keys.metadata(subject="prof-audit")
    coordinator = keys.metadata(roles=("coordinator",), subject="coord-audit")
    rid = intake.SubmitRequest(submission(), metadata=professional).request_id
    intake.GetRequest(ipb.GetRequestRequest(request_id=rid), metadata=coordinator)
    intake.TriageRequest(ipb.TriageRequestRequest(request_id=rid, note="OT-tasoinen."), metadata=coordinator)

    trail = consent.QueryAudit(cpb.QueryAuditRequest(request_id=rid), metadata=coordinator).entries
    assert [(e.action, e.actor) for e in trail] == [("case.opened", "prof-audit"), ("content.read", "coord-audit"),
                                                   ("content.read", "coord-audit")]
    assert "purpose=view" in trail[1].detail and "purpose=triage note" in trail[2].detail
    ok = consent.VerifyAudit(cpb.VerifyAuditRequest(), metadata=coordinator)
    assert ok.intact and ok.entries_checked == 4  # with consent's start: its master key version made current

    with intake_service.consent.app.engine.begin() as c:  # someone edits the trail in the database
        c.execute(sa.text("UPDATE audit_log SET actor='someone-else' WHERE sequence=:s"), {"s": trail[1].sequence})
    bad = consent.VerifyAudit(cpb.VerifyAuditRequest(), metadata=coordinator)
    assert not bad.intact and bad.first_bad_sequence == trail[1].sequence
