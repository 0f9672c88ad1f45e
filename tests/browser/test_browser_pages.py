"""The portal's pages in the browser, on the real services, as the signed-in demo users; axe-core on
every page."""
from __future__ import annotations

import re

from browser_testkit import assert_accessible, sign_in, submit_request

QUESTION = "Miten edetä, kun nuori karkailee sijaishuoltopaikasta toistuvasti?"


def test_public_pages_in_both_languages(page, start_portal):
    portal = start_portal()
    for path, heading_fi, heading_en in [
            ("/", "Lasten, nuorten ja perheiden osaamis- ja tukikeskus (OT)",
             "OT centre for children, young people and families"),
            ("/saavutettavuusseloste", "Saavutettavuusseloste", "Accessibility statement"),
            ("/ei-tallaista", "Sivua ei löydy", "Page not found")]:
        page.goto(portal.url + path)
        assert page.get_by_role("heading", level=1).inner_text() == heading_fi
        assert_accessible(page)
        page.get_by_role("link", name="In English").click()
        assert page.get_by_role("heading", level=1).inner_text() == heading_en
        assert page.locator("html").get_attribute("lang") == "en"
        assert_accessible(page)
        page.get_by_role("link", name="Suomeksi").click()


def test_the_skip_link_moves_to_the_content(page, start_portal):
    portal = start_portal()
    page.goto(portal.url + "/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Siirry sisältöön")
    assert skip.evaluate("e => e === document.activeElement")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_a_professional_sees_their_request_and_opens_it(page, start_intake, start_portal, keycloak):
    intake = start_intake()
    request_id = submit_request(intake, keycloak, QUESTION)
    portal = start_portal(intake=intake)
    sign_in(page, portal, "professional")
    page.get_by_role("link", name="Omat pyynnöt").first.click()
    rows = page.get_by_test_id("my-requests").locator("tbody tr")
    assert rows.count() == 1
    assert "OT-TUKI-konsultaatio" in rows.first.inner_text() and "lähetetty" in rows.first.inner_text()
    assert_accessible(page)
    rows.first.get_by_role("link").click()
    assert page.url == f"{portal.url}/omat-pyynnot/{request_id}"
    assert page.get_by_test_id("request-question").inner_text() == QUESTION
    assert re.search(r"\d+ työpäivä", page.get_by_test_id("request-facts").inner_text())
    assert_accessible(page)


def test_another_professionals_request_is_refused_by_the_service(page, start_intake, start_portal, keycloak):
    """The page asks intake as the signed-in person, so intake's own rule decides: the coordinator may
    open it through the OT team's pages later, but not as a professional's own request."""
    intake = start_intake()
    request_id = submit_request(intake, keycloak, QUESTION)
    portal = start_portal(intake=intake)
    sign_in(page, portal, "coordinator")
    page.goto(f"{portal.url}/omat-pyynnot/{request_id}")
    assert page.get_by_role("heading", level=1).inner_text() == "Ei käytettävissäsi"
    assert_accessible(page)


def test_a_service_that_is_down_is_shown_as_such(page, start_portal):
    portal = start_portal()  # no intake: nothing listens where the portal calls it
    sign_in(page, portal, "professional")
    page.get_by_role("link", name="Omat pyynnöt").first.click()
    assert page.get_by_role("heading", level=1).inner_text() == "Palvelu ei vastaa"
    assert "yhteydenottopalvelu" in page.get_by_test_id("error-text").inner_text()
    assert_accessible(page)


def test_the_coordinator_sees_the_statistics(page, start_intake, start_feedback, start_portal, keycloak):
    intake = start_intake()
    submit_request(intake, keycloak, QUESTION)
    feedback = start_feedback(intake, None)
    portal = start_portal(intake=intake, feedback=feedback)
    sign_in(page, portal, "coordinator")
    page.get_by_role("link", name="Tilastot").first.click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Tilastot")
    assert page.locator("table").count() >= 2
    assert "<5" in page.get_by_test_id("suppression-rule").inner_text() or page.get_by_text("<5").count()
    assert_accessible(page)
    page.get_by_role("textbox", name="Jakso").fill("kesäkuu")
    page.get_by_role("button", name="Näytä").click()
    assert page.get_by_role("textbox", name="Jakso").get_attribute("aria-invalid") == "true"
    assert page.locator("#period-error").is_visible()
    assert_accessible(page)
