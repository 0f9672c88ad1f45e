"""Intake's entities and rules. No I/O: everything here is tested without a network."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from enum import StrEnum

from ot_runtime.errors import FailedPrecondition, FieldViolation
from ot_runtime.workdays import FINNISH_TIME, add_working_days, working_days_between
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
    Status.WITHDRAWN: "peruttu", Status.AWAITING_INFORMATION: "odottaa lisätietoja",
}

# The lifecycle. A group booking may be made straight after submission (the secretary's check of
# the pre-information form is the booking), and the experts service may assign from submitted
# or triaged; everything after that is strictly in order (except that unassigning every expert
# takes a request back to triaged). Withdrawal ends a request any time before the consultation.
# Before the consultation the OT team may ask the professional for more information: the request
# awaits it (the response clock stops) and goes back to where it was when the professional replies.
# An OT-TUKI request is answered in writing (the OT team's advice), with no meeting to hold, so its
# answer may be returned straight from submitted, triaged or assigned (see `move_to`).
PAUSABLE = {Status.SUBMITTED, Status.TRIAGED, Status.SCHEDULED, Status.ASSIGNED}
TRANSITIONS: dict[Status, set[Status]] = {
    Status.SUBMITTED: {Status.TRIAGED, Status.SCHEDULED, Status.ASSIGNED, Status.WITHDRAWN,
                       Status.AWAITING_INFORMATION, Status.RECOMMENDATIONS_RETURNED},
    Status.TRIAGED: {Status.SCHEDULED, Status.ASSIGNED, Status.WITHDRAWN, Status.AWAITING_INFORMATION,
                     Status.RECOMMENDATIONS_RETURNED},
    Status.SCHEDULED: {Status.CONSULTED, Status.WITHDRAWN, Status.AWAITING_INFORMATION},
    Status.ASSIGNED: {Status.CONSULTED, Status.WITHDRAWN, Status.TRIAGED,  # back when all experts are unassigned
                      Status.AWAITING_INFORMATION, Status.RECOMMENDATIONS_RETURNED},
    # Back to the status it came from (status_before_pause), or withdrawn.
    Status.AWAITING_INFORMATION: PAUSABLE | {Status.WITHDRAWN},
    Status.CONSULTED: {Status.RECOMMENDATIONS_RETURNED},
    Status.RECOMMENDATIONS_RETURNED: {Status.CLOSED},
    Status.CLOSED: set(),
    Status.WITHDRAWN: set(),
}
# The answer is returned without a consultation only for OT-TUKI (see above).
WRITTEN_ANSWER_TYPES = {RequestType.OT_TUKI}

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
    validate_only: bool = False   # check and screen only: nothing is stored


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
    # The group of the meeting it is booked into ("the booked group"), filled in when loaded.
    meeting_group_id: str = ""
    booked_at: datetime | None = None
    # Response times (in working days, see the methods below): the stored due time moves on when
    # a pause ends, so that the coordinator's list can be ordered and filtered by it in SQL.
    response_due_at: datetime | None = None
    first_response_at: datetime | None = None
    answered_at: datetime | None = None
    status_before_pause: Status | None = None
    paused_at: datetime | None = None
    paused_working_days: int = 0

    @property
    def booked_group(self) -> str:
        """The group whose meeting the request is booked into; "" when none (or withdrawn)."""
        return self.meeting_group_id if self.meeting_id and self.status is not Status.WITHDRAWN else ""

    def move_to(self, target: Status, now: datetime) -> Status:
        """Apply one lifecycle step; refuse a step the lifecycle does not have. Returns the old status."""
        allowed = target in TRANSITIONS[self.status]
        if self.status is Status.AWAITING_INFORMATION and target is not Status.WITHDRAWN:
            allowed = target is self.status_before_pause  # only back to where it was
        if not allowed:
            raise FailedPrecondition(
                f"Pyyntö on tilassa '{STATUS_FI[self.status]}', josta ei voi siirtyä tilaan "
                f"'{STATUS_FI[target]}'. / The request is '{self.status}', which cannot move to '{target}'.",
                violation_type="LIFECYCLE", subject=f"requests/{self.id}",
                info={"status": self.status.value, "target": target.value})
        if (target is Status.RECOMMENDATIONS_RETURNED and self.status is not Status.CONSULTED
                and self.type not in WRITTEN_ANSWER_TYPES):
            raise FailedPrecondition(
                f"Pyyntö on tilassa '{STATUS_FI[self.status]}': vastaus palautetaan konsultaation jälkeen (vain "
                f"OT-TUKI-pyyntöön vastataan kirjallisesti ilman kokousta). / The request is '{self.status}': the "
                "answer is returned after the consultation (only an OT-TUKI request is answered in writing without "
                "a meeting).", violation_type="LIFECYCLE", subject=f"requests/{self.id}",
                info={"status": self.status.value, "target": target.value})
        self._check_type(target)
        previous = self.status
        self.status = target
        self.updated_at = now
        if previous is Status.AWAITING_INFORMATION:
            self._end_pause(now)
        return previous

    def _check_type(self, target: Status) -> None:
        if target is Status.SCHEDULED and self.type is not RequestType.GROUP_CONSULTATION:
            raise FailedPrecondition(
                "Kokousvaraus koskee vain konsultaatioryhmäpyyntöjä. / Only group-consultation requests are booked "
                "into meetings.", violation_type="REQUEST_TYPE", subject=f"requests/{self.id}")
        if target is Status.ASSIGNED and self.type is RequestType.GROUP_CONSULTATION:
            raise FailedPrecondition(
                "Konsultaatioryhmäpyyntö varataan kokoukseen, sille ei nimetä asiantuntijaa. / A group-consultation "
                "request is booked into a meeting, not assigned to experts.",
                violation_type="REQUEST_TYPE", subject=f"requests/{self.id}")

    # --- experts (from the experts service's events) ----------------------------------------
    def assign(self, expert_ids: list[str], now: datetime) -> Status | None:
        """The experts service assigned experts (the full current set). Returns the previous
        status when the status changed (an event to publish), else None. A request awaiting the
        professional takes the experts and goes back to assigned when the reply comes."""
        if self.status is Status.AWAITING_INFORMATION and self.status_before_pause in (
                Status.SUBMITTED, Status.TRIAGED, Status.ASSIGNED):
            self._check_type(Status.ASSIGNED)
            self.status_before_pause = Status.ASSIGNED
        elif self.status is not Status.ASSIGNED:
            previous = self.move_to(Status.ASSIGNED, now)
            self.expert_ids = list(expert_ids)
            return previous
        self.expert_ids = list(expert_ids)
        self.updated_at = now
        return None

    def unassign(self, remaining: list[str], now: datetime) -> Status | None:
        """Experts were unassigned (`remaining` are left). With none left an assigned request goes
        back to triaged (one awaiting the professional will go back there after the reply). A
        request that has meanwhile moved on (consulted, withdrawn...) keeps its state."""
        waiting_assigned = (self.status is Status.AWAITING_INFORMATION
                            and self.status_before_pause is Status.ASSIGNED)
        if self.status is not Status.ASSIGNED and not waiting_assigned:
            return None
        self.expert_ids = list(remaining)
        if remaining or waiting_assigned:
            if not remaining:
                self.status_before_pause = Status.TRIAGED
            self.updated_at = now
            return None
        return self.move_to(Status.TRIAGED, now)

    # --- awaiting information: the response clock stops ------------------------------------
    def await_information(self, now: datetime) -> Status:
        """The OT team asked the professional: wait for the reply, remembering where it was."""
        previous = self.move_to(Status.AWAITING_INFORMATION, now)
        self.status_before_pause = previous
        self.paused_at = now
        return previous

    def resume(self, now: datetime) -> Status:
        """The professional replied: back to where it was; the due time moves on by the pause."""
        return self.move_to(self.status_before_pause, now)

    def _end_pause(self, now: datetime) -> None:
        days = working_days_between(self.paused_at, now) if self.paused_at else 0
        self.paused_working_days += days
        if self.response_due_at is not None and days:
            self.response_due_at = utc(add_working_days(self.response_due_at, days))
        self.status_before_pause = None
        self.paused_at = None

    # --- response times --------------------------------------------------------------------
    def responded(self, now: datetime) -> None:
        """The OT side's first question, advice, recommendations or statement."""
        if self.first_response_at is None:
            self.first_response_at = now

    def clock_end(self, now: datetime) -> datetime:
        """Where the response clock ends: the answer, the withdrawal (nothing changes a withdrawn
        request afterwards, so its updated_at is the withdrawal), or now."""
        if self.answered_at is not None:
            return self.answered_at
        return self.updated_at if self.status is Status.WITHDRAWN else now

    def waiting_working_days(self, now: datetime) -> int:
        """Working days from submission to the answer (or now), without the paused ones."""
        end = self.clock_end(now)
        paused = self.paused_working_days
        if self.paused_at is not None and self.status is Status.AWAITING_INFORMATION:
            paused += working_days_between(self.paused_at, end)
        return max(0, working_days_between(self.submitted_at, end) - paused)

    def past_target(self, now: datetime) -> bool:
        """Unanswered (and not withdrawn) after the due time. While the request awaits the
        professional the clock stands still where the question stopped it."""
        if self.answered_at is not None or self.status is Status.WITHDRAWN or self.response_due_at is None:
            return False
        return (self.paused_at or now) > self.response_due_at


