"""Writes notes_dev.jsonl, notes_heldout.jsonl, notes_heldout2.jsonl and
notes_heldout3.jsonl next to this file: realistic case notes (several people and identifiers per note, Finnish and
Swedish) and clean case text full of traps, labelled, deterministically (seeded).

Four parts:

* ``dev``: the guard was developed on it (its clean texts were broadened with every
  trap kind when the false positives were worked on);
* ``heldout2``: the fresh held-out part the figures and the gates use.  Its templates
  were written before the guard was tuned on the broadened development texts, and
  it was measured once;
* ``heldout3``: heldout2's templates, streets, codes and cities with a new seed, so
  new names and values; generated after the third round of rules was fixed and
  measured once (the gates use it for names);
* ``heldout``: the first held-out part, kept as it was for comparison (its clean
  texts had no authority, app, typo, Swedish or English lines).

The parts share nothing but the categories:

* different sentence templates;
* different names.  Development names come from the slice of Faker's lists that
  the guard's lexicon contains.  Held-out first names come from another source,
  the first-name dictionary shipped by ``gender-guesser`` (Jörg Michael's
  ``nam_dict.txt``, frequencies per country), and held-out surnames from the
  slice of Faker's lists that the lexicon leaves out (``ot_guard.lexicon.held_out``);
  "less common Finnish first names" are dictionary names the lexicon lacks
  (both held-out parts draw from these pools, with different seeds);
* different seeds, streets, diagnosis codes, cities and number formats where a
  category allows it (``PART_DATA``).

Every identifier is synthetic: random combinations of listed names, random
dates and digits, e-mails at example.fi/example.com.  The real people named in
the project's source pages are never generated (checked by hash below).

Template syntax: ``{kind/category:generator}`` inserts a generated value and
labels it; ``{-/trap:generator}`` inserts a value that must NOT be found (the
text is then labelled with that trap).  Offsets are computed while the text is
assembled.

Run:  python tests/corpus/generate_notes.py
"""
from __future__ import annotations

import functools
import hashlib
import json
import random
import re
from pathlib import Path

import gender_guesser.detector
import phonenumbers

from ot_guard import lexicon

HERE = Path(__file__).parent
PARTS = ("dev", "heldout", "heldout2", "heldout3")
OUT = {part: HERE / f"notes_{part}.jsonl" for part in PARTS}
SEEDS = {"dev": 20250110, "heldout": 20250111, "heldout2": 20250112, "heldout3": 20250113}

# sha256 of the given names and surnames of the real people in the project's
# source pages: never generated, not even by chance.
_REAL_PEOPLE = {
    "cdb3bf8d29455c1c9cb407614a4d3f6717ea714937178d21e78a349258e42dc5",
    "26ae1910d5ef418b0b92cc130a4eab55f23bd2949a2bebf15ad64b121873c914",
    "750282c522c3a724e173f53a2e6c431b927e2c30cff9b138d07fa1083551b2e1",
    "aa6acb3d51b0bdfc785514b279c0b86e94f5f04a5ed7e4a452a44b86e4730600",
    "74d43b21a9da2bf5a8001e3b2a69f4db4fd94f5efa8f7c0d8298049cc3db34d2",
    "2fd20afaa3545a0b9c86fbf6e7eca1b84b09df20774457f89d84cd5f851f273d",
}


def _sha(s: str) -> str:
    return hashlib.sha256(s.encode("utf-8")).hexdigest()


def _real_person_part(name: str) -> bool:
    return _sha(name) in _REAL_PEOPLE


# --- name pools ------------------------------------------------------------------

_GG = gender_guesser.detector.Detector()


@functools.lru_cache(maxsize=None)
def _dictionary(country: str, lo: int = 1, hi: int = 13) -> tuple[str, ...]:
    """First names of one country column of gender-guesser's dictionary with a
    frequency in [lo, hi] (1 rare ... 13 extremely common), single words only."""
    i = _GG.COUNTRIES.index(country)
    out = []
    for name, genders in _GG.names.items():
        freq = max((int(v[i], 16) for v in genders.values() if i < len(v) and v[i].strip()),
                   default=0)
        if lo <= freq <= hi and name.isalpha() and name[0].isupper() and len(name) > 2:
            out.append(name)
    return tuple(sorted(set(out)))


COMMON_WORD_NAMES = ["Ilo", "Lumi", "Valo", "Into", "Usko", "Toivo", "Onni", "Aino"]
# Names the old generator kept out of random picks (places, organisations,
# common words): the new corpus still avoids them outside their own categories.
_AMBIGUOUS = set(COMMON_WORD_NAMES) | {
    "Anna", "Kari", "Satu", "Suvi", "Tuuli", "Marja", "Helmi", "Armas", "Arvo", "Kaarina",
    "Simo", "Elmeri", "Valtteri", "Lahti", "Salo", "Aalto", "Mäki", "Niemi", "Virta", "Koski",
    "Kallio", "Saari", "Laine", "Järvi", "Vuori", "Ranta", "Rinne", "Nurmi", "Kangas", "Harju",
    "Wilma", "Hai", "Sana", "Lan", "Son", "Kim", "Jan", "Per", "Bo", "Love", "Hans", "Dag",
    "Suomalainen", "Ruotsalainen", "Venäläinen", "Saksalainen", "Virolainen", "Keskinen",
}


def _ok(name: str) -> bool:
    # Ukrainian transliterations may keep a modifier apostrophe (Babʼjak), which the
    # guard's normalisation folds to "'", splitting the name: kept out of the corpus.
    return (len(name) > 2 and name[0].isupper() and name.replace("-", "").isalpha()
            and "ʼ" not in name and name not in _AMBIGUOUS and not _real_person_part(name))


def _latin(locale: str, names: list[str]) -> list[str]:
    """Up to two Latin spellings of each name (Bolšakov and Bolshakov, Nguyễn and Nguyen)."""
    out = []
    for n in names:
        out.extend([f for f in lexicon.latin_forms(n, locale) if f[0].isupper()][:2])
    return out


def _faker(locale: str, part: str) -> tuple[list[str], list[str]]:
    """Faker's names of ``locale``: the lexicon's slice for dev, the held-out slice
    for both held-out parts."""
    first, last = lexicon.source_names(locale)
    keep = (lambda n: not lexicon.held_out(n)) if part == "dev" else lexicon.held_out
    return _latin(locale, [n for n in first if keep(n)]), _latin(locale, [n for n in last if keep(n)])


def build_pools(part: str) -> dict[str, tuple[list[str], list[str]]]:
    """origin -> (first names, surnames) for one part."""
    lex_first, lex_last = lexicon.lexicon()
    known = lex_first | lex_last
    f = {loc: _faker(loc, part) for loc in lexicon.LOCALES}
    if part == "dev":
        fi_first, fi_last = f["fi_FI"]
        common = set(_dictionary("finland", 5))
        pools = {
            "fi": (fi_first, fi_last),
            "fi_rare": ([n for n in fi_first if n not in common], fi_last),
            "sv": ([n for n in f["sv_SE"][0] if n in set(_dictionary("sweden"))], f["sv_SE"][1]),
            "so": (f["ha_NG"][0] + [n for n in f["sv_SE"][0] if n.startswith("Abd")],
                   f["ha_NG"][0] + f["ha_NG"][1]),
            "ar": f["fr_DZ"],
            "fa": f["en_PK"],
            "ku": (f["tr_TR"][0], f["tr_TR"][1] + f["az_AZ"][1]),
            "ru": f["ru_RU"],
            "uk": f["uk_UA"],
            "et": f["et_EE"],
            "vi": f["vi_VN"],
            "th": f["en_TH"],
        }
    else:
        arabia = list(_dictionary("arabia"))
        pools = {
            "fi": (list(_dictionary("finland", 5)), f["fi_FI"][1]),
            "fi_rare": ([n for n in _dictionary("finland", 1, 3) if n not in known], f["fi_FI"][1]),
            "sv": ([n for n in _dictionary("sweden") if n in _dictionary("finland")], f["sv_SE"][1]),
            "so": (arabia, arabia),  # Somali: given name + father's given name
            "ar": (arabia, f["fr_DZ"][1]),
            "fa": (arabia, f["en_PK"][1] + f["az_AZ"][1]),
            "ku": (list(_dictionary("turkey")) + arabia, f["tr_TR"][1] + f["az_AZ"][1]),
            "ru": (list(_dictionary("russia")), f["ru_RU"][1]),
            "uk": (list(_dictionary("ukraine")), f["uk_UA"][1]),
            "et": (list(_dictionary("estonia")), f["et_EE"][1]),
            "vi": (list(_dictionary("vietnam")), f["vi_VN"][1]),
            "th": f["en_TH"],
        }
        # A held-out surname that another locale's list gives the lexicon anyway
        # (Abbas is Algerian and Swedish) is not held out: drop it.
        pools = {o: (first, [n for n in last if n not in known] if o != "so" else last)
                 for o, (first, last) in pools.items()}
    return {o: ([n for n in a if _ok(n)], [n for n in b if _ok(n)]) for o, (a, b) in pools.items()}


FOREIGN = ["so", "ar", "ku", "fa", "ru", "uk", "et", "vi", "th"]


# --- Finnish inflection of names (the generator's own, simple rules) --------------
# Names whose last syllable would change by consonant gradation (Pekka -> Pekan)
# are only used in the nominative: the old corpus's hand-written forms cover those.
_GRADATION = re.compile(r"(?:[kpt]|kk|pp|tt|nk|mp|nt|lt|rt|ht|lk|rk)[aeiouyäö]$")


def _harmony(name: str) -> tuple[str, str]:
    return ("a", "o") if re.search(r"[aou]", name.lower().rsplit("-", 1)[-1]) else ("ä", "ö")


def inflectable(name: str) -> bool:
    return not (_GRADATION.search(name) and not name.endswith("nen"))


def inflect(name: str, case: str) -> str:
    """nom gen all ade abl par ine ela ill kanssa-forms of a singular name."""
    if case == "nom":
        return name
    a, _ = _harmony(name)
    if name.endswith("nen"):
        stem = name[:-3] + "se"
        return {"gen": stem + "n", "all": stem + "lle", "ade": stem + "ll" + a,
                "abl": stem + "lt" + a, "par": name[:-3] + "st" + a,
                "ine": stem + "ss" + a, "ela": stem + "st" + a, "ill": stem + "en"}[case]
    if name[-1].lower() in "aeiouyäö":
        stem = name
        return {"gen": stem + "n", "all": stem + "lle", "ade": stem + "ll" + a,
                "abl": stem + "lt" + a, "par": stem + a, "ine": stem + "ss" + a,
                "ela": stem + "st" + a, "ill": stem + name[-1] + "n"}[case]
    stem = name + "i"  # Hodan -> Hodanin, Ahmed -> Ahmedille
    return {"gen": stem + "n", "all": stem + "lle", "ade": stem + "ll" + a,
            "abl": stem + "lt" + a, "par": stem + a, "ine": stem + "ss" + a,
            "ela": stem + "st" + a, "ill": stem + "in"}[case]


def plural(surname: str, case: str) -> str:
    """Family forms: Korhoset, Korhosten, Korhosille; Mäkelät."""
    a, _ = _harmony(surname)
    if surname.endswith("nen"):
        stem = surname[:-3]
        return {"nom": stem + "set", "gen": stem + "sten", "all": stem + "sille",
                "ade": stem + "silla".replace("a", a), "par": stem + "sia".replace("a", a)}[case]
    return surname + "t"


# --- values ---------------------------------------------------------------------------

CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"
MONTHS_FI = ["tammikuuta", "helmikuuta", "maaliskuuta", "huhtikuuta", "toukokuuta", "kesäkuuta",
             "heinäkuuta", "elokuuta", "syyskuuta", "lokakuuta", "marraskuuta", "joulukuuta"]
MONTHS_SV = ["januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti",
             "september", "oktober", "november", "december"]
NNBSP = "\u202f"


# Values of each part: the parts share no street, diagnosis code or city list.
PART_DATA = {
    "dev": {
        "streets": ["Kalevan", "Puijon", "Myllyn", "Koulu", "Pihlaja", "Aseman", "Tehtaan",
                    "Kirkko", "Satama", "Rauhan", "Vuori", "Sepän"],
        "street_suffixes": ["katu", "tie", "kuja", "polku"],
        "sv_streets": ["Stor", "Skol", "Kyrk", "Strand", "Hamn"],
        "icd_codes": ["F84.0", "F90.0", "Z63.5", "F32.1", "F43.1", "F91.3", "E10.9", "F50.0",
                      "F84.5", "F41.1", "G40.3", "F94.1"],
        "cities": ["Kuopio", "Joensuu", "Mikkeli", "Iisalmi", "Varkaus"],
        "sv_cities": ["Vasa", "Jakobstad", "Ekenäs", "Borgå", "Karleby", "Kristinestad"],
        "foreign_regions": ["SE", "SO", "RU", "EE", "IQ"],
    },
    "heldout": {
        "streets": ["Tulli", "Suo", "Haapa", "Kaartin", "Linna", "Ratsu", "Rautatien",
                    "Sairaala", "Vesi", "Salmen", "Niemen", "Torkkelin"],
        "street_suffixes": ["katu", "tie", "kuja", "rinne", "väylä", "polku"],
        "sv_streets": ["Tall", "Björk", "Kvarn", "Öster", "Sjö"],
        "icd_codes": ["F90.1", "F84.1", "F92.8", "F33.2", "F42.0", "F60.3", "F98.0", "G43.0",
                      "F81.0", "F93.0", "Q99.2", "F40.1", "Z61.4", "F51.0"],
        "cities": ["Jyväskylä", "Savonlinna", "Pieksämäki", "Lieksa", "Kitee", "Jämsä"],
        "sv_cities": ["Vasa", "Jakobstad", "Ekenäs", "Borgå", "Karleby", "Kristinestad"],
        "foreign_regions": ["UA", "VN", "TH", "IR", "TR", "AF", "SY"],
    },
    # The fresh held-out part (heldout2): written before the guard was tuned on the
    # broadened development texts, measured once.
    "heldout2": {
        "streets": ["Koivu", "Metsä", "Pajan", "Ojan", "Lukkarin", "Hovin", "Mänty", "Kuusi",
                    "Ruukin", "Postin", "Kaivo", "Luhta"],
        "street_suffixes": ["katu", "tie", "kuja", "polku", "rinne", "kaari"],
        "sv_streets": ["Lärk", "Ängs", "Berg", "Bäck", "Gran"],
        "icd_codes": ["F90.8", "F84.9", "F32.0", "F41.0", "F43.2", "F91.0", "F95.2", "F80.1",
                      "Z63.8", "G47.0", "F10.2", "F94.0", "E66.9", "F81.3"],
        "cities": ["Kajaani", "Outokumpu", "Nurmes", "Suonenjoki", "Kangasniemi", "Äänekoski"],
        "sv_cities": ["Närpes", "Nykarleby", "Pargas", "Kimito", "Ingå", "Larsmo"],
        "foreign_regions": ["DE", "NO", "ET", "KE", "PK", "SY", "IQ"],
    },
}


