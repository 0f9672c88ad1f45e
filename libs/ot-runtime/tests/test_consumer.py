"""The inbox consumer's delivery guarantees, against an in-memory broker that behaves like Kafka
where it matters here: poll() moves the position past the whole batch it returns, seek() moves it
back, and only commit() is remembered for the group."""
from __future__ import annotations

import threading
import uuid
from collections import namedtuple
from datetime import datetime, timezone

import grpc
import pytest
import sqlalchemy as sa
from google.protobuf import wrappers_pb2
from kafka.errors import KafkaConnectionError, KafkaTimeoutError
from kafka.structs import TopicPartition
from sqlalchemy import exc as sa_exc

from ot_runtime import consumer as consumer_module
from ot_runtime.cloudevents import CloudEvent
from ot_runtime.consumer import (PERMANENT, TRANSIENT, UNEXPECTED, EventConsumer, Handler, Poison, classify)
from ot_runtime.db import create_engine, inbox_table, session_factory
from ot_runtime.errors import FailedPrecondition, NotFound, Unavailable

TENANT = "pohjois-savo"
TOPIC = "ot.pohjois-savo.intake.v1"
DLT = "ot.pohjois-savo.test.dlt.v1"
COUNTED = "ot.test.counted.v1"
Record = namedtuple("Record", "topic partition offset key value headers")


class FakeBroker:
    """Partitions of records and the group's committed offsets."""

    def __init__(self, partitions: int = 1):
        self.logs = {TopicPartition(TOPIC, p): [] for p in range(partitions)}
        self.committed: dict[TopicPartition, int] = {}
        self.consumer_config: dict = {}

    def append(self, partition: int, key: bytes | None, value: bytes | None, headers) -> None:
        tp = TopicPartition(TOPIC, partition)
        self.logs[tp].append(Record(TOPIC, partition, len(self.logs[tp]), key, value, headers))

    def consumer(self, *topics, **config):
        self.consumer_config = config
        return FakeKafkaConsumer(self)


class FakeKafkaConsumer:
    def __init__(self, broker: FakeBroker):
        self.broker = broker
        self.position = {tp: broker.committed.get(tp, 0) for tp in broker.logs}
        self.fail_commits = False
        self.calls: list[str] = []  # "metadata <topic>" and "poll", in order
        self.invisible_topics: set[str] = set()  # not in the broker's metadata (not created yet)

    def partitions_for_topic(self, topic):
        self.calls.append(f"metadata {topic}")
        if topic in self.invisible_topics:
            return set()
        return {tp.partition for tp in self.broker.logs if tp.topic == topic}

    def poll(self, timeout_ms=0, max_records=100):
        self.calls.append("poll")
        out = {}
        for tp, log in self.broker.logs.items():
            batch = log[self.position[tp]:self.position[tp] + max_records]
            if batch:
                out[tp] = batch
                self.position[tp] += len(batch)  # as Kafka: past the whole batch
        return out

    def seek(self, tp, offset):
        if tp not in self.position:
            raise ValueError("Unassigned partition")
        self.position[tp] = offset

    def commit(self, offsets, timeout_ms=None):
        if self.fail_commits:
            raise KafkaTimeoutError("commit timed out")
        for tp, meta in offsets.items():
            self.broker.committed[tp] = meta.offset

    def close(self, *args, **kwargs):
        pass


class Sent:
    def __init__(self, error: Exception | None):
        self.error = error

    def get(self, timeout=None):
        if self.error:
            raise self.error


class FakeProducer:
    """Dead-letter sends; `failing` sends fail, each failure noted with what was committed then."""

    def __init__(self, broker: FakeBroker):
        self.broker = broker
        self.sent: list[dict] = []
        self.failing = 0
        self.seen_while_failing: list = []

    def send(self, topic, key=None, value=None, headers=None):
        if self.failing:
            self.failing -= 1
            self.seen_while_failing.append(dict(self.broker.committed))
            return Sent(KafkaConnectionError("dead-letter topic unreachable"))
        self.sent.append({"topic": topic, "key": key, "value": value, "headers": dict(headers)})
        return Sent(None)


