"""The domain's new rules without I/O: awaiting information (where a request pauses and where it
goes back), the OT-TUKI written answer, the response clock in Finnish working days (holidays
included), which entry may be written when, and whether a meeting's material is missing."""
from datetime import datetime, timedelta, timezone

import pytest

from ot_runtime.errors import FailedPrecondition
from ot_intake.domain import (ConsultationRequest, EntryKind, Meeting, RequestType, Status, check_entry_allowed,
                              material_missing, require_answer, response_due, validate_entry)

from intake_testkit import TENANT, submission

UTC = timezone.utc
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday with no holiday near


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


def request(type_=RequestType.OT_TUKI, status=Status.SUBMITTED, submitted=MONDAY, target=5) -> ConsultationRequest:
    s = submission(type=type_)
    return ConsultationRequest(id="r1", tenant=TENANT, type=type_, status=status, owner_subject="p",
                               professional=s.professional, categories=s.categories, client=s.client,
                               question=s.question, discussed_in_own_team=True, consent=s.consent, anonymous=False,
                               submitted_at=submitted, updated_at=submitted, screening_score=5,
                               response_due_at=response_due(submitted, target))


# --- the target in working days ------------------------------------------------------------------
def test_the_due_time_is_the_end_of_the_fifth_working_day_in_finnish_time():
    # Monday 2 March -> Monday 9 March, 23:59:59 in Helsinki (UTC+2), stored as UTC.
    assert response_due(MONDAY, 5) == datetime(2026, 3, 9, 21, 59, 59, 999999, tzinfo=UTC)
    assert response_due(MONDAY, 5).tzinfo is UTC


def test_easter_is_not_counted():
    # Thursday 2 April 2026: Good Friday (3.4.) and Easter Monday (6.4.) are public holidays.
    assert response_due(at(4, 2), 5).date() == datetime(2026, 4, 13).date()
    assert response_due(at(4, 2), 1).date() == datetime(2026, 4, 7).date()


def test_the_clock_counts_working_days_and_shows_past_target():
    r = request()
    assert r.waiting_working_days(at(3, 6)) == 4 and not r.past_target(at(3, 6))  # Friday
    assert r.waiting_working_days(at(3, 9, 21)) == 5 and not r.past_target(at(3, 9, 21))  # Monday evening: due
    assert r.past_target(at(3, 10))  # Tuesday: one day late
    assert r.waiting_working_days(at(3, 10)) == 6


# --- awaiting information -----------------------------------------------------------------------
@pytest.mark.parametrize("start", [Status.SUBMITTED, Status.TRIAGED, Status.ASSIGNED])
def test_a_question_pauses_and_the_reply_goes_back_to_where_it_was(start):
    r = request(status=start)
    assert r.await_information(at(3, 4)) is start
    assert (r.status, r.status_before_pause, r.paused_at) == (Status.AWAITING_INFORMATION, start, at(3, 4))
    assert r.resume(at(3, 9)) is Status.AWAITING_INFORMATION
    assert (r.status, r.status_before_pause, r.paused_at) == (start, None, None)


def test_a_booked_group_request_pauses_and_comes_back_scheduled():
    r = request(RequestType.GROUP_CONSULTATION, Status.SCHEDULED)
    r.await_information(at(3, 4))
    r.resume(at(3, 5))
    assert r.status is Status.SCHEDULED


@pytest.mark.parametrize("start", [Status.CONSULTED, Status.RECOMMENDATIONS_RETURNED, Status.CLOSED,
                                   Status.WITHDRAWN])
def test_no_question_pauses_a_request_after_the_consultation(start):
    r = request(status=start)
    with pytest.raises(FailedPrecondition) as err:
        r.await_information(at(3, 4))
    assert err.value.violation_type == "LIFECYCLE" and r.status is start


def test_a_paused_request_goes_only_back_where_it_was_or_is_withdrawn():
    r = request(status=Status.SUBMITTED)
    r.await_information(at(3, 4))
    for elsewhere in (Status.TRIAGED, Status.SCHEDULED, Status.ASSIGNED, Status.CONSULTED):
        with pytest.raises(FailedPrecondition):
            r.move_to(elsewhere, at(3, 5))
    assert r.status is Status.AWAITING_INFORMATION
    r.move_to(Status.WITHDRAWN, at(3, 12))
    assert r.status is Status.WITHDRAWN and r.paused_at is None


