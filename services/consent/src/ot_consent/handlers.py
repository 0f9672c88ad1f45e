"""Consent's use cases. Every read of case content (a data key handed out) and every sharing
decision is written to the audit trail in the same transaction as its effect; so are the master
key operations (a new current version, a re-wrap batch, a retirement).

Who may call each use case over gRPC, and the form of every field (request ids, party ids,
purposes: all of them may reach the trail, which can never be edited), are checked at the edge
before a handler runs (edge.py). What the handlers check is the domain (required answers, ranges)
and the object-level rule: which case this caller may touch. `who` None is an operator's command
or a background job with database access (purge, export-audit, verify-audit)."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from ot.events.v1 import consent_events_pb2 as ev
from prometheus_client import Gauge
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ot_runtime.auth import Principal
from ot_runtime.clock import Clock
from ot_runtime.consumer import Poison
from ot_runtime.crypto import CannotOpen, KeyVersionNotHeld, MasterKeys, new_key
from ot_runtime.errors import (FailedPrecondition, FieldViolation, InvalidArgument, NotFound, PermissionDenied,
                               Unavailable)
from ot_runtime.outbox import Outbox
from ot_runtime.settings import SettingsError

from . import audit
from .domain import (DEFAULT_POLICIES, Case, ConsentForm, ConsentGiver, ConsentVersion, Decision, Party, PartyKind,
                     ReadDecision, RequestStatus, RequestType, RetentionPolicy, assignment_after, booking_after,
                     content_access, erasure_due, orphans_due, sharing_decision)
from .store import ConsentRepository, audit_log

log = logging.getLogger("ot.consent")

CONSENT_RECORDED = "ot.consent.consent.recorded.v1"
CONSENT_WITHDRAWN = "ot.consent.consent.withdrawn.v1"
KEY_SHREDDED = "ot.consent.key.shredded.v1"
AUDIT_ANCHORED = "ot.consent.audit.anchored.v1"
AUDIT_ANCHOR_SUBJECT = "audit-trail"  # one record key: the anchors stay in order on one partition
# A case intake has not confirmed (its RequestSubmitted) this long after opening is an orphan;
# intake's relay publishes within seconds. OT_CONSENT_ORPHAN_GRACE_SECONDS.
DEFAULT_ORPHAN_GRACE = timedelta(hours=1)
ABANDONED_REASON = "abandoned: intake never stored the request"

# ot_consent_audit_verifications_total, for the area's alerts: the chainer counts into it too.
AUDIT_VERIFICATIONS = audit.AUDIT_VERIFICATIONS
PURGE_LAST_SUCCESS = Gauge("ot_consent_purge_last_success_timestamp_seconds",
                           "Unix time the last purge (orphans, then retention) of this process finished; 0: none yet")


def _ts(value: datetime):
    from google.protobuf.timestamp_pb2 import Timestamp
    out = Timestamp()
    out.FromDatetime(value)
    return out


def _purpose(purpose: str) -> str:
    """The caller's reason, as the audit trail records it (its form and the guard: edge.py)."""
    return purpose or "unspecified"


def _not_owner(request_id: str, message: str) -> PermissionDenied:
    return PermissionDenied(message, reason="NOT_OWNER", info={"request_id": request_id})


# Why a data key is refused, by ReadDecision.code (a sharing refusal says it in its own words).
_READ_REFUSALS = {
    "NOT_OWNER": ("Sisällön lukevat pyynnön tehnyt ammattilainen, koordinaattori, nimetty asiantuntija ja ryhmä, "
                  "jonka kokoukseen pyyntö on varattu.",
                  "The content is read by the professional who made the request, the coordinator, an assigned "
                  "expert and the group whose meeting it is booked into."),
    "NOT_ASSIGNED": ("Sinua ei ole nimetty tämän pyynnön asiantuntijaksi.",
                     "You are not assigned to this request as its expert."),
    "NOT_BOOKED_GROUP": ("Pyyntö ei ole varattuna ryhmäsi kokoukseen.",
                         "The request is not booked into a meeting of your group."),
    "RECOMMENDATIONS_RETURNED": ("Suositukset on palautettu ammattilaiselle; ryhmän jäsenet eivät enää lue "
                                 "tapausta.",
                                 "The recommendations were returned to the professional; the group's members no "
                                 "longer read the case."),
}


