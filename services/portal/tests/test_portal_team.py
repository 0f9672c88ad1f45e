"""The OT team's pages (coordinator, secretary): what each shows, what it sends to the services as
the signed-in person, and the refusals, wrong roles, missing form tokens and validation errors."""
from __future__ import annotations

from datetime import datetime, timezone

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from ot.common.v1 import case_pb2
from ot.consent.v1 import consent_pb2
from ot.experts.v1 import experts_pb2
from ot.feedback.v1 import feedback_pb2
from ot.intake.v1 import intake_pb2

from portal_testkit import Refusal, person, sign_in

REQUEST_ID = "1b4e28ba-2fa1-41d2-883f-0016d3cca427"
MEETING_ID = "5d1f7a3c-9e0b-4c2d-8a6f-3b7e1c9d2f40"
GROUP = "haastavat-erot-pohjois-savo"
STATUTORY = "lastensuojelun-asiantuntijaryhma-pohjois-savo"
QUESTION = "Miten edetä, kun nuori karkailee sijaishuoltopaikasta toistuvasti?"
GUARD_REFUSAL = ("text", "Kentässä on nimi (merkit 5–19): poista se. / The field holds a name (characters 5–19): "
                         "remove it.")


def text(answer) -> str:
    return answer.get_data(as_text=True)


def ts(iso: str) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(datetime.fromisoformat(iso))
    return out


def csrf_token(client) -> str:
    page = text(client.get("/"))
    return page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def coordinator(client, idp):
    sign_in(client, idp, person("coordinator"))
    return csrf_token(client)


def secretary(client, idp, groups=(GROUP, STATUTORY)):
    sign_in(client, idp, person("secretary", ot_groups=list(groups)))
    return csrf_token(client)


def called(services) -> list[str]:
    return [method for method, _metadata in services.calls]


def ot_tuki(status=case_pb2.REQUEST_STATUS_SUBMITTED, **extra) -> intake_pb2.Request:
    reason = intake_pb2.ScreeningReason(points=3, reason_fi="Lastensuojelun erityiskysymys",
                                        reason_en="Special child-protection question")
    extra.setdefault("screening", intake_pb2.Screening(score=7, max_score=10, band="likely", reasons=[reason],
                                                       summary_fi="Todennäköisesti OT-taso.",
                                                       summary_en="Likely OT level."))
    return intake_pb2.Request(
        request_id=REQUEST_ID, type=case_pb2.REQUEST_TYPE_OT_TUKI, status=status,
        categories=[case_pb2.CASE_CATEGORY_CHILD_PROTECTION_SPECIAL], question=QUESTION, content_included=True,
        client=intake_pb2.ClientFacts(age_years=15, gender=intake_pb2.GENDER_GIRL, family_situation="sijaishuolto"),
        professional=intake_pb2.Professional(name="Demo Ammattilainen", profession="sosiaalityöntekijä",
                                             organisation="Lapsiperhepalvelut"),
        consent=intake_pb2.ConsentAssessment(need=intake_pb2.CONSENT_NEED_WRITTEN_ORGANISATION_FORM,
                                             given_by=intake_pb2.CONSENT_GIVER_GUARDIANS),
        discussed_in_own_team=True, waiting_working_days=4, past_target=True,
        submitted_at=ts("2026-11-02T08:00:00+00:00"), updated_at=ts("2026-11-03T09:30:00+00:00"), **extra)


def conversation() -> intake_pb2.ListEntriesResponse:
    return intake_pb2.ListEntriesResponse(entries=[
        intake_pb2.Entry(entry_id="e1", sequence=1, kind=intake_pb2.ENTRY_KIND_QUESTION, author_role="coordinator",
                         author_name="OT-tiimi", text="Onko asiasta pidetty verkostopalaveri?",
                         created_at=ts("2026-11-03T09:30:00+00:00")),
        intake_pb2.Entry(entry_id="e2", sequence=2, kind=intake_pb2.ENTRY_KIND_NOTE, author_role="coordinator",
                         text="Tarkistetaan Barnahuksen tilanne.", created_at=ts("2026-11-03T09:40:00+00:00"))])


def catalogue() -> experts_pb2.ListExpertsResponse:
    return experts_pb2.ListExpertsResponse(experts=[
        experts_pb2.Expert(expert_id="barnahus", name_fi="Barnahus Itä-Suomi", name_en="Barnahus Eastern Finland",
                           cost=experts_pb2.COST_FREE, usable_in_area=True),
        experts_pb2.Expert(expert_id="vaalijala", name_fi="Vaalijala", cost=experts_pb2.COST_PAID,
                           usable_in_area=True, price_note="hinnasto")])


def open_case(services, request=None):
    services.answers.update(GetRequest=request or ot_tuki(), ListEntries=conversation(), ListExperts=catalogue())


