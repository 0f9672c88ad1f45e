"""Thin servicer: proto in -> domain command -> handler -> proto out. No rules here."""
from __future__ import annotations

from ot.common.v1 import case_pb2
from ot.intake.v1 import intake_pb2 as pb
from ot.intake.v1 import intake_pb2_grpc

from ot_runtime.auth import current_principal

from ot_runtime.protoconv import from_ts, to_domain, to_proto, ts
from .domain import (Category, ClientFacts, Consent, ConsentGiver, ConsentNeed, ConsultationRequest, Gender, Meeting,
                     Professional, RequestType, Sector, Status, Submission)
from .handlers import IntakeHandlers
from .seula import MAX_SCORE, Screening, band_for, screen
from .store import RequestFilter


def submission_from_proto(req: pb.SubmitRequestRequest) -> Submission:
    p, c = req.professional, req.client
    return Submission(
        type=to_domain(case_pb2.RequestType, req.type, RequestType),
        professional=Professional(name=p.name.strip(), phone=p.phone.strip(), email=p.email.strip(),
                                  profession=p.profession.strip(), organisation=p.organisation.strip(),
                                  sector=to_domain(case_pb2.Sector, p.sector, Sector),
                                  wellbeing_area=p.wellbeing_area.strip()),
        # An unknown category number becomes None and is reported as a missing category.
        categories=[x for x in (to_domain(case_pb2.CaseCategory, v, Category) for v in req.categories) if x],
        client=ClientFacts(age_years=None if c.age_unknown else c.age_years,
                           gender=to_domain(pb.Gender, c.gender, Gender), family_situation=c.family_situation,
                           earlier_services=list(c.earlier_services),
                           cooperation_partners=list(c.cooperation_partners),
                           health_information=c.health_information),
        question=req.question, discussed_in_own_team=req.discussed_in_own_team,
        consent=Consent(need=to_domain(pb.ConsentNeed, req.consent.need, ConsentNeed),
                        given_by=to_domain(pb.ConsentGiver, req.consent.given_by, ConsentGiver),
                        child_capacity_assessed=req.consent.child_capacity_assessed),
        anonymous=req.anonymous, idempotency_key=req.idempotency_key)


def screening_to_proto(s: Screening) -> pb.Screening:
    return pb.Screening(score=s.score, max_score=MAX_SCORE, band=s.band, summary_fi=s.summary_fi,
                        summary_en=s.summary_en,
                        reasons=[pb.ScreeningReason(points=r.points, reason_fi=r.fi, reason_en=r.en)
                                 for r in s.reasons])


def request_to_proto(r: ConsultationRequest, screening: Screening | None = None) -> pb.Request:
    p, c = r.professional, r.client
    if screening is None and r.content_included:
        screening = screen(Submission(type=r.type, professional=p, categories=r.categories, client=c,
                                      question=r.question, discussed_in_own_team=r.discussed_in_own_team,
                                      consent=r.consent, anonymous=r.anonymous))
    elif screening is None and r.screening_score is not None:  # without the content only the stored score
        screening = Screening(score=r.screening_score, band=band_for(r.screening_score), reasons=[])
    return pb.Request(
        request_id=r.id, tenant=r.tenant, type=to_proto(case_pb2.RequestType, r.type),
        status=to_proto(case_pb2.RequestStatus, r.status),
        professional=pb.Professional(name=p.name, phone=p.phone, email=p.email, profession=p.profession,
                                     organisation=p.organisation, sector=to_proto(case_pb2.Sector, p.sector),
                                     wellbeing_area=p.wellbeing_area),
        categories=[to_proto(case_pb2.CaseCategory, x) for x in r.categories],
        client=pb.ClientFacts(age_years=c.age_years or 0, age_unknown=c.age_years is None,
                              gender=to_proto(pb.Gender, c.gender), family_situation=c.family_situation,
                              earlier_services=c.earlier_services, cooperation_partners=c.cooperation_partners,
                              health_information=c.health_information),
        question=r.question, discussed_in_own_team=r.discussed_in_own_team,
        consent=pb.ConsentAssessment(need=to_proto(pb.ConsentNeed, r.consent.need),
                                     given_by=to_proto(pb.ConsentGiver, r.consent.given_by),
                                     child_capacity_assessed=r.consent.child_capacity_assessed),
        anonymous=r.anonymous, submitted_at=ts(r.submitted_at), updated_at=ts(r.updated_at),
        triage_note=r.triage_note, screening=screening_to_proto(screening) if screening else None,
        meeting_id=r.meeting_id,
        expert_ids=r.expert_ids, content_erased=r.content_erased, content_included=r.content_included)


