"""Agenda items by a deadline (issue 15.1): the call for items and the day-before reminder
(through the outbox, exactly once), members adding items until the deadline and leads after
it, the small form, and the standing items the bot fills in; over signed Slack HTTP, Teams
activities and the shell."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import col, select

from handlers.meetings import AddAgendaItem
from storage.db import Database
from storage.models import AgendaItem, DeliveryStatus, Meeting, ScheduledDelivery
from tests.conftest import FakeClock, RunningBot, RunningTeamsBot, running_bot
from tests.support.cards import card_text, elements
from tests.support.fake_connector import REPLY, SEND
from tests.support.fake_slack import Call, FakeSlack
from tests.support.slack_requests import block_action, view_submission
from tests.support.when import day_ahead, london, uk_short
from tests.test_meeting_replies import card_actions, teams_say, updated_with
from tests.test_meetings_slack import CHANNEL, card_ts, command, dumps, linked_partnership, posted

POLL = 0.02
BEN = {"user_id": "U0BEN00001", "user_name": "Ben"}


async def other(bot: RunningBot, slash: str, text: str, n: int, **overrides: str) -> str:
    """Another command than /meeting, and the bot's reply (the `n`th of the test)."""
    await bot.slack.command(slash, text, **overrides)
    body = (await bot.fake.wait_for("response_url", n))[n - 1].body
    return str(body["text"]) + "\n" + dumps(body.get("blocks"))


def deadline_text(days: int) -> str:
    day = day_ahead(days)
    return f"{day.day}/{day.month}/{day.year}"


async def agenda_rows(db: Database) -> list[ScheduledDelivery]:
    async with db.session() as session:
        return list((await session.exec(select(ScheduledDelivery).where(
            ScheduledDelivery.kind == "agenda").order_by(col(ScheduledDelivery.id)))).all())


async def items(db: Database) -> list[str]:
    async with db.session() as session:
        return [i.text for i in (await session.exec(select(AgendaItem).order_by(
            col(AgendaItem.position)))).all()]


def agenda_reminders(bot: RunningBot) -> list[Call]:
    return [c for c in bot.fake.ok("chat.postMessage")
            if str(c.body.get("text", "")).startswith("Reminder: agenda items")]


async def test_the_call_for_items_and_one_reminder_the_day_before(
    db: Database, fake_slack: FakeSlack,
) -> None:
    clock = FakeClock()
    async with running_bot(db, fake_slack, clock, POLL) as bot:
        await linked_partnership(bot)
        answer = await command(bot, f"schedule East Barnet Area when: {uk_short(day_ahead(10))} "
                                    f"agenda by: {deadline_text(6)}", 3)
        assert "the channel is asked for them, and reminded the day before" in answer
        call = (await posted(bot, "Agenda items wanted:"))[0]
        assert call.body["channel"] == CHANNEL
        body = dumps(call.body["blocks"])
        assert "add your items by the end of" in body
        assert f"v1:{AddAgendaItem.kind}:1" in body
        card = (await posted(bot, "Meeting:"))[0]
        assert "Agenda items: members add them until the end of" in dumps(card.body["blocks"])

        row, = await agenda_rows(db)
        due = london(day_ahead(5), 9).astimezone(UTC)
        assert (row.dedupe_key, row.due_at) == (f"agenda:1:{day_ahead(6).isoformat()}", due)

        clock.set(due - timedelta(seconds=1))
        await bot.polls(3)
        assert agenda_reminders(bot) == []
        clock.set(due)
        await bot.fake.wait_until(lambda: len(agenda_reminders(bot)) == 1)
        reminder = agenda_reminders(bot)[0]
        assert reminder.body["channel"] == CHANNEL
        assert "No items yet." in dumps(reminder.body["blocks"])
        await bot.polls(3)
        bot.scheduler.kill()
    # A restart sends nothing more.
    clock.set(due + timedelta(minutes=1))
    async with running_bot(db, fake_slack, clock, POLL) as bot:
        await bot.polls(3)
    assert len(agenda_reminders(bot)) == 1
    assert [r.status for r in await agenda_rows(db)] == [DeliveryStatus.SENT]


