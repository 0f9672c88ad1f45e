from datetime import datetime, timezone

import pytest

from ot_runtime.cloudevents import CloudEvent, MalformedEvent

EVENT = CloudEvent(id="e1", type="ot.intake.request.submitted.v1", source="/ot/pohjois-savo/intake",
                   subject="r1", tenant="pohjois-savo", time=datetime(2026, 1, 2, tzinfo=timezone.utc),
                   dataschema="proto:ot.events.v1.RequestSubmitted", data=b"\x01\x02")


def test_binary_mode_headers_round_trip():
    headers = EVENT.headers()
    names = {k for k, _ in headers}
    assert {"ce_id", "ce_type", "ce_source", "ce_subject", "ce_tenant", "ce_specversion", "content-type"} <= names
    assert CloudEvent.from_record(headers, EVENT.data) == EVENT


def test_missing_attributes_are_named():
    headers = [(k, v) for k, v in EVENT.headers() if k not in ("ce_id", "ce_tenant")]
    with pytest.raises(MalformedEvent, match="ce_id, ce_tenant"):
        CloudEvent.from_record(headers, b"")


def test_other_content_type_is_refused():
    headers = [(k, b"application/json" if k == "content-type" else v) for k, v in EVENT.headers()]
    with pytest.raises(MalformedEvent, match="content-type"):
        CloudEvent.from_record(headers, b"{}")