def _read_refused(request_id: str, d: ReadDecision) -> PermissionDenied:
    fi, en = (d.sharing.fi, d.sharing.en) if d.sharing is not None else _READ_REFUSALS[d.code]
    info = {"request_id": request_id}
    if d.party is not None:
        info["party"] = d.party.label()
    return PermissionDenied(f"{fi} / {en}", reason=d.code, info=info)


def _read_detail(purpose: str, d: ReadDecision) -> str:
    """The audit entry of a key handed out or refused: why, on what basis, which party's sharing
    was checked and what it said."""
    parts = [f"purpose={_purpose(purpose)}", f"as={d.code}" if d.allowed else f"refused={d.code}"]
    if d.party is not None:
        parts.append(f"party={d.party.label()}")
    if d.sharing is not None:
        parts.append(f"sharing={d.sharing.code}")
    return "; ".join(parts)


# The longest ids the events may carry (the columns' sizes): anything else is not an event of ours.
_MAX_ID = {"request_id": 36, "group_id": 80, "expert_id": 80}
_MAX_EXPERTS = 100


def _check_event_ids(request_id: str, group_id: str = "", expert_ids: list[str] = ()) -> None:
    if not request_id or len(request_id) > _MAX_ID["request_id"]:
        raise Poison("the event has no request id, or one longer than 36 characters")
    if len(group_id) > _MAX_ID["group_id"]:
        raise Poison("the event's group id is longer than 80 characters")
    if len(expert_ids) > _MAX_EXPERTS or any(not x or len(x) > _MAX_ID["expert_id"] for x in expert_ids):
        raise Poison("the event's expert ids are not 1-80 characters each, at most 100 of them")


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
        if party.kind is None:
            v.append(FieldViolation(f"scope[{i}].kind", "Kerro vastaanottajan laji. / Give the kind of recipient.",
                                    "required"))
        elif party.kind is not PartyKind.OT_TEAM and not party.id.strip():
            v.append(FieldViolation(f"scope[{i}].id", "Nimeä ryhmä tai asiantuntijaorganisaatio. / Name the group or "
                                    "expert organisation.", "required"))
    return v


@dataclass(frozen=True)
class Rotation:
    current: str
    rewrapped: int
    remaining: dict[str, int]  # live data keys still under another version (empty when done)


@dataclass(frozen=True)
class Retirement:
    key_id: str
    still_held: list[str]  # versions other than the current one not yet retired
    final_before: datetime | None  # every purge before this is now final in every backup too


@dataclass(frozen=True)
class PurgeRun:
    shredded: list[str]   # retention ended: key destroyed and announced (key.shredded events)
    abandoned: list[str]  # orphans: opened, never stored by intake; key destroyed, nobody to tell


