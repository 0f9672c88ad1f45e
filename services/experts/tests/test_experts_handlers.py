"""Use cases on a seeded SQLite database: catalogue, seed, proposals, assignments and their events."""
import copy

import pytest
import sqlalchemy as sa
from ot.events.v1 import experts_events_pb2

from ot_runtime.db import session_factory
from ot_runtime.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from ot_experts.catalogue import seed
from ot_experts.domain import Availability, Category, Cost, Modality, RequestStatus, RequestType
from ot_experts.handlers import ExpertFilter
from ot_experts.store import outbox, proposal_sets

from experts_testkit import (COORDINATOR, NOW, REQ1, REQ2, REQ_KS, REQ_KS2, SECRETARY, TENANT, UNKNOWN_REQ, expert,
                             make_handlers, person)

PSY = [Category.PSYCHIATRIC_SUBSTANCE_SCHOOL]
EXPERT_USER = person("expert-kys-vaativa-lastenpsykiatria", "expert")


def rows(engine, table):
    with engine.connect() as c:
        return c.execute(sa.select(table).order_by(*table.primary_key.columns)).mappings().all()


def receive(handlers, request_id=REQ1, categories=PSY, status=RequestStatus.SUBMITTED, event_id=None,
            tenant=TENANT):
    with handlers.sessions.begin() as s:
        handlers.on_request_event(s, event_id or f"ev-{request_id}-{status}", request_id, RequestType.EXPERT_REINFORCEMENT,
                                  categories, status, tenant)


def events_of(engine, ce_type):
    return [r for r in rows(engine, outbox) if r["ce_type"] == ce_type]


# --- seed and catalogue ------------------------------------------------------------------------

def test_seed_is_idempotent_and_a_newer_version_updates_the_catalogue_but_not_the_areas_overlay(
        engine, handlers, dataset):
    with session_factory(engine).begin() as s:
        again = seed(s, NOW, dataset)
    assert (again.experts_written, again.skipped_as_current) == (0, len(dataset["experts"]))
    handlers.update_expert(COORDINATOR, "barnahus", availability=Availability.LIMITED, local_note="Tammikuussa tauko.")
    newer = copy.deepcopy(dataset)
    newer["version"] += 1
    for e in newer["experts"]:
        if e["id"] == "barnahus":
            e["competences"].append("kriisityö")
    with session_factory(engine).begin() as s:
        result = seed(s, NOW, newer)
    assert result.experts_written == len(dataset["experts"])
    b = handlers.get_expert(COORDINATOR, "barnahus").expert
    assert "kriisityö" in b.competences and b.dataset_version == newer["version"]
    assert b.overlay.availability is Availability.LIMITED and b.overlay.local_note == "Tammikuussa tauko."


def test_the_seed_has_the_network_of_the_sources_with_fictional_contacts(handlers):
    views, _, total = handlers.list_experts(person(), ExpertFilter(page_size=100))
    ids = {v.expert.id for v in views}
    assert total == 11 and {"barnahus", "tukikeskus-varjo", "valteri", "vaalijala", "valtion-koulukodit"} <= ids
    assert all("kuvitteellinen" in v.expert.contact.name for v in views)
    reform = next(v for v in views if v.expert.id == "valtion-koulukodit")
    assert not reform.use.usable and "selvitettävänä" in reform.use.fi


def test_search_finds_inflected_finnish_and_combines_filters(handlers):
    def search(**f):
        views, _, _ = handlers.list_experts(person(), ExpertFilter(page_size=100, **f))
        return {v.expert.id for v in views}

    found = search(text="psykiatria")
    assert {"kys-oikeuspsykiatria", "kys-vaativa-lastenpsykiatria"} <= found and "barnahus" not in found
    # Valteri's description says "harvinainen ... tuen tarve"; the unit's name "Harvinaissairauksien".
    assert search(category=Category.FUNCTIONAL_RARE, cost=Cost.FREE, modality=Modality.REMOTE,
                  text="harvinainen") == {"kys-harvinaissairaudet", "valteri"}
    assert search(category=Category.FUNCTIONAL_RARE, modality=Modality.ON_SITE, text="harvinainen") == {"valteri"}
    assert search(cost=Cost.PAID) == {"vaalijala", "kys-oikeuspsykiatria", "valtion-koulukodit"}
    assert "valtion-koulukodit" not in search(usable_only=True)


