"""Shared fixtures: databases (SQLite and PostgreSQL), the fake Slack, and the running server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.config import Settings
from bot.scheduler import POLL_SECONDS, Clock, OutboxScheduler, system_clock
from bot.server import SCHEDULER_KEY, build_web_app
from storage.db import Database
from tests.support.databases import PostgresScratch, empty_tables, postgres_reason
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import SIGNING_SECRET, SlackClientSim

BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresScratch | None]:
    """The run's PostgreSQL scratch database, or None (with the reason kept) if none answers."""
    reason = asyncio.run(postgres_reason())
    if reason is not None:
        pytest.postgres_skip_reason = reason  # type: ignore[attr-defined]
        yield None
        return
    scratch = PostgresScratch()
    asyncio.run(scratch.create())
    yield scratch
    asyncio.run(scratch.drop())


@pytest.fixture(params=BACKENDS)
async def db(request: pytest.FixtureRequest, tmp_path: Path,
             postgres: PostgresScratch | None) -> AsyncIterator[Database]:
    """A migrated, empty database: every test using it runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        database = Database(f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}")
        await database.upgrade()
    else:
        if postgres is None:
            pytest.skip(getattr(pytest, "postgres_skip_reason", "no PostgreSQL"))
        database = Database(postgres.url)
        await empty_tables(database)
    yield database
    await database.dispose()


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    """SQLite only, for tests about the server or rendering rather than storage."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}")
    await database.upgrade()
    yield database
    await database.dispose()


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    await fake.start()
    yield fake
    await fake.stop()


def test_settings(fake_slack: FakeSlack, database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        port=0,
        host="127.0.0.1",
        slack_bot_token="xoxb-test-token-not-real",
        slack_signing_secret=SIGNING_SECRET,
        slack_app_token=None,
        slack_api_url=fake_slack.api_url,
    )


class RunningBot:
    def __init__(self, url: str, db: Database, slack: SlackClientSim, fake: FakeSlack,
                 scheduler: OutboxScheduler) -> None:
        self.url = url
        self.db = db
        self.slack = slack
        self.fake = fake
        self.scheduler = scheduler

    async def polls(self, n: int = 2, within: float = 5.0) -> None:
        """Wait until the reminder outbox has polled `n` more times."""
        async with asyncio.timeout(within):
            await self.scheduler.polled(n)


class FakeClock:
    """A clock the test moves by hand: the bot's outbox sees only this time."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> None:
        self.now += by

    def set(self, to: datetime) -> None:
        self.now = to


@asynccontextmanager
async def running_bot(db: Database, fake_slack: FakeSlack, clock: Clock = system_clock,
                      poll_seconds: float = POLL_SECONDS) -> AsyncIterator[RunningBot]:
    """The real aiohttp server on a loopback port, its Slack Web API pointed at the fake."""
    settings = test_settings(fake_slack, db.url)
    app = build_web_app(settings, db, clock=clock, poll_seconds=poll_seconds)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            sim = SlackClientSim(session, f"{url}/slack/events", fake_slack.response_url())
            yield RunningBot(url, db, sim, fake_slack, app[SCHEDULER_KEY])
    finally:
        await runner.cleanup()


@pytest.fixture
async def bot(db: Database, fake_slack: FakeSlack) -> AsyncIterator[RunningBot]:
    async with running_bot(db, fake_slack) as running:
        yield running
