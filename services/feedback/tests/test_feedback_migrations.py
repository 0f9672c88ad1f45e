"""The migrations build exactly the tables the code uses (store.metadata), and go back down."""
from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from ot_runtime.migrations import alembic_config, schema_differences, upgrade
from ot_feedback.main import MIGRATIONS
from ot_feedback.store import metadata


def test_the_migrated_schema_is_the_codes_schema_and_downgrades(tmp_path):
    url = f"sqlite:///{tmp_path}/migrated.db"
    differences = schema_differences(MIGRATIONS, metadata, url)
    assert differences == []
    engine = sa.create_engine(url)
    try:
        command.downgrade(alembic_config(MIGRATIONS, url), "0003")
        with engine.connect() as c:
            assert "notifications" not in sa.inspect(c).get_table_names()
            assert "booking_meeting_id" not in {col["name"] for col in sa.inspect(c).get_columns("request_facts")}
    finally:
        engine.dispose()
