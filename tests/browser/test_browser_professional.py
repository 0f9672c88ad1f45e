"""A professional asks the OT centre in the browser and an expert answers, on the real services and
the real Keycloak, axe-core on every page:

the professional fills in the OT-TUKI form; a client's identity code in the question is refused at
its field (by the check and again by the server when sent), with nothing stored; the clean form's
check shows the OT-seula reasons and the request is sent. The coordinator's question is answered
with the professional's reply; the professional adds the expert organisation to the consent's scope,
the coordinator assigns the expert; the expert reads the case (audited by consent) and writes a
statement (an identity code refused at its field first); the coordinator returns the answer and the
professional reads it; the professional records that the consent was withdrawn and the expert is
refused in words.

The coordinator's steps (question, assignment, return) are driven through the gRPC API with the
coordinator's own Keycloak token: this test is about the professional's and the expert's pages (the
team's pages have their own tests)."""
from __future__ import annotations

import grpc
from ot.common.v1 import case_pb2
from ot.consent.v1 import consent_pb2, consent_pb2_grpc
from ot.experts.v1 import experts_pb2, experts_pb2_grpc
from ot.intake.v1 import intake_pb2, intake_pb2_grpc

from browser_testkit import assert_accessible, sign_in
from integration_conftest import wait_until
from ot_guard.testing import sample

QUESTION = ("Miten edetä, kun nuori karkailee sijaishuoltopaikasta toistuvasti ja koulunkäynti on keskeytynyt "
            "kuukausiksi?")
REPLY = "Palaveri sijaishuoltopaikan kanssa pidettiin, mutta sopimukset eivät ole pitäneet."
STATEMENT = "Lausunto: nuoren tilanne edellyttää moniammatillista arviota ja verkostopalaveria."
EXPERT = "barnahus"  # free, in Pohjois-Savo's agreement; the demo user "expert" is expert-barnahus here


def metadata(token: str):
    return (("authorization", f"Bearer {token}"),)


def new_page(browser):
    """Another person's browser (a fresh profile: their own cookies and Keycloak session)."""
    context = browser.new_context()
    context.set_default_timeout(30_000)
    return context.new_page()


def choose(page, label: str) -> None:
    """Tick a radio button or a checkbox by clicking its label, as a person does (the design
    system draws the label over the input)."""
    page.get_by_text(label, exact=True).click()


CATEGORIES = ("lastensuojelun ja lapsiperhepalvelujen erityiskysymykset",
              "vakavat psykiatriset tai päihdehäiriöt, lastensuojelu ja koulu")


def fill_request(page, question: str, categories=CATEGORIES) -> None:
    """A request form, as the demo professional fills it in (the name is there already): written
    consent of the guardians, so a group or an expert reads the case only once it is in the scope."""
    page.get_by_label("Sähköpostiosoitteesi").fill("professional.pohjois-savo@example.fi")
    page.get_by_label("Ammattisi").fill("sosiaalityöntekijä")
    page.get_by_label("Organisaatiosi").fill("Lapsiperhepalvelut")
    page.get_by_label("Sektorisi").select_option("SECTOR_SOCIAL")
    for category in categories:
        choose(page, category)
    page.get_by_label("Ikä", exact=True).fill("15")
    page.get_by_label("Perheen tilanne").fill("sijaishuolto")
    page.get_by_label("Aiemmat palvelut").fill("perhetyö\nlastenpsykiatria\nkoulukuraattori")
    page.get_by_label("Kysymyksesi OT-tiimille").fill(question)
    choose(page, "Asiakastilanne on käsitelty omassa tiimissäni")
    choose(page, "Kirjallinen suostumus oman organisaationi lomakkeella")
    choose(page, "Huoltajat")


