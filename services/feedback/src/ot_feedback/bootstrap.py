"""The one place that wires feedback together from its settings. Nothing connects at import time."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping

import sqlalchemy as sa
from ot.feedback.v1 import feedback_pb2_grpc

from ot_runtime.clock import Clock, SystemClock
from ot_runtime.consumer import EventConsumer
from ot_runtime.db import create_engine, session_factory
from ot_runtime.grpc_server import GrpcServer
from ot_runtime.outbox import OutboxRelay
from ot_runtime.service import wire
from ot_runtime.settings import Settings, SettingsError
from ot_runtime.web import HttpServer

from .aggregate import CooperationConfig
from .consumers import event_handlers
from .directory import (ExpertsDirectory, GrpcExpertsDirectory, GrpcIntakeDirectory, IntakeDirectory,
                        SignedServiceToken)
from .domain import FollowUpPolicy, LinkSigner
from .edge import ACCESS, FIELD_RULES, SERVICE as FEEDBACK_SERVICE
from .grpc_api import FeedbackServicer
from .handlers import FeedbackHandlers
from .mailer import Mailer, SmtpConfig, SmtpMailer
from .notifications import Notifications, Recipients
from .scheduler import FeedbackScheduler
from .store import inbox, outbox
from .web import create_app

SERVICE = "feedback"
SERVICE_FULL_NAME = FEEDBACK_SERVICE.full_name


@dataclass(frozen=True)
class FeedbackConfig:
    """Feedback's own settings (OT_* variables), checked at start with every problem named."""
    policy: FollowUpPolicy
    link_secret: bytes
    public_url: str               # base of the mailed links; "" = the portal's address (OT_PORTAL_URL)
    smtp: SmtpConfig
    intake_target: str
    experts_target: str
    service_token_key_file: str
    tick_seconds: float
    recipients: Recipients
    cooperation: CooperationConfig = CooperationConfig()

    @classmethod
    def from_env(cls, env: Mapping[str, str], tenant: str) -> "FeedbackConfig":
        problems: list[str] = []
        try:
            policy = FollowUpPolicy.from_env(env)
        except SettingsError as exc:
            problems.append(str(exc).removeprefix("feedback: "))
            policy = FollowUpPolicy()
        try:
            recipients = Recipients.from_env(env)
        except SettingsError as exc:
            problems.append(str(exc).removeprefix("feedback: "))
            recipients = Recipients()
        try:
            cooperation = CooperationConfig.from_env(env, tenant)
        except SettingsError as exc:
            problems.append(str(exc).removeprefix("feedback: "))
            cooperation = CooperationConfig()
        secret = env.get("OT_FEEDBACK_LINK_SECRET", "").strip()
        if len(secret) < 32:
            problems.append("OT_FEEDBACK_LINK_SECRET must be set to at least 32 characters "
                            "(it signs the feedback links; e.g. `python -c 'import secrets;print(secrets.token_hex(32))'`)")
        key_file = env.get("OT_SERVICE_TOKEN_KEY_FILE", "").strip()
        if not key_file:
            problems.append("OT_SERVICE_TOKEN_KEY_FILE is not set (the private key that signs this service's "
                            "short-lived 'service' token for intake's GetRequest and experts' GetExpert)")
        elif not os.path.isfile(key_file):
            problems.append(f"OT_SERVICE_TOKEN_KEY_FILE points at {key_file!r}, which is not a file")

        def number(name: str, default: float, kind=float):
            raw = env.get(name, "").strip()
            if not raw:
                return default
            try:
                return kind(raw)
            except ValueError:
                problems.append(f"{name} must be a number, got {raw!r}")
                return default

        smtp = SmtpConfig(host=env.get("OT_SMTP_HOST", "127.0.0.1").strip(), port=number("OT_SMTP_PORT", 2525, int),
                          starttls=env.get("OT_SMTP_STARTTLS", "").strip().lower() in {"1", "true", "yes"},
                          username=env.get("OT_SMTP_USERNAME", "").strip(),
                          password=env.get("OT_SMTP_PASSWORD", ""),
                          sender=env.get("OT_FEEDBACK_MAIL_FROM", "").strip() or f"ot-palaute@{tenant}.invalid")
        config = cls(policy=policy, link_secret=secret.encode(), public_url=env.get("OT_FEEDBACK_PUBLIC_URL", "").strip(),
                     smtp=smtp, intake_target=env.get("OT_INTAKE_GRPC_TARGET", "127.0.0.1:50051").strip(),
                     experts_target=env.get("OT_EXPERTS_GRPC_TARGET", "127.0.0.1:50052").strip(),
                     service_token_key_file=key_file, tick_seconds=number("OT_FEEDBACK_TICK_SECONDS", 60.0),
                     recipients=recipients, cooperation=cooperation)
        if problems:
            raise SettingsError("feedback: configuration is incomplete: " + "; ".join(problems))
        return config


