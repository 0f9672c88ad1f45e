"""The privacy notice in the browser, without signing in, on the real consent service: both languages,
the live retention, the footer link, consent's old address redirecting here; axe-core on each view."""
from __future__ import annotations

import grpc
from ot.common.v1 import case_pb2
from ot.consent.v1 import consent_pb2, consent_pb2_grpc

from browser_testkit import assert_accessible


def test_the_notice_opens_without_sign_in_in_both_languages(page, start_consent, start_portal):
    consent = start_consent()
    portal = start_portal(OT_CONSENT_GRPC_TARGET=f"127.0.0.1:{consent.app.grpc_server.port}")
    page.goto(portal.url + "/")
    page.get_by_role("contentinfo").get_by_role("link", name="Tietosuojaseloste").click()
    assert page.url == portal.url + "/tietosuojaseloste"
    assert page.get_by_role("heading", level=1).inner_text() == "Tietosuojaseloste"
    for heading in ("Rekisterinpitäjä", "Tietosuojavastaava", "Käsittelyn oikeusperuste",
                    "Käsiteltävät henkilötiedot", "Kenelle tietoja luovutetaan", "Kuinka kauan tietoja säilytetään",
                    "Ei automaattisia päätöksiä",
                    "Oikeutesi ja niiden käyttäminen", "Oikeus tehdä valitus valvontaviranomaiselle"):
        assert page.get_by_role("heading", name=heading).is_visible(), heading
    # Consent listens on loopback with no area values: the fictional examples, marked as such.
    assert page.get_by_test_id("notice-example").is_visible()
    assert "kirjaamo@pohjois-savo.example.fi" in page.get_by_test_id("notice-controller").inner_text()
    retention = page.get_by_role("table", name="Tapauksen sisällön säilytysajat pyynnön tyypeittäin")
    assert retention.get_by_role("row", name="konsultaatioryhmä 14 180").is_visible()
    assert page.get_by_role("link", name="Kirjaudu sisään").is_visible()  # nobody signed in
    assert_accessible(page)

    page.get_by_role("link", name="In English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text() == "Privacy notice"
    assert page.get_by_role("heading", name="Right to lodge a complaint").is_visible()
    assert "Data Protection Ombudsman" in page.get_by_test_id("notice-complaint").inner_text()
    assert_accessible(page)


def test_a_changed_retention_policy_shows_on_the_notice_at_once(page, start_consent, start_portal, keycloak):
    consent = start_consent()
    portal = start_portal(OT_CONSENT_GRPC_TARGET=f"127.0.0.1:{consent.app.grpc_server.port}")
    consent_pb2_grpc.ConsentServiceStub(grpc.insecure_channel(f"127.0.0.1:{consent.app.grpc_server.port}")) \
        .SetRetentionPolicy(consent_pb2.RetentionPolicy(type=case_pb2.REQUEST_TYPE_GROUP_CONSULTATION,
                                                        grace_days_after_recommendations=5,
                                                        max_days_after_submission=90),
                            metadata=(("authorization", f"Bearer {keycloak.token('coordinator')}"),))
    page.goto(portal.url + "/tietosuojaseloste")
    retention = page.get_by_test_id("notice-retention")
    assert retention.get_by_role("row", name="konsultaatioryhmä 5 90").is_visible()
    assert retention.get_by_role("row", name="konsultaatioryhmä 14 180").count() == 0


def test_consents_old_address_leads_to_the_portals_notice(page, start_consent, start_portal):
    """The address mails and documents have linked to: consent's /tietosuoja, now a redirect."""
    consent = start_consent()
    portal = start_portal(OT_CONSENT_GRPC_TARGET=f"127.0.0.1:{consent.app.grpc_server.port}")
    linked = start_consent(OT_PORTAL_URL=portal.url)  # another consent, told where the portal is
    page.goto(f"http://127.0.0.1:{linked.app.http_server.port}/tietosuoja")
    assert page.url == portal.url + "/tietosuojaseloste"
    assert page.get_by_role("heading", level=1).inner_text() == "Tietosuojaseloste"
    assert_accessible(page)
