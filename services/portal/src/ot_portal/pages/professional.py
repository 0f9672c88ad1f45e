"""A professional's pages: asking the OT centre (the form of each request type, checked before
sending with intake's `validate_only`, which also gives the OT-seula screening and stores nothing),
their own requests (intake's ListRequests gives a professional only their own, without content),
each request with its conversation, the reply to the OT team's question, the group booking and the
pre-information form, the client's consent and its scope (consent), withdrawing, their own data
(ExportProfessionalData) and their notification choices (feedback).

Every call is made with the professional's own token, so the services decide: the portal keeps
nothing of a case and shows each refusal in the service's own words. A refused form is shown again
with each of the service's BadRequest violations at its field (the guard names the kind of data and
its character positions, never the value)."""
from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timezone

import grpc
from flask import Flask, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from ot.common.v1 import case_pb2
from ot.consent.v1 import consent_pb2
from ot.experts.v1 import experts_pb2
from ot.feedback.v1 import feedback_pb2
from ot.intake.v1 import intake_pb2

from ot_runtime.vocabulary import SECTOR_LABELS, Sector

from ..auth import current_user, require_role
from ..present import UUID, bilingual, category_label, in_language, type_label
from ..services import ServiceError
from . import PageContext

# The three request types by their address on the portal.
TYPES = {"ot-tuki": case_pb2.REQUEST_TYPE_OT_TUKI,
         "konsultaatioryhma": case_pb2.REQUEST_TYPE_GROUP_CONSULTATION,
         "asiantuntijavahvistus": case_pb2.REQUEST_TYPE_EXPERT_REINFORCEMENT}
SLUGS = {number: slug for slug, number in TYPES.items()}

# The request form's fields, named by their path in SubmitRequestRequest, so that a BadRequest
# violation ("client.family_situation", "client.earlier_services[2]") lands at its own field.
TEXT_FIELDS = ("professional.name", "professional.email", "professional.phone", "professional.profession",
               "professional.organisation", "professional.sector", "client.age_years", "client.gender",
               "client.family_situation", "client.health_information", "question", "consent.need",
               "consent.given_by")
LIST_FIELDS = ("client.earlier_services", "client.cooperation_partners")  # one item a line
FLAGS = ("discussed_in_own_team", "consent.child_capacity_assessed", "anonymous")
REQUEST_FORM_FIELDS = set(TEXT_FIELDS) | set(LIST_FIELDS) | set(FLAGS) | {"categories", "type"}
# Where a violation of a field the form does not have is shown (the error summary links the form).
FORM = "request-form"

# Statuses in which the professional may still add to the conversation (intake's open statuses)...
OPEN = {case_pb2.REQUEST_STATUS_SUBMITTED, case_pb2.REQUEST_STATUS_TRIAGED, case_pb2.REQUEST_STATUS_SCHEDULED,
        case_pb2.REQUEST_STATUS_ASSIGNED, case_pb2.REQUEST_STATUS_AWAITING_INFORMATION,
        case_pb2.REQUEST_STATUS_CONSULTED}
# ... withdraw it (before the consultation) ...
WITHDRAWABLE = OPEN - {case_pb2.REQUEST_STATUS_CONSULTED}
# ... book a meeting (a group consultation not yet booked) ...
BOOKABLE = {case_pb2.REQUEST_STATUS_SUBMITTED, case_pb2.REQUEST_STATUS_TRIAGED}
# ... and send the pre-information form (before the meeting).
PRE_INFORMATION_STATUSES = {case_pb2.REQUEST_STATUS_SUBMITTED, case_pb2.REQUEST_STATUS_TRIAGED,
                            case_pb2.REQUEST_STATUS_SCHEDULED, case_pb2.REQUEST_STATUS_AWAITING_INFORMATION}
# A service's "you may not do this now" (a lifecycle step, a deadline, a full meeting): shown on the
# page where it was tried, in the service's own words.
REFUSED_HERE = (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.RESOURCE_EXHAUSTED)

