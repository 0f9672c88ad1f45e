"""Fixtures for intake's unit tests: a SQLite database per test, a clock that moves on request,
and intake's gRPC server in-process on loopback with its real edge (access table, field rules)."""
from __future__ import annotations

import grpc
import pytest
from ot.intake.v1 import intake_pb2_grpc

from ot_runtime.clock import FixedClock
from ot_runtime.db import create_engine
from ot_runtime.grpc_server import GrpcServer
from ot_runtime.testing import TestKeys
from ot_intake.edge import ACCESS, FIELD_RULES, SERVICE
from ot_intake.grpc_api import IntakeServicer
from ot_intake.handlers import IntakeHandlers
from ot_intake.store import metadata

from intake_testkit import NOW, TENANT, FakeVault, make_handlers


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
    return make_handlers(engine, clock, vault)


@pytest.fixture()
def keys(tmp_path):
    return TestKeys(tmp_path / "keys")


@pytest.fixture()
def serve(keys):
    """serve(handlers) -> (stub, channel): intake's servicer behind the same edge as in production."""
    started = []

    def start(h: IntakeHandlers):
        def register(server):
            intake_pb2_grpc.add_IntakeServiceServicer_to_server(IntakeServicer(h), server)
            return [SERVICE.full_name]

        server = GrpcServer(host="127.0.0.1", port=0, verifier=keys.verifier(TENANT), register=register,
                            access=ACCESS, field_rules=FIELD_RULES)
        server.start()
        channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
        started.append((server, channel))
        return intake_pb2_grpc.IntakeServiceStub(channel), channel

    yield start
    for server, channel in started:
        channel.close()
        server.stop(1)


@pytest.fixture()
def stub(serve, handlers):
    return serve(handlers)
