"""Finnish case forms of names ("Ahmed" -> "Ahmedille", "Virtanen" -> "Virtasten"),
the guard's own simple rules.  Used to build the guard's data (``ot_guard.data``)
and the small sets of names.py at import."""
from __future__ import annotations

import re


_VOWELS = "aeiouyäö"


_BACK_VOWEL = re.compile(r"[aouAOU][^-]*$")
_GRADATION_DOUBLE = re.compile(r"(kk|pp|tt)([aeiouyäö])$")
_GRADATION_HT = re.compile(r"ht[aeiouyäö]$")
_GRADATION_T = re.compile(r"[aeiouyäö]t[aeiouyäö]$")
_VOWEL_S = re.compile(r"[aeiouyäö]s$")


def _harmony(word: str) -> tuple[str, str]:
    """(a, o) or (ä, ö) by Finnish vowel harmony of the last compound part."""
    return ("a", "o") if _BACK_VOWEL.search(word) else ("ä", "ö")


def _weak_stems(name: str) -> set[str]:
    """Stems with consonant gradation applied to the last syllable.

    kk->k, pp->p, tt->t (Pekka->Peka-, Matti->Mati-); ht->hd (Ahti->Ahdi-);
    a single t between vowels may weaken to d (Satu->Sadu-) but often does
    not in names (Kati->Kati-), so both stems are kept."""
    stems = {name}
    m = _GRADATION_DOUBLE.search(name)
    if m:
        stems = {name[: m.start()] + m.group(1)[0] + m.group(2)}
    elif _GRADATION_HT.search(name):
        stems.add(name[:-2] + "d" + name[-1])
    elif _GRADATION_T.search(name):
        stems.add(name[:-2] + "d" + name[-1])
    return stems


def inflections(name: str) -> set[str]:
    """Common case forms of a name (singular; plus plural for -nen surnames)."""
    a, _ = _harmony(name)
    local = ["n", "lle", "ll" + a, "lt" + a, "ksi", "ss" + a, "st" + a, "t", "kin", "nkin"]
    forms = {name}
    last = name[-1]
    if name.endswith("nen"):
        # Virtanen -> Virtase-n/-lle/..., Virtasta, Virtaseen, Virtaset, Virtasten
        stem = name[:-3] + "se"
        forms |= {stem + e for e in local}
        forms |= {name[:-3] + "s" + e for e in ("t" + a, "ten", "ille", "ill" + a, "ilt" + a, "iin", "ien", "i" + a, "iss" + a)}
        forms.add(stem + "en")
    elif last in _VOWELS:
        for stem in _weak_stems(name):
            forms |= {stem + e for e in local}
        # strong-grade forms: partitive, essive, illative
        forms |= {name + a, name + "n" + a, name + last + "n"}
        if last == "e":  # Kalle -> Kallea, Kalleen
            forms |= {name + "e" + "n", name + "h" + "en"}
    elif _VOWEL_S.search(name):
        # Aatos -> Aatokse-n, Elias -> Eliakse-lle; partitive Eliasta
        stem = name[:-1] + "kse"
        forms |= {stem + e for e in local}
        forms |= {name + "t" + a, stem + "en"}
    else:
        # Aaron -> Aaroni-n, Oskar -> Oskari-lle
        stem = name + "i"
        forms |= {stem + e for e in local}
        forms |= {stem + a, stem + "in"}
    return forms


def expand(words) -> frozenset[str]:
    """Every case form of every word."""
    out: set[str] = set()
    for w in words:
        out |= inflections(w)
    return frozenset(out)