def test_the_pause_moves_the_due_time_and_is_not_waiting_time():
    r = request()                   # due Monday 9 March
    r.await_information(at(3, 4))   # Wednesday
    r.resume(at(3, 9))              # the next Monday: Thu, Fri, Mon paused = 3 working days
    assert r.paused_working_days == 3
    assert r.response_due_at.date() == datetime(2026, 3, 12).date()  # Thursday instead of Monday
    assert r.waiting_working_days(at(3, 13)) == 9 - 3
    assert r.past_target(at(3, 13)) and not r.past_target(at(3, 12))


def test_while_the_professional_is_asked_the_clock_stands_still():
    r = request()
    r.await_information(at(3, 4))                       # two working days in
    assert r.waiting_working_days(at(3, 30)) == 2       # weeks later, still two
    assert not r.past_target(at(3, 30))                 # and not late: nobody waits for the OT team
    late = request()
    late.await_information(at(3, 11))                   # asked after the due time had passed
    assert late.past_target(at(3, 30))                  # late it stays, but it grows no later
    assert late.waiting_working_days(at(3, 30)) == 7


def test_the_clock_ends_at_the_answer_and_at_a_withdrawal():
    r = request()
    r.move_to(Status.RECOMMENDATIONS_RETURNED, at(3, 5))
    r.answered_at = at(3, 5)
    assert r.waiting_working_days(at(4, 30)) == 3 and not r.past_target(at(4, 30))
    w = request()
    w.move_to(Status.WITHDRAWN, at(3, 4))
    assert w.waiting_working_days(at(4, 30)) == 2 and not w.past_target(at(4, 30))


def test_the_first_response_is_kept():
    r = request()
    r.responded(at(3, 3))
    r.responded(at(3, 5))
    assert r.first_response_at == at(3, 3)


# --- the answer ----------------------------------------------------------------------------------
@pytest.mark.parametrize("start", [Status.SUBMITTED, Status.TRIAGED, Status.ASSIGNED, Status.CONSULTED])
def test_an_ot_tuki_answer_is_returned_in_writing_without_a_meeting(start):
    r = request(RequestType.OT_TUKI, start)
    assert r.move_to(Status.RECOMMENDATIONS_RETURNED, at(3, 5)) is start


@pytest.mark.parametrize("type_,start", [(RequestType.GROUP_CONSULTATION, Status.SCHEDULED),
                                         (RequestType.GROUP_CONSULTATION, Status.TRIAGED),
                                         (RequestType.EXPERT_REINFORCEMENT, Status.ASSIGNED)])
def test_a_group_or_an_experts_answer_comes_after_the_consultation(type_, start):
    r = request(type_, start)
    with pytest.raises(FailedPrecondition) as err:
        r.move_to(Status.RECOMMENDATIONS_RETURNED, at(3, 5))
    assert err.value.violation_type == "LIFECYCLE" and r.status is start
    if start is not Status.SCHEDULED:  # a step the lifecycle has for OT-TUKI only: the reason says so
        assert "konsultaation jälkeen" in err.value.message and "after the consultation" in err.value.message
    r.status = Status.CONSULTED
    r.move_to(Status.RECOMMENDATIONS_RETURNED, at(3, 5))


def test_returning_needs_advice_recommendations_or_a_statement():
    r = request()
    for kinds in (set(), {EntryKind.QUESTION, EntryKind.REPLY, EntryKind.NOTE, EntryKind.PRE_INFORMATION}):
        with pytest.raises(FailedPrecondition) as err:
            require_answer(r, kinds)
        assert err.value.violation_type == "NO_ANSWER"
        assert "neuvo" in err.value.message and "advice, recommendations or a statement" in err.value.message
    for kind in (EntryKind.ADVICE, EntryKind.RECOMMENDATIONS, EntryKind.STATEMENT):
        require_answer(r, {EntryKind.QUESTION, kind})


# --- experts while the request waits for the professional ---------------------------------------
def test_experts_assigned_while_waiting_take_effect_after_the_reply():
    r = request(status=Status.TRIAGED)
    r.await_information(at(3, 4))
    assert r.assign(["barnahus"], at(3, 5)) is None  # no status change while waiting
    assert r.expert_ids == ["barnahus"] and r.status is Status.AWAITING_INFORMATION
    r.resume(at(3, 6))
    assert r.status is Status.ASSIGNED


