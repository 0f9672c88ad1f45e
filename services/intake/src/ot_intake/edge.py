"""Intake's edge: who may call each RPC, and the form of every field a caller can set.

Both tables are enforced by the shared interceptors before a handler runs (ot_runtime.access,
ot_runtime.fields). What is left to the handlers is the object-level rule: which request a
caller may touch (the requester, the OT team, an assigned expert), see handlers.py.

Roles (README, DOMAIN.md): a professional asks for help and follows their own requests; the OT
team (coordinator, secretary) handles the area's requests and meetings, a secretary the cases of
the groups they run (the token's ot_groups); an expert works on the requests they are assigned
to; a group member reads the cases booked into their group's meetings before the answer; the
admin is the area's data-protection officer, with what those duties need (a professional's export
and erasure; the audit trail is in consent) and no case content, submitting or triage; "service"
is another platform service (feedback).
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
    # The requester, the OT team, an assigned expert and the booked group's members (checked per
    # request); feedback's service reads the worker's e-mail and status, without case content.
    "GetRequest": ("professional", *STAFF, "expert", "group-member", "service"),
    # The OT team works through the area's queue; the list has no case content but is every case.
    # ... and a professional their own requests ("my requests", filtered by owner in the handler).
    "ListRequests": (*STAFF, "professional"),
    # Triage is the coordinator's judgement (DOMAIN.md: the coordinator decides what a case needs).
    "TriageRequest": ("coordinator",),
    # Secretaries run the groups' calendars; the coordinator stands in.
    "PublishMeeting": STAFF,
    # Who books or arranges group meetings: professionals (their booking), the OT team.
    "ListMeetings": ("professional", *STAFF, "group-member"),
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
    # The conversation: each writer's kinds are checked per request (policy.writer); group
    # members read but write nothing (the secretary records the group's recommendations).
    "AddEntry": ("professional", *STAFF, "expert"),
    # Everyone who may read the case (checked per request, and again by consent).
    "ListEntries": ("professional", *STAFF, "expert", "group-member"),
    # The meeting's group's secretary (checked per meeting) or a coordinator.
    "GetMeetingAgenda": (*STAFF, "group-member"),
})

# Limits that fit real use and every column in store.py (a value that passes here always fits).
MAX_CASE_TEXT = 4000   # a question or a client description: a few thousand characters at most
MAX_NOTE = 2000        # the coordinator's triage note
MAX_LINE = 200         # a profession, an organisation, one earlier service: columns are String(200)
MAX_EMAIL = 200        # prof_email is String(200), a little under RFC 5321's 254
MAX_IDEMPOTENCY_KEY = 100  # requests.idempotency_key and entries.idempotency_key are String(100)
# A conversation entry: a question or a reply is short, but advice, recommendations or a filled-in
# pre-information form may run to a few pages (well under gRPC's 256 KiB).
MAX_ENTRY_TEXT = 12000
# A meeting's place ("Perheneuvola, neuvotteluhuone 2") or video link (long: a Teams link is ~300).
MAX_LOCATION = 500

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
    pb.PublishMeetingRequest: {
        "group_id": f.slug(64),   # meetings.group_id is String(64)
        # Guarded one-line text rather than a closed URL form: a group meets in a room as often as
        # on video, and both travel to the professional by mail and on MeetingPublished (Kafka).
        # Video links pass the guard; a street address does not (the guard cannot tell an office's
        # from a client's): name the place or the room.
        "location": f.line(MAX_LOCATION),
    },
    pb.ListMeetingsRequest: {"group_id": f.slug(64)},
    pb.BookMeetingRequest: {"request_id": f.uuid(), "meeting_id": f.uuid()},
    pb.ProfessionalRef: {"subject": f.subject()},
    pb.AddEntryRequest: {
        "request_id": f.uuid(),
        "text": f.text(MAX_ENTRY_TEXT),
        # How the author signs: their own or their unit's name, like professional.name (not
        # guarded: a person's name is expected here; it is blanked by erasure and by the purge).
        "author_name": f.contact_name(MAX_LINE),
        "expert_ids": f.slug(64, max_items=20),   # catalogue ids the advice points to
        "idempotency_key": f.token(MAX_IDEMPOTENCY_KEY, guarded=True),
    },
    pb.ListEntriesRequest: {"request_id": f.uuid()},
    pb.GetMeetingAgendaRequest: {"meeting_id": f.uuid()},
})
