"""Focused unit tests for individual rules (the corpus holds the bulk)."""
from __future__ import annotations

import pytest

from ot_guard import scan
from ot_guard.names import inflections


def kinds(text):
    return [(f.kind, text[f.start:f.end]) for f in scan(text)]


def test_inflections_cover_gradation_and_nen():
    assert {"Matin", "Matille", "Mattia", "Mattiin"} <= inflections("Matti")
    assert {"Pekan", "Pekalle"} <= inflections("Pekka")
    assert {"Virtasen", "Virtaselle", "Virtasta", "Virtaseen"} <= inflections("Virtanen")
    assert {"Eliaksen", "Eliasta"} <= inflections("Elias")
    assert {"Oskarin", "Oskarille"} <= inflections("Oskar")


@pytest.mark.parametrize("text", [
    "040 123 4567", "040-1234567", "0401234567", "+358 40 123 4567", "+358401234567",
    "017 123 4567", "09 1234 5678", "(017) 123 456",
])
def test_phone_formats(text):
    assert kinds(f"puh. {text}.") == [("phone", text)]


@pytest.mark.parametrize("text", [
    "20.3.2023 klo 14.30", "20.3.–3.11.2023", "21 (+3) yhteydenottoa", "11 kertaa",
    "12-vuotias", "15 v", "3 kk", "2023", "0-5 v", "2019–2021",
])
def test_numbers_that_are_not_identifiers(text):
    assert scan(text) == []


def test_birth_date_needs_cue():
    assert kinds("kokous 20.3.2023") == []
    assert kinds("s. 12.3.2012") == [("birth_date", "12.3.2012")]
    assert kinds("vs. 12.3.2012") == []


def test_diagnosis_code_exclusions():
    assert kinds("huone B12") == []
    assert kinds("B12 vitamiini") == []
    assert kinds("A4-paperi") == []
    assert kinds("dg F84.0") == [("diagnosis_code", "F84.0")]


def test_common_word_names_rule():
    assert kinds("Usko omiin kykyihin on vahvistunut.") == []
    assert kinds("Isä kertoi, että Usko nukkuu huonosti.") == [("name", "Usko")]
    # same name used as a name elsewhere in the text -> also at sentence start
    assert kinds("Onni kertoi. Isän mukaan Onni pelkää.") == [("name", "Onni"), ("name", "Onni")]


def test_places_and_organisations():
    assert kinds("Elmeri-koulu, Elmeri school, Valteri, Kaarina ja Lahti.") == []
    assert kinds("Äiti Kaarina soitti.") == [("name", "Kaarina")]


def test_overlap_priority_email_over_name():
    assert kinds("Maija.Virtanen@example.fi") == [("email", "Maija.Virtanen@example.fi")]


# --- real-world case notes (issue 10): one focused check per rule ---------------

@pytest.mark.parametrize("text, expected", [
    ("puh. 040/123 4567.", "040/123 4567"),
    ("puh. 040 / 1234567.", "040 / 1234567"),
    ("tel. +46 70 123 45 67.", "+46 70 123 45 67"),
    ("tel. 00372 5123 4567.", "00372 5123 4567"),
    ("puh. 040.123.4567.", "040.123.4567"),
    ("Soita numeroon 09.1234.5678 iltaisin.", "09.1234.5678"),
    ("puh. +358.40.123.4567", "+358.40.123.4567"),
])
def test_phone_with_slash_and_foreign_numbers(text, expected):
    assert kinds(text) == [("phone", expected)]


@pytest.mark.parametrize("text", [
    "Y-tunnus 0201256-6.",          # a business ID has the shape of a phone number
    "tel. +46 12.",                 # too short to be a number of that country
    "Dnro 1234/2024, asia 2023-00412.",
    "Kokous 01.02.2012 klo 09.30.",  # dotted dates and times
    "Versio 0.9.12, mittaus 0.123.",
    "Vaihde 010.123.4567.",         # a corporate number, dotted
])
def test_numbers_that_are_not_phones(text):
    assert [k for k, _ in kinds(text)] == []


@pytest.mark.parametrize("at", ["(at)", "[at]", " (at) ", "(AT)"])
def test_email_with_the_at_sign_written_out(at):
    text = f"Sähköposti maija.virtanen{at}example.fi."
    assert kinds(text) == [("email", f"maija.virtanen{at}example.fi")]


