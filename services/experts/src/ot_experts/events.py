"""The events experts publishes and consumes. Ids and times only: no names, no free text."""
from __future__ import annotations

from datetime import datetime

from ot.events.v1 import experts_events_pb2 as ev

from ot_runtime.protoconv import ts

ASSIGNMENT_MADE = "ot.experts.assignment.made.v1"
ASSIGNMENT_REMOVED = "ot.experts.assignment.removed.v1"
# consumed, from intake
REQUEST_SUBMITTED = "ot.intake.request.submitted.v1"
REQUEST_STATUS_CHANGED = "ot.intake.request.status_changed.v1"
CONSENT_WITHDRAWN = "ot.consent.consent.withdrawn.v1"  # consumed: stop offering the case


def experts_assigned(assignment_id: str, request_id: str, tenant: str, expert_ids: list[str],
                     at: datetime) -> ev.ExpertsAssigned:
    return ev.ExpertsAssigned(assignment_id=assignment_id, request_id=request_id, tenant=tenant,
                              expert_ids=expert_ids, assigned_at=ts(at))


def experts_unassigned(assignment_id: str, request_id: str, tenant: str, removed: list[str], remaining: list[str],
                       at: datetime) -> ev.ExpertsUnassigned:
    return ev.ExpertsUnassigned(assignment_id=assignment_id, request_id=request_id, tenant=tenant,
                                removed_expert_ids=removed, remaining_expert_ids=remaining, unassigned_at=ts(at))
