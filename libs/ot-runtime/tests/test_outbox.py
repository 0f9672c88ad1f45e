"""The outbox relay on SQLite with a producer that can refuse records or lose the broker."""
from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from google.protobuf import wrappers_pb2
from kafka.errors import (KafkaConnectionError, KafkaTimeoutError, MessageSizeTooLargeError,
                          TopicAuthorizationFailedError)
from prometheus_client import REGISTRY

from ot_runtime.db import create_engine, outbox_table, session_factory, utcnow
from ot_runtime.outbox import Outbox, OutboxRelay

TENANT = "pohjois-savo"
TOPIC = "ot.pohjois-savo.outbox-test.v1"


class Future:
    def __init__(self, producer, record, error):
        self.producer, self.record, self.error = producer, record, error

    @property
    def is_done(self):
        return not self.producer.stalled

    def get(self, timeout=None):
        if self.producer.stalled:  # the broker went away after the send: the producer still retries it
            raise KafkaTimeoutError("Timeout after waiting for 15 secs.")
        if self.producer.hold is not None:
            self.producer.holding.set()
            assert self.producer.hold.wait(10)
        self.producer.unresolved.discard(self.record["key"])
        if self.error:
            raise self.error
        self.producer.acked.append(self.record["event_id"])


class Producer:
    """`refuse(record)` gives the broker's refusal of a record (or None); `refuse_at_send` the
    client's; `down` makes every send fail as with an unreachable broker. `out_of_order` lists a
    record sent while an earlier one of its key had no answer yet."""

    def __init__(self, refuse=None, refuse_at_send=None):
        self.refuse = refuse or (lambda record: None)
        self.refuse_at_send = refuse_at_send or (lambda record: None)
        self.down = None  # None, "at_send" or "in_flight"
        self.sent: list[str] = []
        self.acked: list[str] = []
        self.unresolved: set[bytes] = set()
        self.out_of_order: list[str] = []
        self.hold: threading.Event | None = None
        self.stalled = False
        self.holding = threading.Event()

    def send(self, topic, key=None, value=None, headers=None):
        record = {"topic": topic, "key": key, "value": value, "event_id": dict(headers)["ce_id"].decode()}
        if self.down == "at_send":
            raise KafkaTimeoutError("Failed to update metadata after 60.0 secs.")
        error = self.refuse_at_send(record)
        if error:
            raise error
        if key in self.unresolved:
            self.out_of_order.append(record["event_id"])
        self.unresolved.add(key)
        self.sent.append(record["event_id"])
        if self.down == "in_flight":
            return Future(self, record, KafkaConnectionError("connection reset"))
        return Future(self, record, self.refuse(record))


class Db:
    def __init__(self, tmp_path):
        self.engine = create_engine(f"sqlite:///{tmp_path}/outbox.db")
        self.metadata = sa.MetaData()
        self.table = outbox_table(self.metadata)
        self.metadata.create_all(self.engine)
        self.outbox = Outbox(self.table, source=f"/ot/{TENANT}/test", tenant=TENANT)
        self.sessions = session_factory(self.engine)

    def add(self, key: str, size: int = 10) -> str:
        with self.sessions.begin() as s:
            return self.outbox.add(s, topic=TOPIC, ce_type="ot.test.happened.v1", subject=key,
                                   message=wrappers_pb2.StringValue(value="x" * size))

    def relay(self, producer, **kwargs) -> OutboxRelay:
        return OutboxRelay(self.engine, self.table, producer, source=f"/ot/{TENANT}/test", tenant=TENANT, **kwargs)

    def row(self, event_id: str):
        with self.engine.connect() as c:
            return c.execute(sa.select(self.table).where(self.table.c.event_id == event_id)).one()


@pytest.fixture()
def db(tmp_path):
    d = Db(tmp_path)
    yield d
    d.engine.dispose()


def metric(name: str, labels: dict | None = None) -> float:
    return REGISTRY.get_sample_value(name, labels or {}) or 0.0


def test_rows_go_out_oldest_first_and_a_keys_rows_one_after_another(db):
    a1, b1, a2, c1, a3 = db.add("a"), db.add("b"), db.add("a"), db.add("c"), db.add("a")
    producer = Producer()
    assert db.relay(producer).publish_batch() == 5
    # Distinct keys went out together; each of a's rows only once the one before it was acked.
    assert producer.sent == [a1, b1, c1, a2, a3]
    assert producer.out_of_order == []
    assert all(db.row(e).published_at for e in (a1, b1, a2, c1, a3))


@pytest.mark.parametrize("where", ["broker", "client"])
def test_a_refused_row_fails_after_the_bound_and_the_rows_after_it_go_on(db, where):
    big = 5000
    a1, b1, a2 = db.add("a", size=big), db.add("b"), db.add("a")
    too_large = (lambda r: MessageSizeTooLargeError() if len(r["value"]) > big else None)
    producer = Producer(**{"refuse" if where == "broker" else "refuse_at_send": too_large})
    relay = db.relay(producer, max_attempts=3)
    failed_before = metric("ot_outbox_failed_total", {"topic": TOPIC})

    assert relay.publish_batch() == 1  # b1; a2 waits behind a1
    assert db.row(a1).attempts == 1 and db.row(a1).failed_at is None and db.row(a2).published_at is None
    assert relay.publish_batch() == 0
    assert relay.publish_batch() == 0  # third refusal: a1 fails for good
    failed = db.row(a1)
    assert failed.attempts == 3 and failed.failed_at is not None and failed.published_at is None
    assert failed.last_error.startswith("MessageSizeTooLargeError: ")
    assert "xxxx" not in failed.last_error  # the reason, never the payload
    assert relay.publish_batch() == 1  # now a2
    assert db.row(a2).published_at is not None
    assert producer.acked == [b1, a2] and producer.out_of_order == []
    assert metric("ot_outbox_failed_total", {"topic": TOPIC}) == failed_before + 1
    assert relay.pending() == 0 and metric("ot_outbox_failed_rows") == 1


