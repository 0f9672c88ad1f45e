"""The OT team's pages (coordinator, secretary).

- The worklist (coordinator): intake's ListRequests with its filters (status, type, situation, dates),
  newest or longest waiting first, optionally only those past the area's target, the waiting time in
  working days, a page at a time (intake's page token).
- A request: first a step that says the case content is about to be opened (each read is audited by
  consent), then intake's GetRequest and ListEntries with the OT-seula reasons; triage with a note,
  the conversation (question, advice with experts of the catalogue, recommendations, internal note),
  mark consulted, return the answer, close.
- Experts for a request (coordinator): the experts service's explained proposals, the assignments,
  assign (cost approval for paid experts) and unassign; a refusal is shown with its reason.
- Meetings (secretary, coordinator): publish a meeting with its location, each meeting's agenda with
  the material's status, and from there the booked cases.
- Retention policies (consent's, changed by the coordinator) and the statistics (feedback's).

Every call is made with the signed-in person's own token, so the services decide who may see and do
what; the portal keeps nothing of a case.
"""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta, timezone

import grpc
from flask import Flask, Response, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from google.protobuf.timestamp_pb2 import Timestamp
from ot.common.v1 import case_pb2
from ot.consent.v1 import consent_pb2
from ot.experts.v1 import experts_pb2
from ot.feedback.v1 import feedback_pb2
from ot.intake.v1 import intake_pb2
from ot_runtime.tenants import TENANTS

from ..auth import current_user, require_role
from ..present import HELSINKI, UUID, bilingual, category_label, in_language, status_label, type_label
from ..services import ServiceError
from . import PageContext
from .professional import REFUSED_HERE, clean_text, form_errors, new_key, screening_view

STATS_ROLES = ("coordinator", "secretary")  # feedback's access table for GetStatistics
COOPERATION = "yhteistoiminta"  # /tilastot?alue=yhteistoiminta: the cooperation area's combined figures
MEETING_WARNING = "meeting_warning"  # the session key of intake's warning about a meeting just published
TEAM_ROLES = ("coordinator", "secretary")
PAGE_SIZE = 20

# Which entries each role of the OT team writes here (intake's EntryKind rules), and for which type
# of request a kind exists at all; the service checks both again.
WRITES = {"coordinator": (intake_pb2.ENTRY_KIND_QUESTION, intake_pb2.ENTRY_KIND_ADVICE,
                          intake_pb2.ENTRY_KIND_RECOMMENDATIONS, intake_pb2.ENTRY_KIND_NOTE),
          "secretary": (intake_pb2.ENTRY_KIND_RECOMMENDATIONS, intake_pb2.ENTRY_KIND_STATEMENT,
                        intake_pb2.ENTRY_KIND_QUESTION, intake_pb2.ENTRY_KIND_NOTE)}
KIND_TYPES = {intake_pb2.ENTRY_KIND_ADVICE: {case_pb2.REQUEST_TYPE_OT_TUKI},
              intake_pb2.ENTRY_KIND_RECOMMENDATIONS: {case_pb2.REQUEST_TYPE_GROUP_CONSULTATION}}
# Before the answer is returned (intake's open statuses): entries may be written.
OPEN = {case_pb2.REQUEST_STATUS_SUBMITTED, case_pb2.REQUEST_STATUS_TRIAGED, case_pb2.REQUEST_STATUS_SCHEDULED,
        case_pb2.REQUEST_STATUS_ASSIGNED, case_pb2.REQUEST_STATUS_AWAITING_INFORMATION,
        case_pb2.REQUEST_STATUS_CONSULTED}
# The lifecycle steps of the request page: (intake's RPC, the statuses the button is offered in).
STEPS = {"consulted": ("MarkConsulted", {case_pb2.REQUEST_STATUS_SCHEDULED, case_pb2.REQUEST_STATUS_ASSIGNED}),
         "return": ("ReturnRecommendations", {case_pb2.REQUEST_STATUS_CONSULTED}),
         "close": ("CloseRequest", {case_pb2.REQUEST_STATUS_RECOMMENDATIONS_RETURNED})}
# An OT-TUKI request is answered in writing: returned without a consultation.
WRITTEN_ANSWER_FROM = {case_pb2.REQUEST_STATUS_SUBMITTED, case_pb2.REQUEST_STATUS_TRIAGED,
                       case_pb2.REQUEST_STATUS_ASSIGNED}
