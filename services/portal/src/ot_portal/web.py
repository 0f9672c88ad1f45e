"""The portal's pages: Flask, server-rendered Jinja2 templates (autoescaped), no HTML in Python.

What is wired here, once per app:
- the server-side session (sessions.py) and sign-in (auth.py);
- CSRF protection on every form (Flask-WTF: a POST without the session's token is refused);
- security headers (Flask-Talisman): a Content-Security-Policy without inline scripts or styles,
  frame-ancestors 'none', nosniff, HSTS and https-only when served over TLS;
- languages (i18n.py), the Helsinki Design System's stylesheet (assets.py);
- one span per page request, whose trace context the gRPC calls carry on (services.py);
- errors as pages a person understands, Finnish first.
"""
from __future__ import annotations

import csv
import io
import json
import logging
import re
from datetime import datetime, timezone
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import grpc
import sqlalchemy as sa
from flask import Flask, Response, g, redirect, render_template, request, url_for
from flask_talisman import Talisman
from flask_wtf.csrf import CSRFError, CSRFProtect
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.propagate import extract
from ot.common.v1 import case_pb2
from ot.feedback.v1 import feedback_pb2
from ot.intake.v1 import intake_pb2
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from ot_runtime.tenants import TENANTS
from ot_runtime.protoconv import to_domain
from ot_runtime.vocabulary import CATEGORY_LABELS, REQUEST_TYPE_LABELS, Category, RequestStatus, RequestType
from ot_runtime.web import create_base_app

from . import auth
from .assets import HDS_CSS, STATIC
from .auth import ProviderUnavailable, SignInRefused, SignInRequired, current_user, require_role
from .i18n import COOKIE as LANGUAGE_COOKIE, LANGUAGES, NAMES as LANGUAGE_NAMES, current_language, init_i18n
from .services import ServiceError, Services
from .sessions import DatabaseSessionInterface

log = logging.getLogger("ot.portal")
_tracer = trace.get_tracer("ot.portal")
HELSINKI = ZoneInfo("Europe/Helsinki")
# A form body is small: the largest this portal will take is a request's text (later pages).
MAX_FORM_BYTES = 256 * 1024
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

STATUS_LABELS = {
    "submitted": ("lähetetty", "submitted"),
    "triaged": ("käsittelyssä", "being handled"),
    "awaiting_information": ("odottaa lisätietojasi", "waiting for your information"),
    "scheduled": ("varattu ryhmän kokoukseen", "booked into a group meeting"),
    "assigned": ("asiantuntija nimetty", "expert assigned"),
    "consulted": ("konsultaatio pidetty", "consultation held"),
    "recommendations_returned": ("vastaus palautettu", "answer returned"),
    "closed": ("päättynyt", "closed"),
    "withdrawn": ("peruttu", "withdrawn"),
}
ROLE_LABELS = {
    "professional": ("ammattilainen", "professional"),
    "coordinator": ("koordinaattori", "coordinator"),
    "secretary": ("sihteeri", "secretary"),
    "expert": ("asiantuntija", "expert"),
    "group-member": ("konsultaatioryhmän jäsen", "consultation group member"),
    "admin": ("tietosuojavastaava", "data-protection officer"),
}
STATS_ROLES = ("coordinator", "secretary")  # feedback's access table for GetStatistics


def in_language(pair: tuple[str, str]) -> str:
    return pair[0] if current_language() == "fi" else pair[1]


def bilingual(text: str) -> str:
    """The services write messages as "suomeksi / in English": the current language's half."""
    fi, sep, en = text.partition(" / ")
    return (fi if current_language() == "fi" else en) if sep else text


def type_label(value: str) -> str:
    return in_language(REQUEST_TYPE_LABELS[RequestType(value)]) if value in RequestType._value2member_map_ else value


def category_label(value: str) -> str:
    return in_language(CATEGORY_LABELS[Category(value)]) if value in Category._value2member_map_ else value


def status_label(value: str) -> str:
    return in_language(STATUS_LABELS[value]) if value in STATUS_LABELS else value


def local_time(value) -> str:
    """A timestamp (protobuf, datetime or ISO text) in Finnish time, as people write it."""
    if value is None or value == "":
        return ""
    if hasattr(value, "ToDatetime"):
        if not value.seconds and not value.nanos:
            return ""
        value = value.ToDatetime(tzinfo=timezone.utc)
    elif isinstance(value, str):
        value = datetime.fromisoformat(value)
    local = value.astimezone(HELSINKI)
    return local.strftime("%-d.%-m.%Y %H:%M") if current_language() == "fi" else local.strftime("%Y-%m-%d %H:%M")


