import sqlalchemy as sa

from ot_consent.domain import ConsentForm, RequestType
from ot_consent.store import audit_head, audit_log

from consent_testkit import COORDINATOR, TENANT, person


def fill(handlers, n=5):
    handlers.open_case(person(), "r1", RequestType.OT_TUKI, ConsentForm.NOT_NEEDED, None, False, [])
    for i in range(n - 1):
        handlers.data_key(COORDINATOR, "r1", f"read {i}")


def test_an_untouched_chain_verifies(handlers):
    fill(handlers)
    result = handlers.verify_audit(COORDINATOR)
    assert result.intact and result.checked == 5


def test_a_changed_entry_is_found(handlers, engine):
    fill(handlers)
    with engine.begin() as c:
        c.execute(audit_log.update().where(audit_log.c.sequence == 3).values(detail="purpose=nothing to see"))
    result = handlers.verify_audit(COORDINATOR)
    assert not result.intact and result.first_bad_sequence == 3 and "changed" in result.problem


def test_a_removed_entry_is_found(handlers, engine):
    fill(handlers)
    with engine.begin() as c:
        c.execute(audit_log.delete().where(audit_log.c.sequence == 2))
    result = handlers.verify_audit(COORDINATOR)
    assert not result.intact and result.first_bad_sequence == 2 and "missing" in result.problem


def test_a_removed_tail_is_found(handlers, engine):
    fill(handlers)
    with engine.begin() as c:
        c.execute(audit_log.delete().where(audit_log.c.sequence >= 4))
    result = handlers.verify_audit(COORDINATOR)
    assert not result.intact and result.first_bad_sequence == 4


def test_a_rewritten_entry_with_a_recomputed_hash_breaks_the_next_link(handlers, engine):
    from ot_consent.audit import entry_hash
    fill(handlers)
    with engine.begin() as c:
        row = c.execute(sa.select(audit_log).where(audit_log.c.sequence == 2)).mappings().one()
        forged = entry_hash(row["prev_hash"], 2, row["at"], row["actor"], row["roles"], TENANT, row["action"],
                            row["request_id"], "purpose=forged")
        c.execute(audit_log.update().where(audit_log.c.sequence == 2).values(detail="purpose=forged", hash=forged))
    result = handlers.verify_audit(COORDINATOR)
    assert not result.intact and result.first_bad_sequence == 3


def test_query_pages_through_the_trail(handlers):
    fill(handlers, 7)
    first, after = handlers.query_audit(COORDINATOR, "r1", "", None, None, 4, 0)
    rest, after2 = handlers.query_audit(COORDINATOR, "r1", "", None, None, 4, after)
    assert [r["sequence"] for r in first + rest] == list(range(1, 8)) and after2 == 0


def test_one_users_entries_can_be_exported(handlers):
    fill(handlers, 4)  # opened by prof-1, then three reads by the coordinator
    mine, _ = handlers.query_audit(COORDINATOR, "", "", None, None, 100, 0, actor="prof-1")
    assert [r["action"] for r in mine] == ["case.opened"]
