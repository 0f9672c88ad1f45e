"""Bearer-JWT authentication and the caller's identity.

A token is accepted when it is signed with RS256 or ES256 by the configured key (PEM file or
JWKS URL), its issuer and audience match, it has a subject, it has not expired (a small clock
skew is allowed) and its lifetime is not unreasonably long. Its claims give the caller's
subject, wellbeing area and roles. The area must be this deployment's: an area's token is
useless in another area's release (defence in depth on top of the one-release-per-area model).

Two issuers are trusted, each with its own keys, and they never mix:
- the area's identity provider signs people's tokens; the role "service" in such a token is
  ignored, so no person can act as a platform service;
- the platform services' own issuer (AUTH_SERVICE_ISSUER) signs tokens that carry exactly the
  role "service" and nothing else, so a service's signing key can never mint a person's token
  (an admin, a coordinator). Which RPCs accept the "service" role is in each service's access
  table (ot_runtime.access).
"""
from __future__ import annotations

import contextvars
import re
import threading
import time
from dataclasses import dataclass

import jwt
from cachetools import TLRUCache

from .errors import PermissionDenied, Unauthenticated

# "service" is for the platform's own services calling each other (e.g. feedback reading a
# request's contact e-mail from intake at send time, so that events never need to carry it).
ROLES = ("professional", "coordinator", "secretary", "expert", "group-member", "admin", "service")
ALGORITHMS = ["RS256", "ES256"]
# Accepted tokens remembered per verifier (TokenVerifier.verify), and for how long at most.
VERIFIED_TOKENS = 4096
RECHECK_SECONDS = 300

# Claim names. "ot_area", "ot_roles" and "ot_groups" are ours; "sub" is the standard subject.
AREA_CLAIM = "ot_area"
ROLES_CLAIM = "ot_roles"
# The consultation groups (ids of the OT service map, e.g. "haastavat-erot-pohjois-savo") a
# secretary runs or a group member sits in: what they may read of a case depends on the group the
# case is booked into.
GROUPS_CLAIM = "ot_groups"
_GROUP_ID = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*")
MAX_GROUPS = 50


@dataclass(frozen=True)
class Principal:
    subject: str
    tenant: str
    roles: frozenset[str]
    groups: frozenset[str] = frozenset()

    def has_any(self, *roles: str) -> bool:
        # No role is a super-user: the area's data-protection officer ("admin") gets what its
        # duties need through the access tables, not everything.
        return bool(self.roles & set(roles))


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


SERVICE_ROLE = "service"
MAX_SUBJECT = 128  # an identity provider's user id is a UUID or a short name


class _Keys:
    """Where one issuer's signing keys come from: a PEM file's key or a JWKS URL."""

    def __init__(self, public_key_pem: str | None, jwks_url: str | None):
        if not public_key_pem and not jwks_url:
            raise ValueError("a public key or a JWKS URL is needed")
        self._pem = public_key_pem
        self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True) if jwks_url else None

    def key_for(self, token: str):
        return self._jwks.get_signing_key_from_jwt(token).key if self._jwks else self._pem


def _read(path: str | None) -> str | None:
    if not path:
        return None
    with open(path, encoding="ascii") as f:
        return f.read()


