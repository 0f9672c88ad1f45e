"""Object-level rules over in-process gRPC, each cell with real data: whose assignments an expert
sees, which experts and requests a coordinator may act on, a withdrawal that overtakes the
submission, and how experts asks consent (the channel, and what a refusal means)."""
import datetime
import types
from concurrent import futures

import grpc
import pytest
from google.rpc import error_details_pb2
from ot.consent.v1 import consent_pb2, consent_pb2_grpc
from ot.events.v1 import consent_events_pb2, intake_events_pb2
from ot.common.v1 import case_pb2
from ot.experts.v1 import experts_pb2 as pb

from ot_runtime.errors import Unavailable
from ot_runtime.testing import status_details
from ot_experts import events
from ot_experts.consumers import event_handlers
from ot_experts.domain import Category, RequestStatus, RequestType
from ot_experts.sharing import ConsentSharingPolicy

from experts_testkit import COORDINATOR, REQ1, REQ2, REQ_KS, TENANT, expert, expert_fields, make_handlers, person

OTHER_AREA = "keski-suomi"


def md(keys, role, subject="someone"):
    return keys.metadata(roles=(role,), subject=subject)


def refusal(error) -> tuple[grpc.StatusCode, set[str]]:
    return error.code(), {d.reason for d in status_details(error) if isinstance(d, error_details_pb2.ErrorInfo)}


def refused(call, *args, **kwargs) -> tuple[grpc.StatusCode, set[str]]:
    with pytest.raises(grpc.RpcError) as err:
        call(*args, **kwargs)
    return refusal(err.value)


def receive(handlers, request_id=REQ1, tenant=TENANT, status=RequestStatus.SUBMITTED):
    with handlers.sessions.begin() as s:
        handlers.on_request_event(s, f"ev-{request_id}-{status}", request_id, RequestType.EXPERT_REINFORCEMENT,
                                  [Category.CHILD_PROTECTION_SPECIAL], status, tenant)


# --- an expert sees their own assignments, nobody else's -------------------------------------------

def test_an_expert_sees_only_the_assignments_of_the_expert_linked_to_their_login(client, keys, handlers):
    receive(handlers, REQ1)
    receive(handlers, REQ2)
    handlers.assign(COORDINATOR, REQ1, ["barnahus"], False)
    handlers.assign(COORDINATOR, REQ2, ["tukikeskus-varjo"], False)

    barnahus = client.ListMyAssignments(pb.ListMyAssignmentsRequest(), metadata=md(keys, "expert", "expert-barnahus"))
    assert [(a.request_id, a.expert_id) for a in barnahus.assignments] == [(REQ1, "barnahus")]
    varjo = client.ListMyAssignments(pb.ListMyAssignmentsRequest(),
                                     metadata=md(keys, "expert", "expert-tukikeskus-varjo"))
    assert [(a.request_id, a.expert_id) for a in varjo.assignments] == [(REQ2, "tukikeskus-varjo")]
    # A login linked to no expert is told so, rather than shown an empty list.
    assert refused(client.ListMyAssignments, pb.ListMyAssignmentsRequest(),
                   metadata=md(keys, "expert", "expert-nobody")) == (grpc.StatusCode.PERMISSION_DENIED,
                                                                     {"EXPERT_NOT_LINKED"})
    # An assigned expert reads no other view of the case (roles: ListAssignments is the OT staff's).
    assert refused(client.ListAssignments, pb.ListAssignmentsRequest(request_id=REQ1),
                   metadata=md(keys, "expert", "expert-barnahus")) == (grpc.StatusCode.PERMISSION_DENIED,
                                                                       {"ROLE_NOT_ALLOWED"})


