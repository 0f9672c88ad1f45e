"""Regular-expression detectors for phone, e-mail, address, birth date and
ICD-10 diagnosis code.  Each ``find_*`` returns a list of (start, end) spans.

They run on normalised text (``ot_guard.normalise``): digits are ASCII, every
dash is "-", every space " ", and invisible characters are gone.  No pattern has
two unbounded quantifiers that can take the same characters one after the
other, so none backtracks more than linearly."""
from __future__ import annotations

import re

# --- phone -------------------------------------------------------------------
# Finnish numbers: a prefix (+358 / 00358 / (0xx) / 0xx) followed by 1-4 digit
# groups separated by a single space, hyphen or slash ("040/123 4567").  The digit
# count is checked afterwards, which is simpler than encoding every Finnish
# numbering plan in the regex.  Dots are not accepted as separators here so that dates
# and times (20.3.2023, 14.30) never match; dotted numbers have a pattern of their own.
_PHONE = re.compile(
    r"(?<![\w+/-])"
    r"(?P<prefix>\+358[ -]?(?:\(0\))?|00358[ -]?|\(0\d{1,3}\)|0\d{1,3})(?:[ -]|\s?/\s?)?"
    r"(?P<rest>\d{1,4}(?:[ -]?\d{2,4}){0,3})"
    r"(?![\w/-])"
)
# The same numbers with dots between the groups ("040.123.4567", "+358.40.123.4567"), kept
# apart so that the pattern above never reads a date or a time: a dotted candidate that has
# the shape of a date ("01.02.2012") is a date, and the digit count rules out times.
_DOTTED_PHONE = re.compile(
    r"(?<![\w.+/-])(?P<prefix>\+358\.?|0\d{1,3}\.)\d{2,4}(?:\.\d{2,4}){0,3}(?![\w]|\.\d)"
)
_DATE_SHAPE = re.compile(r"\d{1,2}\.\d{1,2}\.\d{2,4}")
# Foreign numbers: + or 00, a country code that is not Finland's, then digit
# groups.  The candidate is kept only when the `phonenumbers` library (Google's
# numbering-plan data) says it is a valid number of that country.
_FOREIGN_PHONE = re.compile(
    r"(?<![\w+/-])(?:\+|00)(?!358)[1-9]\d{0,2}(?:[ -]?\(?\d{1,5}\)?){1,6}(?![\w/-])"
)
# A business ID (Y-tunnus) is seven digits, a hyphen and a check digit; one
# starting with 0 has the shape of a phone number.
_BUSINESS_ID = re.compile(r"\d{7}-\d")


_ORGANISATION_PREFIXES = ("0800", "0600", "0700", "010", "020", "029", "030", "075")
_NON_DIGIT = re.compile(r"\D")
_DIGITS = re.compile(r"\d{2}")
_A_DIGIT = re.compile(r"\d")


def find_phone(text: str) -> list[tuple[int, int]]:
    if not _DIGITS.search(text):
        return []
    spans = [m.span() for m in _PHONE.finditer(text)
             if not _BUSINESS_ID.fullmatch(m.group()) and _finnish_number(m.group(), m["prefix"])]
    if "." in text:
        spans += [m.span() for m in _DOTTED_PHONE.finditer(text)
                  if not _DATE_SHAPE.fullmatch(m.group()) and _finnish_number(m.group(), m["prefix"])]
    for m in _FOREIGN_PHONE.finditer(text):
        if _valid_foreign(m.group()):
            spans.append(m.span())
    return spans


def _finnish_number(candidate: str, prefix: str) -> bool:
    digits = _NON_DIGIT.sub("", candidate)
    if prefix.startswith(("+358", "00358")):
        national = digits[5:] if digits.startswith("00358") else digits[3:]
        return 6 <= len(national.lstrip("0")) <= 10
    # Domestic form starts with the trunk 0: 0x + subscriber number.
    # Service and corporate numbers belong to organisations, not people:
    # 0800/0600/0700, the national corporate numbers 010, 020, 030 and
    # 075, and the state's 029 (a subscriber number never starts with 0,
    # so 020 cannot be Turku's area code 02).
    return (8 <= len(digits) <= 11 and not digits.startswith("00")
            and not digits.startswith(_ORGANISATION_PREFIXES))


