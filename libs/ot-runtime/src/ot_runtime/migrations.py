"""Alembic, driven from code: each service keeps its migrations inside its package and runs them
with `ot-<service> migrate` (locally in `make run`, in a cluster as a Helm hook Job)."""
from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command, context
from alembic.config import Config

from .db import create_engine


def alembic_config(script_location: Path, database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    cfg.attributes["database_url"] = database_url
    return cfg


def upgrade(script_location: Path, database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(script_location, database_url), revision)


def run_env(target_metadata: sa.MetaData) -> None:
    """The body of every service's migrations/env.py."""
    url = context.config.attributes["database_url"]
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            # render_as_batch lets ALTERs work on SQLite too.
            context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


def schema_differences(script_location: Path, metadata: sa.MetaData, database_url: str) -> list:
    """Upgrade a database to head and list how its schema differs from `metadata` (Alembic's
    autogenerate comparison; [] when the migrations build exactly the tables the code uses)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    upgrade(script_location, database_url)
    engine = create_engine(database_url)
    try:
        with engine.connect() as c:
            return compare_metadata(MigrationContext.configure(c), metadata)
    finally:
        engine.dispose()
