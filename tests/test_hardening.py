"""Small hardening, each case over real signed HTTP where it concerns requests: forged
timestamps, oversized and slow bodies, invisible characters in names, malformed button values,
secrets in `repr`, and the database timeouts' settings."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from bot.config import ConfigError, Settings
from bot.http_limits import SLACK_MAX_BODY, BodyLimits, body_limits
from handlers.dispatch import run_action, run_command
from handlers.replies import Tone
from storage import queries
from storage.db import Database
from tests.conftest import RunningBot, RunningTeamsBot, running_bot, serving
from tests.support.fake_slack import FakeSlack
from tests.support.shell_caller import caller
from tests.support.slack_requests import SIGNING_SECRET, block_action, signed_headers


@pytest.fixture
async def sqlite_bot(sqlite_db: Database, fake_slack: FakeSlack) -> AsyncIterator[RunningBot]:
    """These cases are about requests, not storage: SQLite only, to keep the suite quick."""
    async with running_bot(sqlite_db, fake_slack) as running:
        yield running


# --- signatures and bodies ------------------------------------------------------------------


def forged(body: str, timestamp: str) -> dict[str, str]:
    """Headers signed with the real secret, over a timestamp that is not a number of seconds."""
    from slack_sdk.signature import SignatureVerifier

    signature = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=timestamp,
                                                                     body=body)
    assert signature is not None
    return {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature,
            "Content-Type": "application/x-www-form-urlencoded"}


@pytest.mark.parametrize("timestamp", ["abc", "-1", "1e9", "１２３", " 1700000000", "", "1_7"])
async def test_a_non_numeric_timestamp_is_refused(sqlite_bot: RunningBot, timestamp: str) -> None:
    body = sqlite_bot.slack.command_body("/partnership", "create Forged")
    response = await sqlite_bot.slack.post(body, forged(body, timestamp))
    assert response.status == 401
    assert sqlite_bot.fake.of("response_url") == []


async def test_a_body_over_slacks_limit_gets_413_before_it_is_read(
    sqlite_bot: RunningBot,
) -> None:
    body = sqlite_bot.slack.command_body("/partnership", "create " + "x" * SLACK_MAX_BODY)
    response = await sqlite_bot.slack.post(body, signed_headers(body))
    assert response.status == 413
    just_over_a_megabyte = "create " + "y" * (1024 * 1024)
    body = sqlite_bot.slack.command_body("/partnership", just_over_a_megabyte)
    response = await sqlite_bot.slack.post(body, signed_headers(body))
    assert response.status == 413


async def test_a_chunked_body_over_the_limit_gets_413(sqlite_bot: RunningBot) -> None:
    """No Content-Length to go by: counted as it arrives."""
    body = sqlite_bot.slack.command_body("/partnership", "create " + "z" * SLACK_MAX_BODY)

    async def chunks() -> AsyncIterator[bytes]:
        data = body.encode()
        for start in range(0, len(data), 65536):
            yield data[start:start + 65536]

    async with sqlite_bot.slack.session.post(sqlite_bot.slack.events_url, data=chunks(),
                                             headers=signed_headers(body)) as response:
        assert response.status == 413


async def test_a_teams_body_over_a_megabyte_gets_413(teams_bot: RunningTeamsBot) -> None:
    activity = teams_bot.teams.personal("partnership list")
    activity["text"] = "x" * (1024 * 1024 + 1)
    async with teams_bot.teams.session.post(teams_bot.teams.messages_url,
                                            json=activity) as response:
        assert response.status == 413


async def test_large_bodies_are_read_a_few_at_a_time() -> None:
    """Twelve large bodies at once: at most `large_at_once` are read and handled together;
    small ones never wait behind them."""
    limits = BodyLimits(large_body=1024, large_at_once=2)
    active, most = 0, 0

    async def handler(request: web.Request) -> web.Response:
        nonlocal active, most
        active += 1
        most = max(most, active)
        await asyncio.sleep(0.05)
        active -= 1
        return web.Response(text=str(len(await request.read())))

    app = web.Application(middlewares=[body_limits(limits)])
    app.router.add_post("/x", handler)
    async with serving(app) as url, aiohttp.ClientSession() as session:
        async def send(size: int) -> int:
            async with session.post(f"{url}/x", data=b"a" * size) as response:
                assert response.status == 200
                return int(await response.text())

        sizes = await asyncio.gather(*(send(100_000) for _ in range(12)))
        assert sizes == [100_000] * 12 and most == 2
        most = 0
        assert await asyncio.gather(*(send(500) for _ in range(12))) == [500] * 12
        assert most > 2  # small bodies take no turn


async def test_a_body_that_never_finishes_arriving_is_cut_off() -> None:
    limits = BodyLimits(body_seconds=0.3)

    async def handler(request: web.Request) -> web.Response:
        return web.Response(text=str(len(await request.read())))

    app = web.Application(middlewares=[body_limits(limits)])
    app.router.add_post("/x", handler)
    async with serving(app) as url:
        host, port = url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nonly this")
        await writer.drain()
        started = time.perf_counter()
        status = await asyncio.wait_for(reader.readline(), 5)
        assert b" 408 " in status and time.perf_counter() - started < 2
        writer.close()
        await writer.wait_closed()


# --- names ----------------------------------------------------------------------------------

RLO, ZWSP, ZWJ, LRI, PDI = "\u202e", "\u200b", "\u200d", "\u2066", "\u2069"


async def test_bidi_overrides_and_zero_width_characters_never_reach_a_name(
    sqlite_bot: RunningBot,
) -> None:
    bot = sqlite_bot
    created = await bot.ask("/partnership", f"create East {RLO}Barnet{ZWSP} Area")
    assert "Created the partnership East Barnet Area" in created["text"]
    # A look-alike made with invisible characters is the same school, not a new one.
    await bot.ask("/partnership", "join East Barnet Area school: Monkfrith new: yes")
    joined = await bot.ask("/partnership", f"join East Barnet Area school: Monk{ZWJ}fri{ZWSP}th",
                           user_id="U0BEN00001", user_name=f"Ben{LRI}dlroW{PDI}")
    assert "for Monkfrith" in joined["text"] and "new: yes" not in joined["text"]
    async with bot.db.session() as session:
        names = [p.name for p in await queries.partnerships_in(session, "T0001")]
        schools = [s.name for s in await queries.schools_in(session, "T0001")]
        found = await queries.partnership_by_key(session, "T0001", "east barnet area")
        assert found is not None and found.id is not None
        members = [m.display_name for m, _ in await queries.members_of(session, found.id)]
    assert names == ["East Barnet Area"] and schools == ["Monkfrith"]
    assert "BendlroW" in members
    for text in (*names, *schools, *members):
        assert not any(ch in text for ch in (RLO, ZWSP, ZWJ, LRI, PDI)), repr(text)


# --- button values --------------------------------------------------------------------------

MALFORMED = [{"meeting": 1}, ["1", "going"], 12, None, True, "x" * 3000, "²:going",
             "99999999999:going", "1:going:extra", "", "\x00"]


@pytest.mark.parametrize("action", ["meeting.rsvp", "walk.done", "privacy.forget"])
async def test_malformed_button_values_get_a_polite_answer(
    sqlite_bot: RunningBot, caplog: pytest.LogCaptureFixture, action: str
) -> None:
    caplog.set_level(logging.WARNING)
    bot = sqlite_bot
    for n, value in enumerate(MALFORMED, start=1):
        payload = block_action(action, "placeholder", channel_id="C0HEADS001")
        payload["actions"][0]["value"] = value
        response = await bot.slack.interaction(payload)
        assert response.status == 200, value
        told = (await bot.fake.wait_for("chat.postEphemeral", n))[-1]
        text = told.body["text"] + json.dumps(told.body.get("blocks"))
        assert any(polite in text for polite in (
            "out of date", "expired", "for the person", "can't find meeting")), (value, text)
        assert "went wrong" not in text
    assert "Traceback" not in caplog.text and "unexpected error" not in caplog.text


async def test_a_malformed_action_id_is_answered_not_crashed(sqlite_bot: RunningBot) -> None:
    payload = block_action("meeting.rsvp", "1:going", channel_id="C0HEADS001")
    payload["actions"][0]["action_id"] = {"not": "a string"}
    response = await sqlite_bot.slack.interaction(payload)
    assert response.status in (200, 404)


# --- settings -------------------------------------------------------------------------------


def test_secrets_never_show_in_the_settings_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = {"SLACK_BOT_TOKEN": "xoxb-very-secret", "SLACK_SIGNING_SECRET": "sign-secret",
               "SLACK_APP_TOKEN": "xapp-secret", "TEAMS_APP_PASSWORD": "teams-secret",
               "SLACK_CLIENT_SECRET": "client-secret", "TOKEN_ENCRYPTION_KEY": "fernet-secret",
               "DATABASE_URL": "postgresql://bot:db-password@db.example.org/bot"}
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    settings = Settings.from_env(load_dotenv_file=False)
    shown = repr(settings) + str(settings)
    for value in (*secrets.values(), "db-password"):
        if value.startswith("postgresql"):
            continue
        assert value not in shown, value
    assert "slack_bot_token='***'" in shown
    assert "postgresql://bot:***@db.example.org/bot" in shown
    assert "slack_client_id=None" in shown  # what is not secret is shown as it is


def test_database_timeouts_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_CONNECT_TIMEOUT", "2.5")
    monkeypatch.setenv("DATABASE_STATEMENT_TIMEOUT", "3")
    monkeypatch.setenv("DATABASE_POOL_TIMEOUT", "1s")
    monkeypatch.setenv("COMMAND_DEADLINE", "9")
    timeouts = Settings.from_env(load_dotenv_file=False).database_timeouts
    assert (timeouts.connect, timeouts.statement, timeouts.pool, timeouts.command) == \
        (2.5, 3.0, 1.0, 9.0)


@pytest.mark.parametrize("value", ["soon", "0", "-4", "nan", "inf", "7200"])
def test_a_wrong_timeout_setting_is_one_clear_line(monkeypatch: pytest.MonkeyPatch,
                                                   value: str) -> None:
    monkeypatch.setenv("DATABASE_STATEMENT_TIMEOUT", value)
    with pytest.raises(ConfigError) as raised:
        Settings.from_env(load_dotenv_file=False)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("DATABASE_STATEMENT_TIMEOUT must be a number of seconds above 0")


@pytest.mark.parametrize("text", ["meeting who 99999999999", "meeting agenda #4294967296",
                                  "walk show 99999999999", "cpd show 2147483648",
                                  "walk done ²"])
async def test_numbers_too_big_for_a_record_are_refused_not_sent_to_the_database(
    db: Database, text: str
) -> None:
    """On PostgreSQL such a number used to fail the query (out of the integer range), which
    read as "I can't reach my database"."""
    command, _, rest = text.partition(" ")
    outcome = await run_command(db, command, rest, caller("Ann"))
    said = outcome.reply.plain_text()
    assert outcome.reply.tone is Tone.ERROR
    assert "number" in said and "database" not in said, said


@pytest.mark.parametrize("value", ["v1:meeting.rsvp:99999999999:going", "99999999999:going",
                                   "v1:walk.done:-5", "v1:walk.done:999999999999999999"])
async def test_button_numbers_past_a_rows_range_are_answered_politely(
    db: Database, value: str
) -> None:
    """The button codec reads any 18-digit number; PostgreSQL's integer columns hold less.
    Such a value is answered as what it is, never as the database being away."""
    route = value.split(":")[1] if value.startswith("v1:") else "meeting.rsvp"
    outcome = await run_action(db, route, value, caller("Ann"))
    said = outcome.reply.plain_text()
    assert outcome.reply.tone is Tone.ERROR
    assert "database" not in said and "went wrong" not in said, said
