"""ot_guard: finds client-identifying data in free text before it is stored.

Public API::

    from ot_guard import scan, Finding, KINDS, check_fields, Violation
"""
from __future__ import annotations

import re
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
    _add_capitals(folded, found)
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
    # detector has two patterns, and names and streets in capitals add a second set
    # of each), so these checks touch each character at most a few times: linear,
    # where comparing every pair of findings was quadratic.
    occupied = bytearray(len(folded))
    taken = []
    for _, _, start, end, kind in candidates:
        if occupied.find(1, start, end) == -1:
            occupied[start:end] = b"\x01" * (end - start)
            taken.append((start, end, kind))
    taken.sort()
    return [Finding(kind, *norm.original_span(start, end)) for start, end, kind in taken]


# A word of two or more letters ("LAURA", "NIEMINEN", "PUIJONKATU", and "JA" between them), and
# the quick test for a text that may hold a name in capitals.
_WORD = re.compile(r"[^\W\d_]{2,}")
_THREE_CAPITALS = re.compile(r"[A-ZÅÄÖ]{3}")
_COLON_ENDING = re.compile(r":[^\W\d_]")


def _recased(text: str, words: list[tuple[int, int]], title: bool) -> str:
    """`text` with the words at `words` in lower case, or (`title`) with a capital first letter
    and the rest in lower case; character by character, so that every offset stays the same."""
    chars = list(text)
    for start, end in words:
        if title and len(chars[start].upper()) == 1:
            chars[start] = chars[start].upper()
        for i in range(start + title, end):
            lower = chars[i].lower()
            if len(lower) == 1:
                chars[i] = lower
    return "".join(chars)


def _overlapping(spans: list[tuple[int, int]], others: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The spans that overlap one of `others`; both sorted and each without overlaps of its own
    (a detector's spans), so one walk through both does it."""
    kept, i = [], 0
    for start, end in spans:
        while i < len(others) and others[i][1] <= start:
            i += 1
        if i < len(others) and others[i][0] < end:
            kept.append((start, end))
    return kept


def _add_capitals(text: str, found: dict[str, list[tuple[int, int]]]) -> None:
    """Names and streets written in capitals ("ÄITI LAURA NIEMINEN", "Isä JUHANI KORHONEN",
    "PUIJONKATU 12 B 5"): caps lock, a surname as registers write it, or a way around the guard.

    A word in capitals says nothing about being a proper noun, so the name rules first see the
    capitals in lower case, as Finnish prose writes a word whose case says nothing either: only
    a name the lexicon or Voikko knows and no dictionary word does, or a word no one knows right
    after a role word or before a person verb, counts (rule 7 of ``names``). Each such candidate
    is then given its capital back, with the rest still in lower case, and kept only if the rules
    for capitalised words still call it a name: that is where a school or a foundation named
    after a person ("MINNA CANTHIN KOULUA"), an organisation ("WILMAN KAUTTA") and an
    abbreviation ("ESIM.") are told apart. The street pattern sees each word in capitals with a
    capital first letter. Only findings that touch a word in capitals are added: abbreviations
    ("ADHD", "THL:n", "KSSHP") stay what they were."""
    if not _THREE_CAPITALS.search(text):
        return  # most texts; and "OT-tiimi", "TE-palvelut" alone are no reason to look again
    # Capitals after the first letter, whatever the first: caps lock ("LAURA") and caps lock
    # with shift for the capital ("lAURA"). An abbreviation inflects after a colon ("THL:n",
    # "HUS:ssa"); a name in capitals does not.
    words = [m.span() for m in _WORD.finditer(text)
             if m.group()[1:].isupper() and not _COLON_ENDING.match(text, m.end())]
    if not any(end - start > 2 for start, end in words):
        return
    lower = _recased(text, words, title=False)
    candidates = _overlapping(sorted(names.find(lower)), words)
    if candidates:
        # The candidates' words in capitals get their capital back, the other ones stay lower-case.
        confirm = _recased(lower, _overlapping(words, candidates), title=True)
        found["name"] += _overlapping(sorted(names.find(confirm)), candidates)
    found["address"] += _overlapping(sorted(patterns.find_address(_recased(text, words, title=True))), words)


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
