"""Tokens verified with a key fetched from a JWKS URL (served on loopback)."""
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from ot_runtime.auth import AREA_CLAIM, ROLES_CLAIM, TokenVerifier
from ot_runtime.errors import Unauthenticated
from ot_runtime.testing import TestKeys, serve_jwks


@pytest.fixture()
def jwks_server():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    with serve_jwks([{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]) as port:
        yield key, f"http://127.0.0.1:{port}/jwks.json"


def rs256(key, kid="k1", **claims):
    now = int(time.time())
    base = {"sub": "u1", "iss": "idp", "aud": "ot-platform", "iat": now, "exp": now + 60,
            AREA_CLAIM: "keski-suomi", ROLES_CLAIM: ["coordinator"]}
    return jwt.encode({**base, **claims}, key, algorithm="RS256", headers={"kid": kid})


def test_rs256_token_is_verified_with_the_jwks_key(jwks_server):
    key, url = jwks_server
    verifier = TokenVerifier(issuer="idp", audience="ot-platform", tenant="keski-suomi", jwks_url=url)
    assert verifier.verify("Bearer " + rs256(key)).roles == frozenset({"coordinator"})


def test_token_with_an_unknown_key_id_is_unauthenticated(jwks_server):
    key, url = jwks_server
    verifier = TokenVerifier(issuer="idp", audience="ot-platform", tenant="keski-suomi", jwks_url=url)
    with pytest.raises(Unauthenticated):
        verifier.verify("Bearer " + rs256(key, kid="other"))


def test_platform_tokens_name_their_key_so_a_jwks_verifier_finds_it(tmp_path):
    """A service token can be verified against a JWKS of the platform's service keys: the
    token's kid must match the published key's (its RFC 7638 thumbprint)."""
    from ot_runtime.devtoken import make_token, public_jwk
    keys = TestKeys(tmp_path)
    people = TestKeys(tmp_path / "people")
    jwk = public_jwk(keys.private_path.read_bytes())
    with serve_jwks([jwk]) as port:
        verifier = TokenVerifier(issuer="ot-dev", audience="ot-platform", tenant="pohjois-savo",
                                 public_key_pem=people.public_path.read_text(), service_issuer="ot-service",
                                 service_jwks_url=f"http://127.0.0.1:{port}/")
        token = make_token(keys.private_path.read_bytes(), area="pohjois-savo", roles=["service"],
                           subject="ot-feedback", issuer="ot-service")
        assert verifier.verify("Bearer " + token).roles == frozenset({"service"})
    assert len(jwk["kid"]) == 43  # base64url of a SHA-256
