"""Versioned master keys: a purged case stays shut in old backups once the versions that wrapped
its key are retired; live cases keep opening through a rotation; the configuration is checked
against the database at start."""
import base64
from datetime import timedelta

import pytest
import sqlalchemy as sa

from ot_runtime.crypto import CannotOpen, MasterKeys, new_key, open_sealed, parse_master_keys
from ot_runtime.errors import FailedPrecondition, NotFound, Unavailable
from ot_runtime.settings import SettingsError, load_settings
from ot_consent.domain import ConsentForm, RequestType
from ot_consent.store import audit_log, cases, data_keys, master_keys

from consent_testkit import COORDINATOR, NOW, TENANT, person

V1, V2 = new_key(), new_key()


def keys(*versions: tuple[str, bytes]) -> MasterKeys:
    return MasterKeys(versions[0][0], dict(versions), "OT_CONSENT_MASTER_KEYS")


def open_case(handlers, request_id, type_=RequestType.OT_TUKI) -> bytes:
    key, _ = handlers.open_case(person(), request_id, type_, ConsentForm.NOT_NEEDED, None, False, [])
    return key


def backup(engine) -> list:
    """A copy of the data key rows, as a database backup holds them."""
    with engine.connect() as c:
        return c.execute(sa.select(data_keys.c.request_id, data_keys.c.key_id, data_keys.c.wrapped_key)).all()


def aad(request_id: str) -> bytes:
    return f"ot-data-key:{TENANT}:{request_id}".encode()


def opens(material: bytes, row) -> bool:
    try:
        open_sealed(material, row.wrapped_key, aad(row.request_id))
        return True
    except CannotOpen:
        return False


def test_after_purge_rotation_and_retirement_a_backup_from_before_the_purge_opens_nothing(make_handlers, engine,
                                                                                          clock):
    old = make_handlers(keys(("v1", V1)))
    gone = open_case(old, "r-purged", RequestType.GROUP_CONSULTATION)
    live = open_case(old, "r-live")
    before_purge = backup(engine)
    with old.sessions.begin() as s:
        old.on_request_finished(s, "r-purged", NOW, recommendations=True)
    clock.advance(days=15)
    assert old.purge().shredded == ["r-purged"]
    # Until the version is retired, the backup plus the master key still opens the purged case:
    assert [opens(V1, r) for r in before_purge] == [True, True]

    rotating = make_handlers(keys(("v2", V2), ("v1", V1)))  # the new version first: it is current
    assert rotating.rotate_master_key().rewrapped == 1  # only the live case: the purged one has no key left
    assert rotating.retire_master_key("v1").final_before == NOW + timedelta(days=15)
    remaining = make_handlers(keys(("v2", V2)))  # v1 removed from the Secret: the start accepts it

    # The backup from before the purge opens nothing with the keys that remain.
    assert [row.key_id for row in before_purge] == ["v1", "v1"]
    assert not any(opens(material, row) for row in before_purge for material in remaining.master_keys.keys.values())
    for row in before_purge:
        with pytest.raises(CannotOpen):
            remaining.master_keys.unwrap(row.key_id, row.wrapped_key, aad(row.request_id))
    # The live case opens, the purged one is gone.
    assert remaining.data_key(person(), "r-live", "view") == live
    with pytest.raises(NotFound):
        remaining.data_key(person(), "r-purged", "view")
    assert gone not in [r.wrapped_key for r in backup(engine)]
    assert remaining.verify_audit(COORDINATOR).intact


