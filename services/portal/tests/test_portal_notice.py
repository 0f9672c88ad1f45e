"""The privacy notice page (/tietosuojaseloste): for everyone, without sign-in, worded from consent's
GetPrivacyNotice, with every item GDPR articles 13 and 14 ask, for each of the four areas, in
Finnish and English. The content comes from consent's own builder (ot_consent.notice), so a new
code there without words here fails."""
from __future__ import annotations

import html
import re

import grpc
import pytest

from ot_runtime.tenants import TENANTS
from ot_consent.domain import DEFAULT_POLICIES, RequestType, RetentionPolicy
from ot_consent.notice import CATEGORIES, KEPT_FOR_STATISTICS, PROCESSOR_SERVICES, RECIPIENTS, NoticeArea, build_notice
from ot_guard.policy import REFUSED_KINDS_IN_CLIENT_TEXT

from portal_testkit import Refusal, person, sign_in


def area_values(tenant: str) -> NoticeArea:
    """Each area's values as its chart would set them (fictional: example.fi, no real people)."""
    return NoticeArea.from_env(tenant, {
        "OT_NOTICE_CONTROLLER_NAME": f"Testialueen {tenant} hyvinvointialue",
        "OT_NOTICE_CONTROLLER_NAME_EN": f"Wellbeing services county of test {tenant}",
        "OT_NOTICE_CONTROLLER_ADDRESS": f"Kirjaamo {tenant}, PL 9, 00009 Esimerkkilä",
        "OT_NOTICE_CONTROLLER_EMAIL": f"kirjaamo@{tenant}.example.fi",
        "OT_NOTICE_CONTROLLER_PHONE": "000 0000 009",
        "OT_NOTICE_DPO_EMAIL": f"tietosuojavastaava@{tenant}.example.fi",
        "OT_NOTICE_DPO_PHONE": "000 0000 010",
        "OT_NOTICE_PROCESSORS": f'[{{"name": "Viestivälitys {tenant} Oy", "service": "email_relay", '
                                f'"location": "Suomi"}}, {{"name": "Pilvi {tenant} Oy", "service": "hosting", '
                                f'"location": "EU/ETA"}}]',
    }, local=False)


def visible(answer) -> str:
    """The page's text as a person reads it (no tags, no attributes), whitespace collapsed."""
    body = answer.get_data(as_text=True)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


# Per language: what each GDPR item must show (beside the area's own values).
ITEMS = {
    "fi": {"controller": "Rekisterinpitäjä", "dpo": "Tietosuojavastaava", "purposes": "Käsittelyn tarkoitukset",
           "legal basis": "6 artiklan 1 kohdan e alakohta", "law": "lastensuojelulain (417/2007)",
           "expert group": "14 §:n moniammatillinen asiantuntijaryhmä",
           "categories": "Käsiteltävät henkilötiedot",
           "health": "Tieto terveydentilasta", "recipients": "Kenelle tietoja luovutetaan",
           "consent rule": "vain niin kauan kuin asiakkaan suostumus kattaa heidät",
           "retention": "Kuinka kauan tietoja säilytetään", "shredding": "tapauksen avain tuhotaan",
           "rights": "Oikeutesi ja niiden käyttäminen", "access": "15 artikla", "rectification": "(16 artikla)",
           "erasure": "(17 artikla)", "restriction": "(18 artikla)", "objection": "(21 artikla)",
           "complaint": "tietosuojavaltuutetulle", "source": "Asiakkaan tiedot saadaan konsultaatiota pyytävältä "
           "ammattilaiselta", "automated": "Kenestäkään ei tehdä automaattisia päätöksiä",
           "feedback": "Jokaisen konsultaation jälkeen sen tyypistä riippumatta",
           "feedback heading": "Palaute palvelusta",
           "refused": "henkilötunnus", "statistics": "Tilastoja varten säilyvät vain"},
    "en": {"controller": "Controller", "dpo": "Data-protection officer", "purposes": "Purposes of the processing",
           "legal basis": "article 6(1)(e)", "law": "Child Welfare Act (417/2007)",
           "expert group": "expert group of section 14", "categories": "Personal data processed",
           "health": "Information on health", "recipients": "Who receives the data",
           "consent rule": "only while the client's consent covers them",
           "retention": "How long the data is kept", "shredding": "the case's key is destroyed",
           "rights": "Your rights and how to use them", "access": "article 15", "rectification": "(article 16)",
           "erasure": "(article 17)", "restriction": "(article 18)", "objection": "(article 21)",
           "complaint": "Data Protection Ombudsman (tietosuojavaltuutettu)",
           "source": "The client's data comes from the professional who asks for consultation",
           "automated": "No decision about anyone is made by automated means (GDPR article 22)",
           "feedback": "After every consultation, whatever its type", "feedback heading": "Feedback on the service",
           "refused": "personal identity code",
           "statistics": "For statistics only the"},
}


