"""The portal's unit tests' fakes and helpers.

- FakeIdP: a small OpenID Connect provider on loopback: discovery, the authorization endpoint (which
  signs in whoever the test names, at once), the token endpoint (code with PKCE S256 and client
  authentication checked; refresh tokens), JWKS and end-session. The browser tests use the real
  Keycloak; this one lets the unit tests see every request the portal makes to its provider and make
  the provider refuse, expire or vanish on demand.
- FakeServices: the services' RPCs the pages call, on a loopback gRPC server.
- sign_in: the whole code flow through the portal's test client and the fake provider.
"""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from concurrent import futures
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

import grpc
import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, jsonify, redirect, request
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status
from google.protobuf import message_factory
from ot.consent.v1 import consent_pb2
from ot.experts.v1 import experts_pb2
from ot.feedback.v1 import feedback_pb2
from ot.intake.v1 import intake_pb2
from werkzeug.serving import make_server

CLIENT_ID = "ot-portal"
CLIENT_SECRET = "test-client-secret"
PUBLIC_URL = "http://127.0.0.1:8080"


@dataclass
class Grant:
    claims: dict
    nonce: str
    challenge: str
    method: str
    redirect_uri: str


@dataclass
class FakeIdP:
    issuer: str = ""
    next_claims: dict = field(default_factory=dict)
    expires_in: int = 300
    refuse_refresh: bool = False
    grants: dict = field(default_factory=dict)
    refresh_tokens: dict = field(default_factory=dict)
    authorize_requests: list = field(default_factory=list)
    token_requests: list = field(default_factory=list)
    logouts: list = field(default_factory=list)

    def __post_init__(self):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "test-key"
        self.app = self._make_app()
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.issuer = f"http://127.0.0.1:{self._server.server_port}/realms/pohjois-savo"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> "FakeIdP":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()

    def sign(self, claims: dict) -> str:
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})

    def _tokens(self, claims: dict, nonce: str | None) -> dict:
        now = int(time.time())
        base = {"iss": self.issuer, "iat": now, "exp": now + self.expires_in, **claims}
        access = self.sign({**base, "aud": "ot-platform", "jti": secrets.token_hex(8)})
        id_claims = {**base, "aud": CLIENT_ID, "azp": CLIENT_ID}
        if nonce:
            id_claims["nonce"] = nonce
        refresh = secrets.token_urlsafe(24)
        self.refresh_tokens[refresh] = claims
        return {"access_token": access, "id_token": self.sign(id_claims), "refresh_token": refresh,
                "token_type": "Bearer", "expires_in": self.expires_in}

    def _make_app(self) -> Flask:
        app = Flask("fake_idp")
        idp = self

        @app.get("/realms/pohjois-savo/.well-known/openid-configuration")
        def metadata():
            base = idp.issuer + "/protocol/openid-connect"
            return jsonify(issuer=idp.issuer, authorization_endpoint=f"{base}/auth", token_endpoint=f"{base}/token",
                           jwks_uri=f"{base}/certs", end_session_endpoint=f"{base}/logout",
                           id_token_signing_alg_values_supported=["RS256"], response_types_supported=["code"],
                           code_challenge_methods_supported=["S256"])

        @app.get("/realms/pohjois-savo/protocol/openid-connect/certs")
        def certs():
            jwk = jwt.algorithms.RSAAlgorithm.to_jwk(idp.key.public_key(), as_dict=True)
            return jsonify(keys=[{**jwk, "kid": idp.kid, "use": "sig", "alg": "RS256"}])

        @app.get("/realms/pohjois-savo/protocol/openid-connect/auth")
        def authorize():
            args = request.args.to_dict()
            idp.authorize_requests.append(args)
            code = secrets.token_urlsafe(16)
            idp.grants[code] = Grant(dict(idp.next_claims), args.get("nonce", ""), args.get("code_challenge", ""),
                                     args.get("code_challenge_method", ""), args["redirect_uri"])
            return redirect(f"{args['redirect_uri']}?{urlencode({'code': code, 'state': args['state']})}")

        @app.post("/realms/pohjois-savo/protocol/openid-connect/token")
        def token():
            form = request.form.to_dict()
            idp.token_requests.append(form)
            auth = request.headers.get("Authorization", "")
            expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
            if auth != expected:
                return jsonify(error="invalid_client"), 401
            if form.get("grant_type") == "authorization_code":
                grant = idp.grants.pop(form.get("code", ""), None)
                if grant is None or grant.redirect_uri != form.get("redirect_uri"):
                    return jsonify(error="invalid_grant"), 400
                verifier = form.get("code_verifier", "")
                digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
                if grant.method != "S256" or digest != grant.challenge:
                    return jsonify(error="invalid_grant", error_description="PKCE verification failed"), 400
                return jsonify(idp._tokens(grant.claims, grant.nonce))
            if form.get("grant_type") == "refresh_token":
                claims = idp.refresh_tokens.pop(form.get("refresh_token", ""), None)
                if claims is None or idp.refuse_refresh:
                    return jsonify(error="invalid_grant", error_description="Session not active"), 400
                return jsonify(idp._tokens(claims, None))
            return jsonify(error="unsupported_grant_type"), 400

        @app.get("/realms/pohjois-savo/protocol/openid-connect/logout")
        def logout():
            idp.logouts.append(request.args.to_dict())
            return redirect(request.args["post_logout_redirect_uri"])

        return app


