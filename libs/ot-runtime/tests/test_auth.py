import time

import jwt
import pytest

from ot_runtime.auth import AREA_CLAIM, ROLES_CLAIM, TokenVerifier
from ot_runtime.devtoken import DEV_AUDIENCE, DEV_ISSUER, make_token
from ot_runtime.errors import PermissionDenied, Unauthenticated
from ot_runtime.testing import TestKeys


@pytest.fixture()
def keys(tmp_path):
    return TestKeys(tmp_path)


@pytest.fixture()
def verifier(keys):
    return TokenVerifier(issuer=DEV_ISSUER, audience=DEV_AUDIENCE, tenant="etela-savo",
                         public_key_pem=keys.public_path.read_text())


def test_valid_token_gives_the_principal(keys, verifier):
    p = verifier.verify("Bearer " + keys.token(area="etela-savo", roles=("coordinator",), subject="k1"))
    assert (p.subject, p.tenant, p.roles) == ("k1", "etela-savo", frozenset({"coordinator"}))


@pytest.mark.parametrize("header", [None, "", "Basic abc", "Bearer not-a-jwt"])
def test_missing_or_garbled_token_is_unauthenticated(verifier, header):
    with pytest.raises(Unauthenticated):
        verifier.verify(header)


def test_expired_token_is_unauthenticated(keys, verifier):
    with pytest.raises(Unauthenticated, match="expired"):
        verifier.verify("Bearer " + keys.token(area="etela-savo", ttl_seconds=-120))


def test_a_few_seconds_of_clock_skew_are_allowed(keys, verifier):
    """The identity provider's clock may be a little ahead or behind ours."""
    assert verifier.verify("Bearer " + keys.token(area="etela-savo", ttl_seconds=-10)).subject == "test-user"


def test_token_made_to_live_for_days_is_refused(keys, verifier):
    with pytest.raises(Unauthenticated, match="lifetime"):
        verifier.verify("Bearer " + keys.token(area="etela-savo", ttl_seconds=3 * 24 * 3600))


@pytest.mark.parametrize("sub", [None, "", "   ", 42, "x" * 129, "user\x00", "line\nbreak"])
def test_token_without_a_subject_is_refused(keys, verifier, sub):
    now = int(time.time())
    claims = {"iss": DEV_ISSUER, "aud": DEV_AUDIENCE, "iat": now, "exp": now + 60, AREA_CLAIM: "etela-savo",
              ROLES_CLAIM: ["coordinator"]}
    if sub is not None:
        claims["sub"] = sub
    token = jwt.encode(claims, keys.private_path.read_bytes(), algorithm="ES256")
    with pytest.raises(Unauthenticated):
        verifier.verify("Bearer " + token)


def test_the_admin_role_is_not_a_super_user(keys, verifier):
    admin = verifier.verify("Bearer " + keys.token(area="etela-savo", roles=("admin",)))
    assert not admin.has_any("coordinator", "professional", "secretary", "expert")
    assert admin.has_any("admin")


# --- service tokens: their own issuer and key, and nothing but the role "service" ---------------
@pytest.fixture()
def service_keys(tmp_path):
    return TestKeys(tmp_path / "service")


@pytest.fixture()
def two_issuers(keys, service_keys):
    return TokenVerifier(issuer=DEV_ISSUER, audience=DEV_AUDIENCE, tenant="etela-savo",
                         public_key_pem=keys.public_path.read_text(), service_issuer="ot-service",
                         service_public_key_pem=service_keys.public_path.read_text())


def service_token(keys, roles=("service",), issuer="ot-service"):
    return make_token(keys.private_path.read_bytes(), area="etela-savo", roles=list(roles), subject="ot-feedback",
                      issuer=issuer, ttl_seconds=300)


def test_a_service_token_from_the_service_issuer_is_the_service_role(service_keys, two_issuers):
    p = two_issuers.verify("Bearer " + service_token(service_keys))
    assert (p.subject, p.roles) == ("ot-feedback", frozenset({"service"}))


def test_the_service_key_cannot_mint_a_persons_token(service_keys, two_issuers):
    """Whoever holds a service's private key can sign anything with it; the verifier must not
    believe it for any role but "service", nor under the people's issuer."""
    with pytest.raises(PermissionDenied, match="only the role service"):
        two_issuers.verify("Bearer " + service_token(service_keys, roles=("service", "admin")))
    with pytest.raises(PermissionDenied):
        two_issuers.verify("Bearer " + service_token(service_keys, roles=("coordinator",)))
    with pytest.raises(Unauthenticated):  # claims the people's issuer: checked with the people's key
        two_issuers.verify("Bearer " + service_token(service_keys, roles=("admin",), issuer=DEV_ISSUER))


