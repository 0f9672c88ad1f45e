"""The figures the area's alerts watch (the chart's PrometheusRule): every SMTP send the relay did
not take is counted in ot_feedback_smtp_failures_total, by mail (follow_up, notification) and
outcome (refused: retried later; unknown: never re-sent). Here over real SMTP: a local relay (aiosmtpd,
as smtp_sink) that refuses every recipient, and a port where no relay listens."""
from __future__ import annotations

import smtplib
import subprocess
import sys
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from google.protobuf.timestamp_pb2 import Timestamp
from ot.common.v1 import case_pb2
from ot.events.v1 import intake_events_pb2 as iev
from ot.intake.v1 import intake_pb2
from prometheus_client import REGISTRY

from ot_runtime.cloudevents import CloudEvent
from ot_feedback import consumers as ce
from ot_feedback.consumers import event_handlers
from ot_feedback.directory import Contact
from ot_feedback.domain import Category, RequestType, Status
from ot_feedback.mailer import SmtpConfig, SmtpMailer
from ot_feedback.smtp_sink import free_port
from ot_feedback.store import mails, notifications as notices

from feedback_testkit import NOW, PROFESSIONAL, TENANT, worker_emails


def failures(mail: str, outcome: str) -> float | None:
    return REGISTRY.get_sample_value("ot_feedback_smtp_failures_total", {"mail": mail, "outcome": outcome})


class _Refusing:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return "550 5.1.1 Mailbox unavailable"


@pytest.fixture()
def refusing_relay():
    controller = Controller(_Refusing(), hostname="127.0.0.1", port=free_port())
    controller.start()
    yield SmtpMailer(SmtpConfig(host="127.0.0.1", port=controller.port, sender="ot-palaute", timeout_seconds=5))
    controller.stop()


@pytest.fixture()
def worker(directory):
    rid = str(uuid.uuid4())
    directory.contacts[rid] = Contact(worker_emails()[0], withdrawn=False, subject=PROFESSIONAL.subject)
    return rid


def consulted(handlers, request_id: str) -> None:
    with handlers.sessions.begin() as s:
        handlers.on_status_changed(s, request_id=request_id, type_=RequestType.GROUP_CONSULTATION,
                                   categories=[Category.CHALLENGING_DIVORCE], to_status=Status.CONSULTED, changed_at=NOW)


def advice_entry(handlers, notifications, request_id: str) -> None:
    """An advice written in the case, as the consumer hands it over: one notification row."""
    at = Timestamp()
    at.FromDatetime(handlers.clock.now())
    msg = iev.ConversationEntryAdded(request_id=request_id, tenant=TENANT, type=case_pb2.REQUEST_TYPE_GROUP_CONSULTATION,
                                     entry_id=str(uuid.uuid4()), kind=intake_pb2.ENTRY_KIND_ADVICE,
                                     author_role="coordinator", added_at=at)
    event = CloudEvent(id=str(uuid.uuid4()), type=ce.ENTRY_ADDED, source=f"/ot/{TENANT}/test", subject="",
                       tenant=TENANT, time=handlers.clock.now(), dataschema="", data=msg.SerializeToString())
    with handlers.sessions.begin() as s:
        event_handlers(handlers, notifications)[ce.ENTRY_ADDED].handle(s, event, msg)


def test_a_relay_refusing_the_recipient_counts_a_refused_follow_up_and_the_mail_waits(
        handlers, make_scheduler, refusing_relay, clock, worker):
    scheduler = make_scheduler(mailer=refusing_relay)
    consulted(handlers, worker)
    clock.advance(days=60)
    before = failures("follow_up", "refused")
    assert scheduler.run_due().retried == 1
    assert failures("follow_up", "refused") == before + 1
    with handlers.sessions() as s:
        assert s.execute(sa.select(mails.c.state, mails.c.last_error)).one() == ("due", "smtp_SMTPRecipientsRefused")


def test_no_relay_listening_counts_refused_notifications(handlers, notifications, make_scheduler, clock, worker):
    nobody = SmtpMailer(SmtpConfig(host="127.0.0.1", port=free_port(), sender="ot-palaute", timeout_seconds=5))
    scheduler = make_scheduler(mailer=nobody, retry_after=timedelta(minutes=1))
    advice_entry(handlers, notifications, worker)
    before, follow_ups_before = failures("notification", "refused"), failures("follow_up", "refused")
    assert scheduler.run_due().notices.retried == 1
    clock.advance(minutes=1)
    assert scheduler.run_due().notices.retried == 1
    assert failures("notification", "refused") == before + 2
    assert failures("follow_up", "refused") == follow_ups_before  # only the kind that failed
    with handlers.sessions() as s:
        assert s.execute(sa.select(notices.c.state)).scalar_one() == "due"


def test_an_unknown_outcome_is_counted_apart(handlers, make_scheduler, mailer, clock, worker):
    scheduler = make_scheduler()
    consulted(handlers, worker)
    clock.advance(days=60)
    mailer.fail_with = smtplib.SMTPServerDisconnected("gone during DATA")
    before, refused_before = failures("follow_up", "unknown"), failures("follow_up", "refused")
    assert scheduler.run_due().unconfirmed == 1
    assert failures("follow_up", "unknown") == before + 1
    assert failures("follow_up", "refused") == refused_before


def test_a_delivered_mail_counts_no_failure(handlers, make_scheduler, mailer, clock, worker):
    scheduler = make_scheduler()
    consulted(handlers, worker)
    clock.advance(days=60)
    before = {(m, o): failures(m, o) for m in ("follow_up", "notification") for o in ("refused", "unknown")}
    assert len(scheduler.run_due().sent) == 1 and len(mailer.sent) == 1
    assert {(m, o): failures(m, o) for (m, o) in before} == before


def test_the_series_the_alerts_watch_exist_from_the_start():
    # A counter series born at 1 shows Prometheus no increase: the first failure would go unseen.
    # A fresh interpreter, so no test here has created them first.
    script = ("from prometheus_client import REGISTRY, generate_latest; import ot_feedback.scheduler; "
              "print(generate_latest(REGISTRY).decode())")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    exposed = done.stdout.splitlines()
    for mail in ("follow_up", "notification"):
        for outcome in ("refused", "unknown"):
            assert f'ot_feedback_smtp_failures_total{{mail="{mail}",outcome="{outcome}"}} 0.0' in exposed
    assert 'ot_feedback_mails_total{kind="request",outcome="failed"} 0.0' in exposed
    assert 'ot_feedback_notifications_total{kind="agenda",outcome="failed"} 0.0' in exposed
