"""The data-protection officer's pages in the browser, on the real services and the real Keycloak,
axe-core on every page: a professional's data shown and downloaded as JSON, their entries in the
audit trail (also as JSON lines), the chain's check, the purge report and the retention policies,
and the professional's erasure after its confirmation step."""
from __future__ import annotations

import json
import re
from pathlib import Path

from ot.intake.v1 import intake_pb2, intake_pb2_grpc

from browser_testkit import TENANT, assert_accessible, sign_in, submit_request

QUESTION = "Miten edetä, kun nuori karkailee sijaishuoltopaikasta toistuvasti?"
PROFESSIONAL = f"professional-{TENANT}"


def downloaded(page, click) -> str:
    """The text of the file a click downloads."""
    with page.expect_download() as download:
        click()
    return Path(download.value.path()).read_text(encoding="utf-8")


def test_the_officer_exports_a_professionals_data_checks_the_audit_trail_and_erases_the_data(
        page, start_intake, start_portal, keycloak):
    intake = start_intake()
    request_id = submit_request(intake, keycloak, QUESTION)
    portal = start_portal(intake=intake)
    sign_in(page, portal, "admin")

    # The professional's data, shown and downloaded.
    page.get_by_role("link", name="Tietosuoja").first.click()
    assert_accessible(page)
    page.get_by_test_id("export-form").get_by_label(re.compile(r"^Käyttäjätunnus")).fill(PROFESSIONAL)
    page.get_by_role("button", name="Näytä tiedot").click()
    assert page.get_by_test_id("export-subject").inner_text() == PROFESSIONAL
    assert page.get_by_test_id("export-requests").inner_text() == "1"
    assert request_id in page.get_by_test_id("export-json").inner_text()
    assert QUESTION not in page.content()  # the case content is the client's, not the professional's data
    assert_accessible(page)
    data = json.loads(downloaded(page, page.get_by_test_id("export-download").click))
    assert data["subject"] == PROFESSIONAL and [r["request_id"] for r in data["requests"]] == [request_id]

    # Their entries in the audit trail, on the page and as JSON lines.
    page.get_by_role("link", name="hänen merkintänsä tarkastuslokissa").click()
    rows = page.get_by_test_id("audit-entry")
    assert rows.count() >= 1 and rows.first.get_attribute("data-action") == "case.opened"
    assert PROFESSIONAL in rows.first.inner_text() and request_id[:8] in rows.first.inner_text()
    assert_accessible(page)
    lines = [json.loads(line) for line in downloaded(page, page.get_by_test_id("audit-export").click).splitlines()]
    assert lines and {line["actor"] for line in lines} == {PROFESSIONAL}
    assert lines[0]["action"] == "case.opened" and lines[0]["request_id"] == request_id and len(lines[0]["hash"]) == 64

    # The chain is checked.
    page.get_by_test_id("verify-link").click()
    assert page.get_by_role("heading", name="Ketju on eheä").is_visible()
    assert "tarkistettu" in page.get_by_test_id("verify-result").inner_text()
    assert_accessible(page)

    # What the purge has shredded (nothing yet), with the policies in force; the policies themselves.
    page.get_by_role("link", name="Tietosuoja").first.click()
    page.get_by_role("link", name="Mitä säilytysajan poisto on hävittänyt").click()
    page.get_by_role("button", name="Näytä").click()
    assert page.get_by_test_id("purges-empty").is_visible()
    assert page.get_by_test_id("policies").locator("li").count() == 3
    assert_accessible(page)
    page.get_by_role("link", name="Tapausten säilytysajat").first.click()
    assert page.get_by_test_id("policy").count() == 3
    assert page.get_by_role("link", name=re.compile("^Muuta")).count() == 0  # changing them is the coordinator's
    assert_accessible(page)

    # The erasure: first what would be erased, then done.
    page.get_by_role("link", name="Tietosuoja").first.click()
    page.get_by_test_id("erase-form").get_by_label(re.compile(r"^Käyttäjätunnus")).fill(PROFESSIONAL)
    page.get_by_role("button", name="Jatka poistoon").click()
    assert page.get_by_test_id("erase-requests").inner_text() == "1"
    assert_accessible(page)
    page.get_by_test_id("confirm-erase").click()
    assert "poistettiin 1 pyynnöstä" in page.get_by_test_id("done").inner_text()
    assert_accessible(page)
    kept = intake_pb2_grpc.IntakeServiceStub(intake.channel).GetRequest(
        intake_pb2.GetRequestRequest(request_id=request_id),
        metadata=(("authorization", f"Bearer {keycloak.token('coordinator')}"),))
    assert kept.professional.name == "" and kept.professional.email == "" and kept.question == QUESTION
    page.get_by_test_id("export-form").get_by_label(re.compile(r"^Käyttäjätunnus")).fill(PROFESSIONAL)
    page.get_by_role("button", name="Näytä tiedot").click()
    assert page.get_by_test_id("export-requests").inner_text() == "0"


def test_the_officer_reads_no_case_and_no_team_page(page, start_intake, start_portal, keycloak):
    intake = start_intake()
    request_id = submit_request(intake, keycloak, QUESTION)
    portal = start_portal(intake=intake)
    sign_in(page, portal, "admin")
    for path in ("/pyynnot", f"/pyynnot/{request_id}?avaa=1", "/kokoukset", "/tilastot"):
        page.goto(portal.url + path)
        assert page.get_by_role("heading", level=1).inner_text() == "Ei käytettävissäsi", path
    assert QUESTION not in page.content()
    assert_accessible(page)
