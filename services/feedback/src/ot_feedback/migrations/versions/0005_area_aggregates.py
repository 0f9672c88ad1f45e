"""area_aggregates: the other areas' monthly counts, imported by the coordinating area

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 00:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

import ot_runtime.db


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('area_aggregates',
    sa.Column('area', sa.String(length=40), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('tenant', sa.String(length=40), nullable=False),
    sa.Column('generated_at', ot_runtime.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('imported_at', ot_runtime.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('area', 'month')
    )


def downgrade() -> None:
    op.drop_table('area_aggregates')
