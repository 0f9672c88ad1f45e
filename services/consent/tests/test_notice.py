"""The privacy notice's content (GetPrivacyNotice): the area's values, refused off loopback when
missing; what the code keeps, checked against every service's field table; the live retention
policies; open to anyone; and consent's old address sending people to the portal's page."""
import grpc
import pytest
from google.protobuf import descriptor_pool
from ot.common.v1 import case_pb2
from ot.consent.v1 import consent_pb2 as pb

from ot_guard.policy import REFUSED_KINDS_IN_CLIENT_TEXT
from ot_runtime.auth import Principal
from ot_runtime.settings import SettingsError, load_settings
from ot_consent import notice
from ot_consent.domain import (Assignment, Booking, Case, ConsentForm, ConsentGiver, ConsentVersion, Party, PartyKind,
                               RequestType, RetentionPolicy, content_access)
from ot_consent.notice import CATEGORIES, IDENTIFIER_FIELDS, NOT_PERSONAL, NoticeArea, build_notice

from consent_testkit import COORDINATOR, NOW, TENANT

AREA_ENV = {
    "OT_NOTICE_CONTROLLER_NAME": "Keski-Suomen hyvinvointialue",
    "OT_NOTICE_CONTROLLER_NAME_EN": "Wellbeing services county of Central Finland",
    "OT_NOTICE_CONTROLLER_ADDRESS": "Kirjaamo, PL 1, 00001 Esimerkkilä",
    "OT_NOTICE_CONTROLLER_EMAIL": "kirjaamo@keski-suomi.example.fi",
    "OT_NOTICE_CONTROLLER_PHONE": "000 0000 001",
    "OT_NOTICE_DPO_EMAIL": "tietosuoja@keski-suomi.example.fi",
    "OT_NOTICE_PROCESSORS": '[{"name": "Esimerkkiposti Oy", "service": "email_relay", "location": "Suomi"}]',
    "OT_NOTICE_LANGUAGES": "fi,en",
}


def edge_fields() -> set[str]:
    """Every field a caller can set on the four services' APIs, as their field tables (edge.py) list them."""
    from ot_experts.edge import FIELD_RULES as experts
    from ot_feedback.edge import FIELD_RULES as feedback
    from ot_intake.edge import FIELD_RULES as intake
    from ot_consent.edge import FIELD_RULES as consent
    return set(intake) | set(experts) | set(feedback) | set(consent)


# --- what the code keeps ---------------------------------------------------------------------------

def test_every_field_of_the_field_tables_is_in_a_category_of_the_notice_or_said_to_be_no_ones():
    """A new field on any service's API fails here until the notice names its kind of data."""
    categorised = {name for c in CATEGORIES for name in c.fields}
    unplaced = sorted(name for name in edge_fields() if name not in categorised and name not in NOT_PERSONAL
                      and name.rsplit(".", 1)[1] not in IDENTIFIER_FIELDS)
    assert unplaced == [], f"name their kind of data in ot_consent.notice.CATEGORIES (or NOT_PERSONAL): {unplaced}"


def test_every_field_the_notice_names_exists_and_none_is_named_twice():
    """A renamed or removed field fails here (the notice would name data the platform no longer keeps)."""
    pool = descriptor_pool.Default()
    named = [name for c in CATEGORIES for name in c.fields] + list(NOT_PERSONAL)
    assert len(named) == len(set(named))
    for name in named:
        message, field = name.rsplit(".", 1)
        assert field in pool.FindMessageTypeByName(message).fields_by_name, name


def test_the_client_data_is_sealed_per_case_and_the_professionals_contact_is_not():
    by_code = {c.code: c for c in CATEGORIES}
    for code in ("case_question", "client_facts", "client_health", "conversation"):
        assert by_code[code].encrypted_per_case and by_code[code].kept_until == "case_retention", code
    assert not by_code["professional_contact"].encrypted_per_case
    assert by_code["professional_contact"].kept_until == "professional_erasure"


def test_the_recipients_are_exactly_who_content_access_lets_read():
    """Each basis on which domain.content_access hands out a case's key is a recipient of the
    notice reading content, and the consent-bound ones are those the consent's scope decides."""
    case = Case("r1", TENANT, RequestType.GROUP_CONSULTATION, "prof-1", NOW)
    group, expert = "haastavat-erot-keski-suomi", "kys-vaativa-lastenpsykiatria"
    consent = ConsentVersion("r1", 1, ConsentForm.WRITTEN_ORGANISATION_FORM, ConsentGiver.GUARDIANS, False,
                             [Party(PartyKind.GROUP, group), Party(PartyKind.EXPERT_ORGANISATION, expert)], NOW, False,
                             NOW, "prof-1")
    assignment, booking = Assignment("r1", [expert], NOW), Booking("r1", group, None, NOW)
    readers = [Principal("prof-1", TENANT, frozenset({"professional"})), COORDINATOR,
               Principal("secr-1", TENANT, frozenset({"secretary"}), frozenset({group})),
               Principal("member-1", TENANT, frozenset({"group-member"}), frozenset({group})),
               Principal(f"expert-{expert}", TENANT, frozenset({"expert"}))]
    bases = {content_access(p, case, consent, assignment, booking).code for p in readers}
    assert bases == set(notice.READ_BASIS)
    recipients = {r.code: r for r in notice.RECIPIENTS}
    assert {r.code for r in notice.RECIPIENTS if r.reads_case_content} == set(notice.READ_BASIS.values())
    withdrawn = ConsentVersion(**{**vars(consent), "withdrawn": True})
    for reader in readers:
        basis = content_access(reader, case, consent, assignment, booking).code
        still = content_access(reader, case, withdrawn, assignment, booking).allowed
        assert still == (not recipients[notice.READ_BASIS[basis]].needs_consent), basis
    # The officer is a recipient of the records but of no content (the access table refuses the key).
    assert not recipients["data_protection_officer"].reads_case_content


