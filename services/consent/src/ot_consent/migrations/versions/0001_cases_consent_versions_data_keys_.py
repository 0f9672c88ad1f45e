"""cases, consent versions, data keys, retention, audit, outbox, inbox

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 13:46:02.415564
"""
import sqlalchemy as sa
from alembic import op

import ot_runtime.db


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_head',
    sa.Column('tenant', sa.String(length=40), nullable=False),
    sa.Column('last_sequence', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('tenant')
    )
    op.create_table('audit_log',
    sa.Column('tenant', sa.String(length=40), nullable=False),
    sa.Column('sequence', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('at', ot_runtime.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('roles', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('request_id', sa.String(length=36), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('tenant', 'sequence')
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_request', ['tenant', 'request_id'], unique=False)

    op.create_table('cases',
    sa.Column('request_id', sa.String(length=36), nullable=False),
    sa.Column('tenant', sa.String(length=40), nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('owner_subject', sa.String(length=200), nullable=False),
    sa.Column('opened_at', ot_runtime.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('recommendations_returned_at', ot_runtime.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('ended_at', ot_runtime.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('content_erased_at', ot_runtime.db.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('request_id')
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_erasure', ['tenant', 'content_erased_at'], unique=False)

    op.create_table('inbox',
    sa.Column('consumer', sa.String(length=100), nullable=False),
    sa.Column('event_id', sa.String(length=100), nullable=False),
    sa.Column('ce_type', sa.String(length=200), nullable=False),
    sa.Column('processed_at', ot_runtime.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('consumer', 'event_id')
    )
    op.create_table('outbox',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('topic', sa.String(length=200), nullable=False),
    sa.Column('record_key', sa.String(length=100), nullable=False),
    sa.Column('ce_type', sa.String(length=200), nullable=False),
    sa.Column('ce_subject', sa.String(length=100), nullable=False),
    sa.Column('ce_time', ot_runtime.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('dataschema', sa.String(length=200), nullable=False),
    sa.Column('payload', sa.LargeBinary(), nullable=False),
    sa.Column('traceparent', sa.String(length=100), nullable=True),
    sa.Column('created_at', ot_runtime.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('published_at', ot_runtime.db.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('event_id')
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_unpublished', ['published_at', 'id'], unique=False)

    op.create_table('retention_policies',
    sa.Column('tenant', sa.String(length=40), nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('grace_days_after_recommendations', sa.Integer(), nullable=False),
    sa.Column('max_days_after_submission', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('tenant', 'type')
    )
    op.create_table('consent_versions',
    sa.Column('request_id', sa.String(length=36), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('form', sa.String(length=40), nullable=False),
    sa.Column('given_by', sa.String(length=40), nullable=True),
    sa.Column('child_capacity_assessed', sa.Boolean(), nullable=False),
    sa.Column('scope', sa.JSON(), nullable=False),
    sa.Column('given_at', ot_runtime.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('withdrawn', sa.Boolean(), nullable=False),
    sa.Column('recorded_at', ot_runtime.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('recorded_by', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['cases.request_id'], ),
    sa.PrimaryKeyConstraint('request_id', 'version')
    )
    op.create_table('data_keys',
    sa.Column('request_id', sa.String(length=36), nullable=False),
    sa.Column('wrapped_key', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', ot_runtime.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('shredded_at', ot_runtime.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('shred_reason', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['request_id'], ['cases.request_id'], ),
    sa.PrimaryKeyConstraint('request_id')
    )


def downgrade() -> None:
    op.drop_table('data_keys')
    op.drop_table('consent_versions')
    op.drop_table('retention_policies')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_unpublished')

    op.drop_table('outbox')
    op.drop_table('inbox')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_erasure')

    op.drop_table('cases')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_request')

    op.drop_table('audit_log')
    op.drop_table('audit_head')
