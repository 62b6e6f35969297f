"""Remembering which requests were handled, so a retried or replayed one runs once.

Keys are platform request ids: Slack's trigger_id / event_id, a Teams activity id."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import Database
from storage.models import RequestSeen
from storage.types import utcnow

# Slack retries for up to about an hour; a day is plenty.
REMEMBER_FOR = timedelta(days=1)


async def claim(session: AsyncSession, key: str) -> bool:
    """Record `key` in the request's own transaction; True if it was not seen before.

    Being in the same transaction as the work means a request that fails (and rolls back) is
    not remembered, so Slack's retry of it runs again; one that succeeded is never run twice.
    A concurrent duplicate waits on the key's index until the first commits, then loses."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(RequestSeen).values(key=key[:120], received_at=utcnow())
    statement = statement.on_conflict_do_nothing(index_elements=["key"])
    result = await (await session.connection()).execute(statement)
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


async def seen(db: Database, key: str) -> bool:
    """Whether `key` was claimed by a request that has committed."""
    async with db.engine.connect() as conn:
        found = await conn.execute(
            select(col(RequestSeen.key)).where(col(RequestSeen.key) == key[:120]))
        return found.first() is not None


async def forget_old(db: Database) -> int:
    async with db.engine.begin() as conn:
        cutoff = utcnow() - REMEMBER_FOR
        result = await conn.execute(
            delete(RequestSeen).where(col(RequestSeen.received_at) < cutoff)
        )
    assert isinstance(result, CursorResult)
    return result.rowcount
