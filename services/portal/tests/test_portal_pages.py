"""The pages: what each shows, the calls they make as the signed-in person, and the failures."""
from __future__ import annotations

from datetime import datetime

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from ot.common.v1 import case_pb2
from ot.intake.v1 import intake_pb2

from portal_testkit import Refusal, person, sign_in, statistics

REQUEST_ID = "1b4e28ba-2fa1-41d2-883f-0016d3cca427"


def text(answer) -> str:
    return answer.get_data(as_text=True)



def ts(iso: str) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(datetime.fromisoformat(iso))
    return out


def test_the_front_page_says_what_the_centre_offers_and_when_to_ask(client):
    page = text(client.get("/"))
    assert "Millaista tukea?" in page and "Missä tilanteessa?" in page
    assert "käsittele asiakastilanne ennen yhteydenottoa oman tiimisi kanssa".lower() in page.lower()
    assert "Haastavat erot" in page and "ot-tiimi@pohjois-savo.example.fi" in page


def test_the_accessibility_statement_has_what_the_law_asks(client):
    page = text(client.get("/saavutettavuusseloste"))
    for required in ("osittain WCAG 2.1", "Ei-saavutettava sisältö", "Palaute saavutettavuudesta",
                     "14 päivän", "Liikenne- ja viestintävirasto Traficom", "saavutettavuus@traficom.fi",
                     "www.saavutettavuusvaatimukset.fi", "029 534 5000"):
        assert required in page, required


def test_every_page_has_landmarks_a_skip_link_and_the_language_switch(client):
    for path in ("/", "/saavutettavuusseloste", "/uloskirjautunut", "/ei-ole"):
        page = text(client.get(path))
        assert '<html lang="fi">' in page
        assert '<a class="skip-link" href="#main">' in page and '<main id="main"' in page
        assert "<header" in page and "<footer" in page and 'aria-label="Päävalikko"' in page
        assert 'hreflang="en"' in page


def test_security_headers(client):
    headers = client.get("/").headers
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in headers  # plain loopback: HSTS only behind TLS


def test_the_design_systems_stylesheet_is_served(client):
    page = text(client.get("/"))
    href = page.split('<link rel="stylesheet" href="', 1)[1].split('"', 1)[0]
    css = client.get(href)
    assert css.status_code == 200 and b".hds-button" in css.data and b"hds-core 5.2.2" in css.data


def test_a_professional_sees_their_own_requests(client, idp, services):
    sign_in(client, idp, person("professional"))
    services.answers["ListRequests"] = intake_pb2.ListRequestsResponse(total_count=2, requests=[
        intake_pb2.Request(request_id="2b4e28ba-2fa1-41d2-883f-0016d3cca427",
                           type=case_pb2.REQUEST_TYPE_GROUP_CONSULTATION, status=case_pb2.REQUEST_STATUS_SCHEDULED,
                           submitted_at=ts("2026-11-20T08:00:00+00:00"), updated_at=ts("2026-11-20T08:00:00+00:00")),
        intake_pb2.Request(request_id=REQUEST_ID, type=case_pb2.REQUEST_TYPE_OT_TUKI,
                           status=case_pb2.REQUEST_STATUS_AWAITING_INFORMATION,
                           submitted_at=ts("2026-11-02T08:00:00+00:00"), updated_at=ts("2026-11-03T09:30:00+00:00"))])
    page = text(client.get("/omat-pyynnot"))
    method, metadata = services.calls[-1]
    # intake's list, as themselves: intake gives a professional only their own requests
    assert method == "ListRequests" and metadata["authorization"].startswith("Bearer ey")
    assert "odottaa ammattilaisen lisätietoja" in page and "varattu ryhmän kokoukseen" in page
    assert page.index("20.11.2026") < page.index("2.11.2026")  # as intake orders them: newest first, Finnish time
    assert f'href="/omat-pyynnot/{REQUEST_ID}"' in page


def test_a_professional_without_requests_is_told_so(client, idp, services):
    sign_in(client, idp, person("professional"))
    services.answers["ListRequests"] = intake_pb2.ListRequestsResponse()
    assert "Et ole vielä lähettänyt pyyntöjä" in text(client.get("/omat-pyynnot"))


def test_a_request_page_reads_the_request_as_the_person(client, idp, services, spans):
    sign_in(client, idp, person("professional"))
    services.answers["GetRequest"] = intake_pb2.Request(
        request_id=REQUEST_ID, type=case_pb2.REQUEST_TYPE_OT_TUKI, status=case_pb2.REQUEST_STATUS_TRIAGED,
        categories=[case_pb2.CASE_CATEGORY_CHILD_PROTECTION_SPECIAL], question="Miten edetä koulupoissaolojen kanssa?",
        content_included=True, waiting_working_days=3, past_target=False, discussed_in_own_team=True,
        client=intake_pb2.ClientFacts(age_years=14, family_situation="kaksi kotia"))
    page = text(client.get(f"/omat-pyynnot/{REQUEST_ID}"))
    assert "Miten edetä koulupoissaolojen kanssa?" in page and "3 työpäivää" in page and "käsittelyssä" in page
    assert "lastensuojelun ja lapsiperhepalvelujen erityiskysymykset" in page
    method, metadata = services.calls[-1]
    assert method == "GetRequest" and metadata["authorization"].startswith("Bearer ey")
    page_span = next(s for s in reversed(spans.get_finished_spans()) if s.name == "GET /omat-pyynnot/<request_id>")
    assert metadata["traceparent"].split("-")[1] == format(page_span.context.trace_id, "032x")  # one trace


