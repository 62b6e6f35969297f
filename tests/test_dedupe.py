"""The request claim (storage/dedupe.py) on its own, on each database: a key is claimed once, a
claim rolled back is not remembered, a concurrent claim waits for the first and loses, and ids
older than a day are forgotten (only those)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlmodel import select

from storage import dedupe
from storage.db import Database
from storage.models import RequestSeen
from storage.types import utcnow


async def claim(db: Database, key: str) -> bool:
    async with db.session() as session:
        return await dedupe.claim(session, key)


async def keys(db: Database) -> set[str]:
    async with db.session() as session:
        return set((await session.exec(select(RequestSeen.key))).all())


async def test_a_key_is_claimed_once(db: Database) -> None:
    assert await claim(db, "slack:1.2.abc") is True
    assert await claim(db, "slack:1.2.abc") is False
    assert await claim(db, "slack:1.2.abd") is True  # another key is another request
    assert await claim(db, "teams:1.2.abc") is True
    assert await keys(db) == {"slack:1.2.abc", "slack:1.2.abd", "teams:1.2.abc"}
    assert await dedupe.seen(db, "slack:1.2.abc") is True
    assert await dedupe.seen(db, "slack:9.9.zzz") is False


async def test_a_long_key_is_cut_to_the_column_and_still_matches(db: Database) -> None:
    key = "slack:" + "7" * 300
    assert await claim(db, key) is True
    assert await claim(db, key) is False
    assert await dedupe.seen(db, key) is True
    assert await keys(db) == {key[:120]}


class Boom(Exception):
    pass


async def test_a_claim_rolled_back_is_not_remembered(db: Database) -> None:
    with pytest.raises(Boom):
        async with db.session() as session:
            assert await dedupe.claim(session, "slack:failed") is True
            raise Boom
    assert await dedupe.seen(db, "slack:failed") is False
    assert await claim(db, "slack:failed") is True  # the retry runs


async def test_a_concurrent_claim_waits_for_the_first_and_loses(db: Database) -> None:
    first_claimed = asyncio.Event()
    release = asyncio.Event()

    async def first() -> bool:
        async with db.session() as session:
            won = await dedupe.claim(session, "slack:twin")
            first_claimed.set()
            await release.wait()
            return won

    async def second() -> bool:
        await first_claimed.wait()
        return await claim(db, "slack:twin")

    one = asyncio.create_task(first())
    two = asyncio.create_task(second())
    await first_claimed.wait()
    await asyncio.sleep(0.3)
    assert not two.done()  # it waits on the first's uncommitted key
    release.set()
    assert list(await asyncio.wait_for(asyncio.gather(one, two), 30)) == [True, False]


async def test_the_clean_up_forgets_only_ids_older_than_a_day(db: Database) -> None:
    now = utcnow()
    async with db.session() as session:
        for key, age in (("old", dedupe.REMEMBER_FOR + timedelta(minutes=1)),
                         ("older", timedelta(days=30)),
                         ("fresh", dedupe.REMEMBER_FOR - timedelta(minutes=1)),
                         ("new", timedelta(0))):
            session.add(RequestSeen(key=key, received_at=now - age))
    assert await dedupe.forget_old(db) == 2
    assert await keys(db) == {"fresh", "new"}
    assert await dedupe.forget_old(db) == 0
    assert await claim(db, "old") is True  # forgotten: a replay that late runs again
    assert await claim(db, "fresh") is False
