"""Consent's use cases. Every read of case content (a data key handed out) and every sharing
decision is written to the audit trail in the same transaction as its effect."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from ot.events.v1 import consent_events_pb2 as ev
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ot_runtime.auth import Principal, require_role
from ot_runtime.clock import Clock
from ot_runtime.crypto import CannotOpen, new_key, open_sealed, seal
from ot_runtime.errors import FieldViolation, InvalidArgument, NotFound, PermissionDenied
from ot_runtime.outbox import Outbox
from ot_runtime.privacy import guard

from . import audit
from .domain import (DEFAULT_POLICIES, Case, ConsentForm, ConsentGiver, ConsentVersion, Decision, Party, PartyKind, RequestType,
                     RetentionPolicy, erasure_due, sharing_decision)
from .store import ConsentRepository, audit_log

log = logging.getLogger("ot.consent")

CONSENT_RECORDED = "ot.consent.consent.recorded.v1"
CONSENT_WITHDRAWN = "ot.consent.consent.withdrawn.v1"
KEY_SHREDDED = "ot.consent.key.shredded.v1"
STAFF = ("coordinator", "secretary")


def _ts(value: datetime):
    from google.protobuf.timestamp_pb2 import Timestamp
    out = Timestamp()
    out.FromDatetime(value)
    return out


def guard_purpose(purpose: str) -> str:
    """The caller's reason goes into the audit trail, which can never be edited: it must not carry
    client-identifying data (the platform's one refused-data policy, ot_guard)."""
    refused = guard({"purpose": purpose})
    if refused:
        raise InvalidArgument(refused)
    return purpose[:200] or "unspecified"


def validate_consent(form: ConsentForm | None, given_by: ConsentGiver | None, capacity: bool,
                     scope: list[Party]) -> list[FieldViolation]:
    v = []
    if form is None:
        v.append(FieldViolation("form", "Kerro suostumuksen muoto (tai ettei sitä tarvita). / Give the form of the "
                                "consent (or that none is needed).", "required"))
    elif form is not ConsentForm.NOT_NEEDED:
        if given_by is None:
            v.append(FieldViolation("given_by", "Kerro, kuka suostumuksen antoi. / Say who gave the consent.",
                                    "required"))
        elif given_by in (ConsentGiver.CHILD, ConsentGiver.CHILD_AND_GUARDIANS) and not capacity:
            v.append(FieldViolation("child_capacity_assessed", "Arvioi ensin lapsen kyky päättää asiasta. / First "
                                    "assess the child's capacity to decide.", "required"))
    for i, party in enumerate(scope):
        if party.kind is not PartyKind.OT_TEAM and not party.id.strip():
            v.append(FieldViolation(f"scope[{i}].id", "Nimeä ryhmä tai asiantuntijaorganisaatio. / Name the group or "
                                    "expert organisation.", "required"))
    return v


@dataclass
class ConsentHandlers:
    sessions: sessionmaker
    outbox: Outbox
    tenant: str
    topic: str
    clock: Clock
    master_key: bytes
    default_policies: dict = field(default_factory=lambda: dict(DEFAULT_POLICIES))  # the area's, from settings

    # --- cases and keys -------------------------------------------------------------------
    def open_case(self, who: Principal, request_id: str, type_: RequestType | None, form: ConsentForm | None,
                  given_by: ConsentGiver | None, capacity: bool, scope: list[Party]) -> tuple[bytes, ConsentVersion]:
        """Record the initial assessment and owner; return the request's new data key. A retry by
        the same owner returns the same key, so intake can safely call again after a timeout."""
        require_role(who, "professional")
        problems = validate_consent(form, given_by, capacity, scope)
        if not request_id:
            problems.append(FieldViolation("request_id", "Pyynnön tunnus puuttuu. / The request id is missing.",
                                           "required"))
        if type_ is None:
            problems.append(FieldViolation("type", "Pyynnön tyyppi puuttuu. / The request type is missing.",
                                           "required"))
        if problems:
            raise InvalidArgument(problems)
        now = self.clock.now()
        try:
            with self.sessions.begin() as s:
                repo = ConsentRepository(s)
                existing = repo.case(request_id, self.tenant)
                if existing is not None:
                    if existing.owner_subject != who.subject:
                        raise PermissionDenied("Pyyntö on jo avattu toiselle ammattilaiselle. / The request is already "
                                               "open for another professional.")
                    return self._unwrap(request_id, repo.wrapped_key(request_id)), repo.current(request_id)
                repo.add_case(Case(request_id=request_id, tenant=self.tenant, type=type_, owner_subject=who.subject,
                                   opened_at=now))
                version = ConsentVersion(request_id=request_id, version=1, form=form, given_by=given_by,
                                         child_capacity_assessed=capacity, scope=scope, given_at=now, withdrawn=False,
                                         recorded_at=now, recorded_by=who.subject)
                repo.add_version(version)
                key = new_key()
                repo.add_key(request_id, seal(self.master_key, key, self._aad(request_id)), now)
                audit.append(s, tenant=self.tenant, at=now, who=who, action="case.opened", request_id=request_id,
                             detail=f"type={type_.value}; consent={form.value}")
                return key, version
        except IntegrityError:
            return self.open_case(who, request_id, type_, form, given_by, capacity, scope)  # raced: now it exists

    def data_key(self, who: Principal, request_id: str, purpose: str) -> bytes:
        with self.sessions.begin() as s:
            repo = ConsentRepository(s)
            case = self._case(repo, request_id)
            if case.owner_subject != who.subject and not who.has_any(*STAFF):
                raise NotFound(f"Pyyntöä {request_id!r} ei löydy. / No request {request_id!r}.")
            wrapped = repo.wrapped_key(request_id)
            if wrapped is None:
                raise NotFound("Tapauksen sisältö on poistettu säilytysajan päätyttyä. / The case content was erased "
                               "at the end of its retention.")
            audit.append(s, tenant=self.tenant, at=self.clock.now(), who=who, action="content.read",
                         request_id=request_id, detail=f"purpose={guard_purpose(purpose)}")
            return self._unwrap(request_id, wrapped)

    # --- consent --------------------------------------------------------------------------
    def record(self, who: Principal, request_id: str, form: ConsentForm | None, given_by: ConsentGiver | None,
               capacity: bool, scope: list[Party], given_at: datetime | None) -> ConsentVersion:
        problems = validate_consent(form, given_by, capacity, scope)
        if problems:
            raise InvalidArgument(problems)
        return self._new_version(who, request_id, lambda previous, now: ConsentVersion(
            request_id=request_id, version=previous.version + 1, form=form, given_by=given_by,
            child_capacity_assessed=capacity, scope=scope, given_at=given_at or now, withdrawn=False,
            recorded_at=now, recorded_by=who.subject), "consent.recorded")

    def withdraw(self, who: Principal, request_id: str) -> ConsentVersion:
        return self._new_version(who, request_id, lambda previous, now: ConsentVersion(
            request_id=request_id, version=previous.version + 1, form=previous.form, given_by=previous.given_by,
            child_capacity_assessed=previous.child_capacity_assessed, scope=previous.scope,
            given_at=previous.given_at, withdrawn=True, recorded_at=now, recorded_by=who.subject),
            "consent.withdrawn")

    def history(self, who: Principal, request_id: str) -> list[ConsentVersion]:
        with self.sessions() as s:
            repo = ConsentRepository(s)
            case = self._case(repo, request_id)
            if case.owner_subject != who.subject and not who.has_any("coordinator"):
                raise NotFound(f"Pyyntöä {request_id!r} ei löydy. / No request {request_id!r}.")
            return repo.versions(request_id)

    def check_sharing(self, who: Principal, request_id: str, party: Party, purpose: str) -> Decision:
        require_role(who, "service", *STAFF)
        with self.sessions.begin() as s:
            repo = ConsentRepository(s)
            case = repo.case(request_id, self.tenant)
            decision = sharing_decision(case, repo.current(request_id) if case else None, party)
            if case is not None:  # an unknown id has no trail to add to
                audit.append(s, tenant=self.tenant, at=self.clock.now(), who=who, action="sharing.check",
                             request_id=request_id,
                             detail=f"party={party.label()}; allowed={decision.allowed}; reason={decision.code}; "
                                    f"purpose={guard_purpose(purpose)}")
        return decision

    # --- retention ------------------------------------------------------------------------
    def set_policy(self, who: Principal, policy: RetentionPolicy) -> RetentionPolicy:
        require_role(who, "coordinator")
        problems = []
        if not 0 <= policy.grace_days_after_recommendations <= 3650:
            problems.append(FieldViolation("grace_days_after_recommendations", "0–3650 päivää. / 0–3650 days."))
        if not 1 <= policy.max_days_after_submission <= 3650:
            problems.append(FieldViolation("max_days_after_submission", "1–3650 päivää. / 1–3650 days."))
        if problems:
            raise InvalidArgument(problems)
        with self.sessions.begin() as s:
            ConsentRepository(s).set_policy(self.tenant, policy)
            audit.append(s, tenant=self.tenant, at=self.clock.now(), who=who, action="policy.changed", request_id="",
                         detail=f"type={policy.type.value}; grace={policy.grace_days_after_recommendations}; "
                                f"max={policy.max_days_after_submission}")
        return policy

    def policies(self, who: Principal) -> list[RetentionPolicy]:
        require_role(who, *STAFF)
        with self.sessions() as s:
            repo = ConsentRepository(s)
            return [repo.policy(self.tenant, t, self.default_policies) for t in RequestType]

    def purge(self, who: Principal | None = None) -> list[str]:
        """Shred the data keys of every case past its retention. Idempotent: done cases are skipped."""
        if who is not None:
            require_role(who, "coordinator")
        now = self.clock.now()
        with self.sessions() as s:
            repo = ConsentRepository(s)
            due = [(c, *erasure_due(c, repo.policy(self.tenant, c.type, self.default_policies)))
                   for c in repo.open_cases(self.tenant)]
        shredded = []
        for case, at, reason in due:
            if at <= now and self._shred(case.request_id, reason, who):
                shredded.append(case.request_id)
        if shredded:
            log.info("case content shredded", extra={"count": len(shredded)})
        return shredded

    def _shred(self, request_id: str, reason: str, who: Principal | None) -> bool:
        with self.sessions.begin() as s:
            repo = ConsentRepository(s)
            case = repo.case(request_id, self.tenant, for_update=True)
            if case is None or case.content_erased_at is not None:
                return False  # another replica did it meanwhile
            now = self.clock.now()
            repo.shred_key(request_id, now, reason)
            case.content_erased_at = now
            repo.save_case(case)
            audit.append(s, tenant=self.tenant, at=now, who=who, action="key.shredded", request_id=request_id,
                         detail=reason)
            self.outbox.add(s, topic=self.topic, ce_type=KEY_SHREDDED, subject=request_id, time=now,
                            message=ev.DataKeyShredded(request_id=request_id, tenant=self.tenant,
                                                       shredded_at=_ts(now), reason=reason))
        return True

    # --- audit ----------------------------------------------------------------------------
    def query_audit(self, who: Principal | None, request_id: str, action: str, start: datetime | None, end: datetime | None,
                    page_size: int, after_sequence: int, actor: str = "") -> tuple[list, int]:
        """`who` None: an operator's command with database access (export-audit)."""
        if who is not None:
            require_role(who, "coordinator")
        if not 1 <= page_size <= 1000:
            raise InvalidArgument([FieldViolation("page_size", "1–1000.")])
        q = sa.select(audit_log).where(audit_log.c.tenant == self.tenant, audit_log.c.sequence > after_sequence)
        if request_id:
            q = q.where(audit_log.c.request_id == request_id)
        if action:
            q = q.where(audit_log.c.action == action)
        if actor:
            q = q.where(audit_log.c.actor == actor)
        if start:
            q = q.where(audit_log.c.at >= start)
        if end:
            q = q.where(audit_log.c.at < end)
        with self.sessions() as s:
            rows = s.execute(q.order_by(audit_log.c.sequence).limit(page_size + 1)).mappings().all()
        more = len(rows) > page_size
        rows = rows[:page_size]
        return rows, (rows[-1]["sequence"] if more else 0)

    def verify_audit(self, who: Principal | None) -> audit.Verification:
        if who is not None:
            require_role(who, "coordinator")
        with self.sessions() as s:
            return audit.verify(s, self.tenant)

    # --- events from intake ---------------------------------------------------------------
    def on_request_finished(self, session: Session, request_id: str, at: datetime, recommendations: bool) -> None:
        """Intake says the recommendations were returned, or the request closed or was withdrawn:
        the retention clock starts. A request consent never saw is nothing to keep."""
        repo = ConsentRepository(session)
        case = repo.case(request_id, self.tenant, for_update=True)
        if case is None:
            return
        if recommendations and case.recommendations_returned_at is None:
            case.recommendations_returned_at = at
        elif not recommendations and case.ended_at is None:
            case.ended_at = at
        repo.save_case(case)

    # --- shared steps ---------------------------------------------------------------------
    def _new_version(self, who: Principal, request_id: str, make, action: str) -> ConsentVersion:
        with self.sessions.begin() as s:
            repo = ConsentRepository(s)
            case = self._case(repo, request_id, for_update=True)
            if case.owner_subject != who.subject:
                raise PermissionDenied("Vain pyynnön tehnyt ammattilainen kirjaa suostumuksen. / Only the professional "
                                       "who made the request records its consent.")
            previous = repo.current(request_id)
            now = self.clock.now()
            version = make(previous, now)
            repo.add_version(version)
            audit.append(s, tenant=self.tenant, at=now, who=who, action=action, request_id=request_id,
                         detail=f"version={version.version}; form={version.form.value}; "
                                f"scope={','.join(p.label() for p in version.scope) or 'ot_team'}")
            if version.withdrawn:
                message = ev.ConsentWithdrawn(request_id=request_id, tenant=self.tenant, withdrawn_at=_ts(now))
                self.outbox.add(s, topic=self.topic, ce_type=CONSENT_WITHDRAWN, subject=request_id, message=message,
                                time=now)
            else:
                message = ev.ConsentRecorded(request_id=request_id, tenant=self.tenant, version=version.version,
                                             recorded_at=_ts(now))
                self.outbox.add(s, topic=self.topic, ce_type=CONSENT_RECORDED, subject=request_id, message=message,
                                time=now)
        return version

    def _case(self, repo: ConsentRepository, request_id: str, for_update: bool = False) -> Case:
        case = repo.case(request_id, self.tenant, for_update=for_update) if request_id else None
        if case is None:
            raise NotFound(f"Pyyntöä {request_id!r} ei löydy tältä alueelta. / No request {request_id!r} in this area.")
        return case

    def _aad(self, request_id: str) -> bytes:
        return f"ot-data-key:{self.tenant}:{request_id}".encode()

    def _unwrap(self, request_id: str, wrapped: bytes | None) -> bytes:
        if wrapped is None:
            raise NotFound("Tapauksen sisältö on poistettu. / The case content was erased.")
        try:
            return open_sealed(self.master_key, wrapped, self._aad(request_id))
        except CannotOpen:
            # A wrong master key is a deployment error, not the caller's: say so to the operator.
            log.error("a data key cannot be unwrapped: is OT_CONSENT_MASTER_KEY the one it was made with?",
                      extra={"request_id": request_id})
            raise
