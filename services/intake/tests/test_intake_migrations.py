"""The migrations build exactly the tables the code uses, and the conversation's migration gives
the requests already stored a due time (and an answer time to those already answered)."""
import re
from datetime import datetime, timezone

import sqlalchemy as sa

from ot_runtime.db import create_engine
from ot_runtime.migrations import schema_differences, upgrade
from ot_intake.main import MIGRATIONS
from ot_intake.store import metadata

UTC = timezone.utc


def test_the_migrations_make_the_schema_of_the_code(tmp_path):
    differences = schema_differences(MIGRATIONS, metadata, f"sqlite:///{tmp_path}/intake.db")
    assert differences == []


def test_the_waiting_order_index_of_the_migrations_is_the_expression_the_list_orders_by(tmp_path):
    # Alembic does not compare expression indexes, so the test above cannot see a change to
    # store.WAITING_RANK that migration 0005's text does not follow (the list would then sort
    # every request again instead of reading the index in order).
    def index_sql(engine) -> str:
        with engine.connect() as c:
            sql = c.execute(sa.text("SELECT sql FROM sqlite_master WHERE name = 'ix_requests_tenant_waiting'")).scalar()
        engine.dispose()
        assert sql, "no ix_requests_tenant_waiting index"
        return re.sub(r"\((CASE .*? END)\)", r"\1", " ".join(sql.split()))  # the migration's text is parenthesised
    from_code = create_engine(f"sqlite:///{tmp_path}/code.db")
    metadata.create_all(from_code)
    upgrade(MIGRATIONS, f"sqlite:///{tmp_path}/migrated.db")
    assert index_sql(create_engine(f"sqlite:///{tmp_path}/migrated.db")) == index_sql(from_code)


def test_requests_stored_before_the_conversation_get_their_response_times(tmp_path):
    url = f"sqlite:///{tmp_path}/intake.db"
    upgrade(MIGRATIONS, url, "0003")
    engine = create_engine(url)
    monday = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    row = dict(tenant="pohjois-savo", type="ot_tuki", owner_subject="p", prof_name="", prof_phone="", prof_email="",
               profession="x", organisation="y", sector="social", client={}, discussed_in_own_team=True,
               consent_need="not_needed", consent_child_capacity_assessed=False, anonymous=False,
               submitted_at=monday, screening_score=3, expert_ids=[])
    requests = sa.Table("requests", sa.MetaData(), autoload_with=engine)
    with engine.begin() as c:
        c.execute(requests.insert(), [
            {**row, "id": "a", "status": "triaged", "updated_at": monday},
            {**row, "id": "b", "status": "closed", "updated_at": datetime(2026, 3, 20, 9, 0, tzinfo=UTC)}])
    engine.dispose()
    upgrade(MIGRATIONS, url)
    engine = create_engine(url)
    try:
        with engine.connect() as c:
            got = {r.id: r for r in c.execute(sa.text(
                "SELECT id, response_due_at, answered_at, paused_working_days FROM requests"))}
    finally:
        engine.dispose()
    assert got["a"].response_due_at.startswith("2026-03-09 21:59:59")  # five working days, as UTC
    assert got["a"].answered_at is None and got["a"].paused_working_days == 0
    assert got["b"].answered_at.startswith("2026-03-20 09:00")
