"""Bringing the schema up to date, once, however many processes start at the same moment.

Every bot process upgrades the schema when it starts (and `partnership-bot db upgrade` does it
by hand). On PostgreSQL the upgrade runs under a session-level advisory lock, so when several
workers or machines start together one of them migrates and the others wait, then find nothing
left to do; an upgrade never runs twice at once. A process whose schema is already current
(the usual start) only reads the stored revision: Alembic is not even imported, which keeps
start-up short."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import Connection

MIGRATIONS = Path(__file__).parent / "migrations"
# pg_advisory_lock's key for schema upgrades ("PBMIGR" in ASCII): any fixed 64-bit number that
# nothing else on the server uses.
UPGRADE_LOCK = 0x5042_4D49_4752

_REVISION = re.compile(r"^revision\s*(?::[^=]*)?=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision\s*(?::[^=]*)?=\s*(.+)$", re.MULTILINE)
_QUOTED = re.compile(r"['\"]([^'\"]+)['\"]")


def migration_heads(folder: Path = MIGRATIONS / "versions") -> frozenset[str] | None:
    """The newest revision(s) in the migrations folder, read from the files' `revision` and
    `down_revision` lines; None when a file cannot be read that way (Alembic then decides)."""
    revisions: set[str] = set()
    replaced: set[str] = set()
    for path in folder.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revision, down = _REVISION.search(source), _DOWN_REVISION.search(source)
        if revision is None or down is None:
            return None
        revisions.add(revision.group(1))
        replaced.update(_QUOTED.findall(down.group(1)))
    return frozenset(revisions - replaced) or None


async def stored_revisions(conn: AsyncConnection) -> frozenset[str]:
    """The revisions the database says it is at (none for an empty database)."""
    try:
        rows = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
    except DBAPIError:
        await conn.rollback()
        return frozenset()
    return frozenset(str(row[0]) for row in rows)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema up to `revision`: at once if it is there already, else under the lock."""
    if revision == "head":
        async with engine.connect() as conn:
            if await stored_revisions(conn) == migration_heads():
                return
    postgres = engine.dialect.name == "postgresql"
    sqlite = engine.dialect.name == "sqlite"
    async with engine.connect() as conn:
        if postgres:
            await conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": UPGRADE_LOCK})
            await conn.commit()
        if sqlite:
            # SQLite migrations rebuild a table to change a constraint (Alembic's batch mode):
            # with foreign keys on, dropping the old copy would cascade to, or be refused by,
            # the rows that refer to it. The pragma only works outside a transaction.
            await conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            await conn.commit()
        try:
            async with conn.begin():
                await conn.run_sync(_run_alembic_upgrade, revision)
        finally:
            if postgres:
                await conn.execute(text("SELECT pg_advisory_unlock(:key)"),
                                   {"key": UPGRADE_LOCK})
                await conn.commit()
            if sqlite:
                await conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                await conn.commit()


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _run_alembic_upgrade(connection: Connection, revision: str) -> None:
    from alembic import command

    command.upgrade(alembic_config(connection), revision)
