import pytest

from ot_runtime.auth import TokenVerifier
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
        verifier.verify("Bearer " + keys.token(area="etela-savo", ttl_seconds=-10))


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
