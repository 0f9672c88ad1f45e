"""The OT team's pages in the browser, on the real services and the real Keycloak, axe-core on every
page:

1. The coordinator's part of the loop: the worklist shows a professional's new request; the
   coordinator opens it (the reads audited by consent), asks for more information, is refused the
   expert while the client's consent does not cover it and assigns it once it does, writes the advice
   and returns the answer; the audit trail shows the coordinator's reads.
2. A group booking: the secretary publishes a meeting, a professional books it and sends the
   pre-information form, the secretary sees it arrived on the agenda, reads the case, marks the
   consultation held, records the group's recommendations and returns them; the professional reads
   them.
3. Another area's people see none of it: not through the portal, not with their tokens at the services.

The professional's steps are driven through the gRPC API with the professional's own Keycloak token:
their pages have their own tests."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import grpc
import pytest
from ot.common.v1 import case_pb2
from ot.consent.v1 import consent_pb2, consent_pb2_grpc
from ot.intake.v1 import intake_pb2, intake_pb2_grpc
from ot_runtime.clock import FixedClock

from browser_testkit import TENANT, assert_accessible, sign_in, submit_request
from integration_conftest import wait_until
from ot_guard.testing import sample

QUESTION = "Miten edetä, kun nuori karkailee sijaishuoltopaikasta toistuvasti?"
ASKED = "Onko sijaishuoltopaikan kanssa pidetty yhteinen palaveri?"
REPLY = "Palaveri pidettiin, mutta sopimukset eivät ole pitäneet."
ADVICE = "Suosittelemme Barnahuksen konsultaatiota ja verkostopalaveria."
PRE_INFORMATION = "Esitiedot: lapsi asuu vuorotellen kahdessa kodissa, tapaamiset keskeytyvät."
RECOMMENDATIONS = "Ryhmä suosittelee perheasioiden sovittelua ja lapsen tapaamista erikseen."
LOCATION = "Perheneuvola, neuvotteluhuone 2"
GROUP = f"haastavat-erot-{TENANT}"
EXPERT = "barnahus"  # free, in Pohjois-Savo's agreement


def metadata(token: str):
    return (("authorization", f"Bearer {token}"),)


def choose(page, label: str) -> None:
    """Tick a radio button or a checkbox by its label, as a person does."""
    page.get_by_text(label, exact=True).click()


def done(page) -> str:
    return page.get_by_test_id("done").inner_text()


def status(page) -> str:
    return page.get_by_test_id("request-status").inner_text()


def write_entry(page, kind_label: str, text: str) -> None:
    choose(page, kind_label)
    page.get_by_label("Teksti", exact=True).fill(text)
    page.get_by_role("button", name="Tallenna merkintä").click()


def send_request(intake, keycloak, type_, consent, anonymous: bool = False) -> str:
    """A professional's request, sent with their own token; returns its id."""
    stub = intake_pb2_grpc.IntakeServiceStub(intake.channel)
    return stub.SubmitRequest(intake_pb2.SubmitRequestRequest(
        type=type_,
        professional=intake_pb2.Professional(name="Demo Ammattilainen", email="professional.pohjois-savo@example.fi",
                                             profession="sosiaalityöntekijä", organisation="Perheneuvola",
                                             sector=case_pb2.SECTOR_SOCIAL, wellbeing_area=TENANT),
        categories=[case_pb2.CASE_CATEGORY_CHILD_PROTECTION_SPECIAL],
        client=intake_pb2.ClientFacts(age_years=15, family_situation="sijaishuolto"),
        question=QUESTION, discussed_in_own_team=True, consent=consent, anonymous=anonymous),
        metadata=metadata(keycloak.token("professional")), timeout=30).request_id


# Written consent of the guardians, for the OT team only (no expert organisation in its scope yet).
GUARDIANS = intake_pb2.ConsentAssessment(need=intake_pb2.CONSENT_NEED_WRITTEN_ORGANISATION_FORM,
                                         given_by=intake_pb2.CONSENT_GIVER_GUARDIANS)
NOT_NEEDED = intake_pb2.ConsentAssessment(need=intake_pb2.CONSENT_NEED_NOT_NEEDED)


