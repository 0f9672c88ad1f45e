"""Orphan cases: intake asks consent for a data key before its own write commits; when that write
never commits (database down, a crash), consent holds a case whose request does not exist. Intake's
RequestSubmitted confirms a case; the purge discards one still unconfirmed after the grace period,
but only once a newer case has been confirmed (so a stalled pipeline never discards real ones)."""
import logging
from datetime import timedelta

import pytest
import sqlalchemy as sa
from ot.events.v1 import intake_events_pb2

from ot_runtime.errors import FailedPrecondition, NotFound
from ot_runtime.settings import SettingsError, load_settings
from ot_consent.consumers import event_handlers
from ot_consent.domain import ConsentForm, ConsentGiver, Party, PartyKind, RequestType
from ot_consent.handlers import DEFAULT_ORPHAN_GRACE
from ot_consent.store import audit_log, cases, consent_versions, data_keys, orphan_sweep, outbox

from consent_testkit import COORDINATOR, INTAKE, NOW, TENANT, person

GROUP = Party(PartyKind.GROUP, "haastavat-erot-keski-suomi")


def open_case(handlers, request_id):
    key, _ = handlers.open_case(person(), request_id, RequestType.GROUP_CONSULTATION,
                                ConsentForm.WRITTEN_ORGANISATION_FORM, ConsentGiver.GUARDIANS, False, [GROUP])
    return key


def intake_event(handlers, ce_type, message):
    """Deliver one of intake's events as consent's consumer does (the handler, in a transaction)."""
    with handlers.sessions.begin() as s:
        event_handlers(handlers)[ce_type].handle(s, None, message)


def submitted(handlers, request_id):
    intake_event(handlers, "ot.intake.request.submitted.v1",
                 intake_events_pb2.RequestSubmitted(request_id=request_id, tenant=TENANT))


def actions(engine, request_id):
    with engine.connect() as c:
        return c.execute(sa.select(audit_log.c.action).where(audit_log.c.request_id == request_id)
                         .order_by(audit_log.c.sequence)).scalars().all()


@pytest.fixture()
def orphan_and_stored(handlers, clock):
    """"orphan" opened and never stored by intake; a minute later "stored", confirmed by intake."""
    open_case(handlers, "orphan")
    clock.advance(minutes=1)
    open_case(handlers, "stored")
    submitted(handlers, "stored")
    return "orphan", "stored"


def test_an_orphan_is_discarded_after_the_grace_period_and_a_stored_case_never(handlers, engine, clock,
                                                                                orphan_and_stored):
    clock.set(NOW + DEFAULT_ORPHAN_GRACE - timedelta(seconds=1))
    assert handlers.purge().abandoned == []  # intake's relay may still be on its way
    clock.set(NOW + DEFAULT_ORPHAN_GRACE)
    run = handlers.purge()
    assert (run.abandoned, run.shredded) == (["orphan"], [])
    assert handlers.purge().abandoned == []  # once

    with engine.connect() as c:
        key = c.execute(sa.select(data_keys).where(data_keys.c.request_id == "orphan")).one()
        case = c.execute(sa.select(cases).where(cases.c.request_id == "orphan")).one()
        versions = c.execute(sa.select(consent_versions.c.request_id)).scalars().all()
        events = c.execute(sa.select(outbox.c.ce_type)).scalars().all()
    assert key.wrapped_key is None and key.shred_reason.startswith("abandoned")
    assert case.abandoned_at == case.content_erased_at == NOW + DEFAULT_ORPHAN_GRACE
    assert versions == ["stored"]  # the orphan's consent versions are dropped
    assert events == []  # nobody else knows the case: nothing to announce
    assert actions(engine, "orphan") == ["case.opened", "case.abandoned"]

    # The orphan's request never existed, for every caller; the stored one is untouched.
    with pytest.raises(NotFound):
        handlers.data_key(COORDINATOR, "orphan", "triage")
    with pytest.raises(NotFound):
        handlers.history(person(), "orphan")
    assert handlers.check_sharing(INTAKE, "orphan", GROUP, "booking").code == "UNKNOWN_REQUEST"
    with pytest.raises(FailedPrecondition) as err:  # intake cannot get a key for it any more either
        open_case(handlers, "orphan")
    assert err.value.violation_type == "CASE_ABANDONED"
    assert len(handlers.data_key(COORDINATOR, "stored", "triage")) == 32

    clock.advance(days=179)
    assert handlers.purge() == type(run)([], [])  # the stored case waits for its retention as before
    assert handlers.check_sharing(INTAKE, "stored", GROUP, "booking").allowed


def test_nothing_is_swept_while_no_newer_case_is_confirmed(handlers, clock):
    """Kafka down or intake's relay stopped: every newer case is unconfirmed too, and none is swept,
    however long it takes; the first confirmation after the outage lets the sweep go on."""
    open_case(handlers, "during-outage-1")
    clock.advance(hours=5)
    open_case(handlers, "during-outage-2")
    clock.advance(days=3)
    assert handlers.purge().abandoned == []
    submitted(handlers, "during-outage-2")  # the pipeline is back: -2 was stored, -1 never was
    assert handlers.purge().abandoned == ["during-outage-1"]


