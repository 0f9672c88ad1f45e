"""Where intake gets each request's data key: the consent service (the seam for crypto-shredding).

Intake never stores a data key. It asks consent for a new one when a request is submitted
(consent records the initial consent assessment and the owner at the same time) and for the
existing one whenever case content is read or written. It calls with the caller's own token, so
consent checks and audits the real person. Case content is sealed with AES-GCM; the associated
data ties a blob to its request and field.
"""
from __future__ import annotations

import json
from typing import Protocol

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from ot.common.v1 import case_pb2
from ot.consent.v1 import consent_pb2, consent_pb2_grpc

from ot_runtime.auth import current_bearer
from ot_runtime.crypto import open_sealed, seal
from ot_runtime.errors import NotFound, PermissionDenied, Unavailable
from ot_runtime.grpc_client import make_channel, outgoing_metadata
from ot_runtime.protoconv import to_proto

from .domain import ConsultationRequest, Entry

UNAVAILABLE = ("Suostumuspalvelu ei vastaa juuri nyt; mitään ei tallennettu. Yritä hetken kuluttua uudelleen. / "
               "The consent service does not answer right now; nothing was saved. Please try again shortly.")


class KeyRefused(Exception):
    """Consent, the second and independent check, refused the caller the request's key (for
    example an expert whose organisation the client's consent no longer covers). `reason` is
    consent's ErrorInfo reason, when it gave one."""

    def __init__(self, reason: str = ""):
        super().__init__(reason or "refused")
        self.reason = reason


class CaseVault(Protocol):
    def open_case(self, r: ConsultationRequest) -> bytes:
        """A new data key for a new request (raises Unavailable when it cannot be had)."""

    def data_key(self, request_id: str, purpose: str) -> bytes | None:
        """The request's data key for the calling person (an audited read at consent), or None
        when the content was erased; raises KeyRefused when consent does not let them read it."""


def content_aad(tenant: str, request_id: str, field: str) -> bytes:
    return f"ot-case:{tenant}:{request_id}:{field}".encode()


def seal_content(key: bytes, r: ConsultationRequest) -> bytes:
    c = r.client
    plain = {"question": r.question, "family_situation": c.family_situation, "earlier_services": c.earlier_services,
             "cooperation_partners": c.cooperation_partners, "health_information": c.health_information}
    return seal(key, json.dumps(plain, ensure_ascii=False).encode(), content_aad(r.tenant, r.id, "content"))


def open_content(key: bytes, r: ConsultationRequest, blob: bytes) -> None:
    """Fill `r`'s content fields from its sealed blob."""
    plain = json.loads(open_sealed(key, blob, content_aad(r.tenant, r.id, "content")))
    r.question = plain["question"]
    r.client.family_situation = plain["family_situation"]
    r.client.earlier_services = list(plain["earlier_services"])
    r.client.cooperation_partners = list(plain["cooperation_partners"])
    r.client.health_information = plain["health_information"]


def seal_text(key: bytes, r: ConsultationRequest, field: str, text: str) -> bytes:
    return seal(key, text.encode(), content_aad(r.tenant, r.id, field))


def open_text(key: bytes, r: ConsultationRequest, field: str, blob: bytes) -> str:
    return open_sealed(key, blob, content_aad(r.tenant, r.id, field)).decode()


def entry_field(entry: Entry) -> str:
    """The associated data of an entry's text binds it to its request (content_aad), to the entry
    and to its kind: a ciphertext moved to another entry, or an internal note relabelled as advice
    in the database, does not open."""
    return f"entry:{entry.id}:{entry.kind.value}"


def seal_entry(key: bytes, r: ConsultationRequest, entry: Entry, text: str) -> bytes:
    return seal_text(key, r, entry_field(entry), text)


def open_entry(key: bytes, r: ConsultationRequest, entry: Entry) -> str:
    return open_text(key, r, entry_field(entry), entry.sealed_text)


class ConsentVault:
    """CaseVault over consent's gRPC API."""

    def __init__(self, target: str, settings, timeout_seconds: float = 5.0):
        self.channel = make_channel(target, settings)  # TLS when the settings give a CA
        self.stub = consent_pb2_grpc.ConsentServiceStub(self.channel)
        self.timeout = timeout_seconds

    def open_case(self, r: ConsultationRequest) -> bytes:
        need = r.consent.need
        request = consent_pb2.OpenCaseRequest(
            request_id=r.id, type=to_proto(case_pb2.RequestType, r.type),
            form=consent_pb2.ConsentForm.Value("CONSENT_FORM_" + need.value.upper()) if need else 0,
            given_by=consent_pb2.ConsentGiver.Value("CONSENT_GIVER_" + r.consent.given_by.value.upper())
            if r.consent.given_by else 0,
            child_capacity_assessed=r.consent.child_capacity_assessed)
        try:
            return self.stub.OpenCase(request, metadata=outgoing_metadata(current_bearer()),
                                      timeout=self.timeout).data_key
        except grpc.RpcError as error:
            raise self._translate(error) from None

    def data_key(self, request_id: str, purpose: str) -> bytes | None:
        try:
            return self.stub.GetDataKey(consent_pb2.GetDataKeyRequest(request_id=request_id, purpose=purpose),
                                        metadata=outgoing_metadata(current_bearer()), timeout=self.timeout).data_key
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                return None  # shredded: the content was erased
            if error.code() == grpc.StatusCode.PERMISSION_DENIED:
                raise KeyRefused(_error_reason(error)) from None
            raise self._translate(error) from None

    @staticmethod
    def _translate(error: grpc.RpcError):
        if error.code() == grpc.StatusCode.PERMISSION_DENIED:
            return PermissionDenied(error.details() or "")
        if error.code() == grpc.StatusCode.NOT_FOUND:
            return NotFound(error.details() or "")
        return Unavailable(UNAVAILABLE)

    def close(self) -> None:
        self.channel.close()


def _error_reason(error: grpc.RpcError) -> str:
    """The google.rpc.ErrorInfo reason of a refusal, if the callee gave one."""
    status = rpc_status.from_call(error)
    for detail in status.details if status else ():
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return info.reason
    return ""
