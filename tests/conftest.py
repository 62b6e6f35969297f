"""Shared fixtures: databases (SQLite and PostgreSQL), the fake Slack and Bot Connector, and the
running server."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import aiohttp
import pytest
import time_machine
from aiohttp import web
from cryptography.fernet import Fernet

from bot.config import Settings
from bot.delivery import Delivery
from bot.logs import TextFormatter, access_log_options
from bot.scheduler import POLL_SECONDS, Clock, OutboxScheduler, system_clock
from bot.server import DELIVERY_KEY, SCHEDULER_KEY, build_web_app
from storage.db import Database
from storage.types import LONDON, utcnow
from tests.support.databases import (
    PATIENT,
    PostgresScratch,
    empty_tables,
    postgres_reason,
    without_postgres,
)
from tests.support.fake_connector import FakeConnector
from tests.support.fake_slack import CLIENT_ID, CLIENT_SECRET, DEFAULT_BOT_TOKEN, FakeSlack
from tests.support.slack_requests import SIGNING_SECRET, SlackClientSim, signed_headers
from tests.support.teams_requests import TeamsClientSim

BACKENDS = ["sqlite", "postgres"]


# The Hypothesis seed of the run: tests/support/seeds.py.
pytest_plugins = ["tests.support.seeds"]


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    """Captured log lines (caplog.text, and the report of a failing test) in the bot's own
    text format, as the shell and a terminal show them (bot/logs.py)."""
    plugin = config.pluginmanager.get_plugin("logging-plugin")
    for handler in (getattr(plugin, "caplog_handler", None),
                    getattr(plugin, "report_handler", None)):
        if handler is not None:
            handler.setFormatter(TextFormatter())
OAUTH_REDIRECT_URI = "https://partnership-bot.example.org/slack/oauth_redirect"

# --- the test clock -----------------------------------------------------------------------------
# Tests that read the clock (today's date, "tomorrow", the next digest, a reminder's moment) are
# marked `@pytest.mark.clock` and take "now" from the `now` fixture. test.sh runs them once more
# at each of FROZEN_INSTANTS (FROZEN_AT=all; FROZEN_AT=<instant> for one): the fixture moves the
# one clock (storage.types.utcnow, and every other reader of the system time) there with
# time-machine, which lets it tick on from that instant so that servers and timeouts behave.
FROZEN_AT_VARIABLE = "FROZEN_AT"
# UK time unless an offset is given (the October Sunday's 01:30 happens twice: +01:00 is the
# first, in BST, and +00:00 the second, in GMT).
FROZEN_INSTANTS = (
    "2027-01-04T08:30",  # a Monday 08:30, the first of a term (the digest went at 08:00)
    "2027-02-28T23:59",  # a Sunday 23:59
    "2028-02-29T12:00",  # 29 February
    "2027-03-27T12:00",  # the Saturday before the clocks go forward
    # 01:30 that Sunday does not exist (01:00 GMT becomes 02:00 BST): read as 01:30 GMT, which
    # is 02:30 BST
    "2027-03-28T01:30",
    "2027-10-30T12:00",  # the Saturday before the clocks go back
    "2027-10-31T01:30+01:00",  # that Sunday's first 01:30 (BST)
    "2027-10-31T01:30+00:00",  # and its second (GMT)
    "2027-08-31T23:59",  # the school year's last minute: 1 September next
    "2027-12-31T23:59",  # the calendar year's
)


def instant(text: str) -> datetime:
    """An instant as FROZEN_AT gives it: ISO 8601, UK time unless it has an offset."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=LONDON)


