"""Thin: CloudEvent -> handler. Feedback listens to intake's request, conversation and meeting
events (follow-ups, statistics, notifications), to experts' assignments (notifications) and to
consent's key shredding (the case's content is gone: so is what the worker wrote about it)."""
from __future__ import annotations

import re

from ot.common.v1 import case_pb2
from ot.events.v1 import consent_events_pb2, experts_events_pb2, intake_events_pb2

from ot_runtime.cloudevents import CloudEvent
from ot_runtime.consumer import Handler, Poison

from ot_runtime.protoconv import from_ts, to_domain
from .domain import Category, RequestType, Sector, Status
from .handlers import FeedbackHandlers
from .notifications import Notifications

REQUEST_SUBMITTED = "ot.intake.request.submitted.v1"
REQUEST_STATUS_CHANGED = "ot.intake.request.status_changed.v1"
ENTRY_ADDED = "ot.intake.conversation.entry_added.v1"
MEETING_PUBLISHED = "ot.intake.meeting.published.v1"
EXPERTS_ASSIGNED = "ot.experts.assignment.made.v1"
EXPERTS_UNASSIGNED = "ot.experts.assignment.removed.v1"
KEY_SHREDDED = "ot.consent.key.shredded.v1"

# Ids are kept in columns of these sizes; anything else is not an event of ours.
_UUID = re.compile(r"[0-9a-fA-F-]{1,36}")
_SLUG = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*")


def _area(msg, tenant: str) -> None:
    if msg.tenant and msg.tenant != tenant:
        raise Poison(f"payload is for area {msg.tenant!r}")


def _event_id(event: CloudEvent) -> str:
    if len(event.id) > 100:  # the notifications' key column
        raise Poison("event id is longer than 100 characters")
    return event.id


def _request_id(msg) -> str:
    if not _UUID.fullmatch(msg.request_id or ""):  # request ids are UUIDs (the columns' size)
        raise Poison("event has no valid request id")
    return msg.request_id


def _slugs(values, what: str) -> list[str]:
    for v in values:
        if len(v) > 64 or not _SLUG.fullmatch(v):
            raise Poison(f"event has an invalid {what}")
    return list(values)


def _common(msg, tenant: str) -> tuple[RequestType, list[Category]]:
    _area(msg, tenant)
    type_ = to_domain(case_pb2.RequestType, msg.type, RequestType)
    if not msg.request_id or type_ is None:
        raise Poison("event has no request id or request type")
    return type_, [c for c in (to_domain(case_pb2.CaseCategory, v, Category) for v in msg.categories) if c]


