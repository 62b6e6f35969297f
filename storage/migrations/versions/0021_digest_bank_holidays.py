"""digest settings: what the weekly digest does on a bank holiday

`move` (the default, and what every existing partnership gets): posted the next working day;
`keep`: posted on the holiday as usual.

Revision ID: 0021
Revises: 0012
Create Date: 2026-11-30 21:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes

from alembic import op


revision: str = '0021'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('digest_settings') as batch:
        batch.add_column(sa.Column('bank_holidays', sqlmodel.sql.sqltypes.AutoString(length=10),
                                   server_default='move', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('digest_settings') as batch:
        batch.drop_column('bank_holidays')
