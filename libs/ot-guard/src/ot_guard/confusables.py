"""The confusables table of the guard, built from Unicode's confusables data as the
``confusable-homoglyphs`` package ships it.  Run only to build the guard's data file
(``ot_guard.data``): at run time the guard reads the table from that file, without
loading the package's whole JSON (6 MB of every service's memory)."""
from __future__ import annotations

import string
import unicodedata

_ASCII_VISIBLE = frozenset(string.ascii_letters + string.digits + string.punctuation)


def build() -> dict[str, str]:
    """Single characters that imitate one ASCII letter, digit or punctuation
    mark (~1,400 entries)."""
    from confusable_homoglyphs.confusables import confusables_data

    table = {}
    for source, homoglyphs in confusables_data.items():
        if len(source) != 1 or source.isascii() or unicodedata.category(source)[0] == "M":
            continue  # marks are left to NFC and the ASCII-base rule
        targets = [h["c"] for h in homoglyphs if h["c"] in _ASCII_VISIBLE]
        if not targets:
            continue
        target = targets[0]
        # Unicode's skeleton folds I, l and 1 into "l"; a capital look-alike of I
        # (Cyrillic І, Greek Ι) must stay a capital so that "Іlkka" reads "Ilkka".
        if target == "l" and source.isupper():
            target = "I"
        table[source] = target
    return table
