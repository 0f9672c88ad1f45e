"""`helm test`: ask one service's gRPC health (grpc.health.v1) for "" and its full service name;
exit 0 only when both are SERVING. Runs in the service's own image (grpcio-health-checking).
Input: OT_HEALTH_TARGET (host:port), OT_HEALTH_SERVICE (full name), OT_HEALTH_TIMEOUT (seconds),
OT_HEALTH_CA_FILE (the area's CA: connect with TLS and verify the service's certificate against
it; unset: plaintext).
"""
import os
import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


def main():
    target = os.environ["OT_HEALTH_TARGET"]
    timeout = float(os.environ.get("OT_HEALTH_TIMEOUT", "5"))
    failed = False
    ca_file = os.environ.get("OT_HEALTH_CA_FILE", "")
    if ca_file:
        with open(ca_file, "rb") as f:
            channel = grpc.secure_channel(target, grpc.ssl_channel_credentials(root_certificates=f.read()))
    else:
        channel = grpc.insecure_channel(target)
    with channel:
        stub = health_pb2_grpc.HealthStub(channel)
        for name in ("", os.environ["OT_HEALTH_SERVICE"]):
            try:
                status = stub.Check(health_pb2.HealthCheckRequest(service=name), timeout=timeout).status
                label = health_pb2.HealthCheckResponse.ServingStatus.Name(status)
            except grpc.RpcError as exc:
                status, label = None, f"error {exc.code().name}"
            ok = status == health_pb2.HealthCheckResponse.SERVING
            failed = failed or not ok
            print(f"{target} {name or '(server)'}: {label}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
