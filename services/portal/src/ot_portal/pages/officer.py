"""The data-protection officer's pages (role `admin`), and the audit trail the coordinator reads too.

- A professional's data: intake's ExportProfessionalData for a user id, shown and downloadable as
  JSON; EraseProfessionalData after a confirmation step that shows what will be erased.
- The audit trail (consent's QueryAudit by request, action, actor and dates, a page at a time;
  VerifyAudit; the same query exported as JSON lines).
- What the retention purge has shredded: consent keeps no purge history of its own beyond the
  audit trail, whose `key.shredded` entries (when, which request, by which rule, by the scheduler or
  a coordinator's run) are the report; orphan cases discarded are its `case.abandoned` entries.

The officer reads no case content: neither intake nor consent hands it to the `admin` role.
"""
from __future__ import annotations

import json
from datetime import date, timedelta, timezone

import grpc
from flask import (Flask, Response, abort, flash, redirect, render_template, request, stream_with_context,
                   url_for)
from flask_babel import gettext as _
from ot.consent.v1 import consent_pb2
from ot.intake.v1 import intake_pb2

from ..auth import require_role
from ..present import UUID, bilingual
from ..services import ServiceError
from . import PageContext
from .professional import form_errors
from .team import day_start

OFFICER = ("admin",)
AUDIT_ROLES = ("coordinator", "admin")  # consent's access table for QueryAudit and VerifyAudit
# The trail's actions (consent's audit.ACTIONS): the closed set QueryAudit's filter accepts.
ACTIONS = ("content.read", "content.refused", "sharing.check", "case.opened", "consent.recorded",
           "consent.withdrawn", "policy.changed", "key.shredded", "case.abandoned", "master_key.current",
           "master_key.rewrapped", "master_key.retired")
PAGE_SIZE = 100
EXPORT_PAGE_SIZE = 1000  # QueryAudit's largest page
MAX_SUBJECT = 200


def audit_entry(entry) -> dict:
    """One trail entry as the JSON-lines export writes it (UTC times, every field the trail keeps)."""
    return {"sequence": entry.sequence, "at": entry.at.ToDatetime(tzinfo=timezone.utc).isoformat(),
            "actor": entry.actor, "roles": entry.roles, "tenant": entry.tenant, "action": entry.action,
            "request_id": entry.request_id, "detail": entry.detail, "hash": entry.hash}


