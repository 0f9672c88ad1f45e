"""The data-protection officer's pages and the audit trail (which the coordinator reads too): what
each shows and sends as the signed-in person, the erasure's two steps, the JSON and JSON-lines
exports, and the refusals, wrong roles, missing form tokens and validation errors."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from ot.common.v1 import case_pb2
from ot.consent.v1 import consent_pb2
from ot.intake.v1 import intake_pb2

from portal_testkit import Refusal, person, sign_in

REQUEST_ID = "1b4e28ba-2fa1-41d2-883f-0016d3cca427"
SUBJECT = "professional-pohjois-savo"


def text(answer) -> str:
    return answer.get_data(as_text=True)


def ts(iso: str) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(datetime.fromisoformat(iso))
    return out


def csrf_token(client) -> str:
    page = text(client.get("/"))
    return page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def officer(client, idp) -> str:
    sign_in(client, idp, person("admin", sub="dpo-pohjois-savo"))
    return csrf_token(client)


def called(services) -> list[str]:
    return [method for method, _metadata in services.calls]


def export(subject: str = SUBJECT) -> intake_pb2.ProfessionalDataExport:
    data = {"subject": subject, "area": "pohjois-savo",
            "requests": [{"request_id": REQUEST_ID, "type": "ot_tuki", "status": "submitted",
                          "professional": {"name": "Demo Ammattilainen", "email": "demo@example.fi"}}],
            "conversation_entries": [{"entry_id": "e1", "request_id": REQUEST_ID, "kind": "reply"}]}
    return intake_pb2.ProfessionalDataExport(subject=subject, requests=1, json=json.dumps(data, ensure_ascii=False))


def entry(sequence: int, action: str = "content.read", actor: str = "coordinator-pohjois-savo",
          detail: str = "purpose=view; as=coordinator") -> consent_pb2.AuditEntry:
    return consent_pb2.AuditEntry(sequence=sequence, at=ts("2026-11-03T09:30:00+00:00"), actor=actor,
                                  roles="coordinator", tenant="pohjois-savo", action=action, request_id=REQUEST_ID,
                                  detail=detail, hash=f"{sequence:064x}")


class Pages(dict):
    """services.answers whose QueryAudit answers one page after another (the fake answers one
    message per method otherwise)."""

    def __init__(self, pages: list):
        super().__init__(QueryAudit=None)
        self.pages = pages

    def __getitem__(self, method):
        return self.pages.pop(0) if method == "QueryAudit" else super().__getitem__(method)


# --- a professional's data -------------------------------------------------------------------------
def test_the_officer_sees_a_professionals_data_and_downloads_it(client, idp, services):
    officer(client, idp)
    services.answers["ExportProfessionalData"] = export()
    page = text(client.get(f"/tietosuoja/vienti?subject={SUBJECT}"))
    assert services.last_export_subject == SUBJECT
    assert services.calls[-1][1]["authorization"].startswith("Bearer ey")
    assert "Demo Ammattilainen" in page and 'data-testid="export-requests">1<' in page
    assert f'href="/tarkastusloki?actor={SUBJECT}"' in page
    download = client.get(f"/tietosuoja/vienti.json?subject={SUBJECT}")
    assert download.mimetype == "application/json" and "attachment" in download.headers["Content-Disposition"]
    assert json.loads(download.data)["subject"] == SUBJECT


def test_an_export_without_a_user_id_is_not_asked(client, idp, services):
    officer(client, idp)
    answer = client.get("/tietosuoja/vienti?subject=+")
    assert answer.status_code == 400 and 'href="#subject"' in text(answer)
    assert "Anna ammattilaisen käyttäjätunnus." in text(answer) and services.calls == []
    assert client.get("/tietosuoja/vienti.json").status_code == 400


def test_a_user_id_the_service_refuses_is_shown_at_the_field(client, idp, services):
    officer(client, idp)
    services.refusals["ExportProfessionalData"] = Refusal(
        grpc.StatusCode.INVALID_ARGUMENT, "Korjattavaa. / Fix.",
        violations=(("subject", "Käyttäjätunnus on kirjaimia, numeroita ja -._@. / Letters, digits and -._@."),))
    answer = client.get("/tietosuoja/vienti?subject=a%20b")
    assert answer.status_code == 400 and 'id="subject-error"' in text(answer)
    assert "Käyttäjätunnus on kirjaimia" in text(answer)


def test_erasure_asks_for_confirmation_first(client, idp, services):
    token = officer(client, idp)
    services.answers["ExportProfessionalData"] = export()
    page = text(client.post("/tietosuoja/poisto", data={"csrf_token": token, "subject": SUBJECT}))
    assert called(services) == ["ExportProfessionalData"]  # nothing erased yet
    assert "Tätä ei voi perua" in page and 'name="confirmed" value="yes"' in page and SUBJECT in page
    services.answers["EraseProfessionalData"] = intake_pb2.ErasureReport(subject=SUBJECT, requests_erased=1)
    answer = client.post("/tietosuoja/poisto", data={"csrf_token": token, "subject": SUBJECT, "confirmed": "yes"})
    assert answer.status_code == 302 and answer.headers["Location"] == "/tietosuoja"
    assert services.requests["EraseProfessionalData"].subject == SUBJECT
    assert "poistettiin 1 pyynnöstä" in text(client.get("/tietosuoja"))


def test_erasure_without_the_forms_token_or_a_user_id_erases_nothing(client, idp, services):
    token = officer(client, idp)
    answer = client.post("/tietosuoja/poisto", data={"subject": SUBJECT, "confirmed": "yes"})
    assert answer.status_code == 400 and "Lomake vanheni" in text(answer)
    answer = client.post("/tietosuoja/poisto", data={"csrf_token": token, "subject": "", "confirmed": "yes"})
    assert answer.status_code == 400 and 'href="#erase_subject"' in text(answer)
    assert services.calls == []


def test_the_officers_pages_are_the_officers(client, idp, services):
    sign_in(client, idp, person("coordinator"))
    for path in ("/tietosuoja", f"/tietosuoja/vienti?subject={SUBJECT}", f"/tietosuoja/vienti.json?subject={SUBJECT}"):
        assert client.get(path).status_code == 403, path
    token = csrf_token(client)
    assert client.post("/tietosuoja/poisto", data={"csrf_token": token, "subject": SUBJECT,
                                                   "confirmed": "yes"}).status_code == 403
    assert services.calls == []


# --- the audit trail ---------------------------------------------------------------------------------
def test_the_audit_trail_with_its_filters(client, idp, services):
    officer(client, idp)
    services.answers["QueryAudit"] = consent_pb2.QueryAuditResponse(entries=[entry(7), entry(8, "sharing.check")],
                                                                   next_after_sequence=8)
    page = text(client.get(f"/tarkastusloki?request_id={REQUEST_ID}&action=content.read&actor={SUBJECT}"
                           "&from=2026-11-01&to=2026-11-30&after=6"))
    sent = services.requests["QueryAudit"]
    assert (sent.request_id, sent.action, sent.actor, sent.after_sequence, sent.page_size) == (
        REQUEST_ID, "content.read", SUBJECT, 6, 100)
    assert sent.from_time.ToDatetime(timezone.utc) == datetime(2026, 10, 31, 22, 0, tzinfo=timezone.utc)
    assert sent.to_time.ToDatetime(timezone.utc) == datetime(2026, 11, 30, 22, 0, tzinfo=timezone.utc)
    assert "tapauksen sisältö luettu" in page and "jakaminen tarkistettu" in page and "purpose=view" in page
    assert "koordinaattori" in page and "3.11.2026 11:30" in page
    next_link = page.split('data-testid="next-page"', 1)[0].rsplit('href="', 1)[1]
    assert "after=8" in next_link and "actor=" in next_link and "action=content.read" in next_link
    assert "Ensimmäinen sivu" in page


def test_a_filter_that_is_no_request_id_is_not_asked(client, idp, services):
    officer(client, idp)
    answer = client.get("/tarkastusloki?request_id=Maija&from=eilen")
    assert answer.status_code == 400
    assert 'href="#request_id"' in text(answer) and 'href="#from"' in text(answer) and services.calls == []


def test_the_audit_trail_as_json_lines_page_after_page(client, idp, services):
    officer(client, idp)
    services.answers = Pages([consent_pb2.QueryAuditResponse(entries=[entry(1), entry(2)], next_after_sequence=2),
                              consent_pb2.QueryAuditResponse(entries=[entry(3, "key.shredded", "system")])])
    answer = client.get(f"/tarkastusloki.jsonl?actor={SUBJECT}&after=99")
    lines = [json.loads(line) for line in text(answer).splitlines()]
    assert answer.mimetype == "application/x-ndjson" and "attachment" in answer.headers["Content-Disposition"]
    assert [line["sequence"] for line in lines] == [1, 2, 3]
    assert lines[2] == {"sequence": 3, "at": "2026-11-03T09:30:00+00:00", "actor": "system", "roles": "coordinator",
                        "tenant": "pohjois-savo", "action": "key.shredded", "request_id": REQUEST_ID,
                        "detail": "purpose=view; as=coordinator", "hash": f"{3:064x}"}
    sent = services.requests["QueryAudit"]
    assert (sent.actor, sent.after_sequence, sent.page_size) == (SUBJECT, 2, 1000)  # the whole query, from the start


def test_verifying_the_chain(client, idp, services):
    sign_in(client, idp, person("coordinator"))
    services.answers["VerifyAudit"] = consent_pb2.VerifyAuditResponse(intact=True, entries_checked=42)
    page = text(client.get("/tarkastusloki/eheys"))
    assert "Ketju on eheä" in page and "42 merkintää tarkistettu" in page
    services.answers["VerifyAudit"] = consent_pb2.VerifyAuditResponse(intact=False, entries_checked=42,
                                                                      first_bad_sequence=17, problem="mac mismatch")
    page = text(client.get("/tarkastusloki/eheys"))
    assert "Ketju on katkennut" in page and "Merkintä 17 ei sovi ketjuun" in page


def test_the_audit_trail_is_not_for_the_others(client, idp, services):
    sign_in(client, idp, person("secretary", ot_groups=["haastavat-erot-pohjois-savo"]))
    for path in ("/tarkastusloki", "/tarkastusloki.jsonl", "/tarkastusloki/eheys", "/poistoraportti"):
        assert client.get(path).status_code == 403, path
    assert services.calls == []


def test_a_refusal_by_consent_is_shown_as_such(client, idp, services):
    officer(client, idp)
    services.refusals["QueryAudit"] = Refusal(grpc.StatusCode.PERMISSION_DENIED, "Roolisi ei riitä. / No.",
                                              "ROLE_NOT_ALLOWED")
    answer = client.get("/tarkastusloki")
    assert answer.status_code == 403 and "Roolisi ei riitä." in text(answer)


# --- purge reports --------------------------------------------------------------------------------
def test_the_purge_report_is_read_from_the_audit_trail(client, idp, services):
    officer(client, idp)
    services.answers["QueryAudit"] = consent_pb2.QueryAuditResponse(entries=[
        entry(12, "key.shredded", "system", "retention: consultation finished + 14 days")])
    services.answers["ListRetentionPolicies"] = consent_pb2.ListRetentionPoliciesResponse(policies=[
        consent_pb2.RetentionPolicy(type=case_pb2.REQUEST_TYPE_GROUP_CONSULTATION, grace_days_after_recommendations=14,
                                    max_days_after_submission=180)])
    page = text(client.get("/poistoraportti?from=2026-11-01&action=content.read&actor=x"))
    sent = services.requests["QueryAudit"]
    assert (sent.action, sent.actor, sent.request_id) == ("key.shredded", "", "")  # only the purge's entries
    assert "retention: consultation finished + 14 days" in page and "ajastettu poisto" in page
    assert "14 päivää vastauksen jälkeen, viimeistään 180 päivää lähettämisestä" in page
    assert 'href="/tarkastusloki?action=case.abandoned"' in page


def test_the_officers_navigation(client, idp):
    officer(client, idp)
    nav = text(client.get("/")).split('aria-label="Päävalikko"', 1)[1].split("</nav>", 1)[0]
    for label in ("Tietosuoja", "Tarkastusloki", "Tapausten säilytysajat"):
        assert label in nav, label
    assert "Työjono" not in nav and "Tilastot" not in nav
