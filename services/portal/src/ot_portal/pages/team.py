"""The OT team's pages (coordinator, secretary): statistics now; the worklist, triage, proposals
and assignment, the conversation, meetings and agendas to come."""
from __future__ import annotations

import csv
import io
from datetime import datetime

import grpc
from flask import Flask, Response, render_template, request
from ot.common.v1 import case_pb2
from ot.feedback.v1 import feedback_pb2

from ..auth import require_role
from ..present import HELSINKI, bilingual, type_label
from ..services import ServiceError
from . import PageContext

STATS_ROLES = ("coordinator", "secretary")  # feedback's access table for GetStatistics


def register(app: Flask, ctx: PageContext) -> None:
    call = ctx.call
    settings = ctx.settings

    def statistics_args() -> tuple[str, int]:
        period = request.args.get("period", "").strip()[:20] or str(datetime.now(HELSINKI).year)
        type_name = request.args.get("type", "").strip()
        type_number = case_pb2.RequestType.Value(type_name) if type_name in case_pb2.RequestType.keys() else 0
        return period, type_number

    @app.get("/tilastot")
    @require_role(*STATS_ROLES)
    def statistics():
        period, type_number = statistics_args()
        try:
            stats = call("feedback", "GetStatistics", feedback_pb2.GetStatisticsRequest(period=period, type=type_number))
        except ServiceError as error:
            if error.code is not grpc.StatusCode.INVALID_ARGUMENT:
                raise
            return render_template("team/statistics.html", stats=None, period=period, type_number=type_number,
                                   period_error=bilingual(error.message), types=_types()), 400
        return render_template("team/statistics.html", stats=stats, period=period, type_number=type_number,
                               tables=[_table_view(t) for t in stats.tables], types=_types(), period_error="",
                               response_times=[_response_times_view(rt) for rt in stats.response_times])

    @app.get("/tilastot.csv")
    @require_role(*STATS_ROLES)
    def statistics_csv():
        period, type_number = statistics_args()
        stats = call("feedback", "GetStatistics", feedback_pb2.GetStatisticsRequest(period=period, type=type_number))
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["period", "table", "row", "column", "value"])
        for table in stats.tables:
            cells = {(c.row, c.column): c.value for c in table.cells}
            for row in table.rows:
                for column in table.columns:
                    writer.writerow([stats.period, table.name, row, column, cells.get((row, column), "")])
        response = Response(out.getvalue(), mimetype="text/csv")
        response.headers["Content-Disposition"] = f"attachment; filename=ot-{settings.tenant}-{stats.period}.csv"
        return response


def _types() -> list[tuple[str, str, int]]:
    """The request types to filter the statistics by: (proto name, label, number)."""
    return [(t.name, type_label(t.number), t.number) for t in case_pb2.RequestType.DESCRIPTOR.values if t.number]


def _response_times_view(rt) -> dict:
    return {"quarter": rt.quarter, "type": type_label(rt.type),
            "requests": rt.requests, "first_response_median_days": rt.first_response_median_days,
            "first_response_p90_days": rt.first_response_p90_days, "answer_median_days": rt.answer_median_days,
            "answer_p90_days": rt.answer_p90_days}


def _table_view(table) -> dict:
    """A statistics table as the template draws it: labels in the current language, every cell, and
    the bars of the chart (each row's total; a suppressed one drawn hatched at the threshold)."""
    cells = {(c.row, c.column): c for c in table.cells}
    labels = {key: bilingual(text) for key, text in table.labels.items()}
    column = "total" if "total" in table.columns else (table.columns[0] if table.columns else "")
    bars = []
    for row in table.rows:
        if row == "total" or (row, column) not in cells:
            continue
        cell = cells[(row, column)]
        number = int(cell.value) if cell.value.isdigit() else None
        bars.append({"label": labels.get(row, row), "value": cell.value, "number": number if number is not None else 4,
                     "hidden": number is None})
    top = max([b["number"] for b in bars] + [5])
    for b in bars:
        b["width"] = max(1, round(300 * b["number"] / top))
    return {"name": table.name, "title": bilingual(f"{table.title_fi} / {table.title_en}"), "rows": list(table.rows),
            "columns": list(table.columns), "labels": labels, "cells": {k: c.value for k, c in cells.items()},
            "bars": bars}
