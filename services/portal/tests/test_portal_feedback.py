"""The worker's feedback form behind the mailed link, against the fake services: opened and answered
without signing in (and without any token on the calls), each of feedback's refusals shown at its
field or as a page that says why the link does not open, CSRF, Post/Redirect/Get."""
from __future__ import annotations

import html
from datetime import datetime, timezone

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from ot.common.v1 import case_pb2
from ot.feedback.v1 import feedback_pb2

from ot_guard import Violation
from portal_testkit import Refusal, person, sign_in

LINK = "3f0e28ba-2fa1-41d2-883f-0016d3cca427.1780045200.7YVNfQxpUpeYidg8veHwl3UP3q9T8zl8i3XY2mjISQ4"
# What the guard says about an identity code in characters 9-19 of the free text: the kind and the
# positions, never the value.
IDENTITY_CODE = Violation("free_text", "identity_code", 8, 19).message()
ANSWER = {"usefulness": "4", "got_needed": "GOT_NEEDED_PARTLY", "what_next": "WHAT_NEXT_NOTHING_YET",
          "free_text": "Hyvä keskustelu,\r\nkiitos."}


def text(answer) -> str:
    return html.unescape(answer.get_data(as_text=True))


def form(case_questions: bool = True) -> feedback_pb2.FeedbackForm:
    answer_by = Timestamp()
    answer_by.FromDatetime(datetime(2026, 5, 29, 21, 0, tzinfo=timezone.utc))  # 30.5. in Finnish time
    return feedback_pb2.FeedbackForm(type=case_pb2.REQUEST_TYPE_GROUP_CONSULTATION, case_questions=case_questions,
                                     answer_by=answer_by, free_text_max_chars=2000)


def opened(services, case_questions: bool = True):
    services.answers["OpenFeedbackForm"] = form(case_questions)
    services.answers["AnswerFeedback"] = feedback_pb2.AnswerFeedbackResponse()


