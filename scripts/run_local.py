"""`make run`: the platform on this machine.

Starts (or reuses) the local Kafka broker, the local Keycloak (the areas' identity provider,
scripts/keycloak.sh) and the local trace viewer (Zipkin, scripts/zipkin.sh), creates development
keys, migrates each service's SQLite database under .data/ (no PostgreSQL here: that is the
tests'), loads fictional demo data as the area's demo users, starts the services and the portal on
loopback with their traces going to Zipkin, and waits until each is ready.

The terminal shows one line per component ("starting… ready in N s"), then where everything is
and who to sign in as. What the components print (the scripts' messages, Kafka's and Keycloak's
warnings, the services' JSON logs) goes to .data/logs/<component>.log instead (`make logs` follows
them); when a component fails, the last lines of its log are shown. Ctrl-C stops what it started
(a broker, Keycloak or Zipkin that was already running is left running).

`run_local.py send-due --as-of DATE` (`make send-due AS_OF=DATE`), while `make run` runs: sends the
follow-up mails that would be due by DATE now, to the local mail viewer (`ot-feedback send-due`
with the settings `make run` gives feedback).

Set OT_TENANT to run another wellbeing area (default pohjois-savo). OT_DATA_DIR moves the state,
OT_PORT_OFFSET shifts every port this script opens (services, portal, mail sink) by that much, and
KAFKA_PORT, KAFKA_CONTROLLER_PORT, KEYCLOAK_PORT and ZIPKIN_PORT move the broker, Keycloak and
Zipkin (their scripts read them), e.g. to run a second checkout beside the first.
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
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from ot_runtime.devtoken import DEV_SERVICE_ISSUER, SERVICE_KEY, ensure_keys
from ot_runtime.tenants import TENANTS

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = REPO / "scripts"
DATA = Path(os.environ.get("OT_DATA_DIR", REPO / ".data")).resolve()
LOGS = DATA / "logs"
BIN = Path(sys.executable).parent
OFFSET = int(os.environ.get("OT_PORT_OFFSET", "0"))
CATALOGUE = REPO / "services" / "experts" / "src" / "ot_experts" / "data" / "catalogue.json"

# In start order: consent first (intake asks it for each request's data key).
# name, gRPC port, HTTP port, full gRPC service name, data-loading command (or None)
SERVICES = [
    ("consent", 50053 + OFFSET, 8083 + OFFSET, "ot.consent.v1.ConsentService", None),
    ("experts", 50052 + OFFSET, 8082 + OFFSET, "ot.experts.v1.ExpertsService", "seed"),
    ("intake", 50051 + OFFSET, 8081 + OFFSET, "ot.intake.v1.IntakeService", "seed-demo"),
    ("feedback", 50054 + OFFSET, 8084 + OFFSET, "ot.feedback.v1.FeedbackService", "seed-demo"),
]
GRPC_PORTS = {name: grpc_port for name, grpc_port, *_ in SERVICES}
PORTAL_PORT = 8080 + OFFSET
PORTAL_URL = f"http://127.0.0.1:{PORTAL_PORT}"
SMTP_PORT, MAIL_PAGE_PORT = 2525 + OFFSET, 8025 + OFFSET
# Every component's log under LOGS, in start order (`make logs` follows the same names).
LOG_NAMES = ["kafka", "keycloak", "zipkin", "mail", *(name for name, *_ in SERVICES), "portal"]
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
# Set by Ctrl-C or SIGTERM: the start-up stops waiting, the loop ends, everything is stopped.
STOP = threading.Event()


class StartFailed(Exception):
    """A component did not come up: `reason` says how; its log says why."""


class Interrupted(Exception):
    """Ctrl-C during the start-up."""


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


def say(text: str = "", end: str = "\n") -> None:
    print(text, end=end, flush=True)


def shown(path: Path) -> str:
    """A path as a person would type it here: relative to the current directory when inside it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


# --- the components' logs and progress lines --------------------------------------------------
def log_path(name: str) -> Path:
    return LOGS / f"{name}.log"


