"""web links, sessions and files

The web pages' single-use sign-in links, the browser sessions they start, and the files
(calendar invites, charts, data exports) served at personal links; every token stored only as
its SHA-256.

Revision ID: 0012
Revises: 0010
Create Date: 2026-11-30 17:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes

import storage.types
from alembic import op


revision: str = '0012'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _person_columns() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('workspace', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    ]


def upgrade() -> None:
    op.create_table('file_link',
    *_person_columns(),
    sa.Column('filename', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('mimetype', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('single_use', sa.Boolean(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_index(op.f('ix_file_link_expires_at'), 'file_link', ['expires_at'], unique=False)
    op.create_index('ix_file_link_person', 'file_link', ['platform', 'user_id', 'created_at'], unique=False)
    op.create_table('web_session',
    *_person_columns(),
    sa.Column('user_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_index(op.f('ix_web_session_expires_at'), 'web_session', ['expires_at'], unique=False)
    op.create_index('ix_web_session_person', 'web_session', ['platform', 'user_id'], unique=False)
    op.create_table('web_link',
    *_person_columns(),
    sa.Column('user_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnership.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_index(op.f('ix_web_link_expires_at'), 'web_link', ['expires_at'], unique=False)
    op.create_index('ix_web_link_person', 'web_link', ['platform', 'user_id', 'created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_web_link_person', table_name='web_link')
    op.drop_index(op.f('ix_web_link_expires_at'), table_name='web_link')
    op.drop_table('web_link')
    op.drop_index('ix_web_session_person', table_name='web_session')
    op.drop_index(op.f('ix_web_session_expires_at'), table_name='web_session')
    op.drop_table('web_session')
    op.drop_index('ix_file_link_person', table_name='file_link')
    op.drop_index(op.f('ix_file_link_expires_at'), table_name='file_link')
    op.drop_table('file_link')
