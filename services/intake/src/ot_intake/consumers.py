"""Thin: CloudEvent -> handler. Intake listens to the experts service's assignments."""
from __future__ import annotations

from ot.events.v1 import experts_events_pb2

from ot_runtime.consumer import Handler

from . import events
from .handlers import IntakeHandlers


def event_handlers(h: IntakeHandlers) -> dict[str, Handler]:
    def experts_assigned(session, event, msg: experts_events_pb2.ExpertsAssigned) -> None:
        h.on_experts_assigned(session, msg.request_id, list(msg.expert_ids))

    return {events.EXPERTS_ASSIGNED: Handler(experts_events_pb2.ExpertsAssigned, experts_assigned)}
