"""The privacy notice (tietosuojaseloste), for everyone, signed in or not: /tietosuojaseloste.

Its content is consent's GetPrivacyNotice (open to anyone: no token is sent): the area's values
(controller, contacts, processors), the live retention policies and what the platform keeps and
shares. The words are here (templates/notice/, the notice.po catalogues), so the page says in
the portal's look and language exactly what the code does. Consent's own /tietosuoja and /privacy
redirect here. (/tietosuoja of this portal is the data-protection officer's work page, pages/officer.py.)
"""
from __future__ import annotations

from flask import Flask, render_template
from ot.consent.v1 import consent_pb2

from ..i18n import current_language
from . import PageContext


def register(app: Flask, ctx: PageContext) -> None:
    @app.get("/tietosuojaseloste")
    def privacy_notice():
        # The area's own texts (its name) in the page's language when it publishes one; the page's
        # words follow the portal's language switch. A service that does not answer is the error page.
        notice = ctx.call_without_sign_in("consent", "GetPrivacyNotice",
                                          consent_pb2.GetPrivacyNoticeRequest(language=current_language()))
        subjects = ("professional", "client", "expert", "staff")
        categories = {s: [c for c in notice.data_categories if c.subject == s] for s in subjects}
        return render_template("notice/index.html", notice=notice, categories=categories,
                               recipients={r.code: r for r in notice.recipients})
