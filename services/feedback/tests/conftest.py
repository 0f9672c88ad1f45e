"""Fixtures for feedback's unit tests: a SQLite database per test, a clock that moves on request,
fake intake and a fake mailer (the real SMTP exchange is the integration tier's)."""
from __future__ import annotations

import pytest

from ot_runtime.clock import FixedClock
from ot_runtime.db import create_engine, session_factory
from ot_runtime.testing import root_logging_restored  # noqa: F401 (autouse: send-due runs in-process)
from ot_feedback.domain import FollowUpPolicy, LinkSigner
from ot_feedback.handlers import FeedbackHandlers
from ot_feedback.scheduler import FeedbackScheduler
from ot_feedback.store import metadata

from ot_feedback.notifications import Notifications, Recipients

from feedback_testkit import NOW, SECRET, TENANT, FakeDirectory, FakeExperts, FakeMailer


@pytest.fixture()
def clock():
    return FixedClock(NOW)


@pytest.fixture()
def engine(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path}/feedback.db")
    metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture()
def policy():
    return FollowUpPolicy()


@pytest.fixture()
def handlers(engine, clock, policy):
    return FeedbackHandlers(sessions=session_factory(engine), tenant=TENANT, policy=policy,
                            signer=LinkSigner(SECRET), clock=clock)


@pytest.fixture()
def directory():
    return FakeDirectory()


@pytest.fixture()
def experts():
    return FakeExperts()


@pytest.fixture()
def notifications(clock):
    return Notifications(tenant=TENANT, clock=clock)


@pytest.fixture()
def recipients():
    """The area's settings for notifications: no coordinator or secretary addresses unless a test sets them."""
    return Recipients(portal_url="https://ot.pohjois-savo.example.invalid")


@pytest.fixture()
def mailer():
    return FakeMailer()


@pytest.fixture()
def make_scheduler(handlers, directory, experts, recipients, mailer, clock, policy):
    def make(**kwargs) -> FeedbackScheduler:
        return FeedbackScheduler(sessions=handlers.sessions, directory=kwargs.pop("directory", directory),
                                 experts=kwargs.pop("experts", experts),
                                 recipients=kwargs.pop("recipients", recipients),
                                 mailer=kwargs.pop("mailer", mailer), signer=handlers.signer, policy=policy,
                                 clock=clock, tenant=TENANT, public_url="http://127.0.0.1:8084",
                                 sender="ot-palaute", **kwargs)
    return make


@pytest.fixture()
def scheduler(make_scheduler):
    return make_scheduler()
