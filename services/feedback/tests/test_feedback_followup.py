"""The durable schedule with fake intake and a fake mailer: when mail goes, to whom, and only once."""
from __future__ import annotations

import smtplib
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from ot_feedback.directory import Contact
from ot_feedback.domain import Category, FollowUpState, RequestType, Status
from ot_feedback.handlers import LinkRefused
from ot_feedback.mailer import NotDelivered
from ot_feedback.store import answers, follow_ups, mails
from ot_runtime.errors import InvalidArgument

from feedback_testkit import NOW, worker_emails

ANSWER = {"usefulness": "5", "got_needed": "yes", "what_next": "recommendations_followed", "free_text": ""}


def consulted(handlers, request_id: str, at=NOW, status=Status.CONSULTED, type_=RequestType.GROUP_CONSULTATION):
    with handlers.sessions.begin() as s:
        handlers.on_status_changed(s, request_id=request_id, type_=type_, categories=[Category.CHALLENGING_DIVORCE],
                                   to_status=status, changed_at=at)


def link_of(message) -> str:
    body = message.get_body(("plain",)).get_content()
    return next(line.strip() for line in body.splitlines() if "/palaute/" in line)


def token_of(message) -> str:
    return link_of(message).rsplit("/", 1)[1]


def state(handlers, request_id: str) -> str:
    with handlers.sessions() as s:
        return s.execute(sa.select(follow_ups.c.state).where(follow_ups.c.request_id == request_id)).scalar_one()


@pytest.fixture()
def two_workers(directory):
    a, b = worker_emails()[:2]
    directory.contacts["r-1"] = Contact(a, withdrawn=False)
    directory.contacts["r-2"] = Contact(b, withdrawn=False)
    return a, b


def test_the_request_mail_goes_sixty_days_after_the_consultation_not_before(handlers, scheduler, mailer, clock,
                                                                          two_workers):
    consulted(handlers, "r-1")
    consulted(handlers, "r-1", status=Status.RECOMMENDATIONS_RETURNED, at=NOW + timedelta(days=3))  # no second one
    clock.advance(days=59, hours=23)
    assert scheduler.run_due().sent == [] and mailer.sent == []
    clock.advance(hours=1)
    assert len(scheduler.run_due().sent) == 1
    [message] = mailer.sent
    assert message["To"] == two_workers[0]
    body = message.get_body(("plain",)).get_content()
    assert body.index("Palautetta") < body.index("feedback") if "Palautetta" in body else True
    assert link_of(message).startswith("http://127.0.0.1:8084/palaute/")
    assert "Pohjois-Savo" in body and "konsultaatioryhmä" in body
    assert scheduler.run_due().sent == []  # nothing twice
    assert state(handlers, "r-1") == FollowUpState.SENT


def test_the_reminder_goes_only_to_the_worker_who_did_not_answer(handlers, scheduler, mailer, clock, two_workers):
    consulted(handlers, "r-1")
    consulted(handlers, "r-2")
    clock.advance(days=60)
    scheduler.run_due()
    assert len(mailer.sent) == 2
    handlers.answer(token_of(mailer.to(two_workers[0])[0]), ANSWER)
    clock.advance(days=14)
    scheduler.run_due()
    assert len(mailer.to(two_workers[0])) == 1
    reminders = mailer.to(two_workers[1])
    assert len(reminders) == 2 and reminders[1]["Subject"].startswith("Muistutus")
    assert token_of(reminders[1]) == token_of(reminders[0])  # the same link, still usable
    clock.advance(days=30)
    scheduler.run_due()
    assert len(mailer.sent) == 3
    assert state(handlers, "r-2") == FollowUpState.EXPIRED
    with pytest.raises(LinkRefused) as err:
        handlers.open_link(token_of(reminders[1]))
    assert err.value.reason == "expired"


def test_the_link_works_once(handlers, scheduler, mailer, clock, two_workers):
    consulted(handlers, "r-1")
    clock.advance(days=60)
    scheduler.run_due()
    token = token_of(mailer.sent[0])
    handlers.open_link(token)
    handlers.answer(token, ANSWER)
    with pytest.raises(LinkRefused) as err:
        handlers.answer(token, ANSWER)
    assert err.value.reason == "used"
    with handlers.sessions() as s:
        assert s.execute(sa.select(sa.func.count()).select_from(answers)).scalar_one() == 1