def _valid_foreign(candidate: str) -> bool:
    import phonenumbers  # imported here: most texts have no foreign-looking number

    number = "+" + _NON_DIGIT.sub("", candidate)[2 if candidate.startswith("00") else 0:]
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(number))
    except phonenumbers.NumberParseException:
        return False


# --- e-mail ------------------------------------------------------------------
# The at sign may be written out to fool address harvesters: "(at)", "[at]",
# with or without spaces around it.
_EMAIL = re.compile(
    r"(?<![\w.+-])[\w.+-]+(?:@|\s?[(\[]\s?(?i:at|ät)\s?[)\]]\s?)"
    r"[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}(?![\w-])"
)


def find_email(text: str) -> list[tuple[int, int]]:
    if "@" not in text and "(" not in text and "[" not in text:
        return []  # the common case, decided without the regex
    return [m.span() for m in _EMAIL.finditer(text)]


# --- address -----------------------------------------------------------------
# A street name is a capitalised word ending in a Finnish or Swedish street
# suffix.  In the nominative it must be followed by a house number: "Kauppakatu"
# alone names a street, not a home.  In a locative case it places someone
# ("asuu Kalevankadulla 28 as 26", "muutti Puijonkadulle"), number or not --
# except a square or market place, where people meet rather than live.
# Optional staircase letter and apartment number ("12 A 5", "7 B", "3 as. 4").
_STREET_SUFFIXES = (
    "katu", "tie", "kuja", "polku", "väylä", "raitti", "kaari", "bulevardi",
    "aukio", "piha", "rinne", "kaarre", "tanhua", "kierros", "kumpu", "tori",
    "puistikko", "penger", "gatan", "vägen", "gränd", "stigen", "torget",
)
# Locative forms (-lla/-lle/-lta) of the suffixes, with their stem changes.
_STREET_LOCATIVE = (
    "kadu", "tie", "kuja", "polu", "väylä", "raiti", "kaare", "bulevardi",
    "rintee", "kaartee", "tanhua", "kierrokse", "kummu", "puistiko", "pentere",
)
_NUMBER = (r"\s\d{1,3}[a-z]?(?:\s?-\s?\d{1,3})?"  # "12–14": dashes are "-" after normalisation
           r"(?:\s(?:[A-H]|[aA][sS]\.?)(?:\s?\d{1,3})?)?")  # "as" = asunto (flat), "AS" in capitals
_STREET = re.compile(
    r"(?<![\w-])[A-ZÅÄÖ][a-zåäöéü]*(?:-[A-Za-zåäöÅÄÖ]+)*"
    r"(?:(?:" + "|".join(_STREET_SUFFIXES) + r")" + _NUMBER +
    r"|(?:" + "|".join(_STREET_LOCATIVE) + r")(?:ll[aä]|lt[aä]|lle)(?P<number>" + _NUMBER + r")?)"
    r"(?![\w])"
)
# Typed in lower case, a street is an address only with its house number ("puijonkatu 12 b 5",
# "asuu kalevankadulla 28"): without one, "koulutiellä" and "kadulla" are ordinary words. Suffixes
# that also end ordinary nouns (tori, piha, kumpu...) are left out, and so are the road classes
# whose number is the road's ("valtatie 5", "kantatie 77").
_LOWER_STREET_SUFFIXES = ("katu", "tie", "kuja", "polku", "väylä", "raitti", "kaari", "bulevardi", "rinne",
                          "kaarre", "gatan", "vägen", "gränd", "stigen")
_LOWER_STREET_LOCATIVE = ("kadu", "tie", "kuja", "polu", "väylä", "raiti", "kaare", "bulevardi", "rintee",
                          "kaartee")
