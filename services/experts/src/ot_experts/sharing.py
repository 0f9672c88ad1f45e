"""The consent seam: may a case be shared with a party (an expert) now?

Issue 4 brings a consent service; the experts service will ask it over gRPC before an expert
sees anything of a case. Until it exists, `AllowAllUntilConsentService` answers yes, with a
reason that says so. This protocol is the one place to change: `bootstrap.build` picks the
implementation, and `handlers.assign` calls it for every expert before anything is written.
"""
from __future__ import annotations

from typing import Protocol


class SharingPolicy(Protocol):
    def may_share(self, request_id: str, party: str) -> tuple[bool, str]:
        """(allowed, reason). `party` is "experts/<expert_id>". The reason is shown to the
        coordinator when sharing is refused, so it must be bilingual and hold no client data."""
        ...


class AllowAllUntilConsentService:
    """Allows every share. Replace with the consent service's client when issue 4 lands."""

    def may_share(self, request_id: str, party: str) -> tuple[bool, str]:
        return True, ("Suostumuspalvelua ei vielä ole; ammattilainen on arvioinut suostumuksen tarpeen. / "
                      "No consent service yet; the professional has assessed the need for consent.")
