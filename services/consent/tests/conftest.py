import pytest

from ot_runtime.clock import FixedClock
from ot_runtime.crypto import MasterKeys, new_key
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
def audit_key():
    return new_key()


@pytest.fixture()
def make_handlers(engine, clock, audit_key):
    """Consent's handlers over the test database with the given master keys (as a start with that
    configuration would: the keys are checked against the database first)."""
    def make(keys: MasterKeys | None = None, *, unkeyed_until: int = 0, key: bytes | None = None) -> ConsentHandlers:
        handlers = ConsentHandlers(sessions=session_factory(engine),
                                   outbox=Outbox(outbox, source=f"/ot/{TENANT}/consent", tenant=TENANT), tenant=TENANT,
                                   topic=f"ot.{TENANT}.consent.v1", clock=clock,
                                   master_keys=keys or MasterKeys("v1", {"v1": new_key()}, "OT_CONSENT_MASTER_KEYS"),
                                   audit_key=key or audit_key, audit_unkeyed_until=unkeyed_until)
        handlers.check_master_keys()
        return handlers
    return make


@pytest.fixture()
def handlers(make_handlers):
    return make_handlers()


@pytest.fixture()
def keys(tmp_path):
    from ot_runtime.testing import TestKeys
    return TestKeys(tmp_path / "keys")


@pytest.fixture()
def channel(handlers, keys):
    """Consent's gRPC edge in-process on loopback, as bootstrap wires it (access table and field
    rules included), over the test's SQLite database."""
    import grpc
    from ot.consent.v1 import consent_pb2_grpc

    from ot_runtime.grpc_server import GrpcServer
    from ot_consent.edge import ACCESS, FIELD_RULES, SERVICE
    from ot_consent.grpc_api import ConsentServicer
    from ot_consent.notice import NoticeArea

    def register(server):
        servicer = ConsentServicer(handlers, NoticeArea.example_for(TENANT))
        consent_pb2_grpc.add_ConsentServiceServicer_to_server(servicer, server)
        return [SERVICE.full_name]

    server = GrpcServer(host="127.0.0.1", port=0, verifier=keys.verifier(TENANT), register=register, access=ACCESS,
                        field_rules=FIELD_RULES)
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    yield channel
    channel.close()
    server.stop(1)


@pytest.fixture()
def client(channel):
    from ot.consent.v1 import consent_pb2_grpc
    return consent_pb2_grpc.ConsentServiceStub(channel)