def event_headers(event_id: str, tenant: str = TENANT, ce_type: str = COUNTED):
    return CloudEvent(id=event_id, type=ce_type, source="/ot/test", subject="case-1", tenant=tenant,
                      time=datetime.now(timezone.utc), dataschema="proto:google.protobuf.StringValue",
                      data=b"").headers()


class Fixture:
    """A consumer over the fake broker and a SQLite database whose `effects` table gets one row
    per processing of an event: exactly once means one row per event id."""

    def __init__(self, tmp_path, monkeypatch, partitions=1, **consumer_args):
        self.broker = FakeBroker(partitions)
        monkeypatch.setattr(consumer_module, "KafkaConsumer", self.broker.consumer)
        self.engine = create_engine(f"sqlite:///{tmp_path}/consumer.db")
        metadata = sa.MetaData()
        self.inbox = inbox_table(metadata)
        self.effects = sa.Table("effects", metadata, sa.Column("seq", sa.Integer, primary_key=True),
                                sa.Column("event_id", sa.String(36), nullable=False),
                                sa.Column("amount", sa.Integer, sa.CheckConstraint("amount >= 0"), nullable=False))
        metadata.create_all(self.engine)
        self.producer = FakeProducer(self.broker)
        self.faults: dict[str, list] = {}  # event id -> exceptions to raise, one per attempt
        self.always: dict[str, Exception] = {}  # event id -> raised on every attempt
        self.calls: list[str] = []
        self.ids: list[str] = []
        args = {"retry_initial_seconds": 0.001, "retry_max_seconds": 0.002, **consumer_args}
        self.consumer = EventConsumer(
            bootstrap_servers="fake:9092", topics=[TOPIC], group_id="ot.test.group", tenant=TENANT,
            sessions=session_factory(self.engine), inbox=self.inbox,
            handlers={COUNTED: Handler(wrappers_pb2.StringValue, self.handle)}, producer=self.producer,
            dead_letter_topic=DLT, **args)

    def handle(self, session, event, message):
        self.calls.append(event.id)
        session.execute(self.effects.insert().values(event_id=event.id, amount=int(message.value or 0)))
        if event.id in self.always:
            raise self.always[event.id]
        if self.faults.get(event.id):
            raise self.faults[event.id].pop(0)

    def publish(self, count: int, partition: int = 0, amount: int = 1) -> list[str]:
        ids = []
        for _ in range(count):
            event_id = str(uuid.uuid4())
            self.broker.append(partition, b"case-1", wrappers_pb2.StringValue(value=str(amount)).SerializeToString(),
                               event_headers(event_id))
            ids.append(event_id)
        self.ids += ids
        return ids

    def drain(self, polls: int = 50) -> None:
        for _ in range(polls):
            self.consumer.poll_once()

    def effects_in_order(self) -> list[str]:
        with self.engine.connect() as c:
            return list(c.execute(sa.select(self.effects.c.event_id).order_by(self.effects.c.seq)).scalars())

    def committed(self, partition: int = 0) -> int | None:
        return self.broker.committed.get(TopicPartition(TOPIC, partition))


@pytest.fixture()
def fx(tmp_path, monkeypatch):
    made = []

    def make(**kwargs):
        made.append(Fixture(tmp_path / str(len(made)), monkeypatch, **kwargs))
        return made[-1]
    yield make
    for f in made:
        f.engine.dispose()


def operational_error():
    return sa_exc.OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))


@pytest.mark.parametrize("error", [ValueError("bug"), Unavailable("consent is down"), operational_error()],
                         ids=["unexpected", "unavailable", "database"])