# --- the worklist ----------------------------------------------------------------------------------
def test_the_worklist_sends_the_filters_and_shows_waiting_time_and_the_target(client, idp, services):
    coordinator(client, idp)
    services.answers["ListRequests"] = intake_pb2.ListRequestsResponse(
        requests=[ot_tuki(screening=intake_pb2.Screening(score=7, max_score=10))], total_count=21,
        next_page_token="bmV4dA")
    page = text(client.get("/pyynnot?status=REQUEST_STATUS_SUBMITTED&type=REQUEST_TYPE_OT_TUKI"
                           "&category=CASE_CATEGORY_CHILD_PROTECTION_SPECIAL&from=2026-11-01&to=2026-11-30"
                           "&order=longest_waiting&past_target=yes"))
    sent = services.requests["ListRequests"]
    assert (sent.status, sent.type, sent.category) == (case_pb2.REQUEST_STATUS_SUBMITTED, case_pb2.REQUEST_TYPE_OT_TUKI,
                                                       case_pb2.CASE_CATEGORY_CHILD_PROTECTION_SPECIAL)
    assert sent.order == intake_pb2.REQUEST_ORDER_LONGEST_WAITING and sent.past_target_only and sent.page_size == 20
    # Finnish calendar days: from the first day's midnight to the midnight after the last one.
    assert sent.submitted_from.ToDatetime(timezone.utc) == datetime(2026, 10, 31, 22, 0, tzinfo=timezone.utc)
    assert sent.submitted_to.ToDatetime(timezone.utc) == datetime(2026, 11, 30, 22, 0, tzinfo=timezone.utc)
    assert services.calls[-1][1]["authorization"].startswith("Bearer ey")
    assert "21 pyyntöä" in page and "4 työpäivää" in page and "tavoiteaika ylittynyt" in page and "7/10" in page
    assert f'href="/pyynnot/{REQUEST_ID}"' in page and ">1b4e28ba<" in page
    next_link = page.split('data-testid="next-page"', 1)[0].rsplit('href="', 1)[1]
    assert "page=bmV4dA" in next_link and "past_target=yes" in next_link and "order=longest_waiting" in next_link


def test_a_worklist_past_the_count_limit_says_or_more(client, idp, services):
    coordinator(client, idp)
    services.answers["ListRequests"] = intake_pb2.ListRequestsResponse(
        requests=[ot_tuki()], total_count=1000, total_count_at_least=True, next_page_token="bmV4dA")
    page = text(client.get("/pyynnot"))
    assert "1000 tai enemmän pyyntöjä" in page and "1000 pyyntöä" not in page


def test_the_next_page_sends_the_page_token(client, idp, services):
    coordinator(client, idp)
    services.answers["ListRequests"] = intake_pb2.ListRequestsResponse()
    page = text(client.get("/pyynnot?page=bmV4dA&status=REQUEST_STATUS_TRIAGED"))
    assert services.requests["ListRequests"].page_token == "bmV4dA"
    assert "Näillä rajauksilla ei löydy pyyntöjä." in page
    assert 'href="/pyynnot?status=REQUEST_STATUS_TRIAGED">Ensimmäinen sivu' in page


def test_a_date_that_is_no_date_is_shown_at_its_field_and_nothing_is_asked(client, idp, services):
    coordinator(client, idp)
    answer = client.get("/pyynnot?from=31.11.2026")
    assert answer.status_code == 400
    assert 'href="#from"' in text(answer) and 'aria-invalid="true"' in text(answer)
    assert "ListRequests" not in called(services)


def test_a_page_token_intake_refuses_is_shown(client, idp, services):
    coordinator(client, idp)
    services.refusals["ListRequests"] = Refusal(grpc.StatusCode.INVALID_ARGUMENT, "Korjattavaa. / Needs fixing.",
                                                violations=(("page_token", "Sivutunnus ei kelpaa. / The page token is "
                                                             "not valid."),))
    answer = client.get("/pyynnot?page=vanha")
    assert answer.status_code == 400 and "Sivutunnus ei kelpaa." in text(answer) and "not valid" not in text(answer)


def test_the_worklist_is_the_coordinators(client, idp, services):
    secretary(client, idp)
    assert client.get("/pyynnot").status_code == 403
    assert "ListRequests" not in called(services)


# --- a request ---------------------------------------------------------------------------------------
def test_a_request_is_opened_only_when_the_person_chooses_to(client, idp, services):
    coordinator(client, idp)
    page = text(client.get(f"/pyynnot/{REQUEST_ID}"))
    assert services.calls == []  # nothing read yet
    assert "tarkastuslokiin" in page and 'name="avaa" value="1"' in page and "Avaa tapaus" in page


def test_the_opened_request_shows_the_content_the_ot_seula_reasons_and_the_conversation(client, idp, services):
    coordinator(client, idp)
    open_case(services)
    page = text(client.get(f"/pyynnot/{REQUEST_ID}?avaa=1"))
    assert called(services)[-3:] == ["GetRequest", "ListEntries", "ListExperts"]
    assert all(metadata["authorization"].startswith("Bearer ey") for _method, metadata in services.calls)
    assert QUESTION in page and "sijaishuolto" in page and "tyttö" in page
    assert "7 / 10 pistettä" in page and "Todennäköisesti OT-taso." in page
    assert "Lastensuojelun erityiskysymys" in page and "Special child-protection question" not in page
    assert "Onko asiasta pidetty verkostopalaveri?" in page and "ei näy ammattilaiselle" in page
    assert "Demo Ammattilainen" in page and "kirjallinen, ammattilaisen organisaation lomakkeella" in page
    # The coordinator writes a question, advice (pointing to catalogue experts) or a note on an OT-TUKI request.
    assert 'value="ENTRY_KIND_QUESTION"' in page and 'value="ENTRY_KIND_ADVICE"' in page
    assert 'value="ENTRY_KIND_NOTE"' in page and 'value="ENTRY_KIND_RECOMMENDATIONS"' not in page
    assert 'name="expert_ids" value="barnahus"' in page and "Barnahus Itä-Suomi" in page
    assert "Ota käsittelyyn" in page and "Palauta vastaus ammattilaiselle" in page
    assert f'href="/pyynnot/{REQUEST_ID}/asiantuntijat"' in page


