"""The privacy notice's content (GDPR articles 13 and 14), as facts: no wording here.

Two halves:
- the area's own values (each wellbeing area is the controller of its release): the controller
  and its registry office's contact, the data-protection officer's contact, the processors and
  the notice languages, from environment variables (`NoticeArea.from_env`);
- what the platform does, from the code: the kinds of personal data it keeps (`CATEGORIES`,
  checked against every service's field table by tests/test_notice.py, so a new field fails
  a test until it is placed here or in `NOT_PERSONAL`), who reads case content (`RECIPIENTS`,
  checked against domain.content_access), the live retention policies, the refused client
  identifiers (the guard's kinds), and that no decision is automated.

GetPrivacyNotice returns both; the portal's /tietosuojaseloste words them (its templates/notice/
and its notice.po catalogues), so the text cannot drift from what the code does.
"""
from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass, field
from typing import Mapping

from ot.common.v1 import case_pb2
from ot.consent.v1 import consent_pb2 as pb

from ot_guard.policy import REFUSED_KINDS_IN_CLIENT_TEXT
from ot_runtime.protoconv import to_proto
from ot_runtime.settings import Settings, SettingsError
from ot_runtime.tenants import TENANTS, TENANTS_GENITIVE_FI

from .domain import RequestType, RetentionPolicy

LANGUAGES = ("fi", "en", "sv")
PROCESSOR_SERVICES = ("email_relay", "hosting", "identity_provider", "other")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

# The area's values: the variable names, written out so they can be found (README, the chart).
CONTROLLER_NAME = "OT_NOTICE_CONTROLLER_NAME"              # Finnish
# The name in the other languages, optional. Written out (not built from the language) so that the
# chart's check of the names the code reads (tests/deploy) sees them.
CONTROLLER_NAME_IN = {"en": "OT_NOTICE_CONTROLLER_NAME_EN", "sv": "OT_NOTICE_CONTROLLER_NAME_SV"}
CONTROLLER_ADDRESS = "OT_NOTICE_CONTROLLER_ADDRESS"        # the registry office's postal address
CONTROLLER_EMAIL = "OT_NOTICE_CONTROLLER_EMAIL"
CONTROLLER_PHONE = "OT_NOTICE_CONTROLLER_PHONE"
DPO_EMAIL = "OT_NOTICE_DPO_EMAIL"
DPO_PHONE = "OT_NOTICE_DPO_PHONE"                          # optional
DPO_ADDRESS = "OT_NOTICE_DPO_ADDRESS"                      # optional
PROCESSORS = "OT_NOTICE_PROCESSORS"                        # JSON list of {name, service, location}
NOTICE_LANGUAGES = "OT_NOTICE_LANGUAGES"                   # e.g. "fi,en" or "fi,sv,en"
PORTAL_URL = "OT_PORTAL_URL"                               # where the notice is published
REQUIRED = (CONTROLLER_NAME, CONTROLLER_ADDRESS, CONTROLLER_EMAIL, CONTROLLER_PHONE, DPO_EMAIL, PROCESSORS)
OPTIONAL = (*CONTROLLER_NAME_IN.values(), DPO_PHONE, DPO_ADDRESS, NOTICE_LANGUAGES)
# Where the notice is when OT_PORTAL_URL is not set on loopback: `make run`'s portal.
LOCAL_PORTAL_URL = "http://127.0.0.1:8080"


@dataclass(frozen=True)
class Processor:
    name: str
    service: str
    location: str


