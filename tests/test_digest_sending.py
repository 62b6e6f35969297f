"""Digests through the outbox and the real server, on a clock the test moves: on time, once
(across a crash and several processes), with the chart in the message's thread, through 429s,
and hundreds due at the same minute paced within Slack's limits without loss."""

from __future__ import annotations

import asyncio
from collections import Counter
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, update
from sqlmodel import col, select

from handlers import digest
from storage import pacing
from storage.db import Database
from storage.models import (
    ChannelLink,
    DeliveryStatus,
    Partnership,
    PartnershipSchool,
    PostingAllowance,
    ScheduledDelivery,
)
from storage.types import utcnow
from tests.conftest import FakeClock, running_bot
from tests.support.digest_week import DUE, seed_week
from tests.support.fake_slack import Call, FakeSlack, Scripted
from tests.support.learning import ok, set_up_partnerships
from tests.test_outbox import sender

POLL = 0.02
TITLE = "Weekly digest for East Barnet Area: since Monday 23 February"


async def due_at_monday(db: Database) -> Partnership:
    """The seeded week, with its digest queued for Monday 2 March 08:00 (as the planner would
    have done the week before)."""
    partnership = await seed_week(db)
    async with db.session() as session:
        queued = await digest.plan(session, partnership, digest.Timing(), DUE - timedelta(hours=1))
    assert queued == DUE
    return partnership


def digests_posted(fake: FakeSlack) -> list[Call]:
    return [c for c in fake.ok("chat.postMessage")
            if str(c.body.get("text", "")).startswith(("Weekly digest", "A quiet week"))]


def post_ts(fake: FakeSlack, post: Call) -> str:
    """The ts Slack gave a post (the fake keeps each channel's messages)."""
    found = [m["ts"] for m in fake.history[str(post.body["channel"])]
             if m["text"] == post.body["text"]]
    assert len(found) == 1
    return str(found[0])


async def digest_rows(db: Database) -> dict[str, ScheduledDelivery]:
    async with db.session() as session:
        rows = (await session.exec(select(ScheduledDelivery)
                                   .where(ScheduledDelivery.kind == "digest"))).all()
    return {r.dedupe_key: r for r in rows}


async def test_the_digest_goes_out_on_time_once_with_its_chart_in_the_thread(
    db: Database, fake_slack: FakeSlack,
) -> None:
    await due_at_monday(db)
    clock = FakeClock(DUE - timedelta(seconds=1))
    async with running_bot(db, fake_slack, clock, POLL) as bot:
        await bot.polls(3)
        assert digests_posted(fake_slack) == []
        clock.set(DUE)
        await fake_slack.wait_until(lambda: len(fake_slack.shared_files()) >= 1)
        post, = digests_posted(fake_slack)
        assert post.body["channel"] == "C0HEADS001" and post.body["text"] == TITLE
        assert "Overdue next steps (2)" in str(post.body["blocks"])
        completed, upload = fake_slack.shared_files()[0]
        assert completed.body["thread_ts"] == post_ts(fake_slack, post)  # the digest's thread
        assert upload.filename == "cpd-coverage-2026-W10.png"
        assert upload.content.startswith(b"\x89PNG")
        async with asyncio.timeout(5):
            while (await digest_rows(db))["digest:1:2026-W10"].status != DeliveryStatus.SENT:
                await bot.polls(1)
        bot.scheduler.kill()  # as a crash would, right after
    async with running_bot(db, fake_slack, clock, POLL) as bot:
        await bot.polls(5)
    assert len(digests_posted(fake_slack)) == 1
    rows = await digest_rows(db)
    sent = rows["digest:1:2026-W10"]
    assert (sent.status, sent.attempts, sent.sent_at, sent.last_error) == (
        DeliveryStatus.SENT, 1, DUE, None)
    # The next week's is queued as soon as this one is out.
    following = rows["digest:1:2026-W11"]
    assert (following.status, following.due_at) == (DeliveryStatus.PENDING,
                                                     DUE + timedelta(days=7))


async def test_three_processes_send_a_digest_once(db: Database, fake_slack: FakeSlack) -> None:
    await due_at_monday(db)
    clock = FakeClock(DUE)
    async with AsyncExitStack() as stack:
        senders = [await stack.enter_async_context(sender(db.url, fake_slack, clock))
                   for _ in range(3)]
        handled = await asyncio.gather(*(s.tick() for s in senders))
    assert sorted(handled) == [0, 0, 1]
    assert len(digests_posted(fake_slack)) == 1
    assert len(fake_slack.shared_files()) == 1


async def test_a_429_then_200_is_one_digest(sqlite_db: Database, fake_slack: FakeSlack) -> None:
    """Slack's behaviour, not storage's: SQLite only."""
    db = sqlite_db
    await due_at_monday(db)
    fake_slack.answer("chat.postMessage", Scripted(
        status=429, body={"ok": False, "error": "ratelimited"}, headers={"Retry-After": "1"}))
    clock = FakeClock(DUE)
    async with sender(db.url, fake_slack, clock) as one:
        assert await one.tick() == 1
    attempts = [c for c in fake_slack.of("chat.postMessage") if c.body.get("text") == TITLE]
    assert [c.status for c in attempts] == [429, 200]
    row = (await digest_rows(db))["digest:1:2026-W10"]
    assert (row.status, row.attempts) == (DeliveryStatus.SENT, 1)


