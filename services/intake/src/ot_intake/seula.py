"""OT-seula: a transparent screening score that helps a coordinator judge whether a situation
is OT level. It is a sum of named, visible points, never an automatic decision.

Points (at most 10):
- the most demanding category present: family-homicide threat 3, severe psychiatric/substance
  disorder with child protection and school decline 2, any other 1;
- several intertwined categories: two +1, three or more +2;
- earlier services already tried: one or two +1, three or more +2;
- professionals already involved: two or three +1, four or more +2;
- a question written out (at least 80 characters) +1.
Band: 7-10 likely OT level, 4-6 possibly, 0-3 probably manageable in basic or specialist services.
"""
from __future__ import annotations

from dataclasses import dataclass

from ot_runtime.vocabulary import CATEGORY_LABELS

from .domain import Category, Submission

MAX_SCORE = 10


@dataclass(frozen=True)
class Reason:
    points: int
    fi: str
    en: str


@dataclass(frozen=True)
class Screening:
    score: int
    band: str
    reasons: list[Reason]

    @property
    def summary_fi(self) -> str:
        text = {"likely": "todennäköisesti OT-tason tilanne", "possible": "mahdollisesti OT-tason tilanne",
                "unlikely": "todennäköisesti hoidettavissa perus- tai erityistason palveluissa"}[self.band]
        return f"OT-seula {self.score}/{MAX_SCORE}: {text}. Suuntaa antava; koordinaattori päättää."

    @property
    def summary_en(self) -> str:
        text = {"likely": "likely an OT-level situation", "possible": "possibly an OT-level situation",
                "unlikely": "probably manageable in basic or specialist services"}[self.band]
        return f"OT-seula {self.score}/{MAX_SCORE}: {text}. Indicative only; the coordinator decides."


# Points of the most demanding category; any other category is 1. What people read is the
# vocabulary's label of the category in their language, never its code.
_SEVERITY = {Category.FAMILY_HOMICIDE_THREAT: 3, Category.PSYCHIATRIC_SUBSTANCE_SCHOOL: 2}


def screen(sub: Submission) -> Screening:
    reasons: list[Reason] = []
    if sub.categories:
        # The first of the most demanding, in the order the professional gave them.
        best = max(sub.categories, key=lambda c: _SEVERITY.get(c, 1))
        fi, en = CATEGORY_LABELS[best]
        reasons.append(Reason(_SEVERITY.get(best, 1), f"Vaativin tilanne: {fi}", f"Most demanding situation: {en}"))
    n = len(set(sub.categories))
    if n >= 2:
        reasons.append(Reason(2 if n >= 3 else 1, f"{n} toisiinsa kietoutunutta tilanneluokkaa",
                              f"{n} intertwined case categories"))
    services = [s for s in sub.client.earlier_services if s.strip()]
    if services:
        reasons.append(Reason(2 if len(services) >= 3 else 1, f"Aiempia palveluja kokeiltu: {len(services)}",
                              f"Earlier services tried: {len(services)}"))
    else:
        reasons.append(Reason(0, "Aiempia palveluja ei kerrottu: perus- ja erityistason palvelut voivat olla "
                                 "vielä kokeilematta", "No earlier services given: basic and specialist services "
                                 "may not have been tried yet"))
    partners = [p for p in sub.client.cooperation_partners if p.strip()]
    if len(partners) >= 2:
        reasons.append(Reason(2 if len(partners) >= 4 else 1, f"Mukana olevia yhteistyötahoja: {len(partners)}",
                              f"Cooperation partners involved: {len(partners)}"))
    if len(sub.question.strip()) >= 80:
        reasons.append(Reason(1, "Kysymys on kuvattu tarkasti", "The question is described in detail"))
    score = min(MAX_SCORE, sum(r.points for r in reasons))
    return Screening(score=score, band=band_for(score), reasons=reasons)


def band_for(score: int) -> str:
    return "likely" if score >= 7 else "possible" if score >= 4 else "unlikely"