async def test_moving_the_deadline_moves_its_reminder_and_cancel_stops_it(
    bot: RunningBot,
) -> None:
    await linked_partnership(bot)
    await command(bot, f"schedule East Barnet Area when: {uk_short(day_ahead(10))} "
                       f"agenda by: {deadline_text(6)}", 3)
    changed = await command(bot, f"edit 1 agenda by: {deadline_text(8)}", 4)
    assert "are due by" in changed
    first, second = await agenda_rows(bot.db)
    assert first.status == DeliveryStatus.CANCELLED and second.status == DeliveryStatus.PENDING
    assert second.dedupe_key == f"agenda:1:{day_ahead(8).isoformat()}"
    await posted(bot, "Agenda items wanted:", 2)  # a new call with the new date

    after = await command(bot, f"edit 1 agenda by: {deadline_text(12)}", 5)
    assert "is after the meeting" in after
    past = await command(bot, "edit 1 agenda by: yesterday", 6)
    assert "has passed" in past
    outsider = await command(bot, f"edit 1 agenda by: {deadline_text(7)}", 7,
                             user_id="U0OUTSIDE1", user_name="Olive")
    assert "Only members of East Barnet Area can do that" in outsider
    async with bot.db.session() as session:
        meeting = (await session.exec(select(Meeting))).one()
    assert meeting.agenda_by == day_ahead(8)

    await command(bot, "cancel 1", 8)
    assert [r.status for r in await agenda_rows(bot.db)] == [DeliveryStatus.CANCELLED] * 2


async def close_the_agenda(db: Database) -> None:
    """As if the deadline had passed: it was yesterday."""
    async with db.session() as session:
        meeting = (await session.exec(select(Meeting))).one()
        meeting.agenda_by = (datetime.now(UTC) - timedelta(days=1)).date()
        session.add(meeting)
        await session.commit()


async def test_members_add_items_until_the_deadline_then_only_leads(bot: RunningBot) -> None:
    await linked_partnership(bot)
    joined = await other(bot, "/partnership", "join East Barnet Area school: Monkfrith", 3,
                         **BEN)
    assert "You joined East Barnet Area" in joined
    await command(bot, f"schedule East Barnet Area when: {uk_short(day_ahead(10))} "
                       f"agenda by: {deadline_text(5)}", 4)
    added = await command(bot, "agenda 1 add: SEND update", 5, **BEN)
    assert "Added item 1 to the agenda" in added
    outsider = await command(bot, "agenda 1 add: Sneaky item", 6, user_id="U0OUTSIDE1",
                             user_name="Olive")
    assert "Only members of East Barnet Area can do that" in outsider

    await close_the_agenda(bot.db)
    late = await command(bot, "agenda 1 add: Late item", 7, **BEN)
    assert "Only a lead of East Barnet Area can add items to the agenda" in late
    assert "Ask Steve" in late
    lead = await command(bot, "agenda 1 add: Budget", 8)
    assert "Added item 2" in lead
    assert await items(bot.db) == ["SEND update", "Budget"]
    shown = await command(bot, "agenda 1", 9, **BEN)
    assert "that has passed, so now only leads can" in shown


async def test_the_add_button_opens_a_small_form(bot: RunningBot) -> None:
    await linked_partnership(bot)
    await command(bot, f"schedule East Barnet Area when: {uk_short(day_ahead(10))} "
                       f"agenda by: {deadline_text(5)}", 3)
    ts = await card_ts(bot)
    await bot.slack.interaction(block_action(AddAgendaItem.kind, AddAgendaItem(1).pack(),
                                             channel_id=CHANNEL, message_ts=ts))
    view = (await bot.fake.wait_for("views.open"))[0].body["view"]
    assert view["callback_id"] == "meeting.agenda"

    def submission(text: str) -> dict[str, Any]:
        return view_submission("meeting.agenda", {
            "add": {"type": "plain_text_input", "value": text}}, view["private_metadata"])

    empty = await bot.slack.interaction_json(submission("   "))
    assert empty["response_action"] == "errors" and "add" in empty["errors"]
    await bot.slack.interaction(submission("Learning walk findings"))
    update = (await bot.fake.wait_for("chat.update"))[0]
    assert update.body["ts"] == ts
    assert "1. Learning walk findings" in dumps(update.body["blocks"])
    assert await items(bot.db) == ["Learning walk findings"]

    # A guest in the channel may not add items.
    await bot.slack.interaction(block_action(AddAgendaItem.kind, AddAgendaItem(1).pack(),
                                             user_id="U0OUTSIDE1", channel_id=CHANNEL,
                                             message_ts=ts))
    refusal = (await bot.fake.wait_for("chat.postEphemeral", 2))[-1]
    assert "Only members of East Barnet Area can do that" in refusal.body["text"]
    assert len(bot.fake.of("views.open")) == 1


