"""catalogue, overlays, agreements, service map, requests, proposals, assignments, outbox and inbox

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 13:39:21.116977
"""
import sqlalchemy as sa
from alembic import op

import ot_runtime.db


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('agreements',
    sa.Column('area', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('signed', sa.String(length=100), nullable=False),
    sa.Column('expert_ids', sa.JSON(), nullable=False),
    sa.Column('note_fi', sa.Text(), nullable=False),
    sa.Column('note_en', sa.Text(), nullable=False),
    sa.Column('dataset_version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('area')
    )
    op.create_table('case_requests',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant', sa.String(length=40), nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('categories', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=40), nullable=False),
    sa.Column('traceparent', sa.String(length=100), nullable=True),
    sa.Column('updated_at', ot_runtime.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('datasets',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('loaded_at', ot_runtime.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('experts',
    sa.Column('id', sa.String(length=80), nullable=False),
    sa.Column('origin', sa.String(length=20), nullable=False),
    sa.Column('origin_area', sa.String(length=40), server_default='', nullable=False),
    sa.Column('dataset_version', sa.Integer(), server_default='0', nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('name_fi', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('organisation', sa.String(length=200), nullable=False),
    sa.Column('description_fi', sa.Text(), nullable=False),
    sa.Column('description_en', sa.Text(), nullable=False),
    sa.Column('categories', sa.JSON(), nullable=False),
    sa.Column('competences', sa.JSON(), nullable=False),
    sa.Column('cost', sa.String(length=10), nullable=False),
    sa.Column('price_note', sa.Text(), nullable=False),
    sa.Column('languages', sa.JSON(), nullable=False),
    sa.Column('modalities', sa.JSON(), nullable=False),
    sa.Column('network_status', sa.String(length=30), nullable=False),
    sa.Column('contact_name', sa.String(length=200), nullable=False),
    sa.Column('contact_role', sa.String(length=200), nullable=False),
    sa.Column('contact_email', sa.String(length=200), nullable=False),
    sa.Column('user_subject', sa.String(length=200), server_default='', nullable=False),
    sa.Column('updated_at', ot_runtime.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('experts', schema=None) as batch_op:
        batch_op.create_index('ix_experts_user_subject', ['user_subject'], unique=False)

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

    op.create_table('service_groups',
    sa.Column('id', sa.String(length=80), nullable=False),
    sa.Column('area', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('name_fi', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('meeting_rhythm_fi', sa.Text(), nullable=False),
    sa.Column('meeting_rhythm_en', sa.Text(), nullable=False),
    sa.Column('booking_lead_days', sa.Integer(), nullable=False),
    sa.Column('member_fields', sa.JSON(), nullable=False),
    sa.Column('client_may_attend', sa.Boolean(), nullable=False),
    sa.Column('contact_role', sa.String(length=200), nullable=False),
    sa.Column('location', sa.String(length=100), nullable=False),
    sa.Column('dataset_version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('service_groups', schema=None) as batch_op:
        batch_op.create_index('ix_groups_area', ['area', 'kind'], unique=False)

    op.create_table('assignments',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant', sa.String(length=40), nullable=False),
    sa.Column('request_id', sa.String(length=36), nullable=False),
    sa.Column('expert_id', sa.String(length=80), nullable=False),
    sa.Column('assigned_by', sa.String(length=200), nullable=False),
    sa.Column('assigned_at', ot_runtime.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('cost_approved', sa.Boolean(), nullable=False),
    sa.Column('unassigned_at', ot_runtime.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('unassigned_by', sa.String(length=200), nullable=True),
    sa.Column('unassign_reason', sa.Text(), server_default='', nullable=False),
    sa.ForeignKeyConstraint(['expert_id'], ['experts.id'], ),
    sa.ForeignKeyConstraint(['request_id'], ['case_requests.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.create_index('ix_assignments_expert', ['tenant', 'expert_id', 'unassigned_at'], unique=False)
        batch_op.create_index('ix_assignments_request', ['tenant', 'request_id'], unique=False)

    op.create_table('expert_overlays',
    sa.Column('tenant', sa.String(length=40), nullable=False),
    sa.Column('expert_id', sa.String(length=80), nullable=False),
    sa.Column('availability', sa.String(length=20), nullable=False),
    sa.Column('local_note', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('retired_at', ot_runtime.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('updated_by', sa.String(length=200), nullable=False),
    sa.Column('updated_at', ot_runtime.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['expert_id'], ['experts.id'], ),
    sa.PrimaryKeyConstraint('tenant', 'expert_id')
    )
    op.create_table('proposal_sets',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant', sa.String(length=40), nullable=False),
    sa.Column('request_id', sa.String(length=36), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('trigger', sa.String(length=20), nullable=False),
    sa.Column('source_event_id', sa.String(length=100), nullable=False),
    sa.Column('computed_at', ot_runtime.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('dropped_at', ot_runtime.db.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['request_id'], ['case_requests.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('request_id', 'revision', name='uq_proposal_sets_request_revision')
    )
    op.create_table('proposals',
    sa.Column('set_id', sa.String(length=36), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('expert_id', sa.String(length=80), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['set_id'], ['proposal_sets.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('set_id', 'rank')
    )


def downgrade() -> None:
    op.drop_table('proposals')
    op.drop_table('proposal_sets')
    op.drop_table('expert_overlays')
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_assignments_request')
        batch_op.drop_index('ix_assignments_expert')

    op.drop_table('assignments')
    with op.batch_alter_table('service_groups', schema=None) as batch_op:
        batch_op.drop_index('ix_groups_area')

    op.drop_table('service_groups')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_unpublished')

    op.drop_table('outbox')
    op.drop_table('inbox')
    with op.batch_alter_table('experts', schema=None) as batch_op:
        batch_op.drop_index('ix_experts_user_subject')

    op.drop_table('experts')
    op.drop_table('datasets')
    op.drop_table('case_requests')
    op.drop_table('agreements')