def test_a_topic_the_service_may_not_write_is_a_refusal_too(db):
    e = db.add("a")
    relay = db.relay(Producer(refuse=lambda r: TopicAuthorizationFailedError()), max_attempts=2)
    relay.publish_batch()
    relay.publish_batch()
    assert db.row(e).failed_at is not None and db.row(e).last_error.startswith("TopicAuthorizationFailedError")


@pytest.mark.parametrize("down", ["at_send", "in_flight"])
def test_an_unreachable_broker_counts_no_attempt_and_loses_nothing(db, down):
    ids = [db.add(k) for k in "abab"]
    producer = Producer()
    producer.down = down
    relay = db.relay(producer, max_attempts=2)
    for _ in range(5):
        assert relay.publish_batch() == 0
    assert all(db.row(e).attempts == 0 and db.row(e).failed_at is None for e in ids)
    assert relay.pending() == 4
    producer.down = None
    while relay.publish_batch():
        pass
    assert producer.acked == ids and relay.pending() == 0 and producer.out_of_order == []


def test_failed_rows_can_be_requeued_once_the_cause_is_fixed(db):
    e = db.add("a", size=100)
    producer = Producer(refuse=lambda r: MessageSizeTooLargeError())
    relay = db.relay(producer, max_attempts=1)
    relay.publish_batch()
    assert db.row(e).failed_at is not None and relay.pending() == 0
    producer.refuse = lambda r: None
    assert relay.requeue_failed([e]) == 1
    assert relay.publish_batch() == 1 and db.row(e).published_at is not None
    assert metric("ot_outbox_failed_rows") == 0


def test_one_relay_publishes_at_a_time_and_holds_no_transaction_while_it_sends(db):
    first_rows = [db.add("a"), db.add("b")]
    slow = Producer()
    slow.hold = threading.Event()
    first, second = db.relay(slow), db.relay(Producer())
    worker = threading.Thread(target=first.publish_batch)
    worker.start()
    assert slow.holding.wait(10)  # the first relay is waiting for the broker's ack
    # Meanwhile the outbox takes new rows (no lock is held) but the second relay keeps off.
    later = db.add("c")
    assert second.publish_batch() == 0 and second.producer.sent == []
    slow.hold.set()
    worker.join(10)
    assert slow.acked == first_rows
    # The lease went back with the batch: the other replica goes on at once.
    assert second.publish_batch() == 1 and second.producer.acked == [later]


def test_a_relay_that_died_mid_batch_is_taken_over_when_its_lease_runs_out(db):
    ids = [db.add("a"), db.add("a")]
    dead = db.relay(Producer())
    assert len(dead._claim()) == 2  # took the lease and the batch, then died
    survivor = db.relay(Producer())
    assert survivor.publish_batch() == 0
    lease = dead.lease
    with db.engine.begin() as c:  # as if lease_seconds had passed
        c.execute(lease.update().values(expires_at=utcnow() - timedelta(seconds=1)))
    assert survivor.publish_batch() == 2 and survivor.producer.acked == ids


class FatalState:
    def has_fatal_error(self):
        return True


def test_a_producer_in_a_fatal_state_is_not_blamed_on_the_rows(db):
    # kafka-python 3's idempotent producer, after one refusal, fails every later send with it.
    ids = [db.add("a"), db.add("b")]
    producer = Producer(refuse=lambda r: MessageSizeTooLargeError())
    producer._transaction_manager = FatalState()
    relay = db.relay(producer, max_attempts=1)
    for _ in range(3):
        assert relay.publish_batch() == 0
    assert all(db.row(e).attempts == 0 and db.row(e).failed_at is None for e in ids)


def test_a_send_the_producer_still_retries_is_awaited_and_not_sent_again(db):
    first, second = db.add("a"), db.add("a")
    producer = Producer()
    producer.stalled = True
    relay = db.relay(producer)
    for _ in range(3):
        assert relay.publish_batch() == 0
    assert producer.sent == [first]  # once, however many rounds the outage lasts
    producer.stalled = False
    assert relay.publish_batch() == 2
    assert producer.sent == [first, second] and db.row(first).attempts == 0


def wait_for(condition, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_a_commit_wakes_the_relay_instead_of_waiting_for_its_poll(db):
    """A relay polling once an hour still publishes a committed event at once: the commit wakes it.
    A rolled-back transaction wakes nobody and publishes nothing."""
    producer = Producer()
    relay = db.relay(producer, poll_seconds=3600)
    relay.start()
    try:
        assert wait_for(lambda: relay._wake.is_set() is False and relay._thread.is_alive())
        time.sleep(0.2)  # the relay has done its first (empty) round and is waiting out its poll
        with pytest.raises(RuntimeError):
            with db.sessions.begin() as s:
                db.outbox.add(s, topic=TOPIC, ce_type="ot.test.happened.v1", subject="gone",
                              message=wrappers_pb2.StringValue(value="x"))
                raise RuntimeError("the handler failed: the transaction rolls back")
        event_id = db.add("a")
        assert wait_for(lambda: producer.acked == [event_id]), "the committed event was not published"
    finally:
        relay.stop()
    assert producer.sent == [event_id]
