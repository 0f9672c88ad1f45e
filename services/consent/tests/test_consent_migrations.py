"""The migrations build exactly the tables the code uses, and a trail written before audit_pending
existed (0005) goes on after the upgrade in the same chain."""
import sqlalchemy as sa

from ot_runtime.crypto import MasterKeys, new_key
from ot_runtime.db import create_engine, session_factory
from ot_runtime.migrations import schema_differences, upgrade
from ot_runtime.outbox import Outbox
from ot_consent.audit import GENESIS, entry_mac
from ot_consent.handlers import ConsentHandlers
from ot_consent.main import MIGRATIONS
from ot_consent.store import audit_log, metadata, outbox

from consent_testkit import COORDINATOR, TENANT


def test_the_migrations_make_the_schema_of_the_code(tmp_path):
    differences = schema_differences(MIGRATIONS, metadata, f"sqlite:///{tmp_path}/consent.db")
    assert differences == []


def test_a_trail_from_before_the_pending_entries_goes_on_after_the_upgrade(tmp_path, clock):
    url = f"sqlite:///{tmp_path}/consent.db"
    upgrade(MIGRATIONS, url, "0005")
    engine = create_engine(url)
    audit_key = new_key()
    try:
        with engine.begin() as c:  # one entry as the previous release wrote it: straight into audit_log
            mac = entry_mac(audit_key, GENESIS, 1, clock.now(), "coord-1", "coordinator", TENANT, "policy.changed",
                            "", "type=OT_TUKI")
            c.execute(audit_log.insert().values(tenant=TENANT, sequence=1, at=clock.now(), actor="coord-1",
                                                roles="coordinator", action="policy.changed", request_id="",
                                                detail="type=OT_TUKI", prev_hash=GENESIS, hash=mac))
            c.execute(sa.text("INSERT INTO audit_head (tenant, last_sequence, last_hash) VALUES (:t, 1, :m)"),
                      {"t": TENANT, "m": mac})
        upgrade(MIGRATIONS, url)
        handlers = ConsentHandlers(sessions=session_factory(engine),
                                   outbox=Outbox(outbox, source=f"/ot/{TENANT}/consent", tenant=TENANT),
                                   tenant=TENANT, topic=f"ot.{TENANT}.consent.v1", clock=clock,
                                   master_keys=MasterKeys("v1", {"v1": new_key()}, "OT_CONSENT_MASTER_KEYS"),
                                   audit_key=audit_key)
        handlers.check_master_keys()  # appends its entry through audit_pending
        result = handlers.verify_audit(COORDINATOR)
        assert result.intact and result.checked == 2
        with engine.connect() as c:
            assert c.execute(sa.text("SELECT count(*) FROM audit_pending")).scalar() == 0
    finally:
        engine.dispose()
