"""`ot-events tail` against a fake consumer: what a person reading a topic sees (headers, the
payload as JSON), what they never see (case content), and how it ends."""
from __future__ import annotations

import base64
import contextlib
import io
import re
import uuid
from collections import namedtuple
from datetime import datetime, timezone
from pathlib import Path

import pytest
from kafka.structs import TopicPartition
from ot.common.v1 import case_pb2
from ot.events.v1 import intake_events_pb2 as intake

from ot_runtime import events_cli
from ot_runtime.cloudevents import CloudEvent
from ot_runtime.protoconv import ts

TOPIC = "ot.pohjois-savo.intake.v1"
WHEN = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
Record = namedtuple("Record", "topic partition offset key value headers")
EVENTS_MD = Path(__file__).resolve().parents[3] / "docs" / "events.md"


def record(ce_type: str, payload: bytes, *, offset: int = 0, subject: str | None = None) -> Record:
    subject = subject or str(uuid.uuid4())
    event = CloudEvent(id=str(uuid.uuid4()), type=ce_type, source="/ot/pohjois-savo/intake", subject=subject,
                       tenant="pohjois-savo", time=WHEN, dataschema="", data=payload)
    return Record(TOPIC, 0, offset, subject.encode(), payload, event.headers())


class FakeConsumer:
    """What `tail` uses of kafka-python's KafkaConsumer; poll() hands out `batches` one by one,
    then raises `then` (KeyboardInterrupt: the person pressed Ctrl-C) or returns nothing."""

    def __init__(self, records=(), topics=(TOPIC,), then: BaseException | None = None):
        self.batches = [{TopicPartition(TOPIC, 0): [r]} for r in records]
        self._topics = set(topics)
        self.then = then
        self.config: dict = {}
        self.seeks: list[str] = []
        self.closed = False
        self.polls = 0

    def __call__(self, **config):
        self.config = config
        return self

    def topics(self):
        return self._topics

    def partitions_for_topic(self, topic):
        return {0, 1}

    def assign(self, partitions):
        self.assigned = partitions

    def seek_to_beginning(self, *partitions):
        self.seeks.append("beginning")

    def seek_to_end(self, *partitions):
        self.seeks.append("end")

    def position(self, tp):
        return 0

    def poll(self, timeout_ms=0):
        self.polls += 1
        if self.batches:
            return self.batches.pop(0)
        if self.then is not None:
            raise self.then
        return {}

    def close(self):
        self.closed = True


