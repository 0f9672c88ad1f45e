"""An expert's and a consultation group member's pages against the fake services: their assignments
and meetings, reading a case (with the audit said on the page), the statement, and each refusal in
words."""
from __future__ import annotations

import html
from datetime import datetime, timedelta, timezone

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from ot.common.v1 import case_pb2
from ot.experts.v1 import experts_pb2
from ot.intake.v1 import intake_pb2

from ot_guard import Violation
from portal_testkit import Refusal, person, sign_in

REQUEST_ID = "1b4e28ba-2fa1-41d2-883f-0016d3cca427"
MEETING_ID = "2c4e28ba-2fa1-41d2-883f-0016d3cca427"
GROUP = "haastavat-erot-pohjois-savo"
OTHER_GROUP = "lastensuojelun-asiantuntijaryhma-pohjois-savo"


def text(answer) -> str:
    return html.unescape(answer.get_data(as_text=True))


def ts(value: datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(value)
    return out


def expert(client, idp):
    sign_in(client, idp, person("expert", sub="expert-barnahus"))
    return client


def member(client, idp, groups=(GROUP,)):
    sign_in(client, idp, person("group-member", ot_groups=list(groups)))
    return client


def csrf(client) -> str:
    return client.get("/").get_data(as_text=True).split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def case(**fields) -> intake_pb2.Request:
    values = dict(request_id=REQUEST_ID, type=case_pb2.REQUEST_TYPE_OT_TUKI, status=case_pb2.REQUEST_STATUS_ASSIGNED,
                  categories=[case_pb2.CASE_CATEGORY_CHILD_PROTECTION_SPECIAL], question="Miten edetä?",
                  content_included=True, entries=2, client=intake_pb2.ClientFacts(age_years=15, family_situation="sijaishuolto"))
    values.update(fields)
    return intake_pb2.Request(**values)


def conversation() -> intake_pb2.ListEntriesResponse:
    return intake_pb2.ListEntriesResponse(entries=[
        intake_pb2.Entry(kind=intake_pb2.ENTRY_KIND_QUESTION, author_role="coordinator", text="Onko palaveri pidetty?"),
        intake_pb2.Entry(kind=intake_pb2.ENTRY_KIND_REPLY, author_role="professional", author_name="Demo Ammattilainen",
                         text="Palaveri pidettiin.")])


# --- assignments and meetings -------------------------------------------------------------------------
def test_an_expert_sees_their_assignments(client, idp, services):
    expert(client, idp)
    services.answers["ListMyAssignments"] = experts_pb2.ListMyAssignmentsResponse(assignments=[experts_pb2.Assignment(
        request_id=REQUEST_ID, expert_id="barnahus", expert_name_fi="Barnahus", request_type=case_pb2.REQUEST_TYPE_OT_TUKI,
        categories=[case_pb2.CASE_CATEGORY_CHILD_PROTECTION_SPECIAL], assigned_at=ts(datetime(2026, 11, 5, 8, tzinfo=timezone.utc)))])
    page = text(client.get("/toimeksiannot"))
    method, metadata = services.calls[-1]
    assert method == "ListMyAssignments" and metadata["authorization"].startswith("Bearer ey")
    assert f'href="/tapaukset/{REQUEST_ID}"' in page and "Pyyntö 1b4e28ba" in page
    assert "OT-TUKI-konsultaatio" in page and "lastensuojelun ja lapsiperhepalvelujen erityiskysymykset" in page
    assert "5.11.2026 10:00" in page


def test_an_expert_login_linked_to_no_expert_is_told_what_to_do(client, idp, services):
    expert(client, idp)
    services.refusals["ListMyAssignments"] = Refusal(grpc.StatusCode.PERMISSION_DENIED,
                                                     "Tunnusta ei ole liitetty. / Not linked.", "EXPERT_NOT_LINKED")
    answer = client.get("/toimeksiannot")
    assert answer.status_code == 403
    assert "Pyydä alueen OT-koordinaattoria liittämään se." in text(answer) and "Tunnusta ei ole liitetty." in text(answer)


def test_a_member_sees_the_meetings_of_each_of_their_groups(client, idp, services):
    member(client, idp, groups=(GROUP, OTHER_GROUP))
    starts = datetime(2026, 12, 14, 8, tzinfo=timezone.utc)
    services.answers["ListMeetings"] = intake_pb2.ListMeetingsResponse(meetings=[intake_pb2.Meeting(
        meeting_id=MEETING_ID, group_id=OTHER_GROUP, starts_at=ts(starts), capacity=3, booked=1,
        booking_deadline=ts(starts - timedelta(days=21)), location="Kokoushuone")])
    page = text(client.get("/ryhman-kokoukset"))
    assert [m for m, _ in services.calls] == ["ListMeetings", "ListMeetings"]  # one call a group
    assert services.requests["ListMeetings"].group_id == OTHER_GROUP
    assert f'href="/ryhman-kokoukset/{MEETING_ID}"' in page and "14.12.2026 10:00" in page and "1 / 3" in page


def test_a_member_without_groups_is_told_so(client, idp, services):
    member(client, idp, groups=())
    assert "ei kuulu mihinkään konsultaatioryhmään" in text(client.get("/ryhman-kokoukset"))
    assert services.calls == []


def test_a_meetings_agenda_shows_the_cases_and_their_material(client, idp, services):
    member(client, idp)
    received = datetime(2026, 12, 1, 9, tzinfo=timezone.utc)
    services.answers["GetMeetingAgenda"] = intake_pb2.MeetingAgenda(
        meeting=intake_pb2.Meeting(meeting_id=MEETING_ID, group_id=GROUP, starts_at=ts(datetime(2026, 12, 14, 8, tzinfo=timezone.utc))),
        items=[intake_pb2.AgendaItem(request_id=REQUEST_ID, anonymous=True, material_received_at=ts(received),
                                     categories=[case_pb2.CASE_CATEGORY_CHALLENGING_DIVORCE]),
               intake_pb2.AgendaItem(request_id="9b4e28ba-2fa1-41d2-883f-0016d3cca427", material_missing=True)])
    page = text(client.get(f"/ryhman-kokoukset/{MEETING_ID}"))
    assert services.requests["GetMeetingAgenda"].meeting_id == MEETING_ID
    assert f'href="/tapaukset/{REQUEST_ID}"' in page and "saapui 1.12.2026 11:00" in page
    assert "puuttuu: määräaika on ohi" in page and "haastavat erot ja huoltoriidat" in page


def test_another_groups_agenda_is_refused_in_words(client, idp, services):
    member(client, idp)
    services.refusals["GetMeetingAgenda"] = Refusal(grpc.StatusCode.PERMISSION_DENIED,
                                                    "Kokous ei ole sinun ryhmäsi. / The meeting is not of your group.",
                                                    "NOT_GROUP_MEMBER")
    answer = client.get(f"/ryhman-kokoukset/{MEETING_ID}")
    assert answer.status_code == 403 and "ei kuulu ryhmään, jonka jäsen olet" in text(answer)
    assert "Kokous ei ole sinun ryhmäsi." in text(answer) and "The meeting" not in text(answer)


# --- reading a case --------------------------------------------------------------------------------------
def test_an_assigned_expert_reads_the_case_and_is_told_the_read_is_audited(client, idp, services):
    expert(client, idp)
    services.answers["GetRequest"] = case()
    services.answers["ListEntries"] = conversation()
    page = text(client.get(f"/tapaukset/{REQUEST_ID}"))
    assert [m for m, _ in services.calls] == ["GetRequest", "ListEntries"]
    assert all(md["authorization"].startswith("Bearer ey") for _, md in services.calls)
    assert "Miten edetä?" in page and "sijaishuolto" in page
    assert "OT-tiimin kysymys" in page and "Palaveri pidettiin." in page and "Demo Ammattilainen" in page
    assert "kirjasi lukemisen (kuka, missä roolissa, milloin ja miksi) alueen lokiin" in page
    assert f'action="/tapaukset/{REQUEST_ID}/lausunto"' in page


def test_a_member_reads_but_writes_no_statement(client, idp, services):
    member(client, idp)
    services.answers["GetRequest"] = case(type=case_pb2.REQUEST_TYPE_GROUP_CONSULTATION, status=case_pb2.REQUEST_STATUS_SCHEDULED,
                                          entries=0)
    page = text(client.get(f"/tapaukset/{REQUEST_ID}"))
    assert [m for m, _ in services.calls] == ["GetRequest"]  # no conversation: nothing more read
    assert "Miten edetä?" in page and "/lausunto" not in page and 'href="/ryhman-kokoukset"' in page


def test_a_case_whose_consent_no_longer_covers_the_reader_says_so(client, idp, services):
    expert(client, idp)
    services.answers["GetRequest"] = case(content_included=False, question="")
    page = text(client.get(f"/tapaukset/{REQUEST_ID}"))
    assert [m for m, _ in services.calls] == ["GetRequest"]  # a read consent would refuse is not tried
    assert "Asiakkaan suostumus ei nyt koske sinua: se on peruttu" in page and "/lausunto" not in page


def test_a_conversation_consent_refuses_is_shown_in_words(client, idp, services):
    expert(client, idp)
    services.answers["GetRequest"] = case()
    services.refusals["ListEntries"] = Refusal(grpc.StatusCode.PERMISSION_DENIED, "Suostumuspalvelu ei anna sinulle tämän "
                                               "pyynnön sisältöä. / The consent service does not let you read it.",
                                               "CONSENT_REFUSED")
    page = text(client.get(f"/tapaukset/{REQUEST_ID}"))
    assert "Suostumuspalvelu ei anna sinulle tämän pyynnön sisältöä." in page and "consent service does not" not in page


def test_an_expert_not_assigned_is_refused_in_words(client, idp, services):
    expert(client, idp)
    services.refusals["GetRequest"] = Refusal(grpc.StatusCode.PERMISSION_DENIED, "Et ole tämän pyynnön nimetty "
                                              "asiantuntija. / You are not an expert assigned to this request.",
                                              "NOT_ASSIGNED")
    answer = client.get(f"/tapaukset/{REQUEST_ID}")
    assert answer.status_code == 403 and "Sinua ei ole nimetty tähän pyyntöön" in text(answer)
    assert "Et ole tämän pyynnön nimetty asiantuntija." in text(answer)


def test_a_member_after_the_answer_went_back_is_refused_in_words(client, idp, services):
    member(client, idp)
    services.refusals["GetRequest"] = Refusal(grpc.StatusCode.PERMISSION_DENIED, "Ryhmän vastaus on jo palautettu. / "
                                              "The answer was returned.", "ANSWER_RETURNED")
    answer = client.get(f"/tapaukset/{REQUEST_ID}")
    assert answer.status_code == 403 and "Ryhmä ei pidä rekisteriä, joten sen jäsenet eivät voi enää lukea" in text(answer)


@pytest.mark.parametrize("role", ["professional", "coordinator"])
def test_a_professional_or_a_coordinator_has_no_case_pages_here(client, idp, services, role):
    sign_in(client, idp, person(role))
    for path in (f"/tapaukset/{REQUEST_ID}", "/toimeksiannot", "/ryhman-kokoukset"):
        assert client.get(path).status_code == 403, path
    assert services.calls == []


def test_a_malformed_id_is_not_sent_on(client, idp, services):
    member(client, idp)
    assert client.get("/tapaukset/x").status_code == 404 and client.get("/ryhman-kokoukset/x").status_code == 404
    assert services.calls == []


# --- the statement --------------------------------------------------------------------------------------
def test_an_expert_writes_a_statement(client, idp, services):
    expert(client, idp)
    services.answers["AddEntry"] = intake_pb2.Entry()
    answer = client.post(f"/tapaukset/{REQUEST_ID}/lausunto", data={
        "csrf_token": csrf(client), "statement": "Lausunto:\r\nmoniammatillinen arvio.", "idempotency_key": "k1"})
    assert answer.status_code == 302 and answer.headers["Location"] == f"/tapaukset/{REQUEST_ID}"
    sent = services.requests["AddEntry"]
    assert (sent.request_id, sent.kind, sent.text, sent.idempotency_key) == (
        REQUEST_ID, intake_pb2.ENTRY_KIND_STATEMENT, "Lausunto:\nmoniammatillinen arvio.", "k1")
    services.answers["GetRequest"] = case()
    services.answers["ListEntries"] = conversation()
    assert "Lausuntosi lisättiin" in text(client.get(answer.headers["Location"]))


def test_a_statement_with_identifying_data_comes_back_at_its_field(client, idp, services):
    expert(client, idp)
    services.answers["GetRequest"] = case()
    services.answers["ListEntries"] = conversation()
    services.refusals["AddEntry"] = Refusal(grpc.StatusCode.INVALID_ARGUMENT, "Korjattavaa. / Fix it.",
                                            violations=(("text", Violation("text", "identity_code", 9, 20).message()),))
    answer = client.post(f"/tapaukset/{REQUEST_ID}/lausunto", data={
        "csrf_token": csrf(client), "statement": "Lausunto.", "idempotency_key": "k1"})
    page = text(answer)
    assert answer.status_code == 400 and 'href="#statement"' in page
    assert 'id="statement-error">Kenttä sisältää henkilötunnuksen (merkit 10–20)' in page


def test_a_statement_after_the_answer_is_refused_in_words(client, idp, services):
    expert(client, idp)
    services.answers["GetRequest"] = case(status=case_pb2.REQUEST_STATUS_RECOMMENDATIONS_RETURNED)
    services.answers["ListEntries"] = conversation()
    services.refusals["AddEntry"] = Refusal(grpc.StatusCode.FAILED_PRECONDITION,
                                            "Pyyntö on tilassa 'vastaus palautettu'. / The request is returned.")
    answer = client.post(f"/tapaukset/{REQUEST_ID}/lausunto", data={
        "csrf_token": csrf(client), "statement": "Lausunto.", "idempotency_key": "k1"})
    assert answer.status_code == 409 and "Pyyntö on tilassa 'vastaus palautettu'." in text(answer)


def test_a_member_cannot_post_a_statement(client, idp, services):
    member(client, idp)
    answer = client.post(f"/tapaukset/{REQUEST_ID}/lausunto", data={"csrf_token": csrf(client), "statement": "x"})
    assert answer.status_code == 403 and services.calls == []


def test_a_statement_without_its_csrf_token_is_refused(client, idp, services):
    expert(client, idp)
    answer = client.post(f"/tapaukset/{REQUEST_ID}/lausunto", data={"statement": "x"})
    assert answer.status_code == 400 and "Lomake vanheni" in text(answer) and services.calls == []
