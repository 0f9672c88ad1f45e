"""The outbox relay on PostgreSQL hears another replica's commit (LISTEN/NOTIFY) instead of waiting
out its poll, and keeps working after its listening connection is killed."""
from __future__ import annotations

import threading
import time

import sqlalchemy as sa
from google.protobuf import wrappers_pb2

from ot_runtime import outbox as outbox_module
from ot_runtime.db import create_engine, outbox_table, session_factory
from ot_runtime.outbox import Outbox, OutboxRelay

from conftest import TENANT, wait_until

TOPIC = f"ot.{TENANT}.wakeup-test.v1"


class Acking:
    """A producer whose every send is acknowledged at once (the broker is not what is tested)."""

    def __init__(self):
        self.sent: list[str] = []

    def send(self, topic, key=None, value=None, headers=None):
        self.sent.append(dict(headers)["ce_id"].decode())
        return self

    is_done = True

    def get(self, timeout=None):
        return None


def test_a_commit_in_another_replica_wakes_the_relay_and_a_lost_listener_reconnects(make_database):
    url = make_database("outbox")
    writer_engine, relay_engine = create_engine(url), create_engine(url)
    metadata = sa.MetaData()
    table = outbox_table(metadata)
    metadata.create_all(writer_engine)
    outbox = Outbox(table, source=f"/ot/{TENANT}/test", tenant=TENANT)
    sessions = session_factory(writer_engine)
    producer = Acking()
    relay = OutboxRelay(relay_engine, table, producer, source=f"/ot/{TENANT}/test", tenant=TENANT,
                        poll_seconds=3600)

    def add(key: str) -> str:
        with sessions.begin() as s:
            return outbox.add(s, topic=TOPIC, ce_type="ot.test.happened.v1", subject=key,
                              message=wrappers_pb2.StringValue(value="x"))

    def listener_pids() -> set[int]:
        with writer_engine.connect() as c:
            return set(c.execute(sa.text("SELECT pid FROM pg_stat_activity WHERE query LIKE 'LISTEN%' "
                                         "AND datname = current_database()")).scalars())
    relay.start()
    # Another replica: the relay is not in this process's list of relays to wake, so only the
    # database's notification can reach it.
    outbox_module._RELAYS.discard(relay)
    try:
        old = wait_until(listener_pids, what="the relay's LISTEN connection")
        time.sleep(0.3)  # its first, empty round is over: it is waiting out an hour's poll
        first = add("a")
        wait_until(lambda: producer.sent == [first], timeout=20, what="the notified relay to publish")

        # The listening connection dies (a database restart, a pooler): the relay reconnects.
        with writer_engine.connect() as c:
            c.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' "
                              "AND datname = current_database()"))
            c.commit()
        wait_until(lambda: listener_pids() - old, what="the relay to listen again")
        second = add("b")
        wait_until(lambda: producer.sent == [first, second], timeout=20, what="the relay to publish after reconnecting")
    finally:
        relay.stop()
        writer_engine.dispose()
        relay_engine.dispose()