def test_every_expert_unassigned_while_waiting_means_back_to_triaged_after_the_reply():
    r = request(status=Status.TRIAGED)
    r.assign(["barnahus"], at(3, 3))
    r.await_information(at(3, 4))
    assert r.unassign([], at(3, 5)) is None
    r.resume(at(3, 6))
    assert (r.status, r.expert_ids) == (Status.TRIAGED, [])


def test_a_waiting_group_request_cannot_be_assigned_experts():
    r = request(RequestType.GROUP_CONSULTATION, Status.SUBMITTED)
    r.await_information(at(3, 4))
    with pytest.raises(FailedPrecondition) as err:
        r.assign(["barnahus"], at(3, 5))
    assert err.value.violation_type == "REQUEST_TYPE" and r.expert_ids == []


# --- which entry when ----------------------------------------------------------------------------
@pytest.mark.parametrize("kind,type_,status,refusal", [
    (EntryKind.ADVICE, RequestType.OT_TUKI, Status.TRIAGED, None),
    (EntryKind.ADVICE, RequestType.GROUP_CONSULTATION, Status.SCHEDULED, "REQUEST_TYPE"),
    (EntryKind.RECOMMENDATIONS, RequestType.GROUP_CONSULTATION, Status.CONSULTED, None),
    (EntryKind.RECOMMENDATIONS, RequestType.OT_TUKI, Status.TRIAGED, "REQUEST_TYPE"),
    (EntryKind.PRE_INFORMATION, RequestType.GROUP_CONSULTATION, Status.SCHEDULED, None),
    (EntryKind.PRE_INFORMATION, RequestType.GROUP_CONSULTATION, Status.CONSULTED, "LIFECYCLE"),  # too late
    (EntryKind.PRE_INFORMATION, RequestType.EXPERT_REINFORCEMENT, Status.SUBMITTED, "REQUEST_TYPE"),
    (EntryKind.STATEMENT, RequestType.EXPERT_REINFORCEMENT, Status.CONSULTED, None),
    (EntryKind.QUESTION, RequestType.OT_TUKI, Status.AWAITING_INFORMATION, None),    # a second question
    (EntryKind.QUESTION, RequestType.EXPERT_REINFORCEMENT, Status.CONSULTED, "LIFECYCLE"),
    (EntryKind.REPLY, RequestType.OT_TUKI, Status.SUBMITTED, None),                  # more information any time
    (EntryKind.NOTE, RequestType.OT_TUKI, Status.RECOMMENDATIONS_RETURNED, "LIFECYCLE"),
    (EntryKind.STATEMENT, RequestType.EXPERT_REINFORCEMENT, Status.RECOMMENDATIONS_RETURNED, "LIFECYCLE"),
    (EntryKind.REPLY, RequestType.OT_TUKI, Status.WITHDRAWN, "LIFECYCLE"),
    (EntryKind.ADVICE, RequestType.OT_TUKI, Status.CLOSED, "LIFECYCLE"),
])
def test_which_entry_may_be_written_on_which_request_when(kind, type_, status, refusal):
    r = request(type_, status)
    if refusal is None:
        check_entry_allowed(r, kind)
        return
    with pytest.raises(FailedPrecondition) as err:
        check_entry_allowed(r, kind)
    assert err.value.violation_type == refusal


@pytest.mark.parametrize("kind,text,experts,fields", [
    (None, "Teksti.", [], {"kind"}),
    (EntryKind.QUESTION, "  \n ", [], {"text"}),
    (EntryKind.QUESTION, "Teksti.", ["barnahus"], {"expert_ids"}),   # only advice points to experts
    (EntryKind.ADVICE, "Teksti.", ["barnahus", "barnahus"], {"expert_ids"}),
    (EntryKind.ADVICE, "Teksti.", ["barnahus", "valteri"], set()),
])
def test_an_entry_needs_a_kind_and_a_text(kind, text, experts, fields):
    assert {v.field for v in validate_entry(kind, text, experts)} == fields


# --- the material deadline -----------------------------------------------------------------------
def test_material_is_missing_only_once_the_deadline_has_passed_without_it():
    m = Meeting(id="m", tenant=TENANT, group_id="haastavat-erot-kuopio", starts_at=at(3, 20), capacity=3, booked=1,
                booking_lead_days=7)
    deadline = m.booking_deadline
    assert not material_missing(None, m, deadline)                        # not yet: still time
    assert material_missing(None, m, deadline + timedelta(seconds=1))
    assert not material_missing(deadline - timedelta(days=1), m, at(3, 20))
    assert material_missing(deadline + timedelta(hours=1), m, at(3, 20))  # arrived, but late
