"""`ot-feedback send-due --as-of DATE`: the follow-up mail of a consultation seen on a laptop
without waiting 60 days, and never anywhere else."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from ot_feedback import main as feedback_main
from ot_feedback.directory import Contact
from ot_feedback.domain import Category, RequestType, Status
from ot_feedback.notifications import Kind
from ot_feedback.store import notifications as notification_rows

from feedback_testkit import NOW, TENANT, worker_emails


def consulted(handlers, request_id: str) -> None:
    with handlers.sessions.begin() as s:
        handlers.on_status_changed(s, request_id=request_id, type_=RequestType.GROUP_CONSULTATION,
                                   categories=[Category.CHALLENGING_DIVORCE], to_status=Status.CONSULTED,
                                   changed_at=NOW)


def link_token(message) -> str:
    body = message.get_body(("plain",)).get_content()
    return next(line.strip() for line in body.splitlines() if "/palaute/" in line).rsplit("/", 1)[1]


def test_a_later_as_of_sends_the_follow_up_now_once_and_its_link_works_today(handlers, make_scheduler, mailer,
                                                                           directory, clock):
    address = worker_emails()[0]
    directory.contacts["r-1"] = Contact(address, withdrawn=False)
    consulted(handlers, "r-1")
    scheduler = make_scheduler()
    assert scheduler.run_due().sent == []  # today: not due for 60 days
    result = scheduler.run_due(NOW + timedelta(days=61), follow_ups_only=True)
    assert len(result.sent) == 1
    [message] = mailer.to(address)
    assert handlers.open_link(link_token(message))  # opened today, not only on the day it pretended
    # the running service, when that day really comes, does not send it a second time
    assert scheduler.run_due(NOW + timedelta(days=61, hours=1)).sent == [] and len(mailer.sent) == 1


def test_it_leaves_the_notifications_to_their_own_times(handlers, make_scheduler, mailer, notifications, clock):
    with handlers.sessions.begin() as s:
        notifications.add(s, event_id="e-1", kind=Kind.MEETING_REMINDER, due_at=NOW + timedelta(days=1),
                          not_after=NOW + timedelta(days=2), request_id="r-2", request_type=RequestType.GROUP_CONSULTATION)
    result = make_scheduler().run_due(NOW + timedelta(days=61), follow_ups_only=True)
    assert result.notices.cancelled == 0 and mailer.sent == []
    with handlers.sessions() as s:
        assert s.execute(sa.select(notification_rows.c.state)).scalar_one() == "due"  # not cancelled as too late


@pytest.mark.parametrize("env, smtp_host, refused", [
    ({}, "127.0.0.1", None),
    ({}, "localhost", None),
    ({"KUBERNETES_SERVICE_HOST": "10.96.0.1"}, "127.0.0.1", "KUBERNETES_SERVICE_HOST"),
    ({}, "smtp.pohjois-savo.example.fi", "not this machine's SMTP sink"),
])
def test_it_runs_only_outside_a_cluster_and_only_into_a_local_smtp_sink(env, smtp_host, refused):
    why = feedback_main.send_due_refusal(env, smtp_host)
    assert (why is None) if refused is None else (refused in why)


@pytest.fixture()
def feedback_env(monkeypatch, tmp_path, keys_dir):
    """What `make run` gives ot-feedback (a SQLite file, the local sink), without the network."""
    env = {"OT_TENANT": TENANT, "DATABASE_URL": f"sqlite:///{tmp_path}/feedback.db",
           "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1", "AUTH_JWT_ISSUER": "http://127.0.0.1:1/realms/x",
           "AUTH_JWT_AUDIENCE": "ot-platform", "AUTH_JWKS_URL": "http://127.0.0.1:1/certs",
           "OT_FEEDBACK_LINK_SECRET": "x" * 40, "OT_SERVICE_TOKEN_KEY_FILE": str(keys_dir),
           "OT_SMTP_HOST": "127.0.0.1"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    return env


@pytest.fixture()
def keys_dir(tmp_path):
    path = tmp_path / "service-key.pem"
    path.write_text("not read: the command stops before it signs anything")
    return path


def test_the_command_refuses_in_a_pod_before_touching_the_database(feedback_env, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
    assert feedback_main.main(["send-due", "--as-of", "2027-02-01"]) == 2
    assert "only on this machine" in capsys.readouterr().err
    assert not (tmp_path / "feedback.db").exists()


def test_the_command_refuses_a_real_smtp_server(feedback_env, monkeypatch, capsys):
    monkeypatch.setenv("OT_SMTP_HOST", "smtp.pohjois-savo.example.fi")
    assert feedback_main.main(["send-due", "--as-of", "2027-02-01"]) == 2
    assert "OT_SMTP_HOST" in capsys.readouterr().err


@pytest.mark.parametrize("argv, says", [(["send-due"], "--as-of"), (["send-due", "--as-of", "1.2.2027"], "not a date")])
def test_the_command_needs_a_date_it_can_read(feedback_env, capsys, argv, says):
    assert feedback_main.main(argv) == 2
    assert says in capsys.readouterr().err


def test_as_of_is_midnight_utc_unless_it_names_a_time():
    assert feedback_main.as_of_time("2027-02-01") == datetime(2027, 2, 1, tzinfo=timezone.utc)
    assert feedback_main.as_of_time("2027-02-01T09:30+02:00").hour == 9