def test_a_malformed_id_is_not_sent_on(client, idp, services):
    coordinator(client, idp)
    assert client.get("/pyynnot/ei-tunnus?avaa=1").status_code == 404
    assert services.calls == []


def test_the_coordinator_asks_the_professional_a_question(client, idp, services):
    token = coordinator(client, idp)
    open_case(services)
    services.answers["AddEntry"] = intake_pb2.Entry(entry_id="e3")
    answer = client.post(f"/pyynnot/{REQUEST_ID}/merkinta", data={
        "csrf_token": token, "kind": "ENTRY_KIND_QUESTION", "text": "Onko palaveri pidetty?\r\nKuka oli mukana?",
        "author_name": "OT-tiimi", "idempotency_key": "k-1", "expert_ids": "barnahus"})
    assert answer.status_code == 302 and answer.headers["Location"] == f"/pyynnot/{REQUEST_ID}?avaa=1#conversation"
    sent = services.requests["AddEntry"]
    assert (sent.request_id, sent.kind, sent.text, sent.author_name, sent.idempotency_key) == (
        REQUEST_ID, intake_pb2.ENTRY_KIND_QUESTION, "Onko palaveri pidetty?\nKuka oli mukana?", "OT-tiimi", "k-1")
    assert list(sent.expert_ids) == []  # only advice points to experts
    assert "Merkintä lisättiin keskusteluun." in text(client.get(answer.headers["Location"]))


def test_advice_points_to_experts_of_the_catalogue(client, idp, services):
    token = coordinator(client, idp)
    services.answers["AddEntry"] = intake_pb2.Entry(entry_id="e3")
    client.post(f"/pyynnot/{REQUEST_ID}/merkinta", data={
        "csrf_token": token, "kind": "ENTRY_KIND_ADVICE", "text": "Suosittelemme Barnahuksen konsultaatiota.",
        "expert_ids": ["barnahus", "vaalijala"]})
    sent = services.requests["AddEntry"]
    assert sent.kind == intake_pb2.ENTRY_KIND_ADVICE and list(sent.expert_ids) == ["barnahus", "vaalijala"]


def test_a_text_the_guard_refuses_is_shown_at_the_field_and_never_again(client, idp, services):
    token = coordinator(client, idp)
    open_case(services)
    refused_text = "Äiti Maija Virtanen soitti."
    services.refusals["AddEntry"] = Refusal(grpc.StatusCode.INVALID_ARGUMENT, "Korjattavaa. / Needs fixing.",
                                            violations=(GUARD_REFUSAL,))
    answer = client.post(f"/pyynnot/{REQUEST_ID}/merkinta", data={
        "csrf_token": token, "kind": "ENTRY_KIND_NOTE", "text": refused_text})
    page = text(answer)
    assert answer.status_code == 400
    assert 'href="#text"' in page and "Kentässä on nimi (merkit 5–19)" in page and 'id="text-error"' in page
    assert refused_text not in page and "Maija" not in page
    assert 'value="ENTRY_KIND_NOTE" checked' in page  # the rest of the form stays as it was


def test_an_entry_without_text_or_kind_is_not_sent(client, idp, services):
    token = coordinator(client, idp)
    open_case(services)
    answer = client.post(f"/pyynnot/{REQUEST_ID}/merkinta", data={"csrf_token": token, "kind": "ENTRY_KIND_REPLY",
                                                                   "text": "  "})
    assert answer.status_code == 400
    assert 'href="#kind"' in text(answer) and 'href="#text"' in text(answer)
    assert "AddEntry" not in called(services)


def test_a_form_without_its_token_is_refused(client, idp, services):
    coordinator(client, idp)
    for path, data in ((f"/pyynnot/{REQUEST_ID}/merkinta", {"kind": "ENTRY_KIND_NOTE", "text": "Muistiin."}),
                       (f"/pyynnot/{REQUEST_ID}/kasittely", {"note": ""}),
                       (f"/pyynnot/{REQUEST_ID}/vaihe", {"step": "return"}),
                       (f"/pyynnot/{REQUEST_ID}/asiantuntijat", {"expert_ids": "barnahus"}),
                       ("/kokoukset", {"group_id": GROUP})):
        answer = client.post(path, data=data)
        assert answer.status_code == 400 and "Lomake vanheni" in text(answer), path
    assert services.calls == []


