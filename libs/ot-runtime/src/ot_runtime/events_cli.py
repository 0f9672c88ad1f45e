"""`ot-events tail <topic>`: the events of a topic as people want to read them.

Each record is shown with its CloudEvent headers (type, source, id, time, subject and record key)
and its protobuf payload decoded to JSON. Case content never appears: the only bytes field of an
event payload is case content sealed under the request's data key, so every bytes field is shown
as "<encrypted, N bytes>". A record whose type this tool does not know is shown by its size only.

It reads without a consumer group (nothing is committed, no service's position moves), from the
end of the topic (only new events) or, with --from-beginning, from the start. Ctrl-C stops it.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from types import SimpleNamespace
from typing import Callable, Iterable, TextIO

from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import DecodeError, Message
from kafka import KafkaConsumer
from kafka.errors import KafkaError
from kafka.structs import TopicPartition
from ot.events.v1 import consent_events_pb2 as consent, experts_events_pb2 as experts, intake_events_pb2 as intake

from .cloudevents import CloudEvent, MalformedEvent

# ce_type -> payload message, as docs/events.md lists them (a unit test checks that they agree).
EVENT_TYPES: dict[str, type[Message]] = {
    "ot.intake.request.submitted.v1": intake.RequestSubmitted,
    "ot.intake.request.status_changed.v1": intake.RequestStatusChanged,
    "ot.intake.conversation.entry_added.v1": intake.ConversationEntryAdded,
    "ot.intake.meeting.published.v1": intake.MeetingPublished,
    "ot.experts.assignment.made.v1": experts.ExpertsAssigned,
    "ot.experts.assignment.removed.v1": experts.ExpertsUnassigned,
    "ot.consent.consent.withdrawn.v1": consent.ConsentWithdrawn,
    "ot.consent.consent.recorded.v1": consent.ConsentRecorded,
    "ot.consent.key.shredded.v1": consent.DataKeyShredded,
    "ot.consent.audit.anchored.v1": consent.AuditHeadAnchored,
}


def sealed(size: int) -> str:
    return f"<encrypted, {size} bytes>"


def payload_json(message: Message) -> dict:
    """The message as JSON (proto field names, enum names, RFC 3339 times), every bytes field
    replaced by its size, in nested messages too."""
    out = json_format.MessageToDict(message, preserving_proto_field_name=True)
    for field, value in message.ListFields():
        if field.type == FieldDescriptor.TYPE_BYTES:
            out[field.name] = [sealed(len(v)) for v in value] if field.is_repeated else sealed(len(value))
        elif field.type == FieldDescriptor.TYPE_MESSAGE and not field.message_type.GetOptions().map_entry \
                and not field.message_type.full_name.startswith("google.protobuf."):
            out[field.name] = [payload_json(v) for v in value] if field.is_repeated else payload_json(value)
    return out


def render(record) -> str:
    """One record (kafka-python's ConsumerRecord or alike) as a few readable lines."""
    value = record.value or b""
    key = record.key.decode("utf-8", "replace") if record.key else ""
    lines = [f"── {record.topic} partition {record.partition} offset {record.offset}"]
    try:
        event = CloudEvent.from_record(record.headers, value)
    except MalformedEvent as why:
        lines += [f"   not a CloudEvent ({why}); key {key or '-'}", f"   payload <unreadable, {len(value)} bytes>"]
        return "\n".join(lines)
    subject = event.subject or "-"
    if key and key != event.subject:
        subject += f" (record key {key})"
    lines += [f"   type    {event.type}", f"   source  {event.source}", f"   id      {event.id}",
              f"   time    {event.time.isoformat() if event.time else '-'}", f"   subject {subject}"]
    message_class = EVENT_TYPES.get(event.type)
    if message_class is None:
        lines.append(f"   payload <unknown type, {len(value)} bytes>")
        return "\n".join(lines)
    try:
        message = message_class.FromString(value)
    except DecodeError:
        lines.append(f"   payload <not a {message_class.DESCRIPTOR.full_name}, {len(value)} bytes>")
        return "\n".join(lines)
    body = json.dumps(payload_json(message), indent=2, ensure_ascii=False)
    lines.append(f"   payload {message_class.DESCRIPTOR.full_name} " + body.replace("\n", "\n   "))
    return "\n".join(lines)


def security_config(env) -> dict:
    """The same KAFKA_SECURITY_PROTOCOL / KAFKA_SSL_CA_FILE / KAFKA_SASL_* variables as the
    services read (ot_runtime.kafka.client_config); PLAINTEXT when unset, as on a laptop."""
    from .kafka import client_config
    protocol = env.get("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT").strip().upper() or "PLAINTEXT"
    return client_config(SimpleNamespace(
        kafka_security_protocol=protocol, kafka_ssl_ca_file=env.get("KAFKA_SSL_CA_FILE") or None,
        kafka_sasl_mechanism=env.get("KAFKA_SASL_MECHANISM") or None,
        kafka_sasl_username=env.get("KAFKA_SASL_USERNAME") or None,
        kafka_sasl_password=env.get("KAFKA_SASL_PASSWORD") or None))


def tail(topic: str, *, bootstrap: str, from_beginning: bool, max_events: int | None, out: TextIO, err: TextIO,
         make_consumer: Callable = KafkaConsumer, security: dict | None = None) -> int:
    # No group: nothing is committed, so reading never moves a service's position.
    consumer = make_consumer(bootstrap_servers=bootstrap.split(","), group_id=None, enable_auto_commit=False,
                             allow_auto_create_topics=False, client_id="ot-events-tail", **(security or {}))
    try:
        if topic not in consumer.topics():
            print(f"ot-events: aihetta {topic} ei ole / no topic {topic} at {bootstrap}", file=err)
            return 1
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(partitions)
        (consumer.seek_to_beginning if from_beginning else consumer.seek_to_end)(*partitions)
        for tp in partitions:
            consumer.position(tp)  # resolve the start now: "only new" means new from this moment
        where = "alusta / from the beginning" if from_beginning else "vain uudet / only new events"
        print(f"ot-events: luetaan {topic} {where} (Ctrl-C lopettaa / stops)", file=err, flush=True)
        shown = 0
        while max_events is None or shown < max_events:
            for record in _in_order(consumer.poll(timeout_ms=500)):
                print(render(record), file=out, flush=True)
                shown += 1
                if max_events is not None and shown >= max_events:
                    break
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        consumer.close()


def _in_order(batches: dict) -> Iterable:
    for tp in sorted(batches, key=lambda tp: tp.partition):
        yield from batches[tp]


def main(argv: list[str] | None = None, make_consumer: Callable = KafkaConsumer) -> int:
    parser = argparse.ArgumentParser(prog="ot-events", description="Read the OT platform's events on Kafka.")
    commands = parser.add_subparsers(dest="command", required=True)
    cmd = commands.add_parser("tail", help="show a topic's events (CloudEvent headers, payload as JSON)")
    cmd.add_argument("topic", help="e.g. ot.pohjois-savo.intake.v1")
    cmd.add_argument("--from-beginning", action="store_true", help="from the topic's start (default: only new)")
    cmd.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", ""),
                     help="host:port of the brokers (default: $KAFKA_BOOTSTRAP_SERVERS)")
    cmd.add_argument("--max", type=int, default=None, metavar="N", help="stop after N events")
    args = parser.parse_args(argv)
    if not args.bootstrap:
        parser.error("set KAFKA_BOOTSTRAP_SERVERS or --bootstrap (make run's Kafka: 127.0.0.1:19092)")
    if args.max is not None and args.max < 1:
        parser.error("--max must be at least 1")
    try:
        return tail(args.topic, bootstrap=args.bootstrap, from_beginning=args.from_beginning, max_events=args.max,
                    out=sys.stdout, err=sys.stderr, make_consumer=make_consumer,
                    security=security_config(os.environ))
    except KeyboardInterrupt:  # Ctrl-C while connecting
        return 0
    except KafkaError as exc:
        print(f"ot-events: Kafka {args.bootstrap} ei vastaa / does not answer ({type(exc).__name__})", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
