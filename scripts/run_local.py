"""`make run`: the platform on this machine.

Starts (or reuses) the local Kafka broker and the local Keycloak (the areas' identity provider,
scripts/keycloak.sh), creates development keys, migrates each service's SQLite database under
.data/, loads fictional demo data as the area's demo users, starts the services and the portal on
loopback, waits until each is ready, prints where they are and who to sign in as, and on Ctrl-C
stops what it started (a broker or Keycloak that was already running is left running).

Set OT_TENANT to run another wellbeing area (default pohjois-savo). OT_DATA_DIR moves the state,
OT_PORT_OFFSET shifts every port this script opens (services, portal, mail sink) by that much, and
KAFKA_PORT, KAFKA_CONTROLLER_PORT and KEYCLOAK_PORT move the broker and Keycloak (their scripts read
them), e.g. to run a second checkout beside the first.
"""
from __future__ import annotations

import base64
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from ot_runtime.devtoken import DEV_SERVICE_ISSUER, SERVICE_KEY, ensure_keys
from ot_runtime.tenants import TENANTS

REPO = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("OT_DATA_DIR", REPO / ".data")).resolve()
BIN = Path(sys.executable).parent
OFFSET = int(os.environ.get("OT_PORT_OFFSET", "0"))
CATALOGUE = REPO / "services" / "experts" / "src" / "ot_experts" / "data" / "catalogue.json"

# In start order: consent first (intake asks it for each request's data key).
# name, gRPC port, HTTP port, full gRPC service name, data-loading command (or None)
SERVICES = [
    ("consent", 50053 + OFFSET, 8083 + OFFSET, "ot.consent.v1.ConsentService", None),
    ("experts", 50052 + OFFSET, 8082 + OFFSET, "ot.experts.v1.ExpertsService", "seed"),
    ("intake", 50051 + OFFSET, 8081 + OFFSET, "ot.intake.v1.IntakeService", "seed-demo"),
    ("feedback", 50054 + OFFSET, 8084 + OFFSET, "ot.feedback.v1.FeedbackService", None),
]
GRPC_PORTS = {name: grpc_port for name, grpc_port, *_ in SERVICES}
PORTAL_PORT = 8080 + OFFSET
PORTAL_URL = f"http://127.0.0.1:{PORTAL_PORT}"
SMTP_PORT, MAIL_PAGE_PORT = 2525 + OFFSET, 8025 + OFFSET
# What the local realms put in people's tokens and who signs in there (deploy/keycloak/make_realms.py).
AUDIENCE = "ot-platform"
PORTAL_CLIENT, CLI_CLIENT = "ot-portal", "ot-cli"
DEMO_USERS = [
    ("professional", "ammattilainen: asks the OT team, follows the demo requests"),
    ("coordinator", "koordinaattori: the worklist, triage, experts, statistics"),
    ("secretary", "sihteeri: the group's meetings and agendas"),
    ("expert", "asiantuntija of the OT network: assignments and statements"),
    ("group-member", "ryhmän jäsen: the cases booked into the group"),
    ("admin", "tietosuojavastaava: exports, erasure, the audit trail"),
]


def dev_key(name: str) -> str:
    """A 256-bit key (base64) made once for this laptop under .data/dev-keys (a cluster keeps
    consent's keys in a Secret)."""
    path = DATA / "dev-keys" / name
    if not path.exists():
        path.write_text(base64.b64encode(os.urandom(32)).decode())
        path.chmod(0o600)
    return path.read_text().strip()


def dev_secret(name: str) -> str:
    """A random secret made once for this laptop and kept under .data/dev-keys."""
    path = DATA / "dev-keys" / name
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def consent_keys() -> dict:
    """Consent's master key versions (only v1 here: the key made by earlier runs stays v1, so an
    existing .data keeps opening) and its audit trail's key."""
    return {"OT_CONSENT_MASTER_KEYS": f"v1:{dev_key('consent-master.key')}",
            "OT_CONSENT_AUDIT_KEY": dev_key("consent-audit.key")}


def say(text: str) -> None:
    print(text, flush=True)


# --- Kafka and Keycloak: started by their scripts, reused when already running -------------------
def script(name: str, command: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(REPO / "scripts" / name), command], text=True, **kwargs)


def running(name: str) -> bool:
    return script(name, "status", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0


def start(name: str) -> dict[str, str]:
    """`<script> start`: its progress goes to the terminal, its KEY=value lines are returned."""
    done = script(name, "start", stdout=subprocess.PIPE)
    if done.returncode != 0:
        raise SystemExit(f"scripts/{name} start failed (see above)")
    return dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)


def stop(name: str) -> None:
    script(name, "stop", check=False)