def meeting_to_proto(m: Meeting) -> pb.Meeting:
    return pb.Meeting(meeting_id=m.id, group_id=m.group_id, starts_at=ts(m.starts_at), capacity=m.capacity,
                      booked=m.booked, booking_lead_days=m.booking_lead_days,
                      booking_deadline=ts(m.booking_deadline))


class IntakeServicer(intake_pb2_grpc.IntakeServiceServicer):
    def __init__(self, handlers: IntakeHandlers):
        self.h = handlers

    def SubmitRequest(self, request, context):
        r, screening = self.h.submit(current_principal(), submission_from_proto(request))
        return request_to_proto(r, screening)

    def GetRequest(self, request, context):
        return request_to_proto(self.h.get(current_principal(), request.request_id))

    def ListRequests(self, request, context):
        f = RequestFilter(
            status=to_domain(case_pb2.RequestStatus, request.status, Status),
            category=to_domain(case_pb2.CaseCategory, request.category, Category),
            type=to_domain(case_pb2.RequestType, request.type, RequestType),
            submitted_from=from_ts(request.submitted_from, request.HasField("submitted_from")),
            submitted_to=from_ts(request.submitted_to, request.HasField("submitted_to")),
            page_size=request.page_size or 20, page_token=request.page_token)
        items, next_token, total = self.h.list(current_principal(), f)
        return pb.ListRequestsResponse(requests=[request_to_proto(r) for r in items], next_page_token=next_token,
                                       total_count=total)

    def TriageRequest(self, request, context):
        return request_to_proto(self.h.triage(current_principal(), request.request_id, request.note))

    def PublishMeeting(self, request, context):
        m = self.h.publish_meeting(current_principal(), request.group_id.strip(),
                                   from_ts(request.starts_at, request.HasField("starts_at")), request.capacity,
                                   request.booking_lead_days)
        return meeting_to_proto(m)

    def ListMeetings(self, request, context):
        meetings = self.h.list_meetings(current_principal(), request.group_id.strip(),
                                        from_ts(request.from_time, request.HasField("from_time")))
        return pb.ListMeetingsResponse(meetings=[meeting_to_proto(m) for m in meetings])

    def BookMeeting(self, request, context):
        return request_to_proto(self.h.book(current_principal(), request.request_id, request.meeting_id))

    def MarkConsulted(self, request, context):
        return request_to_proto(self.h.mark_consulted(current_principal(), request.request_id))

    def ReturnRecommendations(self, request, context):
        return request_to_proto(self.h.return_recommendations(current_principal(), request.request_id))

    def CloseRequest(self, request, context):
        return request_to_proto(self.h.close(current_principal(), request.request_id))

    def WithdrawRequest(self, request, context):
        return request_to_proto(self.h.withdraw(current_principal(), request.request_id))

    def ExportProfessionalData(self, request, context):
        count, data = self.h.export_professional(current_principal(), request.subject)
        return pb.ProfessionalDataExport(subject=request.subject, requests=count, json=data)

    def EraseProfessionalData(self, request, context):
        return pb.ErasureReport(subject=request.subject,
                                requests_erased=self.h.erase_professional(current_principal(), request.subject))
