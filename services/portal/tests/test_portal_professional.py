"""A professional's pages against the fake services: what each page shows, what it sends as the
professional, and each refusal (the service's field violations at their fields, a lifecycle or
deadline refusal in words, another role, a form without its CSRF token)."""
from __future__ import annotations

import html
import json
import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from ot.common.v1 import case_pb2
from ot.consent.v1 import consent_pb2
from ot.experts.v1 import experts_pb2
from ot.feedback.v1 import feedback_pb2
from ot.intake.v1 import intake_pb2

from ot_guard import Violation
from portal_testkit import Refusal, person, sign_in

REQUEST_ID = "1b4e28ba-2fa1-41d2-883f-0016d3cca427"
MEETING_ID = "2c4e28ba-2fa1-41d2-883f-0016d3cca427"
NEXT_MEETING_ID = "3d4e28ba-2fa1-41d2-883f-0016d3cca427"
GROUP = "haastavat-erot-pohjois-savo"
# What the guard says about an identity code in characters 12-22 of the question: the kind and the
# positions, never the value.
IDENTITY_CODE_AT_12 = Violation("question", "identity_code", 11, 22).message()


def text(answer) -> str:
    return answer.get_data(as_text=True)


def ts(value: datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(value)
    return out


def csrf(client, path: str) -> str:
    page = text(client.get(path))
    return page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def signed_in(client, idp, role: str = "professional", **claims):
    sign_in(client, idp, person(role, **claims))
    return client


def form(token: str, **fields) -> dict:
    """The OT-TUKI form as a professional fills it in (fields override)."""
    data = {"csrf_token": token, "idempotency_key": "4e4e28ba-2fa1-41d2-883f-0016d3cca427",
            "professional.name": "Demo Ammattilainen", "professional.email": "demo@example.fi",
            "professional.profession": "sosiaalityöntekijä", "professional.organisation": "Lapsiperhepalvelut",
            "professional.sector": "SECTOR_SOCIAL", "categories": ["CASE_CATEGORY_CHILD_PROTECTION_SPECIAL",
                                                                   "CASE_CATEGORY_NEUROPSYCHIATRIC"],
            "client.age_years": "15", "client.gender": "GENDER_GIRL", "client.family_situation": "sijaishuolto",
            "client.earlier_services": "perhetyö\r\n\r\nlastenpsykiatria\r\n", "question": "Miten edetä?\r\nKiitos.",
            "discussed_in_own_team": "yes", "consent.need": "CONSENT_NEED_WRITTEN_ORGANISATION_FORM",
            "consent.given_by": "CONSENT_GIVER_GUARDIANS", "action": "check"}
    data.update(fields)
    return data


def screening() -> intake_pb2.Screening:
    return intake_pb2.Screening(score=5, max_score=10, band="possible",
                                summary_fi="OT-seula 5/10: mahdollisesti OT-tason tilanne.",
                                summary_en="OT-seula 5/10: possibly an OT-level situation.",
                                reasons=[intake_pb2.ScreeningReason(points=1, reason_fi="Aiempia palveluja kokeiltu: 2",
                                                                    reason_en="Earlier services tried: 2")])


# --- asking ---------------------------------------------------------------------------------------
def test_the_ask_page_offers_the_three_kinds_of_help(client, idp):
    page = text(signed_in(client, idp).get("/kysy"))
    for slug, label in (("ot-tuki", "OT-TUKI-konsultaatio"), ("konsultaatioryhma", "Konsultaatioryhmä"),
                        ("asiantuntijavahvistus", "Asiantuntijavahvistus")):
        assert f'href="/kysy/{slug}"' in page and label in page
    assert "Tarkista" in page and "koordinaattori päättää" in page  # OT-seula: a hint, never a decision


def test_the_form_is_prefilled_with_the_professionals_name_and_a_fresh_key(client, idp):
    signed_in(client, idp)
    first, second = text(client.get("/kysy/konsultaatioryhma")), text(client.get("/kysy/konsultaatioryhma"))
    assert 'value="Demo Professional"' in first
    keys = [re.search(r'name="idempotency_key" value="([0-9a-f-]{36})"', page).group(1) for page in (first, second)]
    assert keys[0] != keys[1]
    assert 'name="anonymous"' in first  # the anonymous option: group consultations only
    assert 'name="anonymous"' not in text(client.get("/kysy/ot-tuki"))
    assert client.get("/kysy/muu").status_code == 404


def test_check_sends_the_form_with_validate_only_and_shows_the_ot_seula_reasons(client, idp, services):
    signed_in(client, idp)
    services.answers["SubmitRequest"] = intake_pb2.Request(screening=screening())
    answer = client.post("/kysy/ot-tuki", data=form(csrf(client, "/kysy/ot-tuki")))
    page = text(answer)
    assert answer.status_code == 200
    sent = services.requests["SubmitRequest"]
    assert sent.validate_only and sent.type == case_pb2.REQUEST_TYPE_OT_TUKI
    assert sent.professional.wellbeing_area == "pohjois-savo" and sent.professional.sector == case_pb2.SECTOR_SOCIAL
    assert list(sent.categories) == [case_pb2.CASE_CATEGORY_CHILD_PROTECTION_SPECIAL, case_pb2.CASE_CATEGORY_NEUROPSYCHIATRIC]
    assert (sent.client.age_years, sent.client.age_unknown, sent.client.gender) == (15, False, intake_pb2.GENDER_GIRL)
    assert list(sent.client.earlier_services) == ["perhetyö", "lastenpsykiatria"]  # one a line, blank lines dropped
    assert sent.question == "Miten edetä?\nKiitos."  # the browser's CRLF as one line break: positions as seen
    assert sent.discussed_in_own_team and sent.consent.need == intake_pb2.CONSENT_NEED_WRITTEN_ORGANISATION_FORM
    assert sent.consent.given_by == intake_pb2.CONSENT_GIVER_GUARDIANS and not sent.anonymous
    assert sent.idempotency_key == "4e4e28ba-2fa1-41d2-883f-0016d3cca427"
    assert "Tarkistettu: ei korjattavaa" in page and "Mitään ei tallennettu" in page
    assert "5 / 10 pistettä" in page and "mahdollisesti OT-tason tilanne" in page
    assert "Aiempia palveluja kokeiltu: 2" in page and "Earlier services" not in page
    assert "Miten edetä?\nKiitos.</textarea>" in page  # the form stays filled in for sending


def test_the_guards_findings_are_shown_at_their_fields_and_positions(client, idp, services):
    signed_in(client, idp)
    services.refusals["SubmitRequest"] = Refusal(
        grpc.StatusCode.INVALID_ARGUMENT, "Pyynnössä on korjattavaa. / The request needs fixing.",
        violations=(("question", IDENTITY_CODE_AT_12),
                    ("client.earlier_services[1]", Violation("x", "name", 0, 5).message()),
                    ("idempotency_key", "Muoto ei kelpaa. / Not in the expected form.")))
    answer = client.post("/kysy/ot-tuki", data=form(csrf(client, "/kysy/ot-tuki")))
    page = text(answer)
    assert answer.status_code == 400 and services.requests["SubmitRequest"].validate_only
    assert 'data-testid="error-summary"' in page and 'href="#question"' in page
    assert "Kysymyksesi: Kenttä sisältää henkilötunnuksen (merkit 12–22): poista se." in page
    assert re.search(r'id="question"[^>]*aria-describedby="question-error[^>]*aria-invalid="true"', page)
    assert '<span class="hds-text-input__error-text" id="question-error">Kenttä sisältää henkilötunnuksen (merkit 12–22)' in page
    assert "Rivi 2: Kenttä sisältää nimen (merkit 1–5)" in page and 'href="#client-earlier_services"' in page
    assert 'href="#request-form"' in page  # a field the form does not have: the form itself
    assert "The field contains" not in page and "Tarkistettu" not in page


def test_send_submits_and_shows_the_new_request(client, idp, services):
    signed_in(client, idp)
    services.answers["SubmitRequest"] = intake_pb2.Request(request_id=REQUEST_ID)
    answer = client.post("/kysy/konsultaatioryhma", data=form(csrf(client, "/kysy/konsultaatioryhma"), action="send",
                                                              anonymous="yes", **{"client.age_years": ""}))
    assert answer.status_code == 302 and answer.headers["Location"] == f"/omat-pyynnot/{REQUEST_ID}"
    sent = services.requests["SubmitRequest"]
    assert not sent.validate_only and sent.anonymous and sent.type == case_pb2.REQUEST_TYPE_GROUP_CONSULTATION
    assert sent.client.age_unknown and sent.client.age_years == 0
    services.answers["GetRequest"] = intake_pb2.Request(request_id=REQUEST_ID, type=case_pb2.REQUEST_TYPE_GROUP_CONSULTATION,
                                                        status=case_pb2.REQUEST_STATUS_SUBMITTED)
    assert "Pyyntösi lähetettiin OT-tiimille." in text(client.get(answer.headers["Location"]))


def test_a_send_the_service_refuses_comes_back_with_the_violations_and_nothing_else(client, idp, services):
    signed_in(client, idp)
    services.refusals["SubmitRequest"] = Refusal(
        grpc.StatusCode.INVALID_ARGUMENT, "Pyynnössä on korjattavaa. / The request needs fixing.",
        violations=(("question", IDENTITY_CODE_AT_12), ("discussed_in_own_team",
                     "Tilanne on käsiteltävä ensin omassa tiimissä. / Discuss it in your own team first.")))
    answer = client.post("/kysy/ot-tuki", data=form(csrf(client, "/kysy/ot-tuki"), action="send"))
    page = text(answer)
    assert answer.status_code == 400 and not services.requests["SubmitRequest"].validate_only
    assert "(merkit 12–22)" in page and "Tilanne on käsiteltävä ensin omassa tiimissä." in page
    assert 'href="#discussed_in_own_team"' in page
    assert [m for m, _ in services.calls] == ["SubmitRequest"]


def test_an_age_that_is_no_number_is_refused_by_the_portal_without_a_call(client, idp, services):
    signed_in(client, idp)
    answer = client.post("/kysy/ot-tuki", data=form(csrf(client, "/kysy/ot-tuki"), **{"client.age_years": "viisi"}))
    assert answer.status_code == 400 and "Anna ikä kokonaisina vuosina" in text(answer)
    assert services.calls == []


def test_a_form_without_its_csrf_token_is_refused(client, idp, services):
    signed_in(client, idp)
    answer = client.post("/kysy/ot-tuki", data=form("", action="send"))
    assert answer.status_code == 400 and "Lomake vanheni" in text(answer)
    assert services.calls == []


def test_another_role_gets_none_of_the_professionals_pages(client, idp, services):
    signed_in(client, idp, "expert", sub="expert-barnahus")
    for path in ("/kysy", "/kysy/ot-tuki", f"/omat-pyynnot/{REQUEST_ID}/varaa", f"/omat-pyynnot/{REQUEST_ID}/suostumus",
                 f"/omat-pyynnot/{REQUEST_ID}/peru", "/omat-tiedot", "/omat-tiedot/ot-omat-tiedot.json"):
        answer = client.get(path)
        assert answer.status_code == 403 and "Tämä sivu on toiselle roolille" in text(answer), path
    assert services.calls == []


# --- a request, its conversation, replying ----------------------------------------------------------
def own_request(**fields) -> intake_pb2.Request:
    values = dict(request_id=REQUEST_ID, type=case_pb2.REQUEST_TYPE_OT_TUKI,
                  status=case_pb2.REQUEST_STATUS_AWAITING_INFORMATION, question="Miten edetä?", content_included=True,
                  submitted_at=ts(datetime(2026, 11, 2, 8, tzinfo=timezone.utc)), waiting_working_days=1, entries=1,
                  consent=intake_pb2.ConsentAssessment(need=intake_pb2.CONSENT_NEED_WRITTEN_ORGANISATION_FORM,
                                                       given_by=intake_pb2.CONSENT_GIVER_GUARDIANS),
                  screening=screening())
    values.update(fields)
    return intake_pb2.Request(**values)


def question_entry() -> intake_pb2.ListEntriesResponse:
    return intake_pb2.ListEntriesResponse(entries=[intake_pb2.Entry(
        request_id=REQUEST_ID, sequence=1, kind=intake_pb2.ENTRY_KIND_QUESTION, author_role="coordinator",
        author_name="OT-tiimi", text="Onko palaveri pidetty?\nMilloin?",
        created_at=ts(datetime(2026, 11, 3, 8, tzinfo=timezone.utc)))])


def test_the_request_page_shows_the_question_asked_and_the_reply_form(client, idp, services):
    signed_in(client, idp)
    services.answers["GetRequest"] = own_request()
    services.answers["ListEntries"] = question_entry()
    page = text(client.get(f"/omat-pyynnot/{REQUEST_ID}"))
    assert [m for m, _ in services.calls] == ["GetRequest", "ListEntries"]
    assert "OT-tiimi pyytää sinulta lisätietoja" in page and "OT-tiimin kysymys" in page
    assert "Onko palaveri pidetty?<br>Milloin?" in page
    assert f'action="/omat-pyynnot/{REQUEST_ID}/vastaus"' in page and "Vastaa OT-tiimille" in page
    # Written consent: the page says in plain words what the scope does, and links to it.
    assert "vasta, kun olet lisännyt kyseisen ryhmän tai asiantuntijaorganisaation" in page
    assert f'href="/omat-pyynnot/{REQUEST_ID}/suostumus"' in page
    assert f'href="/omat-pyynnot/{REQUEST_ID}/peru"' in page
    assert "esitiedot" not in page and "/varaa" not in page  # OT-TUKI: no meeting, no form
    assert "OT-seula" in page and "5 / 10 pistettä" in page and "Aiempia palveluja kokeiltu: 2" in page


def test_a_booked_group_request_shows_its_meeting_and_the_pre_information_form(client, idp, services):
    signed_in(client, idp)
    starts = datetime(2026, 12, 14, 8, tzinfo=timezone.utc)
    services.answers["GetRequest"] = own_request(type=case_pb2.REQUEST_TYPE_GROUP_CONSULTATION, entries=0,
                                                 status=case_pb2.REQUEST_STATUS_SCHEDULED, meeting_id=MEETING_ID)
    services.answers["ListMeetings"] = intake_pb2.ListMeetingsResponse(meetings=[intake_pb2.Meeting(
        meeting_id=MEETING_ID, group_id=GROUP, starts_at=ts(starts), booking_deadline=ts(starts - timedelta(days=7)),
        capacity=3, booked=1, location="Perheneuvola, neuvotteluhuone 2")])
    page = text(client.get(f"/omat-pyynnot/{REQUEST_ID}"))
    assert [m for m, _ in services.calls] == ["GetRequest", "ListMeetings"]  # no conversation yet: not read
    assert services.requests["ListMeetings"].from_time == services.answers["GetRequest"].submitted_at
    assert "14.12.2026 10:00" in page and "7.12.2026 10:00" in page and "Perheneuvola, neuvotteluhuone 2" in page
    assert "ei vielä lähetetty" in page and f'action="/omat-pyynnot/{REQUEST_ID}/esitiedot"' in page
    assert f'href="/omat-pyynnot/{REQUEST_ID}/suostumus?lisaa=group:{GROUP}"' in page


def test_a_reply_is_sent_as_the_professional(client, idp, services):
    signed_in(client, idp)
    services.answers["AddEntry"] = intake_pb2.Entry()
    answer = client.post(f"/omat-pyynnot/{REQUEST_ID}/vastaus", data={
        "csrf_token": csrf(client, "/kysy"), "reply": " Palaveri pidettiin.\r\nSovittiin uusi. ", "idempotency_key": "k1"})
    assert answer.status_code == 302 and answer.headers["Location"] == f"/omat-pyynnot/{REQUEST_ID}"
    sent = services.requests["AddEntry"]
    assert (sent.request_id, sent.kind, sent.text, sent.author_name, sent.idempotency_key) == (
        REQUEST_ID, intake_pb2.ENTRY_KIND_REPLY, "Palaveri pidettiin.\nSovittiin uusi.", "Demo Professional", "k1")


def test_a_refused_reply_comes_back_at_its_field(client, idp, services):
    signed_in(client, idp)
    services.answers["GetRequest"] = own_request()
    services.answers["ListEntries"] = question_entry()
    services.refusals["AddEntry"] = Refusal(grpc.StatusCode.INVALID_ARGUMENT, "Korjattavaa. / Fix it.",
                                            violations=(("text", Violation("text", "phone", 20, 32).message()),))
    answer = client.post(f"/omat-pyynnot/{REQUEST_ID}/vastaus", data={
        "csrf_token": csrf(client, "/kysy"), "reply": "Soita minulle numeroon", "idempotency_key": "k1"})
    page = text(answer)
    assert answer.status_code == 400 and 'href="#reply"' in page
    assert '<span class="hds-text-input__error-text" id="reply-error">Kenttä sisältää puhelinnumeron (merkit 21–32)' in page
    assert 'name="idempotency_key" value="k1"' in page  # sent again it is the same entry


def test_a_pre_information_form_after_the_deadline_is_refused_in_words(client, idp, services):
    signed_in(client, idp)
    services.answers["GetRequest"] = own_request(type=case_pb2.REQUEST_TYPE_GROUP_CONSULTATION, entries=0,
                                                 status=case_pb2.REQUEST_STATUS_CONSULTED)
    services.refusals["AddEntry"] = Refusal(grpc.StatusCode.FAILED_PRECONDITION,
                                            "Pyyntö on tilassa 'konsultaatio pidetty'. / The request is 'consulted'.")
    answer = client.post(f"/omat-pyynnot/{REQUEST_ID}/esitiedot", data={
        "csrf_token": csrf(client, "/kysy"), "pre_information": "Esitiedot.", "idempotency_key": "k2"})
    assert answer.status_code == 409 and "Pyyntö on tilassa 'konsultaatio pidetty'." in html.unescape(text(answer))
    assert services.requests["AddEntry"].kind == intake_pb2.ENTRY_KIND_PRE_INFORMATION


# --- booking ------------------------------------------------------------------------------------------
def meetings(now: datetime) -> intake_pb2.ListMeetingsResponse:
    def meeting(meeting_id, days, booked):
        starts = now + timedelta(days=days)
        return intake_pb2.Meeting(meeting_id=meeting_id, group_id=GROUP, starts_at=ts(starts), capacity=2, booked=booked,
                                  booking_deadline=ts(starts - timedelta(days=7)), location="Huone 2")
    return intake_pb2.ListMeetingsResponse(meetings=[
        meeting("5f4e28ba-2fa1-41d2-883f-0016d3cca427", 3, 0),   # the deadline has passed
        meeting(MEETING_ID, 20, 2),                              # full
        meeting(NEXT_MEETING_ID, 40, 1)])                        # room


def test_the_booking_page_offers_the_meetings_with_room_and_their_deadlines(client, idp, services):
    signed_in(client, idp)
    now = datetime.now(timezone.utc)
    services.answers["ListMeetings"] = meetings(now)
    services.answers["ListGroups"] = experts_pb2.ListGroupsResponse(groups=[experts_pb2.Group(
        group_id=GROUP, name_fi="Haastavat erot -konsultaatioryhmä", name_en="Challenging divorces group")])
    page = text(client.get(f"/omat-pyynnot/{REQUEST_ID}/varaa"))
    assert page.count('data-testid="meeting-row"') == 1 and f'value="{NEXT_MEETING_ID}" checked' in page
    deadline = (now + timedelta(days=33)).astimezone(ZoneInfo("Europe/Helsinki")).strftime("%-d.%-m.%Y %H:%M")
    assert "Haastavat erot -konsultaatioryhmä" in page and deadline in page
    assert "2 muuta kokousta on täynnä tai niiden varausaika on päättynyt." in page


def test_the_booking_page_names_groups_by_id_when_the_experts_service_is_away(client, idp, services):
    signed_in(client, idp)
    services.answers["ListMeetings"] = meetings(datetime.now(timezone.utc))
    services.refusals["ListGroups"] = Refusal(grpc.StatusCode.UNAVAILABLE, "ei yhteyttä / no connection")
    answer = client.get(f"/omat-pyynnot/{REQUEST_ID}/varaa")
    assert answer.status_code == 200 and f"<td>{GROUP}</td>" in text(answer)


def test_a_booking_is_made_as_the_professional(client, idp, services):
    signed_in(client, idp)
    services.answers["BookMeeting"] = intake_pb2.Request()
    answer = client.post(f"/omat-pyynnot/{REQUEST_ID}/varaa", data={"csrf_token": csrf(client, "/kysy"),
                                                                   "meeting_id": MEETING_ID})
    assert answer.status_code == 302 and answer.headers["Location"] == f"/omat-pyynnot/{REQUEST_ID}"
    sent = services.requests["BookMeeting"]
    assert (sent.request_id, sent.meeting_id) == (REQUEST_ID, MEETING_ID)


def test_a_refused_booking_offers_the_next_meeting_with_room(client, idp, services):
    signed_in(client, idp)
    services.answers["ListMeetings"] = meetings(datetime.now(timezone.utc))
    services.answers["ListGroups"] = experts_pb2.ListGroupsResponse()
    services.refusals["BookMeeting"] = Refusal(
        grpc.StatusCode.RESOURCE_EXHAUSTED, "Kokous on täynnä. Seuraava kokous, jossa on tilaa: 1.2.2027. / The meeting "
        "is full. Next meeting with room: 2027-02-01.", reason="MEETING_FULL",
        info={"next_meeting_id": NEXT_MEETING_ID, "group_id": GROUP})
    answer = client.post(f"/omat-pyynnot/{REQUEST_ID}/varaa", data={"csrf_token": csrf(client, "/kysy"),
                                                                   "meeting_id": MEETING_ID})
    page = text(answer)
    assert answer.status_code == 409 and "Varausta ei tehty" in page
    assert "Kokous on täynnä. Seuraava kokous, jossa on tilaa: 1.2.2027." in page and "next meeting" not in page.lower()
    assert f'value="{NEXT_MEETING_ID}" checked' in page and "on valittuna alla" in page


# --- consent --------------------------------------------------------------------------------------------
def consent_history(scope=()) -> consent_pb2.ConsentHistory:
    current = consent_pb2.ConsentRecord(request_id=REQUEST_ID, version=1,
                                        form=consent_pb2.CONSENT_FORM_WRITTEN_ORGANISATION_FORM,
                                        given_by=consent_pb2.CONSENT_GIVER_GUARDIANS, scope=list(scope),
                                        recorded_at=ts(datetime(2026, 11, 2, 8, tzinfo=timezone.utc)))
    return consent_pb2.ConsentHistory(current=current, versions=[current])


def consent_answers(services, scope=()):
    services.answers["GetConsent"] = consent_history(scope)
    services.answers["ListGroups"] = experts_pb2.ListGroupsResponse(groups=[experts_pb2.Group(
        group_id=GROUP, name_fi="Haastavat erot -konsultaatioryhmä", name_en="Challenging divorces group")])
    services.answers["ListExperts"] = experts_pb2.ListExpertsResponse(experts=[experts_pb2.Expert(
        expert_id="barnahus", name_fi="Barnahus", name_en="Barnahus")])


def test_the_consent_page_explains_the_scope_and_preselects_the_booked_group(client, idp, services):
    signed_in(client, idp)
    consent_answers(services, scope=[consent_pb2.Party(kind=consent_pb2.PARTY_KIND_EXPERT_ORGANISATION, id="barnahus")])
    page = text(client.get(f"/omat-pyynnot/{REQUEST_ID}/suostumus?lisaa=group:{GROUP}&lisaa=nonsense"))
    assert services.requests["ListExperts"].usable_in_area_only
    assert "Konsultaatioryhmän jäsenet ja ulkopuolinen asiantuntija saavat lukea sen vain, kun suostumus koskee heitä" in page
    assert re.search(r'data-testid="consent-scope">OT-tiimi, Barnahus<', page)
    assert f'value="group:{GROUP}" checked' in page and 'value="expert_organisation:barnahus" checked' in page
    assert "Haastavat erot -konsultaatioryhmä (ryhmä)" in page and 'value="nonsense' not in page


def test_recording_the_consent_sends_its_scope(client, idp, services):
    signed_in(client, idp)
    services.answers["RecordConsent"] = consent_pb2.ConsentRecord()
    answer = client.post(f"/omat-pyynnot/{REQUEST_ID}/suostumus", data={
        "csrf_token": csrf(client, "/kysy"), "form": "CONSENT_FORM_WRITTEN_ORGANISATION_FORM",
        "given_by": "CONSENT_GIVER_CHILD_AND_GUARDIANS", "child_capacity_assessed": "yes",
        "scope": [f"group:{GROUP}", "expert_organisation:barnahus", "other:x"]})
    assert answer.status_code == 302 and answer.headers["Location"] == f"/omat-pyynnot/{REQUEST_ID}"
    sent = services.requests["RecordConsent"]
    assert (sent.request_id, sent.form, sent.given_by, sent.child_capacity_assessed) == (
        REQUEST_ID, consent_pb2.CONSENT_FORM_WRITTEN_ORGANISATION_FORM, consent_pb2.CONSENT_GIVER_CHILD_AND_GUARDIANS, True)
    assert [(p.kind, p.id) for p in sent.scope] == [(consent_pb2.PARTY_KIND_GROUP, GROUP),
                                                    (consent_pb2.PARTY_KIND_EXPERT_ORGANISATION, "barnahus")]


def test_a_refused_consent_comes_back_at_its_field(client, idp, services):
    signed_in(client, idp)
    consent_answers(services)
    services.refusals["RecordConsent"] = Refusal(grpc.StatusCode.INVALID_ARGUMENT, "Korjattavaa. / Fix it.", violations=(
        ("child_capacity_assessed", "Arvioi ensin lapsen kyky päättää asiasta. / First assess the child's capacity."),))
    answer = client.post(f"/omat-pyynnot/{REQUEST_ID}/suostumus", data={
        "csrf_token": csrf(client, "/kysy"), "form": "CONSENT_FORM_WRITTEN_ORGANISATION_FORM",
        "given_by": "CONSENT_GIVER_CHILD"})
    page = text(answer)
    assert answer.status_code == 400 and 'href="#child_capacity_assessed"' in page
    assert "Arvioi ensin lapsen kyky päättää asiasta." in page and 'value="CONSENT_GIVER_CHILD" checked' in page


# --- withdrawing -------------------------------------------------------------------------------------------
def test_withdrawing_asks_first_then_withdraws(client, idp, services):
    signed_in(client, idp)
    page = text(client.get(f"/omat-pyynnot/{REQUEST_ID}/peru"))
    assert "Perutaanko pyyntö?" in page and services.calls == []
    services.answers["WithdrawRequest"] = intake_pb2.Request()
    answer = client.post(f"/omat-pyynnot/{REQUEST_ID}/peru", data={"csrf_token": csrf(client, "/kysy")})
    assert answer.status_code == 302 and services.requests["WithdrawRequest"].request_id == REQUEST_ID


def test_a_withdrawal_too_late_is_refused_in_words(client, idp, services):
    signed_in(client, idp)
    services.refusals["WithdrawRequest"] = Refusal(grpc.StatusCode.FAILED_PRECONDITION,
                                                   "Pyyntö on tilassa 'päättynyt'. / The request is 'closed'.")
    answer = client.post(f"/omat-pyynnot/{REQUEST_ID}/peru", data={"csrf_token": csrf(client, "/kysy")})
    assert answer.status_code == 409 and "Pyyntö on tilassa 'päättynyt'." in html.unescape(text(answer))


def test_withdrawing_the_consent(client, idp, services):
    signed_in(client, idp)
    assert "Kirjataanko suostumus perutuksi?" in text(client.get(f"/omat-pyynnot/{REQUEST_ID}/suostumus/peru"))
    services.answers["WithdrawConsent"] = consent_pb2.ConsentRecord()
    answer = client.post(f"/omat-pyynnot/{REQUEST_ID}/suostumus/peru", data={"csrf_token": csrf(client, "/kysy")})
    assert answer.status_code == 302 and services.requests["WithdrawConsent"].request_id == REQUEST_ID


def test_a_malformed_id_is_not_sent_on(client, idp, services):
    signed_in(client, idp)
    token = csrf(client, "/kysy")
    for path in ("/omat-pyynnot/x/varaa", "/omat-pyynnot/x/suostumus", "/omat-pyynnot/x/peru"):
        assert client.get(path).status_code == 404
    assert client.post("/omat-pyynnot/x/vastaus", data={"csrf_token": token, "reply": "a"}).status_code == 404
    assert services.calls == []


# --- my data, notifications --------------------------------------------------------------------------------
def test_my_data_is_the_professionals_own_export_shown_and_downloadable(client, idp, services):
    signed_in(client, idp)
    data = {"subject": "professional-pohjois-savo", "requests": [{"request_id": REQUEST_ID, "type": "ot_tuki"}],
            "conversation_entries": [{"entry_id": "e1"}]}
    services.answers["ExportProfessionalData"] = intake_pb2.ProfessionalDataExport(
        subject="professional-pohjois-savo", requests=1, json=json.dumps(data))
    page = text(client.get("/omat-tiedot"))
    assert services.last_export_subject == "professional-pohjois-savo"  # their own user id, from the sign-in
    assert REQUEST_ID in page and "Lataa JSON-tiedostona" in page
    download = client.get("/omat-tiedot/ot-omat-tiedot.json")
    assert download.mimetype == "application/json" and json.loads(download.data) == data
    assert download.headers["Content-Disposition"] == "attachment; filename=ot-pohjois-savo-omat-tiedot.json"


def test_notification_choices_are_read_and_saved(client, idp, services):
    signed_in(client, idp, "expert", sub="expert-barnahus")  # experts choose too
    services.answers["GetNotificationSettings"] = feedback_pb2.NotificationSettings(reminders_enabled=True)
    assert 'name="reminders_enabled" value="yes" checked' in text(client.get("/ilmoitukset"))
    services.answers["SetNotificationSettings"] = feedback_pb2.NotificationSettings()
    answer = client.post("/ilmoitukset", data={"csrf_token": csrf(client, "/ilmoitukset")})  # unticked
    assert answer.status_code == 302 and services.requests["SetNotificationSettings"].reminders_enabled is False


def test_the_coordinator_has_no_notification_choices_here(client, idp, services):
    signed_in(client, idp, "coordinator")
    assert client.get("/ilmoitukset").status_code == 403 and services.calls == []


def test_my_requests_show_the_waiting_time(client, idp, services):
    signed_in(client, idp)
    services.answers["ListRequests"] = intake_pb2.ListRequestsResponse(requests=[own_request(waiting_working_days=12,
                                                                                             past_target=True)])
    page = text(client.get("/omat-pyynnot"))
    assert "12 työpäivää (pidempi kuin alueen tavoite)" in page and 'href="/kysy"' in page