def test_pages_cover_the_catalogue_once_and_a_foreign_token_is_refused(handlers):
    seen, token = [], ""
    while True:
        page, token, total = handlers.list_experts(person(), ExpertFilter(page_size=4, page_token=token))
        seen += [v.expert.id for v in page]
        if not token:
            break
    assert len(seen) == total == len(set(seen)) == 11
    with pytest.raises(InvalidArgument) as err:
        handlers.list_experts(person(), ExpertFilter(page_token="not-ours"))
    assert err.value.violations[0].field == "page_token"


def test_coordinator_creates_updates_and_retires_an_own_expert_that_stays_visible(handlers):
    created = handlers.create_expert(COORDINATOR, expert(""))
    eid = created.expert.id
    assert eid.startswith("pohjois-savo-") and created.use.code == "own_area"
    handlers.update_expert(COORDINATOR, eid, fields=expert(eid, name_fi="Uusi nimi", categories=(Category.NEUROPSYCHIATRIC,)))
    assert handlers.get_expert(person(), eid).expert.name_fi == "Uusi nimi"
    retired = handlers.retire_expert(COORDINATOR, eid)
    assert retired.expert.retired and not retired.use.usable
    assert eid not in {v.expert.id for v in handlers.list_experts(person(), ExpertFilter(page_size=100))[0]}
    assert eid in {v.expert.id for v in handlers.list_experts(person(), ExpertFilter(page_size=100,
                                                                                     include_retired=True))[0]}


def test_shared_catalogue_fields_are_refused_but_the_overlay_changes(handlers):
    with pytest.raises(FailedPrecondition) as err:
        handlers.update_expert(COORDINATOR, "barnahus", fields=expert("barnahus"))
    assert err.value.violation_type == "CATALOGUE_MANAGED"
    v = handlers.update_expert(COORDINATOR, "barnahus", active=False)
    assert not v.use.usable and v.use.code == "EXPERT_NOT_ACTIVE"


def test_service_map_lists_each_areas_groups(handlers):
    mine = handlers.list_groups(person())
    assert {g.kind for g in mine} == {"statutory_expert_group", "challenging_divorces"}
    assert all(g.area == TENANT for g in mine)
    pk = handlers.list_groups(person(), "pohjois-karjala")
    assert [g.kind for g in pk] == ["statutory_expert_group"] and pk[0].client_may_attend
    divorce = handlers.list_groups(person(), "keski-suomi", "challenging_divorces")[0]
    assert divorce.booking_lead_days == 7 and "perheneuvola" in divorce.member_fields
    with pytest.raises(InvalidArgument):
        handlers.list_groups(person(), "lappi")
    assert {a.area for a in handlers.list_agreements(person())} == {"pohjois-savo", "keski-suomi", "etela-savo",
                                                                   "pohjois-karjala"}


# --- proposals ---------------------------------------------------------------------------------

def test_a_submitted_request_gets_explained_proposals_and_triage_recomputes(handlers, engine):
    receive(handlers)
    v = handlers.proposals(COORDINATOR, REQ1)
    assert v.revision == 1 and v.trigger == "submitted" and v.items
    ids = [ev.expert.id for _, ev, _, _ in v.items]
    assert "valtion-koulukodit" not in ids  # being investigated: never proposed
    assert sorted(ids) == ["elmeri-koulu-sateenkaari", "kys-vaativa-lastenpsykiatria", "sairaalaopetus"]
    scores = [score for _, _, score, _ in v.items]
    assert scores == sorted(scores, reverse=True) and ids == sorted(ids)  # equal scores: by id
    assert [rank for rank, *_ in v.items] == list(range(1, len(ids) + 1))
    receive(handlers, status=RequestStatus.TRIAGED)
    assert handlers.proposals(COORDINATOR, REQ1).revision == 2
    assert len(rows(engine, proposal_sets)) == 2


def test_withdrawal_drops_the_proposals(handlers):
    receive(handlers)
    receive(handlers, status=RequestStatus.WITHDRAWN)
    v = handlers.proposals(SECRETARY, REQ1)
    assert v.dropped and v.items == [] and v.status is RequestStatus.WITHDRAWN


def test_an_event_of_another_area_is_refused(handlers):
    with pytest.raises(FailedPrecondition):
        receive(handlers, tenant="keski-suomi")


# --- assignments -------------------------------------------------------------------------------