# --- the services and the portal -------------------------------------------------------------
def area_groups(tenant: str) -> list[str]:
    """The area's consultation groups in the OT service map (experts' catalogue)."""
    return sorted(g["id"] for g in json.loads(CATALOGUE.read_text(encoding="utf-8"))["groups"] if g["area"] == tenant)


def feedback_env(tenant: str) -> dict:
    """Feedback mails through the local sink, finds a worker's address by asking intake as a
    platform service (a token it signs with the services' own development key), signs its answer
    links, and tells the area's (fictional) coordinators and group secretaries at the demo users'
    addresses, with links to the local portal."""
    return {
        "OT_INTAKE_GRPC_TARGET": f"127.0.0.1:{GRPC_PORTS['intake']}",
        "OT_EXPERTS_GRPC_TARGET": f"127.0.0.1:{GRPC_PORTS['experts']}",
        "OT_SMTP_HOST": "127.0.0.1", "OT_SMTP_PORT": str(SMTP_PORT),
        "OT_FEEDBACK_PUBLIC_URL": f"http://127.0.0.1:{8084 + OFFSET}", "OT_FEEDBACK_TICK_SECONDS": "30",
        "OT_SERVICE_TOKEN_KEY_FILE": str(DATA / "dev-keys" / f"{SERVICE_KEY}-private.pem"),
        "OT_FEEDBACK_LINK_SECRET": dev_secret("feedback-link-secret"),
        "OT_PORTAL_URL": PORTAL_URL,
        "OT_NOTIFY_COORDINATORS": f"coordinator.{tenant}@example.fi",
        "OT_NOTIFY_GROUP_SECRETARIES": ",".join(f"{g}=secretary.{tenant}@example.fi" for g in area_groups(tenant)),
    }


def service_env(name: str, grpc_port: int, http_port: int, tenant: str, kafka: str, issuer: str) -> dict:
    """Each service gets its own database file (services own their data) and the same Kafka.
    People's tokens are the area's Keycloak realm's; the services' own tokens (feedback's calls to
    intake) are signed with the development service key."""
    env = {**os.environ, "OT_TENANT": tenant, "DATABASE_URL": f"sqlite:///{DATA / tenant / (name + '.db')}",
           "KAFKA_BOOTSTRAP_SERVERS": kafka, "GRPC_HOST": "127.0.0.1", "GRPC_PORT": str(grpc_port),
           "HTTP_HOST": "127.0.0.1", "HTTP_PORT": str(http_port),
           "AUTH_JWT_ISSUER": issuer, "AUTH_JWT_AUDIENCE": AUDIENCE,
           "AUTH_JWKS_URL": f"{issuer}/protocol/openid-connect/certs",
           "AUTH_SERVICE_ISSUER": DEV_SERVICE_ISSUER,
           "AUTH_SERVICE_PUBLIC_KEY_FILE": str(ensure_keys(DATA / "dev-keys", SERVICE_KEY)[1]),
           "OT_CONSENT_GRPC_TARGET": f"127.0.0.1:{GRPC_PORTS['consent']}", **consent_keys(),
           # intake's seed-demo signs the demo users in at the realm with the local-only client
           "OT_DEMO_OIDC_CLIENT_ID": CLI_CLIENT}
    env.pop("AUTH_JWT_PUBLIC_KEY_FILE", None)  # one source of people's keys: the realm's JWKS
    if name == "feedback":
        env.update(feedback_env(tenant))
    return env


def portal_env(tenant: str, issuer: str, client_secret: str) -> dict:
    """The portal signs people in at the area's realm and calls the four services with their tokens."""
    return {**os.environ, "OT_TENANT": tenant, "DATABASE_URL": f"sqlite:///{DATA / tenant / 'portal.db'}",
            "HTTP_HOST": "127.0.0.1", "HTTP_PORT": str(PORTAL_PORT), "OT_PORTAL_PUBLIC_URL": PORTAL_URL,
            "OT_OIDC_ISSUER": issuer, "OT_OIDC_CLIENT_ID": PORTAL_CLIENT, "OT_OIDC_CLIENT_SECRET": client_secret,
            "OT_PORTAL_SECRET_KEY": dev_secret("portal-secret-key"),
            **{f"OT_{name.upper()}_GRPC_TARGET": f"127.0.0.1:{port}" for name, port in GRPC_PORTS.items()}}


def run_step(command: list[str], env: dict) -> None:
    """Run a one-off command quietly; show its output only when it fails."""
    done = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if done.returncode != 0:
        print(done.stdout, file=sys.stderr)
        raise SystemExit(f"{' '.join(Path(c).name for c in command)} failed with code {done.returncode}")
    for line in done.stdout.splitlines():
        if not line.startswith("{"):  # the command's own messages, not its JSON log
            say(line)


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