@dataclass
class ConsentHandlers:
    sessions: sessionmaker
    outbox: Outbox
    tenant: str
    topic: str
    clock: Clock
    master_keys: MasterKeys
    audit_key: bytes = field(repr=False)
    audit_unkeyed_until: int = 0  # OT_CONSENT_AUDIT_UNKEYED_UNTIL: see audit.py
    default_policies: dict = field(default_factory=lambda: dict(DEFAULT_POLICIES))  # the area's, from settings
    orphan_grace: timedelta = DEFAULT_ORPHAN_GRACE

    def __post_init__(self):
        self.trail = audit.Trail(self.audit_key, self.tenant, self.audit_unkeyed_until)

    # --- cases and keys -------------------------------------------------------------------
    def open_case(self, who: Principal, request_id: str, type_: RequestType | None, form: ConsentForm | None,
                  given_by: ConsentGiver | None, capacity: bool, scope: list[Party]) -> tuple[bytes, ConsentVersion]:
        """Record the initial assessment and owner; return the request's new data key. A retry by
        the same owner returns the same key, so intake can safely call again after a timeout. The
        case stays unconfirmed until intake's RequestSubmitted arrives (`confirm_request`)."""
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
        with self.sessions.begin() as s:
            repo = ConsentRepository(s)
            # The case first (the common call opens a new one: no read before it). A call that
            # finds the id taken, by a retry or a call racing this one (whose transaction this
            # insert waits for), answers from the case that is there.
            if not repo.add_case_unless_present(Case(request_id=request_id, tenant=self.tenant, type=type_,
                                                     owner_subject=who.subject, opened_at=now)):
                return self._existing_case(repo, who, request_id)
            version = ConsentVersion(request_id=request_id, version=1, form=form, given_by=given_by,
                                     child_capacity_assessed=capacity, scope=scope, given_at=now, withdrawn=False,
                                     recorded_at=now, recorded_by=who.subject)
            repo.add_version(version)
            key = new_key()
            self._lock_current_master_key(repo)
            repo.add_key(request_id, *self.master_keys.wrap(key, self._aad(request_id)), now)
            self.trail.append(s, at=now, who=who, action="case.opened", request_id=request_id,
                              detail=f"type={type_.value}; consent={form.value}")
            return key, version

    def _existing_case(self, repo: ConsentRepository, who: Principal, request_id: str) -> tuple[bytes, ConsentVersion]:
        """OpenCase for an id that has a case: the same owner gets the same key, anyone else nothing."""
        existing = repo.case(request_id, self.tenant)
        if existing is None:  # the id is another area's case in this database: never in a real deployment
            raise RuntimeError("a case id is taken by another area's case")
        if existing.owner_subject != who.subject:
            raise _not_owner(request_id, "Pyyntö on jo avattu toiselle ammattilaiselle. / The request is "
                                         "already open for another professional.")
        if existing.abandoned_at is not None:
            raise FailedPrecondition(
                "Tapaus poistettiin, koska pyyntöä ei tallennettu ajoissa; lähetä pyyntö uudelleen. / The "
                "case was discarded because the request was not stored in time; submit it again.",
                "CASE_ABANDONED", request_id)
        return self._unwrap(request_id, repo.wrapped_key(request_id)), repo.current(request_id)

    def data_key(self, who: Principal, request_id: str, purpose: str) -> bytes:
        """The request's data key, for whoever content_access admits now (domain.py); each key
        handed out is a `content.read` entry, each refusal of a caller with the role a
        `content.refused` one, both naming the basis or reason, the party and its sharing
        decision. The refusal's entry is committed before the refusal goes out."""
        with self.sessions.begin() as s:
            repo = ConsentRepository(s)
            case = self._case(repo, request_id)
            decision = content_access(who, case, repo.current(request_id), repo.assignment(request_id),
                                      repo.booking(request_id))
            wrapped = repo.wrapped_key(request_id)
            if wrapped is None:  # shredded: nothing to read for anyone, neither a read nor a refusal
                raise NotFound("Tapauksen sisältö on poistettu säilytysajan päätyttyä. / The case content was erased "
                               "at the end of its retention.")
            if decision.allowed:
                self.trail.append(s, at=self.clock.now(), who=who, action="content.read", request_id=request_id,
                                  detail=_read_detail(purpose, decision))
                return self._unwrap(request_id, wrapped)
            self.trail.append(s, at=self.clock.now(), who=who, action="content.refused", request_id=request_id,
                              detail=_read_detail(purpose, decision))
        raise _read_refused(request_id, decision)

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
            if case.owner_subject != who.subject and not who.has_any("coordinator", "admin"):
                raise _not_owner(request_id, "Suostumuksen näkevät pyynnön tehnyt ammattilainen, koordinaattori ja "
                                             "tietosuojavastaava. / The consent is seen by the professional who made "
                                             "the request, the coordinator and the data-protection officer.")
            return repo.versions(request_id)

    def check_sharing(self, who: Principal, request_id: str, party: Party, purpose: str) -> Decision:
        if party.kind is None:  # an unnamed kind is not the OT team: it would be allowed as such
            raise InvalidArgument([FieldViolation("party.kind", "Kerro vastaanottajan laji. / Give the kind of "
                                                  "recipient.", "required")])
        with self.sessions.begin() as s:
            repo = ConsentRepository(s)
            case = repo.case(request_id, self.tenant)
            decision = sharing_decision(case, repo.current(request_id) if case else None, party)
            if case is not None:  # an unknown id has no trail to add to
                self.trail.append(s, at=self.clock.now(), who=who, action="sharing.check", request_id=request_id,
                                  detail=f"party={party.label()}; allowed={decision.allowed}; reason={decision.code}; "
                                         f"purpose={_purpose(purpose)}")
        return decision

    # --- retention ------------------------------------------------------------------------
    def set_policy(self, who: Principal, policy: RetentionPolicy) -> RetentionPolicy:
        problems = []
        if not 0 <= policy.grace_days_after_recommendations <= 3650:
            problems.append(FieldViolation("grace_days_after_recommendations", "0–3650 päivää. / 0–3650 days.",
                                           "out_of_range"))
        if not 1 <= policy.max_days_after_submission <= 3650:
            problems.append(FieldViolation("max_days_after_submission", "1–3650 päivää. / 1–3650 days.",
                                           "out_of_range"))
        if problems:
            raise InvalidArgument(problems)
        with self.sessions.begin() as s:
            ConsentRepository(s).set_policy(self.tenant, policy)
            self.trail.append(s, at=self.clock.now(), who=who, action="policy.changed", request_id="",
                              detail=f"type={policy.type.value}; grace={policy.grace_days_after_recommendations}; "
                                     f"max={policy.max_days_after_submission}")
        return policy

    def policies(self, who: Principal | None) -> list[RetentionPolicy]:
        with self.sessions() as s:
            repo = ConsentRepository(s)
            return [repo.policy(self.tenant, t, self.default_policies) for t in RequestType]

    def purge(self, who: Principal | None = None) -> PurgeRun:
        """Discard the orphan cases, then shred the data keys of every case past its retention.
        Idempotent: done cases are skipped."""
        abandoned = self.sweep_orphans(who)
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
        PURGE_LAST_SUCCESS.set(time.time())  # real time, as Prometheus' time() (self.clock may be moved)
        return PurgeRun(shredded, abandoned)

    def sweep_orphans(self, who: Principal | None = None) -> list[str]:
        """Discard every case that intake never confirmed within the grace period (see
        domain.orphans_due): its key destroyed, its consent versions dropped (they were about a
        request that does not exist), an audit entry `case.abandoned`. No event: nobody else
        knows the case."""
        now = self.clock.now()
        with self.sessions() as s:
            repo = ConsentRepository(s)
            due = orphans_due(repo.unconfirmed_cases(self.tenant), repo.latest_confirmed_opening(self.tenant),
                              repo.sweep_since(), now, self.orphan_grace)
        abandoned = [c.request_id for c in due if self._abandon(c.request_id, who)]
        if abandoned:
            log.info("orphan cases discarded", extra={"count": len(abandoned)})
        return abandoned

    def _abandon(self, request_id: str, who: Principal | None) -> bool:
        with self.sessions.begin() as s:
            repo = ConsentRepository(s)
            case = repo.case(request_id, self.tenant, for_update=True)
            if case is None or case.confirmed_at is not None or case.content_erased_at is not None:
                return False  # confirmed at the last moment, or another replica did it meanwhile
            now = self.clock.now()
            repo.shred_key(request_id, now, ABANDONED_REASON)
            repo.drop_versions(request_id)
            repo.forget_readers(request_id)
            case.content_erased_at = case.abandoned_at = now
            repo.save_case(case)
            self.trail.append(s, at=now, who=who, action="case.abandoned", request_id=request_id,
                              detail=f"not confirmed by intake within {int(self.orphan_grace.total_seconds())} s")
        return True

    def _shred(self, request_id: str, reason: str, who: Principal | None) -> bool:
        with self.sessions.begin() as s:
            repo = ConsentRepository(s)
            case = repo.case(request_id, self.tenant, for_update=True)
            if case is None or case.content_erased_at is not None:
                return False  # another replica did it meanwhile
            now = self.clock.now()
            repo.shred_key(request_id, now, reason)
            repo.forget_readers(request_id)
            case.content_erased_at = now
            repo.save_case(case)
            self.trail.append(s, at=now, who=who, action="key.shredded", request_id=request_id, detail=reason)
            self.outbox.add(s, topic=self.topic, ce_type=KEY_SHREDDED, subject=request_id, time=now,
                            message=ev.DataKeyShredded(request_id=request_id, tenant=self.tenant,
                                                       shredded_at=_ts(now), reason=reason))
        return True

    # --- audit ----------------------------------------------------------------------------
    def chain_audit(self) -> audit.Chained:
        """Link every audit entry committed so far into the chain (audit.py: writers leave them
        pending). The chainer worker calls it when woken; every reader of the trail first."""
        return self.trail.chain_all(self.sessions)

    def query_audit(self, who: Principal | None, request_id: str, action: str, start: datetime | None, end: datetime | None,
                    page_size: int, after_sequence: int, actor: str = "") -> tuple[list, int]:
        """`who` None: an operator's command with database access (export-audit)."""
        problems = []
        if not 1 <= page_size <= 1000:
            problems.append(FieldViolation("page_size", "Sivun koko 1–1000. / A page size of 1–1000.", "out_of_range"))
        if after_sequence < 0:
            problems.append(FieldViolation("after_sequence", "Ei negatiivinen. / Not negative.", "out_of_range"))
        if problems:
            raise InvalidArgument(problems)
        self.chain_audit()  # every entry committed before the question is in the answer
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

    def verify_audit(self, who: Principal | None, anchors: list[audit.Anchor] | None = None) -> audit.Verification:
        """`anchors`: heads published earlier (consent's topic or log), to find a cut-back trail."""
        self.chain_audit()
        with self.sessions() as s:
            result = self.trail.verify(s, anchors or ())
        AUDIT_VERIFICATIONS.labels("intact" if result.intact else "broken").inc()
        if not result.intact:
            log.error("audit trail verification failed", extra={
                "first_bad_sequence": result.first_bad_sequence, "problem": result.problem})
        return result

    def anchor_audit(self) -> audit.Anchor | None:
        """Publish the trail's head (sequence and MAC) outside the database: an event on consent's
        topic (through the outbox, in the same transaction that marks it anchored) and a log line."""
        self.chain_audit()  # the head anchored is that of every entry committed so far
        now = self.clock.now()
        with self.sessions.begin() as s:
            anchor = self.trail.anchor(s)
            if anchor is not None:
                self.outbox.add(s, topic=self.topic, ce_type=AUDIT_ANCHORED, subject=AUDIT_ANCHOR_SUBJECT, time=now,
                                message=ev.AuditHeadAnchored(tenant=self.tenant, sequence=anchor.sequence,
                                                             mac=anchor.mac, anchored_at=_ts(now)))
        if anchor is not None:
            log.info("audit head anchored", extra={"sequence": anchor.sequence, "mac": anchor.mac})
        return anchor

    # --- master key versions --------------------------------------------------------------
    def check_master_keys(self) -> None:
        """At start: the configured versions must open what the database holds, and the current one
        must be usable. Raises SettingsError naming the setting and the version (never a key).
        Registers the current version when it is new (an audited step)."""
        try:
            self._check_master_keys()
        except IntegrityError:
            self._check_master_keys()  # another replica registered the new version at the same moment

    def _check_master_keys(self) -> None:
        mk, var = self.master_keys, self.master_keys.source
        with self.sessions.begin() as s:
            repo = ConsentRepository(s)
            for key_id, count in sorted(repo.live_keys_by_version().items()):
                if key_id not in mk.keys:
                    raise SettingsError(f"consent: {var} has no version {key_id!r}, which wraps {count} stored data "
                                        "keys: add it back from the key custody (without it those cases' content is "
                                        "lost), or re-wrap them first with the configuration that has it")
                sample = repo.sample_key(key_id)
                try:
                    mk.unwrap(key_id, sample[1], self._aad(sample[0]))
                except CannotOpen:
                    raise SettingsError(f"consent: {var} version {key_id!r} does not open the data keys stored under "
                                        "it: it is not the key that wrapped them") from None
            rows = {r.key_id: r for r in repo.master_key_rows()}
            current = rows.get(mk.current)
            if current is not None and current.retired_at is not None:
                raise SettingsError(f"consent: {var} makes the retired version {mk.current!r} current: put the "
                                    "current version first")
            # A version once replaced is never current again: it is only waiting to be retired.
            newer = [k for k, r in rows.items() if current is not None and k != mk.current and r.made_current_at and (
                current.made_current_at is None or r.made_current_at > current.made_current_at)]
            if newer:
                raise SettingsError(f"consent: {var} makes {mk.current!r} current, but {newer[0]!r} replaced it "
                                    "already: put the newest version first (a replaced version is only retired)")
            if current is None:
                now = self.clock.now()
                repo.add_master_key(mk.current, now)
                self.trail.append(s, at=now, who=None, action="master_key.current", request_id="",
                                  detail=f"version={mk.current}")
        held_retired = sorted(k for k, r in rows.items() if r.retired_at is not None and k in mk.keys)
        if held_retired:
            log.warning("retired master key versions are still configured: remove them from the Secret",
                        extra={"setting": var, "versions": held_retired})

    def rotate_master_key(self, batch_size: int = 500, max_batches: int | None = None) -> Rotation:
        """Re-wrap every live data key under the current version, `batch_size` per transaction
        (each batch audited). Interrupted or stopped by `max_batches`, a rerun goes on from what is
        left; done, a rerun re-wraps nothing."""
        if batch_size < 1:
            raise ValueError("batch size must be at least 1")
        mk = self.master_keys
        total, batches = 0, 0
        while max_batches is None or batches < max_batches:
            with self.sessions.begin() as s:
                repo = ConsentRepository(s)
                self._lock_current_master_key(repo)
                rows = repo.keys_not_under(mk.current, batch_size)
                if not rows:
                    break
                for row in rows:
                    aad = self._aad(row.request_id)
                    _, wrapped = mk.wrap(mk.unwrap(row.key_id, row.wrapped_key, aad), aad)
                    repo.rewrap(row.request_id, row.key_id, mk.current, wrapped)
                froms = sorted({row.key_id for row in rows})
                self.trail.append(s, at=self.clock.now(), who=None, action="master_key.rewrapped", request_id="",
                                  detail=f"to={mk.current}; from={','.join(froms)}; count={len(rows)}")
            total += len(rows)
            batches += 1
        with self.sessions() as s:
            remaining = {k: n for k, n in ConsentRepository(s).live_keys_by_version().items() if k != mk.current}
        if total:
            log.info("data keys re-wrapped", extra={"count": total, "version": mk.current})
        return Rotation(mk.current, total, remaining)

    def retire_master_key(self, key_id: str) -> Retirement:
        """Mark a version retired, refused while any live data key is still wrapped under it. From
        then on nothing is wrapped under it; the operator then removes the key from the Secret and
        the key custody, and every copy of what it wrapped, in any backup, stays shut."""
        mk = self.master_keys
        if key_id == mk.current:
            raise FailedPrecondition(
                f"Versio {key_id} on käytössä oleva pääavain: ota ensin uusi versio käyttöön. / "
                f"Version {key_id} is the current master key: make a new version current first.",
                "MASTER_KEY_CURRENT", key_id)
        now = self.clock.now()
        with self.sessions.begin() as s:
            repo = ConsentRepository(s)
            if key_id not in repo.versions_ever_used():
                raise NotFound(f"Pääavaimen versiota {key_id} ei ole käytetty. / Master key version {key_id} was "
                               "never used.")
            row = repo.master_key(key_id, lock="update")  # waits for wraps under it in flight
            if row is None or row.retired_at is None:
                live = repo.live_keys_by_version().get(key_id, 0)
                if live:
                    raise FailedPrecondition(
                        f"Versio {key_id} salaa vielä {live} tapauksen avaimen: aja ensin rotate-master-key. / "
                        f"Version {key_id} still wraps {live} live data keys: run rotate-master-key first.",
                        "MASTER_KEY_IN_USE", key_id, {"live_data_keys": str(live)})
                if row is None:  # used before versions were registered (v1): register it, retired
                    repo.add_master_key(key_id, None, now)
                else:
                    repo.retire_master_key(key_id, now)
                self.trail.append(s, at=now, who=None, action="master_key.retired", request_id="",
                                  detail=f"version={key_id}")
            rows = {r.key_id: r for r in repo.master_key_rows()}
            still_held = sorted(k for k in repo.versions_ever_used()
                                if k != mk.current and (k not in rows or rows[k].retired_at is None))
        current = rows.get(mk.current)
        final_before = current.made_current_at if current is not None and not still_held else None
        log.info("master key version retired", extra={"version": key_id, "still_held": still_held})
        return Retirement(key_id, still_held, final_before)

    # --- events from intake ---------------------------------------------------------------
    def confirm_request(self, session: Session, request_id: str) -> None:
        """Intake stored the request (its RequestSubmitted, or any later event about it): the case
        is confirmed, never an orphan."""
        case = ConsentRepository(session).confirm(request_id, self.tenant, self.clock.now())
        if case is not None and case.abandoned_at is not None:
            # Its event came after the grace period and a newer request's: the pipeline was slower
            # than the setting allows. Its content cannot be opened any more; say so to the operator.
            log.warning("intake stored a request whose case was discarded as an orphan: raise "
                        "OT_CONSENT_ORPHAN_GRACE_SECONDS", extra={"request_id": request_id})

    def on_request_finished(self, session: Session, request_id: str, at: datetime, recommendations: bool) -> None:
        """Intake says the recommendations were returned, or the request closed or was withdrawn:
        the retention clock starts (and the request exists: the case is confirmed too). A request
        consent never saw is nothing to keep."""
        self.confirm_request(session, request_id)
        repo = ConsentRepository(session)
        case = repo.case(request_id, self.tenant, for_update=True)
        if case is None:
            return
        if recommendations and case.recommendations_returned_at is None:
            case.recommendations_returned_at = at
        elif not recommendations and case.ended_at is None:
            case.ended_at = at
        repo.save_case(case)

    def on_booking_change(self, session: Session, request_id: str, to_status: RequestStatus | None, group_id: str,
                          at: datetime) -> None:
        """Intake changed the request's status: a booking (SCHEDULED with the meeting's group)
        lets the group's secretary and members read; a withdrawal or a move back before booking
        ends that; the returned recommendations end the members' right (domain.booking_after).
        Tolerates any order and repeats: a change older than the row changes nothing, and a
        request consent does not know yet gets its row all the same."""
        _check_event_ids(request_id, group_id)
        repo = ConsentRepository(session)
        current = repo.booking(request_id)
        after = booking_after(current, request_id, to_status, group_id, at)
        if after is not current:
            repo.save_booking(after, existed=current is not None)

    def on_assignment(self, session: Session, request_id: str, expert_ids: list[str], at: datetime) -> None:
        """Experts assigned or unassigned experts: `expert_ids` is the full set assigned now.
        Order and repeats as in on_booking_change."""
        _check_event_ids(request_id, expert_ids=expert_ids)
        repo = ConsentRepository(session)
        current = repo.assignment(request_id)
        after = assignment_after(current, request_id, expert_ids, at)
        if after is not current:
            repo.save_assignment(after, existed=current is not None)

    # --- shared steps ---------------------------------------------------------------------
    def _new_version(self, who: Principal, request_id: str, make, action: str) -> ConsentVersion:
        with self.sessions.begin() as s:
            repo = ConsentRepository(s)
            case = self._case(repo, request_id, for_update=True)
            if case.owner_subject != who.subject:
                raise _not_owner(request_id, "Vain pyynnön tehnyt ammattilainen kirjaa suostumuksen. / Only the "
                                             "professional who made the request records its consent.")
            previous = repo.current(request_id)
            now = self.clock.now()
            version = make(previous, now)
            repo.add_version(version)
            self.trail.append(s, at=now, who=who, action=action, request_id=request_id,
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
        if case is None or case.abandoned_at is not None:  # an abandoned case's request never existed
            raise NotFound(f"Pyyntöä {request_id!r} ei löydy tältä alueelta. / No request {request_id!r} in this area.")
        return case

    def _aad(self, request_id: str) -> bytes:
        return f"ot-data-key:{self.tenant}:{request_id}".encode()

    def _lock_current_master_key(self, repo: ConsentRepository) -> None:
        """Hold the current version's row (shared) until commit, so a retirement of it waits for this
        wrap and a wrap after the retirement is refused: a retired key never wraps again."""
        row = repo.master_key(self.master_keys.current, lock="share")
        if row is None or row.retired_at is not None:
            log.error("the current master key version is retired or unregistered: restart consent with the new "
                      "configuration", extra={"version": self.master_keys.current})
            raise Unavailable("Avainpalvelu odottaa uutta asetusta. / The key service is waiting for its new "
                              "configuration; try again shortly.")

    def _unwrap(self, request_id: str, wrapped: tuple[str, bytes] | None) -> bytes:
        if wrapped is None:
            raise NotFound("Tapauksen sisältö on poistettu. / The case content was erased.")
        key_id, blob = wrapped
        try:
            return self.master_keys.unwrap(key_id, blob, self._aad(request_id))
        except KeyVersionNotHeld:
            # Re-wrapped under a version this replica was not started with: it needs the new configuration.
            log.error("a data key is wrapped under a master key version this replica does not hold: restart it with "
                      "the current configuration", extra={"request_id": request_id, "version": key_id,
                                                          "setting": self.master_keys.source})
            raise Unavailable("Avainpalvelu odottaa uutta asetusta. / The key service is waiting for its new "
                              "configuration; try again shortly.") from None
        except CannotOpen:
            # A wrong or missing master key is a deployment error, not the caller's: say so to the operator.
            log.error("a data key cannot be unwrapped: does the master key configuration hold its version?",
                      extra={"request_id": request_id, "version": key_id, "setting": self.master_keys.source})
            raise
