"""Database engine and the two tables every service has: the outbox and the inbox.

PostgreSQL in a cluster, SQLite files on a laptop; the same SQLAlchemy code runs on both.
"""
from __future__ import annotations

import importlib
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa
from opentelemetry import metrics, trace
from opentelemetry.instrumentation.sqlalchemy import __version__ as _instrumentation_version
from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer, _handle_error
from opentelemetry.trace import Status, StatusCode
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import sessionmaker

from .telemetry import SQL_TRACER


def insert_unless_present(session, table: sa.Table, **values) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING (PostgreSQL and SQLite say it alike, through their own
    dialect's insert): True when the row was added, False when one with its key was there. On
    PostgreSQL a conflicting row another transaction has not committed yet makes this wait for
    that transaction, so of two writers exactly one gets True."""
    # The engine's own dialect module (loaded with the engine); importing both at the top would add
    # PostgreSQL's to every process on SQLite and to each serving process before it connects.
    insert = importlib.import_module(f"sqlalchemy.dialects.{session.get_bind().dialect.name}").insert
    # preserve_rowcount: SQLAlchemy keeps an INSERT's rowcount only when asked (else -1).
    statement = insert(table).values(**values).on_conflict_do_nothing().execution_options(preserve_rowcount=True)
    return session.execute(statement).rowcount == 1


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UtcDateTime(sa.types.TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores none of its own)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC times")
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


def create_engine(url: str) -> Engine:
    """`hide_parameters`: a database error's text names the statement, never the values bound to
    it, so an error logged anywhere cannot carry a name, an address or case text. The engine is
    traced (`traced`)."""
    return traced(_create_engine(url))


def traced(engine: Engine) -> Engine:
    """A CLIENT span per statement, from OpenTelemetry's maintained SQLAlchemy instrumentation.

    Its `db.statement` is the SQL as SQLAlchemy sends it, with placeholders: the values are bound
    separately and never recorded (SQL comments with trace ids stay off). A statement outside any
    call is not exported (telemetry.py). One change to the instrumentation: a failed statement's
    span names the error's type, not its message, since a driver's message can quote a value
    (PostgreSQL's `Key (email)=(...) already exists`)."""
    EngineTracer(trace.get_tracer(SQL_TRACER, _instrumentation_version), engine, _NO_USAGE_METRIC)
    event.remove(engine, "handle_error", _handle_error)
    event.listen(engine, "handle_error", _record_error)
    return engine


# The instrumentation also counts pool connections as an OpenTelemetry metric; this platform's
# metrics are Prometheus', so that counter goes nowhere.
_NO_USAGE_METRIC = metrics.NoOpMeterProvider().get_meter("ot_runtime.db").create_up_down_counter(
    "db.client.connections.usage")


def _record_error(context) -> None:
    span = getattr(context.execution_context, "_otel_span", None)
    if span is None:
        return
    span.set_status(Status(StatusCode.ERROR, type(context.original_exception).__name__))
    span.end()


def _create_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                                  hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, hide_parameters=True)


def session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(bind=engine, expire_on_commit=False)


def outbox_table(metadata: sa.MetaData) -> sa.Table:
    """Events waiting to be published, written in the same transaction as the state change.

    A row is pending while `published_at` and `failed_at` are both empty. `attempts` and
    `last_error` count the broker's refusals of that row (never connection trouble); after the
    relay's bound the row gets `failed_at` and is passed over. Also adds the relay's lease row
    table (`outbox_lease`) to `metadata`: every service with an outbox has one relay lease."""
    outbox_lease_table(metadata)
    return sa.Table(
        "outbox", metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("record_key", sa.String(100), nullable=False),
        sa.Column("ce_type", sa.String(200), nullable=False),
        sa.Column("ce_subject", sa.String(100), nullable=False),
        sa.Column("ce_time", UtcDateTime(), nullable=False),
        sa.Column("dataschema", sa.String(200), nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("traceparent", sa.String(100), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("published_at", UtcDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, default=0, server_default="0"),
        sa.Column("last_error", sa.String(300), nullable=True),
        sa.Column("failed_at", UtcDateTime(), nullable=True),
        sa.Index("ix_outbox_unpublished", "published_at", "id"),
    )


def outbox_lease_table(metadata: sa.MetaData) -> sa.Table:
    """One row: which relay replica may publish now, and until when (see ot_runtime.outbox)."""
    if "outbox_lease" in metadata.tables:
        return metadata.tables["outbox_lease"]
    return sa.Table(
        "outbox_lease", metadata,
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("holder", sa.String(100), nullable=True),
        sa.Column("expires_at", UtcDateTime(), nullable=True),
    )


def inbox_table(metadata: sa.MetaData) -> sa.Table:
    """Ids of events already processed, so a redelivered event changes nothing."""
    return sa.Table(
        "inbox", metadata,
        sa.Column("consumer", sa.String(100), primary_key=True),
        sa.Column("event_id", sa.String(100), primary_key=True),
        sa.Column("ce_type", sa.String(200), nullable=False),
        sa.Column("processed_at", UtcDateTime(), nullable=False),
    )