def test_rotation_goes_in_batches_resumes_after_an_interruption_and_is_idempotent(make_handlers, engine):
    old = make_handlers(keys(("v1", V1)))
    originals = {f"r{i}": open_case(old, f"r{i}") for i in range(5)}
    rotating = make_handlers(keys(("v2", V2), ("v1", V1)))

    first = rotating.rotate_master_key(batch_size=2, max_batches=1)  # stopped after one batch
    assert (first.rewrapped, first.remaining) == (2, {"v1": 3})
    rest = rotating.rotate_master_key(batch_size=2)  # the rerun goes on from what is left
    assert (rest.rewrapped, rest.remaining) == (3, {})
    again = rotating.rotate_master_key(batch_size=2)
    assert (again.current, again.rewrapped, again.remaining) == ("v2", 0, {})

    assert {r.key_id for r in backup(engine)} == {"v2"}
    only_v2 = make_handlers(keys(("v2", V2)))
    assert {rid: only_v2.data_key(COORDINATOR, rid, "check") for rid in originals} == originals
    with engine.connect() as c:
        batches = [r.detail for r in c.execute(sa.select(audit_log)
                                               .where(audit_log.c.action == "master_key.rewrapped"))]
    assert batches == ["to=v2; from=v1; count=2", "to=v2; from=v1; count=2", "to=v2; from=v1; count=1"]
    assert only_v2.verify_audit(COORDINATOR).intact


def test_retirement_is_refused_while_a_live_key_uses_the_version(make_handlers, engine):
    old = make_handlers(keys(("v1", V1)))
    for i in range(3):
        open_case(old, f"r{i}")
    rotating = make_handlers(keys(("v2", V2), ("v1", V1)))
    rotating.rotate_master_key(batch_size=1, max_batches=1)

    with pytest.raises(FailedPrecondition) as refused:
        rotating.retire_master_key("v1")
    assert "2 live data keys" in refused.value.message
    with pytest.raises(FailedPrecondition):
        rotating.retire_master_key("v2")  # the current one
    with pytest.raises(NotFound):
        rotating.retire_master_key("v7")  # never used
    with engine.connect() as c:
        assert c.execute(sa.select(master_keys.c.retired_at).where(master_keys.c.key_id == "v1")).scalar() is None

    rotating.rotate_master_key()
    done = rotating.retire_master_key("v1")
    assert done.still_held == [] and done.final_before == NOW
    assert rotating.retire_master_key("v1").key_id == "v1"  # a repeat changes nothing
    with engine.connect() as c:
        retirements = c.execute(sa.select(sa.func.count()).select_from(audit_log)
                                .where(audit_log.c.action == "master_key.retired")).scalar()
    assert retirements == 1


def test_a_replica_still_wrapping_with_a_retired_version_is_refused(make_handlers, engine):
    stale = make_handlers(keys(("v1", V1)))  # a pod not yet restarted with the new Secret
    open_case(stale, "r0")
    rotating = make_handlers(keys(("v2", V2), ("v1", V1)))
    rotating.rotate_master_key()
    rotating.retire_master_key("v1")
    with pytest.raises(Unavailable):
        open_case(stale, "r1")
    with engine.connect() as c:  # nothing of the refused case was kept
        assert c.execute(sa.select(cases.c.request_id)).scalars().all() == ["r0"]
    with pytest.raises(Unavailable):  # r0 is under v2 now, which the stale pod does not hold
        stale.data_key(person(), "r0", "view")
    assert len(rotating.data_key(person(), "r0", "view")) == 32


def test_a_missing_or_wrong_version_stops_the_start_naming_the_setting_not_the_key(make_handlers, clock):
    open_case(make_handlers(keys(("v1", V1))), "r0")

    with pytest.raises(SettingsError) as missing:
        make_handlers(keys(("v2", V2)))
    assert "OT_CONSENT_MASTER_KEYS" in str(missing.value) and "'v1'" in str(missing.value)
    with pytest.raises(SettingsError) as wrong:
        make_handlers(keys(("v1", new_key())))
    assert "'v1' does not open" in str(wrong.value)
    for error in (missing, wrong):
        for material in (V1, V2):
            assert base64.b64encode(material).decode() not in str(error.value)

    clock.advance(days=30)
    rotating = make_handlers(keys(("v2", V2), ("v1", V1)))
    rotating.rotate_master_key()
    with pytest.raises(SettingsError, match="'v2' replaced it"):
        make_handlers(keys(("v1", V1), ("v2", V2)))  # the old version put first again
    rotating.retire_master_key("v1")
    with pytest.raises(SettingsError, match="retired version 'v1'"):
        make_handlers(keys(("v1", V1), ("v2", V2)))


