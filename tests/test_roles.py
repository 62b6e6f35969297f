"""Job titles stored as the known roles they name; others kept as typed; old rows tidied by
the migration, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import col, select

from storage.db import Database
from storage.models import Member
from storage.roles import KNOWN_ROLES, canonical_role
from tests.support.databases import (
    POSTGRES_URL,
    PostgresScratch,
    postgres_reason,
    without_postgres,
)
from tests.support.learning import ANN, BEN, PARTNERSHIP, ok


@pytest.mark.parametrize(("typed", "stored"), [
    ("head", "Headteacher"), ("headteacher", "Headteacher"), ("head teacher", "Headteacher"),
    ("Headteacher", "Headteacher"), ("HT", "Headteacher"), ("headteahcer", "Headteacher"),
    ("exec head", "Executive headteacher"), ("Head of School", "Head of school"),
    ("deputy head", "Deputy headteacher"), ("DHT", "Deputy headteacher"),
    ("assistant head", "Assistant headteacher"), ("SENDCo", "SENCO"), ("senco", "SENCO"),
    ("subject lead", "Subject leader"), ("class teacher", "Teacher"),
    ("TA", "Teaching assistant"), ("SBM", "School business manager"),
    ("chair of govs", "Chair of governors"), ("governor", "Governor"), ("CEO", "Trust leader"),
    ("LA adviser", "Local authority adviser"),
    # Not known roles: kept as typed (spaces tidied), never forced onto a near one.
    ("Maths lead  practitioner", "Maths lead practitioner"), ("HLTA", "HLTA"),
    ("Reading champion", "Reading champion"), ("tea", "tea"),
])
def test_typed_titles_become_known_roles(typed: str, stored: str) -> None:
    assert canonical_role(typed) == stored


def test_every_known_role_is_its_own_canonical_form() -> None:
    assert [canonical_role(r) for r in KNOWN_ROLES] == list(KNOWN_ROLES)


async def test_joining_stores_the_known_role(db: Database) -> None:
    await ok(db, "partnership", f"create {PARTNERSHIP}")
    joined = await ok(db, "partnership", f"join {PARTNERSHIP} school: Monkfrith role: head teacher")
    assert "Your role: Headteacher." in joined.reply.plain_text()
    await ok(db, "partnership", f"join {PARTNERSHIP} school: Danegrove role: Reading champion",
             BEN)
    async with db.session() as session:
        titles = {m.user_id: m.job_title for m in (await session.exec(select(Member))).all()}
    assert titles == {ANN.user_id: "Headteacher", BEN.user_id: "Reading champion"}


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_the_migration_tidies_titles_already_stored(backend: str, tmp_path: Path) -> None:
    if backend == "sqlite":
        database = Database(f"sqlite+aiosqlite:///{tmp_path / 'old.sqlite3'}")
        scratch = None
    else:
        reason = await postgres_reason()
        if reason is not None:
            without_postgres(reason)
        scratch = PostgresScratch()
        await _create_database(scratch)
        database = Database(scratch.url)
    try:
        await database.upgrade("0016")  # the schema before known roles
        async with database.engine.begin() as conn:
            await conn.execute(text(
                "INSERT INTO partnership (id, workspace, name, name_key, kind, timezone, "
                "created_at, proposed, notes_retention_days, created_by) VALUES (1, 'T1', 'P', "
                "'p', 'loose', 'Europe/London', CURRENT_TIMESTAMP, false, 730, 'U1')"))
            for n, title in enumerate(("head", "head teacher", "Headteacher", "Maths lead",
                                       None), start=1):
                await conn.execute(text(
                    "INSERT INTO member (id, partnership_id, platform, user_id, display_name, "
                    "job_title, access_role, joined_at) VALUES (:id, 1, 'slack', :user, 'X', "
                    ":title, 'member', CURRENT_TIMESTAMP)"),
                    {"id": n, "user": f"U{n}", "title": title})
        await database.upgrade()
        async with database.session() as session:
            titles = [m.job_title for m in (await session.exec(
                select(Member).order_by(col(Member.id)))).all()]
        assert titles == ["Headteacher", "Headteacher", "Headteacher", "Maths lead", None]
    finally:
        await database.dispose()
        if scratch is not None:
            await scratch.drop()


async def _create_database(scratch: PostgresScratch) -> None:
    """An empty scratch database (PostgresScratch.create also migrates it to the head)."""
    import asyncpg

    conn = await asyncpg.connect(POSTGRES_URL)
    try:
        await conn.execute(f'CREATE DATABASE "{scratch.name}"')
    finally:
        await conn.close()
