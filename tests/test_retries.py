"""Retries and replays run once. Slack sends a request again (the same body, the same trigger id,
with X-Slack-Retry-Num) when it did not hear back in time; Teams sends an activity again with the
same id. Each kind of write that is not idempotent by nature is replayed after the first has run,
and alongside it: one row, one channel post, and the repeat answered "Already done"."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs, urlencode

import pytest
from sqlmodel import func, select

from handlers.meetings import MeetingRsvp
from storage.models import (
    CpdSession,
    LearningWalk,
    Meeting,
    Member,
    PostedMessage,
    Rsvp,
    RsvpAnswer,
)
from tests.conftest import RunningBot, RunningTeamsBot
from tests.support.cards import card_text
from tests.support.fake_connector import REPLY, SEND
from tests.support.fake_slack import Call
from tests.support.slack_requests import block_action, signed_headers, view_submission
from tests.support.when import day_ahead, uk_long

HEADS = {"channel_id": "C0HEADS001", "channel_name": "heads"}
BEN = {"user_id": "U0BEN00001", "user_name": "ben"}
ALREADY = "Already done."
RETRY = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}

pytestmark = pytest.mark.parametrize("together", [False, True], ids=["after", "alongside"])


async def count(bot: RunningBot | RunningTeamsBot, table: type, *where: Any) -> int:
    async with bot.db.session() as session:
        query = select(func.count()).select_from(table)
        for condition in where:
            query = query.where(condition)
        return int((await session.exec(query)).one())


def text_of(call: Call) -> str:
    return f"{call.body.get('text', '')}\n{json.dumps(call.body.get('blocks', []))}"


def channel_posts(bot: RunningBot) -> list[Call]:
    return [c for c in bot.fake.of("chat.postMessage") if c.body.get("channel") == "C0HEADS001"]


async def linked(bot: RunningBot) -> None:
    """East Barnet Area, Steve (the payloads' user) in it for Monkfrith, #heads linked."""
    for text, extra in (("create East Barnet Area", {}),
                        ("join East Barnet Area school: Monkfrith", {}),
                        ("channel East Barnet Area", HEADS)):
        await bot.ask("/partnership", text, **extra)
    await bot.fake.wait_until(lambda: len(channel_posts(bot)) == 1)  # "now linked"


async def twice(send: Callable[[dict[str, str]], Awaitable[Any]],
                first_answered: Callable[[], Awaitable[None]], together: bool) -> None:
    """Send a request and its retry: the retry after the first was answered, or both at once."""
    if together:
        await asyncio.gather(send({}), send(RETRY))
        return
    await send({})
    await first_answered()
    await send(RETRY)


async def command_twice(bot: RunningBot, command: str, text: str, together: bool,
                        **overrides: str) -> list[str]:
    """A slash command and Slack's retry of it (the same body); the two answers, in order."""
    body = bot.slack.command_body(command, text, **overrides)
    response_url = parse_qs(body)["response_url"][0]

    async def send(extra: dict[str, str]) -> None:
        response = await bot.slack.post(body, {**signed_headers(body), **extra})
        assert response.status == 200

    await twice(send, lambda: bot.fake.wait_until(
        lambda: bool(bot.fake.answer_to(response_url)), within=20), together)
    await bot.fake.wait_until(lambda: len(bot.fake.answer_to(response_url)) >= 2, within=20)
    await bot.fake.quiet()
    return [text_of(c) for c in bot.fake.answer_to(response_url)]


async def interaction_twice(bot: RunningBot, payload: dict[str, Any],
                            together: bool) -> list[str]:
    """An interaction (button press, form submission) and its retry; the person's two
    ephemeral answers."""
    body = urlencode({"payload": json.dumps(payload)})
    before = len(bot.fake.of("chat.postEphemeral"))

    async def send(extra: dict[str, str]) -> None:
        response = await bot.slack.post(body, {**signed_headers(body), **extra})
        assert response.status == 200

    await twice(send, lambda: bot.fake.wait_until(
        lambda: len(bot.fake.of("chat.postEphemeral")) > before, within=20), together)
    await bot.fake.wait_until(lambda: len(bot.fake.of("chat.postEphemeral")) >= before + 2,
                              within=20)
    await bot.fake.quiet()
    return [text_of(c) for c in bot.fake.of("chat.postEphemeral")[before:]]


def done_once(answers: list[str], done: str) -> None:
    """One answer says it was done, the other (the repeat) that it was already done."""
    assert len(answers) == 2, answers
    assert sum(done in a for a in answers) == 1, answers
    assert sum(ALREADY in a for a in answers) == 1, answers


async def test_a_join_retried(bot: RunningBot, together: bool) -> None:
    await linked(bot)
    answers = await command_twice(bot, "/partnership", "join East Barnet Area school: Danegrove",
                                  together, **BEN)
    done_once(answers, "joined East Barnet Area")
    assert await count(bot, Member, Member.user_id == BEN["user_id"]) == 1
    assert len(channel_posts(bot)) == 1  # only "now linked": a join posts nothing


async def test_a_walk_log_retried(bot: RunningBot, together: bool) -> None:
    await linked(bot)
    answers = await command_twice(bot, "/walk", "log East Barnet Area school: Monkfrith "
                                  "date: yesterday focus: phonics", together)
    done_once(answers, "Logged learning walk #")  # (a rolled-back twin may use up #1)
    assert await count(bot, LearningWalk) == 1
    assert len(channel_posts(bot)) == 2  # "now linked", and the walk's one note


async def test_a_cpd_log_retried(bot: RunningBot, together: bool) -> None:
    await linked(bot)
    answers = await command_twice(bot, "/cpd", "log East Barnet Area title: Phonics refresher "
                                  "theme: TA training date: yesterday", together)
    done_once(answers, "Logged CPD")
    assert await count(bot, CpdSession) == 1
    assert len(channel_posts(bot)) == 2


async def schedule(bot: RunningBot, together: bool | None) -> list[str]:
    text = f"schedule East Barnet Area when: {uk_long(day_ahead(10))} where: Monkfrith"
    if together is None:
        return [await bot.ask_text("/meeting", text)]
    return await command_twice(bot, "/meeting", text, together)


async def test_a_meeting_schedule_retried(bot: RunningBot, together: bool) -> None:
    await linked(bot)
    done_once(await schedule(bot, together), "Scheduled East Barnet Area meeting")
    assert await count(bot, Meeting) == 1
    cards = [c for c in channel_posts(bot) if "Meeting: East Barnet" in text_of(c)]
    assert len(cards) == 1
    assert len(bot.fake.shared_files()) == 1  # one calendar invite


async def test_an_rsvp_retried(bot: RunningBot, together: bool) -> None:
    await linked(bot)
    await schedule(bot, None)
    await bot.fake.wait_until(lambda: len(bot.fake.shared_files()) == 1)
    await bot.fake.quiet()
    async with bot.db.session() as session:
        card = (await session.exec(select(PostedMessage))).one()
    assert card.message_ref is not None
    press = block_action(MeetingRsvp.kind, MeetingRsvp(1, RsvpAnswer.GOING).pack(),
                         channel_id="C0HEADS001", message_ts=card.message_ref)
    updates = len(bot.fake.of("chat.update"))
    answers = await interaction_twice(bot, press, together)
    done_once(answers, "You're going to")
    assert await count(bot, Rsvp) == 1
    assert len(bot.fake.of("chat.update")) == updates + 1  # the card brought up to date once


async def test_a_form_submission_retried(bot: RunningBot, together: bool) -> None:
    await linked(bot)
    await bot.slack.command("/walk", "log")
    view = (await bot.fake.wait_for("views.open"))[0].body["view"]
    options = {b["block_id"]: b["element"].get("options") for b in view["blocks"]
               if "block_id" in b}

    def chosen(block_id: str, label: str) -> dict[str, Any]:
        found = next(o for o in options[block_id] if o["text"]["text"] == label)
        return {"type": "static_select", "selected_option": found}

    state = {"partnership": chosen("partnership", "East Barnet Area"),
             "school": chosen("school", "Monkfrith"),
             "date": {"type": "datepicker", "selected_date": str(day_ahead(-1))},
             "focus": {"type": "plain_text_input", "value": "Reading across KS1"}}
    payload = view_submission("walk.log", state, view["private_metadata"])
    answers = await interaction_twice(bot, payload, together)
    done_once(answers, "Logged learning walk #")  # (a rolled-back twin may use up #1)
    assert await count(bot, LearningWalk) == 1
    assert len(channel_posts(bot)) == 2


async def test_a_teams_activity_retried(teams_bot: RunningTeamsBot, together: bool) -> None:
    bot = teams_bot
    for text, channel in (("partnership create East Barnet Area", False),
                          ("partnership join East Barnet Area school: Monkfrith", False),
                          ("partnership channel East Barnet Area", True)):
        before = len(bot.connector.of(REPLY))
        await bot.teams.say(text, channel=channel)
        await bot.connector.wait_for(REPLY, before + 1)
    await bot.connector.wait_for(SEND)  # the channel's announcement
    activity = bot.teams.personal("walk log East Barnet Area school: Monkfrith "
                                  "date: yesterday focus: phonics")
    before = len(bot.connector.of(REPLY))
    if together:
        await asyncio.gather(bot.teams.post(activity), bot.teams.post(activity))
    else:
        await bot.teams.post(activity)
        await bot.connector.wait_for(REPLY, before + 1, within=20)
        await bot.teams.post(activity)
    replies = await bot.connector.wait_for(REPLY, before + 2, within=20)
    await bot.connector.quiet()
    answers = [card_text(c.card) for c in bot.connector.of(REPLY)[before:]]
    done_once(answers, "Logged learning walk #")  # (a rolled-back twin may use up #1)
    assert await count(bot, LearningWalk) == 1
    assert len(bot.connector.of(SEND)) == 2  # the announcement and the walk's one note
    assert len(replies) >= 2
