"""Delivery under faults, on the real PostgreSQL and Kafka: an event is never skipped, a bad one
never blocks. Every consumer test counts: the handler writes one `effects` row per processing, in
the same transaction as the inbox, so "exactly once in effect" is one row per event id and "none
skipped" is every event id there."""
from __future__ import annotations

import logging
import threading
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from google.protobuf import wrappers_pb2
from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import KafkaError, KafkaTimeoutError
from prometheus_client import REGISTRY
from sqlalchemy.engine import make_url

from ot_runtime.cloudevents import CloudEvent
from ot_runtime.consumer import EventConsumer, Handler, Poison, replay_dead_letters
from ot_runtime.db import create_engine, inbox_table, outbox_table, session_factory
from ot_runtime.kafka import ensure_topics, make_producer
from ot_runtime.outbox import Outbox, OutboxRelay

from conftest import TENANT, header, read_topic, wait_until

COUNTED = "ot.test.counted.v1"


class Counting:
    """One test's database: the inbox, an outbox, and `effects` (one row per processing)."""

    def __init__(self, url: str):
        self.url = url
        self.engine = create_engine(url)
        metadata = sa.MetaData()
        self.inbox = inbox_table(metadata)
        self.outbox = outbox_table(metadata)
        self.effects = sa.Table("effects", metadata, sa.Column("seq", sa.Integer, primary_key=True),
                                sa.Column("event_id", sa.String(36), nullable=False))
        metadata.create_all(self.engine)
        self.sessions = session_factory(self.engine)
        self.faults: dict[str, object] = {}  # event id -> called before the effect is written
        self.calls: list[str] = []

    def handle(self, session, event, message) -> None:
        self.calls.append(event.id)
        fault = self.faults.get(event.id)
        if fault:
            fault()
        session.execute(self.effects.insert().values(event_id=event.id))

    def effects_in_order(self) -> list[str]:
        with self.engine.connect() as c:
            return list(c.execute(sa.select(self.effects.c.event_id).order_by(self.effects.c.seq)).scalars())

    def processed_once(self, ids: list[str]) -> bool:
        return sorted(self.effects_in_order()) == sorted(ids)


@pytest.fixture()
def counting(make_database):
    made = []

    def make() -> Counting:
        made.append(Counting(make_database("delivery")))
        return made[-1]
    yield make
    for c in made:
        c.engine.dispose()


@pytest.fixture()
def topics(topic_prefix):
    return {"events": f"{topic_prefix}.counted.v1", "dlt": f"{topic_prefix}.test.dlt.v1"}


def counted(value: str, key: str = "case-1") -> tuple[CloudEvent, wrappers_pb2.StringValue]:
    """A new COUNTED event about case `key`, and its message."""
    message = wrappers_pb2.StringValue(value=value)
    return CloudEvent(id=str(uuid.uuid4()), type=COUNTED, source=f"/ot/{TENANT}/test", subject=key, tenant=TENANT,
                      time=datetime.now(timezone.utc), dataschema="proto:google.protobuf.StringValue",
                      data=message.SerializeToString()), message


def produce(bootstrap: str, topic: str, count: int, key: str = "case-1") -> list[str]:
    producer = KafkaProducer(bootstrap_servers=bootstrap.split(","))
    ids = []
    for i in range(count):
        event, _ = counted(str(i), key)
        producer.send(topic, key=key.encode(), value=event.data, headers=event.headers()).get(timeout=15)
        ids.append(event.id)
    producer.close()
    return ids


def consumer_for(db: Counting, bootstrap: str, topics: dict, producer, group: str | None = None,
                 **kwargs) -> EventConsumer:
    return EventConsumer(bootstrap_servers=bootstrap, topics=[topics["events"]],
                         group_id=group or f"{topics['events']}.g", tenant=TENANT, sessions=db.sessions, inbox=db.inbox,
                         handlers={COUNTED: Handler(wrappers_pb2.StringValue, db.handle)}, producer=producer,
                         dead_letter_topic=topics["dlt"], poll_timeout_ms=200, retry_initial_seconds=0.05,
                         retry_max_seconds=0.5, **kwargs)


