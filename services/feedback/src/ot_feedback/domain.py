"""Feedback's rules: when to ask, what an answer may hold, and the signed link. No I/O here."""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from typing import Mapping

from ot_runtime.errors import FieldViolation
from ot_runtime.settings import SettingsError
from ot_runtime.vocabulary import REQUEST_TYPE_LABELS, Category, RequestType, Sector  # noqa: F401 (re-exported)
from ot_runtime.vocabulary import RequestStatus as Status


# A follow-up starts when intake reports either of these (whichever comes first).
FOLLOW_UP_TRIGGERS = (Status.CONSULTED, Status.RECOMMENDATIONS_RETURNED)


class FollowUpState(StrEnum):
    SCHEDULED = "scheduled"   # the request mail is not sent yet
    SENT = "sent"             # waiting for the answer; the link works
    ANSWERED = "answered"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class MailKind(StrEnum):
    REQUEST = "request"
    REMINDER = "reminder"


class MailState(StrEnum):
    DUE = "due"                  # waiting for its time (or for a retry after a refused send)
    SENDING = "sending"          # claimed by one scheduler; committed before the SMTP exchange
    SENT = "sent"                # the SMTP server accepted it
    UNCONFIRMED = "unconfirmed"  # claimed but never marked: maybe sent, never sent again (at-most-once)
    CANCELLED = "cancelled"
    FAILED = "failed"            # refused too many times


class GotNeeded(StrEnum):
    YES = "yes"
    PARTLY = "partly"
    NO = "no"


class WhatNext(StrEnum):
    RECOMMENDATIONS_FOLLOWED = "recommendations_followed"
    REFERRED_TO_SERVICE = "referred_to_service"
    CONTINUES_IN_OWN_TEAM = "continues_in_own_team"
    NOTHING_YET = "nothing_yet"
    OTHER = "other"


GOT_NEEDED_LABELS = {GotNeeded.YES: ("kyllä", "yes"), GotNeeded.PARTLY: ("osittain", "partly"),
                     GotNeeded.NO: ("ei", "no")}
WHAT_NEXT_LABELS = {
    WhatNext.RECOMMENDATIONS_FOLLOWED: ("suosituksia noudatettiin", "the recommendations were followed"),
    WhatNext.REFERRED_TO_SERVICE: ("ohjattiin palveluun tai asiantuntijalle", "referred to a service or expert"),
    WhatNext.CONTINUES_IN_OWN_TEAM: ("työ jatkuu omassa tiimissä", "work continues in the own team"),
    WhatNext.NOTHING_YET: ("ei vielä toimenpiteitä", "nothing yet"),
    WhatNext.OTHER: ("muuta", "something else"),
}
TYPE_LABELS = REQUEST_TYPE_LABELS

MAX_FREE_TEXT = 2000


# --- when to ask ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class FollowUpPolicy:
    """The timings of one area's release (each area runs its own, so "per area" is its config).

    delay: consultation -> request mail; per request type when configured.
    reminder: request mail sent -> reminder (only to those who have not answered).
    answer_window: request mail sent -> the link stops working and the follow-up expires.
    """
    delay_days: int = 60
    delay_days_by_type: Mapping[RequestType, int] = field(default_factory=dict)
    reminder_days: int = 14
    answer_days: int = 28

    def request_due(self, consulted_at: datetime, type_: RequestType) -> datetime:
        return consulted_at + timedelta(days=self.delay_days_by_type.get(type_, self.delay_days))

    def reminder_due(self, sent_at: datetime) -> datetime:
        return sent_at + timedelta(days=self.reminder_days)

    def expires(self, sent_at: datetime) -> datetime:
        return sent_at + timedelta(days=self.answer_days)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "FollowUpPolicy":
        problems: list[str] = []

        def days(name: str, default: int | None) -> int | None:
            raw = env.get(name, "").strip()
            if not raw:
                return default
            try:
                value = int(raw)
            except ValueError:
                problems.append(f"{name} must be a whole number of days, got {raw!r}")
                return default
            if not 0 <= value <= 3650:
                problems.append(f"{name} must be 0-3650 days, got {value}")
            return value

        by_type = {t: d for t in RequestType
                   if (d := days(f"OT_FEEDBACK_DELAY_DAYS_{t.value.upper()}", None)) is not None}
        policy = cls(delay_days=days("OT_FEEDBACK_DELAY_DAYS", 60), delay_days_by_type=by_type,
                     reminder_days=days("OT_FEEDBACK_REMINDER_DAYS", 14),
                     answer_days=days("OT_FEEDBACK_ANSWER_DAYS", 28))
        if not problems and policy.reminder_days >= policy.answer_days:
            problems.append("OT_FEEDBACK_REMINDER_DAYS must be less than OT_FEEDBACK_ANSWER_DAYS "
                            "(the reminder must come while the link still works)")
        if problems:
            raise SettingsError("feedback: " + "; ".join(problems))
        return policy