PART_DATA["heldout3"] = PART_DATA["heldout2"]


class Gen:
    """Value generators of one part."""

    def __init__(self, part: str):
        self.part = part
        self.rng = random.Random(SEEDS[part])
        self.pools = build_pools(part)
        data = PART_DATA[part]
        self.streets = data["streets"]
        self.street_suffixes = data["street_suffixes"]
        self.sv_streets = data["sv_streets"]
        self.icd_codes = data["icd_codes"]
        self.cities = data["cities"]
        self.sv_cities = data["sv_cities"]
        self.foreign_regions = data["foreign_regions"]

    # names ---------------------------------------------------------------------
    def _origin(self, origin: str) -> str:
        return self.rng.choice(FOREIGN) if origin == "any" else origin

    def _pick(self, origin: str, which: int, need_inflectable: bool = False) -> str:
        pool = self.pools[origin][which]
        for _ in range(50):
            n = self.rng.choice(pool)
            if not need_inflectable or inflectable(n):
                return n
        return n

    def name(self, spec: str) -> tuple[str, str]:
        """(value, origin) for specs like ``full.gen@fi``, ``lc:first@any``,
        ``init:last@fi``, ``plural.nom@fi``, ``cw.gen``."""
        lower = spec.startswith("lc:")
        initials = spec.startswith("init:")
        spec = spec.split(":", 1)[-1]
        base, _, origin = spec.partition("@")
        what, _, case = base.partition(".")
        case = case or "nom"
        origin = self._origin(origin or "fi")
        infl = case != "nom"
        if what == "cw":
            value, origin = inflect(self.rng.choice(COMMON_WORD_NAMES), case), "fi"
        elif what == "plural":
            last = self.rng.choice([n for n in self.pools[origin][1] if n.endswith("nen")]
                                   if case != "nom" or self.rng.random() < 0.7 else
                                   self.pools[origin][1])
            value = plural(last, case)
        elif what == "first":
            value = inflect(self._pick(origin, 0, infl), case)
        elif what == "last":
            value = inflect(self._pick(origin, 1, infl), case)
        else:  # full
            first = self._pick(origin, 0)
            if origin == "so":  # given name + father's (+ grandfather's) name
                parts = [first, self._pick(origin, 1, infl)]
                if self.rng.random() < 0.3:
                    parts.insert(1, self._pick(origin, 1))
            elif origin == "vi" and self.rng.random() < 0.5:  # Nguyen Van Minh
                parts = [self._pick(origin, 1), self._pick(origin, 0), self._pick(origin, 0, infl)]
            else:
                parts = [first, self._pick(origin, 1, infl)]
            parts[-1] = inflect(parts[-1], case)
            value = " ".join(parts)
        if initials:
            first = self._pick(origin, 0)
            sep = self.rng.choice([". ", ". ", "."])
            if "-" in first or self.rng.random() < 0.2:
                value = f"{first[0]}-{self.rng.choice('ALMKJ')}{sep}{value}"
            else:
                value = f"{first[0]}{sep}{value}"
        if lower:
            value = value.lower()
        return value, origin

    # numbers -----------------------------------------------------------------------
    def digits(self, n: int) -> str:
        return "".join(self.rng.choice("0123456789") for _ in range(n))

    def hetu(self, spaced: bool = False) -> str:
        r = self.rng
        year = r.randint(1960, 2023)
        sign = ("-" if year < 2000 else r.choice("A" * 4 + "B")) if year >= 1900 else "+"
        dd, mm = r.randint(1, 28), r.randint(1, 12)
        date = f"{dd:02d}{mm:02d}{year % 100:02d}"
        nnn = r.randint(2, 899)
        code_sign = sign
        if spaced:
            code_sign = r.choice([f" {sign} ", f" {sign}", f"{sign} "])
        return f"{date}{code_sign}{nnn:03d}{CHECK[int(f'{date}{nnn:03d}') % 31]}"

    def phone_fi(self, style: str = "") -> str:
        r = self.rng
        pre = r.choice(["040", "044", "045", "050", "041", "046", "043"])
        style = style or r.choice(["spaced", "hyphen", "solid", "intl", "landline"])
        if style == "spaced":
            return f"{pre} {self.digits(3)} {self.digits(4)}"
        if style == "hyphen":
            return f"{pre}-{self.digits(7)}"
        if style == "solid":
            return f"{pre}{self.digits(7)}"
        if style == "intl":
            return f"+358 {pre[1:]} {self.digits(3)} {self.digits(4)}"
        if style == "slash":
            return r.choice([f"{pre}/{self.digits(3)} {self.digits(4)}",
                             f"{pre} / {self.digits(7)}", f"{pre}/{self.digits(7)}"])
        if style == "nnbsp":
            return f"{pre}{NNBSP}{self.digits(3)}{NNBSP}{self.digits(4)}"
        return r.choice([f"017 {self.digits(3)} {self.digits(4)}", f"014-{self.digits(6)}",
                         f"(013) {self.digits(3)} {self.digits(3)}"])

    def phone_foreign(self) -> str:
        region = self.rng.choice(self.foreign_regions)
        example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
        national = str(example.national_number)
        for _ in range(100):
            keep = 3 if len(national) > 8 else 2
            candidate = national[:keep] + self.digits(len(national) - keep)
            number = phonenumbers.parse(f"+{example.country_code}{candidate}")
            if phonenumbers.is_valid_number(number):
                break
        text = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        if self.rng.random() < 0.25:
            text = "00" + text[1:]
        return text

    def email(self, written_at: bool = False) -> str:
        r = self.rng
        origin = r.choice(["fi", "fi", "sv"] + FOREIGN)
        first, last = self._pick(origin, 0), self._pick(origin, 1)
        fold = str.maketrans("äöåéüšžÄÖÅ", "aoaeuszAOA")
        user = r.choice([f"{first}.{last}", f"{first[0]}{last}", f"{last}{self.digits(2)}",
                         f"{first}{last[0]}"]).lower().translate(fold)
        user = re.sub(r"[^a-z0-9.]", "", user)
        domain = r.choice(["example.fi", "example.com", "mail.example.fi"])
        if written_at:
            at = r.choice(["(at)", "[at]", " (at) ", " [at] ", "(AT)"])
            return f"{user}{at}{domain}"
        return f"{user}@{domain}"

    def street(self, kind: str = "nom") -> str:
        r = self.rng
        stem, suffix = r.choice(self.streets), r.choice(self.street_suffixes)
        number = f"{r.randint(1, 60)}"
        flat = r.choice(["", "", f" {r.choice('ABC')}", f" {r.choice('ABCD')} {r.randint(1, 40)}",
                         f" as {r.randint(1, 40)}", f" as. {r.randint(1, 40)}"])
        if kind == "nom":
            return f"{stem}{suffix} {number}{flat}"
        forms = {"katu": ("kadulla", "kadulle", "kadulta"), "tie": ("tiellä", "tielle", "tieltä"),
                 "kuja": ("kujalla", "kujalle", "kujalta"), "polku": ("polulla", "polulle", "polulta"),
                 "rinne": ("rinteellä", "rinteelle", "rinteeltä"),
                 "väylä": ("väylällä", "väylälle", "väylältä"),
                 "kaari": ("kaarella", "kaarelle", "kaarelta")}[suffix]
        if kind == "infl":
            return f"{stem}{r.choice(forms)} {number}{flat}"
        return f"{stem}{forms[1]}"  # "muutti Puijonkadulle": no number

    def sv_street(self) -> str:
        r = self.rng
        return (f"{r.choice(self.sv_streets)}{r.choice(['gatan', 'vägen', 'gränd'])} "
                f"{r.randint(1, 40)}{r.choice(['', ' B', f' A {r.randint(1, 20)}'])}")

    def postal(self) -> str:
        return f"{self.rng.choice(['70', '40', '80', '50', '57'])}{self.digits(3)} {self.rng.choice(self.cities)}"

    def sv_postal(self) -> str:
        return f"{self.rng.choice(['65', '68', '10', '06'])}{self.digits(3)} {self.rng.choice(self.sv_cities)}"

    def date(self, style: str = "", born: bool = True) -> str:
        r = self.rng
        y = r.randint(2006, 2022) if born else r.randint(2023, 2025)
        m, d = r.randint(1, 12), r.randint(1, 28)
        style = style or r.choice(["dots", "dots", "padded", "iso"])
        return {"dots": f"{d}.{m}.{y}", "padded": f"{d:02d}.{m:02d}.{y}", "iso": f"{y}-{m:02d}-{d:02d}",
                "word": f"{d} {MONTHS_FI[m - 1]} {y}", "sv_word": f"{d} {MONTHS_SV[m - 1]} {y}",
                "short": f"{d}.{m}.{y % 100:02d}"}[style]

    def icd(self, style: str = "dot") -> str:
        code = self.rng.choice(self.icd_codes)
        if style == "nodot":
            return code.replace(".", "")
        if style == "space":
            return code[0] + " " + code[1:]
        return code

    def bizid(self) -> str:
        while True:
            body = self.digits(7)
            rem = sum(int(c) * w for c, w in zip(body, (7, 9, 10, 5, 8, 4, 2))) % 11
            if rem != 1:
                return f"{body}-{0 if rem == 0 else 11 - rem}"


# Generators by name: (gen, arg) -> value.  Names are "name spec" strings for
# the name generator, anything else is looked up here.
def _values(g: Gen) -> dict:
    r = g.rng
    return {
        "hetu": lambda: g.hetu(),
        "hetu_spaced": lambda: g.hetu(spaced=True),
        "phone": lambda: g.phone_fi(),
        "phone_slash": lambda: g.phone_fi("slash"),
        "phone_nnbsp": lambda: g.phone_fi("nnbsp"),
        "phone_foreign": g.phone_foreign,
        "email": g.email,
        "email_at": lambda: g.email(written_at=True),
        "street": g.street,
        "street_infl": lambda: g.street("infl"),
        "street_nonum": lambda: g.street("nonum"),
        "sv_street": g.sv_street,
        "postal": g.postal,
        "sv_postal": g.sv_postal,
        "date": lambda: g.date(),
        "date_dots": lambda: g.date("dots"),
        "date_word": lambda: g.date("word"),
        "date_sv_word": lambda: g.date("sv_word"),
        "icd": lambda: g.icd(),
        "icd_nodot": lambda: g.icd("nodot"),
        "icd_space": lambda: g.icd("space"),
        # traps: values that are not identifiers
        "meeting": lambda: f"{r.randint(1, 28)}.{r.randint(1, 12)}.{r.randint(2023, 2025)} klo "
                           f"{r.randint(8, 16)}.{r.choice(['00', '15', '30', '45'])}",
        "meeting_short": lambda: f"{r.randint(1, 28)}.{r.randint(1, 12)}.",
        "time": lambda: f"{r.randint(8, 16)}.{r.choice(['00', '30'])}–{r.randint(9, 17)}.{r.choice(['00', '30'])}",
        "year": lambda: str(r.randint(2008, 2025)),
        "years": lambda: f"{r.randint(2015, 2020)}–{r.randint(2021, 2025)}",
        "age": lambda: str(r.randint(2, 17)),
        "diary": lambda: r.choice([f"{r.randint(10, 9999)}/{r.randint(2020, 2025)}",
                                   f"POSAHV/{r.randint(100, 9999)}/{r.randint(2020, 2025)}",
                                   f"{r.randint(2020, 2025)}-{r.randint(10, 99999):05d}",
                                   f"KSSHP/{r.randint(10, 999)}/05.01.00/{r.randint(2020, 2025)}"]),
        "court": lambda: f"{r.choice('RSHL')} {r.randint(20, 25)}/{r.randint(10, 9999)}",
        "bizid": g.bizid,
        "dose": lambda: f"{r.choice(['5', '10', '18', '20', '27', '36', '54'])} mg",
        "grade": lambda: str(r.randint(4, 10)),
        "average": lambda: f"{r.randint(6, 9)},{r.randint(0, 9)}",
        "law": lambda: r.choice([f"{r.randint(1, 90)} §", f"{r.randint(1, 90)} a §", f"§ {r.randint(1, 90)}"]),
        "count": lambda: str(r.randint(2, 30)),
        "city": lambda: r.choice(g.cities),
    }


# --- templates ----------------------------------------------------------------------
# Each positive template is rendered REPEAT times with fresh values.

