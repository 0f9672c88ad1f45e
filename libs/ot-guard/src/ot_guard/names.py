"""Person-name detection for Finnish (and some Swedish and English) case notes.

Three sources of knowledge, all maintained data, none hand-typed name lists:

* the name lexicon (``ot_guard.lexicon``): Faker's first and last names of the
  locales of the families a Finnish note names, expanded at import into their
  Finnish case forms ("Ahmed" -> "Ahmedille", "Virtanen" -> "Virtasten");
* Voikko, the Finnish morphological analyser (``ot_guard.morphology``), which knows
  Finnish words in every inflected form and many first names, surnames and
  places ("Korhosille" is the surname Korhonen; "lumi" is a common noun);
* Faker's place lists and Voikko's place names.

A capitalised token is classified once (and cached) as

* PERSON: a lexicon name or a Voikko first name/surname, and not an ordinary word;
* PERSON_WORD: a name that is also an ordinary word (Toivo, Onni, Sara, Kari);
* WORD_NOUN: only an ordinary word to Voikko, but a short (at most six letters),
  underived, simple singular noun, the shape of a first name such as Ilo, Lumi,
  Valo, Into, Usko (a compound such as "Perheneuvola", a plural such as "Lapset", a
  derived or longer noun such as "Opettaja" or "Poliisi", a group noun such as
  "Perhe" or an institution word such as "Talo" is never a name);
* PLACE or ORGANISATION (Lahti, Salo, Kuopio; Elmeri, Kela, Wilma, Teams);
* UNKNOWN: neither Voikko nor the lexicon knows it, the usual case for a name of a
  family from abroad (Abdirahman, Hodan, Somchai) or a surname missing from both
  (a word needs a vowel, with or without a diacritic: "Trọng" is a name, "Dg" an
  abbreviation);
* WORD: any other ordinary word.

Rules, in order of importance (each chosen for precision on real prose):

1. Finnish capitalises only proper nouns and sentence starts, so a capitalised
   PERSON, UNKNOWN, PERSON_WORD or WORD_NOUN token in mid-sentence is a name.
2. At a sentence start, where any word is capitalised, PERSON and UNKNOWN are
   names; PERSON_WORD and WORD_NOUN ("Usko omiin kykyihin", "Toivo on, että") need
   support: a person verb after it ("Lumi kertoi", "Ilo on 7-vuotias"), another name
   next to it, a role word before it, a family word after its genitive, a birth
   date (also ISO, "2019-04-25") or age in parentheses after it, or the same
   name used as a name elsewhere.
   In Swedish or English text (by its function words; on a tie, by the words
   only the Swedish word list or only Voikko knows) nothing unknown at a sentence
   start is a name without such support, and in a Swedish or English line of a
   Finnish text ("Vi ses på mötet.") neither is a first word that is a Swedish or
   English word; a Swedish or English function word there ("Hon", "He") never is.
   An unknown word at a Finnish sentence start that Voikko's speller finds one
   letter from an ordinary word ("Lapssen", "Tapaamnen") is a typo unless a person
   verb, an age or a role word supports it, or it is a name elsewhere in the text.
3. PLACE and ORGANISATION tokens are names only with support: next to another
   name ("Simo Lahti") or after a role word ("äiti Kaarina"; in Swedish, which
   does not inflect, also "Barnet Malin", which Voikko reads as Mali's).  A capitalised
   token after Swedish "i"/"från"/"till" is a place.
4. Adjacent name tokens form one finding ("Maija Virtanen", "Nguyen Van Minh"),
   and initials before a surname belong to it ("M. Virtanen", "A-L. Korhonen").
   A capitalised ordinary word right after an initial, after a first name or
   after two names is a surname ("M. Mäenpää", "Kristiina Lähteenmäki", "Maryam
   Zubairu Ali"), unless the letter follows a noun and is a label ("liite A.").
5. A hyphenated token is a compound word when its last part is in lower case
   ("Wilma-viesti", "Elmeri-koulu"), except "X-niminen" (a person named X).
6. A span followed by an institution word ("Juho Vainion koulu", "Mannerheimin
   Lastensuojeluliitto", "Pelastakaa Lapset ry"), also one or two capitalised
   words later ("Aseman Lapset ry", "Ronald McDonald -talo"), names an
   institution -- except a single inflected first name ("Matin koulu" is Matti's
   school).  A single word after a kind of institution ("Iltapäiväkerho Kipinä")
   is its name, and so is an unknown word right after an organisation's name
   ("Brawl Starsia").  An unknown word followed by a dose ("Concerta 36 mg") is a
   medicine; a capitalised word followed by a dot and a lower-case letter
   ("Psyk.sh.", "Lääk. määräsi") is an abbreviation.
7. Lower-case names: a lexicon name form that Voikko does not know as an ordinary
   word, in Finnish text ("äiti maija virtanen"), and any word Voikko does not know
   right after a role word ("poika abdirahman") unless its speller finds a verb one
   letter away ("äiti kertio"); a word Voikko knows only as a first name or
   surname ("markku"); a word nobody knows (Voikko, the word lists, nor its speller
   one letter away) before a person verb or "ei" ("zuhrawi ei tule").  Never an
   English word, never in a Swedish or English line.
8. English: in an English text or sentence (most of its words are in the English
   word list), an unknown or lexicon token that is an English word is a word
   ("Test Expert", "Per price list"; bilingual fields write "fi / en"), unless it
   is a lexicon name that a person verb follows ("Edit called") or it follows a
   first name ("Marlene Frisk").  The first
   part of an elided compound ("Oppimis- ja ohjauskeskus") is never a name.
"""
from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass

from . import morphology
from .data import loaded
from .inflect import _VOWELS, expand as _expand, inflections  # noqa: F401 (inflections: API)

# The name lexicon and Faker's place names, built from the packages into the guard's
# data file (ot_guard.data): compact, and read without importing Faker.
_DATA = loaded()