def test_triage_with_a_note(client, idp, services):
    token = coordinator(client, idp)
    services.answers["TriageRequest"] = ot_tuki(case_pb2.REQUEST_STATUS_TRIAGED)
    answer = client.post(f"/pyynnot/{REQUEST_ID}/kasittely", data={"csrf_token": token,
                                                                    "note": "Kiireellinen, katso ensin verkosto."})
    assert answer.status_code == 302
    sent = services.requests["TriageRequest"]
    assert (sent.request_id, sent.note) == (REQUEST_ID, "Kiireellinen, katso ensin verkosto.")


def test_returning_without_an_answer_is_refused_in_the_services_words(client, idp, services):
    token = coordinator(client, idp)
    open_case(services)
    services.refusals["ReturnRecommendations"] = Refusal(
        grpc.StatusCode.FAILED_PRECONDITION, "Palautettavaa vastausta ei ole: kirjoita ensin neuvo. / There is no "
        "answer to return.", "NO_ANSWER")
    answer = client.post(f"/pyynnot/{REQUEST_ID}/vaihe", data={"csrf_token": token, "step": "return"})
    assert answer.status_code == 409
    assert "Palautettavaa vastausta ei ole" in text(answer) and 'data-testid="refusal"' in text(answer)


def test_each_step_calls_its_rpc(client, idp, services):
    token = coordinator(client, idp)
    for step, rpc, told in (("return", "ReturnRecommendations", "Vastaus palautettiin ammattilaiselle."),
                            ("close", "CloseRequest", "Pyyntö päätettiin."),
                            ("consulted", "MarkConsulted", "Konsultaatio merkittiin pidetyksi.")):
        services.answers[rpc] = ot_tuki()
        answer = client.post(f"/pyynnot/{REQUEST_ID}/vaihe", data={"csrf_token": token, "step": step})
        assert answer.status_code == 302 and services.requests[rpc].request_id == REQUEST_ID
        open_case(services)
        assert told in text(client.get(answer.headers["Location"]))
    assert client.post(f"/pyynnot/{REQUEST_ID}/vaihe", data={"csrf_token": token, "step": "erase"}).status_code == 400


def test_the_secretary_records_the_groups_recommendations(client, idp, services):
    token = secretary(client, idp)
    group_case = ot_tuki(case_pb2.REQUEST_STATUS_CONSULTED, meeting_id=MEETING_ID)
    group_case.type = case_pb2.REQUEST_TYPE_GROUP_CONSULTATION
    open_case(services, group_case)
    page = text(client.get(f"/pyynnot/{REQUEST_ID}?avaa=1"))
    assert "ListExperts" not in called(services)  # advice is the coordinator's
    assert 'value="ENTRY_KIND_RECOMMENDATIONS"' in page and 'value="ENTRY_KIND_ADVICE"' not in page
    assert "Ota käsittelyyn" not in page and "Päätä pyyntö" not in page and "Palauta vastaus" in page
    assert f'href="/kokoukset/{MEETING_ID}"' in page
    services.answers["AddEntry"] = intake_pb2.Entry(entry_id="e9")
    answer = client.post(f"/pyynnot/{REQUEST_ID}/merkinta", data={
        "csrf_token": token, "kind": "ENTRY_KIND_RECOMMENDATIONS", "text": "Ryhmä suosittelee sovittelua."})
    assert answer.status_code == 302
    assert services.requests["AddEntry"].kind == intake_pb2.ENTRY_KIND_RECOMMENDATIONS
    # Triage and the expert pages stay the coordinator's.
    assert client.post(f"/pyynnot/{REQUEST_ID}/kasittely", data={"csrf_token": token}).status_code == 403
    assert client.get(f"/pyynnot/{REQUEST_ID}/asiantuntijat").status_code == 403


def test_a_secretary_of_another_group_is_refused_by_intake(client, idp, services):
    secretary(client, idp, groups=("haastavat-erot-keski-suomi",))
    without_content = ot_tuki()
    without_content.content_included, without_content.question = False, ""
    services.answers["GetRequest"] = without_content
    services.refusals["ListEntries"] = Refusal(grpc.StatusCode.PERMISSION_DENIED, "Pyyntö ei ole varattu sinun "
                                               "ryhmäsi kokoukseen. / Not your group's.", "NOT_GROUP_SECRETARY")
    answer = client.get(f"/pyynnot/{REQUEST_ID}?avaa=1")
    assert answer.status_code == 403 and "Pyyntö ei ole varattu sinun ryhmäsi kokoukseen." in text(answer)


def test_the_request_pages_are_the_ot_teams(client, idp, services):
    sign_in(client, idp, person("professional"))
    for path in (f"/pyynnot/{REQUEST_ID}", f"/pyynnot/{REQUEST_ID}?avaa=1", "/kokoukset", f"/kokoukset/{MEETING_ID}",
                 "/sailytysajat"):
        assert client.get(path).status_code == 403, path
    assert services.calls == []


# --- experts for a request -------------------------------------------------------------------------
def proposals() -> experts_pb2.ListProposalsResponse:
    return experts_pb2.ListProposalsResponse(
        request_id=REQUEST_ID, revision=1, summary_fi="Kaksi ehdotusta.", summary_en="Two proposals.",
        proposals=[experts_pb2.Proposal(rank=1, score=9, expert=catalogue().experts[0], reasons=[
            experts_pb2.ProposalReason(code="category_fit", points=5, reason_fi="Sopii tilanteeseen",
                                       reason_en="Fits the situation"),
            experts_pb2.ProposalReason(code="free", points=2, reason_fi="Maksuton", reason_en="Free")])])


