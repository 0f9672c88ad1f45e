"""Unicode normalisation before scanning, so that a disguised identifier is
found like a plain one, with offsets that stay in the caller's text.

Each character (with the combining marks that follow it) is folded on its own:

1. NFKD: compatibility forms become plain ones (full-width ``１２`` and ``＠``,
   the small commercial at, no-break spaces, ligatures); letters with
   diacritics are split into letter + mark for step 2.
2. Each resulting character is mapped:
   - invisible characters are dropped: format characters (category Cf: zero-width
     space and joiners, soft hyphen, word joiner, BOM, bidi controls), private-use
     and unassigned code points, and the Hangul fillers (blank letters);
   - every dash or hyphen (category Pd) becomes ``-``, every space (Zs) ``" "``,
     line and paragraph separators ``"\\n"``;
   - every decimal digit of any script becomes its ASCII digit;
   - a look-alike letter or sign becomes the ASCII character it imitates, from
     Unicode's confusables table (the maintained data shipped by the
     ``confusable-homoglyphs`` package): Cyrillic ``А`` -> ``A``, Greek ``Ο`` -> ``O``.
3. NFC puts letters and marks back together, so å ä ö é ü survive (step 1 split
   them into a plain ASCII letter and a mark, and ASCII is never mapped).  A mark
   left on an ASCII character (``2`` + combining acute) has no letter to form and
   only hides the character, so it is dropped.

``Normalised.original_span`` maps a span of the normalised text back to the
caller's text: it starts where the first character's source starts and ends where
the last one's ends, so it covers every character dropped inside it.

All of this is one pass over the text: runs of characters that fold to
themselves (ASCII, Finnish and most other letters) are copied by a regular
expression, and only the rest is folded character by character (with at most
``MAX_MARKS`` combining marks each).
"""
from __future__ import annotations

import re
import unicodedata
from array import array
from dataclasses import dataclass
from functools import lru_cache

from .data import loaded

_DROPPED_CATEGORIES = frozenset({"Cf", "Co", "Cn", "Cs"})
# Blank letters (category Lo) that render as nothing; NFKD folds U+3164 and U+FFA0
# into U+1160, so these two cover all of them.
_HANGUL_FILLERS = frozenset("\u115f\u1160")


# Built from the package data by ot_guard.confusables, read from the guard's data file.
CONFUSABLES: dict[str, str] = loaded().confusables


def _fold_char(ch: str) -> str:
    if ch.isascii():
        return ch
    category = unicodedata.category(ch)
    if category in _DROPPED_CATEGORIES or ch in _HANGUL_FILLERS:
        return ""
    if category == "Zs":
        return " "
    if category in ("Zl", "Zp"):
        return "\n"
    if category == "Pd":
        return "-"
    if category == "Nd":
        return str(unicodedata.decimal(ch))
    return CONFUSABLES.get(ch, ch)


# At most this many combining marks are folded with the character before them;
# the rest of a longer run is folded in further pieces of this size (and, having
# no letter, dropped).  CPython's canonical reordering is quadratic in the length
# of a run of marks: a letter with 32,000 marks took a second.  Unicode's
# stream-safe format (UAX #15) uses the same bound; no language needs more.
MAX_MARKS = 30


def _is_mark(ch: str) -> bool:
    return unicodedata.category(ch)[0] == "M"


@lru_cache(maxsize=4096)
def fold(chunk: str) -> str:
    """One character plus its combining marks, folded (steps 1-3 above)."""
    mapped = "".join(_fold_char(c) for c in unicodedata.normalize("NFKD", chunk))
    out = unicodedata.normalize("NFC", mapped)
    if all(c.isascii() or _is_mark(c) for c in out):
        out = "".join(c for c in out if c.isascii())
    return out


def _plain_class() -> str:
    """A regex class of the characters that fold to themselves and are not
    marks: all of ASCII plus the stable characters below U+3000 (Latin with
    å ä ö é ü, Greek and Cyrillic letters without a look-alike, ...)."""
    stable = [cp for cp in range(0x80, 0x3000)
              if not _is_mark(chr(cp)) and fold.__wrapped__(chr(cp)) == chr(cp)]
    ranges, first, last = [], None, None
    for cp in stable:
        if last is not None and cp == last + 1:
            last = cp
            continue
        if first is not None:
            ranges.append((first, last))
        first = last = cp
    if first is not None:
        ranges.append((first, last))
    return "[\x00-\x7f" + "".join(f"{chr(a)}-{chr(b)}" for a, b in ranges) + "]"


# None of the stable characters is a regex metacharacter (those are ASCII, and
# ASCII is written as the range \x00-\x7f), so the class needs no escaping.
_PLAIN_RUN = re.compile(_plain_class() + "+")


@dataclass(frozen=True)
class Normalised:
    """The normalised text and, when it differs from the original, where each
    of its characters came from (``starts[i]:ends[i]`` in the original)."""
    text: str
    starts: array | None = None
    ends: array | None = None

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of the normalised span ``text[start:end]`` (end > start)."""
        if self.starts is None:
            return start, end
        return self.starts[start], self.ends[end - 1]


def normalise(text: str) -> Normalised:
    """Fold ``text`` for scanning (see the module docstring).  Linear in its length."""
    n = len(text)
    m = _PLAIN_RUN.match(text)
    if n == 0 or (m and m.end() == n):
        return Normalised(text)  # nothing to fold: the common case, no index map

    pieces: list[str] = []
    starts, ends = array("q"), array("q")
    pos = 0
    while pos < n:
        m = _PLAIN_RUN.match(text, pos)
        end = m.end() if m else pos
        if pos < end < n and _is_mark(text[end]):
            end -= 1  # the last character of the run takes the marks after it
        if end > pos:
            pieces.append(text[pos:end])
            starts.extend(range(pos, end))
            ends.extend(range(pos + 1, end + 1))
            pos = end
            continue
        end = pos + 1
        while end < n and end - pos <= MAX_MARKS and _is_mark(text[end]):
            end += 1
        out = fold(text[pos:end])
        pieces.append(out)
        starts.extend([pos] * len(out))
        ends.extend([end] * len(out))
        pos = end
    return Normalised("".join(pieces), starts, ends)
