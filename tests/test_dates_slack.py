"""A meeting time with two readings, over signed Slack HTTP, in Teams and in the shell: the bot
asks, with each reading as a command and a button; nothing is saved until one is chosen
(issue 11)."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.shell import run_shell
from handlers.buttons import decode
from handlers.commands import RunCommand
from handlers.dates import MONTHS, WEEKDAYS, format_date
from handlers.dispatch import COMMANDS, run_command
from handlers.replies import Tone
from storage.db import Database
from storage.models import LearningWalk, Meeting
from storage.types import LONDON
from tests.conftest import RunningBot, RunningTeamsBot
from tests.support.cards import card_text, elements
from tests.support.fake_connector import REPLY
from tests.support.shell_caller import caller as shell_caller
from tests.support.slack_requests import block_action
from tests.support.when import day_ahead

# Each test reads today: test.sh runs them at the frozen instants too (tests/conftest.py).
pytestmark = pytest.mark.clock

CHANNEL = "C0HEADS001"


def mismatched(day: date) -> str:
    """`day` with the next weekday's name: "Saturday 5 February" for Friday 5 February. The
    readings are `day` itself and the day after (that weekday, nearest the date)."""
    wrong = WEEKDAYS[(day.weekday() + 1) % 7]
    return f"{wrong} {day.day} {MONTHS[day.month - 1]}"


async def reply(bot: RunningBot, n: int) -> dict[str, object]:
    return (await bot.fake.wait_for("response_url", n))[n - 1].body


async def meetings_in(db: Database) -> list[Meeting]:
    async with db.session() as session:
        return list((await session.exec(select(Meeting))).all())


async def test_a_question_with_buttons_and_the_chosen_reading_is_scheduled(
    bot: RunningBot, now: datetime,
) -> None:
    await bot.slack.command("/partnership", "create East Barnet Area")
    await reply(bot, 1)
    await bot.slack.command("/partnership", "channel East Barnet Area", channel_id=CHANNEL,
                            channel_name="heads")
    await reply(bot, 2)
    day = day_ahead(10, now)
    typed = f"schedule East Barnet Area when: {mismatched(day)} 3pm-4pm where: Monkfrith"
    await bot.slack.command("/meeting", typed, channel_id=CHANNEL)
    question = await reply(bot, 3)
    assert question["response_type"] == "ephemeral"
    text = str(question["text"]) + json.dumps(question.get("blocks"), ensure_ascii=False)
    readings = [day, day + timedelta(days=1)]
    assert f"is a {WEEKDAYS[day.weekday()]}, not a {WEEKDAYS[(day.weekday() + 1) % 7]}" in text
    commands = [f"/meeting schedule East Barnet Area when: {format_date(d)} 3pm-4pm "
                "where: Monkfrith" for d in readings]
    for command in commands:
        assert f"`{command}`" in text
    presses = [e for b in question["blocks"] if b["type"] == "actions"  # type: ignore[attr-defined]
               for e in b["elements"]]
    assert [p["text"]["text"] for p in presses] == [f"{format_date(d)} 3pm-4pm" for d in readings]
    chosen = decode(presses[1]["value"], presses[1]["action_id"])
    assert chosen == RunCommand("meeting", commands[1].removeprefix("/meeting "))
    assert await meetings_in(bot.db) == []  # nothing saved from a guess

    await bot.slack.interaction(block_action(presses[1]["action_id"], presses[1]["value"],
                                             channel_id=CHANNEL))
    await bot.fake.wait_until(lambda: any(
        str(c.body.get("text", "")).startswith("Meeting:")
        for c in bot.fake.of("chat.postMessage")))
    meeting, = await meetings_in(bot.db)
    start = meeting.starts_at.astimezone(LONDON)
    assert (start.date(), start.hour, meeting.location) == (readings[1], 15, "Monkfrith")
    assert meeting.ends_at - meeting.starts_at == timedelta(hours=1)


async def test_a_bare_hour_and_no_end_are_said_in_the_reply(bot: RunningBot,
                                                            now: datetime) -> None:
    await bot.slack.command("/partnership", "create East Barnet Area")
    await reply(bot, 1)
    await bot.slack.command("/meeting", "schedule East Barnet Area when: tomorrow at 4")
    said = json.dumps(await reply(bot, 2), ensure_ascii=False)
    assert "I read “4” as 16:00" in said
    assert "I assumed one hour, till 17:00" in said and "`4pm-5.30pm`" in said
    meeting, = await meetings_in(bot.db)
    assert meeting.starts_at.astimezone(LONDON).hour == 16


async def test_the_shell_asks_and_the_typed_choice_is_scheduled(sqlite_db: Database,
                                                                tmp_path: Path,
                                                                now: datetime) -> None:
    day = day_ahead(10, now)
    first = io.StringIO(
        "partnership create East Barnet Area\n"
        f"meeting schedule East Barnet Area when: {mismatched(day)} 2pm-3pm\n"
    )
    out = io.StringIO()
    await run_shell(sqlite_db, "Ann", stdin=first, stdout=out, files_dir=tmp_path)
    asked = out.getvalue()
    command = f"/meeting schedule East Barnet Area when: {format_date(day)} 2pm-3pm"
    assert "Which did you mean? Nothing is saved until you choose:" in asked
    assert command in asked
    assert await meetings_in(sqlite_db) == []

    out = io.StringIO()
    await run_shell(sqlite_db, "Ann", stdin=io.StringIO(command.removeprefix("/") + "\n"),
                    stdout=out, files_dir=tmp_path)
    assert "✓ Scheduled East Barnet Area meeting" in out.getvalue()
    meeting, = await meetings_in(sqlite_db)
    assert meeting.starts_at.astimezone(LONDON).date() == day


async def test_teams_shows_the_question_as_a_card_whose_buttons_schedule(
    teams_bot: RunningTeamsBot, now: datetime,
) -> None:
    await teams_bot.teams.say("partnership create East Barnet Area")
    await teams_bot.connector.wait_for(REPLY, 1)
    day = day_ahead(10, now)
    await teams_bot.teams.say(f"meeting schedule East Barnet Area when: {mismatched(day)} "
                              "10am-11am")
    card = (await teams_bot.connector.wait_for(REPLY, 2))[1].card
    # Teams commands are typed without the slash.
    assert f"meeting schedule East Barnet Area when: {format_date(day)} 10am-11am" in \
        card_text(card)
    assert "/meeting" not in card_text(card)
    choices = elements(card, "Action.Execute")
    assert [c["title"] for c in choices] == [f"{format_date(d)} 10am-11am"
                                             for d in (day, day + timedelta(days=1))]
    assert await meetings_in(teams_bot.db) == []
    status, _ = await teams_bot.teams.invoke(
        teams_bot.teams.card_action(choices[0]["data"], choices[0]["verb"]))
    assert status == 200
    await teams_bot.connector.wait_until(lambda: len(teams_bot.connector.of(REPLY)) >= 3)
    meeting, = await meetings_in(teams_bot.db)
    assert meeting.starts_at.astimezone(LONDON).date() == day
    assert "Scheduled East Barnet Area meeting" in card_text(
        teams_bot.connector.of(REPLY)[2].card)


async def test_a_walk_date_with_two_readings_asks_and_the_choice_is_logged(
    sqlite_db: Database, tmp_path: Path, now: datetime,
) -> None:
    day = day_ahead(-20, now)
    typed = io.StringIO(
        "partnership create East Barnet Area\n"
        "partnership join East Barnet Area school: Monkfrith role: headteacher\n"
        f"walk log East Barnet Area school: Monkfrith date: {mismatched(day)} focus: reading\n"
    )
    out = io.StringIO()
    await run_shell(sqlite_db, "Ann", stdin=typed, stdout=out, files_dir=tmp_path)
    asked = out.getvalue()
    command = (f"/walk log East Barnet Area school: Monkfrith date: {format_date(day)} "
               "focus: reading")
    assert "Which did you mean? Nothing is saved until you choose:" in asked
    assert command in asked
    assert f"date: {format_date(day + timedelta(days=1))} focus: reading" in asked
    async with sqlite_db.session() as session:
        assert (await session.exec(select(LearningWalk))).all() == []

    out = io.StringIO()
    await run_shell(sqlite_db, "Ann", stdin=io.StringIO(command.removeprefix("/") + "\n"),
                    stdout=out, files_dir=tmp_path)
    async with sqlite_db.session() as session:
        walk, = (await session.exec(select(LearningWalk))).all()
    assert walk.walked_on == day


async def test_a_walk_date_still_to_come_is_refused_not_moved_a_year_back(
    sqlite_db: Database, tmp_path: Path, now: datetime,
) -> None:
    soon = day_ahead(3, now)
    if (soon.month, soon.day) == (2, 29):  # its last one was four years back
        soon = day_ahead(4, now)
    typed = io.StringIO(
        "partnership create East Barnet Area\n"
        "partnership join East Barnet Area school: Monkfrith role: headteacher\n"
        f"walk log East Barnet Area school: Monkfrith date: {soon.day}/{soon.month} "
        "focus: reading\n"
    )
    out = io.StringIO()
    await run_shell(sqlite_db, "Ann", stdin=typed, stdout=out, files_dir=tmp_path)
    said = out.getvalue()
    assert f"is still to come ({format_date(soon)})" in said
    assert f"write {soon.day}/{soon.month}/{soon.year - 1};" in said
    async with sqlite_db.session() as session:
        assert (await session.exec(select(LearningWalk))).all() == []


async def test_the_help_examples_with_dates_work_through_the_handlers(db: Database,
                                                                      now: datetime) -> None:
    """The help's meeting and walk examples, run as typed, are accepted and saved."""
    ann = replace(shell_caller("Ann"), now=now)
    for command, text in (("partnership", "create East Barnet Area"),
                          ("partnership", "join East Barnet Area school: Monkfrith")):
        await run_command(db, command, text, ann)
    examples = [span for name in ("meeting", "walk")
                for line in COMMANDS[name].help_reply(ann).plain_text().splitlines()
                for span in line.split("`")[1::2]
                if span.startswith(("/meeting schedule ", "/walk log "))]
    assert len(examples) == 2
    for example in examples:
        command, _, text = example.removeprefix("/").partition(" ")
        outcome = await run_command(db, command, text, ann)
        assert outcome.reply.tone is Tone.SUCCESS, outcome.reply.plain_text()
    assert len(await meetings_in(db)) == 1
    async with db.session() as session:
        walk, = (await session.exec(select(LearningWalk))).all()
    assert walk.walked_on == day_ahead(-1, now)
