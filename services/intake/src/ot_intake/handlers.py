"""Intake's use cases: command in -> rules -> one transaction with the state change and its events.

Who may call each use case, and the form of every field (lengths, closed forms, the
client-identifier guard), are checked at the edge before a handler runs (edge.py): a refused
submission raises before any row, event, span attribute or log line is written. What the
handlers check is the domain (required answers, the lifecycle, deadlines) and the object-level
rule: which request this caller may touch (policy.py).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import NamedTuple

from opentelemetry import trace
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ot_runtime.auth import Principal
from ot_runtime.clock import Clock
from ot_runtime.errors import (FailedPrecondition, FieldViolation, InvalidArgument, NotFound, PermissionDenied,
                               ResourceExhausted)
from ot_runtime.outbox import Outbox
from ot_runtime.workdays import FINNISH_TIME

from . import events, policy
from .domain import (DEFAULT_RESPONSE_TARGET_WORKING_DAYS, RESPONSE_KINDS, AgendaItem, ClientFacts, Consent,
                     ConsultationRequest, Entry, EntryKind, Meeting, Status, Submission, check_entry_allowed,
                     default_lead_days, material_missing, require_answer, response_due, validate_entry,
                     validate_meeting, validate_submission)
from .seula import Screening, screen
from .store import IntakeRepository, Page, RequestFilter, decode_page_token
from .vault import (CaseVault, KeyRefused, open_content, open_entry, open_text, seal_content, seal_entry,
                    seal_text)

log = logging.getLogger("ot.intake")


@dataclass(frozen=True)
class RequestView:
    """What depends on who asks and when: the entries this caller may read, the owner's user id
    (only for the owner and platform services), and the response clock now."""
    entries: int = 0
    owner_subject: str = ""
    waiting_working_days: int = 0
    past_target: bool = False


class Submitted(NamedTuple):
    request: ConsultationRequest
    screening: Screening
    # Stored by this very call (or, with validate_only, not stored at all): it has no conversation
    # entries yet, so its view needs no count from the database. False for an idempotent retry.
    fresh: bool


@dataclass
class IntakeHandlers:
    sessions: sessionmaker
    outbox: Outbox
    tenant: str
    topic: str
    clock: Clock
    vault: CaseVault | None = None  # needed by every use case that touches case content
    # The area's response target (OT_RESPONSE_TARGET_WORKING_DAYS): working days from submission
    # to the answer. A request's due time is fixed at submission, then moved on by its pauses.
    response_target_days: int = DEFAULT_RESPONSE_TARGET_WORKING_DAYS

    # --- professionals --------------------------------------------------------------------
    def submit(self, who: Principal, sub: Submission) -> Submitted:
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
        if sub.validate_only:
            # The checks passed (the edge's field rules and the guard ran before this): answer with
            # the screening and store nothing, ask consent nothing.
            return Submitted(ConsultationRequest(
                id="", tenant=self.tenant, type=sub.type, status=Status.SUBMITTED, owner_subject=who.subject,
                professional=sub.professional, categories=list(sub.categories), client=sub.client,
                question=sub.question, discussed_in_own_team=sub.discussed_in_own_team, consent=sub.consent,
                anonymous=sub.anonymous, submitted_at=now, updated_at=now,
                screening_score=screening.score), screening, fresh=True)
        r = ConsultationRequest(
            id=str(uuid.uuid4()), tenant=self.tenant, type=sub.type, status=Status.SUBMITTED,
            owner_subject=who.subject, professional=sub.professional, categories=list(sub.categories),
            client=sub.client, question=sub.question, discussed_in_own_team=True, consent=sub.consent,
            anonymous=sub.anonymous, submitted_at=now, updated_at=now, screening_score=screening.score,
            idempotency_key=sub.idempotency_key, response_due_at=response_due(now, self.response_target_days))
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
            return Submitted(self._with_content(existing, "submission retry"), screening, fresh=False)
        trace.get_current_span().set_attribute("ot.request_id", r.id)
        log.info("request submitted", extra={"request_id": r.id, "type": r.type.value})
        return Submitted(r, screening, fresh=True)

    def get(self, who: Principal, request_id: str) -> ConsultationRequest:
        """The request, with its case content for those who may read it (policy.reader: the
        requester, the coordinators, the booked group's secretary, an assigned expert, the booked
        group's members before the answer) when consent hands out the key (each read is audited
        there). A secretary of another group gets the request without content, as in the list; a
        platform service (feedback, for the worker's address) without any case data."""
        with self.sessions() as s:
            r = self._load(IntakeRepository(s), request_id)
        if who.has_any("service"):
            return _without_case_data(r)
        try:
            policy.reader(who, r)
        except PermissionDenied:
            if who.has_any("secretary"):
                return r  # loaded without its content; no key is asked for
            raise
        return self._with_content(r, "view")

    def withdraw(self, who: Principal, request_id: str) -> ConsultationRequest:
        def step(repo: IntakeRepository, r: ConsultationRequest, now: datetime):
            policy.may_act_for_owner(who, r)
            meeting_id = r.meeting_id
            previous = r.move_to(Status.WITHDRAWN, now)
            if meeting_id:
                repo.release_place(meeting_id)  # the place goes back to the group
            return previous, None
        return self._transition(request_id, step)

    def book(self, who: Principal, request_id: str, meeting_id: str) -> ConsultationRequest:
        """Book a group-consultation request into a meeting, refusing past the deadline or when full.
        A request already booked moves to the new meeting (its old place goes back to the group): the
        way a secretary handles a case the group could not take up, as the meeting rule of
        `mark_consulted` tells them."""
        def step(repo: IntakeRepository, r: ConsultationRequest, now: datetime):
            meeting = repo.get_meeting(meeting_id, self.tenant)
            policy.may_act_for_owner(who, r, meeting)  # a secretary: only into their own group's meetings
            if meeting is None:
                raise NotFound(f"Kokousta {meeting_id} ei ole. / There is no meeting {meeting_id}.")
            moving_from = r.meeting_id if r.status is Status.SCHEDULED else None
            if moving_from == meeting.id:
                raise FailedPrecondition("Pyyntö on jo varattu tähän kokoukseen. / The request is already booked "
                                         "into this meeting.", violation_type="ALREADY_BOOKED",
                                         subject=f"meetings/{meeting.id}", info={"meeting_id": meeting.id})
            # A move stays scheduled; anything else checks the lifecycle and type first.
            previous = Status.SCHEDULED if moving_from else r.move_to(Status.SCHEDULED, now)
            if now > meeting.booking_deadline:
                self._refuse_booking(repo, meeting, now, "BOOKING_DEADLINE_PASSED",
                                     f"Varaus ja materiaali piti toimittaa viimeistään "
                                     f"{meeting.booking_deadline:%d.%m.%Y}.",
                                     f"Booking and material were due by {meeting.booking_deadline:%Y-%m-%d}.")
            if not repo.take_place(meeting.id):
                self._refuse_booking(repo, meeting, now, "MEETING_FULL", "Kokous on täynnä.", "The meeting is full.")
            if moving_from:
                repo.release_place(moving_from)
                r.updated_at = now
            r.meeting_id, r.meeting_group_id, r.booked_at = meeting.id, meeting.group_id, now
            return previous, meeting
        return self._transition(request_id, step)

    # --- coordinators and secretaries -----------------------------------------------------
    def list(self, who: Principal, f: RequestFilter) -> Page:
        """The area's requests without content (the OT team's worklist), or for a professional their
        own ("my requests"): newest first, or the longest waiting first; optionally only those past
        the area's target."""
        if not who.has_any("coordinator", "secretary"):
            f = replace(f, owner_subject=who.subject)
        if f.page_token:
            try:
                decode_page_token(f.page_token, f.order)
            except ValueError:
                raise InvalidArgument([FieldViolation("page_token", "Sivutunnus ei kelpaa; aloita alusta ilman sitä. "
                                                      "/ The page token is not valid; start again without it.",
                                                      "bad_form")])
        if not 1 <= f.page_size <= 100:
            raise InvalidArgument([FieldViolation("page_size", "Sivun koko 1–100. / Page size must be 1–100.",
                                                  "out_of_range")])
        with self.sessions() as s:
            return IntakeRepository(s).list(self.tenant, f, self.clock.now())

    def views(self, who: Principal, rs: list[ConsultationRequest], *, fresh: bool = False) -> list[RequestView]:
        """What each request shows this caller beyond the request itself (see RequestView).
        `fresh`: the requests were stored by this call (Submitted.fresh), so none has entries and
        the database is not asked."""
        if fresh:
            counts = {}
        else:
            with self.sessions() as s:
                counts = IntakeRepository(s).entry_counts([r.id for r in rs])
        now = self.clock.now()
        service = who.has_any("service")
        out = []
        for r in rs:
            total, notes = counts.get(r.id, (0, 0))
            try:
                reading = None if service else policy.reader(who, r)
            except PermissionDenied:
                reading = None
            readable = 0 if reading is None else total if reading.notes else total - notes
            owner = r.owner_subject if service or policy.is_owner(who, r) else ""
            out.append(RequestView(entries=readable, owner_subject=owner,
                                   waiting_working_days=r.waiting_working_days(now), past_target=r.past_target(now)))
        return out

    def triage(self, who: Principal, request_id: str, note: str) -> ConsultationRequest:
        with self.sessions() as s:
            self._load(IntakeRepository(s), request_id)  # a missing request is NOT_FOUND, not "erased"
        key = self._key(request_id, "triage note") if note else None
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
        """A coordinator, or the secretary of the group whose meeting it was booked into."""
        def step(repo: IntakeRepository, r: ConsultationRequest, now: datetime):
            policy.may_act_as_team(who, r)
            previous = r.move_to(Status.CONSULTED, now)  # the lifecycle first: its refusal says more
            meeting = repo.get_meeting(r.meeting_id, self.tenant) if r.meeting_id else None
            if meeting is not None and now < meeting.starts_at:
                raise meeting_not_held(r.id, meeting)
            return previous, None
        return self._transition(request_id, step)

    def return_recommendations(self, who: Principal, request_id: str) -> ConsultationRequest:
        """The written answer (advice, recommendations or a statement in the conversation) went
        back to the worker: the response clock ends, and consent starts the retention clock from
        this event. A coordinator, the booked group's secretary, or an assigned expert."""
        def step(repo: IntakeRepository, r: ConsultationRequest, now: datetime):
            policy.may_act_as_team(who, r, expert=True)
            previous = r.move_to(Status.RECOMMENDATIONS_RETURNED, now)
            require_answer(r, repo.entry_kinds(r.id))
            r.answered_at = now
            return previous, None
        return self._transition(request_id, step)

    def close(self, who: Principal, request_id: str) -> ConsultationRequest:
        return self._transition(request_id, lambda repo, r, now: (r.move_to(Status.CLOSED, now), None))

    def publish_meeting(self, who: Principal, group_id: str, starts_at: datetime | None, capacity: int,
                        lead_days: int, location: str = "") -> Meeting:
        """A meeting in the past is refused (validate_meeting); one whose booking deadline has
        already passed is published, and `publish_warning` says so in the answer."""
        now = self.clock.now()
        problems = validate_meeting(group_id, starts_at, capacity, lead_days, now)
        if problems:
            raise InvalidArgument(problems)
        m = Meeting(id=str(uuid.uuid4()), tenant=self.tenant, group_id=group_id, starts_at=starts_at,
                    capacity=capacity, booked=0, booking_lead_days=lead_days or default_lead_days(group_id),
                    location=location.strip())
        with self.sessions.begin() as s:
            IntakeRepository(s).add_meeting(m)
            self.outbox.add(s, topic=self.topic, ce_type=events.MEETING_PUBLISHED, subject=m.id,
                            message=events.meeting_published(m), time=now)
        return m

    def list_meetings(self, who: Principal, group_id: str, start_from: datetime | None) -> list[Meeting]:
        with self.sessions() as s:
            return IntakeRepository(s).list_meetings(self.tenant, group_id, start_from or self.clock.now())

    def agenda(self, who: Principal, meeting_id: str) -> tuple[Meeting, list[AgendaItem]]:
        """The cases booked into a meeting, for its group's secretary or a coordinator: type,
        categories, anonymity, when booked, and whether the pre-information form (the first
        PRE_INFORMATION entry) arrived by the booking deadline. No content."""
        with self.sessions() as s:
            repo = IntakeRepository(s)
            meeting = repo.get_meeting(meeting_id, self.tenant) if meeting_id else None
            if meeting is None:
                raise NotFound(f"Kokousta {meeting_id!r} ei ole. / There is no meeting {meeting_id!r}.")
            policy.may_read_agenda(who, meeting)
            booked = repo.booked_into(meeting.id, self.tenant)
            received = repo.material_received([r.id for r in booked])
        now = self.clock.now()
        return meeting, [AgendaItem(r, received.get(r.id), material_missing(received.get(r.id), meeting, now))
                         for r in booked]

    # --- the case conversation ------------------------------------------------------------
    def add_entry(self, who: Principal, request_id: str, kind: EntryKind | None, text: str, author_name: str = "",
                  expert_ids: list[str] | None = None, idempotency_key: str = "") -> Entry:
        """Write an entry: who may write which kind is policy.writer, in which status and type of
        request domain.check_entry_allowed. The text is sealed with the request's key, which
        consent hands to this caller (an audited read there, and its own check: an expert whose
        organisation consent does not cover gets nothing). A QUESTION makes the request await
        the professional (the clock stops); the owner's REPLY takes it back (the clock resumes).
        Rules first, then consent, then one transaction that checks them again on the locked row."""
        expert_ids = list(expert_ids or [])
        problems = validate_entry(kind, text, expert_ids)
        if problems:
            raise InvalidArgument(problems)
        with self.sessions() as s:
            repo = IntakeRepository(s)
            r = self._load(repo, request_id)
            policy.writer(who, r, kind)
            existing = repo.entry_by_idempotency_key(r.id, who.subject, idempotency_key) if idempotency_key else None
        if existing is None:
            check_entry_allowed(r, kind)
        key = None if r.content_erased else self._key(r.id, "conversation entry")
        if key is None:
            raise _erased(request_id)
        if existing is None:
            try:
                entry, new = self._write_entry(who, request_id, kind, text, author_name.strip(), expert_ids,
                                               idempotency_key, key)
                if new:
                    return entry
                existing = entry
            except IntegrityError:
                if not idempotency_key:
                    raise
                with self.sessions() as s:  # the same key raced in twice: the first one won
                    existing = IntakeRepository(s).entry_by_idempotency_key(request_id, who.subject, idempotency_key)
                if existing is None:
                    raise
        existing.text = open_entry(key, r, existing)
        return existing

    def list_entries(self, who: Principal, request_id: str) -> tuple[list[Entry], bool]:
        """The entries the caller may read, oldest first, and whether the content was erased.
        Their text is opened with the key consent hands to this caller (one audited read, purpose
        "conversation"). When consent refuses (its own check, e.g. the client's consent no longer
        covers an expert) the call is PERMISSION_DENIED CONSENT_REFUSED rather than a list without
        text: the entries are nothing but their text, and the caller must see that they were
        refused, not an empty conversation. After the retention purge every entry is there
        without its text (content_erased)."""
        with self.sessions() as s:
            repo = IntakeRepository(s)
            r = self._load(repo, request_id)
            reading = policy.reader(who, r)
            entries = [e for e in repo.entries_of(r.id) if reading.may_read(e.kind)]
        erased = r.content_erased
        if entries and not erased:
            key = self._key(r.id, "conversation")
            if key is None:
                erased = True  # shredded a moment ago; intake has not yet heard
            else:
                for e in entries:
                    if e.sealed_text is not None:
                        e.text = open_entry(key, r, e)
        if erased:
            for e in entries:
                e.text, e.content_erased = "", True
        return entries, erased

    def _write_entry(self, who: Principal, request_id: str, kind: EntryKind, text: str, author_name: str,
                     expert_ids: list[str], idempotency_key: str, key: bytes) -> tuple[Entry, bool]:
        """The write transaction: the locked request checked again, the entry, its event, and the
        status change of a QUESTION or a REPLY with its event. Returns (the entry, True), or an
        entry already written under the same idempotency key and False."""
        with self.sessions.begin() as s:
            repo = IntakeRepository(s)
            r = self._load(repo, request_id, for_update=True)
            role = policy.writer(who, r, kind)  # the request may have moved on since the first look
            if idempotency_key:
                again = repo.entry_by_idempotency_key(r.id, who.subject, idempotency_key)
                if again is not None:
                    return again, False
            check_entry_allowed(r, kind)
            now = self.clock.now()
            entry = Entry(id=str(uuid.uuid4()), request_id=r.id, sequence=repo.next_sequence(r.id), kind=kind,
                          author_subject=who.subject, author_role=role, author_name=author_name, created_at=now,
                          expert_ids=expert_ids, idempotency_key=idempotency_key)
            entry.sealed_text = seal_entry(key, r, entry, text)
            repo.add_entry(entry)
            self.outbox.add(s, topic=self.topic, ce_type=events.ENTRY_ADDED, subject=r.id,
                            message=events.entry_added(r, entry), time=now)
            if kind in RESPONSE_KINDS:
                r.responded(now)
            r.updated_at = now
            if kind is EntryKind.QUESTION and r.status is not Status.AWAITING_INFORMATION:
                self._moved(repo, r, r.await_information(now), now)
            elif kind is EntryKind.REPLY and r.status is Status.AWAITING_INFORMATION and policy.is_owner(who, r):
                self._moved(repo, r, r.resume(now), now)
            else:
                repo.save(r)
        log.info("conversation entry added", extra={"request_id": r.id, "kind": kind.value, "role": role})
        entry.text = text
        return entry, True

    # --- the professional's own data (data-protection requests) --------------------------
    def export_professional(self, who: Principal, subject: str) -> tuple[int, str]:
        """Everything intake holds about the professional: their contact details, the requests
        they made (ids, type, status, dates) and the conversation entries they wrote (ids, kind,
        time, the name they signed with). Not the case content nor the entries' text: that is the
        client's data."""
        _require_subject(subject)
        if subject != who.subject and not who.has_any("admin"):
            raise PermissionDenied("Vain oma tai tietosuojavastaavan pyytämä vienti. / Only your own data, or an "
                                   "export by the data-protection officer (admin).", reason="NOT_OWN_DATA")
        with self.sessions() as s:
            repo = IntakeRepository(s)
            owned = repo.owned_by(subject, self.tenant)
            written = repo.entries_by_author(subject, self.tenant)
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
                             for r in owned],
                "conversation_entries": [{"entry_id": e.id, "request_id": e.request_id, "kind": e.kind.value,
                                          "author_role": e.author_role, "author_name": e.author_name,
                                          "created_at": e.created_at.isoformat()} for e in written]}
        log.info("professional data exported", extra={"requests": len(owned), "entries": len(written)})
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
        request to assigned, or, when it already is (or awaits the professional), take the new set."""
        repo = IntakeRepository(session)
        r = self._load(repo, request_id, for_update=True)
        now = self.clock.now()
        previous = r.assign(expert_ids, now)
        if previous is None:
            repo.save(r)
            log.info("assigned experts changed", extra={"request_id": r.id, "experts": len(expert_ids)})
            return
        self._moved(repo, r, previous, now)

    def on_experts_unassigned(self, session: Session, request_id: str, remaining: list[str]) -> None:
        """Experts were unassigned. With none left the request goes back to triaged. A request that
        has meanwhile moved on (consulted, withdrawn...) keeps its state: nothing to undo there."""
        repo = IntakeRepository(session)
        r = self._load(repo, request_id, for_update=True)
        now = self.clock.now()
        previous = r.unassign(remaining, now)
        if previous is None:
            repo.save(r)
            return
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
        try:
            key = self.vault.data_key(r.id, purpose)
        except KeyRefused:
            return r  # consent does not let this person read it now: the request without content
        if key is None:
            return r  # erased meanwhile
        open_content(key, r, r.sealed_content)
        if r.sealed_triage_note:
            r.triage_note = open_text(key, r, "triage_note", r.sealed_triage_note)
        r.content_included = True
        return r

    def _key(self, request_id: str, purpose: str) -> bytes | None:
        """The request's key for this caller (None: erased); consent's refusal is PERMISSION_DENIED."""
        try:
            return self.vault.data_key(request_id, purpose)
        except KeyRefused as refused:
            raise PermissionDenied(
                "Suostumuspalvelu ei anna sinulle tämän pyynnön sisältöä: asiakkaan suostumus ei nyt kata sinua. / "
                "The consent service does not let you read this request's content: the client's consent does not "
                "cover you now.", reason="CONSENT_REFUSED",
                info={"request_id": request_id, "consent_reason": refused.reason}) from None

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


def meeting_not_held(request_id: str, meeting: Meeting) -> FailedPrecondition:
    """A booking is consulted only once its meeting has started; before that the secretary moves it."""
    starts = meeting.starts_at.astimezone(FINNISH_TIME)
    return FailedPrecondition(
        f"Kokous ei ole vielä alkanut (alkaa {starts:%d.%m.%Y klo %H.%M}): konsultaatiota ei voi merkitä pidetyksi "
        f"ennen kokousta. Jos tapausta ei käsitellä siinä, sihteeri voi siirtää varauksen toiseen kokoukseen. / "
        f"The meeting has not started yet (it starts {starts:%Y-%m-%d %H:%M} Finnish time): the consultation "
        f"cannot be marked as held before the meeting. If the case is not taken up there, the secretary can move "
        f"the booking to another meeting.", violation_type="MEETING_NOT_HELD", subject=f"requests/{request_id}",
        info={"meeting_id": meeting.id, "meeting_starts_at": meeting.starts_at.isoformat()})


def _without_case_data(r: ConsultationRequest) -> ConsultationRequest:
    """What a platform service sees of a request: its facts (type, status, categories, dates) and
    the worker's contact, nothing about the client or the case (no content, age, gender, consent
    assessment or screening)."""
    return dataclasses.replace(r, client=ClientFacts(age_years=None, gender=None), question="",
                               consent=Consent(need=None, given_by=None, child_capacity_assessed=False),
                               screening_score=None, triage_note="", sealed_content=None, sealed_triage_note=None,
                               content_included=False)


def _erased(request_id: str) -> FailedPrecondition:
    return FailedPrecondition("Tapauksen sisältö on poistettu säilytysajan päätyttyä; merkintää ei voi lisätä. / The "
                              "case content was erased at the end of its retention; an entry cannot be added.",
                              violation_type="CONTENT_ERASED", subject=f"requests/{request_id}")


def _require_subject(subject: str) -> None:
    if not subject:
        raise InvalidArgument([FieldViolation("subject", "Anna käyttäjätunnus. / Give the user id.", "required")])
