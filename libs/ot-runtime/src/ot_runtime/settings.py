"""Typed settings read once from the environment.

Every service builds one `Settings` in bootstrap; nothing reads os.environ elsewhere. A missing
or malformed variable stops the process at start with a message naming the variable, instead
of failing later on the first request.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping

from .tenants import TENANTS


class SettingsError(Exception):
    """Configuration is missing or wrong; the message names every offending variable."""


@dataclass(frozen=True)
class Settings:
    service_name: str
    tenant: str
    database_url: str
    kafka_bootstrap_servers: str
    topic_prefix: str
    grpc_host: str
    grpc_port: int
    http_host: str
    http_port: int
    jwt_issuer: str
    jwt_audience: str
    jwt_public_key_file: str | None
    jwks_url: str | None
    log_level: str = "INFO"
    outbox_poll_seconds: float = 0.5
    shutdown_grace_seconds: float = 10.0
    extra: Mapping[str, str] = field(default_factory=dict)

    def topic(self, service: str) -> str:
        """Topic of a service's events in this area, e.g. ot.pohjois-savo.intake.v1."""
        return f"{self.topic_prefix}.{service}.v1"

    def require(self, name: str, why: str) -> str:
        """A service's own OT_* setting that must be there; the error says what it is for."""
        value = self.extra.get(name, "").strip()
        if not value:
            raise SettingsError(f"{self.service_name}: {name} is not set ({why})")
        return value

    @property
    def dead_letter_topic(self) -> str:
        """Where this service's consumer parks events it cannot process."""
        return f"{self.topic_prefix}.{self.service_name}.dlt.v1"

    @property
    def event_source(self) -> str:
        return f"/ot/{self.tenant}/{self.service_name}"


def load_settings(service_name: str, env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate the settings of one service; raise SettingsError naming what is wrong."""
    env = os.environ if env is None else env
    problems: list[str] = []

    def required(name: str) -> str:
        value = env.get(name, "").strip()
        if not value:
            problems.append(f"{name} is not set")
        return value

    def integer(name: str, default: int) -> int:
        raw = env.get(name, "").strip()
        if not raw:
            return default
        try:
            return int(raw)
        except ValueError:
            problems.append(f"{name} must be a whole number, got {raw!r}")
            return default

    def number(name: str, default: float) -> float:
        raw = env.get(name, "").strip()
        if not raw:
            return default
        try:
            return float(raw)
        except ValueError:
            problems.append(f"{name} must be a number, got {raw!r}")
            return default

    tenant = required("OT_TENANT")
    if tenant and tenant not in TENANTS:
        problems.append(f"OT_TENANT must be one of {', '.join(sorted(TENANTS))}, got {tenant!r}")
    database_url = required("DATABASE_URL")
    kafka = required("KAFKA_BOOTSTRAP_SERVERS")
    issuer = required("AUTH_JWT_ISSUER")
    audience = required("AUTH_JWT_AUDIENCE")
    key_file = env.get("AUTH_JWT_PUBLIC_KEY_FILE", "").strip() or None
    jwks_url = env.get("AUTH_JWKS_URL", "").strip() or None
    if not key_file and not jwks_url:
        problems.append("set AUTH_JWT_PUBLIC_KEY_FILE or AUTH_JWKS_URL (where the token-signing key comes from)")
    if key_file and not os.path.isfile(key_file):
        problems.append(f"AUTH_JWT_PUBLIC_KEY_FILE points at {key_file!r}, which is not a file")
    log_level = env.get("LOG_LEVEL", "INFO").strip().upper() or "INFO"
    if log_level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        problems.append(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {log_level!r}")

    settings = Settings(
        service_name=service_name,
        tenant=tenant,
        database_url=database_url,
        kafka_bootstrap_servers=kafka,
        topic_prefix=env.get("OT_TOPIC_PREFIX", "").strip() or f"ot.{tenant}",
        grpc_host=env.get("GRPC_HOST", "127.0.0.1").strip(),
        grpc_port=integer("GRPC_PORT", 50051),
        http_host=env.get("HTTP_HOST", "127.0.0.1").strip(),
        http_port=integer("HTTP_PORT", 8080),
        jwt_issuer=issuer,
        jwt_audience=audience,
        jwt_public_key_file=key_file,
        jwks_url=jwks_url,
        log_level=log_level,
        outbox_poll_seconds=number("OUTBOX_POLL_SECONDS", 0.5),
        shutdown_grace_seconds=number("SHUTDOWN_GRACE_SECONDS", 10.0),
        extra={k: v for k, v in env.items() if k.startswith("OT_")},
    )
    if problems:
        raise SettingsError(f"{service_name}: configuration is incomplete: " + "; ".join(problems))
    return settings
