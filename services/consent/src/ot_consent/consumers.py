"""Thin: intake's events confirm that a request was stored, and its status changes start the
retention clock."""
from __future__ import annotations

from datetime import timezone

from ot.common.v1 import case_pb2
from ot.events.v1 import intake_events_pb2

from ot_runtime.consumer import Handler

from .handlers import ConsentHandlers

SUBMITTED = "ot.intake.request.submitted.v1"
STATUS_CHANGED = "ot.intake.request.status_changed.v1"
FINISHED = {case_pb2.REQUEST_STATUS_RECOMMENDATIONS_RETURNED: True, case_pb2.REQUEST_STATUS_CLOSED: False,
            case_pb2.REQUEST_STATUS_WITHDRAWN: False}


def event_handlers(h: ConsentHandlers) -> dict[str, Handler]:
    def submitted(session, event, msg: intake_events_pb2.RequestSubmitted) -> None:
        h.confirm_request(session, msg.request_id)

    def status_changed(session, event, msg: intake_events_pb2.RequestStatusChanged) -> None:
        if msg.to_status in FINISHED:
            h.on_request_finished(session, msg.request_id, msg.changed_at.ToDatetime(tzinfo=timezone.utc),
                                  recommendations=FINISHED[msg.to_status])
        else:  # any change of a request proves it was stored
            h.confirm_request(session, msg.request_id)

    return {SUBMITTED: Handler(intake_events_pb2.RequestSubmitted, submitted),
            STATUS_CHANGED: Handler(intake_events_pb2.RequestStatusChanged, status_changed)}
