"""Helpers for the services' tests: signing keys, tokens, and reading rich error details."""
from __future__ import annotations

import json
import logging
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from .devtoken import DEV_AUDIENCE, DEV_ISSUER, DEV_SERVICE_ISSUER, SERVICE_KEY, ensure_keys, make_token


@pytest.fixture(autouse=True)
def root_logging_restored():
    """Autouse in every tier whose tests run a service's command in-process (ot_runtime.process
    run_command): import it into the folder's conftest. The command configures logging as the
    process would: one JSON handler on the sys.stderr of that moment, which is the test's captured
    stream, and every other root handler removed (pytest's own among them). Afterwards the root
    logger is put back, so that later tests' records neither go to a closed stream ("Logging error
    ... I/O operation on closed file" over the tier's output) nor miss pytest."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    kafka_level = logging.getLogger("kafka").level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.getLogger("kafka").setLevel(kafka_level)


@dataclass
class TestKeys:
    """A throwaway ES256 key pair and tokens signed with it."""
    __test__ = False  # not a pytest test class
    directory: Path

    def __post_init__(self):
        self.private_path, self.public_path = ensure_keys(self.directory)
        self.service_private_path, self.service_public_path = ensure_keys(self.directory, SERVICE_KEY)

    def service_token(self, area: str = "pohjois-savo", subject: str = "ot-feedback", ttl_seconds: int = 300) -> str:
        """A platform service's token: its own issuer and key, the role "service" only."""
        return make_token(self.service_private_path.read_bytes(), area=area, roles=["service"], subject=subject,
                          issuer=DEV_SERVICE_ISSUER, ttl_seconds=ttl_seconds)

    def token(self, area: str = "pohjois-savo", roles: tuple[str, ...] = ("professional",),
              subject: str = "test-user", ttl_seconds: int = 3600, groups: tuple[str, ...] = ()) -> str:
        return make_token(self.private_path.read_bytes(), area=area, roles=list(roles), subject=subject,
                          ttl_seconds=ttl_seconds, groups=list(groups))

    def metadata(self, **kwargs) -> tuple[tuple[str, str], ...]:
        """A person's token with `roles`; roles=("service",) gives a platform service's token."""
        if tuple(kwargs.get("roles", ())) == ("service",):
            token = self.service_token(**{k: v for k, v in kwargs.items() if k in ("area", "subject")})
        else:
            token = self.token(**kwargs)
        return (("authorization", f"Bearer {token}"),)

    def env(self) -> dict[str, str]:
        return {"AUTH_JWT_ISSUER": DEV_ISSUER, "AUTH_JWT_AUDIENCE": DEV_AUDIENCE,
                "AUTH_JWT_PUBLIC_KEY_FILE": str(self.public_path),
                "AUTH_SERVICE_ISSUER": DEV_SERVICE_ISSUER,
                "AUTH_SERVICE_PUBLIC_KEY_FILE": str(self.service_public_path)}

    def verifier(self, tenant: str = "pohjois-savo"):
        """A verifier that trusts these keys, as a service configured with env() would."""
        from .auth import TokenVerifier
        return TokenVerifier(issuer=DEV_ISSUER, audience=DEV_AUDIENCE, tenant=tenant,
                             public_key_pem=self.public_path.read_text(), service_issuer=DEV_SERVICE_ISSUER,
                             service_public_key_pem=self.service_public_path.read_text())


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


# --- fuzzing every RPC of a service (property-based, with Hypothesis) ----------------------------
# A call may be refused for many good reasons (bad argument, not found, wrong step, permission),
# but never with INTERNAL or UNKNOWN: those mean the service did not understand what went wrong.
FAILURES = (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN)

_INT_RANGES = {
    "TYPE_INT32": (-2**31, 2**31 - 1), "TYPE_SINT32": (-2**31, 2**31 - 1), "TYPE_SFIXED32": (-2**31, 2**31 - 1),
    "TYPE_INT64": (-2**63, 2**63 - 1), "TYPE_SINT64": (-2**63, 2**63 - 1), "TYPE_SFIXED64": (-2**63, 2**63 - 1),
    "TYPE_UINT32": (0, 2**32 - 1), "TYPE_FIXED32": (0, 2**32 - 1),
    "TYPE_UINT64": (0, 2**64 - 1), "TYPE_FIXED64": (0, 2**64 - 1),
}


