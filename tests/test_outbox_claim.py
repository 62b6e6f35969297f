"""The outbox's claim on its own (storage/outbox.py), on each database: only what is due is
taken, oldest first and no more than asked; a claim holds the row for its lease; a lease run
out lets another take it over, after which the first claim can neither renew nor finish it."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from storage import outbox
from storage.db import Database
from storage.models import DeliveryStatus, ScheduledDelivery
from storage.types import utcnow
from tests.support.learning import ok

CLOSE = timedelta(seconds=1)


async def queued(db: Database, *minutes_ago: int) -> None:
    await ok(db, "partnership", "create East Barnet Area")
    now = utcnow()
    async with db.session() as session:
        for n, ago in enumerate(minutes_ago):
            assert await outbox.enqueue(session, kind="test", partnership_id=1,
                                        dedupe_key=f"test:{n}",
                                        due_at=now - timedelta(minutes=ago))


async def row(db: Database, key: str) -> ScheduledDelivery:
    async with db.session() as session:
        return (await session.exec(select(ScheduledDelivery).where(
            ScheduledDelivery.dedupe_key == key))).one()


async def test_only_what_is_due_is_claimed_oldest_first_and_no_more(db: Database) -> None:
    await queued(db, 5, 30, -10, 20)  # test:2 is due in ten minutes
    now = utcnow()
    claimed = await outbox.claim_due(db, now, limit=2)
    assert [c.dedupe_key for c in claimed] == ["test:1", "test:3"]
    assert all(c.attempts == 1 and c.lease_until == now + outbox.LEASE for c in claimed)
    rest = await outbox.claim_due(db, now, limit=5)
    assert [c.dedupe_key for c in rest] == ["test:0"]
    assert await outbox.claim_due(db, now, limit=5) == []  # all held, or not yet due
    stored = await row(db, "test:1")
    assert stored.status == DeliveryStatus.SENDING and stored.attempts == 1
    assert stored.lease_until is not None
    assert abs(stored.lease_until - (now + outbox.LEASE)) < CLOSE


async def test_a_lease_run_out_is_taken_over_and_the_first_claim_loses(db: Database) -> None:
    await queued(db, 1)
    now = utcnow()
    [first] = await outbox.claim_due(db, now, limit=1)
    assert await outbox.renew(db, first, now + timedelta(seconds=30)) is True
    renewed = await row(db, "test:0")
    assert renewed.lease_until is not None
    assert abs(renewed.lease_until - (now + timedelta(seconds=30) + outbox.LEASE)) < CLOSE
    # Not yet run out (the renewed lease holds it), then run out.
    assert await outbox.claim_due(db, now + outbox.LEASE, limit=1) == []
    later = now + timedelta(seconds=31) + outbox.LEASE
    [second] = await outbox.claim_due(db, later, limit=1)
    assert second.token != first.token and second.attempts == 2
    assert await outbox.renew(db, first, later) is False
    assert await outbox.mark_sent(db, first, later) is False
    assert (await row(db, "test:0")).status == DeliveryStatus.SENDING
    assert await outbox.renew(db, second, later) is True
    assert await outbox.mark_sent(db, second, later) is True
    assert (await row(db, "test:0")).status == DeliveryStatus.SENT
    assert await outbox.claim_due(db, later + timedelta(hours=1), limit=1) == []


async def test_a_post_is_recorded_even_when_the_claim_was_lost(db: Database) -> None:
    await queued(db, 1)
    now = utcnow()
    [first] = await outbox.claim_due(db, now, limit=1)
    later = now + timedelta(seconds=1) + outbox.LEASE
    [second] = await outbox.claim_due(db, later, limit=1)
    post = outbox.Post("slack", "C0HEADS001", "1700000000.000100")
    assert await outbox.mark_sent(db, first, later, post) is False  # the post did go out
    async with db.session() as session:
        posts = await outbox.posts_of(session, "test:0")
    assert [(p.channel_id, p.message_ref) for p in posts] == [("C0HEADS001",
                                                               "1700000000.000100")]
    assert (await row(db, "test:0")).status == DeliveryStatus.SENDING
    assert await outbox.mark_sent(db, second, later, post) is True
    assert (await row(db, "test:0")).status == DeliveryStatus.SENT
