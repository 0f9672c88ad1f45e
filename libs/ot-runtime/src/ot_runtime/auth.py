"""Bearer-JWT authentication and the caller's identity.

A token is accepted when it is signed with RS256 or ES256 by the configured key (PEM file or
JWKS URL), its issuer and audience match, and it has not expired. Its claims give the caller's
subject, wellbeing area and roles. The area must be this deployment's: an area's token is
useless in another area's release (defence in depth on top of the one-release-per-area model).
"""
from __future__ import annotations

import contextvars
from dataclasses import dataclass

import jwt

from .errors import PermissionDenied, Unauthenticated

# "service" is for the platform's own services calling each other (e.g. feedback reading a
# request's contact e-mail from intake at send time, so that events never need to carry it).
ROLES = ("professional", "coordinator", "secretary", "expert", "admin", "service")
ALGORITHMS = ["RS256", "ES256"]

# Claim names. "ot_area" and "ot_roles" are ours; "sub" is the standard subject.
AREA_CLAIM = "ot_area"
ROLES_CLAIM = "ot_roles"


@dataclass(frozen=True)
class Principal:
    subject: str
    tenant: str
    roles: frozenset[str]

    def has_any(self, *roles: str) -> bool:
        return bool(self.roles & set(roles)) or "admin" in self.roles


_current: contextvars.ContextVar[Principal | None] = contextvars.ContextVar("ot_principal", default=None)
# The caller's own bearer header, for a service that must act with the caller's identity on
# another service (intake asking consent for a data key: consent's audit then names the person).
_bearer: contextvars.ContextVar[str | None] = contextvars.ContextVar("ot_bearer", default=None)


def current_bearer() -> str | None:
    return _bearer.get()


def current_principal() -> Principal:
    principal = _current.get()
    if principal is None:
        raise Unauthenticated("Tunnistautuminen puuttuu. / Authentication is missing.")
    return principal


def set_principal(principal: Principal | None, bearer: str | None = None) -> tuple:
    return _current.set(principal), _bearer.set(bearer)


def reset_principal(tokens: tuple) -> None:
    _current.reset(tokens[0])
    _bearer.reset(tokens[1])


def require_role(principal: Principal, *roles: str) -> None:
    if not principal.has_any(*roles):
        raise PermissionDenied(
            f"Tähän tarvitaan jokin rooleista: {', '.join(roles)}. / This needs one of the roles: {', '.join(roles)}.")


class TokenVerifier:
    def __init__(self, *, issuer: str, audience: str, tenant: str,
                 public_key_pem: str | None = None, jwks_url: str | None = None):
        if not public_key_pem and not jwks_url:
            raise ValueError("a public key or a JWKS URL is needed")
        self.issuer = issuer
        self.audience = audience
        self.tenant = tenant
        self._key = public_key_pem
        self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True) if jwks_url else None

    @classmethod
    def from_settings(cls, settings) -> "TokenVerifier":
        pem = None
        if settings.jwt_public_key_file:
            with open(settings.jwt_public_key_file, encoding="ascii") as f:
                pem = f.read()
        return cls(issuer=settings.jwt_issuer, audience=settings.jwt_audience, tenant=settings.tenant,
                   public_key_pem=pem, jwks_url=settings.jwks_url)

    def verify(self, authorization: str | None) -> Principal:
        if not authorization or not authorization.lower().startswith("bearer "):
            raise Unauthenticated(
                "Pyynnöstä puuttuu tunniste (authorization: Bearer <token>). / "
                "The call has no bearer token (authorization: Bearer <token>).")
        token = authorization[7:].strip()
        try:
            key = self._jwks.get_signing_key_from_jwt(token).key if self._jwks else self._key
            claims = jwt.decode(token, key, algorithms=ALGORITHMS, audience=self.audience, issuer=self.issuer,
                                options={"require": ["exp", "sub", "iss", "aud"]})
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("Tunniste on vanhentunut. / The token has expired.") from None
        except jwt.PyJWTError as exc:
            # The reason helps the caller fix their set-up; it holds no token content.
            raise Unauthenticated(f"Tunniste ei kelpaa. / The token is not valid: {type(exc).__name__}.") from None
        area = claims.get(AREA_CLAIM)
        roles = claims.get(ROLES_CLAIM) or []
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise Unauthenticated(f"Tunnisteen {ROLES_CLAIM} ei ole lista. / The token's {ROLES_CLAIM} is not a list.")
        if area != self.tenant:
            raise PermissionDenied(
                "Tunniste on toisen hyvinvointialueen. / The token belongs to another wellbeing area.")
        known = frozenset(r for r in roles if r in ROLES)
        if not known:
            raise PermissionDenied("Tunnisteessa ei ole yhtään roolia. / The token carries no role.")
        return Principal(subject=str(claims["sub"]), tenant=area, roles=known)
