"""Intake's use cases: command in -> rules -> one transaction with the state change and its events.

Who may call each use case, and the form of every field (lengths, closed forms, the
client-identifier guard), are checked at the edge before a handler runs (edge.py): a refused
submission raises before any row, event, span attribute or log line is written. What the
handlers check is the domain (required answers, the lifecycle, deadlines) and the object-level
rule: which request this caller may touch (`_may_act`).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from opentelemetry import trace
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ot_runtime.auth import Principal
from ot_runtime.clock import Clock
from ot_runtime.errors import (FailedPrecondition, FieldViolation, InvalidArgument, NotFound, PermissionDenied,
                               ResourceExhausted)
from ot_runtime.outbox import Outbox

from . import events
from .domain import (ClientFacts, Consent, ConsultationRequest, Meeting, Status, Submission, default_lead_days,
                     validate_meeting, validate_submission)
from .seula import Screening, screen
from .store import IntakeRepository, RequestFilter, decode_page_token
from .vault import CaseVault, open_content, open_text, seal_content, seal_text

log = logging.getLogger("ot.intake")

STAFF = ("coordinator", "secretary")


@dataclass
class IntakeHandlers:
    sessions: sessionmaker
    outbox: Outbox
    tenant: str
    topic: str
    clock: Clock
    vault: CaseVault | None = None  # needed by every use case that touches case content

    # --- professionals --------------------------------------------------------------------
    def submit(self, who: Principal, sub: Submission) -> tuple[ConsultationRequest, Screening]:
        """Store a new request. The steps are ordered so that no failure we can see leaves a
        consent case without its request: every rule first, then the write transaction (a
        database that does not answer, or a retry of the same idempotency key, ends it there),
        then consent's new data key, and the commit last. Only a crash between consent's answer
        and the commit can still leave a case behind; intake's RequestSubmitted event for the
        request id is what tells consent that the request exists."""
        problems = validate_submission(sub, self.tenant)
        if problems:
            # Only counts and kinds: the values are exactly what must not reach a log.
            log.info("submission refused", extra={"violations": len(problems),
                                                  "kinds": sorted({p.reason for p in problems})})
            raise InvalidArgument(problems)
        screening = screen(sub)
        now = self.clock.now()
        r = ConsultationRequest(
            id=str(uuid.uuid4()), tenant=self.tenant, type=sub.type, status=Status.SUBMITTED,
            owner_subject=who.subject, professional=sub.professional, categories=list(sub.categories),
            client=sub.client, question=sub.question, discussed_in_own_team=True, consent=sub.consent,
            anonymous=sub.anonymous, submitted_at=now, updated_at=now, screening_score=screening.score,
            idempotency_key=sub.idempotency_key)
        existing = None
        try:
            with self.sessions.begin() as s:
                repo = IntakeRepository(s)
                if sub.idempotency_key:
                    existing = repo.find_by_idempotency_key(who.subject, sub.idempotency_key, self.tenant)
                if existing is None:
                    # The row first, still without content: the database has answered and taken
                    # every value before consent is asked. A concurrent retry with the same key
                    # waits here on the unique index and then fails, so it never asks consent.
                    repo.add(r)
                    r.sealed_content = seal_content(self.vault.open_case(r), r)
                    repo.set_sealed_content(r.id, r.sealed_content)
                    self.outbox.add(s, topic=self.topic, ce_type=events.REQUEST_SUBMITTED, subject=r.id,
                                    message=events.request_submitted(r), time=now)
        except IntegrityError:
            if not sub.idempotency_key:
                raise
            # The same idempotency key raced in twice: the first one won; return it.
            with self.sessions() as s:
                existing = IntakeRepository(s).find_by_idempotency_key(who.subject, sub.idempotency_key, self.tenant)
            if existing is None:
                raise
        if existing is not None:
            return self._with_content(existing, "submission retry"), screening
        trace.get_current_span().set_attribute("ot.request_id", r.id)
        log.info("request submitted", extra={"request_id": r.id, "type": r.type.value})
        return r, screening

    def get(self, who: Principal, request_id: str) -> ConsultationRequest:
        """The request, with its case content for the requester, the OT team and an assigned
        expert when consent hands out the key (each read is audited there). A platform service
        (feedback, for the worker's address) gets it without any case data."""
        with self.sessions() as s:
            r = self._load(IntakeRepository(s), request_id)
        if who.has_any("service"):
            return _without_case_data(r)
        self._may_act(who, r, owner=True, staff=True, expert=True)
        return self._with_content(r, "view")

    def withdraw(self, who: Principal, request_id: str) -> ConsultationRequest:
        def step(repo: IntakeRepository, r: ConsultationRequest, now: datetime):
            self._may_act(who, r, owner=True, staff=True)
            meeting_id = r.meeting_id
            previous = r.move_to(Status.WITHDRAWN, now)
            if meeting_id:
                repo.release_place(meeting_id)  # the place goes back to the group
            return previous, None
        return self._transition(request_id, step)

    def book(self, who: Principal, request_id: str, meeting_id: str) -> ConsultationRequest:
        """Book a group-consultation request into a meeting, refusing past the deadline or when full."""
        def step(repo: IntakeRepository, r: ConsultationRequest, now: datetime):
            self._may_act(who, r, owner=True, staff=True)
            meeting = repo.get_meeting(meeting_id, self.tenant)
            if meeting is None:
                raise NotFound(f"Kokousta {meeting_id} ei ole. / There is no meeting {meeting_id}.")
            previous = r.move_to(Status.SCHEDULED, now)  # checks lifecycle and type first
            if now > meeting.booking_deadline:
                self._refuse_booking(repo, meeting, now, "BOOKING_DEADLINE_PASSED",
                                     f"Varaus ja materiaali piti toimittaa viimeistään "
                                     f"{meeting.booking_deadline:%d.%m.%Y}.",
                                     f"Booking and material were due by {meeting.booking_deadline:%Y-%m-%d}.")
            if not repo.take_place(meeting.id):
                self._refuse_booking(repo, meeting, now, "MEETING_FULL", "Kokous on täynnä.", "The meeting is full.")
            r.meeting_id = meeting.id
            return previous, meeting
        return self._transition(request_id, step)

    # --- coordinators and secretaries -----------------------------------------------------
    def list(self, who: Principal, f: RequestFilter) -> tuple[list[ConsultationRequest], str, int]:
        if f.page_token:
            try:
                decode_page_token(f.page_token)
            except ValueError:
                raise InvalidArgument([FieldViolation("page_token", "Sivutunnus ei kelpaa; aloita alusta ilman sitä. "
                                                      "/ The page token is not valid; start again without it.")])
        if not 1 <= f.page_size <= 100:
            raise InvalidArgument([FieldViolation("page_size", "Sivun koko 1–100. / Page size must be 1–100.")])
        with self.sessions() as s:
            return IntakeRepository(s).list(self.tenant, f)

    def triage(self, who: Principal, request_id: str, note: str) -> ConsultationRequest:
        with self.sessions() as s:
            self._load(IntakeRepository(s), request_id)  # a missing request is NOT_FOUND, not "erased"
        key = self.vault.data_key(request_id, "triage note") if note else None
        if note and key is None:
            raise FailedPrecondition("Tapauksen sisältö on poistettu; muistiinpanoa ei voi lisätä. / The case content "
                                     "was erased; a note cannot be added.", violation_type="CONTENT_ERASED",
                                     subject=f"requests/{request_id}")

        def step(repo, r: ConsultationRequest, now):
            previous = r.move_to(Status.TRIAGED, now)
            if note:
                r.sealed_triage_note = seal_text(key, r, "triage_note", note)
                repo.set_triage_note(r.id, r.sealed_triage_note)
            return previous, None
        return self._transition(request_id, step)

    def mark_consulted(self, who: Principal, request_id: str) -> ConsultationRequest:
        return self._transition(request_id, lambda repo, r, now: (r.move_to(Status.CONSULTED, now), None))

    def return_recommendations(self, who: Principal, request_id: str) -> ConsultationRequest:
        def step(repo: IntakeRepository, r: ConsultationRequest, now: datetime):
            self._may_act(who, r, staff=True, expert=True)
            return r.move_to(Status.RECOMMENDATIONS_RETURNED, now), None
        return self._transition(request_id, step)

    def close(self, who: Principal, request_id: str) -> ConsultationRequest:
        return self._transition(request_id, lambda repo, r, now: (r.move_to(Status.CLOSED, now), None))

    def publish_meeting(self, who: Principal, group_id: str, starts_at: datetime | None, capacity: int,
                        lead_days: int) -> Meeting:
        now = self.clock.now()
        problems = validate_meeting(group_id, starts_at, capacity, lead_days, now)
        if problems:
            raise InvalidArgument(problems)
        m = Meeting(id=str(uuid.uuid4()), tenant=self.tenant, group_id=group_id, starts_at=starts_at,
                    capacity=capacity, booked=0, booking_lead_days=lead_days or default_lead_days(group_id))
        with self.sessions.begin() as s:
            IntakeRepository(s).add_meeting(m)
            self.outbox.add(s, topic=self.topic, ce_type=events.MEETING_PUBLISHED, subject=m.id,
                            message=events.meeting_published(m), time=now)
        return m

    def list_meetings(self, who: Principal, group_id: str, start_from: datetime | None) -> list[Meeting]:
        with self.sessions() as s:
            return IntakeRepository(s).list_meetings(self.tenant, group_id, start_from or self.clock.now())

    # --- the professional's own data (data-protection requests) --------------------------
    def export_professional(self, who: Principal, subject: str) -> tuple[int, str]:
        """Everything intake holds about the professional: their contact details and the requests
        they made (ids, type, status, dates). Not the case content: that is the client's data."""
        _require_subject(subject)
        if subject != who.subject and not who.has_any("admin"):
            raise PermissionDenied("Vain oma tai tietosuojavastaavan pyytämä vienti. / Only your own data, or an "
                                   "export by the data-protection officer (admin).", reason="NOT_OWN_DATA")
        with self.sessions() as s:
            owned = IntakeRepository(s).owned_by(subject, self.tenant)
        data = {"subject": subject, "area": self.tenant, "exported_at": self.clock.now().isoformat(),
                "see_also": "The consent service's audit trail names this user id where they read or shared "
                            "case content: ConsentService/QueryAudit with actor, or `ot-consent export-audit "
                            "--actor <id>`. Feedback keeps no data about the person.",
                "requests": [{"request_id": r.id, "type": r.type.value, "status": r.status.value,
                              "submitted_at": r.submitted_at.isoformat(), "updated_at": r.updated_at.isoformat(),
                              "professional": {"name": r.professional.name, "phone": r.professional.phone,
                                               "email": r.professional.email,
                                               "profession": r.professional.profession,
                                               "organisation": r.professional.organisation,
                                               "sector": r.professional.sector.value}}
                             for r in owned]}
        log.info("professional data exported", extra={"requests": len(owned)})
        return len(owned), json.dumps(data, ensure_ascii=False, indent=2)

    def erase_professional(self, who: Principal, subject: str) -> int:
        """Erase the professional's identifying data; what statistics need stays."""
        _require_subject(subject)
        pseudonym = "erased:" + hashlib.sha256(f"{self.tenant}:{subject}".encode()).hexdigest()[:24]
        with self.sessions.begin() as s:
            count = IntakeRepository(s).erase_professional(subject, pseudonym, self.tenant)
        log.info("professional data erased", extra={"requests": count})
        return count

    # --- events from other services -------------------------------------------------------
    def on_experts_assigned(self, session: Session, request_id: str, expert_ids: list[str]) -> None:
        """The experts service assigned experts (the event carries the full current set): move the
        request to assigned, or, when it already is, take the new set."""
        repo = IntakeRepository(session)
        r = self._load(repo, request_id, for_update=True)
        now = self.clock.now()
        if r.status is Status.ASSIGNED:
            r.expert_ids = list(expert_ids)
            r.updated_at = now
            repo.save(r)
            log.info("assigned experts changed", extra={"request_id": r.id, "experts": len(expert_ids)})
            return
        previous = r.move_to(Status.ASSIGNED, now)
        r.expert_ids = list(expert_ids)
        self._moved(repo, r, previous, now)

    def on_experts_unassigned(self, session: Session, request_id: str, remaining: list[str]) -> None:
        """Experts were unassigned. With none left the request goes back to triaged. A request that
        has meanwhile moved on (consulted, withdrawn...) keeps its state: nothing to undo there."""
        repo = IntakeRepository(session)
        r = self._load(repo, request_id, for_update=True)
        if r.status is not Status.ASSIGNED:
            return
        now = self.clock.now()
        r.expert_ids = list(remaining)
        if remaining:
            r.updated_at = now
            repo.save(r)
            return
        previous = r.move_to(Status.TRIAGED, now)
        self._moved(repo, r, previous, now)

    def _moved(self, repo: IntakeRepository, r: ConsultationRequest, previous: Status, now: datetime,
               meeting: Meeting | None = None) -> None:
        """Save a lifecycle step and add its event, in the caller's transaction."""
        repo.save(r)
        self.outbox.add(repo.session, topic=self.topic, ce_type=events.REQUEST_STATUS_CHANGED, subject=r.id,
                        message=events.status_changed(r, previous, meeting), time=now)
        log.info("request moved", extra={"request_id": r.id, "from": previous.value, "to": r.status.value})

    def on_content_erased(self, session: Session, request_id: str) -> None:
        """Consent destroyed the request's key: drop the now unreadable ciphertext, and the
        client's age and gender with it (case data too). What statistics count stays: type,
        categories, area, dates, status."""
        if IntakeRepository(session).erase_content(request_id, self.clock.now()):
            log.info("case content erased", extra={"request_id": request_id})

    # --- shared steps ---------------------------------------------------------------------
    def _with_content(self, r: ConsultationRequest, purpose: str) -> ConsultationRequest:
        """Open the request's sealed content with its key from consent (an audited read there)."""
        if r.content_erased or r.sealed_content is None:
            return r
        key = self.vault.data_key(r.id, purpose)
        if key is None:
            return r  # erased meanwhile, or consent does not let this person read it
        open_content(key, r, r.sealed_content)
        if r.sealed_triage_note:
            r.triage_note = open_text(key, r, "triage_note", r.sealed_triage_note)
        r.content_included = True
        return r

    def _transition(self, request_id: str, step) -> ConsultationRequest:
        """Load with a row lock, apply `step`, save, and add the status-change event, in one transaction."""
        with self.sessions.begin() as s:
            repo = IntakeRepository(s)
            r = self._load(repo, request_id, for_update=True)
            now = self.clock.now()
            previous, meeting = step(repo, r, now)
            self._moved(repo, r, previous, now, meeting)
        return r

    def _load(self, repo: IntakeRepository, request_id: str, for_update: bool = False) -> ConsultationRequest:
        r = repo.get(request_id, self.tenant, for_update=for_update) if request_id else None
        if r is None:
            raise NotFound(f"Pyyntöä {request_id!r} ei löydy tältä alueelta. / No request {request_id!r} in this area.")
        return r

    @staticmethod
    def _may_act(who: Principal, r: ConsultationRequest, *, owner: bool = False, staff: bool = False,
                 expert: bool = False) -> None:
        """The object-level rule: may `who` act on this request? `owner`: the professional who
        submitted it; `staff`: the area's coordinator or secretary; `expert`: an expert assigned
        to it (subject "expert-<expert id>" with the id among the request's experts). A refusal
        says why in its ErrorInfo reason: NOT_OWNER, NOT_ASSIGNED, or ROLE_NOT_ALLOWED for a
        caller the access table would already have refused."""
        if staff and who.has_any(*STAFF):
            return
        if owner and who.has_any("professional") and r.owner_subject == who.subject:
            return
        if expert and who.has_any("expert") and who.subject in {f"expert-{e}" for e in r.expert_ids}:
            return
        info = {"request_id": r.id}
        if expert and who.has_any("expert"):
            raise PermissionDenied("Et ole tämän pyynnön nimetty asiantuntija. / You are not an expert assigned to "
                                   "this request.", reason="NOT_ASSIGNED", info=info)
        if owner and who.has_any("professional"):
            raise PermissionDenied("Pyyntö on toisen ammattilaisen: vain pyytäjä tai OT-tiimi voi käsitellä sitä. / "
                                   "The request is another professional's: only its requester or the OT team may act "
                                   "on it.", reason="NOT_OWNER", info=info)
        raise PermissionDenied("Roolisi ei riitä tähän. / Your role does not allow this.",
                               reason="ROLE_NOT_ALLOWED", info=info)

    def _refuse_booking(self, repo: IntakeRepository, meeting: Meeting, now: datetime, reason: str,
                        fi: str, en: str) -> None:
        alternative = repo.next_meeting_with_room(self.tenant, meeting.group_id, now, exclude=meeting.id)
        info = {"group_id": meeting.group_id}
        if alternative:
            info.update(next_meeting_id=alternative.id, next_meeting_starts_at=alternative.starts_at.isoformat(),
                        next_meeting_booking_deadline=alternative.booking_deadline.isoformat())
            fi += f" Seuraava kokous, jossa on tilaa: {alternative.starts_at:%d.%m.%Y} (varaa viimeistään " \
                  f"{alternative.booking_deadline:%d.%m.%Y})."
            en += f" Next meeting with room: {alternative.starts_at:%Y-%m-%d} (book by " \
                  f"{alternative.booking_deadline:%Y-%m-%d})."
        else:
            fi += " Ryhmällä ei ole nyt muita kokouksia, joissa on tilaa; kysy sihteeriltä."
            en += " The group has no other meeting with room now; ask the secretary."
        error_type = ResourceExhausted if reason == "MEETING_FULL" else FailedPrecondition
        raise error_type(f"{fi} / {en}", violation_type=reason, subject=f"meetings/{meeting.id}", info=info)


def _without_case_data(r: ConsultationRequest) -> ConsultationRequest:
    """What a platform service sees of a request: its facts (type, status, categories, dates) and
    the worker's contact, nothing about the client or the case (no content, age, gender, consent
    assessment or screening)."""
    return dataclasses.replace(r, client=ClientFacts(age_years=None, gender=None), question="",
                               consent=Consent(need=None, given_by=None, child_capacity_assessed=False),
                               screening_score=None, triage_note="", sealed_content=None, sealed_triage_note=None,
                               content_included=False)


def _require_subject(subject: str) -> None:
    if not subject:
        raise InvalidArgument([FieldViolation("subject", "Anna käyttäjätunnus. / Give the user id.", "required")])
