"""`make run`: the platform on this machine.

Starts (or reuses) the local Kafka broker, creates development signing keys, migrates each
service's SQLite database under .data/, loads fictional demo data, starts the services on
loopback, waits until each reports SERVING, prints how to call them, and on Ctrl-C stops the
services and the broker. Set OT_TENANT to run another wellbeing area (default pohjois-savo).
"""
from __future__ import annotations

import base64
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from ot_runtime.devtoken import DEV_AUDIENCE, DEV_ISSUER, DEV_SERVICE_ISSUER, SERVICE_KEY, ensure_keys
from ot_runtime.tenants import TENANTS

REPO = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("OT_DATA_DIR", REPO / ".data")).resolve()
BIN = Path(sys.executable).parent

# In start order: consent first (intake asks it for each request's data key).
# name, gRPC port, HTTP port, full gRPC service name, data-loading command (or None)
SERVICES = [
    ("consent", 50053, 8083, "ot.consent.v1.ConsentService", None),
    ("experts", 50052, 8082, "ot.experts.v1.ExpertsService", "seed"),
    ("intake", 50051, 8081, "ot.intake.v1.IntakeService", "seed-demo"),
    ("feedback", 50054, 8084, "ot.feedback.v1.FeedbackService", None),
]
SMTP_PORT, MAIL_PAGE_PORT = 2525, 8025


def dev_key(name: str) -> str:
    """A 256-bit key (base64) made once for this laptop under .data/dev-keys (a cluster keeps
    consent's keys in a Secret)."""
    path = DATA / "dev-keys" / name
    if not path.exists():
        path.write_text(base64.b64encode(os.urandom(32)).decode())
        path.chmod(0o600)
    return path.read_text().strip()


def consent_keys() -> dict:
    """Consent's master key versions (only v1 here: the key made by earlier runs stays v1, so an
    existing .data keeps opening) and its audit trail's key."""
    return {"OT_CONSENT_MASTER_KEYS": f"v1:{dev_key('consent-master.key')}",
            "OT_CONSENT_AUDIT_KEY": dev_key("consent-audit.key")}


def say(text: str) -> None:
    print(text, flush=True)


