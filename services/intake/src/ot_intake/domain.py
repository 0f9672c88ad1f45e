"""Intake's entities and rules. No I/O: everything here is tested without a network."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from ot_runtime.errors import FailedPrecondition, FieldViolation
from ot_runtime.vocabulary import Category, RequestType, Sector  # noqa: F401 (re-exported)
from ot_runtime.vocabulary import ConsentForm as ConsentNeed  # the professional's assessment
from ot_runtime.vocabulary import ConsentGiver, RequestStatus as Status


class Gender(StrEnum):
    GIRL = "girl"
    BOY = "boy"
    OTHER = "other"
    NOT_TOLD = "not_told"


STATUS_FI = {
    Status.SUBMITTED: "vastaanotettu", Status.TRIAGED: "arvioitu", Status.SCHEDULED: "varattu kokoukseen",
    Status.ASSIGNED: "asiantuntija nimetty", Status.CONSULTED: "konsultoitu",
    Status.RECOMMENDATIONS_RETURNED: "suositukset palautettu", Status.CLOSED: "suljettu",
    Status.WITHDRAWN: "peruttu",
}

# The lifecycle. A group booking may be made straight after submission (the secretary's check of
# the pre-information form is the booking), and the experts service may assign from submitted
# or triaged; everything after that is strictly in order (except that unassigning every expert
# takes a request back to triaged). Withdrawal ends a request any time before the consultation.
TRANSITIONS: dict[Status, set[Status]] = {
    Status.SUBMITTED: {Status.TRIAGED, Status.SCHEDULED, Status.ASSIGNED, Status.WITHDRAWN},
    Status.TRIAGED: {Status.SCHEDULED, Status.ASSIGNED, Status.WITHDRAWN},
    Status.SCHEDULED: {Status.CONSULTED, Status.WITHDRAWN},
    Status.ASSIGNED: {Status.CONSULTED, Status.WITHDRAWN, Status.TRIAGED},  # back when all experts are unassigned
    Status.CONSULTED: {Status.RECOMMENDATIONS_RETURNED},
    Status.RECOMMENDATIONS_RETURNED: {Status.CLOSED},
    Status.CLOSED: set(),
    Status.WITHDRAWN: set(),
}

# Booking lead time by group kind: challenging-divorces groups need the booking and material a
# week ahead (DOMAIN.md); statutory expert groups often three weeks.
CHALLENGING_DIVORCES_GROUP_PREFIX = "haastavat-erot-"
DEFAULT_LEAD_DAYS_CHALLENGING_DIVORCES = 7
DEFAULT_LEAD_DAYS_OTHER_GROUPS = 21



@dataclass
class Professional:
    name: str
    phone: str
    email: str
    profession: str
    organisation: str
    sector: Sector | None
    wellbeing_area: str


@dataclass
class ClientFacts:
    age_years: int | None
    gender: Gender | None
    family_situation: str = ""
    earlier_services: list[str] = field(default_factory=list)
    cooperation_partners: list[str] = field(default_factory=list)
    health_information: str = ""


@dataclass
class Consent:
    need: ConsentNeed | None
    given_by: ConsentGiver | None
    child_capacity_assessed: bool


@dataclass
class Submission:
    """What a professional sends; validated before anything is stored."""
    type: RequestType | None
    professional: Professional
    categories: list[Category]
    client: ClientFacts
    question: str
    discussed_in_own_team: bool
    consent: Consent
    anonymous: bool
    idempotency_key: str = ""


def validate_submission(sub: Submission, tenant: str) -> list[FieldViolation]:
    """The domain's rules for a submission (required answers, the own-team precondition, the
    area, consent), as field violations (bilingual, Finnish first). The form of each field
    (length, closed forms such as the e-mail, control characters) and the client-identifier
    guard are checked at the edge before this runs (edge.FIELD_RULES)."""
    v: list[FieldViolation] = []

    def bad(field_: str, fi: str, en: str, reason: str = "invalid") -> None:
        v.append(FieldViolation(field_, f"{fi} / {en}", reason))

    if sub.type is None:
        bad("type", "Valitse pyynnön tyyppi.", "Choose the request type.", "required")
    if not sub.categories:
        bad("categories", "Valitse vähintään yksi tilanneluokka.", "Choose at least one case category.", "required")
    elif len(set(sub.categories)) != len(sub.categories):
        bad("categories", "Sama tilanneluokka on valittu kahdesti.", "A case category is chosen twice.")
    p = sub.professional
    for name, value, fi, en in (("professional.name", p.name, "Kerro nimesi.", "Give your name."),
                                ("professional.profession", p.profession, "Kerro ammattisi.", "Give your profession."),
                                ("professional.organisation", p.organisation, "Kerro organisaatiosi.",
                                 "Give your organisation.")):
        if not value.strip():
            bad(name, fi, en, "required")
    if not p.email.strip() and not p.phone.strip():
        bad("professional.email", "Anna sähköposti tai puhelinnumero, jotta sinuun saadaan yhteys.",
            "Give an e-mail address or a phone number so that the team can reach you.", "required")
    if p.sector is None:
        bad("professional.sector", "Valitse sektori (sosiaali, terveys tai opetus).",
            "Choose the sector (social, health or education).", "required")
    if p.wellbeing_area != tenant:
        bad("professional.wellbeing_area",
            f"Tämä palvelu on hyvinvointialueelle {tenant}; ota yhteyttä oman alueesi OT-palveluun.",
            f"This service is for the wellbeing area {tenant}; contact your own area's OT service.",
            "wrong_area")
    if not sub.discussed_in_own_team:
        bad("discussed_in_own_team",
            "Tilanne on käsiteltävä ensin omassa tiimissä ennen OT-tason pyyntöä.",
            "The situation must first be discussed in your own team before an OT-level request.",
            "precondition")
    if not sub.question.strip():
        bad("question", "Kirjoita kysymyksesi OT-tiimille.", "Write your question to the OT team.", "required")
    age = sub.client.age_years
    if age is not None and not 0 <= age <= 25:
        bad("client.age_years", "Iän on oltava 0–25 vuotta (tai merkitse ikä tuntemattomaksi).",
            "The age must be 0–25 years (or mark the age unknown).")
    c = sub.consent
    if c.need is None:
        bad("consent.need", "Kerro, tarvitaanko asiakkaan suostumus ja missä muodossa se on annettu.",
            "Say whether the client's consent is needed and in which form it was given.", "required")
    elif c.need is not ConsentNeed.NOT_NEEDED:
        if c.given_by is None:
            bad("consent.given_by", "Kerro, kuka suostumuksen antoi (lapsi, huoltajat vai molemmat).",
                "Say who gave the consent (the child, the guardians or both).", "required")
        elif c.given_by in (ConsentGiver.CHILD, ConsentGiver.CHILD_AND_GUARDIANS) and not c.child_capacity_assessed:
            bad("consent.child_capacity_assessed",
                "Kun lapsi antaa suostumuksen, arvioi ensin hänen kykynsä päättää asiasta.",
                "When the child consents, first assess the child's capacity to decide.", "required")
    if sub.anonymous and sub.type is not RequestType.GROUP_CONSULTATION:
        bad("anonymous", "Anonyymi käsittely on mahdollinen vain konsultaatioryhmässä.",
            "Anonymous handling is possible only in a consultation group.")
    return v


@dataclass
class ConsultationRequest:
    id: str
    tenant: str
    type: RequestType
    status: Status
    owner_subject: str
    professional: Professional
    categories: list[Category]
    client: ClientFacts
    question: str
    discussed_in_own_team: bool
    consent: Consent
    anonymous: bool
    submitted_at: datetime
    updated_at: datetime
    screening_score: int | None  # None only in a view that withholds it (a platform service's)
    triage_note: str = ""
    meeting_id: str = ""
    expert_ids: list[str] = field(default_factory=list)
    idempotency_key: str = ""
    # Case content (question, client text fields, triage note) is stored only sealed with the
    # request's own key. A loaded request has it filled in only when it was opened for a reader.
    content_included: bool = True
    content_erased: bool = False
    sealed_content: bytes | None = None
    sealed_triage_note: bytes | None = None

    def move_to(self, target: Status, now: datetime) -> Status:
        """Apply one lifecycle step; refuse a step the lifecycle does not have. Returns the old status."""
        if target not in TRANSITIONS[self.status]:
            raise FailedPrecondition(
                f"Pyyntö on tilassa '{STATUS_FI[self.status]}', josta ei voi siirtyä tilaan "
                f"'{STATUS_FI[target]}'. / The request is '{self.status}', which cannot move to '{target}'.",
                violation_type="LIFECYCLE", subject=f"requests/{self.id}",
                info={"status": self.status.value, "target": target.value})
        if target is Status.SCHEDULED and self.type is not RequestType.GROUP_CONSULTATION:
            raise FailedPrecondition(
                "Kokousvaraus koskee vain konsultaatioryhmäpyyntöjä. / Only group-consultation requests are booked "
                "into meetings.", violation_type="REQUEST_TYPE", subject=f"requests/{self.id}")
        if target is Status.ASSIGNED and self.type is RequestType.GROUP_CONSULTATION:
            raise FailedPrecondition(
                "Konsultaatioryhmäpyyntö varataan kokoukseen, sille ei nimetä asiantuntijaa. / A group-consultation "
                "request is booked into a meeting, not assigned to experts.",
                violation_type="REQUEST_TYPE", subject=f"requests/{self.id}")
        previous = self.status
        self.status = target
        self.updated_at = now
        return previous


@dataclass
class Meeting:
    id: str
    tenant: str
    group_id: str
    starts_at: datetime
    capacity: int
    booked: int
    booking_lead_days: int

    @property
    def booking_deadline(self) -> datetime:
        return self.starts_at - timedelta(days=self.booking_lead_days)

    def open_for_booking(self, now: datetime) -> bool:
        return now <= self.booking_deadline and self.booked < self.capacity


def default_lead_days(group_id: str) -> int:
    if group_id.startswith(CHALLENGING_DIVORCES_GROUP_PREFIX):
        return DEFAULT_LEAD_DAYS_CHALLENGING_DIVORCES
    return DEFAULT_LEAD_DAYS_OTHER_GROUPS


GROUP_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


def validate_meeting(group_id: str, starts_at: datetime | None, capacity: int, lead_days: int,
                     now: datetime) -> list[FieldViolation]:
    v = []
    if not GROUP_ID_RE.match(group_id):
        v.append(FieldViolation("group_id", "Ryhmän tunnus: pienet kirjaimet, numerot ja väliviivat, esim. "
                                "haastavat-erot-kuopio. / Group id: lower-case letters, digits and hyphens, e.g. "
                                "haastavat-erot-kuopio.", "invalid"))
    if starts_at is None:
        v.append(FieldViolation("starts_at", "Anna kokouksen alkamisaika. / Give the meeting's start time.", "required"))
    elif starts_at <= now:
        v.append(FieldViolation("starts_at", "Kokouksen on oltava tulevaisuudessa. / The meeting must be in the "
                                "future.", "in_past"))
    if not 1 <= capacity <= 50:
        v.append(FieldViolation("capacity", "Paikkoja 1–50. / Capacity must be 1–50.", "invalid"))
    if not 0 <= lead_days <= 90:
        v.append(FieldViolation("booking_lead_days", "Varausaika 0–90 päivää (0 = ryhmän oletus). / Lead time "
                                "0–90 days (0 = the group's default).", "invalid"))
    return v
