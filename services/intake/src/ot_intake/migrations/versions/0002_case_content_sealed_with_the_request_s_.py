"""case content sealed with the request's key

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 13:47:12.506945
"""
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

import ot_runtime.db


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sealed_content', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('sealed_triage_note', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('content_erased_at', ot_runtime.db.UtcDateTime(timezone=True), nullable=True))
    # Rows written before sealing existed hold plaintext that cannot be sealed without their keys:
    # strip it and mark the content erased, rather than keep plaintext case text around.
    requests = sa.table('requests', sa.column('id', sa.String), sa.column('client', sa.JSON),
                        sa.column('content_erased_at', ot_runtime.db.UtcDateTime(timezone=True)))
    connection = op.get_bind()
    now = datetime.now(timezone.utc)
    for row in connection.execute(sa.select(requests.c.id, requests.c.client)).all():
        client = row.client or {}
        connection.execute(requests.update().where(requests.c.id == row.id).values(
            client={"age_years": client.get("age_years"), "gender": client.get("gender")}, content_erased_at=now))
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.drop_column('triage_note')
        batch_op.drop_column('question')


def downgrade() -> None:
    # The sealed content cannot come back as plaintext: earlier rows get empty texts.
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('question', sa.TEXT(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('triage_note', sa.TEXT(), server_default='', nullable=False))
        batch_op.drop_column('content_erased_at')
        batch_op.drop_column('sealed_triage_note')
        batch_op.drop_column('sealed_content')
