"""The delivery outbox under stress: several schedulers on one database, a sender that dies
holding a lease, network errors, Slack refusing for good, and meetings that move or are
cancelled. Senders post to the recording fake Slack through the real Slack client."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import ClientSession
from sqlmodel import col, select

from bot.delivery import Delivery
from bot.scheduler import MAX_ATTEMPTS, OutboxScheduler, OutboxSender
from bot.slack.app import SlackPoster, slack_client
from bot.slack.oauth import EnvironmentBotToken
from handlers.context import Caller
from handlers.dispatch import run_command
from handlers.replies import Outcome
from storage import outbox
from storage.db import Database
from storage.models import DeliveryStatus, PostedMessage, ScheduledDelivery
from storage.types import utcnow
from tests.conftest import FakeClock, moving
from tests.conftest import test_settings as settings_for
from tests.support.databases import PATIENT
from tests.support.fake_slack import DEFAULT_BOT_TOKEN, Call, FakeSlack, Scripted
from tests.support.shell_caller import caller
from tests.support.when import day_ahead, day_before, london, uk_short

ANN = caller("Ann", channel="C0HEADS001")


async def say(db: Database, text: str, who: Caller = ANN, now: datetime | None = None) -> Outcome:
    command, _, rest = text.partition(" ")
    return await run_command(db, command, rest, replace(who, now=now or utcnow()))


async def partnership_with_channel(db: Database) -> None:
    await say(db, "partnership create East Barnet Area")
    await say(db, "partnership channel East Barnet Area")
    # These tests are about reminders: no weekly digest falls due among them.
    await say(db, "partnership digest East Barnet Area off")


async def schedule(db: Database, days: int, hour: int = 10, title: str = "") -> datetime:
    day = day_ahead(days)
    named = f" title: {title}" if title else ""
    outcome = await say(db, f"meeting schedule East Barnet Area when: "
                            f"{uk_short(day, f'{hour}:00 to {hour + 1}:00')}{named}")
    assert "Scheduled" in outcome.reply.title, outcome.reply.plain_text()
    return london(day, hour).astimezone(UTC)


@asynccontextmanager
async def sender(url: str, fake: FakeSlack, clock: FakeClock,
                 batch: int = 50) -> AsyncIterator[OutboxSender]:
    """A sender as another bot process would have: its own engine and Slack client."""
    database = Database(url, timeouts=PATIENT)
    client = slack_client(settings_for(fake, url))
    client.session = ClientSession()
    try:
        poster = SlackPoster(client, database, EnvironmentBotToken(DEFAULT_BOT_TOKEN))
        yield OutboxSender(database, Delivery(database, {"slack": poster}), clock, batch=batch)
    finally:
        await client.session.close()
        await database.dispose()


def reminder_posts(fake: FakeSlack) -> list[Call]:
    return [c for c in fake.ok("chat.postMessage")
            if str(c.body.get("text", "")).startswith("Reminder:")]


async def rows(db: Database) -> list[ScheduledDelivery]:
    """The reminders in the outbox."""
    async with db.session() as session:
        result = await session.exec(select(ScheduledDelivery)
                                    .where(ScheduledDelivery.kind == "reminder")
                                    .order_by(col(ScheduledDelivery.id)))
        return list(result.all())


async def test_three_schedulers_on_one_database_send_each_reminder_once(
    db: Database, fake_slack: FakeSlack
) -> None:
    """On PostgreSQL (FOR UPDATE SKIP LOCKED) and SQLite (its single writer) alike."""
    await partnership_with_channel(db)
    await say(db, "meeting settings East Barnet Area reminders: 1 hour")
    meetings = 30
    for n in range(meetings):
        start = await schedule(db, days=3, title=f"Meeting {n}")
    expected = await rows(db)
    assert len(expected) == meetings
    clock = FakeClock(start - timedelta(minutes=59))  # all due at once

    # One channel takes about a post a second: the three senders share that pace.
    async with AsyncExitStack() as stack, moving(clock, timedelta(milliseconds=250)):
        senders = [await stack.enter_async_context(sender(db.url, fake_slack, clock, batch=3))
                   for _ in range(3)]
        schedulers = [OutboxScheduler(s, poll_seconds=0.01) for s in senders]
        for scheduler in schedulers:
            scheduler.start()
        try:
            await fake_slack.wait_until(lambda: len(reminder_posts(fake_slack)) >= len(expected),
                                        within=20)
            for scheduler in schedulers:
                await asyncio.wait_for(scheduler.polled(3), 5)
        finally:
            for scheduler in schedulers:
                await scheduler.stop()

    posts = reminder_posts(fake_slack)
    assert len(posts) == len(expected)
    titles = Counter(str(c.body["text"]).partition(" starts in ")[0] for c in posts)
    assert titles == Counter({f"Reminder: Meeting {n}": 1 for n in range(meetings)})
    assert {r.status for r in await rows(db)} == {DeliveryStatus.SENT}
    assert all(r.attempts == 1 for r in await rows(db))
    async with db.session() as session:
        recorded = (await session.exec(select(PostedMessage).where(
            col(PostedMessage.key).startswith("reminder:")))).all()
    assert len(recorded) == len(expected)


async def test_a_sender_that_dies_holding_a_lease_is_taken_over_after_it(
    db: Database, fake_slack: FakeSlack
) -> None:
    await partnership_with_channel(db)
    start = await schedule(db, days=3)
    clock = FakeClock(start - timedelta(hours=1))
    dead = await outbox.claim_due(db, clock.now, limit=10)  # claimed, then the process died
    assert len(dead) == 2

    async with sender(db.url, fake_slack, clock) as survivor:
        assert await survivor.tick() == 0  # the lease still holds
        clock.advance(outbox.LEASE + timedelta(seconds=1))
        assert await survivor.tick() == 2
    assert len(reminder_posts(fake_slack)) == 1  # the day-before one was overtaken
    # The dead process's claim can no longer change anything.
    assert not await outbox.mark_sent(db, dead[0], clock.now)
    assert not await outbox.renew(db, dead[1], clock.now)
    statuses = sorted(r.status for r in await rows(db))
    assert statuses == [DeliveryStatus.DROPPED, DeliveryStatus.SENT]


async def test_a_network_error_is_retried_with_backoff_and_recorded(
    db: Database, fake_slack: FakeSlack
) -> None:
    await partnership_with_channel(db)
    start = await schedule(db, days=3)
    clock = FakeClock(day_before(start))
    async with sender(db.url, fake_slack, clock) as unreachable:
        poster = unreachable.delivery.posters["slack"]
        assert isinstance(poster, SlackPoster)
        poster.client.base_url = "http://127.0.0.1:9/api/"  # nothing listens there
        await unreachable.tick()
        first = (await rows(db))[0]
        assert (first.status, first.attempts) == (DeliveryStatus.PENDING, 1)
        assert "couldn't reach Slack" in (first.last_error or "")
        assert first.next_attempt_at > clock.now
        assert await unreachable.tick() == 0  # not before its backoff

        poster.client.base_url = fake_slack.api_url
        clock.set(first.next_attempt_at)
        assert await unreachable.tick() == 1
    assert len(reminder_posts(fake_slack)) == 1
    first = (await rows(db))[0]
    assert (first.status, first.attempts) == (DeliveryStatus.SENT, 2)


async def test_a_refusal_that_never_clears_ends_failed_with_its_reason(
    db: Database, fake_slack: FakeSlack
) -> None:
    await partnership_with_channel(db)
    start = await schedule(db, days=20)
    clock = FakeClock(day_before(start))
    refused = Scripted(body={"ok": False, "error": "not_in_channel"})
    fake_slack.answer("chat.postMessage", *[refused] * MAX_ATTEMPTS)
    async with sender(db.url, fake_slack, clock) as stubborn:
        for _ in range(MAX_ATTEMPTS):
            assert await stubborn.tick() == 1
            clock.advance(timedelta(minutes=11))
    first = (await rows(db))[0]
    assert (first.status, first.attempts) == (DeliveryStatus.FAILED, MAX_ATTEMPTS)
    assert "/invite @Partnership Bot" in (first.last_error or "")
    assert "retries used up" in (first.last_error or "")
    assert reminder_posts(fake_slack) == []
    # Members can see it too.
    who = (await say(db, "meeting who 1")).reply.plain_text()
    assert "Reminders\n1 day before: not sent (I can't post in #ch-c0heads001 yet" in who
    assert "1 hour before: due " in who


async def test_retries_stop_when_the_meeting_starts(db: Database, fake_slack: FakeSlack) -> None:
    await partnership_with_channel(db)
    start = await schedule(db, days=3)
    clock = FakeClock(start - timedelta(minutes=20))
    fake_slack.answer("chat.postMessage", *[Scripted(body={"ok": False, "error": "fatal_error"})]
                      * 20)
    async with sender(db.url, fake_slack, clock) as busy:
        while clock.now < start:
            await busy.tick()
            clock.advance(timedelta(minutes=1))
    hour_before = (await rows(db))[1]
    assert hour_before.status == DeliveryStatus.FAILED
    assert "no time left to try again" in (hour_before.last_error or "")


@pytest.mark.clock
async def test_moving_or_cancelling_a_meeting_moves_or_cancels_its_reminders(
    db: Database, fake_slack: FakeSlack, now: datetime
) -> None:
    await partnership_with_channel(db)
    start = await schedule(db, days=3)
    new_day = day_ahead(5, now)
    await say(db, f"meeting move 1 when: {uk_short(new_day, '14:00 to 15:00')}")
    by_key = {r.dedupe_key: r for r in await rows(db)}
    assert {k: r.status for k, r in by_key.items()} == {
        "reminder:1:1440:0": "cancelled", "reminder:1:60:0": "cancelled",
        "reminder:1:1440:1": "pending", "reminder:1:60:1": "pending"}
    new_start = london(new_day, 14).astimezone(UTC)
    assert by_key["reminder:1:60:1"].due_at == new_start - timedelta(hours=1)
    assert by_key["reminder:1:60:1"].expires_at == new_start

    clock = FakeClock(start - timedelta(hours=1))  # the old time: nothing is due then
    async with sender(db.url, fake_slack, clock) as poster:
        assert await poster.tick() == 0
        clock.set(day_before(new_start))
        assert await poster.tick() == 1
        await say(db, "meeting cancel 1")
        clock.set(new_start - timedelta(hours=1))
        assert await poster.tick() == 0
    assert [c.body["text"] for c in reminder_posts(fake_slack)] == [
        "Reminder: East Barnet Area meeting is tomorrow at 14:00"]
    assert {r.dedupe_key: r.status for r in await rows(db)}["reminder:1:60:1"] == "cancelled"


async def test_a_reminder_goes_to_each_linked_channel_once_even_when_one_fails(
    db: Database, fake_slack: FakeSlack
) -> None:
    await partnership_with_channel(db)
    await say(db, "partnership channel East Barnet Area", replace(ANN, channel_id="C0SECOND1"))
    start = await schedule(db, days=3)
    clock = FakeClock(day_before(start))
    fake_slack.answer("chat.postMessage", Scripted(), Scripted(body={"ok": False,
                                                                     "error": "fatal_error"}))
    async with sender(db.url, fake_slack, clock) as poster:
        await poster.tick()
        clock.advance(timedelta(minutes=1))
        await poster.tick()
    channels = [c.body["channel"] for c in reminder_posts(fake_slack)]
    assert sorted(channels) == ["C0HEADS001", "C0SECOND1"]
    first = (await rows(db))[0]
    assert (first.status, first.attempts) == (DeliveryStatus.SENT, 2)
