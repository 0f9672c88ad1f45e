"""Writes labelled.jsonl next to this file, deterministically (seeded).

Every identifier here is synthetic: names are Faker fi_FI first and last names
combined at random (so they are fictional people), identity codes are random
dates and numbers, phone numbers random digits in Finnish formats, e-mails at
example.fi / example.com.  Offsets are computed while the text is assembled,
never counted by hand.

Template syntax: ``{kind:generator}`` inserts a generated value and labels it
with ``kind``; ``{-:generator}`` inserts a value that must NOT be found.

Run:  python tests/corpus/generate.py
"""
from __future__ import annotations

import json
import random
import re
from pathlib import Path

from faker.providers.person.fi_FI import Provider as Person

OUT = Path(__file__).with_name("labelled.jsonl")
rng = random.Random(20240615)

CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"
# Names that are also common words, places or organisations: the guard treats
# them specially, so random picks avoid them (the special cases have their own
# hand-written lines below).
AMBIGUOUS = {
    "Aimo", "Aino", "Anna", "Armas", "Arvo", "Aurora", "Helmi", "Ilona", "Kai", "Kari",
    "Lilja", "Linnea", "Marja", "Oiva", "Onni", "Orvokki", "Pia", "Satu", "Sisko", "Suvi",
    "Taisto", "Taru", "Toivo", "Tuija", "Tuuli", "Veikko", "Veli", "Jan", "Elmeri",
    "Kaarina", "Simo", "Valtteri", "Aalto", "Aho", "Aro", "Elo", "Halme", "Harju", "Järvi",
    "Kallio", "Kangas", "Kanerva", "Karhu", "Kärki", "Keskinen", "Kiuru", "Kivinen",
    "Kokko", "Korpi", "Koski", "Kurki", "Laakso", "Laine", "Lehto", "Leino", "Linna",
    "Luoma", "Mäki", "Niemi", "Nurmi", "Ranta", "Repo", "Rinne", "Ruotsalainen", "Saari",
    "Salmi", "Seppä", "Suomalainen", "Taipale", "Tikka", "Tuomi", "Vainio", "Varis",
    "Venäläinen", "Virta", "Vuori", "Marttila", "Soini", "Tervo", "Riihimäki",
    "Nousiainen", "Salo", "Järvenpää", "Kankaanpää", "Lahti",
}
FIRST = [n for n in Person.first_names if n not in AMBIGUOUS and "-" not in n]
LAST = [n for n in Person.last_names if n not in AMBIGUOUS]

# Inflected forms written out by hand (independent of the guard's own
# inflection code, so the corpus tests it rather than mirrors it).
INFLECTED_FIRST = [
    "Matin", "Matille", "Liisan", "Pekan", "Pekalle", "Jukalle", "Mikon", "Jaakolle",
    "Hilkan", "Eetulle", "Saaralle", "Sadun", "Ahdin", "Oskarin", "Tuomaksen",
    "Eliakselle", "Aatoksen", "Anna-Liisan", "Villelle", "Emmalta", "Lauralla",
    "Juholle", "Mattia", "Eetua", "Liisaa", "Kallen", "Atelle", "Danielille",
]
INFLECTED_LAST = [
    "Virtasen", "Korhoselle", "Heikkiselle", "Mäkelän", "Niemiseltä", "Laaksoselle",
    "Lehtosen", "Virtasta", "Korhosten", "Hämäläiselle", "Mattilan", "Jokelalle",
    "Pekkarisen", "Huttuselta",
]
CITIES = ["Kuopio", "Jyväskylä", "Joensuu", "Mikkeli", "Savonlinna", "Iisalmi", "Varkaus",
          "Pieksämäki", "Lieksa", "Kitee", "Suonenjoki", "Jämsä"]
STREET_STEMS = ["Kauppa", "Puijon", "Ranta", "Koivu", "Tehtaan", "Myllyn", "Aseman",
                "Kirkko", "Harju", "Pihlaja", "Kalevan", "Satama"]