def test_inflected_street_with_or_without_a_number():
    assert kinds("Hän asuu Kalevankadulla 28 as 26.") == [("address", "Kalevankadulla 28 as 26")]
    assert kinds("Perhe muutti Puijonkadulle.") == [("address", "Puijonkadulle")]
    # at a sentence start, without a number, a common word: "on the way to school"
    assert kinds("Koulutiellä sattui kiusaamista.") == []
    assert kinds("Tavattiin Kauppatorilla.") == []  # a market place is not a home


@pytest.mark.parametrize("text, street", [
    ("Osoite puijonkatu 12 b 5.", "puijonkatu 12 b 5"),
    ("Perhe asuu kalevankadulla 28 as 26.", "kalevankadulla 28 as 26"),
    ("Isä asuu mäntykujalla 4 c 12, äiti muualla.", "mäntykujalla 4 c 12"),
    ("osoite rautatienkatu 5", "rautatienkatu 5"),
    ("barnet bor på storgatan 7", "storgatan 7"),
    # without a number, after a verb of living or moving
    ("Perhe muutti keväällä sepänkadulle, ja uusi koulu alkoi.", "sepänkadulle"),
    ("Isä asuu nykyään kalevankadulla.", "kalevankadulla"),
])
def test_a_street_typed_in_lower_case_with_its_house_number_or_a_verb_of_living(text, street):
    assert kinds(text) == [("address", street)]


@pytest.mark.parametrize("text, parts", [
    ("Asuu nykyään kirkkokadulla 17, 50824 kuopio.", ["kirkkokadulla 17", "50824 kuopio"]),
    ("Har flyttat till storgatan 7 b, 68619 borgå.", ["storgatan 7 b", "68619 borgå"]),
    ("Osoite Puijonkatu 12 B 5 70100 kuopio", ["Puijonkatu 12 B 5", "70100 kuopio"]),
])
def test_a_lower_case_postal_code_after_a_street(text, parts):
    assert kinds(text) == [("address", p) for p in parts]


@pytest.mark.parametrize("text", [
    "Lapsi kertoi, että koulutiellä sattui kiusaamista.",  # no number, no verb of living: a word
    "Tapaaminen siirtyi, koska valtatie 5 oli suljettu.",  # a road's number, not a house's
    "Ajoimme kantatiellä 77 kohti Kuopiota.",
    "Koulumatka: kävelytie 3 km.",
    "Koulumatkaa kertyy, koulutie 2 km suuntaansa.",
    "Lapsi asuu kadulla.",  # homeless: no street's name before the suffix
    "Hinta oli 10000 euroa, ja kulut korvataan.",  # five digits and a word, no street before them
    "Perhe muutti valtatien varteen.",
])
def test_a_road_or_a_distance_is_not_a_home_address(text):
    assert kinds(text) == []


@pytest.mark.parametrize("text, code", [
    ("Dg F900.", "F900"),
    ("Diagnoosi F 32.1 on hoidossa.", "F 32.1"),
    ("Lähete F84.5-diagnoosin vuoksi.", "F84.5"),
])
def test_diagnosis_code_shapes(text, code):
    assert kinds(text) == [("diagnosis_code", code)]


@pytest.mark.parametrize("text", [
    "B-lausunto pyydettiin.", "Lapsi on luokalla 5B.", "Raportti Q3/2024.",
    "Perhe sairasti COVID-19:n.", "B12-vitamiinin puutos.", "K18-elokuva.",
    "Aloitettiin vitamiini B12 pistoksina.", "Lääkäri suositteli vitamiinia B12.",
])
def test_icd_like_strings_that_are_not_codes(text):
    assert kinds(text) == []


def test_identity_code_with_spaces_around_the_sign():
    from ot_guard.identity_code import check_char, is_valid

    code = "010203-123" + check_char("010203", "123")
    for spaced in (code.replace("-", " - "), code.replace("-", " -"), code.replace("-", "- ")):
        assert kinds(f"Hetu {spaced}.") == [("identity_code", spaced)]
        assert not is_valid(spaced)  # shape found, but a valid code has no spaces


@pytest.mark.parametrize("text, date", [
    ("Maija Virtanen (12.3.2012) asuu isällään.", "12.3.2012"),
    ("Barnet är född den 12 mars 2012.", "12 mars 2012"),
    ("Pojken, f. 3.5.2015, bor hos sin mor.", "3.5.2015"),
    ("Nuori on syntynyt 12 maaliskuuta 2012.", "12 maaliskuuta 2012"),
    # the cue after the date, before the noun
    ("12.3.2012 syntynyt poika asuu äidillään.", "12.3.2012"),
    ("Huoli koskee 3.4.2014 syntynyttä lasta.", "3.4.2014"),
    ("Perheen 12.3.2012-syntyneen tytön koulunkäynti", "12.3.2012"),
])
def test_birth_dates_without_the_usual_cue(text, date):
    assert ("birth_date", date) in kinds(text)


