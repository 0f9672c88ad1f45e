"""Consent's HTTP side: health, metrics, and the privacy notice (Finnish, then English).

The notice is rendered from what the system does: the refused kinds come from the guard's
policy and the retention periods from this area's current policies, so the text cannot drift
from the behaviour.
"""
from __future__ import annotations

from typing import Callable

from flask import Flask, Response
from sqlalchemy import exc as sa_exc

from ot_guard.policy import REFUSED_KINDS_IN_CLIENT_TEXT
from ot_runtime.tenants import TENANTS, TENANTS_GENITIVE_FI
from ot_runtime.vocabulary import REQUEST_TYPE_LABELS
from ot_runtime.web import create_base_app

from .domain import RetentionPolicy

KIND_FI = {"identity_code": "henkilötunnus", "name": "nimi", "phone": "puhelinnumero", "email": "sähköpostiosoite",
           "address": "osoite", "birth_date": "syntymäaika", "diagnosis_code": "diagnoosikoodi"}
KIND_EN = {"identity_code": "personal identity code", "name": "name", "phone": "phone number",
           "email": "e-mail address", "address": "street address", "birth_date": "date of birth",
           "diagnosis_code": "diagnosis code"}
TYPE_FI = {t.value: fi for t, (fi, _) in REQUEST_TYPE_LABELS.items()}
TYPE_EN = {t.value: en for t, (_, en) in REQUEST_TYPE_LABELS.items()}

PAGE = """<!doctype html>
<html lang="fi"><head><meta charset="utf-8"><title>Tietosuojaseloste / Privacy notice – OT-keskus {area}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;line-height:1.5;padding:0 1rem}}
section+section{{border-top:1px solid #ccc;margin-top:2rem}}</style></head><body>
<section lang="fi">
<h1>Tietosuojaseloste – OT-keskuksen konsultaatiopalvelut, {area}</h1>
<p>Rekisterinpitäjä: {area_fi} hyvinvointialue. Tietoja käsitellään, jotta ammattilainen saa OT-tason
konsultaation, ryhmäkäsittelyn tai asiantuntijan lastensuojelun asiantuntijaryhmään.</p>
<h2>Yhteyttä ottavasta ammattilaisesta</h2>
<p>Nimi, yhteystiedot (puhelin, sähköposti), ammatti, organisaatio, sektori ja hyvinvointialue.</p>
<h2>Asiakkaasta (lapsi, nuori, perhe)</h2>
<p>Järjestelmä hylkää automaattisesti asiakkaan tunnistetiedot: {refused_fi}. Käsitellään vain tarvittaessa:
ikä, sukupuoli, perhetilanne, aiemmat palvelut ja yhteistyötahot sekä tieto terveydentilasta.</p>
<h2>Suostumus</h2>
<p>Ammattilainen arvioi, tarvitaanko asiakkaan suostumus. Kirjallinen suostumus annetaan pyytävän organisaation omalla
lomakkeella; suullinen kirjataan asiakasasiakirjoihin. Lapsen suostumus edellyttää, että hänen kykynsä päättää
asiasta on arvioitu. Suostumuksen voi perua; sen jälkeen tapausta ei jaeta uusille tahoille.</p>
<h2>Säilytys ja poisto</h2>
<p>Tapauksen sisältö salataan tapauskohtaisella avaimella ja tämä avain pääavaimella. Kun säilytysaika päättyy,
tapauksen avain tuhotaan, jolloin sisältö muuttuu lukukelvottomaksi tietokannassa ja tapahtumissa:</p>
<ul>{retention_fi}</ul>
<p>Ennen poistoa otetussa varmuuskopiossa tapauksen avain on vielä tallessa sen ajan pääavaimella salattuna.
Pääavain vaihdetaan ajoittain: uusi versio otetaan käyttöön, voimassa olevat avaimet salataan sillä uudelleen ja
vanha versio hävitetään. Kun poiston aikaan käytössä ollut pääavaimen versio ja sitä vanhemmat on hävitetty,
mikään varmuuskopio ei enää avaa poistettua sisältöä; poiston jälkeen otetuissa varmuuskopioissa avainta ei ole
lainkaan.</p>
<p>Tilastoja varten säilyy vain pyynnön tyyppi, tilanneluokat, alue, päivämäärät ja lopputulos.</p>
<h2>Lokitus ja palaute</h2>
<p>Jokainen tapauksen sisällön luku ja jokainen jakamispäätös kirjataan lokiin (kuka, rooli, milloin, mikä pyyntö,
miksi). Merkinnät ketjutetaan ja suojataan avaimella, jota ei säilytetä tietokannassa, ja ketjun viimeinen merkintä
tallennetaan säännöllisesti myös tietokannan ulkopuolelle, joten merkintää ei voi muuttaa tai poistaa huomaamatta.
Noin kahden kuukauden kuluttua ryhmäkonsultaatiosta ammattilaiselta pyydetään palautetta.</p>
<h2>Oikeutesi</h2>
<p>Ammattilaisena voit pyytää tietosi nähtäväksi, korjattavaksi tai poistettavaksi alueesi tietosuojavastaavalta.</p>
</section>
<section lang="en">
<h1>Privacy notice – OT centre consultation services, {area}</h1>
<p>Controller: the wellbeing area of {area}. Data is processed so that a professional gets an OT-level consultation,
a group consultation, or an expert for the child-protection expert group.</p>
<h2>About the contacting professional</h2>
<p>Name, contact details (phone, e-mail), profession, organisation, sector and wellbeing area.</p>
<h2>About the client (child, young person, family)</h2>
<p>The system automatically refuses client-identifying data: {refused_en}. Processed only when relevant: age,
gender, family situation, earlier services and cooperation partners, and information on health.</p>
<h2>Consent</h2>
<p>The professional judges whether the client's consent is needed. Written consent uses the asking organisation's own
form; oral consent is recorded in the client record. A child's consent needs an assessment of the child's capacity
to decide. Consent can be withdrawn; after that the case is not shared with anyone new.</p>
<h2>Retention and erasure</h2>
<p>Case content is encrypted with a key of its own, and that key with a master key. When the retention ends the case
key is destroyed, and the content becomes unreadable in the database and in events:</p>
<ul>{retention_en}</ul>
<p>A backup taken before the erasure still holds the case key, encrypted with the master key of that time. The
master key is replaced from time to time: a new version is taken into use, the keys still in use are encrypted again
with it, and the old version is destroyed. Once the master key version in use at the erasure and every older one
have been destroyed, no backup opens the erased content any more; backups taken after the erasure never held its
key.</p>
<p>For statistics only the request type, case categories, area, dates and outcome are kept.</p>
<h2>Audit and feedback</h2>
<p>Every read of case content and every sharing decision is written to a log (who, role, when, which request, why).
Its entries are chained and protected with a key that is not kept in the database, and the latest entry is
regularly recorded outside the database too, so an entry cannot be changed or removed unnoticed. About two months
after a group consultation the professional is asked for feedback.</p>
<h2>Your rights</h2>
<p>As a professional you can ask your area's data protection officer to see, correct or erase your data.</p>
</section></body></html>"""