@dataclass
class FeedbackApp:
    settings: Settings
    engine: sa.Engine
    handlers: FeedbackHandlers
    producer: object
    relay: OutboxRelay
    consumer: EventConsumer
    grpc_server: GrpcServer
    http_server: HttpServer
    scheduler: FeedbackScheduler
    directory: IntakeDirectory
    experts: ExpertsDirectory
    notifications: Notifications
    mailer: Mailer
    config: FeedbackConfig


def build(settings: Settings, *, clock: Clock | None = None, directory: IntakeDirectory | None = None,
          experts: ExpertsDirectory | None = None, mailer: Mailer | None = None,
          relay_batch_size: int = 100) -> FeedbackApp:
    config = FeedbackConfig.from_env(settings.extra, settings.tenant)
    clock = clock or SystemClock()
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    signer = LinkSigner(config.link_secret)
    handlers = FeedbackHandlers(sessions=sessions, tenant=settings.tenant, policy=config.policy, signer=signer,
                                clock=clock, cooperation=config.cooperation)
    notifications = Notifications(tenant=settings.tenant, clock=clock)

    def register(server) -> list[str]:
        feedback_pb2_grpc.add_FeedbackServiceServicer_to_server(FeedbackServicer(handlers), server)
        return [SERVICE_FULL_NAME]

    # Feedback publishes no events yet; its outbox and topic are ready for when it does. It reads
    # intake's request, conversation and meeting events, experts' assignments and consent's key
    # shredding (the chart's services.feedback.consumes says the same: the Kafka ACLs).
    parts = wire(settings, engine=engine, sessions=sessions, outbox=outbox, inbox=inbox,
                 consumes=["intake", "consent", "experts"], handlers=event_handlers(handlers, notifications),
                 register=register,
                 access=ACCESS, field_rules=FIELD_RULES,
                 make_app=lambda checks, verifier: create_app(config.recipients.portal_url, checks),
                 relay_batch_size=relay_batch_size)
    http = parts.http_server
    scheduler = make_scheduler(settings, config, sessions, signer, clock, directory=directory, experts=experts,
                               mailer=mailer)
    return FeedbackApp(settings=settings, engine=engine, handlers=handlers, producer=parts.producer,
                       relay=parts.relay, consumer=parts.consumer, grpc_server=parts.grpc_server, http_server=http,
                       scheduler=scheduler, directory=scheduler.directory, experts=scheduler.experts,
                       notifications=notifications, mailer=scheduler.mailer, config=config)


def make_scheduler(settings: Settings, config: FeedbackConfig, sessions, signer: LinkSigner, clock: Clock, *,
                   directory: IntakeDirectory | None = None, experts: ExpertsDirectory | None = None,
                   mailer: Mailer | None = None) -> FeedbackScheduler:
    """The mail schedule and what it sends with (intake's and experts' directories, SMTP): for
    `serve`, and for `ot-feedback send-due`, which runs it once without the rest of the service."""
    if directory is None or experts is None:
        if not settings.service_jwt_issuer:
            raise SettingsError("feedback: AUTH_SERVICE_ISSUER is not set (the issuer of the platform services' own "
                                "tokens, with which feedback signs its calls to intake and experts)")
        tokens = SignedServiceToken.from_file(config.service_token_key_file, tenant=settings.tenant,
                                              issuer=settings.service_jwt_issuer, audience=settings.jwt_audience)
        directory = directory or GrpcIntakeDirectory(config.intake_target, tokens, settings)
        experts = experts or GrpcExpertsDirectory(config.experts_target, tokens, settings)
    return FeedbackScheduler(
        sessions=sessions, directory=directory, experts=experts, recipients=config.recipients,
        mailer=mailer or SmtpMailer(config.smtp), signer=signer, policy=config.policy, clock=clock,
        tenant=settings.tenant, public_url=config.public_url or config.recipients.portal_url,
        sender=config.smtp.sender, tick_seconds=config.tick_seconds)
