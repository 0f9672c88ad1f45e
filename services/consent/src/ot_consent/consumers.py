"""Thin: intake's events confirm that a request was stored, its status changes start the
retention clock and say which group the request is booked into; experts' events say which
experts are assigned to it. The last two decide who besides the owner and the coordinators may
read the case (handlers.data_key)."""
from __future__ import annotations

from datetime import timezone

from ot.common.v1 import case_pb2
from ot.events.v1 import experts_events_pb2, intake_events_pb2

from ot_runtime.consumer import Handler
from ot_runtime.protoconv import to_domain

from .domain import RequestStatus
from .handlers import ConsentHandlers

SUBMITTED = "ot.intake.request.submitted.v1"
STATUS_CHANGED = "ot.intake.request.status_changed.v1"
EXPERTS_ASSIGNED = "ot.experts.assignment.made.v1"
EXPERTS_UNASSIGNED = "ot.experts.assignment.removed.v1"
FINISHED = {case_pb2.REQUEST_STATUS_RECOMMENDATIONS_RETURNED: True, case_pb2.REQUEST_STATUS_CLOSED: False,
            case_pb2.REQUEST_STATUS_WITHDRAWN: False}


def _utc(timestamp):
    return timestamp.ToDatetime(tzinfo=timezone.utc)


def event_handlers(h: ConsentHandlers) -> dict[str, Handler]:
    def submitted(session, event, msg: intake_events_pb2.RequestSubmitted) -> None:
        h.confirm_request(session, msg.request_id)

    def status_changed(session, event, msg: intake_events_pb2.RequestStatusChanged) -> None:
        if msg.to_status in FINISHED:
            h.on_request_finished(session, msg.request_id, _utc(msg.changed_at),
                                  recommendations=FINISHED[msg.to_status])
        else:  # any change of a request proves it was stored
            h.confirm_request(session, msg.request_id)
        h.on_booking_change(session, msg.request_id, to_domain(case_pb2.RequestStatus, msg.to_status, RequestStatus),
                            msg.group_id, _utc(msg.changed_at))

    def assigned(session, event, msg: experts_events_pb2.ExpertsAssigned) -> None:
        h.on_assignment(session, msg.request_id, list(msg.expert_ids), _utc(msg.assigned_at))

    def unassigned(session, event, msg: experts_events_pb2.ExpertsUnassigned) -> None:
        h.on_assignment(session, msg.request_id, list(msg.remaining_expert_ids), _utc(msg.unassigned_at))

    return {SUBMITTED: Handler(intake_events_pb2.RequestSubmitted, submitted),
            STATUS_CHANGED: Handler(intake_events_pb2.RequestStatusChanged, status_changed),
            EXPERTS_ASSIGNED: Handler(experts_events_pb2.ExpertsAssigned, assigned),
            EXPERTS_UNASSIGNED: Handler(experts_events_pb2.ExpertsUnassigned, unassigned)}
