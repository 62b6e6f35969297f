"""Teams as good as Slack (issue 17), through the real server and the recorded Bot Connector:
channel cards kept true by updateActivity, every channel post paced and retried, in a channel, a
group chat and a personal chat."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from bot.scheduler import OutboxSender
from bot.teams import render
from handlers.replies import ChannelPost, Reply, Section, Visibility
from storage.models import CpdSession, LearningWalk, Partnership, ScheduledDelivery
from tests.conftest import RunningTeamsBot
from tests.support.card_schema import card_problems
from tests.support.cards import card_text, elements
from tests.support.fake_connector import REPLY, SEND, UPDATE, ConnectorCall
from tests.support.teams_requests import CHANNEL_ID, GROUP_CHAT_ID

NEXT_WEEK = datetime.now(UTC) + timedelta(days=7)
PLACES = {"channel": CHANNEL_ID, "group chat": GROUP_CHAT_ID}


async def say(bot: RunningTeamsBot, text: str, where: str = "personal") -> dict[str, Any]:
    """Say something (in a personal chat, the channel or the group chat) and return the card
    the bot answered with."""
    before = len(bot.connector.of(REPLY))
    if where == "channel":
        activity = bot.teams.in_channel(text)
    elif where == "group chat":
        activity = bot.teams.in_group_chat(text)
    else:
        activity = bot.teams.personal(text)
    await bot.teams.post(activity)
    card: dict[str, Any] = (await bot.connector.wait_for(REPLY, before + 1))[before].card
    return card


async def linked(bot: RunningTeamsBot, where: str) -> int:
    """A partnership Jo belongs to, linked to the channel or the group chat."""
    await say(bot, "partnership create East Barnet Area")
    await say(bot, "partnership join East Barnet Area school: Monkfrith role: headteacher")
    await say(bot, "partnership channel East Barnet Area", where)
    await bot.connector.wait_for(SEND)  # the announcement there
    async with bot.db.session() as session:
        partnership = (await session.exec(select(Partnership))).one()
    assert partnership.id is not None
    return partnership.id


def actions(card: dict[str, Any]) -> list[str]:
    return [a.get("title", "") for a in elements(card, lambda n: str(n.get("type", "")).startswith(
        "Action.") and n.get("type") != "Action.OpenUrl")]


async def scheduled_card(bot: RunningTeamsBot, where: str) -> ConnectorCall:
    before = len(bot.connector.of(SEND))
    reply = await say(bot, f"meeting schedule East Barnet Area when: {NEXT_WEEK:%d/%m/%Y} "
                           "11:30 to 12:30 where: Monkfrith")
    assert "Posted in #" in card_text(reply)
    card = (await bot.connector.wait_for(SEND, before + 1))[before]
    assert card.conversation_id == PLACES[where]
    assert "Meeting: East Barnet Area meeting" in card_text(card.card)
    return card


@pytest.mark.parametrize("where", PLACES)
async def test_a_moved_meeting_updates_its_card_in_place(teams_bot: RunningTeamsBot,
                                                          where: str) -> None:
    await linked(teams_bot, where)
    posted = await scheduled_card(teams_bot, where)
    new_day = NEXT_WEEK + timedelta(days=1)
    reply = await say(teams_bot, f"meeting move 1 when: {new_day:%d/%m/%Y} 14:00 to 15:00")
    assert "Moved East Barnet Area meeting" in card_text(reply)
    update, = await teams_bot.connector.wait_for(UPDATE)
    # The card that was posted, in the place it was posted, now at the new time.
    assert (update.conversation_id, update.activity_id) == (PLACES[where], posted.new_id)
    assert posted.conversation_id == update.conversation_id
    assert "14:00" in card_text(update.card) and "11:30" not in card_text(update.card)
    assert {"Going", "Can't make it", "Maybe"} <= set(actions(update.card))


@pytest.mark.parametrize("where", PLACES)
async def test_a_cancelled_meeting_card_says_so_and_loses_its_reply_buttons(
    teams_bot: RunningTeamsBot, where: str,
) -> None:
    await linked(teams_bot, where)
    posted = await scheduled_card(teams_bot, where)
    await say(teams_bot, "meeting cancel 1 reason: snow closure")
    update, = await teams_bot.connector.wait_for(UPDATE)
    assert (update.conversation_id, update.activity_id) == (PLACES[where], posted.new_id)
    text = card_text(update.card)
    assert "Cancelled: East Barnet Area meeting" in text and "snow closure" in text
    assert not {"Going", "Can't make it", "Maybe"} & set(actions(update.card))


async def test_an_agenda_item_updates_the_card(teams_bot: RunningTeamsBot) -> None:
    await linked(teams_bot, "channel")
    await scheduled_card(teams_bot, "channel")
    await say(teams_bot, "meeting agenda 1 add: Learning walk findings")
    update, = await teams_bot.connector.wait_for(UPDATE)
    assert "Learning walk findings" in card_text(update.card)


async def test_a_channel_note_teams_answers_with_429_is_queued_then_sent_once(
    teams_bot: RunningTeamsBot,
) -> None:
    await linked(teams_bot, "channel")
    before = len(teams_bot.connector.of(SEND))
    teams_bot.connector.fail(SEND, 429)
    reply = await say(teams_bot, "walk log East Barnet Area school: Monkfrith date: yesterday "
                                 "focus: phonics")
    text = card_text(reply)
    assert "Logged learning walk #1" in text
    # The truth: not "went to", but queued, and why.
    assert "A short note went to" not in text
    assert "The post in #Heads is queued (Teams asked me to slow down)" in text
    assert len(teams_bot.connector.of(SEND)) == before + 1  # the one refused
    async with teams_bot.db.session() as session:
        queued = (await session.exec(select(ScheduledDelivery).where(
            ScheduledDelivery.kind == "channel_post"))).one()
    assert queued.due_at >= datetime.now(UTC) + timedelta(seconds=2)
    # Before its Retry-After nothing goes; after it, the outbox posts it, once.
    early = OutboxSender(teams_bot.db, teams_bot.delivery, clock=lambda: datetime.now(UTC))
    await early.tick()
    assert len(teams_bot.connector.of(SEND)) == before + 1
    later = datetime.now(UTC) + timedelta(seconds=10)
    sender = OutboxSender(teams_bot.db, teams_bot.delivery, clock=lambda: later)
    assert await sender.tick() >= 1
    await sender.tick()
    sent = (await teams_bot.connector.wait_for(SEND, before + 2))[before + 1:]
    notes = [c for c in sent if "learning walk" in card_text(c.card).lower()]
    assert len(notes) == 1 and notes[0].conversation_id == CHANNEL_ID
    async with teams_bot.db.session() as session:
        queued = (await session.exec(select(ScheduledDelivery).where(
            ScheduledDelivery.kind == "channel_post"))).one()
        walks = (await session.exec(select(LearningWalk))).all()
    assert queued.status == "sent" and len(walks) == 1


async def test_a_queued_card_update_is_superseded_by_a_newer_one(
    teams_bot: RunningTeamsBot,
) -> None:
    """Two changes while Teams says wait: only the newest version of the card goes out."""
    await linked(teams_bot, "channel")
    await scheduled_card(teams_bot, "channel")
    teams_bot.connector.fail(UPDATE, 429)
    first = await say(teams_bot, "meeting agenda 1 add: First item")
    assert "The update of the message in #Heads is queued" in card_text(first)
    # Teams said to wait 3 seconds: the next change waits in the queue too, in its place.
    second = await say(teams_bot, "meeting agenda 1 add: Second item")
    assert "The update of the message in #Heads is queued" in card_text(second)
    assert len(teams_bot.connector.of(UPDATE)) == 1
    later = datetime.now(UTC) + timedelta(seconds=30)
    await OutboxSender(teams_bot.db, teams_bot.delivery, clock=lambda: later).tick()
    updates = await teams_bot.connector.wait_for(UPDATE, 2)
    assert len(updates) == 2  # one refused, then the newest version
    assert "Second item" in card_text(updates[-1].card)
    async with teams_bot.db.session() as session:
        statuses = sorted(d.status for d in (await session.exec(select(ScheduledDelivery).where(
            ScheduledDelivery.kind == "channel_post"))).all())
    assert statuses == ["cancelled", "sent"]


async def test_posts_in_one_conversation_keep_to_teams_limits(
    teams_bot: RunningTeamsBot,
) -> None:
    """A burst of posts for one channel: never more than 7 in a second or 8 in 2 seconds;
    what the pace holds back longer is queued, and the outbox sends it later: none lost."""
    partnership_id = await linked(teams_bot, "channel")
    before = len(teams_bot.connector.of(SEND))
    posts = [ChannelPost(partnership_id, Reply(title=f"Note {n}", visibility=Visibility.PUBLIC,
                                               sections=[Section(lines=["x"])]))
             for n in range(14)]
    # Fourteen people at once, each with a note for the same channel.
    reports = await asyncio.gather(*(teams_bot.delivery.deliver([post]) for post in posts))
    assert all(report == [] for report in reports)
    queued = sum(len(report.queued) for report in reports)
    sent_now = len(teams_bot.connector.of(SEND)) - before
    assert sent_now + queued == 14 and queued and sent_now >= 6
    stamps = [c.at for c in teams_bot.connector.of(SEND)[before:]]
    for i, start in enumerate(stamps):
        assert sum(1 for t in stamps[i:] if t - start < 1.0) <= 7
        assert sum(1 for t in stamps[i:] if t - start < 2.0) <= 8
    later = datetime.now(UTC) + timedelta(minutes=5)
    sender = OutboxSender(teams_bot.db, teams_bot.delivery, clock=lambda: later)
    while await sender.tick():
        later += timedelta(minutes=1)
    titles = [card_text(c.card).split("\n")[0] for c in teams_bot.connector.of(SEND)[before:]]
    notes = [title for title in titles if title.startswith("Note ")]
    # Each once: none lost, none doubled.
    assert sorted(notes) == sorted(f"Note {n}" for n in range(14))


# --- Universal Actions: a press answers with the card as it is now ------------------------


def execute(card: dict[str, Any], title: str) -> dict[str, Any]:
    action: dict[str, Any] = next(a for a in elements(card, "Action.Execute")
                                  if a["title"] == title)
    return action


@pytest.mark.parametrize("where", PLACES)
async def test_a_reply_button_answers_the_invoke_with_the_updated_card(
    teams_bot: RunningTeamsBot, where: str,
) -> None:
    await linked(teams_bot, where)
    posted = await scheduled_card(teams_bot, where)
    going = execute(posted.card, "Going")
    assert going["verb"] == "meeting.rsvp"
    before = len(teams_bot.connector.of(REPLY))
    status, body = await teams_bot.teams.invoke(
        teams_bot.teams.card_action(going["data"], going["verb"], where))
    assert status == 200
    assert body["statusCode"] == 200
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    text = card_text(body["value"])
    assert "Going: 1 · Can't make it: 0 · Maybe: 0" in text and "Going: Jo Whitfield" in text
    # The card comes back in the answer (for everyone who sees it), not by a second update.
    assert teams_bot.connector.of(UPDATE) == []
    told = (await teams_bot.connector.wait_for(REPLY, before + 1))[before]
    assert "You're going to East Barnet Area meeting" in card_text(told.card)
    assert told.targeted  # privately, to the one who pressed


async def test_a_stale_button_on_a_cancelled_card_gets_the_cancelled_card(
    teams_bot: RunningTeamsBot,
) -> None:
    await linked(teams_bot, "channel")
    posted = await scheduled_card(teams_bot, "channel")
    await say(teams_bot, "meeting cancel 1")
    going = execute(posted.card, "Going")
    status, body = await teams_bot.teams.invoke(teams_bot.teams.card_action(going["data"],
                                                                            going["verb"]))
    assert status == 200 and "Cancelled: East Barnet Area meeting" in card_text(body["value"])
    assert "Going" not in actions(body["value"])


# --- a home -----------------------------------------------------------------------------------


async def test_home_shows_the_week_and_refreshes_when_opened(teams_bot: RunningTeamsBot) -> None:
    await linked(teams_bot, "channel")
    await scheduled_card(teams_bot, "channel")
    home = await say(teams_bot, "home")
    text = card_text(home)
    assert "Your partnerships this week" in text and "East Barnet Area meeting" in text
    assert "You haven't replied." in text
    assert {"Log a learning walk", "Log a CPD session", "Going"} <= set(actions(home))
    assert home["refresh"]["action"]["verb"] == "home.refresh"
    # Replying from the home answers with the home brought up to date.
    going = execute(home, "Going")
    assert going["data"]["origin"] == "home"
    status, body = await teams_bot.teams.invoke(
        teams_bot.teams.card_action(going["data"], going["verb"], "personal"))
    assert status == 200 and "Your reply: Going." in card_text(body["value"])
    # Opened again: Teams asks for the card through its refresh.
    refresh = home["refresh"]["action"]
    status, body = await teams_bot.teams.invoke(
        teams_bot.teams.card_action(refresh["data"], refresh["verb"], "personal"))
    assert status == 200 and "Your reply: Going." in card_text(body["value"])


async def test_installed_in_a_personal_chat_the_home_follows_the_welcome(
    teams_bot: RunningTeamsBot,
) -> None:
    activity = teams_bot.teams.personal("")
    activity.pop("text")
    activity.update(type="conversationUpdate",
                    membersAdded=[{"id": activity["recipient"]["id"]}])
    await teams_bot.teams.post(activity)
    welcome, home = await teams_bot.connector.wait_for(REPLY, 2)
    assert "Hello!" in card_text(welcome.card)
    assert "Welcome to Partnership Bot" in card_text(home.card)
    assert "/partnership" not in card_text(home.card)


# --- mentions and wording ----------------------------------------------------------------------


async def test_the_owner_and_walkers_of_a_walk_are_real_mentions(
    teams_bot: RunningTeamsBot,
) -> None:
    await linked(teams_bot, "channel")
    await say(teams_bot, "walk log East Barnet Area school: Monkfrith date: yesterday "
                         "focus: phonics walkers: Jo Whitfield next steps: phonics audit "
                         "owner: Jo Whitfield")
    card = await say(teams_bot, "walk show 1", "channel")
    entities = card["msteams"]["entities"]
    assert entities and all(e["type"] == "mention" for e in entities)
    assert {(e["text"], e["mentioned"]["id"]) for e in entities} == {
        ("<at>Jo Whitfield</at>", "5d7a3c2e-1b4f-4e6a-9c8d-0f1e2d3c4b5a")}
    body = json.dumps(card["body"], ensure_ascii=False)
    assert body.count("<at>Jo Whitfield</at>") >= 2  # walker and owner


def test_slash_commands_in_shared_text_are_shown_as_typed_in_teams() -> None:
    """A digest is written once for Slack and Teams: in Teams, no slash before a command."""
    reply = Reply(title="Weekly digest", sections=[Section(lines=[
        "Posted weekly. `/partnership digest East Barnet Area` shows the settings."])])
    text = card_text(render.card(reply))
    assert "**partnership digest East Barnet Area**" in text and "/partnership" not in text


# --- forms: one record however often the button is pressed ------------------------------------


@pytest.mark.parametrize("where", ["personal", *PLACES])
async def test_a_form_submitted_twice_logs_one_record(teams_bot: RunningTeamsBot,
                                                      where: str) -> None:
    await linked(teams_bot, "channel")
    form = await say(teams_bot, "cpd", where)
    fields = {node.get("label"): node for node in elements(
        form, lambda n: str(n.get("type", "")).startswith("Input."))}
    [submit] = elements(form, "Action.Execute")
    data = dict(submit["data"])
    data[fields["Partnership"]["id"]] = fields["Partnership"]["choices"][0]["value"]
    data[fields["Title"]["id"]] = "SENCO network"
    theme = fields["Theme"]
    data[theme["id"]] = theme["choices"][1]["value"] if "choices" in theme else "SENCO"
    # First with a problem: nothing saved; the card comes back with the problem beside its
    # field and what was typed kept, to be put right and sent again.
    data[fields["Date"]["id"]] = "2026-02-31"
    await teams_bot.teams.post(teams_bot.teams.card_submit(data))
    again = (await teams_bot.connector.wait_for(UPDATE))[0].card
    texts = [n.get("text") or n.get("id") for n in again["body"]]
    date_at = texts.index(fields["Date"]["id"])
    assert "is not a real date" in str(texts[date_at + 1])
    assert again["body"][date_at + 1]["color"] == "Attention"
    assert {n["id"]: n.get("value") for n in elements(
        again, lambda n: str(n.get("type", "")).startswith("Input."))}[
        fields["Title"]["id"]] == "SENCO network"
    data[fields["Date"]["id"]] = "2026-02-04"
    # Then pressed twice, as an impatient person does: two activities, one card.
    await teams_bot.teams.post(teams_bot.teams.card_submit(data))
    await teams_bot.teams.post(teams_bot.teams.card_submit(data))
    await say(teams_bot, "cpd list East Barnet Area")
    async with teams_bot.db.session() as session:
        sessions = (await session.exec(select(CpdSession))).all()
    assert len(sessions) == 1
    logged = [c for c in teams_bot.connector.of(UPDATE) + teams_bot.connector.of(REPLY)
              if "Logged CPD session" in card_text(c.card)]
    assert len(logged) == 1


async def test_a_form_sent_by_universal_action_comes_back_with_its_errors_in_place(
    teams_bot: RunningTeamsBot,
) -> None:
    await linked(teams_bot, "channel")
    form = await say(teams_bot, "cpd", "channel")
    fields = {node.get("label"): node for node in elements(
        form, lambda n: str(n.get("type", "")).startswith("Input."))}
    [submit] = elements(form, "Action.Execute")
    data = dict(submit["data"])
    data[fields["Partnership"]["id"]] = fields["Partnership"]["choices"][0]["value"]
    data[fields["Title"]["id"]] = "SENCO network"
    theme = fields["Theme"]
    data[theme["id"]] = theme["choices"][1]["value"] if "choices" in theme else "SENCO"
    data[fields["Date"]["id"]] = "next year sometime"
    status, body = await teams_bot.teams.invoke(
        teams_bot.teams.card_action(data, submit["verb"]))
    assert status == 200 and body["type"] == "application/vnd.microsoft.card.adaptive"
    again = body["value"]
    ids = [n.get("id") for n in again["body"]]
    beside = again["body"][ids.index(fields["Date"]["id"]) + 1]
    assert beside["type"] == "TextBlock" and beside["color"] == "Attention"
    assert card_problems(again) == []
    async with teams_bot.db.session() as session:
        assert (await session.exec(select(CpdSession))).all() == []
    # Put right, and sent twice: the confirmation takes the form's place, one record.
    data[fields["Date"]["id"]] = "2026-02-04"
    answers = [await teams_bot.teams.invoke(teams_bot.teams.card_action(data, submit["verb"]))
               for _ in range(2)]
    assert [status for status, _ in answers] == [200, 200]
    assert "Logged CPD session #1" in card_text(answers[0][1]["value"])
    assert answers[1][1]["type"] == "application/vnd.microsoft.activity.message"
    await teams_bot.connector.wait_until(
        lambda: any("Already done." in card_text(r.card) for r in teams_bot.connector.of(REPLY)))
    async with teams_bot.db.session() as session:
        assert len((await session.exec(select(CpdSession))).all()) == 1


# --- replies to the person, paced and retried --------------------------------------------------


@pytest.mark.parametrize("where", ["personal", *PLACES])
async def test_a_reply_teams_answers_with_429_is_sent_again_after_its_wait(
    teams_bot: RunningTeamsBot, where: str,
) -> None:
    teams_bot.connector.fail(REPLY, 429)
    card = await say(teams_bot, "partnership list", where)  # waits for the second try
    replies = teams_bot.connector.of(REPLY)
    assert len(replies) == 2 and replies[0].body == replies[1].body
    assert replies[1].at - replies[0].at >= 2.9  # Retry-After: 3
    assert "partnership" in card_text(card).lower()
    # Private stays private: a 429 never sends the reply to the whole thread instead.
    assert replies[1].targeted == (where != "personal")
