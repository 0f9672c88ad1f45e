"""Cooperation-area statistics: an area's monthly counts as a signed file, and the coordinating
area's import of the other areas' files.

The OT centre serves the four wellbeing areas and reports on them together, but each area runs its
own release: its own namespace, Kafka topics with per-service ACLs, and database. A topic that
another area's release could read would break that isolation, so the counts travel as a FILE: the
area's IT runs `ot-feedback export-area-aggregate --month YYYY-MM` and sends the file over the
channel they already use for the statistics database; a coordinator of the coordinating area
uploads it (ImportAreaAggregate, the portal's statistics page). The file is signed with the
area's Ed25519 statistics key (OT_FEEDBACK_AGGREGATE_SIGNING_KEY, a Secret); the coordinating
area checks it against the areas' public keys in its values (OT_FEEDBACK_AREA_AGGREGATE_KEYS).

What the file holds: the area, the month, when it was made, and the month's counts as the
statistics count them: requests by sector and type, category mentions by category and type, and
per type the working days to the first response and to the answer as counts per number of days
(so that the combined medians and 90th percentiles are exact). No ids, no free text, no dates of
single requests. The counts are NOT suppressed: the suppression must be applied to the combined
figures (a figure of 3 in each of two areas is 6), so the file is handled like the statistics
database itself. It holds no personal data.

An area opts out with area.statistics.shareWithCooperationArea=false
(OT_FEEDBACK_SHARE_WITH_COOPERATION_AREA): its export refuses; the coordinating area lists it
with no key (null) and its statistics say it is not included.
"""
from __future__ import annotations

import base64
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ot_runtime.settings import SettingsError
from ot_runtime.tenants import TENANTS

from .domain import Category, RequestType, Sector
from .stats import LOCAL, Period, parse_period

FORMAT = "ot-feedback-area-aggregate/1"
MAX_FILE_BYTES = 128 * 1024  # a month is a few KiB; below the portal's upload limit (256 KiB with the form)
MAX_COUNT = 10_000_000
MAX_DAYS = 3650
_MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
_TRUE = {"1", "true", "yes"}


