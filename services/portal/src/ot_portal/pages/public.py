"""Pages for everyone: the front page, the accessibility statement, the language switch and the
page after signing out."""
from __future__ import annotations

from flask import Flask, redirect, render_template, request

from ot_runtime.vocabulary import CATEGORY_LABELS

from .. import auth
from ..i18n import COOKIE as LANGUAGE_COOKIE, LANGUAGES
from ..present import in_language
from . import PageContext


def register(app: Flask, ctx: PageContext) -> None:
    settings = ctx.settings
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