DEV_POSITIVE = [
    # Finnish multi-identifier notes
    ("Äiti {name/fi_full:full@fi} (hetu {identity_code/plain:hetu}) otti yhteyttä "
     "lapsiperhepalveluihin. Isä {name/fi_full:full@fi} asuu toisella paikkakunnalla, puh. {phone/fi:phone}.", "fi"),
    ("Perheeseen kuuluvat äiti {name/foreign:full@any}, isä {name/foreign:full@any} sekä lapset "
     "{name/foreign:first@any} ({age}) ja {name/foreign:first@any}. Perhe asuu osoitteessa {address/street:street}.", "fi"),
    ("Lapsen äiti {name/foreign:full@any} kertoi, että {name/foreign:first@any} on ollut poissa "
     "koulusta kolme viikkoa. Äidin numero {phone/foreign:phone_foreign}.", "fi"),
    ("Keskustelin {name/inflected:first.gen@any} kanssa puhelimessa. Hän kertoi, että "
     "{name/inflected:last.all@fi} ei ole ilmoitettu muutosta.", "fi"),
    ("Tapasin {name/inflected:first.par@fi} ja hänen isoäitiään koulun jälkeen. "
     "Isoäiti {name/fi_full:full@fi} huolehtii lapsesta iltaisin.", "fi"),
    ("{name/fi_full:full@fi} ({birth_date/name_paren:date_dots}) asuu sijaisperheessä. "
     "Dg {diagnosis_code/dotted:icd}, lääkityksenä {-/dose:dose} aamuisin.", "fi"),
    ("{name/foreign:first@any} ({birth_date/name_paren:date}) ja {name/foreign:first@any} "
     "({birth_date/name_paren:date}) ovat sisaruksia.", "fi"),
    ("Nuorella on {diagnosis_code/no_dot:icd_nodot} ja {diagnosis_code/dotted:icd}; "
     "arvio tehty {-/meeting:meeting}.", "fi"),
    ("Lähetteessä mainittu {diagnosis_code/hyphen_suffix:icd}-diagnoosi on vahvistettu, "
     "ja {diagnosis_code/spaced:icd_space} on hoidossa.", "fi"),
    ("Lapsella on todettu {diagnosis_code/hyphen_suffix:icd}-häiriö. Kuntoutus jatkuu.", "fi"),
    ("Äidin sähköposti on {email/at_written:email_at} ja isän {email/plain:email}.", "fi"),
    ("Isän tavoittaa numerosta {phone/slash:phone_slash} tai sähköpostitse {email/at_written:email_at}.", "fi"),
    ("Mummon numero on {phone/nnbsp:phone_nnbsp}, hän asuu {address/street_inflected:street_infl}.", "fi"),
    ("Perhe muutti keväällä {address/street_no_number:street_nonum}, ja uusi koulu on lähellä.", "fi"),
    ("Isä asuu nykyään {address/street_inflected:street_infl}, {address/postal:postal}.", "fi"),
    ("Henkilötunnus {identity_code/spaced_sign:hetu_spaced} oli kirjattu lomakkeelle väärään kenttään.", "fi"),
    ("Lapsi {name/fi_full:full@fi}, {identity_code/plain:hetu}, on ollut avohuollon asiakkaana {-/year:year} alkaen.", "fi"),
    ("Nuori on syntynyt {birth_date/month_word:date_word} ja asuu äitinsä luona.", "fi"),
    ("Poika s. {birth_date/month_word:date_word}, tyttö s. {birth_date/cue:date_dots}.", "fi"),
    # names in the hard shapes
    ("{name/commonword_start:cw} kertoi, että hän pelkää kotiin menoa.", "fi"),
    ("Koulun mukaan {name/commonword_mid:cw} on vetäytynyt ja väsynyt.", "fi"),
    ("Tapaamisessa olivat äiti ja {name/commonword_alone:cw}.", "fi"),
    ("{name/commonword_start:cw} on {age}-vuotias ja käy koulua.", "fi"),
    ("Isän mukaan {name/commonword_mid:cw.gen} koulunkäynti on sujunut.", "fi"),
    ("äiti {name/lowercase:lc:full@fi} soitti ja kertoi että {name/lowercase:lc:first@fi} on sairaana", "fi"),
    ("Viestissä luki: {name/lowercase:lc:first@any} ei tule tänään kouluun.", "fi"),
    ("Asiakkaana on {name/initials:init:last@fi}, jonka äiti on {name/initials:init:last@any}.", "fi"),
    ("Yhteyshenkilö perheessä on {name/initials:init:last@fi}.", "fi"),
    ("{name/plural_family:plural.nom@fi} ovat muuttaneet toiselle paikkakunnalle.", "fi"),
    ("{name/plural_family:plural.gen@fi} kotona tehtiin kotikäynti, ja {name/plural_family:plural.all@fi} "
     "lähetettiin kutsu verkostopalaveriin.", "fi"),
    ("Lapsen koulunkäyntiä tukee {name/fi_rare_first:first@fi_rare}, ja {name/fi_rare_first:first@fi_rare} "
     "on lapsen kummi.", "fi"),
    ("Sisarukset {name/fi_rare_first:first@fi_rare} ja {name/fi_rare_first:first@fi_rare} asuvat isän luona.", "fi"),
    ("Äiti {name/sv_fi:full@sv} puhuu kotona ruotsia, isä {name/sv_fi:first@sv} suomea.", "fi"),
    ("Kävin kotikäynnillä {name/inflected:full.gen@any} luona {-/meeting_short:meeting_short}", "fi"),
    ("Yhteistyö {name/inflected:last.gen@sv} perheen kanssa on sujunut, vaikka {name/foreign:first@any} "
     "ei puhu suomea.", "fi"),
    # Swedish notes
    ("Modern {name/sv_fi:full@sv} (f. {birth_date/sv_fodd:date_dots}) berättade att familjen har flyttat "
     "till {address/sv_street:sv_street}, {address/postal:sv_postal}.", "sv"),
    ("Barnet {name/sv_fi:first@sv}, född {birth_date/sv_fodd:date_sv_word}, bor hos sin pappa "
     "{name/sv_fi:full@sv}. Telefon {phone/fi:phone}.", "sv"),
    ("Pappan {name/foreign:full@any} nås på {phone/foreign:phone_foreign} eller {email/plain:email}.", "sv"),
    ("Flickan {name/foreign:first@any} är född {birth_date/sv_fodd:date} och har diagnosen "
     "{diagnosis_code/dotted:icd}.", "sv"),
    ("{name/sv_fi:full@sv} har personbeteckning {identity_code/plain:hetu} enligt blanketten.", "sv"),
    ("{name/foreign:first@any} ringde i morse. Vi ses på mötet.", "sv"),
    ("{name/sv_fi:first@sv} called and cancelled the meeting.", "en"),
    ("{name/foreign:full@any} soitti Kelaan ja Valviraan.", "fi"),
]

HELDOUT_POSITIVE = [
    ("Ilmoituksen teki koulukuraattori. Oppilas {name/fi_full:full@fi} on {age}-vuotias, henkilötunnus "
     "{identity_code/plain:hetu}, ja hänen huoltajansa on {name/fi_full:full@fi}.", "fi"),
    ("Asiakasperheessä ovat vanhemmat {name/foreign:full@any} ja {name/foreign:full@any}. "
     "Kotona puhutaan arabiaa ja suomea; tulkki on tilattu.", "fi"),
    ("Isä {name/foreign:full@any} on ollut yhteydessä numerosta {phone/foreign:phone_foreign} "
     "ja kertoi, että {name/foreign:first@any} on palannut kotiin.", "fi"),
    ("Sosiaalityöntekijä keskusteli {name/inflected:first.gen@any} ja {name/inflected:first.gen@fi} kanssa. "
     "Lasten isä {name/fi_full:full@fi} ei päässyt paikalle.", "fi"),
    ("Kotikäynnillä tavattiin {name/inflected:full.par@fi}. Hänen mukaansa tilanne on rauhoittunut.", "fi"),
    ("Lapset: {name/foreign:first@any} ({birth_date/name_paren:date}), {name/foreign:first@any} "
     "({birth_date/name_paren:date_dots}).", "fi"),
    ("Nuoren diagnoosit ovat {diagnosis_code/no_dot:icd_nodot} ja {diagnosis_code/spaced:icd_space}. "
     "Seuraava käynti {-/meeting:meeting}.", "fi"),
    ("Psykiatrian poliklinikalla todettiin {diagnosis_code/hyphen_suffix:icd}-tasoinen oireilu; "
     "aiemmin kirjattu {diagnosis_code/dotted:icd}.", "fi"),
    ("Lähete tehtiin {diagnosis_code/hyphen_suffix:icd}-diagnoosin vuoksi.", "fi"),
    ("Yhteystiedot: {email/at_written:email_at}, puhelin {phone/slash:phone_slash}.", "fi"),
    ("Äidin uusi numero {phone/nnbsp:phone_nnbsp} ja sähköposti {email/plain:email} päivitetty.", "fi"),
    ("Perhe asuu vuokralla {address/street_inflected:street_infl}, ja isä on muuttamassa "
     "{address/street_no_number:street_nonum}.", "fi"),
    ("Lapsi asuu äidin kanssa osoitteessa {address/street:street}, {address/postal:postal}.", "fi"),
    ("Hetu lomakkeessa: {identity_code/spaced_sign:hetu_spaced}.", "fi"),
    ("Isoisä {name/fi_full:full@fi} (syntynyt {birth_date/month_word:date_word}) toimii tukihenkilönä.", "fi"),
    ("Tyttö on syntynyt {birth_date/month_word:date_word} ja poika s. {birth_date/cue:date}.", "fi"),
    ("{name/commonword_start:cw} itki tapaamisen lopussa ja halusi lähteä kotiin.", "fi"),
    ("Opettajan mukaan {name/commonword_mid:cw} osallistuu tunneilla hyvin.", "fi"),
    ("Tapaamiseen tulivat isä ja {name/commonword_alone:cw}.", "fi"),
    ("Keskustelimme {name/commonword_mid:cw.gen} kanssa kahden kesken.", "fi"),
    ("{name/commonword_start:cw} asuu viikot isällään.", "fi"),
    ("isä {name/lowercase:lc:full@any} ei vastannut puhelimeen, {name/lowercase:lc:first@fi} oli koulussa", "fi"),
    ("Kuraattorin viesti: {name/lowercase:lc:full@fi} tarvitsee tukea.", "fi"),
    ("Vastuusosiaalityöntekijä on sopinut tapaamisen {name/initials:init:last.gen@fi} kanssa.", "fi"),
    ("Paikalla olivat {name/initials:init:last@any} ja {name/initials:init:last@fi}.", "fi"),
    ("{name/plural_family:plural.nom@fi} saapuivat palaveriin myöhässä.", "fi"),
    ("Kutsu lähetettiin {name/plural_family:plural.all@fi}, ja {name/plural_family:plural.gen@fi} "
     "lapset osallistuivat.", "fi"),
    ("Tukihenkilönä toimii {name/fi_rare_first:first@fi_rare} ja varalla {name/fi_rare_first:first@fi_rare}.", "fi"),
    ("Pikkuveli {name/fi_rare_first:first@fi_rare} on {age}-vuotias.", "fi"),
    ("Äidinkieleltään ruotsinkielinen {name/sv_fi:full@sv} toivoo palvelua ruotsiksi.", "fi"),
    ("Tapasin {name/inflected:first.ade@sv} ja {name/inflected:last.gen@any} perheen.", "fi"),
    ("Yhteydenotto tuli {name/inflected:full.abl@any}, joka on lapsen eno.", "fi"),
    ("Mor {name/sv_fi:full@sv}, född {birth_date/sv_fodd:date_sv_word}, bor på "
     "{address/sv_street:sv_street} i {-/city:city}.", "sv"),
    ("Pojken {name/sv_fi:first@sv} (f. {birth_date/sv_fodd:date}) går i skolan. Pappa "
     "{name/foreign:full@any}, tfn {phone/fi:phone}.", "sv"),
    ("Kontakt: {name/sv_fi:full@sv}, {email/at_written:email_at}, {phone/foreign:phone_foreign}.", "sv"),
    ("Barnets personbeteckning är {identity_code/spaced_sign:hetu_spaced} och diagnos {diagnosis_code/no_dot:icd_nodot}.", "sv"),
    ("{name/foreign:full@any} och {name/sv_fi:full@sv} deltog i mötet.", "sv"),
]

