"""Shared values and builders for intake's unit tests (fictional data only)."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timezone

from ot_runtime.auth import Principal
from ot_intake.domain import (Category, ClientFacts, Consent, ConsentGiver, ConsentNeed, Gender, Professional,
                              RequestType, Sector, Submission)

TENANT = "pohjois-savo"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def person(subject: str = "prof-1", *roles: str) -> Principal:
    return Principal(subject=subject, tenant=TENANT, roles=frozenset(roles or ("professional",)))


COORDINATOR = person("coord-1", "coordinator")
SECRETARY = person("secr-1", "secretary")


def submission(**changes) -> Submission:
    """A valid, fictional submission (no client-identifying data)."""
    values = dict(
        type=RequestType.OT_TUKI,
        professional=Professional(name="Testi Ammattilainen", phone="", email="testi.ammattilainen@example.fi",
                                  profession="sosiaalityöntekijä", organisation="Perhepalvelut",
                                  sector=Sector.SOCIAL, wellbeing_area=TENANT),
        categories=[Category.CHALLENGING_DIVORCE, Category.CHILD_PROTECTION_SPECIAL],
        client=ClientFacts(age_years=12, gender=Gender.GIRL,
                           family_situation="vanhemmat eronneet, pitkittynyt huoltoriita",
                           earlier_services=["perheneuvola", "lastensuojelun avohuolto"],
                           cooperation_partners=["koulukuraattori", "lastenpsykiatria"],
                           health_information="unihäiriöitä ja poissaoloja koulusta"),
        question="Miten tukea lasta, kun vanhempien riita jatkuu ja tapaamiset keskeytyvät toistuvasti?",
        discussed_in_own_team=True,
        consent=Consent(need=ConsentNeed.WRITTEN_ORGANISATION_FORM, given_by=ConsentGiver.GUARDIANS,
                        child_capacity_assessed=False),
        anonymous=False)
    values.update(changes)
    return Submission(**values)


class FakeVault:
    """In-memory stand-in for the consent service's key custody. `refuse` holds the subjects
    consent refuses (its own check, e.g. an expert whose organisation consent does not cover)."""

    def __init__(self):
        self.keys: dict[str, bytes] = {}  # the cases opened: as consent would hold them
        self.reads: list[tuple[str, str]] = []
        self.refuse: set[str] = set()

    def open_case(self, r) -> bytes:
        from ot_runtime.crypto import new_key
        self.keys[r.id] = new_key()
        return self.keys[r.id]

    def data_key(self, request_id: str, purpose: str) -> bytes | None:
        from ot_runtime.auth import current_principal
        from ot_runtime.errors import Unauthenticated
        from ot_intake.vault import KeyRefused
        try:  # the person the real vault's call carries (set by the gRPC edge, or acting_as)
            caller = current_principal().subject
        except Unauthenticated:
            caller = None
        if caller in self.refuse:
            raise KeyRefused("NOT_IN_SCOPE")
        self.reads.append((request_id, purpose))
        return self.keys.get(request_id)

    def shred(self, request_id: str) -> None:
        self.keys.pop(request_id, None)


def valid_request(**changes):
    """A valid, fictional SubmitRequest as it comes over gRPC."""
    from ot.common.v1 import case_pb2
    from ot.intake.v1 import intake_pb2 as pb
    req = pb.SubmitRequestRequest(
        type=case_pb2.REQUEST_TYPE_OT_TUKI,
        professional=pb.Professional(name="Testi Ammattilainen", email="testi@example.fi",
                                     profession="koulukuraattori", organisation="Perusopetus",
                                     sector=case_pb2.SECTOR_EDUCATION, wellbeing_area=TENANT),
        categories=[case_pb2.CASE_CATEGORY_NEUROPSYCHIATRIC],
        client=pb.ClientFacts(age_years=14, gender=pb.GENDER_BOY, family_situation="asuu äidin kanssa",
                              earlier_services=["perheneuvola"], cooperation_partners=["koulukuraattori"]),
        question="Miten koulu voi tukea nuorta, jonka koulunkäynti on keskeytynyt?",
        discussed_in_own_team=True,
        consent=pb.ConsentAssessment(need=pb.CONSENT_NEED_NOT_NEEDED))
    for key, value in changes.items():
        setattr(req, key, value)
    return req


def make_handlers(engine, clock, vault):
    """Intake's use cases over `engine` (a test database), as bootstrap wires them."""
    from ot_runtime.db import session_factory
    from ot_runtime.outbox import Outbox
    from ot_intake.handlers import IntakeHandlers
    from ot_intake.store import outbox
    return IntakeHandlers(sessions=session_factory(engine),
                          outbox=Outbox(outbox, source=f"/ot/{TENANT}/intake", tenant=TENANT),
                          tenant=TENANT, topic=f"ot.{TENANT}.intake.v1", clock=clock, vault=vault)


@contextmanager
def acting_as(who: Principal):
    """Run handler calls as `who`, as the gRPC edge does (the vault's calls carry the caller)."""
    from ot_runtime.auth import reset_principal, set_principal
    tokens = set_principal(who, None)
    try:
        yield who
    finally:
        reset_principal(tokens)