# Organisations, services, apps, games and medicines that case notes name and
# that are spelt like names or unknown words.  Not people: never a name alone.
ORGANISATION_NAMES = frozenset({
    # the OT network
    "Elmeri", "Sateenkaari", "Valteri", "Varjo", "Vaalijala", "Barnahus", "Kys", "Koske", "Iso",
    # public services and their systems
    "Kela", "Kanta", "Omakanta", "Omaolo", "Apotti", "Wilma", "Kelmu", "Lifecare",
    "Effica", "Pegasos", "Vamos", "Sekasin",
    # apps, games and platforms children's case notes mention
    "Teams", "Zoom", "WhatsApp", "Snapchat", "TikTok", "Instagram", "Facebook", "YouTube",
    "Discord", "Telegram", "Tinder", "Jodel", "Twitch", "Netflix", "Google", "Spotify",
    "Fortnite", "Minecraft", "Roblox", "Valorant", "Steam", "PlayStation",
    "Xbox", "Nintendo", "iPhone", "iPad", "Android",
    # authorities, hospitals and wellbeing areas, by the short names notes use
    "Valvira", "Migri", "Traficom", "Fimea", "Tukes", "Stea", "Karvi", "Oph", "Stm", "Okm",
    "Tays", "Oys", "Tyks", "Ksks", "Ksshp", "Pshp", "Kymsote", "Eksote", "Essote", "Soite",
    "Sosteri", "Siun", "Pirha", "Keusote", "Satasairaala",
    # services, associations and providers of child welfare and mental health
    "Ohjaamo", "Tukinet", "Mieli", "Nyyti", "Pesäpuu", "Folkhälsan", "Icehearts", "Walkers",
    "Kalliola", "Klaari", "Sininauha", "Omaiset", "Duodecim", "Attendo", "Mehiläinen",
    "Pihlajalinna", "Aava", "Esperi", "Validia", "Coronaria", "Humana", "Luona",
    "Terveystalo", "Mielenterveystalo", "Nuortentalo", "Terveyskylä",
    # school and patient record systems
    "Peda", "Pedanet", "Moodle", "Qridi", "Classroom", "Uranus", "Mediatri", "Abilita",
    # more apps, games and platforms
    "Tellonym", "Messenger", "Skype", "Twitter", "Reddit", "Pinterest", "Likee",
    "Wattpad", "Omegle", "Vinted", "Brawl", "Fifa", "Pokemon", "Pokémon", "Clash",
    # ADHD and other medicines named without a dose
    "Concerta", "Medikinet", "Elvanse", "Ritalin", "Equasym", "Attentin", "Intuniv",
    "Strattera", "Melatonin", "Circadin", "Sertralin", "Voxra", "Abilify", "Opamox",
})

# Case-note shorthand that Voikko does not know and a sentence may start with.
_SHORTHAND = frozenset(
    "hetu puh gsm sposti dnro dg pvm tfn nro klo ks esim vrt huom lsl shl sthl lasu "
    "ilmo sostt th sth kuraattori".split())

# Names that are also common words used at the start of a sentence ("Toivo on,
# että", "Anna palautetta", "Pian tämän jälkeen"): Voikko knows a word reading of
# many more names (matti, hilkka), but only these are used as words often enough
# to need support there.
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

# Places: Faker's Finnish, Swedish and Danish address lists (in the data file) and these.
_MORE_PLACE_NAMES = frozenset({"Suomi", "Finland", "Kuopio", "Jyväskylä", "Joensuu", "Mikkeli",
                               "Savonlinna", "Varkaus", "Iisalmi", "Pieksämäki", "Lahti", "Salo",
                               "Kaarina", "Simo"})

_MONTHS_AND_DAYS = frozenset((
    "tammikuu helmikuu maaliskuu huhtikuu toukokuu kesäkuu heinäkuu elokuu "
    "syyskuu lokakuu marraskuu joulukuu maanantai tiistai keskiviikko torstai "
    "perjantai lauantai sunnuntai January February March April May June July "
    "August September October November December Monday Tuesday Wednesday "
    "Thursday Friday Saturday Sunday"
).title().split())

# Family and client role words after which a word is a name ("äiti Kaarina",
# "pojan Toivon", "nimeltään Lumi", "flickan Ebba").  Lower-case word prefixes.
_ROLE_PREFIXES = (
    "äiti", "äidi", "isä", "isän", "isoäi", "isoisä", "mummo", "mummi", "ukki",
    "vaari", "pappa", "lapsi", "lapse", "poika", "poja", "tyttö", "tytö", "tytär",
    "tyttäre", "sisko", "sisar", "veli", "velje", "vauva", "huoltaja", "asiakas",
    "asiakkaa", "oppilas", "oppilaa", "nuori", "nuore", "puoliso", "avopuoliso",
    "pikkuveli", "pikkusisko", "isoveli", "isosisko", "eno", "täti", "setä", "serkku",
    "nimeltä", "nimeltään", "nimetty", "kutsutaan",
    "child", "mother", "father", "son", "daughter", "brother", "sister", "client",
    "pupil", "mr", "mrs", "ms", "rouva", "herra", "named", "called",
    "mamma", "pappa", "mor", "far", "mormor", "morfar", "farmor", "farfar", "dotter",
    "bror", "syster", "barnet", "flickan", "pojken", "vårdnadshavare", "heter", "kallad",
)
_ROLE_WORDS = frozenset(_ROLE_PREFIXES) | frozenset({"modern", "pappan", "mamman", "fadern"})

