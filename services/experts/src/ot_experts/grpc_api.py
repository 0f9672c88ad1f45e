"""Thin servicer: proto in -> domain command -> handler -> proto out. No rules here: who may call
and the form of every field are checked before (edge.py), the rules in the handlers."""
from __future__ import annotations

from ot.common.v1 import case_pb2
from ot.experts.v1 import experts_pb2 as pb
from ot.experts.v1 import experts_pb2_grpc

from ot_runtime.auth import current_principal
from ot_runtime.protoconv import to_domain, to_proto, ts

from .domain import Availability, Category, Contact, Cost, Expert, Modality, NetworkStatus, Overlay
from .handlers import AssignmentView, ExpertFilter, ExpertsHandlers, ExpertView, ProposalsView


def expert_to_proto(v: ExpertView) -> pb.Expert:
    e = v.expert
    out = pb.Expert(
        expert_id=e.id, kind=e.kind, name_fi=e.name_fi, name_en=e.name_en, organisation=e.organisation,
        description_fi=e.description_fi, description_en=e.description_en,
        categories=[to_proto(case_pb2.CaseCategory, c) for c in e.categories], competences=list(e.competences),
        cost=to_proto(pb.Cost, e.cost), price_note=e.price_note, languages=list(e.languages),
        modalities=[to_proto(pb.Modality, m) for m in e.modalities],
        network_status=to_proto(pb.NetworkStatus, e.network_status),
        contact=pb.Contact(name=e.contact.name, role=e.contact.role, email=e.contact.email),
        origin=e.origin, dataset_version=e.dataset_version,
        availability=to_proto(pb.Availability, e.overlay.availability), local_note=e.overlay.local_note,
        active=e.overlay.active, retired=e.retired, usable_in_area=v.use.usable, user_subject=e.user_subject)
    if e.overlay.retired_at:
        out.retired_at.CopyFrom(ts(e.overlay.retired_at))
    if not v.use.usable:
        out.not_usable_reason_fi, out.not_usable_reason_en = v.use.fi, v.use.en
    return out


def fields_from_proto(f: pb.ExpertFields, expert_id: str = "", overlay: Overlay | None = None) -> Expert:
    return Expert(
        id=expert_id.strip(), kind=f.kind.strip(), name_fi=f.name_fi.strip(), name_en=f.name_en.strip(),
        organisation=f.organisation.strip(), description_fi=f.description_fi, description_en=f.description_en,
        categories=tuple(dict.fromkeys(x for x in (to_domain(case_pb2.CaseCategory, v, Category)
                                                   for v in f.categories) if x)),
        competences=tuple(c.strip() for c in f.competences if c.strip()),
        cost=to_domain(pb.Cost, f.cost, Cost), price_note=f.price_note.strip(),
        languages=tuple(dict.fromkeys(f.languages)),
        modalities=tuple(dict.fromkeys(x for x in (to_domain(pb.Modality, v, Modality) for v in f.modalities) if x)),
        network_status=NetworkStatus.AVAILABLE,
        contact=Contact(f.contact.name.strip(), f.contact.role.strip(), f.contact.email.strip()),
        user_subject=f.user_subject.strip(), overlay=overlay or Overlay())


def proposals_to_proto(v: ProposalsView) -> pb.ListProposalsResponse:
    out = pb.ListProposalsResponse(
        request_id=v.request_id, proposal_set_id=v.set_id, revision=v.revision, trigger=v.trigger,
        categories=[to_proto(case_pb2.CaseCategory, c) for c in v.categories],
        request_status=to_proto(case_pb2.RequestStatus, v.status),
        proposals=[pb.Proposal(rank=rank, expert=expert_to_proto(ev), score=score,
                               reasons=[pb.ProposalReason(code=r["code"], points=r["points"], reason_fi=r["fi"],
                                                          reason_en=r["en"]) for r in reasons])
                   for rank, ev, score, reasons in v.items])
    if v.computed_at:
        out.computed_at.CopyFrom(ts(v.computed_at))
    if v.consent_withdrawn:
        out.summary_fi = "Asiakkaan suostumus on peruttu: asiantuntijoita ei ehdoteta eikä nimetä."
        out.summary_en = "The client's consent was withdrawn: no experts are proposed or assigned."
    elif v.dropped:
        out.summary_fi = "Pyyntö on päättynyt; ehdotukset on poistettu."
        out.summary_en = "The request has ended; the proposals were dropped."
    elif not v.set_id:
        out.summary_fi, out.summary_en = "Ehdotuksia ei ole vielä laskettu.", "No proposals computed yet."
    else:
        out.summary_fi = (f"{len(v.items)} ehdotusta, paras ensin. Ehdotus ei ole nimeäminen: koordinaattori "
                          "päättää.")
        out.summary_en = f"{len(v.items)} proposals, best first. A proposal is not an assignment: the coordinator decides."
    return out


