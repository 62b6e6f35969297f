"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from storage.db import Database
from storage.schema import migration_heads, stored_revisions
from tests.support.learning import ok


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, SQLModel.metadata))


async def test_migrations_match_the_models(db: Database) -> None:
    async with db.engine.connect() as conn:
        assert await conn.run_sync(_differences) == []


async def test_upgrade_twice_is_harmless(db: Database) -> None:
    await ok(db, "partnership", "create East Barnet Area")
    await db.upgrade()
    await db.upgrade()
    async with db.engine.connect() as conn:
        assert await stored_revisions(conn) == migration_heads()
        assert await conn.run_sync(_differences) == []
        names = (await conn.execute(text("SELECT name FROM partnership"))).scalars().all()
    assert list(names) == ["East Barnet Area"]  # what was stored stays


async def test_0010_keeps_what_refers_to_the_schools_it_rebuilds(tmp_path: Path) -> None:
    """SQLite rebuilds the school table to drop a constraint: memberships, members and walks
    that refer to it stay (foreign keys are off while it migrates, and on again after)."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'old.sqlite3'}")
    await db.upgrade("0008")
    async with db.engine.begin() as conn:
        await conn.execute(text(
            "INSERT INTO school (workspace, name, name_key, created_at) "
            "VALUES ('w', 'Monkfrith Primary School', 'monkfrith primary school', '2026-01-05')"))
        await conn.execute(text(
            "INSERT INTO partnership (workspace, name, name_key, kind, proposed, timezone, "
            "notes_retention_days, created_at) VALUES ('w', 'P', 'p', 'loose', false, "
            "'Europe/London', 730, '2026-01-05')"))
        await conn.execute(text(
            "INSERT INTO partnership_school (partnership_id, school_id, joined_at) "
            "VALUES (1, 1, '2026-01-05')"))
    await db.upgrade()
    async with db.engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM partnership_school"))).scalar() == 1
        assert (await conn.execute(text("SELECT match_key FROM school"))).scalar() == "monkfrith"
        assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
    await db.dispose()
