"""The refused-data policy, defined once.

The privacy notice allows no client identifiers at all: client fields
(``client.*``: family situation, earlier services, health status...) and every
free-text field (``question``, descriptions, recommendations) refuse every kind
in ``KINDS`` -- identity code, name, phone, e-mail, address, birth date,
diagnosis code.

The contacting professional's own contact fields (their name, phone, e-mail)
are the one place where such data is expected and allowed, so they are not
scanned.  Everything else is scanned: an unknown field is treated as client
free text, because failing closed is the safe default.
"""
from __future__ import annotations

from . import KINDS

REFUSED_KINDS_IN_CLIENT_TEXT: frozenset[str] = frozenset(KINDS)

# Field names of the professional's own contact details (exact match only, so a
# client field can never slip through by a similar name).
PROFESSIONAL_CONTACT_FIELDS: frozenset[str] = frozenset({
    "professional.name", "professional.phone", "professional.email",
    "contact.name", "contact.phone", "contact.email",
})


def refused_kinds_for(field: str) -> frozenset[str]:
    """Kinds refused in ``field``: none for the professional's own contact
    fields, all of ``KINDS`` for everything else."""
    if field in PROFESSIONAL_CONTACT_FIELDS:
        return frozenset()
    return REFUSED_KINDS_IN_CLIENT_TEXT