def open_log(name: str):
    return open(log_path(name), "a", encoding="utf-8")


def rotate_logs() -> None:
    """A fresh log per component and run; the previous run's stays as <name>.log.prev."""
    LOGS.mkdir(parents=True, exist_ok=True)
    for name in LOG_NAMES:
        if log_path(name).exists():
            log_path(name).replace(LOGS / f"{name}.log.prev")


def log_tail(name: str, lines: int = 30) -> str:
    path = log_path(name)
    text = path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:] if path.exists() else []
    return "\n".join([f"----- last lines of {shown(path)} -----", *text, "-----"])


@contextmanager
def step(label: str, log_name: str):
    """One progress line: "  Kafka      starting… ready in 12 s"; on failure the reason and the
    last lines of the component's log. The body may set `.note` (e.g. "already running")."""
    say(f"  {label:<10} starting… ", end="")
    started = time.monotonic()
    progress = SimpleNamespace(note="")
    try:
        yield progress
    except Interrupted:
        say("interrupted")
        raise
    except StartFailed as failure:
        say(f"failed: {failure}")
        say(log_tail(log_name))
        raise
    except BaseException:
        say("failed")
        raise
    say(f"ready in {time.monotonic() - started:.0f} s" + (f" ({progress.note})" if progress.note else ""))


# --- Kafka, Keycloak and Zipkin: started by their scripts, reused when already running ---------
def script(name: str, *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPTS / name), *args], text=True, **kwargs)


def running(name: str) -> bool:
    return script(name, "status", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0


def start(name: str, log_name: str) -> dict[str, str]:
    """`<script> start`: its messages (stderr) go to the component's log, its KEY=value lines
    (stdout) are returned."""
    with open_log(log_name) as log:
        done = script(name, "start", stdout=subprocess.PIPE, stderr=log)
    if STOP.is_set():
        raise Interrupted()
    if done.returncode != 0:
        raise StartFailed(f"scripts/{name} start exited with code {done.returncode}")
    return dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)


def stop(name: str, log_name: str) -> None:
    with open_log(log_name) as log:
        script(name, "stop", stdout=log, stderr=log, check=False)


# --- the services and the portal -------------------------------------------------------------
def area_groups(tenant: str) -> list[str]:
    """The area's consultation groups in the OT service map (experts' catalogue)."""
    return sorted(g["id"] for g in json.loads(CATALOGUE.read_text(encoding="utf-8"))["groups"] if g["area"] == tenant)


def tracing_env(zipkin_url: str) -> dict:
    """Every service and the portal export their spans to the local Zipkin (the standard
    OpenTelemetry variables; a cluster exports OTLP to the area's collector instead)."""
    # Spans leave every half second (the SDK's default is 5 s): a click shows up in Zipkin at once.
    return {"OTEL_TRACES_EXPORTER": "zipkin", "OTEL_EXPORTER_ZIPKIN_ENDPOINT": f"{zipkin_url}/api/v2/spans",
            "OTEL_BSP_SCHEDULE_DELAY": "500"}


def feedback_env(tenant: str) -> dict:
    """Feedback mails through the local sink, finds a worker's address by asking intake as a
    platform service (a token it signs with the services' own development key), signs its answer
    links (served by the portal at /palaute/<token>), and tells the area's (fictional)
    coordinators and group secretaries at the demo users' addresses, with links to the local portal."""
    return {
        "OT_INTAKE_GRPC_TARGET": f"127.0.0.1:{GRPC_PORTS['intake']}",
        "OT_EXPERTS_GRPC_TARGET": f"127.0.0.1:{GRPC_PORTS['experts']}",
        "OT_SMTP_HOST": "127.0.0.1", "OT_SMTP_PORT": str(SMTP_PORT),
        "OT_FEEDBACK_PUBLIC_URL": PORTAL_URL, "OT_FEEDBACK_TICK_SECONDS": "30",
        "OT_SERVICE_TOKEN_KEY_FILE": str(DATA / "dev-keys" / f"{SERVICE_KEY}-private.pem"),
        "OT_FEEDBACK_LINK_SECRET": dev_secret("feedback-link-secret"),
        "OT_PORTAL_URL": PORTAL_URL,
        "OT_NOTIFY_COORDINATORS": f"coordinator.{tenant}@example.fi",
        "OT_NOTIFY_GROUP_SECRETARIES": ",".join(f"{g}=secretary.{tenant}@example.fi" for g in area_groups(tenant)),
    }


