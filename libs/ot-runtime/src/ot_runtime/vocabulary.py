"""The platform's shared case vocabulary, in Python: the mirror of proto/ot/common/v1/case.proto.

Every service speaks of requests with these; their values are the proto names without prefix,
lower-case (ot_runtime.protoconv maps between the two), and statistics and events rely on them
meaning the same everywhere. Finnish and English labels for people live beside them.
"""
from __future__ import annotations

from enum import StrEnum


class RequestType(StrEnum):
    OT_TUKI = "ot_tuki"
    GROUP_CONSULTATION = "group_consultation"
    EXPERT_REINFORCEMENT = "expert_reinforcement"


class Category(StrEnum):
    """The six demanding situations (DOMAIN.md)."""
    CHALLENGING_DIVORCE = "challenging_divorce"
    FAMILY_HOMICIDE_THREAT = "family_homicide_threat"
    PSYCHIATRIC_SUBSTANCE_SCHOOL = "psychiatric_substance_school"
    NEUROPSYCHIATRIC = "neuropsychiatric"
    FUNCTIONAL_RARE = "functional_rare"
    CHILD_PROTECTION_SPECIAL = "child_protection_special"


class Sector(StrEnum):
    SOCIAL = "social"
    HEALTH = "health"
    EDUCATION = "education"


class RequestStatus(StrEnum):
    """Intake's lifecycle of a request."""
    SUBMITTED = "submitted"
    TRIAGED = "triaged"
    SCHEDULED = "scheduled"
    ASSIGNED = "assigned"
    CONSULTED = "consulted"
    RECOMMENDATIONS_RETURNED = "recommendations_returned"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"