def assignment_to_proto(a: AssignmentView) -> pb.Assignment:
    out = pb.Assignment(
        assignment_id=a.id, request_id=a.request_id, expert_id=a.expert_id, expert_name_fi=a.expert_name_fi,
        assigned_by=a.assigned_by, assigned_at=ts(a.assigned_at), cost_approved=a.cost_approved, active=a.active,
        unassign_reason=a.unassign_reason, request_type=to_proto(case_pb2.RequestType, a.request_type),
        categories=[to_proto(case_pb2.CaseCategory, c) for c in a.categories])
    if a.unassigned_at:
        out.unassigned_at.CopyFrom(ts(a.unassigned_at))
    return out


def group_to_proto(g) -> pb.Group:
    return pb.Group(group_id=g.id, area=g.area, kind=g.kind, name_fi=g.name_fi, name_en=g.name_en,
                    meeting_rhythm_fi=g.meeting_rhythm_fi, meeting_rhythm_en=g.meeting_rhythm_en,
                    booking_lead_days=g.booking_lead_days, member_fields=list(g.member_fields),
                    client_may_attend=g.client_may_attend, contact_role=g.contact_role, location=g.location)


class ExpertsServicer(experts_pb2_grpc.ExpertsServiceServicer):
    def __init__(self, handlers: ExpertsHandlers):
        self.h = handlers

    def ListExperts(self, request, context):
        f = ExpertFilter(category=to_domain(case_pb2.CaseCategory, request.category, Category),
                         usable_only=request.usable_in_area_only, cost=to_domain(pb.Cost, request.cost, Cost),
                         modality=to_domain(pb.Modality, request.modality, Modality), text=request.text,
                         include_retired=request.include_retired, page_size=request.page_size or 20,
                         page_token=request.page_token)
        views, next_token, total = self.h.list_experts(current_principal(), f)
        return pb.ListExpertsResponse(experts=[expert_to_proto(v) for v in views], next_page_token=next_token,
                                      total_count=total)

    def GetExpert(self, request, context):
        return expert_to_proto(self.h.get_expert(current_principal(), request.expert_id.strip()))

    def CreateExpert(self, request, context):
        overlay = Overlay(availability=to_domain(pb.Availability, request.availability, Availability)
                          or Availability.AVAILABLE, local_note=request.local_note)
        return expert_to_proto(self.h.create_expert(current_principal(),
                                                    fields_from_proto(request.fields, request.expert_id, overlay)))

    def UpdateExpert(self, request, context):
        return expert_to_proto(self.h.update_expert(
            current_principal(), request.expert_id.strip(),
            availability=to_domain(pb.Availability, request.availability, Availability),
            local_note=request.local_note if request.HasField("local_note") else None,
            active=request.active if request.HasField("active") else None,
            fields=fields_from_proto(request.fields, request.expert_id) if request.HasField("fields") else None))

    def RetireExpert(self, request, context):
        return expert_to_proto(self.h.retire_expert(current_principal(), request.expert_id.strip()))

    def ListAgreements(self, request, context):
        return pb.ListAgreementsResponse(agreements=[
            pb.Agreement(area=a.area, kind=a.kind, signed=a.signed, expert_ids=list(a.expert_ids), note_fi=a.note_fi,
                         note_en=a.note_en) for a in self.h.list_agreements(current_principal(), request.area.strip())])

    def ListGroups(self, request, context):
        return pb.ListGroupsResponse(groups=[group_to_proto(g) for g in self.h.list_groups(
            current_principal(), request.area.strip(), request.kind.strip())])

    def ListProposals(self, request, context):
        return proposals_to_proto(self.h.proposals(current_principal(), request.request_id.strip()))

    def AssignExperts(self, request, context):
        items = self.h.assign(current_principal(), request.request_id.strip(), list(request.expert_ids),
                              request.cost_approved)
        return pb.RequestAssignments(request_id=request.request_id.strip(),
                                     assignments=[assignment_to_proto(a) for a in items])

    def UnassignExpert(self, request, context):
        items = self.h.unassign(current_principal(), request.request_id.strip(), request.expert_id.strip(),
                                request.reason)
        return pb.RequestAssignments(request_id=request.request_id.strip(),
                                     assignments=[assignment_to_proto(a) for a in items])

    def ListAssignments(self, request, context):
        items = self.h.list_assignments(current_principal(), request.request_id.strip())
        return pb.RequestAssignments(request_id=request.request_id.strip(),
                                     assignments=[assignment_to_proto(a) for a in items])

    def ListMyAssignments(self, request, context):
        return pb.ListMyAssignmentsResponse(assignments=[assignment_to_proto(a)
                                                         for a in self.h.my_assignments(current_principal())])