def service_env(name: str, grpc_port: int, http_port: int, tenant: str, kafka: str, issuer: str,
                tracing: dict) -> dict:
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
           "OT_DEMO_OIDC_CLIENT_ID": CLI_CLIENT, **tracing}
    env.pop("AUTH_JWT_PUBLIC_KEY_FILE", None)  # one source of people's keys: the realm's JWKS
    if name == "feedback":
        env.update(feedback_env(tenant))
    if name == "consent":  # its old /tietosuoja address redirects to the portal's notice
        env["OT_PORTAL_URL"] = PORTAL_URL
    return env


def portal_env(tenant: str, issuer: str, client_secret: str, tracing: dict) -> dict:
    """The portal signs people in at the area's realm and calls the four services with their tokens."""
    return {**os.environ, "OT_TENANT": tenant, "DATABASE_URL": f"sqlite:///{DATA / tenant / 'portal.db'}",
            "HTTP_HOST": "127.0.0.1", "HTTP_PORT": str(PORTAL_PORT), "OT_PORTAL_PUBLIC_URL": PORTAL_URL,
            "OT_OIDC_ISSUER": issuer, "OT_OIDC_CLIENT_ID": PORTAL_CLIENT, "OT_OIDC_CLIENT_SECRET": client_secret,
            "OT_PORTAL_SECRET_KEY": dev_secret("portal-secret-key"),
            **{f"OT_{name.upper()}_GRPC_TARGET": f"127.0.0.1:{port}" for name, port in GRPC_PORTS.items()},
            **tracing}


def run_step(command: list[str], env: dict, log_name: str) -> None:
    """A one-off command (migrate, seed) with its output in the component's log."""
    with open_log(log_name) as log:
        done = subprocess.run(command, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    if STOP.is_set():
        raise Interrupted()
    if done.returncode != 0:
        raise StartFailed(f"{' '.join(Path(c).name for c in command)} exited with code {done.returncode}")


def launch(command: list[str], env: dict | None, log_name: str) -> subprocess.Popen:
    """A long-running process writing to its log. Own session: Ctrl-C reaches only this script,
    which stops the processes in order."""
    with open_log(log_name) as log:
        return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)