def test_the_services_refusal_is_shown_in_words(client, idp, services):
    sign_in(client, idp, person("professional"))
    services.refusals["GetRequest"] = Refusal(grpc.StatusCode.PERMISSION_DENIED,
                                              "Pyyntö ei ole sinun. / The request is not yours.", "NOT_OWNER")
    answer = client.get(f"/omat-pyynnot/{REQUEST_ID}")
    assert answer.status_code == 403
    assert "Pyyntö ei ole sinun." in text(answer) and "The request is not yours" not in text(answer)


def test_a_service_that_is_down_is_shown_as_such(make_portal, idp):
    portal = make_portal(OT_INTAKE_GRPC_TARGET="127.0.0.1:1")  # nothing listens there
    client = portal.http_server.app.test_client()
    sign_in(client, idp, person("professional"))
    answer = client.get("/omat-pyynnot")
    assert answer.status_code == 503
    assert "Portaali ei saanut yhteyttä: yhteydenottopalvelu" in text(answer) and "Mitään ei muutettu" in text(answer)


def test_pages_of_another_role_are_refused(client, idp):
    sign_in(client, idp, person("expert", sub="expert-barnahus"))
    for path in ("/omat-pyynnot", "/tilastot", "/tilastot.csv"):
        answer = client.get(path)
        assert answer.status_code == 403 and "Tämä sivu on toiselle roolille" in text(answer), path


def test_signed_out_pages_ask_to_sign_in(client):
    answer = client.get("/tilastot?period=2026-Q1")
    assert answer.status_code == 302 and answer.headers["Location"] == "/kirjaudu?next=/tilastot?period%3D2026-Q1"


def test_a_malformed_request_id_is_not_sent_on(client, idp, services):
    sign_in(client, idp, person("professional"))
    assert client.get("/omat-pyynnot/not-an-id").status_code == 404
    assert services.calls == []


def test_the_coordinator_sees_the_suppressed_statistics(client, idp, services):
    sign_in(client, idp, person("coordinator"))
    services.answers["GetStatistics"] = statistics("2026-Q2")
    page = text(client.get("/tilastot?period=2026-Q2&type=REQUEST_TYPE_OT_TUKI"))
    sent = services.last_statistics_request
    assert sent.period == "2026-Q2" and sent.type == case_pb2.REQUEST_TYPE_OT_TUKI
    assert "Yhteydenotot sektoreittain" in page and "sosiaalihuolto" in page and "Alle 5 näytetään" in page
    assert "&lt;5" in page and ">x<" in page and "<svg" in page  # suppressed cells as the service gave them
    assert services.calls[-1][1]["authorization"].startswith("Bearer ")


def test_a_period_the_service_refuses_is_shown_at_the_field(client, idp, services):
    sign_in(client, idp, person("secretary", ot_groups=["haastavat-erot-pohjois-savo"]))
    services.refusals["GetStatistics"] = Refusal(grpc.StatusCode.INVALID_ARGUMENT,
                                                 "Jakso on muotoa 2026, 2026-Q2 tai 2026-05. / The period is 2026, "
                                                 "2026-Q2 or 2026-05.")
    answer = client.get("/tilastot?period=kesä")
    assert answer.status_code == 400
    page = text(answer)
    assert 'aria-invalid="true"' in page and 'id="period-error"' in page and "Jakso on muotoa" in page


def test_statistics_as_csv(client, idp, services):
    sign_in(client, idp, person("coordinator"))
    services.answers["GetStatistics"] = statistics("2026")
    answer = client.get("/tilastot.csv?period=2026")
    assert answer.mimetype == "text/csv"
    assert "2026,contacts_by_sector,health,ot_tuki,<5" in text(answer).splitlines()


def test_english_by_the_switch(client):
    answer = client.get("/kieli/en?next=/saavutettavuusseloste")
    assert answer.status_code == 302 and answer.headers["Location"] == "/saavutettavuusseloste"
    page = text(client.get("/saavutettavuusseloste"))
    assert '<html lang="en">' in page and "Accessibility statement" in page and "Saavutettavuusseloste" not in page
    client.get("/kieli/sv")  # not offered: the choice stays
    assert '<html lang="en">' in text(client.get("/"))


def test_health_and_readiness(client):
    assert client.get("/healthz").json == {"status": "ok", "service": "portal"}
    assert client.get("/readyz").json == {"status": "ready"}


def test_probes_and_metrics_answer_over_plain_http_when_the_portal_is_served_over_tls(make_portal):
    """TLS ends at the ingress: the kubelet probes the pod over plain HTTP and must not be
    redirected to https, while people's pages are."""
    client = make_portal(OT_PORTAL_PUBLIC_URL="https://ot-portaali.example.fi").http_server.app.test_client()
    for path in ("/healthz", "/readyz", "/metrics"):
        assert client.get(path).status_code in (200, 503), path
    page = client.get("/")
    assert page.status_code in (301, 302) and page.headers["Location"].startswith("https://")