def utc(moment: datetime) -> datetime:
    """Stored times are UTC (SQLite keeps no zone: a Helsinki time stored as is would be wrong)."""
    return moment.astimezone(timezone.utc)


DEFAULT_RESPONSE_TARGET_WORKING_DAYS = 5


def response_due(submitted_at: datetime, target_working_days: int) -> datetime:
    """The end of the target's last working day (Finnish time), as UTC."""
    return utc(add_working_days(submitted_at, target_working_days))


# --- the case conversation -------------------------------------------------------------------
class EntryKind(StrEnum):
    QUESTION = "question"                # the OT team asks the professional (the request awaits the reply)
    REPLY = "reply"                      # the owning professional answers
    ADVICE = "advice"                    # OT-TUKI: the OT team's written answer
    RECOMMENDATIONS = "recommendations"  # a consultation group's recommendations
    STATEMENT = "statement"              # an assigned expert's or the booked group's statement
    NOTE = "note"                        # internal to the OT team
    PRE_INFORMATION = "pre_information"  # the pre-information form for the group


# What counts as the OT side's response (first_response_at), and what is an answer that may be
# returned (ReturnRecommendations needs one).
RESPONSE_KINDS = {EntryKind.QUESTION, EntryKind.ADVICE, EntryKind.RECOMMENDATIONS, EntryKind.STATEMENT}
ANSWER_KINDS = {EntryKind.ADVICE, EntryKind.RECOMMENDATIONS, EntryKind.STATEMENT}
# Who is the OT team, for NOTE entries: never shown to the professional, experts or group members.
TEAM_ONLY_KINDS = {EntryKind.NOTE}

