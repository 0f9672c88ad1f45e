"""The local identity provider: the realms are what the repository says, and a Keycloak access
token of each demo user passes the services' own TokenVerifier with the right subject, roles,
groups and area, while another area's token is refused."""
from __future__ import annotations

import subprocess
import sys

import pytest

from browser_testkit import AUDIENCE, REPO, TENANT
from ot_runtime.auth import TokenVerifier
from ot_runtime.errors import PermissionDenied, Unauthenticated

DEMO = {
    "professional": ("professional-pohjois-savo", set()),
    "coordinator": ("coordinator-pohjois-savo", set()),
    "secretary": ("secretary-pohjois-savo", {"haastavat-erot-pohjois-savo",
                                             "lastensuojelun-asiantuntijaryhma-pohjois-savo"}),
    "expert": ("expert-barnahus", set()),  # the experts service links this subject to Barnahus
    "group-member": ("group-member-pohjois-savo", {"haastavat-erot-pohjois-savo"}),
    "admin": ("admin-pohjois-savo", set()),
}


def verifier(keycloak, area: str = TENANT, tenant: str = TENANT) -> TokenVerifier:
    """As a service of `tenant` configured with `area`'s realm would verify (AUTH_JWKS_URL)."""
    return TokenVerifier(issuer=keycloak.issuer(area), audience=AUDIENCE, tenant=tenant,
                         jwks_url=keycloak.jwks_url(area))


def test_the_realm_files_are_what_the_generator_writes():
    done = subprocess.run([sys.executable, str(REPO / "deploy" / "keycloak" / "make_realms.py"), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("user", list(DEMO))
def test_each_demo_users_token_is_accepted_with_their_role_groups_and_area(keycloak, user):
    who = verifier(keycloak).verify(f"Bearer {keycloak.token(user)}")
    subject, groups = DEMO[user]
    assert who.subject == subject and who.roles == {user} and who.tenant == TENANT and who.groups == groups


def test_the_expert_subject_is_an_expert_of_the_catalogue():
    import json
    catalogue = json.loads((REPO / "services/experts/src/ot_experts/data/catalogue.json").read_text())
    assert DEMO["expert"][0] in {e.get("user_subject") for e in catalogue["experts"]}


def test_another_areas_token_is_refused(keycloak):
    token = keycloak.token("coordinator", area="keski-suomi")
    with pytest.raises(Unauthenticated):  # another realm: another issuer and keys
        verifier(keycloak).verify(f"Bearer {token}")
    # Even a service wrongly pointed at keski-suomi's realm refuses it: the token's ot_area is not its area.
    with pytest.raises(PermissionDenied, match="toisen hyvinvointialueen"):
        verifier(keycloak, area="keski-suomi").verify(f"Bearer {token}")


def test_a_wrong_password_gets_no_token(keycloak):
    with pytest.raises(AssertionError, match="refused the sign-in"):
        keycloak.token("coordinator", password="not-demo")
