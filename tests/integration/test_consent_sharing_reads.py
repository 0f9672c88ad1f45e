"""Who reads a case besides its owner and the coordinators, on real PostgreSQL and Kafka: consent
learns the assignments from experts' events (the real experts service assigns) and the bookings
from intake's events (published as intake publishes them), lets the assigned expert and the booked
group read while the consent allows it, stops at once when it is withdrawn, and audits every key
and every refusal. Events out of order, repeated or malformed never stop its consumer."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import grpc
import sqlalchemy as sa
from google.protobuf.timestamp_pb2 import Timestamp
from google.rpc import error_details_pb2
from kafka import KafkaProducer
from ot.common.v1 import case_pb2
from ot.consent.v1 import consent_pb2 as cpb
from ot.consent.v1 import consent_pb2_grpc
from ot.events.v1 import experts_events_pb2, intake_events_pb2
from ot.experts.v1 import experts_pb2 as xpb
from ot.experts.v1 import experts_pb2_grpc

from ot_runtime.cloudevents import CloudEvent
from ot_runtime.testing import status_details

from conftest import TENANT, header, read_topic, wait_consumed
from experts_fixtures import experts_database_url, start_experts  # noqa: F401 (fixtures)
from test_experts_flow import proposals_when_ready

EXPERT = "barnahus"  # free, in every area's agreement: assignable without a cost decision
GROUP = "haastavat-erot-pohjois-savo"
OTHER_GROUP = "haastavat-erot-keski-suomi"
SUBMITTED = "ot.intake.request.submitted.v1"
STATUS_CHANGED = "ot.intake.request.status_changed.v1"
ASSIGNED = "ot.experts.assignment.made.v1"
UNASSIGNED = "ot.experts.assignment.removed.v1"


def ts(at: datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(at)
    return out


def publish(bootstrap: str, topic: str, ce_type: str, message, subject: str, event_id: str | None = None) -> str:
    """One CloudEvent on `topic` as a service's relay sends it (binary mode, the request id as
    key); returns its id."""
    service = topic.split(".")[-2]
    event = CloudEvent(id=event_id or str(uuid.uuid4()), type=ce_type, source=f"/ot/{TENANT}/{service}",
                       subject=subject, tenant=TENANT, time=datetime.now(timezone.utc),
                       dataschema=message.DESCRIPTOR.full_name, data=message.SerializeToString())
    producer = KafkaProducer(bootstrap_servers=bootstrap.split(","))
    try:
        producer.send(topic, key=subject.encode(), value=event.data, headers=event.headers()).get(timeout=15)
    finally:
        producer.close()
    return event.id


def open_case(stub, owner, request_id, type_, scope):
    """As intake opens one at submission, with the professional's own token."""
    return stub.OpenCase(cpb.OpenCaseRequest(request_id=request_id, type=type_,
                                             form=cpb.CONSENT_FORM_WRITTEN_ORGANISATION_FORM,
                                             given_by=cpb.CONSENT_GIVER_GUARDIANS, scope=scope),
                         metadata=owner).data_key


def read(stub, request_id, metadata, purpose="valmistautuminen kokoukseen"):
    """(code, ErrorInfo reasons, key) of GetDataKey."""
    try:
        return grpc.StatusCode.OK, set(), stub.GetDataKey(cpb.GetDataKeyRequest(request_id=request_id,
                                                                                 purpose=purpose),
                                                           metadata=metadata).data_key
    except grpc.RpcError as error:
        return error.code(), {d.reason for d in status_details(error)
                              if isinstance(d, error_details_pb2.ErrorInfo)}, b""


def person(keys, role, subject, groups=()):
    """A person's token of the area (TestKeys' default area is the tier's TENANT) with `ot_groups`."""
    token = keys.token(roles=(role,), subject=subject, groups=groups)
    return (("authorization", f"Bearer {token}"),)


def audit(stub, keys, request_id, actor) -> list[tuple[str, str]]:
    """(action, detail) of `actor`'s entries about the request, as the data-protection officer sees them."""
    got = stub.QueryAudit(cpb.QueryAuditRequest(request_id=request_id, actor=actor),
                          metadata=keys.metadata(roles=("admin",), subject="dpo-it"))
    return [(e.action, e.detail) for e in got.entries]


def consumed(kafka_bootstrap, topic_prefix, service):
    wait_consumed(kafka_bootstrap, f"{topic_prefix}.consent", f"{topic_prefix}.{service}.v1")