def test_the_coordinator_asks_assigns_the_expert_the_consent_covers_and_returns_the_answer(
        page, start_intake, start_experts, start_portal, keycloak):
    intake = start_intake()
    experts = start_experts(intake.consent)
    portal = start_portal(intake=intake, experts=experts)
    intake_api = intake_pb2_grpc.IntakeServiceStub(intake.channel)
    consent_api = consent_pb2_grpc.ConsentServiceStub(intake.consent.channel)
    professional = metadata(keycloak.token("professional"))
    request_id = send_request(intake, keycloak, case_pb2.REQUEST_TYPE_OT_TUKI, GUARDIANS)
    reference = request_id[:8]

    # The worklist shows the new request, the waiting time in working days.
    sign_in(page, portal, "coordinator")
    page.get_by_role("link", name="Työjono").first.click()
    rows = page.get_by_test_id("worklist").locator("tbody tr")
    assert rows.count() == 1 and reference in rows.first.inner_text() and "työpäivä" in rows.first.inner_text()
    assert_accessible(page)
    page.get_by_label("Järjestys", exact=True).select_option("longest_waiting")
    page.get_by_label("Tila", exact=True).select_option("REQUEST_STATUS_SUBMITTED")
    page.get_by_role("button", name="Näytä").click()
    assert page.get_by_test_id("worklist").locator("tbody tr").count() == 1
    assert_accessible(page)

    # Opening it is a step of its own; then the content, OT-seula's reasons and the forms.
    page.get_by_role("link", name=reference).click()
    assert page.get_by_test_id("request-question").count() == 0
    assert_accessible(page)
    page.get_by_test_id("open-case").click()
    assert page.get_by_test_id("request-question").inner_text() == QUESTION
    assert page.get_by_test_id("screening-reasons").locator("tbody tr").count() >= 1
    assert_accessible(page)

    # The coordinator asks for more information: the request waits for the professional.
    write_entry(page, "Kysymys ammattilaiselle (pyyntö odottaa vastausta)", ASKED)
    assert "Merkintä lisättiin keskusteluun." in done(page)
    assert status(page) == "odottaa ammattilaisen lisätietoja"
    assert page.get_by_test_id("entry-text").first.inner_text() == ASKED
    assert_accessible(page)
    intake_api.AddEntry(intake_pb2.AddEntryRequest(request_id=request_id, kind=intake_pb2.ENTRY_KIND_REPLY,
                                                   text=REPLY), metadata=professional)

    # The expert proposals with their reasons; the expert is refused while the consent does not cover it.
    page.get_by_test_id("experts-link").click()

    def proposals_shown() -> bool:
        page.reload()
        return page.get_by_test_id("proposal").count() > 0
    wait_until(proposals_shown, 60, "the experts service's proposals")
    proposal = page.locator(f'[data-testid="proposal"][data-expert="{EXPERT}"]')
    assert "pistettä" in proposal.inner_text() and proposal.locator("li").count() >= 1
    assert_accessible(page)
    page.get_by_label("Barnahus (maksuton)").check()
    page.get_by_role("button", name="Nimeä", exact=True).click()
    assert page.get_by_test_id("refusal-title").inner_text() == "Asiakkaan suostumus ei kata tätä asiantuntijaa"
    assert page.get_by_label("Barnahus (maksuton)").is_checked()
    assert_accessible(page)
    consent_api.RecordConsent(consent_pb2.RecordConsentRequest(
        request_id=request_id, form=consent_pb2.CONSENT_FORM_WRITTEN_ORGANISATION_FORM,
        given_by=consent_pb2.CONSENT_GIVER_GUARDIANS,
        scope=[consent_pb2.Party(kind=consent_pb2.PARTY_KIND_EXPERT_ORGANISATION, id=EXPERT)]),
        metadata=professional)
    page.get_by_role("button", name="Nimeä", exact=True).click()
    assert "Asiantuntija nimettiin." in done(page)
    assigned = page.locator(f'[data-testid="assignment"][data-expert="{EXPERT}"]')
    assert assigned.get_attribute("data-active") == "yes"
    assert_accessible(page)

    # Back on the request: once intake has heard, it is assigned; the advice, then the answer goes back.
    page.get_by_role("link", name="Takaisin pyyntöön").click()

    def assigned_in_intake() -> bool:
        page.reload()
        return status(page) == "asiantuntija nimetty"
    wait_until(assigned_in_intake, 60, "intake to show the request assigned")
    assert page.get_by_test_id("request-experts").inner_text() == "Barnahus"
    write_entry(page, "Neuvo ammattilaiselle (kirjallinen vastaus)", ADVICE)
    assert [t.inner_text() for t in page.get_by_test_id("entry-text").all()] == [ASKED, REPLY, ADVICE]
    page.get_by_role("button", name="Palauta vastaus ammattilaiselle").click()
    assert "Vastaus palautettiin ammattilaiselle." in done(page)
    assert status(page) == "vastaus palautettu"
    assert page.get_by_role("button", name="Päätä pyyntö").is_visible()
    assert_accessible(page)
    answered = intake_api.GetRequest(intake_pb2.GetRequestRequest(request_id=request_id), metadata=professional)
    assert answered.status == case_pb2.REQUEST_STATUS_RECOMMENDATIONS_RETURNED

    # The audit trail shows the coordinator's reads of this request.
    page.get_by_role("link", name="Tarkastusloki").first.click()
    page.get_by_label("Pyynnön tunnus", exact=True).fill(request_id)
    page.get_by_label("Käyttäjätunnus", exact=True).fill(f"coordinator-{TENANT}")
    page.get_by_role("button", name="Näytä").click()
    actions = [row.get_attribute("data-action") for row in page.get_by_test_id("audit-entry").all()]
    assert "content.read" in actions and set(actions) <= {"content.read", "sharing.check"}
    assert_accessible(page)


