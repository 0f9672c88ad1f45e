"""Consent, sharing and retention rules. No I/O."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from ot_runtime.auth import Principal
from ot_runtime.vocabulary import ConsentForm, ConsentGiver, RequestStatus, RequestType  # noqa: F401 (re-exported)


class PartyKind(StrEnum):
    OT_TEAM = "ot_team"
    GROUP = "group"
    EXPERT_ORGANISATION = "expert_organisation"


@dataclass(frozen=True)
class Party:
    kind: PartyKind | None  # None: the caller did not say (refused by the handlers, never stored)
    id: str = ""

    def label(self) -> str:
        return self.kind.value if not self.id else f"{self.kind.value}:{self.id}"


@dataclass
class ConsentVersion:
    request_id: str
    version: int
    form: ConsentForm
    given_by: ConsentGiver | None
    child_capacity_assessed: bool
    scope: list[Party]
    given_at: datetime
    withdrawn: bool
    recorded_at: datetime
    recorded_by: str


@dataclass
class Case:
    request_id: str
    tenant: str
    type: RequestType
    owner_subject: str
    opened_at: datetime
    recommendations_returned_at: datetime | None = None
    ended_at: datetime | None = None  # closed or withdrawn
    content_erased_at: datetime | None = None
    # When intake's RequestSubmitted for this id arrived: the request really was stored. A case
    # never confirmed is an orphan (intake failed or crashed after asking for the key), which
    # the purge discards after a grace period (`abandoned_at`).
    confirmed_at: datetime | None = None
    abandoned_at: datetime | None = None


@dataclass(frozen=True)
class Decision:
    allowed: bool
    code: str
    fi: str
    en: str


def sharing_decision(case: Case | None, consent: ConsentVersion | None, party: Party) -> Decision:
    """May this request's case go to `party`? The order of the checks is the order of the reasons."""
    if case is None or case.abandoned_at is not None:  # an abandoned case's request never existed
        return Decision(False, "UNKNOWN_REQUEST", "Pyyntöä ei tunneta tällä alueella.",
                        "The request is not known in this area.")
    if case.content_erased_at is not None:
        return Decision(False, "CONTENT_ERASED", "Tapauksen sisältö on jo poistettu säilytysajan päätyttyä.",
                        "The case content has been erased at the end of its retention.")
    if consent is None:
        return Decision(False, "NO_CONSENT_RECORD", "Suostumusarviota ei ole kirjattu.",
                        "No consent assessment is recorded.")
    if consent.withdrawn:
        return Decision(False, "CONSENT_WITHDRAWN", "Suostumus on peruttu; tapausta ei voi jakaa.",
                        "Consent was withdrawn; the case cannot be shared.")
    if consent.form is ConsentForm.NOT_NEEDED:
        return Decision(True, "CONSENT_NOT_NEEDED", "Ammattilainen arvioi, ettei suostumusta tarvita.",
                        "The professional judged that consent is not needed.")
    if party.kind is PartyKind.OT_TEAM or party in consent.scope:
        return Decision(True, "CONSENT_IN_SCOPE", "Suostumus kattaa tämän vastaanottajan.",
                        "The consent covers this recipient.")
    return Decision(False, "NOT_IN_SCOPE",
                    "Suostumus ei kata tätä vastaanottajaa; pyydä ammattilaista päivittämään suostumuksen laajuus.",
                    "The consent does not cover this recipient; ask the professional to update its scope.")


# An expert logs in with the subject "expert-<expert id>" (README); the id is the party whose
# sharing consent decides.
EXPERT_SUBJECT_PREFIX = "expert-"


@dataclass
class Assignment:
    """The experts assigned to a request now, as experts' last event said (each event carries the
    full set). `as_of` is that event's time: an older event arriving later changes nothing."""
    request_id: str
    expert_ids: list[str]
    as_of: datetime


@dataclass
class Booking:
    """The consultation group a request is booked into now, as intake's status changes said.
    `group_id` None: not booked (never, withdrawn, or moved back before booking). `answered_at`:
    when the recommendations were returned (or the request closed), which ends the members' right
    to read; the group's secretary keeps it until the content is shredded. `as_of`: the time of
    the change this row follows, so an older change arriving later changes nothing."""
    request_id: str
    group_id: str | None
    answered_at: datetime | None
    as_of: datetime