FILTER_NAMES = ("status", "type", "category", "from", "to", "order", "past_target")
UNAVAILABLE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


def day_start(day: date) -> Timestamp:
    """The moment a day begins in Finnish time (the forms' dates are Finnish calendar days)."""
    out = Timestamp()
    out.FromDatetime(datetime.combine(day, time(0), HELSINKI))
    return out


def entry_kinds(role: str, type_number: int) -> list[tuple[str, str]]:
    """The kinds of entry the role writes on a request of this type: (proto name, what it is)."""
    labels = {intake_pb2.ENTRY_KIND_QUESTION: _("A question to the professional (the request waits for the reply)"),
              intake_pb2.ENTRY_KIND_ADVICE: _("Advice to the professional (the written answer)"),
              intake_pb2.ENTRY_KIND_RECOMMENDATIONS: _("The group's recommendations (the answer after the meeting)"),
              intake_pb2.ENTRY_KIND_STATEMENT: _("A statement"),
              intake_pb2.ENTRY_KIND_NOTE: _("An internal note (the OT team only)")}
    return [(intake_pb2.EntryKind.Name(k), labels[k]) for k in WRITES.get(role, ())
            if type_number in KIND_TYPES.get(k, {type_number})]


def worklist_options() -> dict[str, list[tuple[str, str]]]:
    """The worklist's filter choices, (proto name, label in the page's language)."""
    def options(enum, label):
        return [(v.name, label(v.number)) for v in enum.DESCRIPTOR.values if v.number]
    return {"status": options(case_pb2.RequestStatus, status_label), "type": options(case_pb2.RequestType, type_label),
            "category": options(case_pb2.CaseCategory, category_label)}


def team_role() -> str:
    """The role the person acts in on the OT team's pages (a coordinator's rights are the wider)."""
    return "coordinator" if current_user().has("coordinator") else "secretary"


