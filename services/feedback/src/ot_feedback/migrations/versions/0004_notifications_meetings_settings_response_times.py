"""notifications (the mail outbox), meetings, assigned experts, notification settings; response
times and the followed booking on request facts

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 09:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

import ot_runtime.db


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('notifications',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant', sa.String(length=40), nullable=False),
    sa.Column('event_id', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('recipient', sa.String(length=20), nullable=False),
    sa.Column('recipient_key', sa.String(length=64), server_default='', nullable=False),
    sa.Column('request_id', sa.String(length=36), nullable=True),
    sa.Column('request_type', sa.String(length=40), nullable=True),
    sa.Column('meeting_id', sa.String(length=36), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('due_at', ot_runtime.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('not_after', ot_runtime.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('claimed_at', ot_runtime.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('claimed_by', sa.String(length=100), nullable=True),
    sa.Column('sent_at', ot_runtime.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('message_id', sa.String(length=200), nullable=True),
    sa.Column('last_error', sa.String(length=100), nullable=True),
    sa.Column('created_at', ot_runtime.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('event_id', 'kind', 'recipient_key', name='uq_notifications_event_kind_recipient')
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_state_due', ['state', 'due_at'], unique=False)
        batch_op.create_index('ix_notifications_request', ['request_id'], unique=False)

    op.create_table('meetings',
    sa.Column('meeting_id', sa.String(length=36), nullable=False),
    sa.Column('tenant', sa.String(length=40), nullable=False),
    sa.Column('group_id', sa.String(length=64), nullable=False),
    sa.Column('starts_at', ot_runtime.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('booking_deadline', ot_runtime.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('location', sa.Text(), server_default='', nullable=False),
    sa.Column('updated_at', ot_runtime.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('meeting_id')
    )
    op.create_table('request_experts',
    sa.Column('request_id', sa.String(length=36), nullable=False),
    sa.Column('expert_id', sa.String(length=64), nullable=False),
    sa.Column('tenant', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('request_id', 'expert_id')
    )
    op.create_table('notification_settings',
    sa.Column('subject', sa.String(length=128), nullable=False),
    sa.Column('tenant', sa.String(length=40), nullable=False),
    sa.Column('reminders_enabled', sa.Boolean(), nullable=False),
    sa.Column('updated_at', ot_runtime.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('subject')
    )
    # batch mode: SQLite rebuilds the table, PostgreSQL simply adds the columns.
    with op.batch_alter_table('request_facts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_response_at', ot_runtime.db.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('answered_at', ot_runtime.db.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('answer_working_days', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('booking_meeting_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('booking_event_id', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('material_received_at', ot_runtime.db.UtcDateTime(timezone=True),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('request_facts', schema=None) as batch_op:
        batch_op.drop_column('material_received_at')
        batch_op.drop_column('booking_event_id')
        batch_op.drop_column('booking_meeting_id')
        batch_op.drop_column('answer_working_days')
        batch_op.drop_column('answered_at')
        batch_op.drop_column('first_response_at')
    op.drop_table('notification_settings')
    op.drop_table('request_experts')
    op.drop_table('meetings')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_request')
        batch_op.drop_index('ix_notifications_state_due')
    op.drop_table('notifications')
