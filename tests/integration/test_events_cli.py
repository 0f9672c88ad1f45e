"""`ot-events tail` (the console script people run) against the real Kafka: events written the way
the outbox relay writes them, read from the start or only new ones, case content never shown,
Ctrl-C ends it."""
from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import pytest
from ot.common.v1 import case_pb2
from ot.events.v1 import intake_events_pb2 as intake

from ot_runtime.cloudevents import CloudEvent
from ot_runtime.kafka import ensure_topics, make_producer
from ot_runtime.protoconv import ts

OT_EVENTS = str(Path(sys.executable).parent / "ot-events")
READY_SECONDS = 60
CIPHERTEXT = b"\x01\x02sealed case content, never to be shown\x03" * 4


@pytest.fixture()
def topic(kafka_bootstrap, topic_prefix) -> str:
    name = f"{topic_prefix}.intake.v1"
    ensure_topics(kafka_bootstrap, [name])
    return name


@pytest.fixture()
def publish(kafka_bootstrap, topic):
    producer = make_producer(kafka_bootstrap, "it-events-cli")

    def send(ce_type: str, payload: bytes) -> str:
        request_id = str(uuid.uuid4())
        event = CloudEvent(id=str(uuid.uuid4()), type=ce_type, source="/ot/pohjois-savo/intake", subject=request_id,
                           tenant="pohjois-savo", time=datetime.now(timezone.utc),
                           dataschema="proto:ot.events.v1.RequestSubmitted", data=payload)
        producer.send(topic, key=request_id.encode(), value=payload, headers=event.headers()).get(timeout=30)
        return event.id

    yield send
    producer.close()


def submitted() -> bytes:
    return intake.RequestSubmitted(request_id=str(uuid.uuid4()), tenant="pohjois-savo",
                                   type=case_pb2.REQUEST_TYPE_OT_TUKI, submitted_at=ts(datetime.now(timezone.utc)),
                                   sealed_content=CIPHERTEXT).SerializeToString()


@contextmanager
def sigint_as_in_a_terminal():
    """Start a child that Ctrl-C reaches, as the command in a terminal's foreground. A shell that
    runs the tests in the background (`make test &`, nohup) has them ignore SIGINT and a child
    inherits that; a handler, unlike SIG_IGN, is reset to the default by exec. (Not preexec_fn:
    unsafe with the producers' threads running.)"""
    ignored = signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    if ignored:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        if ignored:
            signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.fixture()
def tail(kafka_bootstrap):
    """Start `ot-events tail`; one still running when the test ends (a failed test) is killed, so
    that it does not outlive the tests holding a connection to the broker."""
    started: list[subprocess.Popen] = []

    def start(*args: str) -> subprocess.Popen:
        env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap}
        with sigint_as_in_a_terminal():
            process = subprocess.Popen([OT_EVENTS, "tail", *args], env=env, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True)
        started.append(process)
        # Printed once its start position is fixed; a tail that never gets there (no broker) fails
        # the test instead of hanging the run, and the teardown below kills it.
        if not select.select([process.stderr], [], [], READY_SECONDS)[0]:
            pytest.fail(f"ot-events tail printed nothing in {READY_SECONDS} s")
        ready = process.stderr.readline()
        assert "Ctrl-C" in ready, ready + process.stderr.read()
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.communicate()


def test_from_the_beginning_it_shows_every_event_decoded_and_no_case_content(tail, topic, publish):
    known = publish("ot.intake.request.submitted.v1", submitted())
    unknown = publish("ot.intake.not.yet.known.v1", b"\x00" * 11)
    process = tail(topic, "--from-beginning", "--max", "2")
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert f"id      {known}" in out and f"id      {unknown}" in out
    assert '"type": "REQUEST_TYPE_OT_TUKI"' in out
    assert f'"sealed_content": "<encrypted, {len(CIPHERTEXT)} bytes>"' in out
    assert "payload <unknown type, 11 bytes>" in out
    assert "never to be shown" not in out + err


def test_by_default_it_shows_only_events_that_arrive_after_it_started(tail, topic, publish):
    old = publish("ot.intake.request.submitted.v1", submitted())
    process = tail(topic, "--max", "1")
    new = publish("ot.intake.request.submitted.v1", submitted())
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert f"id      {new}" in out and old not in out


def test_ctrl_c_stops_it_cleanly(tail, topic):
    process = tail(topic)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0
    assert "Traceback" not in err and out == ""


def test_a_topic_that_does_not_exist_is_named_and_not_created(kafka_bootstrap, topic_prefix):
    missing = f"{topic_prefix}.nothing.v1"
    done = subprocess.run([OT_EVENTS, "tail", missing, "--bootstrap", kafka_bootstrap], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 1
    assert f"no topic {missing}" in done.stderr
    again = subprocess.run([OT_EVENTS, "tail", missing, "--bootstrap", kafka_bootstrap], capture_output=True,
                           text=True, timeout=120)
    assert f"no topic {missing}" in again.stderr  # the first look did not create it