KIND_FI = {EntryKind.QUESTION: "lisätietokysymys", EntryKind.REPLY: "vastaus", EntryKind.ADVICE: "neuvo",
           EntryKind.RECOMMENDATIONS: "toimenpidesuositukset", EntryKind.STATEMENT: "lausunto",
           EntryKind.NOTE: "muistiinpano", EntryKind.PRE_INFORMATION: "esitietolomake"}

# In which statuses each kind may be written. Open = before the answer is returned.
_OPEN = {Status.SUBMITTED, Status.TRIAGED, Status.SCHEDULED, Status.ASSIGNED, Status.AWAITING_INFORMATION,
         Status.CONSULTED}
ENTRY_STATUSES: dict[EntryKind, set[Status]] = {
    EntryKind.QUESTION: PAUSABLE | {Status.AWAITING_INFORMATION},  # a second question just adds to the wait
    EntryKind.REPLY: _OPEN,
    EntryKind.ADVICE: _OPEN,
    EntryKind.RECOMMENDATIONS: _OPEN,
    EntryKind.STATEMENT: _OPEN,
    EntryKind.NOTE: _OPEN,
    # The form belongs before the meeting (due by the booking deadline).
    EntryKind.PRE_INFORMATION: {Status.SUBMITTED, Status.TRIAGED, Status.SCHEDULED, Status.AWAITING_INFORMATION},
}
# Kinds that belong to one type of request only.
ENTRY_TYPES: dict[EntryKind, set[RequestType]] = {
    EntryKind.ADVICE: {RequestType.OT_TUKI},
    EntryKind.RECOMMENDATIONS: {RequestType.GROUP_CONSULTATION},
    EntryKind.PRE_INFORMATION: {RequestType.GROUP_CONSULTATION},
}


@dataclass
class Entry:
    id: str
    request_id: str
    sequence: int
    kind: EntryKind
    author_subject: str
    author_role: str
    author_name: str
    created_at: datetime
    expert_ids: list[str] = field(default_factory=list)
    idempotency_key: str = ""
    text: str = ""                      # filled in only when opened for a reader
    sealed_text: bytes | None = None    # None once the content was erased
    content_erased: bool = False