def test_a_persons_token_never_carries_the_service_role(keys, two_issuers):
    p = two_issuers.verify("Bearer " + keys.token(area="etela-savo", roles=("service", "coordinator")))
    assert p.roles == frozenset({"coordinator"})
    with pytest.raises(PermissionDenied, match="no role"):
        two_issuers.verify("Bearer " + keys.token(area="etela-savo", roles=("service",)))


def test_a_people_key_cannot_sign_service_tokens(keys, two_issuers):
    with pytest.raises(Unauthenticated):
        two_issuers.verify("Bearer " + service_token(keys))


def test_without_a_service_issuer_no_service_token_is_accepted(service_keys, verifier):
    with pytest.raises(Unauthenticated):
        verifier.verify("Bearer " + service_token(service_keys))


def test_token_signed_by_another_key_is_unauthenticated(tmp_path, verifier):
    other = TestKeys(tmp_path / "other")
    with pytest.raises(Unauthenticated):
        verifier.verify("Bearer " + other.token(area="etela-savo"))


def test_wrong_audience_is_unauthenticated(keys, verifier):
    token = make_token(keys.private_path.read_bytes(), area="etela-savo", roles=["professional"], subject="x",
                       audience="someone-else")
    with pytest.raises(Unauthenticated):
        verifier.verify("Bearer " + token)


def test_another_areas_token_is_permission_denied(keys, verifier):
    with pytest.raises(PermissionDenied, match="another wellbeing area"):
        verifier.verify("Bearer " + keys.token(area="pohjois-savo"))


def test_token_without_known_role_is_permission_denied(keys, verifier):
    with pytest.raises(PermissionDenied):
        verifier.verify("Bearer " + keys.token(area="etela-savo", roles=("superuser",)))


def test_the_groups_claim_names_the_consultation_groups(keys, verifier):
    p = verifier.verify("Bearer " + keys.token(area="etela-savo", roles=("group-member",),
                                               groups=("haastavat-erot-etela-savo",)))
    assert p.roles == frozenset({"group-member"}) and p.groups == frozenset({"haastavat-erot-etela-savo"})
    assert verifier.verify("Bearer " + keys.token(area="etela-savo")).groups == frozenset()


@pytest.mark.parametrize("groups", ["haastavat-erot", ["Maija Virtanen"], [1], ["x" * 65], ["g"] * 51])
def test_a_groups_claim_that_is_not_a_list_of_group_ids_is_refused(keys, verifier, groups):
    now = int(time.time())
    token = jwt.encode({"sub": "u", "iss": DEV_ISSUER, "aud": DEV_AUDIENCE, "iat": now, "exp": now + 60,
                        AREA_CLAIM: "etela-savo", ROLES_CLAIM: ["secretary"], "ot_groups": groups},
                       keys.private_path.read_bytes(), algorithm="ES256")
    with pytest.raises(Unauthenticated, match="ot_groups"):
        verifier.verify("Bearer " + token)


def test_a_token_is_verified_once_and_reused_until_it_expires(keys, verifier, monkeypatch):
    token = "Bearer " + keys.token(area="etela-savo", ttl_seconds=60)
    checks = []
    real = verifier._verify_token
    monkeypatch.setattr(verifier, "_verify_token", lambda t: checks.append(t) or real(t))
    assert verifier.verify(token).subject == verifier.verify(token).subject == "test-user"
    assert len(checks) == 1
    # Past its expiry (and the allowed skew) the remembered answer is gone: the token is checked
    # again (and refused by the signature check's own clock, test_expired_token_is_unauthenticated).
    later = time.time() + 60 + verifier.leeway + 1
    monkeypatch.setattr(time, "time", lambda: later)
    verifier.verify(token)
    assert len(checks) == 2


def test_a_remembered_token_is_checked_again_within_minutes(keys, verifier, monkeypatch):
    """A key withdrawn from the provider's JWKS must stop working soon even for tokens seen before."""
    from ot_runtime import auth
    token = "Bearer " + keys.token(area="etela-savo", ttl_seconds=3600)
    verifier.verify(token)
    checks = []
    real = verifier._verify_token
    monkeypatch.setattr(verifier, "_verify_token", lambda t: checks.append(t) or real(t))
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + auth.RECHECK_SECONDS + 1)
    verifier.verify(token)
    assert len(checks) == 1


def test_a_refused_token_is_not_remembered(keys, verifier):
    other_area = "Bearer " + keys.token(area="pohjois-savo")
    for _ in range(2):
        with pytest.raises(PermissionDenied):
            verifier.verify(other_area)
    assert len(verifier._verified) == 0