# --- the signed link -----------------------------------------------------------------------------
class LinkError(Exception):
    """Why a link does not open the form: 'invalid' (not ours or tampered) or 'expired'."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# <id: letters, digits, dashes>.<expiry: unix seconds>.<MAC: 32 bytes, unpadded base64url>, each
# written exactly as sign() writes it: [0-9] and not \d (which also matches other scripts' digits,
# as int() does), no leading zero (one link, one spelling).
_TOKEN = re.compile(r"([A-Za-z0-9-]{1,64})\.([1-9][0-9]{0,11})\.([A-Za-z0-9_-]{43})")
_MAX_TOKEN = 64 + 1 + 12 + 1 + 43


class LinkSigner:
    """`<feedback id>.<expiry, unix seconds>.<HMAC-SHA256 of both>`: the link proves who it is for
    and until when, without a lookup; single use is the database's `used_at` (see handlers)."""

    def __init__(self, secret: bytes):
        if len(secret) < 32:
            raise ValueError("the link secret must be at least 32 bytes")
        self._secret = secret

    def _mac(self, feedback_id: str, expires: int) -> str:
        digest = hmac.new(self._secret, f"feedback-link:{feedback_id}.{expires}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def sign(self, feedback_id: str, expires_at: datetime) -> str:
        expires = int(expires_at.timestamp())
        return f"{feedback_id}.{expires}.{self._mac(feedback_id, expires)}"

    def verify(self, token: str, now: datetime) -> str:
        """The feedback id the token was made for; LinkError if it is not ours or has expired.

        The token's form is checked first (ASCII, its three parts, bounded lengths): anything
        else is simply not a link of ours, however long or strange, and never reaches int() or
        the MAC comparison (which refuses non-ASCII text with a TypeError)."""
        if len(token) > _MAX_TOKEN or not (parts := _TOKEN.fullmatch(token)):
            raise LinkError("invalid")
        feedback_id, raw_expires, mac = parts.groups()
        expires = int(raw_expires)
        if not hmac.compare_digest(mac, self._mac(feedback_id, expires)):
            raise LinkError("invalid")
        if now >= datetime.fromtimestamp(expires, timezone.utc):
            raise LinkError("expired")
        return feedback_id


# --- the answer ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Answer:
    usefulness: int | None
    got_needed: GotNeeded | None
    what_next: WhatNext | None
    free_text: str = ""


def parse_answer(form: Mapping[str, str]) -> tuple[Answer, list[FieldViolation]]:
    """The answer from the form's fields, and what is wrong with it (bilingual, Finnish first)."""
    v: list[FieldViolation] = []
    raw = (form.get("usefulness") or "").strip()
    usefulness = int(raw) if raw in {"1", "2", "3", "4", "5"} else None
    if usefulness is None:
        v.append(FieldViolation("usefulness", "Valitse hyödyllisyys asteikolla 1–5. / "
                                "Choose the usefulness on a scale of 1–5.", "required"))
    got = (form.get("got_needed") or "").strip()
    got_needed = GotNeeded(got) if got in GotNeeded._value2member_map_ else None
    if got_needed is None:
        v.append(FieldViolation("got_needed", "Kerro, saitko tarvitsemasi (kyllä, osittain, ei). / "
                                "Say whether you got what you needed (yes, partly, no).", "required"))
    nxt = (form.get("what_next") or "").strip()
    what_next = WhatNext(nxt) if nxt in WhatNext._value2member_map_ else None
    if nxt and what_next is None:
        v.append(FieldViolation("what_next", "Valitse jokin annetuista vaihtoehdoista. / "
                                "Choose one of the options given.", "invalid"))
    # The free text's length and form are the edge's (edge.FORM_RULES), checked before this.
    text = (form.get("free_text") or "").strip()
    return Answer(usefulness, got_needed, what_next, text), v
