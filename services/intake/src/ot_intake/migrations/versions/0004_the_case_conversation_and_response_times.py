"""the case conversation (entries), awaiting information, response times, booking time, meeting location

Revision ID: 0004
Revises: 0003
Create Date: 2027-01-11 09:00:00.000000
"""
import os
from datetime import timezone

import sqlalchemy as sa
from alembic import op

import ot_runtime.db
from ot_runtime.workdays import add_working_days


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('entries',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('request_id', sa.String(length=36), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('author_subject', sa.String(length=200), nullable=False),
    sa.Column('author_role', sa.String(length=30), nullable=False),
    sa.Column('author_name', sa.String(length=200), nullable=False),
    sa.Column('sealed_text', sa.LargeBinary(), nullable=True),
    sa.Column('expert_ids', sa.JSON(), nullable=False),
    sa.Column('created_at', ot_runtime.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('idempotency_key', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['request_id'], ['requests.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('request_id', 'sequence', name='uq_entries_request_sequence'),
    sa.UniqueConstraint('request_id', 'author_subject', 'idempotency_key', name='uq_entries_author_idempotency')
    )
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.create_index('ix_entries_author', ['author_subject'], unique=False)

    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('location', sa.String(length=500), server_default='', nullable=False))

    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('booked_at', ot_runtime.db.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('response_due_at', ot_runtime.db.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('first_response_at', ot_runtime.db.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('answered_at', ot_runtime.db.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('status_before_pause', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('paused_at', ot_runtime.db.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('paused_working_days', sa.Integer(), server_default='0', nullable=False))

    # Earlier requests: the due time from their submission and the area's target (the setting of
    # the migrating process, default 5); the answer time of those already returned or closed is
    # their last change (the best record there is). They had no conversation, so no first response.
    target = int(os.environ.get('OT_RESPONSE_TARGET_WORKING_DAYS', '').strip() or 5)
    requests = sa.table('requests', sa.column('id', sa.String), sa.column('status', sa.String),
                        sa.column('submitted_at', ot_runtime.db.UtcDateTime(timezone=True)),
                        sa.column('updated_at', ot_runtime.db.UtcDateTime(timezone=True)),
                        sa.column('response_due_at', ot_runtime.db.UtcDateTime(timezone=True)),
                        sa.column('answered_at', ot_runtime.db.UtcDateTime(timezone=True)))
    connection = op.get_bind()
    for row in connection.execute(sa.select(requests.c.id, requests.c.status, requests.c.submitted_at,
                                            requests.c.updated_at)).all():
        values = {'response_due_at': add_working_days(row.submitted_at, target).astimezone(timezone.utc)}
        if row.status in ('recommendations_returned', 'closed'):
            values['answered_at'] = row.updated_at
        connection.execute(requests.update().where(requests.c.id == row.id).values(**values))

    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.alter_column('response_due_at', existing_type=ot_runtime.db.UtcDateTime(timezone=True),
                              nullable=False)
        batch_op.create_index('ix_requests_tenant_due', ['tenant', 'response_due_at', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.drop_index('ix_requests_tenant_due')
        batch_op.drop_column('paused_working_days')
        batch_op.drop_column('paused_at')
        batch_op.drop_column('status_before_pause')
        batch_op.drop_column('answered_at')
        batch_op.drop_column('first_response_at')
        batch_op.drop_column('response_due_at')
        batch_op.drop_column('booked_at')
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.drop_column('location')
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.drop_index('ix_entries_author')
    op.drop_table('entries')