def test_assign_publishes_experts_assigned_and_the_expert_sees_it(handlers, engine):
    receive(handlers)
    result = handlers.assign(COORDINATOR, REQ1, ["kys-vaativa-lastenpsykiatria", "sairaalaopetus"], False)
    assert {a.expert_id for a in result if a.active} == {"kys-vaativa-lastenpsykiatria", "sairaalaopetus"}
    [row] = events_of(engine, "ot.experts.assignment.made.v1")
    msg = experts_events_pb2.ExpertsAssigned.FromString(row["payload"])
    assert row["record_key"] == REQ1 and msg.tenant == TENANT
    assert sorted(msg.expert_ids) == ["kys-vaativa-lastenpsykiatria", "sairaalaopetus"]
    [mine] = handlers.my_assignments(EXPERT_USER)
    assert mine.request_id == REQ1 and mine.categories == PSY
    with pytest.raises(PermissionDenied) as err:  # a login linked to no expert is told so
        handlers.my_assignments(person("someone-else", "expert"))
    assert err.value.reason == "EXPERT_NOT_LINKED"


def test_load_lowers_an_experts_rank_on_the_next_request(handlers):
    receive(handlers)
    handlers.assign(COORDINATOR, REQ1, ["kys-vaativa-lastenpsykiatria"], False)
    receive(handlers, REQ2)
    v = handlers.proposals(COORDINATOR, REQ2)
    item = next(i for i in v.items if i[1].expert.id == "kys-vaativa-lastenpsykiatria")
    assert any(r["code"] == "load" and r["points"] == -1 for r in item[3])


def test_no_agreement_paid_without_approval_and_sharing_refusals_write_nothing(handlers, engine, clock, dataset):
    receive(handlers)
    with pytest.raises(FailedPrecondition) as err:
        handlers.assign(COORDINATOR, REQ1, ["valtion-koulukodit"], True)
    assert err.value.violation_type == "NO_AGREEMENT" and err.value.subject == "experts/valtion-koulukodit"
    with pytest.raises(FailedPrecondition) as err:
        handlers.assign(COORDINATOR, REQ1, ["sairaalaopetus", "vaalijala"], False)
    assert err.value.violation_type == "COST_APPROVAL_REQUIRED" and "kustannukset" in err.value.message

    class Refuse:
        def may_share(self, request_id, party):
            return False, "Suostumus puuttuu. / Consent is missing."
    with pytest.raises(FailedPrecondition) as err:
        make_handlers(engine, clock, sharing=Refuse()).assign(COORDINATOR, REQ1, ["sairaalaopetus"], False)
    assert err.value.violation_type == "SHARING_NOT_ALLOWED"
    assert handlers.list_assignments(COORDINATOR, REQ1) == [] and events_of(engine, "ot.experts.assignment.made.v1") == []
    handlers.assign(COORDINATOR, REQ1, ["vaalijala"], True)
    assert [a.cost_approved for a in handlers.list_assignments(COORDINATOR, REQ1)] == [True]


def test_an_area_whose_agreement_does_not_cover_the_expert_is_refused(engine, clock, dataset):
    narrow = copy.deepcopy(dataset)
    narrow["version"] += 1
    for a in narrow["agreements"]:
        if a["area"] == "keski-suomi":
            a["expert_ids"] = ["barnahus"]
    with session_factory(engine).begin() as s:
        seed(s, NOW, narrow)
    ks = make_handlers(engine, clock, tenant="keski-suomi")
    coordinator = person("coord-ks", "coordinator", tenant="keski-suomi")
    receive(ks, REQ_KS, [Category.CHILD_PROTECTION_SPECIAL], tenant="keski-suomi")
    with pytest.raises(FailedPrecondition) as err:
        ks.assign(coordinator, REQ_KS, ["vaalijala"], True)
    assert err.value.violation_type == "NO_AGREEMENT" and "yhteistyösopimusta" in err.value.message
    assert [i[1].expert.id for i in ks.proposals(coordinator, REQ_KS).items] == ["barnahus"]
    ks.assign(coordinator, REQ_KS, ["barnahus"], False)


