"""Errors a use case raises, and how each becomes a gRPC status with google.rpc rich details.

Handlers raise these; the error interceptor turns them into statuses, so servicers stay thin
and a caller can show the user exactly which field to fix. Messages are bilingual (Finnish
first) and never echo a refused value.
"""
from __future__ import annotations

from dataclasses import dataclass

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2


@dataclass(frozen=True)
class FieldViolation:
    field: str
    description: str
    reason: str = ""  # machine-readable kind, e.g. "identity_code"


class OtError(Exception):
    code = grpc.StatusCode.UNKNOWN

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def details(self) -> list:
        return []


class InvalidArgument(OtError):
    code = grpc.StatusCode.INVALID_ARGUMENT

    def __init__(self, violations: list[FieldViolation], message: str | None = None):
        super().__init__(message or (
            "Pyynnössä on korjattavaa: katso kenttäkohtaiset virheet. / "
            "The request needs fixing: see the field violations."))
        self.violations = violations

    def details(self) -> list:
        bad = error_details_pb2.BadRequest()
        for v in self.violations:
            bad.field_violations.add(field=v.field, description=v.description, reason=v.reason)
        return [bad]


class NotFound(OtError):
    code = grpc.StatusCode.NOT_FOUND


class Unauthenticated(OtError):
    code = grpc.StatusCode.UNAUTHENTICATED


class PermissionDenied(OtError):
    """The caller may not do this. `reason` (e.g. ROLE_NOT_ALLOWED, NOT_ASSIGNED) goes out as
    google.rpc.ErrorInfo, so a client can tell a role refusal from an object-level one."""

    code = grpc.StatusCode.PERMISSION_DENIED

    def __init__(self, message: str, reason: str = "", info: dict[str, str] | None = None):
        super().__init__(message)
        self.reason = reason
        self.info = info or {}

    def details(self) -> list:
        if not self.reason:
            return []
        return [error_details_pb2.ErrorInfo(reason=self.reason, domain="ot.platform", metadata=self.info)]


class FailedPrecondition(OtError):
    """A rule forbids this now (wrong lifecycle transition, missed deadline...)."""

    code = grpc.StatusCode.FAILED_PRECONDITION

    def __init__(self, message: str, violation_type: str, subject: str, info: dict[str, str] | None = None):
        super().__init__(message)
        self.violation_type = violation_type
        self.subject = subject
        self.info = info or {}

    def details(self) -> list:
        pre = error_details_pb2.PreconditionFailure()
        pre.violations.add(type=self.violation_type, subject=self.subject, description=self.message)
        out: list = [pre]
        if self.info:
            out.append(error_details_pb2.ErrorInfo(reason=self.violation_type, domain="ot.platform", metadata=self.info))
        return out


class ResourceExhausted(FailedPrecondition):
    """Out of places (a full meeting); the info names an alternative when there is one."""

    code = grpc.StatusCode.RESOURCE_EXHAUSTED


def to_rpc_status(error: OtError) -> status_pb2.Status:
    status = status_pb2.Status(code=error.code.value[0], message=error.message)
    for detail in error.details():
        packed = any_pb2.Any()
        packed.Pack(detail)
        status.details.append(packed)
    return status


def internal_status(message: str) -> status_pb2.Status:
    return status_pb2.Status(code=code_pb2.INTERNAL, message=message)


class Unavailable(OtError):
    """A service this call depends on does not answer; nothing was changed, try again."""

    code = grpc.StatusCode.UNAVAILABLE