# Family words after a genitive ("Toivon äiti"); narrower than the role words
# so that "Salon nuorisotoimi" stays a place.  A name's genitive also comes before
# the postpositions of visiting ("Toivon luona") -- but a noun's does too ("Lumen
# kanssa"), so those count only for known names.
_FAMILY = (
    "äiti", "äidi", "isä", "isi", "isoäi", "isoisä", "mummo", "mummi", "ukki",
    "vaari", "veli", "velje", "sisko", "sisar", "poika", "poja", "tytär", "tyttäre",
    "puoliso", "avopuoliso",
)
_FAMILY_PREFIXES = _FAMILY + (
    "vanhemm", "huoltaja", "koulunkäyn", "kotona", "kanssa", "luona", "luokse", "perhe",
)

# A professional's title, then a surname: "luokanopettaja Mäkelä", "rehtori Mäkelän mukaan".
# A surname that Voikko knows only as a place (Mäkelä, Lahti, Salo) is a person after one,
# in the nominative or in the genitive before a word of meeting or reporting; a place after a
# title is inflected otherwise ("lääkäri Kuopiossa", "psykologi Kuopion yliopistollisesta").
# A teacher or a doctor is not the client, but their name narrows the child down.
_TITLES = (
    "opettaja", "rehtori", "kuraattori", "psykologi", "lääkäri", "hoitaja", "terapeutti", "psykiatri",
    "työntekijä", "ohjaaja", "avustaja", "valmentaja", "poliisi", "konstaapeli", "pastori",
    "kirkkoherra", "tohtori", "lärare", "läraren", "rektor", "rektorn", "kurator", "kuratorn",
    "psykolog", "psykologen", "läkare", "läkaren", "teacher", "principal", "doctor", "nurse", "officer",
)
_WORD_AND_SPACE_BEFORE = re.compile(r"(\w+) $")
# A word for a name, then the name: "Lapsen sukunimi on Mäkelä", "käyttää sukunimeä Salo",
# "efternamnet är Lahti". A word the guard otherwise reads as a place is a name here; an
# organisation's name stays one ("Palvelun nimi on Kela").
_NAME_WORD_BEFORE = re.compile(
    r"(?<!\w)(?:(?:suku|etu|tyttö|kutsuma|lempi|toinen\s)?nim(?:i|eä|ensä|eksi)(?:\s(?:on|oli|oli\saiemmin))?"
    r"|(?:efter|för|flick)?namn(?:et)?(?:\sär|\svar)?|(?:sur|first|last|maiden\s)?name(?:\sis|\swas)?)\s$",
    re.IGNORECASE)
_AFTER_TITLED_GENITIVE = ("kanssa", "luona", "luokse", "luota", "mukaan")

# Verbs and phrases after which a sentence-initial name-like word is a person
# ("Lumi kertoi", "Usko nukkuu huonosti", "Ilo on 7-vuotias").  Verbs of
# speaking, feeling and living that weather, light and hope do not do.
_PERSON_VERB = re.compile(
    r"\s(?:kertoi|kertoo|kertonut|sanoi|sanoo|totesi|toteaa|ilmoitti|vastasi|vastaa|kysyi|"
    r"itki|itkee|nauroi|nauraa|huusi|pelkää|pelkäsi|haluaa|halusi|toivoo|toivoi|ajattelee|"
    r"asuu|asui|muutti|nukkuu|nukkui|leikkii|leikki|pelaa|pelasi|syö|söi|opiskelee|"
    r"osallistuu|osallistui|kieltäytyi|suostui|karkasi|karkaa|kiusaa|kiusasi|lyö|löi|"
    r"oireilee|oireili|väsyy|jaksaa|jaksoi|harrastaa|tarvitsee|tarvitsi|"
    r"(?:on|oli)\s(?:nyt\s)?\d{1,2}-?\s?(?:v\b|vuotias|vuoden)|"
    # Swedish and English lines: "Ebba ringde", "Julia called"
    r"(?:ringde|ringer|berättade|berättar|sa|sade|säger|gråter|grät|vill|ville|mår|mådde|"
    r"bor|bodde|flyttade|sover|sov|leker|lekte|spelar|spelade|kom|kommer|avbokade|"
    r"(?:är|var)\s\d{1,2}\s?år|"
    r"called|calls|said|says|told|tells|cried|cries|wants|wanted|lives|lived|came|comes|"
    r"cancelled|canceled|attended|attends|(?:is|was)\s\d{1,2}(?:\syears|-year))\b)"
)

# Institution words after a name span: it names the institution (rule 6).
# The institution word is the head of the next word ("-koulussa", "-liitosta"),
# not just part of it ("koulunkäynti" is schooling).
_INSTITUTION = re.compile(
    r"\s-?(?:[\w-]*?(?:koulu|liitto|liito|säätiö|talo|koti|kodi|keskus|kesku|sairaala|opisto|"
    r"lukio|yliopisto|instituut|yhdistys|yhdistykse|seura|museo|kirjasto|puisto|rahasto|"
    r"päiväkoti|päiväkodi|klinikka|klinika|kappeli|kirkko|kirko|seurakunta|"
    r"hanke|hankkee|palkinto)[a-zåäö]{0,4}\b|ry\b|oy\b|ab\b|rf\b|school|centre|center|hospital|"
    r"foundation|skola|skolan|stiftelse|förening)",
    re.IGNORECASE,
)
# An institution word one or two capitalised words later ("Aseman Lapset ry",
# "Ronald McDonald -talolla"): those words belong to the institution's name.
_INSTITUTION_LATER = re.compile(
    r"(?-i:(?:\s[A-ZÅÄÖ][^\W\d_]*){1,2})(?:" + _INSTITUTION.pattern + ")", re.IGNORECASE)
# A kind of institution, then its name: "Iltapäiväkerho Kipinä", "Perheneuvola Oiva".
_INSTITUTION_KINDS = tuple(w + " " for w in (
    "koti", "kerho", "asema", "neuvola", "keskus", "yksikkö", "talo", "koulu", "ryhmä", "hanke",
    "projekti", "palvelu", "sovellus", "peli", "ohjelma", "klinikka", "tiimi", "kahvila", "leiri",
    "yhdistys", "seura", "kylä"))
