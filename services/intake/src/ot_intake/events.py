"""The events intake publishes, built from domain objects. Ids, type, categories, dates and area
only: never contact data or free text (they would stay in Kafka beyond our reach)."""
from __future__ import annotations

from ot.common.v1 import case_pb2
from ot.events.v1 import intake_events_pb2 as ev
from ot.intake.v1 import intake_pb2 as pb

from ot_runtime.protoconv import to_proto, ts
from .domain import ConsultationRequest, Entry, Meeting, Status

REQUEST_SUBMITTED = "ot.intake.request.submitted.v1"
REQUEST_STATUS_CHANGED = "ot.intake.request.status_changed.v1"
MEETING_PUBLISHED = "ot.intake.meeting.published.v1"
ENTRY_ADDED = "ot.intake.conversation.entry_added.v1"
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
    """`meeting` only on the booking itself (BookMeeting): a request that goes back to scheduled
    after a reply is not booked again, so a consumer can tell a booking by its meeting_id."""
    msg = ev.RequestStatusChanged(
        request_id=r.id, tenant=r.tenant, type=to_proto(case_pb2.RequestType, r.type),
        categories=[to_proto(case_pb2.CaseCategory, c) for c in r.categories],
        from_status=to_proto(case_pb2.RequestStatus, previous), to_status=to_proto(case_pb2.RequestStatus, r.status),
        changed_at=ts(r.updated_at), expert_ids=r.expert_ids if r.status is Status.ASSIGNED else [],
        submitted_at=ts(r.submitted_at), waiting_working_days=r.waiting_working_days(r.updated_at))
    if r.first_response_at:
        msg.first_response_at.CopyFrom(ts(r.first_response_at))
    if r.answered_at:
        msg.answered_at.CopyFrom(ts(r.answered_at))
    if meeting is not None:
        msg.meeting_id = meeting.id
        msg.group_id = meeting.group_id
        msg.meeting_starts_at.CopyFrom(ts(meeting.starts_at))
    return msg


def entry_added(r: ConsultationRequest, e: Entry) -> ev.ConversationEntryAdded:
    """What happened, never the text (nor the author's name)."""
    return ev.ConversationEntryAdded(
        request_id=r.id, tenant=r.tenant, type=to_proto(case_pb2.RequestType, r.type), entry_id=e.id,
        kind=to_proto(pb.EntryKind, e.kind), author_role=e.author_role, added_at=ts(e.created_at),
        meeting_id=r.meeting_id if r.booked_group else "", group_id=r.booked_group,
        expert_ids=r.expert_ids)


def meeting_published(m: Meeting) -> ev.MeetingPublished:
    return ev.MeetingPublished(meeting_id=m.id, tenant=m.tenant, group_id=m.group_id, starts_at=ts(m.starts_at),
                               capacity=m.capacity, booking_deadline=ts(m.booking_deadline), location=m.location)
