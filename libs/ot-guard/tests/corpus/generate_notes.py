"""Writes notes_dev.jsonl and notes_heldout.jsonl next to this file: realistic
case notes (several people and identifiers per note, Finnish and Swedish) and
clean case text full of traps, labelled, deterministically (seeded).

The two parts share nothing but the categories:

* different sentence templates (the held-out ones were written before the
  detector was tuned, and the detector has never been tuned on them);
* different names.  Development names come from the slice of Faker's lists that
  the guard's lexicon contains.  Held-out first names come from another source,
  the first-name dictionary shipped by ``gender-guesser`` (Jörg Michael's
  ``nam_dict.txt``, frequencies per country), and held-out surnames from the
  slice of Faker's lists that the lexicon leaves out (``ot_guard.lexicon.held_out``);
  "less common Finnish first names" are dictionary names the lexicon lacks;
* different seeds, streets, diagnosis codes and number formats where a category
  allows it.

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
OUT = {"dev": HERE / "notes_dev.jsonl", "heldout": HERE / "notes_heldout.jsonl"}
SEEDS = {"dev": 20250110, "heldout": 20250111}

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
    """Faker's names of ``locale``: the lexicon's slice for dev, the held-out slice."""
    first, last = lexicon.source_names(locale)
    keep = (lambda n: lexicon.held_out(n)) if part == "heldout" else (lambda n: not lexicon.held_out(n))
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


class Gen:
    """Value generators of one part."""

    def __init__(self, part: str):
        self.part = part
        self.rng = random.Random(SEEDS[part])
        self.pools = build_pools(part)
        dev = part == "dev"
        self.streets = (["Kalevan", "Puijon", "Myllyn", "Koulu", "Pihlaja", "Aseman", "Tehtaan",
                         "Kirkko", "Satama", "Rauhan", "Vuori", "Sepän"]
                        if dev else
                        ["Tulli", "Suo", "Haapa", "Kaartin", "Linna", "Ratsu", "Rautatien",
                         "Sairaala", "Vesi", "Salmen", "Niemen", "Torkkelin"])
        self.street_suffixes = (["katu", "tie", "kuja", "polku"] if dev
                                else ["katu", "tie", "kuja", "rinne", "väylä", "polku"])
        self.sv_streets = (["Stor", "Skol", "Kyrk", "Strand", "Hamn"] if dev
                           else ["Tall", "Björk", "Kvarn", "Öster", "Sjö"])
        self.icd_codes = (["F84.0", "F90.0", "Z63.5", "F32.1", "F43.1", "F91.3", "E10.9", "F50.0",
                     "F84.5", "F41.1", "G40.3", "F94.1"] if dev else
                    ["F90.1", "F84.1", "F92.8", "F33.2", "F42.0", "F60.3", "F98.0", "G43.0",
                     "F81.0", "F93.0", "Q99.2", "F40.1", "Z61.4", "F51.0"])
        self.cities = (["Kuopio", "Joensuu", "Mikkeli", "Iisalmi", "Varkaus"] if dev
                       else ["Jyväskylä", "Savonlinna", "Pieksämäki", "Lieksa", "Kitee", "Jämsä"])
        self.sv_cities = ["Vasa", "Jakobstad", "Ekenäs", "Borgå", "Karleby", "Kristinestad"]
        self.foreign_regions = (["SE", "SO", "RU", "EE", "IQ"] if dev
                                else ["UA", "VN", "TH", "IR", "TR", "AF", "SY"])

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
                 "väylä": ("väylällä", "väylälle", "väylältä")}[suffix]
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

TEMPLATES = {
    "dev": (DEV_POSITIVE, DEV_CLEAN),
    "heldout": (HELDOUT_POSITIVE, HELDOUT_CLEAN),
}
REPEAT_POSITIVE = 14
REPEAT_CLEAN = 7

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
        lang = "sv" if trap.endswith("_sv") else "fi"
        seen = set()
        for _ in range(REPEAT_CLEAN):
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
