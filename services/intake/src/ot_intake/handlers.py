"""Intake's use cases: command in -> rules -> one transaction with the state change and its events.

The client-identifier guard runs first in `submit` and `triage`: a refused submission raises
before any row, event, span attribute or log line is written, and the error names only the
field, the kind of data and where it is, never the value.
"""
from __future__ import annotations

import hashlib
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from opentelemetry import trace
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ot_runtime.auth import Principal, require_role
from ot_runtime.clock import Clock
from ot_runtime.errors import (FailedPrecondition, FieldViolation, InvalidArgument, NotFound, PermissionDenied,
                               ResourceExhausted)
from ot_runtime.outbox import Outbox
from ot_runtime.privacy import guard

from . import events
from .domain import (ConsultationRequest, Meeting, Status, Submission, default_lead_days,
                     validate_meeting, validate_submission)
from .seula import Screening, screen
from .store import IntakeRepository, RequestFilter, decode_page_token
from .vault import CaseVault, open_content, open_text, seal_content, seal_text

log = logging.getLogger("ot.intake")

STAFF = ("coordinator", "secretary")
MAX_NOTE = 2000



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
        require_role(who, "professional")
        refused = guard(sub.guarded_fields())
        problems = refused + validate_submission(sub, self.tenant)
        if problems:
            # Only counts and kinds: the values are exactly what must not reach a log.
            log.info("submission refused", extra={"violations": len(problems),
                                                  "kinds": sorted({p.reason for p in problems})})
            raise InvalidArgument(problems)
        if sub.idempotency_key:
            with self.sessions() as s:
                existing = IntakeRepository(s).find_by_idempotency_key(who.subject, sub.idempotency_key, self.tenant)
            if existing:
                return self._with_content(existing, "submission retry"), screen(sub)
        screening = screen(sub)
        now = self.clock.now()
        r = ConsultationRequest(
            id=str(uuid.uuid4()), tenant=self.tenant, type=sub.type, status=Status.SUBMITTED,
            owner_subject=who.subject, professional=sub.professional, categories=list(sub.categories),
            client=sub.client, question=sub.question, discussed_in_own_team=True, consent=sub.consent,
            anonymous=sub.anonymous, submitted_at=now, updated_at=now, screening_score=screening.score,
            idempotency_key=sub.idempotency_key)
        # The key first: without it nothing is written, so a consent outage loses nothing half-way.
        r.sealed_content = seal_content(self.vault.open_case(r), r)
        try:
            with self.sessions.begin() as s:
                IntakeRepository(s).add(r)
                self.outbox.add(s, topic=self.topic, ce_type=events.REQUEST_SUBMITTED, subject=r.id,
                                message=events.request_submitted(r), time=now)
        except IntegrityError:
            # The same idempotency key raced in twice: the first one won; return it.
            with self.sessions() as s:
                existing = IntakeRepository(s).find_by_idempotency_key(who.subject, sub.idempotency_key, self.tenant)
            if existing is None:
                raise
            return self._with_content(existing, "submission retry"), screening
        trace.get_current_span().set_attribute("ot.request_id", r.id)
        log.info("request submitted", extra={"request_id": r.id, "type": r.type.value})
        return r, screening

    def get(self, who: Principal, request_id: str) -> ConsultationRequest:
        """The request, with its case content for the requester and the OT team (each read is
        audited by consent); a platform service gets the request without content."""
        with self.sessions() as s:
            r = self._load(IntakeRepository(s), request_id)
        self._may_read(who, r)
        if r.owner_subject == who.subject or who.has_any(*STAFF):
            return self._with_content(r, "view")
        return r

    def withdraw(self, who: Principal, request_id: str) -> ConsultationRequest:
        def step(repo: IntakeRepository, r: ConsultationRequest, now: datetime):
            self._may_act(who, r)
            meeting_id = r.meeting_id
            previous = r.move_to(Status.WITHDRAWN, now)
            if meeting_id:
                repo.release_place(meeting_id)  # the place goes back to the group
            return previous, None
        return self._transition(request_id, step)

    def book(self, who: Principal, request_id: str, meeting_id: str) -> ConsultationRequest:
        """Book a group-consultation request into a meeting, refusing past the deadline or when full."""
        def step(repo: IntakeRepository, r: ConsultationRequest, now: datetime):
            self._may_act(who, r)
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
        require_role(who, *STAFF)
        if f.page_token:
            try:
                decode_page_token(f.page_token)
            except Exception:
                raise InvalidArgument([FieldViolation("page_token", "Sivutunnus ei kelpaa; aloita alusta ilman sitä. "
                                                      "/ The page token is not valid; start again without it.")])
        if not 1 <= f.page_size <= 100:
            raise InvalidArgument([FieldViolation("page_size", "Sivun koko 1–100. / Page size must be 1–100.")])
        with self.sessions() as s:
            return IntakeRepository(s).list(self.tenant, f)

    def triage(self, who: Principal, request_id: str, note: str) -> ConsultationRequest:
        require_role(who, "coordinator")
        problems = guard({"note": note})
        if len(note) > MAX_NOTE:
            problems.append(FieldViolation("note", f"Enintään {MAX_NOTE} merkkiä. / At most {MAX_NOTE} characters.",
                                           "too_long"))
        if problems:
            raise InvalidArgument(problems)
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
        require_role(who, *STAFF)
        return self._transition(request_id, lambda repo, r, now: (r.move_to(Status.CONSULTED, now), None))

    def return_recommendations(self, who: Principal, request_id: str) -> ConsultationRequest:
        require_role(who, *STAFF, "expert")
        return self._transition(request_id,
                                lambda repo, r, now: (r.move_to(Status.RECOMMENDATIONS_RETURNED, now), None))

    def close(self, who: Principal, request_id: str) -> ConsultationRequest:
        require_role(who, "coordinator")
        return self._transition(request_id, lambda repo, r, now: (r.move_to(Status.CLOSED, now), None))

    def publish_meeting(self, who: Principal, group_id: str, starts_at: datetime | None, capacity: int,
                        lead_days: int) -> Meeting:
        require_role(who, *STAFF)
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
        subject = subject.strip()
        if subject != who.subject and not who.has_any("admin"):
            raise PermissionDenied("Vain oma tai tietosuojavastaavan pyytämä vienti. / Only your own data, or an "
                                   "export by the data-protection officer (admin).")
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
        require_role(who, "admin")
        subject = subject.strip()
        if not subject:
            raise InvalidArgument([FieldViolation("subject", "Anna käyttäjätunnus. / Give the user id.", "required")])
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
        """Consent destroyed the request's key: drop the now unreadable ciphertext as well."""
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

    def _may_read(self, who: Principal, r: ConsultationRequest) -> None:
        if r.owner_subject != who.subject and not who.has_any(*STAFF, "service"):
            # Same answer as for a missing request: do not reveal that it exists.
            raise NotFound(f"Pyyntöä {r.id!r} ei löydy tältä alueelta. / No request {r.id!r} in this area.")

    def _may_act(self, who: Principal, r: ConsultationRequest) -> None:
        """Withdraw and book: the requester, or the area's coordinator or secretary on their behalf."""
        if r.owner_subject != who.subject and not who.has_any(*STAFF):
            raise NotFound(f"Pyyntöä {r.id!r} ei löydy tältä alueelta. / No request {r.id!r} in this area.")

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
