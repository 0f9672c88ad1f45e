"""The consumer's figures for the area's alerts (the chart's PrometheusRule): how far behind each
partition is (ot_consumer_lag) and how many records went to the dead-letter topic
(ot_events_dead_lettered_total), over the same in-memory broker as test_consumer.py."""
from __future__ import annotations

import uuid

import pytest
from kafka.structs import TopicPartition
from prometheus_client import REGISTRY

from ot_runtime import consumer as consumer_module
from ot_runtime.consumer import EventConsumer, Poison
from ot_runtime.errors import Unavailable

from test_consumer import DLT, TENANT, TOPIC, FakeKafkaConsumer, Fixture, operational_error

GROUP = "ot.test.group"  # test_consumer.Fixture's group


class _Positions(dict):
    """The fake's positions (a dict, as test_consumer's fake keeps them), also callable as
    KafkaConsumer.position(tp, timeout_ms=...)."""

    def __call__(self, tp, timeout_ms=None):
        return self[tp]


class LagAwareConsumer(FakeKafkaConsumer):
    """The fake broker's consumer plus what the lag is measured from: the assignment, each
    partition's highwater (known once fetched, as in Kafka) and the position."""

    def __init__(self, broker, assigned=None):
        super().__init__(broker)
        self.position = _Positions(self.position)
        self.assigned = set(assigned if assigned is not None else broker.logs)
        self.fetched: set = set()

    def poll(self, timeout_ms=0, max_records=100):
        self.fetched |= self.assigned
        return {tp: batch for tp, batch in super().poll(timeout_ms, max_records).items() if tp in self.assigned}

    def assignment(self):
        return set(self.assigned)

    def highwater(self, tp):
        return len(self.broker.logs[tp]) if tp in self.fetched else None


def lag(partition: int) -> float | None:
    return REGISTRY.get_sample_value("ot_consumer_lag", {"group": GROUP, "topic": TOPIC, "partition": str(partition)})


def dead_lettered(group: str = GROUP) -> float | None:
    return REGISTRY.get_sample_value("ot_events_dead_lettered_total", {"group": group})


@pytest.fixture()
def fx(tmp_path, monkeypatch):
    made = []

    def make(partitions=1, **kwargs):
        f = Fixture(tmp_path / str(len(made)), monkeypatch, partitions=partitions, **kwargs)
        f.consumer.consumer = LagAwareConsumer(f.broker)
        made.append(f)
        return f
    yield make
    for f in made:
        f.engine.dispose()


def test_lag_is_what_waits_behind_a_failing_record_and_falls_to_zero_when_it_passes(fx):
    f = fx(partitions=2, retry_round_seconds=0)  # one attempt per record and poll
    ids = f.publish(4, partition=0)
    f.publish(2, partition=1)
    f.faults[ids[1]] = [operational_error() for _ in range(3)]
    f.consumer.poll_once()
    assert lag(0) == 3  # the failing record and the two behind it
    assert lag(1) == 0
    f.drain(polls=10)
    assert lag(0) == 0 and f.committed(0) == 4
    # New records behind one that keeps failing: the figure grows with them.
    stuck = f.publish(3, partition=0)
    f.always[stuck[0]] = Unavailable("consent is down")
    f.drain(polls=3)
    assert lag(0) == 3


def test_a_partition_no_longer_assigned_loses_its_lag_series(fx):
    f = fx(partitions=2)
    f.publish(1, partition=1)
    f.consumer.poll_once()
    assert lag(1) == 0
    f.consumer.consumer.assigned = {TopicPartition(TOPIC, 0)}  # a rebalance gave partition 1 away
    f.consumer.poll_once()
    assert lag(1) is None and lag(0) == 0


def test_lag_that_cannot_be_measured_never_stops_the_consuming(fx):
    f = fx()
    ids = f.publish(2)

    def broken(tp):
        raise RuntimeError("no metadata")
    f.consumer.consumer.highwater = broken
    f.drain(polls=3)
    assert f.effects_in_order() == ids and f.committed() == 2


def test_each_dead_letter_is_counted_for_the_group(fx):
    f = fx()
    before = dead_lettered()
    ids = f.publish(3)
    f.always[ids[0]] = Poison("refused")
    f.always[ids[2]] = Poison("refused")
    f.drain()
    assert len(f.producer.sent) == 2
    assert dead_lettered() == before + 2


def test_a_failing_dead_letter_send_is_not_counted_until_it_is_sent(fx):
    f = fx()
    before = dead_lettered()
    [event_id] = f.publish(1)
    f.always[event_id] = Poison("refused")
    f.producer.failing = 10 ** 6  # the dead-letter topic never answers in this test
    f.consumer.retry_round_seconds = 0
    f.drain(polls=3)
    assert f.producer.sent == [] and dead_lettered() == before


def test_the_dead_letter_series_exists_at_zero_from_the_start(monkeypatch):
    # A counter series born at 1 shows Prometheus no increase: the alert would miss the first one.
    group = f"ot.test.{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(consumer_module, "KafkaConsumer", lambda *topics, **config: object())
    EventConsumer(bootstrap_servers="fake:9092", topics=[TOPIC], group_id=group, tenant=TENANT, sessions=None,
                  inbox=None, handlers={}, producer=None, dead_letter_topic=DLT)
    assert dead_lettered(group) == 0.0
