"""Fixtures for experts' unit tests: a seeded SQLite database per test and a fixed clock."""
from __future__ import annotations

import grpc
import pytest
from ot.experts.v1 import experts_pb2_grpc

from ot_runtime.clock import FixedClock
from ot_runtime.db import create_engine, session_factory
from ot_runtime.grpc_server import GrpcServer
from ot_runtime.testing import TestKeys
from ot_experts.catalogue import load_dataset, seed
from ot_experts.edge import ACCESS, FIELD_RULES, SERVICE
from ot_experts.grpc_api import ExpertsServicer
from ot_experts.store import metadata

from experts_testkit import NOW, TENANT, make_handlers


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


@pytest.fixture()
def keys(tmp_path):
    return TestKeys(tmp_path / "keys")


@pytest.fixture()
def channel(handlers, keys):
    """The service's gRPC edge in-process on loopback, as bootstrap wires it (access table and
    field rules included), over the seeded SQLite database."""
    def register(server):
        experts_pb2_grpc.add_ExpertsServiceServicer_to_server(ExpertsServicer(handlers), server)
        return [SERVICE.full_name]

    server = GrpcServer(host="127.0.0.1", port=0, verifier=keys.verifier(TENANT), register=register,
                        access=ACCESS, field_rules=FIELD_RULES)
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    yield channel
    channel.close()
    server.stop(1)


@pytest.fixture()
def client(channel):
    return experts_pb2_grpc.ExpertsServiceStub(channel)
