from google.rpc import error_details_pb2

from ot_runtime.errors import FailedPrecondition, FieldViolation, InvalidArgument, to_rpc_status


def test_invalid_argument_carries_field_violations():
    status = to_rpc_status(InvalidArgument([FieldViolation("question", "kuvaus / description", "name")]))
    assert status.code == 3
    bad = error_details_pb2.BadRequest()
    assert status.details[0].Unpack(bad)
    assert [(v.field, v.reason) for v in bad.field_violations] == [("question", "name")]


def test_failed_precondition_carries_reason_and_info():
    status = to_rpc_status(FailedPrecondition("ei / no", violation_type="LIFECYCLE", subject="requests/1",
                                              info={"status": "closed"}))
    pre, info = error_details_pb2.PreconditionFailure(), error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(pre) and status.details[1].Unpack(info)
    assert pre.violations[0].type == "LIFECYCLE"
    assert info.metadata["status"] == "closed"
