import pytest

from ot_runtime.clock import FixedClock
from ot_runtime.crypto import new_key
from ot_runtime.db import create_engine, session_factory
from ot_runtime.outbox import Outbox
from ot_consent.handlers import ConsentHandlers
from ot_consent.store import metadata, outbox

from consent_testkit import NOW, TENANT


@pytest.fixture()
def clock():
    return FixedClock(NOW)


@pytest.fixture()
def engine(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path}/consent.db")
    metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture()
def handlers(engine, clock):
    return ConsentHandlers(sessions=session_factory(engine),
                           outbox=Outbox(outbox, source=f"/ot/{TENANT}/consent", tenant=TENANT), tenant=TENANT,
                           topic=f"ot.{TENANT}.consent.v1", clock=clock, master_key=new_key())