def test_the_expert_experts_assigns_reads_the_case_until_consent_is_withdrawn_and_each_answer_is_audited(
        start_consent, start_experts, keys, kafka_bootstrap, topic_prefix):
    consent = start_consent()
    stub = consent_pb2_grpc.ConsentServiceStub(consent.channel)
    experts = experts_pb2_grpc.ExpertsServiceStub(start_experts(consent).channel)
    owner = keys.metadata(subject="prof-sharing")
    coordinator = keys.metadata(roles=("coordinator",), subject="coord-sharing")
    expert = person(keys, "expert", f"expert-{EXPERT}")
    request_id = str(uuid.uuid4())
    owners_key = open_case(stub, owner, request_id, case_pb2.REQUEST_TYPE_EXPERT_REINFORCEMENT,
                           [cpb.Party(kind=cpb.PARTY_KIND_EXPERT_ORGANISATION, id=EXPERT)])
    publish(kafka_bootstrap, f"{topic_prefix}.intake.v1", SUBMITTED, intake_events_pb2.RequestSubmitted(
        request_id=request_id, tenant=TENANT, type=case_pb2.REQUEST_TYPE_EXPERT_REINFORCEMENT,
        categories=[case_pb2.CASE_CATEGORY_CHILD_PROTECTION_SPECIAL, case_pb2.CASE_CATEGORY_FAMILY_HOMICIDE_THREAT],
        submitted_at=ts(datetime.now(timezone.utc))), request_id)
    assert EXPERT in [p.expert.expert_id for p in proposals_when_ready(experts, request_id, coordinator).proposals]

    # Not assigned yet: refused, and the refusal is in the trail.
    assert read(stub, request_id, expert)[:2] == (grpc.StatusCode.PERMISSION_DENIED, {"NOT_ASSIGNED"})

    experts.AssignExperts(xpb.AssignExpertsRequest(request_id=request_id, expert_ids=[EXPERT]), metadata=coordinator)
    [made] = [r for r in read_topic(kafka_bootstrap, f"{topic_prefix}.experts.v1", expect=1)
              if header(r, "ce_type") == ASSIGNED]
    consumed(kafka_bootstrap, topic_prefix, "experts")
    assert read(stub, request_id, expert) == (grpc.StatusCode.OK, set(), owners_key)

    # The same event delivered again is a no-op (the inbox): one row for its id.
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap.split(","))
    producer.send(made.topic, key=made.key, value=made.value, headers=made.headers).get(timeout=15)
    producer.close()
    consumed(kafka_bootstrap, topic_prefix, "experts")
    with consent.app.engine.connect() as c:
        assert c.execute(sa.text("SELECT count(*) FROM inbox WHERE event_id = :e"),
                         {"e": header(made, "ce_id")}).scalar() == 1

    # The owner withdraws the consent: the very next read is refused, with the reason.
    stub.WithdrawConsent(cpb.WithdrawConsentRequest(request_id=request_id), metadata=owner)
    assert read(stub, request_id, expert)[:2] == (grpc.StatusCode.PERMISSION_DENIED, {"CONSENT_WITHDRAWN"})

    party = f"expert_organisation:{EXPERT}"
    assert audit(stub, keys, request_id, f"expert-{EXPERT}") == [
        ("content.refused", "purpose=valmistautuminen kokoukseen; refused=NOT_ASSIGNED"),
        ("content.read", f"purpose=valmistautuminen kokoukseen; as=assigned_expert; party={party}; "
                         "sharing=CONSENT_IN_SCOPE"),
        ("content.refused", f"purpose=valmistautuminen kokoukseen; refused=CONSENT_WITHDRAWN; party={party}; "
                            "sharing=CONSENT_WITHDRAWN"),
    ]


