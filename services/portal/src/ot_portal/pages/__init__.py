"""The portal's pages, one module per kind of work (each registers its routes on the app):

- public: the front page, the accessibility statement, the language switch, "signed out";
- professional: a professional's requests, the forms to ask and to book, replies, their data;
- casework: an expert's assignments and a consultation group member's meetings, reading a case
  and writing a statement;
- team: the OT team's work (coordinator, secretary): worklist, triage, proposals and assignment,
  the conversation, meetings and agendas, statistics;
- officer: the data-protection officer's: a professional's export and erasure, the audit trail.
- notice: the privacy notice (tietosuojaseloste), for everyone, from consent's GetPrivacyNotice.
- feedback: the worker's feedback form behind the mailed link (no sign-in: the link is the permission).

Each module keeps its templates in templates/<module>/ and its texts in its own catalogue
(translations/<lang>/LC_MESSAGES/<module>.po), so the modules can change independently.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from flask import Flask

from ..services import Services


@dataclass(frozen=True)
class PageContext:
    settings: object
    services: Services
    # call(service, method, request message): the RPC with the signed-in person's own token
    call: Callable
    # call_without_sign_in(service, method, request message): only for RPCs open to anyone
    call_without_sign_in: Callable


def register_all(app: Flask, ctx: PageContext) -> None:
    from . import casework, feedback, notice, officer, professional, public, team
    for module in (public, professional, casework, team, officer, notice, feedback):
        module.register(app, ctx)
