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
    AWAITING_INFORMATION = "awaiting_information"   # the OT team asked the professional; the clock stops


class ConsentForm(StrEnum):
    """How the client's consent was given, as the professional records it (or that none is needed)."""
    NOT_NEEDED = "not_needed"
    WRITTEN_ORGANISATION_FORM = "written_organisation_form"        # the asking organisation's own form
    ORAL_RECORDED_IN_CLIENT_RECORD = "oral_recorded_in_client_record"


class ConsentGiver(StrEnum):
    CHILD = "child"                      # the child, whose capacity to decide was assessed
    GUARDIANS = "guardians"
    CHILD_AND_GUARDIANS = "child_and_guardians"


# What people read: (Finnish, English).
REQUEST_TYPE_LABELS = {
    RequestType.OT_TUKI: ("OT-TUKI-konsultaatio", "OT-TUKI consultation"),
    RequestType.GROUP_CONSULTATION: ("konsultaatioryhmä", "consultation group"),
    RequestType.EXPERT_REINFORCEMENT: ("asiantuntijavahvistus", "expert reinforcement"),
}
CATEGORY_LABELS = {
    Category.CHALLENGING_DIVORCE: ("haastavat erot ja huoltoriidat", "challenging divorces and custody disputes"),
    Category.FAMILY_HOMICIDE_THREAT: ("perhesurman uhka ja lapsikaappaus",
                                      "threat of family homicide and child abduction"),
    Category.PSYCHIATRIC_SUBSTANCE_SCHOOL: ("vakavat psykiatriset tai päihdehäiriöt, lastensuojelu ja koulu",
                                            "severe psychiatric or substance-use disorders, child protection and "
                                            "school"),
    Category.NEUROPSYCHIATRIC: ("vaativat neuropsykiatriset häiriöt", "complex neuropsychiatric disorders"),
    Category.FUNCTIONAL_RARE: ("toiminnalliset häiriöt ja harvinaissairaudet",
                               "functional disorders and rare diseases"),
    Category.CHILD_PROTECTION_SPECIAL: ("lastensuojelun ja lapsiperhepalvelujen erityiskysymykset",
                                        "special questions of child protection and family services"),
}
SECTOR_LABELS = {
    Sector.SOCIAL: ("sosiaalihuolto", "social care"),
    Sector.HEALTH: ("terveydenhuolto", "health care"),
    Sector.EDUCATION: ("opetus", "education"),
}
STATUS_LABELS = {
    RequestStatus.SUBMITTED: ("lähetetty", "submitted"),
    RequestStatus.TRIAGED: ("käsittelyssä", "being handled"),
    RequestStatus.AWAITING_INFORMATION: ("odottaa ammattilaisen lisätietoja", "waiting for the professional's information"),
    RequestStatus.SCHEDULED: ("varattu ryhmän kokoukseen", "booked into a group meeting"),
    RequestStatus.ASSIGNED: ("asiantuntija nimetty", "expert assigned"),
    RequestStatus.CONSULTED: ("konsultaatio pidetty", "consultation held"),
    RequestStatus.RECOMMENDATIONS_RETURNED: ("vastaus palautettu", "answer returned"),
    RequestStatus.CLOSED: ("päättynyt", "closed"),
    RequestStatus.WITHDRAWN: ("peruttu", "withdrawn"),
}
# The people's roles (ot_runtime.auth.ROLES without the platform's own "service").
ROLE_LABELS = {
    "professional": ("ammattilainen", "professional"),
    "coordinator": ("koordinaattori", "coordinator"),
    "secretary": ("sihteeri", "secretary"),
    "expert": ("asiantuntija", "expert"),
    "group-member": ("konsultaatioryhmän jäsen", "consultation group member"),
    "admin": ("tietosuojavastaava", "data-protection officer"),
}