def person(role: str = "professional", area: str = "pohjois-savo", sub: str | None = None, **extra) -> dict:
    return {"sub": sub or f"{role}-{area}", "name": f"Demo {role.title()}", "ot_area": area, "ot_roles": [role],
            **extra}


# --- the services, faked on a loopback gRPC server ---------------------------------------------


@dataclass
class Refusal:
    code: grpc.StatusCode
    message: str
    reason: str = ""
    # google.rpc.BadRequest field violations, (field path, description) each
    violations: tuple = ()
    # google.rpc.ErrorInfo metadata (sent with the reason)
    info: dict = field(default_factory=dict)


class FakeServices:
    """All four services' RPCs on one loopback port, answering what the test put in `answers`
    (by method name, e.g. answers["ListRequests"] = intake_pb2.ListRequestsResponse(...)) or
    refusing as `refusals` say; every call is recorded with its metadata in `calls` and its
    request in `requests` (method name -> the last request)."""

    def __init__(self):
        self.calls: list[tuple[str, dict]] = []
        self.answers: dict[str, object] = {}
        self.refusals: dict[str, Refusal] = {}
        self.requests: dict[str, object] = {}
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        fake = self

        def handle(method: str, request, context):
            fake.calls.append((method, dict(context.invocation_metadata())))
            fake.requests[method] = request
            refusal = fake.refusals.get(method)
            if refusal:
                details = []
                if refusal.reason:
                    packed = any_pb2.Any()
                    packed.Pack(error_details_pb2.ErrorInfo(reason=refusal.reason, domain="ot.test",
                                                            metadata=refusal.info))
                    details.append(packed)
                if refusal.violations:
                    packed = any_pb2.Any()
                    packed.Pack(error_details_pb2.BadRequest(field_violations=[
                        error_details_pb2.BadRequest.FieldViolation(field=f, description=d)
                        for f, d in refusal.violations]))
                    details.append(packed)
                context.abort_with_status(rpc_status.to_status(status_pb2.Status(
                    code=refusal.code.value[0], message=refusal.message, details=details)))
            if method not in fake.answers:
                context.abort(grpc.StatusCode.UNIMPLEMENTED, f"the test gave no answer for {method}")
            return fake.answers[method]

        seen: set[str] = set()
        for module in (intake_pb2, experts_pb2, consent_pb2, feedback_pb2):
            for service in module.DESCRIPTOR.services_by_name.values():
                handlers = {}
                for m in service.methods:
                    assert m.name not in seen, f"two services have a method {m.name}: key the answers by service"
                    seen.add(m.name)
                    handlers[m.name] = grpc.unary_unary_rpc_method_handler(
                        lambda request, context, name=m.name: handle(name, request, context),
                        request_deserializer=message_factory.GetMessageClass(m.input_type).FromString,
                        response_serializer=lambda response: response.SerializeToString())
                self.server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(service.full_name,
                                                                                             handlers)])
        self.port = self.server.add_insecure_port("127.0.0.1:0")

    @property
    def last_export_subject(self) -> str:
        return self.requests["ExportProfessionalData"].subject

    @property
    def last_statistics_request(self):
        return self.requests["GetStatistics"]

    def start(self) -> "FakeServices":
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop(0)


def statistics(period: str = "2026") -> feedback_pb2.Statistics:
    table = feedback_pb2.Table(name="contacts_by_sector", title_fi="Yhteydenotot sektoreittain",
                               title_en="Contacts by sector", rows=["social", "health", "total"],
                               columns=["ot_tuki", "total"],
                               labels={"social": "sosiaalihuolto / social care", "health": "terveydenhuolto / health care",
                                       "total": "yhteensä / total", "ot_tuki": "OT-TUKI / OT-TUKI"})
    for row, column, value, hidden in [("social", "ot_tuki", "12", False), ("social", "total", "12", False),
                                       ("health", "ot_tuki", "<5", True), ("health", "total", "<5", True),
                                       ("total", "ot_tuki", "x", True), ("total", "total", "x", True)]:
        table.cells.add(row=row, column=column, value=value, suppressed=hidden)
    return feedback_pb2.Statistics(tenant="pohjois-savo", period=period, tables=[table],
                                   suppression_rule="Alle 5 näytetään <5. / Under 5 is shown as <5.")


# --- the portal's side -------------------------------------------------------------------------
def portal_env(tmp_path, idp: FakeIdP, services_port: int, **extra) -> dict:
    target = f"127.0.0.1:{services_port}"
    return {"OT_TENANT": "pohjois-savo", "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.db'}",
            "OT_PORTAL_PUBLIC_URL": PUBLIC_URL, "OT_OIDC_ISSUER": idp.issuer, "OT_OIDC_CLIENT_ID": CLIENT_ID,
            "OT_OIDC_CLIENT_SECRET": CLIENT_SECRET, "OT_PORTAL_SECRET_KEY": "s" * 40, "HTTP_PORT": "0",
            **{f"OT_{name}_GRPC_TARGET": target for name in ("INTAKE", "EXPERTS", "CONSENT", "FEEDBACK")}, **extra}


def sign_in(client, idp: FakeIdP, claims: dict, next_path: str = "/", **client_args):
    """Through the whole code flow: the portal's redirect, the provider's, the callback. Returns
    the callback's answer."""
    idp.next_claims = claims
    started = client.get("/kirjaudu", query_string={"next": next_path}, **client_args)
    assert started.status_code == 302, started.data
    at_provider = requests.get(started.headers["Location"], allow_redirects=False, timeout=10)
    callback = urlsplit(at_provider.headers["Location"])
    return client.get(f"{callback.path}?{callback.query}", **client_args)
