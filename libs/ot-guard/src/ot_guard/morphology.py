"""Language data from the system: Finnish morphology from Voikko (libvoikko
with the voikko-fi dictionary) and an English word list.

Voikko knows Finnish words in all their inflected forms, and tags many of its
proper nouns as first names, surnames or places: "Korhosille" is the surname
Korhonen in the plural allative, "Lahdessa" both the place Lahti and the common
noun lahti, "Lumi" only the common noun lumi.  The guard asks one question per
distinct word and caches the answer.

Voikko is a C library (Debian: libvoikko1 and voikko-fi; ``scripts/guard_deps.sh``
installs them), used through its ctypes binding ``libvoikko`` from PyPI.  The
guard refuses to start without it: a guard that silently lost its dictionary
would let names through.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

try:
    import libvoikko
    _VOIKKO = libvoikko.Voikko("fi")
except Exception as exc:  # noqa: BLE001 - no library, no dictionary, wrong version: all fatal
    raise ImportError(
        "ot_guard needs the Voikko Finnish dictionary: install the Debian packages "
        "libvoikko1 and voikko-fi (scripts/guard_deps.sh) and the Python package "
        "libvoikko (" + type(exc).__name__ + ")"
    ) from exc

# English words (Debian's wamerican word list, SCOWL): tells an English unit name
# or description ("Child psychiatry consultation", "Test Expert") from names
# Voikko does not know.  Lower-case entries only: proper nouns are not words here.
ENGLISH_WORDS_PATH = Path("/usr/share/dict/american-english")
try:
    ENGLISH_WORDS: frozenset[str] = frozenset(
        w for w in ENGLISH_WORDS_PATH.read_text(encoding="utf-8").split()
        if w.isalpha() and w.islower())
except OSError as exc:
    raise ImportError(
        f"ot_guard needs the English word list {ENGLISH_WORDS_PATH}: install the Debian "
        "package wamerican (scripts/guard_deps.sh)") from exc

# A Voikko handle must not be used by two threads at once (gRPC servers scan
# in a thread pool); analyses are cached, so the lock is rarely taken.
_LOCK = threading.Lock()

_PERSON_CLASSES = frozenset({"etunimi", "sukunimi"})
_PROPER_CLASSES = frozenset({"etunimi", "sukunimi", "paikannimi", "nimi"})
_NOUN_CLASSES = frozenset({"nimisana", "nimisana_laatusana"})


@dataclass(frozen=True)
class Analysis:
    known: bool                 # Voikko has any analysis
    person: bool                # a first name or surname reading
    first_name: bool            # a first-name reading
    person_base: str            # base form of the person reading ("Korhonen")
    person_nominative: bool     # the person reading is in the nominative
    place: bool                 # a place-name or other proper-name reading (brands too)
    place_nominative: bool      # ... in the nominative
    word: bool                  # an ordinary-word reading (noun, verb, adverb...)
    word_simple: bool           # an ordinary-word reading that is not a compound
    simple_singular_noun: bool  # a non-compound noun reading, not a plural subject ("lumi", "valolle")
    noun_base: str
    nominative: bool            # the noun reading is in the nominative
    underived_noun: bool        # ... and not derived from another word ("opettaja" is)

    @property
    def person_only(self) -> bool:
        """Only a person's name to Voikko ("maija", "virtanen"), never a word or place."""
        return self.person and not self.word and not self.place


@lru_cache(maxsize=200_000)
def analyse(word: str) -> Analysis:
    with _LOCK:
        readings = _VOIKKO.analyze(word)
    person = [r for r in readings if r.get("CLASS") in _PERSON_CLASSES]
    words = [r for r in readings if r.get("CLASS") not in _PROPER_CLASSES]
    simple = [r for r in words if r.get("STRUCTURE", "").count("=") == 1]
    # "Lumin" is read as a plural instructive, "Lapset" as a plural subject: the
    # first may be a name's genitive, the second is a group of people.
    nouns = [r for r in simple if r.get("CLASS") in _NOUN_CLASSES
             and not (r.get("NUMBER") == "plural" and r.get("SIJAMUOTO") == "nimento")]
    places = [r for r in readings if r.get("CLASS") in ("paikannimi", "nimi")]
    return Analysis(
        known=bool(readings),
        person=bool(person),
        first_name=any(r.get("CLASS") == "etunimi" for r in person),
        person_base=person[0].get("BASEFORM", word) if person else "",
        person_nominative=any(r.get("SIJAMUOTO") == "nimento" for r in person),
        place=bool(places),
        place_nominative=any(r.get("SIJAMUOTO") == "nimento" for r in places),
        word=bool(words),
        word_simple=bool(simple),
        simple_singular_noun=bool(nouns),
        noun_base=nouns[0].get("BASEFORM", word).capitalize() if nouns else "",
        nominative=any(r.get("SIJAMUOTO") == "nimento" for r in nouns),
        underived_noun=any(r.get("WORDBASES", "").count("+") == 1 for r in nouns),
    )