@pytest.mark.parametrize("text, dates", [
    # siblings' birth dates share one cue, before or after the list
    ("Sisarukset, 2015-04-25 ja 1.6.2017 syntyneet, asuvat isällä.", ["2015-04-25", "1.6.2017"]),
    ("Lapset 2015-04-25, 3.3.2016 ja 1.6.2017 syntyneet", ["2015-04-25", "3.3.2016", "1.6.2017"]),
    ("Lapset ovat syntyneet 3.4.2015 ja 1.6.2017.", ["3.4.2015", "1.6.2017"]),
    ("Sisarukset (s. 3.4.2015, 1.6.2017 ja 2.2.2019) asuvat äidillä.", ["3.4.2015", "1.6.2017", "2.2.2019"]),
    ("Lapset (s. 3.4.2015 / 1.6.2017)", ["3.4.2015", "1.6.2017"]),
    ("Barnen är födda 3.4.2015 och 1.6.2017.", ["3.4.2015", "1.6.2017"]),
    ("The children were born 3.4.2015 and 1.6.2017.", ["3.4.2015", "1.6.2017"]),
    # the list ends where a word other than a conjunction comes between two dates
    ("Poika (s. 3.4.2015), kokous 1.6.2023.", ["3.4.2015"]),
    ("Kokous 1.6.2023, 12.3.2012 syntynyt poika ja äiti.", ["12.3.2012"]),
    ("Kokous 3.4.2024 ja 1.6.2024 pidettiin koululla.", []),
])
def test_one_birth_cue_for_a_list_of_dates(text, dates):
    assert kinds(text) == [("birth_date", d) for d in dates]


@pytest.mark.parametrize("text, dates", [
    # a birth day without the year: with the age written elsewhere it is the whole date
    ("Poika syntyi 12.10. ja on nyt 7-vuotias.", ["12.10."]),
    ("Tyttö (s. 3.4.) asuu äidillä.", ["3.4."]),
    ("Lapset ovat syntyneet 3.4. ja 1.6.", ["3.4.", "1.6."]),
    ("12.10. syntynyt poika on 7-vuotias.", ["12.10."]),
    # without a cue, or without the month's dot (a time), it is not
    ("Kokous 12.10. klo 12.10.", []),
    ("Poika syntyi klo 12.10 sairaalassa.", []),
])
def test_a_birth_day_and_month_without_the_year(text, dates):
    assert kinds(text) == [("birth_date", d) for d in dates]


def test_a_date_in_parentheses_after_a_word_is_not_a_birth_date():
    assert kinds("Kokous pidettiin (12.3.2024) Kuopiossa.") == []


@pytest.mark.parametrize("text", [
    "1.1.2010 jälkeen syntyneet lapset kuuluvat uuden lain piiriin.",  # an age group
    "Kokous 12.3.2024, syntyneet kulut korvataan.",  # costs that arose ("syntyneet kulut")
])
def test_a_date_followed_by_other_words_and_a_birth_word_is_not_a_birth_date(text):
    assert kinds(text) == []


@pytest.mark.parametrize("text, name", [
    ("Lumi kertoi, ettei halua mennä kotiin.", "Lumi"),      # person verb
    ("Ilo on 7-vuotias.", "Ilo"),                            # age
    ("Opettajan mukaan Valo on väsynyt.", "Valo"),           # mid-sentence capital
    ("Tapasimme Korhoset kotona.", "Korhoset"),              # plural family form
    ("Paikalla olivat M. Korhonen ja muut.", "M. Korhonen"),  # initial joins the surname
    ("Keskustelin Abdirahmanin kanssa.", "Abdirahmanin"),    # unknown to Voikko and the lexicon
    ("äiti maija virtanen soitti ja kertoi", "maija virtanen"),  # lower case
])
def test_names_in_real_world_shapes(text, name):
    assert ("name", name) in kinds(text)


