"""the sign-in sessions

Revision ID: 0001
Revises:
Create Date: 2026-11-30 19:00:00
"""
import sqlalchemy as sa
from alembic import op

import ot_runtime.db


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('portal_sessions',
    sa.Column('id_hash', sa.String(length=64), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', ot_runtime.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', ot_runtime.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id_hash')
    )
    with op.batch_alter_table('portal_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_portal_sessions_expires_at', ['expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('portal_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_portal_sessions_expires_at')
    op.drop_table('portal_sessions')
