"""Posting allowances shared by every bot process: how fast posts may go to one channel or one
workspace, so that hundreds of digests due at the same minute stay within the platform's limits.

Each pace is a generic cell rate algorithm (a token bucket kept as one number): `used_until` is
the moment the allowance is used up to. A post is allowed when `used_until` is no further ahead
of now than the burst allows, and then moves it on by one interval. A platform that limits
several windows at once (Teams: 7 a second, 8 in 2 s, 60 in 30 s, 1,800 an hour in one
conversation) gets one pace per window (`Pace.at_most`), and a post uses all of them or none,
in one transaction, so processes sharing a database share the allowance: PostgreSQL locks the
rows, in key order, SQLite has one writer."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

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

    @classmethod
    def at_most(cls, count: int, seconds: float, burst: int) -> Pace:
        """A pace that never lets more than `count` posts through in any `seconds` (both ends
        of the span included), `burst` of them at once (1 <= burst < count).

        Why it holds: a post allowed at t_k, the k-th of a run starting at t_1, finds the
        allowance used up to at least t_1 + (k - 1) * interval, so that minus t_k is at most
        (burst - 1) * interval; hence (k - burst) * interval <= t_k - t_1 <= seconds, and with
        interval = seconds / (count - burst), k <= count."""
        if not 1 <= burst < count:
            raise ValueError(f"burst must be at least 1 and below count, not {burst}")
        return cls(interval=seconds / (count - burst), burst=burst)

    @property
    def slack(self) -> float:
        """How far ahead of now the allowance may already be used and still allow a post."""
        return (self.burst - 1) * self.interval

    @property
    def label(self) -> str:
        """A short name that tells paces on the same channel apart in their keys."""
        return f"burst{self.burst}-every{self.interval:g}s"


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Moments go through datetimes (to the microsecond) and floats: a moment named by an allowance
# may come back a fraction of a microsecond early, and is still that moment.
ROUNDING = 1e-6

# One allowance of one post: the key of its row, and its pace.
Allowance = tuple[str, Pace]


def _seconds(moment: datetime) -> float:
    return moment.timestamp()


def _moment(seconds: float) -> datetime:
    """The moment, rounded up to the microsecond: asked again at that moment, the allowance
    that named it must allow the post (rounding down would name a moment just too early)."""
    return EPOCH + timedelta(microseconds=math.ceil(seconds * 1_000_000))


def _insert(db: Database) -> object:
    return (postgresql_insert if db.is_postgres else sqlite_insert)(PostingAllowance)


def plan_post(used_until: dict[str, float], allowances: Sequence[Allowance], at: float,
              wait: bool) -> tuple[bool, float]:
    """The arithmetic of one booking, on the allowances' `used_until` (changed in place when
    the post is booked): the earliest moment, not before `at`, at which every allowance allows
    a post, and whether it was booked there (without `wait`, only when that moment is `at`)."""
    moment = max([at, *(used_until.get(key, 0.0) - pace.slack for key, pace in allowances)])
    if not wait and moment > at + ROUNDING:
        return False, moment
    for key, pace in allowances:
        used_until[key] = max(used_until.get(key, 0.0), moment) + pace.interval
    return True, moment


async def _book(db: Database, allowances: Sequence[Allowance], now: datetime,
                wait: bool) -> tuple[bool, datetime]:
    """`plan_post` on the database: all or nothing, in one transaction. The rows are locked in
    key order (PostgreSQL; SQLite has one writer), so processes sharing the database book in
    turn, and no allowance is used for a post that does not go."""
    table = PostingAllowance
    keys = sorted({key for key, _ in allowances})
    used = col(table.used_until)
    async with db.engine.begin() as conn:
        # Written first so that, on SQLite, the transaction holds the write lock from here.
        await conn.execute(
            _insert(db)  # type: ignore[attr-defined]
            .values([{"key": key, "used_until": 0.0} for key in keys])
            .on_conflict_do_nothing(index_elements=[col(table.key)]))
        rows = await conn.execute(
            select(col(table.key), used).where(col(table.key).in_(keys))
            .order_by(col(table.key)).with_for_update())
        used_until = {key: float(value) for key, value in rows.all()}
        booked, moment = plan_post(used_until, allowances, _seconds(now), wait)
        if booked:
            statement = _insert(db).values(  # type: ignore[attr-defined]
                [{"key": key, "used_until": used_until[key]} for key in keys])
            await conn.execute(statement.on_conflict_do_update(
                index_elements=[col(table.key)],
                set_={"used_until": statement.excluded.used_until}))
    return booked, _moment(moment)


async def take_all(db: Database, allowances: Sequence[Allowance],
                   now: datetime) -> datetime | None:
    """Use one post of every allowance at `now`: None if all allow it, else the earliest
    moment they all will (and nothing is used)."""
    booked, moment = await _book(db, allowances, now, wait=False)
    return None if booked else moment


async def reserve_all(db: Database, allowances: Sequence[Allowance],
                      now: datetime) -> datetime:
    """Book the next post every allowance allows, however far ahead: the moment it is for.
    Booked posts are handed out in turn to every process, so a crowd held back at once comes
    back spread out, each at its own moment, rather than all together."""
    return (await _book(db, allowances, now, wait=True))[1]


async def free_all_at(db: Database, allowances: Sequence[Allowance],
                      now: datetime) -> datetime | None:
    """Like `take_all`, but only looking: None if a post would be allowed at `now`."""
    moments = [await free_at(db, key, pace, now) for key, pace in allowances]
    return max((m for m in moments if m is not None), default=None)


async def take(db: Database, key: str, pace: Pace, now: datetime) -> datetime | None:
    """`take_all` for one allowance."""
    return await take_all(db, [(key, pace)], now)


async def reserve(db: Database, key: str, pace: Pace, now: datetime) -> datetime:
    """`reserve_all` for one allowance."""
    return await reserve_all(db, [(key, pace)], now)


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
