"""How late are reminders when 1,000 fall due at once?

Lateness is the time from a reminder's due moment to its arrival at the Slack Web API. The real
outbox (APScheduler poller, atomic claims, the Slack client) posts to the recording fake Web API
on loopback. A baseline run with a single reminder comes first, in the same process and with the
same poll interval, and the figures are printed as ratios against it.

    .venv/bin/python -m bench.reminder_lateness [--count 1000] [--poll 1.0] [--database URL]

All the reminders fall due at the same instant (every meeting at the same time, as when a whole
network meets at 10am), the worst case for "due in the same minute". Needs no network.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import ClientSession
from sqlmodel import col, update

from bot.config import Settings
from bot.delivery import Delivery, PostingLimits
from bot.scheduler import OutboxScheduler, OutboxSender
from bot.slack.app import SlackPoster, slack_client
from bot.slack.oauth import EnvironmentBotToken
from handlers.dispatch import run_command
from handlers.lookup import find_partnership
from handlers.meetings import sync_reminders
from storage.db import Database
from storage.models import Meeting, ScheduledDelivery
from tests.support.fake_slack import DEFAULT_BOT_TOKEN, FakeSlack
from tests.support.shell_caller import caller

LEAD = caller("Ann", workspace="TBENCH0001", channel="C0BENCH001")


@dataclass(frozen=True)
class Lateness:
    count: int
    p50: float
    p95: float
    worst: float
    drained_in: float  # from the due moment to the last post

    def line(self, label: str) -> str:
        return (f"{label:>9}: {self.count:5d} reminders  p50 {self.p50:6.3f} s  "
                f"p95 {self.p95:6.3f} s  max {self.worst:6.3f} s  "
                f"(all posted {self.drained_in:6.3f} s after due)")


async def prepare(db: Database, partnership: str, count: int) -> int:
    """A partnership with a linked channel, 1-hour reminders only, and `count` meetings,
    queued the way /meeting schedule queues them. Its id."""
    now = datetime.now(UTC)
    for text in (f"partnership create {partnership}", f"partnership channel {partnership}",
                 f"meeting settings {partnership} reminders: 1 hour"):
        command, _, rest = text.partition(" ")
        outcome = await run_command(db, command, rest, replace(LEAD, now=now))
        assert outcome.reply.tone != "error", outcome.reply.plain_text()
    starts_at = now + timedelta(hours=2)
    async with db.session() as session:
        found = await find_partnership(session, LEAD, partnership)
        assert found.id is not None
        for n in range(count):
            meeting = Meeting(partnership_id=found.id, uid=f"{uuid.uuid4()}@bench",
                              title=f"{partnership} meeting {n}", starts_at=starts_at,
                              ends_at=starts_at + timedelta(hours=1), created_by=LEAD.user_id)
            session.add(meeting)
            await session.flush()
            await sync_reminders(session, meeting, now)
        return found.id


async def retime(db: Database, partnership_id: int, due: datetime) -> None:
    """Make every meeting start an hour after `due`, so each 1-hour reminder falls due then."""
    starts_at = due + timedelta(hours=1)
    async with db.session() as session:
        await session.exec(update(Meeting).where(col(Meeting.partnership_id) == partnership_id)
                           .values(starts_at=starts_at, ends_at=starts_at + timedelta(hours=1)))
        await session.exec(update(ScheduledDelivery)
                           .where(col(ScheduledDelivery.partnership_id) == partnership_id,
                                  col(ScheduledDelivery.kind) == "reminder")
                           .values(due_at=due, next_attempt_at=due, expires_at=starts_at))


async def measure(db: Database, fake: FakeSlack, count: int, poll: float, label: str) -> Lateness:
    partnership_id = await prepare(db, f"Bench {label}", count)
    # Set up first, then fall due half a poll after the first poll, so the baseline and the
    # loaded run wait the same for the poll and differ only in the work.
    due = datetime.now(UTC) + timedelta(seconds=0.5 + poll / 2)
    await retime(db, partnership_id, due)
    already = len(fake.of("chat.postMessage"))
    settings = Settings(database_url=db.url, port=0, host="127.0.0.1",
                        slack_bot_token=DEFAULT_BOT_TOKEN, slack_signing_secret=None,
                        slack_app_token=None, slack_api_url=fake.api_url)
    client = slack_client(settings)
    client.session = ClientSession()
    poster = SlackPoster(client, db, EnvironmentBotToken(settings.slack_bot_token))
    # The outbox's own speed, without Slack's posting pace (which would spread 1,000 posts to
    # one channel over about 1,000 seconds, as it should in production).
    poster.limits = PostingLimits()
    scheduler = OutboxScheduler(OutboxSender(db, Delivery(db, {"slack": poster})),
                                poll_seconds=poll)
    await asyncio.sleep((due - datetime.now(UTC)).total_seconds() - poll / 2)
    scheduler.start()
    try:
        await fake.wait_until(lambda: len(fake.of("chat.postMessage")) >= already + count,
                              within=poll + 120)
    finally:
        await scheduler.stop()
        await client.session.close()
    posts = fake.of("chat.postMessage")[already:]
    assert all(p.succeeded for p in posts) and len(posts) == count
    late = sorted(p.received_at - due.timestamp() for p in posts)
    return Lateness(count=count, p50=statistics.median(late), p95=_percentile(late, 0.95),
                    worst=late[-1], drained_in=late[-1])


def _percentile(ordered: list[float], fraction: float) -> float:
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index]


async def run(count: int, poll: float, url: str | None) -> int:
    with tempfile.TemporaryDirectory() as folder:
        db = Database(url or f"sqlite+aiosqlite:///{Path(folder) / 'bench.sqlite3'}")
        await db.upgrade()
        fake = FakeSlack()
        await fake.start()
        try:
            started = time.perf_counter()
            baseline = await measure(db, fake, 1, poll, "baseline")
            loaded = await measure(db, fake, count, poll, "loaded")
            took = time.perf_counter() - started
        finally:
            await fake.stop()
            await db.dispose()
    print(f"Reminder lateness, due moment -> Slack Web API (fake, loopback); "
          f"poll every {poll:g} s; {db.engine.dialect.name}")
    print(baseline.line("baseline"))
    print(loaded.line(f"{count:,}"))
    print(f"ratios against the baseline: p50 x{loaded.p50 / baseline.p50:.1f}  "
          f"p95 x{loaded.p95 / baseline.p95:.1f}  max x{loaded.worst / baseline.worst:.1f}")
    print(f"throughput: {count / max(loaded.drained_in - baseline.p50, 1e-9):.0f} reminders/s "
          f"once due; whole run {took:.1f} s")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--poll", type=float, default=1.0, help="seconds between polls")
    parser.add_argument("--database", default=None,
                        help="a database URL (default: a fresh SQLite file); a PostgreSQL "
                             "database must be empty and is left with the bench's rows")
    args = parser.parse_args(argv)
    return asyncio.run(run(args.count, args.poll, args.database))


if __name__ == "__main__":
    sys.exit(main())
