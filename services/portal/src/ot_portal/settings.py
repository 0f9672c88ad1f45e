"""The portal's settings, read once from the environment; a missing or wrong variable stops the
process at start with every problem named (as the services' ot_runtime.settings does).

The portal is no gRPC server and has no Kafka: it has its own small settings object instead of the
services' one. It carries the same gRPC TLS fields, so ot_runtime.grpc_client.make_channel opens its
channels exactly as the services open theirs.
"""
from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from typing import Mapping
from urllib.parse import urlsplit

from ot_runtime.settings import SettingsError
from ot_runtime.tenants import TENANTS

SERVICES = ("intake", "experts", "consent", "feedback")


def is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class PortalSettings:
    tenant: str
    database_url: str             # the server-side sessions (the portal keeps nothing else)
    http_host: str
    http_port: int
    public_url: str               # how people reach the portal, e.g. https://ot.pohjois-savo.example
    oidc_issuer: str              # the area's provider; metadata at <issuer>/.well-known/openid-configuration
    oidc_client_id: str
    oidc_client_secret: str
    secret_key: str               # signs the forms' CSRF tokens
    grpc_targets: Mapping[str, str]
    trusted_proxies: int = 0      # proxies in front (the ingress) whose X-Forwarded-* headers count
    grpc_tls_cert_file: str | None = None
    grpc_tls_key_file: str | None = None
    grpc_tls_ca_file: str | None = None
    log_level: str = "INFO"
    shutdown_grace_seconds: float = 10.0
    service_name: str = "portal"

    @property
    def secure(self) -> bool:
        """Cookies are Secure and HSTS is sent unless people reach the portal over plain loopback."""
        return urlsplit(self.public_url).scheme == "https"

    @property
    def redirect_uri(self) -> str:
        return f"{self.public_url}/auth/callback"

    @property
    def signed_out_url(self) -> str:
        return f"{self.public_url}/uloskirjautunut"


def load_portal_settings(env: Mapping[str, str] | None = None) -> PortalSettings:
    env = os.environ if env is None else env
    problems: list[str] = []

    def required(name: str, why: str) -> str:
        value = env.get(name, "").strip()
        if not value:
            problems.append(f"{name} is not set ({why})")
        return value

    def integer(name: str, default: int) -> int:
        raw = env.get(name, "").strip()
        if not raw:
            return default
        if not raw.isdigit():
            problems.append(f"{name} must be a whole number, got {raw!r}")
            return default
        return int(raw)

    def existing_file(name: str) -> str | None:
        value = env.get(name, "").strip() or None
        if value and not os.path.isfile(value):
            problems.append(f"{name} points at {value!r}, which is not a file")
        return value

    tenant = required("OT_TENANT", "the wellbeing area")
    if tenant and tenant not in TENANTS:
        problems.append(f"OT_TENANT must be one of {', '.join(sorted(TENANTS))}, got {tenant!r}")
    database_url = required("DATABASE_URL", "the database of the sign-in sessions")
    public_url = required("OT_PORTAL_PUBLIC_URL", "the address people open, e.g. https://ot.example.fi").rstrip("/")
    if public_url:
        parts = urlsplit(public_url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query:
            problems.append(f"OT_PORTAL_PUBLIC_URL must be a scheme and host (and port), got {public_url!r}")
        elif parts.scheme == "http" and not is_loopback_url(public_url):
            problems.append("OT_PORTAL_PUBLIC_URL must be https unless it is a loopback address "
                            "(session cookies must not travel in clear text)")
    issuer = required("OT_OIDC_ISSUER", "the area's OpenID Connect provider, e.g. "
                                        "https://login.example.fi/realms/pohjois-savo").rstrip("/")
    client_id = required("OT_OIDC_CLIENT_ID", "the portal's client id at the provider")
    client_secret = required("OT_OIDC_CLIENT_SECRET", "the portal's client secret at the provider")
    secret_key = env.get("OT_PORTAL_SECRET_KEY", "").strip()
    if len(secret_key) < 32:
        problems.append("OT_PORTAL_SECRET_KEY must be set to at least 32 characters (it signs the forms' CSRF "
                        "tokens; e.g. `python -c 'import secrets;print(secrets.token_hex(32))'`)")
    targets = {name: required(f"OT_{name.upper()}_GRPC_TARGET", f"host:port of the {name} service")
               for name in SERVICES}
    cert, key, ca = (existing_file("GRPC_TLS_CERT_FILE"), existing_file("GRPC_TLS_KEY_FILE"),
                     existing_file("GRPC_TLS_CA_FILE"))
    if bool(cert) != bool(key):
        problems.append("set both GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE, or neither")
    log_level = env.get("LOG_LEVEL", "INFO").strip().upper() or "INFO"
    if log_level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        problems.append(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {log_level!r}")
    grace = env.get("SHUTDOWN_GRACE_SECONDS", "").strip()
    try:
        grace_seconds = float(grace) if grace else 10.0
    except ValueError:
        problems.append(f"SHUTDOWN_GRACE_SECONDS must be a number, got {grace!r}")
        grace_seconds = 10.0
    settings = PortalSettings(
        tenant=tenant, database_url=database_url, http_host=env.get("HTTP_HOST", "127.0.0.1").strip(),
        http_port=integer("HTTP_PORT", 8080), public_url=public_url, oidc_issuer=issuer,
        oidc_client_id=client_id, oidc_client_secret=client_secret, secret_key=secret_key, grpc_targets=targets,
        trusted_proxies=integer("OT_PORTAL_TRUSTED_PROXIES", 0), grpc_tls_cert_file=cert, grpc_tls_key_file=key,
        grpc_tls_ca_file=ca, log_level=log_level, shutdown_grace_seconds=grace_seconds)
    if problems:
        raise SettingsError("portal: configuration is incomplete: " + "; ".join(problems))
    return settings