def register(app: Flask, ctx: PageContext) -> None:
    call = ctx.call
    settings = ctx.settings

    def checked_id(value: str) -> str:
        if not UUID.fullmatch(value):  # not sent on: it is no request's or meeting's id
            abort(404)
        return value

    # --- the worklist ------------------------------------------------------------------------
    def worklist_query(args) -> tuple[dict, dict, intake_pb2.ListRequestsRequest | None]:
        """(the filters as the form shows them, the form's own errors, the message for intake)."""
        values = {name: args.get(name, "").strip() for name in (*FILTER_NAMES, "page")}
        values["past_target"] = args.get("past_target") == "yes"
        message = intake_pb2.ListRequestsRequest(page_size=PAGE_SIZE, past_target_only=values["past_target"],
                                                 page_token=values["page"][:200])
        for name, enum in (("status", case_pb2.RequestStatus), ("type", case_pb2.RequestType),
                           ("category", case_pb2.CaseCategory)):
            if values[name] in enum.keys():
                setattr(message, name, enum.Value(values[name]))
            else:
                values[name] = ""
        message.order = (intake_pb2.REQUEST_ORDER_LONGEST_WAITING if values["order"] == "longest_waiting"
                         else intake_pb2.REQUEST_ORDER_NEWEST)
        errors = {}
        for name, field_name, shift in (("from", "submitted_from", 0), ("to", "submitted_to", 1)):
            try:
                day = date.fromisoformat(values[name]) if values[name] else None
            except ValueError:
                errors[name] = _("Give a date as the calendar offers it (day, month, year).")
                continue
            if day is not None:  # "to" is inclusive on the form, exclusive for intake
                getattr(message, field_name).CopyFrom(day_start(day + timedelta(days=shift)))
        return values, errors, None if errors else message

    @app.get("/pyynnot")
    @require_role("coordinator")
    def worklist():
        values, errors, message = worklist_query(request.args)
        found = None
        if message is not None:
            try:
                found = call("intake", "ListRequests", message)
            except ServiceError as error:
                if error.code is not grpc.StatusCode.INVALID_ARGUMENT:
                    raise
                errors = form_errors(error.violations, {"status", "type", "category"}, "page") or {
                    "page": bilingual(error.message)}
        # The filters again for the pager's links (only the form's own names reach url_for).
        filters = {k: request.args[k] for k in FILTER_NAMES if request.args.get(k)}
        return render_template("team/worklist.html", values=values, errors=errors, found=found, filters=filters,
                               options=worklist_options()), 400 if errors else 200

    # --- a request ---------------------------------------------------------------------------
    def experts_catalogue() -> list | None:
        """The catalogue's experts (an advice may point to them, the assignment form offers them);
        None when the experts service does not answer, so the case can still be read."""
        try:
            return list(call("experts", "ListExperts", experts_pb2.ListExpertsRequest(page_size=100)).experts)
        except ServiceError as error:
            if error.code not in UNAVAILABLE:
                raise
            return None

    def case_page(request_id: str, entry: dict | None = None, triage: dict | None = None, refusal: str = "",
                  status: int = 200):
        """The request with its content, OT-seula and conversation: each a read that consent audits."""
        r = call("intake", "GetRequest", intake_pb2.GetRequestRequest(request_id=request_id))
        entries = list(call("intake", "ListEntries", intake_pb2.ListEntriesRequest(request_id=request_id)).entries)
        role = team_role()
        kinds = entry_kinds(role, r.type) if r.status in OPEN and not r.content_erased else []
        catalogue = experts_catalogue() if role == "coordinator" else []
        names = {e.expert_id: in_language((e.name_fi, e.name_en or e.name_fi)) for e in catalogue or ()}
        steps = [name for name, (_rpc, statuses) in STEPS.items() if r.status in statuses]
        if r.type == case_pb2.REQUEST_TYPE_OT_TUKI and r.status in WRITTEN_ANSWER_FROM:
            steps.append("return")
        if role != "coordinator":
            steps = [s for s in steps if s != "close"]  # intake: the coordinator closes
        return render_template(
            "team/request.html", r=r, entries=entries, role=role, kinds=kinds, catalogue=catalogue,
            advice=any(name == "ENTRY_KIND_ADVICE" for name, _label in kinds),
            expert_names=names, screening=screening_view(r.screening), steps=steps,
            may_triage=role == "coordinator" and r.status == case_pb2.REQUEST_STATUS_SUBMITTED,
            entry=entry or {"values": {"kind": "", "author_name": current_user().name, "idempotency_key": new_key()},
                            "errors": {}},
            triage=triage or {"values": {}, "errors": {}}, refusal=refusal), status

    @app.get("/pyynnot/<request_id>")
    @require_role(*TEAM_ROLES)
    def team_request(request_id: str):
        checked_id(request_id)
        if request.args.get("avaa") != "1":
            # Nothing is read yet: the person decides to open the case, knowing it is recorded.
            return render_template("team/open_request.html", request_id=request_id)
        return case_page(request_id)

    @app.post("/pyynnot/<request_id>/kasittely")
    @require_role("coordinator")
    def triage_request(request_id: str):
        checked_id(request_id)
        note = clean_text(request.form.get("note", ""))
        try:
            call("intake", "TriageRequest", intake_pb2.TriageRequestRequest(request_id=request_id, note=note))
        except ServiceError as error:
            if error.code is grpc.StatusCode.INVALID_ARGUMENT:
                errors = form_errors(error.violations, {"note"}, "note") or {"note": bilingual(error.message)}
                # A note the guard refused is never shown again.
                return case_page(request_id, triage={"values": {}, "errors": errors}, status=400)
            if error.code in REFUSED_HERE:
                return case_page(request_id, refusal=bilingual(error.message), status=409)
            raise
        flash(_("The request was taken into handling."))
        return redirect(url_for("team_request", request_id=request_id, avaa=1))

    @app.post("/pyynnot/<request_id>/merkinta")
    @require_role(*TEAM_ROLES)
    def add_team_entry(request_id: str):
        checked_id(request_id)
        form = request.form
        kind_name = form.get("kind", "")
        kind = intake_pb2.EntryKind.Value(kind_name) if kind_name in intake_pb2.EntryKind.keys() else 0
        values = {"kind": kind_name, "text": clean_text(form.get("text", "")),
                  "author_name": form.get("author_name", "").strip(),
                  "expert_ids": [e for e in form.getlist("expert_ids") if e] if kind == intake_pb2.ENTRY_KIND_ADVICE
                  else [], "idempotency_key": form.get("idempotency_key", "") or new_key()}
        errors = {}
        if kind not in WRITES[team_role()]:
            errors["kind"] = _("Choose the kind of entry.")
        if not values["text"]:
            errors["text"] = _("Write the text of the entry.")
        if not errors:
            try:
                call("intake", "AddEntry", intake_pb2.AddEntryRequest(
                    request_id=request_id, kind=kind, text=values["text"], author_name=values["author_name"],
                    expert_ids=values["expert_ids"], idempotency_key=values["idempotency_key"]))
            except ServiceError as error:
                if error.code is grpc.StatusCode.INVALID_ARGUMENT:
                    errors = form_errors(error.violations, {"kind", "text", "author_name", "expert_ids"}, "text") \
                        or {"text": bilingual(error.message)}
                elif error.code in REFUSED_HERE:
                    errors = {"kind": bilingual(error.message)}
                else:
                    raise
                if "text" in errors:
                    values["text"] = ""  # what the guard refused is never shown again
        if errors:
            return case_page(request_id, entry={"values": values, "errors": errors}, status=400)
        flash(_("The entry was added to the conversation."))
        return redirect(url_for("team_request", request_id=request_id, avaa=1, _anchor="conversation"))

    @app.post("/pyynnot/<request_id>/vaihe")
    @require_role(*TEAM_ROLES)
    def request_step(request_id: str):
        checked_id(request_id)
        step = request.form.get("step", "")
        if step not in STEPS:
            abort(400)
        try:
            call("intake", STEPS[step][0], intake_pb2.RequestRef(request_id=request_id))
        except ServiceError as error:
            if error.code not in REFUSED_HERE:
                raise
            return case_page(request_id, refusal=bilingual(error.message), status=409)
        flash({"consulted": _("The consultation was marked as held."),
               "return": _("The answer was returned to the professional."),
               "close": _("The request was closed.")}[step])
        return redirect(url_for("team_request", request_id=request_id, avaa=1))

    # --- experts for a request ---------------------------------------------------------------
    def experts_page(request_id: str, chosen=(), cost_approved: bool = False, refusal: dict | None = None,
                     status: int = 200):
        try:
            proposals = call("experts", "ListProposals", experts_pb2.ListProposalsRequest(request_id=request_id))
            assignments = call("experts", "ListAssignments",
                               experts_pb2.ListAssignmentsRequest(request_id=request_id)).assignments
        except ServiceError as error:
            if error.code is not grpc.StatusCode.NOT_FOUND:
                raise
            proposals, assignments = None, []  # experts has not heard of the request yet
        catalogue = (experts_catalogue() or []) if proposals is not None else []
        proposed = [p.expert.expert_id for p in proposals.proposals] if proposals else []
        # The proposals first, in their rank; then the rest of the catalogue.
        catalogue.sort(key=lambda e: proposed.index(e.expert_id) if e.expert_id in proposed else len(proposed))
        active = {a.expert_id for a in assignments if a.active}
        return render_template(
            "team/experts.html", request_id=request_id, proposals=proposals, assignments=assignments,
            catalogue=[e for e in catalogue if e.expert_id not in active], chosen=set(chosen),
            cost_approved=cost_approved, refusal=refusal, in_language=in_language), status

    @app.get("/pyynnot/<request_id>/asiantuntijat")
    @require_role("coordinator")
    def request_experts(request_id: str):
        return experts_page(checked_id(request_id))

    @app.post("/pyynnot/<request_id>/asiantuntijat")
    @require_role("coordinator")
    def assign_experts(request_id: str):
        checked_id(request_id)
        chosen = [e for e in request.form.getlist("expert_ids") if e]
        cost_approved = request.form.get("cost_approved") == "yes"
        if not chosen:
            return experts_page(request_id, refusal={"field": "expert_ids", "reason": "",
                                                     "message": _("Choose at least one expert.")}, status=400)
        try:
            call("experts", "AssignExperts", experts_pb2.AssignExpertsRequest(
                request_id=request_id, expert_ids=chosen, cost_approved=cost_approved))
        except ServiceError as error:
            if error.code is grpc.StatusCode.INVALID_ARGUMENT:
                message = " ".join(form_errors(error.violations, {"expert_ids"}, "expert_ids").values())
                refusal = {"field": "expert_ids", "reason": "", "message": message or bilingual(error.message)}
            elif error.code is grpc.StatusCode.FAILED_PRECONDITION:
                refusal = {"field": "cost_approved" if error.reason == "COST_APPROVAL_REQUIRED" else "expert_ids",
                           "reason": error.reason, "message": bilingual(error.message)}
            else:
                raise
            return experts_page(request_id, chosen, cost_approved, refusal,
                                400 if error.code is grpc.StatusCode.INVALID_ARGUMENT else 409)
        flash(_("The expert was assigned. The experts service tells the expert, and the request shows it as "
                "assigned in a moment."))
        return redirect(url_for("request_experts", request_id=request_id))

    @app.post("/pyynnot/<request_id>/asiantuntijat/poista")
    @require_role("coordinator")
    def unassign_expert(request_id: str):
        checked_id(request_id)
        expert_id = request.form.get("expert_id", "")
        try:
            call("experts", "UnassignExpert", experts_pb2.UnassignExpertRequest(
                request_id=request_id, expert_id=expert_id, reason=clean_text(request.form.get("reason", ""))))
        except ServiceError as error:
            if error.code is grpc.StatusCode.INVALID_ARGUMENT:
                message = " ".join(form_errors(error.violations, {"reason"}, "reason").values())
                return experts_page(request_id, refusal={"field": f"reason-{expert_id}", "reason": "",
                                                         "message": message or bilingual(error.message)},
                                    status=400)
            if error.code is grpc.StatusCode.FAILED_PRECONDITION:
                return experts_page(request_id, refusal={"field": "assignments", "reason": error.reason,
                                                         "message": bilingual(error.message)}, status=409)
            raise
        flash(_("The expert's assignment was ended."))
        return redirect(url_for("request_experts", request_id=request_id))

    # --- meetings and agendas ------------------------------------------------------------------
    def groups() -> list[tuple[str, str]]:
        """The groups the person publishes meetings for, (id, name): a secretary's own (the token's
        ot_groups), a coordinator's every group of the area. Named from the OT service map (experts);
        the ids stand in when it does not answer."""
        user = current_user()
        try:
            listed = call("experts", "ListGroups", experts_pb2.ListGroupsRequest()).groups
            named = [(g.group_id, in_language((g.name_fi, g.name_en or g.name_fi))) for g in listed]
        except ServiceError as error:
            if error.code not in UNAVAILABLE:
                raise
            named = [(g, g) for g in user.groups]
        if user.has("coordinator"):
            return named
        return [(g, name) for g, name in named if g in user.groups]

    def meetings_page(values: dict | None = None, errors: dict | None = None, status: int = 200):
        own = groups()
        names = dict(own)
        listed = call("intake", "ListMeetings", intake_pb2.ListMeetingsRequest()).meetings
        meetings = [m for m in listed if m.group_id in names]
        return render_template("team/meetings.html", meetings=meetings, groups=own, names=names,
                               values=values or {"capacity": "3"}, errors=errors or {},
                               warning=bilingual(session.pop(MEETING_WARNING, ""))), status

    @app.get("/kokoukset")
    @require_role(*TEAM_ROLES)
    def meetings():
        return meetings_page()

    @app.post("/kokoukset")
    @require_role(*TEAM_ROLES)
    def publish_meeting():
        form = request.form
        values = {name: form.get(name, "").strip() for name in
                  ("group_id", "date", "time", "capacity", "booking_lead_days", "location")}
        errors = {}
        if not values["group_id"]:
            errors["group_id"] = _("Choose the group.")
        starts_at = Timestamp()
        try:
            starts_at.FromDatetime(datetime.combine(date.fromisoformat(values["date"]),
                                                    time.fromisoformat(values["time"]), HELSINKI))
        except ValueError:
            errors["date"] = _("Give the day and the time the meeting starts.")
        for name in ("capacity", "booking_lead_days"):
            if values[name] and not (values[name].isdigit() and len(values[name]) <= 3):
                errors[name] = _("Give a whole number.")
        if not values["capacity"]:
            errors["capacity"] = _("Give how many cases the meeting takes.")
        published = None
        if not errors:
            try:
                published = call("intake", "PublishMeeting", intake_pb2.PublishMeetingRequest(
                    group_id=values["group_id"], starts_at=starts_at, capacity=int(values["capacity"]),
                    booking_lead_days=int(values["booking_lead_days"] or 0), location=values["location"]))
            except ServiceError as error:
                if error.code is not grpc.StatusCode.INVALID_ARGUMENT:
                    raise
                errors = form_errors([("date" if f == "starts_at" else f, d) for f, d in error.violations],
                                     {"group_id", "date", "capacity", "booking_lead_days", "location"},
                                     "group_id") or {"group_id": bilingual(error.message)}
                if "location" in errors:
                    values["location"] = ""  # what the guard refused is never shown again
        if errors:
            return meetings_page(values, errors, 400)
        if published.warning_code:
            # Published, but not bookable (its booking deadline has passed): said once, as a warning.
            session[MEETING_WARNING] = f"{published.warning_fi} / {published.warning_en}"
            flash(_("The meeting was published."))
        else:
            flash(_("The meeting was published: professionals can book it now."))
        return redirect(url_for("meetings"))

    @app.get("/kokoukset/<meeting_id>")
    @require_role(*TEAM_ROLES)
    def agenda(meeting_id: str):
        checked_id(meeting_id)
        found = call("intake", "GetMeetingAgenda", intake_pb2.GetMeetingAgendaRequest(meeting_id=meeting_id))
        return render_template("team/agenda.html", agenda=found, names=dict(groups()))

    # --- retention policies --------------------------------------------------------------------
    @app.get("/sailytysajat")
    @require_role("coordinator", "admin")
    def retention():
        policies = call("consent", "ListRetentionPolicies", consent_pb2.ListRetentionPoliciesRequest()).policies
        return render_template("team/retention.html", policies=policies,
                               type_names={t.number: t.name for t in case_pb2.RequestType.DESCRIPTOR.values})

    @app.route("/sailytysajat/<type_name>", methods=["GET", "POST"])
    @require_role("coordinator")
    def retention_policy(type_name: str):
        if type_name not in case_pb2.RequestType.keys() or not case_pb2.RequestType.Value(type_name):
            abort(404)
        type_number = case_pb2.RequestType.Value(type_name)
        fields = ("grace_days_after_recommendations", "max_days_after_submission")
        if request.method == "GET":
            policies = call("consent", "ListRetentionPolicies", consent_pb2.ListRetentionPoliciesRequest()).policies
            current = next((p for p in policies if p.type == type_number), consent_pb2.RetentionPolicy())
            values = {name: str(getattr(current, name)) for name in fields}
            return render_template("team/retention_policy.html", type_name=type_name, values=values, errors={},
                                   type_label=type_label(type_number))
        values = {name: request.form.get(name, "").strip() for name in fields}
        errors = {name: _("Give a whole number of days.") for name in fields
                  if not (values[name].isdigit() and len(values[name]) <= 5)}
        if not errors:
            try:
                call("consent", "SetRetentionPolicy", consent_pb2.RetentionPolicy(
                    type=type_number, **{name: int(values[name]) for name in fields}))
            except ServiceError as error:
                if error.code is not grpc.StatusCode.INVALID_ARGUMENT:
                    raise
                errors = form_errors(error.violations, set(fields), fields[0]) or {fields[0]: bilingual(error.message)}
        if errors:
            return render_template("team/retention_policy.html", type_name=type_name, values=values,
                                   errors=errors, type_label=type_label(type_number)), 400
        flash(_("The retention policy was changed. The change is recorded in the audit trail."))
        return redirect(url_for("retention"))

    # --- statistics ----------------------------------------------------------------------------
    def statistics_args() -> tuple[str, int, bool]:
        # By default every month the area has figures for: with a few cases a month, the longest
        # period is the one whose counts are large enough to show. alue=yhteistoiminta: the
        # cooperation area's combined figures (a coordinator of the coordinating area; feedback decides).
        period = request.args.get("period", "").strip()[:20] or "all"
        type_name = request.args.get("type", "").strip()
        type_number = case_pb2.RequestType.Value(type_name) if type_name in case_pb2.RequestType.keys() else 0
        return period, type_number, request.args.get("alue", "") == COOPERATION

    def statistics_page(period: str, type_number: int, cooperation: bool, import_error: str = "",
                        status: int = 200):
        try:
            stats = call("feedback", "GetStatistics", feedback_pb2.GetStatisticsRequest(
                period=period, type=type_number, cooperation_area=cooperation))
        except ServiceError as error:
            if error.code is not grpc.StatusCode.INVALID_ARGUMENT:
                raise
            return render_template("team/statistics.html", stats=None, period=period, type_number=type_number,
                                   period_error=bilingual(error.message), types=_types(), cooperation=cooperation,
                                   import_error=""), 400
        return render_template("team/statistics.html", stats=stats, period=period, type_number=type_number,
                               tables=_tables_view(stats.tables), types=_types(), period_error="",
                               period_range=_period_range(stats), cooperation=cooperation,
                               areas=[_area_view(a) for a in stats.cooperation_areas], import_error=import_error,
                               response_times=[_response_times_view(rt) for rt in stats.response_times]), status

    @app.get("/tilastot")
    @require_role(*STATS_ROLES)
    def statistics():
        return statistics_page(*statistics_args())

    @app.post("/tilastot/tuonti")
    @require_role("coordinator")
    def statistics_import():
        """Another area's signed monthly file into the cooperation area's figures (feedback checks it)."""
        upload = request.files.get("file")
        data = upload.read() if upload else b""
        if not data:
            return statistics_page("all", 0, True, _("Choose the file the area sent."), 400)
        try:
            got = call("feedback", "ImportAreaAggregate", feedback_pb2.ImportAreaAggregateRequest(file=data))
        except ServiceError as error:
            if error.code is not grpc.StatusCode.INVALID_ARGUMENT:
                raise
            message = next((d for f, d in error.violations if f == "file"), error.message)
            return statistics_page("all", 0, True, bilingual(message), 400)
        area = TENANTS.get(got.area, got.area)
        flash(_("The figures of %(area)s for %(month)s were imported.", area=area, month=got.month)
              + (" " + _("They replace the earlier import of that month.") if got.replaced else ""))
        return redirect(url_for("statistics", alue=COOPERATION))

    @app.get("/tilastot.csv")
    @require_role(*STATS_ROLES)
    def statistics_csv():
        period, type_number, cooperation = statistics_args()
        stats = call("feedback", "GetStatistics", feedback_pb2.GetStatisticsRequest(
            period=period, type=type_number, cooperation_area=cooperation))
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["period", "table", "row", "column", "value"])
        for table in stats.tables:
            cells = {(c.row, c.column): c.value for c in table.cells}
            for row in table.rows:
                for column in table.columns:
                    writer.writerow([stats.period, table.name, row, column, cells.get((row, column), "")])
        response = Response(out.getvalue(), mimetype="text/csv")
        scope = "yhteistoiminta-alue" if cooperation else settings.tenant
        response.headers["Content-Disposition"] = f"attachment; filename=ot-{scope}-{stats.period}.csv"
        return response