def open_notice(client, services, tenant="pohjois-savo", language="fi", policies=None, area=None):
    services.answers["GetPrivacyNotice"] = build_notice(area or area_values(tenant),
                                                        policies or list(DEFAULT_POLICIES.values()), language)
    if language != "fi":
        client.get(f"/kieli/{language}")
    return client.get("/tietosuojaseloste")


@pytest.mark.parametrize("tenant", sorted(TENANTS))
@pytest.mark.parametrize("language", ["fi", "en"])
def test_each_areas_notice_has_every_item_gdpr_asks_in_both_languages(client, services, tenant, language):
    answer = open_notice(client, services, tenant, language)
    assert answer.status_code == 200
    page = visible(answer)
    missing = [item for item, words in ITEMS[language].items() if words not in page]
    assert missing == [], missing
    area = area_values(tenant)
    for value in (area.controller_name(language), area.controller_address, area.controller_email,
                  area.controller_phone, area.dpo_email, area.dpo_phone, f"Viestivälitys {tenant} Oy",
                  f"Pilvi {tenant} Oy", "tietosuoja.fi"):
        assert value in page, value
    assert 'href="https://tietosuoja.fi"' in answer.get_data(as_text=True)
    assert services.requests["GetPrivacyNotice"].language == language
    assert "esimerkkiarvot" not in page.lower() and "example values" not in page


def test_every_code_consent_sends_has_words(client, services):
    """A new data category, recipient, retention rule, refused kind or processor service in
    consent shows as a raw code here until the template words it. Checked on the Finnish page,
    where no code is an ordinary word (both languages take their words from the same template
    keys, and test_portal_i18n checks that English has every id)."""
    codes = ({c.code for c in CATEGORIES} | {c.kept_until for c in CATEGORIES} | {r.code for r in RECIPIENTS}
             | set(KEPT_FOR_STATISTICS) | set(REFUSED_KINDS_IN_CLIENT_TEXT) | set(PROCESSOR_SERVICES))
    area = NoticeArea.from_env("keski-suomi", {
        "OT_NOTICE_CONTROLLER_NAME": "X", "OT_NOTICE_CONTROLLER_ADDRESS": "Y",
        "OT_NOTICE_CONTROLLER_EMAIL": "k@x.example.fi", "OT_NOTICE_CONTROLLER_PHONE": "0",
        "OT_NOTICE_DPO_EMAIL": "t@x.example.fi",
        "OT_NOTICE_PROCESSORS": "[" + ", ".join(f'{{"name": "P{i}", "service": "{s}"}}'
                                                for i, s in enumerate(PROCESSOR_SERVICES)) + "]"}, local=False)
    page = visible(open_notice(client, services, area=area))
    raw = sorted(code for code in codes if re.search(rf"(?<![\w@.-]){re.escape(code)}(?![\w@.-])", page))
    assert raw == []
    for words in ("sähköpostin välitys", "palvelun ylläpito", "sisäänkirjautuminen", "muu palvelu"):
        assert words in page, words


def test_the_retention_shown_is_the_live_policy(client, services):
    page = visible(open_notice(client, services))
    assert "konsultaatioryhmä 14 180" in page and "OT-TUKI-konsultaatio 30 365" in page
    changed = [RetentionPolicy(RequestType.GROUP_CONSULTATION, 3, 60), DEFAULT_POLICIES[RequestType.OT_TUKI],
               DEFAULT_POLICIES[RequestType.EXPERT_REINFORCEMENT]]
    page = visible(open_notice(client, services, policies=changed))
    assert "konsultaatioryhmä 3 60" in page and "konsultaatioryhmä 14 180" not in page


def test_the_notice_needs_no_sign_in_and_sends_no_token(client, services, idp):
    assert open_notice(client, services).status_code == 200
    method, metadata = services.calls[-1]
    assert method == "GetPrivacyNotice" and "authorization" not in metadata
    sign_in(client, idp, person("coordinator"))
    assert client.get("/tietosuojaseloste").status_code == 200
    method, metadata = services.calls[-1]
    assert method == "GetPrivacyNotice" and "authorization" not in metadata  # the same public notice


def test_the_example_values_of_a_local_run_are_marked_as_such(client, services):
    page = visible(open_notice(client, services, area=NoticeArea.example_for("pohjois-savo")))
    assert "esimerkkiarvot" in page and "kirjaamo@pohjois-savo.example.fi" in page


def test_consent_not_answering_is_a_page_that_says_so(client, services):
    services.refusals["GetPrivacyNotice"] = Refusal(grpc.StatusCode.UNAVAILABLE, "down")
    answer = client.get("/tietosuojaseloste")
    assert answer.status_code == 503
    assert "päivää" not in visible(answer)  # never a notice with guessed periods


def test_every_page_links_to_the_notice_in_its_footer(client, services):
    for path in ("/", "/saavutettavuusseloste"):
        assert 'href="/tietosuojaseloste">Tietosuojaseloste</a>' in client.get(path).get_data(as_text=True), path
