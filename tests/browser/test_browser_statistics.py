"""The cooperation area's statistics in the browser, on the real feedback service and the real
Keycloak, axe-core on every page: a coordinator of the coordinating area imports another area's
signed monthly file on the statistics page (a changed file is refused at its field), chooses the
cooperation area and sees the two areas' counts added up before they are suppressed."""
from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ot_feedback.aggregate import Counts, export_file
from ot_feedback.domain import Category, RequestType, Sector
from ot_runtime.clock import FixedClock

from browser_testkit import assert_accessible, sign_in
from feedback_fixtures import last_month  # loaded by this tier's conftest

OTHER_AREA = "keski-suomi"


def cell(page, table: str, row_label: str, column: int) -> str:
    """The text of a statistics table's cell: the row by its label, the column by its position."""
    row = page.get_by_test_id(f"stats-{table}").locator("tr", has=page.get_by_text(row_label, exact=True))
    return row.locator("td").nth(column).inner_text().strip()


def test_a_coordinator_imports_another_areas_file_and_sees_the_combined_figures(page, start_feedback, start_portal,
                                                                                tmp_path):
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    feedback = start_feedback(None, FixedClock(datetime.now(timezone.utc)), OT_FEEDBACK_COORDINATING_AREA="true",
                              OT_FEEDBACK_AREA_AGGREGATE_KEYS=json.dumps({OTHER_AREA: public}))
    month, middle = last_month()
    handlers = feedback.app.handlers
    for i in range(3):  # the own area's three social-care OT-TUKI requests of last month
        with handlers.sessions.begin() as s:
            handlers.on_request_submitted(s, request_id=str(uuid.uuid4()), type_=RequestType.OT_TUKI,
                                          categories=[Category.NEUROPSYCHIATRIC], sector=Sector.SOCIAL,
                                          submitted_at=middle + timedelta(hours=i))
    # The other area's IT sends its month: three more of the same.
    counts = Counts(sectors=Counter({(Sector.SOCIAL.value, RequestType.OT_TUKI.value): 3}),
                    categories=Counter({(Category.NEUROPSYCHIATRIC.value, RequestType.OT_TUKI.value): 3}))
    signed = export_file(OTHER_AREA, month, datetime.now(timezone.utc), counts, key)
    good = tmp_path / f"{OTHER_AREA}-{month}.json"
    good.write_bytes(signed)
    changed = json.loads(signed)
    changed["counts"]["contacts_by_sector"][0]["count"] += 10
    tampered = tmp_path / f"{OTHER_AREA}-{month}-changed.json"
    tampered.write_text(json.dumps(changed))

    portal = start_portal(feedback=feedback)
    sign_in(page, portal, "coordinator")
    page.goto(f"{portal.url}/tilastot?period={month}&type=REQUEST_TYPE_OT_TUKI")
    # Alone, the own area's 3 is hidden.
    assert cell(page, "contacts_by_sector", "sosiaalihuolto", 0) == "<5"
    assert page.get_by_test_id("cooperation-import").is_visible()
    assert_accessible(page)

    # A file changed on the way: refused at its field, saying why; nothing imported.
    page.get_by_label("Alueen tilastotiedosto", exact=True).set_input_files(str(tampered))
    page.get_by_role("button", name="Tuo", exact=True).click()
    assert page.get_by_test_id("error-summary").is_visible()
    assert page.locator("#file-error").inner_text().strip()
    assert_accessible(page)

    page.get_by_label("Alueen tilastotiedosto", exact=True).set_input_files(str(good))
    page.get_by_role("button", name="Tuo", exact=True).click()
    assert f"kuukaudelta {month} tuotiin" in page.locator("main").inner_text()

    # The cooperation area: 3 + 3 = 6 is shown, and the page says which areas are in it.
    page.goto(f"{portal.url}/tilastot?period={month}&type=REQUEST_TYPE_OT_TUKI&alue=yhteistoiminta")
    assert page.get_by_label("Yhteistoiminta-alue").is_checked()
    assert cell(page, "contacts_by_sector", "sosiaalihuolto", 0) == "6"
    areas = page.get_by_test_id("cooperation-areas").inner_text()
    assert "Keski-Suomi" in areas and month in areas
    assert_accessible(page)
