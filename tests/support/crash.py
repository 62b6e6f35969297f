"""The crash window: reminders due at once, posted by several senders that die mid-post, after
the platform accepted a post and before the sender recorded it.

Shared by the quick test (tests/test_crash_window.py: senders in this process, "killed" by
cancelling them mid-post and throwing them away) and the benchmark (bench/crash_window.py: real
processes killed with SIGKILL)."""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from aiohttp import ClientSession
from microsoft_agents.activity import ConversationReference
from sqlmodel import col, select, update

from bot.config import Settings
from bot.delivery import Delivery, PostingLimits
from bot.scheduler import OutboxSender
from bot.slack.app import SlackPoster, slack_client
from bot.slack.oauth import EnvironmentBotToken
from handlers.dispatch import run_command
from handlers.lookup import find_partnership
from handlers.meetings import sync_reminders
from storage.db import Database
from storage.models import ChannelLink, DeliveryStatus, Meeting, ScheduledDelivery
from tests.support.databases import PATIENT
from tests.support.fake_slack import DEFAULT_BOT_TOKEN
from tests.support.shell_caller import caller

LEAD = caller("Ann", workspace="TCRASH0001", channel="C0CRASH001")
PARTNERSHIP = "Crash Window"
TEAMS_CONVERSATION = "19:crash0window0channel@thread.tacv2"
_TITLE = re.compile(r"(Crash \d+)\b")
FINAL = {DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.DROPPED,
         DeliveryStatus.SKIPPED}


async def seed_reminders(db: Database, count: int, teams_service_url: str | None = None) -> None:
    """A partnership with one linked channel (Slack's, or a Teams channel at
    `teams_service_url`), and `count` meetings "Crash 0".. whose 1-hour reminders are due now."""
    now = datetime.now(UTC)
    for text in (f"partnership create {PARTNERSHIP}", f"partnership channel {PARTNERSHIP}",
                 f"partnership digest {PARTNERSHIP} off",
                 f"meeting settings {PARTNERSHIP} reminders: 1 hour"):
        command, _, rest = text.partition(" ")
        outcome = await run_command(db, command, rest, replace(LEAD, now=now))
        assert outcome.reply.tone != "error", outcome.reply.plain_text()
    starts_at = now + timedelta(hours=1)
    async with db.session() as session:
        found = await find_partnership(session, LEAD, PARTNERSHIP)
        assert found.id is not None
        for n in range(count):
            meeting = Meeting(partnership_id=found.id, uid=f"{uuid.uuid4()}@crash",
                              title=f"Crash {n}", starts_at=starts_at + timedelta(hours=2),
                              ends_at=starts_at + timedelta(hours=3), created_by=LEAD.user_id)
            session.add(meeting)
            await session.flush()
            await sync_reminders(session, meeting, now)
        # Due now, with the meetings well ahead (the reminder says "starts in 3 hours").
        await session.exec(update(ScheduledDelivery)
                           .where(col(ScheduledDelivery.kind) == "reminder")
                           .values(due_at=now, next_attempt_at=now))
        if teams_service_url is not None:
            await session.exec(update(ChannelLink).where(
                col(ChannelLink.partnership_id) == found.id).values(
                platform="teams", channel_id=TEAMS_CONVERSATION,
                conversation_ref=teams_reference(teams_service_url)))


def teams_reference(service_url: str) -> str:
    """A linked Teams channel's stored conversation reference, pointing at `service_url`."""
    reference = ConversationReference.model_validate({
        "channelId": "msteams", "serviceUrl": service_url,
        "bot": {"id": "28:crash-bot", "name": "Partnership Bot"},
        "conversation": {"id": TEAMS_CONVERSATION, "isGroup": True,
                         "conversationType": "channel"}})
    return reference.model_dump_json(by_alias=True, exclude_none=True)


async def unfinished(db: Database) -> int:
    """Reminders not yet sent (or otherwise finished)."""
    async with db.session() as session:
        statuses = (await session.exec(select(ScheduledDelivery.status).where(
            ScheduledDelivery.kind == "reminder"))).all()
    return sum(1 for s in statuses if s not in FINAL)


@dataclass(frozen=True)
class Tally:
    reminders: int
    posts: int
    doubled: int  # reminders posted more than once
    lost: int  # reminders never posted

    def line(self) -> str:
        return (f"{self.reminders} reminders: {self.posts} posts, {self.doubled} doubled, "
                f"{self.lost} lost")


def tally(texts: Iterable[str], reminders: int) -> Tally:
    """Posts per reminder, from the text (or title) of every post the platform received."""
    posted = Counter(m.group(1) for t in texts if (m := _TITLE.search(t)))
    return Tally(reminders=reminders, posts=sum(posted.values()),
                 doubled=sum(1 for n in posted.values() if n > 1),
                 lost=reminders - len(posted))


def slack_delivery(db: Database, fake_api_url: str) -> tuple[Delivery, ClientSession]:
    """What one bot process posts to Slack with: its own client and HTTP session; the pace
    off, so the run measures the window and not Slack's one post a second."""
    client = slack_client(Settings(database_url=db.url, port=0, host="127.0.0.1",
                                   slack_bot_token=DEFAULT_BOT_TOKEN, slack_signing_secret=None,
                                   slack_app_token=None, slack_api_url=fake_api_url))
    client.session = ClientSession()
    poster = SlackPoster(client, db, EnvironmentBotToken(DEFAULT_BOT_TOKEN))
    poster.limits = PostingLimits()
    return Delivery(db, {"slack": poster}), client.session


@dataclass
class _Process:
    db: Database
    session: ClientSession
    task: asyncio.Task[None]


@asynccontextmanager
async def crashing_senders(
    url: str, fake_api_url: str, *, processes: int = 3, kill_every: tuple[float, float],
    lease: float, poll: float = 0.05, confirm_reposts: bool = True, batch: int = 50,
) -> AsyncIterator[Callable[[], int]]:
    """`processes` senders in this process, one of them killed (cancelled mid-whatever, its
    state thrown away) and replaced every `kill_every` seconds; yields how many were killed.
    Each claims and posts `batch` at a time."""
    kills = 0

    def start() -> _Process:
        db = Database(url, timeouts=PATIENT)
        delivery, session = slack_delivery(db, fake_api_url)
        sender = OutboxSender(db, delivery, lease=timedelta(seconds=lease), batch=batch,
                              concurrency=batch, confirm_reposts=confirm_reposts)

        async def poll_forever() -> None:
            while True:
                with contextlib.suppress(Exception):
                    await sender.tick()
                await asyncio.sleep(poll)

        return _Process(db, session, asyncio.create_task(poll_forever()))

    async def stop(process: _Process) -> None:
        process.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await process.task
        await process.session.close()
        await process.db.dispose()

    running = [start() for _ in range(processes)]

    async def killer() -> None:
        nonlocal kills
        while True:
            await asyncio.sleep(random.uniform(*kill_every))
            victim = running.pop(random.randrange(len(running)))
            await stop(victim)
            kills += 1
            running.append(start())

    killing = asyncio.create_task(killer())
    try:
        yield lambda: kills
    finally:
        killing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await killing
        for process in running:
            await stop(process)


async def wait_until_sent(db: Database, within: float, every: float = 0.1) -> None:
    async with asyncio.timeout(within):
        while True:
            if not await unfinished(db):
                return
            await asyncio.sleep(every)
