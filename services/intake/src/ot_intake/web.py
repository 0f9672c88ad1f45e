"""Intake's HTTP side: health, readiness, metrics, and a short page for people who open the address."""
from __future__ import annotations

from flask import Flask

from ot_runtime.tenants import TENANTS
from ot_runtime.web import create_base_app

PAGE = """<!doctype html>
<html lang="fi"><head><meta charset="utf-8"><title>OT-keskus – yhteydenotot / intake</title>
<style>body{{font-family:system-ui,sans-serif;max-width:44rem;margin:2rem auto;line-height:1.5;padding:0 1rem}}
.en{{color:#555}}</style></head><body>
<h1>OT-keskus: yhteydenotot – {area}</h1>
<p>Tämä palvelu ottaa vastaan ammattilaisten konsultaatiopyynnöt (OT-TUKI), konsultaatioryhmien
varaukset ja asiantuntijavahvistuspyynnöt lastensuojelun moniammatilliseen asiantuntijaryhmään.
Palvelua käytetään gRPC-rajapinnan kautta (<code>ot.intake.v1.IntakeService</code>).</p>
<p><strong>Älä kirjoita asiakkaan tunnistetietoja</strong> (nimi, henkilötunnus, yhteystiedot, syntymäaika,
diagnoosikoodi): palvelu hylkää ne ja kertoo, mistä kentästä ne pitää poistaa.</p>
<p class="en" lang="en">OT centre intake for {area}: consultation requests, group bookings and expert
reinforcement requests, over gRPC (<code>ot.intake.v1.IntakeService</code>). Do not enter client-identifying
data: it is refused with the field to fix.</p>
<p><a href="/healthz">healthz</a> · <a href="/readyz">readyz</a> · <a href="/metrics">metrics</a></p>
</body></html>"""


def create_app(tenant: str, readiness_checks) -> Flask:
    app = create_base_app("intake", readiness_checks)

    @app.get("/")
    def index():
        return PAGE.format(area=TENANTS[tenant])

    return app
