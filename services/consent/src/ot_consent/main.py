"""`ot-consent serve | migrate | purge | verify-audit | export-audit | rotate-master-key |
retire-master-key`: the process entry points."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from ot_runtime import process

MIGRATIONS = Path(__file__).parent / "migrations"


def serve(settings, args=None) -> None:
    from .bootstrap import build
    app = build(settings)
    process.serve(app, settings, extra_workers=[app.purger, app.anchorer, app.verifier, app.chainer])


def migrate(settings, args=None) -> None:
    # Imported here: Alembic (with Mako and Pygments) is ~15 MB that a serving process never uses.
    from ot_runtime.migrations import upgrade
    upgrade(MIGRATIONS, settings.database_url)


def purge(settings, args=None) -> None:
    """Discard orphan cases and apply the retention policies once, now, and publish the shredding
    events before exiting."""
    from .bootstrap import build
    app = build(settings)
    done = app.handlers.purge()
    while app.relay.publish_batch():
        pass
    print(json.dumps({"shredded": len(done.shredded), "request_ids": done.shredded,
                      "abandoned": len(done.abandoned), "abandoned_request_ids": done.abandoned}))
    app.producer.close(timeout=10)
    app.engine.dispose()


def verify_audit(settings, args=None) -> int:
    """Exit 0 when the chain verifies with the audit key (and matches every anchor given), else 1
    with the first bad entry. Anchors: --anchors FILE (JSON lines with sequence and mac, e.g.
    consent's "audit head anchored" log lines) and/or --anchors-from-topic (consent's topic)."""
    from .audit import read_anchor_lines
    from .bootstrap import build_handlers
    anchors = []
    if args is not None and args.anchors:
        try:
            with args.anchors.open(encoding="utf-8") as lines:
                anchors += read_anchor_lines(lines)
        except (OSError, ValueError) as exc:
            print(f"ot-consent: --anchors: {exc}", file=sys.stderr)
            return 2
    if args is not None and args.anchors_from_topic:
        anchors += anchors_from_topic(settings)
    engine, handlers = build_handlers(settings)  # the database only
    result = handlers.verify_audit(None, anchors)
    engine.dispose()
    print(json.dumps(vars(result)))
    return 0 if result.intact else 1


def anchors_from_topic(settings, timeout_seconds: float = 30.0) -> list:
    """Every anchor of this area still on consent's topic (its retention: area.retention.eventDays)."""
    import time

    from kafka import KafkaConsumer, TopicPartition
    from ot.events.v1 import consent_events_pb2

    from ot_runtime.cloudevents import CloudEvent, MalformedEvent
    from ot_runtime.kafka import client_config

    from .audit import Anchor
    from .handlers import AUDIT_ANCHORED
    topic = settings.topic("consent")
    # The same connection settings (TLS, SASL) as every Kafka client of the service.
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers.split(","), group_id=None,
                             enable_auto_commit=False, client_id=f"ot-consent-verify-{settings.tenant}",
                             **client_config(settings))
    try:
        parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        if not parts:
            return []
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        ends = consumer.end_offsets(parts)
        found, deadline = [], time.monotonic() + timeout_seconds
        while any(consumer.position(tp) < end for tp, end in ends.items()):
            if time.monotonic() > deadline:
                raise SystemExit(f"ot-consent: could not read {topic} to its end within {timeout_seconds:.0f} s")
            for records in consumer.poll(timeout_ms=500).values():
                for record in records:
                    try:
                        event = CloudEvent.from_record(record.headers, record.value)
                    except MalformedEvent:
                        continue
                    if event.type == AUDIT_ANCHORED and event.tenant == settings.tenant:
                        message = consent_events_pb2.AuditHeadAnchored.FromString(event.data)
                        found.append(Anchor(message.sequence, message.mac))
        return found
    finally:
        consumer.close()


def rotate_master_key(settings, args) -> int:
    """Re-wrap every live data key under the current version (the first of OT_CONSENT_MASTER_KEYS),
    in batches; safe to interrupt and run again."""
    from .bootstrap import build_handlers
    engine, handlers = build_handlers(settings)
    try:
        handlers.check_master_keys()
        done = handlers.rotate_master_key(batch_size=args.batch_size)
    finally:
        engine.dispose()
    print(json.dumps(vars(done)))
    return 0 if not done.remaining else 1


def retire_master_key(settings, args) -> int:
    """Mark --key-version retired (refused while any live data key uses it); then remove that version
    from OT_CONSENT_MASTER_KEYS, the Secret and the key custody."""
    from ot_runtime.errors import OtError

    from .bootstrap import build_handlers
    if not args.key_version:
        print("ot-consent: retire-master-key needs --key-version <id>", file=sys.stderr)
        return 2
    engine, handlers = build_handlers(settings)
    try:
        handlers.check_master_keys()
        done = handlers.retire_master_key(args.key_version)
    except OtError as refused:
        print(json.dumps({"retired": False, "version": args.key_version, "problem": refused.message},
                         ensure_ascii=False))
        return 1
    finally:
        engine.dispose()
    print(json.dumps({"retired": True, "version": done.key_id, "still_held": done.still_held,
                      "final_for_purges_before": done.final_before.isoformat() if done.final_before else None}))
    print(f"Now remove version {done.key_id} from OT_CONSENT_MASTER_KEYS (the Secret's master-keys) and from the key "
          "custody, then restart consent: only then can no backup open what it wrapped.", file=sys.stderr)
    return 0


def export_audit(settings, args) -> None:
    """The trail (or one user's entries) as JSON lines, oldest first, for the data-protection officer."""
    from .bootstrap import build_handlers
    engine, handlers = build_handlers(settings)
    out = args.out.open("w", encoding="utf-8") if args.out else sys.stdout
    after = 0
    try:
        while True:
            rows, after = handlers.query_audit(None, "", "", None, None, 1000, after, actor=args.actor or "")
            for row in rows:
                out.write(json.dumps({k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()},
                                     ensure_ascii=False) + "\n")
            if not after:
                break
    finally:
        if args.out:
            out.close()
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    return process.run_command(
        "consent", {"serve": serve, "migrate": migrate, "purge": purge, "verify-audit": verify_audit,
                    "export-audit": export_audit, "rotate-master-key": rotate_master_key,
                    "retire-master-key": retire_master_key}, argv,
        add_arguments=add_arguments)


def add_arguments(parser) -> None:
    parser.add_argument("--out", type=Path, help="export-audit: write JSON lines here (default stdout)")
    parser.add_argument("--actor", help="export-audit: only this user's entries (a professional's data export)")
    parser.add_argument("--anchors", type=Path, help="verify-audit: a file of anchors (JSON lines with sequence and "
                                                      "mac, e.g. consent's 'audit head anchored' log lines)")
    parser.add_argument("--anchors-from-topic", action="store_true",
                        help="verify-audit: also check the anchors on consent's Kafka topic")
    parser.add_argument("--batch-size", type=int, default=500, help="rotate-master-key: data keys per transaction")
    parser.add_argument("--key-version", help="retire-master-key: the master key version to retire")


if __name__ == "__main__":
    sys.exit(main())