# Clean case text: no identifier, every trap the issue names.
DEV_CLEAN = [
    ("Toivo on, että tilanne rauhoittuu ennen joulua.", "name_word_use"),
    ("Usko omiin kykyihin on vahvistunut syksyn aikana.", "name_word_use"),
    ("Onni oli mukana, kun sijoituspaikka löytyi nopeasti.", "name_word_use"),
    ("Ilo ja into näkyivät harrastuksessa.", "name_word_use"),
    ("Valo häiritsee nukahtamista, joten huone pimennettiin.", "name_word_use"),
    ("Lumi sulaa ja retki siirtyy.", "name_word_use"),
    ("Perhe muutti Lahteen vuonna {-/year:year}.", "place_surname"),
    ("Salon sairaalassa tehtiin tutkimukset, ja jatkohoito on Lahdessa.", "place_surname"),
    ("Isä asuu Salossa ja äiti Kuopiossa.", "place_surname"),
    ("Lapsi on ollut Mannerheimin Lastensuojeluliiton tukihenkilötoiminnassa.", "org_person_name"),
    ("Tukea saatiin Sylvia-kodista ja Ensi- ja turvakodista.", "org_person_name"),
    ("Nuori käy Minna Canthin koulua ja harrastaa jalkapalloa.", "org_person_name"),
    ("Palaveri pidettiin {-/meeting:meeting} Teamsissa.", "meeting_datetime"),
    ("Seuraava tapaaminen on {-/meeting_short:meeting_short} klo {-/time:time}.", "meeting_datetime"),
    ("Sijoitus kesti {-/years:years}, ja jälkihuolto päättyi {-/year:year}.", "year"),
    ("Lapsi on {-/age:age}-vuotias ja sisarus {-/age:age} v.", "age"),
    ("Nuori ({-/age:age} v) asuu vuoroviikoin vanhemmillaan.", "age"),
    ("Asia on kirjattu diaarinumerolla {-/diary:diary}.", "diary_court_number"),
    ("Käräjäoikeuden asia {-/court:court} on vireillä.", "diary_court_number"),
    ("Palveluntuottajan Y-tunnus on {-/bizid:bizid}.", "business_id"),
    ("Lääkityksenä Concerta {-/dose:dose} ja melatoniini 3 mg iltaisin.", "dose"),
    ("Annos nostettiin {-/dose:dose}:aan {-/meeting_short:meeting_short}", "dose"),
    ("Todistuksen keskiarvo on {-/average:average}, matematiikan arvosana {-/grade:grade}.", "grade"),
    ("Nuori käy {-/grade:grade}. luokkaa.", "grade"),
    ("Lastensuojelulain {-/law:law} mukainen selvitys on aloitettu.", "law_section"),
    ("Tehtiin LsL {-/law:law}:n mukainen ilmoitus.", "law_section"),
    ("B-lausunto pyydettiin psykiatrilta.", "icd_like"),
    ("Lapsi on luokalla 5B, ja luokkaretki on Q3/2024.", "icd_like"),
    ("Perheessä sairastettiin COVID-19 keväällä.", "icd_like"),
    ("Kuraattori soitti Kelaan ja Wilmaan tuli viesti opettajalta.", "general"),
    ("Haastavat erot -konsultaatioryhmä käsitteli tapauksen {-/meeting_short:meeting_short}", "general"),
    ("Konsultaatioon osallistuivat sosiaalityöntekijä, koulukuraattori ja terveydenhoitaja.", "general"),
    ("Vanhemmat ovat eronneet, ja lapsi asuu vuoroviikoin kummankin luona.", "general"),
    ("Kysyjä on perhesosiaalityöntekijä Pohjois-Karjalan hyvinvointialueelta.", "general"),
    ("Nuori pelaa iltaisin Fortnitea ja käyttää Snapchatia.", "general"),
    ("Äiti toivoo, että lapsi pääsisi Barnahukseen haastatteluun.", "general"),
    ("Koulu on tehnyt {-/count:count} poissaoloilmoitusta tänä lukuvuonna.", "general"),
    ("Lapsi osallistuu Ihmeelliset vuodet -ryhmään.", "general"),
    ("Flickan har bott i Vasa sedan {-/year:year} och går i skolan där.", "general_sv"),
    ("Mötet hölls {-/meeting_short:meeting_short} och nästa möte är i mars.", "general_sv"),
    # --- broadened (issue 10, false positives): every trap kind, more of each ----------
    # word uses of names
    ("Toivoa on vielä, sanoi äiti palaverin lopuksi.", "name_word_use"),
    ("Usko tulevaisuuteen on koetuksella.", "name_word_use"),
    ("Lumi satoi koko viikonlopun, joten kotikäynti siirtyi.", "name_word_use"),
    ("Valo oli jätetty päälle koko yöksi.", "name_word_use"),
    ("Onni onnettomuudessa oli, ettei kukaan loukkaantunut.", "name_word_use"),
    ("Ilo oli ylimmillään leirin viimeisenä päivänä.", "name_word_use"),
    ("Into koulunkäyntiin on hiipunut.", "name_word_use"),
    ("Aino keino saada nuori kouluun on ollut taksikuljetus.", "name_word_use"),
    ("Toivon, että saamme asiaan selvyyden ennen lomia.", "name_word_use"),
    ("Uskon, että perhetyö auttaa.", "name_word_use"),
    ("Onneksi mummo pystyi auttamaan iltaisin.", "name_word_use"),
    ("Nuori kertoi, että toivo paremmasta on kadonnut.", "name_word_use"),
    ("Tuuli kaatoi puun pihalle, ja perhe joutui yöpymään sukulaisilla.", "name_word_use"),
    ("Satu luettiin iltaisin ääneen, ja lapsi rauhoittui.", "name_word_use"),
    ("Meri oli myrskyinen, eikä leiriretkeä tehty.", "name_word_use"),
    ("Valon ja pimeän vaihtelu vaikuttaa nuoren mielialaan.", "name_word_use"),
    ("Lumen tulo ilahdutti lapsia.", "name_word_use"),
    ("Ilon aiheita on ollut enemmän kuin syksyllä.", "name_word_use"),
    ("Rauha palasi kotiin, kun isä muutti pois.", "name_word_use"),
    ("Lapsen usko aikuisiin on horjunut.", "name_word_use"),
    # places that are also surnames
    ("Lahden kaupungin perhetyö on ollut mukana.", "place_surname"),
    ("Nuori opiskelee Salossa ammattiopistossa.", "place_surname"),
    ("Kotkan ja Haminan välillä on pitkä matka.", "place_surname"),
    ("Perhe asui aiemmin Raumalla ja Porissa.", "place_surname"),
    ("Isä on töissä Kemissä ja Torniossa vuorotellen.", "place_surname"),
    ("Lapsi kävi leirillä Kaarinassa.", "place_surname"),
    ("Tapaaminen järjestettiin Lahdessa, koska isä asuu siellä.", "place_surname"),
    ("Mummola on Nurmeksessa.", "place_surname"),
    ("Sijaisperhe asuu Kajaanissa ja lapsi käy koulua Sotkamossa.", "place_surname"),
    ("Simon kunnan sosiaalitoimi oli yhteydessä.", "place_surname"),
    ("Äiti on kotoisin Somaliasta ja isä Irakista.", "place_surname"),
    ("Lahti on perheelle tuttu, sillä siellä asuu sukua.", "place_surname"),
    # organisations named after people
    ("Nuori käy Aleksanterin koulua.", "org_person_name"),
    ("Apua haettiin Pesäpuu ry:ltä ja Mannerheimin Lastensuojeluliiton vanhempainpuhelimesta.",
     "org_person_name"),
    ("Kesäleiri oli Sylvia-kodin järjestämä.", "org_person_name"),
    ("Tukea on saatu Aseman Lapset ry:ltä.", "org_person_name"),
    ("Vanhemmat ovat osallistuneet Folkhälsanin perhekurssille.", "org_person_name"),
    ("Helsingin Diakonissalaitoksen nuorten palvelut ovat mukana.", "org_person_name"),
    ("Nuori sai stipendin Alfred Kordelinin säätiöltä.", "org_person_name"),
    ("Lapsi osallistui Pelastakaa Lasten kummitoimintaan.", "org_person_name"),
    ("Lapsi on ollut Ronald McDonald -talolla hoitojaksojen aikana.", "org_person_name"),
    # meeting dates and times
    ("Verkostopalaveri pidetään ti {-/meeting_short:meeting_short} klo {-/time:time}.", "meeting_datetime"),
    ("Seuraava tapaaminen ma klo 9.30 Teamsissa.", "meeting_datetime"),
    ("Kotikäynti sovittu to klo 14.", "meeting_datetime"),
    ("Palaveri siirtyi viikolle {-/count:count}.", "meeting_datetime"),
    ("Tapaaminen {-/meeting:meeting}; kutsu lähetetty kaikille.", "meeting_datetime"),
    ("Soitin äidille {-/meeting_short:meeting_short} klo 8.15, ei vastannut.", "meeting_datetime"),
    ("Ke {-/meeting_short:meeting_short} klo 10–11 tapaaminen perheneuvolassa.", "meeting_datetime"),
    ("Klo {-/time:time} kuraattorin huoneessa.", "meeting_datetime"),
    # years and ages
    ("Perhe tuli Suomeen {-/year:year} ja sai oleskeluluvan vuotta myöhemmin.", "year"),
    ("Vuodesta {-/year:year} lähtien tilanne on ollut vaikea.", "year"),
    ("Lukuvuonna {-/year:year}–{-/year:year} poissaoloja oli paljon.", "year"),
    ("Isä on {-/age:age}-vuotiaasta asti asunut Suomessa.", "age"),
    ("Nuori, {-/age:age} v, on sijoitettuna.", "age"),
    ("Sisarukset ovat {-/age:age}, {-/age:age} ja {-/age:age} vuotta.", "age"),
    ("Vauva on {-/count:count} kk ikäinen.", "age"),
    # diary and court numbers, business IDs
    ("Viite: Dnro {-/diary:diary}.", "diary_court_number"),
    ("Asia on käräjäoikeudessa numerolla {-/court:court}.", "diary_court_number"),
    ("Ks. aiempi päätös {-/diary:diary}.", "diary_court_number"),
    ("Palveluntuottaja (Y-tunnus {-/bizid:bizid}) laskuttaa kuukausittain.", "business_id"),
    ("Sijaisperhepalvelun y-tunnus: {-/bizid:bizid}", "business_id"),
    # doses and grades
    ("Elvanse {-/dose:dose} aamuisin, vaikutus hyvä.", "dose"),
    ("Melatoniini 3 mg illalla ja Sertralin {-/dose:dose}.", "dose"),
    ("Lääkitys: Concerta {-/dose:dose}, Intuniv 2 mg.", "dose"),
    ("Lääkäri aloitti Attentin {-/dose:dose} x 2.", "dose"),
    ("Kokeen arvosana oli {-/grade:grade} ja todistuksen keskiarvo {-/average:average}.", "grade"),
    ("Nuori on {-/grade:grade}. luokalla, mutta opiskelee 6. luokan oppimäärää.", "grade"),
    ("Äidinkielen arvosana nousi seitsemästä {-/grade:grade}:ään.", "grade"),
    # law sections
    ("Lastensuojelulain {-/law:law} ja sosiaalihuoltolain 35 § mukaiset ilmoitukset on tehty.", "law_section"),
    ("Tehtiin SHL 35 §:n mukainen yhteydenotto.", "law_section"),
    ("Kiireellinen sijoitus LsL 38 §:n perusteella.", "law_section"),
    ("Asiaa arvioidaan LSL {-/law:law} mukaisesti.", "law_section"),
    # ICD-like strings that are not codes
    ("C-lausunto ja B-lausunto on pyydetty psykiatrilta.", "icd_like"),
    ("Nuori on luokalla 7C, ja rinnakkaisluokka 7B on samassa kerroksessa.", "icd_like"),
    ("Raportti valmistuu Q4/2025, seuraava Q1/2026.", "icd_like"),
    ("COVID-19-pandemian aikana koulu oli etäopetuksessa.", "icd_like"),
    ("Kela-korvaus haettiin SV 67 -lomakkeella.", "icd_like"),
    ("Nuori käyttää K18-pelejä ja katsoo K16-elokuvia.", "icd_like"),
    ("A4-kokoinen tulostettu ohje annettiin äidille.", "icd_like"),
    ("ADHD-arvio ja GAD-7-kysely on tehty.", "icd_like"),
    ("Bussi 12 kulkee koulun ohi.", "icd_like"),
    # authorities, apps and services
    ("Valviraan on tehty kantelu hoidon laadusta.", "authority_service"),
    ("Kelan päätös kuntoutuksesta tuli viime viikolla.", "authority_service"),
    ("Omakannasta löytyvät aiemmat lausunnot.", "authority_service"),
    ("Wilmassa oli opettajan viesti poissaoloista.", "authority_service"),
    ("Palaveri pidettiin Teamsissa, ja linkki lähetettiin sähköpostilla.", "authority_service"),
    ("Kanta-palveluista ei löytynyt merkintöjä.", "authority_service"),
    ("Migri on myöntänyt perheelle oleskeluluvan.", "authority_service"),
    ("AVI:lle tehtiin selvityspyyntö.", "authority_service"),
    ("THL:n ohjeen mukaan toimitaan.", "authority_service"),
    ("Nuori on ollut Ohjaamon asiakkaana keväästä asti.", "authority_service"),
    ("Sekasin-chatissa nuori oli kertonut asiasta.", "authority_service"),
    ("Tukinetin kautta löytyi vertaistukea.", "authority_service"),
    ("Omaolon oirearvio ohjasi päivystykseen.", "authority_service"),
    ("DVV:n tiedot osoitteesta eivät olleet ajan tasalla.", "authority_service"),
    ("Terveystalon lääkäri kirjoitti lähetteen.", "authority_service"),
    ("Mehiläisen psykiatri arvioi nuoren.", "authority_service"),
    ("Attendon sijaiskodista on tullut raportti.", "authority_service"),
    ("HUS:n nuorisopsykiatria konsultoitiin.", "authority_service"),
    ("Taysin lastenpsykiatrian poliklinikalla on käynti.", "authority_service"),
    ("Oysin ja Kysin välillä on sovittu hoitovastuusta.", "authority_service"),
    ("Lähetettiin Suomi.fi-viesti molemmille huoltajille.", "authority_service"),
    ("Instagramissa ja TikTokissa on levinnyt kuvia.", "authority_service"),
    ("Nuori pelaa Brawl Starsia ja katsoo YouTubea.", "authority_service"),
    ("Vanhemmat viestivät keskenään vain WhatsAppilla.", "authority_service"),
    ("Discordissa nuori on joutunut kiusatuksi.", "authority_service"),
    ("Valviran ohjeen mukaan asia kirjataan.", "authority_service"),
    ("Oikeusaputoimisto hoitaa isän asiaa.", "authority_service"),
    ("Väestöliiton eroneuvonta on aloitettu.", "authority_service"),
    ("Mielenterveystalon nettiterapia aloitettiin.", "authority_service"),
    ("Maahanmuuttoviraston päätös odottaa.", "authority_service"),
    ("MIELI ry:n kriisipuhelimeen soitettiin.", "authority_service"),
    ("Lasten ja nuorten puhelin 116 111 oli nuorelle tuttu.", "authority_service"),
    ("Kelan palvelunumero 020 692 204 ei vastannut.", "authority_service"),
    ("Helmi-järjestelmästä tuli viesti koululta.", "authority_service"),
    ("Tiedot on kirjattu Apottiin ja Lifecareen.", "authority_service"),
    ("Poliisin Ankkuri-tiimi on mukana.", "authority_service"),
    ("Nuoren mukaan Snapchatissa ja Tellonymissa on kiusattu.", "authority_service"),
    ("Kelpo-hanke tarjoaa tukea.", "authority_service"),
    # typos and abbreviations
    ("Lapssen äiti soitti ja kysyi tapaamisesta.", "typo_abbrev"),
    ("Tapaamnen siirtyi ensi viikolle.", "typo_abbrev"),
    ("Vanhemat eivät päässeet paikalle.", "typo_abbrev"),
    ("Koulunkäyti on sujunut paremmin.", "typo_abbrev"),
    ("Keskustelltiin tilanteesta puhelimessa.", "typo_abbrev"),
    ("Äidn kanssa sovittiin uusi aika.", "typo_abbrev"),
    ("äiti kertio, että nuori on nukkunut huonosti.", "typo_abbrev"),
    ("Isä soitii aamulla ja peruutti tapaamisen.", "typo_abbrev"),
    ("Opettjan mukaan nuori on väsynyt.", "typo_abbrev"),
    ("Kuraatori on ollut yhteydessä.", "typo_abbrev"),
    ("Sovttiin, että seuraava tapaaminen on kotona.", "typo_abbrev"),
    ("Nuori oli väsnyt ja itkuinen.", "typo_abbrev"),
    ("Esim. koulumatkat ovat olleet vaikeita.", "typo_abbrev"),
    ("Ks. edellinen kirjaus.", "typo_abbrev"),
    ("Em. asioista keskusteltiin.", "typo_abbrev"),
    ("Ko. nuori ei ole saapunut.", "typo_abbrev"),
    ("Mm. isovanhemmat ovat auttaneet.", "typo_abbrev"),
    ("Ns. kouluvälttely on jatkunut.", "typo_abbrev"),
    ("Sos.tt. ja th. tapasivat perheen.", "typo_abbrev"),
    ("Lsl-ilmoitus tehty, ks. Lasu.", "typo_abbrev"),
    ("Huom! Kotikäynti vain sovitusti.", "typo_abbrev"),
    ("Psyk.sh. ja lääk. arvioivat tilanteen.", "typo_abbrev"),
    ("Tied. isälle, ei vast.", "typo_abbrev"),
    ("Yht.otto koululta, ilm. vastaanotettu.", "typo_abbrev"),
    ("Perhe asuu nykyään Kuopiosssa.", "typo_abbrev"),
    ("Asiasta on ilmoitettu Lastensuojeluun ja Poliisille.", "typo_abbrev"),
    ("Jatkosuunitelma: kuraattori tapaa viikoittain.", "typo_abbrev"),
    # short Swedish and English
    ("Tack för informationen.", "swedish"),
    ("Vi ses på mötet.", "swedish"),
    ("Mötet flyttas till tisdag.", "swedish"),
    ("Barnet mår bra nu.", "swedish"),
    ("Mamman ringde och avbokade.", "swedish"),
    ("Ingen fara, vi tar det nästa vecka.", "swedish"),
    ("Hej, jag ringer i morgon.", "swedish"),
    ("Skolan har kontaktat socialbyrån.", "swedish"),
    ("Familjen behöver tolk.", "swedish"),
    ("Ärendet är avslutat.", "swedish"),
    ("Läkaren skrev remiss till barnpsykiatrin.", "swedish"),
    ("Bra samtal med föräldrarna.", "swedish"),
    ("Thanks, see you on Monday.", "english"),
    ("Meeting moved to Tuesday.", "english"),
    ("Please call back tomorrow.", "english"),
    ("Noted, will follow up.", "english"),
    ("The family needs an interpreter.", "english"),
    ("Mother called and cancelled.", "english"),
    ("School reports frequent absences.", "english"),
    ("Referral sent to child psychiatry.", "english"),
    ("Good progress since last visit.", "english"),
    ("Father did not attend.", "english"),
    ("Sent via Teams.", "english"),
    ("Will discuss at the next meeting.", "english"),
    # general case prose
    ("Tausta: perhe on ollut lastensuojelun asiakkaana vuodesta {-/year:year}.", "general"),
    ("Kysymys: miten tukea nuorta, joka ei käy koulussa?", "general"),
    ("Huoli: nuoren päihteiden käyttö on lisääntynyt.", "general"),
    ("Tukitoimet:\n- koulunkäynnin tuki\n- perhetyö\n- terapia", "general"),
    ("Nuori on ollut poissa koulusta useita viikkoja.", "general"),
    ("Lapsi on sijoitettuna perhehoitoon.", "general"),
    ("Sijaisvanhemmat kertovat arjen sujuvan hyvin.", "general"),
    ("Kotona on ollut riitelyä, ja poliisi kävi kerran.", "general"),
    ("Nuorella on ollut itsetuhoisia ajatuksia.", "general"),
    ("Tapaamisissa isän kanssa on ollut valvoja.", "general"),
    ("Koulu toivoo konsultaatiota oppimisvaikeuksista.", "general"),
    ("Perhetyöntekijä käy kotona kerran viikossa.", "general"),
    ("Suositus: moniammatillinen arvio ja perheterapia.", "general"),
    ("Äidin jaksaminen on heikentynyt.", "general"),
    ("Kiitos konsultaatiosta!", "general"),
    ("Ystävällisin terveisin, sosiaalityöntekijä", "general"),
    ("Päivitys: tilanne ennallaan.", "general"),
    ("Liitteenä koulun pedagoginen selvitys.", "general"),
    ("Jatketaan seurantaa.", "general"),
    ("Selvä, kiitos.", "general"),
    ("Ei muutoksia.", "general"),
    ("Nuori pelkää isäänsä eikä halua tavata häntä.", "general"),
    ("Mummo ja pappa ovat perheen tärkein tukiverkosto.", "general"),
    ("Lapsen puheen kehitys on viivästynyt.", "general"),
    ("Perheessä puhutaan kotona somalia ja arabiaa.", "general"),
    ("Nuori on aloittanut ammattikoulun, mutta poissaoloja on paljon.", "general"),
    ("Vanhemmat asuvat samassa taloudessa mutta ovat asumuserossa.", "general"),
    ("Lapsi itkee paljon ja takertuu äitiin.", "general"),
    ("Perheen tilanne on vaikeutunut isän sairastuttua.", "general"),
    ("Nuori käyttää energiajuomia ja valvoo pelaten.", "general"),
    ("Opettaja on havainnut mustelmia lapsen käsivarsissa.", "general"),
    ("Äiti ei halua, että isä saa tietoja lapsen koulunkäynnistä.", "general"),
    ("Lapsen kanssa on harjoiteltu tunnetaitoja.", "general"),
    ("Koulussa on käytössä tehostettu tuki.", "general"),
    ("Nuori on ollut kaksi kertaa päihtyneenä koulussa.", "general"),
    ("Kaikki osapuolet ovat sitoutuneet suunnitelmaan.", "general"),
    ("Perhe on pakolaistaustainen ja asunut Suomessa kolme vuotta.", "general"),
    ("Lapsen isä on vankilassa.", "general"),
    ("Tytöllä on syömishäiriön oireita.", "general"),
    ("Perheen kanssa ei ole saatu yhteyttä.", "general"),
    ("Kotiin ei päästy, ovella ei avattu.", "general"),
    ("Vanhempien mukaan kaikki on hyvin.", "general"),
    ("Arvio: lapsen kasvuolot vaarantavat hänen terveyttään.", "general"),
    ("Johtopäätös: avohuollon tukitoimia jatketaan.", "general"),
    ("Ehdotus: perheelle nimetään perhetyöntekijä.", "general"),
    ("Lapsi piirsi tapaamisen aikana perhekuvan.", "general"),
    ("Isän mielestä äiti vieraannuttaa lasta.", "general"),
    ("Isovanhemmat ovat valmiita sijaisvanhemmiksi.", "general"),
    ("Sijoituksen tavoitteena on perheen jälleenyhdistäminen.", "general"),
    ("Jälkihuolto jatkuu 25 ikävuoteen asti.", "general"),
    ("Nuorella on velkaa ja maksuhäiriömerkintä.", "general"),
    ("Ei akuuttia huolta.", "general"),
    ("Toivotaan ryhmältä näkemystä jatkosta.", "general"),
    ("Pohdimme yhdessä, mikä auttaisi perhettä parhaiten.", "general"),
    ("Hei, tässä päivitys tilanteesta.", "general"),
    ("Moi, soitan iltapäivällä.", "general"),
    ("Palataan asiaan.", "general"),
    ("Aika varattu {-/meeting_short:meeting_short} klo 10.15–11.00.", "meeting_datetime"),
    ("Vastaanotto ke 14–16.", "meeting_datetime"),
    ("Kokous alkaa klo 8:30.", "meeting_datetime"),
    ("Tapaaminen viikolla 45, kesto 45 min.", "meeting_datetime"),
    ("Lapsi nukkuu n. 6 h yössä, paino 45 kg ja pituus 160 cm.", "general"),
    ("Huone 204, rakennus B.", "icd_like"),
    ("Kela hylkäsi hakemuksen, ja valitus on tehty.", "authority_service"),
    ("Kelaan on toimitettu lääkärinlausunto.", "authority_service"),
    ("Valviralta ei ole tullut vastausta.", "authority_service"),
    ("Wilman kautta opettaja ilmoitti kokeesta.", "authority_service"),
    ("Teamsin linkki ei toiminut.", "authority_service"),
    ("Omakannan mukaan lääkitys on muuttunut.", "authority_service"),
    ("Poliisi vei nuoren kotiin yöllä.", "authority_service"),
    ("Hätäkeskukseen soitettiin yöllä.", "authority_service"),
    ("Tays konsultoi puhelimitse.", "authority_service"),
    ("Kys:n lastenpsykiatrialta tuli epikriisi.", "authority_service"),
    ("Tyksin nuorisopsykiatria on hoitovastuussa.", "authority_service"),
    ("Eksoten perhekeskus on mukana.", "authority_service"),
    ("Siun soten lastensuojelu tekee selvityksen.", "authority_service"),
    ("Nyyti ry:n chat auttoi opiskelijaa.", "authority_service"),
    ("Nuori käy Walkersissa iltaisin.", "authority_service"),
    ("Icehearts-kasvattaja tukee poikaa.", "authority_service"),
    ("Nuori katsoo Netflixiä ja pelaa Minecraftia.", "authority_service"),
    ("TikTok-videot ahdistavat nuorta.", "authority_service"),
    ("Twitchissä nuori seuraa striimaajia.", "authority_service"),
    ("Telegram-ryhmässä jaettiin kuvia.", "authority_service"),
    ("Messengerissä äiti lähetti viestin.", "authority_service"),
    ("Kuvat poistettiin Instagramista.", "authority_service"),
    ("Moodlessa on koulun tehtävät.", "authority_service"),
    ("Migrille toimitettiin selvitys.", "authority_service"),
    ("Stean rahoittama hanke päättyi.", "authority_service"),
    ("Lapsesn koulunkäynti on sujunut.", "typo_abbrev"),
    ("Tapaamsien määrä on vähentynyt.", "typo_abbrev"),
    ("Kuraattorim mukaan tilanne on ok.", "typo_abbrev"),
    ("Ysitäväpiiri on pieni.", "typo_abbrev"),
    ("Kotikäynillä oli siistiä.", "typo_abbrev"),
    ("Eilne soitin kouluun.", "typo_abbrev"),
    ("Huomena on palaveri.", "typo_abbrev"),
    ("Keskustleu oli hyvä.", "typo_abbrev"),
    ("Nuroi ei tullut paikalle.", "typo_abbrev"),
    ("äiti sanoii että lapsi on kipeä.", "typo_abbrev"),
    ("isä kerto että tilanne on ok.", "typo_abbrev"),
    ("poika sanio että ei jaksa.", "typo_abbrev"),
    ("Opettjaa harmittaa tilanne.", "typo_abbrev"),
    ("Jatkotoimnepiteet sovittiin.", "typo_abbrev"),
    ("Verkostopalverissa sovittiin työnjako.", "typo_abbrev"),
    ("Palveulsuunnitelma päivitetään.", "typo_abbrev"),
    ("Ks. yllä.", "typo_abbrev"),
    ("Huom. myös isän toive.", "typo_abbrev"),
    ("Vrt. koulun lausunto.", "typo_abbrev"),
    ("Sos.tt:n arvio.", "typo_abbrev"),
    ("Psyk. sh. käy viikoittain.", "typo_abbrev"),
    ("Lääk. määräsi lääkkeen.", "typo_abbrev"),
    ("N. 10 poissaoloa.", "typo_abbrev"),
    ("Pappan har flyttat till Sverige.", "swedish"),
    ("Vi behöver tolk till mötet.", "swedish"),
    ("Skolan är orolig för pojken.", "swedish"),
    ("Jag har pratat med mamman.", "swedish"),
    ("Allt går bra just nu.", "swedish"),
    ("Mötet är på torsdag klockan tio.", "swedish"),
    ("Barnet har börjat på dagis.", "swedish"),
    ("Hon vill inte prata om det.", "swedish"),
    ("Föräldrarna är skilda.", "swedish"),
    ("Can you send the minutes?", "english"),
    ("Family moved last summer.", "english"),
    ("The boy is afraid of his father.", "english"),
    ("Teacher is worried about bullying.", "english"),
    ("No interpreter was available.", "english"),
    ("Best regards", "english"),
    ("Okay, thanks!", "english"),
    ("Let's talk tomorrow.", "english"),
    ("Usko on koetuksella.", "name_word_use"),
    ("Onni suosi perhettä asuntohaussa.", "name_word_use"),
    ("Valo ikkunasta häiritsee unta.", "name_word_use"),
    ("Ilo on kadonnut nuoren elämästä.", "name_word_use"),
    ("Lumi tuli aikaisin, ja koulumatkat vaikeutuivat.", "name_word_use"),
    ("Into pelata on kasvanut.", "name_word_use"),
    ("Rauha kotona on tärkeää.", "name_word_use"),
    ("Halla vei kesällä perheen kasvimaan.", "name_word_use"),
    ("Sade keskeytti retken.", "name_word_use"),
    ("Isä muutti Helsingistä Lahteen.", "place_surname"),
    ("Nuori opiskelee Kotkassa.", "place_surname"),
    ("Salon terveyskeskuksessa tehtiin tutkimukset.", "place_surname"),
    ("Perhe lomaili Kemijärvellä.", "place_surname"),
    ("Hamina ja Kotka kuuluvat samaan hyvinvointialueeseen.", "place_surname"),
    ("Nuori käy Mikael Agricolan koulua.", "org_person_name"),
    ("Tukea antaa Kalliolan setlementti.", "org_person_name"),
    ("Tyttöjen Talo on tärkeä paikka nuorelle.", "org_person_name"),
    ("Poikien Talolla järjestetään ryhmä.", "org_person_name"),
    ("Tausta: vanhemmat erosivat {-/year:year}. Lapset asuvat äidillä ja tapaavat isää joka toinen viikonloppu. Isä on huolissaan lasten koulunkäynnistä.", "general"),
    ("Kotikäynti {-/meeting_short:meeting_short} Kotona oli siistiä. Äiti kertoi, että nuori nukkuu päivät ja valvoo yöt. Nuori ei halunnut tulla keskustelemaan.", "general"),
    ("Koululta tuli yhteydenotto. Opettajan mukaan oppilas on ollut levoton ja riitaantunut luokkatovereiden kanssa. Kuraattori tapaa oppilasta viikoittain.", "general"),
    ("Nuori on ollut sijoitettuna lastenkotiin kaksi vuotta. Hän käy kotona viikonloppuisin. Jälkihuollon suunnittelu alkaa syksyllä.", "general"),
    ("Äidillä on todettu masennus, ja hän käy psykiatrisella poliklinikalla. Lapset ovat joutuneet ottamaan vastuuta kotitöistä.", "general"),
    ("Isä käyttää alkoholia viikonloppuisin. Lapsi kertoi pelkäävänsä, kun isä on humalassa. Tapaamiset on nyt sovittu valvotuiksi.", "general"),
    ("Perhe tuli Suomeen kiintiöpakolaisina. Lapset käyvät valmistavaa opetusta. Vanhemmat opiskelevat suomea kotoutumiskoulutuksessa.", "general"),
    ("Lapsella on vaikeuksia lukemisessa ja matematiikassa. Koulupsykologin tutkimukset on tehty. Erityinen tuki alkaa ensi lukuvuonna.", "general"),
    ("Kysymykset ryhmälle: 1) Riittääkö avohuolto? 2) Miten lapsen ääni saadaan kuuluviin? 3) Tarvitaanko lisää tutkimuksia?", "general"),
    ("Ryhmän suositus: perheelle tarjotaan intensiivistä perhetyötä, ja lapsen tilannetta arvioidaan kolmen kuukauden kuluttua uudelleen.", "general"),
    ("Nuori on kertonut kokeneensa seksuaalista häirintää netissä. Asiasta on tehty rikosilmoitus. Nuori saa tukea kriisityöstä.", "general"),
    ("Vanhemmat kiistelevät elatusmaksuista. Sovittelu ei ole onnistunut. Asia on menossa käräjäoikeuteen.", "general"),
    ("Lapsi on pieni ikäisekseen ja syö huonosti. Neuvolassa seurataan painoa kuukausittain. Ravitsemusterapeutti on mukana.", "general"),
    ("Nuoren kaverit ovat vanhempia, ja heillä on rikostaustaa. Vanhemmat eivät tiedä, missä nuori viettää iltansa.", "general"),
    ("Tilannetta on seurattu puoli vuotta. Muutosta parempaan ei ole tapahtunut. Harkitaan sijoitusta.", "general"),
    ("Koulunkäynnin tukena on ollut avustaja. Tuki päättyy keväällä, ja jatko on epäselvä.", "general"),
    ("Lapsi on kertonut päiväkodissa, että kotona lyödään. Päiväkoti teki lastensuojeluilmoituksen ja rikosilmoituksen.", "general"),
    ("Vanhemmat ovat hakeneet apua perheneuvolasta, mutta jonot ovat pitkät.", "general"),
    ("Nuori haluaa muuttaa omaan asuntoon täytettyään 18 vuotta.", "general"),
    ("Hyvä yhteistyö koulun kanssa. Seuraava palaveri sovitaan myöhemmin.", "general"),
    ("Sovittiin, että perhetyöntekijä käy kotona kahdesti viikossa. Äiti sitoutui suunnitelmaan.", "general"),
    ("Viikonloppuna nuori oli karannut ja palasi maanantaina.", "general"),
    ("Poliisi toi nuoren sosiaalipäivystykseen lauantaina.", "authority_service"),
    ("Kela-taksilla kuljetut matkat ovat sujuneet.", "authority_service"),
    ("Kanta-arkistosta löytyi aiempi tutkimus.", "authority_service"),
    ("Wilma-viestejä tulee päivittäin, ja äiti on uupunut niihin.", "authority_service"),
    ("Valviran päätöksestä voi valittaa.", "authority_service"),
    ("Verohallinnon kirje jäi avaamatta.", "authority_service"),
    ("Oikeusaputoimiston kautta isä haki julkista oikeusapua.", "authority_service"),
    ("Nuori pelaa Robloxissa öisin ja on väsynyt.", "authority_service"),
    ("Pelikonsoli otettiin pois yöksi.", "general"),
    ("Kouluterveydenhoitajan tarkastus tehty, kasvu normaalia.", "general"),
    ("Toivo tilanteen paranemisesta on perheessä vahva.", "name_word_use"),
    ("Onni on ollut matkassa, sillä asunto löytyi nopeasti.", "name_word_use"),
    ("Usko omaan pärjäämiseen puuttuu.", "name_word_use"),
    ("Lumi ja liukkaus estivät koulumatkat.", "name_word_use"),
    ("Isä kertoi, että ilo on kadonnut perheen arjesta.", "name_word_use"),
    ("Lahdessa asuva isovanhempi on tärkeä tuki.", "place_surname"),
    ("Perhe muutti Salosta Kuopioon {-/year:year}.", "place_surname"),
    ("Kotka on lapselle tuttu kaupunki.", "place_surname"),
    ("Lapsi kävi aiemmin Pohjois-Savon hyvinvointialueen perhekeskuksessa.", "general"),
    ("Ryhmäkoti Tuulenpesä on nuoren sijoituspaikka.", "org_person_name"),
    ("Vastaanottokoti Majakka ottaa nuoria lyhytaikaisesti.", "org_person_name"),
    ("Lapsi on Helmi-ryhmässä päiväkodissa.", "org_person_name"),
    ("Iltapäiväkerho Kipinä on koulun yhteydessä.", "org_person_name"),
    ("Kuntoutusjakso Vaalijalassa alkaa {-/meeting_short:meeting_short}", "org_person_name"),
    ("Dnro {-/diary:diary}, käsittelijä sosiaalityöntekijä.", "diary_court_number"),
    ("Asia: lausuntopyyntö, viite {-/court:court}.", "diary_court_number"),
    ("Laskutusosoite: Y-tunnus {-/bizid:bizid}, verkkolasku.", "business_id"),
    ("Lääkitys: Sertralin {-/dose:dose} ja Melatonin {-/dose:dose}.", "dose"),
    ("Todistuksessa kahdeksikkoja ja yksi {-/grade:grade}.", "grade"),
    ("LsL {-/law:law} ja 27 § huomioitu.", "law_section"),
    ("Tutkimukset: B-lausunto, EEG ja MRI.", "icd_like"),
    ("Nuori on luokalla 9C.", "icd_like"),
    ("Tack för samtalet i går.", "swedish"),
    ("Mamman är orolig för dottern.", "swedish"),
    ("Vi ringer skolan i morgon.", "swedish"),
    ("Thanks for the quick reply.", "english"),
    ("He was not at home.", "english"),
    ("Lapsi kertoi, että kotona on kivaa.", "general"),
    ("Äiti kertoi, ettei jaksa enää.", "general"),
    ("Kuraattori kertoi, että poissaoloja on paljon.", "general"),
    ("Perhetyöntekijä totesi, että arki sujuu.", "general"),
]