@dataclass(frozen=True)
class NoticeArea:
    """One wellbeing area's values. `example` is True for the fictional defaults of a loopback run."""
    tenant: str
    languages: tuple[str, ...]
    controller_names: Mapping[str, str]   # language -> name; the Finnish one always
    controller_address: str
    controller_email: str
    controller_phone: str
    dpo_email: str
    dpo_phone: str = ""
    dpo_address: str = ""
    processors: tuple[Processor, ...] = ()
    example: bool = False

    def controller_name(self, language: str) -> str:
        return self.controller_names.get(language) or self.controller_names["fi"]

    @classmethod
    def example_for(cls, tenant: str) -> "NoticeArea":
        """Obviously fictional values (example.fi, no real person) for a run on this machine only."""
        return cls(tenant=tenant, languages=("fi", "en"),
                   controller_names={"fi": f"{TENANTS_GENITIVE_FI[tenant]} hyvinvointialue (esimerkki)",
                                     "en": f"Wellbeing services county of {TENANTS[tenant]} (example)"},
                   controller_address="Esimerkkikatu 1, 00000 Esimerkkilä",
                   controller_email=f"kirjaamo@{tenant}.example.fi", controller_phone="000 0000 000 (esimerkki)",
                   dpo_email=f"tietosuoja@{tenant}.example.fi",
                   processors=(Processor("Esimerkkiposti Oy (esimerkki)", "email_relay", "Suomi"),), example=True)

    @classmethod
    def from_env(cls, tenant: str, env: Mapping[str, str], *, local: bool) -> "NoticeArea":
        """The area's values. None of them set: the example values on loopback (`local`), a refusal to
        start anywhere else, since a published notice with fictional values would mislead people.
        Some set: every required one must be (never a mix of real and example values)."""
        values = {name: str(env.get(name, "")).strip() for name in REQUIRED + OPTIONAL}
        if not any(values[name] for name in REQUIRED):
            if local:
                return cls.example_for(tenant)
            raise SettingsError(
                "consent: the privacy notice's area values are not set: " + ", ".join(REQUIRED) +
                " (the chart's area.privacyNotice; each wellbeing area is the controller of its release). "
                "The example values are used only when consent listens on loopback (make run).")
        problems = [f"{name} is not set" for name in REQUIRED if not values[name]]
        for name in (CONTROLLER_EMAIL, DPO_EMAIL):
            if values[name] and not _EMAIL.fullmatch(values[name]):
                problems.append(f"{name} must be an e-mail address")
        languages = tuple(x.strip() for x in (values[NOTICE_LANGUAGES] or "fi,en").split(",") if x.strip())
        if not languages or set(languages) - set(LANGUAGES) or len(set(languages)) != len(languages) \
                or "fi" not in languages:
            problems.append(f"{NOTICE_LANGUAGES} must list fi and any of en, sv once each, comma-separated "
                            f"(the first is the default), got {values[NOTICE_LANGUAGES]!r}")
        processors: list[Processor] = []
        if values[PROCESSORS]:
            try:
                processors = _processors(values[PROCESSORS])
            except ValueError as exc:
                problems.append(f"{PROCESSORS} {exc}")
        if problems:
            raise SettingsError("consent: the privacy notice's area values are incomplete: " + "; ".join(problems))
        names = {"fi": values[CONTROLLER_NAME]}
        for language in ("en", "sv"):
            if values[CONTROLLER_NAME_IN[language]]:
                names[language] = values[CONTROLLER_NAME_IN[language]]
        return cls(tenant=tenant, languages=languages, controller_names=names,
                   controller_address=values[CONTROLLER_ADDRESS], controller_email=values[CONTROLLER_EMAIL],
                   controller_phone=values[CONTROLLER_PHONE], dpo_email=values[DPO_EMAIL],
                   dpo_phone=values[DPO_PHONE], dpo_address=values[DPO_ADDRESS], processors=tuple(processors))


def _processors(raw: str) -> list[Processor]:
    try:
        items = json.loads(raw)
    except json.JSONDecodeError:
        raise ValueError('must be a JSON list, e.g. [{"name": "...", "service": "email_relay", '
                         '"location": "Suomi"}] ([] for none)') from None
    if not isinstance(items, list):
        raise ValueError("must be a JSON list ([] for none)")
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not str(item.get("name", "")).strip():
            raise ValueError(f"item {i + 1} needs a name")
        service = str(item.get("service", "")).strip()
        if service not in PROCESSOR_SERVICES:
            raise ValueError(f"item {i + 1}: service must be one of {', '.join(PROCESSOR_SERVICES)}")
        out.append(Processor(str(item["name"]).strip(), service, str(item.get("location", "")).strip()))
    return out


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def listens_on_loopback(settings: Settings) -> bool:
    """Nobody but this machine can reach consent: the only place where example values may show."""
    return is_loopback(settings.grpc_host) and is_loopback(settings.http_host)


def notice_area(settings: Settings) -> NoticeArea:
    return NoticeArea.from_env(settings.tenant, settings.extra, local=listens_on_loopback(settings))


def portal_url(settings: Settings) -> str:
    """Where consent's own /tietosuoja sends people: the portal's notice page. Required off loopback."""
    url = settings.extra.get(PORTAL_URL, "").strip().rstrip("/")
    if not url:
        if listens_on_loopback(settings):
            return LOCAL_PORTAL_URL
        raise SettingsError(f"consent: {PORTAL_URL} is not set: the portal's https address, where the privacy notice "
                            "is published (consent's /tietosuoja redirects there)")
    if not re.fullmatch(r"https?://[^\s/]+(/[^\s]*)?", url):
        raise SettingsError(f"consent: {PORTAL_URL} must be an http(s) address, got {url!r}")
    return url


# --- what the code keeps ------------------------------------------------------------------------

@dataclass(frozen=True)
class Category:
    code: str
    subject: str          # professional, client, expert, staff
    encrypted_per_case: bool
    kept_until: str       # case_retention, professional_erasure, statistics, catalogue, audit_trail, follow_up,
                          # records_plan
    fields: tuple[str, ...] = field(default=())