def kafka_running() -> bool:
    return subprocess.run(["bash", str(REPO / "scripts/kafka.sh"), "status"], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode == 0


def start_kafka() -> str:
    out = subprocess.run(["bash", str(REPO / "scripts/kafka.sh"), "start"], check=True, stdout=subprocess.PIPE,
                         text=True).stdout
    return next(line.split("=", 1)[1] for line in out.splitlines() if line.startswith("KAFKA_BOOTSTRAP_SERVERS="))


def stop_kafka() -> None:
    subprocess.run(["bash", str(REPO / "scripts/kafka.sh"), "stop"], check=False)


def dev_secret(name: str) -> str:
    """A random secret made once for this laptop and kept under .data/dev-keys."""
    path = DATA / "dev-keys" / name
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def service_env(name: str, grpc_port: int, http_port: int, tenant: str, kafka: str, public_key: Path) -> dict:
    """Each service gets its own database file (services own their data) and the same Kafka."""
    return {**os.environ, **FEEDBACK_ENV, "OT_TENANT": tenant, "DATABASE_URL": f"sqlite:///{DATA / tenant / (name + '.db')}",
            "KAFKA_BOOTSTRAP_SERVERS": kafka, "GRPC_HOST": "127.0.0.1", "GRPC_PORT": str(grpc_port),
            "HTTP_HOST": "127.0.0.1", "HTTP_PORT": str(http_port), "AUTH_JWT_ISSUER": DEV_ISSUER,
            "AUTH_JWT_AUDIENCE": DEV_AUDIENCE, "AUTH_JWT_PUBLIC_KEY_FILE": str(public_key),
            "AUTH_SERVICE_ISSUER": DEV_SERVICE_ISSUER,
            "AUTH_SERVICE_PUBLIC_KEY_FILE": str(ensure_keys(DATA / "dev-keys", SERVICE_KEY)[1]),
            "OT_CONSENT_GRPC_TARGET": "127.0.0.1:50053", **consent_keys(),
            # intake's seed-demo acts as the demo's (fictional) people: tokens signed with the dev key
            "OT_DEMO_TOKEN_KEY_FILE": str(DATA / "dev-keys" / "jwt-private.pem")}


def run_step(command: list[str], env: dict) -> None:
    """Run a one-off command quietly; show its output only when it fails."""
    done = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if done.returncode != 0:
        print(done.stdout, file=sys.stderr)
        raise SystemExit(f"{' '.join(Path(c).name for c in command)} failed with code {done.returncode}")
    for line in done.stdout.splitlines():
        if not line.startswith("{"):  # the command's own messages, not its JSON log
            say(line)


# Feedback mails through the local sink, finds the worker's address by asking intake as a
# platform service (a token it signs with the services' own development key), and signs its answer links.
FEEDBACK_ENV = {
    "OT_INTAKE_GRPC_TARGET": "127.0.0.1:50051", "OT_SMTP_HOST": "127.0.0.1", "OT_SMTP_PORT": str(SMTP_PORT),
    "OT_FEEDBACK_PUBLIC_URL": "http://127.0.0.1:8084", "OT_FEEDBACK_TICK_SECONDS": "30",
    "OT_SERVICE_TOKEN_KEY_FILE": str(DATA / "dev-keys" / f"{SERVICE_KEY}-private.pem"),
}


def wait_serving(port: int, service: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        health = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit(f"{service} exited with code {process.returncode}; see its log above")
            try:
                if health.Check(health_pb2.HealthCheckRequest(service=service), timeout=1).status == \
                        health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.3)
    raise SystemExit(f"{service} did not report SERVING on 127.0.0.1:{port} within {timeout:.0f}s")


def main() -> int:
    tenant = os.environ.get("OT_TENANT", "pohjois-savo")
    if tenant not in TENANTS:
        raise SystemExit(f"OT_TENANT must be one of {', '.join(sorted(TENANTS))}, got {tenant!r}")
    DATA.mkdir(parents=True, exist_ok=True)
    _, public_key = ensure_keys(DATA / "dev-keys")
    (DATA / tenant).mkdir(exist_ok=True)
    ours = not kafka_running()  # a broker someone else started is left running at the end
    kafka = start_kafka()
    FEEDBACK_ENV["OT_FEEDBACK_LINK_SECRET"] = dev_secret("feedback-link-secret")
    processes: list[subprocess.Popen] = []
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        # The local SMTP sink: the feedback mails land in .data/mail and on a small page.
        processes.append(subprocess.Popen(
            [str(BIN / "ot-feedback"), "smtp-sink", "--port", str(SMTP_PORT), "--maildir", str(DATA / "mail"),
             "--http-port", str(MAIL_PAGE_PORT)], start_new_session=True))
        for name, grpc_port, http_port, full_name, seed in SERVICES:
            env = service_env(name, grpc_port, http_port, tenant, kafka, public_key)
            command = str(BIN / f"ot-{name}")
            run_step([command, "migrate"], env)
            if seed:
                run_step([command, seed], env)
            # Own session: Ctrl-C reaches only this script, which stops the services in order.
            processes.append(subprocess.Popen([command, "serve"], env=env, start_new_session=True))
            wait_serving(grpc_port, full_name, processes[-1])
        say("")
        say(f"OT platform is running for {TENANTS[tenant]} ({tenant}); Kafka at {kafka}.")
        for name, grpc_port, http_port, full_name, _ in SERVICES:
            say(f"  {name:8} gRPC 127.0.0.1:{grpc_port} ({full_name})   HTTP http://127.0.0.1:{http_port}/")
        say("")
        say("Get a development token (roles: professional, coordinator, secretary, expert, admin):")
        say(f"  TOKEN=$(.venv/bin/ot-dev-token --area {tenant} --role professional)")
        say("Call the API (grpcurl uses server reflection):")
        say('  grpcurl -plaintext -H "authorization: Bearer $TOKEN" 127.0.0.1:50051 list ot.intake.v1.IntakeService')
        say("Privacy notice: http://127.0.0.1:8083/privacy   Expert logins: --role expert --subject expert-<expert id>")
        say(f"Mail sink: SMTP 127.0.0.1:{SMTP_PORT}, mail at http://127.0.0.1:{MAIL_PAGE_PORT}/ (Maildir .data/mail)")
        say("Statistics: http://127.0.0.1:8084/stats (sign in at /stats/login with a coordinator token)")
        say("Service logs (JSON) follow below. Press Ctrl-C to stop everything.")
        while not stop.wait(0.5):
            if any(p.poll() is not None for p in processes):
                say("a service stopped unexpectedly; stopping the rest")
                break
    finally:
        say("\nstopping the services...")
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        if ours:
            stop_kafka()
        say("stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