def test_the_proposals_with_their_reasons_and_the_assignments(client, idp, services):
    coordinator(client, idp)
    assigned = experts_pb2.Assignment(expert_id="vaalijala", expert_name_fi="Vaalijala", active=True,
                                      cost_approved=True, assigned_at=ts("2026-11-04T08:00:00+00:00"))
    services.answers.update(ListProposals=proposals(), ListExperts=catalogue(),
                            ListAssignments=experts_pb2.RequestAssignments(assignments=[assigned]))
    page = text(client.get(f"/pyynnot/{REQUEST_ID}/asiantuntijat"))
    assert "Barnahus Itä-Suomi – 9 pistettä" in page
    assert "Sopii tilanteeseen (+5)" in page and "Maksuton (+2)" in page
    assert "kustannus hyväksytty" in page and "Päätä nimeäminen: Vaalijala" in page
    # Assignable: the catalogue without those already assigned, the proposals first.
    assert 'value="barnahus"' in page and 'name="expert_ids" value="vaalijala"' not in page


def test_assigning_a_paid_expert_with_the_cost_approved(client, idp, services):
    token = coordinator(client, idp)
    services.answers["AssignExperts"] = experts_pb2.RequestAssignments()
    answer = client.post(f"/pyynnot/{REQUEST_ID}/asiantuntijat", data={
        "csrf_token": token, "expert_ids": "vaalijala", "cost_approved": "yes"})
    assert answer.status_code == 302 and answer.headers["Location"] == f"/pyynnot/{REQUEST_ID}/asiantuntijat"
    sent = services.requests["AssignExperts"]
    assert (sent.request_id, list(sent.expert_ids), sent.cost_approved) == (REQUEST_ID, ["vaalijala"], True)


def test_each_refusal_of_an_assignment_says_why(client, idp, services):
    token = coordinator(client, idp)
    services.answers.update(ListProposals=proposals(), ListExperts=catalogue(),
                            ListAssignments=experts_pb2.RequestAssignments())
    for reason, message, title, field in (
            ("COST_APPROVAL_REQUIRED", "Vaalijala on maksullinen: kustannukset on hyväksyttävä. / Paid.",
             "Kustannusta ei ole hyväksytty", "#cost_approved"),
            ("SHARING_NOT_ALLOWED", "Suostumus ei kata asiantuntijaa. / Consent does not cover.",
             "Asiakkaan suostumus ei kata tätä asiantuntijaa", "#expert_ids"),
            ("NO_AGREEMENT", "Valtion koulukodit: sopimusta ei ole. / No agreement.",
             "Ei sopimusta: alue ei voi käyttää tätä asiantuntijaa", "#expert_ids")):
        services.refusals["AssignExperts"] = Refusal(grpc.StatusCode.FAILED_PRECONDITION, message, reason)
        answer = client.post(f"/pyynnot/{REQUEST_ID}/asiantuntijat", data={
            "csrf_token": token, "expert_ids": "vaalijala"})
        page = text(answer)
        assert answer.status_code == 409, reason
        assert title in page and message.split(" / ")[0] in page and f'href="{field}"' in page, reason
        assert 'value="vaalijala" checked' in page  # the choice stays
    assert services.requests["AssignExperts"].cost_approved is False


def test_assigning_nobody_is_not_sent(client, idp, services):
    token = coordinator(client, idp)
    services.answers.update(ListProposals=proposals(), ListExperts=catalogue(),
                            ListAssignments=experts_pb2.RequestAssignments())
    answer = client.post(f"/pyynnot/{REQUEST_ID}/asiantuntijat", data={"csrf_token": token})
    assert answer.status_code == 400 and "Valitse vähintään yksi asiantuntija." in text(answer)
    assert "AssignExperts" not in called(services)


def test_a_request_experts_has_not_heard_of_yet(client, idp, services):
    coordinator(client, idp)
    services.refusals["ListProposals"] = Refusal(grpc.StatusCode.NOT_FOUND, "Ei pyyntöä. / No request.")
    page = text(client.get(f"/pyynnot/{REQUEST_ID}/asiantuntijat"))
    assert "Asiantuntijapalvelu ei ole vielä saanut tätä pyyntöä" in page
    assert 'data-testid="assign-form"' not in page


def test_unassigning_with_a_reason(client, idp, services):
    token = coordinator(client, idp)
    services.answers["UnassignExpert"] = experts_pb2.RequestAssignments()
    answer = client.post(f"/pyynnot/{REQUEST_ID}/asiantuntijat/poista", data={
        "csrf_token": token, "expert_id": "vaalijala", "reason": "Ei aikaa tammikuussa."})
    assert answer.status_code == 302
    sent = services.requests["UnassignExpert"]
    assert (sent.request_id, sent.expert_id, sent.reason) == (REQUEST_ID, "vaalijala", "Ei aikaa tammikuussa.")