def test_a_group_booking_through_to_the_recommendations_recorded_by_the_secretary(
        page, start_intake, start_portal, keycloak):
    clock = FixedClock(datetime.now(timezone.utc))  # intake's: the meeting has to take place before it is consulted
    intake = start_intake(clock=clock)
    portal = start_portal(intake=intake)  # no experts service: the groups are named by their ids
    intake_api = intake_pb2_grpc.IntakeServiceStub(intake.channel)
    professional = metadata(keycloak.token("professional"))
    meets = datetime.now(timezone.utc) + timedelta(days=21)

    # The secretary publishes a meeting of the group, with its place.
    sign_in(page, portal, "secretary")
    page.get_by_role("link", name="Kokoukset").first.click()
    assert page.get_by_test_id("no-meetings").is_visible()
    assert_accessible(page)
    # (A required field's label ends with the design system's "*".)
    page.get_by_label(re.compile(r"^Ryhmä")).select_option(GROUP)
    page.get_by_label(re.compile(r"^Päivä")).fill(meets.strftime("%Y-%m-%d"))
    page.get_by_label(re.compile(r"^Alkaa klo")).fill("10:00")
    page.get_by_label(re.compile(r"^Paikat \(tapauksia\)")).fill("3")
    page.get_by_label("Paikka", exact=True).fill(LOCATION)
    page.get_by_role("button", name="Julkaise", exact=True).click()
    assert "Kokous julkaistiin" in done(page)
    row = page.get_by_test_id("meeting").first
    assert LOCATION in row.inner_text() and "0 / 3" in row.inner_text()
    meeting_id = row.get_attribute("data-meeting")
    assert_accessible(page)

    # A professional books it and sends the pre-information form.
    request_id = send_request(intake, keycloak, case_pb2.REQUEST_TYPE_GROUP_CONSULTATION, NOT_NEEDED,
                              anonymous=True)
    intake_api.BookMeeting(intake_pb2.BookMeetingRequest(request_id=request_id, meeting_id=meeting_id),
                           metadata=professional)
    intake_api.AddEntry(intake_pb2.AddEntryRequest(request_id=request_id, kind=intake_pb2.ENTRY_KIND_PRE_INFORMATION,
                                                   text=PRE_INFORMATION), metadata=professional)

    # The agenda shows the booked case and that its material arrived.
    page.reload()
    page.get_by_test_id("meeting").first.get_by_role("link").click()
    item = page.get_by_test_id("agenda-item")
    assert item.count() == 1 and request_id[:8] in item.inner_text() and "anonyymi" in item.inner_text()
    assert item.get_by_test_id("material").inner_text().startswith("saapui")
    assert_accessible(page)

    # The secretary reads the case, marks the consultation held and records the recommendations.
    item.get_by_role("link", name=request_id[:8]).click()
    page.get_by_test_id("open-case").click()
    assert page.get_by_test_id("entry-text").first.inner_text() == PRE_INFORMATION
    assert status(page) == "varattu ryhmän kokoukseen"
    assert_accessible(page)
    clock.advance(days=22)  # the day after the meeting
    page.get_by_role("button", name="Merkitse konsultaatio pidetyksi").click()
    assert status(page) == "konsultaatio pidetty"
    write_entry(page, "Ryhmän toimenpidesuositukset (vastaus kokouksen jälkeen)", RECOMMENDATIONS)
    assert "Merkintä lisättiin keskusteluun." in done(page)
    page.get_by_role("button", name="Palauta vastaus ammattilaiselle").click()
    assert status(page) == "vastaus palautettu"
    assert page.get_by_role("button", name="Päätä pyyntö").count() == 0  # closing is the coordinator's
    assert_accessible(page)

    # The professional reads the group's recommendations.
    entries = intake_api.ListEntries(intake_pb2.ListEntriesRequest(request_id=request_id),
                                     metadata=professional).entries
    assert [(e.kind, e.text) for e in entries] == [(intake_pb2.ENTRY_KIND_PRE_INFORMATION, PRE_INFORMATION),
                                                   (intake_pb2.ENTRY_KIND_RECOMMENDATIONS, RECOMMENDATIONS)]