_DOSE = re.compile(r"\s(?:[A-Z]{2,3}\s)?\d+(?:[.,]\d+)?\s?(?:mg|mcg|µg|ug|ml|g)\b")
_INITIALS = re.compile(r"(?<![\w.])(?:[A-ZÅÄÖ](?:-[A-ZÅÄÖ])?\.\s?){1,2}$")
_INITIAL_BEFORE = re.compile(r"(?:^|[\s(])[A-ZÅÄÖ](?:-[A-ZÅÄÖ])?\.\s?$")
def _trie_pattern(words) -> str:
    """A regex alternation of ``words`` as a trie ("ä(?:iti|idi)|is(?:ä|oäi)..."):
    Python's engine then tries one branch per character instead of every word."""
    trie: dict = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node) -> str:
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        optional = "" in node
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return "(?:" + body + ")?" if optional else body

    return build(trie)


_ROLE_THEN_LOWER = re.compile(
    r"(?<!\w)" + _trie_pattern(set(_ROLE_PREFIXES) | {p[0].upper() + p[1:] for p in _ROLE_PREFIXES})
    + r"\w*[\s,]+(?P<next>[a-zåäöéü]{3,})(?![\w@-])")
# A lower-case word, then a person verb or a negated verb ("minh ei tule").
_LOWER_THEN_VERB = re.compile(
    r"(?<![\w@.-])(?P<w>[a-zåäöéü]{3,})(?=" + _PERSON_VERB.pattern + r"|\sei\s[a-zåäö])")
_SWEDISH_PLACE_PREP = re.compile(r"(?:^|\s)(?:i|från|till|vid|mot)\s$")

# Short nouns that are the subject of person verbs in case notes without being
# anybody's name ("Perhe asuu", "Koulu kertoi", "Mies sanoi"): never a name at a
# sentence start.  (Longer and derived nouns -- opettaja, rehtori -- never are.)
_GROUP_NOUNS = frozenset(
    "perhe koulu ryhmä tiimi kunta pari luokka kela mies nainen kaveri ystävä pappi "
    "ope hoitaja tutor".split())

# Function words that tell the language of a text.
_FI_WORDS = re.compile(r"\b(?:ja|on|että|ei|oli|hän|se|kanssa|mukaan|myös|ovat|kun|tai)\b")
_OTHER_FUNCTION_WORDS = frozenset(
    "och att är det som inte har hon han med för på av till den hos sin eller men "
    "när efter vid enligt bor går deltog jag vi ni de du oss mig dig hej tack nu inget ingen "
    "the and of to is was with he she his her has at on in".split())
_OTHER_WORDS = re.compile(r"\b(?:" + "|".join(sorted(_OTHER_FUNCTION_WORDS)) + r")\b")


# Case form -> (base name, is a first name): ~8,000 names -> ~130,000 forms, as digests.
_LEXICON = _DATA.lexicon
_LOWER_LEXICON = _DATA.lower
# Brands are also written with a single capital ("Whatsapp", "Youtube", "Tiktok"), and
# a short name ending in a consonant is inflected like an abbreviation ("Oysin", "Kysissä").
_ORG_FORMS = _expand(ORGANISATION_NAMES | {n.capitalize() for n in ORGANISATION_NAMES}
                     | {n + "i" for n in ORGANISATION_NAMES if n[-1] not in _VOWELS})
_MORE_PLACE_FORMS = _expand(_MORE_PLACE_NAMES)
_CALENDAR_FORMS = _expand(_MONTHS_AND_DAYS)

# Token classes.
PERSON, PERSON_WORD, WORD_NOUN, PLACE, ORGANISATION, UNKNOWN, WORD = range(7)

# Upper-case letters of the Latin scripts (Å, Đ, İ, Ş...), as a class built once.
_UPPER = "".join(sorted({chr(c) for c in range(0x41, 0x250) if chr(c).isupper()}))
_CAP_TOKEN = re.compile(
    r"(?<![\w@])(?<![a-zåäö0-9]\.)[" + _UPPER + r"][^\W\d_]*(?:-[^\W\d_]+)*(?![\w@])"
)
_LOWER_TOKEN = re.compile(r"(?<![\w@.-])[a-zåäöéü]{3,}(?![\w@-])")


@dataclass(slots=True)
class _Tok:
    start: int
    end: int
    text: str
    cls: int
    base: str
    is_first: bool
    nominative: bool
    weak: bool = False
    typo: bool = False  # looks like a mistyped word (morphology.typo_of)


_CLASS_CACHE: dict[str, tuple[int, str, bool, bool]] = {}
# Cleared when full: bounded memory under text of random words (see morphology.ANALYSIS_CACHE_WORDS).
_CACHE_LIMIT = 32_768


def _classify_word(word: str) -> tuple[int, str, bool, bool]:
    """(class, base, is_first, nominative) of a capitalised word.  Cached."""
    hit = _CLASS_CACHE.get(word)
    if hit is not None:
        return hit
    result = _classify_uncached(word)
    if len(word) <= 40:  # a longer "word" is a hyphenated chain: its parts are cached
        if len(_CLASS_CACHE) >= _CACHE_LIMIT:
            _CLASS_CACHE.clear()
        _CLASS_CACHE[word] = result
    return result