def test_the_notice_says_what_the_code_does():
    got = build_notice(NoticeArea.example_for(TENANT), [RetentionPolicy(t, 1, 2) for t in RequestType])
    assert set(got.refused_client_identifiers) == set(REFUSED_KINDS_IN_CLIENT_TEXT) >= {"identity_code",
                                                                                         "diagnosis_code"}
    assert got.automated_decisions is False
    # Feedback follows every request type (the draft said group consultations only).
    assert set(got.feedback_request_types) == {v.number for v in case_pb2.RequestType.DESCRIPTOR.values if v.number}
    assert got.content_cipher == "AES-256-GCM" and got.example


def test_feedback_schedules_its_follow_up_for_every_request_type():
    """What the notice says about feedback, from feedback's own policy: a due date for each type."""
    from ot_feedback.domain import FollowUpPolicy, RequestType as FeedbackType
    policy = FollowUpPolicy.from_env({})
    assert {t.value for t in FeedbackType} == {t.value for t in notice.FEEDBACK_REQUEST_TYPES}
    for type_ in FeedbackType:
        assert policy.request_due(NOW, type_) > NOW


# --- the RPC -----------------------------------------------------------------------------------------

def test_anyone_gets_the_notice_without_a_token_and_it_follows_the_live_policies(client, handlers):
    """No token, or a broken one: the notice all the same. A coordinator's policy change shows at once."""
    first = client.GetPrivacyNotice(pb.GetPrivacyNoticeRequest())
    assert client.GetPrivacyNotice(pb.GetPrivacyNoticeRequest(), metadata=(("authorization", "Bearer x"),)) == first
    shown = {p.type: (p.grace_days_after_recommendations, p.max_days_after_submission) for p in first.retention}
    live = {p.type: p for p in handlers.policies(None)}
    assert len(shown) == len(RequestType) == len(live)
    assert shown[case_pb2.REQUEST_TYPE_GROUP_CONSULTATION] == (14, 180)
    handlers.set_policy(COORDINATOR, RetentionPolicy(RequestType.GROUP_CONSULTATION, 7, 90))
    after = client.GetPrivacyNotice(pb.GetPrivacyNoticeRequest())
    changed = {p.type: (p.grace_days_after_recommendations, p.max_days_after_submission) for p in after.retention}
    assert changed[case_pb2.REQUEST_TYPE_GROUP_CONSULTATION] == (7, 90)
    assert changed[case_pb2.REQUEST_TYPE_OT_TUKI] == shown[case_pb2.REQUEST_TYPE_OT_TUKI]


def test_the_other_rpcs_still_need_a_token(client):
    with pytest.raises(grpc.RpcError) as error:
        client.ListRetentionPolicies(pb.ListRetentionPoliciesRequest())
    assert error.value.code() is grpc.StatusCode.UNAUTHENTICATED


def test_the_language_picks_the_areas_texts_and_a_foreign_value_is_refused(client):
    assert client.GetPrivacyNotice(pb.GetPrivacyNoticeRequest(language="en")).controller.name.startswith(
        "Wellbeing services county")
    fi = client.GetPrivacyNotice(pb.GetPrivacyNoticeRequest(language="sv"))  # the example area has no Swedish
    assert (fi.language, list(fi.languages)) == ("fi", ["fi", "en"])
    assert fi.controller.name == "Keski-Suomen hyvinvointialue (esimerkki)"
    with pytest.raises(grpc.RpcError) as error:
        client.GetPrivacyNotice(pb.GetPrivacyNoticeRequest(language="de' or 1=1"))
    assert error.value.code() is grpc.StatusCode.INVALID_ARGUMENT


# --- the area's values ---------------------------------------------------------------------------

