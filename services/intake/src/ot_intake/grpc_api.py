"""Thin servicer: proto in -> domain command -> handler -> proto out. No rules here."""
from __future__ import annotations

from ot.common.v1 import case_pb2
from ot.intake.v1 import intake_pb2 as pb
from ot.intake.v1 import intake_pb2_grpc

from ot_runtime.auth import Principal, current_principal

from ot_runtime.protoconv import from_ts, to_domain, to_proto, ts
from .domain import (AgendaItem, Category, ClientFacts, Consent, ConsentGiver, ConsentNeed, ConsultationRequest, Entry,
                     EntryKind, Gender, Meeting, Professional, RequestType, Sector, Status, Submission,
                     publish_warning)
from .handlers import IntakeHandlers, RequestView
from .seula import MAX_SCORE, Screening, band_for, screen
from .store import Order, RequestFilter


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
        anonymous=req.anonymous, idempotency_key=req.idempotency_key, validate_only=req.validate_only)


def screening_to_proto(s: Screening) -> pb.Screening:
    return pb.Screening(score=s.score, max_score=MAX_SCORE, band=s.band, summary_fi=s.summary_fi,
                        summary_en=s.summary_en,
                        reasons=[pb.ScreeningReason(points=r.points, reason_fi=r.fi, reason_en=r.en)
                                 for r in s.reasons])


def optional_ts(value):
    return ts(value) if value is not None else None


def request_to_proto(r: ConsultationRequest, screening: Screening | None = None,
                     view: RequestView | None = None) -> pb.Request:
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
        expert_ids=r.expert_ids, content_erased=r.content_erased, content_included=r.content_included,
        first_response_at=optional_ts(r.first_response_at), answered_at=optional_ts(r.answered_at),
        response_due_at=optional_ts(r.response_due_at),
        waiting_working_days=view.waiting_working_days if view else 0, past_target=view.past_target if view else False,
        entries=view.entries if view else 0, owner_subject=view.owner_subject if view else "")


def meeting_to_proto(m: Meeting) -> pb.Meeting:
    return pb.Meeting(meeting_id=m.id, group_id=m.group_id, starts_at=ts(m.starts_at), capacity=m.capacity,
                      booked=m.booked, booking_lead_days=m.booking_lead_days,
                      booking_deadline=ts(m.booking_deadline), location=m.location)


def entry_to_proto(e: Entry) -> pb.Entry:
    return pb.Entry(entry_id=e.id, request_id=e.request_id, sequence=e.sequence, kind=to_proto(pb.EntryKind, e.kind),
                    author_subject=e.author_subject, author_role=e.author_role, author_name=e.author_name,
                    text=e.text, expert_ids=e.expert_ids, created_at=ts(e.created_at),
                    content_erased=e.content_erased)


def agenda_item_to_proto(item: AgendaItem) -> pb.AgendaItem:
    r = item.request
    return pb.AgendaItem(request_id=r.id, type=to_proto(case_pb2.RequestType, r.type),
                         categories=[to_proto(case_pb2.CaseCategory, c) for c in r.categories],
                         anonymous=r.anonymous, booked_at=optional_ts(r.booked_at),
                         material_received_at=optional_ts(item.material_received_at),
                         material_missing=item.material_missing)


class IntakeServicer(intake_pb2_grpc.IntakeServiceServicer):
    def __init__(self, handlers: IntakeHandlers):
        self.h = handlers

    def _out(self, who: Principal, r: ConsultationRequest, screening: Screening | None = None, *,
             fresh: bool = False) -> pb.Request:
        return request_to_proto(r, screening, self.h.views(who, [r], fresh=fresh)[0])

    def SubmitRequest(self, request, context):
        who = current_principal()
        r, screening, fresh = self.h.submit(who, submission_from_proto(request))
        return self._out(who, r, screening, fresh=fresh)

    def GetRequest(self, request, context):
        who = current_principal()
        return self._out(who, self.h.get(who, request.request_id))

    def ListRequests(self, request, context):
        who = current_principal()
        f = RequestFilter(
            status=to_domain(case_pb2.RequestStatus, request.status, Status),
            category=to_domain(case_pb2.CaseCategory, request.category, Category),
            type=to_domain(case_pb2.RequestType, request.type, RequestType),
            submitted_from=from_ts(request.submitted_from, request.HasField("submitted_from")),
            submitted_to=from_ts(request.submitted_to, request.HasField("submitted_to")),
            page_size=request.page_size or 20, page_token=request.page_token,
            order=to_domain(pb.RequestOrder, request.order, Order) or Order.NEWEST,
            past_target_only=request.past_target_only)
        page = self.h.list(who, f)
        views = self.h.views(who, page.items)
        return pb.ListRequestsResponse(requests=[request_to_proto(r, None, v) for r, v in zip(page.items, views)],
                                       next_page_token=page.next_token, total_count=page.total,
                                       total_count_at_least=page.total_at_least)

    def TriageRequest(self, request, context):
        who = current_principal()
        return self._out(who, self.h.triage(who, request.request_id, request.note))

    def PublishMeeting(self, request, context):
        m = self.h.publish_meeting(current_principal(), request.group_id.strip(),
                                   from_ts(request.starts_at, request.HasField("starts_at")), request.capacity,
                                   request.booking_lead_days, request.location)
        out = meeting_to_proto(m)
        warning = publish_warning(m, self.h.clock.now())
        if warning:
            out.warning_code, out.warning_fi, out.warning_en = warning
        return out

    def ListMeetings(self, request, context):
        meetings = self.h.list_meetings(current_principal(), request.group_id.strip(),
                                        from_ts(request.from_time, request.HasField("from_time")))
        return pb.ListMeetingsResponse(meetings=[meeting_to_proto(m) for m in meetings])

    def BookMeeting(self, request, context):
        who = current_principal()
        return self._out(who, self.h.book(who, request.request_id, request.meeting_id))

    def MarkConsulted(self, request, context):
        who = current_principal()
        return self._out(who, self.h.mark_consulted(who, request.request_id))

    def ReturnRecommendations(self, request, context):
        who = current_principal()
        return self._out(who, self.h.return_recommendations(who, request.request_id))

    def CloseRequest(self, request, context):
        who = current_principal()
        return self._out(who, self.h.close(who, request.request_id))

    def WithdrawRequest(self, request, context):
        who = current_principal()
        return self._out(who, self.h.withdraw(who, request.request_id))

    def ExportProfessionalData(self, request, context):
        count, data = self.h.export_professional(current_principal(), request.subject)
        return pb.ProfessionalDataExport(subject=request.subject, requests=count, json=data)

    def EraseProfessionalData(self, request, context):
        return pb.ErasureReport(subject=request.subject,
                                requests_erased=self.h.erase_professional(current_principal(), request.subject))

    def AddEntry(self, request, context):
        entry = self.h.add_entry(current_principal(), request.request_id,
                                 to_domain(pb.EntryKind, request.kind, EntryKind), request.text, request.author_name,
                                 list(request.expert_ids), request.idempotency_key)
        return entry_to_proto(entry)

    def ListEntries(self, request, context):
        entries, erased = self.h.list_entries(current_principal(), request.request_id)
        return pb.ListEntriesResponse(entries=[entry_to_proto(e) for e in entries], content_erased=erased)

    def GetMeetingAgenda(self, request, context):
        meeting, items = self.h.agenda(current_principal(), request.meeting_id)
        return pb.MeetingAgenda(meeting=meeting_to_proto(meeting), items=[agenda_item_to_proto(i) for i in items])
