"""`ot-intake seed-demo`: fictional demo data for `make run`.

Three meetings of a consultation group of the area, and one request of each type at a different
stage, each with its conversation:
- an OT-TUKI request awaiting information (the coordinator's question);
- an OT-TUKI request answered: question, reply, advice pointing to an expert, returned;
- a group consultation booked into the first meeting, with its pre-information form;
- an expert reinforcement triaged and past the response target, with the OT team's note (the
  experts service offers its proposals once it has read the request's event).

The people are the demo users of the area's local identity provider (deploy/keycloak: user names
`professional`, `coordinator`, `secretary`, password `demo`): every request is the demo
professional's, the OT team's entries are the demo coordinator's, and the group is one the demo
secretary runs, so whoever signs in to the portal as one of them finds their part of the demo.
Their tokens come from that provider (`sign_in`, as `make run` does) or, in tests without it, are
signed with a key the services trust (`dev_tokens`); either way each person is what the service's
own token check makes of their token.

Everything goes the way a real call goes: each message passes the edge's field rules and the
client-identifier guard (edge.FIELD_RULES) and then the servicer, as the person it is from, so
consent opens each case and hands out each key, and audits every read. The texts are made up
(nobody named in the source pages). Times are set back a few working days so that the worklist
shows waiting times. Running it again adds nothing: requests are found by their idempotency keys
and each step is skipped once done.
"""
from __future__ import annotations

import json
import math
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Mapping

from ot.common.v1 import case_pb2
from ot.intake.v1 import intake_pb2 as pb

from ot_runtime.auth import Principal, reset_principal, set_principal
from ot_runtime.clock import FixedClock
from ot_runtime.fields import check
from ot_runtime.protoconv import ts
from ot_runtime.workdays import add_working_days

from .domain import ConsultationRequest, Status, default_lead_days
from .edge import FIELD_RULES
from .grpc_api import IntakeServicer
from .handlers import IntakeHandlers
from .store import IntakeRepository

# The demo users who act in the demo data (their user names are their roles) and their password
# in the local realms (deploy/keycloak/make_realms.py).
ROLES = ("professional", "coordinator", "secretary")
PASSWORD = "demo"
# Areas whose service map (experts' catalogue.json) has no challenging-divorces group: there the
# demo's group consultation goes to the statutory expert group, where the demo secretary and group
# member sit (make_realms.member_group).
NO_CHALLENGING_DIVORCES_GROUP = frozenset({"pohjois-karjala"})
SIGN_IN_TIMEOUT_SECONDS = 30


def demo_group(tenant: str) -> str:
    if tenant in NO_CHALLENGING_DIVORCES_GROUP:
        return f"lastensuojelun-asiantuntijaryhma-{tenant}"
    return f"haastavat-erot-{tenant}"


@dataclass(frozen=True)
class Caller:
    """A demo person: who the service takes them for, and the bearer token that says so."""
    who: Principal
    token: str


def dev_tokens(tenant: str, sign: Callable[[Principal], str]) -> dict[str, str]:
    """Tokens of the demo users as the local realms describe them (subject `<role>-<area>`, the
    secretary in the demo group), signed by `sign`: for tests that run no identity provider."""
    people = {role: Principal(f"{role}-{tenant}", tenant, frozenset({role})) for role in ROLES}
    people["secretary"] = Principal(f"secretary-{tenant}", tenant, frozenset({"secretary"}),
                                    frozenset({demo_group(tenant)}))
    return {role: sign(who) for role, who in people.items()}


class SignInFailed(Exception):
    """The identity provider did not sign a demo user in (the message names the user, never the password)."""


def _fetch_json(url: str, form: dict | None = None) -> dict:
    """GET `url`, or POST `form` to it, and read the JSON answer."""
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(url, data=data, headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=SIGN_IN_TIMEOUT_SECONDS) as answer:
        return json.load(answer)


