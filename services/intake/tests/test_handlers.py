from datetime import timedelta

import pytest
import sqlalchemy as sa
from ot.events.v1 import intake_events_pb2

from ot_runtime.errors import FailedPrecondition, InvalidArgument, PermissionDenied, ResourceExhausted
from ot_intake.domain import Category, RequestType, Status
from ot_intake.store import RequestFilter, outbox, request_categories, requests

from intake_testkit import COORDINATOR, NOW, SECRETARY, TENANT, person, submission


def rows(engine, table):
    with engine.connect() as c:
        return c.execute(sa.select(table)).mappings().all()


def test_submit_stores_the_request_and_an_event_without_contact_data_or_free_text(handlers, engine):
    r, screening, _ = handlers.submit(person(), submission())
    assert r.status is Status.SUBMITTED and r.screening_score == screening.score
    [event] = rows(engine, outbox)
    assert event["ce_type"] == "ot.intake.request.submitted.v1" and event["record_key"] == r.id
    payload = intake_events_pb2.RequestSubmitted.FromString(event["payload"])
    assert payload.request_id == r.id and payload.tenant == TENANT and len(payload.categories) == 2
    raw = event["payload"]
    for private in (r.professional.name, r.professional.email, r.question, r.client.family_situation):
        assert private.encode() not in raw
    assert payload.sealed_content  # the content travels only as ciphertext


def test_case_content_is_stored_only_sealed_and_opens_for_the_reader(handlers, engine, vault):
    r = handlers.submit(person(), submission()).request
    [row] = rows(engine, requests)
    stored = repr(dict(row))
    for text in (r.question, r.client.family_situation, r.client.earlier_services[0], r.client.health_information):
        assert text not in stored
    got = handlers.get(person(), r.id)
    assert got.content_included and got.question == r.question and got.client.cooperation_partners == \
        r.client.cooperation_partners
    assert (r.id, "view") in vault.reads


def test_after_the_key_is_shredded_the_content_is_gone_but_the_request_remains(handlers, engine, vault):
    r = handlers.submit(person(), submission()).request
    handlers.triage(COORDINATOR, r.id, "Arvioitu OT-tasoiseksi.")
    vault.shred(r.id)
    with handlers.sessions.begin() as s:
        handlers.on_content_erased(s, r.id)
    got = handlers.get(COORDINATOR, r.id)
    assert got.content_erased and not got.content_included and got.question == "" and got.triage_note == ""
    assert got.status is Status.TRIAGED and got.categories == r.categories  # statistics keep what they need
    [row] = rows(engine, requests)
    assert row["sealed_content"] is None and row["sealed_triage_note"] is None


def test_after_the_key_is_shredded_the_clients_age_and_gender_are_gone_too(handlers, engine, vault):
    r = handlers.submit(person(), submission()).request
    vault.shred(r.id)
    with handlers.sessions.begin() as s:
        handlers.on_content_erased(s, r.id)
    [row] = rows(engine, requests)
    assert row["client"] == {}  # nothing about the client is left in plain columns
    [kept] = handlers.list(COORDINATOR, RequestFilter()).items
    assert (kept.client.age_years, kept.client.gender) == (None, None)
    # What statistics and the coordinator's list count stays.
    assert (kept.type, kept.categories, kept.status, kept.tenant, kept.submitted_at) == \
        (r.type, r.categories, Status.SUBMITTED, TENANT, r.submitted_at)


def test_a_platform_service_reads_the_request_without_content(handlers, vault):
    r = handlers.submit(person(), submission()).request
    got = handlers.get(person("ot-feedback", "service"), r.id)
    assert got.professional.email and not got.content_included and got.question == ""


def test_a_retry_with_the_same_idempotency_key_returns_the_first_request(handlers, engine):
    first = handlers.submit(person(), submission(idempotency_key="form-123"))
    again = handlers.submit(person(), submission(idempotency_key="form-123"))
    assert again.request.id == first.request.id and len(rows(engine, requests)) == 1
    # Only the first call stored it; the retry's request may have entries by now.
    assert first.fresh and not again.fresh


def test_another_professional_cannot_see_my_request(handlers):
    r = handlers.submit(person("prof-1"), submission()).request
    with pytest.raises(PermissionDenied) as err:
        handlers.get(person("prof-2"), r.id)
    assert err.value.reason == "NOT_OWNER"
    assert handlers.get(COORDINATOR, r.id).id == r.id
    service = person("ot-feedback", "service")
    assert handlers.get(service, r.id).professional.email  # a platform service may read...
    with pytest.raises(PermissionDenied):
        handlers.withdraw(service, r.id)  # ...but not act for the professional