@pytest.mark.parametrize("text, name", [
    # a vowel with a diacritic is a vowel: "Trọng" is not an abbreviation like "Dg"
    ("Lapsen äiti kertoi, että Cường on ollut poissa.", "Cường"),
    ("Lumi (2019-04-25) asuu isällään.", "Lumi"),              # an ISO date after a name
    ("Karin called and cancelled the meeting.", "Karin"),       # Karin, not Kari's genitive
    ("Edit called and cancelled the meeting.", "Edit"),         # English word, person verb
    ("Modern Marlene Frisk (f. 1.2.2007) berättade", "Marlene Frisk"),  # surname after a first name
    ("Barnet Malin, född 12 december 2018, bor hos sin pappa.", "Malin"),  # Swedish does not inflect
    ("Hän kertoi, että ilkka on sairaana.", "ilkka"),        # Voikko knows it only as a name
    ("Viestissä luki: zuhrawi ei tule tänään kouluun.", "zuhrawi"),  # nobody knows it; a verb follows
    ("Asiakkaana on poika, jonka äiti on M. Mäenpää.", "M. Mäenpää"),  # an ordinary word after an initial
    ("Lapsen isä K. Mäki soitti.", "K. Mäki"),               # ... after a role word, however it is written
    ("Sovittiin, että M. Koski tulee mukaan.", "M. Koski"),
    ("Paikalla oli Kristiina Lähteenmäki.", "Kristiina Lähteenmäki"),     # ... or after a first name
])
def test_names_that_are_words_or_lack_a_known_shape(text, name):
    assert ("name", name) in kinds(text)


@pytest.mark.parametrize("text", [
    "Katso liite A. Tapaaminen sovittiin.",   # a letter after a noun is a label, not an initial
    "Lapsella on hepatiitti B. Rokotus annettiin.",
    "Aloitettiin vitamiini D. Lisäksi seurataan painoa.",  # ... also before an inflected word
    "Hepatiitti B. Lisäksi sovittiin rokotus.",
    "The meeting was cancelled, someone else called.",  # English words in English text
    "Hän kertoi, että marraskuu on pimeä.",  # a lower-case word before a verb that Voikko knows
    "Lapsi sanoi, että bussi ei tule ajoissa.",
])
def test_words_near_those_shapes_stay_clean(text):
    assert kinds(text) == []


@pytest.mark.parametrize("text, name", [
    # Mäkelä is a common surname that Voikko knows only as a place (and the lexicon leaves
    # it out: it is in the held-out slice): after a professional's title it is a person
    ("Luokanopettaja Mäkelä soitti.", "Mäkelä"),
    ("Keskustelin rehtori Mäkelän kanssa.", "Mäkelän"),
    ("Erityisopettaja Mäkelän mukaan poika väsyy iltapäivisin.", "Mäkelän"),
    ("Kouluterveydenhoitaja Salo kertoi asiasta.", "Salo"),
    ("Hon talade med läraren Mäkelä i går.", "Mäkelä"),
    # ... and after a word for a name
    ("Lapsen sukunimi on Mäkelä.", "Mäkelä"),
    ("Äidin tyttönimi on Salo.", "Salo"),
    ("Lapsi käyttää isänsä sukunimeä Mäkelä.", "Mäkelä"),
    ("Barnets efternamn är Lahti.", "Lahti"),
    ("Her surname is Lahti.", "Lahti"),
])
def test_a_surname_that_is_also_a_place_after_a_title_or_a_word_for_a_name(text, name):
    assert kinds(text) == [("name", name)]


@pytest.mark.parametrize("text", [
    "Lääkäri Kuopiossa totesi, että lääkitys jatkuu.",  # a place after a title, inflected otherwise
    "Psykologi Kuopion yliopistollisesta sairaalasta soitti.",
    "Tapasin opettajan Kuopiossa.",
    "Lähete lastenpsykiatri Kuopion kautta.",  # a genitive before a word other than of meeting
    "Palvelun nimi on Kela.",  # an organisation's name stays one
    "Hankkeen nimi oli Elmeri.",
])
def test_a_place_after_a_title_and_an_organisation_after_a_word_for_a_name_stay_clean(text):
    assert kinds(text) == []


@pytest.mark.parametrize("text", [
    "Lumi sulaa ja retki siirtyy.",          # a word use of a common-word name
    "Opettaja kertoi, että tilanne on parantunut.",  # a derived noun, not a name
    "Perhe asuu rivitalossa.",               # a group noun with a person verb
    "Child psychiatry consultation.",        # English text: English words
    "Rare Diseases Unit",
    "Maksullinen lausunto. / Paid statement or consultation.",  # bilingual field
    "Oppimis- ja ohjauskeskus Valteri",      # first part of an elided compound
    "Lapsi pelaa Robloxia ja käyttää Snapchatia.",  # apps and games
    "Lääkityksenä Elvanse 30 mg.",           # a medicine before its dose
    "Tehtiin LsL 40 §:n mukainen ilmoitus.",  # an abbreviation with inner capitals
])
def test_clean_text_that_looks_like_names(text):
    assert kinds(text) == []


