"""Writers leave their audit entries pending (no lock on the head); the chainer links them into the
one chain, refuses a pending entry changed or forged in the database, never chains one twice, and
every reader of the trail chains first (audit.py)."""
import logging

import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY

from ot_runtime.crypto import new_key
from ot_consent import audit
from ot_consent.audit import GENESIS, Trail, entry_mac
from ot_consent.bootstrap import AuditChainer
from ot_consent.domain import ConsentForm, RequestType
from ot_consent.store import audit_head, audit_log, audit_pending

from consent_testkit import COORDINATOR, NOW, TENANT, person


class Waker:
    """Stands for a chainer worker running in this process: commits wake it instead of chaining."""

    def __init__(self, engine):
        self.tenant, self.engine, self.wakes = TENANT, engine, 0

    def wake(self):
        self.wakes += 1


@pytest.fixture()
def deferred(handlers, engine):
    """The start's own entry chained; from now on entries wait in audit_pending until chained."""
    waker = Waker(engine)
    audit.add_chainer(waker)
    yield waker
    audit.remove_chainer(waker)


def chain_rows(engine):
    with engine.connect() as c:
        return c.execute(sa.select(audit_log).order_by(audit_log.c.sequence)).mappings().all()


def pending_rows(engine):
    with engine.connect() as c:
        return c.execute(sa.select(audit_pending).order_by(audit_pending.c.id)).mappings().all()


def broken_count():
    return REGISTRY.get_sample_value("ot_consent_audit_verifications_total", {"result": "broken"})


def append(handlers, detail, who=COORDINATOR):
    with handlers.sessions.begin() as s:
        handlers.trail.append(s, at=NOW, who=who, action="sharing.check", request_id="r1", detail=detail)


def test_entries_of_several_transactions_wait_pending_and_are_chained_into_one_chain_that_verifies(
        handlers, engine, deferred):
    handlers.open_case(person(), "r1", RequestType.OT_TUKI, ConsentForm.NOT_NEEDED, None, False, [])
    handlers.data_key(COORDINATOR, "r1", "triage")
    # Sessions of their own (open at the same time; SQLite lets one write at a time, the
    # concurrent writers are in tests/integration/test_audit_concurrency.py).
    first, second = handlers.sessions(), handlers.sessions()
    handlers.trail.append(first, at=NOW, who=COORDINATOR, action="sharing.check", request_id="r1", detail="first")
    first.commit()
    handlers.trail.append(second, at=NOW, who=COORDINATOR, action="sharing.check", request_id="r1", detail="second")
    second.commit()
    first.close(), second.close()

    assert len(chain_rows(engine)) == 1  # only the start's own entry: nobody chained in the writers' threads
    assert [r["action"] for r in pending_rows(engine)] == ["case.opened", "content.read", "sharing.check",
                                                           "sharing.check"]
    assert deferred.wakes == 4  # each commit that appended woke the chainer

    done = handlers.chain_audit()
    assert (done.chained, done.refused) == (4, 0) and pending_rows(engine) == []
    rows = chain_rows(engine)
    assert [r["sequence"] for r in rows] == [1, 2, 3, 4, 5]
    assert [r["detail"] for r in rows[3:]] == ["first", "second"]
    result = handlers.verify_audit(COORDINATOR)
    assert result.intact and result.checked == 5 and result.pending_refused == 0


def test_a_pending_entry_changed_in_the_database_is_refused_and_reported(handlers, engine, deferred, caplog):
    for detail in ("a", "b", "c"):
        append(handlers, detail)
    with engine.begin() as c:  # someone with write access to the database, without the audit key
        c.execute(audit_pending.update().where(audit_pending.c.detail == "b").values(detail="nothing happened"))
        c.execute(audit_pending.insert().values(tenant=TENANT, at=NOW, actor="coord-1", roles="coordinator",
                                                action="content.read", request_id="r1", detail="forged",
                                                mac="0" * 64))
    broken_before = broken_count()
    with caplog.at_level(logging.ERROR, logger="ot.consent"):
        done = handlers.chain_audit()

    assert (done.chained, done.refused) == (2, 2)
    assert [r["detail"] for r in chain_rows(engine)[1:]] == ["a", "c"]
    left = pending_rows(engine)  # kept for the investigation, marked, never chained
    assert [r["detail"] for r in left] == ["nothing happened", "forged"]
    assert all(r["refused_at"] is not None for r in left)
    assert broken_count() == broken_before + 1  # OtAuditVerificationFailed fires without waiting for verify
    [record] = [r for r in caplog.records if r.getMessage().startswith("audit entries refused")]
    assert record.count == 2
    assert "nothing happened" not in caplog.text and "forged" not in caplog.text  # no content in the log

    assert handlers.chain_audit().chained == 0  # refused entries are not tried again
    result = handlers.verify_audit(COORDINATOR)
    assert not result.intact and result.pending_refused == 2 and "fail their own MAC" in result.problem
    assert result.checked == 3  # the chain itself is whole
    with engine.begin() as c:  # the investigation is over: the operator removes them
        c.execute(audit_pending.delete())
    assert handlers.verify_audit(COORDINATOR).intact