def run(consumer: FakeConsumer, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    argv = ["tail", TOPIC, "--bootstrap", "127.0.0.1:1", *args]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = events_cli.main(argv, make_consumer=consumer)
    return code, out.getvalue(), err.getvalue()


def submitted(ciphertext: bytes) -> bytes:
    return intake.RequestSubmitted(
        request_id="4f6c2a0e-0000-4000-8000-000000000001", tenant="pohjois-savo",
        type=case_pb2.REQUEST_TYPE_GROUP_CONSULTATION, screening_score=7, submitted_at=ts(WHEN),
        sealed_content=ciphertext).SerializeToString()


def test_a_known_event_shows_its_headers_and_payload_but_never_the_case_content():
    ciphertext = b"\x8a\x01sealed-case-content-that-must-not-show" * 3
    rec = record("ot.intake.request.submitted.v1", submitted(ciphertext))
    code, out, _ = run(FakeConsumer([rec]), "--max", "1")
    assert code == 0
    assert "type    ot.intake.request.submitted.v1" in out
    assert "source  /ot/pohjois-savo/intake" in out
    assert f"id      {dict(rec.headers)['ce_id'].decode()}" in out
    assert "time    2026-11-30T12:00:00+00:00" in out
    assert f"subject {rec.key.decode()}" in out
    assert '"request_id": "4f6c2a0e-0000-4000-8000-000000000001"' in out
    assert '"type": "REQUEST_TYPE_GROUP_CONSULTATION"' in out  # enums by name, not number
    assert '"submitted_at": "2026-11-30T12:00:00Z"' in out
    assert f'"sealed_content": "<encrypted, {len(ciphertext)} bytes>"' in out
    assert "sealed-case-content" not in out
    assert base64.b64encode(ciphertext).decode()[:16] not in out


def test_an_unknown_type_is_shown_by_its_size_only():
    payload = b"some future payload bytes"
    code, out, _ = run(FakeConsumer([record("ot.intake.something.new.v9", payload)]), "--max", "1")
    assert code == 0
    assert "type    ot.intake.something.new.v9" in out
    assert f"payload <unknown type, {len(payload)} bytes>" in out
    assert "future payload" not in out and base64.b64encode(payload).decode() not in out


def test_a_record_that_is_no_cloudevent_or_no_valid_payload_is_named_as_such():
    garbage = Record(TOPIC, 0, 5, b"k", b"\xff\xff\xff", [("ce_type", b"ot.intake.request.submitted.v1")])
    broken = record("ot.intake.request.submitted.v1", b"\xff\xff\xff\xff")
    code, out, _ = run(FakeConsumer([garbage, broken]), "--max", "2")
    assert code == 0
    assert "not a CloudEvent (missing CloudEvents headers: ce_id, ce_source, ce_tenant)" in out
    assert "payload <unreadable, 3 bytes>" in out
    assert "payload <not a ot.events.v1.RequestSubmitted, 4 bytes>" in out


def test_it_reads_only_new_events_by_default_and_from_the_start_when_asked_without_a_group():
    only_new = FakeConsumer([record("ot.intake.request.submitted.v1", submitted(b"x"))])
    run(only_new, "--max", "1")
    assert only_new.seeks == ["end"]
    assert only_new.config["group_id"] is None and only_new.config["enable_auto_commit"] is False
    assert only_new.config["allow_auto_create_topics"] is False  # a typo must not create a topic
    everything = FakeConsumer([record("ot.intake.request.submitted.v1", submitted(b"x"))])
    run(everything, "--max", "1", "--from-beginning")
    assert everything.seeks == ["beginning"]


def test_max_stops_after_that_many_events():
    records = [record("ot.intake.request.submitted.v1", submitted(b"x"), offset=i) for i in range(3)]
    code, out, _ = run(FakeConsumer(records), "--max", "2")
    assert code == 0
    assert out.count("── ") == 2 and "offset 2" not in out


def test_ctrl_c_ends_it_quietly_and_closes_the_consumer():
    consumer = FakeConsumer([record("ot.intake.request.submitted.v1", submitted(b"x"))], then=KeyboardInterrupt())
    code, out, err = run(consumer)
    assert code == 0 and consumer.closed
    assert out.count("── ") == 1 and "Traceback" not in err


def test_a_missing_topic_is_an_error_not_a_wait():
    consumer = FakeConsumer(topics=("ot.pohjois-savo.experts.v1",))
    code, out, err = run(consumer)
    assert code == 1 and consumer.closed and consumer.polls == 0
    assert f"no topic {TOPIC}" in err


def test_without_an_address_it_says_where_to_give_one(monkeypatch, capsys):
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    with pytest.raises(SystemExit) as exit_:
        events_cli.main(["tail", TOPIC], make_consumer=FakeConsumer())
    assert exit_.value.code == 2
    assert "KAFKA_BOOTSTRAP_SERVERS or --bootstrap" in capsys.readouterr().err


def test_every_event_type_of_the_reference_is_decoded_as_its_payload():
    rows = re.findall(r"^\| `(ot\.[a-z_.]+\.v\d+)` \| [^|]+ \| [^|]+ \| \[(\w+)\]", EVENTS_MD.read_text(), re.M)
    assert len(rows) >= 10
    assert {ce_type: name for ce_type, name in rows} == \
        {ce_type: cls.DESCRIPTOR.name for ce_type, cls in events_cli.EVENT_TYPES.items()}
