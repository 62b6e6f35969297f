"""Walks, CPD forms, meetings and reminders in Teams, through the real server: the same core as
Slack, answered as Adaptive Cards on the fake Bot Connector."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlmodel import select

from bot.scheduler import OutboxSender
from storage.models import LearningWalk, Rsvp, ScheduledDelivery
from tests.conftest import RunningTeamsBot
from tests.support.cards import card_text, elements
from tests.support.fake_connector import REPLY, SEND, UPDATE
from tests.support.teams_requests import CHANNEL_ID
from tests.support.when import day_ahead


async def say(bot: RunningTeamsBot, text: str, *, channel: bool = False) -> dict[str, Any]:
    """Say something and return the card the bot answered with."""
    before = len(bot.connector.of(REPLY))
    await bot.teams.say(text, channel=channel)
    card: dict[str, Any] = (await bot.connector.wait_for(REPLY, before + 1))[before].card
    return card


async def linked_partnership(bot: RunningTeamsBot) -> None:
    await say(bot, "partnership create East Barnet Area")
    await say(bot, "partnership join East Barnet Area school: Monkfrith role: headteacher")
    await say(bot, "partnership channel East Barnet Area", channel=True)
    await bot.connector.wait_for(SEND)  # the announcement in the channel


def inputs(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = elements(card, lambda node: str(node.get("type", "")).startswith("Input."))
    return {node.get("label") or node["id"]: node for node in found}


def submit_actions(card: dict[str, Any]) -> list[dict[str, Any]]:
    return elements(card, lambda node: node.get("type") in ("Action.Submit", "Action.Execute"))


async def test_a_walk_logged_by_message(teams_bot: RunningTeamsBot) -> None:
    await linked_partnership(teams_bot)
    card = await say(teams_bot, "walk log East Barnet Area school: Monkfrith date: 5/2/2026 "
                                "focus: reading across KS1 strengths: Secret note")
    assert "Logged learning walk #1 at Monkfrith" in card_text(card)
    note = (await teams_bot.connector.wait_for(SEND, 2))[1]
    assert note.conversation_id == CHANNEL_ID
    assert "Secret note" not in card_text(note.card)  # notes never go to the channel
    async with teams_bot.db.session() as session:
        walk = (await session.exec(select(LearningWalk))).one()
    assert (walk.platform, walk.focus) == ("teams", "reading across KS1")


async def test_the_cpd_form_card_is_filled_in_and_submitted(teams_bot: RunningTeamsBot) -> None:
    await linked_partnership(teams_bot)
    form = await say(teams_bot, "cpd")
    fields = inputs(form)
    assert {"Partnership", "Title", "Theme", "Date"} <= set(fields)
    [submit] = submit_actions(form)
    data = dict(submit["data"])
    partnership = fields["Partnership"]
    data[partnership["id"]] = partnership["choices"][0]["value"]
    data[fields["Title"]["id"]] = "SENCO network"
    theme = fields["Theme"]
    data[theme["id"]] = theme["choices"][1]["value"] if "choices" in theme else "SENCO"
    data[fields["Date"]["id"]] = "2026-02-04"
    await teams_bot.teams.post(teams_bot.teams.card_submit(data))
    update = (await teams_bot.connector.wait_for(UPDATE))[0]
    assert "Logged CPD session #1" in card_text(update.card)


@pytest.mark.clock
async def test_rsvp_buttons_on_a_meeting_card_in_a_teams_channel(
    teams_bot: RunningTeamsBot, now: datetime,
) -> None:
    await linked_partnership(teams_bot)
    await say(teams_bot, f"meeting schedule East Barnet Area when: {day_ahead(7, now):%d/%m/%Y} "
                         "11:30 to 12:30 where: Monkfrith")
    meeting_card = (await teams_bot.connector.wait_for(SEND, 2))[1]
    assert meeting_card.conversation_id == CHANNEL_ID
    going = next(a for a in submit_actions(meeting_card.card) if a["title"] == "Going")
    await teams_bot.teams.post(teams_bot.teams.card_submit(going["data"]))
    update = (await teams_bot.connector.wait_for(UPDATE))[0]
    assert "Going: 1 · Can't make it: 0 · Maybe: 0" in card_text(update.card)
    assert "Going: Jo Whitfield" in card_text(update.card)
    async with teams_bot.db.session() as session:
        rsvp = (await session.exec(select(Rsvp))).one()
    assert (rsvp.platform, rsvp.answer) == ("teams", "going")


@pytest.mark.clock
async def test_a_reminder_reaches_the_linked_teams_channel(teams_bot: RunningTeamsBot,
                                                          now: datetime) -> None:
    await linked_partnership(teams_bot)
    await say(teams_bot, f"meeting schedule East Barnet Area when: {day_ahead(7, now):%d/%m/%Y} "
                         "11:30 to 12:30")
    await teams_bot.connector.wait_for(SEND, 2)
    async with teams_bot.db.session() as session:
        first_due = min(d.due_at for d in (await session.exec(select(ScheduledDelivery).where(
            ScheduledDelivery.kind == "reminder"))).all())
    sender = OutboxSender(teams_bot.db, teams_bot.delivery, clock=lambda: first_due)
    before = len(teams_bot.connector.of(SEND))
    assert await sender.tick() >= 1  # the reminder (and this week's digest, due before it)
    sent = (await teams_bot.connector.wait_for(SEND, before + 1))[before:]
    reminder = next(s for s in sent if "Reminder:" in card_text(s.card))
    assert reminder.conversation_id == CHANNEL_ID
    assert "Reminder: East Barnet Area meeting is tomorrow at 11:30" in card_text(reminder.card)


@pytest.mark.clock
async def test_the_walk_form_card_ticks_quiet_and_names_one_owner(
    teams_bot: RunningTeamsBot, now: datetime,
) -> None:
    """The "don't post a note" box is a tick box in Teams (it was once a people search that
    could never be ticked), and the owner of the next steps is one person."""
    await linked_partnership(teams_bot)
    form = await say(teams_bot, "walk")
    fields = inputs(form)
    quiet, owner, walkers = fields["Channel note"], fields["Who owns step 1"], \
        fields["Walkers"]
    assert (quiet["style"], quiet["isMultiSelect"]) == ("expanded", True)
    assert "choices.data" not in quiet and quiet["choices"][0]["value"] == "quiet"
    assert owner["isMultiSelect"] is False and walkers["isMultiSelect"] is True
    # Three next-step rows, each with its owner (one person) and due date.
    for n in (2, 3):
        assert fields[f"Who owns step {n}"]["isMultiSelect"] is False
        assert f"Next step {n}" in fields and f"Step {n} due by" in fields
    [submit] = submit_actions(form)
    data = dict(submit["data"])
    data[fields["Partnership"]["id"]] = fields["Partnership"]["choices"][0]["value"]
    data[fields["Host school"]["id"]] = fields["Host school"]["choices"][0]["value"]
    data[fields["Date of the walk"]["id"]] = f"{day_ahead(-1, now):%Y-%m-%d}"
    data[fields["Focus"]["id"]] = "reading across KS1"
    data[quiet["id"]] = "quiet"
    before = len(teams_bot.connector.of(SEND))
    await teams_bot.teams.post(teams_bot.teams.card_submit(data))
    update = (await teams_bot.connector.wait_for(UPDATE))[0]
    assert "Logged learning walk #1 at Monkfrith" in card_text(update.card)
    assert "Nothing was posted in" in card_text(update.card)
    await teams_bot.connector.quiet()  # a late post would show
    assert len(teams_bot.connector.of(SEND)) == before


async def test_a_repeated_activity_runs_once(teams_bot: RunningTeamsBot) -> None:
    """Teams sends an activity again with the same id when it did not hear back in time."""
    await linked_partnership(teams_bot)
    activity = teams_bot.teams.personal("walk log East Barnet Area school: Monkfrith "
                                        "date: yesterday focus: phonics")
    await teams_bot.teams.post(activity)
    await teams_bot.teams.post(activity)
    await say(teams_bot, "walk list")  # after both have been answered
    async with teams_bot.db.session() as session:
        walks = (await session.exec(select(LearningWalk))).all()
    assert len(walks) == 1
    logged = [c for c in teams_bot.connector.of(REPLY) if "Logged learning walk" in
              card_text(c.card)]
    assert len(logged) == 1