UNAVAILABLE = ("Tietosuojaseloste ei ole juuri nyt saatavilla; yritä hetken kuluttua uudelleen. / "
               "The privacy notice is not available right now; please try again shortly.\n")


def render_notice(tenant: str, policies: list[RetentionPolicy]) -> str:
    kinds = sorted(REFUSED_KINDS_IN_CLIENT_TEXT)
    area = TENANTS[tenant]
    return PAGE.format(
        area=area, area_fi=TENANTS_GENITIVE_FI[tenant], refused_fi=", ".join(KIND_FI[k] for k in kinds),
        refused_en=", ".join(KIND_EN[k] for k in kinds),
        retention_fi="".join(f"<li>{TYPE_FI[p.type.value]}: {p.grace_days_after_recommendations} päivää suositusten "
                             f"palauttamisesta, enintään {p.max_days_after_submission} päivää pyynnöstä</li>"
                             for p in policies),
        retention_en="".join(f"<li>{TYPE_EN[p.type.value]}: {p.grace_days_after_recommendations} days after the "
                             f"recommendations are returned, at most {p.max_days_after_submission} days after the "
                             f"request</li>" for p in policies))


def create_app(tenant: str, readiness_checks, current_policies: Callable[[], list[RetentionPolicy]]) -> Flask:
    app = create_base_app("consent", readiness_checks)

    @app.get("/privacy")
    @app.get("/tietosuoja")
    def privacy():
        # The page reads no query string or header: any URL variant gets the same notice.
        try:
            policies = current_policies()
        except (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError, sa_exc.TimeoutError):
            # The retention periods come from the database; a notice with guessed ones would be wrong.
            return Response(UNAVAILABLE, status=503, mimetype="text/plain", headers={"Retry-After": "60"})
        return render_notice(tenant, policies)

    return app