_ROAD_CLASSES = re.compile(
    r"(?:valta|kanta|maan|seutu|yhdys|moottori|rauta|kävely|pyörä|ohitus|sivu|pää)tie(?:ll[aä]|lt[aä]|lle)?")
_LOWER_STREET = re.compile(
    r"(?<![\w-])(?P<street>[a-zåäö]{2,}(?:-[a-zåäö]+)*"
    r"(?:" + "|".join(_LOWER_STREET_SUFFIXES) + r"|(?:" + "|".join(_LOWER_STREET_LOCATIVE)
    + r")(?:ll[aä]|lt[aä]|lle)))" + _NUMBER.replace("[A-H]", "[A-Ha-h]") + r"(?![\w]|\s?km\b)"
)
# Without its number, a lower-case street in a locative case is an address where a verb of living or
# moving comes at most two words before it ("perhe muutti keväällä sepänkadulle", "asuu nykyään
# kalevankadulla"); "kadulla" alone (on the street) has no name before the suffix.
_LIVES_ON_LOWER_STREET = re.compile(
    r"(?<!\w)(?:asuu|asui|asuvat|asuivat|asunut|asuneet|muutti|muuttivat|muuttaa|muuttavat|muuttanut|"
    r"muuttaneet|bor|bodde|flyttade|flyttat|flyttar)(?:\s[a-zåäö]+){0,2}?\s"
    r"(?P<street>[a-zåäö]{2,}(?:" + "|".join(_LOWER_STREET_LOCATIVE) + r")(?:ll[aä]|lt[aä]|lle))(?![\w-])",
    re.IGNORECASE)
# Postal code + post office: five digits and a capitalised place name
# ("70100 Kuopio", "40100 JYVÄSKYLÄ").
_POSTAL = re.compile(
    r"(?<![\w.,/-])\d{5}\s[A-ZÅÄÖ][A-Za-zåäöÅÄÖ]+(?:-[A-Za-zåäöÅÄÖ]+)?(?![\w-])"
)
# In lower case ("70100 kuopio") five digits and a word are as often an amount ("10000 euroa"), so
# only right after a street and its comma: "kalevankadulla 28, 70100 kuopio".
_LOWER_POSTAL_AFTER_STREET = re.compile(r",?\s(?P<postal>\d{5}\s[a-zåäö]+(?:-[a-zåäö]+)?)(?![\w-])")


# Substrings every street name contains: checked first, as most texts have none
# (one search for all of them: a Python loop over them cost more than the rest).
_STREET_HINTS = re.compile("|".join(sorted(set(_STREET_SUFFIXES) | set(_STREET_LOCATIVE))))


def find_address(text: str) -> list[tuple[int, int]]:
    spans = []
    hinted = bool(_STREET_HINTS.search(text))
    for m in _STREET.finditer(text) if hinted else ():
        # A locative street name without a number at a sentence start is more
        # likely a common word ("Koulutiellä sattui...") than an address.
        if m.group().endswith(("lla", "llä", "lta", "ltä", "lle")) and m["number"] is None:
            before = text[max(0, m.start() - 10):m.start()].rstrip()
            if not before or before[-1] in ".!?:;\n•":
                continue
        spans.append(m.span())
    if hinted:
        spans += [m.span() for m in _LOWER_STREET.finditer(text)
                  if not _ROAD_CLASSES.fullmatch(m["street"])]
        spans += [m.span("street") for m in _LIVES_ON_LOWER_STREET.finditer(text)
                  if not _ROAD_CLASSES.fullmatch(m["street"].lower())]
    if _DIGITS.search(text):
        postal = [m.span() for m in _POSTAL.finditer(text)]
        for _, end in spans:  # the streets' ends, before the capitalised postal codes join them
            m = _LOWER_POSTAL_AFTER_STREET.match(text, end)
            if m:
                postal.append(m.span("postal"))
        spans += postal
    return spans


