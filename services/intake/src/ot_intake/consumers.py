"""Thin: CloudEvent -> handler. Intake listens to the experts service's assignments and to
consent's key shredding."""
from __future__ import annotations

from ot.events.v1 import consent_events_pb2, experts_events_pb2

from ot_runtime.consumer import Handler

from . import events
from .handlers import IntakeHandlers


def event_handlers(h: IntakeHandlers) -> dict[str, Handler]:
    def experts_assigned(session, event, msg: experts_events_pb2.ExpertsAssigned) -> None:
        h.on_experts_assigned(session, msg.request_id, list(msg.expert_ids))

    def experts_unassigned(session, event, msg: experts_events_pb2.ExpertsUnassigned) -> None:
        h.on_experts_unassigned(session, msg.request_id, list(msg.remaining_expert_ids))

    def key_shredded(session, event, msg: consent_events_pb2.DataKeyShredded) -> None:
        h.on_content_erased(session, msg.request_id)

    return {events.EXPERTS_ASSIGNED: Handler(experts_events_pb2.ExpertsAssigned, experts_assigned),
            events.EXPERTS_UNASSIGNED: Handler(experts_events_pb2.ExpertsUnassigned, experts_unassigned),
            events.KEY_SHREDDED: Handler(consent_events_pb2.DataKeyShredded, key_shredded)}