def _types() -> list[tuple[str, str, int]]:
    """The request types to filter the statistics by: (proto name, label, number)."""
    return [(t.name, type_label(t.number), t.number) for t in case_pb2.RequestType.DESCRIPTOR.values if t.number]


def _area_view(a) -> dict:
    """One area of the cooperation area's figures: its name and what of it is included."""
    return {"name": TENANTS.get(a.area, a.area), "own": a.own, "opted_out": a.opted_out,
            "included": list(a.included_months), "missing": list(a.missing_months)}


def _response_times_view(rt) -> dict:
    return {"quarter": rt.quarter, "type": type_label(rt.type),
            "requests": rt.requests, "first_response_median_days": rt.first_response_median_days,
            "first_response_p90_days": rt.first_response_p90_days, "answer_median_days": rt.answer_median_days,
            "answer_p90_days": rt.answer_p90_days}


def _period_range(stats) -> str:
    """The months the figures cover, e.g. "3/2026–5/2026" (period_end is exclusive)."""
    start = stats.period_start.ToDatetime(timezone.utc).astimezone(HELSINKI)
    last = (stats.period_end.ToDatetime(timezone.utc) - timedelta(seconds=1)).astimezone(HELSINKI)
    return f"{start.month}/{start.year}" if (start.year, start.month) == (last.year, last.month) else \
        f"{start.month}/{start.year}–{last.month}/{last.year}"


def _tables_view(tables) -> list[dict]:
    """The tables in the order the page shows them: a table whose every inner figure is hidden comes
    after its coarser stand-ins (by type only, by its rows only), folded away, as it says nothing more."""
    views = [_table_view(t) for t in tables]
    folded = {v["coarser_of"] for v in views if v["coarser_of"]}
    out = []
    for v in views:
        v["folded"] = v["name"] in folded
        if v["coarser_of"]:
            out.insert(next(i for i, o in enumerate(out) if o["name"] == v["coarser_of"]), v)
        else:
            out.append(v)
    return out


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
            "bars": bars, "coarser_of": table.coarser_of}