def message_strategy(descriptor, depth: int = 0):
    """A Hypothesis strategy for messages of `descriptor`: any field may be set or not, strings
    are any Unicode (NUL, controls, huge), numbers span their whole type, enum numbers include
    unknown ones, timestamps go far outside any sensible range."""
    from google.protobuf import message_factory
    from google.protobuf.descriptor import FieldDescriptor
    from hypothesis import strategies as st

    cls = message_factory.GetMessageClass(descriptor)
    type_names = {getattr(FieldDescriptor, n): n for n in dir(FieldDescriptor) if n.startswith("TYPE_")}

    def scalar(fd):
        kind = type_names[fd.type]
        if kind == "TYPE_STRING":
            return st.one_of(st.text(max_size=40), st.text(max_size=3000),
                             st.sampled_from(["", " ", "\x00", "a" * 70000, "0" * 37, "-1",
                                              "00000000-0000-0000-0000-000000000000"]))
        if kind == "TYPE_BYTES":
            return st.binary(max_size=200)
        if kind == "TYPE_BOOL":
            return st.booleans()
        if kind in ("TYPE_DOUBLE", "TYPE_FLOAT"):
            return st.floats(allow_nan=True, width=32 if kind == "TYPE_FLOAT" else 64)
        if kind == "TYPE_ENUM":
            known = [v.number for v in fd.enum_type.values]
            return st.one_of(st.sampled_from(known), st.integers(-2**31, 2**31 - 1))
        low, high = _INT_RANGES[kind]
        return st.one_of(st.integers(-3, 1000).filter(lambda v: low <= v <= high), st.integers(low, high))

    def value(fd):
        if fd.type == FieldDescriptor.TYPE_MESSAGE:
            if depth >= 3:
                return st.just(None)
            return message_strategy(fd.message_type, depth + 1)
        return scalar(fd)

    @st.composite
    def build(draw):
        message = cls()
        for fd in descriptor.fields:
            if fd.message_type is not None and fd.message_type.GetOptions().map_entry:
                continue  # no request carries a map
            if not draw(st.booleans()):
                continue
            if fd.is_repeated:
                items = draw(st.lists(value(fd), max_size=draw(st.sampled_from([3, 30]))))
                target = getattr(message, fd.name)
                for item in items:
                    if item is None:
                        continue
                    if fd.type == FieldDescriptor.TYPE_MESSAGE:
                        target.add().CopyFrom(item)
                    else:
                        target.append(item)
            else:
                item = draw(value(fd))
                if item is None:
                    continue
                if fd.type == FieldDescriptor.TYPE_MESSAGE:
                    getattr(message, fd.name).CopyFrom(item)
                else:
                    setattr(message, fd.name, item)
        return message

    if descriptor.full_name == "google.protobuf.Timestamp":
        from google.protobuf.timestamp_pb2 import Timestamp
        return st.builds(lambda s, n: Timestamp(seconds=s, nanos=n), st.one_of(
            st.integers(0, 4102444800), st.integers(-2**63, 2**63 - 1)), st.integers(-2**31, 2**31 - 1))
    return build()


def fuzz_service(channel: grpc.Channel, service, metadata_for, *, examples: int = 60,
                 raw_payloads: int = 25, seed_messages: dict | None = None) -> dict[str, dict[str, int]]:
    """Call every RPC of `service` (a ServiceDescriptor) with generated requests and random bytes;
    fail on the first INTERNAL/UNKNOWN answer. `metadata_for(method_name)` gives the call's
    metadata (a token with the roles the method admits, so calls get past the role check).
    `seed_messages` maps a method name to a valid request that mutations start from.
    Returns, per method, how many calls ended with each status code (to show what was reached)."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    seen: dict[str, dict[str, int]] = {}
    for method in service.methods:
        stub = channel.unary_unary(f"/{service.full_name}/{method.name}")
        counts = seen.setdefault(method.name, {})
        metadata = metadata_for(method.name)

        def send(payload: bytes, method=method, stub=stub, counts=counts, metadata=metadata):
            try:
                stub(payload, metadata=metadata, timeout=30)
                code = grpc.StatusCode.OK
            except grpc.RpcError as error:
                code = error.code()
            counts[code.name] = counts.get(code.name, 0) + 1
            assert code not in FAILURES, f"{service.full_name}/{method.name} answered {code.name}"

        strategy = message_strategy(method.input_type)
        seed = (seed_messages or {}).get(method.name)
        if seed is not None:
            # Mutations of a valid request: each field of the valid one replaced by a generated one.
            strategy = st.one_of(strategy, strategy.map(lambda m, seed=seed: _merged(seed, m)))

        @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(strategy)
        def messages(message):
            send(message.SerializeToString())

        @settings(max_examples=raw_payloads, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(st.binary(max_size=300))
        def raw(payload):
            send(payload)

        messages()
        raw()
    return seen


def _merged(seed, generated):
    out = type(seed)()
    out.CopyFrom(seed)
    out.MergeFrom(generated)
    return out