def sign_in(issuer: str, client_id: str, user: str, password: str = PASSWORD) -> str:
    """A demo user's access token from the provider at `issuer`: its token endpoint (from the
    discovery document), the resource-owner password grant of the local-only public client
    `client_id` (what `scripts/keycloak.sh token` does too)."""
    try:
        endpoint = _fetch_json(f"{issuer.rstrip('/')}/.well-known/openid-configuration")["token_endpoint"]
        return _fetch_json(endpoint, {"grant_type": "password", "client_id": client_id, "username": user,
                                      "password": password, "scope": "openid"})["access_token"]
    except urllib.error.HTTPError as exc:
        raise SignInFailed(f"{exc.url} refused the sign-in of the demo user {user!r} (client {client_id!r}): "
                           f"HTTP {exc.code}") from None
    except urllib.error.URLError as exc:
        raise SignInFailed(f"no answer from the identity provider {issuer} ({exc.reason}): is it running? "
                           "(scripts/keycloak.sh start)") from None
    except (KeyError, TypeError, ValueError):
        raise SignInFailed(f"the identity provider {issuer} gave no access token for the demo user {user!r}") from None


def demo_people(settings) -> dict[str, Caller]:
    """The demo users with their tokens, from where the service's settings say (see seed_demo in
    main.py): signed in at the provider this service trusts (OT_DEMO_OIDC_CLIENT_ID), or signed with
    a development key (OT_DEMO_TOKEN_KEY_FILE). Each person is what this service's own token check
    makes of the token, as consent's check will. Raises SettingsError, SignInFailed, or the token
    check's Unauthenticated/PermissionDenied."""
    from ot_runtime.auth import TokenVerifier
    from ot_runtime.devtoken import make_token
    from ot_runtime.settings import SettingsError

    client_id = settings.extra.get("OT_DEMO_OIDC_CLIENT_ID", "").strip()
    key_file = settings.extra.get("OT_DEMO_TOKEN_KEY_FILE", "").strip()
    if bool(client_id) == bool(key_file):
        raise SettingsError(f"{settings.service_name}: seed-demo needs exactly one of OT_DEMO_OIDC_CLIENT_ID (the "
                            "demo users sign in at AUTH_JWT_ISSUER with this client's password grant, as `make run` "
                            "does) and OT_DEMO_TOKEN_KEY_FILE (tokens signed with this development key)")
    if client_id:
        tokens = {role: sign_in(settings.jwt_issuer, client_id, role) for role in ROLES}
    else:
        with open(key_file, "rb") as f:
            private_key = f.read()
        tokens = dev_tokens(settings.tenant, lambda who: make_token(
            private_key, area=settings.tenant, roles=sorted(who.roles), subject=who.subject,
            groups=sorted(who.groups), issuer=settings.jwt_issuer, audience=settings.jwt_audience, ttl_seconds=600))
    verifier = TokenVerifier.from_settings(settings)
    return {role: Caller(verifier.verify(f"Bearer {token}"), token) for role, token in tokens.items()}


# The texts of the demo: made up, and each must pass the guard (tests/test_intake_demo.py checks too).
QUESTIONS = {
    "ot-tuki-kysymys": "Nuori on ollut pois koulusta kuukauden, ja perhe kieltäytyy kotikäynneistä. "
                       "Miten edetä, kun oma tiimi ei ole löytänyt keinoja saada yhteyttä?",
    "ot-tuki-neuvo": "Koulu pohtii, miten tukea oppilasta, jolla on toistuvia toiminnallisia oireita "
                     "koulupäivän aikana. Keneltä saisimme konsultaatiota?",
    "ryhma": "Vanhempien riita lapsen asumisesta on jatkunut kaksi vuotta, ja tapaamiset keskeytyvät. "
             "Toivomme ryhmän näkemystä siitä, miten lapsen ääni saadaan kuuluviin.",
    "vahvistus": "Alueen asiantuntijaryhmä tarvitsee vahvistukseksi vaativan lastenpsykiatrian osaajaa "
                 "nuoren sijoituksen suunnitteluun.",
}
ENTRIES = {
    "ot-tuki-kysymys": [("coordinator", pb.ENTRY_KIND_QUESTION,
                         "Onko perheen kanssa sovittu yhteinen tapaaminen koulun kanssa? Kertoisitko myös, "
                         "mitä tukitoimia koulu on jo kokeillut.")],
    "ot-tuki-neuvo": [("coordinator", pb.ENTRY_KIND_QUESTION, "Onko oppilas terveydenhuollon seurannassa oireiden "
                                                              "vuoksi?"),
                      ("professional", pb.ENTRY_KIND_REPLY, "On, kouluterveydenhuolto seuraa ja lähete on tehty."),
                      ("coordinator", pb.ENTRY_KIND_ADVICE,
                       "Suosittelemme konsultaatiota toiminnallisten häiriöiden yksiköstä. Koulu voi sopia "
                       "kouluterveydenhuollon kanssa yhteisen toimintamallin oirejaksoja varten.")],
    "ryhma": [("professional", pb.ENTRY_KIND_PRE_INFORMATION,
               "Esitiedot: lapsi asuu vuorotellen vanhempiensa luona. Perheneuvolan tuki on ollut käynnissä vuoden. "
               "Vanhemmat ovat lupautuneet osallistumaan palaveriin."),
              # The coordinator's: consent learns the booking (which admits the group's secretary)
              # only from intake's events, which wait in the outbox until intake serves.
              ("coordinator", pb.ENTRY_KIND_NOTE, "Käsitellään kokouksessa ensimmäisenä.")],
    "vahvistus": [("coordinator", pb.ENTRY_KIND_NOTE,
                   "Ehdotetaan vaativan lastenpsykiatrian asiantuntijaa; odotetaan asiantuntijaehdotuksia.")],
}
ADVICE_EXPERTS = ["kys-toiminnalliset-hairiot"]


