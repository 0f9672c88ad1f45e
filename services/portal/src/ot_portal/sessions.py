"""Server-side sessions: the browser holds a random session id, the portal's database the rest.

Why a table in the portal's own small database (SQLite locally, PostgreSQL in a cluster), through
SQLAlchemy like every service's store: the session holds the person's access and refresh tokens,
which must never reach the browser (ARCHITECTURE.md), and it must survive a restart and be shared
by every replica, which an in-process dict is not. A table needs nothing the platform does not
already run (no Redis), and Flask's SessionInterface is the one hook to plug it in.

- The cookie carries 256 random bits and nothing else: HttpOnly, SameSite=Lax, Secure (and the
  `__Host-` name prefix) whenever the portal is not served on plain loopback.
- The table holds SHA-256(id), never the id, and the session's data sealed with AES-256-GCM under a
  key derived from the id: whoever reads the database (a backup, a replica) cannot use a session nor
  read its tokens without the browser's cookie.
- A session ends 30 minutes after its last use and 10 hours after sign-in at the latest (the local
  Keycloak's own limits), and a new id is issued at sign-in (`rotate()`), so an id planted before
  sign-in is worthless after it.
- Anonymous visitors get no row until something is stored for them (the sign-in's state).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import request
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from ot_runtime.db import UtcDateTime

metadata = sa.MetaData()

sessions = sa.Table(
    "portal_sessions", metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True),   # hex SHA-256 of the cookie's id
    sa.Column("data", sa.LargeBinary, nullable=False),       # nonce || AES-GCM(JSON), see _seal
    sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
    sa.Column("expires_at", UtcDateTime(timezone=True), nullable=False),
    sa.Index("ix_portal_sessions_expires_at", "expires_at"),
)

IDLE = timedelta(minutes=30)
MAX_AGE = timedelta(hours=10)
# A session used again within this time is not written just to move its idle expiry on.
TOUCH_EVERY = timedelta(minutes=1)
_ID = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _hash(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def _key(sid: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"ot-portal session").derive(sid.encode())


def _seal(sid: str, data: dict) -> bytes:
    nonce = os.urandom(12)
    return nonce + AESGCM(_key(sid)).encrypt(nonce, json.dumps(data).encode(), _hash(sid).encode())


def _open(sid: str, sealed: bytes) -> dict:
    return json.loads(AESGCM(_key(sid)).decrypt(sealed[:12], sealed[12:], _hash(sid).encode()))


class ServerSession(CallbackDict, SessionMixin):
    def __init__(self, initial=None, sid: str | None = None, created_at: datetime | None = None,
                 expires_at: datetime | None = None):
        def on_update(self):
            self.modified = True
        super().__init__(initial, on_update)
        self.sid = sid
        self.created_at = created_at
        self.expires_at = expires_at
        self.modified = False
        self.rotated_from: str | None = None

    def rotate(self) -> None:
        """Issue a new id for this session at the next save (at sign-in: session fixation)."""
        if self.sid and not self.rotated_from:
            self.rotated_from = self.sid
        self.sid = None
        self.created_at = None
        self.modified = True


class DatabaseSessionInterface(SessionInterface):
    def __init__(self, engine: sa.Engine, *, secure: bool):
        self.engine = engine
        self.secure = secure
        # The __Host- prefix makes the browser refuse the cookie unless it is Secure, for this
        # host only and for the whole site; it needs HTTPS, so plain loopback uses the plain name.
        self.cookie_name = "__Host-ot_portal_session" if secure else "ot_portal_session"

    def open_session(self, app, request) -> ServerSession:
        sid = request.cookies.get(self.cookie_name, "")
        if not _ID.fullmatch(sid):
            return ServerSession()
        with self.engine.connect() as c:
            row = c.execute(sa.select(sessions).where(sessions.c.id_hash == _hash(sid))).first()
        now = _now()
        if row is None or row.expires_at <= now or row.created_at + MAX_AGE <= now:
            return ServerSession()
        try:
            data = _open(sid, row.data)
        except Exception:  # noqa: BLE001 - a row that does not open with this id is no session
            return ServerSession()
        return ServerSession(data, sid=sid, created_at=row.created_at, expires_at=row.expires_at)

    def save_session(self, app, session: ServerSession, response) -> None:
        response.vary.add("Cookie")
        now = _now()
        with self.engine.begin() as c:
            if session.rotated_from:
                c.execute(sa.delete(sessions).where(sessions.c.id_hash == _hash(session.rotated_from)))
            if not session:
                # Emptied (signed out) or never used: nothing is kept, and the cookie goes.
                if session.sid:
                    c.execute(sa.delete(sessions).where(sessions.c.id_hash == _hash(session.sid)))
                if session.sid or session.rotated_from or self.cookie_name in request.cookies:
                    response.delete_cookie(self.cookie_name, path="/", secure=self.secure, httponly=True,
                                           samesite="Lax")
                return
            expires = min(now + IDLE, (session.created_at or now) + MAX_AGE)
            if session.sid is None:
                session.sid = secrets.token_urlsafe(32)
                session.created_at = now
                c.execute(sa.delete(sessions).where(sessions.c.expires_at < now))  # the expired ones
                c.execute(sa.insert(sessions).values(id_hash=_hash(session.sid), data=_seal(session.sid, dict(session)),
                                                     created_at=now, expires_at=expires))
            elif session.modified:
                c.execute(sa.update(sessions).where(sessions.c.id_hash == _hash(session.sid))
                          .values(data=_seal(session.sid, dict(session)), expires_at=expires))
            elif session.expires_at is None or expires - session.expires_at >= TOUCH_EVERY:
                c.execute(sa.update(sessions).where(sessions.c.id_hash == _hash(session.sid))
                          .values(expires_at=expires))
            else:
                return
        # A cookie without Expires: the browser forgets it when it closes; the server's limits above
        # end it sooner.
        response.set_cookie(self.cookie_name, session.sid, path="/", secure=self.secure, httponly=True,
                            samesite="Lax")
