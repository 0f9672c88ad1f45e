"""the list's indexes: by status and by professional in submission order, and by waiting

Revision ID: 0005
Revises: 0004
Create Date: 2027-02-01 09:00:00.000000
"""
import sqlalchemy as sa
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A page filtered by status, or a professional's own requests, reads about a page of index
    # entries in the list's order instead of every request of the area (see store.requests).
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.drop_index('ix_requests_tenant_status')
        batch_op.create_index('ix_requests_tenant_status_submitted', ['tenant', 'status', 'submitted_at', 'id'],
                              unique=False)
        batch_op.create_index('ix_requests_tenant_owner_submitted', ['tenant', 'owner_subject', 'submitted_at', 'id'],
                              unique=False)
    # The "longest waiting first" order's expression, exactly as store.WAITING_RANK writes it.
    op.create_index('ix_requests_tenant_waiting', 'requests', [
        'tenant', sa.text("(CASE WHEN (answered_at IS NOT NULL OR status = 'withdrawn') THEN 2 "
                          "WHEN (status = 'awaiting_information') THEN 1 ELSE 0 END)"),
        'response_due_at', 'id'])


def downgrade() -> None:
    op.drop_index('ix_requests_tenant_waiting', table_name='requests')
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.drop_index('ix_requests_tenant_owner_submitted')
        batch_op.drop_index('ix_requests_tenant_status_submitted')
        batch_op.create_index('ix_requests_tenant_status', ['tenant', 'status'], unique=False)
