"""master key versions (data_keys.key_id, master_keys), audit anchors (audit_head.anchored_sequence)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 09:00:00

Existing wrapped keys were made with the single master key of that time, OT_CONSENT_MASTER_KEY,
which is version v1: the server default labels them (and any row the previous release writes
during a rolling upgrade, with that same key). Expand only: the previous release still reads and
writes these tables.
"""
import sqlalchemy as sa
from alembic import op

import ot_runtime.db


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('data_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_id', sa.String(length=32), nullable=False, server_default='v1'))
        batch_op.create_index('ix_data_keys_key_id', ['key_id'], unique=False)
    op.create_table('master_keys',
    sa.Column('key_id', sa.String(length=32), nullable=False),
    sa.Column('made_current_at', ot_runtime.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('retired_at', ot_runtime.db.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('key_id')
    )
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.add_column(sa.Column('anchored_sequence', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                                      nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.drop_column('anchored_sequence')
    op.drop_table('master_keys')
    with op.batch_alter_table('data_keys', schema=None) as batch_op:
        batch_op.drop_index('ix_data_keys_key_id')
        batch_op.drop_column('key_id')
