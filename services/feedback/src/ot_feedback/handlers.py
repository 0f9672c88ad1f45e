"""Feedback's use cases: intake's and consent's events in, the worker's answer in, statistics out.

Who may call the gRPC use cases is the edge's (edge.ACCESS, checked before a handler runs). The
worker's answer comes through AnswerFeedback (the portal's form behind the mailed link), and its
fields are checked here too (edge.check_form: form first, then the client-identifier guard) before
anything is stored, with the same rules as the edge's; a refused answer stores nothing, logs only
the kinds found, and leaves the link usable. What the worker wrote about the case is kept only
while the case's content exists.
"""
from __future__ import annotations

import logging
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from ot_runtime.auth import Principal
from ot_runtime.clock import Clock
from ot_runtime.workdays import working_days_between
from ot_runtime.errors import FailedPrecondition, FieldViolation, InvalidArgument, NotFound
from ot_runtime.vocabulary import CATEGORY_LABELS, SECTOR_LABELS

from .aggregate import (AggregateRefused, AreaAggregate, CooperationConfig, Counts, TypeTimes, export_file,
                        month_period, months_of, read_file)
from .domain import (FOLLOW_UP_TRIGGERS, GOT_NEEDED_LABELS, TYPE_LABELS, Category, FollowUpPolicy, FollowUpState,
                     GotNeeded, LinkError, LinkSigner, MailKind, MailState, RequestType, Sector, Status,
                     parse_answer)
from .edge import check_form
from .notifications import reminders_enabled
from .stats import (ALL, TOTAL, Period, PeriodError, ResponseTimes, Table, coarser, parse_period, quarters,
                    response_times, whole_period)
from .store import (answers, area_aggregates, follow_ups, mails, notification_settings, request_facts,
                    shredded_requests)

log = logging.getLogger("ot.feedback")