def test_the_areas_values_make_the_notice():
    area = NoticeArea.from_env("keski-suomi", {**AREA_ENV, "OT_NOTICE_DPO_PHONE": "000 0000 002",
                                               "OT_NOTICE_CONTROLLER_NAME_SV": "Välfärdsområdet i Mellersta Finland",
                                               "OT_NOTICE_LANGUAGES": "fi,sv,en"}, local=False)
    got = build_notice(area, [], "sv")
    assert (got.language, list(got.languages), got.example) == ("sv", ["fi", "sv", "en"], False)
    assert got.controller == pb.NoticeContact(name="Välfärdsområdet i Mellersta Finland",
                                              address="Kirjaamo, PL 1, 00001 Esimerkkilä",
                                              email="kirjaamo@keski-suomi.example.fi", phone="000 0000 001")
    assert (got.data_protection_officer.email, got.data_protection_officer.phone) == (
        "tietosuoja@keski-suomi.example.fi", "000 0000 002")
    assert [(p.name, p.service, p.location) for p in got.processors] == [("Esimerkkiposti Oy", "email_relay", "Suomi")]
    assert build_notice(area, []).language == "fi"  # the first language is the default


def test_without_area_values_a_cluster_refuses_to_start_and_a_loopback_run_uses_the_examples():
    with pytest.raises(SettingsError) as refused:
        NoticeArea.from_env("pohjois-savo", {}, local=False)
    assert "OT_NOTICE_CONTROLLER_NAME" in str(refused.value) and "OT_NOTICE_DPO_EMAIL" in str(refused.value)
    example = NoticeArea.from_env("pohjois-savo", {}, local=True)
    assert example.example and example.controller_email.endswith(".example.fi") and example.dpo_email.endswith(
        ".example.fi") and "esimerkki" in example.controller_name("fi")


@pytest.mark.parametrize("change, named", [
    ({"OT_NOTICE_DPO_EMAIL": ""}, "OT_NOTICE_DPO_EMAIL is not set"),
    ({"OT_NOTICE_CONTROLLER_EMAIL": "kirjaamo"}, "OT_NOTICE_CONTROLLER_EMAIL must be an e-mail address"),
    ({"OT_NOTICE_PROCESSORS": "postipalvelu"}, "OT_NOTICE_PROCESSORS must be a JSON list"),
    ({"OT_NOTICE_PROCESSORS": '[{"name": "X", "service": "mail"}]'}, "service must be one of"),
    ({"OT_NOTICE_LANGUAGES": "en"}, "OT_NOTICE_LANGUAGES must list fi"),
    ({"OT_NOTICE_LANGUAGES": "fi,de"}, "OT_NOTICE_LANGUAGES must list fi"),
])
def test_incomplete_or_wrong_area_values_are_refused_even_on_loopback(change, named):
    """Some values set: no mix of the area's and the examples, anywhere."""
    with pytest.raises(SettingsError) as refused:
        NoticeArea.from_env("keski-suomi", {**AREA_ENV, **change}, local=True)
    assert named in str(refused.value)


def settings_for(host: str, **extra):
    return load_settings("consent", {"OT_TENANT": TENANT, "DATABASE_URL": "sqlite://", "KAFKA_BOOTSTRAP_SERVERS": "x:1",
                                     "AUTH_JWT_ISSUER": "https://idp.example.fi", "AUTH_JWT_AUDIENCE": "ot-platform",
                                     "AUTH_JWKS_URL": "https://idp.example.fi/jwks", "GRPC_HOST": host,
                                     "HTTP_HOST": host, **extra})


def test_consent_listening_beyond_loopback_needs_the_area_values_and_the_portal_address():
    """The chart's pods listen on 0.0.0.0: the start stops, naming the variables."""
    from ot_consent.bootstrap import build
    with pytest.raises(SettingsError) as refused:
        build(settings_for("0.0.0.0"))
    assert "privacy notice's area values are not set" in str(refused.value)
    assert notice.notice_area(settings_for("127.0.0.1")).example
    assert notice.portal_url(settings_for("127.0.0.1")) == "http://127.0.0.1:8080"
    with pytest.raises(SettingsError) as refused:
        notice.portal_url(settings_for("0.0.0.0", **AREA_ENV))
    assert "OT_PORTAL_URL is not set" in str(refused.value)
    assert notice.portal_url(settings_for("0.0.0.0", OT_PORTAL_URL="https://ot.keski-suomi.example.fi/")) == \
        "https://ot.keski-suomi.example.fi"
    with pytest.raises(SettingsError):
        notice.portal_url(settings_for("0.0.0.0", OT_PORTAL_URL="javascript:alert(1)"))


# --- consent's old address -------------------------------------------------------------------------

def test_consents_old_addresses_send_people_to_the_portals_notice_whatever_the_query():
    from ot_consent.web import create_app
    client = create_app({}, "https://ot.keski-suomi.example.fi").test_client()
    for path in ("/tietosuoja", "/privacy"):
        for query in ("", "?%ff%fe", "?a=%00", "?lang=sv&lang=fi", "?next=https://evil.example"):
            got = client.get(path + query)
            assert got.status_code == 301, path + query
            assert got.headers["Location"] == "https://ot.keski-suomi.example.fi/tietosuojaseloste", path + query

