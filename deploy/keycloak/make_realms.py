"""Writes deploy/keycloak/realms/<area>.json: one Keycloak realm per wellbeing area, for the local
identity provider that scripts/keycloak.sh runs (development mode, loopback only).

    python deploy/keycloak/make_realms.py          # rewrite the four files
    python deploy/keycloak/make_realms.py --check  # exit 1 when a file differs from what this writes

The four realms differ only in the area, its consultation groups and its demo expert, so they are
written from one description here instead of being edited by hand four times. What the services
need from a person's access token (README, "Calling the API"):
- `iss` = http://127.0.0.1:<port>/realms/<area>, signed RS256 with the realm's key (JWKS at
  <iss>/protocol/openid-connect/certs);
- `aud` contains AUDIENCE (an audience mapper; no other client's roles are in scope, so Keycloak's
  own "account" audience stays out);
- `sub`: the user's id, fixed here so that tests and demo data can name people. An expert's id is
  `expert-<expert id of the catalogue>`, the subject the experts service links to that expert
  (catalogue.json `user_subject`). Keycloak keeps user ids unique across all its realms, so each
  area's demo expert is a different unit of the network, and the others are `<role>-<area>`;
- `ot_area` (a fixed claim per realm), `ot_roles` (the user's realm roles that are platform roles:
  the clients see no other role), `ot_groups` (the names of the user's Keycloak groups, which are
  the consultation groups' ids of the OT service map).

Secrets: the portal's client secret is not in the file: Keycloak replaces ${OT_PORTAL_CLIENT_SECRET}
from its environment at import (scripts/keycloak.sh makes one per data directory). The demo users'
password is `demo`: these realms are for a laptop and the tests, never for an area's real provider.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REALMS = HERE / "realms"
CATALOGUE = HERE.parents[1] / "services" / "experts" / "src" / "ot_experts" / "data" / "catalogue.json"

AREAS = {
    "etela-savo": ("Etelä-Savo", "Etelä-Savon"),
    "keski-suomi": ("Keski-Suomi", "Keski-Suomen"),
    "pohjois-karjala": ("Pohjois-Karjala", "Pohjois-Karjalan"),
    "pohjois-savo": ("Pohjois-Savo", "Pohjois-Savon"),
}
# The unit of the OT network whose login each area's demo expert is (any unit works for every area:
# all four have an agreement covering the whole network). Distinct per area, see the docstring.
DEMO_EXPERT = {
    "pohjois-savo": "barnahus",
    "keski-suomi": "valteri",
    "etela-savo": "tukikeskus-varjo",
    "pohjois-karjala": "vaalijala",
}
AUDIENCE = "ot-platform"
PORTAL_CLIENT = "ot-portal"
CLI_CLIENT = "ot-cli"
# The portal on this machine. No port: Keycloak then accepts a loopback redirect URI on any port
# (RFC 8252, 7.3), so `make run`'s portal (8080) and the browser tests' (a free port) both fit.
PORTAL_URLS = ("http://127.0.0.1",)
PASSWORD = "demo"

ROLES = {
    "professional": ("Ammattilainen", "Professional: asks the OT team and follows their own requests"),
    "coordinator": ("Koordinaattori", "Coordinator: the area's OT worklist, triage, assignments, statistics"),
    "secretary": ("Sihteeri", "Secretary of consultation groups (ot_groups): meetings, agendas, recommendations"),
    "expert": ("Asiantuntija", "Expert of the OT network: their assignments and statements"),
    "group-member": ("Ryhmän jäsen", "Member of a consultation group (ot_groups): reads the cases booked to it"),
    "admin": ("Tietosuojavastaava", "The area's data-protection officer: exports, erasure, audit trail"),
}


def area_groups(catalogue: dict, area: str) -> list[str]:
    return sorted(g["id"] for g in catalogue["groups"] if g["area"] == area)


def member_group(groups: list[str], area: str) -> str:
    """The group the demo group member sits in: the area's challenging-divorces group where it has
    one, otherwise its statutory expert group."""
    preferred = f"haastavat-erot-{area}"
    return preferred if preferred in groups else f"lastensuojelun-asiantuntijaryhma-{area}"


def mappers(area: str) -> list[dict]:
    """What both clients put in the tokens (the ID token too, so the portal can show who signed in)."""
    every_token = {"access.token.claim": "true", "id.token.claim": "true", "userinfo.token.claim": "true",
                   "introspection.token.claim": "true"}
    return [
        {"name": "ot_area", "protocol": "openid-connect", "protocolMapper": "oidc-hardcoded-claim-mapper",
         "config": {"claim.name": "ot_area", "claim.value": area, "jsonType.label": "String", **every_token}},
        {"name": "ot_roles", "protocol": "openid-connect", "protocolMapper": "oidc-usermodel-realm-role-mapper",
         "config": {"claim.name": "ot_roles", "multivalued": "true", "jsonType.label": "String", **every_token}},
        {"name": "ot_groups", "protocol": "openid-connect", "protocolMapper": "oidc-group-membership-mapper",
         "config": {"claim.name": "ot_groups", "full.path": "false", **every_token}},
        {"name": "audience", "protocol": "openid-connect", "protocolMapper": "oidc-audience-mapper",
         "config": {"included.custom.audience": AUDIENCE, "access.token.claim": "true", "id.token.claim": "false",
                    "introspection.token.claim": "true"}},
    ]


def portal_client(area: str) -> dict:
    """The portal: a confidential client (its secret from the environment at import), the
    authorization code flow only, PKCE S256 required."""
    return {
        "clientId": PORTAL_CLIENT, "name": "OT-portaali", "enabled": True, "protocol": "openid-connect",
        "publicClient": False, "clientAuthenticatorType": "client-secret", "secret": "${OT_PORTAL_CLIENT_SECRET}",
        "standardFlowEnabled": True, "implicitFlowEnabled": False, "directAccessGrantsEnabled": False,
        "serviceAccountsEnabled": False, "fullScopeAllowed": False, "frontchannelLogout": False,
        "redirectUris": [f"{url}/auth/callback" for url in PORTAL_URLS], "webOrigins": [],
        "attributes": {"pkce.code.challenge.method": "S256",
                       "post.logout.redirect.uris": "##".join(f"{url}/uloskirjautunut" for url in PORTAL_URLS)},
        "protocolMappers": mappers(area),
    }


def cli_client(area: str) -> dict:
    """`scripts/keycloak.sh token <area> <user>`: a public client that takes a demo user's password
    (the resource-owner password grant) so the README's grpcurl example has a token. Local realms
    only; an area's real provider has no such client."""
    return {
        "clientId": CLI_CLIENT, "name": "OT-komentorivi (vain paikallinen / local only)", "enabled": True,
        "protocol": "openid-connect", "publicClient": True, "standardFlowEnabled": False,
        "implicitFlowEnabled": False, "directAccessGrantsEnabled": True, "serviceAccountsEnabled": False,
        "fullScopeAllowed": False, "redirectUris": [], "webOrigins": [],
        # An hour, for working in a terminal (the services accept up to 12 h).
        "attributes": {"access.token.lifespan": "3600"},
        "protocolMappers": mappers(area),
    }


