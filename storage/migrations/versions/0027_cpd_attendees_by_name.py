"""CPD sessions may record the people who attended (names or platform users), beside the schools
and the head count they already could

Revision ID: 0027
Revises: 0023
Create Date: 2026-11-30 20:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = '0027'
down_revision: str | None = '0023'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """A new table only: the sessions, schools and head counts already logged stay as they
    are."""
    op.create_table('cpd_attendee',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['cpd_session.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('cpd_attendee', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cpd_attendee_session_id'), ['session_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('cpd_attendee', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cpd_attendee_session_id'))
    op.drop_table('cpd_attendee')