HELDOUT_CLEAN = [
    ("Toivo paremmasta on vahvistunut, vaikka arki on raskasta.", "name_word_use"),
    ("Äidin usko tulevaan on horjunut.", "name_word_use"),
    ("Onneksi koulu reagoi nopeasti, ja onni oli matkassa.", "name_word_use"),
    ("Into harrastuksiin on palannut.", "name_word_use"),
    ("Lapsen ilo näkyi, kun hän pääsi leirille.", "name_word_use"),
    ("Aino asia, joka auttaa, on säännöllinen arki.", "name_word_use"),
    ("Lahden yksikkö on ottanut asian hoitaakseen.", "place_surname"),
    ("Nuori muutti Salosta Kuopioon {-/year:year}.", "place_surname"),
    ("Perhe on asunut Lahdessa ja Salossa.", "place_surname"),
    ("Ohjaus tapahtuu Pelastakaa Lapset ry:n kautta.", "org_person_name"),
    ("Lapsi kävi aiemmin Juho Vainion koulua.", "org_person_name"),
    ("Tukihenkilö tuli Mannerheimin Lastensuojeluliitosta.", "org_person_name"),
    ("Verkostopalaveri {-/meeting:meeting}, paikkana kaupungintalo.", "meeting_datetime"),
    ("Tapaamisaika {-/meeting_short:meeting_short} klo {-/time:time} sopii kaikille.", "meeting_datetime"),
    ("Vuosina {-/years:years} perhe sai perhetyötä.", "year"),
    ("Kesällä {-/year:year} tilanne kärjistyi.", "year"),
    ("Lapset ovat {-/age:age}- ja {-/age:age}-vuotiaat.", "age"),
    ("Nuori täyttää pian {-/age:age} vuotta.", "age"),
    ("Dnro {-/diary:diary}", "diary_court_number"),
    ("Hovioikeuden asianumero {-/court:court}.", "diary_court_number"),
    ("Laskutus: Y-tunnus {-/bizid:bizid}.", "business_id"),
    ("Medikinet CR {-/dose:dose} aamulla ja {-/dose:dose} iltapäivällä.", "dose"),
    ("Sertraliinia {-/dose:dose} vuorokaudessa.", "dose"),
    ("Arvosanat nousivat, keskiarvo nyt {-/average:average}.", "grade"),
    ("Kielten arvosana {-/grade:grade} ja liikunnan {-/grade:grade}.", "grade"),
    ("Sosiaalihuoltolain {-/law:law} perusteella tehty arvio.", "law_section"),
    ("Asia käsiteltiin LsL {-/law:law}:n nojalla.", "law_section"),
    ("C-lausunto on tilattu ja B-lausunto saatu.", "icd_like"),
    ("Tulokset raportoidaan Q2/2025, ryhmä 7A jatkaa.", "icd_like"),
    ("COVID-19-rajoitusten aikana tapaamiset olivat etänä.", "icd_like"),
    ("Opettaja laittoi Wilma-viestin ja Kela myönsi tuen.", "general"),
    ("Asia on käsitelty omassa tiimissä ja OT-TUKI-konsultaatiota pyydetään.", "general"),
    ("Nuori pelaa Robloxia ja Minecraftia öisin.", "general"),
    ("Keskustelu käytiin Teamsin kautta {-/meeting_short:meeting_short}", "general"),
    ("Lastenpsykiatrian poliklinikka ja perheneuvola ovat mukana.", "general"),
    ("Koulupoissaoloja on kertynyt {-/count:count} päivää.", "general"),
    ("Vanhemmat riitelevät huoltajuudesta, ja lapsi on lojaalisuusristiriidassa.", "general"),
    ("Terapia jatkuu Vaalijalan osaamis- ja tukikeskuksessa.", "general"),
    ("Barnet bor växelvis hos föräldrarna sedan {-/year:year}.", "general_sv"),
    ("Socialarbetaren träffade familjen {-/meeting_short:meeting_short} i Jakobstad.", "general_sv"),
]

