"""Shared values and builders for experts' unit tests (fictional data only)."""
from __future__ import annotations

from datetime import datetime, timezone

from ot.common.v1 import case_pb2
from ot.experts.v1 import experts_pb2 as pb

from ot_runtime.auth import Principal
from ot_runtime.protoconv import to_proto
from ot_runtime.db import session_factory
from ot_runtime.outbox import Outbox
from ot_experts.handlers import ExpertsHandlers
from ot_experts.sharing import AllowAllUntilConsentService
from ot_experts.store import outbox
from ot_experts.domain import (Availability, Category, Contact, Cost, Expert, Modality, NetworkStatus, Overlay)

TENANT = "pohjois-savo"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def request_id(n: int) -> str:
    """A request id as intake makes them (a UUID), numbered for readable tests."""
    return f"00000000-0000-4000-8000-{n:012d}"


REQ1, REQ2, REQ_KS, REQ_KS2, UNKNOWN_REQ = (request_id(n) for n in (1, 2, 3, 4, 99))


def person(subject: str = "prof-1", *roles: str, tenant: str = TENANT) -> Principal:
    return Principal(subject=subject, tenant=tenant, roles=frozenset(roles or ("professional",)))


COORDINATOR = person("coord-1", "coordinator")
SECRETARY = person("secr-1", "secretary")


def expert(id: str = "testi-asiantuntija", **changes) -> Expert:
    values = dict(
        id=id, kind="person", name_fi="Testi Asiantuntija", name_en="Test Expert", organisation="Testiyksikkö",
        description_fi="Lastenpsykiatrian konsultaatio.", description_en="Child psychiatry consultation.",
        categories=(Category.PSYCHIATRIC_SUBSTANCE_SCHOOL,), competences=("lastenpsykiatria",), cost=Cost.FREE,
        price_note="", languages=("fi",), modalities=(Modality.REMOTE,), network_status=NetworkStatus.AVAILABLE,
        contact=Contact("Kuvitteellinen Yhteyshenkilö", "koordinaattori", "yhteys@example.invalid"),
        overlay=Overlay(availability=Availability.AVAILABLE))
    values.update(changes)
    return Expert(**values)


def make_handlers(engine, clock, tenant: str = TENANT, sharing=None) -> ExpertsHandlers:
    """Handlers of one area on `engine` (the area's deployment), with a sharing policy to test."""
    return ExpertsHandlers(sessions=session_factory(engine),
                           outbox=Outbox(outbox, source=f"/ot/{tenant}/experts", tenant=tenant),
                           tenant=tenant, topic=f"ot.{tenant}.experts.v1", clock=clock,
                           sharing=sharing or AllowAllUntilConsentService())


def expert_fields(e: Expert) -> pb.ExpertFields:
    """An expert's catalogue fields as a caller sends them (CreateExpert, UpdateExpert)."""
    return pb.ExpertFields(
        kind=e.kind, name_fi=e.name_fi, name_en=e.name_en, organisation=e.organisation,
        description_fi=e.description_fi, description_en=e.description_en,
        categories=[to_proto(case_pb2.CaseCategory, c) for c in e.categories], competences=e.competences,
        cost=to_proto(pb.Cost, e.cost), price_note=e.price_note, languages=e.languages,
        modalities=[to_proto(pb.Modality, m) for m in e.modalities],
        contact=pb.Contact(name=e.contact.name, role=e.contact.role, email=e.contact.email),
        user_subject=e.user_subject)