def test_a_login_is_linked_to_one_expert_at_most(client, keys, handlers):
    receive(handlers, REQ1)
    handlers.assign(COORDINATOR, REQ1, ["barnahus"], False)
    coordinator = md(keys, "coordinator", "coord-1")
    taken = pb.CreateExpertRequest(expert_id="oma-psykologi", fields=expert_fields(
        expert(user_subject="expert-barnahus")))
    assert refused(client.CreateExpert, taken, metadata=coordinator) == (grpc.StatusCode.FAILED_PRECONDITION,
                                                                        {"SUBJECT_TAKEN"})
    taken.fields.user_subject = "expert-oma-psykologi"
    client.CreateExpert(taken, metadata=coordinator)
    relink = pb.UpdateExpertRequest(expert_id="oma-psykologi", fields=expert_fields(
        expert(user_subject="expert-barnahus")))
    assert refused(client.UpdateExpert, relink, metadata=coordinator) == (grpc.StatusCode.FAILED_PRECONDITION,
                                                                         {"SUBJECT_TAKEN"})
    # So Barnahus's login still sees Barnahus's case only.
    mine = client.ListMyAssignments(pb.ListMyAssignmentsRequest(), metadata=md(keys, "expert", "expert-barnahus"))
    assert [a.expert_id for a in mine.assignments] == ["barnahus"]


# --- only a coordinator assigns and removes, and only what the area may touch ------------------------

@pytest.mark.parametrize("role", ["professional", "secretary", "expert", "admin", "service"])
def test_nobody_but_a_coordinator_assigns_or_removes_not_even_the_assigned_expert(client, keys, handlers, role):
    receive(handlers, REQ1)
    handlers.assign(COORDINATOR, REQ1, ["barnahus"], False)
    metadata = keys.metadata(roles=(role,)) if role == "service" else md(keys, role, "expert-barnahus")
    assign = pb.AssignExpertsRequest(request_id=REQ1, expert_ids=["sairaalaopetus"])
    unassign = pb.UnassignExpertRequest(request_id=REQ1, expert_id="barnahus")
    assert refused(client.AssignExperts, assign, metadata=metadata)[1] == {"ROLE_NOT_ALLOWED"}
    assert refused(client.UnassignExpert, unassign, metadata=metadata)[1] == {"ROLE_NOT_ALLOWED"}
    assert [(a.expert_id, a.active) for a in handlers.list_assignments(COORDINATOR, REQ1)] == [("barnahus", True)]


def test_assignment_refusals_name_their_reason(client, keys, handlers):
    receive(handlers, REQ1)
    coordinator = md(keys, "coordinator", "coord-1")
    client.AssignExperts(pb.AssignExpertsRequest(request_id=REQ1, expert_ids=["barnahus"]), metadata=coordinator)
    assert refused(client.AssignExperts, pb.AssignExpertsRequest(request_id=REQ1, expert_ids=["barnahus"]),
                   metadata=coordinator) == (grpc.StatusCode.FAILED_PRECONDITION, {"ALREADY_ASSIGNED"})
    assert refused(client.UnassignExpert, pb.UnassignExpertRequest(request_id=REQ1, expert_id="valteri"),
                   metadata=coordinator) == (grpc.StatusCode.FAILED_PRECONDITION, {"NOT_ASSIGNED"})


def test_a_coordinator_changes_only_the_areas_own_experts_catalogue_fields(client, keys):
    coordinator = md(keys, "coordinator", "coord-1")
    shared = pb.UpdateExpertRequest(expert_id="barnahus", fields=expert_fields(expert()))
    assert refused(client.UpdateExpert, shared, metadata=coordinator) == (grpc.StatusCode.FAILED_PRECONDITION,
                                                                         {"CATALOGUE_MANAGED"})
    assert client.GetExpert(pb.GetExpertRequest(expert_id="barnahus"), metadata=coordinator).name_fi == "Barnahus"
    overlay = client.UpdateExpert(pb.UpdateExpertRequest(expert_id="barnahus", local_note="Tammikuussa tauko."),
                                  metadata=coordinator)
    assert overlay.local_note == "Tammikuussa tauko."
    client.CreateExpert(pb.CreateExpertRequest(expert_id="oma-asiantuntija", fields=expert_fields(expert())),
                        metadata=coordinator)
    own = client.UpdateExpert(pb.UpdateExpertRequest(expert_id="oma-asiantuntija", fields=expert_fields(
        expert(name_fi="Perheneuvolan psykologi"))), metadata=coordinator)
    assert own.name_fi == "Perheneuvolan psykologi"