def _classify_uncached(word: str) -> tuple[int, str, bool, bool]:
    parts = word.split("-")
    if len(parts) > 1:
        if parts[-1][:1].islower():
            return WORD, word, False, False  # compound: Wilma-viesti, Elmeri-koulu
        entry = _LEXICON.get(word)
        if entry is not None:
            base, is_first = entry
            return PERSON, base, is_first, base == word
        infos = [_classify_word(p) for p in parts]
        if all(i[0] in (PERSON, PERSON_WORD, UNKNOWN) for i in infos):
            return PERSON, infos[-1][1], infos[0][2], infos[-1][3]  # Anna-Liisa, Virtanen-Korhonen
        if any(i[0] == PLACE for i in infos):
            return PLACE, word, False, False  # Etelä-Savo
        return WORD, word, False, False
    if word in _ORG_FORMS:
        return ORGANISATION, word, False, True
    if word.lower() in _SHORTHAND:
        return WORD, word, False, False
    if any(c.isupper() for c in word[1:]):
        return WORD, word, False, False  # LsL, WhatsApp, iPhone: abbreviations and brands
    if word in _CALENDAR_FORMS:
        return PLACE, word, False, False  # weak like places: "Maanantaina"
    m = morphology.analyse(word)
    entry = _LEXICON.get(word)
    person = entry is not None or m.person
    if word in _MORE_PLACE_FORMS or word in _DATA.place_forms or (m.place and not person):
        return PLACE, word, False, (word in _MORE_PLACE_NAMES or word in _DATA.place_names
                                    or m.place_nominative)
    if person:
        base = entry[0] if entry else m.person_base
        is_first = entry[1] if entry else m.first_name
        nominative = (entry[0] == word) if entry else m.person_nominative
        if m.word_simple:  # Toivo, Onni, Kari; not Peltoniemi (a compound "field cape")
            return PERSON_WORD, base, is_first, nominative
        return PERSON, base, is_first, nominative
    if m.word:
        base = m.noun_base
        if (m.simple_singular_noun and base.lower() not in _ROLE_WORDS
                and base.lower() not in _GROUP_NOUNS and len(base) <= 6 and m.underived_noun
                and not _INSTITUTION.match(" " + base)):
            return WORD_NOUN, base, True, m.nominative
        # "Perhe asuu", "Opettaja kertoi", "ilmoitettu Poliisille", "Tyttöjen Talo": a
        # longer, derived or group noun is never a first name
        return WORD, word, False, False
    if len(word) < 3 or not _has_vowel(word):
        return WORD, word, False, False  # Dg, Ks, Vk: abbreviations
    return UNKNOWN, word, True, True


def _has_vowel(word: str) -> bool:
    """A vowel, also with a diacritic (Vietnamese "Phú", "Trọng", "Đặng"): a word
    without one is an abbreviation ("Dg", "Vk")."""
    return any(c in "aeiouyAEIOUY" for c in unicodedata.normalize("NFD", word))


_OPENERS = " \t\"'“”«(["
_ENDS = ".!?:;\n•/"


def _at_sentence_start(text: str, pos: int) -> bool:
    """After a sentence end, a bullet or at the start of the text (opening quotes
    and brackets in between).  String operations only: it runs for every
    capitalised word."""
    before = text[max(0, pos - 8):pos].rstrip(_OPENERS)
    if not before:
        return pos < 8 or not text[pos - 8:pos].strip()
    last = before[-1]
    if last in "-*":  # a bullet line
        rest = before[:-1].rstrip(" \t")
        return rest.endswith("\n") or (not rest and pos < 8)
    if last not in _ENDS:
        return False
    # "M. Virtanen", "A-L. Korhonen": an initial's dot does not end a sentence; a
    # label's letter's does ("vitamiini D. Lisäksi", "liite A. Tapaaminen")
    initial = _INITIAL_BEFORE.search(before) if last == "." else None
    return not initial or _label_letter(text, max(0, pos - 8) + initial.start())


_LOWER_NEXT = re.compile(r"\s?[a-zåäö]")
_WORD_BEFORE = re.compile(r"(\w+)[\s,]+$")
_WORD_AFTER = re.compile(r"\s+(\w+)")
_AGE_OR_DATE_AFTER = re.compile(
    r"\s?\((?:\d{1,2}\s?v|\d{1,2}\.\s?\d{1,2}\.\s?\d{2,4}|\d{4}-\d{2}-\d{2}\)|s\.)")
_WORD_BEFORE_PARENTHESIS = re.compile(r"(\w+)\s?\($")
_NAMED = re.compile(r"([^\W\d_]+)-nimi")


def _after_first_name(text: str, prev: _Tok, pos: int) -> bool:
    """``prev`` is a first name of the lexicon or Voikko right before ``pos``
    (one space between), so the word at ``pos`` is its surname."""
    return (prev.end + 1 == pos and text[prev.end] == " " and prev.is_first
            and prev.cls in (PERSON, PERSON_WORD, UNKNOWN) and not prev.weak)


def _surname_after(text: str, toks: list[_Tok], pos: int) -> bool:
    """The capitalised word at ``pos`` follows a first name or two names, one space
    apart ("Kristiina Valkama", "Maryam Zubairu Ali"), or an initial ("M. Muhin"):
    it is a surname even when it is also an ordinary word.  A letter after a noun
    is a label, not an initial ("vitamiini D. Lisäksi", "liite A. Tapaaminen")."""
    initial = _INITIAL_BEFORE.search(text, max(0, pos - 5), pos)
    if initial:
        return not _label_letter(text, initial.start())
    if not toks:
        return False
    prev = toks[-1]
    if _after_first_name(text, prev, pos):
        return True
    return (len(toks) > 1 and prev.end + 1 == pos and text[prev.end] == " " and not prev.weak
            and prev.cls in (PERSON, PERSON_WORD, UNKNOWN)
            and _after_first_name(text, toks[-2], prev.start))


def _label_letter(text: str, at: int) -> bool:
    """The capital letter and dot that ``_INITIAL_BEFORE`` found at (or one
    character after) ``at`` follow a noun in its basic form, so they name a thing
    ("vitamiini D.", "liite A.", "hepatiitti B."), not a person's initial; after a
    role word they are an initial all the same ("äiti M. Virtanen")."""
    m = _WORD_BEFORE.search(text, max(0, at - 30), at + 1)
    if not m or m.group(1).lower().startswith(_ROLE_PREFIXES):
        return False
    a = morphology.analyse(m.group(1))
    return a.simple_singular_noun and a.nominative


