"""The figures the area's alerts watch (the chart's PrometheusRule): each verification of the audit
trail by its result (ot_consent_audit_verifications_total) and the time of the last purge that
finished (ot_consent_purge_last_success_timestamp_seconds)."""
from __future__ import annotations

import subprocess
import sys
import time

import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY
from sqlalchemy import exc as sa_exc

from ot_consent.domain import ConsentForm, RequestType
from ot_consent.store import audit_log

from consent_testkit import COORDINATOR, person


def verifications(result: str) -> float:
    return REGISTRY.get_sample_value("ot_consent_audit_verifications_total", {"result": result})


def last_purge() -> float:
    return REGISTRY.get_sample_value("ot_consent_purge_last_success_timestamp_seconds", {})


def fill(handlers) -> None:
    handlers.open_case(person(), "r1", RequestType.OT_TUKI, ConsentForm.NOT_NEEDED, None, False, [])
    handlers.data_key(COORDINATOR, "r1", "read")


def test_an_intact_trail_counts_as_intact(handlers):
    fill(handlers)
    intact, broken = verifications("intact"), verifications("broken")
    assert handlers.verify_audit(COORDINATOR).intact
    assert (verifications("intact"), verifications("broken")) == (intact + 1, broken)


def test_a_changed_entry_counts_as_broken_and_is_logged_without_content(handlers, engine, caplog):
    fill(handlers)
    with engine.begin() as c:
        c.execute(audit_log.update().where(audit_log.c.sequence == 2).values(detail="purpose=nothing to see"))
    intact, broken = verifications("intact"), verifications("broken")
    with caplog.at_level("ERROR", logger="ot.consent"):
        result = handlers.verify_audit(COORDINATOR)
    assert not result.intact
    assert (verifications("intact"), verifications("broken")) == (intact, broken + 1)
    [record] = [r for r in caplog.records if r.getMessage() == "audit trail verification failed"]
    assert record.first_bad_sequence == 2
    assert "nothing to see" not in str(vars(record))  # the entry's content stays in the database


def test_a_finished_purge_sets_the_time_of_its_last_success(handlers):
    started = time.time()
    handlers.purge()
    assert started <= last_purge() <= time.time()


def test_a_failed_purge_leaves_the_last_success_where_it_was(handlers, monkeypatch):
    handlers.purge()
    before = last_purge()

    def database_gone(who=None):
        raise sa_exc.OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))
    monkeypatch.setattr(handlers, "sweep_orphans", database_gone)
    with pytest.raises(sa_exc.OperationalError):
        handlers.purge()
    assert last_purge() == before


def test_the_series_the_alerts_watch_exist_from_the_start():
    # A counter series born at 1 shows Prometheus no increase: the first broken verification would
    # go unseen. A fresh interpreter, so no test here has created them first.
    script = ("from prometheus_client import REGISTRY, generate_latest; import ot_consent.handlers; "
              "print(generate_latest(REGISTRY).decode())")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    exposed = done.stdout.splitlines()
    assert 'ot_consent_audit_verifications_total{result="broken"} 0.0' in exposed
    assert 'ot_consent_audit_verifications_total{result="intact"} 0.0' in exposed
    assert "ot_consent_purge_last_success_timestamp_seconds 0.0" in exposed  # never: the alert fires



def test_consent_verifies_its_trail_by_itself_on_its_schedule(handlers, engine):
    """The alert needs no one to ask: the background verifier checks the chain at start and then
    once an interval, and a changed entry is counted as broken."""
    from ot_consent.bootstrap import AuditVerifier
    fill(handlers)
    with engine.begin() as c:
        c.execute(audit_log.update().where(audit_log.c.sequence == 2).values(detail="purpose=changed"))
    broken = verifications("broken")
    verifier = AuditVerifier(handlers, interval_seconds=3600)
    verifier.start()
    try:
        deadline = time.monotonic() + 20
        while verifications("broken") == broken and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        verifier.stop()
    assert verifications("broken") == broken + 1  # once at start, the next one an hour away