def test_a_handler_failing_once_skips_nothing(fx, error):
    # The reproduction: four events, the handler raises once on the second.
    f = fx()
    ids = f.publish(4)
    f.faults[ids[1]] = [error]
    f.drain()
    assert f.effects_in_order() == ids  # each exactly once, in order
    assert f.calls.count(ids[1]) == 2
    assert f.committed() == 4
    assert f.producer.sent == []


def test_a_record_failing_for_ever_is_dead_lettered_after_the_bound_and_the_rest_are_processed(fx):
    f = fx(unexpected_attempts=5)
    ids = f.publish(4)
    f.always[ids[1]] = KeyError("Maija Virtanen")
    f.drain()
    assert f.effects_in_order() == [ids[0], ids[2], ids[3]]
    assert f.calls.count(ids[1]) == 5
    [dead] = f.producer.sent
    assert dead["topic"] == DLT and dead["headers"]["ce_id"] == ids[1].encode()
    assert dead["headers"]["ot_dlt_error"] == b"KeyError"
    assert dead["headers"]["ot_dlt_attempts"] == b"5"
    assert dead["headers"]["ot_dlt_offset"] == b"1" and dead["headers"]["ot_dlt_topic"] == TOPIC.encode()
    assert b"KeyError" in dead["headers"]["ot_dlt_reason"]
    assert b"Maija" not in b"".join(dead["headers"].values())  # the message never travels
    assert f.committed() == 4


def test_the_unexpected_bound_holds_when_the_retrying_is_split_over_polls(fx):
    f = fx(retry_round_seconds=0)  # one attempt per poll
    ids = f.publish(2)
    f.always[ids[0]] = ValueError("bug")
    f.drain(polls=10)
    assert f.calls.count(ids[0]) == 5
    assert [d["headers"]["ce_id"] for d in f.producer.sent] == [ids[0].encode()]
    assert f.effects_in_order() == [ids[1]]


def test_passing_trouble_is_retried_as_long_as_it_lasts_and_never_dead_lettered(fx):
    f = fx(retry_round_seconds=0)
    ids = f.publish(3)
    f.faults[ids[1]] = [operational_error() for _ in range(12)]
    f.drain(polls=5)
    assert f.effects_in_order() == [ids[0]] and f.committed() == 1  # waits behind the failing record
    f.drain(polls=20)
    assert f.effects_in_order() == ids
    assert f.calls.count(ids[1]) == 13
    assert f.producer.sent == []


class RuleRefused(FailedPrecondition):
    pass


@pytest.mark.parametrize("error,kind", [
    (NotFound("Pyyntöä ei ole. / No request."), "NotFound"),
    (RuleRefused("Siirto ei käy. / Not allowed.", "STATUS", "request"), "RuleRefused"),
    (Poison("event has no request id"), "Poison"),
])
def test_a_refusal_is_dead_lettered_at_once_with_its_reason(fx, error, kind):
    f = fx()
    ids = f.publish(3)
    f.always[ids[1]] = error
    f.drain()
    assert f.calls.count(ids[1]) == 1
    [dead] = f.producer.sent
    assert dead["headers"]["ot_dlt_error"] == kind.encode()
    assert dead["headers"]["ot_dlt_reason"].decode() == (error.message if hasattr(error, "message") else str(error))
    assert f.effects_in_order() == [ids[0], ids[2]] and f.committed() == 3


def test_a_database_constraint_error_is_dead_lettered_without_the_values(fx):
    f = fx()
    ids = f.publish(1)
    bad = f.publish(1, amount=-7)  # the effects table's CHECK refuses it: IntegrityError
    ids += f.publish(1)
    f.drain()
    [dead] = f.producer.sent
    assert dead["headers"]["ce_id"] == bad[0].encode()
    assert dead["headers"]["ot_dlt_error"] == b"IntegrityError"
    assert dead["headers"]["ot_dlt_reason"].startswith(b"the database refused the change: IntegrityError")
    assert b"-7" not in dead["headers"]["ot_dlt_reason"]
    assert f.effects_in_order() == ids


