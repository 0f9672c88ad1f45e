"""The events intake publishes, built from domain objects. Ids, type, categories, dates and area
only: never contact data or free text (they would stay in Kafka beyond our reach)."""
from __future__ import annotations

from ot.common.v1 import case_pb2
from ot.events.v1 import intake_events_pb2 as ev

from ot_runtime.protoconv import to_proto, ts
from .domain import ConsultationRequest, Meeting, Status

REQUEST_SUBMITTED = "ot.intake.request.submitted.v1"
REQUEST_STATUS_CHANGED = "ot.intake.request.status_changed.v1"
MEETING_PUBLISHED = "ot.intake.meeting.published.v1"
EXPERTS_ASSIGNED = "ot.experts.assignment.made.v1"  # consumed
EXPERTS_UNASSIGNED = "ot.experts.assignment.removed.v1"  # consumed
KEY_SHREDDED = "ot.consent.key.shredded.v1"  # consumed


def request_submitted(r: ConsultationRequest) -> ev.RequestSubmitted:
    return ev.RequestSubmitted(
        request_id=r.id, tenant=r.tenant, type=to_proto(case_pb2.RequestType, r.type),
        categories=[to_proto(case_pb2.CaseCategory, c) for c in r.categories],
        sector=to_proto(case_pb2.Sector, r.professional.sector), anonymous=r.anonymous,
        submitted_at=ts(r.submitted_at), screening_score=r.screening_score, sealed_content=r.sealed_content or b"")


def status_changed(r: ConsultationRequest, previous: Status, meeting: Meeting | None = None) -> ev.RequestStatusChanged:
    msg = ev.RequestStatusChanged(
        request_id=r.id, tenant=r.tenant, type=to_proto(case_pb2.RequestType, r.type),
        categories=[to_proto(case_pb2.CaseCategory, c) for c in r.categories],
        from_status=to_proto(case_pb2.RequestStatus, previous), to_status=to_proto(case_pb2.RequestStatus, r.status),
        changed_at=ts(r.updated_at), expert_ids=r.expert_ids if r.status is Status.ASSIGNED else [])
    if meeting is not None:
        msg.meeting_id = meeting.id
        msg.group_id = meeting.group_id
        msg.meeting_starts_at.CopyFrom(ts(meeting.starts_at))
    return msg


def meeting_published(m: Meeting) -> ev.MeetingPublished:
    return ev.MeetingPublished(meeting_id=m.id, tenant=m.tenant, group_id=m.group_id, starts_at=ts(m.starts_at),
                               capacity=m.capacity, booking_deadline=ts(m.booking_deadline))
