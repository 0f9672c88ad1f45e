"""Person-name detection for Finnish (and some English) prose.

The lexicon is Faker's ``fi_FI`` first- and last-name lists (real, maintained
name data), expanded once at import into their common inflected forms
("Matti" -> "Matin", "Matille", ...; "Virtanen" -> "Virtasen", "Korhoselle").

Rules, in order of importance (each chosen for precision on real prose):

1. Only capitalised tokens are names.  Lower-case "matti" or ALL-CAPS
   "MATTI" are not checked (all caps is used for services: OT-TUKI, KYS).
2. A token that is a place, an organisation or a month/weekday
   ("Kuopio", "Elmeri", "Valteri", "Lahti", "Kaarina") is *weak*: it is a name
   only next to another name token ("Kaarina Salo") or right after a family
   role word ("äiti Kaarina").
3. A name that is also an ordinary Finnish word ("Toivo", "Onni", "Usko",
   "Suvi", "Tuuli", "Aino", "Anna", "Marja", ...) is weak *at sentence
   start*, where any word is capitalised: "Usko omiin kykyihin..." is not a
   name.  It is still a name at sentence start when followed by another name,
   after a role word, or when the same name occurs as a name elsewhere in the
   text ("Toivo kertoi... Toivon äiti...").  Mid-sentence it is a name.
4. Adjacent name tokens form one finding ("Maija Virtanen", "Virtanen
   Maija").  A strong first name followed by any other capitalised word
   extends over it, so surnames missing from the list are still covered
   ("Maija Möttönen").
5. Hyphenated tokens are names only when every part is a name
   ("Anna-Liisa", "Virtanen-Korhonen"); "Elmeri-koulu" and "Etelä-Savo" are not.
6. A span followed by an institution noun ("Elmeri school", "Juhani Ahon
   koulu", "Mäntylän koulu") names an institution, not a person -- except a
   single inflected first name ("Matin koulu" is Matti's school).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from faker.providers.address.fi_FI import Provider as _AddressProvider
from faker.providers.person.fi_FI import Provider as _PersonProvider

# Common Finnish given names missing from Faker's list.  Kept tiny on purpose:
# the lexicon proper comes from the package data.
_EXTRA_FIRST_NAMES = ("Usko", "Lempi", "Rauha", "Unto", "Into", "Sulo", "Urho", "Valo", "Meri", "Eelis")

FIRST_NAMES: frozenset[str] = frozenset(_PersonProvider.first_names) | frozenset(_EXTRA_FIRST_NAMES)
LAST_NAMES: frozenset[str] = frozenset(_PersonProvider.last_names)

# Names that are also ordinary words (rule 3).
COMMON_WORD_NAMES = frozenset({
    "Aimo", "Aino", "Anna", "Armas", "Arvo", "Aurora", "Helmi", "Ilona", "Into",
    "Kai", "Kari", "Lempi", "Lilja", "Linnea", "Marja", "Meri", "Oiva", "Onni",
    "Orvokki", "Pia", "Rauha", "Satu", "Sisko", "Sulo", "Suvi", "Taisto", "Taru",
    "Toivo", "Tuija", "Tuuli", "Urho", "Usko", "Valo", "Veikko", "Veli", "Jan",
    # surnames
    "Aalto", "Aho", "Aro", "Elo", "Halme", "Harju", "Järvi", "Kallio", "Kangas",
    "Kanerva", "Karhu", "Kärki", "Keskinen", "Kiuru", "Kivinen", "Kokko", "Korpi",
    "Koski", "Kurki", "Laakso", "Laine", "Lehto", "Leino", "Linna", "Luoma",
    "Mäki", "Niemi", "Nurmi", "Ranta", "Repo", "Rinne", "Ruotsalainen", "Saari",
    "Salmi", "Seppä", "Suomalainen", "Taipale", "Tikka", "Tuomi", "Vainio",
    "Varis", "Venäläinen", "Virta", "Vuori",
})

# Organisations and units of the OT network whose names collide with given
# names or their inflections ("Valterin" is both Valtteri's genitive and the
# Valteri centre's).
ORGANISATION_NAMES = frozenset({
    "Elmeri", "Sateenkaari", "Valteri", "Varjo", "Vaalijala", "Barnahus",
    "Kys", "Koske", "Iso",
})

_MONTHS_AND_DAYS = (
    "tammikuu helmikuu maaliskuu huhtikuu toukokuu kesäkuu heinäkuu elokuu "
    "syyskuu lokakuu marraskuu joulukuu maanantai tiistai keskiviikko torstai "
    "perjantai lauantai sunnuntai January February March April May June July "
    "August September October November December Monday Tuesday Wednesday "
    "Thursday Friday Saturday Sunday"
).split()

PLACE_NAMES = frozenset(_AddressProvider.cities) | frozenset(_AddressProvider.states) | frozenset({
    "Suomi", "Finland", "Kuopio", "Jyväskylä", "Joensuu", "Mikkeli", "Savonlinna",
    "Varkaus", "Iisalmi", "Pieksämäki", "Lahti", "Salo", "Kaarina", "Simo",
})

# Family and client role words after which even a weak token is a name
# ("äiti Kaarina", "pojan Toivon").  Matched as lower-case word prefixes.
_ROLE_PREFIXES = (
    "äiti", "äidi", "isä", "isän", "isoäi", "isoisä", "mummo", "mummi", "ukki",
    "vaari", "pappa", "lapsi", "lapse", "poika", "poja", "tyttö", "tytö", "tytär",
    "tyttäre", "sisko", "sisar", "veli", "velje", "vauva", "huoltaja", "asiakas",
    "asiakkaa", "oppilas", "oppilaa", "nuori", "nuore", "puoliso", "avopuoliso",
    "child", "mother", "father", "son", "daughter", "brother", "sister", "client",
    "pupil", "mr", "mrs", "ms", "rouva", "herra",
)

# Family words after a genitive ("Toivon äiti"); narrower than the role words
# so that "Salon nuorisotoimi" stays a place.
_FAMILY_PREFIXES = (
    "äiti", "äidi", "isä", "isi", "isoäi", "isoisä", "mummo", "mummi", "ukki",
    "vaari", "veli", "velje", "sisko", "sisar", "poika", "poja", "tytär", "tyttäre",
    "puoliso", "avopuoliso", "vanhemm", "huoltaja",
)

# Institution nouns after which a capitalised word names an institution (rule 6).
_INSTITUTION_WORDS = frozenset({
    "koulu", "koulun", "koulua", "koulussa", "kouluun", "koulusta", "koululla", "koululle",
    "päiväkotia", "lukiota", "lukiossa",
    "school", "centre", "center", "hospital", "päiväkoti", "päiväkodin",
    "päiväkodissa", "lukio", "lukion", "säätiö", "säätiön", "keskus", "keskuksen",
    "sairaala", "sairaalan", "ry", "oy", "seurakunta", "opisto", "instituutti",
})


# --- inflection -------------------------------------------------------------

_VOWELS = "aeiouyäö"


def _harmony(word: str) -> tuple[str, str]:
    """(a, o) or (ä, ö) by Finnish vowel harmony of the last compound part."""
    part = word.rsplit("-", 1)[-1].lower()
    return ("a", "o") if any(c in "aou" for c in part) else ("ä", "ö")


def _weak_stems(name: str) -> set[str]:
    """Stems with consonant gradation applied to the last syllable.

    kk->k, pp->p, tt->t (Pekka->Peka-, Matti->Mati-); ht->hd (Ahti->Ahdi-);
    a single t between vowels may weaken to d (Satu->Sadu-) but often does
    not in names (Kati->Kati-), so both stems are kept."""
    stems = {name}
    m = re.search(r"(kk|pp|tt)([aeiouyäö])$", name)
    if m:
        stems = {name[: m.start()] + m.group(1)[0] + m.group(2)}
    elif re.search(r"ht[aeiouyäö]$", name):
        stems.add(name[:-2] + "d" + name[-1])
    elif re.search(r"[aeiouyäö]t[aeiouyäö]$", name):
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
    elif re.search(r"[aeiouyäö]s$", name):
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


@dataclass(frozen=True)
class _Entry:
    base: str
    is_first: bool
    is_last: bool


def _build_lexicon() -> dict[str, list[_Entry]]:
    lex: dict[str, list[_Entry]] = {}
    for base in sorted(FIRST_NAMES | LAST_NAMES):
        entry = _Entry(base, base in FIRST_NAMES, base in LAST_NAMES)
        for form in inflections(base):
            lex.setdefault(form, []).append(entry)
    return lex


def _expand(words) -> frozenset[str]:
    out: set[str] = set()
    for w in words:
        out |= inflections(w)
    return frozenset(out)


# Built once at import: ~800 names -> ~17k forms, a fraction of a second.
_LEXICON = _build_lexicon()
_COMMON_FORMS = _expand(COMMON_WORD_NAMES)
# Places get simple locative forms too ("Kuopiossa", "Lahdessa" is not
# generated, which is fine: it is not a name form either).
_WEAK_FORMS = _expand(ORGANISATION_NAMES | PLACE_NAMES) | _expand(
    w.capitalize() for w in _MONTHS_AND_DAYS
)

_TOKEN = re.compile(r"(?<![\w@.])[^\W\d_]+(?:-[^\W\d_]+)*(?![\w@])")
_SENTENCE_END = re.compile(r"(?:[.!?:;\n•]|\n\s*[-*])[\s\"'“”«(\[]*$")


@dataclass
class _Tok:
    start: int
    end: int
    text: str
    name: bool = False          # matches the lexicon
    weak: bool = False          # name only with support (rules 2 and 3)
    base: str = ""
    capitalised: bool = False
    nominative: bool = False


def _lookup(word: str) -> list[_Entry] | None:
    if word in _LEXICON:
        return _LEXICON[word]
    parts = word.split("-")
    if len(parts) > 1 and all(p in _LEXICON for p in parts):
        # Double-barrelled: Virtanen-Korhonen, Anna-Maija (if not listed whole)
        return _LEXICON[parts[-1]]
    return None


def _classify(text: str, m: re.Match) -> _Tok:
    word = m.group()
    # "Niina-niminen nuori" (a young person named Niina): the name is the part
    # before "-niminen"/"-nimisen"/..., unlike "Elmeri-koulu".
    named = re.match(r"([^\W\d_]+)-nimi", word)
    if named:
        word = named.group(1)
    tok = _Tok(m.start(), m.start() + len(word), word)
    tok.capitalised = word[0].isupper() and not word.isupper()
    if not tok.capitalised:
        return tok
    entries = _lookup(word)
    if not entries:
        return tok
    tok.name = True
    tok.base = entries[0].base
    tok.nominative = any(e.base == word for e in entries)
    at_sentence_start = _at_sentence_start(text, m.start())
    if word in _WEAK_FORMS or word.split("-")[0] in _WEAK_FORMS:
        tok.weak = True
    elif at_sentence_start and word in _COMMON_FORMS:
        tok.weak = True
    return tok


def _at_sentence_start(text: str, pos: int) -> bool:
    before = text[max(0, pos - 8):pos]
    if pos < 8:
        before = "\n" + before  # text start counts as a sentence start
    return bool(_SENTENCE_END.search(before))


def _after_role_word(text: str, pos: int) -> bool:
    m = re.search(r"(\w+)[\s,]+$", text[max(0, pos - 30):pos])
    return bool(m) and m.group(1).lower().startswith(_ROLE_PREFIXES)


def _genitive_before_role_word(text: str, tok: _Tok) -> bool:
    """ "Toivon äiti", "Onnin isälle": a genitive right before a family role
    word is a person even at sentence start."""
    return (tok.text.endswith("n") and not tok.nominative
            and _next_word(text, tok.end).startswith(_FAMILY_PREFIXES))


def _next_word(text: str, pos: int) -> str:
    m = re.match(r"\s+(\w+)", text[pos:pos + 40])
    return m.group(1).lower() if m else ""


def find(text: str) -> list[tuple[int, int]]:
    toks = [_classify(text, m) for m in _TOKEN.finditer(text)]
    # Rule 3, document consistency: a base used as a plain name elsewhere is a
    # name at sentence start too (only for common-word names, not places).
    strong_bases = {t.base for t in toks if t.name and not t.weak}
    for t in toks:
        if t.weak and t.base in strong_bases and t.text not in _WEAK_FORMS:
            t.weak = False

    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(toks):
        first = toks[i]
        if not first.name:
            i += 1
            continue
        # Rule 4: adjacent tokens separated by exactly one space form one name.
        # Index-based (no copy of the rest of the list per token): linear.
        group = [first]
        j = i + 1
        while j < len(toks):
            nxt = toks[j]
            if nxt.start != group[-1].end + 1 or text[group[-1].end] != " ":
                break
            if nxt.name:
                group.append(nxt)
                j += 1
                continue
            if (len(group) == 1 and not first.weak and first.nominative
                    and _is_first_name(first.text)
                    and nxt.capitalised and nxt.text not in _WEAK_FORMS):
                group.append(nxt)  # surname missing from the lexicon
            break
        i += len(group)

        if len(group) == 1 and first.weak and not (
                _after_role_word(text, first.start)
                or _genitive_before_role_word(text, first)):
            continue
        last = group[-1]
        if _next_word(text, last.end) in _INSTITUTION_WORDS and (
                last.nominative or len(group) > 1 or not _is_first_name(last.text)):
            continue  # rule 6: "Elmeri school", "Juhani Ahon koulu", "Mäntylän koulu"
        spans.append((first.start, last.end))
    return spans


def _is_first_name(word: str) -> bool:
    return any(e.is_first for e in _LEXICON.get(word, ()))