def test_two_answers_at_once_store_one(handlers, scheduler, mailer, clock, two_workers):
    consulted(handlers, "r-1")
    clock.advance(days=60)
    scheduler.run_due()
    token = token_of(mailer.sent[0])
    outcomes = []

    def send():
        try:
            handlers.answer(token, ANSWER)
            outcomes.append("ok")
        except LinkRefused:
            outcomes.append("refused")
        except Exception as exc:  # SQLite may report the race as "database is locked"
            outcomes.append(type(exc).__name__)
    threads = [threading.Thread(target=send) for _ in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert outcomes.count("ok") == 1
    with handlers.sessions() as s:
        assert s.execute(sa.select(sa.func.count()).select_from(answers)).scalar_one() == 1


def test_an_answer_with_client_identifiers_is_not_stored_and_the_link_stays_usable(handlers, scheduler, mailer,
                                                                                   clock, two_workers):
    from ot_guard import KINDS
    from ot_guard.testing import sample
    consulted(handlers, "r-1")
    clock.advance(days=60)
    scheduler.run_due()
    token = token_of(mailer.sent[0])
    for kind in KINDS:
        with pytest.raises(InvalidArgument) as err:
            handlers.answer(token, {**ANSWER, "free_text": sample(kind)})
        assert [(v.field, v.reason) for v in err.value.violations] == [("free_text", kind)]
    with handlers.sessions() as s:
        assert s.execute(sa.select(sa.func.count()).select_from(answers)).scalar_one() == 0
    handlers.answer(token, {**ANSWER, "free_text": "Ryhmän suositukset selkeyttivät työnjakoa."})


def test_a_withdrawn_or_vanished_request_cancels_its_feedback(handlers, scheduler, mailer, clock, directory,
                                                             two_workers):
    consulted(handlers, "r-1")
    consulted(handlers, "r-2")
    consulted(handlers, "r-3")
    directory.contacts["r-2"] = Contact(two_workers[1], withdrawn=True)
    with handlers.sessions.begin() as s:  # intake says withdrawn
        handlers.on_status_changed(s, request_id="r-1", type_=RequestType.GROUP_CONSULTATION, categories=[],
                                   to_status=Status.WITHDRAWN, changed_at=NOW)
    clock.advance(days=60)
    result = scheduler.run_due()
    assert mailer.sent == [] and result.cancelled == 2
    assert "r-1" not in directory.calls  # cancelled before its time: intake not even asked
    assert [state(handlers, r) for r in ("r-1", "r-2", "r-3")] == [FollowUpState.CANCELLED] * 3


def test_intake_or_smtp_down_means_later_not_lost(handlers, make_scheduler, mailer, clock, directory, two_workers):
    scheduler = make_scheduler(retry_after=timedelta(minutes=15))
    consulted(handlers, "r-1")
    clock.advance(days=60)
    directory.down = True
    assert scheduler.run_due().retried == 1
    directory.down = False
    mailer.fail_with = NotDelivered("ConnectionRefusedError")
    clock.advance(minutes=15)
    assert scheduler.run_due().retried == 1
    mailer.fail_with = None
    clock.advance(minutes=15)
    assert scheduler.run_due().sent == []  # not yet: the second wait is twice the first
    clock.advance(minutes=15)
    assert len(scheduler.run_due().sent) == 1 and len(mailer.sent) == 1


def test_a_mail_refused_every_time_is_failed_after_the_last_try_with_growing_waits(handlers, make_scheduler, mailer,
                                                                                 clock, two_workers):
    from ot_feedback.scheduler import MAILS
    scheduler = make_scheduler(retry_after=timedelta(minutes=5), max_attempts=4)
    consulted(handlers, "r-1")
    clock.advance(days=60)
    mailer.fail_with = NotDelivered("SMTPRecipientsRefused")
    failed_before = MAILS.labels("request", "failed")._value.get()
    waits = []
    for _ in range(4):
        result = scheduler.run_due()
        with handlers.sessions() as s:
            row = s.execute(sa.select(mails.c.state, mails.c.due_at)).one()
        waits.append(row.due_at - clock.now())
        clock.set(row.due_at)
    assert waits[:3] == [timedelta(minutes=5), timedelta(minutes=10), timedelta(minutes=20)]
    assert row.state == "failed" and result.failed == 1 and result.retried == 0
    assert MAILS.labels("request", "failed")._value.get() == failed_before + 1
    mailer.fail_with = None
    clock.advance(days=1)
    assert scheduler.run_due().sent == [] and mailer.sent == []  # failed is final


def test_an_unknown_smtp_outcome_is_never_sent_again_but_the_reminder_still_comes(handlers, scheduler, mailer, clock,
                                                                                 two_workers):
    consulted(handlers, "r-1")
    clock.advance(days=60)
    mailer.fail_with = smtplib.SMTPServerDisconnected("gone during DATA")
    assert scheduler.run_due().unconfirmed == 1
    mailer.fail_with = None
    clock.advance(days=1)
    assert scheduler.run_due().sent == []
    clock.advance(days=13)
    assert len(scheduler.run_due().sent) == 1
    assert mailer.sent[0]["Subject"].startswith("Muistutus")


def test_a_sender_that_died_mid_send_is_not_repeated_by_the_next(handlers, make_scheduler, mailer, clock, two_workers):
    consulted(handlers, "r-1")
    clock.advance(days=60)
    dead = make_scheduler()
    [claimed] = dead._claim(mails, clock.now())  # claimed and committed, then the process "died"
    survivor = make_scheduler()
    assert survivor.run_due().sent == []
    clock.advance(hours=2)
    assert survivor.run_due().unconfirmed == 1
    assert mailer.sent == []
    with handlers.sessions() as s:
        assert s.execute(sa.select(mails.c.state).where(mails.c.id == claimed)).scalar_one() == "unconfirmed"


def test_downtime_is_caught_up_in_one_tick(handlers, scheduler, mailer, clock, directory):
    emails = worker_emails()
    for i in range(5):
        directory.contacts[f"r-{i}"] = Contact(emails[i], withdrawn=False)
        consulted(handlers, f"r-{i}", at=NOW + timedelta(days=i))
    clock.advance(days=200)
    assert len(scheduler.run_due().sent) == 5
    assert sorted(m["To"] for m in mailer.sent) == sorted(emails[:5])