def register(app: Flask, ctx: PageContext) -> None:
    call = ctx.call
    tenant = ctx.settings.tenant

    def subject_of(source) -> tuple[str, dict]:
        """The professional's user id from a form or the query, and the form's own error."""
        subject = source.get("subject", "").strip()
        if not subject:
            return subject, {"subject": _("Give the professional's user id.")}
        if len(subject) > MAX_SUBJECT:
            return "", {"subject": _("A user id is at most %(max)d characters.", max=MAX_SUBJECT)}
        return subject, {}

    def export_of(subject: str):
        return call("intake", "ExportProfessionalData", intake_pb2.ProfessionalRef(subject=subject))

    def refused_subject(error: ServiceError) -> dict:
        """A service's refusal of the user id, at the form's field (its closed form, e.g.)."""
        if error.code is not grpc.StatusCode.INVALID_ARGUMENT:
            raise error
        return form_errors(error.violations, {"subject"}, "subject") or {"subject": bilingual(error.message)}

    # --- a professional's data ---------------------------------------------------------------
    @app.get("/tietosuoja")
    @require_role(*OFFICER)
    def officer():
        return render_template("officer/index.html", values={}, errors={})

    @app.get("/tietosuoja/vienti")
    @require_role(*OFFICER)
    def professional_export():
        subject, errors = subject_of(request.args)
        if not errors:
            try:
                export = export_of(subject)
            except ServiceError as error:
                errors = refused_subject(error)
            else:
                data = json.loads(export.json)
                return render_template("officer/export.html", export=export, data=data,
                                       pretty=json.dumps(data, ensure_ascii=False, indent=2))
        return render_template("officer/index.html", values={"subject": subject}, errors=errors), 400

    @app.get("/tietosuoja/vienti.json")
    @require_role(*OFFICER)
    def professional_export_json():
        subject, errors = subject_of(request.args)
        if errors:
            abort(400)
        response = Response(export_of(subject).json, mimetype="application/json")
        response.headers["Content-Disposition"] = f"attachment; filename=ot-{tenant}-professional-data.json"
        return response

    @app.post("/tietosuoja/poisto")
    @require_role(*OFFICER)
    def professional_erasure():
        """Two steps: without `confirmed` the page shows what would be erased and asks again; with
        it the erasure is done (Post/Redirect/Get)."""
        subject, errors = subject_of(request.form)
        if not errors and request.form.get("confirmed") != "yes":
            try:
                export = export_of(subject)
            except ServiceError as error:
                errors = refused_subject(error)
            else:
                return render_template("officer/erase.html", subject=subject, export=export,
                                       data=json.loads(export.json))
        if errors:
            return render_template("officer/index.html", values={"erase_subject": subject},
                                   errors={f"erase_{k}": v for k, v in errors.items()}), 400
        report = call("intake", "EraseProfessionalData", intake_pb2.ProfessionalRef(subject=subject))
        flash(_("The professional's identifying data was erased from %(count)d requests. Their user id was "
                "replaced with a pseudonym; type, situation, dates and status stay for statistics.",
                count=report.requests_erased))
        return redirect(url_for("officer"))

    # --- the audit trail ---------------------------------------------------------------------
    def audit_query(args, page_size: int) -> tuple[dict, dict, consent_pb2.QueryAuditRequest | None]:
        values = {name: args.get(name, "").strip() for name in ("request_id", "action", "actor", "from", "to")}
        errors = {}
        message = consent_pb2.QueryAuditRequest(page_size=page_size)
        if values["request_id"]:
            if UUID.fullmatch(values["request_id"]):
                message.request_id = values["request_id"]
            else:
                errors["request_id"] = _("A request's id is 36 characters: 8-4-4-4-12 digits and letters a–f.")
        if values["action"] in ACTIONS:
            message.action = values["action"]
        else:
            values["action"] = ""
        if len(values["actor"]) > MAX_SUBJECT:
            errors["actor"] = _("A user id is at most %(max)d characters.", max=MAX_SUBJECT)
        else:
            message.actor = values["actor"]
        for name, field_name, shift in (("from", "from_time", 0), ("to", "to_time", 1)):
            try:
                day = date.fromisoformat(values[name]) if values[name] else None
            except ValueError:
                errors[name] = _("Give a date as the calendar offers it (day, month, year).")
                continue
            if day is not None:  # "to" is inclusive on the form, exclusive for consent
                getattr(message, field_name).CopyFrom(day_start(day + timedelta(days=shift)))
        after = args.get("after", "")
        message.after_sequence = int(after) if after.isdigit() and len(after) < 19 else 0
        return values, errors, None if errors else message

    def audit_refusal(error: ServiceError) -> dict:
        if error.code is not grpc.StatusCode.INVALID_ARGUMENT:
            raise error
        fields = {"request_id", "action", "actor", "from", "to"}
        renamed = [({"from_time": "from", "to_time": "to"}.get(f, f), d) for f, d in error.violations]
        return form_errors(renamed, fields, "actor") or {"actor": bilingual(error.message)}

    def filters() -> dict:
        """The query's filters again, for the pager's and the export's links."""
        return {k: request.args[k] for k in ("request_id", "action", "actor", "from", "to") if request.args.get(k)}

    @app.get("/tarkastusloki")
    @require_role(*AUDIT_ROLES)
    def audit():
        values, errors, message = audit_query(request.args, PAGE_SIZE)
        found = None
        if message is not None:
            try:
                found = call("consent", "QueryAudit", message)
            except ServiceError as error:
                errors = audit_refusal(error)
        return render_template("officer/audit.html", values=values, errors=errors, found=found, filters=filters(),
                               actions=ACTIONS, first_page="after" in request.args), 400 if errors else 200

    @app.get("/tarkastusloki.jsonl")
    @require_role(*AUDIT_ROLES)
    def audit_export():
        """The whole query as JSON lines, a page at a time. The first page is asked before the answer
        starts, so a refusal is a page; later pages follow as the file is written."""
        values, errors, message = audit_query(request.args, EXPORT_PAGE_SIZE)
        if errors:
            abort(400)
        message.after_sequence = 0
        first = call("consent", "QueryAudit", message)

        def lines():
            page = first
            while True:
                for entry in page.entries:
                    yield json.dumps(audit_entry(entry), ensure_ascii=False) + "\n"
                if not page.next_after_sequence:
                    return
                message.after_sequence = page.next_after_sequence
                page = call("consent", "QueryAudit", message)

        response = Response(stream_with_context(lines()), mimetype="application/x-ndjson")
        response.headers["Content-Disposition"] = f"attachment; filename=ot-{tenant}-audit.jsonl"
        return response

    @app.get("/tarkastusloki/eheys")
    @require_role(*AUDIT_ROLES)
    def audit_verify():
        result = call("consent", "VerifyAudit", consent_pb2.VerifyAuditRequest())
        return render_template("officer/verify.html", result=result)

    # --- purge reports -----------------------------------------------------------------------
    @app.get("/poistoraportti")
    @require_role(*AUDIT_ROLES)
    def purge_report():
        values, errors, message = audit_query({**request.args.to_dict(), "action": "key.shredded",
                                               "request_id": "", "actor": ""}, PAGE_SIZE)
        found = None
        if message is not None:
            try:
                found = call("consent", "QueryAudit", message)
            except ServiceError as error:
                errors = audit_refusal(error)
        policies = call("consent", "ListRetentionPolicies", consent_pb2.ListRetentionPoliciesRequest()).policies
        return render_template("officer/purges.html", values=values, errors=errors, found=found, policies=policies,
                               filters={k: v for k, v in filters().items() if k in ("from", "to")},
                               first_page="after" in request.args), 400 if errors else 200