class TokenVerifier:
    def __init__(self, *, issuer: str, audience: str, tenant: str,
                 public_key_pem: str | None = None, jwks_url: str | None = None,
                 service_issuer: str | None = None, service_public_key_pem: str | None = None,
                 service_jwks_url: str | None = None, leeway_seconds: int = 30,
                 max_lifetime_seconds: int = 12 * 3600):
        self.issuer = issuer
        self.audience = audience
        self.tenant = tenant
        self.leeway = leeway_seconds
        self.max_lifetime = max_lifetime_seconds
        self._people = _Keys(public_key_pem, jwks_url)
        if service_issuer is not None and service_issuer == issuer:
            raise ValueError("the service issuer must differ from the people's issuer")
        self.service_issuer = service_issuer
        self._services = _Keys(service_public_key_pem, service_jwks_url) if service_issuer else None
        # token -> (principal, valid until): see verify()
        self._verified = TLRUCache(maxsize=VERIFIED_TOKENS, ttu=lambda _token, value, _now: value[1],
                                   timer=lambda: time.time())
        self._verified_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings) -> "TokenVerifier":
        return cls(issuer=settings.jwt_issuer, audience=settings.jwt_audience, tenant=settings.tenant,
                   public_key_pem=_read(settings.jwt_public_key_file), jwks_url=settings.jwks_url,
                   service_issuer=settings.service_jwt_issuer,
                   service_public_key_pem=_read(settings.service_jwt_public_key_file),
                   service_jwks_url=settings.service_jwks_url, leeway_seconds=settings.jwt_leeway_seconds,
                   max_lifetime_seconds=settings.jwt_max_lifetime_seconds)

    def verify(self, authorization: str | None) -> Principal:
        if not authorization or not authorization.lower().startswith("bearer "):
            raise Unauthenticated(
                "Pyynnöstä puuttuu tunniste (authorization: Bearer <token>). / "
                "The call has no bearer token (authorization: Bearer <token>).")
        token = authorization[7:].strip()
        # One person's token comes again and again (the portal's every call, then consent's check of
        # the same call): the signature is checked once and the result reused until the token
        # expires, or for RECHECK_SECONDS at most, so a key withdrawn from the JWKS stops working
        # within minutes. Only accepted tokens are kept (garbage cannot fill the cache).
        with self._verified_lock:
            hit = self._verified.get(token)
        if hit is not None:
            return hit[0]
        principal, expires = self._verify_token(token)
        with self._verified_lock:
            self._verified[token] = (principal, min(expires + self.leeway, time.time() + RECHECK_SECONDS))
        return principal

    def _verify_token(self, token: str) -> tuple[Principal, float]:
        try:
            # The issuer picks the key set; the signature check below is what makes it true.
            claimed_issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
            as_service = self._services is not None and claimed_issuer == self.service_issuer
            keys, issuer = (self._services, self.service_issuer) if as_service else (self._people, self.issuer)
            claims = jwt.decode(token, keys.key_for(token), algorithms=ALGORITHMS, audience=self.audience,
                                issuer=issuer, leeway=self.leeway,
                                options={"require": ["exp", "sub", "iss", "aud"]})
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("Tunniste on vanhentunut. / The token has expired.") from None
        except jwt.PyJWTError as exc:
            # The reason helps the caller fix their set-up; it holds no token content.
            raise Unauthenticated(f"Tunniste ei kelpaa. / The token is not valid: {type(exc).__name__}.") from None
        self._check_lifetime(claims)
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject.strip():
            raise Unauthenticated("Tunnisteesta puuttuu käyttäjä (sub). / The token has no subject (sub).")
        # The subject is stored (owner of a request, actor in the audit trail): it must fit and be plain.
        if len(subject) > MAX_SUBJECT or not subject.isprintable():
            raise Unauthenticated(f"Tunnisteen käyttäjä (sub) on yli {MAX_SUBJECT} merkkiä tai siinä on ohjausmerkkejä. "
                                  f"/ The token's subject (sub) is over {MAX_SUBJECT} characters or has control "
                                  "characters.")
        area = claims.get(AREA_CLAIM)
        roles = claims.get(ROLES_CLAIM) or []
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise Unauthenticated(f"Tunnisteen {ROLES_CLAIM} ei ole lista. / The token's {ROLES_CLAIM} is not a list.")
        if area != self.tenant:
            raise PermissionDenied(
                "Tunniste on toisen hyvinvointialueen. / The token belongs to another wellbeing area.")
        groups = claims.get(GROUPS_CLAIM) or []
        if (not isinstance(groups, list) or len(groups) > MAX_GROUPS
                or not all(isinstance(g, str) and len(g) <= 64 and _GROUP_ID.fullmatch(g) for g in groups)):
            raise Unauthenticated(f"Tunnisteen {GROUPS_CLAIM} ei ole lista ryhmätunnuksia. / The token's {GROUPS_CLAIM} "
                                  "is not a list of group ids.")
        if as_service:
            if set(roles) != {SERVICE_ROLE}:
                raise PermissionDenied("Palvelutunnisteella voi olla vain rooli service. / A service token may carry "
                                       "only the role service.")
            known = frozenset({SERVICE_ROLE})
            groups = []
        else:
            known = frozenset(r for r in roles if r in ROLES and r != SERVICE_ROLE)
        if not known:
            raise PermissionDenied("Tunnisteessa ei ole yhtään roolia. / The token carries no role.")
        return Principal(subject=subject, tenant=area, roles=known, groups=frozenset(groups)), float(claims["exp"])

    def _check_lifetime(self, claims: dict) -> None:
        """A stolen token is useful for as long as it lives: refuse ones made to live for days."""
        exp = claims["exp"]
        start = claims.get("iat")
        if not isinstance(start, (int, float)):
            start = time.time()
        if not isinstance(exp, (int, float)) or exp - start > self.max_lifetime + self.leeway:
            raise Unauthenticated(
                f"Tunnisteen voimassaoloaika on liian pitkä (enintään {self.max_lifetime // 3600} h). / "
                f"The token's lifetime is too long (at most {self.max_lifetime // 3600} h).")
