"""Helpers for the services' tests: signing keys, tokens, and reading rich error details."""
from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from .devtoken import DEV_AUDIENCE, DEV_ISSUER, ensure_keys, make_token


@dataclass
class TestKeys:
    """A throwaway ES256 key pair and tokens signed with it."""
    __test__ = False  # not a pytest test class
    directory: Path

    def __post_init__(self):
        self.private_path, self.public_path = ensure_keys(self.directory)

    def token(self, area: str = "pohjois-savo", roles: tuple[str, ...] = ("professional",),
              subject: str = "test-user", ttl_seconds: int = 3600) -> str:
        return make_token(self.private_path.read_bytes(), area=area, roles=list(roles), subject=subject,
                          ttl_seconds=ttl_seconds)

    def metadata(self, **kwargs) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.token(**kwargs)}"),)

    def env(self) -> dict[str, str]:
        return {"AUTH_JWT_ISSUER": DEV_ISSUER, "AUTH_JWT_AUDIENCE": DEV_AUDIENCE,
                "AUTH_JWT_PUBLIC_KEY_FILE": str(self.public_path)}


def status_details(error: grpc.RpcError) -> list:
    """The google.rpc details of a failed call, unpacked (BadRequest, PreconditionFailure, ErrorInfo)."""
    status = rpc_status.from_call(error)
    out = []
    if status is None:
        return out
    for packed in status.details:
        for kind in (error_details_pb2.BadRequest, error_details_pb2.PreconditionFailure,
                     error_details_pb2.ErrorInfo):
            if packed.Is(kind.DESCRIPTOR):
                msg = kind()
                packed.Unpack(msg)
                out.append(msg)
    return out


def field_violations(error: grpc.RpcError) -> list[error_details_pb2.BadRequest.FieldViolation]:
    return [v for d in status_details(error) if isinstance(d, error_details_pb2.BadRequest)
            for v in d.field_violations]


@contextmanager
def serve_jwks(keys: list[dict]):
    """An identity provider's JWKS on a free loopback port, for tests of JWKS-based verification.
    Yields the port; the document is {"keys": keys} at any path."""
    body = json.dumps({"keys": keys}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the http.server API)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass  # keep test output quiet

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