def _after_role_word(text: str, pos: int) -> bool:
    m = _WORD_BEFORE.search(text, max(0, pos - 30), pos)
    return bool(m) and m.group(1).lower().startswith(_ROLE_PREFIXES)


def _after_title(text: str, pos: int) -> bool:
    """A professional's title (also as the end of a compound: "luokanopettaja") and one space."""
    m = _WORD_AND_SPACE_BEFORE.search(text, max(0, pos - 40), pos)
    return bool(m) and m.group(1).lower().endswith(_TITLES)


def _next_word(text: str, pos: int) -> str:
    m = _WORD_AFTER.match(text, pos, pos + 40)
    return m.group(1).lower() if m else ""


def _supported(text: str, tok: _Tok, language=True) -> bool:
    """Context that makes a weak token a person (rule 2)."""
    if _after_role_word(text, tok.start):
        # "äiti Kaarina", but not "äiti Kuopiossa"; Swedish does not inflect, so
        # "Barnet Malin" is not "Mali's"
        return (tok.nominative or tok.cls not in (PLACE, ORGANISATION)
                or (tok.cls == PLACE and not language))
    if tok.cls != ORGANISATION and _NAME_WORD_BEFORE.search(text, max(0, tok.start - 30), tok.start):
        return True  # "sukunimi on Mäkelä"; but "Palvelun nimi on Kela"
    if tok.cls == PLACE and _after_title(text, tok.start):
        return tok.nominative or (tok.text.endswith("n")
                                  and _next_word(text, tok.end).startswith(_AFTER_TITLED_GENITIVE))
    after = text[tok.end:tok.end + 40]
    if tok.cls in (PERSON_WORD, WORD_NOUN, UNKNOWN, PERSON):
        if _PERSON_VERB.match(after) and tok.nominative:
            return True
        if _AGE_OR_DATE_AFTER.match(after):
            return True  # "Ilo (7 v)", "Usko (3.5.2015)"
        if tok.typo:
            return False  # "Lapssen äiti": a mistyped "Lapsen", not a name's genitive
        if not tok.text.endswith("n"):
            return False  # the words below follow a genitive; not "Rauha kotona", "Onneksi mummo"
        following = _next_word(text, tok.end)
        if tok.cls != WORD_NOUN and following.startswith(_FAMILY_PREFIXES):
            return True  # "Toivon äiti", "Toivon luona"
        if not tok.nominative and following.startswith(_FAMILY):
            return True  # "Lumin äiti"
    return False


def _place_before_parenthesis(text: str, pos: int) -> bool:
    m = _WORD_BEFORE_PARENTHESIS.search(text, max(0, pos - 30), pos)
    return bool(m) and m.group(1)[0].isupper() and _classify_word(m.group(1))[0] == PLACE


_ANY_WORD = re.compile(r"[^\W\d_]{3,}")
_WORD_2 = re.compile(r"[^\W\d_]{2,}")


def _is_finnish(text: str) -> bool:
    """True unless Swedish or English function words outnumber Finnish ones.  On a
    tie (a short line often has none of either: "Familjen behöver tolk.", "Kiitos
    konsultaatiosta!") the words decide: those only the Swedish word list knows
    against those only Voikko knows."""
    fi, other = len(_FI_WORDS.findall(text)), len(_OTHER_WORDS.findall(text))
    if fi != other:
        return fi > other
    words = [w.lower() for w in _WORD_2.findall(text)]
    swedish = sum(1 for w in words
                  if w in morphology.SWEDISH_WORDS and not morphology.analyse(w).word)
    if not swedish:
        return True  # the usual case: no word only Swedish, decided without asking Voikko more
    finnish = sum(1 for w in words
                  if w not in morphology.SWEDISH_WORDS and morphology.analyse(w).word)
    return finnish >= swedish


def _is_english(text: str) -> bool:
    """Most of its words are English words ("Child psychiatry consultation")."""
    words = _ANY_WORD.findall(text)
    english = sum(1 for w in words if w.lower() in morphology.ENGLISH_WORDS)
    return len(words) >= 2 and english >= 0.6 * len(words)


_SENTENCE_BOUNDARY = re.compile(r"[.!?;/\n](?=\s)")


class _Language:
    """Whether the text (or one of its sentences) is Finnish or English, worked
    out only when a rule asks, each sentence at most once."""
    __slots__ = ("text", "finnish", "_english", "_bounds", "_sentences", "_finnish_sentences")

    def __init__(self, text: str):
        self.text, self.finnish, self._english = text, None, None
        self._bounds: list[int] | None = None
        self._sentences: dict[int, bool] = {}
        self._finnish_sentences: dict[int, bool] = {}

    def _sentence(self, pos: int) -> tuple[int, int, int]:
        if self._bounds is None:
            self._bounds = [m.end() for m in _SENTENCE_BOUNDARY.finditer(self.text)]
        i = bisect.bisect_right(self._bounds, pos)
        start = self._bounds[i - 1] if i else 0
        end = self._bounds[i] if i < len(self._bounds) else len(self.text)
        return i, start, end

    def at(self, pos: int) -> bool:
        """Is the sentence around ``pos`` Finnish?  A Finnish note quotes a Swedish
        or English line ("Tack för senast.", "Thanks, see you on Monday.")."""
        if not self:
            return False
        i, start, end = self._sentence(pos)
        if i not in self._finnish_sentences:
            sentence = self.text[start:end]
            self._finnish_sentences[i] = (
                (start, end) == (0, len(self.text))
                or (not _is_english(sentence) and _is_finnish(sentence)))
        return self._finnish_sentences[i]

    @property
    def english(self) -> bool:
        if self._english is None:
            self._english = _is_english(self.text)
        return self._english

    def foreign_line(self, word: str, pos: int) -> bool:
        """Is ``word``, at a sentence start, the first word of a Swedish or English
        line?  The sentence is read only when the word is a Swedish or English word
        ("Vi", "Familjen", "Hej"): a name or Finnish word keeps the text's language."""
        if not self:
            return True
        return _foreign_word(word) and not self.at(pos)

    def english_at(self, pos: int) -> bool:
        """Is the sentence around ``pos`` English?  A bilingual field writes the
        same thing twice: "Maksullinen lausunto. / Paid statement."."""
        i, start, end = self._sentence(pos)
        if i not in self._sentences:
            self._sentences[i] = _is_english(self.text[start:end])
        return self._sentences[i]

    def __bool__(self) -> bool:
        if self.finnish is None:
            self.finnish = not self.english and _is_finnish(self.text)
        return self.finnish


