"""Experts' use cases: command in -> rules -> one transaction with the state change and its events.

Who may call which use case is the edge's access table (edge.ACCESS), and the form of every
field the edge's field rules (edge.FIELD_RULES, the guard included): both are checked before a
handler runs, so the handlers keep the domain rules and the object-level ones:
- an expert sees only the assignments of the experts linked to their own login subject, and a
  login subject is linked to at most one expert (EXPERT_NOT_LINKED, SUBJECT_TAKEN);
- a coordinator changes the catalogue fields only of the area's own experts (CATALOGUE_MANAGED);
  another area's own experts and requests are not visible at all (NOT_FOUND);
- a request whose consent was withdrawn is assigned to no one (SHARING_NOT_ALLOWED), and a
  request that only consent has told about (the withdrawal overtook intake's submission) is not
  known to any RPC until intake's event arrives.

Tracing: an assignment continues the trace of the case (the trace that started with the
professional's submission in intake), so one trace shows submission -> proposals -> assignment
-> intake's "assigned". The coordinator's gRPC call is a separate trace, linked to it.
"""
from __future__ import annotations

import contextlib
import logging
import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from opentelemetry import trace
from sqlalchemy.orm import Session, sessionmaker

from ot_runtime import fields
from ot_runtime.auth import Principal
from ot_runtime.clock import Clock
from ot_runtime.errors import FailedPrecondition, FieldViolation, InvalidArgument, NotFound, PermissionDenied
from ot_runtime.outbox import Outbox
from ot_runtime.telemetry import context_from_traceparent, current_traceparent
from ot_runtime.tenants import TENANTS

from . import events
from .domain import (ASSIGNABLE, ENDED, ORIGIN_AREA, Availability, Category, Cost, Expert, Modality, Overlay,
                     RequestStatus, RequestType, Usability, matches_text, propose, slugify, usability,
                     validate_expert)
from .sharing import SharingPolicy
from .store import ExpertsRepository, decode_page_token, encode_page_token

log = logging.getLogger("ot.experts")
_tracer = trace.get_tracer("ot_experts")

# Request ids are intake's UUIDs; an event with anything else is refused (to the dead-letter topic).
REQUEST_ID = fields.uuid().pattern


@dataclass(frozen=True)
class ExpertFilter:
    category: Category | None = None
    usable_only: bool = False
    cost: Cost | None = None
    modality: Modality | None = None
    text: str = ""
    include_retired: bool = False
    page_size: int = 20
    page_token: str = ""


@dataclass(frozen=True)
class ExpertView:
    expert: Expert
    use: Usability


@dataclass(frozen=True)
class ProposalsView:
    request_id: str
    set_id: str
    revision: int
    trigger: str
    computed_at: datetime | None
    categories: list[Category]
    status: RequestStatus
    dropped: bool
    consent_withdrawn: bool
    items: list[tuple[int, ExpertView, int, list[dict]]]  # rank, expert, score, reasons


@dataclass(frozen=True)
class AssignmentView:
    id: str
    request_id: str
    expert_id: str
    expert_name_fi: str
    assigned_by: str
    assigned_at: datetime
    cost_approved: bool
    unassigned_at: datetime | None
    unassign_reason: str
    request_type: RequestType | None
    categories: list[Category]

    @property
    def active(self) -> bool:
        return self.unassigned_at is None