def committed(bootstrap: str, group: str) -> dict[int, int]:
    """The group's committed offsets by partition; {} while the broker cannot tell yet (just restarted)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap.split(","))
    try:
        offsets = admin.list_group_offsets(group).get(group, {})
    except KafkaError as error:
        if not error.retriable:
            raise
        return {}
    finally:
        admin.close()
    return {tp.partition: meta.offset for tp, meta in offsets.items()}


class Running:
    """A consumer in its own thread, as a service runs it; always stopped."""

    def __init__(self, consumer: EventConsumer):
        self.consumer = consumer

    def __enter__(self):
        self.consumer.start()
        return self.consumer

    def __exit__(self, *exc):
        self.consumer.stop(timeout=10)


@contextmanager
def warnings_of(logger_name: str):
    """The messages of the warnings (and worse) that `logger_name` and its children log."""
    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record):
            messages.append(record.getMessage())
    handler = Collect(logging.WARNING)
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)


@pytest.fixture()
def warnings_logged():
    """The runtime's warnings (consumer, relay), as they are logged."""
    with warnings_of("ot") as messages:
        yield messages


def logged(messages: list[str], text: str) -> int:
    return sum(text in m for m in list(messages))


@pytest.fixture()
def producer(kafka_bootstrap):
    p = make_producer(kafka_bootstrap, "delivery-test")
    yield p
    p.close(timeout=5)


def test_a_handler_failing_once_skips_nothing(counting, kafka_bootstrap, topics, producer):
    db = counting()
    ensure_topics(kafka_bootstrap, list(topics.values()), partitions=1)
    ids = produce(kafka_bootstrap, topics["events"], 6)
    failures = [ValueError("a passing bug")]

    def fail_once():
        if failures:
            raise failures.pop()
    db.faults[ids[1]] = fail_once
    with Running(consumer_for(db, kafka_bootstrap, topics, producer)) as c:
        wait_until(lambda: committed(kafka_bootstrap, c.group_id).get(0) == 6, what="every offset committed")
    assert db.effects_in_order() == ids  # each once, in order: the 2nd and 3rd were not skipped
    assert db.calls.count(ids[1]) == 2
    assert not read_topic(kafka_bootstrap, topics["dlt"], expect=0, timeout=2, settle=0.5)


def test_a_record_failing_for_ever_is_dead_lettered_after_the_bound_and_the_rest_processed_then_replayed(
        counting, kafka_bootstrap, topics, producer):
    db = counting()
    ensure_topics(kafka_bootstrap, list(topics.values()), partitions=1)
    ids = produce(kafka_bootstrap, topics["events"], 5)

    def always():
        raise KeyError("Maija Virtanen")
    db.faults[ids[2]] = always
    with Running(consumer_for(db, kafka_bootstrap, topics, producer, unexpected_attempts=4)) as c:
        wait_until(lambda: committed(kafka_bootstrap, c.group_id).get(0) == 5, what="every offset committed")
        assert db.effects_in_order() == ids[:2] + ids[3:]
        assert db.calls.count(ids[2]) == 4
        [dead] = read_topic(kafka_bootstrap, topics["dlt"], expect=1)
        assert header(dead, "ce_id") == ids[2] and header(dead, "ot_dlt_error") == "KeyError"
        assert header(dead, "ot_dlt_attempts") == "4" and header(dead, "ot_dlt_topic") == topics["events"]
        assert "KeyError" in header(dead, "ot_dlt_reason") and "Maija" not in header(dead, "ot_dlt_reason")

        del db.faults[ids[2]]  # the bug is fixed: the operator replays the event
        assert replay_dead_letters(kafka_bootstrap, topics["dlt"], {ids[2]}, producer) == 1
        wait_until(lambda: committed(kafka_bootstrap, c.group_id).get(0) == 6, what="the replayed event consumed")
    assert db.effects_in_order() == ids[:2] + ids[3:] + [ids[2]]


class FlakyProducer:
    """The service's producer, but dead-letter sends fail while `broken`."""

    def __init__(self, real):
        self.real = real
        self.broken = True
        self.failures = 0

    def send(self, topic, **kwargs):
        if self.broken:
            self.failures += 1
            raise KafkaTimeoutError("dead-letter topic unreachable (injected)")
        return self.real.send(topic, **kwargs)


