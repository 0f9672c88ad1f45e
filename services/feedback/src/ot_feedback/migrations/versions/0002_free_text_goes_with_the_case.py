"""requests whose case content is shredded: their answers' free text and what-next are not kept

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 10:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

import ot_runtime.db


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('shredded_requests',
    sa.Column('request_id', sa.String(length=36), nullable=False),
    sa.Column('tenant', sa.String(length=40), nullable=False),
    sa.Column('shredded_at', ot_runtime.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('request_id')
    )


def downgrade() -> None:
    op.drop_table('shredded_requests')
