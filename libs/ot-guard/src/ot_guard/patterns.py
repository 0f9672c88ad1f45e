"""Regular-expression detectors for phone, e-mail, address, birth date and
ICD-10 diagnosis code.  Each ``find_*`` returns a list of (start, end) spans.

They run on normalised text (``ot_guard.normalise``): digits are ASCII, every
dash is "-", every space " ", and invisible characters are gone.  No pattern has
two unbounded quantifiers that can take the same characters one after the
other, so none backtracks more than linearly."""
from __future__ import annotations

import re

# --- phone -------------------------------------------------------------------
# A prefix (+358 / 00358 / (0xx) / 0xx) followed by 1-4 digit groups separated
# by a single space or hyphen.  The digit count is checked afterwards, which is
# simpler than encoding every Finnish numbering plan in the regex.  Dots are not
# accepted as separators so that dates and times (20.3.2023, 14.30) never match.
_PHONE = re.compile(
    r"(?<![\w+/-])"
    r"(?P<prefix>\+358[ -]?(?:\(0\))?|00358[ -]?|\(0\d{1,3}\)|0\d{1,3})[ -]?"
    r"(?P<rest>\d{1,4}(?:[ -]?\d{2,4}){0,3})"
    r"(?![\w/-])"
)


def find_phone(text: str) -> list[tuple[int, int]]:
    spans = []
    for m in _PHONE.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if m["prefix"].startswith(("+358", "00358")):
            national = digits[5:] if digits.startswith("00358") else digits[3:]
            national = national.lstrip("0")
            ok = 6 <= len(national) <= 10
        else:
            # Domestic form starts with the trunk 0: 0x + subscriber number.
            # 0800/0600/0700 are service numbers of organisations, not people.
            ok = (8 <= len(digits) <= 11 and not digits.startswith("00")
                  and not digits.startswith(("0800", "0600", "0700")))
        if ok:
            spans.append(m.span())
    return spans


# --- e-mail ------------------------------------------------------------------
_EMAIL = re.compile(
    r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}(?![\w-])"
)


def find_email(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _EMAIL.finditer(text)]


# --- address -----------------------------------------------------------------
# A street name is a capitalised word ending in a Finnish street suffix, and it
# must be followed by a house number: "Kauppakatu" alone names a street, not a
# home.  Optional staircase letter and apartment number ("12 A 5", "7 B",
# "3 as. 4").
_STREET_SUFFIXES = (
    "katu", "tie", "kuja", "polku", "väylä", "raitti", "kaari", "bulevardi",
    "aukio", "piha", "rinne", "kaarre", "tanhua", "kierros", "kumpu", "tori",
    "puistikko", "penger", "gatan", "vägen", "gränd",
)
_STREET = re.compile(
    r"(?<![\w-])[A-ZÅÄÖ][a-zåäöéü]*(?:-[A-Za-zåäöÅÄÖ]+)*"
    r"(?:" + "|".join(_STREET_SUFFIXES) + r")"
    r"\s\d{1,3}[a-z]?(?:\s?-\s?\d{1,3})?"  # "12–14": dashes are "-" after normalisation
    r"(?:\s(?:[A-H]|as\.?)(?:\s?\d{1,3})?)?"
    r"(?![\w])"
)
# Postal code + post office: five digits and a capitalised place name
# ("70100 Kuopio", "40100 JYVÄSKYLÄ").
_POSTAL = re.compile(
    r"(?<![\w.,/-])\d{5}\s[A-ZÅÄÖ][A-Za-zåäöÅÄÖ]+(?:-[A-Za-zåäöÅÄÖ]+)?(?![\w-])"
)


def find_address(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _STREET.finditer(text)] + [
        m.span() for m in _POSTAL.finditer(text)
    ]