def test_a_text_with_a_clients_name_is_refused_at_its_field_and_not_kept(page, start_intake, start_portal, keycloak):
    intake = start_intake()
    portal = start_portal(intake=intake)
    request_id = submit_request(intake, keycloak, QUESTION)
    sign_in(page, portal, "coordinator")
    page.goto(f"{portal.url}/pyynnot/{request_id}?avaa=1")
    note = sample("name")  # a case note naming a person (the guard's corpus)
    write_entry(page, "Sisäinen muistiinpano (vain OT-tiimi)", note)
    assert page.locator("#text-error").is_visible()
    assert page.get_by_label("Teksti", exact=True).input_value() == ""  # what the guard refused is not shown
    assert note not in page.content()
    assert page.get_by_test_id("no-entries").is_visible()  # nothing was stored
    assert_accessible(page)


def test_another_areas_coordinator_sees_none_of_it(page, start_intake, start_portal, keycloak):
    """Through the portal: a Pohjois-Savo portal pointed at Keski-Suomi's realm refuses Keski-Suomi's
    coordinator, on every page of the team. At the services: Keski-Suomi's token is not accepted by
    Pohjois-Savo's intake."""
    intake = start_intake()
    submit_request(intake, keycloak, QUESTION)
    portal = start_portal(intake=intake, issuer_area="keski-suomi")
    sign_in(page, portal, "coordinator")
    refused = page.get_by_role("heading", name="Tämä portaali on toisen hyvinvointialueen")
    assert refused.is_visible()
    for path in ("/pyynnot", "/kokoukset", "/tarkastusloki", "/sailytysajat", "/tilastot", "/tietosuoja",
                 "/poistoraportti"):
        page.goto(portal.url + path)  # to sign-in, which Keycloak's session passes, and refused again
        assert refused.is_visible(), path
        assert page.get_by_test_id("user-name").count() == 0 and page.get_by_test_id("worklist").count() == 0
    assert_accessible(page)
    stub = intake_pb2_grpc.IntakeServiceStub(intake.channel)
    with pytest.raises(grpc.RpcError) as error:
        stub.ListRequests(intake_pb2.ListRequestsRequest(),
                          metadata=metadata(keycloak.token("coordinator", area="keski-suomi")))
    assert error.value.code() is grpc.StatusCode.UNAUTHENTICATED
