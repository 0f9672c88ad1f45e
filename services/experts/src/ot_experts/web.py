"""Experts' HTTP side: health, readiness, metrics, and a short page for people who open the address."""
from __future__ import annotations

from flask import Flask

from ot_runtime.tenants import TENANTS
from ot_runtime.web import create_base_app

PAGE = """<!doctype html>
<html lang="fi"><head><meta charset="utf-8"><title>OT-keskus – asiantuntijaverkosto / experts</title>
<style>body{{font-family:system-ui,sans-serif;max-width:44rem;margin:2rem auto;line-height:1.5;padding:0 1rem}}
.en{{color:#555}}</style></head><body>
<h1>OT-keskus: asiantuntijaverkosto – {area}</h1>
<p>Tämä palvelu ylläpitää OT-verkoston asiantuntijaluetteloa, alueiden yhteistyösopimuksia ja
OT-palvelukartastoa, ehdottaa pyyntöihin asiantuntijoita perusteluineen ja kirjaa koordinaattorin
nimeämiset. Ehdotus ei ole koskaan nimeäminen: koordinaattori päättää. Palvelua käytetään
gRPC-rajapinnan kautta (<code>ot.experts.v1.ExpertsService</code>).</p>
<p>Palvelu ei käsittele asiakkaan tietoja: pyynnöistä se tietää vain tunnisteen, tyypin ja tilanneluokat.</p>
<p class="en" lang="en">OT centre expert network for {area}: the catalogue, the areas' agreements, the service map,
explained expert proposals and the coordinator's assignments, over gRPC (<code>ot.experts.v1.ExpertsService</code>).
A proposal is never an assignment. No client data is processed here.</p>
<p><a href="/healthz">healthz</a> · <a href="/readyz">readyz</a> · <a href="/metrics">metrics</a></p>
</body></html>"""


def create_app(tenant: str, readiness_checks) -> Flask:
    app = create_base_app("experts", readiness_checks)

    @app.get("/")
    def index():
        return PAGE.format(area=TENANTS[tenant])

    return app
