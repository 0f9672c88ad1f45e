"""The migrations build exactly the tables the code uses (store.metadata), and go back down."""
from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from ot_runtime.migrations import alembic_config, upgrade
from ot_feedback.main import MIGRATIONS
from ot_feedback.store import metadata


def test_the_migrated_schema_is_the_codes_schema_and_downgrades(tmp_path):
    url = f"sqlite:///{tmp_path}/migrated.db"
    upgrade(MIGRATIONS, url)
    engine = sa.create_engine(url)
    try:
        with engine.connect() as c:
            differences = compare_metadata(MigrationContext.configure(c), metadata)
        assert differences == []
        command.downgrade(alembic_config(MIGRATIONS, url), "0003")
        with engine.connect() as c:
            assert "notifications" not in sa.inspect(c).get_table_names()
            assert "booking_meeting_id" not in {col["name"] for col in sa.inspect(c).get_columns("request_facts")}
    finally:
        engine.dispose()
