"""Signing in through Keycloak's own login form, as each demo user, and signing out."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from browser_testkit import assert_accessible, sign_in
from ot_portal.sessions import _hash, _open, _seal, sessions

NAMES = {
    "professional": ("Demo Ammattilainen", "ammattilainen"),
    "coordinator": ("Demo Koordinaattori", "koordinaattori"),
    "secretary": ("Demo Sihteeri", "sihteeri"),
    "expert": ("Demo Asiantuntija", "asiantuntija"),
    "group-member": ("Demo Ryhmän jäsen", "konsultaatioryhmän jäsen"),
    "admin": ("Demo Tietosuojavastaava", "tietosuojavastaava"),
}


@pytest.fixture()
def portal(start_portal):
    return start_portal()


@pytest.mark.parametrize("user", list(NAMES))
def test_each_demo_user_signs_in_and_sees_their_name_and_role(page, portal, user):
    sign_in(page, portal, user)
    name, role = NAMES[user]
    assert page.get_by_test_id("user-name").inner_text() == name
    assert page.get_by_test_id("user-roles").inner_text() == role
    assert page.get_by_role("button", name="Kirjaudu ulos").is_visible()
    assert_accessible(page)


def test_sign_out_ends_the_keycloak_session_too(page, portal):
    sign_in(page, portal, "professional")
    page.get_by_role("button", name="Kirjaudu ulos").click()
    page.wait_for_url(f"{portal.url}/uloskirjautunut?*")
    assert page.get_by_role("heading", name="Olet kirjautunut ulos").is_visible()
    assert_accessible(page)
    # Signing in again asks for the password: Keycloak's session ended with the portal's.
    page.get_by_role("link", name="Kirjaudu sisään").click()
    page.locator("#password").wait_for()
    assert page.url.startswith(portal.settings.oidc_issuer)


def test_without_sign_out_keycloak_signs_in_again_without_the_password(page, portal):
    """The counterpart of the test above: it shows that the password form there is no accident."""
    sign_in(page, portal, "professional")
    page.context.clear_cookies(name="ot_portal_session")  # the portal forgets; Keycloak does not
    page.goto(portal.url + "/")
    page.get_by_role("link", name="Kirjaudu sisään").click()
    page.wait_for_url(f"{portal.url}/")
    assert page.get_by_test_id("user-name").inner_text() == "Demo Ammattilainen"


def test_a_form_without_its_csrf_token_is_refused(page, portal):
    sign_in(page, portal, "coordinator")
    answer = page.request.post(portal.url + "/kirjaudu-ulos", max_redirects=0)
    assert answer.status == 400 and "Lomake vanheni" in answer.text()
    page.reload()
    assert page.get_by_test_id("user-name").inner_text() == "Demo Koordinaattori"  # still signed in


def test_another_realms_people_cannot_use_this_portal(page, start_portal):
    """A portal of Pohjois-Savo wrongly pointed at Keski-Suomi's realm: Keski-Suomi's professional signs
    in there, and the portal refuses them (the ID token's ot_area is not its area)."""
    portal = start_portal(issuer_area="keski-suomi")
    sign_in(page, portal, "professional")
    assert page.get_by_role("heading", name="Tämä portaali on toisen hyvinvointialueen").is_visible()
    assert page.get_by_role("link", name="Kirjaudu sisään").first.is_visible()  # not signed in here
    assert page.get_by_test_id("user-name").count() == 0
    assert_accessible(page)


def test_an_access_token_about_to_expire_is_refreshed_at_keycloak(page, start_intake, start_portal):
    """The portal keeps the tokens server-side: make the stored one look old, and the next page that
    calls a service first gets a new one from Keycloak with the refresh token."""
    portal = start_portal(intake=start_intake())
    sign_in(page, portal, "professional")
    sid = next(c["value"] for c in page.context.cookies() if c["name"] == "ot_portal_session")
    with portal.engine.begin() as c:
        data = _open(sid, c.execute(sa.select(sessions.c.data).where(sessions.c.id_hash == _hash(sid))).scalar_one())
        old = data["tokens"]["access_token"]
        data["tokens"]["expires_at"] = 0
        c.execute(sa.update(sessions).where(sessions.c.id_hash == _hash(sid)).values(data=_seal(sid, data)))
    page.get_by_role("link", name="Omat pyynnöt").first.click()
    assert page.get_by_role("heading", level=1).inner_text() == "Omat pyynnöt"
    with portal.engine.connect() as c:
        tokens = _open(sid, c.execute(sa.select(sessions.c.data).where(sessions.c.id_hash == _hash(sid))).scalar_one())["tokens"]
    assert tokens["access_token"] != old and tokens["expires_at"] > 0
