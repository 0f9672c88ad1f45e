"""Consent's keys and audit trail on the real PostgreSQL and Kafka: the audit head is anchored on
consent's topic and in its log, and verify-audit with those anchors finds a trail cut back in the
database; master keys rotate and retire through the operator commands, after which a backup from
before a purge opens nothing while live cases keep opening."""
from __future__ import annotations

import argparse
import base64
import json
import os
import uuid
from datetime import datetime, timezone

import grpc
import pytest
import sqlalchemy as sa
from ot.common.v1 import case_pb2
from ot.consent.v1 import consent_pb2 as cpb
from ot.consent.v1 import consent_pb2_grpc

from ot_runtime.clock import FixedClock
from ot_runtime.crypto import CannotOpen, open_sealed
from ot_runtime.settings import SettingsError, load_settings

from conftest import TENANT, RunningService, wait_until


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def env_of(service: RunningService, **changes) -> dict:
    """The service's settings as environment, with `changes` (None removes a variable): what an
    operator's command run next to it would get."""
    env = {"OT_TENANT": service.settings.tenant, "DATABASE_URL": service.settings.database_url,
           "KAFKA_BOOTSTRAP_SERVERS": service.settings.kafka_bootstrap_servers,
           "OT_TOPIC_PREFIX": service.settings.topic_prefix, "AUTH_JWT_ISSUER": service.settings.jwt_issuer,
           "AUTH_JWT_AUDIENCE": service.settings.jwt_audience,
           "AUTH_JWT_PUBLIC_KEY_FILE": service.settings.jwt_public_key_file, "GRPC_PORT": "0", "HTTP_PORT": "0",
           **service.settings.extra}
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def command(name: str, env: dict, capsys, **args) -> tuple[int, list]:
    """Run an ot-consent operator command as `ot-consent <name>` would, with `env` as its environment;
    return its exit code and the JSON lines it printed."""
    from ot_consent import main
    namespace = argparse.Namespace(**{"out": None, "actor": None, "anchors": None, "anchors_from_topic": False,
                                      "batch_size": 500, "key_version": None, **args})
    capsys.readouterr()
    code = getattr(main, name.replace("-", "_"))(load_settings("consent", env), namespace) or 0
    out = capsys.readouterr().out
    return code, [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def open_case(stub, metadata, type_=case_pb2.REQUEST_TYPE_OT_TUKI) -> tuple[str, bytes]:
    request_id = str(uuid.uuid4())
    opened = stub.OpenCase(cpb.OpenCaseRequest(request_id=request_id, type=type_, form=cpb.CONSENT_FORM_NOT_NEEDED),
                           metadata=metadata)
    return request_id, opened.data_key


def test_the_head_is_anchored_on_kafka_and_in_the_log_and_a_cut_back_trail_is_found(start_consent, keys, capsys,
                                                                                     captured_logs, tmp_path):
    consent = start_consent(OT_AUDIT_ANCHOR_INTERVAL_SECONDS="1")
    stub = consent_pb2_grpc.ConsentServiceStub(consent.channel)
    professional = keys.metadata(subject="prof-anchor")
    coordinator = keys.metadata(roles=("coordinator",), subject="coord-anchor")
    request_id, _ = open_case(stub, professional)
    for purpose in ("triage", "view"):
        stub.GetDataKey(cpb.GetDataKeyRequest(request_id=request_id, purpose=purpose), metadata=coordinator)
    with consent.app.engine.connect() as c:
        head_sequence, head_mac = c.execute(sa.text("SELECT last_sequence, last_hash FROM audit_head")).one()
    assert head_sequence == 4  # the master key version made current, the case opened, two reads

    from ot_consent.main import anchors_from_topic
    consent.app.anchorer.start()
    anchors = wait_until(lambda: [a for a in anchors_from_topic(consent.settings) if a.sequence == head_sequence],
                         what="the anchor of the audit head on consent's topic")
    assert {(a.sequence, a.mac) for a in anchors} == {(head_sequence, head_mac)}
    logged = [json.loads(line) for line in captured_logs.getvalue().splitlines()
              if json.loads(line)["message"] == "audit head anchored"]
    assert [(e["sequence"], e["mac"]) for e in logged] == [(head_sequence, head_mac)]
    standard = {"time", "level", "service", "tenant", "logger", "message", "trace_id", "span_id"}
    assert set(logged[0]) - standard == {"sequence", "mac"}  # the trail's position and MAC, nothing of a case
    consent.app.anchorer.stop()

    code, [ok] = command("verify-audit", env_of(consent), capsys, anchors_from_topic=True)
    assert (code, ok["intact"], ok["anchors_checked"]) == (0, True, 1)

    # Someone with write access to the database cuts the trail back to entry 2 and resets the head.
    with consent.app.engine.begin() as c:
        c.execute(sa.text("DELETE FROM audit_log WHERE sequence > 2"))
        c.execute(sa.text("UPDATE audit_head SET last_sequence = 2, last_hash = "
                          "(SELECT hash FROM audit_log WHERE sequence = 2)"))
    code, [chain_only] = command("verify-audit", env_of(consent), capsys)
    assert (code, chain_only["intact"]) == (0, True)  # the chain alone cannot tell
    code, [found] = command("verify-audit", env_of(consent), capsys, anchors_from_topic=True)
    assert (code, found["intact"], found["first_bad_sequence"]) == (1, False, 3)
    assert f"entry {head_sequence} existed" in found["problem"]
    anchor_file = tmp_path / "anchors.jsonl"  # the same anchors taken from the log store
    anchor_file.write_text("\n".join(json.dumps(e) for e in logged) + "\n")
    code, [from_log] = command("verify-audit", env_of(consent), capsys, anchors=anchor_file)
    assert (code, from_log["intact"]) == (1, False)
    assert stub.VerifyAudit(cpb.VerifyAuditRequest(), metadata=coordinator).intact  # the RPC checks the chain only


def test_rotation_and_retirement_shut_a_backup_from_before_a_purge_and_keep_live_cases_open(start_consent, keys,
                                                                                           capsys):
    clock = FixedClock(datetime.now(timezone.utc))
    v1 = os.urandom(32)
    old = start_consent(clock, OT_CONSENT_MASTER_KEY=b64(v1))  # an install from before versioned keys: v1
    stub = consent_pb2_grpc.ConsentServiceStub(old.channel)
    professional = keys.metadata(subject="prof-rotation")
    purged, _ = open_case(stub, professional, case_pb2.REQUEST_TYPE_GROUP_CONSULTATION)
    live = dict(open_case(stub, professional) for _ in range(2))
    with old.app.engine.connect() as c:
        backup = c.execute(sa.text("SELECT request_id, key_id, wrapped_key FROM data_keys")).all()
    assert {r.key_id for r in backup} == {"v1"}
    with old.app.handlers.sessions.begin() as s:
        old.app.handlers.on_request_finished(s, purged, clock.now(), recommendations=True)
    clock.advance(days=15)
    assert old.app.handlers.purge().shredded == [purged]

    # The operator adds v2 in front (the Secret's master-keys), restarts, and runs the commands.
    v2 = os.urandom(32)
    rotated_env = env_of(old, OT_CONSENT_MASTER_KEY=None, OT_CONSENT_MASTER_KEYS=f"v2:{b64(v2)},v1:{b64(v1)}")
    code, [refused] = command("retire-master-key", rotated_env, capsys, key_version="v1")
    assert (code, refused["retired"]) == (1, False) and "2 live data keys" in refused["problem"]
    code, [first] = command("rotate-master-key", rotated_env, capsys, batch_size=1)
    assert (code, first["current"], first["rewrapped"], first["remaining"]) == (0, "v2", 2, {})
    code, [again] = command("rotate-master-key", rotated_env, capsys)
    assert (code, again["rewrapped"]) == (0, 0)
    code, [retired] = command("retire-master-key", rotated_env, capsys, key_version="v1")
    assert (code, retired["retired"], retired["still_held"]) == (0, True, [])

    # The replica still running with v1 as its current key may no longer wrap with it.
    with pytest.raises(grpc.RpcError) as err:
        open_case(stub, professional)
    assert err.value.code() is grpc.StatusCode.UNAVAILABLE

    # v1 is removed from the Secret: consent starts with v2 alone, live cases open, the backup does not.
    remaining = start_consent(database_url=old.settings.database_url,
                              OT_CONSENT_MASTER_KEYS=f"v2:{b64(v2)}",
                              OT_CONSENT_AUDIT_KEY=old.settings.extra["OT_CONSENT_AUDIT_KEY"])
    new_stub = consent_pb2_grpc.ConsentServiceStub(remaining.channel)
    for request_id, key in live.items():
        assert new_stub.GetDataKey(cpb.GetDataKeyRequest(request_id=request_id, purpose="view"),
                                   metadata=professional).data_key == key
    for row in backup:
        aad = f"ot-data-key:{TENANT}:{row.request_id}".encode()
        with pytest.raises(CannotOpen):
            open_sealed(v2, row.wrapped_key, aad)
        assert open_sealed(v1, row.wrapped_key, aad)  # what destroying v1 everywhere takes away
    code, [verified] = command("verify-audit", env_of(remaining), capsys)
    assert (code, verified["intact"]) == (0, True)

    # A configuration without v2, which wraps the live keys, stops the start naming the setting only.
    from ot_consent.bootstrap import build
    v3 = b64(os.urandom(32))
    with pytest.raises(SettingsError) as stopped:
        build(load_settings("consent", env_of(remaining, OT_CONSENT_MASTER_KEYS=f"v3:{v3}")))
    assert "OT_CONSENT_MASTER_KEYS has no version 'v2'" in str(stopped.value)
    assert b64(v2) not in str(stopped.value) and v3 not in str(stopped.value)


def test_open_case_calls_racing_for_one_request_get_one_case_and_the_same_key(start_consent, keys):
    """Intake retries OpenCase after a timeout, so two calls for one request can overlap. The case
    row is written first (INSERT ... ON CONFLICT DO NOTHING): the later call waits for the earlier
    one's transaction and answers from its case, with the same key; another professional's call
    for the id is refused."""
    from concurrent.futures import ThreadPoolExecutor

    consent = start_consent()
    stub = consent_pb2_grpc.ConsentServiceStub(consent.channel)
    professional = keys.metadata(subject="prof-race")
    for _ in range(5):
        request_id = str(uuid.uuid4())
        call = cpb.OpenCaseRequest(request_id=request_id, type=case_pb2.REQUEST_TYPE_OT_TUKI,
                                   form=cpb.CONSENT_FORM_NOT_NEEDED)
        with ThreadPoolExecutor(4) as pool:
            keys_given = list(pool.map(lambda _: stub.OpenCase(call, metadata=professional).data_key, range(4)))
        assert len(set(keys_given)) == 1 and len(keys_given[0]) == 32
        with consent.app.engine.connect() as c:
            cases = c.execute(sa.text("SELECT count(*) FROM cases WHERE request_id = :r"), {"r": request_id}).scalar()
            opened = c.execute(sa.text("SELECT count(*) FROM audit_pending WHERE request_id = :r UNION ALL "
                                       "SELECT count(*) FROM audit_log WHERE request_id = :r"),
                               {"r": request_id}).scalars().all()
        assert cases == 1 and sum(opened) == 1  # one case, one "case.opened" entry
    with pytest.raises(grpc.RpcError) as refused:
        stub.OpenCase(call, metadata=keys.metadata(subject="someone-else"))
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
