"""who else may read a case: the experts assigned to it (expert_assignments) and the group it is
booked into (group_bookings), learnt from experts' and intake's events

Revision ID: 0005
Revises: 0004
Create Date: 2027-01-12 09:00:00

Expand only: new tables that the previous release neither reads nor writes. They start empty:
an assignment or booking made before this release is known only from its next event, so until
then that request's experts, secretary and members are refused (nobody reads more than before;
the owner and the coordinators read as before).
"""
import sqlalchemy as sa
from alembic import op

import ot_runtime.db


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('expert_assignments',
                    sa.Column('request_id', sa.String(length=36), nullable=False),
                    sa.Column('expert_ids', sa.JSON(), nullable=False),
                    sa.Column('as_of', ot_runtime.db.UtcDateTime(timezone=True), nullable=False),
                    sa.PrimaryKeyConstraint('request_id'))
    op.create_table('group_bookings',
                    sa.Column('request_id', sa.String(length=36), nullable=False),
                    sa.Column('group_id', sa.String(length=80), nullable=True),
                    sa.Column('answered_at', ot_runtime.db.UtcDateTime(timezone=True), nullable=True),
                    sa.Column('as_of', ot_runtime.db.UtcDateTime(timezone=True), nullable=False),
                    sa.PrimaryKeyConstraint('request_id'))


def downgrade() -> None:
    op.drop_table('group_bookings')
    op.drop_table('expert_assignments')