def _foreign_word(word: str) -> bool:
    w = word.lower()
    return w in morphology.SWEDISH_WORDS or w in morphology.ENGLISH_WORDS


def find(text: str) -> list[tuple[int, int]]:
    finnish = _Language(text)
    typo_of = morphology.TypoCheck()
    toks: list[_Tok] = []
    for m in _CAP_TOKEN.finditer(text):
        word = m.group()
        if text.startswith("- ", m.end()) or text.startswith("-,", m.end()):
            continue  # "Oppimis- ja ohjauskeskus": the first part of a compound
        named = "-nimi" in word and _NAMED.match(word)  # "Niina-niminen nuori"
        if named:
            word = named.group(1)
        if word.lower() in _ROLE_WORDS:
            continue
        cls, base, is_first, nominative = _classify_word(word)
        if cls == WORD and not named:
            if not _surname_after(text, toks, m.start()):
                continue
            cls = UNKNOWN
        if named and cls == WORD:
            cls = UNKNOWN
        elif (cls in (UNKNOWN, PERSON) and word.lower() in morphology.ENGLISH_WORDS
              and (finnish.english or finnish.english_at(m.start()))
              and not (cls == PERSON and nominative and _PERSON_VERB.match(text, m.end()))
              and not (toks and _after_first_name(text, toks[-1], m.start()))):
            # an English word in English text: "Test Expert", "Per price list"; but a
            # name of the lexicon that a person verb follows ("Edit called") is a
            # name, and so is a surname after a first name ("Marlene Frisk")
            continue
        if text.startswith(".", m.end()) and (
                text[m.end() + 1:m.end() + 2].isalpha()
                or (cls in (UNKNOWN, WORD_NOUN) and _LOWER_NEXT.match(text, m.end() + 1))):
            continue  # an abbreviation: "Psyk.sh.", "Yht.otto", "Lääk. määräsi"
        tok = _Tok(m.start(), m.start() + len(word), word, cls, base, is_first, nominative)
        start = _at_sentence_start(text, tok.start)
        if start and word.lower() in _OTHER_FUNCTION_WORDS and finnish.foreign_line(word, tok.start):
            continue  # "Hon vill inte...", "He said...": a Swedish or English function word
        if cls in (PLACE, ORGANISATION):
            tok.weak = True
        elif cls == UNKNOWN and (
                (start and finnish.foreign_line(word, tok.start))
                or (_SWEDISH_PLACE_PREP.search(text, max(0, tok.start - 6), tok.start)
                    and not finnish)):
            tok.weak = True
        elif cls == UNKNOWN and _DOSE.match(text, tok.end):
            tok.weak = True  # a medicine: "Concerta 36 mg"
        elif cls == UNKNOWN and _place_before_parenthesis(text, tok.start):
            tok.weak = True  # "Norjassa (Tromsø)": a place named after a country
        elif cls == UNKNOWN and start and typo_of(word):
            tok.weak = tok.typo = True  # "Lapssen äiti soitti": a mistyped word, unless a person's
        elif (cls == WORD_NOUN or (cls in (PERSON_WORD, PERSON) and base in COMMON_WORD_NAMES)) \
                and start:
            tok.weak = True
        elif (cls == PERSON or (cls == PERSON_WORD and _foreign_word(word))) and start \
                and finnish.foreign_line(word, tok.start):
            tok.weak = True  # "Vi ses på mötet."
        elif cls == WORD_NOUN and not start and not finnish:
            tok.weak = True
        toks.append(tok)

    # An unknown word or noun right after an organisation's name is part of it
    # ("Brawl Starsia", "Tukikeskus Varjo"), not a person.
    for prev, t in zip(toks, toks[1:]):
        if (prev.cls == ORGANISATION and t.cls in (UNKNOWN, WORD_NOUN)
                and t.start == prev.end + 1 and text[prev.end] == " "):
            t.cls, t.weak = ORGANISATION, True

    # Rule 2, document consistency: a base used as a plain name elsewhere is a
    # name at a sentence start too (not for places and organisations).
    strong_bases = {t.base for t in toks if not t.weak and t.cls != UNKNOWN}
    strong_words = {t.text for t in toks if not t.weak}
    for t in toks:
        if t.weak and t.cls in (PERSON_WORD, WORD_NOUN, PERSON) and t.base in strong_bases:
            t.weak = False
        elif t.typo and t.text in strong_words:
            t.weak = False  # a "typo" that is a name elsewhere in the text: a name

    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(toks):
        first = toks[i]
        # Rule 4: adjacent tokens separated by exactly one space form one name.
        group = [first]
        j = i + 1
        while j < len(toks):
            nxt = toks[j]
            if nxt.start != group[-1].end + 1 or text[group[-1].end] != " ":
                break
            if nxt.cls == ORGANISATION or (group[-1].cls == ORGANISATION):
                break
            if len(group) == 1 and first.weak and first.cls == WORD_NOUN and nxt.is_first:
                break  # "Puhelu Liisalle": a word, then a first name
            group.append(nxt)
            j += 1
        i += len(group)

        if len(group) == 1 and first.weak and not _supported(text, first, finnish):
            continue
        if (len(group) == 1 and first.cls in (UNKNOWN, WORD_NOUN, PERSON_WORD)
                and text[max(0, first.start - 10):first.start].lower().endswith(_INSTITUTION_KINDS)):
            continue  # "Iltapäiväkerho Kipinä", "Nuorisoasema Klaari": the institution's name
        if len(group) > 1 and all(t.weak and t.cls in (PLACE, ORGANISATION) for t in group) \
                and not _after_role_word(text, first.start):
            continue  # "Pohjois-Savo Kuopio"
        if len(group) > 1 and all(t.cls in (WORD_NOUN, PLACE, ORGANISATION) for t in group) \
                and not _after_role_word(text, first.start):
            continue  # "Pelastakaa Lapset", "Tukikeskus Varjo": words, not people
        last = group[-1]
        if _INSTITUTION.match(text, last.end) and (
                last.nominative or len(group) > 1 or not last.is_first):
            continue  # rule 6: "Elmeri school", "Juho Vainion koulu", "Mäntylän koulu"
        if text.startswith(" ", last.end) and text[last.end + 1:last.end + 2].isupper() \
                and _INSTITUTION_LATER.match(text, last.end):
            continue  # "Aseman Lapset ry", "Ronald McDonald -talo"
        start = first.start
        if "." in text[max(0, start - 2):start]:
            initials = _INITIALS.search(text, max(0, start - 8), start)
            if initials:
                start = initials.start()
        spans.append((start, last.end))

    spans.extend(_lowercase_names(text, finnish, typo_of))
    return spans