class LinkRefused(Exception):
    """The link does not open the form: invalid, expired, used, or the follow-up was cancelled."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# What an answer keeps once the case is shredded: exactly what statistics count.
COUNTED_FIELDS = ("usefulness", "got_needed")


@dataclass(frozen=True)
class CooperationArea:
    """One area of the cooperation area's figures: the months included, the ended months whose
    file has not been imported, or that it opted out."""
    area: str
    own: bool = False
    opted_out: bool = False
    included: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class FormContext:
    follow_up_id: str
    request_id: str
    type: RequestType
    consulted_at: datetime
    expires_at: datetime
    content_kept: bool  # False once consent shredded the case: the form asks only what is counted


@dataclass
class FeedbackHandlers:
    sessions: sessionmaker
    tenant: str
    policy: FollowUpPolicy
    signer: LinkSigner
    clock: Clock
    cooperation: CooperationConfig = field(default_factory=CooperationConfig)

    # --- intake's events (inside the consumer's transaction) -----------------------------------
    def on_request_submitted(self, session: Session, *, request_id: str, type_: RequestType,
                             categories: list[Category], sector: Sector | None, submitted_at: datetime) -> None:
        now = self.clock.now()
        values = dict(type=type_.value, categories=sorted(c.value for c in categories),
                      sector=sector.value if sector else None, submitted_at=submitted_at, updated_at=now)
        if self._fact(session, request_id) is None:
            session.execute(request_facts.insert().values(request_id=request_id, tenant=self.tenant,
                                                          status=Status.SUBMITTED.value, **values))
        else:  # a status change overtook it (consumer restarted from another point): fill in
            session.execute(request_facts.update().where(request_facts.c.request_id == request_id).values(**values))

    def on_status_changed(self, session: Session, *, request_id: str, type_: RequestType,
                          categories: list[Category], to_status: Status, changed_at: datetime,
                          meeting_id: str = "", group_id: str = "", meeting_starts_at: datetime | None = None,
                          submitted_at: datetime | None = None, first_response_at: datetime | None = None,
                          answered_at: datetime | None = None, waiting_working_days: int = 0) -> None:
        now = self.clock.now()
        fact = self._fact(session, request_id)
        values: dict = dict(status=to_status.value, updated_at=now)
        if meeting_id:
            values.update(meeting_id=meeting_id, group_id=group_id, meeting_starts_at=meeting_starts_at)
        # Response times as intake counts them (only what the event has: a later event without a
        # time does not blank one). The working days to the answer are the event's own count, with
        # the clock stopped while the request waited for the professional.
        if submitted_at and not (fact and fact["submitted_at"]):
            values["submitted_at"] = submitted_at
        if first_response_at:
            values["first_response_at"] = first_response_at
        if answered_at:
            values.update(answered_at=answered_at, answer_working_days=max(0, waiting_working_days))
        if to_status is Status.CONSULTED or (to_status is Status.RECOMMENDATIONS_RETURNED
                                             and not (fact and fact["consulted_at"])):
            values["consulted_at"] = changed_at
        if to_status is Status.WITHDRAWN:
            values["withdrawn_at"] = changed_at
        if fact is None:
            session.execute(request_facts.insert().values(
                request_id=request_id, tenant=self.tenant, type=type_.value,
                categories=sorted(c.value for c in categories), **values))
        else:
            session.execute(request_facts.update().where(request_facts.c.request_id == request_id).values(**values))

        if to_status in FOLLOW_UP_TRIGGERS:
            self._schedule(session, request_id, type_, changed_at, now)
        elif to_status is Status.WITHDRAWN:
            self.cancel(session, request_id, "withdrawn")

    def _schedule(self, session: Session, request_id: str, type_: RequestType, consulted_at: datetime,
                  now: datetime) -> None:
        exists = session.execute(sa.select(follow_ups.c.id).where(follow_ups.c.request_id == request_id)).first()
        if exists:
            return  # consulted, then recommendations returned: one follow-up per request
        fid = str(uuid.uuid4())
        due = self.policy.request_due(consulted_at, type_)
        session.execute(follow_ups.insert().values(
            id=fid, tenant=self.tenant, request_id=request_id, type=type_.value, state=FollowUpState.SCHEDULED.value,
            consulted_at=consulted_at, created_at=now, updated_at=now))
        session.execute(mails.insert().values(id=str(uuid.uuid4()), follow_up_id=fid, kind=MailKind.REQUEST.value,
                                              state=MailState.DUE.value, due_at=due, attempts=0))
        log.info("feedback scheduled", extra={"request_id": request_id, "due_at": due.isoformat()})

    def cancel(self, session: Session, request_id: str, reason: str) -> bool:
        """Cancel a follow-up that is not answered yet, and every mail of it still waiting."""
        row = session.execute(sa.select(follow_ups.c.id).where(
            follow_ups.c.request_id == request_id,
            follow_ups.c.state.in_([FollowUpState.SCHEDULED.value, FollowUpState.SENT.value]))).first()
        if not row:
            return False
        session.execute(follow_ups.update().where(follow_ups.c.id == row.id).values(
            state=FollowUpState.CANCELLED.value, cancel_reason=reason, updated_at=self.clock.now()))
        session.execute(mails.update().where(mails.c.follow_up_id == row.id, mails.c.state == MailState.DUE.value)
                        .values(state=MailState.CANCELLED.value))
        log.info("feedback cancelled", extra={"request_id": request_id, "reason": reason})
        return True

    def on_key_shredded(self, session: Session, *, request_id: str, shredded_at: datetime) -> None:
        """Consent destroyed the request's data key: drop what the worker wrote about the case
        (free text, what happened next) and remember it, so a later answer keeps only the counts."""
        # Lock the follow-up first: an answer being stored at this moment holds the same row, so
        # it either commits before this (and is blanked below) or sees the mark afterwards.
        follow_up_ids = session.execute(sa.select(follow_ups.c.id).where(follow_ups.c.request_id == request_id)
                                        .with_for_update()).scalars().all()
        if not _shredded(session, request_id):
            session.execute(shredded_requests.insert().values(request_id=request_id, tenant=self.tenant,
                                                              shredded_at=shredded_at))
        if follow_up_ids:
            session.execute(answers.update().where(answers.c.follow_up_id.in_(follow_up_ids))
                            .values(free_text="", what_next=None))
        log.info("feedback case content dropped", extra={"request_id": request_id})

    @staticmethod
    def _fact(session: Session, request_id: str):
        return session.execute(sa.select(request_facts).where(request_facts.c.request_id == request_id)
                               ).mappings().first()

    # --- the worker's link -------------------------------------------------------------------
    def open_link(self, token: str) -> FormContext:
        now = self.clock.now()
        try:
            fid = self.signer.verify(token, now)
        except LinkError as bad:
            raise LinkRefused(bad.reason) from None
        with self.sessions() as s:
            row = s.execute(sa.select(follow_ups).where(follow_ups.c.id == fid,
                                                        follow_ups.c.tenant == self.tenant)).mappings().first()
            content_kept = row is not None and not _shredded(s, row["request_id"])
        if row is None:
            raise LinkRefused("invalid")
        if row["used_at"] is not None or row["state"] == FollowUpState.ANSWERED:
            raise LinkRefused("used")
        if row["state"] == FollowUpState.EXPIRED:
            raise LinkRefused("expired")
        if row["state"] != FollowUpState.SENT:
            raise LinkRefused("cancelled")
        return FormContext(fid, row["request_id"], RequestType(row["type"]), row["consulted_at"], row["expires_at"],
                           content_kept)

    def answer(self, token: str, form: dict[str, str]) -> FormContext:
        """Store the answer once. InvalidArgument (nothing stored, link still usable) when a field
        needs fixing or the free text holds client-identifying data; LinkRefused when used.
        Once the case is shredded only the counted fields are read: the rest is not asked for."""
        ctx = self.open_link(token)
        if not ctx.content_kept:
            form = {k: v for k, v in form.items() if k in COUNTED_FIELDS}
        problems = check_form(form)
        answer, rules = parse_answer(form)
        problems += [p for p in rules if p.field not in {q.field for q in problems}]
        if problems:
            log.info("feedback answer refused", extra={"violations": len(problems),
                                                        "kinds": sorted({p.reason for p in problems})})
            raise InvalidArgument(problems)
        now = self.clock.now()
        with self.sessions.begin() as s:
            # Single use: only one answer can move the follow-up from sent to answered.
            taken = s.execute(follow_ups.update().where(
                follow_ups.c.id == ctx.follow_up_id, follow_ups.c.state == FollowUpState.SENT.value,
                follow_ups.c.used_at.is_(None)).values(
                state=FollowUpState.ANSWERED.value, used_at=now, updated_at=now)).rowcount
            if taken != 1:
                raise LinkRefused("used")
            # Read after the follow-up row is ours (see on_key_shredded): shredded meanwhile or not.
            kept = not _shredded(s, ctx.request_id)
            s.execute(answers.insert().values(
                follow_up_id=ctx.follow_up_id, tenant=self.tenant, type=ctx.type.value, usefulness=answer.usefulness,
                got_needed=answer.got_needed.value,
                what_next=answer.what_next.value if answer.what_next and kept else None,
                free_text=answer.free_text if kept else "", answered_at=now))
            # The reminder goes only to those who have not answered.
            s.execute(mails.update().where(mails.c.follow_up_id == ctx.follow_up_id,
                                           mails.c.state == MailState.DUE.value)
                      .values(state=MailState.CANCELLED.value))
        log.info("feedback answered", extra={"follow_up_id": ctx.follow_up_id})
        return ctx

    # --- the OT team -------------------------------------------------------------------------
    def get_follow_up(self, request_id: str) -> tuple[dict, dict[str, dict]]:
        with self.sessions() as s:
            row = s.execute(sa.select(follow_ups).where(follow_ups.c.request_id == request_id,
                                                        follow_ups.c.tenant == self.tenant)).mappings().first()
            if row is None:
                raise NotFound(f"Pyynnölle {request_id!r} ei ole palautekyselyä. / "
                               f"No feedback follow-up for request {request_id!r}.")
            by_kind = {m["kind"]: dict(m) for m in s.execute(
                sa.select(mails).where(mails.c.follow_up_id == row["id"])).mappings()}
        return dict(row), by_kind

    # --- a person's own notification settings (professional, expert: edge.ACCESS) -----------------
    def notification_settings(self, who: Principal) -> bool:
        """Whether the caller's optional reminders are on (their own user id; on unless they chose)."""
        with self.sessions() as s:
            return reminders_enabled(s, who.subject)

    def set_notification_settings(self, who: Principal, reminders: bool) -> bool:
        now = self.clock.now()
        with self.sessions.begin() as s:
            values = dict(reminders_enabled=reminders, updated_at=now)
            updated = s.execute(notification_settings.update().where(
                notification_settings.c.subject == who.subject).values(**values)).rowcount
            if not updated:
                s.execute(notification_settings.insert().values(subject=who.subject, tenant=self.tenant, **values))
        log.info("notification settings changed", extra={"reminders_enabled": reminders})
        return reminders

    # --- coordinators ------------------------------------------------------------------------
    def statistics(self, period_text: str, type_: RequestType | None = None
                   ) -> tuple[Period, list[Table], dict[str, str]]:
        """`period_text` "all" (the portal's default): every month the area has figures for, so
        that the counts are as large as they can be (see stats.whole_period)."""
        period = self.whole_period() if period_text.strip().lower() == ALL else self.period(period_text)
        return period, *self.compute_statistics(period, type_)

    def whole_period(self) -> Period:
        """From the month of the area's first record (a request, a follow-up sent, an answer) on."""
        with self.sessions() as s:
            firsts = [s.execute(sa.select(sa.func.min(column)).where(table.c.tenant == self.tenant)).scalar()
                      for table, column in ((request_facts, request_facts.c.submitted_at),
                                            (request_facts, request_facts.c.consulted_at),
                                            (follow_ups, follow_ups.c.sent_at), (answers, answers.c.answered_at))]
        return whole_period(min((f for f in firsts if f is not None), default=None), self.clock.now())

    @staticmethod
    def period(period_text: str) -> Period:
        try:
            return parse_period(period_text)
        except PeriodError as bad:
            raise InvalidArgument([FieldViolation("period", str(bad), "invalid")]) from None

    def response_times(self, period: Period, type_: RequestType | None) -> list[ResponseTimes]:
        """Working days to the first response and to the answer per type and quarter (the quarters
        the period touches), over the requests answered in each quarter; small counts suppressed."""
        spans = quarters(period)
        types = [type_.value] if type_ else [t.value for t in RequestType]
        return response_times(self._answered(spans[0].start, spans[-1].end), spans, types)

    def _answered(self, start: datetime, end: datetime) -> list[tuple[str, datetime, int | None, int | None]]:
        """(type, answered_at, working days to the first response, working days to the answer) of
        each request answered in [start, end)."""
        with self.sessions() as s:
            rows = s.execute(sa.select(request_facts.c.type, request_facts.c.answered_at,
                                       request_facts.c.submitted_at, request_facts.c.first_response_at,
                                       request_facts.c.answer_working_days).where(
                request_facts.c.tenant == self.tenant, request_facts.c.answered_at >= start,
                request_facts.c.answered_at < end)).all()
        return [(r.type, r.answered_at,
                 working_days_between(r.submitted_at, r.first_response_at)
                 if r.submitted_at and r.first_response_at else None,
                 r.answer_working_days) for r in rows]

    def compute_statistics(self, period: Period, type_: RequestType | None) -> tuple[list[Table], dict[str, str]]:
        types = [type_] if type_ else list(RequestType)
        columns = [t.value for t in types]
        in_period = lambda col: sa.and_(col >= period.start, col < period.end)  # noqa: E731
        with self.sessions() as s:
            facts = s.execute(sa.select(request_facts).where(request_facts.c.tenant == self.tenant, sa.or_(
                in_period(request_facts.c.submitted_at), in_period(request_facts.c.consulted_at)))).mappings().all()
            sent = s.execute(sa.select(follow_ups.c.type, follow_ups.c.state).where(
                follow_ups.c.tenant == self.tenant, in_period(follow_ups.c.sent_at))).all()
            given = s.execute(sa.select(answers.c.type, answers.c.usefulness, answers.c.got_needed).where(
                answers.c.tenant == self.tenant, in_period(answers.c.answered_at))).all()
        facts = [f for f in facts if f["type"] in columns]
        submitted = [f for f in facts if f["submitted_at"] and period.start <= f["submitted_at"] < period.end]
        consulted = [f for f in facts if f["consulted_at"] and period.start <= f["consulted_at"] < period.end]
        labels = _type_labels()

        sectors = Counter((f["sector"], f["type"]) for f in submitted if f["sector"])
        categories = Counter((c, f["type"]) for f in submitted for c in f["categories"])
        groups = sorted({f["group_id"] for f in consulted if f["group_id"]})
        cases = Counter((f["group_id"], f["type"]) for f in consulted if f["group_id"])
        meetings = Counter(g for g, _ in {(f["group_id"], f["meeting_id"]) for f in consulted if f["meeting_id"]})
        responses = Counter(("answered" if st == FollowUpState.ANSWERED else "not_answered", t)
                            for t, st in sent if t in columns)
        usefulness = Counter((str(u), t) for t, u, _ in given if t in columns)
        got = Counter((g, t) for t, _, g in given if t in columns)

        tables = [
            *_count_tables(columns, sectors, categories),
            Table("cases_by_group", "Ryhmissä käsitellyt tapaukset", "Cases handled per group",
                  groups, columns, dict(cases), dict(labels)),
            Table("meetings_by_group", "Pidetyt kokoukset ryhmittäin", "Meetings held per group",
                  groups, ["meetings"], {(g, "meetings"): n for g, n in meetings.items()},
                  {"meetings": "kokouksia / meetings"}),
            Table("feedback_responses", "Palautekyselyt ja vastaukset", "Feedback requests and answers",
                  ["answered", "not_answered"], columns, dict(responses),
                  {**labels, "answered": "vastattu / answered", "not_answered": "ei vastattu / not answered",
                   TOTAL: "kyselyjä lähetetty / requests sent"}),
            Table("usefulness", "Hyödyllisyys (1–5)", "Usefulness (1–5)", ["1", "2", "3", "4", "5"], columns,
                  dict(usefulness), {**labels, TOTAL: "vastauksia / answers"}),
            Table("got_what_needed", "Saiko tarvitsemansa", "Got what was needed", [g.value for g in GotNeeded],
                  columns, dict(got), {**labels, **{g.value: f"{fi} / {en}" for g, (fi, en) in
                                                    GOT_NEEDED_LABELS.items()}, TOTAL: "vastauksia / answers"}),
        ]
        for t in tables:
            t.finish()
        fr = tables[4]
        rates = {}
        for c in fr.shown_columns:
            if ("answered", c) in fr.hidden or (TOTAL, c) in fr.hidden or not fr.values[(TOTAL, c)]:
                rates[c] = ""
            else:
                rates[c] = f"{100 * fr.values[('answered', c)] / fr.values[(TOTAL, c)]:.0f}"
        # Each table whose every cell is hidden is followed by its coarser stand-ins (stats.coarser).
        return [shown for t in tables for shown in (t, *coarser(t))], rates


    # --- the cooperation area (aggregate.py) ----------------------------------------------------
    def area_counts(self, period: Period) -> Counts:
        """The area's unsuppressed counts for a period, as the statistics count them: requests
        submitted in it by sector and by category, and the requests answered in it with their
        working days."""
        with self.sessions() as s:
            submitted = s.execute(sa.select(request_facts.c.type, request_facts.c.sector,
                                            request_facts.c.categories).where(
                request_facts.c.tenant == self.tenant, request_facts.c.submitted_at >= period.start,
                request_facts.c.submitted_at < period.end)).all()
        counts = Counts()
        for r in submitted:
            if r.sector:
                counts.sectors[(r.sector, r.type)] += 1
            for c in r.categories:
                counts.categories[(c, r.type)] += 1
        for t, _, first, answer in self._answered(period.start, period.end):
            x = counts.times.setdefault(t, TypeTimes())
            x.requests += 1
            if first is not None:
                x.first_response_days[first] += 1
            if answer is not None:
                x.answer_days[answer] += 1
        return counts

    def export_area_aggregate(self, month: str) -> bytes:
        """This area's signed file of one month's counts (aggregate.py), for the coordinating area."""
        if not self.cooperation.share:
            raise AggregateRefused("opted_out", "Alue on jättäytynyt yhteistoiminta-alueen tilastoista "
                                                "(area.statistics.shareWithCooperationArea: false), joten lukuja ei "
                                                "viedä. / The area has opted out of the cooperation-area statistics "
                                                "(area.statistics.shareWithCooperationArea: false), so no counts are "
                                                "exported.")
        if self.cooperation.signing_key is None:
            raise AggregateRefused("no_key", "Tilastojen allekirjoitusavain puuttuu "
                                             "(OT_FEEDBACK_AGGREGATE_SIGNING_KEY, "
                                             "Secret <release>-feedback-secrets, avain aggregate-signing-key). / The "
                                             "statistics signing key is missing (OT_FEEDBACK_AGGREGATE_SIGNING_KEY, "
                                             "Secret <release>-feedback-secrets, key aggregate-signing-key).")
        try:
            period = month_period(month)
        except (ValueError, PeriodError):
            raise AggregateRefused("month", "Anna kuukausi muodossa 2026-05. / Give the month as 2026-05.") from None
        now = self.clock.now()
        if period.start > now:
            raise AggregateRefused("future_month",
                                   f"Kuukausi {month} on vasta tulossa. / Month {month} is still to come.")
        counts = self.area_counts(period)
        log.info("area aggregate exported", extra={"month": month})
        return export_file(self.tenant, month, now, counts, self.cooperation.signing_key)

    def import_area_aggregate(self, data: bytes) -> tuple[AreaAggregate, bool]:
        """Store another area's month (replacing an earlier import of the same area and month, in
        one transaction). Returns the import and whether it replaced one."""
        self._require_coordinating()
        now = self.clock.now()
        try:
            got = read_file(data, own_area=self.tenant, keys=self.cooperation.area_keys, now=now)
        except AggregateRefused as refused:
            log.info("area aggregate refused", extra={"reason": refused.reason})
            raise InvalidArgument([FieldViolation("file", refused.message, refused.reason)]) from None
        with self.sessions.begin() as s:
            replaced = s.execute(area_aggregates.delete().where(area_aggregates.c.area == got.area,
                                                                area_aggregates.c.month == got.month)).rowcount
            s.execute(area_aggregates.insert().values(area=got.area, month=got.month, tenant=self.tenant,
                                                      generated_at=got.generated_at, imported_at=now,
                                                      counts=got.counts.to_json()))
        log.info("area aggregate imported", extra={"area": got.area, "month": got.month, "replaced": bool(replaced)})
        return got, bool(replaced)

    def _require_coordinating(self) -> None:
        if not self.cooperation.coordinating:
            raise FailedPrecondition("Tämä alue ei kokoa yhteistoiminta-alueen tilastoja "
                                     "(area.statistics.coordinating). / This area does not combine the "
                                     "cooperation-area statistics (area.statistics.coordinating).",
                                     "NOT_COORDINATING_AREA", "statistics")

    def cooperation_statistics(self, period_text: str, type_: RequestType | None
                               ) -> tuple[Period, list[Table], list[ResponseTimes], list[CooperationArea]]:
        """The cooperation area's figures: this area's counts and every imported area's months of
        the period, added up, and THEN suppressed as the area's own (a 3 in two areas is a 6; a
        combined figure under 5 stays hidden, also by subtraction)."""
        self._require_coordinating()
        now = self.clock.now()
        with self.sessions() as s:
            imported = s.execute(sa.select(area_aggregates.c.area, area_aggregates.c.month, area_aggregates.c.counts)
                                 .where(area_aggregates.c.tenant == self.tenant)).all()
        if period_text.strip().lower() == ALL:
            own = self.whole_period()
            first = min([own.start, *(month_period(r.month).start for r in imported)])
            period = Period(ALL, first, own.end)
        else:
            period = self.period(period_text)
        months = months_of(period)
        spans = quarters(period)
        span_months = months_of(Period("", spans[0].start, spans[-1].end))
        types = [type_.value] if type_ else [t.value for t in RequestType]

        combined = self.area_counts(period)
        answered = self._answered(spans[0].start, spans[-1].end)
        for r in imported:
            counts = Counts.from_json(r.counts)
            if r.month in months:
                combined.sectors.update(counts.sectors)
                combined.categories.update(counts.categories)
            if r.month in span_months:  # response times are by quarter: the quarters' months
                at = month_period(r.month).start
                for t, x in counts.times.items():
                    first = [d for d, n in x.first_response_days.items() for _ in range(n)]
                    answer = [d for d, n in x.answer_days.items() for _ in range(n)]
                    answered += [(t, at, first[i] if i < len(first) else None,
                                  answer[i] if i < len(answer) else None) for i in range(x.requests)]
        tables = _count_tables(types, combined.sectors, combined.categories)
        for t in tables:
            t.finish()
        shown = [out for t in tables for out in (t, *coarser(t))]

        # Which areas and months are in the figures. A month that has not ended yet is not missing.
        ended = [m for m in months if month_period(m).end <= now]
        have = {(r.area, r.month) for r in imported}
        areas = [CooperationArea(self.tenant, own=True, included=months)]
        for area, key in sorted(self.cooperation.area_keys.items()):
            if key is None:
                areas.append(CooperationArea(area, opted_out=True))
            else:
                areas.append(CooperationArea(area, included=[m for m in months if (area, m) in have],
                                             missing=[m for m in ended if (area, m) not in have]))
        return period, shown, response_times(answered, spans, types), areas


