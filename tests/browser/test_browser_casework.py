"""A group booking in the browser, on the real services and the real Keycloak, axe-core on every page:

the professional asks for an anonymous group consultation and books a meeting with room (a meeting
that filled up meanwhile is refused with the next one offered), sends the pre-information form; the
group's member finds the meeting and the case on its agenda, is refused the content until the
professional adds the group to the consent's scope, then reads the case and the form; after the
secretary returns the recommendations the member is refused in words and the professional reads
them. The professional also withdraws a request, looks at their own data and changes their
notification choices. Another area's people see none of it.

The secretary's steps (publishing the meetings, the recommendations and their return) are driven
through the gRPC API with the secretary's own Keycloak token: this test is about the professional's
and the member's pages."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from ot.common.v1 import case_pb2
from ot.intake.v1 import intake_pb2, intake_pb2_grpc
from ot_runtime.clock import FixedClock

from browser_testkit import TENANT, assert_accessible, sign_in, submit_request
from test_browser_professional import choose, fill_request, metadata, new_page

GROUP = "haastavat-erot-pohjois-savo"  # the demo group member's and secretary's group here
QUESTION = ("Vanhemmat riitelevät lapsen asumisesta ja tapaamiset keskeytyvät toistuvasti; miten tukea lasta "
            "riidan keskellä?")
PRE_INFORMATION = "Esitiedot: lapsi asuu vuorotellen kahdessa kodissa, tapaamiset keskeytyvät. Huoltaja osallistui."
RECOMMENDATIONS = "Ryhmä suosittelee perheasioiden sovittelua ja lapsen tapaamista erikseen."


def ts(value: datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(value)
    return out


def test_a_group_booking_with_the_pre_information_form_read_by_the_groups_member(
        page, browser, start_intake, start_experts, start_feedback, start_portal, keycloak):
    clock = FixedClock(datetime.now(timezone.utc))  # intake's: the meeting has to take place before it is consulted
    intake = start_intake(clock=clock)
    experts = start_experts(intake.consent)
    portal = start_portal(intake=intake, experts=experts, feedback=start_feedback(intake, None))
    api = intake_pb2_grpc.IntakeServiceStub(intake.channel)
    secretary = metadata(keycloak.token("secretary"))
    now = datetime.now(timezone.utc)

    def publish(days: int, capacity: int) -> intake_pb2.Meeting:
        return api.PublishMeeting(intake_pb2.PublishMeetingRequest(
            group_id=GROUP, starts_at=ts(now + timedelta(days=days)), capacity=capacity,
            location="Perheneuvola, neuvotteluhuone 2"), metadata=secretary)
    soon, later = publish(20, 1), publish(40, 2)

    # The professional asks for an anonymous group consultation.
    sign_in(page, portal, "professional")
    page.get_by_role("navigation", name="Päävalikko").get_by_role("link", name="Kysy OT-keskukselta").click()
    page.get_by_role("link", name="Konsultaatioryhmä").click()
    fill_request(page, QUESTION, categories=("haastavat erot ja huoltoriidat",))
    choose(page, "Pyydän anonyymiä konsultaatiota")
    page.get_by_role("button", name="Tarkista").click()
    assert page.get_by_test_id("check-ok").is_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Lähetä pyyntö").click()
    page.wait_for_url(f"{portal.url}/omat-pyynnot/*")
    request_id = page.url.rsplit("/", 1)[1]
    assert "Anonyymi konsultaatio" in page.get_by_test_id("request-facts").inner_text()

    # The booking: both meetings have room when the page is shown...
    page.get_by_role("link", name="Valitse kokous").click()
    assert page.get_by_test_id("meeting-row").count() == 2
    assert "Haastavat erot" in page.get_by_test_id("meetings").inner_text()  # named from the OT service map
    assert_accessible(page)
    # ... but another booking (the professional's own other request) takes the first one's only place.
    other = api.SubmitRequest(intake_pb2.SubmitRequestRequest(
        type=case_pb2.REQUEST_TYPE_GROUP_CONSULTATION, professional=intake_pb2.Professional(
            name="Demo Ammattilainen", email="professional.pohjois-savo@example.fi", profession="sosiaalityöntekijä",
            organisation="Lapsiperhepalvelut", sector=case_pb2.SECTOR_SOCIAL, wellbeing_area=TENANT),
        categories=[case_pb2.CASE_CATEGORY_CHALLENGING_DIVORCE], client=intake_pb2.ClientFacts(age_years=9),
        question="Toinen pyyntö ryhmälle.", discussed_in_own_team=True,
        consent=intake_pb2.ConsentAssessment(need=intake_pb2.CONSENT_NEED_NOT_NEEDED)),
        metadata=metadata(keycloak.token("professional"))).request_id
    api.BookMeeting(intake_pb2.BookMeetingRequest(request_id=other, meeting_id=soon.meeting_id),
                    metadata=metadata(keycloak.token("professional")))
    page.get_by_role("button", name="Varaa kokous").click()  # the first meeting, chosen
    assert "Kokous on täynnä." in page.get_by_test_id("booking-refused").inner_text()
    assert page.locator(f'input[value="{later.meeting_id}"]').is_checked()  # the next one with room, offered
    assert_accessible(page)
    page.get_by_role("button", name="Varaa kokous").click()
    assert "Kokous on varattu" in page.get_by_test_id("done").inner_text()
    assert page.get_by_test_id("request-status").inner_text() == "varattu ryhmän kokoukseen"
    assert "Perheneuvola, neuvotteluhuone 2" in page.get_by_test_id("meeting").inner_text()

    # The pre-information form, in time.
    page.get_by_label("Esitiedot ryhmälle").fill(PRE_INFORMATION)
    page.get_by_role("button", name="Lähetä esitietolomake").click()
    assert page.get_by_test_id("pre-information-status").inner_text() == "lähetetty"
    assert page.get_by_test_id("entry-text").first.inner_text() == PRE_INFORMATION
    assert_accessible(page)

    # The group's member finds the case on the meeting's agenda; the consent does not cover the group yet.
    member = new_page(browser)
    sign_in(member, portal, "group-member")
    member.get_by_role("navigation", name="Päävalikko").get_by_role("link", name="Ryhmäni kokoukset").click()
    assert member.get_by_test_id("group-meetings").locator("tbody tr").count() == 2
    assert_accessible(member)
    member.goto(f"{portal.url}/ryhman-kokoukset/{later.meeting_id}")
    agenda = member.get_by_test_id("agenda")
    assert agenda.locator("tbody tr").count() == 1 and member.get_by_test_id("material").inner_text().startswith("saapui")
    assert_accessible(member)
    agenda.get_by_role("link", name=f"Pyyntö {request_id[:8]}").click()
    assert "Asiakkaan suostumus ei nyt koske sinua" in member.get_by_test_id("content-refused").inner_text()
    assert_accessible(member)

    # The professional adds the group to the consent's scope (the booked group is chosen already).
    assert "vasta, kun olet lisännyt" in page.get_by_test_id("consent-explained").inner_text()
    page.get_by_role("link", name="Suostumus ja sen laajuus").click()
    assert page.locator(f'input[value="group:{GROUP}"]').is_checked()
    page.get_by_role("button", name="Kirjaa suostumus").click()
    assert "Suostumus kirjattiin" in page.get_by_test_id("done").inner_text()

    # Now the member reads the case and the form (audited: the page says so).
    member.reload()
    assert member.get_by_test_id("case-question").inner_text() == QUESTION
    assert member.get_by_test_id("entry-text").all_inner_texts() == [PRE_INFORMATION]
    assert "suostumuspalvelun kautta" in member.get_by_test_id("audit-notice").inner_text()
    assert member.get_by_role("button", name="Lisää lausunto").count() == 0
    assert_accessible(member)

    # After the meeting the secretary returns the recommendations: the member's right ends.
    clock.advance(days=41)
    api.MarkConsulted(intake_pb2.RequestRef(request_id=request_id), metadata=secretary)
    api.AddEntry(intake_pb2.AddEntryRequest(request_id=request_id, kind=intake_pb2.ENTRY_KIND_RECOMMENDATIONS,
                                            text=RECOMMENDATIONS), metadata=secretary)
    api.ReturnRecommendations(intake_pb2.RequestRef(request_id=request_id), metadata=secretary)
    member.reload()
    assert member.get_by_role("heading", level=1).inner_text() == "Ei käytettävissäsi"
    assert "Ryhmä ei pidä rekisteriä" in member.get_by_test_id("refusal").inner_text()
    assert QUESTION not in member.content()
    assert_accessible(member)
    member.context.close()

    # The professional reads the recommendations.
    page.goto(f"{portal.url}/omat-pyynnot/{request_id}")
    assert page.get_by_test_id("request-status").inner_text() == "vastaus palautettu"
    assert page.get_by_test_id("entry-text").last.inner_text() == RECOMMENDATIONS
    assert_accessible(page)

    # The other request is withdrawn: its place goes back to the group.
    page.goto(f"{portal.url}/omat-pyynnot/{other}")
    page.get_by_role("link", name="Peru pyyntö").click()
    assert_accessible(page)
    page.get_by_role("button", name="Peru pyyntö").click()
    assert page.get_by_test_id("request-status").inner_text() == "peruttu"
    assert [m.booked for m in api.ListMeetings(intake_pb2.ListMeetingsRequest(group_id=GROUP, from_time=ts(now)),
                                               metadata=secretary).meetings] == [0, 1]  # (both held by now)

    # Their own data, shown and downloadable.
    page.get_by_role("link", name="Omat pyynnöt").first.click()
    page.get_by_role("link", name="Omat tiedot").click()
    shown = json.loads(page.get_by_test_id("my-data-json").inner_text())
    assert {r["request_id"] for r in shown["requests"]} == {request_id, other}
    assert_accessible(page)
    download = page.request.get(portal.url + page.get_by_role("link", name="Lataa JSON-tiedostona").get_attribute("href"))
    assert download.headers["content-disposition"].startswith("attachment")
    assert {r["request_id"] for r in download.json()["requests"]} == {request_id, other}

    # The notification choices.
    page.goto(f"{portal.url}/ilmoitukset")
    reminders = page.get_by_label("Muistuta puuttuvasta esitietolomakkeesta", exact=False)
    assert reminders.is_checked()
    assert_accessible(page)
    choose(page, "Muistuta puuttuvasta esitietolomakkeesta kaksi työpäivää ennen määräaikaa ja kokouksesta "
                 "edellisenä päivänä")
    page.get_by_role("button", name="Tallenna").click()
    assert page.get_by_test_id("done").inner_text() == "Ilmoitusvalintasi tallennettiin."
    assert not page.get_by_label("Muistuta puuttuvasta esitietolomakkeesta", exact=False).is_checked()


def test_another_areas_people_see_none_of_it(page, start_intake, start_portal, keycloak):
    """Keski-Suomi's people: their own realm's sign-in gets them nowhere in Pohjois-Savo's portal (a
    portal wrongly pointed at their realm refuses them, the case's address included), and their
    tokens open nothing at Pohjois-Savo's services."""
    intake = start_intake()
    request_id = submit_request(intake, keycloak, QUESTION)
    portal = start_portal(intake=intake, issuer_area="keski-suomi")
    for user in ("professional", "expert", "group-member"):
        stranger = new_page(page.context.browser)
        sign_in(stranger, portal, user)
        stranger.goto(f"{portal.url}/omat-pyynnot/{request_id}")
        assert stranger.get_by_role("heading", level=1).inner_text() == "Tämä portaali on toisen hyvinvointialueen"
        assert QUESTION not in stranger.content() and stranger.get_by_test_id("user-name").count() == 0
        assert_accessible(stranger)
        stranger.context.close()
        token = metadata(keycloak.token(user, area="keski-suomi"))
        api = intake_pb2_grpc.IntakeServiceStub(intake.channel)
        try:
            api.GetRequest(intake_pb2.GetRequestRequest(request_id=request_id), metadata=token)
        except grpc.RpcError as error:
            assert error.code() is grpc.StatusCode.UNAUTHENTICATED, (user, error.code())
        else:
            raise AssertionError(f"Keski-Suomi's {user} read Pohjois-Savo's request")