def user(area: str, role: str, user_id: str, groups: list[str]) -> dict:
    fi, _ = ROLES[role]
    return {
        "id": user_id, "username": role, "enabled": True, "emailVerified": True,
        "firstName": "Demo", "lastName": fi, "email": f"{role}.{area}@example.fi",
        "credentials": [{"type": "password", "value": PASSWORD, "temporary": False}],
        "realmRoles": [role], "groups": [f"/{g}" for g in groups],
    }


def realm(area: str, catalogue: dict) -> dict:
    name, genitive = AREAS[area]
    groups = area_groups(catalogue, area)
    expert_ids = {e["id"] for e in catalogue["experts"]}
    expert = DEMO_EXPERT[area]
    if expert not in expert_ids:
        raise SystemExit(f"make_realms: {expert!r} is not in {CATALOGUE}")
    users = [
        user(area, "professional", f"professional-{area}", []),
        user(area, "coordinator", f"coordinator-{area}", []),
        user(area, "secretary", f"secretary-{area}", groups),
        user(area, "expert", f"expert-{expert}", []),
        user(area, "group-member", f"group-member-{area}", [member_group(groups, area)]),
        user(area, "admin", f"admin-{area}", []),
    ]
    return {
        "realm": area, "enabled": True,
        "displayName": f"{genitive} hyvinvointialue – OT-keskus (paikallinen demo / local demo)",
        "sslRequired": "external", "registrationAllowed": False, "resetPasswordAllowed": False,
        "rememberMe": False, "editUsernameAllowed": False, "bruteForceProtected": True,
        "internationalizationEnabled": True, "supportedLocales": ["fi", "sv", "en"], "defaultLocale": "fi",
        # Access tokens live 5 minutes (the portal refreshes them); a sign-in lasts a working day at
        # most and ends after 30 minutes without use.
        "accessTokenLifespan": 300, "ssoSessionIdleTimeout": 1800, "ssoSessionMaxLifespan": 36000,
        "roles": {"realm": [{"name": role, "description": f"{fi} / {en}"} for role, (fi, en) in ROLES.items()]},
        "groups": [{"name": g, "path": f"/{g}"} for g in groups],
        "users": users,
        "clients": [portal_client(area), cli_client(area)],
        "scopeMappings": [{"client": c, "roles": list(ROLES)} for c in (PORTAL_CLIENT, CLI_CLIENT)],
    }


def render(area: str, catalogue: dict) -> str:
    return json.dumps(realm(area, catalogue), ensure_ascii=False, indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only check that the files are current")
    args = parser.parse_args(argv)
    catalogue = json.loads(CATALOGUE.read_text(encoding="utf-8"))
    stale = []
    REALMS.mkdir(exist_ok=True)
    for area in AREAS:
        path = REALMS / f"{area}.json"
        text = render(area, catalogue)
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(path.name)
        else:
            path.write_text(text, encoding="utf-8")
    if stale:
        print(f"make_realms: out of date: {', '.join(stale)}; run python deploy/keycloak/make_realms.py",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