# Statuses in which a request is not booked into any meeting: a change to one of them unbooks it.
_NOT_BOOKED = {RequestStatus.SUBMITTED, RequestStatus.TRIAGED, RequestStatus.ASSIGNED, RequestStatus.WITHDRAWN}
_ANSWERED = {RequestStatus.RECOMMENDATIONS_RETURNED, RequestStatus.CLOSED}


def assignment_after(current: Assignment | None, request_id: str, expert_ids: list[str], at: datetime) -> Assignment:
    """The assignment after one of experts' events (the full set assigned after it)."""
    if current is not None and at < current.as_of:
        return current
    return Assignment(request_id, sorted(set(expert_ids)), at)


def booking_after(current: Booking | None, request_id: str, to_status: RequestStatus | None, group_id: str,
                  at: datetime) -> Booking:
    """The booking after one of intake's status changes of the request."""
    if current is not None and at < current.as_of:
        return current
    group, answered = (current.group_id, current.answered_at) if current else (None, None)
    if to_status is RequestStatus.SCHEDULED:
        if group_id:  # a booking; without a group it is the way back from awaiting_information
            group, answered = group_id, None
    elif to_status in _NOT_BOOKED:
        group, answered = None, None
    elif to_status in _ANSWERED:
        answered = answered or at
    # consulted, awaiting_information, a status this version does not know: the booking stands
    return Booking(request_id, group, answered, at)


@dataclass(frozen=True)
class ReadDecision:
    """May this caller have the request's data key? `code`: on what basis (owner, coordinator,
    assigned_expert, group_secretary, group_member), or why not (NOT_OWNER, NOT_ASSIGNED,
    NOT_BOOKED_GROUP, RECOMMENDATIONS_RETURNED, or the sharing decision's code such as
    CONSENT_WITHDRAWN, NOT_IN_SCOPE). `party`/`sharing`: the party whose sharing was checked."""
    allowed: bool
    code: str
    party: Party | None = None
    sharing: Decision | None = None


def content_access(who: Principal, case: Case, consent: ConsentVersion | None, assignment: Assignment | None,
                   booking: Booking | None) -> ReadDecision:
    """The object-level rule of reading case content (consent's half of it; intake applies the
    same rule, but consent never takes intake's word: anyone with a token can call it directly).

    The owning professional and the area's coordinators read. An expert reads while assigned to
    the request and while the consent allows sharing with that expert organisation; a secretary
    (until the content is shredded) or a group member (until the recommendations are returned)
    of the group the request is booked into now, while the consent allows sharing with that
    group. Nobody else: not a secretary or member of another group, not the data-protection
    officer (whom the access table already refuses)."""
    if who.subject == case.owner_subject:
        return ReadDecision(True, "owner")
    if who.has_any("coordinator"):
        return ReadDecision(True, "coordinator")
    related: list[tuple[str, Party]] = []
    expert_id = who.subject.removeprefix(EXPERT_SUBJECT_PREFIX) if who.subject.startswith(EXPERT_SUBJECT_PREFIX) else ""
    if who.has_any("expert") and expert_id and assignment is not None and expert_id in assignment.expert_ids:
        related.append(("assigned_expert", Party(PartyKind.EXPERT_ORGANISATION, expert_id)))
    booked = booking.group_id if booking is not None else None
    in_group = booked is not None and booked in who.groups
    if in_group and who.has_any("secretary"):
        related.append(("group_secretary", Party(PartyKind.GROUP, booked)))
    elif in_group and who.has_any("group-member") and booking.answered_at is None:
        related.append(("group_member", Party(PartyKind.GROUP, booked)))
    checked = [(basis, party, sharing_decision(case, consent, party)) for basis, party in related]
    for basis, party, decision in checked:
        if decision.allowed:
            return ReadDecision(True, basis, party, decision)
    if checked:  # related to the case, but the consent does not allow it (withdrawn, out of scope...)
        _, party, decision = checked[0]
        return ReadDecision(False, decision.code, party, decision)
    if in_group and who.has_any("group-member"):
        return ReadDecision(False, "RECOMMENDATIONS_RETURNED", Party(PartyKind.GROUP, booked))
    if who.has_any("secretary", "group-member"):
        return ReadDecision(False, "NOT_BOOKED_GROUP")
    if who.has_any("expert"):
        return ReadDecision(False, "NOT_ASSIGNED")
    return ReadDecision(False, "NOT_OWNER")


