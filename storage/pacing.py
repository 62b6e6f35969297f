"""Posting allowances shared by every bot process: how fast posts may go to one channel or one
workspace, so that hundreds of digests due at the same minute stay within the platform's limits.

Each pace is a generic cell rate algorithm (a token bucket kept as one number): `used_until` is
the moment the allowance is used up to. A post is allowed when `used_until` is no further ahead
of now than the burst allows, and then moves it on by one interval. The check and the move are
one INSERT … ON CONFLICT DO UPDATE … WHERE on both databases, so processes sharing a database
share the allowance: PostgreSQL locks the row for the statement, SQLite has one writer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import case
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select

from storage.db import Database
from storage.models import PostingAllowance


@dataclass(frozen=True)
class Pace:
    """One post every `interval` seconds on average, with up to `burst` at once."""

    interval: float
    burst: int = 1

    @property
    def slack(self) -> float:
        """How far ahead of now the allowance may already be used and still allow a post."""
        return (self.burst - 1) * self.interval


def _seconds(moment: datetime) -> float:
    return moment.timestamp()


def _moment(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _insert(db: Database) -> object:
    return (postgresql_insert if db.is_postgres else sqlite_insert)(PostingAllowance)


async def take(db: Database, key: str, pace: Pace, now: datetime) -> datetime | None:
    """Use one post of `key`'s allowance at `now`: None if allowed, else the earliest moment
    one will be free (nothing is used then)."""
    table = PostingAllowance
    at = _seconds(now)
    used = col(table.used_until)
    statement = (
        _insert(db)  # type: ignore[attr-defined]
        .values(key=key, used_until=at + pace.interval)
        .on_conflict_do_update(
            index_elements=[col(table.key)],
            set_={"used_until": case((used > at, used), else_=at) + pace.interval},
            where=used <= at + pace.slack,
        )
        .returning(used)
    )
    async with db.engine.begin() as conn:
        if (await conn.execute(statement)).first() is not None:
            return None
        used_until = (await conn.execute(select(used).where(table.key == key))).scalar_one()
    return _moment(float(used_until) - pace.slack)


async def reserve(db: Database, key: str, pace: Pace, now: datetime) -> datetime:
    """Book the next free post of `key`'s allowance, however far ahead: the moment it is for.
    Booked slots are handed out in turn to every process, so a crowd held back at once comes
    back spread out, each at its own moment, rather than all together."""
    table = PostingAllowance
    at = _seconds(now)
    used = col(table.used_until)
    statement = (
        _insert(db)  # type: ignore[attr-defined]
        .values(key=key, used_until=at + pace.interval)
        .on_conflict_do_update(index_elements=[col(table.key)],
                               set_={"used_until": case((used > at, used), else_=at)
                                     + pace.interval})
        .returning(used)
    )
    async with db.engine.begin() as conn:
        used_until = float((await conn.execute(statement)).scalar_one())
    return _moment(max(at, used_until - pace.interval - pace.slack))


async def hold(db: Database, key: str, pace: Pace, until: datetime) -> None:
    """Allow no post for `key` before `until` (the platform asked us to wait that long)."""
    table = PostingAllowance
    used = col(table.used_until)
    blocked = _seconds(until) + pace.slack
    statement = (
        _insert(db)  # type: ignore[attr-defined]
        .values(key=key, used_until=blocked)
        .on_conflict_do_update(index_elements=[col(table.key)],
                               set_={"used_until": case((used > blocked, used), else_=blocked)})
    )
    async with db.engine.begin() as conn:
        await conn.execute(statement)


async def free_at(db: Database, key: str, pace: Pace, now: datetime) -> datetime | None:
    """Like `take`, but only looking: None if a post would be allowed at `now`."""
    table = PostingAllowance
    async with db.engine.connect() as conn:
        used_until = (await conn.execute(
            select(col(table.used_until)).where(table.key == key))).scalar_one_or_none()
    if used_until is None or float(used_until) <= _seconds(now) + pace.slack:
        return None
    return _moment(float(used_until) - pace.slack)