# --- birth date --------------------------------------------------------------
# A date is refused only with a birth cue right before it: a plain date is a
# meeting or a period ("kokous 20.3.2023", "20.3.–3.11.2023") and is allowed.
_MONTHS_FI = (
    "tammikuuta|helmikuuta|maaliskuuta|huhtikuuta|toukokuuta|kesäkuuta|"
    "heinäkuuta|elokuuta|syyskuuta|lokakuuta|marraskuuta|joulukuuta"
)
_MONTHS_SV = "januari|februari|mars|april|maj|juni|juli|augusti|september|oktober|november|december"
_MONTHS_EN = (
    "January|February|March|April|May|June|July|August|September|October|"
    "November|December"
)
_DATE = (
    r"(?:\d{1,2}\.\s?\d{1,2}\.\s?(?:\d{4}|\d{2})"      # 12.3.2012, 12.03.12
    r"|\d{4}-\d{1,2}-\d{1,2}"                           # 2012-03-12
    r"|\d{1,2}/\d{1,2}/\d{2,4}"                         # 12/03/2012
    r"|\d{1,2}\.?\s(?:" + _MONTHS_FI + r")\s\d{4}"     # 12. maaliskuuta 2012, 12 maaliskuuta 2012
    r"|\d{1,2}\.?\s(?:" + _MONTHS_SV + r")\s\d{4}"     # 12 mars 2012
    r"|\d{1,2}\s(?:" + _MONTHS_EN + r")\s\d{4}"         # 12 March 2012
    r"|(?:" + _MONTHS_EN + r")\s\d{1,2},?\s\d{4})"      # March 12, 2012
)
_BIRTH_CUE = (
    r"(?:(?<![\w.])s\.|(?<!\w)(?:synt\.|syntynyt|syntynyttä|syntyneen|syntyneet|"
    r"syntyi|syntymäaika|syntymäaikansa|syntymäpäivä|syntymäpvm|"
    r"födda|född|födelsedatum|(?<![\w.])f\.|"
    r"born|date\sof\sbirth|birth\sdate|birthdate|DOB|D\.O\.B\.|d\.o\.b\.|dob))"
)
# Between cue and date: spaces, an optional colon, an optional "on"/"oli"/"is"/
# "was"/"den" (Swedish "född den 12 mars").  Dates are found first and the cue
# is looked for in the 40 characters before each one: most texts have few dates,
# and no run of spaces can make the search backtrack (a cue followed by three
# optional runs of spaces once took 55 s to reject "s." + 1,000 spaces).
# With a birth cue, a day and month without the year is the birth date too ("syntyi 12.10."; with
# the age elsewhere in the text it is all of it). The month's dot is required: "12.10" is a time.
_DAY_AND_MONTH = r"\d{1,2}\.\s?\d{1,2}\.(?!\s?\d)"
_DATE_FOUND = re.compile(r"(?<!\d)(?<!\d\.)(?P<date>" + _DATE + "|" + _DAY_AND_MONTH + r")(?![\d.]\d)",
                         re.IGNORECASE)
_CUE_BEFORE = re.compile(
    _BIRTH_CUE + r"\s*(?::\s*)?(?:(?:on|oli|is|was|den)\s+)?$", re.IGNORECASE)
_CUE_WINDOW = 40
# Or the cue after the date, as Finnish writes it before a noun: "12.3.2012 syntynyt poika",
# "12.3.2012 syntyneen lapsen" (a participle of "syntyä", in any case and number). A date and
# "jälkeen syntyneet" between them is a rule about an age group, not a person's birth date.
_CUE_AFTER = re.compile(r"\s?-?\s?syntyn(?:yt|ee|ei)\w*", re.IGNORECASE)
# What may stand between two dates of one list: a comma, a semicolon, a slash, "&" or one
# conjunction (Finnish, Swedish, English), with spaces.
_LIST_JOIN = re.compile(r"\s*(?:[,;/]|(?P<conjunction>&|ja|sekä|tai|och|samt|eller|and|or))\s*", re.IGNORECASE)


