"""The consent seam: may a case be shared with a party (an expert) now?

`ConsentSharingPolicy` asks the consent service before an expert sees anything of a case;
`bootstrap.build` picks it, and `handlers.assign` calls it for every expert before anything is
written. `AllowAllUntilConsentService` remains for unit tests that do not exercise consent.
"""
from __future__ import annotations

from typing import Protocol


class SharingPolicy(Protocol):
    def may_share(self, request_id: str, party: str) -> tuple[bool, str]:
        """(allowed, reason). `party` is "experts/<expert_id>". The reason is shown to the
        coordinator when sharing is refused, so it must be bilingual and hold no client data."""
        ...


class AllowAllUntilConsentService:
    """Allows every share (unit tests only; the service runs with ConsentSharingPolicy)."""

    def may_share(self, request_id: str, party: str) -> tuple[bool, str]:
        return True, ("Suostumuspalvelua ei vielä ole; ammattilainen on arvioinut suostumuksen tarpeen. / "
                      "No consent service yet; the professional has assessed the need for consent.")


class ConsentSharingPolicy:
    """Asks the consent service, with the coordinator's own token, so its audit trail names the
    person who decided. No answer means no sharing: the assignment is refused and can be retried."""

    def __init__(self, target: str, settings, timeout_seconds: float = 5.0):
        from ot.consent.v1 import consent_pb2_grpc

        from ot_runtime.grpc_client import make_channel
        self.channel = make_channel(target, settings)  # TLS when the settings give a CA
        self.stub = consent_pb2_grpc.ConsentServiceStub(self.channel)
        self.timeout = timeout_seconds

    def may_share(self, request_id: str, party: str) -> tuple[bool, str]:
        import grpc
        from ot.consent.v1 import consent_pb2

        from ot_runtime.auth import current_bearer
        from ot_runtime.errors import Unavailable
        from ot_runtime.grpc_client import outgoing_metadata

        expert_id = party.removeprefix("experts/")
        try:
            d = self.stub.CheckSharing(consent_pb2.CheckSharingRequest(
                request_id=request_id, purpose="expert assignment",
                party=consent_pb2.Party(kind=consent_pb2.PARTY_KIND_EXPERT_ORGANISATION, id=expert_id)),
                metadata=outgoing_metadata(current_bearer()), timeout=self.timeout)
        except grpc.RpcError as error:
            code = error.code()
            if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                raise Unavailable("Suostumuspalvelu ei vastaa; nimeämistä ei tehty. Yritä hetken kuluttua. / The "
                                  "consent service does not answer; nothing was assigned. Please try again "
                                  "shortly.") from None
            # Consent answered, but not with a decision (it refused the question itself): no
            # sharing, and the coordinator sees that retrying will not help.
            return False, (f"Suostumuspalvelu ei hyväksynyt tarkistusta ({code.name}); nimeämistä ei tehty. / The "
                           f"consent service refused the check ({code.name}); nothing was assigned.")
        return d.allowed, f"{d.reason_fi} / {d.reason_en}"
