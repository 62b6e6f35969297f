"""Reminders through the real server, on a clock the test moves: on time, once, across restarts,
late with "(delayed)" when the bot was down, and exactly once through a 429."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from sqlmodel import col, select

from handlers.dispatch import run_command
from storage.db import Database
from storage.models import DeliveryStatus, ScheduledDelivery
from storage.types import LONDON
from tests.conftest import FakeClock, RunningBot, running_bot
from tests.support.fake_slack import Call, FakeSlack, Scripted
from tests.support.learning import slack_person
from tests.support.when import day_ahead, day_before, london, uk_short
from tests.test_meetings_slack import command, linked_partnership

POLL = 0.02  # seconds between the outbox's polls in these tests
# The Slack user and workspace of tests/fixtures/slack/slash_command.json: the lead.
STEVE = slack_person("Steve", "U2147483697", channel="C0HEADS001")


def reminders(bot: RunningBot) -> list[Call]:
    """Reminder posts Slack accepted."""
    return [c for c in bot.fake.ok("chat.postMessage")
            if str(c.body.get("text", "")).startswith("Reminder:")]


async def wait_reminders(bot: RunningBot, n: int) -> list[Call]:
    await bot.fake.wait_until(lambda: len(reminders(bot)) >= n)
    return reminders(bot)


async def schedule_meeting(bot: RunningBot, day: date) -> datetime:
    """A linked partnership with one meeting at 10:00 to 11:00 London time on `day`; its start.
    Its weekly digest is off, so that only reminders fall due."""
    await linked_partnership(bot)
    outcome = await run_command(bot.db, "partnership", "digest East Barnet Area off", STEVE)
    assert "Turned off" in outcome.reply.title
    answer = await command(bot, f"schedule East Barnet Area when: {uk_short(day, '10:00 to 11:00')}"
                                " agenda: Welcome", 3)
    assert "Scheduled" in answer
    return london(day, 10).astimezone(UTC)


async def deliveries(db: Database) -> list[ScheduledDelivery]:
    async with db.session() as session:
        result = await session.exec(select(ScheduledDelivery)
                                    .where(ScheduledDelivery.kind == "reminder")
                                    .order_by(col(ScheduledDelivery.due_at)))
        return list(result.all())


@pytest.mark.clock
async def test_reminders_fire_on_time_and_not_before(db: Database, fake_slack: FakeSlack,
                                                    now: datetime) -> None:
    clock = FakeClock(now)
    async with running_bot(db, fake_slack, clock, POLL) as bot:
        start = await schedule_meeting(bot, day_ahead(3, now))
        on_the_eve, hour_before = day_before(start), start - timedelta(hours=1)
        clock.set(on_the_eve - timedelta(seconds=1))
        await bot.polls(3)
        assert reminders(bot) == []

        clock.set(on_the_eve)
        first, = await wait_reminders(bot, 1)
        assert first.body["channel"] == "C0HEADS001"
        assert first.body["text"] == "Reminder: East Barnet Area meeting is tomorrow at 10:00"
        body = str(first.body["blocks"])
        assert "1. Welcome" in body and "Going: 0" in body and "Yet to reply: 1" in body

        clock.set(hour_before - timedelta(seconds=1))
        await bot.polls(3)
        assert len(reminders(bot)) == 1
        clock.set(hour_before)
        second = (await wait_reminders(bot, 2))[1]
        assert second.body["text"] == "Reminder: East Barnet Area meeting starts in 1 hour"

        clock.set(start + timedelta(minutes=5))
        await bot.polls(3)
        assert len(reminders(bot)) == 2
    assert [d.status for d in await deliveries(db)] == ["sent", "sent"]


async def test_a_killed_and_restarted_bot_sends_each_reminder_once(
    db: Database, fake_slack: FakeSlack
) -> None:
    clock = FakeClock()
    async with running_bot(db, fake_slack, clock, POLL) as bot:
        start = await schedule_meeting(bot, day_ahead(3))
        await bot.polls(2)
        bot.scheduler.kill()  # as a crash would: nothing is tidied up

    clock.set(day_before(start) + timedelta(seconds=30))
    async with running_bot(db, fake_slack, clock, POLL) as bot:
        sent = await wait_reminders(bot, 1)
        await bot.polls(5)
        assert len(reminders(bot)) == 1
        assert "(delayed)" not in sent[0].body["text"]
    # A third start at the same moment finds nothing more to send.
    async with running_bot(db, fake_slack, clock, POLL) as bot:
        await bot.polls(3)
        assert len(reminders(bot)) == 1


async def test_a_reminder_due_while_the_bot_was_down_is_sent_late_or_dropped(
    db: Database, fake_slack: FakeSlack
) -> None:
    clock = FakeClock()
    async with running_bot(db, fake_slack, clock, POLL) as bot:
        start = await schedule_meeting(bot, day_ahead(3))

    # Down from before the day-before reminder until half an hour before the meeting.
    clock.set(start - timedelta(minutes=30))
    async with running_bot(db, fake_slack, clock, POLL) as bot:
        late, = await wait_reminders(bot, 1)
        await bot.polls(3)
        assert len(reminders(bot)) == 1
    # Sent once, marked late, with the time still to go; the day-before one, overtaken by it,
    # is dropped rather than posted beside it.
    assert late.body["text"] == "Reminder: East Barnet Area meeting starts in 30 minutes (delayed)"
    eve, hour_before = await deliveries(db)
    assert (eve.status, eve.last_error) == (DeliveryStatus.DROPPED,
                                                          "no longer needed")
    assert hour_before.status == DeliveryStatus.SENT


async def test_a_reminder_is_dropped_once_the_meeting_has_started(
    db: Database, fake_slack: FakeSlack
) -> None:
    clock = FakeClock()
    async with running_bot(db, fake_slack, clock, POLL) as bot:
        start = await schedule_meeting(bot, day_ahead(3))

    clock.set(start + timedelta(minutes=1))
    async with running_bot(db, fake_slack, clock, POLL) as bot:
        await bot.polls(3)
        assert reminders(bot) == []
    rows = await deliveries(db)
    assert [r.status for r in rows] == [DeliveryStatus.DROPPED] * 2
    assert all("too late" in (r.last_error or "") for r in rows)


async def test_a_429_then_200_gives_exactly_one_post(sqlite_db: Database,
                                                    fake_slack: FakeSlack) -> None:
    """Slack's behaviour, not storage: SQLite only, to keep the suite quick."""
    db = sqlite_db
    clock = FakeClock()
    async with running_bot(db, fake_slack, clock, POLL) as bot:
        start = await schedule_meeting(bot, day_ahead(3))
        fake_slack.answer("chat.postMessage", Scripted(
            status=429, body={"ok": False, "error": "ratelimited"}, headers={"Retry-After": "1"}))
        clock.set(day_before(start))
        await wait_reminders(bot, 1)
        await bot.polls(3)
        assert len(reminders(bot)) == 1
        attempts = [c for c in fake_slack.of("chat.postMessage")
                    if str(c.body.get("text", "")).startswith("Reminder:")]
        assert [c.status for c in attempts] == [429, 200]
    first = (await deliveries(db))[0]
    assert (first.status, first.attempts) == (DeliveryStatus.SENT, 1)


