"""Rules without I/O: the Finnish text match, usability, and the explainable ranking."""
import pytest

from ot_experts.domain import (Agreement, Availability, Category, Cost, NetworkStatus, Overlay, matches_text,
                               propose, slugify, usability, validate_expert)
from ot_experts.edge import EXPERT_ID

from experts_testkit import TENANT, expert

HOST = Agreement(area=TENANT, kind="host", signed="2023", expert_ids=("*",))


@pytest.mark.parametrize("query, text", [
    ("psykiatria", "KYS Lasten ja nuorten oikeuspsykiatrian tutkimusyksikkö"),
    ("psykiatria", "Vaativa lastenpsykiatria"),
    ("lastenpsykiatrian", "Vaativa lastenpsykiatria"),
    ("koulukoti", "Valtion koulukodit"),
    ("harvinainen", "Harvinaissairauksien yksikkö"),
    ("erot", "Haastavat erot"),
    ("Väkivalta", "väkivallan arviointi"),
    ("vaativa psykiatria", "Vaativan lastenpsykiatrian konsultaatio"),
])
def test_finnish_words_find_their_inflected_and_compound_forms(query, text):
    assert matches_text(query, text)


@pytest.mark.parametrize("query, text", [
    ("psykiatria", "Harvinaissairauksien yksikkö"),
    ("barnahus", "Tukikeskus Varjo"),
    ("vaativa psykiatria", "Vaativan erityisen tuen osaaminen"),  # every word must match
])
def test_unrelated_words_do_not_match(query, text):
    assert not matches_text(query, text)


def test_the_host_area_may_use_the_network_but_not_what_is_still_being_investigated():
    assert usability(expert(), TENANT, HOST).usable
    investigated = usability(expert(network_status=NetworkStatus.BEING_INVESTIGATED), TENANT, HOST)
    assert not investigated.usable and investigated.code == "NO_AGREEMENT" and "selvitettävänä" in investigated.fi


def test_an_area_without_an_agreement_may_not_use_a_network_expert_but_may_use_its_own():
    assert usability(expert(), "keski-suomi", None).code == "NO_AGREEMENT"
    narrow = Agreement(area="keski-suomi", kind="cooperation", signed="2023", expert_ids=("muu",))
    assert not usability(expert(), "keski-suomi", narrow).usable
    own = expert(origin="area", origin_area="keski-suomi")
    assert usability(own, "keski-suomi", None).usable


def test_inactive_and_retired_experts_are_not_usable(clock):
    assert usability(expert(overlay=Overlay(active=False)), TENANT, HOST).code == "EXPERT_NOT_ACTIVE"
    assert usability(expert(overlay=Overlay(retired_at=clock.now())), TENANT, HOST).code == "EXPERT_RETIRED"


def test_proposals_rank_by_fit_then_free_before_paid_then_availability_and_load_and_explain_each_point():
    cats = [Category.PSYCHIATRIC_SUBSTANCE_SCHOOL, Category.NEUROPSYCHIATRIC]
    both = expert("a-both", categories=tuple(cats), cost=Cost.PAID, price_note="100 €")
    free = expert("b-free")
    paid = expert("c-paid", cost=Cost.PAID, price_note="100 €")
    busy = expert("d-busy")
    away = expert("e-away", overlay=Overlay(availability=Availability.UNAVAILABLE))
    unrelated = expert("f-other", categories=(Category.CHALLENGING_DIVORCE,))
    investigated = expert("g-inv", network_status=NetworkStatus.BEING_INVESTIGATED)
    ranked = propose(cats, [away, unrelated, paid, investigated, busy, free, both], TENANT, HOST, {"d-busy": 2})
    assert [p.expert_id for p in ranked] == ["a-both", "b-free", "d-busy", "c-paid", "e-away"]
    assert [p.rank for p in ranked] == [1, 2, 3, 4, 5]
    for p in ranked:
        assert p.score == sum(r.points for r in p.reasons)
        assert {"category_fit", "agreement", "availability", "load"} <= {r.code for r in p.reasons}
        assert all(r.fi and r.en for r in p.reasons)
    assert any(r.code == "paid" and "kustannushyväksyntä" in r.fi for r in ranked[3].reasons)
    assert any(r.code == "load" and r.points == -2 for r in ranked[2].reasons)


def test_proposals_are_deterministic_whatever_the_input_order():
    experts = [expert(f"x-{i}") for i in range(6)]
    first = propose([Category.PSYCHIATRIC_SUBSTANCE_SCHOOL], experts, TENANT, HOST, {})
    again = propose([Category.PSYCHIATRIC_SUBSTANCE_SCHOOL], list(reversed(experts)), TENANT, HOST, {})
    assert first == again and [p.expert_id for p in first] == sorted(e.id for e in experts)


def test_a_paid_expert_needs_a_price_note_and_some_category():
    problems = validate_expert(expert(cost=Cost.PAID, price_note="", categories=()))
    assert {p.field for p in problems} == {"fields.price_note", "fields.categories"}
    assert all(" / " in p.description for p in problems)  # Finnish first, then English


@pytest.mark.parametrize("name", ["x" * 66 + " yy", "Äänekosken perheneuvola – psykologi ", "  ---Valteri---  "])
def test_a_generated_id_is_in_the_form_the_edge_accepts(name):
    generated = slugify(f"pohjois-savo-{name}")
    assert len(generated) <= EXPERT_ID.max_chars and EXPERT_ID.pattern.fullmatch(generated)