def frozen_at() -> datetime | None:
    """FROZEN_AT as an aware instant (None when unset or `all`)."""
    text = os.environ.get(FROZEN_AT_VARIABLE, "").strip()
    return instant(text) if text and text != "all" else None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """With FROZEN_AT=all, each test marked `clock` runs once at each of FROZEN_INSTANTS, in one
    pytest process (ids like test_x[sqlite-2027-10-31T01:30+00:00])."""
    if metafunc.definition.get_closest_marker("clock") and "now" not in metafunc.fixturenames:
        raise pytest.UsageError(f"{metafunc.definition.nodeid} is marked clock: it takes today "
                                "from the `now` fixture")
    if os.environ.get(FROZEN_AT_VARIABLE, "").strip() == "all" and metafunc.definition \
            .get_closest_marker("clock"):
        metafunc.parametrize("now", FROZEN_INSTANTS, indirect=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test marked `clock` gets the `now` fixture first, so the clock is moved before any
    other fixture (a database, a running bot) reads it. At frozen instants they run on SQLite
    only: no date is computed in SQL (times are stored in UTC and read back as they went in),
    so PostgreSQL adds time, not coverage; the run at the real now has both."""
    frozen, kept = bool(os.environ.get(FROZEN_AT_VARIABLE, "").strip()), []
    for item in items:
        if isinstance(item, pytest.Function) and item.get_closest_marker("clock"):
            if "now" in item.fixturenames:
                item.fixturenames.remove("now")
            item.fixturenames.insert(0, "now")
            if frozen and getattr(item, "callspec", None) is not None \
                    and item.callspec.params.get("db") == "postgres":
                continue
        kept.append(item)
    if len(kept) < len(items):
        staying = {id(item) for item in kept}
        config.hook.pytest_deselected(items=[i for i in items if id(i) not in staying])
        items[:] = kept


@pytest.fixture
def now(request: pytest.FixtureRequest) -> Iterator[datetime]:
    """The moment the test starts, in UTC: the real now, or a frozen instant (FROZEN_AT) with
    the clock moved there for the test's length."""
    given = getattr(request, "param", None)
    moment = instant(given) if isinstance(given, str) else frozen_at()
    if moment is None:
        yield utcnow()
        return
    with time_machine.travel(moment, tick=True):
        yield utcnow()


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
        database = Database(f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}", timeouts=PATIENT)
        await database.upgrade()
    else:
        if postgres is None:
            without_postgres(getattr(pytest, "postgres_skip_reason", "no PostgreSQL"))
        database = Database(postgres.url, timeouts=PATIENT)
        await empty_tables(database)
    yield database
    await database.dispose()


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    """SQLite only, for tests about the server or rendering rather than storage."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}", timeouts=PATIENT)
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
        slack_bot_token=DEFAULT_BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_app_token=None,
        slack_api_url=fake_slack.api_url,
    )


def oauth_test_settings(fake_slack: FakeSlack, database_url: str,
                        token_encryption_key: str | None) -> Settings:
    """Multi-workspace mode: no bot token, the fake's app credentials."""
    return dataclasses.replace(
        test_settings(fake_slack, database_url),
        slack_bot_token=None,
        slack_client_id=CLIENT_ID,
        slack_client_secret=CLIENT_SECRET,
        slack_redirect_uri=OAUTH_REDIRECT_URI,
        token_encryption_key=token_encryption_key,
    )


class RunningBot:
    def __init__(self, url: str, db: Database, slack: SlackClientSim, fake: FakeSlack,
                 settings: Settings, scheduler: OutboxScheduler) -> None:
        self.url = url
        self.db = db
        self.slack = slack
        self.fake = fake
        self.settings = settings
        self.scheduler = scheduler

    async def polls(self, n: int = 2, within: float = 5.0) -> None:
        """Wait until the reminder outbox has polled `n` more times."""
        async with asyncio.timeout(within):
            await self.scheduler.polled(n)

    async def ask(self, command: str, text: str, **overrides: str | None) -> dict[str, Any]:
        """Send a signed slash command and wait for the bot's answer to it (its response_url
        message), so that commands sent one after another are also answered in order."""
        body = self.slack.command_body(command, text, **overrides)
        response = await self.slack.post(body, signed_headers(body))
        assert response.status == 200, response.status
        response_url = parse_qs(body)["response_url"][0]
        await self.fake.wait_until(lambda: bool(self.fake.answer_to(response_url)))
        answer: dict[str, Any] = self.fake.answer_to(response_url)[0].body
        return answer

    async def ask_text(self, command: str, text: str, **overrides: str | None) -> str:
        """The answer's text and blocks, flattened for `in` checks."""
        answer = await self.ask(command, text, **overrides)
        return f"{answer['text']}\n{answer.get('blocks')}"


def free_port() -> int:
    """A loopback port nothing listens on now: for a server whose own address must be known
    before it starts (PUBLIC_BASE_URL, in links it hands out)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@asynccontextmanager
async def serving(app: web.Application, port: int = 0) -> AsyncIterator[str]:
    """`app` served on a loopback port (a free one unless given), with the access log `serve`
    writes; yields its base URL."""
    runner = web.AppRunner(app, **access_log_options())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


class FakeClock:
    """A clock the test moves by hand: the bot's reminder outbox sees only this time."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> None:
        self.now += by

    def set(self, to: datetime) -> None:
        self.now = to


@asynccontextmanager
async def moving(clock: FakeClock, step: timedelta, every: float = 0.01) -> AsyncIterator[None]:
    """The fake clock moves on by `step` every `every` real seconds meanwhile: for senders
    whose posting pace spreads posts out in (fake) time."""

    async def move() -> None:
        while True:
            await asyncio.sleep(every)
            clock.advance(step)

    task = asyncio.create_task(move())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@asynccontextmanager
async def serve(settings: Settings, db: Database, fake: FakeSlack, clock: Clock = system_clock,
                poll_seconds: float = POLL_SECONDS) -> AsyncIterator[RunningBot]:
    """The real aiohttp server on a loopback port, its Slack Web API pointed at the fake;
    `clock` and `poll_seconds` drive its reminder outbox. Links it hands out name its own
    address (PUBLIC_BASE_URL), unless the settings give another."""
    port = free_port()
    if settings.public_base_url is None:
        settings = replace(settings, public_base_url=f"http://127.0.0.1:{port}")
    app = build_web_app(settings, db, clock=clock, poll_seconds=poll_seconds)
    async with serving(app, port) as url, aiohttp.ClientSession() as session:
        sim = SlackClientSim(session, f"{url}/slack/events", fake.response_url())
        yield RunningBot(url, db, sim, fake, settings, app[SCHEDULER_KEY])


def running_bot(db: Database, fake_slack: FakeSlack, clock: Clock = system_clock,
                poll_seconds: float = POLL_SECONDS) -> AbstractAsyncContextManager[RunningBot]:
    """The bot serving one workspace with SLACK_BOT_TOKEN."""
    return serve(test_settings(fake_slack, db.url), db, fake_slack, clock, poll_seconds)


@pytest.fixture
async def bot(db: Database, fake_slack: FakeSlack) -> AsyncIterator[RunningBot]:
    async with running_bot(db, fake_slack) as running:
        yield running


@pytest.fixture
async def fake_connector() -> AsyncIterator[FakeConnector]:
    fake = FakeConnector()
    await fake.start()
    yield fake
    await fake.stop()
    # Every card the bot sent in the test: valid Adaptive Card 1.5, within Teams' size limit.
    assert fake.problems == []


def teams_settings(database_url: str, **overrides: Any) -> Settings:
    """Teams only, with authentication off as for the Emulator: the activities' serviceUrl is
    the fake connector, and outgoing calls carry no token."""
    settings = Settings(
        database_url=database_url, port=0, host="127.0.0.1", slack_bot_token=None,
        slack_signing_secret=None, slack_app_token=None, slack_api_url="http://127.0.0.1:9/",
        teams_auth_disabled=True,
    )
    return replace(settings, **overrides)


class RunningTeamsBot:
    def __init__(self, url: str, db: Database, teams: TeamsClientSim,
                 connector: FakeConnector, delivery: Delivery) -> None:
        self.url = url
        self.db = db
        self.teams = teams
        self.connector = connector
        self.delivery = delivery


@asynccontextmanager
async def serve_teams(db: Database, connector: FakeConnector) -> AsyncIterator[RunningTeamsBot]:
    """The real server serving Teams only at /api/messages; replies go to the fake connector."""
    port = free_port()
    app = build_web_app(teams_settings(db.url, public_base_url=f"http://127.0.0.1:{port}"), db)
    async with serving(app, port) as url, aiohttp.ClientSession() as session:
        sim = TeamsClientSim(session, f"{url}/api/messages", connector.service_url)
        yield RunningTeamsBot(url, db, sim, connector, app[DELIVERY_KEY])


@pytest.fixture
async def teams_bot(db: Database,
                    fake_connector: FakeConnector) -> AsyncIterator[RunningTeamsBot]:
    """Teams through the real server, on each database."""
    async with serve_teams(db, fake_connector) as running:
        yield running


@pytest.fixture
async def oauth_bot(db: Database, fake_slack: FakeSlack) -> AsyncIterator[RunningBot]:
    """The bot serving many workspaces (OAuth installs), tokens encrypted with a fresh key."""
    key = Fernet.generate_key().decode()
    async with serve(oauth_test_settings(fake_slack, db.url, key), db, fake_slack) as running:
        yield running
