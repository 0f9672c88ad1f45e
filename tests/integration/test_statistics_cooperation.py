"""The cooperation area's statistics end to end: two areas' feedback services, each on its own
PostgreSQL database. Area A (keski-suomi) writes its month's signed file with the operator
command; area B (pohjois-savo, the coordinating area) imports it through its gRPC API, and B's
GetStatistics with cooperation_area adds both areas' counts up before suppressing them."""
from __future__ import annotations

import argparse
import json
import secrets
import uuid
from datetime import datetime, timedelta

import grpc
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from ot.common.v1 import case_pb2
from ot.feedback.v1 import feedback_pb2 as fpb
from ot.feedback.v1 import feedback_pb2_grpc

from ot_runtime.settings import load_settings
from ot_feedback.bootstrap import build
from ot_feedback.domain import Category, RequestType, Sector
from ot_feedback.main import MIGRATIONS, export_area_aggregate

from conftest import TENANT, service_env, start_service
from feedback_fixtures import last_month

AREA_A = "keski-suomi"


def submit(service, n: int, sector: Sector, at: datetime) -> None:
    """n OT-TUKI requests as intake's submitted events reach feedback (its consumer's handler)."""
    h = service.app.handlers
    for i in range(n):
        with h.sessions.begin() as s:
            h.on_request_submitted(s, request_id=str(uuid.uuid4()), type_=RequestType.OT_TUKI,
                                   categories=[Category.NEUROPSYCHIATRIC], sector=sector,
                                   submitted_at=at + timedelta(hours=i))


def cells(stats: fpb.Statistics, name: str) -> dict[tuple[str, str], str]:
    table = next(t for t in stats.tables if t.name == name)
    return {(c.row, c.column): c.value for c in table.cells}


def test_two_areas_counts_are_combined_then_suppressed(make_database, kafka_bootstrap, topic_prefix, keys, spans,
                                                       tmp_path):
    key_a = Ed25519PrivateKey.generate()
    private_a = key_a.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
    public_a = key_a.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    common = {"OT_FEEDBACK_LINK_SECRET": secrets.token_hex(32),
              "OT_SERVICE_TOKEN_KEY_FILE": str(keys.service_private_path), "OT_SMTP_HOST": "127.0.0.1",
              "OT_INTAKE_GRPC_TARGET": "127.0.0.1:9", "OT_EXPERTS_GRPC_TARGET": "127.0.0.1:9",
              "OT_PORTAL_URL": "https://ot-portaali.test"}
    env_a = service_env("feedback", make_database("feedback_a"), kafka_bootstrap, topic_prefix, keys, **common,
                        OT_TENANT=AREA_A, OT_FEEDBACK_AGGREGATE_SIGNING_KEY=private_a)
    env_b = service_env("feedback", make_database("feedback_b"), kafka_bootstrap, topic_prefix, keys, **common,
                        OT_FEEDBACK_COORDINATING_AREA="true",
                        OT_FEEDBACK_AREA_AGGREGATE_KEYS=json.dumps({AREA_A: public_a, "etela-savo": None}))
    area_a = start_service("feedback", build, MIGRATIONS, env_a)
    area_b = start_service("feedback", build, MIGRATIONS, env_b)
    try:
        month, middle = last_month()
        submit(area_a, 3, Sector.SOCIAL, middle)
        submit(area_a, 1, Sector.HEALTH, middle)
        submit(area_b, 3, Sector.SOCIAL, middle)

        # Area A's IT: the operator command writes the signed file.
        out = tmp_path / f"{AREA_A}-{month}.json"
        assert export_area_aggregate(load_settings("feedback", env_a),
                                     argparse.Namespace(month=month, out=str(out))) == 0
        document = json.loads(out.read_text())
        assert (document["area"], document["month"]) == (AREA_A, month)

        b = feedback_pb2_grpc.FeedbackServiceStub(area_b.channel)
        coordinator = keys.metadata(roles=("coordinator",), subject="coord-b")
        asked = fpb.GetStatisticsRequest(period=month, type=case_pb2.REQUEST_TYPE_OT_TUKI)
        # Alone, area B's 3 is hidden.
        assert cells(b.GetStatistics(asked, metadata=coordinator, timeout=10),
                     "contacts_by_sector")[("social", "ot_tuki")] == "<5"

        # A file changed on the way is refused, saying why, and nothing is imported.
        document["counts"]["contacts_by_sector"][0]["count"] += 10
        try:
            b.ImportAreaAggregate(fpb.ImportAreaAggregateRequest(file=json.dumps(document).encode()),
                                  metadata=coordinator, timeout=10)
            raise AssertionError("a tampered file was imported")
        except grpc.RpcError as error:
            assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
            detail = next(d for d in rpc_status.from_call(error).details
                          if d.Is(error_details_pb2.BadRequest.DESCRIPTOR))
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            assert [(v.field, v.reason) for v in bad.field_violations] == [("file", "signature")]

        imported = b.ImportAreaAggregate(fpb.ImportAreaAggregateRequest(file=out.read_bytes()),
                                         metadata=coordinator, timeout=10)
        assert (imported.area, imported.month, imported.replaced) == (AREA_A, month, False)
        assert b.ImportAreaAggregate(fpb.ImportAreaAggregateRequest(file=out.read_bytes()),
                                     metadata=coordinator, timeout=10).replaced  # idempotent: replaces

        asked.cooperation_area = True
        stats = b.GetStatistics(asked, metadata=coordinator, timeout=10)
        figures = cells(stats, "contacts_by_sector")
        # Social 3 + 3 = 6, but health 1 is small and social beside the total 7 would give it away.
        assert figures[("health", "ot_tuki")] == "<5"
        assert figures[("social", "ot_tuki")] == "x"
        assert figures[("total", "ot_tuki")] == "7"
        assert cells(stats, "requests_by_category")[("neuropsychiatric", "ot_tuki")] == "7"
        areas = {a.area: a for a in stats.cooperation_areas}
        assert areas[TENANT].own and list(areas[AREA_A].included_months) == [month]
        assert areas["etela-savo"].opted_out

        # The cooperation area's figures are the coordinators'.
        secretary = keys.metadata(roles=("secretary",), subject="secretary-b")
        try:
            b.GetStatistics(asked, metadata=secretary, timeout=10)
            raise AssertionError("a secretary got the cooperation area's figures")
        except grpc.RpcError as error:
            assert error.code() is grpc.StatusCode.PERMISSION_DENIED
    finally:
        area_a.stop()
        area_b.stop()