def wait_ready(url: str, what: str, process: subprocess.Popen, timeout: float = 60) -> None:
    """Until `url` (a /readyz) answers 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{what} exited with code {process.returncode}; see its log above")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    raise SystemExit(f"{what} did not answer 200 at {url} within {timeout:.0f}s")


def print_guide(tenant: str, kafka: str, keycloak: str, issuer: str) -> None:
    token_command = "scripts/keycloak.sh token"
    if os.environ.get("KEYCLOAK_PORT"):
        token_command = f"KEYCLOAK_PORT={os.environ['KEYCLOAK_PORT']} {token_command}"
    say("")
    say(f"OT platform is running for {TENANTS[tenant]} ({tenant}); Kafka at {kafka}, Keycloak at {keycloak}.")
    say("")
    say(f"The portal: {PORTAL_URL}/  (sign in as a demo user of the area, password: demo)")
    for user, what in DEMO_USERS:
        say(f"  {user:13} {what}")
    say("")
    for name, grpc_port, http_port, full_name, _ in SERVICES:
        say(f"  {name:8} gRPC 127.0.0.1:{grpc_port} ({full_name})   HTTP http://127.0.0.1:{http_port}/")
    say("Call the API as a demo user (grpcurl uses server reflection; the token lasts an hour):")
    say(f"  TOKEN=$({token_command} {tenant} professional)")
    say(f'  grpcurl -plaintext -H "authorization: Bearer $TOKEN" 127.0.0.1:{GRPC_PORTS["intake"]} '
        "list ot.intake.v1.IntakeService")
    say(f"People's tokens: issuer {issuer}; Keycloak's admin console {keycloak}/admin/ (user admin, password in "
        f"{DATA / 'keycloak' / 'admin-password'})")
    say(f"Privacy notice: http://127.0.0.1:{8083 + OFFSET}/privacy")
    say(f"Mail sink: SMTP 127.0.0.1:{SMTP_PORT}, mail at http://127.0.0.1:{MAIL_PAGE_PORT}/ (Maildir {DATA / 'mail'})")
    say("Service logs (JSON) follow below. Press Ctrl-C to stop everything.")


def main() -> int:
    tenant = os.environ.get("OT_TENANT", "pohjois-savo")
    if tenant not in TENANTS:
        raise SystemExit(f"OT_TENANT must be one of {', '.join(sorted(TENANTS))}, got {tenant!r}")
    os.environ["OT_DATA_DIR"] = str(DATA)  # the scripts keep their state in the same place
    DATA.mkdir(parents=True, exist_ok=True)
    ensure_keys(DATA / "dev-keys", SERVICE_KEY)
    (DATA / tenant).mkdir(exist_ok=True)
    processes: list[subprocess.Popen] = []
    stop_event = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop_event.set())
    # A broker or Keycloak someone else started is left running at the end.
    ours = [name for name in ("kafka.sh", "keycloak.sh") if not running(name)]
    try:
        kafka = start("kafka.sh")["KAFKA_BOOTSTRAP_SERVERS"]
        keycloak_out = start("keycloak.sh")
        keycloak = keycloak_out["KEYCLOAK_URL"]
        issuer = f"{keycloak}/realms/{tenant}"
        client_secret = Path(keycloak_out["OT_PORTAL_CLIENT_SECRET_FILE"]).read_text().strip()
        # The local SMTP sink: the feedback mails land in .data/mail and on a small page.
        processes.append(subprocess.Popen(
            [str(BIN / "ot-feedback"), "smtp-sink", "--port", str(SMTP_PORT), "--maildir", str(DATA / "mail"),
             "--http-port", str(MAIL_PAGE_PORT)], start_new_session=True))
        for name, grpc_port, http_port, full_name, seed in SERVICES:
            env = service_env(name, grpc_port, http_port, tenant, kafka, issuer)
            command = str(BIN / f"ot-{name}")
            run_step([command, "migrate"], env)
            if seed:
                run_step([command, seed], env)
            # Own session: Ctrl-C reaches only this script, which stops the services in order.
            processes.append(subprocess.Popen([command, "serve"], env=env, start_new_session=True))
            wait_serving(grpc_port, full_name, processes[-1])
        env = portal_env(tenant, issuer, client_secret)
        run_step([str(BIN / "ot-portal"), "migrate"], env)
        processes.append(subprocess.Popen([str(BIN / "ot-portal"), "serve"], env=env, start_new_session=True))
        wait_ready(f"{PORTAL_URL}/readyz", "the portal", processes[-1])
        print_guide(tenant, kafka, keycloak, issuer)
        while not stop_event.wait(0.5):
            if any(p.poll() is not None for p in processes):
                say("a service stopped unexpectedly; stopping the rest")
                break
    finally:
        say("\nstopping the services...")
        for process in reversed(processes):  # the portal first, the mail sink last
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        for name in reversed(ours):
            stop(name)
        say("stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
