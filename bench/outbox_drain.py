"""How fast one process drains the reminder outbox, posting to Slack (a fake in another process,
pacing off): run by bench/capacity.py once per code tree, with that tree first on PYTHONPATH,
as `python bench/outbox_drain.py DATABASE_URL SLACK_API_URL COUNT`. Prints one JSON line:
reminders, seconds, CPU seconds of this process, SQL statements and BEGINs."""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import ClientSession
from sqlalchemy import event, update
from sqlmodel import col

from bot.config import Settings
from bot.delivery import Delivery, PostingLimits
from bot.scheduler import OutboxSender
from bot.slack.app import SlackPoster, slack_client
from bot.slack.oauth import EnvironmentBotToken
from handlers.context import Caller, Platform
from handlers.dispatch import run_command
from handlers.lookup import find_partnership
from handlers.meetings import sync_reminders
from storage.db import Database
from storage.models import Meeting, ScheduledDelivery

TOKEN = "xoxb-test-token-not-real"  # the fake Slack's
LEAD = Caller(Platform.SLACK, "TBENCH0001", "U0BENCHLEAD", "lead", "C0BENCH001", "bench")
NAME = "Drain Bench Partnership"


async def prepare(db: Database, count: int) -> None:
    """A partnership with a linked channel, hour-before reminders only, and `count` meetings
    whose reminders are all due now."""
    now = datetime.now(UTC)
    for text in (f"partnership create {NAME}", f"partnership channel {NAME}",
                 f"meeting settings {NAME} reminders: 1 hour", f"partnership digest {NAME} off"):
        command, _, rest = text.partition(" ")
        await run_command(db, command, rest, replace(LEAD, now=now))
    starts_at = now + timedelta(hours=3)
    async with db.session() as session:
        partnership = await find_partnership(session, LEAD, NAME)
        for n in range(count):
            meeting = Meeting(partnership_id=partnership.id or 0, uid=f"{uuid.uuid4()}@bench",
                              title=f"Network meeting {n}", starts_at=starts_at,
                              ends_at=starts_at + timedelta(hours=1), created_by=LEAD.user_id)
            session.add(meeting)
            await session.flush()
            await sync_reminders(session, meeting, now)
    async with db.session() as session:
        due = now - timedelta(seconds=1)
        await session.exec(update(ScheduledDelivery)
                           .where(col(ScheduledDelivery.kind) == "reminder")
                           .values(due_at=due, next_attempt_at=due,
                                   expires_at=starts_at))


async def drain(url: str, api_url: str, count: int) -> dict[str, Any]:
    db = Database(url)
    await db.upgrade()
    await prepare(db, count)
    settings = Settings(database_url=url, port=0, host="127.0.0.1", slack_bot_token=TOKEN,
                        slack_signing_secret=None, slack_app_token=None, slack_api_url=api_url)
    client = slack_client(settings)
    client.session = ClientSession()
    poster = SlackPoster(client, db, EnvironmentBotToken(TOKEN))
    poster.limits = PostingLimits()  # the outbox's own speed, without Slack's pace
    sender = OutboxSender(db, Delivery(db, {"slack": poster}))
    statements = [0]
    begins = [0]

    def counted(*_: Any) -> None:
        statements[0] += 1

    def watched(_dbapi: Any, record: Any) -> None:
        record.driver_connection.add_query_logger(
            lambda r: begins.__setitem__(0, begins[0] + r.query.startswith("BEGIN")))

    await db.engine.dispose()
    event.listen(db.engine.sync_engine, "before_cursor_execute", counted)
    if db.engine.dialect.name == "postgresql":
        event.listen(db.engine.sync_engine.pool, "connect", watched)
    cpu, started = time.process_time(), time.perf_counter()
    handled = 0
    while handled < count:
        done = await sender.tick()
        if not done:
            break
        handled += done
    result = {"reminders": handled, "seconds": time.perf_counter() - started,
              "cpu": time.process_time() - cpu, "statements": statements[0],
              "begins": begins[0]}
    await client.session.close()
    await db.dispose()
    return result


if __name__ == "__main__":
    print(json.dumps(asyncio.run(drain(sys.argv[1], sys.argv[2], int(sys.argv[3])))))