ENV = {"OT_TENANT": TENANT, "DATABASE_URL": "sqlite://", "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9",
       "AUTH_JWT_ISSUER": "https://idp.example.invalid", "AUTH_JWT_AUDIENCE": "ot",
       "AUTH_JWKS_URL": "https://idp.example.invalid/certs"}
B1, B2 = base64.b64encode(V1).decode(), base64.b64encode(V2).decode()
SHORT = base64.b64encode(b"x" * 16).decode()


@pytest.mark.parametrize("env, message", [
    ({}, "OT_CONSENT_MASTER_KEYS is not set"),
    ({"OT_CONSENT_MASTER_KEYS": f"v2:{B2}", "OT_CONSENT_MASTER_KEY": B1}, "not both"),
    ({"OT_CONSENT_MASTER_KEYS": B1}, "OT_CONSENT_MASTER_KEYS entry 1 is not <version>:<base64>"),
    ({"OT_CONSENT_MASTER_KEYS": f"{B1}:v1"}, "OT_CONSENT_MASTER_KEYS entry 1 is not <version>:<base64>"),
    ({"OT_CONSENT_MASTER_KEYS": f"v2:{B2},v1:not-base64!"}, "OT_CONSENT_MASTER_KEYS version 'v1' is not base64"),
    ({"OT_CONSENT_MASTER_KEYS": f"v2:{SHORT}"}, "version 'v2' must decode to 32 bytes, got 16"),
    ({"OT_CONSENT_MASTER_KEYS": f"v2:{B2},v2:{B1}"}, "names version 'v2' twice"),
    ({"OT_CONSENT_MASTER_KEYS": f"v2:{B1},v1:{B1}"}, "versions 'v2' and 'v1' hold the same key"),
    ({"OT_CONSENT_MASTER_KEY": SHORT}, "OT_CONSENT_MASTER_KEY must decode to 32 bytes"),
    ({"OT_CONSENT_MASTER_KEYS": f"v1:{B1}"}, "OT_CONSENT_AUDIT_KEY is not set"),
    ({"OT_CONSENT_MASTER_KEYS": f"v1:{B1}", "OT_CONSENT_AUDIT_KEY": "no pe"}, "OT_CONSENT_AUDIT_KEY is not base64"),
    ({"OT_CONSENT_MASTER_KEYS": f"v1:{B1}", "OT_CONSENT_AUDIT_KEY": B2, "OT_CONSENT_AUDIT_UNKEYED_UNTIL": "-1"},
     "OT_CONSENT_AUDIT_UNKEYED_UNTIL must be a whole number"),
])
def test_bad_key_settings_stop_the_start_with_a_message_that_holds_no_key(env, message):
    from ot_consent.bootstrap import build_handlers
    with pytest.raises(SettingsError) as err:
        build_handlers(load_settings("consent", {**ENV, **env}))
    assert message in str(err.value)
    for material in (B1, B2, SHORT):
        assert material not in str(err.value)


def test_the_settings_give_the_versions_in_order_and_the_single_key_is_v1():
    from ot_consent.bootstrap import master_keys
    many = master_keys(load_settings("consent", {**ENV, "OT_CONSENT_MASTER_KEYS": f" v2:{B2} , v1:{B1} "}))
    assert (many.current, list(many.keys), many.keys["v1"]) == ("v2", ["v2", "v1"], V1)
    one = master_keys(load_settings("consent", {**ENV, "OT_CONSENT_MASTER_KEY": B1}))
    assert (one.current, dict(one.keys), one.source) == ("v1", {"v1": V1}, "OT_CONSENT_MASTER_KEY")
    assert B1 not in repr(many) and "v2" in repr(many)
    assert parse_master_keys(f"2026-05:{B2}").current == "2026-05"