def test_guard_refuses_to_start_without_voikko(tmp_path):
    """Without its dictionary the guard would let names through: it must not import."""
    import subprocess
    import sys

    (tmp_path / "libvoikko.py").write_text(
        "class Voikko:\n    def __init__(self, lang):\n        raise OSError('no dictionary')\n")
    env = {"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-c", "import ot_guard"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "ImportError" in proc.stderr and "guard_deps.sh" in proc.stderr


# --- clean case text that looked like names (issue 10, false positives) ----------

@pytest.mark.parametrize("text", [
    "Lapssen äiti soitti ja kysyi tapaamisesta.",  # a typo of "Lapsen" at a sentence start
    "Tapaamnen siirtyi ensi viikolle.",
    "äiti kertio, että nuori nukkuu huonosti.",     # a mistyped verb after a role word
    "Vi ses på mötet.",                              # a Swedish line: "Vi" is a name elsewhere
    "Familjen behöver tolk.",
    "Kiitos. Hon vill inte prata om det.",            # a Swedish line in a Finnish text
    "Psyk.sh. ja lääk. arvioivat tilanteen.",        # abbreviations
    "Lääk. määräsi lääkkeen.",
    "Oysin ja Kysin välillä on sovittu hoitovastuusta.",  # hospitals, inflected
    "Valviraan on tehty kantelu.",                   # an authority
    "Whatsappissa oli viesti.",                      # a brand with one capital
    "Nuori pelaa Brawl Starsia.",                    # a two-word game
    "Tukea on saatu Aseman Lapset ry:ltä.",          # an association's name
    "Lapsi on ollut Ronald McDonald -talolla.",
    "Iltapäiväkerho Kipinä on koulun yhteydessä.",   # a kind of institution, then its name
    "Asiasta ilmoitettiin Poliisille.",              # a capitalised noun is not a first name
    "Rauha kotona on tärkeää.",                      # "kotona" follows a genitive only
    "Onneksi mummo auttoi.",
    "Aino keino on taksi.",                          # "aino" is a word at a sentence start
    "Kelan palvelunumero 020 692 204 ei vastannut.",  # an organisation's national number
])
def test_clean_case_text_is_not_refused(text):
    assert kinds(text) == []


@pytest.mark.parametrize("text, expected", [
    # a word that could be a typo is still a name where a person's context says so
    ("Hussein kertoi kiusaamisesta.", [("name", "Hussein")]),
    ("Tapaamnen siirtyi. Isä Tapaamnen soitti.", [("name", "Tapaamnen"), ("name", "Tapaamnen")]),
    # a Swedish or English line: a name with a person verb is a name
    ("Ahmed ringde i morse.", [("name", "Ahmed")]),
    ("Mahmud ringde i morse. Vi ses på mötet.", [("name", "Mahmud")]),
    ("Aino kertoi kiusaamisesta.", [("name", "Aino")]),
    ("Rauhan äiti soitti.", [("name", "Rauhan")]),
    # Turku's area code is 02: only 020 and the other national numbers are organisations'
    ("Turun numero 02 123 4567.", [("phone", "02 123 4567")]),
])
def test_names_and_numbers_in_the_same_shapes_are_still_found(text, expected):
    assert kinds(text) == expected


def test_typo_check_is_one_edit_to_an_ordinary_word():
    from ot_guard.morphology import typo_of

    assert "nimisana" in typo_of("Lapssen")   # Lapsen
    assert "teonsana" in typo_of("kertio")    # kertoi
    assert typo_of("Abdirahman") == frozenset()
    assert typo_of("Äidn") == frozenset()     # too short to tell from a name


def test_a_scan_asks_the_speller_about_few_new_words(monkeypatch):
    """Voikko's speller takes milliseconds per new word: a text of many unknown
    words at sentence starts asks it about at most three, and the rest stay names
    (the safe side), so that no text can stall the guard."""
    from ot_guard import morphology

    asked = []
    real = morphology.typo_of
    monkeypatch.setattr(morphology, "_TYPO_CACHE", {})
    monkeypatch.setattr(morphology, "typo_of", lambda w: asked.append(w) or real(w))
    words = [f"Kuraatorix{c}" for c in "bcdfghjklm"]  # unknown to Voikko
    text = " ".join(f"{w}." for w in words)
    assert kinds(text) == [("name", w) for w in words]
    assert len(asked) == morphology.TYPO_BUDGET_PER_SCAN == 3
    kinds(text)  # answers are cached: the next scan asks about three new ones
    assert len(asked) == 6
