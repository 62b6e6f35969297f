"""Test databases: SQLite always, PostgreSQL whenever one answers.

PostgreSQL comes from TEST_POSTGRES_URL (default: the local server's `test` database). Each test
run creates its own scratch database there and drops it afterwards, so runs never collide."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from sqlalchemy import text
from sqlmodel import SQLModel

from storage.db import Database, DatabaseTimeouts

# Tests and benchmarks run on a shared, often overloaded machine: the databases they use wait
# longer than production's defaults, so a slow moment is not mistaken for a stalled database.
# (tests/test_database_stalls.py sets its own short timeouts, and bench/db_stall.py uses the
# production defaults.)
PATIENT = DatabaseTimeouts(connect=15.0, statement=60.0, pool=30.0, command=60.0)

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://127.0.0.1:5432/test")


# CI sets REQUIRE_POSTGRES=1 (.ci/run): there a PostgreSQL that does not answer, refuses the
# password or lacks the database fails the PostgreSQL tests instead of skipping them, so they
# cannot silently vanish from a green run. Locally they skip, saying why.
REQUIRE_SWITCH = "REQUIRE_POSTGRES"


def postgres_required() -> bool:
    return os.environ.get(REQUIRE_SWITCH, "").strip() not in ("", "0")


def shown_url(url: str) -> str:
    """`url` with any password masked, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


async def postgres_reason() -> str | None:
    """None when PostgreSQL answers; otherwise why the PostgreSQL tests cannot run."""
    try:
        conn = await asyncpg.connect(POSTGRES_URL, timeout=3)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as error:
        detail = str(error).strip().splitlines()[0] if str(error).strip() else ""
        return (f"no PostgreSQL answers at {shown_url(POSTGRES_URL)} ({type(error).__name__}"
                f"{': ' + detail[:200] if detail else ''}); set TEST_POSTGRES_URL to run these")
    await conn.close()
    return None


def without_postgres(reason: str) -> NoReturn:
    """Skip a PostgreSQL test for `reason`, or fail it when PostgreSQL is required."""
    if postgres_required():
        pytest.fail(f"PostgreSQL is required here ({REQUIRE_SWITCH}=1), but {reason}",
                    pytrace=False)
    pytest.skip(reason)


class PostgresScratch:
    """A scratch database for one test run, migrated once, emptied between tests."""

    def __init__(self) -> None:
        self.name = f"pb_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        base = POSTGRES_URL.rsplit("/", 1)[0]
        self.url = f"{base}/{self.name}"

    async def create(self) -> None:
        conn = await asyncpg.connect(POSTGRES_URL)
        try:
            await conn.execute(f'CREATE DATABASE "{self.name}"')
        finally:
            await conn.close()
        db = Database(self.url, timeouts=PATIENT)
        await db.upgrade()
        await db.dispose()

    async def drop(self) -> None:
        conn = await asyncpg.connect(POSTGRES_URL)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        finally:
            await conn.close()


async def empty_tables(db: Database) -> None:
    names = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    async with db.engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


async def sqlite_database(folder: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{folder / 'bot.sqlite3'}", timeouts=PATIENT)
    await db.upgrade()
    yield db
    await db.dispose()


def run(coro: object) -> None:
    asyncio.run(coro)  # type: ignore[arg-type]


@asynccontextmanager
async def postgres_scratches() -> AsyncIterator[Callable[[object], Awaitable[Database]]]:
    """A factory of fresh, migrated scratch PostgreSQL databases (one per call, whatever its
    argument), all dropped when the block ends: for benchmarks that compare sizes side by side."""
    scratches: list[PostgresScratch] = []

    async def new_database(_: object) -> Database:
        scratch = PostgresScratch()
        await scratch.create()
        scratches.append(scratch)
        return Database(scratch.url, timeouts=PATIENT)

    try:
        yield new_database
    finally:
        for scratch in scratches:
            await scratch.drop()
