"""cases confirmed by intake's RequestSubmitted (cases.confirmed_at, cases.abandoned_at), and when
the sweep of unconfirmed cases may start (orphan_sweep)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 09:00:00

Every case that exists now counts as confirmed (its request is taken to be stored), so the sweep
never discards a case opened before this release. Until the rolling upgrade is over, the previous
release's consumers still read intake's events and ignore RequestSubmitted, so a case opened in
that window may never be confirmed: `orphan_sweep.since` (this migration's time) makes the sweep
leave alone every case opened before since + the grace period. Expand only: the previous release
neither reads nor writes these columns (NULL, as it leaves them, is what a new case has).
"""
import sqlalchemy as sa
from alembic import op

import ot_runtime.db


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('confirmed_at', ot_runtime.db.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('abandoned_at', ot_runtime.db.UtcDateTime(timezone=True), nullable=True))
    op.execute("UPDATE cases SET confirmed_at = opened_at")
    sweep = op.create_table('orphan_sweep',
                            sa.Column('id', sa.Integer(), nullable=False),
                            sa.Column('since', ot_runtime.db.UtcDateTime(timezone=True), nullable=False),
                            sa.PrimaryKeyConstraint('id'))
    op.bulk_insert(sweep, [{"id": 1, "since": ot_runtime.db.utcnow()}])


def downgrade() -> None:
    op.drop_table('orphan_sweep')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('abandoned_at')
        batch_op.drop_column('confirmed_at')