def test_a_failing_dead_letter_send_advances_nothing_until_it_works(fx):
    f = fx()
    ids = f.publish(4)
    f.always[ids[1]] = Poison("refused")
    f.producer.failing = 6
    f.drain()
    # While the dead-letter topic failed, the offset stayed on the refused record.
    assert f.producer.seen_while_failing == [{TopicPartition(TOPIC, 0): 1}] * 6
    assert [d["headers"]["ce_id"] for d in f.producer.sent] == [ids[1].encode()]  # once
    assert f.effects_in_order() == [ids[0], ids[2], ids[3]] and f.committed() == 4


def test_a_repeated_event_is_a_no_op(fx):
    f = fx()
    [event_id] = f.publish(1)
    f.broker.append(0, b"case-1", wrappers_pb2.StringValue(value="1").SerializeToString(), event_headers(event_id))
    f.drain()
    assert f.effects_in_order() == [event_id] and f.committed() == 2


def test_malformed_and_other_areas_events_are_dead_lettered_and_old_dlt_headers_replaced(fx):
    f = fx()
    f.broker.append(0, b"x", b"not an event", [("ot_dlt_reason", b"an earlier failure")])
    other = str(uuid.uuid4())
    f.broker.append(0, b"x", b"", event_headers(other, tenant="keski-suomi"))
    garbage = str(uuid.uuid4())
    f.broker.append(0, b"x", b"\xff\xff\xff", event_headers(garbage))
    ignored = str(uuid.uuid4())
    f.broker.append(0, b"x", b"", event_headers(ignored, ce_type="ot.someone-else.v1"))
    ok = f.publish(1)
    f.drain()
    reasons = [d["headers"]["ot_dlt_reason"].decode() for d in f.producer.sent]
    assert len(reasons) == 3
    assert "missing CloudEvents headers" in reasons[0]
    assert "keski-suomi" in reasons[1]
    assert "not a valid google.protobuf.StringValue" in reasons[2]
    assert f.effects_in_order() == ok and f.committed() == 5


def test_a_failed_offset_commit_loses_nothing(fx):
    f = fx()
    ids = f.publish(3)
    f.consumer.consumer.fail_commits = True
    f.consumer.poll_once()
    assert f.effects_in_order() == [ids[0]] and f.committed() is None  # done, but not committed
    f.consumer.consumer.fail_commits = False
    f.drain()
    assert f.effects_in_order() == ids and f.committed() == 3
    # A new member of the group starts from the committed offset; had it been the old one, the
    # repeat would have been a no-op.
    f.broker.committed.clear()
    again = EventConsumer(bootstrap_servers="fake:9092", topics=[TOPIC], group_id="ot.test.group", tenant=TENANT,
                          sessions=f.consumer.sessions, inbox=f.inbox, handlers=f.consumer.handlers,
                          producer=f.producer, dead_letter_topic=DLT)
    for _ in range(3):
        again.poll_once()
    assert f.effects_in_order() == ids and f.committed() == 3


def test_other_partitions_go_on_while_one_record_waits(fx):
    f = fx(partitions=2, retry_round_seconds=0)
    stuck = f.publish(2, partition=0)
    flowing = f.publish(3, partition=1)
    f.faults[stuck[0]] = [Unavailable("down") for _ in range(100)]
    f.drain(polls=10)
    assert f.effects_in_order() == flowing
    assert f.committed(0) is None and f.committed(1) == 3
    f.faults[stuck[0]].clear()
    f.drain(polls=2)
    assert f.effects_in_order() == flowing + stuck


