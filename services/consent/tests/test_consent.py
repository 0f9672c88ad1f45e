from datetime import timedelta

import pytest
import sqlalchemy as sa

from ot_runtime.errors import InvalidArgument, NotFound, PermissionDenied
from ot_consent.domain import ConsentForm, ConsentGiver, Party, PartyKind, RequestType
from ot_consent.store import audit_log, data_keys, outbox

from consent_testkit import COORDINATOR, INTAKE, NOW, person

EXPERT_ORG = Party(PartyKind.EXPERT_ORGANISATION, "kys-lastenpsykiatria")
GROUP = Party(PartyKind.GROUP, "haastavat-erot-jyvaskyla")


def open_written(handlers, request_id="r1", scope=(GROUP,), type_=RequestType.GROUP_CONSULTATION):
    return handlers.open_case(person(), request_id, type_, ConsentForm.WRITTEN_ORGANISATION_FORM,
                              ConsentGiver.GUARDIANS, False, list(scope))


def actions(engine):
    """The trail's actions about cases (the start's own entries, master key steps, left out)."""
    with engine.connect() as c:
        return [r.action for r in c.execute(sa.select(audit_log).order_by(audit_log.c.sequence))
                if not r.action.startswith("master_key.")]


def test_open_case_gives_a_key_and_a_retry_gives_the_same_key(handlers, engine):
    key, version = open_written(handlers)
    again, _ = open_written(handlers)
    assert len(key) == 32 and again == key and version.version == 1
    with engine.connect() as c:
        [row] = c.execute(sa.select(data_keys)).all()
    assert key not in row.wrapped_key and row.key_id == "v1"  # stored only wrapped, naming the master key version
    with pytest.raises(PermissionDenied):
        handlers.open_case(person("someone-else"), "r1", RequestType.OT_TUKI, ConsentForm.NOT_NEEDED, None, False,
                           [])


def test_consent_rules_point_at_their_fields(handlers):
    with pytest.raises(InvalidArgument) as err:
        handlers.open_case(person(), "r2", RequestType.OT_TUKI, ConsentForm.WRITTEN_ORGANISATION_FORM,
                           ConsentGiver.CHILD, False, [Party(PartyKind.GROUP, "")])
    assert {v.field for v in err.value.violations} == {"child_capacity_assessed", "scope[0].id"}


def test_every_content_read_is_audited_and_others_cannot_read(handlers, engine):
    key, _ = open_written(handlers)
    assert handlers.data_key(COORDINATOR, "r1", "triage") == key
    assert handlers.data_key(person(), "r1", "view") == key
    with pytest.raises(PermissionDenied) as refused:
        handlers.data_key(person("another-professional"), "r1", "curiosity")
    assert refused.value.reason == "NOT_OWNER"
    # The refused attempt is in the trail too, committed although the call failed.
    assert actions(engine) == ["case.opened", "content.read", "content.read", "content.refused"]


def test_sharing_follows_the_scope_until_withdrawal(handlers, engine):
    open_written(handlers)
    assert handlers.check_sharing(INTAKE, "r1", GROUP, "booking").allowed
    assert handlers.check_sharing(INTAKE, "r1", Party(PartyKind.OT_TEAM), "triage").allowed
    refused = handlers.check_sharing(INTAKE, "r1", EXPERT_ORG, "assignment")
    assert not refused.allowed and refused.code == "NOT_IN_SCOPE" and "laajuus" in refused.fi

    handlers.record(person(), "r1", ConsentForm.WRITTEN_ORGANISATION_FORM, ConsentGiver.GUARDIANS, False,
                    [GROUP, EXPERT_ORG], None)
    assert handlers.check_sharing(INTAKE, "r1", EXPERT_ORG, "assignment").allowed

    withdrawn = handlers.withdraw(person(), "r1")
    assert withdrawn.withdrawn and withdrawn.version == 3
    decision = handlers.check_sharing(INTAKE, "r1", EXPERT_ORG, "assignment")
    assert (decision.allowed, decision.code) == (False, "CONSENT_WITHDRAWN")
    assert [v.version for v in handlers.history(person(), "r1")] == [1, 2, 3]  # history kept
    with engine.connect() as c:
        types = [r.ce_type for r in c.execute(sa.select(outbox).order_by(outbox.c.id))]
    assert types == ["ot.consent.consent.recorded.v1", "ot.consent.consent.withdrawn.v1"]
    assert actions(engine).count("sharing.check") == 5


def test_only_the_owner_records_or_withdraws(handlers):
    open_written(handlers)
    with pytest.raises(PermissionDenied):
        handlers.withdraw(COORDINATOR, "r1")


def test_consent_not_needed_allows_sharing_by_the_professionals_judgement(handlers):
    handlers.open_case(person(), "r3", RequestType.OT_TUKI, ConsentForm.NOT_NEEDED, None, False, [])
    assert handlers.check_sharing(INTAKE, "r3", EXPERT_ORG, "x").code == "CONSENT_NOT_NEEDED"


def test_purge_shreds_after_the_grace_period_once_and_reports_it(handlers, engine, clock):
    key, _ = open_written(handlers)  # group consultation: 14 days after recommendations by default
    with handlers.sessions.begin() as s:
        handlers.on_request_finished(s, "r1", NOW + timedelta(days=10), recommendations=True)
    clock.set(NOW + timedelta(days=23, hours=23))
    assert handlers.purge().shredded == []
    clock.set(NOW + timedelta(days=24))
    assert handlers.purge().shredded == ["r1"]
    assert handlers.purge().shredded == []  # idempotent
    with pytest.raises(NotFound):
        handlers.data_key(person(), "r1", "view")
    decision = handlers.check_sharing(INTAKE, "r1", GROUP, "late")
    assert decision.code == "CONTENT_ERASED"
    with engine.connect() as c:
        [row] = c.execute(sa.select(data_keys)).all()
        shred_events = [r for r in c.execute(sa.select(outbox)) if r.ce_type == "ot.consent.key.shredded.v1"]
    assert row.wrapped_key is None and row.shredded_at is not None and len(shred_events) == 1
    assert "key.shredded" in actions(engine)


def test_an_open_case_is_purged_at_the_latest_after_the_maximum(handlers, clock):
    open_written(handlers, "r4", type_=RequestType.OT_TUKI)
    clock.set(NOW + timedelta(days=364))
    assert handlers.purge().shredded == []
    clock.set(NOW + timedelta(days=365))
    assert handlers.purge().shredded == ["r4"]


def test_a_changed_policy_applies(handlers, clock):
    from ot_consent.domain import RetentionPolicy
    handlers.set_policy(COORDINATOR, RetentionPolicy(RequestType.GROUP_CONSULTATION, 1, 30))
    open_written(handlers)
    with handlers.sessions.begin() as s:
        handlers.on_request_finished(s, "r1", NOW, recommendations=True)
    clock.set(NOW + timedelta(days=1))
    assert handlers.purge().shredded == ["r1"]


def test_the_areas_retention_defaults_come_from_the_environment():
    from ot_consent.domain import policies_from_env
    got = policies_from_env({"OT_RETENTION_GROUP_CONSULTATION_GRACE_DAYS": "7"})
    assert got[RequestType.GROUP_CONSULTATION].grace_days_after_recommendations == 7
    assert got[RequestType.GROUP_CONSULTATION].max_days_after_submission == 180  # unset: the default
    with pytest.raises(ValueError, match="OT_RETENTION_OT_TUKI_MAX_DAYS"):
        policies_from_env({"OT_RETENTION_OT_TUKI_MAX_DAYS": "forever"})