async def test_slack_still_busy_after_its_retry_is_retried_later_by_the_outbox(
    sqlite_db: Database, fake_slack: FakeSlack
) -> None:
    db = sqlite_db
    clock = FakeClock()
    async with running_bot(db, fake_slack, clock, POLL) as bot:
        start = await schedule_meeting(bot, day_ahead(3))
        busy = Scripted(status=429, body={"ok": False, "error": "ratelimited"},
                        headers={"Retry-After": "1"})
        fake_slack.answer("chat.postMessage", busy, busy)
        clock.set(day_before(start))
        await fake_slack.wait_until(lambda: len(fake_slack.of("chat.postMessage")) >= 4)
        await bot.polls(2)
        row = (await deliveries(db))[0]
        assert (row.status, row.attempts) == (DeliveryStatus.PENDING, 1)
        assert "slow down" in (row.last_error or "")
        assert row.next_attempt_at >= clock.now + timedelta(seconds=1)  # Retry-After honoured
        assert reminders(bot) == []

        clock.advance(timedelta(minutes=1))
        await wait_reminders(bot, 1)
        await bot.polls(3)
        assert len(reminders(bot)) == 1
    row = (await deliveries(db))[0]
    assert (row.status, row.attempts) == (DeliveryStatus.SENT, 2)


@pytest.mark.parametrize(("booked_on", "meeting_day", "hours_before"), [
    (date(2027, 3, 24), date(2027, 3, 28), 23),  # the clocks go forward at 01:00 that Sunday
    (date(2027, 10, 27), date(2027, 10, 31), 25),  # and back at 02:00 that Sunday
], ids=["march", "october"])
async def test_the_day_before_reminder_keeps_the_school_clock_across_a_clock_change(
    db: Database, fake_slack: FakeSlack, booked_on: date, meeting_day: date, hours_before: int
) -> None:
    """A meeting at 10:00 on the Sunday the clocks change is reminded at 10:00 on the Saturday,
    UK time: 23 hours before in March, 25 in October, never 24."""
    booked = datetime.combine(booked_on, time(12), tzinfo=LONDON)
    with time_machine.travel(booked, tick=True):
        clock = FakeClock()
        async with running_bot(db, fake_slack, clock, POLL) as bot:
            start = await schedule_meeting(bot, meeting_day)
            eve = datetime.combine(meeting_day - timedelta(days=1), time(10), tzinfo=LONDON)
            assert start - eve == timedelta(hours=hours_before)
            assert [r.due_at for r in await deliveries(db)] == [eve, start - timedelta(hours=1)]

            # Nothing before 10:00 on Saturday (in March, 24 hours before is 09:00 on Saturday).
            for moment in sorted({start - timedelta(hours=24), eve - timedelta(seconds=1)}):
                if moment < eve:
                    clock.set(moment)
                    await bot.polls(3)
                    assert reminders(bot) == []
            clock.set(eve)
            first, = await wait_reminders(bot, 1)  # on time, not "(delayed)"
            assert first.body["text"] == "Reminder: East Barnet Area meeting is tomorrow at 10:00"