async def test_slack_still_busy_holds_back_the_digest_and_the_workspace(
    sqlite_db: Database, fake_slack: FakeSlack,
) -> None:
    db = sqlite_db
    await due_at_monday(db)
    busy = Scripted(status=429, body={"ok": False, "error": "ratelimited"},
                    headers={"Retry-After": "2"})
    fake_slack.answer("chat.postMessage", busy, busy)
    clock = FakeClock(DUE)
    async with sender(db.url, fake_slack, clock) as one:
        await one.tick()
        row = (await digest_rows(db))["digest:1:2026-W10"]
        assert (row.status, row.attempts) == (DeliveryStatus.PENDING, 1)
        assert "Slack asked me to slow down while posting in #heads." in (row.last_error or "")
        assert row.next_attempt_at >= DUE + timedelta(seconds=2)  # Retry-After honoured
        # Nothing else goes to that workspace before then either.
        workspace = "slack:workspace:T0001"
        pace = pacing.Pace(interval=0.5, burst=10)
        assert await pacing.free_at(db, workspace, pace, DUE) == DUE + timedelta(seconds=2)
        clock.set(row.next_attempt_at)
        # The digest, and (queued by the planner after it) the two overdue actions' owners'
        # private nudges: it is Monday morning, in nudge hours.
        assert await one.tick() == 3
    assert len(digests_posted(fake_slack)) == 1
    row = (await digest_rows(db))["digest:1:2026-W10"]
    assert (row.status, row.attempts) == (DeliveryStatus.SENT, 2)


async def test_a_quiet_week_set_to_skip_is_recorded_as_skipped(
    db: Database, fake_slack: FakeSlack,
) -> None:
    await set_up_partnerships(db)  # nothing logged at all
    async with db.session() as session:  # and the schools joined long ago
        await session.exec(update(PartnershipSchool).values(
            joined_at=datetime(2025, 9, 1, tzinfo=UTC)))
    await ok(db, "partnership", "digest East Barnet Area quiet: skip")
    row, = (await digest_rows(db)).values()
    clock = FakeClock(row.due_at)
    async with sender(db.url, fake_slack, clock) as one:
        assert await one.tick() == 1
    row = (await digest_rows(db))[row.dedupe_key]
    assert row.status == DeliveryStatus.SKIPPED
    assert row.last_error == ("a quiet week: nothing to report, and quiet weeks are set to "
                              "send nothing")
    assert digests_posted(fake_slack) == []


# --- fan-out -----------------------------------------------------------------------------------


async def many_partnerships(db: Database, n: int) -> None:
    """`n` partnerships in one workspace, each with its own linked channel, and their digests
    planned for the same Monday 08:00."""
    now = utcnow()
    async with db.engine.begin() as conn:
        await conn.execute(insert(Partnership), [
            {"workspace": "T0001", "name": f"Area {k:03d}", "name_key": f"area {k:03d}",
             "kind": "loose", "proposed": False, "timezone": "Europe/London",
             "created_at": now} for k in range(n)])
        ids = (await conn.execute(select(col(Partnership.id)))).scalars().all()
        await conn.execute(insert(ChannelLink), [
            {"partnership_id": pid, "platform": "slack", "channel_id": f"C{pid:08d}",
             "channel_name": f"area-{pid}", "linked_at": now} for pid in ids])
    async with db.session() as session:
        assert await digest.plan_due(session, DUE - timedelta(hours=1)) == n


async def test_hundreds_due_at_once_are_paced_and_all_sent_once(
    db: Database, fake_slack: FakeSlack,
) -> None:
    partnerships = 200
    await many_partnerships(db, partnerships)
    clock = FakeClock(DUE)
    rounds = 0
    async with AsyncExitStack() as stack:
        senders = [await stack.enter_async_context(sender(db.url, fake_slack, clock))
                   for _ in range(3)]
        while len(digests_posted(fake_slack)) < partnerships:
            await asyncio.gather(*(s.tick() for s in senders))
            clock.advance(timedelta(seconds=1))
            rounds += 1
            assert rounds < 400, f"only {len(digests_posted(fake_slack))} sent"
    posts = digests_posted(fake_slack)
    assert Counter(c.body["channel"] for c in posts) == Counter(
        {f"C{pid:08d}": 1 for pid in range(1, partnerships + 1)})
    rows = list((await digest_rows(db)).values())
    this_week = [r for r in rows if r.dedupe_key.endswith(":2026-W10")]
    assert {r.status for r in this_week} == {DeliveryStatus.SENT}
    assert {r.attempts for r in this_week} == {1}  # held back, never failed
    # Slack's pace for a workspace, kept by three processes together: at most 10 at once and
    # 2 a second after that, in any window.
    sent = sorted(r.sent_at for r in this_week if r.sent_at is not None)
    for start in sent:
        for window in (1, 10, 60):
            inside = sum(1 for t in sent if start <= t < start + timedelta(seconds=window))
            assert inside <= 10 + 2 * window, (start, window, inside)
    # 200 at 2 a second take about 100 seconds; the 1-second rounds add a little.
    assert sent[-1] - sent[0] <= timedelta(seconds=110)
    # And every next week's digest is already queued.
    assert sum(1 for r in rows if r.dedupe_key.endswith(":2026-W11")) == partnerships


async def test_pace_allowances_are_shared_and_atomic(db: Database) -> None:
    pace = pacing.Pace(interval=1.0, burst=3)
    at = datetime(2026, 3, 2, 8, 0, tzinfo=DUE.tzinfo)
    results = await asyncio.gather(*(pacing.take(db, "k", pace, at) for _ in range(5)))
    assert sum(1 for r in results if r is None) == 3  # the burst, and no more
    assert {r for r in results if r is not None} == {at + timedelta(seconds=1)}
    assert await pacing.take(db, "k", pace, at + timedelta(seconds=1)) is None
    async with db.session() as session:
        row = (await session.exec(select(PostingAllowance))).one()
    assert row.key == "k"