STREET_SUFFIXES = ["katu", "tie", "kuja", "polku", "väylä", "rinne"]
ICD = ["F84.0", "F90.0", "Z63.5", "G40", "F32.1", "F43.1", "F91.3", "E10.9", "Q90.0",
       "F50.0", "F84.5", "F41.1", "Z62.8", "F94.1", "G40.3", "F20"]


def digits(n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


# --- identity codes -----------------------------------------------------------
def hetu(sign: str | None = None, temporary: bool = False, wrong: bool = False,
         lower: bool = False) -> str:
    sign = sign or rng.choice("-A")
    dd, mm, yy = rng.randint(1, 28), rng.randint(1, 12), rng.randint(0, 99)
    nnn = rng.randint(900, 999) if temporary else rng.randint(2, 899)
    date = f"{dd:02d}{mm:02d}{yy:02d}"
    check = CHECK[int(f"{date}{nnn:03d}") % 31]
    if wrong:
        check = rng.choice([c for c in CHECK if c != check])
    code = f"{date}{sign}{nnn:03d}{check}"
    return code.lower() if lower else code


# --- phones (random digits: fictional numbers) --------------------------------
def mobile_prefix() -> str:
    return rng.choice(["040", "044", "045", "050", "041", "046"])


PHONE_FORMATS = {
    "spaced": lambda: f"{mobile_prefix()} {digits(3)} {digits(4)}",
    "hyphen": lambda: f"{mobile_prefix()}-{digits(7)}",
    "solid": lambda: f"{mobile_prefix()}{digits(7)}",
    "intl_spaced": lambda: f"+358 {mobile_prefix()[1:]} {digits(3)} {digits(4)}",
    "intl_solid": lambda: f"+358{mobile_prefix()[1:]}{digits(7)}",
    "landline_017": lambda: f"017 {digits(3)} {digits(4)}",
    "landline_09": lambda: f"09 {digits(4)} {digits(4)}",
    "landline_paren": lambda: f"(017) {digits(3)} {digits(3)}",
    "landline_014": lambda: f"014-{digits(6)}",
    "intl_landline": lambda: f"+358 13 {digits(3)} {digits(4)}",
}


def ascii_fold(s: str) -> str:
    return s.lower().translate(str.maketrans("äöåé", "aoae"))


def email() -> str:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    user = rng.choice([f"{first}.{last}", f"{first[0]}{last}", f"{last}{digits(2)}"])
    return f"{ascii_fold(user)}@{rng.choice(['example.fi', 'example.com', 'mail.example.fi'])}"


def street() -> str:
    base = f"{rng.choice(STREET_STEMS)}{rng.choice(STREET_SUFFIXES)} {rng.randint(1, 99)}"
    return base + rng.choice(["", "", f" {rng.choice('ABC')}", f" {rng.choice('ABCD')} {rng.randint(1, 40)}"])


def birth_date() -> tuple[str, str]:
    """(cue, date) in one of several formats."""
    y, m, d = rng.randint(2005, 2022), rng.randint(1, 12), rng.randint(1, 28)
    return rng.choice([
        ("s. ", f"{d}.{m}.{y}"),
        ("syntynyt ", f"{d}.{m}.{y}"),
        ("syntymäaika ", f"{d:02d}.{m:02d}.{y}"),
        ("syntyi ", f"{d}.{m}.{y}"),
        ("born ", f"{y}-{m:02d}-{d:02d}"),
        ("DOB ", f"{d:02d}/{m:02d}/{y}"),
        ("syntymäaika: ", f"{d}.{m}.{y}"),
    ])


GENERATORS = {
    "full": lambda: f"{rng.choice(FIRST)} {rng.choice(LAST)}",
    "first": lambda: rng.choice(FIRST),
    "last": lambda: rng.choice(LAST),
    "infl_first": lambda: rng.choice(INFLECTED_FIRST),
    "infl_last": lambda: rng.choice(INFLECTED_LAST),
    "infl_full": lambda: f"{rng.choice(FIRST)} {rng.choice(INFLECTED_LAST)}",
    "hetu": lambda: hetu(),
    "hetu_temp": lambda: hetu(temporary=True),
    "hetu_wrong": lambda: hetu(wrong=True),
    "hetu_lower": lambda: hetu(sign="a", lower=True),
    "email": email,
    "street": street,
    "postal": lambda: f"{rng.choice(['70', '40', '80', '50', '57'])}{digits(3)} {rng.choice(CITIES)}",
    "icd": lambda: rng.choice(ICD),
    "city": lambda: rng.choice(CITIES),
    "age": lambda: str(rng.randint(3, 17)),
    "meeting": lambda: f"{rng.randint(1, 28)}.{rng.randint(1, 12)}.{rng.randint(2022, 2024)}",
}
for sign in "+-YXWVUABCDEF":
    GENERATORS[f"hetu{sign}"] = (lambda s: lambda: hetu(sign=s))(sign)
for fmt, fn in PHONE_FORMATS.items():
    GENERATORS[f"phone_{fmt}"] = fn


# --- disguises: the same identifiers written with Unicode tricks ---------------
# Escapes, not the characters themselves: most of these are invisible or look
# exactly like the ASCII they stand in for.
ZWSP, SOFT_HYPHEN, NBSP, NARROW_NBSP = "\u200b", "\u00ad", "\u00a0", "\u202f"
EN_DASH, NB_HYPHEN, FULLWIDTH_AT, SMALL_AT = "\u2013", "\u2011", "\uff20", "\ufe6b"
# Cyrillic and Greek letters that look like Latin ones.
CYRILLIC = str.maketrans({
    "A": "\u0410", "B": "\u0412", "C": "\u0421", "E": "\u0415", "H": "\u041d",
    "I": "\u0406", "K": "\u041a", "M": "\u041c", "O": "\u041e", "P": "\u0420",
    "T": "\u0422", "X": "\u0425", "Y": "\u0423", "a": "\u0430", "c": "\u0441",
    "e": "\u0435", "i": "\u0456", "j": "\u0458", "o": "\u043e", "p": "\u0440",
    "s": "\u0455", "x": "\u0445", "y": "\u0443",
})
GREEK = str.maketrans({
    "A": "\u0391", "B": "\u0392", "E": "\u0395", "H": "\u0397", "I": "\u0399",
    "K": "\u039a", "M": "\u039c", "N": "\u039d", "O": "\u039f", "P": "\u03a1",
    "T": "\u03a4", "X": "\u03a7", "Y": "\u03a5", "Z": "\u0396", "o": "\u03bf",
})
# Century signs written as the Cyrillic letter that looks like them.
CYRILLIC_SIGNS = "\u0410\u0412\u0421\u0415\u0425\u0423"  # A B C E X Y


def fullwidth(s: str) -> str:
    """ASCII letters, digits and punctuation as their full-width forms."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in s)


def inside(s: str, ch: str) -> str:
    """``ch`` inserted at a random place strictly inside ``s``."""
    i = rng.randint(1, len(s) - 1)
    return s[:i] + ch + s[i:]


def spaced_phone(sep: str) -> str:
    return f"{mobile_prefix()}{sep}{digits(3)}{sep}{digits(4)}"


GENERATORS.update({
    "hetu_fullwidth": lambda: fullwidth(hetu()),
    "hetu_zwsp": lambda: inside(hetu(), ZWSP),
    "hetu_soft_hyphen": lambda: inside(hetu(), SOFT_HYPHEN),
    "hetu_en_dash": lambda: hetu(sign=EN_DASH),
    "hetu_nb_hyphen": lambda: hetu(sign=NB_HYPHEN),
    "hetu_cyrillic_sign": lambda: hetu(sign=rng.choice(CYRILLIC_SIGNS)),
    "phone_nbsp": lambda: spaced_phone(NBSP),
    "phone_narrow_nbsp": lambda: spaced_phone(NARROW_NBSP),
    "phone_zwsp": lambda: spaced_phone(ZWSP),
    "phone_fullwidth": lambda: fullwidth(PHONE_FORMATS["spaced"]()),
    "name_cyrillic": lambda: f"{rng.choice(FIRST)} {rng.choice(LAST)}".translate(CYRILLIC),
    "name_greek": lambda: f"{rng.choice(FIRST)} {rng.choice(LAST)}".translate(GREEK),
    "name_soft_hyphen": lambda: f"{rng.choice(FIRST)} {inside(rng.choice(LAST), SOFT_HYPHEN)}",
    "email_fullwidth_at": lambda: email().replace("@", FULLWIDTH_AT),
    "email_small_at": lambda: email().replace("@", SMALL_AT),
    "icd_fullwidth": lambda: fullwidth(rng.choice(ICD)),
})

_SLOT = re.compile(r"\{([\w-]+):([^}]+)\}")


def render(template: str, note: str) -> dict:
    text, findings, pos = "", [], 0
    for m in _SLOT.finditer(template):
        text += template[pos:m.start()]
        kind, gen = m.group(1), m.group(2)
        if gen.startswith("birth"):
            cue, value = birth_date()
            text += cue
        elif gen.startswith("="):
            value = gen[1:]  # literal value written in the template
        else:
            value = GENERATORS[gen]()
        if kind != "-":
            findings.append({"kind": kind, "start": len(text), "end": len(text) + len(value)})
        text += value
        pos = m.end()
    text += template[pos:]
    return {"text": text, "findings": findings, "note": note}


POSITIVE = [
    # identity codes: every century sign, temporary numbers, wrong check, lower case
    *[(f"Lapsen henkilötunnus on {{identity_code:hetu{s}}}, tieto poistettava.",
       f"identity code, century sign {s}") for s in "+-YXWVUABCDEF"],
    ("Nuoren hetu {identity_code:hetu_temp} on väliaikainen tunnus.", "temporary 9xx number"),
    ("Väliaikainen tunnus: {identity_code:hetu_temp}", "temporary 9xx number, colon"),
    ("Lomakkeeseen oli kirjattu {identity_code:hetu_wrong} (tarkiste väärin).", "wrong check character still refused"),
    ("Hetu {identity_code:hetu_wrong}", "wrong check character, short"),
    ("asiakkaan tunnus {identity_code:hetu_lower} oli kirjoitettu pienillä", "lower-case letters"),
    ("Lapsi ({identity_code:hetu}) asuu äidin luona.", "identity code in parentheses"),
    ("Child's identity code {identity_code:hetu}.", "English prose"),
    # names
    ("Äiti {name:full} kertoi, että tilanne on kärjistynyt.", "mother full name"),
    ("{name:full} on 12-vuotias ja käy kuudetta luokkaa.", "full name at sentence start"),
    ("{name:infl_first} isä ei ole ollut yhteydessä kouluun.", "inflected first name at sentence start"),
    ("Keskustelimme {name:infl_first} kanssa koulupäivän jälkeen.", "inflected first name"),
    ("lapsi ({name:first}) on 12-vuotias ja sisarus 8-vuotias", "first name in parentheses"),
    ("Olemme soittaneet {name:infl_last} perheelle kahdesti.", "inflected surname"),
    ("Kerroin asiasta {name:infl_last} ja sovimme uuden ajan.", "inflected surname 2"),
    ("Isä {name:infl_full} kanssa on sovittu tapaamisista.", "first name + inflected surname"),
    ("Koulukuraattori on tavannut {name:infl_first} viikoittain.", "inflected first name 2"),
    ("Tytön nimi on {name:first} ja hän on 9-vuotias.", "first name mid-sentence"),
    ("Poika {name:first} on ollut poissa koulusta kolme viikkoa.", "son's first name"),
    ("Sosiaalityöntekijä tapasi {name:infl_first} ja {name:infl_first} kotikäynnillä.", "two inflected names"),
    ("Huoltajat ovat {name:full} ja {name:full}.", "two full names"),
    ("The child's mother, {name:full}, contacted the school.", "English prose"),
    ("Perheen vanhin lapsi {name:first} asuu isovanhempien luona.", "oldest child"),
    ("Asiakas: {name:=Virtanen Maija}", "surname first, official order"),
    ("Viestin lähetti {name:first}-niminen nuori.", "name before hyphen suffix"),
    ("Lapsi {name:=Anna-Liisa} on ollut kiusattuna.", "hyphenated first name"),
    ("{name:=Anna-Liisan} äiti soitti OT-TUKEEN.", "hyphenated first name, genitive"),
    ("Äiti {name:=Kaarina Virtanen} ja isä muuttivat erilleen.", "place-homonym first name with surname"),
    ("Mukana olivat {name:=Matti} ja {name:=Liisa}.", "common first names"),
    ("Isä kertoi, että {name:=Toivo} nukkuu huonosti.", "common-word name mid-sentence"),
    ("Äidin mukaan {name:=Onni} pelkää kouluun menoa.", "Onni mid-sentence"),
    ("Tyttö {name:=Suvi} ja veli {name:=Usko} asuvat äidin luona.", "Suvi, Usko after role words"),
    ("Koulun mukaan {name:=Tuuli} on vetäytynyt.", "Tuuli mid-sentence"),
    ("Lapsi {name:=Aino} on 7-vuotias.", "Aino after role word"),
    ("{name:=Toivo Heikkinen} on ollut kodin ulkopuolella.", "common-word name at start with surname"),
    ("{name:=Toivon} äiti ei halua yhteistyötä.", "common-word name, genitive before family word"),
    ("Äiti {name:=Kaarina} kertoi asiasta.", "place-homonym name after role word"),
    ("Lapsen isä {name:=Simo Lahti} asuu toisella paikkakunnalla.", "place-homonym names as a pair"),
    ("Nuoren veli {name:=Elmeri} on 10-vuotias.", "organisation-homonym name after role word"),
    ("Keskustelimme {name:=Matin} ja {name:=Pekan} kanssa.", "gradation tt->t, kk->k"),
    ("Puhelu {name:=Liisalle} ja {name:=Korhoselle} jäi lyhyeksi.", "allative forms"),
    ("{name:=Virtasen} perhe on asunut kunnassa kaksi vuotta.", "surname genitive at start"),
    ("Ilmoituksen teki {name:=Maija Möttönen}.", "surname missing from the list"),
    # phones
    *[(f"Äidin puhelinnumero on {{phone:phone_{fmt}}}.", f"phone format {fmt}")
      for fmt in PHONE_FORMATS],
    ("Isän numero {phone:phone_spaced}, soita iltaisin.", "phone mid-sentence"),
    ("Nuoren puhelin: {phone:phone_solid}", "phone after colon"),
    ("Call the father at {phone:phone_intl_spaced} after 5 pm.", "English prose"),
    # e-mails
    ("Äidin sähköposti on {email:email}.", "e-mail"),
    ("Yhteys isään: {email:email}", "e-mail after colon"),
    ("Nuori lähetti viestin osoitteesta {email:email} koululle.", "e-mail mid-sentence"),
    ("Contact the mother at {email:email}.", "English prose"),
    ("Sähköpostit {email:email} ja {email:email} poistettava.", "two e-mails"),
    # addresses
    ("Perhe asuu osoitteessa {address:street}.", "street address"),
    ("Lapsen koti on {address:street}, {address:postal}.", "street address and postal code"),
    ("Isän osoite: {address:=Kauppakatu 12 A 5}", "staircase and apartment"),
    ("Äiti muutti osoitteeseen {address:=Puijonkatu 3} viime kuussa.", "simple street number"),
    ("Isovanhemmat asuvat osoitteessa {address:=Rantatie 7 B}.", "staircase only"),
    ("Tapaaminen järjestettiin kotona ({address:=Koivukuja 2}).", "kuja in parentheses"),
    ("Postiosoite {address:postal}", "postal code + municipality"),
    ("Lapsi asuu osoitteessa {address:street} {address:postal}.", "street + postal"),
    ("The family lives at {address:street}.", "English prose"),
    ("Nuori on asunut tuettuna osoitteessa {address:street}.", "street address 2"),
    # birth dates
    ("Lapsi ({birth_date:birth}) käy päiväkotia.", "birth date with cue"),
    ("Nuori on {birth_date:birth} ja asuu isänsä luona.", "birth date mid-sentence"),
    ("Tyttö, {birth_date:birth}, on esikoulussa.", "birth date between commas"),
    ("Lapsen tiedot: {birth_date:birth}", "birth date after colon"),
    ("Lapsi s. {birth_date:=12.3.2012} on koulukuraattorin asiakas.", "s. 12.3.2012"),
    ("Poika syntyi {birth_date:=3.5.2015} keskosena.", "syntyi"),
    ("syntymäaika {birth_date:=12.03.2012}", "syntymäaika zero padded"),
    ("Child born {birth_date:=2012-03-12}, lives with mother.", "ISO date, English"),
    ("DOB {birth_date:=12/03/2012}", "DOB slash format"),
    ("Nuori on syntynyt {birth_date:=4.11.2009} Kuopiossa.", "syntynyt + place"),
    ("Syntymäaika: {birth_date:=1.2.2010}.", "capitalised cue"),
    # diagnosis codes
    ("Lapsella on diagnoosi {diagnosis_code:icd}.", "ICD-10 code"),
    ("Nuorella todettu {diagnosis_code:icd} ja {diagnosis_code:icd}.", "two ICD-10 codes"),
    ("Diagnoosit: {diagnosis_code:=F84.0}, {diagnosis_code:=F90.0}", "list of codes"),
    ("Perheen tilanne ({diagnosis_code:=Z63.5}) on vaikea.", "Z code in parentheses"),
    ("Epilepsia {diagnosis_code:=G40} todettu 2019.", "bare three-character code"),
    ("Masennus ({diagnosis_code:=F32.1}) on hoidossa.", "code in parentheses"),
    ("Dg {diagnosis_code:=Z63.5}, perheen tilanne vaikea.", "Z code"),
    ("Diagnosed with {diagnosis_code:=F84.0} in 2020.", "English prose"),
    ("Lähetteessä dg {diagnosis_code:=f90.0} kirjoitettu pienellä.", "lower-case dotted code"),
    # mixed
    ("Äiti {name:full}, puh. {phone:phone_spaced}, {email:email}.", "mixed contact block"),
    ("{name:full} ({identity_code:hetu}), {address:street}, {address:postal}.", "mixed identity block"),
    ("Lapsi {name:first}, {birth_date:birth}, dg {diagnosis_code:icd}.", "mixed health block"),
    ("Isä {name:infl_full} numero on {phone:phone_hyphen}.", "mixed name + phone"),
    ("Kokouksessa 20.3.2023 käsiteltiin {name:infl_first} tilannetta.", "meeting date stays clean, name found"),
    ("Nuori ({name:first}, 15 v) kävi vastaanotolla 2.10.2023.", "age stays clean, name found"),
    # disguised with Unicode tricks (see GENERATORS above); offsets cover the
    # disguised text, invisible characters inside included
    ("Lapsen henkilötunnus on {identity_code:hetu_fullwidth}.", "disguised: identity code, full-width"),
    ("Hetu {identity_code:hetu_zwsp} kirjattiin lomakkeelle.", "disguised: identity code, zero-width space inside"),
    ("Tunnus: {identity_code:hetu_soft_hyphen}", "disguised: identity code, soft hyphen inside"),
    ("Nuoren henkilötunnus {identity_code:hetu_en_dash} on lomakkeessa.", "disguised: identity code, en dash as century sign"),
    ("Lapsi ({identity_code:hetu_nb_hyphen}) asuu isän luona.", "disguised: identity code, non-breaking hyphen as century sign"),
    ("Henkilötunnus {identity_code:hetu_cyrillic_sign}, tieto poistettava.", "disguised: identity code, Cyrillic century sign"),
    ("Äidin puhelinnumero on {phone:phone_nbsp}.", "disguised: phone, no-break spaces"),
    ("Isän numero {phone:phone_narrow_nbsp}, soita iltaisin.", "disguised: phone, narrow no-break spaces"),
    ("Nuoren puhelin: {phone:phone_zwsp}", "disguised: phone, zero-width spaces"),
    ("Äidin puhelinnumero on {phone:phone_fullwidth}.", "disguised: phone, full-width digits"),
    ("Äiti {name:name_cyrillic} kertoi tilanteesta.", "disguised: name, Cyrillic look-alike letters"),
    ("Ilmoituksen teki {name:name_greek}.", "disguised: name, Greek look-alike letters"),
    ("Isä {name:name_soft_hyphen} ei ole ollut yhteydessä.", "disguised: name, soft hyphen inside"),
    ("Äidin sähköposti on {email:email_fullwidth_at}.", "disguised: e-mail, full-width at sign"),
    ("Yhteys isään: {email:email_small_at}", "disguised: e-mail, small commercial at"),
    ("Lapsella on diagnoosi {diagnosis_code:icd_fullwidth}.", "disguised: ICD-10 code, full-width"),
]

NEGATIVE = [
    "Lapsi on 12-vuotias ja käy koulua lähikoulussa.",
    "Nuori on 15 v ja sisarus 3 kk.",
    "Vuonna 2023 yhteydenottoja tuli 21 (+3).",
    "Kokous pidetään 20.3.2023 klo 14.30.",
    "Pilotti kesti 20.3.–3.11.2023 ja yhteydenottoja oli 21 (+3) kappaletta.",
    "Ryhmä kokoontui 11 kertaa (+2 perehdytystapaamista) ja käsitteli 7 tapausta.",
    "Konsultaatioon osallistuivat sosiaalityöntekijä, koulukuraattori ja terveydenhoitaja.",
    "Lapsi on käynyt Elmeri-koulussa ja nyt Sateenkaaren koulussa.",
    "The Elmeri school and the Valteri centre were consulted.",
    "Perhe on ollut yhteydessä Tukikeskus Varjoon ja Barnahukseen.",
    "KYS:n lastenpsykiatrian poliklinikka ja Vaalijalan osaamis- ja tukikeskus.",
    "Valterin ohjauskäynti on sovittu marraskuulle.",
    "Haastavat erot -konsultaatioryhmä kokoontuu Kuopiossa, Jyväskylässä ja Mikkelissä.",
    "Etelä-Savon, Keski-Suomen, Pohjois-Karjalan ja Pohjois-Savon hyvinvointialueet.",
    "Etelä-Savo, Keski-Suomi, Pohjois-Karjala ja Pohjois-Savo allekirjoittivat sopimukset.",
    "Ryhmät toimivat Joensuussa ja Savonlinnassa.",
    "Kuopio, Jyväskylä, Joensuu, Mikkeli ja Savonlinna.",
    "Usko omiin kykyihin on vahvistunut.",
    "Toivo paremmasta on säilynyt perheessä.",
    "Onni oli matkassa, kun sijoituspaikka löytyi nopeasti.",
    "Suvi oli lämmin ja perhe lomaili mökillä.",
    "Tuuli kävi kovana, joten retki peruttiin.",
    "Ainoa keino oli ottaa yhteyttä OT-TUKEEN.",
    "Anna palautetta kahden kuukauden kuluttua konsultaatiosta.",
    "Pian tämän jälkeen tilanne rauhoittui.",
    "Tapaaminen on maanantaina ja seuraava maaliskuussa.",
    "Maanantaina pidettiin verkostopalaveri.",
    "OT-seula antoi tulokseksi 14/20 pistettä.",
    "OT-TUKI-konsultaatio ja OT-seula ovat palveluita.",
    "Lomake tulostetaan A4-kokoon.",
    "Tapaaminen on huoneessa B12 toisessa kerroksessa.",
    "Huone B12 on varattu ryhmälle.",
    "Lapsella on todettu B12-vitamiinin puutos.",
    "Asiasta keskusteltiin omassa tiimissä 2 kertaa.",
    "Ks. s. 12 ohjeesta.",
    "Lapsi on syntynyt keskosena ja kasvanut hyvin.",
    "Pilotin aikana (20.3.2023–3.11.2023) tuli 24 yhteydenottoa.",
    "Kesto 3 kk, seuraava arvio 1.6.2024.",
    "Puhelinaika on klo 9–11 arkisin.",
    "Mikael Agricolan koulu järjesti tapaamisen.",
    "Koulukuraattori soitti Valterin konsultaatiopuhelimeen.",
    "The meeting on 20 March 2023 was held in Kuopio.",
    "Hyvinvointialueen sosiaalityöntekijä kirjasi 21 (+3) yhteydenottoa.",
    "Lapsen ikä 12 v, sisarukset 8 v ja 3 kk.",
    "Lapsella on neuropsykiatrinen diagnoosi ja erityisen tuen tarve.",
    "Asianumero 2023-0042 on arkistoitu.",
    "Perhe muutti Kuopioon vuonna 2019.",
    "Kokous 2.10.2023 klo 9.00–11.30, paikka KYS, huone 3.",
    "Keski-Suomessa ryhmä kokoontui 11 kertaa ja käsitteli 7 tapausta.",
    "Lastensuojelun moniammatillinen asiantuntijaryhmä kokoontuu kuukausittain.",
    "Kaksi kuukautta konsultaation jälkeen sihteeri pyytää palautetta.",
    "Tilastoissa alle 5 tapauksen solut piilotetaan.",
    "Kysyjä on perhesosiaalityöntekijä Pohjois-Karjalan hyvinvointialueelta.",
    "Äiti ja isä ovat eronneet vuonna 2021, lapsi asuu vuoroviikoin.",
    "Aiemmat palvelut: perheneuvola, lastenpsykiatria, koulupsykologi.",
    "Nuoren koulunkäynti on vaikeutunut syksyllä 2023.",
    "Lapsi (8 v) ja sisarus (3 v) asuvat sijaisperheessä.",
    "Lahdessa ja Salossa on omat ryhmänsä.",
    "Tukikeskus Varjo, Barnahus ja KYS ovat verkostossa.",
    "Keskiviikkona 15.11.2023 klo 13 on seuraava kokous.",
    "Konsultaatioon varataan 90 min, materiaali viikkoa ennen.",
    "Versio 1.2.3 julkaistiin 1.12.2023.",
    "Ilta-aikaan päivystys vastaa numerosta 112.",
    "Sijoitus kesti 2019–2021 ja jatkui 2022.",
    "Lasta tuettiin 15 tuntia viikossa.",
    "Sateenkaari-koulun opettaja osallistui palaveriin.",
    "Elmerin ja Valterin asiantuntijat antoivat suosituksia.",
    # clean text with the characters that normalisation folds: must stay clean
    f"Pilotti kesti 20.3.{EN_DASH}3.11.2023 ja yhteydenottoja oli 21{NBSP}(+3).",
    f"Lapsi on 12{NBSP}v ja sisarus 8{NARROW_NBSP}v.",
    f"Lasten{SOFT_HYPHEN}suojelu{SOFT_HYPHEN}ilmoitus tehtiin syksyllä.",
    f"Tapaamisia oli {fullwidth('21')} ja kesto {fullwidth('90')} min.",
    "Kokous klo 9\u201411 \u2014 paikka KYS, huone 3.",
    f"{fullwidth('OT-TUKI')} ja OT{NB_HYPHEN}seula ovat palveluita.",
    f"Ilmoitus{ZWSP} tehtiin{ZWSP} maanantaina.",
    "Perheen kotikieli on venäjä (\u0440\u0443\u0441\u0441\u043a\u0438\u0439), tulkki varattiin.",  # "russkiy"
    "Lapsi on asunut Ruotsissa (Göteborg) ja Norjassa (Tromsø).",
]


def main() -> None:
    entries = [render(t, n) for t, n in POSITIVE]
    entries += [render(t, "negative: must stay clean") for t in NEGATIVE]
    with OUT.open("w", encoding="utf-8") as fh:
        for e in entries:
            fh.write(json.dumps(e, ensure_ascii=False) + "\n")
    print(f"wrote {len(entries)} entries to {OUT}")


if __name__ == "__main__":
    main()
