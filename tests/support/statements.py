"""Counting what a piece of work costs the database: statements, and on PostgreSQL the
transactions the driver opened (BEGIN), seen by asyncpg's query logger."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event

from storage.db import Database


@dataclass
class Cost:
    statements: list[str] = field(default_factory=list)
    begins: int = 0

    @property
    def reads(self) -> int:
        return sum(1 for s in self.statements if s.lstrip().upper().startswith("SELECT"))


@asynccontextmanager
async def costing(db: Database) -> AsyncIterator[Cost]:
    """What runs on `db` meanwhile. Connections are opened afresh, so each one is watched."""
    cost = Cost()

    def statement(_conn: Any, _cursor: Any, text: str, *_: Any) -> None:
        cost.statements.append(text)

    def log_query(record: Any) -> None:
        if record.query.upper().startswith("BEGIN"):
            cost.begins += 1

    def connected(_dbapi: Any, record: Any) -> None:
        record.driver_connection.add_query_logger(log_query)

    engine = db.engine.sync_engine
    await db.engine.dispose()  # a new pool, so the connections used from here on are watched
    pool = engine.pool
    event.listen(engine, "before_cursor_execute", statement)
    if db.is_postgres:
        event.listen(pool, "connect", connected)
    try:
        yield cost
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        if db.is_postgres:
            event.remove(pool, "connect", connected)