# --- birth date --------------------------------------------------------------
# A date is refused only with a birth cue right before it: a plain date is a
# meeting or a period ("kokous 20.3.2023", "20.3.–3.11.2023") and is allowed.
_MONTHS_FI = (
    "tammikuuta|helmikuuta|maaliskuuta|huhtikuuta|toukokuuta|kesäkuuta|"
    "heinäkuuta|elokuuta|syyskuuta|lokakuuta|marraskuuta|joulukuuta"
)
_MONTHS_EN = (
    "January|February|March|April|May|June|July|August|September|October|"
    "November|December"
)
_DATE = (
    r"(?:\d{1,2}\.\s?\d{1,2}\.\s?(?:\d{4}|\d{2})"      # 12.3.2012, 12.03.12
    r"|\d{4}-\d{1,2}-\d{1,2}"                           # 2012-03-12
    r"|\d{1,2}/\d{1,2}/\d{2,4}"                         # 12/03/2012
    r"|\d{1,2}\.\s(?:" + _MONTHS_FI + r")\s\d{4}"       # 12. maaliskuuta 2012
    r"|\d{1,2}\s(?:" + _MONTHS_EN + r")\s\d{4}"         # 12 March 2012
    r"|(?:" + _MONTHS_EN + r")\s\d{1,2},?\s\d{4})"      # March 12, 2012
)
_BIRTH_CUE = (
    r"(?:(?<![\w.])s\.|(?<!\w)(?:synt\.|syntynyt|syntynyttä|syntyneen|syntynyt|"
    r"syntyi|syntymäaika|syntymäaikansa|syntymäpäivä|syntymäpvm|"
    r"born|date\sof\sbirth|birth\sdate|birthdate|DOB|D\.O\.B\.|d\.o\.b\.|dob))"
)
# Between cue and date: spaces, an optional colon, an optional "on"/"oli"/"is"/
# "was".  Each stretch of spaces has exactly one quantifier that can take it: three
# optional runs of \s* in a row made "s." + 1,000 spaces take 55 s to reject.
_BIRTH = re.compile(
    _BIRTH_CUE + r"\s*(?::\s*)?(?:(?:on|oli|is|was)\s+)?(?P<date>" + _DATE + r")(?![\d.]\d)",
    re.IGNORECASE,
)


def find_birth_date(text: str) -> list[tuple[int, int]]:
    return [m.span("date") for m in _BIRTH.finditer(text)]


# --- ICD-10 diagnosis code ---------------------------------------------------
# Letter + two digits, optional dot + one or two characters (F84.0, Z63.5,
# G40, F32.1).  Upper-case letter for the bare form; lower case is accepted
# only with the dotted part, which is hard to mistake for anything else.
_ICD = re.compile(
    r"(?<![\w.,/-])(?:[A-Z]\d{2}(?:\.\d[0-9A-Z]?)?|[a-z]\d{2}\.\d[0-9a-z]?)(?![\w-]|\.\d)"
)
# Words before a letter+digits token that show it is a room, class, road or
# similar label rather than a diagnosis ("huone B12", "valtatie E63").
_ICD_NOT_AFTER = re.compile(
    r"(?:huone\w*|luokk?a\w*|talo|rappu\w*|porra\w*|kerro\w*|portti\w*|"
    r"tie|valtatie\w*|room|class|gate|road|bus|bussi\w*|linja\w*)\s$",
    re.IGNORECASE,
)
# B12 vitamin, and the bare film/game age ratings K12/K16/K18.
_ICD_NOT_BEFORE = re.compile(r"\s?-?vitamiin|\s?vitamin", re.IGNORECASE)
_ICD_EXCLUDED = {"K12", "K16", "K18"}


def find_diagnosis_code(text: str) -> list[tuple[int, int]]:
    spans = []
    for m in _ICD.finditer(text):
        if m.group() in _ICD_EXCLUDED:
            continue
        if _ICD_NOT_AFTER.search(text[max(0, m.start() - 20):m.start()]):
            continue
        if _ICD_NOT_BEFORE.match(text, m.end()):
            continue
        spans.append(m.span())
    return spans
