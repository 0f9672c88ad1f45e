"""Every cell of the object-level rules (policy.py): who reads a case's content and conversation,
who writes which kind of entry, who acts on a request as the OT team or for its owner, and who
reads a meeting's agenda. Pure: the gRPC tests (test_intake_edge, test_intake_entries) show the
same rules at the edge."""
import pytest

from ot_runtime.auth import Principal
from ot_runtime.errors import PermissionDenied
from ot_intake import policy
from ot_intake.domain import ConsultationRequest, EntryKind, Meeting, RequestType, Status

from intake_testkit import NOW, TENANT, submission

GROUP, OTHER = "haastavat-erot-kuopio", "haastavat-erot-jyvaskyla"


def who(role: str, subject: str = "someone", groups=()) -> Principal:
    return Principal(subject=subject, tenant=TENANT, roles=frozenset({role}), groups=frozenset(groups))


CALLERS = {
    "coordinator": who("coordinator", "coord-1"),
    "group secretary": who("secretary", "secr-1", (GROUP,)),
    "other secretary": who("secretary", "secr-2", (OTHER,)),
    "owner": who("professional", "prof-1"),
    "other professional": who("professional", "prof-2"),
    "assigned expert": who("expert", "expert-barnahus"),
    "other expert": who("expert", "expert-valteri"),
    "group member": who("group-member", "member-1", (GROUP,)),
    "other member": who("group-member", "member-2", (OTHER,)),
    "admin": who("admin", "dpo"),
}


def request(status=Status.SCHEDULED, booked=True, experts=("barnahus",)) -> ConsultationRequest:
    """A request booked into a meeting of GROUP and with an expert assigned: the rules for both
    are independent of each other, so one request shows every cell."""
    s = submission(type=RequestType.GROUP_CONSULTATION)
    return ConsultationRequest(id="r1", tenant=TENANT, type=s.type, status=status, owner_subject="prof-1",
                               professional=s.professional, categories=s.categories, client=s.client,
                               question="", discussed_in_own_team=True, consent=s.consent, anonymous=False,
                               submitted_at=NOW, updated_at=NOW, screening_score=5,
                               meeting_id="m1" if booked else "", meeting_group_id=GROUP if booked else "",
                               expert_ids=list(experts))


def outcome(call) -> str:
    try:
        return call()
    except PermissionDenied as refusal:
        return refusal.reason


# --- reading ------------------------------------------------------------------------------------
@pytest.mark.parametrize("caller,expected", [
    ("coordinator", "coordinator+notes"),
    ("group secretary", "secretary+notes"),
    ("other secretary", "NOT_GROUP_SECRETARY"),
    ("owner", "professional"),                 # never the OT team's notes
    ("other professional", "NOT_OWNER"),
    ("assigned expert", "expert"),
    ("other expert", "NOT_ASSIGNED"),
    ("group member", "group-member"),
    ("other member", "NOT_GROUP_MEMBER"),
    ("admin", "ROLE_NOT_ALLOWED"),
])
def test_who_reads_a_booked_case(caller, expected):
    def read():
        r = policy.reader(CALLERS[caller], request())
        return r.role + ("+notes" if r.notes else "")
    assert outcome(read) == expected


@pytest.mark.parametrize("caller,status,booked,expected", [
    ("group member", Status.CONSULTED, True, "group-member"),           # after the meeting, before the answer
    ("group member", Status.AWAITING_INFORMATION, True, "group-member"),
    ("group member", Status.RECOMMENDATIONS_RETURNED, True, "ANSWER_RETURNED"),
    ("group member", Status.CLOSED, True, "ANSWER_RETURNED"),
    ("group member", Status.WITHDRAWN, True, "NOT_GROUP_MEMBER"),       # a withdrawn booking is no booking
    ("group member", Status.TRIAGED, False, "NOT_GROUP_MEMBER"),
    ("group secretary", Status.RECOMMENDATIONS_RETURNED, True, "secretary"),  # until the purge
    ("group secretary", Status.WITHDRAWN, True, "NOT_GROUP_SECRETARY"),
    ("group secretary", Status.TRIAGED, False, "NOT_GROUP_SECRETARY"),
])
def test_group_reading_follows_the_booking_and_the_answer(caller, status, booked, expected):
    assert outcome(lambda: policy.reader(CALLERS[caller], request(status, booked)).role) == expected


