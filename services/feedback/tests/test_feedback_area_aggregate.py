"""Cooperation-area statistics (aggregate.py): an area's signed monthly file, the coordinating
area's import, and the combined figures, suppressed only after they are added up."""
from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ot_runtime.clock import FixedClock
from ot_runtime.db import create_engine, session_factory
from ot_runtime.errors import FailedPrecondition, InvalidArgument
from ot_runtime.settings import SettingsError
from ot_feedback.aggregate import AggregateRefused, CooperationConfig, Counts, _canonical, export_file
from ot_feedback.domain import Category, LinkSigner, FollowUpPolicy, RequestType, Sector, Status
from ot_feedback.handlers import FeedbackHandlers
from ot_feedback.stats import COMPLEMENTARY, HIDDEN, TOTAL
from ot_feedback.store import metadata

from feedback_testkit import NOW, SECRET, TENANT

OTHER = "keski-suomi"        # exports
OPTED_OUT = "etela-savo"     # listed without a key in the coordinating area's values
FEBRUARY = datetime(2026, 2, 3, 9, 0, tzinfo=timezone.utc)


def pem_public(key: Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def pem_private(key: Ed25519PrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


@pytest.fixture()
def keys():
    return {OTHER: Ed25519PrivateKey.generate(), TENANT: Ed25519PrivateKey.generate()}


def area(tmp_path, tenant: str, env: dict[str, str]) -> FeedbackHandlers:
    engine = create_engine(f"sqlite:///{tmp_path}/{tenant}.db")
    metadata.create_all(engine)
    return FeedbackHandlers(sessions=session_factory(engine), tenant=tenant, policy=FollowUpPolicy(),
                            signer=LinkSigner(SECRET), clock=FixedClock(NOW),
                            cooperation=CooperationConfig.from_env(env, tenant))


@pytest.fixture()
def other(tmp_path, keys):
    return area(tmp_path, OTHER, {"OT_FEEDBACK_AGGREGATE_SIGNING_KEY": pem_private(keys[OTHER])})


@pytest.fixture()
def coordinating(tmp_path, keys):
    return area(tmp_path, TENANT, {
        "OT_FEEDBACK_COORDINATING_AREA": "true", "OT_FEEDBACK_AGGREGATE_SIGNING_KEY": pem_private(keys[TENANT]),
        "OT_FEEDBACK_AREA_AGGREGATE_KEYS": json.dumps({OTHER: pem_public(keys[OTHER]), OPTED_OUT: None})})


def submit(h: FeedbackHandlers, n: int, sector: Sector = Sector.SOCIAL, at: datetime = FEBRUARY,
           type_: RequestType = RequestType.OT_TUKI) -> None:
    for i in range(n):
        with h.sessions.begin() as s:
            h.on_request_submitted(s, request_id=str(uuid.uuid4()), type_=type_,
                                   categories=[Category.NEUROPSYCHIATRIC], sector=sector,
                                   submitted_at=at + timedelta(hours=i))


def answer(h: FeedbackHandlers, n: int, days: int) -> None:
    """n OT-TUKI requests answered in February after `days` working days (first response next day)."""
    for i in range(n):
        rid = str(uuid.uuid4())
        with h.sessions.begin() as s:
            h.on_status_changed(s, request_id=rid, type_=RequestType.OT_TUKI, categories=[],
                                to_status=Status.RECOMMENDATIONS_RETURNED, changed_at=FEBRUARY,
                                submitted_at=datetime(2026, 1, 5, 8, tzinfo=timezone.utc),
                                first_response_at=datetime(2026, 1, 6, 8, tzinfo=timezone.utc),
                                answered_at=FEBRUARY, waiting_working_days=days)


def cells(tables, name: str) -> dict[tuple[str, str], str]:
    t = next(t for t in tables if t.name == name)
    return {(r, c): t.cell(r, c) for r in t.shown_rows for c in t.shown_columns}


def combined(h: FeedbackHandlers, period: str = "2026-02"):
    return h.cooperation_statistics(period, RequestType.OT_TUKI)


def test_two_areas_with_three_each_show_six(other, coordinating):
    submit(other, 3)
    submit(coordinating, 3)
    # Each area alone: 3 is hidden.
    _, own, _ = coordinating.statistics("2026-02", RequestType.OT_TUKI)
    assert cells(own, "contacts_by_sector")[("social", "ot_tuki")] == HIDDEN

    got, replaced = coordinating.import_area_aggregate(other.export_area_aggregate("2026-02"))
    assert (got.area, got.month, replaced) == (OTHER, "2026-02", False)
    period, tables, _, areas = combined(coordinating)
    figures = cells(tables, "contacts_by_sector")
    assert figures[("social", "ot_tuki")] == "6" and figures[(TOTAL, "ot_tuki")] == "6"
    assert cells(tables, "requests_by_category")[("neuropsychiatric", "ot_tuki")] == "6"
    by_area = {a.area: a for a in areas}
    assert by_area[TENANT].own and by_area[OTHER].included == ["2026-02"] and by_area[OTHER].missing == []
    assert by_area[OPTED_OUT].opted_out and not by_area[OPTED_OUT].included


def test_a_combined_cell_under_five_is_hidden_and_so_is_what_would_give_it_away(other, coordinating):
    submit(other, 3)
    submit(other, 1, sector=Sector.HEALTH)
    submit(coordinating, 3)
    coordinating.import_area_aggregate(other.export_area_aggregate("2026-02"))
    figures = cells(combined(coordinating)[1], "contacts_by_sector")
    # Health 1 is small; social 6 shown beside the total 7 would give it away: social is "x".
    assert figures[("health", "ot_tuki")] == HIDDEN
    assert figures[("social", "ot_tuki")] == COMPLEMENTARY
    assert figures[(TOTAL, "ot_tuki")] == "7"


def test_response_times_combine_exactly(other, coordinating):
    answer(other, 3, days=4)
    answer(coordinating, 2, days=10)
    coordinating.import_area_aggregate(other.export_area_aggregate("2026-02"))
    assert coordinating.response_times(coordinating.period("2026-02"), RequestType.OT_TUKI)[0].requests == HIDDEN
    times = combined(coordinating)[2]
    q1 = next(r for r in times if r.quarter == "2026-Q1")
    assert (q1.requests, q1.answer_median, q1.answer_p90) == ("5", "4", "10")


def test_reimporting_a_month_replaces_the_earlier_import(other, coordinating):
    submit(other, 3)
    submit(coordinating, 3)
    coordinating.import_area_aggregate(other.export_area_aggregate("2026-02"))
    submit(other, 2)  # the area's February was not complete yet
    got, replaced = coordinating.import_area_aggregate(other.export_area_aggregate("2026-02"))
    assert replaced
    assert cells(combined(coordinating)[1], "contacts_by_sector")[("social", "ot_tuki")] == "8"  # not 11


def refusal(coordinating, data: bytes) -> tuple[str, str]:
    with pytest.raises(InvalidArgument) as refused:
        coordinating.import_area_aggregate(data)
    (violation,) = refused.value.violations
    assert violation.field == "file"
    return violation.reason, violation.description


def test_an_altered_or_forged_file_is_refused_and_nothing_is_stored(other, coordinating):
    submit(other, 3)
    submit(coordinating, 3)
    document = json.loads(other.export_area_aggregate("2026-02"))
    document["counts"]["contacts_by_sector"][0]["count"] = 300
    reason, message = refusal(coordinating, json.dumps(document).encode())
    assert reason == "signature" and "Pyydä alueelta uusi tiedosto" in message and "Ask the area" in message
    forged = export_file(OTHER, "2026-02", NOW, Counts.from_json(document["counts"]), Ed25519PrivateKey.generate())
    assert refusal(coordinating, forged)[0] == "signature"
    assert cells(combined(coordinating)[1], "contacts_by_sector")[("social", "ot_tuki")] == HIDDEN  # only its own 3
    assert next(a for a in combined(coordinating)[3] if a.area == OTHER).missing == ["2026-02"]


def test_files_the_coordinating_area_must_not_take_are_refused_saying_why(other, coordinating, keys):
    counts = Counts()
    assert refusal(coordinating, b"not json")[0] == "malformed"
    assert refusal(coordinating, json.dumps({"format": "x"}).encode())[0] == "malformed"
    # Its own counts are already in the figures.
    reason, message = refusal(coordinating, coordinating.export_area_aggregate("2026-02"))
    assert reason == "own_area" and "Import only other areas' files" in message
    # An area that opted out, and one the settings do not name.
    assert refusal(coordinating, export_file(OPTED_OUT, "2026-02", NOW, counts, Ed25519PrivateKey.generate()))[0] \
        == "opted_out"
    assert refusal(coordinating, export_file("pohjois-karjala", "2026-02", NOW, counts,
                                             Ed25519PrivateKey.generate()))[0] == "unknown_area"
    # A month still to come (NOW is 2 March 2026), even when signed by the area's own key.
    reason, message = refusal(coordinating, export_file(OTHER, "2026-05", NOW, counts, keys[OTHER]))
    assert reason == "future_month" and "2026-05" in message
    # A count that is not one (signed, so only the content check can catch it).
    bad = json.loads(export_file(OTHER, "2026-02", NOW, counts, keys[OTHER]))
    bad["counts"]["contacts_by_sector"] = [{"sector": "social", "type": "ot_tuki", "count": -1}]
    del bad["signature"]
    bad["signature"] = base64.b64encode(keys[OTHER].sign(_canonical(bad))).decode()
    assert refusal(coordinating, json.dumps(bad).encode())[0] == "malformed"


def test_an_area_that_opted_out_exports_nothing(tmp_path, keys):
    opted = area(tmp_path, OTHER, {"OT_FEEDBACK_SHARE_WITH_COOPERATION_AREA": "false",
                                   "OT_FEEDBACK_AGGREGATE_SIGNING_KEY": pem_private(keys[OTHER])})
    submit(opted, 3)
    with pytest.raises(AggregateRefused) as refused:
        opted.export_area_aggregate("2026-02")
    assert refused.value.reason == "opted_out" and "shareWithCooperationArea" in refused.value.message


def test_export_needs_its_key_and_a_month_that_has_come(tmp_path, other):
    without = area(tmp_path, "pohjois-karjala", {})
    with pytest.raises(AggregateRefused, match="OT_FEEDBACK_AGGREGATE_SIGNING_KEY"):
        without.export_area_aggregate("2026-02")
    for month, reason in (("2026-13", "month"), ("2026-Q1", "month"), ("2026-04", "future_month")):
        with pytest.raises(AggregateRefused) as refused:
            other.export_area_aggregate(month)
        assert refused.value.reason == reason


def test_the_file_holds_counts_only(other):
    submit(other, 3)
    document = json.loads(other.export_area_aggregate("2026-02"))
    assert set(document) == {"format", "area", "month", "generated_at", "counts", "signature"}
    assert document["counts"]["contacts_by_sector"] == [{"sector": "social", "type": "ot_tuki", "count": 3}]
    text = json.dumps(document)
    assert "request_id" not in text and "free_text" not in text


def test_only_the_coordinating_area_imports_and_combines(other):
    with pytest.raises(FailedPrecondition):
        other.import_area_aggregate(b"{}")
    with pytest.raises(FailedPrecondition):
        other.cooperation_statistics("all", None)


def test_settings_name_what_is_wrong():
    with pytest.raises(SettingsError, match="not another area"):
        CooperationConfig.from_env({"OT_FEEDBACK_AREA_AGGREGATE_KEYS": json.dumps({TENANT: None})}, TENANT)
    with pytest.raises(SettingsError, match="not an Ed25519 public key"):
        CooperationConfig.from_env({"OT_FEEDBACK_AREA_AGGREGATE_KEYS": json.dumps({OTHER: "x"})}, TENANT)
    with pytest.raises(SettingsError, match="OT_FEEDBACK_AGGREGATE_SIGNING_KEY"):
        CooperationConfig.from_env({"OT_FEEDBACK_AGGREGATE_SIGNING_KEY": "nope"}, TENANT)
    assert CooperationConfig.from_env({}, TENANT).share is True
