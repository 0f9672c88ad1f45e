"""Which refusals each RPC can give: the hand-kept half of the API reference (docs/api.md).

The roles come from the services' access tables and the form rules of every request field from
their field tables (both imported by scripts/api_reference.py); what neither table says is what a
handler refuses: a rule of the domain, an object-level rule (this request, this meeting), a
dependency that does not answer. That is written down here, per RPC, because the reasons are
passed through helpers and variables that no tool follows reliably.

It cannot drift silently: tests/contracts/test_api_reference.py reads the services' source and
fails when a reason, a PreconditionFailure type or a field violation appears there that this
catalogue does not know (or the other way round). Update this file with the handler, then
`python scripts/api_reference.py`.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Refusal:
    """One way a call is refused.

    code: the gRPC status. reason: PERMISSION_DENIED's google.rpc.ErrorInfo reason,
    FAILED_PRECONDITION's (and RESOURCE_EXHAUSTED's) google.rpc.PreconditionFailure violation type,
    or INVALID_ARGUMENT's google.rpc.BadRequest field violation reason. field: the BadRequest field
    path. info: the ErrorInfo metadata keys (FAILED_PRECONDITION adds an ErrorInfo with the same
    reason when it has any). when: what happened, in words."""
    code: str
    when: str
    reason: str = ""
    field: str = ""
    info: str = ""


def bad(field: str, reason: str, when: str) -> Refusal:
    return Refusal("INVALID_ARGUMENT", when, reason, field)


def denied(reason: str, when: str, info: str = "request_id") -> Refusal:
    return Refusal("PERMISSION_DENIED", when, reason, info=info)


def pre(reason: str, when: str, info: str = "") -> Refusal:
    return Refusal("FAILED_PRECONDITION", when, reason, info=info)


def missing(when: str) -> Refusal:
    return Refusal("NOT_FOUND", when)


def away(when: str) -> Refusal:
    return Refusal("UNAVAILABLE", when)


# --- the same refusal in several RPCs ---------------------------------------------------------
NO_REQUEST = missing("no request with this id in this area")
LIFECYCLE = pre("LIFECYCLE", "the request's status does not allow this step (PreconditionFailure subject "
                "`requests/<id>`)", info="status, target")
CONSENT_AWAY = away("the consent service does not answer (nothing was stored or changed; retry)")
CONSENT_REFUSED = denied("CONSENT_REFUSED", "consent does not hand this caller the request's data key now "
                         "(the client's consent does not cover them)", info="request_id, consent_reason")
# policy.py: a caller of the right role who may not touch this request
NOT_OWNER = denied("NOT_OWNER", "a professional, but not the one who submitted the request")
NOT_ASSIGNED = denied("NOT_ASSIGNED", "an expert not assigned to the request")
NOT_GROUP_SECRETARY = denied("NOT_GROUP_SECRETARY", "a secretary, but the request (or meeting) is not of a group "
                             "they run (token claim `ot_groups`)")
NOT_GROUP_MEMBER = denied("NOT_GROUP_MEMBER", "a group member, but the request is not booked into a meeting of "
                          "their group")
ANSWER_RETURNED = denied("ANSWER_RETURNED", "a group member after the group's answer went back to the worker")
PAGE_TOKEN = bad("page_token", "bad_form", "a page token this service did not make (start again without it)")

INTAKE = {
    "SubmitRequest": [
        bad("type", "required", "no request type"),
        bad("categories", "required", "no case category"),
        bad("categories", "invalid", "a category chosen twice"),
        bad("professional.name", "required", "the professional's name is empty"),
        bad("professional.profession", "required", "the profession is empty"),
        bad("professional.organisation", "required", "the organisation is empty"),
        bad("professional.email", "required", "neither an e-mail nor a phone number"),
        bad("professional.sector", "required", "no sector"),
        bad("professional.wellbeing_area", "wrong_area", "another wellbeing area than this deployment's"),
        bad("discussed_in_own_team", "precondition", "the case was not first discussed in the own team"),
        bad("question", "required", "no question"),
        bad("client.age_years", "invalid", "an age outside 0–25 (set age_unknown instead)"),
        bad("consent.need", "required", "the consent assessment is missing"),
        bad("consent.given_by", "required", "consent is needed but its giver is not said"),
        bad("consent.child_capacity_assessed", "required", "the child consents but their capacity was not assessed"),
        bad("anonymous", "invalid", "anonymous handling asked for a request that is not a group consultation"),
        CONSENT_AWAY,
    ],
    "GetRequest": [NO_REQUEST, NOT_OWNER, NOT_ASSIGNED, NOT_GROUP_MEMBER, ANSWER_RETURNED,
                   away("the consent service does not answer when the content is opened")],
    "ListRequests": [PAGE_TOKEN, bad("page_size", "out_of_range", "a page size outside 1–100")],
    "TriageRequest": [NO_REQUEST, LIFECYCLE,
                      pre("CONTENT_ERASED", "a note was given but the case content was already erased"),
                      CONSENT_REFUSED, CONSENT_AWAY],
    "PublishMeeting": [
        bad("group_id", "invalid", "not a group id (lower-case letters, digits and hyphens)"),
        bad("starts_at", "required", "no start time"),
        bad("starts_at", "in_past", "a start time that is not in the future"),
        bad("capacity", "invalid", "a capacity outside 1–50"),
        bad("booking_lead_days", "invalid", "a lead time outside 0–90 days"),
    ],
    "ListMeetings": [],
    "BookMeeting": [
        NO_REQUEST, missing("no meeting with this id"), NOT_OWNER, NOT_GROUP_SECRETARY, LIFECYCLE,
        pre("ALREADY_BOOKED", "a scheduled request moved into the meeting it is already booked into",
            info="meeting_id"),
        pre("REQUEST_TYPE", "only group-consultation requests are booked into meetings"),
        pre("BOOKING_DEADLINE_PASSED", "after the meeting's booking deadline; the ErrorInfo names the next "
            "meeting of the group with room, when there is one",
            info="group_id, next_meeting_id, next_meeting_starts_at, next_meeting_booking_deadline"),
        Refusal("RESOURCE_EXHAUSTED", "the meeting is full; the ErrorInfo names the next meeting with room, when "
                "there is one", "MEETING_FULL",
                info="group_id, next_meeting_id, next_meeting_starts_at, next_meeting_booking_deadline"),
    ],
    "MarkConsulted": [NO_REQUEST, NOT_GROUP_SECRETARY, LIFECYCLE,
                      pre("MEETING_NOT_HELD", "booked into a meeting that has not started yet; the secretary can "
                          "move the booking to another meeting (BookMeeting)", info="meeting_id, meeting_starts_at")],
    "ReturnRecommendations": [
        NO_REQUEST, NOT_GROUP_SECRETARY, NOT_ASSIGNED, LIFECYCLE,
        pre("NO_ANSWER", "no ADVICE, RECOMMENDATIONS or STATEMENT entry to return yet"),
    ],
    "CloseRequest": [NO_REQUEST, LIFECYCLE],
    "WithdrawRequest": [NO_REQUEST, NOT_OWNER, NOT_GROUP_SECRETARY, LIFECYCLE],
    "ExportProfessionalData": [
        bad("subject", "required", "no user id"),
        denied("NOT_OWN_DATA", "a professional asking for someone else's data", info=""),
    ],
    "EraseProfessionalData": [bad("subject", "required", "no user id")],
    "AddEntry": [
        bad("kind", "required", "no entry kind"),
        bad("text", "required", "no text"),
        bad("expert_ids", "invalid", "experts named on an entry that is not ADVICE, or one expert twice"),
        NO_REQUEST,
        denied("KIND_NOT_ALLOWED", "the caller's role never writes this kind of entry (see EntryKind)",
               info="request_id, kind"),
        NOT_OWNER, NOT_ASSIGNED, NOT_GROUP_SECRETARY,
        pre("REQUEST_TYPE", "this kind of entry does not belong to this type of request", info="type, kind"),
        pre("LIFECYCLE", "the request's status does not take this kind of entry now", info="status, kind"),
        pre("CONTENT_ERASED", "the case content was erased at the end of its retention"),
        CONSENT_REFUSED, CONSENT_AWAY,
    ],
    "ListEntries": [NO_REQUEST, NOT_OWNER, NOT_ASSIGNED, NOT_GROUP_SECRETARY, NOT_GROUP_MEMBER, ANSWER_RETURNED,
                    CONSENT_REFUSED, CONSENT_AWAY],
    "GetMeetingAgenda": [
        missing("no meeting with this id"),
        denied("NOT_GROUP_SECRETARY", "a secretary of another group", info="meeting_id"),
        denied("NOT_GROUP_MEMBER", "a member of another group", info="meeting_id"),
    ],
}

# experts' domain.validate_expert: CreateExpert, and UpdateExpert with `fields`
EXPERT_FIELDS = [
    bad("expert_id", "invalid", "an id that is not 3–80 characters a–z, 0–9 and hyphens"),
    bad("fields.kind", "invalid", "a kind other than organisation, unit or person"),
    bad("fields.name_fi", "required", "no Finnish name"),
    bad("fields.categories", "required", "no case category"),
    bad("fields.cost", "required", "free or paid is not said"),
    bad("fields.price_note", "required", "a paid expert without a price note"),
    bad("fields.modalities", "required", "neither remote nor on site"),
]
NO_EXPERT = missing("no expert with this id in the catalogue")
NO_EXPERTS_REQUEST = missing("the request has not reached the experts service (yet): it learns requests from "
                             "intake's events")
SUBJECT_TAKEN = pre("SUBJECT_TAKEN", "`user_subject` is already linked to another expert", info="user_subject")
UNKNOWN_AREA = bad("area", "not_allowed_value", "not one of the cooperation area's wellbeing areas")

EXPERTS = {
    "ListExperts": [PAGE_TOKEN, bad("page_size", "out_of_range", "a page size outside 1–100")],
    "GetExpert": [NO_EXPERT],
    "CreateExpert": [*EXPERT_FIELDS,
                     pre("EXPERT_ID_TAKEN", "the id is already in the catalogue", info="expert_id"),
                     SUBJECT_TAKEN],
    "UpdateExpert": [NO_EXPERT, *EXPERT_FIELDS,
                     pre("CATALOGUE_MANAGED", "catalogue fields of a shared-catalogue expert (they change through "
                         "the coordinating area's dataset)", info="expert_id, origin"),
                     SUBJECT_TAKEN],
    "RetireExpert": [NO_EXPERT],
    "ListAgreements": [UNKNOWN_AREA],
    "ListGroups": [UNKNOWN_AREA],
    "ListProposals": [NO_EXPERTS_REQUEST],
    "AssignExperts": [
        bad("expert_ids", "required", "no expert"),
        bad("expert_ids", "duplicate", "the same expert twice"),
        NO_EXPERTS_REQUEST, NO_EXPERT,
        pre("REQUEST_NOT_ASSIGNABLE", "the request is not submitted, triaged, assigned or awaiting information "
            "(e.g. scheduled, consulted, answered, withdrawn)", info="status"),
        pre("SHARING_NOT_ALLOWED", "the client's consent was withdrawn, or consent's sharing check does not cover "
            "this expert", info="expert_id (or request_id, cause)"),
        pre("ALREADY_ASSIGNED", "the expert is already assigned to the request", info="expert_id"),
        pre("EXPERT_RETIRED", "the expert is retired", info="expert_id, area"),
        pre("EXPERT_NOT_ACTIVE", "the expert is not active in this area now", info="expert_id, area"),
        pre("NO_AGREEMENT", "the area has no agreement covering the expert (or the network is still "
            "investigating it)", info="expert_id, area"),
        pre("COST_APPROVAL_REQUIRED", "a paid expert without `cost_approved`", info="expert_id, price_note"),
        away("the consent service does not answer the sharing check (nothing was assigned; retry)"),
    ],
    "UnassignExpert": [NO_EXPERTS_REQUEST,
                       pre("NOT_ASSIGNED", "the expert is not assigned to the request", info="expert_id")],
    "ListAssignments": [NO_EXPERTS_REQUEST],
    "ListMyAssignments": [denied("EXPERT_NOT_LINKED", "the caller's user id is linked to no expert of this area "
                                 "(ask the coordinator to set the expert's `user_subject`)", info="")],
}

# consent's validate_consent: OpenCase and RecordConsent
CONSENT_FIELDS = [
    bad("form", "required", "no consent form (or NOT_NEEDED)"),
    bad("given_by", "required", "consent is needed but its giver is not said"),
    bad("child_capacity_assessed", "required", "the child consents but their capacity was not assessed"),
    bad("scope[i].kind", "required", "a party without its kind"),
    bad("scope[i].id", "required", "a group or expert organisation without its id"),
]
NO_CASE = missing("no case with this request id in this area")
KEYS_AWAY = away("the key service waits for its new master-key configuration (a replica not yet restarted after "
                 "a key rotation); retry")
NOT_CASE_OWNER = denied("NOT_OWNER", "not the professional who made the request")

CONSENT = {
    "OpenCase": [*CONSENT_FIELDS,
                 bad("request_id", "required", "no request id"),
                 bad("type", "required", "no request type"),
                 denied("NOT_OWNER", "the request id is already open for another professional"),
                 pre("CASE_ABANDONED", "the case was discarded because intake never stored its request in time; "
                     "submit again"),
                 KEYS_AWAY],
    "GetDataKey": [
        missing("no case with this request id, or its content was erased (the key is shredded)"),
        denied("NOT_OWNER", "not the owner, a coordinator, an assigned expert or the booked group",
               info="request_id"),
        denied("NOT_ASSIGNED", "an expert not assigned to the request", info="request_id"),
        denied("NOT_BOOKED_GROUP", "a secretary or member of a group the request is not booked into",
               info="request_id"),
        denied("RECOMMENDATIONS_RETURNED", "a group member after the recommendations were returned",
               info="request_id, party"),
        denied("CONSENT_WITHDRAWN", "related to the case, but the consent was withdrawn", info="request_id, party"),
        denied("NOT_IN_SCOPE", "related to the case, but the consent's scope does not cover the caller's party",
               info="request_id, party"),
        denied("NO_CONSENT_RECORD", "related to the case, but no consent assessment is recorded",
               info="request_id, party"),
        KEYS_AWAY,
    ],
    "RecordConsent": [*CONSENT_FIELDS, NO_CASE, NOT_CASE_OWNER],
    "WithdrawConsent": [NO_CASE, NOT_CASE_OWNER],
    "GetConsent": [NO_CASE, denied("NOT_OWNER", "a professional who did not make the request")],
    "CheckSharing": [bad("party.kind", "required", "a party without its kind")],
    "SetRetentionPolicy": [
        bad("type", "required", "no request type"),
        bad("grace_days_after_recommendations", "out_of_range", "outside 0–3650 days"),
        bad("max_days_after_submission", "out_of_range", "outside 1–3650 days"),
    ],
    "ListRetentionPolicies": [],
    "RunPurge": [],
    "QueryAudit": [bad("page_size", "out_of_range", "a page size outside 1–1000"),
                   bad("after_sequence", "out_of_range", "a negative sequence")],
    "VerifyAudit": [],
    "GetPrivacyNotice": [],
}

# The cooperation area's statistics are combined in the coordinating area only (aggregate.py).
NOT_COORDINATING = pre("NOT_COORDINATING_AREA", "this area does not combine the cooperation area's statistics "
                       "(area.statistics.coordinating)")

# The mailed link of feedback's answer form (the same answer, never anything about the case).
FEEDBACK_LINK = [
    missing("the link is not one of this area's (mistyped, cut, forged, another area's): every such link alike"),
    pre("LINK_EXPIRED", "the time to answer has ended", info="link"),
    pre("LINK_USED", "the link was already used to answer", info="link"),
    pre("FOLLOW_UP_CANCELLED", "the follow-up was cancelled (withdrawn or erased request, no e-mail address)",
        info="link"),
]

FEEDBACK = {
    "GetStatistics": [bad("period", "invalid", "not a year (2026), a quarter (2026-Q2) or a month (2026-05)"),
                      denied("ROLE_NOT_ALLOWED", "cooperation_area asked by a secretary (the cooperation area's "
                             "figures are the coordinators')", info="method"),
                      NOT_COORDINATING],
    "GetFollowUp": [missing("no follow-up for this request")],
    "GetNotificationSettings": [],
    "SetNotificationSettings": [],
    "OpenFeedbackForm": [*FEEDBACK_LINK],
    "ImportAreaAggregate": [
        bad("file", "malformed", "not an area's statistics file (not JSON, another format, a field or count that "
            "is not one); the message names what"),
        bad("file", "signature", "the signature does not match the area's public key (changed on the way, or "
            "signed with another key)"),
        bad("file", "unknown_area", "the area is not in OT_FEEDBACK_AREA_AGGREGATE_KEYS"),
        bad("file", "opted_out", "the area has opted out (listed without a key)"),
        bad("file", "own_area", "the file is this area's own (its counts are already included)"),
        bad("file", "future_month", "the month is still to come"),
        NOT_COORDINATING,
    ],
    "AnswerFeedback": [
        bad("usefulness", "required", "no usefulness on the scale 1–5 (0 or a number outside it)"),
        bad("got_needed", "required", "no answer to whether the worker got what they needed"),
        *FEEDBACK_LINK,
    ],
}

BY_SERVICE = {"intake": INTAKE, "experts": EXPERTS, "consent": CONSENT, "feedback": FEEDBACK}

# CheckSharing answers rather than refuses: SharingDecision.reason_code is one of these.
SHARING_CODES = {
    "CONSENT_IN_SCOPE": "allowed: the consent covers the party (the OT team is always covered)",
    "CONSENT_NOT_NEEDED": "allowed: the professional judged that no consent is needed",
    "NOT_IN_SCOPE": "refused: the consent's scope does not cover the party",
    "CONSENT_WITHDRAWN": "refused: the consent was withdrawn",
    "NO_CONSENT_RECORD": "refused: no consent assessment is recorded",
    "CONTENT_ERASED": "refused: the case content was erased at the end of its retention",
    "UNKNOWN_REQUEST": "refused: the request is not known in this area",
}

# Upper-case codes in the services' error-making modules that are not an RPC's refusal, and why;
# the test that checks this catalogue against the code skips exactly these.
NOT_RPC_REASONS = {
    "MASTER_KEY_CURRENT": "`ot-consent retire-master-key` (a command, not an RPC)",
    "MASTER_KEY_IN_USE": "`ot-consent retire-master-key` (a command, not an RPC)",
    "WRONG_AREA": "experts' event consumer: an event of another area is dead-lettered",
}
# Field violations no RPC gives: a rule for a text value that a proto enum keeps out at the edge, and
# event consumers.
NOT_RPC_FIELDS = {
    "ot_feedback": {"what_next"},  # parse_answer's rule for a text value; AnswerFeedback's is an enum
    "ot_experts": {"request_id"},                               # _event_about: a consumed event's id
}
