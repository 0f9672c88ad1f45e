"""The baseline of every gRPC figure: a grpcio server that does nothing, with the runtime's settings.

The same thread pool size and options (the message size limits) as every service's server
(ot_runtime.grpc_server: platform_kit.NoopServer reads them there and passes them on), and intake's
service, whose calls decode their request and answer an empty response; no interceptors, no
database, no token check. What a service takes beyond this is the platform's own cost. It imports
only grpcio and the generated code, so its memory is that of a bare grpcio process.

    .venv/bin/python bench/noop_server.py PORT WORKERS MAX_RECEIVE_BYTES MAX_SEND_BYTES   # until SIGTERM
"""
from __future__ import annotations

import signal
import sys
import threading
from concurrent import futures

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from ot.intake.v1 import intake_pb2, intake_pb2_grpc


class NoopIntake(intake_pb2_grpc.IntakeServiceServicer):
    def SubmitRequest(self, request, context):  # noqa: N802 (the gRPC API)
        return intake_pb2.Request()

    def ListRequests(self, request, context):  # noqa: N802
        return intake_pb2.ListRequestsResponse()


def main() -> int:
    port, workers, max_receive, max_send = map(int, sys.argv[1:5])
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="grpc"),
                         options=[("grpc.max_receive_message_length", max_receive),
                                  ("grpc.max_send_message_length", max_send)])
    intake_pb2_grpc.add_IntakeServiceServicer_to_server(NoopIntake(), server)
    checks = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(checks, server)
    port = server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    checks.set("", health_pb2.HealthCheckResponse.SERVING)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print(f"no-op gRPC server on 127.0.0.1:{port} with {workers} worker threads", flush=True)
    stop.wait()
    server.stop(1).wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