def test_a_professional_asks_the_expert_answers_and_the_professional_reads_it(
        page, browser, start_intake, start_experts, start_portal, keycloak):
    intake = start_intake()
    experts = start_experts(intake.consent)
    portal = start_portal(intake=intake, experts=experts)
    intake_api = intake_pb2_grpc.IntakeServiceStub(intake.channel)
    coordinator = metadata(keycloak.token("coordinator"))

    def stored() -> int:
        return intake_api.ListRequests(intake_pb2.ListRequestsRequest(), metadata=coordinator).total_count

    # The professional asks.
    sign_in(page, portal, "professional")
    page.get_by_role("navigation", name="Päävalikko").get_by_role("link", name="Kysy OT-keskukselta").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Kysy OT-keskukselta"
    assert_accessible(page)
    page.get_by_role("link", name="OT-TUKI-konsultaatio").click()
    assert_accessible(page)

    # A client's identity code in the question: refused at the field by the check, nothing stored...
    fill_request(page, sample("identity_code"))
    page.get_by_role("button", name="Tarkista").click()
    question = page.get_by_label("Kysymyksesi OT-tiimille")
    assert question.get_attribute("aria-invalid") == "true"
    assert page.locator("#question-error").inner_text() == "Kenttä sisältää henkilötunnuksen (merkit 25–35): poista se."
    assert page.get_by_test_id("error-summary").get_by_role("link").inner_text().startswith("Kysymyksesi: Kenttä sisältää")
    assert page.get_by_test_id("screening").count() == 0
    assert_accessible(page)
    assert stored() == 0
    # ... and by the server when sent all the same.
    page.get_by_role("button", name="Lähetä pyyntö").click()
    assert page.locator("#question-error").inner_text().startswith("Kenttä sisältää henkilötunnuksen (merkit 25–35)")
    assert page.get_by_role("heading", level=1).inner_text() == "Pyyntö: OT-TUKI-konsultaatio"
    assert stored() == 0

    # The clean question: the check shows OT-seula with its reasons, then the request is sent.
    question.fill(QUESTION)
    page.get_by_role("button", name="Tarkista").click()
    assert page.get_by_test_id("check-ok").is_visible()
    assert page.get_by_test_id("screening-score").inner_text() == "6 / 10 pistettä"
    reasons = page.get_by_test_id("screening-reasons").inner_text()
    assert "Aiempia palveluja kokeiltu: 3" in reasons and "2 toisiinsa kietoutunutta tilanneluokkaa" in reasons
    assert_accessible(page)
    assert stored() == 0  # the check stores nothing
    page.get_by_role("button", name="Lähetä pyyntö").click()
    page.wait_for_url(f"{portal.url}/omat-pyynnot/*")
    request_id = page.url.rsplit("/", 1)[1]
    assert page.get_by_test_id("done").inner_text() == "Pyyntösi lähetettiin OT-tiimille."
    assert page.get_by_test_id("request-status").inner_text() == "lähetetty"
    assert page.get_by_test_id("request-question").inner_text() == QUESTION
    assert_accessible(page)
    assert stored() == 1

    # The coordinator asks; the professional sees the question and replies.
    intake_api.AddEntry(intake_pb2.AddEntryRequest(request_id=request_id, kind=intake_pb2.ENTRY_KIND_QUESTION,
                                                   text="Onko sijaishuoltopaikan kanssa pidetty yhteinen palaveri?",
                                                   author_name="OT-tiimi"), metadata=coordinator)
    page.reload()
    assert page.get_by_test_id("request-status").inner_text() == "odottaa ammattilaisen lisätietoja"
    assert "yhteinen palaveri?" in page.get_by_test_id("conversation").inner_text()
    assert_accessible(page)
    page.get_by_label("Vastauksesi").fill(REPLY)
    page.get_by_role("button", name="Lähetä vastaus").click()
    assert page.get_by_test_id("done").inner_text() == "Vastauksesi lähetettiin OT-tiimille."
    assert page.get_by_test_id("request-status").inner_text() == "lähetetty"
    assert page.get_by_test_id("entry-text").nth(1).inner_text() == REPLY

    # The expert organisation into the consent's scope (the page says why), then the assignment.
    assert "koordinaattori voi nimetä asiantuntijaa" in page.get_by_test_id("consent-explained").inner_text()
    page.get_by_role("link", name="Suostumus ja sen laajuus").click()
    assert_accessible(page)
    choose(page, "Barnahus (asiantuntijaorganisaatio)")
    page.get_by_role("button", name="Kirjaa suostumus").click()
    assert "Suostumus kirjattiin" in page.get_by_test_id("done").inner_text()
    experts_api = experts_pb2_grpc.ExpertsServiceStub(experts.channel)

    def assigned():
        try:
            return experts_api.AssignExperts(experts_pb2.AssignExpertsRequest(request_id=request_id, expert_ids=[EXPERT]),
                                             metadata=coordinator)
        except grpc.RpcError as error:  # experts has not yet heard of the request (or of the reply) from intake
            assert error.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.FAILED_PRECONDITION), error
            return None
    wait_until(assigned, 60, "experts to accept the assignment")
    wait_until(lambda: intake_api.GetRequest(intake_pb2.GetRequestRequest(request_id=request_id), metadata=coordinator)
               .status == case_pb2.REQUEST_STATUS_ASSIGNED, 60, "intake to hear of the assignment")

    # The expert reads the case (each read audited by consent) and writes a statement.
    expert = new_page(browser)
    sign_in(expert, portal, "expert")
    expert.get_by_role("navigation", name="Päävalikko").get_by_role("link", name="Omat toimeksiannot").click()
    assert_accessible(expert)
    expert.get_by_role("link", name=f"Pyyntö {request_id[:8]}").click()
    assert expert.get_by_test_id("case-question").inner_text() == QUESTION
    assert [e.inner_text() for e in expert.get_by_test_id("entry-text").all()] == [
        "Onko sijaishuoltopaikan kanssa pidetty yhteinen palaveri?", REPLY]
    assert "suostumuspalvelun kautta" in expert.get_by_test_id("audit-notice").inner_text()
    assert_accessible(expert)
    expert.get_by_label("Lausuntosi", exact=True).fill(f"{STATEMENT} {sample('identity_code')}")
    expert.get_by_role("button", name="Lisää lausunto").click()
    assert expert.locator("#statement-error").inner_text().startswith("Kenttä sisältää henkilötunnuksen (merkit")
    assert_accessible(expert)
    expert.get_by_label("Lausuntosi", exact=True).fill(STATEMENT)
    expert.get_by_role("button", name="Lisää lausunto").click()
    assert "Lausuntosi lisättiin" in expert.get_by_test_id("done").inner_text()
    assert expert.get_by_test_id("entry-text").last.inner_text() == STATEMENT
    admin = metadata(keycloak.token("admin"))
    trail = consent_pb2_grpc.ConsentServiceStub(intake.consent.channel).QueryAudit(
        consent_pb2.QueryAuditRequest(request_id=request_id, actor=f"expert-{EXPERT}"), metadata=admin).entries
    assert {e.action for e in trail} == {"content.read"} and len(trail) >= 2  # the page's reads, in the trail

    # The coordinator returns the answer; the professional reads it.
    intake_api.ReturnRecommendations(intake_pb2.RequestRef(request_id=request_id), metadata=coordinator)
    page.goto(f"{portal.url}/omat-pyynnot")
    assert "vastaus palautettu" in page.get_by_test_id("my-requests").inner_text()
    assert_accessible(page)
    page.get_by_test_id("my-requests").get_by_role("link").click()
    assert page.get_by_test_id("request-status").inner_text() == "vastaus palautettu"
    assert page.get_by_test_id("entry-text").last.inner_text() == STATEMENT
    assert page.get_by_role("heading", name="Lausunto").is_visible()
    assert_accessible(page)

    # The client withdraws the consent: the professional records it, and the expert is refused in words.
    page.goto(f"{portal.url}/omat-pyynnot/{request_id}/suostumus")
    page.get_by_role("link", name="Asiakas perui suostumuksen").click()
    assert_accessible(page)
    page.get_by_role("button", name="Kirjaa peruminen").click()
    assert "Suostumuksen peruminen kirjattiin" in page.get_by_test_id("done").inner_text()
    expert.reload()
    assert "Asiakkaan suostumus ei nyt koske sinua" in expert.get_by_test_id("content-refused").inner_text()
    assert expert.get_by_test_id("case-question").count() == 0 and expert.get_by_test_id("entry-text").count() == 0
    assert_accessible(expert)
    expert.context.close()
