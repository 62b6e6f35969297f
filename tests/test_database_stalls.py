"""A database that stalls instead of failing: connections reset, frozen (open but silent) or
black-holed (never answered), through a TCP proxy in front of PostgreSQL. People are still told
within the command deadline, /healthz still answers within 2 s, the outbox poll never holds its
lock past its deadline, and reminders due meanwhile go out soon after the database is back.

Short timeouts here (half a second a step, two seconds a command) keep each test to seconds;
production's are a few seconds each (storage/db.py, DATABASE_*_TIMEOUT)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest

from storage import queries
from storage.db import Database, DatabaseTimeouts
from tests.conftest import FakeClock, RunningBot, running_bot
from tests.support.databases import PATIENT, PostgresScratch, empty_tables, without_postgres
from tests.support.fake_slack import FakeSlack
from tests.support.tcp_proxy import CuttableProxy
from tests.support.when import day_ahead, day_before
from tests.test_reminders import POLL, reminders, schedule_meeting

QUICK = DatabaseTimeouts(connect=0.5, statement=0.5, pool=0.5, command=2.0)
# What a reply may take beyond the command deadline: posting it to the response_url.
MARGIN = 1.0
SAID = "can't reach my database just now, so nothing was saved"


@pytest.fixture
async def proxy(postgres: PostgresScratch | None) -> AsyncIterator[CuttableProxy]:
    if postgres is None:
        without_postgres(getattr(pytest, "postgres_skip_reason", "no PostgreSQL"))
    target = urlsplit(postgres.url)
    running = CuttableProxy(target.hostname or "127.0.0.1", target.port or 5432)
    await running.start()
    yield running
    await running.stop()


@pytest.fixture
async def stalling_db(proxy: CuttableProxy,
                      postgres: PostgresScratch | None) -> AsyncIterator[Database]:
    """The test database, reached through the proxy, with quick timeouts."""
    assert postgres is not None
    direct = Database(postgres.url, timeouts=PATIENT)  # emptied directly: TRUNCATE may take a while
    await empty_tables(direct)
    await direct.dispose()
    path = urlsplit(postgres.url).path
    db = Database(f"postgresql://127.0.0.1:{proxy.port}{path}", timeouts=QUICK)
    yield db
    await db.dispose()


async def timed_ask(bot: RunningBot, text: str) -> tuple[float, str]:
    started = time.perf_counter()
    answer = await bot.ask("/partnership", text)
    return time.perf_counter() - started, f"{answer['text']}\n{answer.get('blocks')}"


async def health(bot: RunningBot) -> tuple[float, int]:
    started = time.perf_counter()
    async with bot.slack.session.get(f"{bot.url}/healthz") as response:
        await response.read()
        return time.perf_counter() - started, response.status


async def test_a_frozen_database_gets_every_command_an_answer_in_time(
    proxy: CuttableProxy, stalling_db: Database, fake_slack: FakeSlack
) -> None:
    async with running_bot(stalling_db, fake_slack) as bot:
        assert "Created" in (await timed_ask(bot, "create East Barnet Area"))[1]
        await proxy.freeze()  # the pooled connections go silent, and so does the host
        await proxy.black_hole()
        # More at once than commands run at once (8): the wait for a turn counts too.
        answers = await asyncio.gather(*(
            timed_ask(bot, f"join East Barnet Area school: School {n}") for n in range(12)))
        for took, text in answers:
            assert SAID in text and "try again shortly" in text
            assert took < QUICK.command + MARGIN, took
        took, status = await health(bot)
        assert status == 503 and took < 2.0, (took, status)

        await proxy.heal()  # a failover: new connections work, the old ones stay dead
        took, text = await timed_ask(bot, "join East Barnet Area school: Monkfrith")
        if SAID in text:  # at most one command meets a dead pooled connection, then none
            took, text = await timed_ask(bot, "join East Barnet Area school: Monkfrith")
        assert "You are in East Barnet Area" in text, text
    info = await _schools(stalling_db)
    assert info == ["Monkfrith"]  # nothing half-written by the commands that timed out


async def _schools(db: Database) -> list[str]:
    async with db.session() as session:
        found = await queries.partnership_by_key(session, "T0001", "east barnet area")
        assert found is not None and found.id is not None
        return [s.name for s in await queries.schools_of(session, found.id)]


async def test_healthz_answers_within_two_seconds_whatever_the_database_does(
    proxy: CuttableProxy, stalling_db: Database, fake_slack: FakeSlack
) -> None:
    async with running_bot(stalling_db, fake_slack) as bot:
        took, status = await health(bot)
        assert status == 200 and took < 1.0
        await proxy.freeze()
        await proxy.black_hole()
        for _ in range(3):
            took, status = await health(bot)
            assert status == 503 and took < 2.0, (took, status)
        await proxy.heal()
        for _ in range(10):
            took, status = await health(bot)
            assert took < 2.0
            if status == 200:
                break
        assert status == 200


async def test_black_holed_connections_are_given_up_at_the_connect_timeout(
    proxy: CuttableProxy, stalling_db: Database, fake_slack: FakeSlack
) -> None:
    """No connection to reuse, and new ones never answered: without a connect timeout this
    waited about a minute (asyncpg's default)."""
    async with running_bot(stalling_db, fake_slack) as bot:
        await stalling_db.engine.dispose()  # no pooled connections left
        await proxy.black_hole()
        took, text = await timed_ask(bot, "create East Barnet Area")
        assert SAID in text and took < QUICK.command + MARGIN
        await proxy.heal()
        took, text = await timed_ask(bot, "create East Barnet Area")
        assert "Created" in text, text


async def test_reset_connections_are_replaced(
    proxy: CuttableProxy, stalling_db: Database, fake_slack: FakeSlack
) -> None:
    """A reset (the server restarted) fails at most the command that met it; later ones use
    new connections, and the proxy sees them made."""
    async with running_bot(stalling_db, fake_slack) as bot:
        assert "Created" in (await timed_ask(bot, "create East Barnet Area"))[1]
        before = proxy.connections
        await proxy.reset()
        took, text = await timed_ask(bot, "join East Barnet Area school: Monkfrith")
        assert took < QUICK.command + MARGIN
        if SAID in text:
            took, text = await timed_ask(bot, "join East Barnet Area school: Monkfrith")
        assert "You are in East Barnet Area" in text, text
        assert proxy.connections > before


async def test_reminders_due_during_a_stall_go_out_soon_after_it(
    proxy: CuttableProxy, stalling_db: Database, fake_slack: FakeSlack
) -> None:
    clock = FakeClock()
    async with running_bot(stalling_db, fake_slack, clock, POLL) as bot:
        bot.scheduler.poll_deadline = 1.5
        start = await schedule_meeting(bot, day_ahead(3))
        await bot.polls(2)
        await proxy.freeze()
        await proxy.black_hole()
        clock.set(day_before(start))  # the day-before reminder falls due mid-stall
        await asyncio.sleep(3 * bot.scheduler.poll_deadline)
        assert reminders(bot) == []
        ticks = bot.scheduler.ticks
        assert ticks > 0
        await proxy.heal()
        healed = time.perf_counter()
        await fake_slack.wait_until(lambda: bool(reminders(bot)), within=30)
        sent, = reminders(bot)
        took = time.perf_counter() - healed
        assert took < 10, took  # the bar is 30 s; with these timeouts it takes a few
        assert sent.body["text"].startswith("Reminder: East Barnet Area meeting")
        await bot.polls(3)
        assert len(reminders(bot)) == 1