def test_a_triage_note_is_sealed_and_a_second_triage_is_refused(handlers):
    r = handlers.submit(person(), submission()).request
    assert handlers.triage(COORDINATOR, r.id, "Sopii OT-tasolle, asiantuntija lastenpsykiatriasta.").status \
        is Status.TRIAGED
    assert handlers.get(COORDINATOR, r.id).triage_note == "Sopii OT-tasolle, asiantuntija lastenpsykiatriasta."
    with pytest.raises(FailedPrecondition):
        handlers.triage(COORDINATOR, r.id, "uudestaan")


def test_listing_filters_and_pages_through_the_areas_requests(handlers, clock):
    ids = []
    for i in range(5):
        cats = [Category.NEUROPSYCHIATRIC] if i % 2 else [Category.FUNCTIONAL_RARE]
        ids.append(handlers.submit(person(), submission(categories=cats))[0].id)
        clock.advance(minutes=1)
    page1 = handlers.list(COORDINATOR, RequestFilter(page_size=2))
    page2 = handlers.list(COORDINATOR, RequestFilter(page_size=2, page_token=page1.next_token))
    page3 = handlers.list(COORDINATOR, RequestFilter(page_size=2, page_token=page2.next_token))
    assert (page1.total, page1.total_at_least, page3.next_token) == (5, False, "")
    assert [r.id for r in page1.items + page2.items + page3.items] == list(reversed(ids))  # newest first, none twice
    neuro = handlers.list(COORDINATOR, RequestFilter(category=Category.NEUROPSYCHIATRIC))
    assert neuro.total == 2 and {r.id for r in neuro.items} == {ids[1], ids[3]}
    with pytest.raises(InvalidArgument):
        handlers.list(COORDINATOR, RequestFilter(page_token="garbage"))


def group_request(handlers, who=None):
    return handlers.submit(who or person(), submission(type=RequestType.GROUP_CONSULTATION, anonymous=True))[0]


def test_booking_after_the_deadline_names_the_next_meeting_with_room(handlers, clock):
    soon = handlers.publish_meeting(SECRETARY, "haastavat-erot-kuopio", NOW + timedelta(days=5), 3, 0)
    later = handlers.publish_meeting(SECRETARY, "haastavat-erot-kuopio", NOW + timedelta(days=20), 3, 0)
    assert soon.booking_lead_days == 7  # challenging-divorces default
    r = group_request(handlers)
    with pytest.raises(FailedPrecondition) as err:
        handlers.book(person(), r.id, soon.id)
    assert err.value.violation_type == "BOOKING_DEADLINE_PASSED"
    assert err.value.info["next_meeting_id"] == later.id
    booked = handlers.book(person(), r.id, later.id)
    assert booked.status is Status.SCHEDULED and booked.meeting_id == later.id


def test_a_full_meeting_is_refused_and_withdrawal_gives_the_place_back(handlers):
    m = handlers.publish_meeting(SECRETARY, "haastavat-erot-kuopio", NOW + timedelta(days=30), 1, 0)
    first, second = group_request(handlers, person("p1")), group_request(handlers, person("p2"))
    handlers.book(person("p1"), first.id, m.id)
    with pytest.raises(ResourceExhausted) as err:
        handlers.book(person("p2"), second.id, m.id)
    assert err.value.violation_type == "MEETING_FULL" and "next_meeting_id" not in err.value.info
    assert handlers.get(person("p2"), second.id).status is Status.SUBMITTED  # nothing half-done
    handlers.withdraw(person("p1"), first.id)
    assert handlers.book(person("p2"), second.id, m.id).status is Status.SCHEDULED


def test_experts_assignment_event_moves_the_request_on(handlers, engine):
    r = handlers.submit(person(), submission()).request
    with handlers.sessions.begin() as s:
        handlers.on_experts_assigned(s, r.id, ["expert-1"])
    got = handlers.get(COORDINATOR, r.id)
    assert got.status is Status.ASSIGNED and got.expert_ids == ["expert-1"]
    last = rows(engine, outbox)[-1]
    change = intake_events_pb2.RequestStatusChanged.FromString(last["payload"])
    assert list(change.expert_ids) == ["expert-1"]


def test_categories_are_stored_one_row_each(handlers, engine):
    r = handlers.submit(person(), submission()).request
    assert sorted(x["category"] for x in rows(engine, request_categories)) == sorted(c.value for c in r.categories)


