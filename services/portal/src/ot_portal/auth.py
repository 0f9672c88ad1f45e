"""Signing in with the area's OpenID Connect provider (Authlib's Flask client).

- Authorization Code flow with PKCE (S256) and a nonce; the provider's endpoints and keys come from
  its metadata (<issuer>/.well-known/openid-configuration), whose `issuer` must be the configured one.
- The tokens stay in the server-side session (sessions.py); the browser never sees them.
- The access token is refreshed a minute before it expires, when a page needs it for a call. A
  refresh the provider refuses (the sign-in ended there) ends the portal's session too.
- Sign-out ends the portal's session and then the provider's (RP-initiated logout with the ID
  token as hint), so the next sign-in asks for the password again.
- Only a person of this area with at least one platform role gets in: the ID token's `ot_area` and
  `ot_roles`, the same claims the services read from the access token.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from functools import wraps
from urllib.parse import urlsplit

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Flask, abort, current_app, redirect, request, session, url_for

from ot_runtime.auth import AREA_CLAIM, GROUPS_CLAIM, ROLES, ROLES_CLAIM, SERVICE_ROLE

from .i18n import current_language

log = logging.getLogger("ot.portal.auth")

PERSON_ROLES = tuple(r for r in ROLES if r != SERVICE_ROLE)
# Refresh this many seconds before the access token expires, so a call never leaves with a token
# that dies on the way.
REFRESH_MARGIN_SECONDS = 60
PROVIDER_TIMEOUT_SECONDS = 10


class SignInRequired(Exception):
    """No session, or it ended (at the provider too): sign in again."""


class ProviderUnavailable(Exception):
    """The identity provider did not answer (or answered nonsense): nobody can sign in right now."""


class SignInRefused(Exception):
    """The provider signed the person in, but not for this portal (another area, no role), or the
    sign-in did not complete (cancelled, an old or foreign callback). `kind` names which."""

    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind


@dataclass(frozen=True)
class User:
    subject: str
    name: str
    roles: tuple[str, ...]
    groups: tuple[str, ...]

    def has(self, *roles: str) -> bool:
        return bool(set(self.roles) & set(roles))


def init_auth(app: Flask, settings) -> None:
    oauth = OAuth(app)
    oauth.register(
        "oidc", client_id=settings.oidc_client_id, client_secret=settings.oidc_client_secret,
        server_metadata_url=f"{settings.oidc_issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": "openid profile email", "code_challenge_method": "S256",
                       "timeout": PROVIDER_TIMEOUT_SECONDS})
    app.extensions["ot_oidc"] = oauth.oidc
    app.extensions["ot_portal_settings"] = settings


def _client():
    return current_app.extensions["ot_oidc"]


def _settings():
    return current_app.extensions["ot_portal_settings"]


def _metadata() -> dict:
    """The provider's metadata (fetched once, then kept), checked to be the configured issuer's."""
    client = _client()
    try:
        metadata = client.load_server_metadata()
    except (requests.RequestException, ValueError) as exc:
        log.warning("identity provider metadata not available", extra={"error": type(exc).__name__})
        raise ProviderUnavailable() from None
    if metadata.get("issuer") != _settings().oidc_issuer:
        client.server_metadata.pop("_loaded_at", None)  # ask again next time
        log.error("identity provider metadata names another issuer")
        raise ProviderUnavailable()
    return metadata


def safe_next(target: str | None) -> str:
    """Only a path of this site: never another host (//evil.example, /\\evil.example)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return url_for("index")
    return target


def current_user() -> User | None:
    data = session.get("user")
    if not data:
        return None
    return User(subject=data["sub"], name=data["name"], roles=tuple(data["roles"]), groups=tuple(data["groups"]))


def require_role(*roles: str):
    """A page for signed-in people with one of `roles` (none given: any signed-in person)."""
    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            user = current_user()
            if user is None:
                raise SignInRequired()
            if roles and not user.has(*roles):
                abort(403)
            return view(*args, **kwargs)
        return wrapper
    return decorate


def access_token() -> str:
    """The signed-in person's access token, refreshed first when it is about to expire."""
    tokens = session.get("tokens")
    if not tokens:
        raise SignInRequired()
    if tokens["expires_at"] - REFRESH_MARGIN_SECONDS > time.time():
        return tokens["access_token"]
    _metadata()
    try:
        fresh = _client().fetch_access_token(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    except OAuthError as exc:  # invalid_grant: the sign-in ended at the provider (timed out, signed out)
        log.info("token refresh refused; signing out", extra={"error": exc.error})
        session.clear()
        raise SignInRequired() from None
    except requests.RequestException as exc:
        log.warning("token refresh failed", extra={"error": type(exc).__name__})
        raise ProviderUnavailable() from None
    session["tokens"] = _kept(fresh, previous=tokens)
    log.info("access token refreshed")
    return fresh["access_token"]


def _kept(token: dict, previous: dict | None = None) -> dict:
    expires_at = token.get("expires_at") or int(time.time()) + int(token.get("expires_in", 60))
    return {"access_token": token["access_token"],
            "refresh_token": token.get("refresh_token") or (previous or {}).get("refresh_token", ""),
            "id_token": token.get("id_token") or (previous or {}).get("id_token", ""),
            "expires_at": int(expires_at)}


def register_routes(app: Flask) -> None:
    @app.get("/kirjaudu")
    def login():
        if current_user() is not None:
            return redirect(safe_next(request.args.get("next")))
        _metadata()
        session["next"] = safe_next(request.args.get("next"))
        return _client().authorize_redirect(_settings().redirect_uri, ui_locales=current_language())

    @app.get("/auth/callback")
    def callback():
        _metadata()
        if request.args.get("error"):
            raise SignInRefused("cancelled")
        try:
            token = _client().authorize_access_token()
        except OAuthError as exc:  # a state that is not ours (an old tab, another browser), a bad code
            log.info("sign-in callback refused", extra={"error": exc.error})
            raise SignInRefused("failed") from None
        except requests.RequestException as exc:
            log.warning("token endpoint did not answer", extra={"error": type(exc).__name__})
            raise ProviderUnavailable() from None
        claims = token.get("userinfo") or {}
        settings = _settings()
        if claims.get(AREA_CLAIM) != settings.tenant:
            log.info("sign-in refused: another area")
            raise SignInRefused("other_area")
        roles = [r for r in claims.get(ROLES_CLAIM) or [] if r in PERSON_ROLES]
        if not roles:
            log.info("sign-in refused: no platform role")
            raise SignInRefused("no_role")
        target = session.get("next") or url_for("index")
        session.clear()
        session.rotate()
        name = claims.get("name") or " ".join(filter(None, (claims.get("given_name"), claims.get("family_name"))))
        session["user"] = {"sub": claims["sub"], "name": name or claims.get("preferred_username", ""),
                           "roles": roles, "groups": list(claims.get(GROUPS_CLAIM) or [])}
        session["tokens"] = _kept(token)
        log.info("signed in", extra={"roles": roles})
        return redirect(safe_next(target))

    @app.post("/kirjaudu-ulos")
    def logout():
        tokens = session.get("tokens") or {}
        session.clear()
        settings = _settings()
        if not tokens.get("id_token"):
            return redirect(url_for("signed_out"))
        try:
            end = _client().create_logout_url(post_logout_redirect_uri=settings.signed_out_url,
                                              id_token_hint=tokens["id_token"], client_id=settings.oidc_client_id)
        except (ProviderUnavailable, requests.RequestException, RuntimeError):
            # The portal's session is gone anyway; the provider's ends on its own timeout.
            return redirect(url_for("signed_out", provider="unavailable"))
        log.info("signed out")
        return redirect(end["url"])
