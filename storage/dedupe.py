"""Remembering which requests were handled, so a retried or replayed one runs once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlmodel import col

from storage.db import Database
from storage.models import SlackRequestSeen
from storage.types import utcnow

# Slack retries for up to about an hour; a day is plenty.
REMEMBER_FOR = timedelta(days=1)


async def first_time(db: Database, key: str) -> bool:
    """Record `key`; True if it was not seen before (so the request should run)."""
    insert = postgresql.insert if db.is_postgres else sqlite.insert
    statement = insert(SlackRequestSeen).values(key=key[:120], received_at=utcnow())
    statement = statement.on_conflict_do_nothing(index_elements=["key"])
    async with db.engine.begin() as conn:
        result = await conn.execute(statement)
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


async def forget_old(db: Database) -> int:
    async with db.engine.begin() as conn:
        cutoff = utcnow() - REMEMBER_FOR
        result = await conn.execute(
            delete(SlackRequestSeen).where(col(SlackRequestSeen.received_at) < cutoff)
        )
    assert isinstance(result, CursorResult)
    return result.rowcount
