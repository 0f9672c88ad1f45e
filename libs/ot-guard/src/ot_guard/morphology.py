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
from .data import loaded

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
# The two lists are read at build time into the guard's data file (ot_guard.data) as
# sorted 64-bit digests: 8 bytes a word and no hashing of 180,000 words at every start
# (0.7 s).  tests/test_data.py fails when the file no longer matches the lists.
ENGLISH_WORDS = loaded().english

# Swedish words (Debian's wswedish word list, Den stora svenska ordlistan): tells a
# Swedish line ("Vi ses på mötet.", "Familjen behöver tolk.") from Finnish, so that
# its first word is not read as a name.  Lower-case entries only; the file is Latin-1.
SWEDISH_WORDS = loaded().swedish

# A Voikko handle must not be used by two threads at once (gRPC servers scan
# in a thread pool); analyses are cached, so the lock is rarely taken.
_LOCK = threading.Lock()

_PERSON_CLASSES = frozenset({"etunimi", "sukunimi"})
_PROPER_CLASSES = frozenset({"etunimi", "sukunimi", "paikannimi", "nimi"})
_NOUN_CLASSES = frozenset({"nimisana", "nimisana_laatusana"})


@dataclass(frozen=True, slots=True)
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


# Bounded so that memory is too: hostile or random text is all new words, and at 200,000 entries
# the cache alone held over 100 MB of a service that never gave it back. A case note's vocabulary
# fits many times over in this many words (the labelled notes corpus has about 5,400 distinct words).
ANALYSIS_CACHE_WORDS = 32_768


@lru_cache(maxsize=ANALYSIS_CACHE_WORDS)
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


_PROPER = frozenset({"etunimi", "sukunimi", "paikannimi", "nimi"})


def _one_edit(a: str, b: str) -> bool:
    """True when ``b`` is ``a`` with one letter left out, added, changed, or two
    neighbours swapped (Damerau-Levenshtein distance 1), ignoring case."""
    a, b = a.lower(), b.lower()
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


TYPO_MIN_LENGTH, TYPO_MAX_LENGTH = 5, 25
# Voikko's speller takes 2-30 ms for a new word (up to 80 ms on a busy machine): a
# scan asks it about at most this many words it has not asked about before, so that
# a text of many unknown words cannot stall the guard.  A word past the budget is
# not a typo, that is, it stays a name: the safe side.
TYPO_BUDGET_PER_SCAN = 3
_TYPO_CACHE: dict[str, frozenset[str]] = {}
_TYPO_CACHE_LIMIT = 10_000  # at most 3 new words a scan come in; a few MB at most
_NOT_A_TYPO: frozenset[str] = frozenset()


class TypoCheck:
    """``typo_of`` for one scan, with its budget of new questions to Voikko."""
    __slots__ = ("budget",)

    def __init__(self, budget: int = TYPO_BUDGET_PER_SCAN):
        self.budget = budget

    def __call__(self, word: str) -> frozenset[str]:
        if not TYPO_MIN_LENGTH <= len(word) <= TYPO_MAX_LENGTH:
            return _NOT_A_TYPO
        hit = _TYPO_CACHE.get(word)
        if hit is not None:
            return hit
        if self.budget <= 0:
            return _NOT_A_TYPO
        self.budget -= 1
        return typo_of(word)


def typo_of(word: str) -> frozenset[str]:
    """Is ``word`` (unknown to Voikko) a Finnish word mistyped by one letter
    ("Lapssen", "Tapaamnen", "kertio")?  The word classes (Voikko's CLASS:
    "nimisana", "teonsana"...) of the ordinary words among Voikko's spelling
    suggestions that are one edit away; empty when there is none.

    Words shorter than five letters are never typos here: among short words
    names from abroad are too often one letter from a Finnish word (Omar, Amin).
    Measured on the development data (see the guard's README), at five letters
    and more this reads 94 % of one-letter typos of the notes' words as typos,
    and 13 % of the lexicon's names that Voikko does not know (the rules use it
    only where a name has no other support).  Cached; scans ask through
    ``TypoCheck``, which bounds the new questions per scan."""
    hit = _TYPO_CACHE.get(word)
    if hit is not None:
        return hit
    if not TYPO_MIN_LENGTH <= len(word) <= TYPO_MAX_LENGTH:
        return _NOT_A_TYPO
    with _LOCK:
        suggestions = _VOIKKO.suggest(word)
    classes: set[str] = set()
    for s in suggestions:
        if " " in s or "-" in s or not _one_edit(word, s):
            continue
        with _LOCK:
            readings = _VOIKKO.analyze(s)
        classes.update(r.get("CLASS", "") for r in readings if r.get("CLASS") not in _PROPER)
    result = frozenset(classes)
    if len(_TYPO_CACHE) >= _TYPO_CACHE_LIMIT:
        _TYPO_CACHE.clear()
    _TYPO_CACHE[word] = result
    return result
