"""remember withdrawn consent

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 13:52:51.026909
"""
import sqlalchemy as sa
from alembic import op

import ot_runtime.db


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('case_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('consent_withdrawn_at', ot_runtime.db.UtcDateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('case_requests', schema=None) as batch_op:
        batch_op.drop_column('consent_withdrawn_at')

