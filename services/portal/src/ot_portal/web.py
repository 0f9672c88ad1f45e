"""The portal's pages: Flask, server-rendered Jinja2 templates (autoescaped), no HTML in Python.

What is wired here, once per app:
- the server-side session (sessions.py) and sign-in (auth.py);
- CSRF protection on every form (Flask-WTF: a POST without the session's token is refused);
- security headers (Flask-Talisman): a Content-Security-Policy without inline scripts or styles,
  frame-ancestors 'none', nosniff, HSTS and https-only when served over TLS;
- languages (i18n.py), the Helsinki Design System's stylesheet (assets.py);
- one span per page request (ot_runtime.web, OpenTelemetry's WSGI middleware), whose trace context
  the gRPC calls carry on (their channels are traced: ot_runtime.grpc_client);
- errors as pages a person understands, Finnish first.
"""
from __future__ import annotations

import logging
from urllib.parse import urlsplit

import grpc
import sqlalchemy as sa
from flask import Flask, Response, redirect, render_template, request, url_for
from flask_talisman import Talisman
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from ot_runtime.tenants import TENANTS
from ot_runtime.web import create_base_app

from . import auth, pages
from .assets import HDS_CSS, STATIC
from .auth import ProviderUnavailable, SignInRefused, SignInRequired, current_user
from .i18n import LANGUAGES, NAMES as LANGUAGE_NAMES, current_language, init_i18n
from .pages.team import STATS_ROLES
from .present import FILTERS, bilingual, role_label
from .services import ServiceError, Services
from .sessions import DatabaseSessionInterface

log = logging.getLogger("ot.portal")
# A form body is small: the largest this portal will take is a request's text.
MAX_FORM_BYTES = 256 * 1024


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
    # The kubelet's probes and Prometheus reach the pod directly over plain HTTP (TLS ends at the
    # ingress): these three are never redirected to https.
    for endpoint in ("healthz", "readyz", "metrics"):
        app.view_functions[endpoint].talisman_view_options = {"force_https": False}
    init_i18n(app)
    auth.init_auth(app, settings)
    auth.register_routes(app)
    area = TENANTS[settings.tenant]

    @app.context_processor
    def page_globals():
        user = current_user()
        return {"user": user, "lang": current_language(), "languages": LANGUAGES, "language_names": LANGUAGE_NAMES,
                "area": area, "hds_css": HDS_CSS,
                "role_labels": [role_label(r) for r in user.roles] if user else [],
                "stats_roles": STATS_ROLES}

    app.jinja_env.filters.update(FILTERS)

    @app.after_request
    def no_store(response: Response) -> Response:
        # A signed-in person's pages are theirs alone: no shared cache, no back-button copy after sign-out.
        if current_user() is not None or request.path.startswith("/auth/"):
            response.headers["Cache-Control"] = "no-store"
        return response

    def call(service: str, method: str, message):
        return services.call(service, method, message, auth.access_token())

    def call_without_sign_in(service: str, method: str, message):
        return services.call(service, method, message, None)

    pages.register_all(app, pages.PageContext(settings=settings, services=services, call=call,
                                              call_without_sign_in=call_without_sign_in))

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