def validate_entry(kind: EntryKind | None, text: str, expert_ids: list[str]) -> list[FieldViolation]:
    v = []
    if kind is None:
        v.append(FieldViolation("kind", "Valitse merkinnän laji. / Choose the kind of entry.", "required"))
    if not text.strip():
        v.append(FieldViolation("text", "Kirjoita merkinnän teksti. / Write the entry's text.", "required"))
    if expert_ids and kind is not EntryKind.ADVICE:
        v.append(FieldViolation("expert_ids", "Asiantuntijoihin voi viitata vain neuvossa. / Only advice may point "
                                "to experts.", "invalid"))
    if len(set(expert_ids)) != len(expert_ids):
        v.append(FieldViolation("expert_ids", "Sama asiantuntija on mainittu kahdesti. / An expert is named "
                                "twice.", "invalid"))
    return v


def check_entry_allowed(r: "ConsultationRequest", kind: EntryKind) -> None:
    """May an entry of this kind be written on the request now (its type and status)?"""
    types = ENTRY_TYPES.get(kind)
    if types and r.type not in types:
        raise FailedPrecondition(
            f"Merkintä '{KIND_FI[kind]}' ei kuulu tämän tyyppiseen pyyntöön. / A '{kind}' entry does not belong to "
            f"a '{r.type}' request.", violation_type="REQUEST_TYPE", subject=f"requests/{r.id}",
            info={"type": r.type.value, "kind": kind.value})
    if r.status not in ENTRY_STATUSES[kind]:
        raise FailedPrecondition(
            f"Pyyntö on tilassa '{STATUS_FI[r.status]}', jossa merkintää '{KIND_FI[kind]}' ei voi lisätä. / The "
            f"request is '{r.status}', where a '{kind}' entry cannot be added.", violation_type="LIFECYCLE",
            subject=f"requests/{r.id}", info={"status": r.status.value, "kind": kind.value})


def require_answer(r: "ConsultationRequest", kinds: set[EntryKind]) -> None:
    """ReturnRecommendations returns the written answer: there must be one."""
    if not kinds & ANSWER_KINDS:
        raise FailedPrecondition(
            "Palautettavaa vastausta ei ole: kirjoita ensin neuvo, toimenpidesuositukset tai lausunto "
            "keskusteluun. / There is no answer to return: first write advice, recommendations or a statement "
            "in the conversation.", violation_type="NO_ANSWER", subject=f"requests/{r.id}")


@dataclass
class Meeting:
    id: str
    tenant: str
    group_id: str
    starts_at: datetime
    capacity: int
    booked: int
    booking_lead_days: int
    location: str = ""

    @property
    def booking_deadline(self) -> datetime:
        return self.starts_at - timedelta(days=self.booking_lead_days)

    def open_for_booking(self, now: datetime) -> bool:
        return now <= self.booking_deadline and self.booked < self.capacity


def publish_warning(m: Meeting, now: datetime) -> tuple[str, str, str] | None:
    """(code, Finnish, English) when a meeting just published cannot be booked: its booking
    deadline has passed. Published all the same: the publisher may mean it (e.g. recording a meeting
    already agreed), so it is a warning in the answer, not a refusal."""
    if now <= m.booking_deadline:
        return None
    deadline = m.booking_deadline.astimezone(FINNISH_TIME)
    return ("BOOKING_DEADLINE_PASSED",
            f"Kokous julkaistiin, mutta sen varausaika päättyi jo {deadline:%d.%m.%Y klo %H.%M}: ammattilaiset "
            "eivät voi varata siihen aikaa. Tarkista kokouksen päivä ja varausaika.",
            f"The meeting was published, but its booking deadline already passed ({deadline:%Y-%m-%d %H:%M} "
            f"Finnish time): professionals cannot book it. Check the meeting's date and booking lead time.")


def default_lead_days(group_id: str) -> int:
    if group_id.startswith(CHALLENGING_DIVORCES_GROUP_PREFIX):
        return DEFAULT_LEAD_DAYS_CHALLENGING_DIVORCES
    return DEFAULT_LEAD_DAYS_OTHER_GROUPS


GROUP_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


@dataclass
class AgendaItem:
    request: "ConsultationRequest"
    material_received_at: datetime | None
    material_missing: bool


def material_missing(received_at: datetime | None, meeting: Meeting, now: datetime) -> bool:
    """No pre-information form by the booking deadline, which is also the material deadline
    (DOMAIN.md: booking and material a week ahead). Known once the deadline has passed; before
    that, an unset material_received_at says "not yet"."""
    deadline = meeting.booking_deadline
    return now > deadline and (received_at is None or received_at > deadline)


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