def test_a_failing_dead_letter_send_advances_nothing_until_it_works(counting, kafka_bootstrap, topics, producer):
    db = counting()
    ensure_topics(kafka_bootstrap, list(topics.values()), partitions=1)
    ids = produce(kafka_bootstrap, topics["events"], 5)

    def refused():
        raise Poison("refused by the rules (injected)")
    db.faults[ids[1]] = refused
    flaky = FlakyProducer(producer)
    with Running(consumer_for(db, kafka_bootstrap, topics, flaky)) as c:
        wait_until(lambda: flaky.failures >= 4, what="several failed dead-letter sends")
        # Nothing moved past the record that could not be dead-lettered.
        assert committed(kafka_bootstrap, c.group_id).get(0) == 1
        assert db.effects_in_order() == ids[:1]
        flaky.broken = False
        wait_until(lambda: committed(kafka_bootstrap, c.group_id).get(0) == 5, what="every offset committed")
    assert db.effects_in_order() == [ids[0]] + ids[2:]
    dead = read_topic(kafka_bootstrap, topics["dlt"], expect=1, settle=2.0)
    assert [header(r, "ce_id") for r in dead] == [ids[1]]  # exactly once
    assert header(dead[0], "ot_dlt_reason") == "refused by the rules (injected)"


def test_the_database_dropped_mid_batch_loses_and_repeats_nothing(counting, kafka_bootstrap, topics, producer,
                                                                  pg_admin_url, warnings_logged):
    db = counting()
    name = make_url(db.url).database
    ensure_topics(kafka_bootstrap, list(topics.values()), partitions=1)
    ids = produce(kafka_bootstrap, topics["events"], 8)
    admin = sa.create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    dropped = threading.Event()

    def drop_the_database():
        if dropped.is_set():
            return
        dropped.set()
        # The handler is mid-transaction: its connection is cut, and no new one is let in.
        with admin.connect() as c:
            c.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            c.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})
    db.faults[ids[3]] = drop_the_database
    try:
        with Running(consumer_for(db, kafka_bootstrap, topics, producer)) as c:
            wait_until(lambda: logged(warnings_logged, "(transient error); trying again") >= 3,
                       what="the consumer to retry while the database is away")
            with admin.connect() as conn:
                conn.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
            wait_until(lambda: committed(kafka_bootstrap, c.group_id).get(0) == 8, what="every offset committed")
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        admin.dispose()
    assert db.effects_in_order() == ids
    with db.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(db.inbox)).scalar_one() == 8
    assert not read_topic(kafka_bootstrap, topics["dlt"], expect=0, timeout=2, settle=0.5)


class Killed(BaseException):
    """The process dies: nothing after this point runs."""


def test_a_consumer_killed_between_its_commit_and_the_offset_commit_repeats_as_a_no_op(
        counting, kafka_bootstrap, topics, producer):
    db = counting()
    ensure_topics(kafka_bootstrap, list(topics.values()), partitions=1)
    ids = produce(kafka_bootstrap, topics["events"], 5)
    group = f"{topics['events']}.g"
    first = consumer_for(db, kafka_bootstrap, topics, producer, group=group)
    real_commit = first.consumer.commit
    commits = []

    def commit_then_die(offsets, **kwargs):
        if len(commits) == 2:  # the third record's transaction is committed, its offset is not
            raise Killed()
        commits.append(offsets)
        return real_commit(offsets, **kwargs)
    first.consumer.commit = commit_then_die
    with pytest.raises(Killed):
        for _ in range(300):
            first.poll_once()
    first.consumer.close()
    assert db.effects_in_order() == ids[:3] and committed(kafka_bootstrap, group).get(0) == 2

    duplicates_before = REGISTRY.get_sample_value("ot_events_consumed_total",
                                                  {"type": COUNTED, "outcome": "duplicate"}) or 0
    with Running(consumer_for(db, kafka_bootstrap, topics, producer, group=group)) as c:
        wait_until(lambda: committed(kafka_bootstrap, group).get(0) == 5, what="every offset committed")
    assert db.effects_in_order() == ids  # the third record came again, and changed nothing
    assert REGISTRY.get_sample_value("ot_events_consumed_total",
                                     {"type": COUNTED, "outcome": "duplicate"}) == duplicates_before + 1


