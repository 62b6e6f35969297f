"""the audit trail of edited and deleted walks and CPD sessions

Revision ID: 0016
Revises: 0008
Create Date: 2026-11-30 18:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes

import storage.types
from alembic import op


revision: str = '0016'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'record_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('partnership_id', sa.Integer(), nullable=False),
        sa.Column('record_kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column('record_id', sa.Integer(), nullable=False),
        sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column('changes', sqlmodel.sql.sqltypes.AutoString(length=20000), nullable=False),
        sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column('by_user_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('by_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('changed_at', storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['partnership_id'], ['partnership.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('record_change', schema=None) as batch_op:
        batch_op.create_index('ix_record_change_record', ['record_kind', 'record_id', 'id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_record_change_partnership_id'),
                              ['partnership_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('record_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_record_change_partnership_id'))
        batch_op.drop_index('ix_record_change_record')
    op.drop_table('record_change')
