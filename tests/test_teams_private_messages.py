"""Private messages to Teams users (nudges, the notice to leads after "forget me") through their
personal chat with the bot: its conversation reference kept from what they send there, used by
the outbox to post proactively; through the real server and the recorded Bot Connector, with
the commands' clock frozen (time-machine) and the outbox's clock moved by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine
from sqlmodel import select

from bot.scheduler import OutboxSender
from storage.models import Action, PersonalChat, ScheduledDelivery
from storage.types import LONDON
from tests.conftest import FakeClock, RunningTeamsBot
from tests.support.cards import card_text, elements
from tests.support.fake_connector import REPLY, SEND, ConnectorCall
from tests.support.teams_requests import USER_AAD_ID, as_user

# Jo (the fixtures' user) talks to the bot in a personal chat; Ben only in the channel.
JO_CHAT = "a:1TestPersonalConversationIdForPartnershipBotNotReal0123456789"
BEN = ("Ben Day", "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d")
BEN_CHAT = "a:1TestPersonalConversationOfBenDayNotReal9876543210"


def uk(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LONDON).astimezone(UTC)


async def say(bot: RunningTeamsBot, activity: dict[str, Any]) -> str:
    """Send an activity and return the text of the card the bot answered with."""
    before = len(bot.connector.of(REPLY))
    await bot.teams.post(activity)
    return card_text((await bot.connector.wait_for(REPLY, before + 1))[before].card)


def ben_in_personal_chat(bot: RunningTeamsBot, text: str) -> dict[str, Any]:
    activity = as_user(bot.teams.personal(text), *BEN)
    activity["conversation"]["id"] = BEN_CHAT
    return activity


def sends_to(bot: RunningTeamsBot, conversation: str) -> list[ConnectorCall]:
    return [c for c in bot.connector.of(SEND) if c.conversation_id == conversation]


async def run_outbox(sender: OutboxSender) -> None:
    """Plan (as the scheduler does every few minutes) at the clock's time, then send."""
    await sender.plan()
    await sender.tick()


async def deliveries(bot: RunningTeamsBot) -> dict[str, ScheduledDelivery]:
    async with bot.db.session() as session:
        rows = (await session.exec(select(ScheduledDelivery))).all()
    return {row.dedupe_key: row for row in rows}


async def test_a_nudge_reaches_the_personal_chat_once_and_done_closes_the_action(
    teams_bot: RunningTeamsBot,
) -> None:
    with time_machine.travel(uk(2026, 11, 23, 10, 0), tick=True):
        # Jo sets it up in a personal chat (which keeps its address); Ben joins in the channel
        # and has never written to the bot in a personal chat.
        await say(teams_bot, teams_bot.teams.personal("partnership create East Barnet Area"))
        await say(teams_bot, teams_bot.teams.personal(
            "partnership join East Barnet Area school: Monkfrith"))
        await say(teams_bot, as_user(teams_bot.teams.in_channel(
            "partnership join East Barnet Area school: Danegrove"), *BEN))
        said = await say(teams_bot, teams_bot.teams.personal(
            "partnership action East Barnet Area share the plan owner: Jo Whitfield "
            "due: 4/12/2026"))
        assert "Action 1" in said
        said = await say(teams_bot, teams_bot.teams.personal(
            "partnership action East Barnet Area audit books owner: Ben Day due: 4/12/2026"))
        assert "Action 2" in said
        async with teams_bot.db.session() as session:
            kept = (await session.exec(select(PersonalChat))).all()
        assert [(k.platform, k.user_id) for k in kept] == [("teams", USER_AAD_ID)]
        assert JO_CHAT in kept[0].conversation_ref

        clock = FakeClock(uk(2026, 11, 30, 12, 0))
        sender = OutboxSender(teams_bot.db, teams_bot.delivery, clock)
        await run_outbox(sender)
        assert sends_to(teams_bot, JO_CHAT) == []  # not yet: 3 school days before is Tuesday
        # Tuesday 1 December, 07:00: the "before" nudge, once, in Jo's personal chat.
        clock.set(uk(2026, 12, 1, 7, 0))
        await run_outbox(sender)
        await teams_bot.connector.wait_until(lambda: len(sends_to(teams_bot, JO_CHAT)) >= 1)
        clock.set(uk(2026, 12, 1, 9, 0))
        await run_outbox(sender)
        await teams_bot.connector.quiet(0.3)
        [nudge] = sends_to(teams_bot, JO_CHAT)
        assert not nudge.targeted
        text = card_text(nudge.card)
        assert "Action 1 is due Friday 4 December 2026" in text
        assert "share the plan (East Barnet Area)" in text
        assert "partnership action done 1" in text and "/partnership" not in text
        buttons = {a["title"]: a for a in elements(nudge.card, "Action.Execute")}
        assert set(buttons) == {"Done", "Needs more time"}
        # Ben's nudge has nowhere to go: dropped with its reason, not retried; nothing sent.
        found = await deliveries(teams_bot)
        jo, ben = found["nudge:1:2026-12-04:before"], found["nudge:2:2026-12-04:before"]
        assert (jo.status, jo.attempts) == ("sent", 1)
        assert ben.status == "dropped" and ben.last_error is not None
        assert "personal chat" in ben.last_error
        assert [c.conversation_id for c in teams_bot.connector.of(SEND)] == [JO_CHAT]

        # Jo presses Done on the nudge: the action is done.
        done = buttons["Done"]
        status, body = await teams_bot.teams.invoke(
            teams_bot.teams.card_action(done["data"], done["verb"], "personal"))
        assert status == 200 and body["statusCode"] == 200
        async with teams_bot.db.session() as session:
            action = await session.get(Action, 1)
            assert action is not None and action.status == "done"
            assert action.closed_by_user_id == USER_AAD_ID
        # Done: no overdue nudge on Monday 7 December.
        clock.set(uk(2026, 12, 7, 9, 0))
        await run_outbox(sender)
        await teams_bot.connector.quiet(0.3)
        assert len(sends_to(teams_bot, JO_CHAT)) == 1