@dataclass(frozen=True)
class RetentionPolicy:
    type: RequestType
    grace_days_after_recommendations: int
    max_days_after_submission: int


# Defaults when an area has set nothing. The group keeps no register (DOMAIN.md): its content goes
# two weeks after the recommendations are back with the worker.
DEFAULT_POLICIES = {
    RequestType.GROUP_CONSULTATION: RetentionPolicy(RequestType.GROUP_CONSULTATION, 14, 180),
    RequestType.OT_TUKI: RetentionPolicy(RequestType.OT_TUKI, 30, 365),
    RequestType.EXPERT_REINFORCEMENT: RetentionPolicy(RequestType.EXPERT_REINFORCEMENT, 30, 365),
}


# The variables that set an area's retention defaults, written out so that they can be found.
RETENTION_ENV = {
    RequestType.OT_TUKI: ("OT_RETENTION_OT_TUKI_GRACE_DAYS", "OT_RETENTION_OT_TUKI_MAX_DAYS"),
    RequestType.GROUP_CONSULTATION: ("OT_RETENTION_GROUP_CONSULTATION_GRACE_DAYS",
                                     "OT_RETENTION_GROUP_CONSULTATION_MAX_DAYS"),
    RequestType.EXPERT_REINFORCEMENT: ("OT_RETENTION_EXPERT_REINFORCEMENT_GRACE_DAYS",
                                       "OT_RETENTION_EXPERT_REINFORCEMENT_MAX_DAYS"),
}


def policies_from_env(env) -> dict[RequestType, RetentionPolicy]:
    """The area's defaults from RETENTION_ENV (grace days after the recommendations, maximum days
    after submission); unset ones keep DEFAULT_POLICIES. A coordinator can still change a policy
    at run time (SetRetentionPolicy), which wins over these."""
    out = {}
    for type_, default in DEFAULT_POLICIES.items():
        values = []
        for name, fallback in zip(RETENTION_ENV[type_], (default.grace_days_after_recommendations,
                                                         default.max_days_after_submission)):
            raw = str(env.get(name, "")).strip()
            if not raw:
                values.append(fallback)
            elif raw.isdigit() and 0 <= int(raw) <= 3650:
                values.append(int(raw))
            else:
                raise ValueError(f"{name} must be a whole number of days 0-3650, got {raw!r}")
        out[type_] = RetentionPolicy(type_, *values)
    return out


def orphans_due(unconfirmed: list[Case], latest_confirmed_opening: datetime | None, sweep_since: datetime | None,
                now: datetime, grace: timedelta) -> list[Case]:
    """The unconfirmed cases to discard now: opened at least `grace` ago, and opened before a case
    that intake has since confirmed. The second condition keeps a stalled pipeline (Kafka down,
    intake's relay or consent's consumer stopped) from discarding real requests whose events have
    not arrived yet: while nothing newer is confirmed, nothing is swept. Cases opened before
    `sweep_since` + `grace` (the upgrade that brought the sweep, see store.orphan_sweep) are left
    alone too."""
    if latest_confirmed_opening is None:
        return []
    return [c for c in unconfirmed if c.confirmed_at is None and c.content_erased_at is None
            and c.opened_at + grace <= now and c.opened_at < latest_confirmed_opening
            and (sweep_since is None or c.opened_at >= sweep_since + grace)]


def erasure_due(case: Case, policy: RetentionPolicy) -> tuple[datetime, str]:
    """When the case content must be erased, and why (the earliest applicable rule)."""
    candidates = [(case.opened_at + timedelta(days=policy.max_days_after_submission),
                   f"retention: {policy.max_days_after_submission} days after submission")]
    finished = case.recommendations_returned_at or case.ended_at
    if finished is not None:
        candidates.append((finished + timedelta(days=policy.grace_days_after_recommendations),
                           f"retention: consultation finished + {policy.grace_days_after_recommendations} days"))
    return min(candidates)
