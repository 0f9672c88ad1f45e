"""The four services' gRPC APIs, called with the signed-in person's own access token.

Every call carries `authorization: Bearer <the person's token>` and the trace context of the page
request (ot_runtime.grpc_client.outgoing_metadata), so each service checks the person's roles and
writes its own audit entries, and one trace runs from the browser's request into the services. A
failed call becomes a ServiceError that the pages show in words (web.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from ot.consent.v1 import consent_pb2_grpc
from ot.experts.v1 import experts_pb2_grpc
from ot.feedback.v1 import feedback_pb2_grpc
from ot.intake.v1 import intake_pb2_grpc

from ot_runtime.grpc_client import make_channel, outgoing_metadata

# A page waits this long for a service; a person reads "not answering" rather than a spinning tab.
CALL_TIMEOUT_SECONDS = 10.0

STUBS = {
    "intake": intake_pb2_grpc.IntakeServiceStub,
    "experts": experts_pb2_grpc.ExpertsServiceStub,
    "consent": consent_pb2_grpc.ConsentServiceStub,
    "feedback": feedback_pb2_grpc.FeedbackServiceStub,
}


@dataclass
class ServiceError(Exception):
    """A service refused or did not answer. `message` is the service's own (Finnish / English, never
    a refused value); `reason` the google.rpc.ErrorInfo reason when there is one (NOT_OWNER...)."""
    service: str
    code: grpc.StatusCode
    message: str
    reason: str = ""
    # google.rpc.BadRequest's field violations as (field path, description), e.g. ("question",
    # "Kenttä sisältää ... (merkit 12–22) ... / ..."): a form shows each at its own field.
    violations: tuple[tuple[str, str], ...] = ()
    # google.rpc.ErrorInfo's metadata, e.g. the next meeting with room of a refused booking.
    info: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:  # logs name the kind, never the message
        return f"{self.service}: {self.code.name} {self.reason}".strip()


def _details(error: grpc.RpcError) -> tuple[str, tuple[tuple[str, str], ...], dict[str, str]]:
    """The rich details of a refusal: the ErrorInfo reason and metadata, the BadRequest field violations."""
    try:
        status = rpc_status.from_call(error)
    except Exception:  # noqa: BLE001 - a malformed trailer is no reason
        return "", (), {}
    reason, violations, info = "", [], {}
    for packed in status.details if status else ():
        if packed.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            found = error_details_pb2.ErrorInfo()
            packed.Unpack(found)
            reason = reason or found.reason
            info = info or dict(found.metadata)
        elif packed.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            packed.Unpack(bad)
            violations.extend((v.field, v.description) for v in bad.field_violations)
    return reason, tuple(violations), info


class Services:
    """One channel per service (gRPC channels reconnect by themselves and are thread-safe)."""

    def __init__(self, targets: dict[str, str], settings):
        self._channels = {name: make_channel(targets[name], settings) for name in STUBS}
        self._stubs = {name: STUBS[name](channel) for name, channel in self._channels.items()}

    def call(self, service: str, method: str, request, bearer: str | None):
        """`bearer` is the person's fresh access token (auth.access_token()); None only for the RPCs
        a service opens to anyone (the mailed answer link, the privacy notice)."""
        rpc: Callable = getattr(self._stubs[service], method)
        authorization = f"Bearer {bearer}" if bearer else None
        try:
            return rpc(request, metadata=outgoing_metadata(authorization), timeout=CALL_TIMEOUT_SECONDS)
        except grpc.RpcError as error:
            reason, violations, info = _details(error)
            raise ServiceError(service, error.code(), error.details() or "", reason, violations, info) from None

    def close(self) -> None:
        for channel in self._channels.values():
            channel.close()
