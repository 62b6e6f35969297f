"""actions with an owner and a due date; a walk's next steps become actions, each its own

Revision ID: 0024
Revises: 0027
Create Date: 2026-11-30 20:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes

import storage.types
from alembic import op


revision: str = '0024'
down_revision: str | None = '0027'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = sa.text("status = 'open'")
_OPEN_STEPS = sa.text("next_steps IS NOT NULL AND done_at IS NULL")
# A step whose owner or due date was kept but whose words were not (never made by the bot).
NOT_RECORDED = "(next steps not recorded)"


def upgrade() -> None:
    op.create_table(
        'partnership_action',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('partnership_id', sa.Integer(), nullable=False),
        sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=1500), nullable=False),
        sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column('owner_user_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column('owner_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column('owner_school_id', sa.Integer(), nullable=True),
        sa.Column('due_on', sa.Date(), nullable=True),
        sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column('walk_id', sa.Integer(), nullable=True),
        sa.Column('agenda_item_id', sa.Integer(), nullable=True),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column('drop_reason', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column('created_by_user_id', sqlmodel.sql.sqltypes.AutoString(length=64),
                  nullable=False),
        sa.Column('created_by_name', sqlmodel.sql.sqltypes.AutoString(length=100),
                  nullable=False),
        sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('closed_by_user_id', sqlmodel.sql.sqltypes.AutoString(length=64),
                  nullable=True),
        sa.Column('closed_by_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column('closed_at', storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['partnership_id'], ['partnership.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['owner_school_id'], ['school.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['walk_id'], ['learning_walk.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['agenda_item_id'], ['agenda_item.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('partnership_action', schema=None) as batch_op:
        batch_op.create_index('ix_partnership_action_open', ['partnership_id', 'due_on', 'id'],
                              unique=False, sqlite_where=_OPEN, postgresql_where=_OPEN)
        batch_op.create_index('ix_partnership_action_owner',
                              ['platform', 'owner_user_id', 'status'], unique=False)
        batch_op.create_index('ix_partnership_action_partnership', ['partnership_id', 'id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_partnership_action_walk_id'), ['walk_id'],
                              unique=False)
    op.create_table(
        'nudge_setting',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('workspace', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('nudges_off', sa.Boolean(), nullable=False),
        sa.Column('changed_at', storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('workspace', 'platform', 'user_id'),
    )

    # Every walk's next step, open or done, becomes an action of that walk, same owner and date.
    walk = sa.table(
        'learning_walk', sa.column('id', sa.Integer), sa.column('partnership_id', sa.Integer),
        sa.column('next_steps', sa.String), sa.column('owner_user_id', sa.String),
        sa.column('owner_name', sa.String), sa.column('due_on', sa.Date),
        sa.column('done_at', storage.types.UTCDateTime(timezone=True)),
        sa.column('done_by', sa.String), sa.column('platform', sa.String),
        sa.column('logged_by_user_id', sa.String), sa.column('logged_by_name', sa.String),
        sa.column('created_at', storage.types.UTCDateTime(timezone=True)))
    action = sa.table(
        'partnership_action', *(sa.column(name) for name in (
            'partnership_id', 'description', 'platform', 'owner_user_id', 'owner_name',
            'due_on', 'source', 'walk_id', 'status', 'created_by_user_id', 'created_by_name',
            'created_at', 'closed_by_name', 'closed_at')))
    steps = sa.select(
        walk.c.partnership_id, sa.func.coalesce(walk.c.next_steps, NOT_RECORDED),
        walk.c.platform, walk.c.owner_user_id, walk.c.owner_name, walk.c.due_on,
        sa.literal('walk'), walk.c.id,
        sa.case((walk.c.done_at.is_(None), 'open'), else_='done'),
        walk.c.logged_by_user_id, walk.c.logged_by_name, walk.c.created_at, walk.c.done_by,
        walk.c.done_at,
    ).where(walk.c.next_steps.is_not(None) | walk.c.owner_user_id.is_not(None)
            | walk.c.owner_name.is_not(None)).order_by(walk.c.id)
    op.execute(action.insert().from_select(
        ['partnership_id', 'description', 'platform', 'owner_user_id', 'owner_name', 'due_on',
         'source', 'walk_id', 'status', 'created_by_user_id', 'created_by_name', 'created_at',
         'closed_by_name', 'closed_at'], steps))

    with op.batch_alter_table('learning_walk', schema=None) as batch_op:
        batch_op.drop_index('ix_learning_walk_open_steps', sqlite_where=_OPEN_STEPS,
                            postgresql_where=_OPEN_STEPS)
        for column in ('owner_user_id', 'owner_name', 'due_on', 'done_at', 'done_by'):
            batch_op.drop_column(column)


def downgrade() -> None:
    """Back to the walk columns, empty: the actions are not copied back."""
    with op.batch_alter_table('learning_walk', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_user_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('owner_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
        batch_op.add_column(sa.Column('due_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('done_at', storage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('done_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
        batch_op.create_index('ix_learning_walk_open_steps', ['partnership_id', 'due_on', 'walked_on', 'host_school_id'], unique=False, sqlite_where=_OPEN_STEPS, postgresql_where=_OPEN_STEPS)
    op.drop_table('nudge_setting')
    with op.batch_alter_table('partnership_action', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partnership_action_walk_id'))
        batch_op.drop_index('ix_partnership_action_partnership')
        batch_op.drop_index('ix_partnership_action_owner')
        batch_op.drop_index('ix_partnership_action_open')
    op.drop_table('partnership_action')