async def test_the_personal_install_keeps_the_chat_and_forget_me_deletes_it(
    teams_bot: RunningTeamsBot,
) -> None:
    # Installed personally: the conversationUpdate alone is enough.
    install = ben_in_personal_chat(teams_bot, "")
    install.pop("text")
    install.update(type="conversationUpdate", membersAdded=[{"id": install["recipient"]["id"]}])
    await teams_bot.teams.post(install)
    await teams_bot.connector.wait_for(REPLY, 2)  # the welcome and the home
    async with teams_bot.db.session() as session:
        kept = (await session.exec(select(PersonalChat))).all()
    assert [(k.user_id, BEN_CHAT in k.conversation_ref) for k in kept] == [(BEN[1], True)]
    # Jo leads; Ben owns an open action; Ben asks to be forgotten.
    await say(teams_bot, teams_bot.teams.personal("partnership create East Barnet Area"))
    await say(teams_bot, teams_bot.teams.personal(
        "partnership join East Barnet Area school: Monkfrith"))
    await say(teams_bot, ben_in_personal_chat(
        teams_bot, "partnership join East Barnet Area school: Danegrove"))
    said = await say(teams_bot, teams_bot.teams.personal(
        "partnership action East Barnet Area audit books owner: Ben Day due: in 2 weeks"))
    assert "Action 1" in said, said
    said = await say(teams_bot, ben_in_personal_chat(teams_bot, "partnership forget me confirm"))
    assert "erased" in said.lower() or "removed" in said.lower(), said
    async with teams_bot.db.session() as session:
        left = [(k.user_id) for k in (await session.exec(select(PersonalChat))).all()]
    assert left == [USER_AAD_ID]  # Ben's is gone; Jo's stays
    # The lead is told in her personal chat that action 1 has no owner now; Teams first asks
    # the bot to slow down: it is tried again after the Retry-After, and goes once.
    teams_bot.connector.fail(SEND, 429)
    clock = FakeClock(datetime.now(UTC))
    sender = OutboxSender(teams_bot.db, teams_bot.delivery, clock)
    await sender.tick()
    [refused] = await teams_bot.connector.wait_for(SEND)
    assert refused.conversation_id == JO_CHAT and refused.new_id is None
    [queued] = (await deliveries(teams_bot)).values()
    assert queued.status == "pending" and queued.last_error is not None
    assert "slow down" in queued.last_error
    clock.advance(timedelta(minutes=1))
    await sender.tick()
    await sender.tick()
    await teams_bot.connector.quiet(0.3)
    refused_then_sent = teams_bot.connector.of(SEND)
    assert [c.new_id is not None for c in refused_then_sent] == [False, True]
    notice = refused_then_sent[1]
    [sent] = (await deliveries(teams_bot)).values()
    assert (sent.status, sent.attempts) == ("sent", 2)
    assert notice.conversation_id == JO_CHAT
    text = card_text(notice.card)
    assert "1 open action in East Barnet Area has no owner now" in text
    assert "**partnership action reassign 1 owner: " in text and "/partnership" not in text
