"""`ot-intake seed-demo`: fictional demo data for `make run`.

Three meetings of the area's challenging-divorces group, and one request of each type at a
different stage, each with its conversation:
- an OT-TUKI request awaiting information (the coordinator's question);
- an OT-TUKI request answered: question, reply, advice pointing to an expert, returned;
- a group consultation booked into the first meeting, with its pre-information form;
- an expert reinforcement triaged and past the response target, with the OT team's note (the
  experts service offers its proposals once it has read the request's event).

Everything goes the way a real call goes: each message passes the edge's field rules and the
client-identifier guard (edge.FIELD_RULES) and then the servicer, as the person it is from, so
consent opens each case and hands out each key, and audits every read. The people, the subjects
and the texts are made up (nobody named in the source pages). Times are set back a few working
days so that the worklist shows waiting times. Running it again adds nothing: requests are found
by their idempotency keys and each step is skipped once done.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from ot.common.v1 import case_pb2
from ot.intake.v1 import intake_pb2 as pb

from ot_runtime.auth import Principal, reset_principal, set_principal
from ot_runtime.clock import FixedClock
from ot_runtime.fields import check
from ot_runtime.protoconv import ts
from ot_runtime.workdays import add_working_days

from .domain import ConsultationRequest, Status
from .edge import FIELD_RULES
from .grpc_api import IntakeServicer
from .handlers import IntakeHandlers
from .store import IntakeRepository

COORDINATOR = "demo-koordinaattori"
SECRETARY = "demo-sihteeri"


@dataclass(frozen=True)
class Worker:
    subject: str
    name: str
    email: str
    profession: str
    organisation: str
    sector: int


WORKERS = (
    Worker("demo-ammattilainen-1", "Demo Sosiaalityöntekijä", "sosiaalityo.demo@example.fi", "sosiaalityöntekijä",
           "Lapsiperheiden sosiaalityö", case_pb2.SECTOR_SOCIAL),
    Worker("demo-ammattilainen-2", "Demo Koulukuraattori", "kuraattori.demo@example.fi", "koulukuraattori",
           "Perusopetuksen oppilashuolto", case_pb2.SECTOR_EDUCATION),
)

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


def _request(key: str, worker: Worker, tenant: str, type_: int, categories: list[int],
             **extra) -> pb.SubmitRequestRequest:
    return pb.SubmitRequestRequest(
        type=type_, professional=pb.Professional(name=worker.name, email=worker.email, profession=worker.profession,
                                                 organisation=worker.organisation, sector=worker.sector,
                                                 wellbeing_area=tenant),
        categories=categories, question=QUESTIONS[key], discussed_in_own_team=True,
        consent=pb.ConsentAssessment(need=pb.CONSENT_NEED_NOT_NEEDED), idempotency_key=f"demo-{key}", **extra)


class Demo:
    def __init__(self, handlers: IntakeHandlers, clock: FixedClock, sign: Callable[[Principal], str], tenant: str):
        self.h, self.clock, self.sign, self.tenant = handlers, clock, sign, tenant
        self.servicer = IntakeServicer(handlers)
        self.group = f"haastavat-erot-{tenant}"
        self.people = {
            "coordinator": Principal(COORDINATOR, tenant, frozenset({"coordinator"})),
            "secretary": Principal(SECRETARY, tenant, frozenset({"secretary"}), frozenset({self.group})),
        }
        self.lines: list[str] = []

    def call(self, who: Principal, method: str, message):
        """As `who`, through the edge's field rules and the guard, then the servicer."""
        problems = check(message, FIELD_RULES)
        if problems:  # a demo text the guard refuses is a bug in the demo, not data to store
            raise ValueError(f"demo data refused at the edge: {[(p.field, p.reason) for p in problems]}")
        tokens = set_principal(who, f"Bearer {self.sign(who)}")
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
        owner = {w.subject: Principal(w.subject, self.tenant, frozenset({"professional"})) for w in WORKERS}
        w1, w2 = WORKERS

        rid = self.submit("ot-tuki-kysymys", w1, case_pb2.REQUEST_TYPE_OT_TUKI,
                          [case_pb2.CASE_CATEGORY_PSYCHIATRIC_SUBSTANCE_SCHOOL], 3)
        self.triage(rid, 2, "OT-tasoinen: koulunkäynti on keskeytynyt, tarvitaan monialaista tukea.")
        self.conversation(rid, "ot-tuki-kysymys", owner[w1.subject], [1])

        rid = self.submit("ot-tuki-neuvo", w2, case_pb2.REQUEST_TYPE_OT_TUKI, [case_pb2.CASE_CATEGORY_FUNCTIONAL_RARE],
                          8)
        self.conversation(rid, "ot-tuki-neuvo", owner[w2.subject], [7, 6, 3])
        self.step(rid, lambda r: r.answered_at is not None, 3, self.people["coordinator"], "ReturnRecommendations",
                  pb.RequestRef(request_id=rid))

        rid = self.submit("ryhma", w1, case_pb2.REQUEST_TYPE_GROUP_CONSULTATION,
                          [case_pb2.CASE_CATEGORY_CHALLENGING_DIVORCE], 2, anonymous=True)
        self.step(rid, lambda r: bool(r.meeting_id), 1, owner[w1.subject], "BookMeeting",
                  pb.BookMeetingRequest(request_id=rid, meeting_id=meetings[0].meeting_id))
        self.conversation(rid, "ryhma", owner[w1.subject], [1, 0])

        rid = self.submit("vahvistus", w2, case_pb2.REQUEST_TYPE_EXPERT_REINFORCEMENT,
                          [case_pb2.CASE_CATEGORY_PSYCHIATRIC_SUBSTANCE_SCHOOL,
                           case_pb2.CASE_CATEGORY_CHILD_PROTECTION_SPECIAL], 9)
        self.triage(rid, 8, "")
        self.conversation(rid, "vahvistus", owner[w2.subject], [7])
        return self.lines

    # --- the steps, each skipped once done ------------------------------------------------------
    def meetings(self, now: datetime) -> list[pb.Meeting]:
        """The group's meetings still open for booking; three new ones when there are none (also
        when an earlier run's meetings have passed their booking deadline)."""
        listed = [m for m in self.call(self.people["secretary"], "ListMeetings",
                                       pb.ListMeetingsRequest(group_id=self.group, from_time=ts(now))).meetings
                  if m.booking_deadline.ToDatetime(tzinfo=now.tzinfo) > now and m.booked < m.capacity]
        if listed:
            return listed
        ten = now.replace(hour=10, minute=0, second=0, microsecond=0)
        self.clock.set(now)
        places = ("Perheneuvola, neuvotteluhuone 2", "Etäkokous: https://meet.example.fi/haastavat-erot",
                  "Perheneuvola, neuvotteluhuone 2")
        for weeks, place in zip((2, 4, 6), places):
            listed.append(self.call(self.people["secretary"], "PublishMeeting", pb.PublishMeetingRequest(
                group_id=self.group, starts_at=ts(ten + timedelta(weeks=weeks)), capacity=3, location=place)))
        self.lines.append(f"published 3 demo meetings in group {self.group}")
        return listed

    def submit(self, key: str, worker: Worker, type_: int, categories: list[int], working_days_ago: int,
               **extra) -> str:
        owner = Principal(worker.subject, self.tenant, frozenset({"professional"}))
        with self.h.sessions() as s:
            existing = IntakeRepository(s).find_by_idempotency_key(worker.subject, f"demo-{key}", self.tenant)
        if existing is not None:
            return existing.id
        self.clock.set(self.at(working_days_ago, hour=7))
        created = self.call(owner, "SubmitRequest", _request(key, worker, self.tenant, type_, categories, **extra))
        self.lines.append(f"demo request {created.request_id[:8]}: {key}")
        return created.request_id

    def triage(self, request_id: str, working_days_ago: int, note: str) -> None:
        self.step(request_id, lambda r: r.status is not Status.SUBMITTED, working_days_ago, self.people["coordinator"],
                  "TriageRequest", pb.TriageRequestRequest(request_id=request_id, note=note))

    def step(self, request_id: str, done: Callable[[ConsultationRequest], bool], working_days_ago: int,
             who: Principal, method: str, message) -> None:
        """A lifecycle step, unless it was done on an earlier run."""
        with self.h.sessions() as s:
            if done(IntakeRepository(s).get(request_id, self.tenant)):
                return
        self.clock.set(self.at(working_days_ago, hour=13))
        self.call(who, method, message)

    def conversation(self, request_id: str, key: str, owner: Principal, working_days_ago: list[int]) -> None:
        """The request's entries, each unless written on an earlier run (not even asking consent
        again: a second run adds nothing, not even an audit entry)."""
        for n, ((role, kind, text), ago) in enumerate(zip(ENTRIES[key], working_days_ago, strict=True)):
            who = owner if role == "professional" else self.people[role]
            with self.h.sessions() as s:
                if IntakeRepository(s).entry_by_idempotency_key(request_id, who.subject, f"demo-{key}-{n}"):
                    continue
            self.clock.set(self.at(ago, hour=8 + n))
            self.call(who, "AddEntry", pb.AddEntryRequest(
                request_id=request_id, kind=kind, text=text, idempotency_key=f"demo-{key}-{n}",
                author_name="OT-keskus" if role != "professional" else "",
                expert_ids=ADVICE_EXPERTS if kind == pb.ENTRY_KIND_ADVICE else []))