def _contact(tenant: str) -> pb.Professional:
    """The demo professional's contact details, as their user in the local realm has them."""
    return pb.Professional(name="Demo Ammattilainen", email=f"professional.{tenant}@example.fi",
                           profession="sosiaalityöntekijä", organisation="Lapsiperheiden sosiaalityö",
                           sector=case_pb2.SECTOR_SOCIAL, wellbeing_area=tenant)


class Demo:
    def __init__(self, handlers: IntakeHandlers, clock: FixedClock, people: Mapping[str, Caller], tenant: str):
        self.h, self.clock, self.people, self.tenant = handlers, clock, people, tenant
        self.servicer = IntakeServicer(handlers)
        self.group = demo_group(tenant)
        missing = [role for role in ROLES if role not in people]
        if missing:
            raise ValueError(f"the demo needs its {', '.join(missing)}")
        if self.group not in people["secretary"].who.groups:
            raise ValueError(f"the demo secretary ({people['secretary'].who.subject}) is not in the group "
                             f"{self.group}; the demo books a consultation into it")
        self.lines: list[str] = []

    def call(self, role: str, method: str, message):
        """As the demo user `role`, through the edge's field rules and the guard, then the servicer."""
        problems = check(message, FIELD_RULES)
        if problems:  # a demo text the guard refuses is a bug in the demo, not data to store
            raise ValueError(f"demo data refused at the edge: {[(p.field, p.reason) for p in problems]}")
        caller = self.people[role]
        tokens = set_principal(caller.who, f"Bearer {caller.token}")
        try:
            return getattr(self.servicer, method)(message, None)
        finally:
            reset_principal(tokens)

    def at(self, working_days_ago: int, hour: int) -> datetime:
        """`working_days_ago` working days before today, at `hour` UTC (a Finnish office day), and
        never later than now."""
        day = add_working_days(self.start, -working_days_ago).date() if working_days_ago else self.start.date()
        return min(self.start, datetime(day.year, day.month, day.day, hour, 0, tzinfo=self.start.tzinfo))

    def run(self, now: datetime) -> list[str]:
        self.start = now
        meetings = self.meetings(now)

        rid = self.submit("ot-tuki-kysymys", case_pb2.REQUEST_TYPE_OT_TUKI,
                          [case_pb2.CASE_CATEGORY_PSYCHIATRIC_SUBSTANCE_SCHOOL], 3)
        self.triage(rid, 2, "OT-tasoinen: koulunkäynti on keskeytynyt, tarvitaan monialaista tukea.")
        self.conversation(rid, "ot-tuki-kysymys", [1])

        rid = self.submit("ot-tuki-neuvo", case_pb2.REQUEST_TYPE_OT_TUKI, [case_pb2.CASE_CATEGORY_FUNCTIONAL_RARE], 8)
        self.conversation(rid, "ot-tuki-neuvo", [7, 6, 3])
        self.step(rid, lambda r: r.answered_at is not None, 3, "coordinator", "ReturnRecommendations",
                  pb.RequestRef(request_id=rid))

        rid = self.submit("ryhma", case_pb2.REQUEST_TYPE_GROUP_CONSULTATION,
                          [case_pb2.CASE_CATEGORY_CHALLENGING_DIVORCE], 2, anonymous=True)
        self.step(rid, lambda r: bool(r.meeting_id), 1, "professional", "BookMeeting",
                  pb.BookMeetingRequest(request_id=rid, meeting_id=meetings[0].meeting_id))
        self.conversation(rid, "ryhma", [1, 0])

        rid = self.submit("vahvistus", case_pb2.REQUEST_TYPE_EXPERT_REINFORCEMENT,
                          [case_pb2.CASE_CATEGORY_PSYCHIATRIC_SUBSTANCE_SCHOOL,
                           case_pb2.CASE_CATEGORY_CHILD_PROTECTION_SPECIAL], 9)
        self.triage(rid, 8, "")
        self.conversation(rid, "vahvistus", [7])
        return self.lines

    # --- the steps, each skipped once done ------------------------------------------------------
    def meetings(self, now: datetime) -> list[pb.Meeting]:
        """The group's meetings still open for booking; three new ones when there are none (also
        when an earlier run's meetings have passed their booking deadline). The first is far
        enough ahead to be booked: a week past the group's booking lead time."""
        listed = [m for m in self.call("secretary", "ListMeetings",
                                       pb.ListMeetingsRequest(group_id=self.group, from_time=ts(now))).meetings
                  if m.booking_deadline.ToDatetime(tzinfo=now.tzinfo) > now and m.booked < m.capacity]
        if listed:
            return listed
        ten = now.replace(hour=10, minute=0, second=0, microsecond=0)
        first = math.ceil(default_lead_days(self.group) / 7) + 1
        self.clock.set(now)
        places = ("Perheneuvola, neuvotteluhuone 2", "Etäkokous: https://meet.example.fi/ot-ryhma",
                  "Perheneuvola, neuvotteluhuone 2")
        for weeks, place in zip((first, first + 2, first + 4), places):
            listed.append(self.call("secretary", "PublishMeeting", pb.PublishMeetingRequest(
                group_id=self.group, starts_at=ts(ten + timedelta(weeks=weeks)), capacity=3, location=place)))
        self.lines.append(f"published 3 demo meetings in group {self.group}")
        return listed

    def submit(self, key: str, type_: int, categories: list[int], working_days_ago: int, **extra) -> str:
        owner = self.people["professional"].who.subject
        with self.h.sessions() as s:
            existing = IntakeRepository(s).find_by_idempotency_key(owner, f"demo-{key}", self.tenant)
        if existing is not None:
            return existing.id
        self.clock.set(self.at(working_days_ago, hour=7))
        created = self.call("professional", "SubmitRequest", pb.SubmitRequestRequest(
            type=type_, professional=_contact(self.tenant), categories=categories, question=QUESTIONS[key],
            discussed_in_own_team=True, consent=pb.ConsentAssessment(need=pb.CONSENT_NEED_NOT_NEEDED),
            idempotency_key=f"demo-{key}", **extra))
        self.lines.append(f"demo request {created.request_id[:8]}: {key}")
        return created.request_id

    def triage(self, request_id: str, working_days_ago: int, note: str) -> None:
        self.step(request_id, lambda r: r.status is not Status.SUBMITTED, working_days_ago, "coordinator",
                  "TriageRequest", pb.TriageRequestRequest(request_id=request_id, note=note))

    def step(self, request_id: str, done: Callable[[ConsultationRequest], bool], working_days_ago: int,
             role: str, method: str, message) -> None:
        """A lifecycle step, unless it was done on an earlier run."""
        with self.h.sessions() as s:
            if done(IntakeRepository(s).get(request_id, self.tenant)):
                return
        self.clock.set(self.at(working_days_ago, hour=13))
        self.call(role, method, message)

    def conversation(self, request_id: str, key: str, working_days_ago: list[int]) -> None:
        """The request's entries, each unless written on an earlier run (not even asking consent
        again: a second run adds nothing, not even an audit entry)."""
        for n, ((role, kind, text), ago) in enumerate(zip(ENTRIES[key], working_days_ago, strict=True)):
            with self.h.sessions() as s:
                if IntakeRepository(s).entry_by_idempotency_key(request_id, self.people[role].who.subject,
                                                                f"demo-{key}-{n}"):
                    continue
            self.clock.set(self.at(ago, hour=8 + n))
            self.call(role, "AddEntry", pb.AddEntryRequest(
                request_id=request_id, kind=kind, text=text, idempotency_key=f"demo-{key}-{n}",
                author_name="OT-keskus" if role != "professional" else "",
                expert_ids=ADVICE_EXPERTS if kind == pb.ENTRY_KIND_ADVICE else []))