_CUE_HINTS = re.compile(r"s\.|synt|född|f\.|födelse|born|birth|dob|d\.o\.b", re.IGNORECASE)


def find_birth_date(text: str) -> list[tuple[int, int]]:
    if not _A_DIGIT.search(text):  # one is enough: "s. 3.4."
        return []
    if not _CUE_HINTS.search(text):
        return []  # no cue word at all: the common case, decided without the date regex
    dates = list(_DATE_FOUND.finditer(text))
    before = [bool(_CUE_BEFORE.search(text, max(0, m.start() - _CUE_WINDOW), m.start())) for m in dates]
    after = [bool(_CUE_AFTER.match(text, m.end())) for m in dates]
    # One cue for a list of dates (siblings): "s. 3.4.2015, 1.6.2017 ja 2.2.2019",
    # "2015-04-25, 3.3.2016 ja 1.6.2017 syntyneet". The cue reaches along the list across
    # nothing but a comma or a conjunction, so "s. 3.4.2015, kokous 1.6.2017" stops; a cue
    # after the list needs a conjunction before its last date, so that in "Kokous 1.6.2023,
    # 12.3.2012 syntynyt poika" the meeting stays a meeting.
    joins = [_LIST_JOIN.fullmatch(text, a.end(), b.start()) for a, b in zip(dates, dates[1:])]
    for i, join in enumerate(joins):  # forwards from a cue before
        before[i + 1] = before[i + 1] or (before[i] and join is not None)
    own_after = after[:]
    for i in range(len(joins) - 1, -1, -1):  # backwards from a cue after
        join = joins[i]
        if after[i + 1] and join and (join.group("conjunction") or not own_after[i + 1]):
            after[i] = True
    cued = [b or a for b, a in zip(before, after)]
    return [m.span("date") for m, is_birth in zip(dates, cued) if is_birth]


# A date in parentheses right after a person's name is the person's birth date
# ("Maija Virtanen (12.3.2012)"), cue or not.
_DATE_AFTER_NAME = re.compile(r"\s?\(\s?(?P<date>" + _DATE + r")\s?\)", re.IGNORECASE)


def find_birth_date_after_names(text: str, names: list[tuple[int, int]]) -> list[tuple[int, int]]:
    spans = []
    for _, end in names:
        m = _DATE_AFTER_NAME.match(text, end)
        if m:
            spans.append(m.span("date"))
    return spans


# --- ICD-10 diagnosis code ---------------------------------------------------
# Letter + two digits, optional dot + one or two characters (F84.0, Z63.5,
# G40, F32.1), also written without the dot (F900) or with a space after the
# letter when the dotted part follows (F 32.1).  Upper-case letter for the bare
# form; lower case is accepted only with the dotted part, which is hard to
# mistake for anything else.  A hyphen and a word may follow ("F84.5-diagnoosin", in
# capitals "F84.5-DIAGNOOSI"; a single capital after the hyphen is a label: "A12-B").
_ICD = re.compile(
    r"(?<![\w.,/-])(?:[A-Z]\s?\d{2}\.\d[0-9A-Z]?|[A-Z]\d{2,3}|[a-z]\d{2}\.\d[0-9a-z]?)"
    r"(?![\w]|\.\d|-(?![a-zåäö]|[A-ZÅÄÖ]{2}))"
)
# Words before a letter+digits token that show it is a room, class, road or
# similar label rather than a diagnosis ("huone B12", "valtatie E63"), or a
# vitamin ("vitamiini B12", "B12-vitamiini" below).
_ICD_NOT_AFTER = re.compile(
    r"(?:huone\w*|luokk?a\w*|talo|rappu\w*|porra\w*|kerro\w*|portti\w*|"
    r"tie|valtatie\w*|room|class|gate|road|bus|bussi\w*|linja\w*|vitamiini\w*|vitamin)\s$",
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
