"""The worker's feedback form behind the mailed link, /palaute/<link token>: no sign-in (the worker
may have no account in the area), the link's token is the permission. Feedback opens its two calls
to anyone for this (OpenFeedbackForm, AnswerFeedback) and decides everything: whether the link
works (one follow-up, until it expires, once), which questions are asked (the case questions only
while the case's content is kept), and every rule of the answer, the client-identifier guard
included. The portal shows the form, sends the answer, and shows each refusal at its field (the
service's BadRequest) or, for a link that does not open, a page that says why and nothing more.

Mails sent before the form moved here link to the feedback service's own address, which sends the
browser on to this page (feedback's web.py)."""
from __future__ import annotations

from datetime import timezone

import grpc
from flask import Flask, make_response, redirect, render_template, request, url_for
from ot.feedback.v1 import feedback_pb2

from ..i18n import current_language
from ..present import HELSINKI, bilingual
from ..services import ServiceError
from . import PageContext
from .professional import clean_text, form_errors

# The form's fields, named as AnswerFeedbackRequest's, so that a violation lands at its own field.
FIELDS = ("usefulness", "got_needed", "what_next", "free_text")
# Where a violation of a field the form does not have is shown (the error summary links the form).
FORM = "feedback-form"
USEFULNESS = ("1", "2", "3", "4", "5")
# The choices' values in the form are the proto's enum names (GOT_NEEDED_YES, WHAT_NEXT_OTHER, ...).
GOT_NEEDED_NAMES = [v.name for v in feedback_pb2.GotNeeded.DESCRIPTOR.values if v.number]
WHAT_NEXT_NAMES = [v.name for v in feedback_pb2.WhatNext.DESCRIPTOR.values if v.number]
# Why a link does not open the form: feedback's ErrorInfo reason -> the page's kind. A link that is
# not one of the area's at all (NOT_FOUND, or a token of the wrong form) is "invalid".
LINK_REFUSALS = {"LINK_EXPIRED": "expired", "LINK_USED": "used", "FOLLOW_UP_CANCELLED": "cancelled"}


def _link_refusal(error: ServiceError) -> str | None:
    """The kind of link page for a refusal of the link itself; None for any other refusal."""
    if error.code is grpc.StatusCode.NOT_FOUND:
        return "invalid"
    if error.code is grpc.StatusCode.INVALID_ARGUMENT and any(path == "link_token" for path, _ in error.violations):
        return "invalid"
    if error.code is grpc.StatusCode.FAILED_PRECONDITION:
        return LINK_REFUSALS.get(error.reason, "invalid")
    return None


def _date(timestamp) -> str:
    local = timestamp.ToDatetime(tzinfo=timezone.utc).astimezone(HELSINKI)
    return local.strftime("%-d.%-m.%Y") if current_language() == "fi" else local.strftime("%Y-%m-%d")


def _answer(form, token: str, case_questions: bool) -> feedback_pb2.AnswerFeedbackRequest:
    """The message from the posted form. Only what it must to build the message is checked here (a
    value that is not one of the options is "not given"); every rule is feedback's. The case
    questions are sent only while the form asks them (a form opened before the case's content was
    deleted may still post them)."""
    usefulness = form.get("usefulness", "")
    got_needed = form.get("got_needed", "")
    message = feedback_pb2.AnswerFeedbackRequest(
        link_token=token, usefulness=int(usefulness) if usefulness in USEFULNESS else 0,
        got_needed=feedback_pb2.GotNeeded.Value(got_needed) if got_needed in GOT_NEEDED_NAMES else 0)
    if case_questions:
        what_next = form.get("what_next", "")
        message.what_next = feedback_pb2.WhatNext.Value(what_next) if what_next in WHAT_NEXT_NAMES else 0
        message.free_text = clean_text(form.get("free_text", ""))
    return message


def register(app: Flask, ctx: PageContext) -> None:
    def open_form(token: str) -> feedback_pb2.FeedbackForm:
        return ctx.call_without_sign_in("feedback", "OpenFeedbackForm",
                                        feedback_pb2.OpenFeedbackFormRequest(link_token=token))

    def page(template: str, status: int = 200, **context):
        response = make_response(render_template(template, **context), status)
        # The address holds the link's token: no copy of the page in any cache.
        response.headers["Cache-Control"] = "no-store"
        return response

    def link_page(kind: str):
        return page("feedback/link.html", 404 if kind == "invalid" else 410, kind=kind)

    def form_page(token: str, form: feedback_pb2.FeedbackForm, values: dict, errors: dict, status: int = 200):
        return page("feedback/form.html", status, token=token, form=form, answer_by=_date(form.answer_by),
                    values=values, errors=errors)

    @app.get("/palaute/kiitos")
    def feedback_thanks():
        return page("feedback/thanks.html")

    @app.route("/palaute/<token>", methods=["GET", "POST"])
    def feedback_form(token: str):
        try:
            form = open_form(token)
        except ServiceError as error:
            kind = _link_refusal(error)
            if kind is None:
                raise
            return link_page(kind)
        if request.method == "GET":
            return form_page(token, form, {}, {})
        message = _answer(request.form, token, form.case_questions)
        values = {"usefulness": request.form.get("usefulness", ""), "got_needed": request.form.get("got_needed", ""),
                  "what_next": request.form.get("what_next", ""), "free_text": message.free_text}
        try:
            ctx.call_without_sign_in("feedback", "AnswerFeedback", message)
        except ServiceError as error:
            kind = _link_refusal(error)
            if kind is not None:  # expired or answered in another tab meanwhile
                return link_page(kind)
            if error.code is not grpc.StatusCode.INVALID_ARGUMENT:
                raise
            errors = form_errors(error.violations, set(FIELDS), FORM) or {FORM: bilingual(error.message)}
            return form_page(token, form, values, errors, 400)
        return redirect(url_for("feedback_thanks"), 303)