_ITEM = re.compile(r"^([^\[]+)\[(\d+)\]")


def form_errors(violations, fields, fallback: str, lines=()) -> dict[str, str]:
    """A service's BadRequest violations as {form field: message in the page's language}. A
    violation of a repeated field ("client.earlier_services[1]") goes to that field, saying which
    line when the field takes one item a line (`lines`); one of a field the form does not have to
    `fallback`."""
    found: dict[str, list[str]] = {}
    for path, description in violations:
        name, line = path, None
        item = _ITEM.match(path)
        if item:
            name, line = item.group(1), int(item.group(2)) + 1
        text = bilingual(description)
        if line is not None and name in lines:
            text = _("Line %(number)d: %(message)s", number=line, message=text)
        found.setdefault(name if name in fields else fallback, []).append(text)
    return {name: " ".join(texts) for name, texts in found.items()}


def clean_text(value: str) -> str:
    """A text field as the service gets it: the browser's CRLF as one line break (so the guard's
    character positions are those the person sees) and no surrounding blanks."""
    return value.replace("\r\n", "\n").strip()


def new_key() -> str:
    """A form's idempotency key: a form sent twice (a double click, a retry after a lost answer)
    makes one request or entry."""
    return str(uuid.uuid4())


def _enum(enum, name: str) -> int:
    return enum.Value(name) if name in enum.keys() else 0


def read_request_form(form, type_number: int, tenant: str) -> tuple[dict, dict, intake_pb2.SubmitRequestRequest | None]:
    """(the values to show again, the form's own errors, the message for intake or None). The portal
    checks only what it must to build the message (the age is a number); every rule is intake's."""
    values: dict = {name: clean_text(form.get(name, "")) for name in TEXT_FIELDS}
    for name in LIST_FIELDS:
        values[name] = [line.strip() for line in form.get(name, "").splitlines() if line.strip()]
    for name in FLAGS:
        values[name] = form.get(name) == "yes"
    values["categories"] = [c for c in form.getlist("categories") if c in case_pb2.CaseCategory.keys()]
    errors = {}
    age = values["client.age_years"]
    if age and not (age.isdigit() and len(age) <= 3):
        errors["client.age_years"] = _("Give the age in whole years (0–25), or leave it empty if it is not told.")
    if errors:
        return values, errors, None
    message = intake_pb2.SubmitRequestRequest(
        type=type_number,
        professional=intake_pb2.Professional(
            name=values["professional.name"], email=values["professional.email"],
            phone=values["professional.phone"], profession=values["professional.profession"],
            organisation=values["professional.organisation"],
            sector=_enum(case_pb2.Sector, values["professional.sector"]), wellbeing_area=tenant),
        categories=[case_pb2.CaseCategory.Value(c) for c in values["categories"]],
        client=intake_pb2.ClientFacts(
            age_years=int(age) if age else 0, age_unknown=not age,
            gender=_enum(intake_pb2.Gender, values["client.gender"]),
            family_situation=values["client.family_situation"],
            earlier_services=values["client.earlier_services"],
            cooperation_partners=values["client.cooperation_partners"],
            health_information=values["client.health_information"]),
        question=values["question"], discussed_in_own_team=values["discussed_in_own_team"],
        consent=intake_pb2.ConsentAssessment(
            need=_enum(intake_pb2.ConsentNeed, values["consent.need"]),
            given_by=_enum(intake_pb2.ConsentGiver, values["consent.given_by"]),
            child_capacity_assessed=values["consent.child_capacity_assessed"]),
        anonymous=values["anonymous"] and type_number == case_pb2.REQUEST_TYPE_GROUP_CONSULTATION,
        idempotency_key=form.get("idempotency_key", "") or new_key())
    return values, errors, message


def form_options() -> dict:
    """The request form's choices with their labels in the page's language."""
    return {"sectors": [(f"SECTOR_{s.name}", in_language(SECTOR_LABELS[s])) for s in Sector],
            "categories": [(v.name, category_label(v.number)) for v in case_pb2.CaseCategory.DESCRIPTOR.values
                           if v.number]}