def wait_until(check, process: subprocess.Popen, what: str, timeout: float = 90) -> None:
    """Until `check()` is true; StartFailed when the process exits or the time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if STOP.is_set():
            raise Interrupted()
        if process.poll() is not None:
            raise StartFailed(f"exited with code {process.returncode}")
        if check():
            return
        time.sleep(0.3)
    raise StartFailed(f"{what} within {timeout:.0f} s")


def serving(port: int, service: str):
    def check() -> bool:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            try:
                answer = health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(service=service), timeout=1)
            except grpc.RpcError:
                return False
        return answer.status == health_pb2.HealthCheckResponse.SERVING
    return check


def answers(url: str):
    """True once `url` answers 200."""
    def check() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                return answer.status == 200
        except (urllib.error.URLError, OSError):
            return False
    return check


def print_guide(tenant: str, kafka: str, keycloak: str, issuer: str, zipkin: str) -> None:
    token_command = "scripts/keycloak.sh token"
    if os.environ.get("KEYCLOAK_PORT"):
        token_command = f"KEYCLOAK_PORT={os.environ['KEYCLOAK_PORT']} {token_command}"
    topic = f"{os.environ.get('OT_TOPIC_PREFIX') or 'ot.' + tenant}.intake.v1"
    say("")
    say(f"OT platform is running for {TENANTS[tenant]} ({tenant}).")
    say("")
    say(f"  Portal       {PORTAL_URL}/   sign in as a demo user of the area, password: demo")
    for user, what in DEMO_USERS:
        say(f"                 {user:13} {what}")
    say(f"  Traces       {zipkin}/zipkin/   (Zipkin: each request across the services)")
    say(f"  Mail viewer  http://127.0.0.1:{MAIL_PAGE_PORT}/   (what feedback mailed; SMTP 127.0.0.1:{SMTP_PORT})")
    say(f"  Logs         {shown(LOGS)}/<component>.log   follow them all: make logs")
    say(f"  Events       KAFKA_BOOTSTRAP_SERVERS={kafka} {shown(BIN / 'ot-events')} tail {topic}")
    say("  Follow-up    make send-due AS_OF=2027-02-01   (the follow-up mails due by then, sent now)")
    say("")
    say("  Services (gRPC with server reflection; HTTP: health, metrics, pages):")
    for name, grpc_port, http_port, full_name, _ in SERVICES:
        say(f"    {name:8} gRPC 127.0.0.1:{grpc_port} ({full_name})   HTTP http://127.0.0.1:{http_port}/")
    say(f"  Privacy      {PORTAL_URL}/tietosuojaseloste   (the area's tietosuojaseloste; example values locally)")
    say("  Call the API as a demo user (the token lasts an hour):")
    say(f"    TOKEN=$({token_command} {tenant} professional)")
    say(f'    grpcurl -plaintext -H "authorization: Bearer $TOKEN" 127.0.0.1:{GRPC_PORTS["intake"]} '
        "list ot.intake.v1.IntakeService")
    say(f"  Keycloak     {keycloak}/admin/ (user admin, password in {shown(DATA / 'keycloak' / 'admin-password')}); "
        f"issuer {issuer}")
    say(f"  Kafka        {kafka}")
    say("")
    say("Press Ctrl-C to stop everything.")


def start_platform(tenant: str, processes: dict[str, subprocess.Popen], ours: list[str]) -> None:
    """Each component in order, one progress line each, then the banner. `processes`: the
    long-running ones by log name; `ours`: the scripts' components this run starts (not reused)."""
    reused = {name: name not in ours for name in ("kafka.sh", "keycloak.sh", "zipkin.sh")}
    with step("Kafka", "kafka") as progress:
        kafka = start("kafka.sh", "kafka")["KAFKA_BOOTSTRAP_SERVERS"]
        progress.note = "already running" if reused["kafka.sh"] else ""
    with step("Keycloak", "keycloak") as progress:
        found = start("keycloak.sh", "keycloak")
        progress.note = "already running" if reused["keycloak.sh"] else ""
    keycloak = found["KEYCLOAK_URL"]
    issuer = f"{keycloak}/realms/{tenant}"
    client_secret = Path(found["OT_PORTAL_CLIENT_SECRET_FILE"]).read_text().strip()
    with step("Zipkin", "zipkin") as progress:
        zipkin = start("zipkin.sh", "zipkin")["ZIPKIN_URL"]
        progress.note = "already running" if reused["zipkin.sh"] else ""
    tracing = tracing_env(zipkin)
    # The local SMTP sink: the feedback mails land in .data/mail and on a small page.
    with step("mail sink", "mail"):
        processes["mail"] = launch(
            [str(BIN / "ot-feedback"), "smtp-sink", "--port", str(SMTP_PORT), "--maildir", str(DATA / "mail"),
             "--http-port", str(MAIL_PAGE_PORT)], None, "mail")
        wait_until(answers(f"http://127.0.0.1:{MAIL_PAGE_PORT}/"), processes["mail"],
                   f"no page on 127.0.0.1:{MAIL_PAGE_PORT}")
    for name, grpc_port, http_port, full_name, seed in SERVICES:
        with step(name, name):
            env = service_env(name, grpc_port, http_port, tenant, kafka, issuer, tracing)
            command = str(BIN / f"ot-{name}")
            run_step([command, "migrate"], env, name)
            if seed:
                run_step([command, seed], env, name)
            processes[name] = launch([command, "serve"], env, name)
            wait_until(serving(grpc_port, full_name), processes[name],
                       f"not SERVING on 127.0.0.1:{grpc_port}")
    with step("portal", "portal"):
        env = portal_env(tenant, issuer, client_secret, tracing)
        run_step([str(BIN / "ot-portal"), "migrate"], env, "portal")
        processes["portal"] = launch([str(BIN / "ot-portal"), "serve"], env, "portal")
        wait_until(answers(f"{PORTAL_URL}/readyz"), processes["portal"], f"no 200 from {PORTAL_URL}/readyz")
    print_guide(tenant, kafka, keycloak, issuer, zipkin)