class AggregateRefused(Exception):
    """An export or import that cannot be done: `reason` (the API's), a bilingual message saying what to fix."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


# --- settings --------------------------------------------------------------------------------
def _private_key(pem: str) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("not an Ed25519 key")
    return key


def _public_key(pem: str) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem.encode())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 key")
    return key


@dataclass(frozen=True)
class CooperationConfig:
    """share: this area's counts may leave it (its export works). coordinating: this area combines
    the others' files. area_keys: the other areas' public keys; None for an area that opted out."""
    share: bool = True
    coordinating: bool = False
    signing_key: Ed25519PrivateKey | None = None
    area_keys: Mapping[str, Ed25519PublicKey | None] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str], tenant: str) -> "CooperationConfig":
        problems: list[str] = []
        share = env.get("OT_FEEDBACK_SHARE_WITH_COOPERATION_AREA", "true").strip().lower() in _TRUE
        coordinating = env.get("OT_FEEDBACK_COORDINATING_AREA", "").strip().lower() in _TRUE
        signing_key = None
        pem = env.get("OT_FEEDBACK_AGGREGATE_SIGNING_KEY", "").strip()
        if pem:
            try:
                signing_key = _private_key(pem)
            except (ValueError, TypeError):
                problems.append("OT_FEEDBACK_AGGREGATE_SIGNING_KEY is not an Ed25519 private key in PEM "
                                "(make one with `openssl genpkey -algorithm ed25519`)")
        keys: dict[str, Ed25519PublicKey | None] = {}
        raw = env.get("OT_FEEDBACK_AREA_AGGREGATE_KEYS", "").strip()
        try:
            given = json.loads(raw) if raw else {}
            if not isinstance(given, dict):
                raise ValueError
        except ValueError:
            problems.append("OT_FEEDBACK_AREA_AGGREGATE_KEYS must be a JSON object {area: public key PEM or null}")
            given = {}
        for area, key in given.items():
            if area not in TENANTS or area == tenant:
                problems.append(f"OT_FEEDBACK_AREA_AGGREGATE_KEYS names {area!r}: not another area "
                                f"({', '.join(a for a in TENANTS if a != tenant)})")
            elif key is None or key == "":
                keys[area] = None  # the area opted out
            else:
                try:
                    keys[area] = _public_key(str(key))
                except (ValueError, TypeError):
                    problems.append(f"OT_FEEDBACK_AREA_AGGREGATE_KEYS[{area!r}] is not an Ed25519 public key in PEM")
        if problems:
            raise SettingsError("feedback: cooperation-area statistics: " + "; ".join(problems))
        return cls(share=share, coordinating=coordinating, signing_key=signing_key, area_keys=keys)


# --- the counts ------------------------------------------------------------------------------
@dataclass
class TypeTimes:
    """The requests of one type answered in the month: how many, and per number of working days
    how many had their first response / their answer after that many days."""
    requests: int = 0
    first_response_days: Counter = field(default_factory=Counter)
    answer_days: Counter = field(default_factory=Counter)

    def add(self, other: "TypeTimes") -> None:
        self.requests += other.requests
        self.first_response_days.update(other.first_response_days)
        self.answer_days.update(other.answer_days)


@dataclass
class Counts:
    """Unsuppressed counts of one area for one period (a month in a file)."""
    sectors: Counter = field(default_factory=Counter)      # (sector, type) -> requests
    categories: Counter = field(default_factory=Counter)   # (category, type) -> mentions
    times: dict[str, TypeTimes] = field(default_factory=dict)  # type -> response times

    def add(self, other: "Counts") -> None:
        self.sectors.update(other.sectors)
        self.categories.update(other.categories)
        for t, times in other.times.items():
            self.times.setdefault(t, TypeTimes()).add(times)

    def to_json(self) -> dict:
        return {
            "contacts_by_sector": [{"sector": s, "type": t, "count": n}
                                   for (s, t), n in sorted(self.sectors.items()) if n],
            "requests_by_category": [{"category": c, "type": t, "count": n}
                                     for (c, t), n in sorted(self.categories.items()) if n],
            "response_times": [{"type": t, "requests": x.requests,
                                "first_response_days": {str(d): n for d, n in sorted(x.first_response_days.items())},
                                "answer_days": {str(d): n for d, n in sorted(x.answer_days.items())}}
                               for t, x in sorted(self.times.items()) if x.requests],
        }

    @classmethod
    def from_json(cls, data) -> "Counts":
        """Strict: every key known, every value in the vocabularies, every count a whole number
        0..MAX_COUNT. ValueError names what is wrong."""
        types = {t.value for t in RequestType}
        _keys(data, {"contacts_by_sector", "requests_by_category", "response_times"}, "counts")
        out = cls()
        for row in _list(data["contacts_by_sector"], "contacts_by_sector"):
            _keys(row, {"sector", "type", "count"}, "contacts_by_sector")
            out.sectors[(_member(row["sector"], {s.value for s in Sector}, "sector"),
                         _member(row["type"], types, "type"))] += _count(row["count"])
        for row in _list(data["requests_by_category"], "requests_by_category"):
            _keys(row, {"category", "type", "count"}, "requests_by_category")
            out.categories[(_member(row["category"], {c.value for c in Category}, "category"),
                            _member(row["type"], types, "type"))] += _count(row["count"])
        for row in _list(data["response_times"], "response_times"):
            _keys(row, {"type", "requests", "first_response_days", "answer_days"}, "response_times")
            t = _member(row["type"], types, "type")
            x = out.times.setdefault(t, TypeTimes())
            x.requests += _count(row["requests"])
            for name, target in (("first_response_days", x.first_response_days), ("answer_days", x.answer_days)):
                if not isinstance(row[name], dict):
                    raise ValueError(f"response_times.{name} is not an object")
                for days, n in row[name].items():
                    if not re.fullmatch(r"[0-9]{1,4}", days) or int(days) > MAX_DAYS:
                        raise ValueError(f"response_times.{name}: {days!r} is not a number of days")
                    target[int(days)] += _count(n)
            if sum(x.first_response_days.values()) > x.requests or sum(x.answer_days.values()) > x.requests:
                raise ValueError(f"response_times of {t}: more days counted than requests")
        return out


def _keys(data, expected: set[str], where: str) -> None:
    if not isinstance(data, dict) or set(data) != expected:
        raise ValueError(f"{where} must have exactly the fields {', '.join(sorted(expected))}")


def _list(data, where: str) -> list:
    if not isinstance(data, list):
        raise ValueError(f"{where} is not a list")
    return data


def _member(value, allowed: set[str], where: str) -> str:
    if value not in allowed:
        raise ValueError(f"{where} {value!r} is not one of the vocabulary's")
    return value


def _count(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        raise ValueError(f"count {value!r} is not a whole number 0–{MAX_COUNT}")
    return value


# --- months ----------------------------------------------------------------------------------
def month_period(text: str) -> Period:
    if not _MONTH.fullmatch(text or ""):
        raise ValueError("month")
    return parse_period(text)


def months_of(period: Period) -> list[str]:
    """The months (YYYY-MM, Finnish time) a month-aligned period is made of."""
    local = period.start.astimezone(LOCAL)
    year, month, out = local.year, local.month, []
    while True:
        label = f"{year:04d}-{month:02d}"
        if parse_period(label).start >= period.end:
            return out
        out.append(label)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


# --- the file --------------------------------------------------------------------------------
def _canonical(document: dict) -> bytes:
    """The bytes that are signed: the document without its signature, keys sorted, no spaces."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def export_file(area: str, month: str, generated_at: datetime, counts: Counts, key: Ed25519PrivateKey) -> bytes:
    document = {"format": FORMAT, "area": area, "month": month,
                "generated_at": generated_at.astimezone(timezone.utc).isoformat(), "counts": counts.to_json()}
    signature = base64.b64encode(key.sign(_canonical(document))).decode()
    return json.dumps({**document, "signature": signature}, ensure_ascii=False, indent=1, sort_keys=True).encode()


