"""Consent's audit trail on the real PostgreSQL: a writer's open transaction holds nothing that
another writer waits for (the head row is locked only by the chainer's short transactions), and
chainers running side by side with many writers chain every entry exactly once, in one chain."""
from __future__ import annotations

import threading
import uuid
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from ot.common.v1 import case_pb2
from ot.consent.v1 import consent_pb2 as cpb
from ot.consent.v1 import consent_pb2_grpc

from ot_runtime.auth import Principal
from ot_runtime.crypto import new_key
from ot_runtime.db import create_engine, session_factory
from ot_runtime.migrations import upgrade
from ot_consent import audit
from ot_consent.audit import Trail
from ot_consent.main import MIGRATIONS
from ot_consent.store import audit_log, audit_pending

from conftest import TENANT, wait_until

WHO = Principal(subject="coord-concurrency", tenant=TENANT, roles=frozenset({"coordinator"}))


class Waker:
    """Stands for a chainer worker in this process: commits wake it instead of chaining in the
    writer's thread, so the test decides when chaining happens."""

    def __init__(self, engine):
        self.tenant, self.engine = TENANT, engine

    def wake(self):
        pass


@pytest.fixture()
def trail_db(make_database):
    url = make_database("consent")
    upgrade(MIGRATIONS, url)
    engine = create_engine(url)
    waker = Waker(engine)
    audit.add_chainer(waker)
    yield engine, session_factory(engine), Trail(new_key(), TENANT)
    audit.remove_chainer(waker)
    engine.dispose()


def append(trail: Trail, session, detail: str) -> None:
    trail.append(session, at=datetime.now(timezone.utc), who=WHO, action="sharing.check", request_id="r1",
                 detail=detail)


def chain_rows(engine):
    with engine.connect() as c:
        return c.execute(sa.select(audit_log.c.sequence, audit_log.c.detail).order_by(audit_log.c.sequence)).all()


def test_a_writer_does_not_wait_for_another_writers_open_transaction(trail_db):
    engine, sessions, trail = trail_db
    with sessions.begin() as s:
        append(trail, s, "before")
    trail.chain_all(sessions)  # the head row exists now: it is what a writer used to lock

    open_writer = sessions()
    append(trail, open_writer, "written first, committed last")  # executed, the transaction stays open
    try:
        with sessions.begin() as s:
            s.execute(sa.text("SET LOCAL lock_timeout = '2s'"))  # a wait on any lock fails the test
            append(trail, s, "written second, committed first")
        with sessions.begin() as s:  # even the chainer does not wait for the open writer
            s.execute(sa.text("SET LOCAL lock_timeout = '2s'"))
            assert trail.chain(s).chained == 1
        assert [r.detail for r in chain_rows(engine)] == ["before", "written second, committed first"]
        open_writer.commit()
    finally:
        open_writer.close()

    assert trail.chain_all(sessions).chained == 1
    assert [(r.sequence, r.detail) for r in chain_rows(engine)] == [
        (1, "before"), (2, "written second, committed first"), (3, "written first, committed last")]
    with sessions() as s:
        result = trail.verify(s)
    assert result.intact and result.checked == 3


def test_two_chainers_beside_eight_writers_chain_every_entry_once_in_one_chain(trail_db):
    engine, sessions, trail = trail_db  # an empty trail: the two chainers also race to create the head
    writers_done = threading.Event()
    errors: list[BaseException] = []
    start = threading.Barrier(10)

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(25):
                with sessions.begin() as s:
                    append(trail, s, f"writer {n} entry {i}")
        except BaseException as error:
            errors.append(error)

    def chainer() -> None:
        try:
            start.wait()
            while True:
                finished = writers_done.is_set()  # read first: a pass after it sees every entry
                with sessions.begin() as s:
                    done = trail.chain(s, limit=7)  # small batches, so the two take turns often
                if finished and done.chained == 0 and not done.more:
                    return
        except BaseException as error:
            errors.append(error)

    writers = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    chainers = [threading.Thread(target=chainer) for _ in range(2)]
    for t in writers + chainers:
        t.start()
    for t in writers:
        t.join(120)
    writers_done.set()
    for t in chainers:
        t.join(120)
    assert errors == [] and not any(t.is_alive() for t in writers + chainers)

    rows = chain_rows(engine)
    assert [r.sequence for r in rows] == list(range(1, 201))
    assert sorted(r.detail for r in rows) == sorted(f"writer {n} entry {i}" for n in range(8) for i in range(25))
    with engine.connect() as c:
        assert c.execute(sa.select(sa.func.count()).select_from(audit_pending)).scalar() == 0
        assert c.execute(sa.text("SELECT last_sequence FROM audit_head")).scalar() == 200
    with sessions() as s:
        result = trail.verify(s)
    assert result.intact and result.checked == 200


def test_consents_chainer_worker_chains_a_submission_without_any_reader(start_consent, keys):
    consent = start_consent()
    stub = consent_pb2_grpc.ConsentServiceStub(consent.channel)
    consent.app.chainer.start()
    try:
        request_id = str(uuid.uuid4())
        stub.OpenCase(cpb.OpenCaseRequest(request_id=request_id, type=case_pb2.REQUEST_TYPE_OT_TUKI,
                                          form=cpb.CONSENT_FORM_NOT_NEEDED),
                      metadata=keys.metadata(subject="prof-chainer"))

        def chained():
            with consent.app.engine.connect() as c:
                return c.execute(sa.select(audit_log.c.action).where(audit_log.c.request_id == request_id)).all()

        assert [r.action for r in wait_until(chained, what="the case's entry chained by the worker")] == [
            "case.opened"]
    finally:
        consent.app.chainer.stop(5)
    coordinator = keys.metadata(roles=("coordinator",), subject="coord-chainer")
    assert stub.VerifyAudit(cpb.VerifyAuditRequest(), metadata=coordinator).intact