def test_another_areas_own_experts_and_requests_are_not_this_areas_to_touch(client, keys, engine, clock):
    other = make_handlers(engine, clock, tenant=OTHER_AREA)
    other.create_expert(person("coord-ks", "coordinator", tenant=OTHER_AREA),
                        expert("ks-oma", user_subject="expert-ks-oma"))
    receive(other, REQ_KS, tenant=OTHER_AREA)
    coordinator = md(keys, "coordinator", "coord-1")
    for method, request in (("GetExpert", pb.GetExpertRequest(expert_id="ks-oma")),
                            ("UpdateExpert", pb.UpdateExpertRequest(expert_id="ks-oma", active=False)),
                            ("RetireExpert", pb.RetireExpertRequest(expert_id="ks-oma")),
                            ("ListProposals", pb.ListProposalsRequest(request_id=REQ_KS)),
                            ("ListAssignments", pb.ListAssignmentsRequest(request_id=REQ_KS)),
                            ("AssignExperts", pb.AssignExpertsRequest(request_id=REQ_KS, expert_ids=["barnahus"]))):
        code, _ = refused(getattr(client, method), request, metadata=coordinator)
        assert code is grpc.StatusCode.NOT_FOUND, method
    listed = client.ListExperts(pb.ListExpertsRequest(page_size=100), metadata=coordinator)
    assert "ks-oma" not in {e.expert_id for e in listed.experts}
    # Its login is linked to no expert of this area.
    assert refused(client.ListMyAssignments, pb.ListMyAssignmentsRequest(),
                   metadata=md(keys, "expert", "expert-ks-oma"))[1] == {"EXPERT_NOT_LINKED"}


# --- a consent withdrawal that overtakes intake's submission -------------------------------------

def deliver(handlers, engine, ce_type, message, event_id):
    """One event through the consumer's handler table, in one transaction (as the consumer runs it)."""
    handler = event_handlers(handlers)[ce_type]
    with handlers.sessions.begin() as s:
        handler.handle(s, types.SimpleNamespace(id=event_id, type=ce_type), message)


def withdrawn(request_id, tenant=TENANT):
    return consent_events_pb2.ConsentWithdrawn(request_id=request_id, tenant=tenant)


def submitted(request_id):
    return intake_events_pb2.RequestSubmitted(request_id=request_id, tenant=TENANT,
                                              type=case_pb2.REQUEST_TYPE_EXPERT_REINFORCEMENT,
                                              categories=[case_pb2.CASE_CATEGORY_CHILD_PROTECTION_SPECIAL])


def test_a_withdrawal_before_the_submission_is_remembered_and_no_rpc_fails(client, keys, handlers, engine):
    coordinator = md(keys, "coordinator", "coord-1")
    deliver(handlers, engine, events.CONSENT_WITHDRAWN, withdrawn(REQ1), "ev-w")
    # Until intake's event arrives the request is unknown to every RPC (it used to be INTERNAL).
    for method, request in (("ListProposals", pb.ListProposalsRequest(request_id=REQ1)),
                            ("ListAssignments", pb.ListAssignmentsRequest(request_id=REQ1)),
                            ("AssignExperts", pb.AssignExpertsRequest(request_id=REQ1, expert_ids=["barnahus"])),
                            ("UnassignExpert", pb.UnassignExpertRequest(request_id=REQ1, expert_id="barnahus"))):
        assert refused(getattr(client, method), request, metadata=coordinator)[0] is grpc.StatusCode.NOT_FOUND, method

    deliver(handlers, engine, events.REQUEST_SUBMITTED, submitted(REQ1), "ev-s")
    proposals = client.ListProposals(pb.ListProposalsRequest(request_id=REQ1), metadata=coordinator)
    assert proposals.request_status == case_pb2.REQUEST_STATUS_SUBMITTED and not proposals.proposals
    assert list(proposals.categories) == [case_pb2.CASE_CATEGORY_CHILD_PROTECTION_SPECIAL]
    assert "suostumus on peruttu" in proposals.summary_fi and "withdrawn" in proposals.summary_en
    assert refused(client.AssignExperts, pb.AssignExpertsRequest(request_id=REQ1, expert_ids=["barnahus"]),
                   metadata=coordinator) == (grpc.StatusCode.FAILED_PRECONDITION, {"SHARING_NOT_ALLOWED"})
    assert client.ListAssignments(pb.ListAssignmentsRequest(request_id=REQ1), metadata=coordinator).assignments == []
    assert refused(client.UnassignExpert, pb.UnassignExpertRequest(request_id=REQ1, expert_id="barnahus"),
                   metadata=coordinator) == (grpc.StatusCode.FAILED_PRECONDITION, {"NOT_ASSIGNED"})


