"""The shared expert catalogue: how each area's deployment receives it.

Choice: a **versioned seed dataset** shipped in this package (`data/catalogue.json`), loaded by
`ot-experts seed`. The load is idempotent: catalogue experts are upserted by their stable id and
only when the file's version is newer than what the row holds; agreements and the service map
likewise. Each area keeps its **own overlay** (availability, local note, active, retired) in
`expert_overlays`, which the dataset never touches, and may add its own experts (origin "area").
A new catalogue version is a reviewed change to the file plus a release: simple, auditable, and
the same in every area.

The alternative, kept open: the coordinating area (Pohjois-Savo) publishes the catalogue as a
compacted Kafka topic (`ot.catalogue.experts.v1`, key = expert id, value = the entry with its
version), and every area's experts service consumes it into the same `experts` table with the
same "newer version wins" upsert. That removes the release step but needs a writer role in one
area and cross-area topic access; the table layout here does not change either way.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .domain import (Category, Contact, Cost, Expert, Modality, NetworkStatus, ORIGIN_CATALOGUE)
from .store import agreements, datasets, expert_row, experts, groups

DATASET = Path(__file__).parent / "data" / "catalogue.json"


@dataclass(frozen=True)
class SeedResult:
    name: str
    version: int
    experts_written: int
    skipped_as_current: int


def load_dataset(path: Path = DATASET) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def expert_from_entry(entry: dict, version: int) -> Expert:
    c = entry.get("contact", {})
    return Expert(
        id=entry["id"], kind=entry["kind"], name_fi=entry["name_fi"], name_en=entry["name_en"],
        organisation=entry.get("organisation", ""), description_fi=entry.get("description_fi", ""),
        description_en=entry.get("description_en", ""),
        categories=tuple(Category(x) for x in entry["categories"]), competences=tuple(entry.get("competences", ())),
        cost=Cost(entry["cost"]), price_note=entry.get("price_note", ""), languages=tuple(entry.get("languages", ())),
        modalities=tuple(Modality(m) for m in entry["modalities"]),
        network_status=NetworkStatus(entry.get("network_status", "available")),
        contact=Contact(c.get("name", ""), c.get("role", ""), c.get("email", "")),
        user_subject=entry.get("user_subject", ""), origin=ORIGIN_CATALOGUE, dataset_version=version)


AGREEMENT_KINDS = ("host", "cooperation", "none")


def agreement_from_env(env, area: str) -> dict | None:
    """The area's own agreement from its settings (in a cluster, its Helm values), or None to keep
    the dataset's: OT_AGREEMENT_KIND (host | cooperation | none), OT_AGREEMENT_EXPERT_IDS ("*" for
    every expert of the network, or a comma-separated list), OT_AGREEMENT_SIGNED (what was signed).
    Raises ValueError naming the variable that is wrong."""
    kind = str(env.get("OT_AGREEMENT_KIND", "")).strip()
    if not kind:
        return None
    if kind not in AGREEMENT_KINDS:
        raise ValueError(f"OT_AGREEMENT_KIND must be one of {', '.join(AGREEMENT_KINDS)}, got {kind!r}")
    ids = [i.strip() for i in str(env.get("OT_AGREEMENT_EXPERT_IDS", "*")).split(",") if i.strip()]
    signed = str(env.get("OT_AGREEMENT_SIGNED", "")).strip()
    if kind == "cooperation" and not signed:
        raise ValueError("OT_AGREEMENT_SIGNED is not set (what the cooperation agreement is, e.g. 'OT-hanke 2023')")
    if kind != "none" and not ids:
        raise ValueError("OT_AGREEMENT_EXPERT_IDS is empty (use * for every expert of the network)")
    return {"area": area, "kind": kind, "signed": signed, "expert_ids": ids,
            "note_fi": "Alueen omista asetuksista.", "note_en": "From the area's own settings."}


def seed(session: Session, now: datetime, data: dict | None = None, area_agreement: dict | None = None) -> SeedResult:
    """Upsert the dataset into this database, inside the caller's transaction. `area_agreement`
    (agreement_from_env) then sets this area's own agreement, whatever the dataset says."""
    data = data or load_dataset()
    version = int(data["version"])
    written = skipped = 0
    for entry in data["experts"]:
        e = expert_from_entry(entry, version)
        current = session.execute(sa.select(experts.c.origin, experts.c.dataset_version)
                                  .where(experts.c.id == e.id)).first()
        if current is None:
            session.execute(experts.insert().values(**expert_row(e, now)))
            written += 1
        elif current.origin != ORIGIN_CATALOGUE:
            raise ValueError(f"catalogue id {e.id!r} is taken by an area's own expert")
        elif current.dataset_version < version:
            row = expert_row(e, now)
            del row["id"]
            session.execute(experts.update().where(experts.c.id == e.id).values(**row))
            written += 1
        else:
            skipped += 1
    for a in data["agreements"]:
        values = dict(kind=a["kind"], signed=a["signed"], expert_ids=list(a["expert_ids"]),
                      note_fi=a.get("note_fi", ""), note_en=a.get("note_en", ""), dataset_version=version)
        current = session.execute(sa.select(agreements.c.dataset_version).where(agreements.c.area == a["area"])).first()
        if current is None:
            session.execute(agreements.insert().values(area=a["area"], **values))
        elif current.dataset_version < version:
            session.execute(agreements.update().where(agreements.c.area == a["area"]).values(**values))
    if area_agreement is not None:
        session.execute(agreements.delete().where(agreements.c.area == area_agreement["area"]))
        if area_agreement["kind"] != "none":
            session.execute(agreements.insert().values(
                area=area_agreement["area"], kind=area_agreement["kind"], signed=area_agreement["signed"],
                expert_ids=area_agreement["expert_ids"], note_fi=area_agreement["note_fi"],
                note_en=area_agreement["note_en"], dataset_version=version))
    for g in data["groups"]:
        values = dict(area=g["area"], kind=g["kind"], name_fi=g["name_fi"], name_en=g["name_en"],
                      meeting_rhythm_fi=g["meeting_rhythm_fi"], meeting_rhythm_en=g["meeting_rhythm_en"],
                      booking_lead_days=g["booking_lead_days"], member_fields=list(g["member_fields"]),
                      client_may_attend=g["client_may_attend"], contact_role=g["contact_role"],
                      location=g.get("location", ""), dataset_version=version)
        current = session.execute(sa.select(groups.c.dataset_version).where(groups.c.id == g["id"])).first()
        if current is None:
            session.execute(groups.insert().values(id=g["id"], **values))
        elif current.dataset_version < version:
            session.execute(groups.update().where(groups.c.id == g["id"]).values(**values))
    name = data["dataset"]
    if session.execute(sa.select(datasets.c.name).where(datasets.c.name == name)).first():
        session.execute(datasets.update().where(datasets.c.name == name, datasets.c.version < version)
                        .values(version=version, loaded_at=now))
    else:
        session.execute(datasets.insert().values(name=name, version=version, loaded_at=now))
    return SeedResult(name, version, written, skipped)