@dataclass(frozen=True)
class AreaAggregate:
    area: str
    month: str
    generated_at: datetime
    counts: Counts


def _refuse_malformed(what: str) -> AggregateRefused:
    return AggregateRefused(
        "malformed", f"Tiedosto ei ole alueen tilastotiedosto ({what}). Lähetä alueen `ot-feedback "
                     f"export-area-aggregate` -komennon tekemä tiedosto sellaisenaan. / The file is not an area's "
                     f"statistics file ({what}). Send the file made by the area's `ot-feedback export-area-aggregate` "
                     f"as it is.")


def read_file(data: bytes, *, own_area: str, keys: Mapping[str, Ed25519PublicKey | None],
              now: datetime) -> AreaAggregate:
    """The checked content of an area's file, or AggregateRefused saying what to fix."""
    if len(data) > MAX_FILE_BYTES:
        raise _refuse_malformed(f"over {MAX_FILE_BYTES // 1024} KiB")
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise _refuse_malformed("not JSON") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise _refuse_malformed(f"format is not {FORMAT}")
    expected = {"format", "area", "month", "generated_at", "counts", "signature"}
    if set(document) != expected:
        raise _refuse_malformed("fields " + ", ".join(sorted(set(document) ^ expected)))
    area = document["area"]
    if area == own_area:
        raise AggregateRefused("own_area", "Tiedosto on tämän alueen omista luvuista; ne ovat jo mukana. "
                                           "Tuo vain muiden alueiden tiedostoja. / The file holds this area's own "
                                           "counts, which are already included. Import only other areas' files.")
    if not isinstance(area, str) or area not in keys:
        known = ", ".join(sorted(keys)) or "-"
        raise AggregateRefused("unknown_area", f"Alue {str(area)[:40]!r} ei ole yhteistoiminta-alueen asetuksissa "
                                               f"(tunnetut: {known}). / Area {str(area)[:40]!r} is not in the "
                                               f"cooperation area's settings (known: {known}).")
    key = keys[area]
    if key is None:
        raise AggregateRefused("opted_out", f"Alue {area} on jättäytynyt yhteistoiminta-alueen tilastoista; sen "
                                            f"lukuja ei tuoda. / Area {area} has opted out of the cooperation-area "
                                            f"statistics; its counts are not imported.")
    try:
        signature = base64.b64decode(str(document["signature"]), validate=True)
        key.verify(signature, _canonical({k: v for k, v in document.items() if k != "signature"}))
    except (InvalidSignature, ValueError):
        raise AggregateRefused("signature", f"Tiedoston allekirjoitus ei täsmää alueen {area} avaimeen: tiedosto on "
                                            f"muuttunut matkalla tai tehty toisella avaimella. Pyydä alueelta uusi "
                                            f"tiedosto. / The file's signature does not match area {area}'s key: the "
                                            f"file was changed on the way or signed with another key. Ask the area "
                                            f"for a new file.") from None
    try:
        period = month_period(str(document["month"]))
        generated_at = datetime.fromisoformat(str(document["generated_at"]))
        if generated_at.tzinfo is None:
            raise ValueError("generated_at has no offset")
        counts = Counts.from_json(document["counts"])
    except ValueError as bad:
        raise _refuse_malformed(str(bad)) from None
    if period.start > now:
        raise AggregateRefused("future_month", f"Kuukausi {document['month']} on vasta tulossa. Tuo päättyneen tai "
                                               f"kuluvan kuukauden tiedosto. / Month {document['month']} is still to "
                                               f"come. Import a file of a past or the current month.")
    return AreaAggregate(area, document["month"], generated_at, counts)
