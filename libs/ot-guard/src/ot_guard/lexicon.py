"""Name data for the guard, from Faker's person lists (maintained, many locales).

The locales are those of the families a Finnish case note is most likely to
name: Finnish, Swedish (also Swedish-speaking Finns and, in Faker's list, many
Somali and Arabic names), Estonian, Russian and Ukrainian (transliterated the
Finnish way, SFS 4900), Vietnamese and Turkish/Azerbaijani (with and without
their diacritics), Thai (Faker's romanised list), and Latin spellings of Arabic,
Persian and Somali names (Algerian French, Pakistani, Uzbek and Hausa lists).

One slice of every list is left out of the lexicon on purpose: the names whose
CRC-32 is divisible by five (``held_out``).  The held-out corpus draws its
surnames from that slice, so its recall figure measures names the guard has
never seen, as a real case note would contain (see the README).
"""
from __future__ import annotations

import importlib
import unicodedata
import zlib

LOCALES: tuple[str, ...] = (
    "fi_FI", "sv_SE", "et_EE", "ru_RU", "uk_UA", "vi_VN", "en_TH", "fr_DZ", "en_PK",
    "tr_TR", "az_AZ", "uz_UZ", "ha_NG",
)


def held_out(name: str) -> bool:
    """True for the slice of Faker's names that the lexicon leaves out."""
    return zlib.crc32(name.encode("utf-8")) % 5 == 0


# Cyrillic to Latin as Finnish registers write it (SFS 4900, simplified): Jelena,
# Natalja, Sergei, Tšernova.  Ukrainian differs in a few letters (г is h, и is y).
_RU = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "jo", "ж": "ž",
    "з": "z", "и": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "h", "ц": "ts",
    "ч": "tš", "ш": "š", "щ": "štš", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "ju",
    "я": "ja", "і": "i", "ї": "ji", "є": "je", "ґ": "g", "'": "", "’": "",
}
_UK = dict(_RU, г="h", и="y", е="e")
_VOWELS = "aeiouyäöаеёиоуыэюяіїє"


def transliterate_cyrillic(name: str, ukrainian: bool = False) -> str:
    table = _UK if ukrainian else _RU
    out = []
    for i, ch in enumerate(name):
        low = ch.lower()
        prev = name[i - 1].lower() if i else ""
        if low == "е" and not ukrainian and (i == 0 or prev in _VOWELS or prev in "ьъ"):
            latin = "je"  # Jelena, Andrejev
        else:
            latin = table.get(low, low)
        out.append(latin.capitalize() if ch.isupper() else latin)
    return "".join(out)


def fold_diacritics(name: str) -> str:
    """Vietnamese, Turkish and similar letters without their marks, as notes often
    write them (Nguyễn -> Nguyen, Şahin -> Sahin); å ä ö stay."""
    if name.isascii():
        return name
    out = []
    for ch in name:
        if ch in "åäöÅÄÖ":
            out.append(ch)
            continue
        ch = {"đ": "d", "Đ": "D", "ı": "i", "ə": "e", "Ə": "E", "ø": "ö", "Ø": "Ö"}.get(ch, ch)
        out.append("".join(c for c in unicodedata.normalize("NFD", ch)
                           if unicodedata.category(c) != "Mn"))
    return unicodedata.normalize("NFC", "".join(out))


def _names(provider, *attrs) -> list[str]:
    out: list[str] = []
    for attr in attrs:
        value = getattr(provider, attr, None) or ()
        out.extend(value)  # tuples, lists or weighted OrderedDicts: keys are names
    return list(dict.fromkeys(out))


def source_names(locale: str) -> tuple[list[str], list[str]]:
    """(first names, last names) of one Faker locale, as written in the source
    (Cyrillic for ru_RU/uk_UA), in a stable order, held-out slice included."""
    provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
    first = _names(provider, "first_names", "first_names_male", "first_names_female")
    last = _names(provider, "last_names", "last_names_male", "last_names_female")
    if locale == "vi_VN":
        # "Nguyễn Văn Minh": the middle names are given names; Faker's plain
        # first_names of this locale are placeholders.
        first = _names(provider, "first_names_male", "first_names_female", "middle_names")
    first = [n for n in first if n.strip()]
    last = [n for n in last if n.strip()]
    return first, last


def latin_forms(name: str, locale: str) -> list[str]:
    """The Latin spellings a Finnish note would use for a source name (each part
    of a multi-word name on its own)."""
    forms = {name}
    if locale in ("ru_RU", "uk_UA"):
        name = transliterate_cyrillic(name, ukrainian=locale == "uk_UA")
        # the Finnish spelling (Bolšakov) and the English one (Bolshakov)
        forms = {name, name.replace("tš", "ch").replace("š", "sh").replace("ž", "zh")
                 .replace("Tš", "Ch").replace("Š", "Sh").replace("Ž", "Zh")}
    forms |= {fold_diacritics(f) for f in forms}
    parts = {p for f in forms for p in f.split() if len(p) > 1}
    return sorted(parts)


def lexicon() -> tuple[frozenset[str], frozenset[str]]:
    """(first names, last names) the guard knows: every locale's Latin forms,
    without the held-out slice."""
    first: set[str] = set()
    last: set[str] = set()
    for locale in LOCALES:
        firsts, lasts = source_names(locale)
        for target, names in ((first, firsts), (last, lasts)):
            for name in names:
                if not held_out(name):
                    target.update(latin_forms(name, locale))
    return frozenset(first), frozenset(last)