def test_a_withdrawal_after_the_submission_drops_proposals_and_stops_assigning(client, keys, handlers, engine):
    coordinator = md(keys, "coordinator", "coord-1")
    deliver(handlers, engine, events.REQUEST_SUBMITTED, submitted(REQ1), "ev-s")
    assert client.ListProposals(pb.ListProposalsRequest(request_id=REQ1), metadata=coordinator).proposals
    deliver(handlers, engine, events.CONSENT_WITHDRAWN, withdrawn(REQ1), "ev-w")
    assert not client.ListProposals(pb.ListProposalsRequest(request_id=REQ1), metadata=coordinator).proposals
    assert refused(client.AssignExperts, pb.AssignExpertsRequest(request_id=REQ1, expert_ids=["barnahus"]),
                   metadata=coordinator)[1] == {"SHARING_NOT_ALLOWED"}


@pytest.mark.parametrize("ce_type, message", [
    (events.CONSENT_WITHDRAWN, withdrawn("not-a-uuid")),
    (events.CONSENT_WITHDRAWN, withdrawn(REQ1, tenant=OTHER_AREA)),
    (events.REQUEST_SUBMITTED, submitted("x" * 40)),
    (events.REQUEST_SUBMITTED, submitted(REQ1[:-1] + "\x00")),
])
def test_an_event_about_a_malformed_id_or_another_area_is_refused_and_writes_nothing(handlers, engine, ce_type,
                                                                                      message):
    from ot_runtime.errors import OtError
    with pytest.raises(OtError):  # the consumer sends it to the dead-letter topic
        deliver(handlers, engine, ce_type, message, "ev-bad")
    with handlers.sessions() as s:
        from ot_experts.store import case_requests
        assert s.execute(case_requests.select()).all() == []


# --- asking consent -----------------------------------------------------------------------------

class FakeConsent(consent_pb2_grpc.ConsentServiceServicer):
    def __init__(self, refuse_with=None):
        self.refuse_with = refuse_with

    def CheckSharing(self, request, context):  # noqa: N802 (the gRPC API)
        if self.refuse_with:
            context.abort(self.refuse_with, "no")
        return consent_pb2.SharingDecision(allowed=True, reason_fi="Sallittu.", reason_en="Allowed.")


@pytest.fixture()
def consent():
    servicer = FakeConsent()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    consent_pb2_grpc.add_ConsentServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield servicer, f"127.0.0.1:{port}"
    server.stop(0)


def settings(ca_file=None):
    return types.SimpleNamespace(grpc_tls_ca_file=ca_file, grpc_tls_cert_file=None, grpc_tls_key_file=None)


def self_signed_ca(path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ot-test-ca")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(key, hashes.SHA256()))
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(path)


def test_consent_is_asked_over_the_runtimes_channel_so_tls_settings_apply(consent, tmp_path):
    _, target = consent
    assert ConsentSharingPolicy(target, settings()).may_share(REQ1, "experts/barnahus") == (True,
                                                                                            "Sallittu. / Allowed.")
    # With a CA configured the channel speaks TLS: a plaintext consent is not talked to.
    with pytest.raises(Unavailable):
        ConsentSharingPolicy(target, settings(self_signed_ca(tmp_path / "ca.pem")), timeout_seconds=2).may_share(
            REQ1, "experts/barnahus")


def test_consent_away_is_unavailable_and_a_refused_check_is_no_sharing(consent):
    servicer, target = consent
    with pytest.raises(Unavailable):
        ConsentSharingPolicy("127.0.0.1:1", settings(), timeout_seconds=2).may_share(REQ1, "experts/barnahus")
    servicer.refuse_with = grpc.StatusCode.PERMISSION_DENIED
    allowed, reason = ConsentSharingPolicy(target, settings()).may_share(REQ1, "experts/barnahus")
    assert not allowed and "PERMISSION_DENIED" in reason