async def test_the_agenda_starts_with_the_standing_items(bot: RunningBot) -> None:
    await linked_partnership(bot)
    await other(bot, "/partnership", "join East Barnet Area school: Monkfrith", 3)
    logged = await other(bot, "/walk", "log East Barnet Area school: Monkfrith date: yesterday "
                                       "focus: reading next steps: Share the phonics plan "
                                       f"owner: Steve due: {deadline_text(20)}", 4)
    assert "Logged learning walk #1" in logged
    await command(bot, f"schedule East Barnet Area when: {uk_short(day_ahead(10))} "
                       "agenda: Budget", 5)
    await command(bot, "reply 1 apologies: Ofsted call", 6)
    shown = await command(bot, "agenda 1", 7)
    order = [shown.index(t) for t in ("Standing items", "Apologies: Steve (Ofsted call)",
                                      "Minutes of the last meeting: none: this is the",
                                      "Matters arising: 1 open",
                                      "Walk 1 at Monkfrith", "Share the phonics plan",
                                      "1. Budget")]
    assert order == sorted(order)
    # None of it on the channel's card.
    card = dumps((await bot.fake.wait_for("chat.update"))[-1].body["blocks"])
    assert "phonics" not in card and "Ofsted" not in card


# --- Teams and the shell --------------------------------------------------------------------


async def test_agenda_items_in_teams(teams_bot: RunningTeamsBot) -> None:
    await teams_say(teams_bot, "partnership create East Barnet Area")
    await teams_say(teams_bot, "partnership channel East Barnet Area", channel=True)
    await teams_bot.connector.wait_for(SEND)
    await teams_say(teams_bot, f"meeting schedule East Barnet Area when: "
                               f"{uk_short(day_ahead(9))} agenda by: {deadline_text(4)}")
    sent = await teams_bot.connector.wait_for(SEND, 3)
    call = next(s for s in sent if "Agenda items wanted" in card_text(s.card))
    [add] = [a for a in card_actions(call.card) if a["title"] == "Add an agenda item"]
    before = len(teams_bot.connector.of(REPLY))
    await teams_bot.teams.post(teams_bot.teams.card_submit(add["data"]))
    form = (await teams_bot.connector.wait_for(REPLY, before + 1))[before].card
    [submit] = card_actions(form)
    [field] = elements(form, lambda n: n.get("type") == "Input.Text")
    data = dict(submit["data"])
    data[field["id"]] = "Phonics training"
    await teams_bot.teams.post(teams_bot.teams.card_submit(data))
    await updated_with(teams_bot, "Added item 1 to the agenda")
    typed = card_text(await teams_say(teams_bot, "meeting agenda 1 add: Budget"))
    assert "Added item 2" in typed
    assert await items(teams_bot.db) == ["Phonics training", "Budget"]


async def test_agenda_by_in_the_shell(sqlite_db: Database, tmp_path: Path) -> None:
    from bot.shell import run_shell

    typed = io.StringIO(
        "partnership create East Barnet Area\n"
        "partnership channel East Barnet Area\n"
        f"meeting schedule East Barnet Area when: {uk_short(day_ahead(9))} "
        f"agenda by: {deadline_text(4)}\n"
        "as Olive\n"
        "meeting agenda 1 add: Sneaky\n"
        "as Ann\n"
        "meeting agenda 1 add: SEND update\n"
        "meeting agenda 1\n"
    )
    out = io.StringIO()
    await run_shell(sqlite_db, "Ann", stdin=typed, stdout=out, files_dir=tmp_path)
    text = out.getvalue()
    assert "[#shell] Agenda items wanted: East Barnet Area meeting" in text
    assert "Or type: meeting agenda 1 add: <item>" in text
    assert "Only members of East Barnet Area can do that" in text
    assert "✓ Added item 1 to the agenda of East Barnet Area meeting: SEND update" in text
    assert "Standing items" in text and "1. SEND update" in text
    assert await items(sqlite_db) == ["SEND update"]
