"""The expert network's entities and rules. No I/O: everything here is tested without a network.

- `Expert`: one catalogue entry (an organisation, a unit or a person) with this area's overlay.
- `usability`: may this area use the expert (agreement, own expert, network status, active)?
- `propose`: the deterministic, explainable ranking of experts for a request.
- `matches_text`: the small Finnish-aware text match the catalogue search uses.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from ot_runtime.errors import FieldViolation
from ot_runtime.vocabulary import CATEGORY_LABELS, Category, RequestStatus, RequestType  # noqa: F401 (re-exported)


CATEGORY_FI = {c: fi for c, (fi, _) in CATEGORY_LABELS.items()}
CATEGORY_EN = {c: en for c, (_, en) in CATEGORY_LABELS.items()}


# A coordinator may assign experts while the request is waiting for them or already has some, also
# while the OT team waits for the professional's reply (intake takes the assignment when it comes).
ASSIGNABLE = {RequestStatus.SUBMITTED, RequestStatus.TRIAGED, RequestStatus.ASSIGNED,
              RequestStatus.AWAITING_INFORMATION}
# Requests that are over: their open proposals are dropped.
ENDED = {RequestStatus.WITHDRAWN, RequestStatus.CLOSED}


class Cost(StrEnum):
    FREE = "free"
    PAID = "paid"


class Modality(StrEnum):
    REMOTE = "remote"
    ON_SITE = "on_site"


class Availability(StrEnum):
    AVAILABLE = "available"
    LIMITED = "limited"
    UNAVAILABLE = "unavailable"


class NetworkStatus(StrEnum):
    AVAILABLE = "available"
    BEING_INVESTIGATED = "being_investigated"


KINDS = ("organisation", "unit", "person")
# The kinds of group on the OT service map (the dataset's "groups").
GROUP_KINDS = ("statutory_expert_group", "challenging_divorces")
ORIGIN_CATALOGUE = "catalogue"
ORIGIN_AREA = "area"


@dataclass(frozen=True)
class Contact:
    name: str = ""
    role: str = ""
    email: str = ""


@dataclass(frozen=True)
class Overlay:
    """What one area keeps of its own about a shared expert."""
    availability: Availability = Availability.AVAILABLE
    local_note: str = ""
    active: bool = True
    retired_at: datetime | None = None


@dataclass(frozen=True)
class Expert:
    id: str
    kind: str
    name_fi: str
    name_en: str
    organisation: str
    description_fi: str
    description_en: str
    categories: tuple[Category, ...]
    competences: tuple[str, ...]
    cost: Cost
    price_note: str
    languages: tuple[str, ...]
    modalities: tuple[Modality, ...]
    network_status: NetworkStatus
    contact: Contact
    user_subject: str = ""
    origin: str = ORIGIN_CATALOGUE
    origin_area: str = ""
    dataset_version: int = 0
    overlay: Overlay = field(default_factory=Overlay)

    @property
    def retired(self) -> bool:
        return self.overlay.retired_at is not None

    def searchable_text(self) -> str:
        return " ".join([self.id, self.name_fi, self.name_en, self.organisation, self.description_fi,
                         self.description_en, *self.competences, self.overlay.local_note])

    def with_overlay(self, overlay: Overlay) -> "Expert":
        return replace(self, overlay=overlay)


@dataclass(frozen=True)
class Agreement:
    area: str
    kind: str            # "host" | "cooperation"
    signed: str
    expert_ids: tuple[str, ...]  # "*" = every available expert of the network
    note_fi: str = ""
    note_en: str = ""

    def covers(self, expert_id: str) -> bool:
        return "*" in self.expert_ids or expert_id in self.expert_ids


@dataclass(frozen=True)
class Group:
    id: str
    area: str
    kind: str
    name_fi: str
    name_en: str
    meeting_rhythm_fi: str
    meeting_rhythm_en: str
    booking_lead_days: int
    member_fields: tuple[str, ...]
    client_may_attend: bool
    contact_role: str
    location: str = ""


@dataclass(frozen=True)
class Usability:
    usable: bool
    code: str           # own_area | agreement | NO_AGREEMENT | EXPERT_NOT_ACTIVE | ...
    fi: str
    en: str


def usability(expert: Expert, area: str, agreement: Agreement | None) -> Usability:
    """May `area` use `expert` now, and why (not)."""
    if expert.retired:
        return Usability(False, "EXPERT_RETIRED", "Asiantuntija on poistettu käytöstä.", "The expert is retired.")
    if not expert.overlay.active:
        return Usability(False, "EXPERT_NOT_ACTIVE", "Asiantuntija ei ole nyt aktiivinen tällä alueella.",
                         "The expert is not active in this area now.")
    if expert.origin == ORIGIN_AREA and expert.origin_area == area:
        return Usability(True, "own_area", "Alueen oma asiantuntija.", "The area's own expert.")
    if expert.network_status is NetworkStatus.BEING_INVESTIGATED:
        return Usability(False, "NO_AGREEMENT",
                         "Konsultaatiomahdollisuus on vielä selvitettävänä; sopimusta ei ole.",
                         "The consultation possibility is still being investigated; there is no agreement.")
    if agreement is None or not agreement.covers(expert.id):
        return Usability(False, "NO_AGREEMENT",
                         "Alueella ei ole yhteistyösopimusta tämän asiantuntijan käytöstä.",
                         "The area has no cooperation agreement for using this expert.")
    if agreement.kind == "host":
        return Usability(True, "agreement", "Alue isännöi OT-verkostoa ja voi käyttää sen asiantuntijoita.",
                         "The area hosts the OT network and may use its experts.")
    return Usability(True, "agreement", f"Alueella on yhteistyösopimus ({agreement.signed}).",
                     f"The area has a cooperation agreement ({agreement.signed}).")


# --- proposals -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Reason:
    code: str
    points: int
    fi: str
    en: str


@dataclass(frozen=True)
class Proposal:
    rank: int
    expert_id: str
    score: int
    reasons: tuple[Reason, ...]


POINTS_PER_CATEGORY = 10
POINTS_FREE = 3
POINTS_AVAILABILITY = {Availability.AVAILABLE: 2, Availability.LIMITED: 0, Availability.UNAVAILABLE: -6}
MAX_LOAD_PENALTY = 4


def propose(categories: list[Category], experts: list[Expert], area: str, agreement: Agreement | None,
            open_load: dict[str, int]) -> list[Proposal]:
    """Rank the experts this area may use for a request with `categories`.

    Deterministic: the same inputs give the same list, ties broken by expert id. Every point is a
    reason the coordinator sees. Experts that fit no category, or that the area may not use, are
    left out. Never an assignment: the coordinator decides.
    """
    wanted = set(categories)
    scored: list[tuple[int, str, tuple[Reason, ...]]] = []
    for e in experts:
        fit = [c for c in e.categories if c in wanted]
        if not fit:
            continue
        use = usability(e, area, agreement)
        if not use.usable:
            continue
        reasons = [Reason("category_fit", POINTS_PER_CATEGORY * len(fit),
                          "Sopii tilanteeseen: " + ", ".join(CATEGORY_FI[c] for c in fit) + ".",
                          "Fits the situation: " + ", ".join(CATEGORY_EN[c] for c in fit) + "."),
                   Reason(use.code, 0, use.fi, use.en)]
        if e.cost is Cost.FREE:
            reasons.append(Reason("free", POINTS_FREE, "Maksuton (osana omaa työtä).", "Free (part of own job)."))
        else:
            note_fi = f" {e.price_note}" if e.price_note else ""
            reasons.append(Reason("paid", 0, f"Maksullinen: tarvitaan kustannushyväksyntä.{note_fi}",
                                  f"Paid: cost approval is needed.{note_fi}"))
        a = e.overlay.availability
        reasons.append(Reason("availability", POINTS_AVAILABILITY[a], *{
            Availability.AVAILABLE: ("Käytettävissä nyt.", "Available now."),
            Availability.LIMITED: ("Käytettävissä rajoitetusti.", "Limited availability."),
            Availability.UNAVAILABLE: ("Ei käytettävissä nyt.", "Not available now."),
        }[a]))
        load = open_load.get(e.id, 0)
        reasons.append(Reason("load", -min(load, MAX_LOAD_PENALTY),
                              f"Avoimia toimeksiantoja tällä alueella: {load}.",
                              f"Open assignments in this area: {load}."))
        scored.append((sum(r.points for r in reasons), e.id, tuple(reasons)))
    scored.sort(key=lambda s: (-s[0], s[1]))
    return [Proposal(rank=i + 1, expert_id=eid, score=score, reasons=reasons)
            for i, (score, eid, reasons) in enumerate(scored)]


# --- text search ---------------------------------------------------------------------------

# Common Finnish case and plural endings, longest first. Stripping them and comparing a stem
# as a substring (Finnish compounds: "lastenpsykiatria" holds "psykiatri") is crude, but good
# enough for a coordinator searching a catalogue of a few dozen entries.
_ENDINGS = sorted("""
    iden itten ihin issa issä ista istä illa illä ilta iltä ille ina inä iksi
    ssa ssä sta stä lla llä lta ltä lle ksi tta ttä ien jen den ten ine
    an än en in on un yn ön na nä ta tä ja jä it at ät et ut yt
    a ä n t i
