"""How fast a service's consumer group gets going again (ot_runtime.service.consumer_membership):
after a crash the restarted process, under the same instance id, takes its partitions back without
waiting out the dead member's session; after a clean stop the member leaves, so a replacement with
another id does not wait either. The sessions here are a minute long: processing within half of
that is only possible when the group did not wait for it."""
from __future__ import annotations

import signal
import subprocess
import sys
from types import SimpleNamespace

import pytest
from google.protobuf import wrappers_pb2

from ot_runtime.consumer import EventConsumer, Handler
from ot_runtime.kafka import ensure_topics, make_producer
from ot_runtime.service import consumer_membership

from conftest import wait_until
from test_delivery_faults import (COUNTED, TENANT, Running, consumer_for, counting, produce,  # noqa: F401 (fixtures)
                                  topics, warnings_of)

SESSION = {"session_timeout_ms": 60000, "heartbeat_interval_ms": 3000}

# A member that crashes: joins the group as a static member, says when it has its partition,
# and is then killed with SIGKILL (no LeaveGroup, no last heartbeat).
CRASHING_MEMBER = r"""
import sys, time
from kafka import KafkaConsumer
bootstrap, topic, group, instance = sys.argv[1:5]
c = KafkaConsumer(topic, bootstrap_servers=bootstrap.split(","), group_id=group, group_instance_id=instance,
                  enable_auto_commit=False, session_timeout_ms=60000, heartbeat_interval_ms=3000)
while True:
    c.poll(timeout_ms=200)
    if c.assignment():
        print("assigned", flush=True)
        time.sleep(3600)
"""


@pytest.fixture()
def producer(kafka_bootstrap):
    p = make_producer(kafka_bootstrap, "membership-test")
    yield p
    p.close(timeout=5)


def test_a_crashed_member_restarted_under_its_instance_id_resumes_at_once(counting, kafka_bootstrap, topics,
                                                                           producer):
    db = counting()
    ensure_topics(kafka_bootstrap, list(topics.values()), partitions=1)
    group = f"{topics['events']}.g"
    crashed = subprocess.Popen([sys.executable, "-c", CRASHING_MEMBER, kafka_bootstrap, topics["events"], group,
                                "replica-1"], stdout=subprocess.PIPE, text=True)
    try:
        assert crashed.stdout.readline().strip() == "assigned"
    finally:
        crashed.send_signal(signal.SIGKILL)
        crashed.wait(10)
    ids = produce(kafka_bootstrap, topics["events"], 3)
    restarted = consumer_for(db, kafka_bootstrap, topics, producer, group=group,
                             kafka_config={**SESSION, "group_instance_id": "replica-1"})
    with Running(restarted):
        wait_until(lambda: db.processed_once(ids), timeout=30, what="the restarted member to take its partition back")


def test_a_member_that_stops_cleanly_leaves_so_another_takes_over_at_once(counting, kafka_bootstrap, topics,
                                                                         producer):
    db = counting()
    ensure_topics(kafka_bootstrap, list(topics.values()), partitions=1)
    group = f"{topics['events']}.g"
    first_ids = produce(kafka_bootstrap, topics["events"], 2)
    with Running(consumer_for(db, kafka_bootstrap, topics, producer, group=group,
                              kafka_config={**SESSION, "group_instance_id": "pod-a"})):
        wait_until(lambda: db.processed_once(first_ids), what="the first member to process")
    # A rollout: pod-a stopped (SIGTERM), its replacement has another name.
    later_ids = produce(kafka_bootstrap, topics["events"], 2)
    with Running(consumer_for(db, kafka_bootstrap, topics, producer, group=group,
                              kafka_config={**SESSION, "group_instance_id": "pod-b"})):
        wait_until(lambda: db.processed_once(first_ids + later_ids), timeout=30,
                   what="the replacement to take over without waiting out pod-a's session")


def test_a_consumer_started_right_after_its_topics_are_created_is_assigned_every_partition_at_its_first_join(
        counting, kafka_bootstrap, topics, producer):
    """As a service starts (ot_runtime.service.wire): ensure_topics, then the consumer. kafka-python
    joins the group as soon as it has bootstrapped; a leader that did not know a topic yet assigned
    nobody its partitions ("No partition metadata for topic ...") and the member waited for a later
    metadata change to rejoin, in CI once for over a minute. Now the consumer learns its topics
    before its first poll (EventConsumer._learn_topics)."""
    db = counting()
    with warnings_of("kafka.coordinator.assignors") as assignor_warnings:
        for round_ in range(3):
            subscribed = [f"{topics['events']}.r{round_}a", f"{topics['events']}.r{round_}b"]
            ensure_topics(kafka_bootstrap, [*subscribed, topics["dlt"]], partitions=3)
            consumer = EventConsumer(
                bootstrap_servers=kafka_bootstrap, topics=subscribed, group_id=f"{subscribed[0]}.g", tenant=TENANT,
                sessions=db.sessions, inbox=db.inbox, handlers={COUNTED: Handler(wrappers_pb2.StringValue, db.handle)},
                producer=producer, dead_letter_topic=topics["dlt"], poll_timeout_ms=200)
            with Running(consumer):
                wait_until(lambda: len(consumer.consumer.assignment() or ()) == 6, timeout=30,
                           what="the consumer to be assigned all six partitions")
    assert not [w for w in assignor_warnings if "No partition metadata" in w], assignor_warnings


def test_a_subscribed_topic_created_after_the_group_formed_is_consumed_within_seconds(counting, kafka_bootstrap,
                                                                                       topics, producer):
    """A service may start before a topic it reads exists (another area's release declares it
    later). The consumer waits a bounded time for it (EventConsumer._learn_topics), joins without
    it, and takes its partitions seconds after it appears: kafka-python asks again for a subscribed
    topic it could not find at its retry backoff, not at the metadata age (five minutes)."""
    db = counting()
    late = f"{topics['events']}.late"
    ensure_topics(kafka_bootstrap, [topics["events"], topics["dlt"]], partitions=1)
    settings = SimpleNamespace(service_name="membership-test", consumer_instance_id="")
    consumer = EventConsumer(
        bootstrap_servers=kafka_bootstrap, topics=[topics["events"], late], group_id=f"{topics['events']}.g",
        tenant=TENANT, sessions=db.sessions, inbox=db.inbox,
        handlers={COUNTED: Handler(wrappers_pb2.StringValue, db.handle)}, producer=producer,
        dead_letter_topic=topics["dlt"], poll_timeout_ms=200, kafka_config=consumer_membership(settings))
    with Running(consumer):
        wait_until(lambda: {tp.topic for tp in consumer.consumer.assignment() or ()} == {topics["events"]},
                   timeout=30, what="the consumer to join with the one topic that exists")
        ensure_topics(kafka_bootstrap, [late], partitions=1)
        ids = produce(kafka_bootstrap, late, 2)
        wait_until(lambda: db.processed_once(ids), timeout=25,
                   what="the events of the topic created after the group formed to be consumed")