# --- the fresh held-out part (heldout2) ---------------------------------------------
# Written after the development texts were broadened and before the guard was tuned
# on them; measured once.  New sentences, seed, streets, codes and cities; names from
# the same held-out sources as "heldout" (never in the lexicon).  Clean texts in
# rough proportion to real case notes: mostly plain case prose, then services and
# apps, dates and times, typos and shorthand, word uses of names, Swedish and English
# lines, places, organisations and the number traps.
HELDOUT2_POSITIVE = [
    ("Lastensuojeluilmoituksen teki terveydenhoitaja {-/meeting_short:meeting_short} Lapsi "
     "{name/fi_full:full@fi}, hetu {identity_code/plain:hetu}, asuu äitinsä {name/fi_full:full@fi} kanssa.", "fi"),
    ("Perheen vanhemmat {name/foreign:full@any} ja {name/foreign:full@any} tulivat Suomeen "
     "{-/year:year}. Tulkki varataan Kelan kautta.", "fi"),
    ("Isän puhelinnumero on {phone/foreign:phone_foreign}, äidin {phone/fi:phone}.", "fi"),
    ("Kotikäynnillä {-/meeting:meeting} tavattiin {name/inflected:full.par@any} ja hänen veljensä.", "fi"),
    ("{name/fi_full:full@fi} ({birth_date/name_paren:date}) on ollut avohuollon asiakkaana "
     "vuodesta {-/year:year}.", "fi"),
    ("Lapsen diagnoosi {diagnosis_code/dotted:icd} todettiin keskussairaalassa; aiemmin on kirjattu "
     "{diagnosis_code/no_dot:icd_nodot}.", "fi"),
    ("Dg: {diagnosis_code/spaced:icd_space}, lääkityksenä Concerta {-/dose:dose}.", "fi"),
    ("Nuorella on {diagnosis_code/hyphen_suffix:icd}-diagnoosi, ja Omaolo ohjasi hänet päivystykseen.", "fi"),
    ("Sähköposti: {email/plain:email}; varalla {email/at_written:email_at}.", "fi"),
    ("Mummon numero {phone/slash:phone_slash}, isän {phone/nnbsp:phone_nnbsp}.", "fi"),
    ("Perhe on muuttanut {address/street_no_number:street_nonum}, ja lapsi vaihtaa koulua.", "fi"),
    ("Äiti asuu {address/street_inflected:street_infl}, isä osoitteessa {address/street:street}, "
     "{address/postal:postal}.", "fi"),
    ("Lomakkeeseen oli kirjoitettu henkilötunnus {identity_code/spaced_sign:hetu_spaced} ilman syytä.", "fi"),
    ("Isoäiti on syntynyt {birth_date/month_word:date_word}, ja hän hoitaa lasta viikonloppuisin.", "fi"),
    ("Sisar s. {birth_date/cue:date} asuu sijaisperheessä.", "fi"),
    ("{name/commonword_start:cw} kertoi kuraattorille, että koulussa kiusataan.", "fi"),
    ("Terveydenhoitajan mukaan {name/commonword_mid:cw} on laihtunut.", "fi"),
    ("Vastaanotolle tulivat äiti ja {name/commonword_alone:cw}.", "fi"),
    ("Sovimme {name/commonword_mid:cw.all} tukihenkilön.", "fi"),
    ("{name/commonword_start:cw} nukkuu huonosti ja heräilee öisin.", "fi"),
    ("viesti äidiltä: {name/lowercase:lc:first@fi} on kipeänä, {name/lowercase:lc:full@any} hakee hänet", "fi"),
    ("Tapasin {name/lowercase:lc:full@fi} koulun pihalla.", "fi"),
    ("Yhteyshenkilönä toimii {name/initials:init:last@fi}, varalla {name/initials:init:last@any}.", "fi"),
    ("{name/plural_family:plural.nom@fi} ovat hakeneet toimeentulotukea Kelasta.", "fi"),
    ("Kotikäynti tehtiin {name/plural_family:plural.all@fi} {-/meeting_short:meeting_short}", "fi"),
    ("Lapsen kummi {name/fi_rare_first:first@fi_rare} ja täti {name/fi_rare_first:first@fi_rare} "
     "osallistuivat verkostopalaveriin.", "fi"),
    ("Äiti {name/sv_fi:full@sv} toivoo, että asiakirjat käännetään ruotsiksi.", "fi"),
    ("Keskustelin {name/inflected:first.gen@fi} ja {name/inflected:last.gen@any} kanssa.", "fi"),
    ("Asiasta ilmoitettiin {name/inflected:full.all@any} Wilman kautta.", "fi"),
    ("Viesti {name/inflected:first.abl@sv}: ei pääse palaveriin.", "fi"),
    ("Nuoren vanhemmat {name/foreign:first@any} ja {name/foreign:first@any} puhuvat kotona omaa kieltään.", "fi"),
    ("Veli {name/foreign:full@any} ({birth_date/name_paren:date_dots}) muutti {-/year:year} toiseen "
     "kaupunkiin.", "fi"),
    ("Lapsen isä on {name/foreign:full@any}, puh. {phone/foreign:phone_foreign}, ja äiti "
     "{name/fi_full:full@fi}.", "fi"),
    ("Koulukuraattori {name/fi_full:full@fi} soitti: {name/foreign:first@any} ei ole tullut kouluun.", "fi"),
    ("Tyttären nimi on {name/foreign:first@any}, ja hän on {age}-vuotias.", "fi"),
    ("Postit osoitteeseen {address/street:street}, {address/postal:postal}; sähköposti {email/plain:email}.", "fi"),
    ("Nuori {name/fi_full:full@fi} on syntynyt {birth_date/month_word:date_word}.", "fi"),
    ("Pappan {name/sv_fi:full@sv}, född {birth_date/sv_fodd:date_sv_word}, bor på "
     "{address/sv_street:sv_street}, {address/postal:sv_postal}.", "sv"),
    ("Flickan {name/foreign:first@any} (f. {birth_date/sv_fodd:date}) har diagnos {diagnosis_code/dotted:icd}.", "sv"),
    ("Mamman nås på {phone/fi:phone} eller {email/at_written:email_at}. {name/sv_fi:first@sv} går i "
     "årskurs fyra.", "sv"),
    ("{name/sv_fi:full@sv} (personbeteckning {identity_code/spaced_sign:hetu_spaced}) bor med sin mormor.", "sv"),
    ("Mötet hölls med {name/foreign:full@any} och {name/sv_fi:full@sv}.", "sv"),
]

