"""audit entries waiting to be chained (audit_pending): writers no longer hold the audit head

Revision ID: 0006
Revises: 0005
Create Date: 2027-01-20 09:00:00

Expand only: a new table that the previous release neither reads nor writes. During the rolling
upgrade the previous release still appends straight to audit_log under the head row's lock, and
the new release's chainer links its pending entries into audit_log under that same lock, so the
trail stays one chain whichever replica writes. Before a downgrade, run `ot-consent verify-audit`
(it chains every pending entry first): the downgrade drops the table and whatever is still in it.
"""
import sqlalchemy as sa
from alembic import op

import ot_runtime.db


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_pending',
                    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True,
                              nullable=False),
                    sa.Column('tenant', sa.String(length=40), nullable=False),
                    sa.Column('at', ot_runtime.db.UtcDateTime(timezone=True), nullable=False),
                    sa.Column('actor', sa.String(length=200), nullable=False),
                    sa.Column('roles', sa.String(length=200), nullable=False),
                    sa.Column('action', sa.String(length=60), nullable=False),
                    sa.Column('request_id', sa.String(length=36), nullable=False),
                    sa.Column('detail', sa.Text(), nullable=False),
                    sa.Column('mac', sa.String(length=64), nullable=False),
                    sa.Column('refused_at', ot_runtime.db.UtcDateTime(timezone=True), nullable=True),
                    sa.PrimaryKeyConstraint('id'))
    with op.batch_alter_table('audit_pending', schema=None) as batch_op:
        batch_op.create_index('ix_audit_pending_tenant', ['tenant', 'id'], unique=False)


def downgrade() -> None:
    op.drop_table('audit_pending')
