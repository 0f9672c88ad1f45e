"""Feedback's HTTP side: health, readiness and metrics, and the old address of the answer form.

The worker's answer form and the statistics live in the area's portal (its /palaute/<link token>
page calls OpenFeedbackForm and AnswerFeedback; its statistics page calls GetStatistics). Mails sent
before the form moved link here, to <OT_FEEDBACK_PUBLIC_URL>/palaute/<link token>: those links keep
working by sending the browser on to the portal's page of the same link (OT_PORTAL_URL). Nothing
here reads the link: the portal's call checks it like any other.
"""
from __future__ import annotations

from urllib.parse import quote

from flask import Flask, Response, redirect

from ot_runtime.web import create_base_app


def create_app(portal_url: str, readiness_checks) -> Flask:
    app = create_base_app("feedback", readiness_checks)
    portal_url = portal_url.rstrip("/")

    def to_portal(token: str, status: int) -> Response:
        response = redirect(f"{portal_url}/palaute/{quote(token, safe='')}", status)
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"  # the link must not leak to other sites
        return response

    @app.get("/palaute/<token>")
    def feedback_form(token: str):
        # Permanent: the link's form is at the portal from now on.
        return to_portal(token, 308)

    @app.post("/palaute/<token>")
    def feedback_form_posted(token: str):
        # A form page opened before the move and sent after it: the portal shows the form again
        # (its own, with its CSRF token) rather than taking an answer it did not serve.
        return to_portal(token, 303)

    return app


__all__ = ["create_app"]