def test_stop_cuts_a_backoff_short_and_leaves_the_record(fx):
    f = fx(retry_initial_seconds=3600, retry_max_seconds=3600)
    ids = f.publish(2)
    f.always[ids[0]] = Unavailable("down")
    tried = threading.Event()
    handle = f.consumer.handlers[COUNTED].handle
    f.consumer.handlers[COUNTED] = Handler(wrappers_pb2.StringValue,
                                           lambda s, e, m: (tried.set(), handle(s, e, m)))
    f.consumer.start()
    assert tried.wait(10)
    f.consumer.stop(timeout=10)
    assert not f.consumer._thread.is_alive()  # it did not sit out the hour
    assert f.committed() is None and f.effects_in_order() == []


def test_extra_kafka_settings_are_passed_on_but_cannot_turn_on_auto_commit(fx):
    f = fx(kafka_config={"security_protocol": "SSL", "ssl_cafile": "/etc/ot/ca.pem", "enable_auto_commit": True,
                         "group_id": "another"})
    config = f.broker.consumer_config
    assert config["security_protocol"] == "SSL" and config["ssl_cafile"] == "/etc/ot/ca.pem"
    assert config["enable_auto_commit"] is False and config["group_id"] == "ot.test.group"


class FakeRpcError(grpc.RpcError):
    def __init__(self, code):
        self._code = code

    def code(self):
        return self._code


@pytest.mark.parametrize("error,kind", [
    (operational_error(), TRANSIENT),
    (sa_exc.InterfaceError("SELECT 1", {}, Exception("connection already closed")), TRANSIENT),
    (sa_exc.DBAPIError("SELECT 1", {}, Exception("gone"), connection_invalidated=True), TRANSIENT),
    (sa_exc.TimeoutError("QueuePool limit reached"), TRANSIENT),
    (Unavailable("down"), TRANSIENT),
    (FakeRpcError(grpc.StatusCode.UNAVAILABLE), TRANSIENT),
    (FakeRpcError(grpc.StatusCode.DEADLINE_EXCEEDED), TRANSIENT),
    (sa_exc.IntegrityError("INSERT", {}, Exception("duplicate key")), PERMANENT),
    (sa_exc.DataError("INSERT", {}, Exception("value too long")), PERMANENT),
    (NotFound("no"), PERMANENT),
    (Poison("no"), PERMANENT),
    (FakeRpcError(grpc.StatusCode.INVALID_ARGUMENT), UNEXPECTED),
    (sa_exc.ProgrammingError("SELECT", {}, Exception("no such column")), UNEXPECTED),
    (KeyError("x"), UNEXPECTED),
])
def test_errors_are_classified(error, kind):
    assert classify(error) == kind


def test_the_first_poll_joins_the_group_only_after_every_subscribed_topic_is_known(fx):
    # kafka-python's first poll joins the group; a leader that does not know a topic yet assigns
    # nobody its partitions (seen in CI: a consumer without one topic for over a minute).
    f = fx()
    ids = f.publish(2)
    f.drain(polls=3)
    assert f.consumer.consumer.calls[:2] == [f"metadata {TOPIC}", "poll"]
    assert f.consumer.consumer.calls.count(f"metadata {TOPIC}") == 1  # learnt once, not per poll
    assert f.effects_in_order() == ids


def test_a_topic_not_created_yet_delays_the_join_a_bounded_time_then_the_consumer_goes_on(fx, caplog):
    f = fx()
    f.consumer.consumer.invisible_topics = {TOPIC}
    f.consumer._learn_topics(wait_seconds=0.5)
    asked = f.consumer.consumer.calls.count(f"metadata {TOPIC}")
    assert asked >= 2 and "poll" not in f.consumer.consumer.calls  # it asked again while waiting
    assert any("not visible yet" in r.getMessage() and r.topics == [TOPIC] for r in caplog.records)
    ids = f.publish(1)
    f.drain(polls=2)
    assert f.effects_in_order() == ids  # joined without it, as before
    assert f.consumer.consumer.calls.count(f"metadata {TOPIC}") == asked  # and does not ask again
