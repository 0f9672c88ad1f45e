"""Thin: CloudEvent -> handler. Feedback listens to intake's request events and to consent's key
shredding (the case's content is gone: so is what the worker wrote about it)."""
from __future__ import annotations

from ot.common.v1 import case_pb2
from ot.events.v1 import consent_events_pb2, intake_events_pb2

from ot_runtime.consumer import Handler, Poison

from ot_runtime.protoconv import from_ts, to_domain
from .domain import Category, RequestType, Sector, Status
from .handlers import FeedbackHandlers

REQUEST_SUBMITTED = "ot.intake.request.submitted.v1"
REQUEST_STATUS_CHANGED = "ot.intake.request.status_changed.v1"
KEY_SHREDDED = "ot.consent.key.shredded.v1"


def _common(msg, tenant: str) -> tuple[RequestType, list[Category]]:
    if msg.tenant and msg.tenant != tenant:
        raise Poison(f"payload is for area {msg.tenant!r}")
    type_ = to_domain(case_pb2.RequestType, msg.type, RequestType)
    if not msg.request_id or type_ is None:
        raise Poison("event has no request id or request type")
    return type_, [c for c in (to_domain(case_pb2.CaseCategory, v, Category) for v in msg.categories) if c]


def event_handlers(h: FeedbackHandlers) -> dict[str, Handler]:
    def submitted(session, event, msg: intake_events_pb2.RequestSubmitted) -> None:
        type_, categories = _common(msg, h.tenant)
        h.on_request_submitted(session, request_id=msg.request_id, type_=type_, categories=categories,
                               sector=to_domain(case_pb2.Sector, msg.sector, Sector),
                               submitted_at=from_ts(msg.submitted_at, msg.HasField("submitted_at")) or event.time)

    def status_changed(session, event, msg: intake_events_pb2.RequestStatusChanged) -> None:
        type_, categories = _common(msg, h.tenant)
        to_status = to_domain(case_pb2.RequestStatus, msg.to_status, Status)
        if to_status is None:
            raise Poison("event has no target status")
        h.on_status_changed(session, request_id=msg.request_id, type_=type_, categories=categories,
                            to_status=to_status,
                            changed_at=from_ts(msg.changed_at, msg.HasField("changed_at")) or event.time,
                            meeting_id=msg.meeting_id, group_id=msg.group_id,
                            meeting_starts_at=from_ts(msg.meeting_starts_at, msg.HasField("meeting_starts_at")))

    def key_shredded(session, event, msg: consent_events_pb2.DataKeyShredded) -> None:
        if msg.tenant and msg.tenant != h.tenant:
            raise Poison(f"payload is for area {msg.tenant!r}")
        if not msg.request_id or len(msg.request_id) > 36:  # request ids are UUIDs (the column's size)
            raise Poison("event has no valid request id")
        h.on_key_shredded(session, request_id=msg.request_id,
                          shredded_at=from_ts(msg.shredded_at, msg.HasField("shredded_at")) or event.time)

    return {REQUEST_SUBMITTED: Handler(intake_events_pb2.RequestSubmitted, submitted),
            REQUEST_STATUS_CHANGED: Handler(intake_events_pb2.RequestStatusChanged, status_changed),
            KEY_SHREDDED: Handler(consent_events_pb2.DataKeyShredded, key_shredded)}