def test_a_restarted_broker_loses_nothing_for_the_consumer_or_the_relay(counting, own_kafka, topics, warnings_logged):
    db = counting()
    bootstrap = own_kafka.bootstrap
    published_topic = f"{topics['events']}.out"
    ensure_topics(bootstrap, [*topics.values(), published_topic], partitions=1)
    ids = produce(bootstrap, topics["events"], 10)
    outbox = Outbox(db.outbox, source=f"/ot/{TENANT}/test", tenant=TENANT)

    def add_rows(count: int) -> list[str]:
        with db.sessions.begin() as s:
            return [outbox.add(s, topic=published_topic, ce_type="ot.test.out.v1", subject=f"case-{i % 3}",
                               message=wrappers_pb2.StringValue(value=str(i))) for i in range(count)]

    reached, go_on = threading.Event(), threading.Event()

    def wait_for_the_restart():
        if not reached.is_set():
            reached.set()
            assert go_on.wait(120)
    db.faults[ids[4]] = wait_for_the_restart
    producer = make_producer(bootstrap, "restart-test")
    relay = OutboxRelay(db.engine, db.outbox, producer, source=f"/ot/{TENANT}/test", tenant=TENANT,
                        poll_seconds=0.1, send_timeout=3)
    rows = add_rows(6)
    relay.start()
    try:
        wait_until(lambda: relay.pending() == 0, what="the first rows published")
        # A short session: after the restart the group does not wait long for a member that left.
        with Running(consumer_for(db, bootstrap, topics, producer, commit_timeout_ms=3000,
                                  kafka_config={"session_timeout_ms": 6000, "heartbeat_interval_ms": 1000})) as c:
            assert reached.wait(60)
            own_kafka.stop()  # mid-batch: the 5th record is in its handler
            go_on.set()
            rows += add_rows(6)  # and the relay tries to publish these while the broker is down
            wait_until(lambda: logged(warnings_logged, "offset commit failed"), what="the offset commit to fail")
            wait_until(lambda: logged(warnings_logged, "broker unavailable"), what="the relay to find the broker away")
            own_kafka.start()
            wait_until(lambda: committed(bootstrap, c.group_id).get(0) == 10, timeout=120,
                       what="every offset committed after the restart")
            wait_until(lambda: relay.pending() == 0, timeout=60, what="the outbox published after the restart")
    finally:
        relay.stop(10)
        producer.close(timeout=5)
    assert db.effects_in_order() == ids  # none skipped, none twice
    with db.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.max(db.outbox.c.attempts))).scalar_one() == 0
    published = [header(r, "ce_id") for r in read_topic(bootstrap, published_topic, expect=len(rows))]
    assert set(published) == set(rows)  # at least once each
    firsts = list(dict.fromkeys(published))
    assert firsts == rows  # in the order written (one partition)


def test_a_row_the_broker_refuses_fails_after_the_bound_and_the_rows_after_it_go_out_in_order(
        counting, kafka_bootstrap, topic_prefix, producer):
    db = counting()
    small_topic = f"{topic_prefix}.small.v1"
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap.split(","))
    admin.create_topics([NewTopic(small_topic, 1, 1, topic_configs={"max.message.bytes": "2048"})])
    admin.close()
    outbox = Outbox(db.outbox, source=f"/ot/{TENANT}/test", tenant=TENANT)
    with db.sessions.begin() as s:
        def add(key, size=10):
            return outbox.add(s, topic=small_topic, ce_type="ot.test.out.v1", subject=key,
                              message=wrappers_pb2.StringValue(value="x" * size))
        a1, big, a2, b1 = add("a"), add("a", size=5000), add("a"), add("b")

    lock_probe = sa.create_engine(db.url)
    locked_during_send = []

    class Probing:
        """Checks, while the relay sends, that another transaction can lock the rows."""

        def send(self, topic, **kwargs):
            try:
                with lock_probe.begin() as c:
                    c.execute(sa.text("SELECT id FROM outbox FOR UPDATE NOWAIT")).all()
            except sa.exc.OperationalError:
                locked_during_send.append(topic)
            return producer.send(topic, **kwargs)

        def __getattr__(self, name):
            return getattr(producer, name)

    failed_before = REGISTRY.get_sample_value("ot_outbox_failed_total", {"topic": small_topic}) or 0
    relay = OutboxRelay(db.engine, db.outbox, Probing(), source=f"/ot/{TENANT}/test", tenant=TENANT, max_attempts=3)
    for _ in range(6):
        relay.publish_batch()
    lock_probe.dispose()
    assert relay.pending() == 0
    with db.engine.connect() as c:
        row = c.execute(sa.select(db.outbox).where(db.outbox.c.event_id == big)).one()
    assert row.failed_at is not None and row.published_at is None and row.attempts == 3
    assert row.last_error.startswith("MessageSizeTooLargeError")
    assert REGISTRY.get_sample_value("ot_outbox_failed_total", {"topic": small_topic}) == failed_before + 1
    published = [header(r, "ce_id") for r in read_topic(kafka_bootstrap, small_topic, expect=3)]
    assert published == [a1, b1, a2]  # a2 waited behind the refused row of its key, then went
    assert locked_during_send == []  # no row lock was held across a send


