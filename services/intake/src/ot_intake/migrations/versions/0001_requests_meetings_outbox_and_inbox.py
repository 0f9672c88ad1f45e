"""requests, meetings, outbox and inbox

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 13:31:22.148689
"""
import sqlalchemy as sa
from alembic import op

import ot_runtime.db


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('inbox',
    sa.Column('consumer', sa.String(length=100), nullable=False),
    sa.Column('event_id', sa.String(length=100), nullable=False),
    sa.Column('ce_type', sa.String(length=200), nullable=False),
    sa.Column('processed_at', ot_runtime.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('consumer', 'event_id')
    )
    op.create_table('meetings',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant', sa.String(length=40), nullable=False),
    sa.Column('group_id', sa.String(length=64), nullable=False),
    sa.Column('starts_at', ot_runtime.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('booked', sa.Integer(), nullable=False),
    sa.Column('booking_lead_days', sa.Integer(), nullable=False),
    sa.CheckConstraint('booked >= 0 AND booked <= capacity', name='ck_meetings_booked_within_capacity'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.create_index('ix_meetings_group_start', ['tenant', 'group_id', 'starts_at'], unique=False)

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

    op.create_table('requests',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant', sa.String(length=40), nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=40), nullable=False),
    sa.Column('owner_subject', sa.String(length=200), nullable=False),
    sa.Column('prof_name', sa.String(length=200), nullable=False),
    sa.Column('prof_phone', sa.String(length=50), nullable=False),
    sa.Column('prof_email', sa.String(length=200), nullable=False),
    sa.Column('profession', sa.String(length=200), nullable=False),
    sa.Column('organisation', sa.String(length=200), nullable=False),
    sa.Column('sector', sa.String(length=20), nullable=False),
    sa.Column('client', sa.JSON(), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('discussed_in_own_team', sa.Boolean(), nullable=False),
    sa.Column('consent_need', sa.String(length=40), nullable=False),
    sa.Column('consent_given_by', sa.String(length=40), nullable=True),
    sa.Column('consent_child_capacity_assessed', sa.Boolean(), nullable=False),
    sa.Column('anonymous', sa.Boolean(), nullable=False),
    sa.Column('submitted_at', ot_runtime.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', ot_runtime.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('screening_score', sa.Integer(), nullable=False),
    sa.Column('triage_note', sa.Text(), server_default='', nullable=False),
    sa.Column('meeting_id', sa.String(length=36), nullable=True),
    sa.Column('expert_ids', sa.JSON(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('owner_subject', 'idempotency_key', name='uq_requests_owner_idempotency')
    )
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.create_index('ix_requests_tenant_status', ['tenant', 'status'], unique=False)
        batch_op.create_index('ix_requests_tenant_submitted', ['tenant', 'submitted_at', 'id'], unique=False)

    op.create_table('request_categories',
    sa.Column('request_id', sa.String(length=36), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['requests.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('request_id', 'category')
    )
    with op.batch_alter_table('request_categories', schema=None) as batch_op:
        batch_op.create_index('ix_request_categories_category', ['category'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('request_categories', schema=None) as batch_op:
        batch_op.drop_index('ix_request_categories_category')

    op.drop_table('request_categories')
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.drop_index('ix_requests_tenant_submitted')
        batch_op.drop_index('ix_requests_tenant_status')

    op.drop_table('requests')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_unpublished')

    op.drop_table('outbox')
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.drop_index('ix_meetings_group_start')

    op.drop_table('meetings')
    op.drop_table('inbox')
