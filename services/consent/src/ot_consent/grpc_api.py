"""Thin servicer: proto in -> handler -> proto out. Roles and the form of every field are checked
before it (edge.py)."""
from __future__ import annotations

from ot.common.v1 import case_pb2
from ot.consent.v1 import consent_pb2 as pb
from ot.consent.v1 import consent_pb2_grpc

from ot_runtime.auth import current_principal
from ot_runtime.errors import FieldViolation, InvalidArgument
from ot_runtime.protoconv import from_ts, to_domain, to_proto, ts

from .domain import ConsentForm, ConsentGiver, ConsentVersion, Party, PartyKind, RequestType, RetentionPolicy
from .handlers import ConsentHandlers
from .notice import NoticeArea, build_notice


def party(p: pb.Party) -> Party:
    """An unspecified kind stays None (the handlers refuse it: taken as the OT team, it would be
    allowed everything); the OT team has no id."""
    kind = to_domain(pb.PartyKind, p.kind, PartyKind)
    return Party(kind, "" if kind is PartyKind.OT_TEAM else p.id)


def parties(items) -> list[Party]:
    return [party(p) for p in items]


def version_to_proto(v: ConsentVersion) -> pb.ConsentRecord:
    return pb.ConsentRecord(
        request_id=v.request_id, version=v.version, form=to_proto(pb.ConsentForm, v.form),
        given_by=to_proto(pb.ConsentGiver, v.given_by), child_capacity_assessed=v.child_capacity_assessed,
        scope=[pb.Party(kind=to_proto(pb.PartyKind, p.kind), id=p.id) for p in v.scope], given_at=ts(v.given_at),
        withdrawn=v.withdrawn, recorded_at=ts(v.recorded_at), recorded_by=v.recorded_by)


class ConsentServicer(consent_pb2_grpc.ConsentServiceServicer):
    def __init__(self, handlers: ConsentHandlers, notice_area: NoticeArea):
        self.h = handlers
        self.notice_area = notice_area

    def OpenCase(self, request, context):
        key, version = self.h.open_case(
            current_principal(), request.request_id, to_domain(case_pb2.RequestType, request.type, RequestType),
            to_domain(pb.ConsentForm, request.form, ConsentForm), to_domain(pb.ConsentGiver, request.given_by,
                                                                            ConsentGiver),
            request.child_capacity_assessed, parties(request.scope))
        return pb.OpenCaseResponse(data_key=key, consent=version_to_proto(version))

    def GetDataKey(self, request, context):
        return pb.DataKey(request_id=request.request_id,
                          data_key=self.h.data_key(current_principal(), request.request_id, request.purpose))

    def RecordConsent(self, request, context):
        return version_to_proto(self.h.record(
            current_principal(), request.request_id, to_domain(pb.ConsentForm, request.form, ConsentForm),
            to_domain(pb.ConsentGiver, request.given_by, ConsentGiver), request.child_capacity_assessed,
            parties(request.scope), from_ts(request.given_at, request.HasField("given_at"))))

    def WithdrawConsent(self, request, context):
        return version_to_proto(self.h.withdraw(current_principal(), request.request_id))

    def GetConsent(self, request, context):
        versions = self.h.history(current_principal(), request.request_id)
        return pb.ConsentHistory(current=version_to_proto(versions[-1]),
                                 versions=[version_to_proto(v) for v in versions])

    def CheckSharing(self, request, context):
        d = self.h.check_sharing(current_principal(), request.request_id, party(request.party), request.purpose)
        return pb.SharingDecision(allowed=d.allowed, reason_fi=d.fi, reason_en=d.en, reason_code=d.code)

    def SetRetentionPolicy(self, request, context):
        type_ = to_domain(case_pb2.RequestType, request.type, RequestType)
        if type_ is None:
            raise InvalidArgument([FieldViolation("type", "Valitse pyynnön tyyppi. / Choose the request type.",
                                                  "required")])
        self.h.set_policy(current_principal(), RetentionPolicy(type_, request.grace_days_after_recommendations,
                                                               request.max_days_after_submission))
        return request

    def ListRetentionPolicies(self, request, context):
        return pb.ListRetentionPoliciesResponse(policies=[
            pb.RetentionPolicy(type=to_proto(case_pb2.RequestType, p.type),
                               grace_days_after_recommendations=p.grace_days_after_recommendations,
                               max_days_after_submission=p.max_days_after_submission)
            for p in self.h.policies(current_principal())])

    def RunPurge(self, request, context):
        # The report is about retention (keys shredded and announced); orphans discarded in the same
        # run are in the audit trail (case.abandoned), their requests never existed for the caller.
        done = self.h.purge(current_principal()).shredded
        return pb.PurgeReport(shredded=len(done), request_ids=done)

    def QueryAudit(self, request, context):
        rows, next_after = self.h.query_audit(
            current_principal(), request.request_id, request.action,
            from_ts(request.from_time, request.HasField("from_time")),
            from_ts(request.to_time, request.HasField("to_time")), request.page_size or 100, request.after_sequence,
            request.actor)
        return pb.QueryAuditResponse(entries=[audit_to_proto(r) for r in rows], next_after_sequence=next_after)

    def VerifyAudit(self, request, context):
        v = self.h.verify_audit(current_principal())
        return pb.VerifyAuditResponse(intact=v.intact, entries_checked=v.checked, first_bad_sequence=v.first_bad_sequence,
                                      problem=v.problem)

    def GetPrivacyNotice(self, request, context):
        # Open to anyone (no principal): the live policies, read as the purge reads them.
        return build_notice(self.notice_area, self.h.policies(None), request.language)


def audit_to_proto(r) -> pb.AuditEntry:
    return pb.AuditEntry(sequence=r["sequence"], at=ts(r["at"]), actor=r["actor"], roles=r["roles"],
                         tenant=r["tenant"], action=r["action"], request_id=r["request_id"], detail=r["detail"],
                         hash=r["hash"])