""".split(), key=len, reverse=True)
_WORD = re.compile(r"[0-9a-zåäöéü]+")
MIN_STEM = 4


def normalise(text: str) -> str:
    return unicodedata.normalize("NFC", text).lower()


def stem(word: str) -> str:
    """A prefix stem of a Finnish word: endings off, then a little more off long stems
    (consonant gradation: koti/kodit, harvinainen/harvinaisten)."""
    w = normalise(word)
    for ending in _ENDINGS:
        if w.endswith(ending) and len(w) - len(ending) >= MIN_STEM:
            w = w[: -len(ending)]
            break
    if len(w) > 6:
        w = w[: max(6, len(w) - 2)]
    return w


def query_stems(text: str) -> list[str]:
    return [stem(w) for w in _WORD.findall(normalise(text))]


def matches_text(query: str, document: str) -> bool:
    """Every word of `query` occurs in `document`, in some inflected or compound form."""
    words = _WORD.findall(normalise(document))
    return all(any(s in w for w in words) for s in query_stems(query))


# --- validation ----------------------------------------------------------------------------

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{2,79}$")


def slugify(text: str) -> str:
    table = str.maketrans({"ä": "a", "ö": "o", "å": "a", "é": "e", "ü": "u"})
    # Cut first, then strip: a cut may end on a dash, and an id never ends with one.
    return re.sub(r"[^a-z0-9]+", "-", normalise(text).translate(table))[:80].strip("-")


def validate_expert(e: Expert) -> list[FieldViolation]:
    """The domain's rules for an entry. The form of each field (lengths, language codes, the
    guard) is checked at the edge first (edge.FIELD_RULES)."""
    problems: list[FieldViolation] = []

    def bad(name: str, fi: str, en: str, reason: str = "invalid") -> None:
        problems.append(FieldViolation(name, f"{fi} / {en}", reason))

    if not SLUG.match(e.id):
        bad("expert_id", "Tunnus: 3–80 merkkiä a–z, 0–9 ja väliviiva.", "Id: 3–80 characters a–z, 0–9 and hyphen.")
    if e.kind not in KINDS:
        bad("fields.kind", "Laji: organisation, unit tai person.", "Kind: organisation, unit or person.")
    if not e.name_fi.strip():
        bad("fields.name_fi", "Nimi suomeksi puuttuu.", "The Finnish name is missing.", "required")
    if not e.categories:
        bad("fields.categories", "Valitse vähintään yksi tilanne, johon asiantuntija sopii.",
            "Choose at least one situation the expert covers.", "required")
    if e.cost is None:
        bad("fields.cost", "Kerro, onko asiantuntija maksuton vai maksullinen.", "Say whether the expert is free or paid.",
            "required")
    elif e.cost is Cost.PAID and not e.price_note.strip():
        bad("fields.price_note", "Maksulliselle asiantuntijalle tarvitaan hintatieto.", "A paid expert needs a price note.",
            "required")
    if not e.modalities:
        bad("fields.modalities", "Valitse etä ja/tai paikan päällä.", "Choose remote and/or on site.", "required")
    return problems
