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
    # Platform services' own tokens (role "service" only) come from a separate issuer and key, so
    # a service's key can never mint a person's token. Unset: no service token is accepted.
    service_jwt_issuer: str | None = None
    service_jwt_public_key_file: str | None = None
    service_jwks_url: str | None = None
    jwt_leeway_seconds: int = 30
    jwt_max_lifetime_seconds: int = 12 * 3600
    # Transport security. gRPC: with a certificate and key the server listens with TLS; with a CA
    # file the clients use TLS and verify the server against it. Kafka: the security protocol
    # (PLAINTEXT, SSL, SASL_SSL), the CA that signed the brokers' certificates, and the SASL
    # SCRAM user of this service. Loopback development may stay plaintext.
    grpc_tls_cert_file: str | None = None
    grpc_tls_key_file: str | None = None
    grpc_tls_ca_file: str | None = None
    kafka_security_protocol: str = "PLAINTEXT"
    kafka_ssl_ca_file: str | None = None
    kafka_sasl_mechanism: str | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: str | None = None
    log_level: str = "INFO"
    outbox_poll_seconds: float = 0.5
    shutdown_grace_seconds: float = 10.0
    # The consumer's static group membership (Kafka's group.instance.id): a process restarted
    # under the same id takes its partitions back at once instead of the group waiting out the
    # dead member's session. Unique per replica (the chart uses the pod's name); unset: dynamic.
    consumer_instance_id: str | None = None
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
    service_issuer = env.get("AUTH_SERVICE_ISSUER", "").strip() or None
    service_key_file = env.get("AUTH_SERVICE_PUBLIC_KEY_FILE", "").strip() or None
    service_jwks_url = env.get("AUTH_SERVICE_JWKS_URL", "").strip() or None
    if service_issuer and not service_key_file and not service_jwks_url:
        problems.append("AUTH_SERVICE_ISSUER is set: also set AUTH_SERVICE_PUBLIC_KEY_FILE or AUTH_SERVICE_JWKS_URL "
                        "(where the platform services' token-signing key comes from)")
    if (service_key_file or service_jwks_url) and not service_issuer:
        problems.append("a service token key is set: also set AUTH_SERVICE_ISSUER (the issuer of service tokens)")
    if service_issuer and service_issuer == issuer:
        problems.append("AUTH_SERVICE_ISSUER must differ from AUTH_JWT_ISSUER (service tokens are kept apart)")
    if service_key_file and not os.path.isfile(service_key_file):
        problems.append(f"AUTH_SERVICE_PUBLIC_KEY_FILE points at {service_key_file!r}, which is not a file")
    def existing_file(name: str) -> str | None:
        value = env.get(name, "").strip() or None
        if value and not os.path.isfile(value):
            problems.append(f"{name} points at {value!r}, which is not a file")
        return value

    grpc_cert, grpc_key, grpc_ca = (existing_file("GRPC_TLS_CERT_FILE"), existing_file("GRPC_TLS_KEY_FILE"),
                                    existing_file("GRPC_TLS_CA_FILE"))
    if bool(grpc_cert) != bool(grpc_key):
        problems.append("set both GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE (the server's certificate and key), "
                        "or neither")
    kafka_protocol = env.get("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT").strip().upper() or "PLAINTEXT"
    if kafka_protocol not in {"PLAINTEXT", "SSL", "SASL_SSL"}:
        problems.append(f"KAFKA_SECURITY_PROTOCOL must be PLAINTEXT, SSL or SASL_SSL, got {kafka_protocol!r}")
    kafka_ca = existing_file("KAFKA_SSL_CA_FILE")
    sasl_mechanism = env.get("KAFKA_SASL_MECHANISM", "").strip() or None
    sasl_user = env.get("KAFKA_SASL_USERNAME", "").strip() or None
    sasl_password = env.get("KAFKA_SASL_PASSWORD", "") or None
    if kafka_protocol == "SASL_SSL" and not (sasl_mechanism and sasl_user and sasl_password):
        problems.append("KAFKA_SECURITY_PROTOCOL is SASL_SSL: set KAFKA_SASL_MECHANISM (e.g. SCRAM-SHA-512), "
                        "KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD")
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
        service_jwt_issuer=service_issuer,
        service_jwt_public_key_file=service_key_file,
        service_jwks_url=service_jwks_url,
        jwt_leeway_seconds=integer("AUTH_CLOCK_SKEW_SECONDS", 30),
        jwt_max_lifetime_seconds=integer("AUTH_MAX_TOKEN_LIFETIME_SECONDS", 12 * 3600),
        grpc_tls_cert_file=grpc_cert,
        grpc_tls_key_file=grpc_key,
        grpc_tls_ca_file=grpc_ca,
        kafka_security_protocol=kafka_protocol,
        kafka_ssl_ca_file=kafka_ca,
        kafka_sasl_mechanism=sasl_mechanism,
        kafka_sasl_username=sasl_user,
        kafka_sasl_password=sasl_password,
        log_level=log_level,
        outbox_poll_seconds=number("OUTBOX_POLL_SECONDS", 0.5),
        shutdown_grace_seconds=number("SHUTDOWN_GRACE_SECONDS", 10.0),
        consumer_instance_id=env.get("OT_CONSUMER_INSTANCE_ID", "").strip() or None,
        extra={k: v for k, v in env.items() if k.startswith("OT_")},
    )
    if problems:
        raise SettingsError(f"{service_name}: configuration is incomplete: " + "; ".join(problems))
    return settings