def run(tenant: str) -> int:
    os.environ["OT_DATA_DIR"] = str(DATA)  # the scripts keep their state in the same place
    DATA.mkdir(parents=True, exist_ok=True)
    ensure_keys(DATA / "dev-keys", SERVICE_KEY)
    (DATA / tenant).mkdir(exist_ok=True)
    rotate_logs()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: STOP.set())
    # A broker, Keycloak or Zipkin someone else started is left running at the end.
    ours = [name for name in ("kafka.sh", "keycloak.sh", "zipkin.sh") if not running(name)]
    processes: dict[str, subprocess.Popen] = {}
    code = 0
    say(f"Starting the OT platform for {TENANTS[tenant]} ({tenant}); logs in {shown(LOGS)}/")
    try:
        start_platform(tenant, processes, ours)
        while not STOP.wait(0.5):
            stopped = [name for name, p in processes.items() if p.poll() is not None]
            if stopped:
                name = stopped[0]
                say(f"\n{name} stopped unexpectedly (exit code {processes[name].returncode}); stopping the rest")
                say(log_tail(name))
                code = 1
                break
    except StartFailed:
        code = 1
    except Interrupted:
        pass
    finally:
        say("\nstopping… ", end="")
        for process in reversed(list(processes.values())):  # the portal first, the mail sink last
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        for name in reversed(ours):
            stop(name, name.removesuffix(".sh"))
        say("stopped.")
    return code


# --- `run_local.py send-due --as-of DATE` ------------------------------------------------------
def send_due(argv: list[str], tenant: str) -> int:
    """`ot-feedback send-due` with the settings `make run` gives feedback (the same database and
    the same mail sink; intake must be running: it tells the worker's address). Its summary is
    shown here, its JSON log lines go to feedback's log."""
    if not (DATA / tenant / "feedback.db").exists():
        say(f"no {shown(DATA / tenant / 'feedback.db')}: start the platform first (make run)")
        return 2
    kafka = script("kafka.sh", "bootstrap", stdout=subprocess.PIPE).stdout.strip()
    issuer = script("keycloak.sh", "issuer", tenant, stdout=subprocess.PIPE).stdout.strip()
    _, grpc_port, http_port, _, _ = next(s for s in SERVICES if s[0] == "feedback")
    env = service_env("feedback", grpc_port, http_port, tenant, kafka, issuer, {})
    done = subprocess.run([str(BIN / "ot-feedback"), "send-due", *argv], env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    LOGS.mkdir(parents=True, exist_ok=True)
    with open_log("feedback") as log:
        for line in done.stderr.splitlines():
            if line.startswith("{"):
                log.write(line + "\n")
            else:
                print(line, file=sys.stderr)
    say(done.stdout.rstrip())
    if done.returncode == 0:
        say(f"the mail: http://127.0.0.1:{MAIL_PAGE_PORT}/")
    return done.returncode


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    tenant = os.environ.get("OT_TENANT", "pohjois-savo")
    if tenant not in TENANTS:
        raise SystemExit(f"OT_TENANT must be one of {', '.join(sorted(TENANTS))}, got {tenant!r}")
    if argv[:1] == ["send-due"]:
        return send_due(argv[1:], tenant)
    if argv:
        raise SystemExit("usage: run_local.py [send-due --as-of DATE]")
    return run(tenant)


if __name__ == "__main__":
    sys.exit(main())