def _lowercase_names(text: str, finnish, typo_of) -> list[tuple[int, int]]:
    """Rule 7: names written in lower case, in Finnish text."""
    words = _LOWER_TOKEN.findall(text)
    if not words:
        return []
    english = morphology.ENGLISH_WORDS
    hits = {w for w in set(words) if _in_lower_lexicon(w)
            and w not in english and not morphology.analyse(w).word}
    # A word Voikko knows only as a first name or surname ("markku", "niilo"), and a
    # word it does not know at all, nor one edit from any word, that a person verb
    # follows ("minh ei tule", "wafeeq kertoi"): names too.
    cached, unknown = _LOWER_CACHE.get, False
    for w in set(words):
        info = cached(w)
        if info is None:
            info = _lower_info(w)
        if info == _LOWER_PERSON:
            hits.add(w)
        elif info == _LOWER_UNKNOWN:
            unknown = True
    if unknown:  # rare: most texts have no lower-case word nobody knows
        for m in _LOWER_THEN_VERB.finditer(text):
            w = m.group("w")
            if _lower_info(w) == _LOWER_UNKNOWN and not typo_of(w):
                hits.add(w)
    seeds = set()  # where a word after a role word starts a name ("poika abdirahman")
    for m in _ROLE_THEN_LOWER.finditer(text):
        w = m.group("next")
        if w in hits or w in _SHORTHAND or w in _LOWER_STOP or w in english:
            continue
        a = morphology.analyse(w)
        if (a.person and not a.word) or (
                not a.known and "teonsana" not in typo_of(w)):
            seeds.add(m.start("next"))  # not "äiti kertio", "isä soitii": a mistyped verb
    if not (hits or seeds) or not finnish:
        return []
    spans: list[tuple[int, int]] = []
    prev_end = -2
    for m in _LOWER_TOKEN.finditer(text):
        w = m.group()
        is_name = w in hits or m.start() in seeds
        if not is_name and prev_end == m.start() - 1:
            # the next word of a lower-case name: a surname ("maija möttönen")
            a = morphology.analyse(w)
            is_name = ((_in_lower_lexicon(w) or a.person or not a.known)
                       and w not in _LOWER_STOP and w not in english)
        if is_name and prev_end != m.start() - 1 and not finnish.at(m.start()):
            is_name = False  # a Swedish or English line in a Finnish text
        if is_name:
            if spans and prev_end == m.start() - 1 and text[prev_end] == " ":
                spans[-1] = (spans[-1][0], m.end())
            else:
                spans.append(m.span())
            prev_end = m.end()
    return spans


_LOWER_LEXICON_CACHE: dict[str, bool] = {}


def _in_lower_lexicon(w: str) -> bool:
    """A lexicon form in lower case.  Cached (bounded): a digest and a bisection per
    new word, a dictionary look-up after."""
    hit = _LOWER_LEXICON_CACHE.get(w)
    if hit is None:
        if len(_LOWER_LEXICON_CACHE) >= _CACHE_LIMIT:
            _LOWER_LEXICON_CACHE.clear()
        hit = _LOWER_LEXICON_CACHE[w] = w in _LOWER_LEXICON
    return hit


_LOWER_WORD, _LOWER_PERSON, _LOWER_UNKNOWN = range(3)
_LOWER_CACHE: dict[str, int] = {}


def _lower_info(w: str) -> int:
    """A lower-case word: one Voikko knows only as a person's name (not a place,
    not an English word), one nobody knows (not Voikko, nor the English or Swedish
    word lists, nor shorthand), or any other word.  Cached (bounded)."""
    info = _LOWER_CACHE.get(w)
    if info is None:
        info = _LOWER_WORD
        if w not in _SHORTHAND and w not in _LOWER_STOP:
            a = morphology.analyse(w)
            if a.person and not a.word and not a.place and len(w) >= 4:
                info = _LOWER_PERSON
            elif not a.known:
                info = _LOWER_UNKNOWN
            if info != _LOWER_WORD and (w in morphology.ENGLISH_WORDS
                                        or (info == _LOWER_UNKNOWN and w in morphology.SWEDISH_WORDS)):
                info = _LOWER_WORD
        if len(_LOWER_CACHE) >= _CACHE_LIMIT:
            _LOWER_CACHE.clear()
        _LOWER_CACHE[w] = info
    return info


# Lower-case words after a role word that Voikko may not know but are not
# names: English and Swedish function words.
_LOWER_STOP = frozenset(
    "and the was has had with who och att som har med hon han var kan ska".split())