def test_the_booked_group_reads_from_intakes_booking_and_events_out_of_order_repeated_or_malformed_do_no_harm(
        start_consent, keys, kafka_bootstrap, topic_prefix):
    consent = start_consent()
    stub = consent_pb2_grpc.ConsentServiceStub(consent.channel)
    intake_topic, experts_topic = f"{topic_prefix}.intake.v1", f"{topic_prefix}.experts.v1"
    owner = keys.metadata(subject="prof-booking")
    secretary = person(keys, "secretary", "secr-booking", (GROUP,))
    member = person(keys, "group-member", "member-booking", (GROUP,))
    now = datetime.now(timezone.utc)
    request_id, late_id, never_opened = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())

    def status(rid, to_status, at, group_id=""):
        return publish(kafka_bootstrap, intake_topic, STATUS_CHANGED, intake_events_pb2.RequestStatusChanged(
            request_id=rid, tenant=TENANT, type=case_pb2.REQUEST_TYPE_GROUP_CONSULTATION, to_status=to_status,
            changed_at=ts(at), group_id=group_id, meeting_id=str(uuid.uuid4()) if group_id else ""), rid)

    owners_key = open_case(stub, owner, request_id, case_pb2.REQUEST_TYPE_GROUP_CONSULTATION,
                           [cpb.Party(kind=cpb.PARTY_KIND_GROUP, id=GROUP)])
    status(request_id, case_pb2.REQUEST_STATUS_SCHEDULED, now, GROUP)
    # A booking for a request consent never opened, and one with a group id no service makes.
    status(never_opened, case_pb2.REQUEST_STATUS_SCHEDULED, now, GROUP)
    status(str(uuid.uuid4()), case_pb2.REQUEST_STATUS_SCHEDULED, now, "g" * 81)
    # An expert assigned before consent knows the case, then the case.
    publish(kafka_bootstrap, experts_topic, ASSIGNED, experts_events_pb2.ExpertsAssigned(
        request_id=late_id, tenant=TENANT, expert_ids=[EXPERT], assigned_at=ts(now)), late_id)
    consumed(kafka_bootstrap, topic_prefix, "intake")
    consumed(kafka_bootstrap, topic_prefix, "experts")

    assert read(stub, request_id, secretary) == (grpc.StatusCode.OK, set(), owners_key)
    assert read(stub, request_id, member) == (grpc.StatusCode.OK, set(), owners_key)
    for other in (person(keys, "secretary", "secr-other", (OTHER_GROUP,)),
                  person(keys, "group-member", "member-other", (OTHER_GROUP,)),
                  person(keys, "secretary", "secr-of-no-group")):
        assert read(stub, request_id, other)[:2] == (grpc.StatusCode.PERMISSION_DENIED, {"NOT_BOOKED_GROUP"})

    with consent.app.engine.connect() as c:
        assert c.execute(sa.text("SELECT count(*) FROM cases WHERE request_id IN (:a, :b)"),
                         {"a": never_opened, "b": late_id}).scalar() == 0  # no half case made from an event
    assert read(stub, never_opened, secretary)[0] is grpc.StatusCode.NOT_FOUND
    [dead] = read_topic(kafka_bootstrap, f"{topic_prefix}.consent.dlt.v1", expect=1)
    assert header(dead, "ce_type") == STATUS_CHANGED and "80" in header(dead, "ot_dlt_reason")

    open_case(stub, keys.metadata(subject="prof-late"), late_id, case_pb2.REQUEST_TYPE_EXPERT_REINFORCEMENT,
              [cpb.Party(kind=cpb.PARTY_KIND_EXPERT_ORGANISATION, id=EXPERT)])
    assert read(stub, late_id, person(keys, "expert", f"expert-{EXPERT}"))[0] is grpc.StatusCode.OK

    # An event whose id consent has processed changes nothing, whatever it says now.
    removed_id = publish(kafka_bootstrap, experts_topic, UNASSIGNED, experts_events_pb2.ExpertsUnassigned(
        request_id=late_id, tenant=TENANT, removed_expert_ids=[EXPERT], unassigned_at=ts(now + timedelta(seconds=1))),
        late_id)
    publish(kafka_bootstrap, experts_topic, ASSIGNED, experts_events_pb2.ExpertsAssigned(
        request_id=late_id, tenant=TENANT, expert_ids=[EXPERT], assigned_at=ts(now + timedelta(seconds=2))),
        late_id, event_id=removed_id)
    consumed(kafka_bootstrap, topic_prefix, "experts")
    assert read(stub, late_id, person(keys, "expert", f"expert-{EXPERT}"))[1] == {"NOT_ASSIGNED"}

    # The recommendations are back with the worker: the members' right ends, the secretary's stays
    # (they record the recommendations) until the content is shredded.
    status(request_id, case_pb2.REQUEST_STATUS_CONSULTED, now + timedelta(seconds=1))
    status(request_id, case_pb2.REQUEST_STATUS_RECOMMENDATIONS_RETURNED, now + timedelta(seconds=2))
    consumed(kafka_bootstrap, topic_prefix, "intake")
    assert read(stub, request_id, member)[:2] == (grpc.StatusCode.PERMISSION_DENIED, {"RECOMMENDATIONS_RETURNED"})
    assert read(stub, request_id, secretary)[0] is grpc.StatusCode.OK
    party = f"group:{GROUP}"
    assert audit(stub, keys, request_id, "member-booking") == [
        ("content.read", f"purpose=valmistautuminen kokoukseen; as=group_member; party={party}; "
                         "sharing=CONSENT_IN_SCOPE"),
        ("content.refused", f"purpose=valmistautuminen kokoukseen; refused=RECOMMENDATIONS_RETURNED; party={party}"),
    ]
    assert [a for a, _ in audit(stub, keys, request_id, "secr-booking")] == ["content.read", "content.read"]
    assert audit(stub, keys, request_id, "secr-other") == [
        ("content.refused", "purpose=valmistautuminen kokoukseen; refused=NOT_BOOKED_GROUP")]