def test_an_intact_pending_entry_marked_refused_in_the_database_is_reported(handlers, engine, deferred):
    append(handlers, "hidden")
    with engine.begin() as c:  # kept out of the chain without touching its content
        c.execute(audit_pending.update().values(refused_at=NOW))
    assert handlers.chain_audit().chained == 0
    result = handlers.verify_audit(COORDINATOR)
    assert not result.intact and result.pending_refused == 1 and "marked refused" in result.problem
    with engine.begin() as c:  # what the problem says to do
        c.execute(audit_pending.update().values(refused_at=None))
    result = handlers.verify_audit(COORDINATOR)
    assert result.intact and result.checked == 2
    assert chain_rows(engine)[-1]["detail"] == "hidden"


def test_a_pending_entry_moved_to_another_area_or_given_another_key_is_refused(handlers, engine, deferred):
    append(handlers, "moved")
    with engine.begin() as c:
        c.execute(audit_pending.update().values(tenant="muu-alue"))
    assert Trail(handlers.audit_key, "muu-alue").chain_all(handlers.sessions).refused == 1
    append(handlers, "other key")
    assert Trail(new_key(), TENANT).chain_all(handlers.sessions).refused == 1


def test_chaining_twice_chains_nothing_twice(handlers, engine, deferred):
    for i in range(5):
        append(handlers, f"entry {i}")
    with handlers.sessions.begin() as s:
        done = handlers.trail.chain(s, limit=2)
    assert (done.chained, done.more) == (2, True)
    assert handlers.chain_audit().chained == 3
    assert handlers.chain_audit().chained == 0
    rows = chain_rows(engine)
    assert [r["sequence"] for r in rows] == list(range(1, 7))
    assert [r["detail"] for r in rows[1:]] == [f"entry {i}" for i in range(5)]
    with engine.connect() as c:
        assert c.execute(sa.select(audit_head.c.last_sequence)).scalar() == 6
    assert handlers.verify_audit(COORDINATOR).intact


def test_a_batch_whose_entries_vanish_while_chained_is_undone(handlers, engine, deferred, monkeypatch):
    """Two chainers must never both chain one entry: if the rows a chainer read are gone when it
    deletes them (another took them), it chains nothing."""
    append(handlers, "once")
    real_delete = audit_pending.delete

    class Vanished:
        def where(self, *conditions):
            return real_delete().where(audit_pending.c.id == -1)  # deletes nothing, as if taken

    monkeypatch.setattr(audit_pending, "delete", Vanished)
    with pytest.raises(RuntimeError):
        handlers.chain_audit()
    monkeypatch.undo()
    assert len(chain_rows(engine)) == 1 and len(pending_rows(engine)) == 1
    assert handlers.chain_audit().chained == 1
    assert [r["detail"] for r in chain_rows(engine)[1:]] == ["once"]


def test_readers_see_an_entry_right_after_its_writer_committed(handlers, engine, deferred):
    handlers.open_case(person(), "r1", RequestType.OT_TUKI, ConsentForm.NOT_NEEDED, None, False, [])
    assert [r["action"] for r in chain_rows(engine)] == ["master_key.current"]  # still pending
    rows, _ = handlers.query_audit(COORDINATOR, "r1", "", None, None, 10, 0)
    assert [r["action"] for r in rows] == ["case.opened"]

    handlers.data_key(COORDINATOR, "r1", "triage")
    result = handlers.verify_audit(COORDINATOR)
    assert result.intact and result.checked == 3

    handlers.data_key(COORDINATOR, "r1", "view")
    anchor = handlers.anchor_audit()
    assert anchor.sequence == 4 and anchor.mac == chain_rows(engine)[-1]["hash"]


def test_without_a_chainer_in_the_process_the_writer_chains_right_after_its_commit(handlers, engine):
    handlers.open_case(person(), "r1", RequestType.OT_TUKI, ConsentForm.NOT_NEEDED, None, False, [])
    assert [r["action"] for r in chain_rows(engine)] == ["master_key.current", "case.opened"]
    assert pending_rows(engine) == []