HELDOUT2_CLEAN = [
    # general case prose (about a third)
    ("Perhe on ollut perhesosiaalityön asiakkaana kaksi vuotta.", "general"),
    ("Nuoren koulunkäynti on katkonaista, ja hän valvoo öisin.", "general"),
    ("Vanhempien välinen riita huoltajuudesta jatkuu.", "general"),
    ("Lapsi on kertonut pelkäävänsä isän vihaisuutta.", "general"),
    ("Huoltajat ovat sitoutuneet yhteistyöhön.", "general"),
    ("Kotiolot ovat siistit, ja jääkaapissa oli ruokaa.", "general"),
    ("Nuori tupakoi ja on kokeillut kannabista.", "general"),
    ("Koulun mukaan oppilas häiritsee tunneilla ja lähtee kesken päivän kotiin.", "general"),
    ("Lapsi on ollut päiväkodissa iloinen ja leikkinyt muiden kanssa.", "general"),
    ("Äiti kertoi olevansa uupunut ja toivoi kotipalvelua.", "general"),
    ("Isällä on uusi puoliso, jonka kanssa lapsi ei tule toimeen.", "general"),
    ("Tilanne on kriisiytynyt viime viikkojen aikana.", "general"),
    ("Sijaishuoltopaikka vaihtui keväällä.", "general"),
    ("Nuori on karkaillut laitoksesta useita kertoja.", "general"),
    ("Kysymys konsultaatioryhmälle: riittävätkö avohuollon tukitoimet?", "general"),
    ("Pyydämme arviota siitä, tarvitaanko huostaanottoa.", "general"),
    ("Perheellä ei ole tukiverkostoa paikkakunnalla.", "general"),
    ("Lapsen käytös on muuttunut aggressiiviseksi.", "general"),
    ("Mitä muuta voisimme tehdä?", "general"),
    ("Yhteenveto:\n- tilanne vakaa\n- seuraava arvio keväällä", "general"),
    ("Tavoitteet: koulunkäynnin vakiintuminen ja unirytmin korjaantuminen.", "general"),
    ("Nuori toivoo saavansa asua isovanhempien luona.", "general"),
    ("Vanhemmat eivät ole sopineet tapaamisista.", "general"),
    ("Perheneuvolan psykologi on tavannut lasta kolme kertaa.", "general"),
    ("Kouluterveydenhoitaja on huolissaan nuoren painon laskusta.", "general"),
    ("Lapsi nukkuu äidin vieressä eikä suostu omaan sänkyyn.", "general"),
    ("Taloudellinen tilanne on tiukka, ja vuokria on rästissä.", "general"),
    ("Asunnossa on hometta, ja lapsilla on ollut hengitystieoireita.", "general"),
    ("Isä on työttömänä ja hakee töitä.", "general"),
    ("Äiti käy töissä vuorotyössä, joten iltaisin lapset ovat yksin.", "general"),
    ("Nuori kertoo olevansa yksinäinen.", "general"),
    ("Kaverisuhteet ovat vähentyneet yläkouluun siirtymisen jälkeen.", "general"),
    ("Lapsen mukaan kotona huudetaan paljon.", "general"),
    ("Kiitos nopeasta vastauksesta.", "general"),
    ("Terveisin perhetyö", "general"),
    ("Ei uutta tietoa tällä viikolla.", "general"),
    ("Asia jatkuu.", "general"),
    ("Kyllä.", "general"),
    ("Ok, sovitaan niin.", "general"),
    ("Soitan huomenna uudelleen.", "general"),
    ("Lähetteen käsittely on kesken.", "general"),
    ("Nuori on sitoutunut hoitoon, mutta käynnit jäävät välillä väliin.", "general"),
    ("Perhetyön jakso päättyy kesäkuussa.", "general"),
    ("Lapsi tarvitsee koulunkäynninohjaajan tukea.", "general"),
    ("Erityisopettaja on tehnyt lukiseulan.", "general"),
    ("Vanhempien eron jälkeen lapsi on oireillut.", "general"),
    ("Kotona ei ole väkivaltaa vanhempien mukaan.", "general"),
    ("Lapsi kertoi opettajalle saaneensa remmistä.", "general"),
    ("Huostaanoton valmistelu on aloitettu.", "general"),
    ("Asiakassuunnitelma päivitettiin.", "general"),
    ("Verkostoon kuuluvat koulu, perheneuvola ja nuorisopsykiatria.", "general"),
    ("Nuoren äidinkieli on dari, ja hän puhuu myös suomea.", "general"),
    ("Lapsi syö huonosti ja on väsynyt aamuisin.", "general"),
    ("Isän alkoholinkäyttö on lisääntynyt eron jälkeen.", "general"),
    ("Sosiaalityöntekijä vaihtui syksyllä.", "general"),
    ("Konsultaation jälkeen tilannetta arvioidaan uudelleen.", "general"),
    ("Ryhmä suositteli perheterapiaa ja vanhemmuuden tukea.", "general"),
    ("Lisätietoja pyydetään koululta.", "general"),
    ("Nuori harrastaa jääkiekkoa ja käy salilla.", "general"),
    ("Lapsi on hyvin kiintynyt pikkusiskoonsa.", "general"),
    ("Tapaamiset etävanhemman kanssa toteutuvat joka toinen viikonloppu.", "general"),
    ("Vuoroasuminen ei ole toiminut.", "general"),
    ("Pojalla on vaikeuksia keskittyä, ja hän unohtelee läksyjä.", "general"),
    ("Tytön mukaan koulussa on hyviä aikuisia.", "general"),
    ("Sijaisperheessä on kaksi muuta lasta.", "general"),
    ("Perhe asuu kerrostalossa kaupungin keskustassa.", "general"),
    ("Nuori on hakenut kesätöitä.", "general"),
    ("Ruokailut ovat kotona epäsäännöllisiä.", "general"),
    ("Vanhemmat kokevat, että heitä ei ole kuultu.", "general"),
    ("Lapsi on ollut sairaalassa tarkkailujaksolla.", "general"),
    ("Kuntoutusjakso alkaa kuukauden kuluttua.", "general"),
    ("Nuori ei ole halunnut keskustella työntekijän kanssa.", "general"),
    ("Äiti pyysi, että asia käsitellään nimettömänä.", "general"),
    ("Perheen kanssa on tehty turvasuunnitelma.", "general"),
    ("Lapsen näkökulma jää selvityksessä ohueksi.", "general"),
    ("Mitkä ovat ryhmän suositukset jatkoon?", "general"),
    ("Pahoittelen myöhäistä vastausta.", "general"),
    ("Tilanne on edennyt, kiitos kaikille.", "general"),
    ("Asia siirretään seuraavaan kokoukseen.", "general"),
    ("Kirjaus tehty jälkikäteen.", "general"),
    ("Nuori jatkaa lukiossa syksyllä.", "general"),
    ("Sisarussuhteet ovat riitaisat.", "general"),
    ("Lapsi kastelee yöllä sänkyä.", "general"),
    ("Vanhemmilla on erilaiset kasvatusnäkemykset.", "general"),
    ("Isovanhemmat ovat huolissaan lasten hyvinvoinnista.", "general"),
    ("Koulun oppilashuoltoryhmä kokoontui.", "general"),
    ("Harrastus on ollut nuorelle tärkeä voimavara.", "general"),
    ("Nuorta on kiusattu somessa.", "general"),
    ("Perhe tarvitsee tulkin kaikkiin tapaamisiin.", "general"),
    ("Lapsen kielitaito on vahvistunut.", "general"),
    ("Poissaoloja on kertynyt {-/count:count} tuntia.", "general"),
    ("Asiakkuus on jatkunut {-/count:count} kuukautta.", "general"),
    ("Tapaamisia on ollut {-/count:count}, ja seuraava sovitaan myöhemmin.", "general"),
    # authorities, apps and services
    ("Kela maksaa vammaistukea.", "authority_service"),
    ("Kelasta ei ole vielä tullut päätöstä.", "authority_service"),
    ("Valvira on pyytänyt selvitystä yksiköltä.", "authority_service"),
    ("Omakannassa on psykiatrin lausunto.", "authority_service"),
    ("Wilma-merkintöjen mukaan poissaolot ovat selvittämättä.", "authority_service"),
    ("Teams-palaveri {-/meeting_short:meeting_short} peruttiin.", "authority_service"),
    ("Kanta-palvelujen kautta näkyy rokotustiedot.", "authority_service"),
    ("Maistraatin aikaisia tietoja ei ole.", "authority_service"),
    ("Poliisi on tehnyt esitutkinnan.", "authority_service"),
    ("Ulosoton kautta peritään elatusmaksuja.", "authority_service"),
    ("Aluehallintovirastolle on tehty kantelu.", "authority_service"),
    ("Migrin haastattelu on tulossa.", "authority_service"),
    ("TE-palvelut ohjasivat nuoren työpajalle.", "authority_service"),
    ("Nuori käy Ohjaamossa kerran viikossa.", "authority_service"),
    ("Perhe on hakenut tukea Sosiaalitoimistosta.", "authority_service"),
    ("Tiedot tarkistettiin Väestötietojärjestelmästä.", "authority_service"),
    ("Nuori pelaa Fortnitea ja juttelee kavereiden kanssa Discordissa.", "authority_service"),
    ("Kuvat oli jaettu Snapchatissa.", "authority_service"),
    ("Vanhemmat käyttävät Whatsappia viestintään.", "authority_service"),
    ("Zoomin kautta tulkki osallistui.", "authority_service"),
    ("Terveystalossa tehtiin verikokeet.", "authority_service"),
    ("Mehiläinen tarjoaa terapiaa ostopalveluna.", "authority_service"),
    ("HUS:n lastenpsykiatrian konsultaatio saatiin.", "authority_service"),
    ("Sekasin-chat on ollut nuorelle tärkeä.", "authority_service"),
    ("Omaolossa täytettiin oirekysely.", "authority_service"),
    ("Mielenterveystalo.fi:n omahoito-ohjelma suositeltiin.", "authority_service"),
    ("THL:n lomakkeella tehtiin arvio.", "authority_service"),
    ("Kelan kuntoutuspsykoterapia on haettu.", "authority_service"),
    ("Suomi.fi-valtuutus on tehty.", "authority_service"),
    ("Nuorisoasema on kutsuttu mukaan verkostoon.", "authority_service"),
    ("Edunvalvonta hoitaa nuoren raha-asiat.", "authority_service"),
    ("Ensi- ja turvakotien liiton avopalvelut ovat mukana.", "authority_service"),
    ("Hätäkeskus ohjasi puhelun sosiaalipäivystykseen.", "authority_service"),
    ("Instagram-tili on suljettu.", "authority_service"),
    ("Youtubesta nuori katsoo pelivideoita öisin.", "authority_service"),
    # meeting dates and times
    ("Seuraava verkostopalaveri {-/meeting:meeting} koululla.", "meeting_datetime"),
    ("Tapaaminen pe {-/meeting_short:meeting_short} klo {-/time:time}.", "meeting_datetime"),
    ("Soitto äidille klo 12.10, ei vastausta.", "meeting_datetime"),
    ("Kotikäynti ti klo 15 yhdessä perhetyöntekijän kanssa.", "meeting_datetime"),
    ("Palaveri vk {-/count:count}, tarkempi aika myöhemmin.", "meeting_datetime"),
    ("Käynti siirtyy {-/meeting_short:meeting_short} klo 13.", "meeting_datetime"),
    ("Ajalla {-/meeting_short:meeting_short}–{-/meeting_short:meeting_short} nuori oli leirillä.", "meeting_datetime"),
    ("Tapaaminen {-/meeting_short:meeting_short} klo 9–10 perheneuvolassa.", "meeting_datetime"),
    # typos and shorthand
    ("Lapsenn isä ei vastannut puheluihin.", "typo_abbrev"),
    ("Tapaamiesssa oli läsnä koko perhe.", "typo_abbrev"),
    ("Kotikäyntin aikana lapsi nukkui.", "typo_abbrev"),
    ("Nuoren kansa sovittiin seuraavasta tapaamisesta.", "typo_abbrev"),
    ("isä keroi, että tilanne on parantunut.", "typo_abbrev"),
    ("Perhetyöntekjä kävi kotona.", "typo_abbrev"),
    ("Sosiaalityöntkijä soitti koululle.", "typo_abbrev"),
    ("Keskustleimme vanhempien kanssa.", "typo_abbrev"),
    ("Palaverisa sovittiin jatkosta.", "typo_abbrev"),
    ("Vrt. viime vuoden arvio.", "typo_abbrev"),
    ("Ym. asiat käsitellään ensi kerralla.", "typo_abbrev"),
    ("Ts. lapsi ei ole saanut tukea.", "typo_abbrev"),
    ("Yms. pienet asiat ovat hoituneet.", "typo_abbrev"),
    ("Kts. liite 2.", "typo_abbrev"),
    ("Th. ja sos.tt. yhteiskäynti.", "typo_abbrev"),
    ("Lto ilmoitti, että nuori on kipeä.", "typo_abbrev"),
    ("Ilm. tullut koululta, sos.päiv. hoiti.", "typo_abbrev"),
    ("Vast.ott. psyk.pkl:lla.", "typo_abbrev"),
    ("Lapsi asui aiemmin Jyväskylässsä.", "typo_abbrev"),
    ("Huoltajat olivat eri mieltä, ks. edell.", "typo_abbrev"),
    ("Huomioitavaa: Nuori ei halua isää paikalle.", "typo_abbrev"),
    ("Äidin Mielestä koulu ei ole puuttunut kiusaamiseen.", "typo_abbrev"),
    # word uses of names
    ("Toivo on tässä vaiheessa koulun tuessa.", "name_word_use"),
    ("Usko omaan pärjäämiseen on kasvanut.", "name_word_use"),
    ("Lumi ja pakkanen estivät kotikäynnin.", "name_word_use"),
    ("Valo sammui kesken palaverin.", "name_word_use"),
    ("Onni oli myötä, ja paikka löytyi samana päivänä.", "name_word_use"),
    ("Ilo ja nauru kuuluivat ryhmässä.", "name_word_use"),
    ("Into liikuntaan heräsi uudelleen.", "name_word_use"),
    ("Toivomme, että vanhemmat sitoutuvat.", "name_word_use"),
    ("Nuoren ilo on palannut, kun hän pääsi joukkueeseen.", "name_word_use"),
    ("Äidillä ei ole toivoa tilanteen paranemisesta.", "name_word_use"),
    ("Onneksi sijaisperhe oli joustava.", "name_word_use"),
    ("Tuuli ja sade haittasivat retkeä.", "name_word_use"),
    ("Satu iltaisin auttaa lasta nukahtamaan.", "name_word_use"),
    ("Uskoa tulevaan on vahvistettu pienin askelin.", "name_word_use"),
    # Swedish lines
    ("Tack för mötet i dag.", "swedish"),
    ("Vi återkommer nästa vecka.", "swedish"),
    ("Mamman är trött och behöver stöd.", "swedish"),
    ("Pojken vill inte gå till skolan.", "swedish"),
    ("Familjen har bott här i tre år.", "swedish"),
    ("Kuratorn ringer föräldrarna i morgon.", "swedish"),
    ("Ingen ändring sedan förra mötet.", "swedish"),
    ("Barnet sover dåligt.", "swedish"),
    ("Socialarbetaren skickar kallelsen.", "swedish"),
    ("Mötet blev inställt.", "swedish"),
    ("Hälsningar, familjearbetet", "swedish"),
    ("Flickan trivs i skolan.", "swedish"),
    ("Pappan kom inte till mötet {-/meeting_short:meeting_short}", "swedish"),
    # English lines
    ("Thank you for the consultation.", "english"),
    ("The child is doing better at school.", "english"),
    ("Meeting cancelled, new time to be agreed.", "english"),
    ("Interpreter needed at every meeting.", "english"),
    ("Father works abroad most of the year.", "english"),
    ("Follow-up in two weeks.", "english"),
    ("Mother agrees with the plan.", "english"),
    ("No change since last week.", "english"),
    ("Kind regards, family services", "english"),
    # places that are also surnames
    ("Perhe muutti Lahdesta Joensuuhun.", "place_surname"),
    ("Isä asuu Salossa uuden puolisonsa kanssa.", "place_surname"),
    ("Lahden ja Salon välillä on junayhteys.", "place_surname"),
    ("Kemissä asuu äidin sisko.", "place_surname"),
    ("Nuori kävi ammattikoulua Raumalla.", "place_surname"),
    ("Leiri järjestetään Kaarinassa kesäkuussa.", "place_surname"),
    ("Perheen sukulaiset asuvat Kotkassa ja Porissa.", "place_surname"),
    # organisations named after people
    ("Nuori on Mannerheimin Lastensuojeluliiton tukihenkilötoiminnassa.", "org_person_name"),
    ("Lapsi aloittaa Juho Vainion koulussa syksyllä.", "org_person_name"),
    ("Minna Canthin koulun kuraattori on mukana.", "org_person_name"),
    ("Tukea tarjoaa Pelastakaa Lapset.", "org_person_name"),
    ("Lapsi on ollut Sylvia-kodin tilapäishoidossa.", "org_person_name"),
    ("Perhe osallistui Folkhälsanin kurssille.", "org_person_name"),
    # ages and years
    ("Lapsi on {-/age:age}-vuotias ja käy esikoulua.", "age"),
    ("Nuori täytti {-/age:age} vuotta viime kuussa.", "age"),
    ("Sisaruksista vanhin on {-/age:age} v.", "age"),
    ("Lapset ({-/age:age} v ja {-/age:age} v) asuvat äidin luona.", "age"),
    ("Perhe muutti maahan {-/year:year}.", "year"),
    ("Vuonna {-/year:year} tehtiin ensimmäinen ilmoitus.", "year"),
    ("Vuosina {-/years:years} perhe asui ulkomailla.", "year"),
    # doses
    ("Concerta {-/dose:dose} aamulla.", "dose"),
    ("Melatoniini {-/dose:dose} iltaisin auttaa.", "dose"),
    ("Annosta nostettiin {-/dose:dose}:aan.", "dose"),
    ("Elvanse {-/dose:dose} ja Intuniv 1 mg.", "dose"),
    # grades
    ("Matematiikan arvosana {-/grade:grade}.", "grade"),
    ("Nuori on {-/grade:grade}. luokalla.", "grade"),
    ("Keskiarvo {-/average:average}.", "grade"),
    # law sections
    ("LsL {-/law:law} mukainen ilmoitus tehtiin.", "law_section"),
    ("Sosiaalihuoltolain {-/law:law} mukainen palvelutarpeen arvio.", "law_section"),
    ("Kiireellinen sijoitus lastensuojelulain 38 §:n nojalla.", "law_section"),
    ("Päätös tehtiin SHL 35 §:n perusteella.", "law_section"),
    # diary and court numbers, business IDs
    ("Dnro {-/diary:diary}.", "diary_court_number"),
    ("Käräjäoikeuden diaarinumero {-/court:court}.", "diary_court_number"),
    ("Viitteenne {-/diary:diary}.", "diary_court_number"),
    ("Y-tunnus {-/bizid:bizid}", "business_id"),
    ("Palveluntuottajan y-tunnus on {-/bizid:bizid}.", "business_id"),
    # ICD-like strings that are not codes
    ("B-lausunto on toimitettu Kelaan.", "icd_like"),
    ("Nuori on luokalla 8B.", "icd_like"),
    ("Seuraava raportti Q3/2026.", "icd_like"),
    ("COVID-19 vaikutti perheen talouteen.", "icd_like"),
    ("C-lausunto pyydetään lääkäriltä.", "icd_like"),
    ("Ryhmä 5A ja 5B yhdistettiin.", "icd_like"),
    ("Lapsi on vetäytyvä ja puhuu vähän.", "general"),
    ("Äiti on aloittanut päihdekuntoutuksen.", "general"),
    ("Nuoren kanssa laadittiin viikkosuunnitelma.", "general"),
    ("Perhe tarvitsee apua arjen rytmittämiseen.", "general"),
    ("Koulumatkat sujuvat taksilla.", "general"),
    ("Isä on suostunut vanhemmuusarvioon.", "general"),
    ("Nuori muutti Salon vastaanottokotiin.", "place_surname"),
    ("Lapsi aloitti Aleksis Kiven koulussa.", "org_person_name"),
    ("Verkostoon kutsutaan myös Kelan työntekijä.", "authority_service"),
    ("Tarkista tiedot Kannasta.", "authority_service"),
]

