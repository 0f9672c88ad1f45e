"""Consent's edge: who may call each RPC, and the form of every field a caller can set.

Both tables are enforced by the shared interceptors before a handler runs (ot_runtime.access,
ot_runtime.fields). What is left to the handlers is the object-level rule: which case a caller
may touch (the owning professional; the area's coordinators; for case content also the assigned
experts and the booked group's secretary and members, while the consent allows it), see
domain.content_access and handlers.py.

Roles (README, DOMAIN.md): the professional owns a case's consent; the OT team (coordinator,
secretary) asks before sharing; the coordinator, and for the cases booked into their group a
secretary and the group's members, and the experts assigned to a case read its content; the
admin is the area's data-protection officer, with the audit trail and the consent records as
evidence of lawful processing, but no case content; "service" is another platform service asking
the sharing question.

What a caller sends here goes into consent's records and its append-only audit trail (purposes,
party ids), which can never be edited: so every string is a closed form or guarded, and none is
free text longer than a line. The audit filters are closed forms too, though they are never kept.
"""
from __future__ import annotations

from ot.consent.v1 import consent_pb2 as pb

from ot_runtime import fields as f
from ot_runtime.access import ANYONE, access_table

from .audit import ACTIONS
from .notice import LANGUAGES as NOTICE_LANGUAGES

SERVICE = pb.DESCRIPTOR.services_by_name["ConsentService"]

ACCESS = access_table(SERVICE, {
    # Intake opens the case at submission with the submitting professional's own token (the owner).
    "OpenCase": ("professional",),
    # Reading case content: its owner, the area's coordinators, an assigned expert, the secretary and
    # members of the group it is booked into (which case: domain.content_access). Never the officer
    # (no case content), never a platform service (intake asks with the reader's own token).
    "GetDataKey": ("professional", "coordinator", "secretary", "expert", "group-member"),
    # The consent is the owning professional's assessment; only they record a new version...
    "RecordConsent": ("professional",),
    # ... or its withdrawal (the professional hears of it from the client).
    "WithdrawConsent": ("professional",),
    # The owner; the coordinator who decides on sharing; the officer, whose duty is to show the
    # lawful basis of processing (forms, givers, scope, dates: no case content).
    "GetConsent": ("professional", "coordinator", "admin"),
    # Experts asks before an assignment (with the coordinator's token), the OT team before a
    # group sees a case, a platform service with its own token.
    "CheckSharing": ("service", "coordinator", "secretary"),
    # The area's retention rules are the coordinator's decision.
    "SetRetentionPolicy": ("coordinator",),
    # The same figures are public on the privacy notice; the officer answers questions about them.
    "ListRetentionPolicies": ("coordinator", "secretary", "admin"),
    # Shredding now instead of at the next scheduled run: the coordinator's decision.
    "RunPurge": ("coordinator",),
    # The trail: the coordinator, and the officer, whose duty it is to check who read what.
    "QueryAudit": ("coordinator", "admin"),
    "VerifyAudit": ("coordinator", "admin"),
    # The privacy notice is for everyone who may be in the data (GDPR art. 13 and 14), signed in or
    # not: it holds the area's public values and the platform's rules, nothing of a case or a person.
    "GetPrivacyNotice": (ANYONE,),
})

# A party is an expert organisation (an expert id of the network's catalogue, or one of the
# area's own experts: experts allows slugs of up to 80 characters) or a group of the OT service
# map (catalogue slugs such as "haastavat-erot-keski-suomi"). The id is kept in every consent
# version and written to the audit trail, so it is a closed form AND guarded (an identity code
# written with a dash has a slug's shape).
PARTY_ID = f.slug(80)

# Why case content is read or shared (intake: "view", "triage note"; experts: "expert
# assignment"): a short line, guarded, because it goes into the trail.
PURPOSE = f.line(200)

FIELD_RULES = f.field_rules({
    # Request ids are intake's UUIDs (cases.request_id is String(36)).
    pb.OpenCaseRequest: {"request_id": f.uuid()},
    pb.Party: {"id": PARTY_ID},
    pb.GetDataKeyRequest: {"request_id": f.uuid(), "purpose": PURPOSE},
    pb.RecordConsentRequest: {"request_id": f.uuid()},
    pb.WithdrawConsentRequest: {"request_id": f.uuid()},
    pb.GetConsentRequest: {"request_id": f.uuid()},
    pb.CheckSharingRequest: {"request_id": f.uuid(), "purpose": PURPOSE},
    # Filters, never stored: the request id, one of the trail's actions, and a user id as the
    # identity provider gives it (a professional's data export).
    pb.QueryAuditRequest: {"request_id": f.uuid(), "action": f.choice(ACTIONS), "actor": f.subject()},
    # Empty is the area's default language.
    pb.GetPrivacyNoticeRequest: {"language": f.choice(NOTICE_LANGUAGES)},
})
