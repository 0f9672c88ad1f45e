"""Fixtures for intake's unit tests: a SQLite database per test and a clock that moves on request."""
from __future__ import annotations

import pytest

from ot_runtime.clock import FixedClock
from ot_runtime.db import create_engine, session_factory
from ot_runtime.outbox import Outbox
from ot_intake.handlers import IntakeHandlers
from ot_intake.store import metadata, outbox

from intake_testkit import NOW, TENANT, FakeVault


@pytest.fixture()
def clock():
    return FixedClock(NOW)


@pytest.fixture()
def engine(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path}/intake.db")
    metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture()
def vault():
    return FakeVault()


@pytest.fixture()
def handlers(engine, clock, vault):
    return IntakeHandlers(sessions=session_factory(engine),
                          outbox=Outbox(outbox, source=f"/ot/{TENANT}/intake", tenant=TENANT),
                          tenant=TENANT, topic=f"ot.{TENANT}.intake.v1", clock=clock, vault=vault)
