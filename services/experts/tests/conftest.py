"""Fixtures for experts' unit tests: a seeded SQLite database per test and a fixed clock."""
from __future__ import annotations

import pytest

from ot_runtime.clock import FixedClock
from ot_runtime.db import create_engine, session_factory
from ot_experts.catalogue import load_dataset, seed
from ot_experts.store import metadata

from experts_testkit import NOW, make_handlers


@pytest.fixture()
def clock():
    return FixedClock(NOW)


@pytest.fixture()
def dataset():
    return load_dataset()


@pytest.fixture()
def engine(tmp_path, dataset):
    engine = create_engine(f"sqlite:///{tmp_path}/experts.db")
    metadata.create_all(engine)
    with session_factory(engine).begin() as s:
        seed(s, NOW, dataset)
    yield engine
    engine.dispose()


@pytest.fixture()
def handlers(engine, clock):
    return make_handlers(engine, clock)
