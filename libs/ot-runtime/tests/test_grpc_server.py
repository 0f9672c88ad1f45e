"""The shared gRPC server on loopback: graceful stop and the public health endpoint."""
import threading
import time

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from ot_runtime.auth import TokenVerifier
from ot_runtime.grpc_server import GrpcServer
from ot_runtime.testing import TestKeys

SLOW = "/test.Slow/Wait"


def test_stop_reports_not_serving_first_and_lets_the_call_in_flight_finish(tmp_path):
    keys = TestKeys(tmp_path)
    started, release = threading.Event(), threading.Event()

    def wait(request, context):
        started.set()
        release.wait(5)
        return b"done"

    def register(server):
        server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler("test.Slow", {
            "Wait": grpc.unary_unary_rpc_method_handler(wait)})])
        return ["test.Slow"]

    verifier = TokenVerifier(issuer="ot-dev", audience="ot-platform", tenant="pohjois-savo",
                             public_key_pem=keys.public_path.read_text())
    server = GrpcServer(host="127.0.0.1", port=0, verifier=verifier, register=register)
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    call = channel.unary_unary(SLOW)
    result = {}
    caller = threading.Thread(target=lambda: result.setdefault(
        "reply", call(b"", metadata=keys.metadata(), timeout=10)))
    caller.start()
    assert started.wait(5)

    stopper = threading.Thread(target=server.stop, args=(5,))
    stopper.start()
    time.sleep(0.2)
    status = server.health.Check(health_pb2.HealthCheckRequest(service="test.Slow"), None).status
    assert status == health_pb2.HealthCheckResponse.NOT_SERVING
    release.set()
    caller.join(5)
    stopper.join(10)
    assert result["reply"] == b"done"  # the call in flight was not cut off
    channel.close()


def test_health_answers_without_a_token(tmp_path):
    keys = TestKeys(tmp_path)
    verifier = TokenVerifier(issuer="ot-dev", audience="ot-platform", tenant="pohjois-savo",
                             public_key_pem=keys.public_path.read_text())
    server = GrpcServer(host="127.0.0.1", port=0, verifier=verifier, register=lambda s: [])
    server.start()
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
    server.stop(1)