@dataclass
class ExpertsHandlers:
    sessions: sessionmaker
    outbox: Outbox
    tenant: str
    topic: str
    clock: Clock
    sharing: SharingPolicy

    # --- catalogue ------------------------------------------------------------------------
    def list_experts(self, who: Principal, f: ExpertFilter) -> tuple[list[ExpertView], str, int]:
        problems = []
        offset = 0
        if f.page_token:
            try:
                offset = decode_page_token(f.page_token)
            except Exception:
                problems.append(FieldViolation("page_token", "Sivutunnus ei kelpaa; aloita alusta ilman sitä. / "
                                               "The page token is not valid; start again without it.", "bad_form"))
        if not 1 <= f.page_size <= 100:
            problems.append(FieldViolation("page_size", "Sivun koko 1–100. / Page size must be 1–100.",
                                           "out_of_range"))
        if problems:
            raise InvalidArgument(problems)
        with self.sessions() as s:
            repo = ExpertsRepository(s, self.tenant)
            agreement = repo.agreement(self.tenant)
            views = [ExpertView(e, usability(e, self.tenant, agreement)) for e in repo.all_experts()]
        found = [v for v in views if self._wanted(v, f)]
        page = found[offset:offset + f.page_size]
        next_token = encode_page_token(offset + f.page_size) if offset + f.page_size < len(found) else ""
        return page, next_token, len(found)

    @staticmethod
    def _wanted(v: ExpertView, f: ExpertFilter) -> bool:
        e = v.expert
        return ((f.include_retired or not e.retired)
                and (f.category is None or f.category in e.categories)
                and (not f.usable_only or v.use.usable)
                and (f.cost is None or e.cost is f.cost)
                and (f.modality is None or f.modality in e.modalities)
                and (not f.text.strip() or matches_text(f.text, e.searchable_text())))

    def get_expert(self, who: Principal, expert_id: str) -> ExpertView:
        with self.sessions() as s:
            repo = ExpertsRepository(s, self.tenant)
            e = self._expert(repo, expert_id)
            return ExpertView(e, usability(e, self.tenant, repo.agreement(self.tenant)))

    def create_expert(self, who: Principal, e: Expert) -> ExpertView:
        if not e.id:
            e = replace(e, id=slugify(f"{self.tenant}-{e.name_fi}"))
        e = replace(e, origin=ORIGIN_AREA, origin_area=self.tenant, dataset_version=0)
        problems = validate_expert(e)
        if problems:
            raise InvalidArgument(problems)
        now = self.clock.now()
        with self.sessions.begin() as s:
            repo = ExpertsRepository(s, self.tenant)
            if repo.get_expert_row_exists(e.id):
                raise FailedPrecondition(f"Tunnus {e.id} on jo käytössä. / The id {e.id} is already taken.",
                                         "EXPERT_ID_TAKEN", f"experts/{e.id}", {"expert_id": e.id})
            self._subject_free(repo, e)
            repo.add_expert(e, now)
            repo.save_overlay(e.id, e.overlay, who.subject, now)
        log.info("expert created", extra={"expert_id": e.id})
        return self.get_expert(who, e.id)

    def update_expert(self, who: Principal, expert_id: str, *, availability: Availability | None = None,
                      local_note: str | None = None, active: bool | None = None,
                      fields: Expert | None = None) -> ExpertView:
        """Change this area's overlay; and, for the area's own experts, the catalogue fields
        (`fields` replaces them all). Shared-catalogue entries change only through the dataset."""
        now = self.clock.now()
        with self.sessions.begin() as s:
            repo = ExpertsRepository(s, self.tenant)
            e = self._expert(repo, expert_id)
            if fields is not None:
                if e.origin != ORIGIN_AREA:
                    raise FailedPrecondition(
                        "Yhteisen luettelon tietoja muutetaan koordinoivan alueen aineistossa; tällä alueella voit "
                        "muuttaa saatavuutta, omaa huomiota ja aktiivisuutta. / Shared-catalogue entries change "
                        "through the coordinating area's dataset; here you can change availability, the local note "
                        "and whether the expert is active.", "CATALOGUE_MANAGED", f"experts/{expert_id}",
                        {"expert_id": expert_id, "origin": e.origin})
                updated = replace(fields, id=e.id, origin=e.origin, origin_area=e.origin_area,
                                  dataset_version=0, overlay=e.overlay)
                problems = validate_expert(updated)
                if problems:
                    raise InvalidArgument(problems)
                self._subject_free(repo, updated)
                repo.save_expert(updated, now)
            o = e.overlay
            o = Overlay(availability=availability or o.availability,
                        local_note=o.local_note if local_note is None else local_note,
                        active=o.active if active is None else active, retired_at=o.retired_at)
            repo.save_overlay(expert_id, o, who.subject, now)
        log.info("expert updated", extra={"expert_id": expert_id})
        return self.get_expert(who, expert_id)

    def retire_expert(self, who: Principal, expert_id: str) -> ExpertView:
        """Retired experts are no longer proposed or assignable, but stay visible on past cases."""
        now = self.clock.now()
        with self.sessions.begin() as s:
            repo = ExpertsRepository(s, self.tenant)
            e = self._expert(repo, expert_id)
            if not e.retired:
                repo.save_overlay(expert_id, replace(e.overlay, active=False, retired_at=now), who.subject, now)
        log.info("expert retired", extra={"expert_id": expert_id})
        return self.get_expert(who, expert_id)

    def list_agreements(self, who: Principal, area: str = ""):
        self._known_area(area)
        with self.sessions() as s:
            return ExpertsRepository(s, self.tenant).list_agreements(area)

    def list_groups(self, who: Principal, area: str = "", kind: str = ""):
        """The OT service map: shared knowledge across the cooperation area, so any area's groups."""
        self._known_area(area)
        with self.sessions() as s:
            return ExpertsRepository(s, self.tenant).list_groups(area or self.tenant, kind)

    # --- proposals ------------------------------------------------------------------------
    def on_request_event(self, session: Session, event_id: str, request_id: str, type_: RequestType | None,
                         categories: list[Category], status: RequestStatus, tenant: str) -> None:
        """Intake reported a request (consumer, inside its transaction; the inbox makes a
        redelivery a no-op). Submitted or triaged: compute a fresh proposal set. Withdrawn or
        closed: drop the open proposals. Anything else: remember the status."""
        self._event_about(request_id, tenant)
        now = self.clock.now()
        repo = ExpertsRepository(session, self.tenant)
        request = repo.upsert_request(request_id, type_, categories, status, current_traceparent(), now)
        if status in (RequestStatus.SUBMITTED, RequestStatus.TRIAGED) and request["consent_withdrawn_at"]:
            log.info("no proposals: consent withdrawn", extra={"request_id": request_id})
        elif status in (RequestStatus.SUBMITTED, RequestStatus.TRIAGED):
            cats = [Category(c) for c in request["categories"]]
            agreement = repo.agreement(self.tenant)
            ranked = propose(cats, repo.all_experts(), self.tenant, agreement, repo.open_load())
            latest = repo.latest_set(request_id)
            repo.drop_open_sets(request_id, now)
            revision = (latest["revision"] if latest else 0) + 1
            repo.add_set(str(uuid.uuid4()), request_id, revision, status.value, event_id, now, ranked)
            log.info("proposals computed", extra={"request_id": request_id, "revision": revision,
                                                  "proposals": len(ranked)})
        elif status in ENDED:
            dropped = repo.drop_open_sets(request_id, now)
            log.info("proposals dropped", extra={"request_id": request_id, "sets": dropped})

    def on_consent_withdrawn(self, session: Session, request_id: str, tenant: str) -> None:
        """The client's consent was withdrawn: stop offering the case (drop open proposals, compute
        none later, assign no one). Assignments already made are the coordinator's to undo. When
        the withdrawal overtakes intake's submission, it is remembered for the request to come."""
        self._event_about(request_id, tenant)
        now = self.clock.now()
        repo = ExpertsRepository(session, self.tenant)
        repo.mark_consent_withdrawn(request_id, now)
        dropped = repo.drop_open_sets(request_id, now)
        log.info("consent withdrawn: proposals dropped", extra={"request_id": request_id, "sets": dropped})

    def proposals(self, who: Principal, request_id: str) -> ProposalsView:
        with self.sessions() as s:
            repo = ExpertsRepository(s, self.tenant)
            request = self._request(repo, request_id)
            latest = repo.latest_set(request_id)
            items = []
            if latest is not None and latest["dropped_at"] is None:
                agreement = repo.agreement(self.tenant)
                for p in repo.proposals_of(latest["id"]):
                    e = repo.get_expert(p["expert_id"])
                    if e is not None:
                        items.append((p["rank"], ExpertView(e, usability(e, self.tenant, agreement)), p["score"],
                                      p["reasons"]))
        return ProposalsView(
            request_id=request_id, set_id=latest["id"] if latest else "", revision=latest["revision"] if latest else 0,
            trigger=latest["trigger"] if latest else "", computed_at=latest["computed_at"] if latest else None,
            categories=[Category(c) for c in request["categories"]], status=RequestStatus(request["status"]),
            dropped=bool(latest and latest["dropped_at"]), consent_withdrawn=bool(request["consent_withdrawn_at"]),
            items=items)

    # --- assignments ----------------------------------------------------------------------
    def assign(self, who: Principal, request_id: str, expert_ids: list[str], cost_approved: bool) -> list[AssignmentView]:
        wanted = [x.strip() for x in expert_ids if x.strip()]
        if not wanted:
            raise InvalidArgument([FieldViolation("expert_ids", "Valitse vähintään yksi asiantuntija. / "
                                                  "Choose at least one expert.", "required")])
        if len(set(wanted)) != len(wanted):
            raise InvalidArgument([FieldViolation("expert_ids", "Sama asiantuntija on listalla kahdesti. / "
                                                  "The same expert is listed twice.", "duplicate")])
        now = self.clock.now()
        with self.sessions.begin() as s:
            repo = ExpertsRepository(s, self.tenant)
            request = self._request(repo, request_id, for_update=True)
            status = RequestStatus(request["status"])
            if status not in ASSIGNABLE:
                raise FailedPrecondition(
                    f"Pyyntöön ei voi nimetä asiantuntijaa tilassa {status.value}. / "
                    f"Experts cannot be assigned to a request in status {status.value}.",
                    "REQUEST_NOT_ASSIGNABLE", f"requests/{request_id}", {"status": status.value})
            if request["consent_withdrawn_at"]:
                # Consent would refuse too; experts knows it already and asks no one.
                raise FailedPrecondition(
                    "Asiakkaan suostumus on peruttu: tapausta ei jaeta asiantuntijoille. / The client's consent "
                    "was withdrawn: the case is not shared with experts.", "SHARING_NOT_ALLOWED",
                    f"requests/{request_id}", {"request_id": request_id, "cause": "consent_withdrawn"})
            agreement = repo.agreement(self.tenant)
            active = {a["expert_id"] for a in repo.assignments_of(request_id) if a["unassigned_at"] is None}
            for eid in wanted:
                e = self._expert(repo, eid)
                subject = f"experts/{eid}"
                if eid in active:
                    raise FailedPrecondition(f"{e.name_fi} on jo nimetty tähän pyyntöön. / "
                                             f"{e.name_en or e.name_fi} is already assigned to this request.",
                                             "ALREADY_ASSIGNED", subject, {"expert_id": eid})
                use = usability(e, self.tenant, agreement)
                if not use.usable:
                    raise FailedPrecondition(f"{e.name_fi}: {use.fi} / {e.name_en or e.name_fi}: {use.en}",
                                             use.code, subject, {"expert_id": eid, "area": self.tenant})
                if e.cost is Cost.PAID and not cost_approved:
                    raise FailedPrecondition(
                        f"{e.name_fi} on maksullinen: kustannukset on hyväksyttävä ennen nimeämistä "
                        f"(cost_approved). / {e.name_en or e.name_fi} is paid: the cost must be approved "
                        f"before assigning (cost_approved).", "COST_APPROVAL_REQUIRED", subject,
                        {"expert_id": eid, "price_note": e.price_note[:200]})
                allowed, reason = self.sharing.may_share(request_id, subject)
                if not allowed:
                    raise FailedPrecondition(reason, "SHARING_NOT_ALLOWED", subject, {"expert_id": eid})
            assignment_id = str(uuid.uuid4())
            for eid in wanted:
                repo.add_assignment(id=str(uuid.uuid4()), request_id=request_id, expert_id=eid,
                                    assigned_by=who.subject, assigned_at=now, cost_approved=cost_approved)
            current = sorted(active | set(wanted))
            with self._case_trace(request["traceparent"], "experts assign", request_id):
                self.outbox.add(s, topic=self.topic, ce_type=events.ASSIGNMENT_MADE, subject=request_id,
                                message=events.experts_assigned(assignment_id, request_id, self.tenant, current, now),
                                time=now)
        log.info("experts assigned", extra={"request_id": request_id, "experts": len(wanted)})
        return self.list_assignments(who, request_id)

    def unassign(self, who: Principal, request_id: str, expert_id: str, reason: str) -> list[AssignmentView]:
        now = self.clock.now()
        with self.sessions.begin() as s:
            repo = ExpertsRepository(s, self.tenant)
            request = self._request(repo, request_id, for_update=True)
            rows = [a for a in repo.assignments_of(request_id) if a["unassigned_at"] is None]
            mine = [a for a in rows if a["expert_id"] == expert_id]
            if not mine:
                raise FailedPrecondition(f"Asiantuntijaa {expert_id} ei ole nimetty tähän pyyntöön. / "
                                         f"Expert {expert_id} is not assigned to this request.",
                                         "NOT_ASSIGNED", f"experts/{expert_id}", {"expert_id": expert_id})
            repo.end_assignment(mine[0]["id"], who.subject, reason, now)
            remaining = sorted(a["expert_id"] for a in rows if a["expert_id"] != expert_id)
            with self._case_trace(request["traceparent"], "experts unassign", request_id):
                self.outbox.add(s, topic=self.topic, ce_type=events.ASSIGNMENT_REMOVED, subject=request_id,
                                message=events.experts_unassigned(mine[0]["id"], request_id, self.tenant,
                                                                  [expert_id], remaining, now), time=now)
        log.info("expert unassigned", extra={"request_id": request_id, "remaining": len(remaining)})
        return self.list_assignments(who, request_id)

    def list_assignments(self, who: Principal, request_id: str) -> list[AssignmentView]:
        with self.sessions() as s:
            repo = ExpertsRepository(s, self.tenant)
            request = self._request(repo, request_id)
            return [self._view(repo, a, request) for a in repo.assignments_of(request_id)]

    def my_assignments(self, who: Principal) -> list[AssignmentView]:
        """The caller's current assignments, through the expert linked to their login subject
        (`user_subject`); nobody else's. A subject linked to no expert of this area is refused, so
        the person learns to ask the coordinator to link it rather than seeing an empty list."""
        with self.sessions() as s:
            repo = ExpertsRepository(s, self.tenant)
            mine = repo.experts_for_subject(who.subject)
            if not mine:
                raise PermissionDenied(
                    "Käyttäjätunnustasi ei ole liitetty yhteenkään tämän alueen asiantuntijaan; pyydä alueen "
                    "koordinaattoria liittämään se. / Your user id is not linked to any expert of this area; ask "
                    "the area's coordinator to link it.", reason="EXPERT_NOT_LINKED")
            return [self._view(repo, a, repo.get_request(a["request_id"]))
                    for a in repo.active_assignments_of_experts(mine)]

    # --- shared steps ---------------------------------------------------------------------
    @staticmethod
    def _view(repo: ExpertsRepository, a, request) -> AssignmentView:
        e = repo.get_expert(a["expert_id"])
        return AssignmentView(
            id=a["id"], request_id=a["request_id"], expert_id=a["expert_id"], expert_name_fi=e.name_fi if e else "",
            assigned_by=a["assigned_by"], assigned_at=a["assigned_at"], cost_approved=a["cost_approved"],
            unassigned_at=a["unassigned_at"], unassign_reason=a["unassign_reason"] or "",
            request_type=RequestType(request["type"]) if request and request["type"] else None,
            categories=[Category(c) for c in request["categories"]] if request else [])

    @staticmethod
    def _case_trace(traceparent: str | None, name: str, request_id: str):
        """A span in the case's trace, linked to the caller's span (see the module docstring)."""
        if not traceparent:
            return contextlib.nullcontext()
        caller = trace.get_current_span().get_span_context()
        links = [trace.Link(caller)] if caller.is_valid else []
        span = _tracer.start_as_current_span(name, context=context_from_traceparent(traceparent), links=links)
        return _with_attr(span, request_id)

    @staticmethod
    def _subject_free(repo: ExpertsRepository, e: Expert) -> None:
        """A login subject is linked to one expert at most: otherwise its person would see another
        expert's assignments."""
        if e.user_subject and any(other != e.id for other in repo.experts_for_subject(e.user_subject, everywhere=True)):
            raise FailedPrecondition("Käyttäjätunnus on jo liitetty toiseen asiantuntijaan. / The user id is already "
                                     "linked to another expert.", "SUBJECT_TAKEN", f"experts/{e.id}",
                                     {"expert_id": e.id})

    def _event_about(self, request_id: str, tenant: str) -> None:
        """An event's request id and area, checked before anything is written (the consumer sends
        a refused event to the dead-letter topic)."""
        if tenant != self.tenant:
            raise FailedPrecondition("Tapahtuma on toisen alueen. / The event belongs to another area.",
                                     "WRONG_AREA", "requests")
        if not REQUEST_ID.fullmatch(request_id):
            raise InvalidArgument([FieldViolation("request_id", "Pyynnön tunnus ei ole UUID. / The request id is "
                                                  "not a UUID.", "bad_form")])

    def _expert(self, repo: ExpertsRepository, expert_id: str) -> Expert:
        e = repo.get_expert(expert_id) if expert_id else None
        if e is None:
            raise NotFound(f"Asiantuntijaa {expert_id!r} ei ole luettelossa. / No expert {expert_id!r} in the catalogue.")
        return e

    def _request(self, repo: ExpertsRepository, request_id: str, for_update: bool = False):
        r = repo.get_request(request_id, for_update=for_update) if request_id else None
        if r is None:
            raise NotFound(f"Pyyntöä {request_id!r} ei ole tullut tälle alueelle (tai sitä ei ole vielä käsitelty). / "
                           f"No request {request_id!r} has reached this area (or it is not processed yet).")
        return r

    @staticmethod
    def _known_area(area: str) -> None:
        if area and area not in TENANTS:
            raise InvalidArgument([FieldViolation("area", f"Alue on yksi näistä: {', '.join(sorted(TENANTS))}. / "
                                                  f"The area is one of: {', '.join(sorted(TENANTS))}.",
                                                  "not_allowed_value")])


@contextlib.contextmanager
def _with_attr(span_cm, request_id: str):
    with span_cm as span:
        span.set_attribute("ot.request_id", request_id)
        yield span
