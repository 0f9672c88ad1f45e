"""Thin servicer: proto in -> handler -> proto out. No rules here (who may call: edge.ACCESS)."""
from __future__ import annotations

from ot.common.v1 import case_pb2
from ot.feedback.v1 import feedback_pb2 as pb
from ot.feedback.v1 import feedback_pb2_grpc

from ot_runtime.auth import current_principal
from ot_runtime.errors import FailedPrecondition, NotFound, OtError, PermissionDenied
from ot_runtime.protoconv import to_domain, to_proto, ts
from .domain import MAX_FREE_TEXT, FollowUpState, GotNeeded, MailKind, RequestType, WhatNext
from .handlers import FeedbackHandlers, LinkRefused
from .stats import RULE_TEXT, ResponseTimes, Table

# Why a link does not open the form, in words the worker understands, and nothing about the case:
# (the google.rpc.PreconditionFailure type and ErrorInfo reason, the message). "invalid" covers
# every link that is not one of ours (mistyped, cut, forged, another area's) alike.
LINK_INVALID = ("Linkki ei kelpaa. Tarkista, että kopioit koko linkin sähköpostista. / "
                "The link is not valid. Check that you copied the whole link from the e-mail.")
LINK_REFUSED = {
    "expired": ("LINK_EXPIRED", "Linkki on vanhentunut: vastausaika on päättynyt. Kiitos silti! / "
                                "The link has expired: the time to answer has ended. Thank you all the same!"),
    "used": ("LINK_USED", "Linkkiä on jo käytetty: palaute on annettu tällä linkillä. Kiitos! / "
                          "The link has already been used: the feedback was given with it. Thank you!"),
    "cancelled": ("FOLLOW_UP_CANCELLED", "Palautekysely on peruttu: tähän pyyntöön ei kysytä palautetta. / "
                                         "The feedback request was cancelled: no feedback is asked for it."),
}


def link_error(refused: LinkRefused) -> OtError:
    if refused.reason not in LINK_REFUSED:
        return NotFound(LINK_INVALID)
    kind, message = LINK_REFUSED[refused.reason]
    return FailedPrecondition(message, kind, "feedback link", info={"link": refused.reason})


def _set(**timestamps) -> dict:
    """Only the times that are there: an unset one stays unset (not 1970-01-01)."""
    return {name: ts(value) for name, value in timestamps.items() if value is not None}


def table_to_proto(t: Table) -> pb.Table:
    return pb.Table(name=t.name, title_fi=t.title_fi, title_en=t.title_en, rows=t.shown_rows,
                    columns=t.shown_columns,
                    cells=[pb.Cell(row=r, column=c, value=t.cell(r, c), suppressed=(r, c) in t.hidden)
                           for r in t.shown_rows for c in t.shown_columns],
                    labels={k: t.label(k) for k in [*t.shown_rows, *t.shown_columns]}, coarser_of=t.coarser_of)


def times_to_proto(r: ResponseTimes) -> pb.ResponseTimes:
    return pb.ResponseTimes(type=to_proto(case_pb2.RequestType, RequestType(r.type)), quarter=r.quarter,
                            requests=r.requests, first_response_median_days=r.first_response_median,
                            first_response_p90_days=r.first_response_p90, answer_median_days=r.answer_median,
                            answer_p90_days=r.answer_p90)


class FeedbackServicer(feedback_pb2_grpc.FeedbackServiceServicer):
    def __init__(self, handlers: FeedbackHandlers):
        self.h = handlers

    def GetStatistics(self, request, context):
        type_ = to_domain(case_pb2.RequestType, request.type, RequestType)
        coordinator = current_principal().has_any("coordinator")
        if request.cooperation_area:
            if not coordinator:
                raise PermissionDenied("Yhteistoiminta-alueen tilastot ovat koordinaattoreille. / The cooperation "
                                       "area's statistics are for coordinators.", "ROLE_NOT_ALLOWED",
                                       {"method": "GetStatistics"})
            period, tables, times, areas = self.h.cooperation_statistics(request.period, type_)
            rates: dict[str, str] = {}
        else:
            period, tables, rates = self.h.statistics(request.period, type_)
            times, areas = self.h.response_times(period, type_), []
        return pb.Statistics(tenant=self.h.tenant, period=period.label, period_start=ts(period.start),
                             period_end=ts(period.end), tables=[table_to_proto(t) for t in tables],
                             response_rate_percent=rates, suppression_rule=RULE_TEXT,
                             response_times=[times_to_proto(r) for r in times],
                             cooperation_areas=[pb.CooperationArea(area=a.area, own=a.own, opted_out=a.opted_out,
                                                                   included_months=a.included,
                                                                   missing_months=a.missing) for a in areas],
                             cooperation_available=coordinator and self.h.cooperation.coordinating)

    def ImportAreaAggregate(self, request, context):
        got, replaced = self.h.import_area_aggregate(request.file)
        return pb.AreaAggregateImported(area=got.area, month=got.month, replaced=replaced)

    def GetNotificationSettings(self, request, context):
        return pb.NotificationSettings(reminders_enabled=self.h.notification_settings(current_principal()))

    def SetNotificationSettings(self, request, context):
        return pb.NotificationSettings(
            reminders_enabled=self.h.set_notification_settings(current_principal(), request.reminders_enabled))

    def GetFollowUp(self, request, context):
        row, by_kind = self.h.get_follow_up(request.request_id)
        first, reminder = by_kind.get(MailKind.REQUEST.value, {}), by_kind.get(MailKind.REMINDER.value, {})
        return pb.FollowUp(
            request_id=row["request_id"], type=to_proto(case_pb2.RequestType, RequestType(row["type"])),
            state=to_proto(pb.FollowUpState, FollowUpState(row["state"])), cancel_reason=row["cancel_reason"] or "",
            **_set(consulted_at=row["consulted_at"], request_due_at=first.get("due_at"),
                   request_sent_at=first.get("sent_at"), reminder_due_at=reminder.get("due_at"),
                   reminder_sent_at=reminder.get("sent_at"), expires_at=row["expires_at"]))

    # --- the worker's mailed link (open to anyone: edge.ACCESS) ---------------------------------
    def OpenFeedbackForm(self, request, context):
        try:
            form = self.h.open_link(request.link_token)
        except LinkRefused as refused:
            raise link_error(refused) from None
        return pb.FeedbackForm(type=to_proto(case_pb2.RequestType, form.type), case_questions=form.content_kept,
                               answer_by=ts(form.expires_at), free_text_max_chars=MAX_FREE_TEXT)

    def AnswerFeedback(self, request, context):
        got = to_domain(pb.GotNeeded, request.got_needed, GotNeeded)
        what = to_domain(pb.WhatNext, request.what_next, WhatNext)
        # The answer as the handler reads it (its rules name these fields, as the proto does). A
        # usefulness outside 1-5 is one not given: the handler asks for one on the scale.
        answer = {"usefulness": str(request.usefulness) if 1 <= request.usefulness <= 5 else "",
                  "got_needed": got.value if got else "", "what_next": what.value if what else "",
                  "free_text": request.free_text}
        try:
            self.h.answer(request.link_token, answer)
        except LinkRefused as refused:
            raise link_error(refused) from None
        return pb.AnswerFeedbackResponse()