def test_reassignment_and_unassignment_follow_the_experts_service(handlers):
    r = handlers.submit(person(), submission()).request
    with handlers.sessions.begin() as s:
        handlers.on_experts_assigned(s, r.id, ["expert-1"])
    with handlers.sessions.begin() as s:
        handlers.on_experts_assigned(s, r.id, ["expert-1", "expert-2"])  # the full current set
    assert handlers.get(COORDINATOR, r.id).expert_ids == ["expert-1", "expert-2"]
    with handlers.sessions.begin() as s:
        handlers.on_experts_unassigned(s, r.id, ["expert-2"])
    got = handlers.get(COORDINATOR, r.id)
    assert (got.status, got.expert_ids) == (Status.ASSIGNED, ["expert-2"])
    with handlers.sessions.begin() as s:
        handlers.on_experts_unassigned(s, r.id, [])
    got = handlers.get(COORDINATOR, r.id)
    assert (got.status, got.expert_ids) == (Status.TRIAGED, [])


def test_a_professional_exports_their_own_data_and_the_officer_erases_it(handlers):
    import json as _json
    r = handlers.submit(person("prof-dpo"), submission()).request
    count, data = handlers.export_professional(person("prof-dpo"), "prof-dpo")
    exported = _json.loads(data)
    assert count == 1 and exported["requests"][0]["professional"]["email"] == r.professional.email
    assert r.question not in data  # the client's case content is not the professional's data
    with pytest.raises(PermissionDenied) as err:
        handlers.export_professional(person("prof-other"), "prof-dpo")
    assert err.value.reason == "NOT_OWN_DATA"
    officer = person("tietosuojavastaava", "admin")
    assert handlers.erase_professional(officer, "prof-dpo") == 1
    assert handlers.export_professional(officer, "prof-dpo")[0] == 0
    kept = handlers.list(COORDINATOR, RequestFilter()).items[0]
    assert (kept.professional.name, kept.professional.email, kept.professional.organisation) == ("", "", "")
    assert kept.professional.sector == r.professional.sector and kept.categories == r.categories  # statistics


def test_turning_a_page_does_not_count_the_requests_again(handlers, clock, monkeypatch):
    for _ in range(3):
        handlers.submit(person(), submission())
        clock.advance(minutes=1)
    first = handlers.list(COORDINATOR, RequestFilter(page_size=1))
    token, total = first.next_token, first.total
    counts = []
    from ot_intake import store
    real_select = store.sa.select

    def counting_select(*args, **kwargs):
        if args and "count" in str(args[0]):
            counts.append(args)
        return real_select(*args, **kwargs)
    monkeypatch.setattr(store.sa, "select", counting_select)
    second = handlers.list(COORDINATOR, RequestFilter(page_size=1, page_token=token))
    token2, total2 = second.next_token, second.total
    assert total == total2 == 3 and token2 and counts == []
    # A token made before the total travelled in it still works: the total is counted then.
    legacy = store.base64.urlsafe_b64encode(store.json.dumps(
        store.json.loads(store.base64.urlsafe_b64decode(token))["k"]).encode()).decode()
    total3 = handlers.list(COORDINATOR, RequestFilter(page_size=1, page_token=legacy)).total
    assert total3 == 3 and len(counts) == 1


def test_the_count_stops_at_its_limit_and_says_so_on_every_page(handlers, clock, monkeypatch):
    from ot_intake import store
    monkeypatch.setattr(store, "COUNT_LIMIT", 3)
    for _ in range(5):
        handlers.submit(person(), submission())
        clock.advance(minutes=1)
    first = handlers.list(COORDINATOR, RequestFilter(page_size=2))
    assert (first.total, first.total_at_least, len(first.items)) == (3, True, 2)
    second = handlers.list(COORDINATOR, RequestFilter(page_size=2, page_token=first.next_token))
    assert (second.total, second.total_at_least) == (3, True)  # carried in the token, not recounted
    # Every request is still listed, however many the count stopped at.
    third = handlers.list(COORDINATOR, RequestFilter(page_size=2, page_token=second.next_token))
    assert len(first.items + second.items + third.items) == 5 and third.next_token == ""
    # At or under the limit the count is exact.
    monkeypatch.setattr(store, "COUNT_LIMIT", 5)
    exact = handlers.list(COORDINATOR, RequestFilter())
    assert (exact.total, exact.total_at_least) == (5, False)