def test_only_the_ot_team_reads_notes():
    assert [k for k in EntryKind if not policy.Reader("professional", notes=False).may_read(k)] == [EntryKind.NOTE]
    assert all(policy.Reader("coordinator", notes=True).may_read(k) for k in EntryKind)


# --- writing ------------------------------------------------------------------------------------
K = "KIND_NOT_ALLOWED"
WRITES = {  # kind: the outcome for each caller, in CALLERS' first seven
    EntryKind.QUESTION: ("coordinator", "secretary", "NOT_GROUP_SECRETARY", K, K, K, K),
    EntryKind.REPLY: (K, K, K, "professional", "NOT_OWNER", K, K),
    EntryKind.ADVICE: ("coordinator", K, K, K, K, K, K),
    EntryKind.RECOMMENDATIONS: ("coordinator", "secretary", "NOT_GROUP_SECRETARY", K, K, K, K),
    EntryKind.STATEMENT: (K, "secretary", "NOT_GROUP_SECRETARY", K, K, "expert", "NOT_ASSIGNED"),
    EntryKind.NOTE: ("coordinator", "secretary", "NOT_GROUP_SECRETARY", K, K, K, K),
    EntryKind.PRE_INFORMATION: (K, K, K, "professional", "NOT_OWNER", K, K),
}


@pytest.mark.parametrize("kind,caller,expected", [
    (kind, caller, expected) for kind, row in WRITES.items() for caller, expected in zip(CALLERS, row)])
def test_who_writes_which_kind(kind, caller, expected):
    assert outcome(lambda: policy.writer(CALLERS[caller], request(), kind)) == expected


def test_group_members_write_nothing():
    for kind in EntryKind:
        assert outcome(lambda: policy.writer(CALLERS["group member"], request(), kind)) == "KIND_NOT_ALLOWED"


# --- acting on a request ------------------------------------------------------------------------
@pytest.mark.parametrize("caller,expert,expected", [
    ("coordinator", False, "coordinator"), ("group secretary", False, "secretary"),
    ("other secretary", False, "NOT_GROUP_SECRETARY"), ("assigned expert", False, "NOT_ASSIGNED"),
    ("assigned expert", True, "expert"), ("other expert", True, "NOT_ASSIGNED"),
    ("owner", True, "NOT_OWNER"),
])
def test_who_acts_as_the_ot_team(caller, expert, expected):
    assert outcome(lambda: policy.may_act_as_team(CALLERS[caller], request(), expert=expert)) == expected


def test_a_secretary_books_only_into_their_own_groups_meetings():
    r = request(Status.TRIAGED, booked=False)
    own = Meeting(id="m1", tenant=TENANT, group_id=GROUP, starts_at=NOW, capacity=3, booked=0, booking_lead_days=7)
    other = Meeting(id="m2", tenant=TENANT, group_id=OTHER, starts_at=NOW, capacity=3, booked=0, booking_lead_days=7)
    assert policy.may_act_for_owner(CALLERS["group secretary"], r, own) == "secretary"
    assert outcome(lambda: policy.may_act_for_owner(CALLERS["group secretary"], r, other)) == "NOT_GROUP_SECRETARY"
    assert policy.may_act_for_owner(CALLERS["owner"], r, other) == "professional"
    assert policy.may_act_for_owner(CALLERS["coordinator"], r, other) == "coordinator"
    assert outcome(lambda: policy.may_act_for_owner(CALLERS["other professional"], r, own)) == "NOT_OWNER"


def test_the_agenda_is_the_groups_secretarys_or_a_coordinators():
    m = Meeting(id="m1", tenant=TENANT, group_id=GROUP, starts_at=NOW, capacity=3, booked=0, booking_lead_days=7)
    assert outcome(lambda: policy.may_read_agenda(CALLERS["coordinator"], m)) is None
    assert outcome(lambda: policy.may_read_agenda(CALLERS["group secretary"], m)) is None
    assert outcome(lambda: policy.may_read_agenda(CALLERS["other secretary"], m)) == "NOT_GROUP_SECRETARY"
    # members find the cases booked into their own group's meeting there, and only there
    assert outcome(lambda: policy.may_read_agenda(CALLERS["group member"], m)) is None
    assert outcome(lambda: policy.may_read_agenda(CALLERS["other member"], m)) == "NOT_GROUP_MEMBER"
