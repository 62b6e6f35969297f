"""schools from the DfE register

URN and register details, match keys, other names, reviews; partnership short names.

Revision ID: 0010
Revises: 0018
Create Date: 2026-11-30 16:49:00.201388
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes

import storage.types
from alembic import op
from storage.school_names import match_key


revision: str = '0010'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The unnamed UNIQUE (workspace, name_key) of 0001, as SQLite's batch mode sees it.
_SQLITE_NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s_%(column_1_name)s"}


def upgrade() -> None:
    op.create_table('school_alias',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('workspace', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('name_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('school_id', 'name_key')
    )
    with op.batch_alter_table('school_alias', schema=None) as batch_op:
        batch_op.create_index('ix_school_alias_workspace_name_key', ['workspace', 'name_key'], unique=False)

    op.create_table('school_word',
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('word', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('workspace', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('school_id', 'word')
    )
    with op.batch_alter_table('school_word', schema=None) as batch_op:
        batch_op.create_index('ix_school_word_workspace_word', ['workspace', 'word'], unique=False)

    op.create_table('school_review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('candidate_urns', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('dismissed', sa.Boolean(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('school_id')
    )
    with op.batch_alter_table('school_review', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_school_review_workspace'), ['workspace'], unique=False)

    with op.batch_alter_table('partnership', schema=None) as batch_op:
        batch_op.add_column(sa.Column('short_name', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
        batch_op.add_column(sa.Column('short_key', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True))
        batch_op.create_unique_constraint('uq_partnership_workspace_short_key', ['workspace', 'short_key'])

    sqlite = op.get_bind().dialect.name == "sqlite"
    # Two schools may now share a name (in different towns): the name is indexed, not unique.
    with op.batch_alter_table('school', schema=None,
                              naming_convention=_SQLITE_NAMES if sqlite else None) as batch_op:
        batch_op.drop_constraint('uq_school_workspace_name_key' if sqlite
                                 else 'school_workspace_name_key_key', type_='unique')
        batch_op.add_column(sa.Column('match_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('urn', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('establishment_type', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
        batch_op.add_column(sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True))
        batch_op.add_column(sa.Column('town', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
        batch_op.add_column(sa.Column('postcode', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=True))
        batch_op.add_column(sa.Column('gender', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=True))
        batch_op.alter_column('phase',
               existing_type=sa.VARCHAR(length=20),
               type_=sqlmodel.sql.sqltypes.AutoString(length=40),
               existing_nullable=True)
        batch_op.create_index('ix_school_workspace_match_key', ['workspace', 'match_key'], unique=False)
        batch_op.create_index('ix_school_workspace_name_key', ['workspace', 'name_key'], unique=False)
        batch_op.create_unique_constraint('uq_school_workspace_urn', ['workspace', 'urn'])

    # The match keys of the schools already stored, and their words.
    bind = op.get_bind()
    school = sa.table('school', sa.column('id', sa.Integer()), sa.column('name', sa.String()),
                      sa.column('workspace', sa.String()), sa.column('match_key', sa.String()))
    word = sa.table('school_word', sa.column('school_id', sa.Integer()),
                    sa.column('word', sa.String()), sa.column('workspace', sa.String()))
    rows = bind.execute(sa.select(school.c.id, school.c.name, school.c.workspace)).all()
    if rows:
        keys = {row_id: match_key(name) for row_id, name, _ in rows}
        bind.execute(school.update().where(school.c.id == sa.bindparam('row_id'))
                     .values(match_key=sa.bindparam('key')),
                     [{'row_id': row_id, 'key': key} for row_id, key in keys.items()])
        words = [{'school_id': row_id, 'word': w[:100], 'workspace': workspace}
                 for row_id, _, workspace in rows for w in sorted(set(keys[row_id].split()))]
        if words:
            bind.execute(word.insert(), words)
    with op.batch_alter_table('school', schema=None) as batch_op:
        batch_op.alter_column('match_key', server_default=None,
                              existing_type=sqlmodel.sql.sqltypes.AutoString(length=200),
                              existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('school', schema=None) as batch_op:
        batch_op.drop_constraint('uq_school_workspace_urn', type_='unique')
        batch_op.drop_index('ix_school_workspace_name_key')
        batch_op.drop_index('ix_school_workspace_match_key')
        batch_op.alter_column('phase',
               existing_type=sqlmodel.sql.sqltypes.AutoString(length=40),
               type_=sa.VARCHAR(length=20),
               existing_nullable=True)
        batch_op.drop_column('gender')
        batch_op.drop_column('postcode')
        batch_op.drop_column('town')
        batch_op.drop_column('status')
        batch_op.drop_column('establishment_type')
        batch_op.drop_column('urn')
        batch_op.drop_column('match_key')
        # Fails where two schools share a name, as it must: 0008 cannot hold them.
        batch_op.create_unique_constraint('school_workspace_name_key_key', ['workspace', 'name_key'])

    with op.batch_alter_table('partnership', schema=None) as batch_op:
        batch_op.drop_constraint('uq_partnership_workspace_short_key', type_='unique')
        batch_op.drop_column('short_key')
        batch_op.drop_column('short_name')

    with op.batch_alter_table('school_review', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_school_review_workspace'))

    op.drop_table('school_review')
    with op.batch_alter_table('school_word', schema=None) as batch_op:
        batch_op.drop_index('ix_school_word_workspace_word')

    op.drop_table('school_word')
    with op.batch_alter_table('school_alias', schema=None) as batch_op:
        batch_op.drop_index('ix_school_alias_workspace_name_key')

    op.drop_table('school_alias')
