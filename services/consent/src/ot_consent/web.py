"""Consent's HTTP side: health, metrics, and the old address of the privacy notice.

The notice is the portal's page (/tietosuojaseloste), worded there from consent's
GetPrivacyNotice (the area's values, the live retention policies, what the code keeps), in the
portal's look and languages. Consent's own /tietosuoja and /privacy, which mails and documents
have linked to, redirect there; consent renders no page of its own.
"""
from __future__ import annotations

from flask import Flask, redirect

from ot_runtime.web import create_base_app

# The portal's page (services/portal/src/ot_portal/pages/notice.py).
PORTAL_NOTICE_PATH = "/tietosuojaseloste"


def create_app(readiness_checks, portal_url: str) -> Flask:
    app = create_base_app("consent", readiness_checks)
    target = portal_url.rstrip("/") + PORTAL_NOTICE_PATH

    @app.get("/privacy")
    @app.get("/tietosuoja")
    def privacy():
        # Nothing of the request is carried over (query string, headers): every variant goes to the same page.
        return redirect(target, code=301)

    return app
