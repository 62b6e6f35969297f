"""Reads that skip the ORM where its cost shows: statements built once (with bind parameters)
and run as SQLAlchemy Core on the session's connection, in its transaction if it has one.

On this project's 2-core machine one lookup costs about 1.3 ms of CPU through the ORM (building
the statement, its cache key, the ORM's execution set-up, loading and validating model
instances), 0.45 ms as a prebuilt Core statement, and 0.25 ms in asyncpg alone
(bench/capacity.py --profile shows where). Commands make several such reads, so the hottest
ones, whose results are only shown, live here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import Executable
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

M = TypeVar("M", bound=SQLModel)


async def rows(session: AsyncSession, statement: Executable,
               params: Mapping[str, Any] | None = None) -> Sequence[Any]:
    """The rows (each a tuple, with `._mapping` by column name)."""
    connection = await session.connection()
    return (await connection.execute(statement, dict(params or {}))).all()


def shown(model: type[M], found: Iterable[Any]) -> list[M]:
    """Model instances made from rows without validation and outside the session: to read
    and show, never to change or add (they are not tracked)."""
    return [model.model_construct(**row._mapping) for row in found]