def test_a_rolled_back_entry_is_neither_pending_nor_chained_and_wakes_nobody(handlers, engine, deferred):
    with pytest.raises(ZeroDivisionError):
        with handlers.sessions.begin() as s:
            handlers.trail.append(s, at=NOW, who=COORDINATOR, action="sharing.check", request_id="r1",
                                  detail="never")
            1 / 0
    with handlers.sessions.begin() as s:  # a later commit of the same kind of session, without an entry
        s.execute(sa.select(1))
    assert pending_rows(engine) == [] and deferred.wakes == 0


def test_a_trail_written_by_direct_appends_goes_on_after_the_upgrade(handlers, engine, deferred):
    """The previous release appended straight to audit_log under the head lock (and still does during
    a rolling upgrade): pending entries are chained after its entries, in the same format."""
    with engine.begin() as c:
        head = c.execute(sa.select(audit_head)).one()
        sequence, previous = head.last_sequence + 1, head.last_hash
        mac = entry_mac(handlers.audit_key, previous, sequence, NOW, "coord-1", "coordinator", TENANT,
                        "sharing.check", "r1", "by the previous release")
        c.execute(audit_log.insert().values(tenant=TENANT, sequence=sequence, at=NOW, actor="coord-1",
                                            roles="coordinator", action="sharing.check", request_id="r1",
                                            detail="by the previous release", prev_hash=previous, hash=mac))
        c.execute(audit_head.update().values(last_sequence=sequence, last_hash=mac))
    append(handlers, "by this release")
    handlers.chain_audit()
    rows = chain_rows(engine)
    assert [r["detail"] for r in rows[1:]] == ["by the previous release", "by this release"]
    assert rows[2]["prev_hash"] == rows[1]["hash"]
    assert handlers.verify_audit(COORDINATOR).checked == 3


def test_the_first_entry_of_an_area_creates_the_head(make_handlers, engine, audit_key):
    with engine.begin() as c:
        assert c.execute(sa.select(audit_head)).first() is None  # nothing written yet
    handlers = make_handlers()  # its start records the master key version
    with engine.connect() as c:
        head = c.execute(sa.select(audit_head)).one()
    assert head.last_sequence == 1 and head.last_hash != GENESIS
    assert handlers.verify_audit(COORDINATOR).intact


def test_the_chainer_worker_is_woken_by_the_commit_and_chains_what_is_left_when_it_stops(handlers, engine):
    worker = AuditChainer(handlers, engine)
    worker.idle_seconds = 3600  # so only the commit's wake can make it chain
    worker.start()
    try:
        append(handlers, "woken")
        for _ in range(300):  # a generous wait for a condition, not a timing
            if len(chain_rows(engine)) == 2:
                break
            worker.pause(0.05)
        assert [r["detail"] for r in chain_rows(engine)[1:]] == ["woken"]
    finally:
        worker.stop(5)
    # A stopped worker is no longer woken: the writer's own thread chains again.
    append(handlers, "after the stop")
    assert [r["detail"] for r in chain_rows(engine)[1:]] == ["woken", "after the stop"]


def test_the_writers_thread_chains_with_its_own_connection_back_in_the_pool(tmp_path, clock, audit_key):
    """Without a chainer worker the writer's thread chains after its commit: never holding two
    connections at once, or a full pool would stall every writer."""
    from ot_runtime.crypto import MasterKeys
    from ot_runtime.db import session_factory
    from ot_runtime.outbox import Outbox
    from ot_consent.handlers import ConsentHandlers
    from ot_consent.store import metadata, outbox

    engine = sa.create_engine(f"sqlite:///{tmp_path}/one.db", pool_size=1, max_overflow=0, pool_timeout=2)
    metadata.create_all(engine)
    try:
        handlers = ConsentHandlers(sessions=session_factory(engine),
                                   outbox=Outbox(outbox, source=f"/ot/{TENANT}/consent", tenant=TENANT),
                                   tenant=TENANT, topic=f"ot.{TENANT}.consent.v1", clock=clock,
                                   master_keys=MasterKeys("v1", {"v1": new_key()}, "OT_CONSENT_MASTER_KEYS"),
                                   audit_key=audit_key)
        handlers.check_master_keys()
        handlers.open_case(person(), "r1", RequestType.OT_TUKI, ConsentForm.NOT_NEEDED, None, False, [])
        assert [r["action"] for r in chain_rows(engine)] == ["master_key.current", "case.opened"]
        assert pending_rows(engine) == []
    finally:
        engine.dispose()
