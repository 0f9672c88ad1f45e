"""The statistics page's cooperation area (a coordinator of the coordinating area): the choice
"Oma alue / Yhteistoiminta-alue", the combined figures with the areas they include, and the import
of another area's signed monthly file, with feedback's refusals shown at the file field."""
from __future__ import annotations

import io

import grpc
from ot.feedback.v1 import feedback_pb2

from portal_testkit import Refusal

from test_portal_team import coordinator, secretary, small_area_statistics, text


def coordinating_statistics(cooperation: bool) -> feedback_pb2.Statistics:
    stats = small_area_statistics()
    stats.cooperation_available = True
    if cooperation:
        stats.cooperation_areas.extend([
            feedback_pb2.CooperationArea(area="pohjois-savo", own=True, included_months=["2026-04"]),
            feedback_pb2.CooperationArea(area="keski-suomi", included_months=["2026-04"], missing_months=["2026-03"]),
            feedback_pb2.CooperationArea(area="etela-savo", opted_out=True)])
    return stats


def test_a_coordinator_of_the_coordinating_area_chooses_the_cooperation_area(client, idp, services):
    coordinator(client, idp)
    services.answers["GetStatistics"] = coordinating_statistics(False)
    page = text(client.get("/tilastot"))
    assert services.requests["GetStatistics"].cooperation_area is False
    assert "Oma alue" in page and "Yhteistoiminta-alue" in page and 'data-testid="cooperation-areas"' not in page

    services.answers["GetStatistics"] = coordinating_statistics(True)
    page = text(client.get("/tilastot?alue=yhteistoiminta"))
    assert services.requests["GetStatistics"].cooperation_area is True
    assert "Yhteistoiminta-alueen tilastot" in page
    areas = page.split('data-testid="cooperation-areas"', 1)[1].split("</section>", 1)[0]
    assert "Pohjois-Savo: oma alue, kaikki kuukaudet" in " ".join(areas.split())
    assert "Keski-Suomi" in areas and "2026-04" in areas and "tiedosto puuttuu kuukausilta 2026-03" in areas
    assert "Etelä-Savo" in areas and "jättäytynyt pois" in areas
    coarse = page.split('data-testid="section-contacts_by_sector_all_types"', 1)[1].split("</section>", 1)[0]
    assert "<td>6</td>" in coarse  # the combined figures as feedback suppressed them


def test_elsewhere_the_page_offers_no_cooperation_area(client, idp, services):
    secretary(client, idp)
    services.answers["GetStatistics"] = small_area_statistics()  # cooperation_available false
    page = text(client.get("/tilastot"))
    assert "Yhteistoiminta-alue" not in page and 'data-testid="cooperation-import"' not in page


def upload(client, token: str, data: bytes):
    return client.post("/tilastot/tuonti", data={"csrf_token": token, "file": (io.BytesIO(data), "keski-suomi.json")},
                       content_type="multipart/form-data")


def test_an_areas_file_is_imported_and_the_cooperation_area_shown(client, idp, services):
    token = coordinator(client, idp)
    services.answers["ImportAreaAggregate"] = feedback_pb2.AreaAggregateImported(area="keski-suomi", month="2026-04",
                                                                                 replaced=True)
    services.answers["GetStatistics"] = coordinating_statistics(True)
    answer = upload(client, token, b'{"format": "ot-feedback-area-aggregate/1"}')
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/tilastot?alue=yhteistoiminta")
    assert services.requests["ImportAreaAggregate"].file == b'{"format": "ot-feedback-area-aggregate/1"}'
    page = text(client.get(answer.headers["Location"]))
    assert "Alueen Keski-Suomi luvut kuukaudelta 2026-04 tuotiin." in page and "korvaavat" in page


def test_a_refused_file_is_shown_at_the_file_field(client, idp, services):
    token = coordinator(client, idp)
    services.answers["GetStatistics"] = coordinating_statistics(True)
    services.refusals["ImportAreaAggregate"] = Refusal(
        grpc.StatusCode.INVALID_ARGUMENT, "Korjattavaa. / Needs fixing.",
        violations=(("file", "Tiedoston allekirjoitus ei täsmää alueen keski-suomi avaimeen. / The file's signature "
                             "does not match area keski-suomi's key."),))
    answer = upload(client, token, b"{}")
    page = text(answer)
    assert answer.status_code == 400
    summary = page.split('data-testid="error-summary"', 1)[1].split("</section>", 1)[0]
    assert 'href="#file"' in summary and "allekirjoitus ei täsmää" in summary and "The file's" not in summary
    assert 'aria-invalid="true"' in page.split('id="file"', 1)[1].split(">", 1)[0]


def test_an_empty_upload_is_refused_without_calling_feedback(client, idp, services):
    token = coordinator(client, idp)
    services.answers["GetStatistics"] = coordinating_statistics(True)
    answer = upload(client, token, b"")
    assert answer.status_code == 400 and "Valitse alueen lähettämä tiedosto." in text(answer)
    assert "ImportAreaAggregate" not in [m for m, _ in services.calls]


def test_a_secretary_cannot_import(client, idp, services):
    token = secretary(client, idp)
    assert upload(client, token, b"{}").status_code == 403
    assert "ImportAreaAggregate" not in [m for m, _ in services.calls]


def test_the_import_needs_the_form_token(client, idp, services):
    coordinator(client, idp)
    assert upload(client, "not-the-token", b"{}").status_code == 400
    assert "ImportAreaAggregate" not in [m for m, _ in services.calls]
