"""Thin: CloudEvent -> handler. Experts listens to intake's requests (ids, type, categories, status)."""
from __future__ import annotations

from ot.common.v1 import case_pb2
from ot.events.v1 import consent_events_pb2, intake_events_pb2

from ot_runtime.consumer import Handler
from ot_runtime.protoconv import to_domain

from . import events
from .domain import Category, RequestStatus, RequestType
from .handlers import ExpertsHandlers


def _categories(values) -> list[Category]:
    return [c for c in (to_domain(case_pb2.CaseCategory, v, Category) for v in values) if c]


def event_handlers(h: ExpertsHandlers) -> dict[str, Handler]:
    def submitted(session, event, msg: intake_events_pb2.RequestSubmitted) -> None:
        h.on_request_event(session, event.id, msg.request_id, to_domain(case_pb2.RequestType, msg.type, RequestType),
                           _categories(msg.categories), RequestStatus.SUBMITTED, msg.tenant)

    def status_changed(session, event, msg: intake_events_pb2.RequestStatusChanged) -> None:
        status = to_domain(case_pb2.RequestStatus, msg.to_status, RequestStatus)
        if status is None:
            return  # a status this version does not know: nothing to do
        h.on_request_event(session, event.id, msg.request_id, to_domain(case_pb2.RequestType, msg.type, RequestType),
                           _categories(msg.categories), status, msg.tenant)

    def consent_withdrawn(session, event, msg: consent_events_pb2.ConsentWithdrawn) -> None:
        h.on_consent_withdrawn(session, msg.request_id, msg.tenant)

    return {events.CONSENT_WITHDRAWN: Handler(consent_events_pb2.ConsentWithdrawn, consent_withdrawn),
            events.REQUEST_SUBMITTED: Handler(intake_events_pb2.RequestSubmitted, submitted),
            events.REQUEST_STATUS_CHANGED: Handler(intake_events_pb2.RequestStatusChanged, status_changed)}
