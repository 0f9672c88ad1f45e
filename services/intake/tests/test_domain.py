from datetime import timedelta

import pytest

from ot_runtime.errors import FailedPrecondition
from ot_intake.domain import (Category, ClientFacts, Consent, ConsentGiver, ConsentNeed, ConsultationRequest,
                              Meeting, RequestType, Status, default_lead_days, validate_submission)

from intake_testkit import NOW, TENANT, submission


def fields(sub) -> set[str]:
    return {v.field for v in validate_submission(sub, TENANT)}


def test_a_complete_submission_has_no_violations():
    assert validate_submission(submission(), TENANT) == []


def test_not_discussed_in_own_team_is_refused_with_the_reason():
    [v] = validate_submission(submission(discussed_in_own_team=False), TENANT)
    assert v.field == "discussed_in_own_team"
    assert "omassa tiimissä" in v.description and "own team" in v.description


@pytest.mark.parametrize("changes, field", [
    (dict(type=None), "type"),
    (dict(categories=[]), "categories"),
    (dict(categories=[Category.NEUROPSYCHIATRIC, Category.NEUROPSYCHIATRIC]), "categories"),
    (dict(question="  "), "question"),
    (dict(anonymous=True), "anonymous"),
    (dict(client=ClientFacts(age_years=31, gender=None)), "client.age_years"),
    (dict(consent=Consent(need=None, given_by=None, child_capacity_assessed=False)), "consent.need"),
    (dict(consent=Consent(need=ConsentNeed.ORAL_RECORDED_IN_CLIENT_RECORD, given_by=None,
                          child_capacity_assessed=False)), "consent.given_by"),
    (dict(consent=Consent(need=ConsentNeed.WRITTEN_ORGANISATION_FORM, given_by=ConsentGiver.CHILD,
                          child_capacity_assessed=False)), "consent.child_capacity_assessed"),
])
def test_each_rule_points_at_its_field(changes, field):
    assert field in fields(submission(**changes))


def test_anonymous_is_fine_for_a_group_consultation():
    assert fields(submission(anonymous=True, type=RequestType.GROUP_CONSULTATION)) == set()


def test_another_areas_professional_is_sent_to_their_own_area():
    sub = submission()
    sub.professional.wellbeing_area = "keski-suomi"
    assert fields(sub) == {"professional.wellbeing_area"}


def test_professional_needs_a_way_to_be_reached():
    sub = submission()
    sub.professional.email = ""
    assert "professional.email" in fields(sub)
    sub.professional.phone = "017 123 4567"
    assert fields(sub) == set()


def request(type_=RequestType.OT_TUKI, status=Status.SUBMITTED) -> ConsultationRequest:
    s = submission(type=type_)
    return ConsultationRequest(id="r1", tenant=TENANT, type=type_, status=status, owner_subject="p",
                               professional=s.professional, categories=s.categories, client=s.client,
                               question=s.question, discussed_in_own_team=True, consent=s.consent, anonymous=False,
                               submitted_at=NOW, updated_at=NOW, screening_score=5)


def test_the_whole_lifecycle_in_order():
    r = request()
    for step in (Status.TRIAGED, Status.ASSIGNED, Status.CONSULTED, Status.RECOMMENDATIONS_RETURNED, Status.CLOSED):
        r.move_to(step, NOW)
    assert r.status is Status.CLOSED


@pytest.mark.parametrize("start, target", [
    (Status.SUBMITTED, Status.CONSULTED), (Status.TRIAGED, Status.CLOSED), (Status.CONSULTED, Status.WITHDRAWN),
    (Status.CLOSED, Status.TRIAGED), (Status.WITHDRAWN, Status.TRIAGED)])
def test_a_wrong_transition_is_refused_with_the_reason(start, target):
    r = request(status=start)
    with pytest.raises(FailedPrecondition) as err:
        r.move_to(target, NOW)
    assert err.value.info == {"status": start.value, "target": target.value}
    assert r.status is start  # unchanged


def test_only_group_requests_are_scheduled_and_only_others_assigned():
    with pytest.raises(FailedPrecondition):
        request(RequestType.OT_TUKI).move_to(Status.SCHEDULED, NOW)
    with pytest.raises(FailedPrecondition):
        request(RequestType.GROUP_CONSULTATION).move_to(Status.ASSIGNED, NOW)


def test_booking_deadline_follows_the_groups_lead_time():
    assert default_lead_days("haastavat-erot-kuopio") == 7
    assert default_lead_days("lastensuojelun-asiantuntijaryhma") == 21
    m = Meeting(id="m", tenant=TENANT, group_id="g", starts_at=NOW + timedelta(days=10), capacity=1, booked=0,
                booking_lead_days=7)
    assert m.open_for_booking(NOW + timedelta(days=3))
    assert not m.open_for_booking(NOW + timedelta(days=3, seconds=1))
    m.booked = 1
    assert not m.open_for_booking(NOW)
