"""ot_guard: finds client-identifying data in free text before it is stored.

Public API::

    from ot_guard import scan, Finding, KINDS, check_fields, Violation
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from . import identity_code, names, normalise, patterns

KINDS: tuple[str, ...] = (
    "identity_code", "name", "phone", "email", "address", "birth_date", "diagnosis_code",
)


@dataclass(frozen=True)
class Finding:
    """One detected identifier: ``text[start:end]`` (end exclusive)."""
    kind: str
    start: int
    end: int


# Detectors in priority order: when two findings overlap, the earlier kind
# wins (an e-mail "maija.virtanen@example.fi" is an e-mail, not a name; a
# postal code inside an identity code cannot happen because the code wins).
_DETECTORS = (
    ("identity_code", identity_code.find),
    ("email", patterns.find_email),
    ("phone", patterns.find_phone),
    ("address", patterns.find_address),
    ("birth_date", patterns.find_birth_date),
    ("diagnosis_code", patterns.find_diagnosis_code),
    ("name", names.find),
)


def scan(text: str) -> list[Finding]:
    """All identifiers in ``text``, sorted by start and non-overlapping.

    Offsets are in ``text`` as given: detection runs on its normalised form
    (see ``ot_guard.normalise``) and each finding is mapped back.  Linear in the
    length of the text."""
    norm = normalise.normalise(text)
    folded = norm.text
    found = {kind: find(folded) for kind, find in _DETECTORS}
    # A date in parentheses after a name is that person's birth date.
    found["birth_date"] += patterns.find_birth_date_after_names(folded, found["name"])
    candidates = sorted(
        (priority, -(end - start), start, end, kind)
        for priority, (kind, _) in enumerate(_DETECTORS)
        for start, end in found[kind]
        if end > start
    )
    # Greedy by priority, then length: a candidate is taken when none of its
    # characters is taken yet.  A detector's own spans do not overlap (the address
    # detector has two patterns), so these checks touch each character at most a
    # few times: linear, where comparing every pair of findings was quadratic.
    occupied = bytearray(len(folded))
    taken = []
    for _, _, start, end, kind in candidates:
        if occupied.find(1, start, end) == -1:
            occupied[start:end] = b"\x01" * (end - start)
            taken.append((start, end, kind))
    taken.sort()
    return [Finding(kind, *norm.original_span(start, end)) for start, end, kind in taken]


_KIND_WORDS = {
    # kind: (Finnish object form, English noun phrase)
    "identity_code": ("henkilötunnuksen", "a personal identity code"),
    "name": ("nimen", "a name"),
    "phone": ("puhelinnumeron", "a phone number"),
    "email": ("sähköpostiosoitteen", "an e-mail address"),
    "address": ("osoitteen", "an address"),
    "birth_date": ("syntymäajan", "a date of birth"),
    "diagnosis_code": ("diagnoosikoodin", "a diagnosis code"),
}


@dataclass(frozen=True)
class Violation:
    """A finding in a named field.  Carries positions only, never the value."""
    field: str
    kind: str
    start: int
    end: int

    def message(self) -> str:
        """Bilingual (Finnish first) message.  Character positions are
        1-based and inclusive, as a person counts them."""
        fi, en = _KIND_WORDS[self.kind]
        first, last = self.start + 1, self.end
        return (
            f"Kenttä sisältää {fi} (merkit {first}–{last}): poista se. / "
            f"The field contains {en} (characters {first}–{last}): remove it."
        )


def check_fields(fields: Mapping[str, str]) -> list[Violation]:
    """Violations for every refused finding in every field (see ``policy``)."""
    from .policy import refused_kinds_for

    violations = []
    for field, text in fields.items():
        refused = refused_kinds_for(field)
        if not refused or not text:
            continue
        for f in scan(text):
            if f.kind in refused:
                violations.append(Violation(field, f.kind, f.start, f.end))
    return violations


__all__ = ["KINDS", "Finding", "Violation", "check_fields", "scan"]