def screening_view(screening) -> dict | None:
    """OT-seula as the page shows it: the score, its band in words and every named point."""
    if screening is None or not screening.max_score:
        return None
    return {"score": screening.score, "max_score": screening.max_score, "band": screening.band,
            "summary": in_language((screening.summary_fi, screening.summary_en)),
            "reasons": [{"points": r.points, "text": in_language((r.reason_fi, r.reason_en))}
                        for r in screening.reasons]}


def register(app: Flask, ctx: PageContext) -> None:
    call = ctx.call
    tenant = ctx.settings.tenant

    def checked_id(request_id: str) -> None:
        if not UUID.fullmatch(request_id):  # not sent on: it is no request's id
            abort(404)

    # --- asking ----------------------------------------------------------------------------
    @app.get("/kysy")
    @require_role("professional")
    def ask():
        return render_template("professional/ask.html", types=[(slug, type_label(number)) for slug, number in TYPES.items()])

    @app.route("/kysy/<type_slug>", methods=["GET", "POST"])
    @require_role("professional")
    def request_form(type_slug: str):
        if type_slug not in TYPES:
            return render_template("error.html", kind="not_found"), 404
        type_number = TYPES[type_slug]
        if request.method == "GET":
            values = {"professional.name": current_user().name, "idempotency_key": new_key()}
            return render_template("professional/request_form.html", type_slug=type_slug, type_number=type_number,
                                   values=values, errors={}, checked=None, options=form_options())
        values, errors, message = read_request_form(request.form, type_number, tenant)
        values["idempotency_key"] = message.idempotency_key if message else request.form.get("idempotency_key", "")
        sending = request.form.get("action") == "send"
        checked = None
        if message is not None:
            message.validate_only = not sending
            try:
                answer = call("intake", "SubmitRequest", message)
            except ServiceError as error:
                if error.code is not grpc.StatusCode.INVALID_ARGUMENT:
                    raise
                errors = form_errors(error.violations, REQUEST_FORM_FIELDS, FORM, LIST_FIELDS) or {
                    FORM: bilingual(error.message)}
            else:
                if sending:
                    flash(_("Your request was sent to the OT team."))
                    return redirect(url_for("my_request", request_id=answer.request_id))
                checked = screening_view(answer.screening) or {}
        return render_template("professional/request_form.html", type_slug=type_slug, type_number=type_number,
                               values=values, errors=errors, checked=checked, options=form_options()), \
            400 if errors else 200

    # --- my requests -----------------------------------------------------------------------
    @app.get("/omat-pyynnot")
    @require_role("professional")
    def my_requests():
        found = call("intake", "ListRequests", intake_pb2.ListRequestsRequest(page_size=100))
        return render_template("professional/my_requests.html", requests=list(found.requests))

    def request_page(request_id: str, forms: dict | None = None, status: int = 200):
        """One request as its owner sees it. The conversation is asked for only when there is one
        (each read of it is an audited read in consent), the meeting only when one is booked."""
        r = call("intake", "GetRequest", intake_pb2.GetRequestRequest(request_id=request_id))
        entries = []
        if r.entries:
            entries = list(call("intake", "ListEntries", intake_pb2.ListEntriesRequest(request_id=request_id)).entries)
        meeting = None
        if r.meeting_id:
            listed = call("intake", "ListMeetings", intake_pb2.ListMeetingsRequest(from_time=r.submitted_at))
            meeting = next((m for m in listed.meetings if m.meeting_id == r.meeting_id), None)
        kinds = {e.kind for e in entries}
        forms = forms or {}
        for name in ("reply", "pre_information"):
            forms.setdefault(name, {"fields": {"idempotency_key": new_key()}, "errors": {}})
        return render_template(
            "professional/request.html", r=r, entries=entries, meeting=meeting, forms=forms,
            screening=screening_view(r.screening),
            may_reply=r.status in OPEN and not r.content_erased,
            awaiting=r.status == case_pb2.REQUEST_STATUS_AWAITING_INFORMATION,
            may_book=r.type == case_pb2.REQUEST_TYPE_GROUP_CONSULTATION and r.status in BOOKABLE,
            may_send_pre_information=bool(r.meeting_id) and r.status in PRE_INFORMATION_STATUSES
            and not r.content_erased,
            pre_information_sent=intake_pb2.ENTRY_KIND_PRE_INFORMATION in kinds,
            may_withdraw=r.status in WITHDRAWABLE,
            may_change_consent=r.status in OPEN and not r.content_erased,
            consent_needed=r.consent.need not in (intake_pb2.CONSENT_NEED_NOT_NEEDED,
                                                  intake_pb2.CONSENT_NEED_UNSPECIFIED)), status

    @app.get("/omat-pyynnot/<request_id>")
    @require_role("professional")
    def my_request(request_id: str):
        checked_id(request_id)
        return request_page(request_id)

    def add_entry(request_id: str, field: str, kind: int, done: str):
        """The owner's entry from the request page's form whose text field is `field` ("reply",
        "pre_information"); a refusal shows the page again with the service's words at that field."""
        checked_id(request_id)
        text = clean_text(request.form.get(field, ""))
        key = request.form.get("idempotency_key", "") or new_key()
        try:
            call("intake", "AddEntry", intake_pb2.AddEntryRequest(request_id=request_id, kind=kind, text=text,
                                                                  author_name=current_user().name,
                                                                  idempotency_key=key))
        except ServiceError as error:
            if error.code is grpc.StatusCode.INVALID_ARGUMENT:
                errors = {field: " ".join(form_errors(error.violations, {"text"}, "text").values())
                          or bilingual(error.message)}
            elif error.code in REFUSED_HERE:
                errors = {field: bilingual(error.message)}
            else:
                raise
            form = {"fields": {field: text, "idempotency_key": key}, "errors": errors}
            return request_page(request_id, {field: form},
                                400 if error.code is grpc.StatusCode.INVALID_ARGUMENT else 409)
        flash(done)
        return redirect(url_for("my_request", request_id=request_id))

    @app.post("/omat-pyynnot/<request_id>/vastaus")
    @require_role("professional")
    def reply(request_id: str):
        return add_entry(request_id, "reply", intake_pb2.ENTRY_KIND_REPLY, _("Your reply was sent to the OT team."))

    @app.post("/omat-pyynnot/<request_id>/esitiedot")
    @require_role("professional")
    def pre_information(request_id: str):
        return add_entry(request_id, "pre_information", intake_pb2.ENTRY_KIND_PRE_INFORMATION,
                         _("Your pre-information form was sent to the group."))

    # --- booking a group meeting -----------------------------------------------------------
    def group_names() -> dict[str, str]:
        """The area's groups by id, named from the OT service map (experts). The ids stand in when
        the experts service does not answer: booking does not depend on it."""
        try:
            groups = call("experts", "ListGroups", experts_pb2.ListGroupsRequest()).groups
        except ServiceError as error:
            if error.code not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                raise
            return {}
        return {g.group_id: in_language((g.name_fi, g.name_en)) for g in groups}

    def booking_page(request_id: str, refusal: str = "", suggested: str = "", status: int = 200):
        listed = call("intake", "ListMeetings", intake_pb2.ListMeetingsRequest()).meetings
        now = datetime.now(timezone.utc)
        names = group_names()
        open_ = [m for m in listed if m.booked < m.capacity and m.booking_deadline.ToDatetime(timezone.utc) >= now]
        return render_template("professional/book.html", request_id=request_id, meetings=open_,
                               closed=len(listed) - len(open_), names=names, refusal=refusal,
                               suggested=suggested), status

    @app.get("/omat-pyynnot/<request_id>/varaa")
    @require_role("professional")
    def book(request_id: str):
        checked_id(request_id)
        return booking_page(request_id)

    @app.post("/omat-pyynnot/<request_id>/varaa")
    @require_role("professional")
    def book_meeting(request_id: str):
        checked_id(request_id)
        meeting_id = request.form.get("meeting_id", "")
        if not UUID.fullmatch(meeting_id):
            return booking_page(request_id, refusal=_("Choose a meeting."), status=400)
        try:
            call("intake", "BookMeeting", intake_pb2.BookMeetingRequest(request_id=request_id, meeting_id=meeting_id))
        except ServiceError as error:
            if error.code not in REFUSED_HERE:
                raise
            # The service names the next meeting with room: offer it, chosen already.
            return booking_page(request_id, refusal=bilingual(error.message),
                                suggested=error.info.get("next_meeting_id", ""), status=409)
        flash(_("The meeting is booked. Send the pre-information form by the booking deadline."))
        return redirect(url_for("my_request", request_id=request_id))

    # --- consent and its scope -------------------------------------------------------------
    def consent_page(request_id: str, values: dict | None = None, errors: dict | None = None, status: int = 200):
        history = call("consent", "GetConsent", consent_pb2.GetConsentRequest(request_id=request_id))
        groups = call("experts", "ListGroups", experts_pb2.ListGroupsRequest()).groups
        experts = call("experts", "ListExperts", experts_pb2.ListExpertsRequest(usable_in_area_only=True,
                                                                                page_size=100)).experts
        current = history.current
        if values is None:
            scope = {f"{_PARTY_SLUG[p.kind]}:{p.id}" for p in current.scope if p.kind in _PARTY_SLUG}
            scope |= {s for s in request.args.getlist("lisaa") if _scope_key(s)}
            values = {"form": consent_pb2.ConsentForm.Name(current.form) if current.form else "",
                      "given_by": consent_pb2.ConsentGiver.Name(current.given_by) if current.given_by else "",
                      "child_capacity_assessed": current.child_capacity_assessed, "scope": sorted(scope)}
        names = {f"group:{g.group_id}": in_language((g.name_fi, g.name_en)) for g in groups}
        names |= {f"expert_organisation:{e.expert_id}": in_language((e.name_fi, e.name_en)) for e in experts}
        for key in values["scope"]:  # one already in the scope (or asked for) that the lists do not name
            names.setdefault(key, key.split(":", 1)[1])
        scope_options = [(key, _("%(name)s (group)", name=name) if key.startswith("group:")
                          else _("%(name)s (expert organisation)", name=name)) for key, name in names.items()]
        return render_template(
            "professional/consent.html", request_id=request_id, history=history, current=current,
            scope_options=scope_options, values=values, errors=errors or {},
            party=lambda p: names.get(f"{_PARTY_SLUG.get(p.kind, '')}:{p.id}", p.id)), status

    @app.get("/omat-pyynnot/<request_id>/suostumus")
    @require_role("professional")
    def consent(request_id: str):
        checked_id(request_id)
        return consent_page(request_id)

    @app.post("/omat-pyynnot/<request_id>/suostumus")
    @require_role("professional")
    def record_consent(request_id: str):
        checked_id(request_id)
        form = request.form
        values = {"form": form.get("form", ""), "given_by": form.get("given_by", ""),
                  "child_capacity_assessed": form.get("child_capacity_assessed") == "yes",
                  "scope": [s for s in form.getlist("scope") if _scope_key(s)]}
        scope = []
        for chosen in values["scope"]:
            kind, _sep, party_id = chosen.partition(":")
            scope.append(consent_pb2.Party(kind=_SLUG_PARTY[kind], id=party_id))
        try:
            call("consent", "RecordConsent", consent_pb2.RecordConsentRequest(
                request_id=request_id, form=_enum(consent_pb2.ConsentForm, values["form"]),
                given_by=_enum(consent_pb2.ConsentGiver, values["given_by"]),
                child_capacity_assessed=values["child_capacity_assessed"], scope=scope))
        except ServiceError as error:
            if error.code is not grpc.StatusCode.INVALID_ARGUMENT:
                raise
            errors = form_errors(error.violations, {"form", "given_by", "child_capacity_assessed", "scope"}, "form") \
                or {"form": bilingual(error.message)}
            return consent_page(request_id, values, errors, 400)
        flash(_("The consent was recorded. Those it now covers may read the case; every read is recorded."))
        return redirect(url_for("my_request", request_id=request_id))

    # --- withdrawing (a request, or the client's consent) -----------------------------------
    def confirm(request_id: str, what: str, refusal: str = "", status: int = 200):
        return render_template("professional/confirm.html", request_id=request_id, what=what, refusal=refusal), status

    @app.get("/omat-pyynnot/<request_id>/peru")
    @require_role("professional")
    def withdraw(request_id: str):
        checked_id(request_id)
        return confirm(request_id, "request")

    def withdrawn(request_id: str, what: str, send, done: str):
        """Send the withdrawal; a refusal the person can act on is shown on the confirmation page."""
        checked_id(request_id)
        try:
            send()
        except ServiceError as error:
            if error.code not in REFUSED_HERE:
                raise
            return confirm(request_id, what, bilingual(error.message), 409)
        flash(done)
        return redirect(url_for("my_request", request_id=request_id))

    @app.post("/omat-pyynnot/<request_id>/peru")
    @require_role("professional")
    def withdraw_request(request_id: str):
        return withdrawn(request_id, "request",
                         lambda: call("intake", "WithdrawRequest", intake_pb2.RequestRef(request_id=request_id)),
                         _("The request was withdrawn. A booked place went back to the group."))

    @app.get("/omat-pyynnot/<request_id>/suostumus/peru")
    @require_role("professional")
    def withdraw_consent(request_id: str):
        checked_id(request_id)
        return confirm(request_id, "consent")

    @app.post("/omat-pyynnot/<request_id>/suostumus/peru")
    @require_role("professional")
    def withdraw_consent_now(request_id: str):
        return withdrawn(request_id, "consent",
                         lambda: call("consent", "WithdrawConsent",
                                      consent_pb2.WithdrawConsentRequest(request_id=request_id)),
                         _("The withdrawal of consent was recorded: from now on nobody outside the OT team gets "
                           "the case."))

    # --- my data and notifications ---------------------------------------------------------
    def my_export():
        return call("intake", "ExportProfessionalData", intake_pb2.ProfessionalRef(subject=current_user().subject))

    @app.get("/omat-tiedot")
    @require_role("professional")
    def my_data():
        export = my_export()
        data = json.loads(export.json)
        return render_template("professional/my_data.html", export=export, data=data,
                               pretty=json.dumps(data, ensure_ascii=False, indent=2))

    @app.get("/omat-tiedot/ot-omat-tiedot.json")
    @require_role("professional")
    def my_data_json():
        response = Response(my_export().json, mimetype="application/json")
        response.headers["Content-Disposition"] = f"attachment; filename=ot-{tenant}-omat-tiedot.json"
        return response

    @app.route("/ilmoitukset", methods=["GET", "POST"])
    @require_role("professional", "expert")
    def notifications():
        if request.method == "POST":
            call("feedback", "SetNotificationSettings",
                 feedback_pb2.NotificationSettings(reminders_enabled=request.form.get("reminders_enabled") == "yes"))
            flash(_("Your notification choices were saved."))
            return redirect(url_for("notifications"))
        settings = call("feedback", "GetNotificationSettings", feedback_pb2.GetNotificationSettingsRequest())
        return render_template("professional/notifications.html", settings=settings)


# A consent scope's party as the form names it ("group:<id>", "expert_organisation:<id>").
_SLUG_PARTY = {"group": consent_pb2.PARTY_KIND_GROUP, "expert_organisation": consent_pb2.PARTY_KIND_EXPERT_ORGANISATION}
_PARTY_SLUG = {number: slug for slug, number in _SLUG_PARTY.items()}


def _scope_key(value: str) -> bool:
    kind, sep, party_id = value.partition(":")
    return bool(sep and party_id) and kind in _SLUG_PARTY