# --- meetings ----------------------------------------------------------------------------------------
def groups() -> experts_pb2.ListGroupsResponse:
    return experts_pb2.ListGroupsResponse(groups=[
        experts_pb2.Group(group_id=GROUP, name_fi="Haastavat erot -konsultaatioryhmä", name_en="Challenging divorces"),
        experts_pb2.Group(group_id="haastavat-erot-keski-suomi", name_fi="Keski-Suomen ryhmä")])


def meetings() -> intake_pb2.ListMeetingsResponse:
    return intake_pb2.ListMeetingsResponse(meetings=[
        intake_pb2.Meeting(meeting_id=MEETING_ID, group_id=GROUP, starts_at=ts("2026-12-14T08:00:00+00:00"),
                           capacity=3, booked=1, booking_deadline=ts("2026-12-07T08:00:00+00:00"),
                           location="Perheneuvola, neuvotteluhuone 2"),
        intake_pb2.Meeting(meeting_id="6d1f7a3c-9e0b-4c2d-8a6f-3b7e1c9d2f40", group_id="haastavat-erot-keski-suomi",
                           starts_at=ts("2026-12-15T08:00:00+00:00"), capacity=3)])


def test_the_secretary_sees_their_groups_meetings(client, idp, services):
    secretary(client, idp, groups=(GROUP,))
    services.answers.update(ListGroups=groups(), ListMeetings=meetings())
    page = text(client.get("/kokoukset"))
    assert "Perheneuvola, neuvotteluhuone 2" in page and "14.12.2026 10:00" in page and "1 / 3" in page
    assert f'href="/kokoukset/{MEETING_ID}"' in page and "Keski-Suomen ryhmä" not in page
    assert f'<option value="{GROUP}"' in page and 'value="haastavat-erot-keski-suomi"' not in page


def test_publishing_a_meeting_in_finnish_time(client, idp, services):
    token = secretary(client, idp, groups=(GROUP,))
    services.answers["PublishMeeting"] = meetings().meetings[0]
    answer = client.post("/kokoukset", data={"csrf_token": token, "group_id": GROUP, "date": "2026-12-14",
                                             "time": "10:00", "capacity": "3", "booking_lead_days": "",
                                             "location": "Perheneuvola, neuvotteluhuone 2"})
    assert answer.status_code == 302 and answer.headers["Location"] == "/kokoukset"
    sent = services.requests["PublishMeeting"]
    assert sent.starts_at.ToDatetime(timezone.utc) == datetime(2026, 12, 14, 8, 0, tzinfo=timezone.utc)
    assert (sent.group_id, sent.capacity, sent.booking_lead_days, sent.location) == (
        GROUP, 3, 0, "Perheneuvola, neuvotteluhuone 2")
    services.answers.update(ListGroups=groups(), ListMeetings=meetings())
    assert "Kokous julkaistiin" in text(client.get("/kokoukset"))


def test_a_meeting_form_with_errors_is_shown_again_at_its_fields(client, idp, services):
    token = secretary(client, idp, groups=(GROUP,))
    services.answers.update(ListGroups=groups(), ListMeetings=meetings())
    answer = client.post("/kokoukset", data={"csrf_token": token, "group_id": GROUP, "date": "", "time": "10",
                                             "capacity": "kolme", "location": "Neuvotteluhuone"})
    page = text(answer)
    assert answer.status_code == 400 and 'href="#date"' in page and 'href="#capacity"' in page
    assert 'value="Neuvotteluhuone"' in page and "PublishMeeting" not in called(services)
    # The service's own refusal (a meeting in the past), at the day's field.
    services.refusals["PublishMeeting"] = Refusal(grpc.StatusCode.INVALID_ARGUMENT, "Korjattavaa. / Fix.", violations=(
        ("starts_at", "Kokouksen on oltava tulevaisuudessa. / The meeting must be in the future."),))
    answer = client.post("/kokoukset", data={"csrf_token": token, "group_id": GROUP, "date": "2020-01-01",
                                             "time": "10:00", "capacity": "3"})
    assert answer.status_code == 400 and "Kokouksen on oltava tulevaisuudessa." in text(answer)
    assert 'id="date-error"' in text(answer)


def test_the_agenda_shows_each_cases_material(client, idp, services):
    secretary(client, idp, groups=(GROUP,))
    items = [intake_pb2.AgendaItem(request_id=REQUEST_ID, type=case_pb2.REQUEST_TYPE_GROUP_CONSULTATION,
                                   anonymous=True, booked_at=ts("2026-11-20T08:00:00+00:00"),
                                   material_received_at=ts("2026-11-21T08:00:00+00:00")),
             intake_pb2.AgendaItem(request_id="2b4e28ba-2fa1-41d2-883f-0016d3cca427",
                                   type=case_pb2.REQUEST_TYPE_GROUP_CONSULTATION, material_missing=True)]
    services.answers.update(ListGroups=groups(), GetMeetingAgenda=intake_pb2.MeetingAgenda(
        meeting=meetings().meetings[0], items=items))
    page = text(client.get(f"/kokoukset/{MEETING_ID}"))
    assert services.requests["GetMeetingAgenda"].meeting_id == MEETING_ID
    material = [cell.split(">", 1)[1] for cell in page.split('data-testid="material"')[1:]]
    assert "saapui 21.11.2026" in material[0] and "puuttuu: määräaika on ohi" in material[1]
    assert "anonyymi" in page and f'href="/pyynnot/{REQUEST_ID}"' in page


