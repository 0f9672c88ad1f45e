"""The meeting rules a secretary meets: a booking is consulted only once its meeting has started
(before that the booking can be moved to another meeting), a meeting in the past is refused, and
one whose booking deadline has already passed is published with a warning."""
from datetime import datetime, timedelta, timezone

import grpc
import pytest
import sqlalchemy as sa
from google.protobuf.timestamp_pb2 import Timestamp
from google.rpc import error_details_pb2
from ot.common.v1 import case_pb2
from ot.events.v1 import intake_events_pb2 as ev
from ot.intake.v1 import intake_pb2 as pb

from ot_runtime.testing import field_violations, status_details
from ot_intake.store import outbox

from intake_testkit import NOW, valid_request

GROUP = "haastavat-erot-kuopio"
MEETS = NOW + timedelta(days=14)  # Monday 16.3.2026 09:00 UTC = 11.00 Finnish time


def ts(when: datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(when)
    return out


def refused(call, *args, **kwargs) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        call(*args, **kwargs)
    return caught.value


def precondition(error: grpc.RpcError) -> tuple[str, dict]:
    """The refusal's reason code and its ErrorInfo metadata."""
    info = next(d for d in status_details(error) if isinstance(d, error_details_pb2.ErrorInfo))
    return info.reason, dict(info.metadata)


@pytest.fixture()
def client(stub):
    return stub[0]


@pytest.fixture()
def secretary(keys):
    return keys.metadata(roles=("secretary",), subject="secr-1", groups=(GROUP,))


def publish(client, secretary, starts_at: datetime, **extra) -> pb.Meeting:
    return client.PublishMeeting(pb.PublishMeetingRequest(group_id=GROUP, starts_at=ts(starts_at), capacity=3,
                                                          **extra), metadata=secretary)


def booked_request(client, keys, meeting_id: str) -> str:
    rid = client.SubmitRequest(valid_request(type=case_pb2.REQUEST_TYPE_GROUP_CONSULTATION, anonymous=True),
                               metadata=keys.metadata()).request_id
    client.BookMeeting(pb.BookMeetingRequest(request_id=rid, meeting_id=meeting_id), metadata=keys.metadata())
    return rid


def status(client, keys, rid: str) -> int:
    return client.GetRequest(pb.GetRequestRequest(request_id=rid), metadata=keys.metadata()).status


def booked_counts(client, secretary) -> dict[str, int]:
    return {m.meeting_id: m.booked for m in client.ListMeetings(pb.ListMeetingsRequest(), metadata=secretary).meetings}


def test_a_booking_is_consulted_only_once_its_meeting_has_started(client, keys, clock, secretary):
    meeting = publish(client, secretary, MEETS)
    rid = booked_request(client, keys, meeting.meeting_id)
    clock.set(MEETS - timedelta(minutes=1))
    error = refused(client.MarkConsulted, pb.RequestRef(request_id=rid), metadata=secretary)
    assert error.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert precondition(error) == ("MEETING_NOT_HELD", {"meeting_id": meeting.meeting_id,
                                                         "meeting_starts_at": MEETS.isoformat()})
    # Both languages name the start in Finnish time and tell the secretary what to do instead.
    fi, en = error.details().split(" / ")
    assert "16.03.2026 klo 11.00" in fi and "siirtää varauksen toiseen kokoukseen" in fi
    assert "2026-03-16 11:00" in en and "move the booking to another meeting" in en
    assert status(client, keys, rid) == case_pb2.REQUEST_STATUS_SCHEDULED

    clock.set(MEETS)
    consulted = client.MarkConsulted(pb.RequestRef(request_id=rid), metadata=secretary)
    assert consulted.status == case_pb2.REQUEST_STATUS_CONSULTED


def test_a_booking_moves_to_another_meeting_and_is_consulted_after_that_one(client, keys, clock, secretary, engine):
    first = publish(client, secretary, MEETS)
    later = publish(client, secretary, MEETS + timedelta(days=14))
    rid = booked_request(client, keys, first.meeting_id)
    clock.set(MEETS - timedelta(days=1))  # past the first meeting's booking deadline: a move is for the secretary

    moved = client.BookMeeting(pb.BookMeetingRequest(request_id=rid, meeting_id=later.meeting_id),
                               metadata=secretary)
    assert (moved.status, moved.meeting_id) == (case_pb2.REQUEST_STATUS_SCHEDULED, later.meeting_id)
    assert booked_counts(client, secretary) == {first.meeting_id: 0, later.meeting_id: 1}  # the place went back
    with engine.connect() as c:
        last = c.execute(sa.select(outbox.c.payload).order_by(outbox.c.id.desc())).scalars().first()
    change = ev.RequestStatusChanged.FromString(last)
    assert change.meeting_id == later.meeting_id  # feedback moves its reminders with it

    error = refused(client.BookMeeting, pb.BookMeetingRequest(request_id=rid, meeting_id=later.meeting_id),
                    metadata=secretary)
    assert error.code() is grpc.StatusCode.FAILED_PRECONDITION and precondition(error)[0] == "ALREADY_BOOKED"

    clock.set(MEETS + timedelta(hours=2))  # the first meeting was held without this case
    error = refused(client.MarkConsulted, pb.RequestRef(request_id=rid), metadata=secretary)
    assert precondition(error)[0] == "MEETING_NOT_HELD"
    clock.set(MEETS + timedelta(days=14, hours=2))
    assert client.MarkConsulted(pb.RequestRef(request_id=rid), metadata=secretary).status == \
        case_pb2.REQUEST_STATUS_CONSULTED


def test_a_meeting_in_the_past_is_refused_naming_the_field(client, secretary):
    error = refused(publish, client, secretary, NOW - timedelta(hours=1))
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert [(v.field, v.reason) for v in field_violations(error)] == [("starts_at", "in_past")]
    assert client.ListMeetings(pb.ListMeetingsRequest(from_time=ts(NOW - timedelta(days=1))),
                               metadata=secretary).meetings == []


def test_a_meeting_whose_booking_deadline_has_passed_is_published_with_a_warning(client, secretary):
    late = publish(client, secretary, NOW + timedelta(days=3))  # the group's default: booking closes 7 days before
    assert late.warning_code == "BOOKING_DEADLINE_PASSED"
    assert "varausaika päättyi jo 26.02.2026 klo 11.00" in late.warning_fi
    assert "booking deadline already passed (2026-02-26 11:00 Finnish time)" in late.warning_en
    # Published all the same, and the warning belongs to the answer only.
    [listed] = client.ListMeetings(pb.ListMeetingsRequest(), metadata=secretary).meetings
    assert listed.meeting_id == late.meeting_id and not listed.warning_code and not listed.warning_fi

    in_time = publish(client, secretary, NOW + timedelta(days=3), booking_lead_days=2)
    assert (in_time.warning_code, in_time.warning_fi, in_time.warning_en) == ("", "", "")
