"""Migration 0024: every next step of a walk made by the old schema (one owner and due date a
walk) becomes an action of that walk, open or done as it was; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import Date, bindparam, text
from sqlmodel import col, select

from storage.db import Database
from storage.models import Action, LearningWalk
from storage.types import UTCDateTime
from tests.support.databases import POSTGRES_URL, PostgresScratch, postgres_reason

OLD_WALK = (
    "INSERT INTO learning_walk (id, partnership_id, host_school_id, walked_on, focus, "
    "next_steps, owner_user_id, owner_name, due_on, done_at, done_by, platform, "
    "logged_by_user_id, logged_by_name, created_at) VALUES (:id, 1, 1, '2026-10-01', 'Phonics', "
    ":steps, :owner_id, :owner, :due, :done_at, :done_by, 'slack', 'U1', 'Ann Example', "
    "CURRENT_TIMESTAMP)")


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_each_old_walk_step_becomes_an_action(backend: str, tmp_path: Path) -> None:
    scratch: PostgresScratch | None = None
    if backend == "sqlite":
        database = Database(f"sqlite+aiosqlite:///{tmp_path / 'old.sqlite3'}")
    else:
        reason = await postgres_reason()
        if reason is not None:
            pytest.skip(reason)
        scratch = PostgresScratch()
        conn = await asyncpg.connect(POSTGRES_URL)
        try:
            await conn.execute(f'CREATE DATABASE "{scratch.name}"')
        finally:
            await conn.close()
        database = Database(scratch.url)
    try:
        await database.upgrade("0027")  # one owner and due date per walk
        async with database.engine.begin() as conn:
            await conn.execute(text(
                "INSERT INTO partnership (id, workspace, name, name_key, kind, timezone, "
                "created_at, proposed, notes_retention_days) VALUES (1, 'T1', 'P', 'p', "
                "'loose', 'Europe/London', CURRENT_TIMESTAMP, false, 730)"))
            await conn.execute(text(
                "INSERT INTO school (id, workspace, name, name_key, match_key, created_at) "
                "VALUES (1, 'T1', 'Monkfrith', 'monkfrith', 'monkfrith', CURRENT_TIMESTAMP)"))
            rows: list[dict[str, object]] = [
                {"id": 1, "steps": "Share the phonics plan", "owner_id": "U2",
                 "owner": "Justine Elbourne", "due": date(2026, 12, 4), "done_at": None,
                 "done_by": None},
                {"id": 2, "steps": "Audit reading books", "owner_id": None, "owner": "Ben Day",
                 "due": None, "done_at": datetime(2026, 11, 1, 10, tzinfo=UTC),
                 "done_by": "Ben Day"},
                {"id": 3, "steps": None, "owner_id": None, "owner": None, "due": None,
                 "done_at": None, "done_by": None},
                {"id": 4, "steps": "Visit again", "owner_id": None, "owner": None,
                 "due": date(2027, 1, 15), "done_at": None, "done_by": None},
            ]
            for row in rows:
                await conn.execute(text(OLD_WALK).bindparams(
                    bindparam("done_at", type_=UTCDateTime()),
                    bindparam("due", type_=Date())), row)
        await database.upgrade()
        async with database.session() as session:
            actions = (await session.exec(select(Action).order_by(col(Action.walk_id)))).all()
            walks = (await session.exec(select(LearningWalk))).all()
        assert len(walks) == 4
        assert [(a.walk_id, a.description, a.owner_user_id, a.owner_name, a.due_on, a.status,
                 a.closed_by_name, a.source, a.partnership_id, a.created_by_name)
                for a in actions] == [
            (1, "Share the phonics plan", "U2", "Justine Elbourne", date(2026, 12, 4), "open",
             None, "walk", 1, "Ann Example"),
            (2, "Audit reading books", None, "Ben Day", None, "done", "Ben Day", "walk", 1,
             "Ann Example"),
            (4, "Visit again", None, None, date(2027, 1, 15), "open", None, "walk", 1,
             "Ann Example"),
        ]
        assert actions[1].closed_at == datetime(2026, 11, 1, 10, tzinfo=UTC)
        # The walk keeps its steps' words; the owner and date columns are gone.
        async with database.engine.connect() as conn:
            columns = await conn.run_sync(lambda c: [
                col_["name"] for col_ in __import__("sqlalchemy").inspect(c)
                .get_columns("learning_walk")])
        assert "owner_name" not in columns and "due_on" not in columns
        assert "next_steps" in columns
    finally:
        await database.dispose()
        if scratch is not None:
            await scratch.drop()
