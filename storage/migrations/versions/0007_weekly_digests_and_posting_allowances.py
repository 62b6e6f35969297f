"""weekly digests and posting allowances

Per-partnership digest settings (day, time, on or off, what a quiet week sends); the posting
allowances that pace the outbox's posts per channel and per workspace across processes, and
the posting slot a held-back delivery keeps; and an index for "has this partnership a digest
waiting?".

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 04:42:31.927859
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes

import storage.types
from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('posting_allowance',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=250), nullable=False),
    sa.Column('used_until', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('digest_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('hour', sa.Integer(), nullable=False),
    sa.Column('minute', sa.Integer(), nullable=False),
    sa.Column('quiet_week', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('updated_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('updated_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnership.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('partnership_id')
    )
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.add_column(sa.Column('slot', storage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_delivery_partnership_kind_status', ['partnership_id', 'kind', 'status'], unique=False)

def downgrade() -> None:
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.drop_index('ix_delivery_partnership_kind_status')
        batch_op.drop_column('slot')

    op.drop_table('digest_settings')
    op.drop_table('posting_allowance')
