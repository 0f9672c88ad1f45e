"""RS256 tokens verified with a key fetched from a JWKS URL (served on loopback)."""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from ot_runtime.auth import AREA_CLAIM, ROLES_CLAIM, TokenVerifier
from ot_runtime.errors import Unauthenticated


@pytest.fixture()
def jwks_server():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    body = json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield key, f"http://127.0.0.1:{server.server_port}/jwks.json"
    server.shutdown()


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