def test_unassign_and_reassign(handlers, engine):
    receive(handlers)
    handlers.assign(COORDINATOR, REQ1, ["kys-vaativa-lastenpsykiatria", "sairaalaopetus"], False)
    with pytest.raises(FailedPrecondition) as err:
        handlers.assign(COORDINATOR, REQ1, ["sairaalaopetus"], False)
    assert err.value.violation_type == "ALREADY_ASSIGNED"
    after = handlers.unassign(COORDINATOR, REQ1, "sairaalaopetus", "Ei tarvita enää.")
    assert [(a.expert_id, a.active) for a in after] == [("kys-vaativa-lastenpsykiatria", True), ("sairaalaopetus", False)]
    [removed] = events_of(engine, "ot.experts.assignment.removed.v1")
    msg = experts_events_pb2.ExpertsUnassigned.FromString(removed["payload"])
    assert list(msg.removed_expert_ids) == ["sairaalaopetus"] and list(msg.remaining_expert_ids) == [
        "kys-vaativa-lastenpsykiatria"]
    handlers.assign(COORDINATOR, REQ1, ["sairaalaopetus"], False)
    last = experts_events_pb2.ExpertsAssigned.FromString(events_of(engine, "ot.experts.assignment.made.v1")[-1]["payload"])
    assert sorted(last.expert_ids) == ["kys-vaativa-lastenpsykiatria", "sairaalaopetus"]
    with pytest.raises(FailedPrecondition) as err:
        handlers.unassign(COORDINATOR, REQ1, "barnahus", "")
    assert err.value.violation_type == "NOT_ASSIGNED"


def test_retired_experts_are_not_assignable_but_stay_on_past_cases(handlers):
    receive(handlers)
    handlers.assign(COORDINATOR, REQ1, ["barnahus"], False)
    handlers.retire_expert(COORDINATOR, "barnahus")
    [past] = handlers.list_assignments(COORDINATOR, REQ1)
    assert past.expert_name_fi == "Barnahus"
    receive(handlers, REQ2, [Category.CHILD_PROTECTION_SPECIAL])
    assert "barnahus" not in [i[1].expert.id for i in handlers.proposals(COORDINATOR, REQ2).items]
    with pytest.raises(FailedPrecondition) as err:
        handlers.assign(COORDINATOR, REQ2, ["barnahus"], False)
    assert err.value.violation_type == "EXPERT_RETIRED"


def test_requests_unknown_or_ended_cannot_be_assigned(handlers):
    with pytest.raises(NotFound):
        handlers.assign(COORDINATOR, UNKNOWN_REQ, ["barnahus"], False)
    receive(handlers)
    receive(handlers, status=RequestStatus.CLOSED)
    with pytest.raises(FailedPrecondition) as err:
        handlers.assign(COORDINATOR, REQ1, ["barnahus"], False)
    assert err.value.violation_type == "REQUEST_NOT_ASSIGNABLE"


def test_an_expert_can_be_lined_up_while_the_team_waits_for_the_professionals_reply(handlers):
    receive(handlers, status=RequestStatus.AWAITING_INFORMATION)
    assignments = handlers.assign(COORDINATOR, REQ1, ["barnahus"], False)
    assert [a.expert_id for a in assignments if a.active] == ["barnahus"]


def test_the_areas_own_settings_decide_its_agreement(engine, clock, dataset):
    from ot_experts.catalogue import agreement_from_env
    narrow = agreement_from_env({"OT_AGREEMENT_KIND": "cooperation", "OT_AGREEMENT_SIGNED": "Sopimus 2026",
                                 "OT_AGREEMENT_EXPERT_IDS": "barnahus, vaalijala"}, "keski-suomi")
    with session_factory(engine).begin() as s:
        seed(s, NOW, dataset, area_agreement=narrow)
    ks = make_handlers(engine, clock, tenant="keski-suomi")
    coordinator = person("coord-ks", "coordinator", tenant="keski-suomi")
    receive(ks, REQ_KS, [Category.CHILD_PROTECTION_SPECIAL], tenant="keski-suomi")
    with pytest.raises(FailedPrecondition) as err:
        ks.assign(coordinator, REQ_KS, ["sairaalaopetus"], False)
    assert err.value.violation_type == "NO_AGREEMENT"
    ks.assign(coordinator, REQ_KS, ["barnahus"], False)

    with session_factory(engine).begin() as s:  # "none": the area uses no network experts
        seed(s, NOW, dataset, area_agreement=agreement_from_env({"OT_AGREEMENT_KIND": "none"}, "keski-suomi"))
    receive(ks, REQ_KS2, [Category.CHILD_PROTECTION_SPECIAL], tenant="keski-suomi")
    with pytest.raises(FailedPrecondition):
        ks.assign(coordinator, REQ_KS2, ["vaalijala"], True)


@pytest.mark.parametrize("env, name", [({"OT_AGREEMENT_KIND": "maybe"}, "OT_AGREEMENT_KIND"),
                                       ({"OT_AGREEMENT_KIND": "cooperation"}, "OT_AGREEMENT_SIGNED")])
def test_a_wrong_agreement_setting_is_named(env, name):
    from ot_experts.catalogue import agreement_from_env
    with pytest.raises(ValueError, match=name):
        agreement_from_env(env, "etela-savo")