# Every field a caller can set that is stored with personal data, by kind. The string fields come
# from the services' field tables (each edge.py); the others (numbers, enums) are named by hand.
CATEGORIES = (
    # Who asks: kept with their requests until the officer erases them on request (intake's
    # erase_professional blanks these four).
    Category("professional_contact", "professional", False, "professional_erasure", (
        "ot.intake.v1.Professional.name", "ot.intake.v1.Professional.phone", "ot.intake.v1.Professional.email",
        "ot.intake.v1.Professional.organisation")),
    # What statistics keep of the professional after erasure: no name, no contact.
    Category("professional_work", "professional", False, "statistics", (
        "ot.intake.v1.Professional.profession", "ot.intake.v1.Professional.sector",
        "ot.intake.v1.Professional.wellbeing_area")),
    # The case: sealed with the request's own key, shredded by the retention policy.
    Category("case_question", "client", True, "case_retention", ("ot.intake.v1.SubmitRequestRequest.question",)),
    Category("client_facts", "client", True, "case_retention", (
        "ot.intake.v1.ClientFacts.age_years", "ot.intake.v1.ClientFacts.age_unknown", "ot.intake.v1.ClientFacts.gender",
        "ot.intake.v1.ClientFacts.family_situation", "ot.intake.v1.ClientFacts.earlier_services",
        "ot.intake.v1.ClientFacts.cooperation_partners")),
    # A special category (GDPR art. 9): in words, never a diagnosis code.
    Category("client_health", "client", True, "case_retention", ("ot.intake.v1.ClientFacts.health_information",)),
    Category("conversation", "client", True, "case_retention", (
        "ot.intake.v1.AddEntryRequest.text", "ot.intake.v1.TriageRequestRequest.note")),
    # How an entry is signed (blanked by the purge and by the professional's erasure).
    Category("case_participants", "staff", False, "case_retention", ("ot.intake.v1.AddEntryRequest.author_name",)),
    # What statistics keep of a case: no content, no person.
    Category("case_classification", "client", False, "statistics", (
        "ot.intake.v1.SubmitRequestRequest.type", "ot.intake.v1.SubmitRequestRequest.categories",
        "ot.intake.v1.SubmitRequestRequest.anonymous")),
    # The professional's consent assessment and its versions: the evidence of lawful sharing.
    Category("consent_records", "client", False, "records_plan", (
        "ot.consent.v1.Party.id", "ot.consent.v1.RecordConsentRequest.form",
        "ot.consent.v1.RecordConsentRequest.given_by",
        "ot.consent.v1.RecordConsentRequest.child_capacity_assessed")),
    # Who read or shared what, and why: chained and keyed, never case content.
    Category("audit_trail", "staff", False, "audit_trail", (
        "ot.consent.v1.GetDataKeyRequest.purpose", "ot.consent.v1.CheckSharingRequest.purpose")),
    # Which expert works on which request, and why an assignment ended (guarded text).
    Category("expert_assignments", "expert", False, "records_plan", ("ot.experts.v1.UnassignExpertRequest.reason",)),
    # The contact person of an expert unit in the network's catalogue.
    Category("expert_contact", "expert", False, "catalogue", (
        "ot.experts.v1.Contact.name", "ot.experts.v1.Contact.role", "ot.experts.v1.Contact.email",
        "ot.experts.v1.ExpertFields.user_subject")),
    # The professional's feedback: the free text is refused when it identifies a client.
    Category("feedback_answers", "professional", False, "follow_up", (
        "ot.feedback.v1.AnswerFeedbackRequest.usefulness", "ot.feedback.v1.AnswerFeedbackRequest.got_needed",
        "ot.feedback.v1.AnswerFeedbackRequest.what_next", "ot.feedback.v1.AnswerFeedbackRequest.free_text")),
)

# Field names that are never a person's data wherever they appear: ids the platform makes,
# catalogue and group slugs, paging and links.
IDENTIFIER_FIELDS = frozenset({"request_id", "meeting_id", "page_token", "idempotency_key", "link_token", "expert_id",
                               "expert_ids", "group_id"})

