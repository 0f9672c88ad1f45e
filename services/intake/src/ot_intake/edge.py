"""Intake's edge: who may call each RPC, and the form of every field a caller can set.

Both tables are enforced by the shared interceptors before a handler runs (ot_runtime.access,
ot_runtime.fields). What is left to the handlers is the object-level rule: which request a
caller may touch (the requester, the OT team, an assigned expert), see handlers.py.

Roles (README, DOMAIN.md): a professional asks for help and follows their own requests; the OT
team (coordinator, secretary) handles the area's requests and meetings; an expert works on the
requests they are assigned to; the admin is the area's data-protection officer, with what those
duties need (a professional's export and erasure; the audit trail is in consent) and no case
content, submitting or triage; "service" is another platform service (feedback).
"""
from __future__ import annotations

from ot.intake.v1 import intake_pb2 as pb

from ot_runtime import fields as f
from ot_runtime.access import access_table

SERVICE = pb.DESCRIPTOR.services_by_name["IntakeService"]

STAFF = ("coordinator", "secretary")

ACCESS = access_table(SERVICE, {
    # Only the professional who has the case asks; nobody submits for them, the officer takes no cases.
    "SubmitRequest": ("professional",),
    # The requester, the OT team and an assigned expert (checked per request); feedback's service
    # reads the worker's e-mail and status, without case content.
    "GetRequest": ("professional", *STAFF, "expert", "service"),
    # The OT team works through the area's queue; the list has no case content but is every case.
    "ListRequests": STAFF,
    # Triage is the coordinator's judgement (DOMAIN.md: the coordinator decides what a case needs).
    "TriageRequest": ("coordinator",),
    # Secretaries run the groups' calendars; the coordinator stands in.
    "PublishMeeting": STAFF,
    # Who books or arranges group meetings: professionals (their booking), the OT team.
    "ListMeetings": ("professional", *STAFF),
    # The requester books their own request (checked per request); the OT team on their behalf.
    "BookMeeting": ("professional", *STAFF),
    # The OT team records that the consultation took place.
    "MarkConsulted": STAFF,
    # The OT team, or an expert assigned to the request (checked per request), returned the advice.
    "ReturnRecommendations": (*STAFF, "expert"),
    # Closing a case ends the coordinator's follow-up.
    "CloseRequest": ("coordinator",),
    # The requester withdraws (checked per request); the OT team on their behalf.
    "WithdrawRequest": ("professional", *STAFF),
    # A professional's own data (checked: only their own), or the officer answering a data request.
    "ExportProfessionalData": ("professional", "admin"),
    # Erasure on a professional's request is the data-protection officer's duty alone.
    "EraseProfessionalData": ("admin",),
})

# Limits that fit real use and every column in store.py (a value that passes here always fits).
MAX_CASE_TEXT = 4000   # a question or a client description: a few thousand characters at most
MAX_NOTE = 2000        # the coordinator's triage note
MAX_LINE = 200         # a profession, an organisation, one earlier service: columns are String(200)
MAX_EMAIL = 200        # prof_email is String(200), a little under RFC 5321's 254
MAX_IDEMPOTENCY_KEY = 100  # requests.idempotency_key is String(100)

FIELD_RULES = f.field_rules({
    pb.SubmitRequestRequest: {
        "question": f.text(MAX_CASE_TEXT),
        # Stored beside the request and chosen by the caller: guarded, and a closed form.
        "idempotency_key": f.token(MAX_IDEMPOTENCY_KEY, guarded=True),
    },
    pb.Professional: {
        # The professional's own contact data: their name is expected here, so not guarded.
        "name": f.contact_name(MAX_LINE),
        "phone": f.phone(40),          # prof_phone is String(50)
        "email": f.email(MAX_EMAIL),
        # Free text about the professional that statistics keep after erasure: guarded.
        "profession": f.line(MAX_LINE),
        "organisation": f.line(MAX_LINE),
        "wellbeing_area": f.area(),
    },
    pb.ClientFacts: {
        "family_situation": f.text(MAX_CASE_TEXT),
        # One service or partner per item ("perheneuvola", "koulukuraattori"): a line each.
        "earlier_services": f.line(MAX_LINE, max_items=20),
        "cooperation_partners": f.line(MAX_LINE, max_items=20),
        "health_information": f.text(MAX_CASE_TEXT),
    },
    pb.GetRequestRequest: {"request_id": f.uuid()},
    pb.RequestRef: {"request_id": f.uuid()},
    pb.TriageRequestRequest: {"request_id": f.uuid(), "note": f.text(MAX_NOTE)},
    # Made by this service (base64 of a time and an id), never stored.
    pb.ListRequestsRequest: {"page_token": f.token(200)},
    pb.PublishMeetingRequest: {"group_id": f.slug(64)},   # meetings.group_id is String(64)
    pb.ListMeetingsRequest: {"group_id": f.slug(64)},
    pb.BookMeetingRequest: {"request_id": f.uuid(), "meeting_id": f.uuid()},
    pb.ProfessionalRef: {"subject": f.subject()},
})