def _type_labels() -> dict[str, str]:
    return {t.value: f"{TYPE_LABELS[t][0]} / {TYPE_LABELS[t][1]}" for t in RequestType}


def _count_tables(columns: list[str], sectors: Counter, categories: Counter) -> list[Table]:
    """The requests by sector and the category mentions, by request type (unfinished): the area's
    own, and the cooperation area's combined counts, alike."""
    labels = _type_labels()
    return [
        Table("contacts_by_sector", "Yhteydenotot sektoreittain", "Contacts by sector",
              [x.value for x in Sector], columns, {k: n for k, n in sectors.items() if k[1] in columns},
              {**labels, **{x.value: f"{fi} / {en}" for x, (fi, en) in SECTOR_LABELS.items()},
               TOTAL: "yhteydenotot yhteensä / contacts in total"}),
        Table("requests_by_category", "Pyynnöt tilanneluokittain", "Requests by case category",
              [x.value for x in Category], columns, {k: n for k, n in categories.items() if k[1] in columns},
              {**labels, **{x.value: f"{fi} / {en}" for x, (fi, en) in CATEGORY_LABELS.items()},
               TOTAL: "luokkamainintoja yhteensä / category mentions in total"}),
    ]


def _shredded(session: Session, request_id: str) -> bool:
    return session.execute(sa.select(shredded_requests.c.request_id)
                           .where(shredded_requests.c.request_id == request_id)).first() is not None