# --- retention --------------------------------------------------------------------------------------
def policies() -> consent_pb2.ListRetentionPoliciesResponse:
    return consent_pb2.ListRetentionPoliciesResponse(policies=[
        consent_pb2.RetentionPolicy(type=case_pb2.REQUEST_TYPE_OT_TUKI, grace_days_after_recommendations=30,
                                    max_days_after_submission=365),
        consent_pb2.RetentionPolicy(type=case_pb2.REQUEST_TYPE_GROUP_CONSULTATION, grace_days_after_recommendations=14,
                                    max_days_after_submission=180)])


def test_the_coordinator_changes_a_retention_policy(client, idp, services):
    token = coordinator(client, idp)
    services.answers["ListRetentionPolicies"] = policies()
    page = text(client.get("/sailytysajat"))
    assert "365" in page and 'href="/sailytysajat/REQUEST_TYPE_OT_TUKI"' in page
    form = text(client.get("/sailytysajat/REQUEST_TYPE_OT_TUKI"))
    assert 'value="30"' in form and 'value="365"' in form
    services.answers["SetRetentionPolicy"] = policies().policies[0]
    answer = client.post("/sailytysajat/REQUEST_TYPE_OT_TUKI", data={
        "csrf_token": token, "grace_days_after_recommendations": "21", "max_days_after_submission": "200"})
    assert answer.status_code == 302
    sent = services.requests["SetRetentionPolicy"]
    assert (sent.type, sent.grace_days_after_recommendations, sent.max_days_after_submission) == (
        case_pb2.REQUEST_TYPE_OT_TUKI, 21, 200)


def test_a_retention_the_service_refuses_is_shown_at_its_field(client, idp, services):
    token = coordinator(client, idp)
    services.refusals["SetRetentionPolicy"] = Refusal(grpc.StatusCode.INVALID_ARGUMENT, "Korjattavaa. / Fix.",
                                                      violations=(("max_days_after_submission",
                                                                   "1–3650 päivää. / 1–3650 days."),))
    answer = client.post("/sailytysajat/REQUEST_TYPE_OT_TUKI", data={
        "csrf_token": token, "grace_days_after_recommendations": "21", "max_days_after_submission": "0"})
    assert answer.status_code == 400 and 'href="#max_days_after_submission"' in text(answer)
    assert 'id="max_days_after_submission-error"' in text(answer)
    answer = client.post("/sailytysajat/REQUEST_TYPE_OT_TUKI", data={
        "csrf_token": token, "grace_days_after_recommendations": "-1", "max_days_after_submission": "x"})
    assert answer.status_code == 400 and len(services.calls) == 1  # not sent: not whole numbers
    assert client.get("/sailytysajat/REQUEST_TYPE_UNSPECIFIED").status_code == 404


def test_the_officer_reads_the_retention_policies_but_does_not_change_them(client, idp, services):
    sign_in(client, idp, person("admin"))
    services.answers["ListRetentionPolicies"] = policies()
    page = text(client.get("/sailytysajat"))
    assert "365" in page and "/sailytysajat/REQUEST_TYPE_OT_TUKI" not in page
    assert client.get("/sailytysajat/REQUEST_TYPE_OT_TUKI").status_code == 403


def test_the_navigation_shows_the_teams_pages(client, idp):
    coordinator(client, idp)
    nav = text(client.get("/")).split('aria-label="Päävalikko"', 1)[1].split("</nav>", 1)[0]
    for label in ("Työjono", "Kokoukset", "Tilastot", "Tarkastusloki", "Tapausten säilytysajat"):
        assert label in nav, label
    assert "Tietosuoja<" not in nav


def test_the_worklist_in_english(client, idp, services):
    coordinator(client, idp)
    client.get("/kieli/en")
    services.answers["ListRequests"] = intake_pb2.ListRequestsResponse(requests=[ot_tuki()], total_count=1)
    page = text(client.get("/pyynnot"))
    assert "<h1>Worklist</h1>" in page and "1 request<" in page and "4 working days" in page
    assert "past the target" in page and "Työjono" not in page


def test_a_meeting_published_past_its_booking_deadline_is_warned_about_once(client, idp, services):
    token = secretary(client, idp, groups=(GROUP,))
    late = intake_pb2.Meeting()
    late.CopyFrom(meetings().meetings[0])
    late.warning_code = "BOOKING_DEADLINE_PASSED"
    late.warning_fi = "Kokous julkaistiin, mutta sen varausaika päättyi jo 07.12.2026 klo 10.00."
    late.warning_en = "The meeting was published, but its booking deadline already passed (2026-12-07 10:00)."
    services.answers.update(PublishMeeting=late, ListGroups=groups(), ListMeetings=meetings())
    answer = client.post("/kokoukset", data={"csrf_token": token, "group_id": GROUP, "date": "2026-12-14",
                                             "time": "10:00", "capacity": "3", "booking_lead_days": ""})
    assert answer.status_code == 302
    page = text(client.get("/kokoukset"))
    warning = page.split('data-testid="meeting-warning"', 1)[1].split("</div>\n</div>", 1)[0]
    assert "Tarkista kokous" in warning and "varausaika päättyi jo 07.12.2026" in warning
    assert "booking deadline" not in page  # the Finnish half only
    assert "Kokous julkaistiin." in page and "voivat nyt varata" not in page  # no promise it can be booked
    assert 'data-testid="meeting-warning"' not in text(client.get("/kokoukset"))  # told once

    client.get("/kieli/en?next=/kokoukset")
    client.post("/kokoukset", data={"csrf_token": token, "group_id": GROUP, "date": "2026-12-14",
                                    "time": "10:00", "capacity": "3"})
    page = text(client.get("/kokoukset"))
    assert "Check the meeting" in page and "booking deadline already passed (2026-12-07 10:00)" in page


