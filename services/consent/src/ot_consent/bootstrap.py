"""The one place that wires consent together from its settings. Nothing connects at import time."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from ot.consent.v1 import consent_pb2, consent_pb2_grpc

from ot_runtime.clock import Clock, SystemClock
from ot_runtime.consumer import EventConsumer
from ot_runtime.crypto import MasterKeys, key_from_base64, legacy_master_key, parse_master_keys
from ot_runtime.db import create_engine, session_factory
from ot_runtime.grpc_server import GrpcServer
from ot_runtime.outbox import Outbox, OutboxRelay
from ot_runtime.service import wire
from ot_runtime.settings import Settings, SettingsError
from ot_runtime.web import HttpServer
from ot_runtime.worker import BackgroundWorker

from .audit import add_chainer, remove_chainer
from .consumers import event_handlers
from .domain import policies_from_env
from .edge import ACCESS, FIELD_RULES
from .grpc_api import ConsentServicer
from .handlers import DEFAULT_ORPHAN_GRACE, ConsentHandlers
from .notice import notice_area, portal_url
from .store import inbox, outbox
from .web import create_app

log = logging.getLogger("ot.consent")

SERVICE = "consent"
SERVICE_FULL_NAME = consent_pb2.DESCRIPTOR.services_by_name["ConsentService"].full_name


def master_keys(settings: Settings) -> MasterKeys:
    """OT_CONSENT_MASTER_KEYS: `<version>:<base64 of 32 bytes>` entries, comma-separated, the
    current version first (e.g. "v2:...,v1:..."). The older OT_CONSENT_MASTER_KEY (one key) still
    works and is version v1. Messages name the variable and versions, never key material."""
    many = settings.extra.get("OT_CONSENT_MASTER_KEYS", "").strip()
    one = settings.extra.get("OT_CONSENT_MASTER_KEY", "").strip()
    if many and one:
        raise SettingsError("consent: set OT_CONSENT_MASTER_KEYS or OT_CONSENT_MASTER_KEY, not both (the single "
                            "key is version v1: list it in OT_CONSENT_MASTER_KEYS as v1:<base64>)")
    if not many and not one:
        raise SettingsError("consent: OT_CONSENT_MASTER_KEYS is not set (<version>:<base64 of 32 random bytes>, "
                            "the current version first, e.g. v1:$(openssl rand -base64 32); keep it in a Secret)")
    try:
        return (parse_master_keys(many, "OT_CONSENT_MASTER_KEYS") if many
                else legacy_master_key(one, "OT_CONSENT_MASTER_KEY"))
    except ValueError as exc:
        raise SettingsError(f"consent: {'OT_CONSENT_MASTER_KEYS' if many else 'OT_CONSENT_MASTER_KEY'} {exc}") from None


def audit_key(settings: Settings) -> bytes:
    raw = settings.require("OT_CONSENT_AUDIT_KEY", "base64 of 32 random bytes, e.g. `openssl rand -base64 32`, "
                                                   "from a Secret: the key of the audit trail's MACs")
    try:
        return key_from_base64(raw)
    except ValueError as exc:
        raise SettingsError(f"consent: OT_CONSENT_AUDIT_KEY {exc}") from None


def _whole_number(settings: Settings, name: str, default: int, minimum: int) -> int:
    raw = settings.extra.get(name, "").strip()
    try:
        value = int(raw) if raw else default
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise SettingsError(f"consent: {name} must be a whole number of at least {minimum}")
    return value


class PurgeScheduler(BackgroundWorker):
    """Discards orphan cases and applies the retention policies every OT_PURGE_INTERVAL_SECONDS
    (default one hour)."""

    name = "purge-scheduler"

    def __init__(self, handlers: ConsentHandlers, interval_seconds: float):
        super().__init__()
        self.handlers = handlers
        self.idle_seconds = interval_seconds

    def step(self) -> bool:
        self.handlers.purge()  # orphans first, then retention
        return False  # then wait a whole interval


class AuditAnchorer(BackgroundWorker):
    """Publishes the audit trail's head every OT_AUDIT_ANCHOR_INTERVAL_SECONDS (default 300) when
    it has grown: what is removed after the last anchor is what verify-audit cannot see."""

    name = "audit-anchor"

    def __init__(self, handlers: ConsentHandlers, interval_seconds: float):
        super().__init__()
        self.handlers = handlers
        self.idle_seconds = interval_seconds

    def step(self) -> bool:
        self.handlers.anchor_audit()
        return False  # then wait a whole interval


class AuditChainer(BackgroundWorker):
    """Links the audit entries writers leave pending into the chain (audit.py), in short
    transactions of its own: woken by each commit in this process that appended one, and every
    `idle_seconds` as the fallback (entries of operator commands and of a replica that stopped
    before chaining). While it runs, writers in this process never touch the audit head."""

    name = "audit-chain"
    idle_seconds = 0.25

    def __init__(self, handlers: ConsentHandlers, engine: sa.Engine):
        super().__init__()
        self.handlers = handlers
        self.tenant = handlers.tenant  # with `engine`: the trail whose commits wake it (audit.add_chainer)
        self.engine = engine

    def start(self) -> None:
        add_chainer(self)
        super().start()

    def stop(self, timeout: float = 30.0) -> None:
        remove_chainer(self)  # commits from now on chain in their own thread
        super().stop(timeout)
        try:
            self.handlers.chain_audit()  # what was woken for but not yet done
        except Exception as error:
            log.warning("audit entries left pending at stop; the next chaining takes them",
                        extra={"error": type(error).__name__})

    def step(self) -> bool:
        self.handlers.chain_audit()  # drains: a batch per transaction until none is left
        return False


class AuditVerifier(BackgroundWorker):
    """Verifies the audit trail's chain at start and then every OT_AUDIT_VERIFY_INTERVAL_SECONDS
    (default a day), so a changed or missing entry raises OtAuditVerificationFailed
    (ot_consent_audit_verifications_total{result="broken"}) without anyone having to ask."""

    name = "audit-verify"

    def __init__(self, handlers: ConsentHandlers, interval_seconds: float):
        super().__init__()
        self.handlers = handlers
        self.idle_seconds = interval_seconds

    def step(self) -> bool:
        self.handlers.verify_audit(None)  # counted and, when broken, logged by verify_audit
        return False  # then wait a whole interval


@dataclass
class ConsentApp:
    settings: Settings
    engine: sa.Engine
    handlers: ConsentHandlers
    producer: object
    relay: OutboxRelay
    consumer: EventConsumer
    purger: PurgeScheduler
    anchorer: AuditAnchorer
    verifier: AuditVerifier
    chainer: AuditChainer
    grpc_server: GrpcServer
    http_server: HttpServer


def build_handlers(settings: Settings, clock: Clock | None = None) -> tuple[sa.Engine, ConsentHandlers]:
    """The database side only: enough for the operator commands (verify-audit, export-audit,
    rotate-master-key, retire-master-key)."""
    keys, trail_key = master_keys(settings), audit_key(settings)
    unkeyed_until = _whole_number(settings, "OT_CONSENT_AUDIT_UNKEYED_UNTIL", 0, 0)
    # How long a case opened by intake may wait for intake's RequestSubmitted before the purge
    # discards it as an orphan. Intake's relay publishes within seconds; at least a minute, so a
    # slow relay is never taken for a crash.
    orphan_grace = _whole_number(settings, "OT_CONSENT_ORPHAN_GRACE_SECONDS",
                                 int(DEFAULT_ORPHAN_GRACE.total_seconds()), 60)
    try:
        defaults = policies_from_env(settings.extra)
    except ValueError as exc:
        raise SettingsError(f"consent: {exc}") from None
    engine = create_engine(settings.database_url)
    handlers = ConsentHandlers(sessions=session_factory(engine),
                               outbox=Outbox(outbox, source=settings.event_source, tenant=settings.tenant),
                               tenant=settings.tenant, topic=settings.topic(SERVICE), clock=clock or SystemClock(),
                               master_keys=keys, audit_key=trail_key, audit_unkeyed_until=unkeyed_until,
                               default_policies=defaults, orphan_grace=timedelta(seconds=orphan_grace))
    return engine, handlers


def build(settings: Settings, *, clock: Clock | None = None) -> ConsentApp:
    try:
        interval = float(settings.extra.get("OT_PURGE_INTERVAL_SECONDS", "3600"))
    except ValueError:
        raise SettingsError("consent: OT_PURGE_INTERVAL_SECONDS must be a number of seconds") from None
    anchor_interval = _whole_number(settings, "OT_AUDIT_ANCHOR_INTERVAL_SECONDS", 300, 1)
    verify_interval = _whole_number(settings, "OT_AUDIT_VERIFY_INTERVAL_SECONDS", 86400, 60)
    # The privacy notice's area values and where it is published: refused before anything connects
    # when they are missing off loopback (notice.NoticeArea.from_env says why).
    area, portal = notice_area(settings), portal_url(settings)
    engine, handlers = build_handlers(settings, clock)
    handlers.check_master_keys()  # a missing or wrong version stops the start, naming the variable
    sessions = handlers.sessions

    def register(server) -> list[str]:
        consent_pb2_grpc.add_ConsentServiceServicer_to_server(ConsentServicer(handlers, area), server)
        return [SERVICE_FULL_NAME]

    # Intake's events (a request stored, its status and booking) and experts' (who is assigned).
    parts = wire(settings, engine=engine, sessions=sessions, outbox=outbox, inbox=inbox,
                 consumes=["intake", "experts"],
                 handlers=event_handlers(handlers), register=register, access=ACCESS, field_rules=FIELD_RULES,
                 make_app=lambda checks, verifier: create_app(checks, portal))
    return ConsentApp(settings=settings, engine=engine, handlers=handlers, producer=parts.producer,
                      relay=parts.relay, consumer=parts.consumer, purger=PurgeScheduler(handlers, interval),
                      anchorer=AuditAnchorer(handlers, anchor_interval),
                      verifier=AuditVerifier(handlers, verify_interval), chainer=AuditChainer(handlers, engine),
                      grpc_server=parts.grpc_server, http_server=parts.http_server)