def event_handlers(h: FeedbackHandlers, n: Notifications) -> dict[str, Handler]:
    def submitted(session, event, msg: intake_events_pb2.RequestSubmitted) -> None:
        type_, categories = _common(msg, h.tenant)
        at = from_ts(msg.submitted_at, msg.HasField("submitted_at")) or event.time
        h.on_request_submitted(session, request_id=msg.request_id, type_=type_, categories=categories,
                               sector=to_domain(case_pb2.Sector, msg.sector, Sector), submitted_at=at)
        n.on_request_submitted(session, event_id=_event_id(event), request_id=_request_id(msg), type_=type_,
                               submitted_at=at)

    def status_changed(session, event, msg: intake_events_pb2.RequestStatusChanged) -> None:
        type_, categories = _common(msg, h.tenant)
        to_status = to_domain(case_pb2.RequestStatus, msg.to_status, Status)
        if to_status is None:
            raise Poison("event has no target status")
        at = from_ts(msg.changed_at, msg.HasField("changed_at")) or event.time
        starts_at = from_ts(msg.meeting_starts_at, msg.HasField("meeting_starts_at"))
        h.on_status_changed(session, request_id=msg.request_id, type_=type_, categories=categories,
                            to_status=to_status, changed_at=at, meeting_id=msg.meeting_id, group_id=msg.group_id,
                            meeting_starts_at=starts_at,
                            submitted_at=from_ts(msg.submitted_at, msg.HasField("submitted_at")),
                            first_response_at=from_ts(msg.first_response_at, msg.HasField("first_response_at")),
                            answered_at=from_ts(msg.answered_at, msg.HasField("answered_at")),
                            waiting_working_days=msg.waiting_working_days)
        n.on_status_changed(session, event_id=_event_id(event), request_id=_request_id(msg), type_=type_,
                            to_status=to_status, changed_at=at, meeting_id=msg.meeting_id,
                            meeting_starts_at=starts_at)

    def entry_added(session, event, msg: intake_events_pb2.ConversationEntryAdded) -> None:
        _area(msg, h.tenant)
        type_ = to_domain(case_pb2.RequestType, msg.type, RequestType)
        n.on_entry_added(session, event_id=_event_id(event), request_id=_request_id(msg), type_=type_,
                         entry_kind=msg.kind,
                         added_at=from_ts(msg.added_at, msg.HasField("added_at")) or event.time)

    def meeting_published(session, event, msg: intake_events_pb2.MeetingPublished) -> None:
        _area(msg, h.tenant)
        if not _UUID.fullmatch(msg.meeting_id or "") or not msg.HasField("starts_at"):
            raise Poison("event has no valid meeting id or start time")
        [group_id] = _slugs([msg.group_id], "group id")
        n.on_meeting_published(session, event_id=_event_id(event), meeting_id=msg.meeting_id, group_id=group_id,
                               starts_at=from_ts(msg.starts_at, True),
                               booking_deadline=from_ts(msg.booking_deadline, msg.HasField("booking_deadline")),
                               location=msg.location[:1000], published_at=event.time or h.clock.now())

    def experts_assigned(session, event, msg: experts_events_pb2.ExpertsAssigned) -> None:
        _area(msg, h.tenant)
        n.on_experts_assigned(session, event_id=_event_id(event), request_id=_request_id(msg),
                              expert_ids=_slugs(msg.expert_ids, "expert id"),
                              assigned_at=from_ts(msg.assigned_at, msg.HasField("assigned_at")) or event.time)

    def experts_unassigned(session, event, msg: experts_events_pb2.ExpertsUnassigned) -> None:
        _area(msg, h.tenant)
        n.on_experts_unassigned(session, event_id=_event_id(event), request_id=_request_id(msg),
                                removed=_slugs(msg.removed_expert_ids, "expert id"),
                                remaining=_slugs(msg.remaining_expert_ids, "expert id"),
                                unassigned_at=from_ts(msg.unassigned_at, msg.HasField("unassigned_at")) or event.time)

    def key_shredded(session, event, msg: consent_events_pb2.DataKeyShredded) -> None:
        _area(msg, h.tenant)
        if not msg.request_id or len(msg.request_id) > 36:  # request ids are UUIDs (the column's size)
            raise Poison("event has no valid request id")
        h.on_key_shredded(session, request_id=msg.request_id,
                          shredded_at=from_ts(msg.shredded_at, msg.HasField("shredded_at")) or event.time)

    return {REQUEST_SUBMITTED: Handler(intake_events_pb2.RequestSubmitted, submitted),
            REQUEST_STATUS_CHANGED: Handler(intake_events_pb2.RequestStatusChanged, status_changed),
            ENTRY_ADDED: Handler(intake_events_pb2.ConversationEntryAdded, entry_added),
            MEETING_PUBLISHED: Handler(intake_events_pb2.MeetingPublished, meeting_published),
            EXPERTS_ASSIGNED: Handler(experts_events_pb2.ExpertsAssigned, experts_assigned),
            EXPERTS_UNASSIGNED: Handler(experts_events_pb2.ExpertsUnassigned, experts_unassigned),
            KEY_SHREDDED: Handler(consent_events_pb2.DataKeyShredded, key_shredded)}