def test_a_status_change_confirms_a_case_too(handlers, clock):
    from ot.common.v1 import case_pb2
    open_case(handlers, "triaged")
    clock.advance(minutes=1)
    open_case(handlers, "newer")
    submitted(handlers, "newer")
    intake_event(handlers, "ot.intake.request.status_changed.v1", intake_events_pb2.RequestStatusChanged(
        request_id="triaged", tenant=TENANT, to_status=case_pb2.REQUEST_STATUS_TRIAGED))
    clock.advance(days=1)
    assert handlers.purge().abandoned == []


def test_a_case_confirmed_at_the_last_moment_is_kept(handlers, clock, orphan_and_stored, monkeypatch):
    clock.advance(hours=2)
    # The sweep has picked its cases when intake's event arrives, before the discard's transaction.
    real = handlers._abandon

    def late(request_id, who):
        submitted(handlers, request_id)
        return real(request_id, who)
    monkeypatch.setattr(handlers, "_abandon", late)
    assert handlers.purge().abandoned == []
    assert len(handlers.data_key(COORDINATOR, "orphan", "triage")) == 32


def test_a_confirmation_after_the_discard_is_reported_to_the_operator(handlers, clock, orphan_and_stored, caplog):
    clock.advance(hours=2)
    assert handlers.purge().abandoned == ["orphan"]
    with caplog.at_level(logging.WARNING, logger="ot.consent"):
        submitted(handlers, "orphan")
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "OT_CONSENT_ORPHAN_GRACE_SECONDS" in warning.getMessage() and warning.request_id == "orphan"


def test_cases_opened_before_the_upgrade_window_is_over_are_left_alone(handlers, engine, clock):
    """The migration that brought the sweep records when it ran: until a grace period after it, the
    previous release's consumers may have taken a case's RequestSubmitted and ignored it."""
    with engine.begin() as c:
        c.execute(orphan_sweep.insert().values(id=1, since=NOW))
    open_case(handlers, "during-upgrade")
    clock.set(NOW + DEFAULT_ORPHAN_GRACE)
    open_case(handlers, "after-upgrade")
    clock.advance(seconds=1)
    open_case(handlers, "stored")
    submitted(handlers, "stored")
    clock.advance(days=1)
    assert handlers.purge().abandoned == ["after-upgrade"]


def test_the_grace_period_is_a_setting_of_at_least_a_minute(tmp_path, keys):
    import base64
    import os

    from ot_consent.bootstrap import build_handlers
    env = {"OT_TENANT": TENANT, "DATABASE_URL": f"sqlite:///{tmp_path}/c.db", "KAFKA_BOOTSTRAP_SERVERS": "x:1",
           **keys.env(), "OT_CONSENT_MASTER_KEYS": "v1:" + base64.b64encode(os.urandom(32)).decode(),
           "OT_CONSENT_AUDIT_KEY": base64.b64encode(os.urandom(32)).decode()}
    engine, handlers = build_handlers(load_settings("consent", env))
    engine.dispose()
    assert handlers.orphan_grace == timedelta(hours=1)
    engine, handlers = build_handlers(load_settings("consent", {**env, "OT_CONSENT_ORPHAN_GRACE_SECONDS": "600"}))
    engine.dispose()
    assert handlers.orphan_grace == timedelta(minutes=10)
    for bad in ("59", "soon", "-1"):
        with pytest.raises(SettingsError, match="OT_CONSENT_ORPHAN_GRACE_SECONDS"):
            build_handlers(load_settings("consent", {**env, "OT_CONSENT_ORPHAN_GRACE_SECONDS": bad}))


def test_the_migration_counts_every_existing_case_as_confirmed_and_starts_the_window(tmp_path):
    from ot_runtime.db import create_engine
    from ot_runtime.migrations import upgrade
    from ot_consent.main import MIGRATIONS
    url = f"sqlite:///{tmp_path}/upgraded.db"
    upgrade(MIGRATIONS, url, "0003")  # the previous release's schema, with a case in it
    engine = create_engine(url)
    with engine.begin() as c:
        c.execute(sa.text("INSERT INTO cases (request_id, tenant, type, owner_subject, opened_at) "
                          "VALUES ('old', :t, 'ot_tuki', 'prof-1', :at)"), {"t": TENANT, "at": NOW})
    upgrade(MIGRATIONS, url)
    with engine.connect() as c:
        row = c.execute(sa.select(cases.c.opened_at, cases.c.confirmed_at, cases.c.abandoned_at)).one()
        since = c.execute(sa.select(orphan_sweep.c.since)).scalar_one()
    engine.dispose()
    assert row == (NOW, NOW, None)
    assert since > NOW  # when the migration ran