def test_a_meeting_published_in_time_has_no_warning(client, idp, services):
    token = secretary(client, idp, groups=(GROUP,))
    services.answers.update(PublishMeeting=meetings().meetings[0], ListGroups=groups(), ListMeetings=meetings())
    client.post("/kokoukset", data={"csrf_token": token, "group_id": GROUP, "date": "2026-12-14", "time": "10:00",
                                    "capacity": "3"})
    page = text(client.get("/kokoukset"))
    assert "voivat nyt varata" in page and 'data-testid="meeting-warning"' not in page


# --- statistics --------------------------------------------------------------------------------------
def one_way(name: str, coarser_of: str, figures: dict[str, str], title: str) -> feedback_pb2.Table:
    rows = list(figures)
    return feedback_pb2.Table(name=name, title_fi=f"{title} (fi)", title_en=title, rows=rows, columns=["total"],
                              cells=[feedback_pb2.Cell(row=r, column="total", value=v, suppressed=not v.isdigit())
                                     for r, v in figures.items()],
                              labels={"social": "sosiaalihuolto / social care", "health": "terveydenhuolto / health care",
                                      "ot_tuki": "OT-TUKI / OT-TUKI", "total": "yhteensä / total"},
                              coarser_of=coarser_of)


def small_area_statistics() -> feedback_pb2.Statistics:
    fine = feedback_pb2.Table(
        name="contacts_by_sector", title_fi="Yhteydenotot sektoreittain", title_en="Contacts by sector",
        rows=["social", "health", "total"], columns=["ot_tuki", "group_consultation", "total"],
        cells=[feedback_pb2.Cell(row=r, column=c, value="<5", suppressed=True)
               for r in ("social", "health") for c in ("ot_tuki", "group_consultation")]
        + [feedback_pb2.Cell(row="total", column="total", value="11")])
    return feedback_pb2.Statistics(
        tenant="pohjois-savo", period="all", period_start=ts("2026-02-28T22:00:00+00:00"),
        period_end=ts("2026-05-31T21:00:00+00:00"), suppression_rule="Sääntö. / The rule.",
        tables=[fine,
                one_way("contacts_by_sector_all_types", "contacts_by_sector",
                        {"social": "6", "health": "5", "total": "11"}, "Contacts by sector, all types together"),
                one_way("contacts_by_sector_by_type", "contacts_by_sector",
                        {"ot_tuki": "6", "group_consultation": "5", "total": "11"}, "Contacts by sector, by type only")])


def test_statistics_default_to_every_month_with_figures_and_show_the_coarser_tables_first(client, idp, services):
    coordinator(client, idp)
    services.answers["GetStatistics"] = small_area_statistics()
    page = text(client.get("/tilastot"))
    assert services.requests["GetStatistics"].period == "all"
    heading = page.split('data-testid="stats-heading">', 1)[1].split("</h1>", 1)[0]
    assert heading == "Tilastot kaikki kuukaudet, joilta on lukuja (3/2026–5/2026)"
    order = [page.index(f'data-testid="section-{name}"') for name in
             ("contacts_by_sector_all_types", "contacts_by_sector_by_type", "contacts_by_sector")]
    assert order == sorted(order)  # the figures first, the all-hidden breakdown after them ...
    finer = page.split('data-testid="section-contacts_by_sector"', 1)[1]
    assert finer.split("</section>", 1)[0].count("<details>") == 1  # ... folded away
    coarse = page.split('data-testid="section-contacts_by_sector_all_types"', 1)[1].split("</section>", 1)[0]
    assert "Näytetään karkeammin" in coarse and "<td>6</td>" in coarse and "<td>5</td>" in coarse


def test_a_period_asked_for_is_kept_and_shows_its_months(client, idp, services):
    coordinator(client, idp)
    answer = small_area_statistics()
    answer.period = "2026-04"
    answer.period_start.CopyFrom(ts("2026-03-31T21:00:00+00:00"))
    answer.period_end.CopyFrom(ts("2026-04-30T21:00:00+00:00"))
    del answer.tables[1:]  # a table with nothing coarser to offer is shown as it is, not folded
    answer.tables[0].cells[0].value = "7"
    services.answers["GetStatistics"] = answer
    page = text(client.get("/tilastot?period=2026-04"))
    assert services.requests["GetStatistics"].period == "2026-04"
    assert "Tilastot 2026-04 (4/2026)" in page and "<details>" not in page
