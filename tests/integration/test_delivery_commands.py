"""The operator's delivery commands every service has (`ot-<service> replay-dead-letters`,
`ot-<service> requeue-outbox`), run as the entry point runs them, on real Kafka and PostgreSQL."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

import sqlalchemy as sa
from kafka import KafkaProducer

from ot_runtime.db import outbox_table
from ot_runtime.kafka import ensure_topics
from ot_runtime.process import run_command

from conftest import header, read_topic, service_env


def run(capsys, monkeypatch, env: dict, *argv: str) -> tuple[int, dict]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code = run_command("intake", {}, list(argv))
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    return code, json.loads(lines[-1]) if lines else {}


def test_replay_puts_a_dead_letter_back_on_its_topic_without_the_dead_letter_headers(
        capsys, monkeypatch, kafka_bootstrap, topic_prefix, make_database, keys):
    env = service_env("intake", make_database("intake"), kafka_bootstrap, topic_prefix, keys)
    origin, dlt = f"{topic_prefix}.experts.v1", f"{topic_prefix}.intake.dlt.v1"
    ensure_topics(kafka_bootstrap, [origin, dlt])
    event_id, other_id = str(uuid.uuid4()), str(uuid.uuid4())
    producer = KafkaProducer(bootstrap_servers=[kafka_bootstrap])
    for ce_id in (other_id, event_id):
        producer.send(dlt, key=b"case-1", value=b"\x08\x01", headers=[
            ("ce_id", ce_id.encode()), ("ce_type", b"ot.experts.assigned.v1"), ("ot_dlt_topic", origin.encode()),
            ("ot_dlt_reason", b"handler failed"), ("ot_dlt_attempts", b"5")]).get(timeout=15)
    producer.close()

    code, report = run(capsys, monkeypatch, env, "replay-dead-letters", "--event-id", event_id)

    assert (code, report["replayed"]) == (0, 1)
    [record] = read_topic(kafka_bootstrap, origin, expect=1)
    assert header(record, "ce_id") == event_id and record.key == b"case-1" and record.value == b"\x08\x01"
    assert not [k for k, _ in record.headers if k.startswith("ot_dlt_")]


def test_replay_says_so_when_an_event_is_not_among_the_dead_letters(
        capsys, monkeypatch, kafka_bootstrap, topic_prefix, make_database, keys):
    env = service_env("intake", make_database("intake"), kafka_bootstrap, topic_prefix, keys)
    ensure_topics(kafka_bootstrap, [f"{topic_prefix}.intake.dlt.v1"])
    code, report = run(capsys, monkeypatch, env, "replay-dead-letters", "--event-id", str(uuid.uuid4()))
    assert (code, report["replayed"]) == (1, 0)
    code, _ = run(capsys, monkeypatch, env, "replay-dead-letters")
    assert code == 2  # which event: the operator must say


def test_requeue_puts_failed_outbox_rows_back_in_line(capsys, monkeypatch, kafka_bootstrap, topic_prefix,
                                                      make_database, keys):
    url = make_database("intake")
    env = service_env("intake", url, kafka_bootstrap, topic_prefix, keys)
    table = outbox_table(sa.MetaData())
    engine = sa.create_engine(url)
    table.metadata.create_all(engine)
    now = datetime.now(timezone.utc)
    failed = [str(uuid.uuid4()) for _ in range(3)]
    with engine.begin() as conn:
        for event_id in failed:
            conn.execute(table.insert().values(
                event_id=event_id, topic="t", record_key="k", ce_type="x", ce_subject="k", ce_time=now,
                dataschema="proto:x", payload=b"", created_at=now, attempts=5, last_error="MessageSizeTooLarge",
                failed_at=now))

    assert run(capsys, monkeypatch, env, "requeue-outbox", "--event-id", failed[0]) == (0, {"requeued": 1})
    assert run(capsys, monkeypatch, env, "requeue-outbox") == (0, {"requeued": 2})
    with engine.connect() as conn:
        rows = conn.execute(sa.select(table.c.failed_at, table.c.attempts)).all()
    assert rows and all(r.failed_at is None and r.attempts == 0 for r in rows)
    engine.dispose()