# The other string fields of the field tables that hold no personal data, and why.
NOT_PERSONAL = {
    # Filters and paging: read, never stored.
    "ot.intake.v1.ProfessionalRef.subject": "the officer's export/erasure filter",
    "ot.experts.v1.ListExpertsRequest.text": "a search filter",
    "ot.experts.v1.ListAgreementsRequest.area": "a filter",
    "ot.experts.v1.ListGroupsRequest.area": "a filter",
    "ot.experts.v1.ListGroupsRequest.kind": "a filter",
    "ot.feedback.v1.GetStatisticsRequest.period": "a filter",
    # Another area's monthly counts (feedback's aggregate.py): no ids, no free text, no person.
    "ot.feedback.v1.ImportAreaAggregateRequest.file": "another area's signed monthly counts",
    "ot.consent.v1.QueryAuditRequest.action": "a filter",
    "ot.consent.v1.QueryAuditRequest.actor": "a filter",
    "ot.consent.v1.GetPrivacyNoticeRequest.language": "the notice's language",
    # A meeting's room or video link.
    "ot.intake.v1.PublishMeetingRequest.location": "a room or a video link",
    # An expert unit's catalogue entry describes a unit or an expertise (a person's own name goes
    # into its contact, above); the area's note is about the unit.
    "ot.experts.v1.ExpertFields.kind": "the unit's kind",
    "ot.experts.v1.ExpertFields.name_fi": "the unit's name",
    "ot.experts.v1.ExpertFields.name_en": "the unit's name",
    "ot.experts.v1.ExpertFields.organisation": "the unit's organisation",
    "ot.experts.v1.ExpertFields.description_fi": "the unit's description",
    "ot.experts.v1.ExpertFields.description_en": "the unit's description",
    "ot.experts.v1.ExpertFields.competences": "the unit's competences",
    "ot.experts.v1.ExpertFields.price_note": "the unit's prices",
    "ot.experts.v1.ExpertFields.languages": "the unit's languages",
    "ot.experts.v1.CreateExpertRequest.local_note": "the area's note about the unit",
    "ot.experts.v1.UpdateExpertRequest.local_note": "the area's note about the unit",
}


@dataclass(frozen=True)
class Recipient:
    code: str
    reads_case_content: bool
    needs_consent: bool
    until_recommendations: bool


# Who may read case content (domain.content_access) and who gets personal data without it.
RECIPIENTS = (
    Recipient("professional", True, False, False),          # the owner
    Recipient("ot_team", True, False, False),               # the area's coordinators
    Recipient("consultation_group", True, True, True),      # the booked group's secretary and members
    Recipient("assigned_experts", True, True, False),       # while assigned and in the consent's scope
    Recipient("data_protection_officer", False, False, False),  # consent records and the trail only
    Recipient("processors", False, False, False),           # the area's processors (e.g. the e-mail relay)
)
# content_access's basis of a read -> the recipient above (tests check both ways).
READ_BASIS = {"owner": "professional", "coordinator": "ot_team", "group_secretary": "consultation_group",
              "group_member": "consultation_group", "assigned_expert": "assigned_experts"}

KEPT_FOR_STATISTICS = ("request_type", "categories", "sector", "area", "dates", "outcome")
CONTENT_CIPHER = "AES-256-GCM"  # ot_runtime.crypto: one 256-bit key per request
# feedback schedules its follow-up when any request is consulted or answered, whatever its type.
FEEDBACK_REQUEST_TYPES = tuple(RequestType)


def _contact(name: str, address: str, email: str, phone: str) -> pb.NoticeContact:
    return pb.NoticeContact(name=name, address=address, email=email, phone=phone)


def build_notice(area: NoticeArea, policies: list[RetentionPolicy], language: str = "") -> pb.PrivacyNotice:
    """The notice in `language` (the area's first when it does not publish in that one)."""
    lang = language if language in area.languages else area.languages[0]
    return pb.PrivacyNotice(
        area=area.tenant, language=lang, languages=list(area.languages), example=area.example,
        controller=_contact(area.controller_name(lang), area.controller_address, area.controller_email,
                            area.controller_phone),
        data_protection_officer=_contact("", area.dpo_address, area.dpo_email, area.dpo_phone),
        processors=[pb.NoticeProcessor(name=p.name, service=p.service, location=p.location) for p in area.processors],
        retention=[pb.RetentionPolicy(type=to_proto(case_pb2.RequestType, p.type),
                                      grace_days_after_recommendations=p.grace_days_after_recommendations,
                                      max_days_after_submission=p.max_days_after_submission) for p in policies],
        data_categories=[pb.DataCategory(code=c.code, subject=c.subject, encrypted_per_case=c.encrypted_per_case,
                                         kept_until=c.kept_until, fields=list(c.fields)) for c in CATEGORIES],
        recipients=[pb.NoticeRecipient(code=r.code, reads_case_content=r.reads_case_content,
                                       needs_consent=r.needs_consent, until_recommendations=r.until_recommendations)
                    for r in RECIPIENTS],
        refused_client_identifiers=sorted(REFUSED_KINDS_IN_CLIENT_TEXT),
        feedback_request_types=[to_proto(case_pb2.RequestType, t) for t in FEEDBACK_REQUEST_TYPES],
        automated_decisions=False, kept_for_statistics=list(KEPT_FOR_STATISTICS), content_cipher=CONTENT_CIPHER)