TEMPLATES = {
    "dev": (DEV_POSITIVE, DEV_CLEAN),
    "heldout": (HELDOUT_POSITIVE, HELDOUT_CLEAN),
    "heldout2": (HELDOUT2_POSITIVE, HELDOUT2_CLEAN),
    # The third held-out part: heldout2's templates and data with a new seed (new names
    # and values), generated after the third round of rules was fixed and measured once.
    "heldout3": (HELDOUT2_POSITIVE, HELDOUT2_CLEAN),
}
REPEAT_POSITIVE = 14
# Clean templates with values are rendered up to this many times (distinct texts).
REPEAT_CLEAN = {"dev": 7, "heldout": 7, "heldout2": 3, "heldout3": 3}
# The language of a clean text, by its trap's suffix ("general_sv") or the trap.
CLEAN_LANG = {"swedish": "sv", "english": "en"}

_SLOT = re.compile(r"\{([\w-]+)(?:/([\w]+))?:([^}]+)\}|\{(age)\}")


def render(g: Gen, values: dict, template: str, lang: str) -> dict:
    text, findings, pos = "", [], 0
    for m in _SLOT.finditer(template):
        text += template[pos:m.start()]
        pos = m.end()
        if m.group(4):  # {age}: a plain age, part of the clean context
            text += values["age"]()
            continue
        kind, category, gen = m.group(1), m.group(2), m.group(3)
        origin = None
        if gen in values:
            value = values[gen]()
        else:
            value, origin = g.name(gen)
        if kind != "-":
            finding = {"kind": kind, "start": len(text), "end": len(text) + len(value),
                       "category": category}
            if origin and kind == "name":
                finding["origin"] = origin
            findings.append(finding)
        text += value
    text += template[pos:]
    return {"text": text, "lang": lang, "findings": findings, "traps": []}


def generate(part: str) -> list[dict]:
    g = Gen(part)
    values = _values(g)
    positive, clean = TEMPLATES[part]
    entries = []
    for i, (template, lang) in enumerate(positive):
        for _ in range(REPEAT_POSITIVE):
            entry = render(g, values, template, lang)
            entry["template"] = f"{part}-p{i}"
            entries.append(entry)
    for i, (template, trap) in enumerate(clean):
        lang = "sv" if trap.endswith("_sv") else CLEAN_LANG.get(trap, "fi")
        seen = set()
        for _ in range(REPEAT_CLEAN[part]):
            entry = render(g, values, template, lang)
            if entry["text"] in seen:
                continue  # a template without values renders once
            seen.add(entry["text"])
            entry["traps"] = [trap.removesuffix("_sv")]
            entry["template"] = f"{part}-c{i}"
            entries.append(entry)
    return entries


def main() -> None:
    for part, path in OUT.items():
        entries = generate(part)
        with path.open("w", encoding="utf-8") as fh:
            for e in entries:
                fh.write(json.dumps(e, ensure_ascii=False) + "\n")
        print(f"wrote {len(entries)} entries to {path}")


if __name__ == "__main__":
    main()
