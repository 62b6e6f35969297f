"""Less work per command, and a bounded backlog: what commands, the App Home and the reminder
outbox cost the database (statements, and on PostgreSQL the transactions opened), the same for
2 and for 30 items; and "busy" answers when too many commands wait."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs

import aiohttp
import pytest

from bot.backlog import CommandBacklog, TooLate
from bot.config import Settings
from bot.delivery import Delivery, PostingLimits
from bot.scheduler import OutboxSender
from bot.server import BACKLOG_KEY, build_web_app
from bot.slack.app import SlackPoster, slack_client
from bot.slack.oauth import EnvironmentBotToken
from handlers.dispatch import app_home, run_command
from handlers.lookup import find_partnership
from handlers.meetings import sync_reminders
from handlers.themes import themes_of
from storage import queries
from storage.db import Database
from storage.lazy_begin import is_plain_read
from storage.models import Action, CpdSession, LearningWalk, Meeting, Partnership, Rsvp
from tests.conftest import serving
from tests.conftest import test_settings as settings_for
from tests.support.fake_slack import FakeSlack
from tests.support.learning import ANN, BEN, PARTNERSHIP, ok, set_up_partnerships
from tests.support.slack_requests import SlackClientSim, signed_headers
from tests.support.statements import costing


def test_only_plain_selects_run_outside_a_transaction() -> None:
    assert is_plain_read("SELECT partnership.id FROM partnership WHERE partnership.id = $1")
    assert is_plain_read("  select 1")
    for statement in ("SELECT id FROM delivery FOR UPDATE SKIP LOCKED",
                      "select id from delivery for no key update",
                      "SELECT 1 FROM member FOR SHARE",
                      "INSERT INTO member (id) VALUES ($1)",
                      "UPDATE delivery SET status = $1",
                      "WITH recorded AS (INSERT INTO posted_message VALUES (1)) UPDATE x SET y=1",
                      "DELETE FROM request_seen"):
        assert not is_plain_read(statement), statement


async def test_a_command_that_only_reads_opens_no_transaction(db: Database) -> None:
    await set_up_partnerships(db)
    async with costing(db) as info:
        await ok(db, "partnership", f"info {PARTNERSHIP}")
    async with costing(db) as logged:
        outcome = await run_command(db, "walk", f"log {PARTNERSHIP} school: Monkfrith "
                                    "date: yesterday focus: reading", ANN,
                                    request_id=f"test:{uuid.uuid4()}")
    assert outcome.reply.tone == "success", outcome.reply.plain_text()
    assert info.statements and info.begins == 0
    # A write still runs in one transaction, opened at its first write.
    assert logged.begins == (1 if db.is_postgres else 0)
    # The partnership and the caller's membership come back in one statement.
    assert len(info.statements) == 4  # partnership and membership, schools, members, channels
    assert len(logged.statements) == 5  # that, its schools, the walk, channels, request id


async def _meetings(db: Database, n: int) -> Partnership:
    """`n` upcoming meetings of East Barnet Area, each with a reply from Ben."""
    async with db.session() as session:
        partnership = await find_partnership(session, ANN, PARTNERSHIP)
        assert partnership.id is not None
        now = datetime.now(UTC)
        for k in range(n):
            starts = now + timedelta(days=1 + k % 50, hours=k)
            meeting = Meeting(partnership_id=partnership.id, uid=f"{uuid.uuid4()}@test",
                              title=f"Meeting {k}", starts_at=starts,
                              ends_at=starts + timedelta(hours=1), created_by=ANN.user_id)
            session.add(meeting)
            await session.flush()
            assert meeting.id is not None
            session.add(Rsvp(meeting_id=meeting.id, platform="slack", user_id=BEN.user_id,
                             display_name=BEN.user_name, answer="going"))
            await sync_reminders(session, meeting, now)
        return partnership


async def _walks_and_cpd(db: Database, partnership: Partnership, n: int) -> None:
    """`n` walks with next steps Ann owns, and `n` CPD sessions in the last fortnight."""
    assert partnership.id is not None
    async with db.session() as session:
        theme = (await themes_of(session, partnership))[0]
        host = (await queries.schools_of(session, partnership.id))[0]
        assert theme.id is not None and host.id is not None
        for k in range(n):
            walk = LearningWalk(
                partnership_id=partnership.id, host_school_id=host.id,
                walked_on=date.today() - timedelta(days=k % 20), focus=f"Focus {k}",
                next_steps="Follow up", platform="slack",
                logged_by_user_id=ANN.user_id, logged_by_name=ANN.user_name)
            session.add(walk)
            await session.flush()
            session.add(Action(
                partnership_id=partnership.id, description="Follow up", platform="slack",
                owner_user_id=ANN.user_id, owner_name=ANN.user_name,
                due_on=date.today() + timedelta(days=k), source="walk", walk_id=walk.id,
                created_by_user_id=ANN.user_id, created_by_name=ANN.user_name))
            session.add(CpdSession(
                partnership_id=partnership.id, theme_id=theme.id, title=f"Session {k}",
                held_on=date.today() - timedelta(days=k % 14), minutes=60, platform="slack",
                logged_by_user_id=ANN.user_id, logged_by_name=ANN.user_name))


@pytest.mark.parametrize("what", ["meeting list", "app home"])
async def test_lists_cost_the_same_statements_for_2_and_for_30_items(
    db: Database, what: str
) -> None:
    await set_up_partnerships(db)
    costs = []
    for n in (2, 28):  # 2 items, then 30
        partnership = await _meetings(db, n)
        await _walks_and_cpd(db, partnership, n)
        async with costing(db) as cost:
            if what == "meeting list":
                outcome = await ok(db, "meeting", f"list {PARTNERSHIP}")
                shown = outcome.reply.plain_text()
                assert f"{2 if n == 2 else 30} meetings coming up" in shown
                assert "1 going" in shown
            else:
                home = await app_home(db, ANN)
                assert "Your next meetings" in home.plain_text()
        costs.append(len(cost.statements))
        assert cost.begins == 0
    assert costs[0] == costs[1], costs


async def test_a_reminder_costs_at_most_four_statements_and_no_transaction(
    db: Database, fake_slack: FakeSlack
) -> None:
    await set_up_partnerships(db)
    await ok(db, "partnership", f"digest {PARTNERSHIP} off")  # only reminders fall due
    now = datetime.now(UTC)
    async with db.session() as session:
        partnership = await find_partnership(session, ANN, PARTNERSHIP)
        assert partnership.id is not None
        for k in range(20):
            starts = now + timedelta(days=10, minutes=k)
            meeting = Meeting(partnership_id=partnership.id, uid=f"{uuid.uuid4()}@test",
                              title=f"Meeting {k}", starts_at=starts,
                              ends_at=starts + timedelta(hours=1), created_by=ANN.user_id)
            session.add(meeting)
            await session.flush()
            await sync_reminders(session, meeting, now)
    settings = settings_for(fake_slack, db.url)
    client = slack_client(settings)
    client.session = aiohttp.ClientSession()
    poster = SlackPoster(client, db, EnvironmentBotToken(settings.slack_bot_token or ""))
    poster.limits = PostingLimits()  # the outbox's own cost, without Slack's pace
    # Nine days on: each meeting's day-before reminder is due, the hour-before ones are not.
    sender = OutboxSender(db, Delivery(db, {"slack": poster}),
                          clock=lambda: now + timedelta(days=9, hours=1))
    try:
        async with costing(db) as planning:
            await sender.plan()
        async with costing(db) as cost:
            handled = await sender.tick()
    finally:
        await client.session.close()
    assert handled == 20 and len(fake_slack.of("chat.postMessage")) == 20
    per_reminder = (len(cost.statements) - len(planning.statements)) / handled
    # Where it goes, what it shows, sent-and-recorded (one statement with PostgreSQL's
    # data-changing WITH; two on SQLite, which runs them in-process), and a share of the claims.
    assert per_reminder <= (4 if db.is_postgres else 5), cost.statements
    assert cost.begins == planning.begins == 0


# --- the backlog ------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_the_backlog_admits_what_can_run_or_wait_and_refuses_the_rest() -> None:
    clock = Clock()
    backlog = CommandBacklog(waiting=2, running=1, longest_wait=30, clock=clock)
    running = backlog.admit()
    assert running is not None
    async with running:
        first = backlog.admit()
        clock.now = 31
        second = backlog.admit()
        assert first is not None and second is not None
        assert backlog.admit() is None  # two wait already
        waited = asyncio.create_task(first.__aenter__())
        await asyncio.sleep(0)
    with pytest.raises(TooLate):
        await waited  # its turn came after 31 s: answered "busy", not run
    async with second:  # the slot was handed on
        assert backlog.waiting == 0


@pytest.fixture
async def busy_bot(sqlite_db: Database, fake_slack: FakeSlack) -> AsyncIterator[
        tuple[SlackClientSim, CommandBacklog, FakeSlack]]:
    settings: Settings = replace(settings_for(fake_slack, sqlite_db.url), command_backlog=1)
    app = build_web_app(settings, sqlite_db)
    async with serving(app) as url, aiohttp.ClientSession() as session:
        yield (SlackClientSim(session, f"{url}/slack/events", fake_slack.response_url()),
               app[BACKLOG_KEY], fake_slack)


async def test_past_the_backlog_a_command_is_told_busy_and_nothing_is_saved(
    busy_bot: tuple[SlackClientSim, CommandBacklog, FakeSlack],
) -> None:
    slack, backlog, fake = busy_bot
    clock = Clock()
    backlog.clock = clock
    for _ in range(8):  # every slot busy, as under a burst
        await backlog.slots.acquire()
    waits = slack.command_body("/partnership", "create Heath and Hill")
    refused = slack.command_body("/partnership", "create Hill and Dale")
    acks = []
    for body in (waits, refused):
        response = await slack.post(body, signed_headers(body))
        assert response.status == 200
        acks.append(await response.text())
    assert "busy" not in acks[0]  # acknowledged, waiting its turn
    assert "busy" in acks[1] and "nothing was saved" in acks[1]  # one already waits
    clock.now = 31.0  # its turn comes after more than 30 s: too late to run it
    for _ in range(8):
        backlog.slots.release()
    answer, = await fake.wait_for("response_url")
    assert answer == fake.answer_to(parse_qs(waits)["response_url"][0])[0]
    assert "busy" in answer.body["text"] and "nothing was saved" in answer.body["text"]
    listing = slack.command_body("/partnership", "list")
    await slack.post(listing, signed_headers(listing))
    url = parse_qs(listing)["response_url"][0]
    await fake.wait_until(lambda: bool(fake.answer_to(url)))
    assert "no partnerships" in fake.answer_to(url)[0].body["text"]
