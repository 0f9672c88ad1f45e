"""Thin servicer: proto in -> handler -> proto out. No rules here (who may call: edge.ACCESS)."""
from __future__ import annotations

from ot.common.v1 import case_pb2
from ot.feedback.v1 import feedback_pb2 as pb
from ot.feedback.v1 import feedback_pb2_grpc

from ot_runtime.auth import current_principal
from ot_runtime.protoconv import to_domain, to_proto, ts
from .domain import FollowUpState, MailKind, RequestType
from .handlers import FeedbackHandlers
from .stats import RULE_TEXT, Table


def table_to_proto(t: Table) -> pb.Table:
    return pb.Table(name=t.name, title_fi=t.title_fi, title_en=t.title_en, rows=t.shown_rows,
                    columns=t.shown_columns,
                    cells=[pb.Cell(row=r, column=c, value=t.cell(r, c), suppressed=(r, c) in t.hidden)
                           for r in t.shown_rows for c in t.shown_columns],
                    labels={k: t.label(k) for k in [*t.shown_rows, *t.shown_columns]})


class FeedbackServicer(feedback_pb2_grpc.FeedbackServiceServicer):
    def __init__(self, handlers: FeedbackHandlers):
        self.h = handlers

    def GetStatistics(self, request, context):
        type_ = to_domain(case_pb2.RequestType, request.type, RequestType)
        period, tables, rates = self.h.statistics(request.period, type_)
        times = [pb.ResponseTimes(type=to_proto(case_pb2.RequestType, RequestType(r.type)), quarter=r.quarter,
                                  requests=r.requests, first_response_median_days=r.first_response_median,
                                  first_response_p90_days=r.first_response_p90, answer_median_days=r.answer_median,
                                  answer_p90_days=r.answer_p90)
                 for r in self.h.response_times(period, type_)]
        return pb.Statistics(tenant=self.h.tenant, period=period.label, period_start=ts(period.start),
                             period_end=ts(period.end), tables=[table_to_proto(t) for t in tables],
                             response_rate_percent=rates, suppression_rule=RULE_TEXT, response_times=times)

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
            state=to_proto(pb.FollowUpState, FollowUpState(row["state"])), consulted_at=ts(row["consulted_at"]),
            request_due_at=ts(first.get("due_at")), request_sent_at=ts(first.get("sent_at")),
            reminder_due_at=ts(reminder.get("due_at")), reminder_sent_at=ts(reminder.get("sent_at")),
            expires_at=ts(row["expires_at"]), cancel_reason=row["cancel_reason"] or "")