def csrf(client, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    return page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def authorizations(services) -> list:
    return [metadata.get("authorization") for method, metadata in services.calls
            if method in ("OpenFeedbackForm", "AnswerFeedback")]


def test_the_mailed_link_opens_the_form_without_signing_in_finnish_first(client, services):
    opened(services)
    resp = client.get(f"/palaute/{LINK}")
    page = text(resp)
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    assert "Palaute OT-keskukselle" in page and "Kuinka hyödyllinen konsultaatio oli?" in page
    assert "konsultaatioryhmä" in page and "Vastaa viimeistään 30.5.2026" in page
    assert 'name="free_text"' in page and 'maxlength="2000"' in page and 'name="what_next"' in page
    assert services.requests["OpenFeedbackForm"].link_token == LINK
    assert authorizations(services) == [None]  # no token: the link is the permission
    english = text(client.get(f"/kieli/en?next=/palaute/{LINK}", follow_redirects=True))
    assert "Feedback to the OT centre" in english and "Please answer by 2026-05-30" in english


def test_an_answer_is_sent_as_given_and_the_thanks_page_follows(client, services):
    opened(services)
    resp = client.post(f"/palaute/{LINK}", data={**ANSWER, "csrf_token": csrf(client, f"/palaute/{LINK}")})
    assert resp.status_code == 303 and resp.headers["Location"] == "/palaute/kiitos"
    sent = services.requests["AnswerFeedback"]
    assert (sent.link_token, sent.usefulness, sent.got_needed, sent.what_next, sent.free_text) == (
        LINK, 4, feedback_pb2.GOT_NEEDED_PARTLY, feedback_pb2.WHAT_NEXT_NOTHING_YET, "Hyvä keskustelu,\nkiitos.")
    assert authorizations(services) == [None, None, None]
    thanks = client.get("/palaute/kiitos")
    assert thanks.status_code == 200 and "Kiitos palautteestasi" in text(thanks)


def test_an_identity_code_is_shown_at_the_free_text_with_the_summary_linking_there(client, services):
    opened(services)
    services.refusals["AnswerFeedback"] = Refusal(
        grpc.StatusCode.INVALID_ARGUMENT, "Pyynnössä on korjattavaa. / The request needs fixing.",
        violations=(("free_text", IDENTITY_CODE),))
    resp = client.post(f"/palaute/{LINK}", data={**ANSWER, "free_text": "Asiakas x",
                                                 "csrf_token": csrf(client, f"/palaute/{LINK}")})
    page = text(resp)
    assert resp.status_code == 400
    assert 'href="#free_text"' in page and 'id="free_text-error"' in page and 'aria-invalid="true"' in page
    fi_message = IDENTITY_CODE.partition(" / ")[0]
    assert fi_message in page and IDENTITY_CODE.partition(" / ")[2] not in page
    # What was written and chosen is kept for correcting (escaped by the template).
    assert ">Asiakas x</textarea>" in page and 'value="GOT_NEEDED_PARTLY" checked' in page


def test_missing_choices_are_the_services_and_shown_at_their_fields(client, services):
    opened(services)
    services.refusals["AnswerFeedback"] = Refusal(
        grpc.StatusCode.INVALID_ARGUMENT, "Pyynnössä on korjattavaa. / The request needs fixing.",
        violations=(("usefulness", "Valitse hyödyllisyys asteikolla 1–5. / Choose the usefulness on a scale 1–5."),
                    ("got_needed", "Kerro, saitko tarvitsemasi. / Say whether you got what you needed.")))
    resp = client.post(f"/palaute/{LINK}", data={"usefulness": "nine", "got_needed": "GOT_NEEDED_MAYBE",
                                                 "csrf_token": csrf(client, f"/palaute/{LINK}")})
    page = text(resp)
    assert resp.status_code == 400
    assert 'href="#usefulness"' in page and 'href="#got_needed"' in page and "Valitse hyödyllisyys" in page
    sent = services.requests["AnswerFeedback"]
    assert (sent.usefulness, sent.got_needed) == (0, feedback_pb2.GOT_NEEDED_UNSPECIFIED)  # not one of the options


def test_once_the_case_is_deleted_only_the_counted_questions_are_asked_and_sent(client, services):
    opened(services, case_questions=False)
    page = text(client.get(f"/palaute/{LINK}"))
    assert 'name="free_text"' not in page and 'name="what_next"' not in page and "on jo poistettu" in page
    client.post(f"/palaute/{LINK}", data={**ANSWER, "csrf_token": csrf(client, f"/palaute/{LINK}")})
    sent = services.requests["AnswerFeedback"]
    assert (sent.usefulness, sent.what_next, sent.free_text) == (4, 0, "")


def test_a_link_that_does_not_open_says_why_and_nothing_more(client, services):
    cases = [
        (Refusal(grpc.StatusCode.NOT_FOUND, "Linkki ei kelpaa. / The link is not valid."), 404, "Linkki ei kelpaa"),
        (Refusal(grpc.StatusCode.INVALID_ARGUMENT, "Pyynnössä on korjattavaa. / The request needs fixing.",
                 violations=(("link_token", "Muoto ei kelpaa. / Not in the expected form."),)), 404,
         "Linkki ei kelpaa"),
        (Refusal(grpc.StatusCode.FAILED_PRECONDITION, "vanhentunut / expired", reason="LINK_EXPIRED"), 410,
         "Linkki on vanhentunut"),
        (Refusal(grpc.StatusCode.FAILED_PRECONDITION, "käytetty / used", reason="LINK_USED"), 410,
         "Linkkiä on jo käytetty"),
        (Refusal(grpc.StatusCode.FAILED_PRECONDITION, "peruttu / cancelled", reason="FOLLOW_UP_CANCELLED"), 410,
         "Palautekysely on peruttu"),
    ]
    for refusal, status, title in cases:
        services.refusals["OpenFeedbackForm"] = refusal
        resp = client.get(f"/palaute/{LINK}")
        assert (resp.status_code, f"<h1>{title}</h1>" in text(resp)) == (status, True), title
        assert 'name="usefulness"' not in text(resp)


def test_a_link_used_in_another_tab_meanwhile_is_the_used_page(client, services):
    opened(services)
    token = csrf(client, f"/palaute/{LINK}")
    services.refusals["AnswerFeedback"] = Refusal(grpc.StatusCode.FAILED_PRECONDITION, "käytetty / used",
                                                  reason="LINK_USED")
    resp = client.post(f"/palaute/{LINK}", data={**ANSWER, "csrf_token": token})
    assert resp.status_code == 410 and "Linkkiä on jo käytetty" in text(resp)


def test_feedback_not_answering_is_the_portals_error_page_not_a_crash(client, services):
    opened(services)
    services.refusals["OpenFeedbackForm"] = Refusal(grpc.StatusCode.UNAVAILABLE, "down / down")
    resp = client.get(f"/palaute/{LINK}")
    assert resp.status_code == 503 and "ei vastaa" in text(resp)


def test_a_post_without_the_forms_csrf_token_is_refused_and_sends_nothing(client, services):
    opened(services)
    client.get(f"/palaute/{LINK}")
    resp = client.post(f"/palaute/{LINK}", data=ANSWER)
    assert resp.status_code == 400 and "AnswerFeedback" not in services.requests
    # The person answering is not signed in: the page does not talk about a sign-in.
    assert "lataa sivu uudelleen" in text(resp) and "kirjaut" not in text(resp).lower()


def test_a_signed_in_person_gets_the_same_form_and_no_token_goes_with_it(client, services, idp):
    # Whoever opens the link (a coordinator on a shared computer, say), the link decides; the
    # person's own token is not sent along, so feedback cannot tie the answer to them.
    sign_in(client, idp, person("coordinator"))
    opened(services)
    assert "Kuinka hyödyllinen" in text(client.get(f"/palaute/{LINK}"))
    client.post(f"/palaute/{LINK}", data={**ANSWER, "csrf_token": csrf(client, f"/palaute/{LINK}")})
    assert authorizations(services) == [None, None, None, None]
