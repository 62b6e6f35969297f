"""Exactly once in the crash window on Slack: every outbox post names its delivery in message
metadata, and a delivery tried again (taken over after a crash, or retried) looks for that post in
the channel's history before posting, so a post Slack accepted just before its sender died is
recorded, not repeated. bench/crash_window.py measures the same with real processes and kill -9."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from aiohttp import ClientSession
from sqlmodel import select

from bot.scheduler import OutboxSender
from bot.slack.app import DELIVERY_EVENT, SlackPoster
from handlers.replies import Reply
from storage import outbox
from storage.db import Database
from storage.models import DeliveryStatus, PostedMessage, ScheduledDelivery
from tests.conftest import FakeClock
from tests.support.crash import (
    crashing_senders,
    seed_reminders,
    slack_delivery,
    tally,
    wait_until_sent,
)
from tests.support.fake_slack import Call, FakeSlack, Scripted


def reminder_posts(fake: FakeSlack) -> list[Call]:
    """Every reminder post Slack received, answered or not."""
    return [c for c in fake.of("chat.postMessage")
            if str(c.body.get("text", "")).startswith("Reminder:")]


async def sender_for(db: Database, fake: FakeSlack, clock: FakeClock,
                     confirm_reposts: bool = True) -> tuple[OutboxSender, ClientSession]:
    delivery, session = slack_delivery(db, fake.api_url)
    return OutboxSender(db, delivery, clock, confirm_reposts=confirm_reposts), session


async def the_row(db: Database) -> ScheduledDelivery:
    async with db.session() as session:
        return (await session.exec(select(ScheduledDelivery).where(
            ScheduledDelivery.kind == "reminder"))).one()


async def test_every_outbox_post_names_its_delivery(db: Database, fake_slack: FakeSlack) -> None:
    await seed_reminders(db, 1)
    clock = FakeClock()
    sender, session = await sender_for(db, fake_slack, clock)
    try:
        assert await sender.tick() == 1
    finally:
        await session.close()
    post, = reminder_posts(fake_slack)
    key = (await the_row(db)).dedupe_key
    assert post.body["metadata"] == {"event_type": DELIVERY_EVENT,
                                     "event_payload": {"delivery_key": key}}
    # A first try has nothing to look for: no history is read.
    assert fake_slack.of("conversations.history") == []


async def dead_sender_posted(db: Database, fake: FakeSlack, clock: FakeClock) -> Call:
    """A sender claimed the reminder and Slack accepted its post, then it died before recording
    it. The post it made."""
    claimed, = await outbox.claim_due(db, clock.now, limit=10)
    delivery, session = slack_delivery(db, fake.api_url)
    try:
        poster = delivery.posters["slack"]
        assert isinstance(poster, SlackPoster)
        links = await delivery.links_for(claimed.partnership_id)
        await poster.post(links[0], Reply(title=f"Reminder: Crash 0 {claimed.dedupe_key}"),
                          claimed.dedupe_key)
    finally:
        await session.close()
    clock.advance(outbox.LEASE + timedelta(seconds=1))  # its lease runs out
    return reminder_posts(fake)[-1]


async def test_a_post_that_went_out_unrecorded_is_found_and_not_repeated(
    db: Database, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await seed_reminders(db, 1)
    clock = FakeClock()
    await dead_sender_posted(db, fake_slack, clock)
    survivor, session = await sender_for(db, fake_slack, clock)
    try:
        assert await survivor.tick() == 1
    finally:
        await session.close()
    assert len(reminder_posts(fake_slack)) == 1  # found, not posted again
    looked, = fake_slack.of("conversations.history")
    assert looked.body["include_all_metadata"] in ("1", "true")
    assert looked.body["channel"] == "C0CRASH001"
    row = await the_row(db)
    assert (row.status, row.attempts) == (DeliveryStatus.SENT, 2)
    async with db.session() as s:
        recorded = (await s.exec(select(PostedMessage))).all()
    ts = fake_slack.history["C0CRASH001"][-1]["ts"]
    assert [(p.channel_id, p.message_ref) for p in recorded
            if p.key == row.dedupe_key] == [("C0CRASH001", ts)]
    assert "was already posted" in caplog.text


async def test_without_the_check_the_crash_window_doubles_the_post(
    sqlite_db: Database, fake_slack: FakeSlack
) -> None:
    """What the check prevents (the behaviour before it, kept as an option for the bench)."""
    await seed_reminders(sqlite_db, 1)
    clock = FakeClock()
    await dead_sender_posted(sqlite_db, fake_slack, clock)
    survivor, session = await sender_for(sqlite_db, fake_slack, clock, confirm_reposts=False)
    try:
        assert await survivor.tick() == 1
    finally:
        await session.close()
    assert len(reminder_posts(fake_slack)) == 2


async def test_a_channel_history_that_cannot_be_read_falls_back_to_posting(
    sqlite_db: Database, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    """An app installed before the history scopes: posting again beats never posting."""
    await seed_reminders(sqlite_db, 1)
    clock = FakeClock()
    await dead_sender_posted(sqlite_db, fake_slack, clock)
    fake_slack.answer("conversations.history",
                      Scripted(body={"ok": False, "error": "missing_scope"}))
    survivor, session = await sender_for(sqlite_db, fake_slack, clock)
    try:
        assert await survivor.tick() == 1
    finally:
        await session.close()
    assert len(reminder_posts(fake_slack)) == 2
    assert (await the_row(sqlite_db)).status == DeliveryStatus.SENT
    assert "could not look for an earlier post" in caplog.text


async def test_senders_killed_mid_post_never_double_a_reminder(
    db: Database, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    """The quick form of bench/crash_window.py: Slack answers late, and one of three senders is
    killed mid-post every few tenths of a second until every reminder is out."""
    caplog.set_level(logging.INFO, logger="bot.scheduler")
    reminders = 24
    await seed_reminders(db, reminders)
    fake_slack.delay("chat.postMessage", 0.5)
    # Four at a time each, so all three are mid-post most of the time and kills land there.
    async with crashing_senders(db.url, fake_slack.api_url, kill_every=(0.2, 0.5),
                                lease=1.5, batch=4) as kills:
        await wait_until_sent(db, within=60)
    result = tally((str(c.body["text"]) for c in reminder_posts(fake_slack)), reminders)
    assert (result.doubled, result.lost) == (0, 0), result.line()
    assert kills() >= 3
    # The window was really crossed: posts Slack had taken were found, not repeated.
    assert "was already posted" in caplog.text
