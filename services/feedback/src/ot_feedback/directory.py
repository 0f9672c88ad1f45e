"""Where the e-mail addresses come from at send time: intake and experts, over gRPC, as a platform service.

Events deliberately carry no contact data, and this service stores none: just before a mail goes
out, `IntakeDirectory.contact(request_id)` asks intake's `GetRequest` (the worker's address, and
their user id for their notification settings) and `ExpertsDirectory.email(expert_id)` asks
experts' `GetExpert` (the expert's contact address), each with a token whose role is "service",
and the address is used for that one SMTP exchange only.

The token source is one seam (`TokenSource`). `SignedServiceToken` signs a short-lived token
with a private key file (OT_SERVICE_TOKEN_KEY_FILE), as `ot-dev-token` does: that is for a laptop,
`make run` and the tests. A cluster replaces it with its identity provider's OAuth2
client-credentials flow (a token for the client "ot-feedback" with the role "service" and the
area claim), keeping the same interface.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Protocol

import grpc
from ot.common.v1 import case_pb2
from ot.experts.v1 import experts_pb2, experts_pb2_grpc
from ot.intake.v1 import intake_pb2, intake_pb2_grpc

from ot_runtime.devtoken import make_token
from ot_runtime.grpc_client import make_channel


@dataclass(frozen=True)
class Contact:
    email: str
    withdrawn: bool
    subject: str = ""  # the owner's user id (Request.owner_subject): whose notification settings apply


class DirectoryUnavailable(Exception):
    """Intake or experts could not answer now (down, timeout, refused our token); try the mail later."""


class IntakeDirectory(Protocol):
    def contact(self, request_id: str) -> Contact | None:
        """The worker's contact for `request_id`; None when intake no longer has the request."""


class ExpertsDirectory(Protocol):
    def email(self, expert_id: str) -> str | None:
        """The expert's contact e-mail ("" when the catalogue has none); None when there is no such expert."""


class TokenSource(Protocol):
    def token(self) -> str: ...


class SignedServiceToken:
    """A token signed locally with the service key; renewed a minute before it expires."""

    def __init__(self, private_key_pem: bytes, *, tenant: str, issuer: str, audience: str,
                 subject: str = "ot-feedback", ttl_seconds: int = 300):
        self._pem = private_key_pem
        self._tenant, self._issuer, self._audience = tenant, issuer, audience
        self._subject, self._ttl = subject, ttl_seconds
        self._cached: tuple[str, float] | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_file(cls, path: str, **kwargs) -> "SignedServiceToken":
        with open(path, "rb") as f:
            return cls(f.read(), **kwargs)

    def token(self) -> str:
        with self._lock:
            if self._cached is None or self._cached[1] - time.time() < 60:
                value = make_token(self._pem, area=self._tenant, roles=["service"], subject=self._subject,
                                   issuer=self._issuer, audience=self._audience, ttl_seconds=self._ttl)
                self._cached = (value, time.time() + self._ttl)
            return self._cached[0]


class _GrpcDirectory:
    """One lazily opened channel to a service, called with the service token."""

    def __init__(self, target: str, tokens: TokenSource, settings, timeout_seconds: float = 10.0):
        self.target = target
        self.tokens = tokens
        self.settings = settings  # the channel's TLS settings (ot_runtime.grpc_client.make_channel)
        self.timeout = timeout_seconds
        self._channel: grpc.Channel | None = None

    def _open(self) -> grpc.Channel:
        if self._channel is None:  # lazily: nothing connects at build time
            self._channel = make_channel(self.target, self.settings)
        return self._channel

    def _call(self, method, request):
        """The answer, or None for NOT_FOUND; DirectoryUnavailable for anything else."""
        try:
            return method(request, metadata=(("authorization", f"Bearer {self.tokens.token()}"),),
                          timeout=self.timeout)
        except grpc.RpcError as error:
            if error.code() is grpc.StatusCode.NOT_FOUND:
                return None
            raise DirectoryUnavailable(error.code().name) from None

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()


class GrpcIntakeDirectory(_GrpcDirectory):
    def contact(self, request_id: str) -> Contact | None:
        r = self._call(intake_pb2_grpc.IntakeServiceStub(self._open()).GetRequest,
                       intake_pb2.GetRequestRequest(request_id=request_id))
        if r is None:
            return None  # erased (withdrawn ones still exist and say so)
        return Contact(email=r.professional.email.strip(), withdrawn=r.status == case_pb2.REQUEST_STATUS_WITHDRAWN,
                       subject=r.owner_subject)


class GrpcExpertsDirectory(_GrpcDirectory):
    def email(self, expert_id: str) -> str | None:
        e = self._call(experts_pb2_grpc.ExpertsServiceStub(self._open()).GetExpert,
                       experts_pb2.GetExpertRequest(expert_id=expert_id))
        return None if e is None else e.contact.email.strip()