def test_two_relays_never_publish_the_same_row(counting, kafka_bootstrap, topic_prefix):
    db = counting()
    topic = f"{topic_prefix}.pair.v1"
    ensure_topics(kafka_bootstrap, [topic], partitions=3)
    outbox = Outbox(db.outbox, source=f"/ot/{TENANT}/test", tenant=TENANT)
    with db.sessions.begin() as s:
        rows = [outbox.add(s, topic=topic, ce_type="ot.test.out.v1", subject=f"case-{i % 5}",
                           message=wrappers_pb2.StringValue(value=str(i))) for i in range(60)]
    producers = [make_producer(kafka_bootstrap, f"relay-{i}") for i in range(2)]
    relays = [OutboxRelay(db.engine, db.outbox, p, source=f"/ot/{TENANT}/test", tenant=TENANT, batch_size=7,
                          poll_seconds=0.01) for p in producers]
    for relay in relays:
        relay.start()
    try:
        wait_until(lambda: relays[0].pending() == 0, what="the outbox published")
    finally:
        for relay, p in zip(relays, producers):
            relay.stop(10)
            p.close(timeout=5)
    records = read_topic(kafka_bootstrap, topic, expect=60, settle=2.0)
    ids = [header(r, "ce_id") for r in records]
    assert sorted(ids) == sorted(rows)  # each exactly once
    for key in {header(r, "ce_subject") for r in records}:  # each case in the order written
        assert [header(r, "ce_id") for r in records if header(r, "ce_subject") == key] == \
            [e for i, e in enumerate(rows) if f"case-{i % 5}" == key]


def test_two_members_on_one_record_at_once_run_its_handler_once(counting, kafka_bootstrap, topics, producer):
    """A rebalance can hand a record to a second member while the first is still inside its
    transaction. The inbox row is written first, so the second member's insert waits for the
    first's commit and then finds the row: the handler runs once, and the second reports a repeat
    (when the inbox was checked first and written last, the second member ran the handler too)."""
    db = counting()
    first, second = (consumer_for(db, kafka_bootstrap, topics, producer) for _ in range(2))
    event, message = counted("0")
    event_id = event.id
    handler = first.handlers[COUNTED]
    inside, release = threading.Event(), threading.Event()

    def hold_the_first_call():
        if not inside.is_set():
            inside.set()
            assert release.wait(20)
    db.faults[event_id] = hold_the_first_call
    outcomes: dict[str, str] = {}

    def apply(name, member):
        outcomes[name] = member._apply(event, handler, message)
    try:
        threads = {"first": threading.Thread(target=apply, args=("first", first))}
        threads["first"].start()
        assert inside.wait(20), f"the first member never reached the handler: {outcomes}"
        threads["second"] = threading.Thread(target=apply, args=("second", second))
        threads["second"].start()
        threads["second"].join(1.0)
        assert threads["second"].is_alive(), "the second member did not wait for the first's transaction"
        release.set()
        for thread in threads.values():
            thread.join(20)
        assert outcomes == {"first": "processed", "second": "duplicate"}
        assert db.calls == [event_id]
        assert db.effects_in_order() == [event_id]
    finally:
        release.set()
        for member in (first, second):
            member.consumer.close()
