"""An expert's and a consultation group member's pages: the expert's assignments (experts'
ListMyAssignments), the meetings of the member's groups (intake's ListMeetings for each group of the
token's `ot_groups`, and each meeting's GetMeetingAgenda), reading a case (GetRequest and
ListEntries: each read of its content is checked and audited by consent, with the person's own
token), and an assigned expert's statement (AddEntry STATEMENT).

The services decide who may read what; a refusal (not assigned, the client's consent withdrawn or
not covering them, the group's answer already returned) is shown in words, with the service's own
message."""
from __future__ import annotations

import grpc
from flask import Flask, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from ot.experts.v1 import experts_pb2
from ot.intake.v1 import intake_pb2

from ..auth import current_user, require_role
from ..present import UUID, bilingual
from ..services import ServiceError
from . import PageContext
from .professional import OPEN, REFUSED_HERE, clean_text, form_errors, new_key

CASE_READERS = ("expert", "group-member")


def register(app: Flask, ctx: PageContext) -> None:
    call = ctx.call

    def checked_id(value: str) -> None:
        if not UUID.fullmatch(value):  # not sent on: it is no request's or meeting's id
            abort(404)

    def refused(error: ServiceError):
        """A service's PERMISSION_DENIED as a page: what it means for this person, and the
        service's own words."""
        return render_template("casework/refused.html", reason=error.reason, message=bilingual(error.message)), 403

    # --- an expert's assignments -------------------------------------------------------------
    @app.get("/toimeksiannot")
    @require_role("expert")
    def my_assignments():
        try:
            found = call("experts", "ListMyAssignments", experts_pb2.ListMyAssignmentsRequest())
        except ServiceError as error:
            if error.code is not grpc.StatusCode.PERMISSION_DENIED:
                raise
            return refused(error)  # EXPERT_NOT_LINKED: the login is linked to no expert of this area
        return render_template("casework/assignments.html", assignments=list(found.assignments))

    # --- a group member's meetings -------------------------------------------------------------
    @app.get("/ryhman-kokoukset")
    @require_role("group-member")
    def group_meetings():
        groups = current_user().groups
        meetings = {group: list(call("intake", "ListMeetings", intake_pb2.ListMeetingsRequest(group_id=group)).meetings)
                    for group in groups}
        return render_template("casework/meetings.html", meetings=meetings)

    @app.get("/ryhman-kokoukset/<meeting_id>")
    @require_role("group-member")
    def group_meeting(meeting_id: str):
        checked_id(meeting_id)
        try:
            agenda = call("intake", "GetMeetingAgenda", intake_pb2.GetMeetingAgendaRequest(meeting_id=meeting_id))
        except ServiceError as error:
            if error.code is not grpc.StatusCode.PERMISSION_DENIED:
                raise
            return refused(error)
        return render_template("casework/agenda.html", agenda=agenda)

    # --- reading a case, writing a statement -----------------------------------------------------
    def case_page(request_id: str, statement: dict | None = None, status: int = 200):
        try:
            r = call("intake", "GetRequest", intake_pb2.GetRequestRequest(request_id=request_id))
        except ServiceError as error:
            if error.code is not grpc.StatusCode.PERMISSION_DENIED:
                raise
            return refused(error)
        entries, conversation_refused = [], None
        # The conversation only when there is one and consent let this person read the content
        # (otherwise the read would only be refused, and audited as such).
        if r.entries and r.content_included:
            try:
                entries = list(call("intake", "ListEntries", intake_pb2.ListEntriesRequest(request_id=request_id)).entries)
            except ServiceError as error:
                if error.code is not grpc.StatusCode.PERMISSION_DENIED:
                    raise
                conversation_refused = {"reason": error.reason, "message": bilingual(error.message)}
        user = current_user()
        return render_template(
            "casework/case.html", r=r, entries=entries, conversation_refused=conversation_refused,
            may_write=user.has("expert") and r.content_included and r.status in OPEN,
            statement=statement or {"fields": {"idempotency_key": new_key()}, "errors": {}}), status

    @app.get("/tapaukset/<request_id>")
    @require_role(*CASE_READERS)
    def case(request_id: str):
        checked_id(request_id)
        return case_page(request_id)

    @app.post("/tapaukset/<request_id>/lausunto")
    @require_role("expert")
    def write_statement(request_id: str):
        checked_id(request_id)
        text = clean_text(request.form.get("statement", ""))
        key = request.form.get("idempotency_key", "") or new_key()
        try:
            call("intake", "AddEntry", intake_pb2.AddEntryRequest(
                request_id=request_id, kind=intake_pb2.ENTRY_KIND_STATEMENT, text=text,
                author_name=current_user().name, idempotency_key=key))
        except ServiceError as error:
            if error.code is grpc.StatusCode.PERMISSION_DENIED:
                return refused(error)
            if error.code is grpc.StatusCode.INVALID_ARGUMENT:
                message = " ".join(form_errors(error.violations, {"text"}, "text").values()) or bilingual(error.message)
            elif error.code in REFUSED_HERE:
                message = bilingual(error.message)
            else:
                raise
            form = {"fields": {"statement": text, "idempotency_key": key}, "errors": {"statement": message}}
            return case_page(request_id, form, 400 if error.code is grpc.StatusCode.INVALID_ARGUMENT else 409)
        flash(_("Your statement was added: the OT team and the professional can read it."))
        return redirect(url_for("case", request_id=request_id))