def _csp(settings) -> dict:
    issuer = urlsplit(settings.oidc_issuer)
    return {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        # The design system draws its icons as data: SVGs from its stylesheet.
        "img-src": ["'self'", "data:"],
        "object-src": "'none'",
        "base-uri": "'none'",
        "frame-ancestors": "'none'",
        # Sign-out posts here and is redirected on to the provider's end-session endpoint.
        "form-action": ["'self'", f"{issuer.scheme}://{issuer.netloc}"],
    }


def create_app(settings, engine: sa.Engine, services: Services, readiness_checks: dict | None = None) -> Flask:
    if not (STATIC / HDS_CSS).exists():
        raise RuntimeError(f"{STATIC / HDS_CSS} is missing: run `python services/portal/src/ot_portal/assets.py` "
                           "(make install does)")
    app = create_base_app("portal", readiness_checks or {"database": lambda: _ping(engine)})
    app.config.update(SECRET_KEY=settings.secret_key, MAX_CONTENT_LENGTH=MAX_FORM_BYTES,
                      WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
                      WTF_CSRF_SSL_STRICT=True)
    if settings.trusted_proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies,
                                x_host=settings.trusted_proxies)
    app.session_interface = DatabaseSessionInterface(engine, secure=settings.secure)
    CSRFProtect(app)
    Talisman(app, force_https=settings.secure, strict_transport_security=settings.secure,
             session_cookie_secure=settings.secure, frame_options="DENY", content_security_policy=_csp(settings),
             referrer_policy="same-origin")
    init_i18n(app)
    auth.init_auth(app, settings)
    auth.register_routes(app)
    area = TENANTS[settings.tenant]
    _trace_requests(app)

    @app.context_processor
    def page_globals():
        user = current_user()
        return {"user": user, "lang": current_language(), "languages": LANGUAGES, "language_names": LANGUAGE_NAMES,
                "area": area, "hds_css": HDS_CSS,
                "role_labels": [in_language(ROLE_LABELS[r]) for r in user.roles] if user else [],
                "stats_roles": STATS_ROLES}

    app.jinja_env.filters.update(local_time=local_time, type_label=type_label, category_label=category_label,
                                 status_label=status_label, bilingual=bilingual)

    @app.after_request
    def no_store(response: Response) -> Response:
        # A signed-in person's pages are theirs alone: no shared cache, no back-button copy after sign-out.
        if current_user() is not None or request.path.startswith("/auth/"):
            response.headers["Cache-Control"] = "no-store"
        return response

    def call(service: str, method: str, message):
        return services.call(service, method, message, auth.access_token())

    # --- pages for everyone --------------------------------------------------------------------
    # Fictional (a demonstration): the area's real addresses come with its deployment.
    contact_email = f"ot-tiimi@{settings.tenant}.example.fi"

    @app.get("/")
    def index():
        return render_template("index.html", contact_email=contact_email,
                               category_labels=[in_language(labels) for labels in CATEGORY_LABELS.values()])

    @app.get("/saavutettavuusseloste")
    def accessibility():
        return render_template("accessibility.html", contact_email=contact_email)

    @app.get("/uloskirjautunut")
    def signed_out():
        return render_template("signed_out.html", provider_unavailable=request.args.get("provider") == "unavailable")

    @app.get("/kieli/<language>")
    def set_language(language: str):
        response = redirect(auth.safe_next(request.args.get("next")))
        if language in LANGUAGES:
            response.set_cookie(LANGUAGE_COOKIE, language, max_age=365 * 24 * 3600, path="/", secure=settings.secure,
                                httponly=True, samesite="Lax")
        return response

    # --- a professional's own requests ----------------------------------------------------------
    @app.get("/omat-pyynnot")
    @require_role("professional")
    def my_requests():
        # intake has no "my requests" list for a professional (ListRequests is the OT team's): the
        # professional's own data export names every request they made, with its type, status and
        # dates, and nothing of the case. Each request's page then reads it with GetRequest.
        user = current_user()
        export = call("intake", "ExportProfessionalData", intake_pb2.ProfessionalRef(subject=user.subject))
        requests = sorted(json.loads(export.json).get("requests", []), key=lambda r: r["submitted_at"], reverse=True)
        return render_template("my_requests.html", requests=requests)

    @app.get("/omat-pyynnot/<request_id>")
    @require_role("professional")
    def my_request(request_id: str):
        if not _UUID.fullmatch(request_id):
            return render_template("error.html", kind="not_found"), 404
        found = call("intake", "GetRequest", intake_pb2.GetRequestRequest(request_id=request_id))
        return render_template("request.html", r=found,
                               type_value=to_domain(case_pb2.RequestType, found.type, RequestType) or "",
                               status_value=to_domain(case_pb2.RequestStatus, found.status, RequestStatus) or "",
                               categories=[to_domain(case_pb2.CaseCategory, c, Category) or "" for c in found.categories])

    # --- statistics (the OT team) ---------------------------------------------------------------
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
            return render_template("statistics.html", stats=None, period=period, type_number=type_number,
                                   period_error=bilingual(error.message), types=_types()), 400
        return render_template("statistics.html", stats=stats, period=period, type_number=type_number,
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

    # --- errors ----------------------------------------------------------------------------------
    @app.errorhandler(SignInRequired)
    def sign_in_required(_error):
        target = request.full_path.rstrip("?") if request.method == "GET" else url_for("index")
        return redirect(url_for("login", next=target))

    @app.errorhandler(SignInRefused)
    def sign_in_refused(error: SignInRefused):
        return render_template("error.html", kind=f"sign_in_{error.kind}"), 403 if error.kind in (
            "other_area", "no_role") else 400

    @app.errorhandler(ProviderUnavailable)
    def provider_unavailable(_error):
        return render_template("error.html", kind="provider_unavailable"), 503

    @app.errorhandler(ServiceError)
    def service_error(error: ServiceError):
        log.info("a service refused or did not answer", extra={"service": error.service, "code": error.code.name,
                                                               "reason": error.reason})
        kind, status = SERVICE_ERRORS.get(error.code, ("service_failed", 502))
        message = bilingual(error.message) if kind in ("service_refused", "service_not_found") else ""
        return render_template("error.html", kind=kind, service=error.service, message=message), status

    @app.errorhandler(CSRFError)
    def csrf_refused(_error):
        return render_template("error.html", kind="csrf"), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        kinds = {403: "forbidden", 404: "not_found", 405: "method", 413: "too_large"}
        if error.code in kinds:
            return render_template("error.html", kind=kinds[error.code]), error.code
        return error

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        app.log_exception((type(error), error, error.__traceback__))
        return render_template("error.html", kind="unexpected"), 500

    return app


# What a person is told for each gRPC status: (the error page's kind, HTTP status).
SERVICE_ERRORS = {
    grpc.StatusCode.UNAVAILABLE: ("service_unavailable", 503),
    grpc.StatusCode.DEADLINE_EXCEEDED: ("service_unavailable", 504),
    grpc.StatusCode.PERMISSION_DENIED: ("service_refused", 403),
    grpc.StatusCode.NOT_FOUND: ("service_not_found", 404),
    grpc.StatusCode.UNAUTHENTICATED: ("service_unauthenticated", 401),
    grpc.StatusCode.FAILED_PRECONDITION: ("service_refused", 409),
    grpc.StatusCode.INVALID_ARGUMENT: ("service_refused", 400),
}


def _ping(engine: sa.Engine) -> None:
    with engine.connect() as c:
        c.execute(sa.text("select 1"))


def _types() -> list[tuple[str, str, int]]:
    """The request types to filter the statistics by: (proto name, label, number)."""
    return [(t.name, type_label(to_domain(case_pb2.RequestType, t.number, RequestType)), t.number)
            for t in case_pb2.RequestType.DESCRIPTOR.values if t.number]


def _response_times_view(rt) -> dict:
    return {"quarter": rt.quarter, "type": type_label(to_domain(case_pb2.RequestType, rt.type, RequestType) or ""),
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


def _trace_requests(app: Flask) -> None:
    """A server span per page request, continuing the caller's trace (traceparent) when there is one;
    the gRPC calls made while it is current carry it on."""
    @app.before_request
    def start_span():
        rule = request.url_rule.rule if request.url_rule else "(no route)"  # never the path: it can hold an id
        span = _tracer.start_span(f"{request.method} {rule}", context=extract(dict(request.headers)),
                                  kind=trace.SpanKind.SERVER, attributes={"http.method": request.method,
                                                                          "http.route": rule})
        g._ot_span = span
        g._ot_span_token = otel_context.attach(trace.set_span_in_context(span))

    @app.after_request
    def record_status(response: Response) -> Response:
        span = g.get("_ot_span")
        if span is not None:
            span.set_attribute("http.status_code", response.status_code)
        return response

    @app.teardown_request
    def end_span(_error=None):
        token = g.pop("_ot_span_token", None)
        span = g.pop("_ot_span", None)
        if span is not None:
            span.end()
        if token is not None:
            otel_context.detach(token)
