"""job titles stored as the known roles they name ("head teacher" -> "Headteacher")

Revision ID: 0018
Revises: 0016
Create Date: 2026-11-30 20:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op
from storage.roles import canonical_role


revision: str = '0018'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    member = sa.table('member', sa.column('id', sa.Integer), sa.column('job_title', sa.String))
    connection = op.get_bind()
    titles = connection.execute(sa.select(member.c.job_title).distinct()
                                .where(member.c.job_title.is_not(None))).scalars().all()
    for title in titles:
        known = canonical_role(title)
        if known != title:
            connection.execute(member.update().where(member.c.job_title == title)
                               .values(job_title=known))


def downgrade() -> None:
    """The titles as typed are not kept: nothing to undo."""
