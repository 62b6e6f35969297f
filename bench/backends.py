"""Running a benchmark at several sizes on SQLite, then on PostgreSQL when one answers."""

from __future__ import annotations

import tempfile
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TypeVar

from storage.db import Database
from tests.support.databases import postgres_reason, postgres_scratches

T = TypeVar("T")
# Makes a fresh, migrated database for one size.
MakeDatabase = Callable[[int], Awaitable[Database]]
# Measures every size on one backend ("sqlite", "postgresql").
Measure = Callable[[MakeDatabase, str, Sequence[int]], Awaitable[list[T]]]


async def on_each_backend(measure: Measure[T], sizes: Sequence[int],
                          sqlite_only: bool) -> list[T]:
    """`measure` on SQLite (a file per size in a scratch folder), then on scratch PostgreSQL
    databases when TEST_POSTGRES_URL answers (saying why not, when it does not)."""
    results: list[T] = []
    with tempfile.TemporaryDirectory() as folder:
        async def sqlite_db(n: int) -> Database:
            db = Database(f"sqlite+aiosqlite:///{Path(folder) / f'bench-{n}.sqlite3'}")
            await db.upgrade()
            return db

        results += await measure(sqlite_db, "sqlite", sizes)
    reason = "skipped (--sqlite-only)" if sqlite_only else await postgres_reason()
    if reason is None:
        async with postgres_scratches() as postgres_db:
            results += await measure(postgres_db, "postgresql", sizes)
    else:
        print(f"postgresql: {reason}")
    return results
