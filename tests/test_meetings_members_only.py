"""A partnership's meetings are for its members: `/meeting who`, `/meeting agenda`, `/meeting
list` and the App Home show them only to members (others get a polite, ephemeral refusal that
gives nothing away), the channel card shows what the channel sees, and replies from people
outside the partnership are shown apart as guests, never counted as members' replies."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from handlers.dispatch import SCHEDULED, run_command
from handlers.replies import Reply
from storage import digests
from storage.models import ScheduledDelivery
from tests.conftest import RunningBot
from tests.support.learning import slack_person
from tests.support.slack_requests import block_action, event_callback
from tests.support.when import day_ahead, uk_short
from tests.test_app_home import STEVE, published, text_of
from tests.test_meetings_slack import CHANNEL, card_ts, command, linked_partnership, posted

OLIVE = {"user_id": "U0OLIVE001", "user_name": "Olive"}  # in no partnership
HAL = {"user_id": "U0HAL00001", "user_name": "Hal"}  # in another partnership
SECRETS = ("Budget cuts", "meet.example.org/heads-secret", "Heads' network meeting")


async def schedule(bot: RunningBot) -> None:
    """East Barnet Area (Steve, its lead, linked to the channel) with one meeting, whose title,
    place and agenda no outsider may read; Hal leads Hendon Area."""
    await linked_partnership(bot)
    answer = await command(bot, f"schedule East Barnet Area when: {uk_short(day_ahead(6))} "
                                "title: Heads' network meeting where: "
                                "https://meet.example.org/heads-secret agenda: Budget cuts", 3)
    assert "Scheduled Heads' network meeting" in answer
    await posted(bot, "Meeting:")
    hal = slack_person("Hal", HAL["user_id"], workspace="T0001", channel=None)
    outcome = await run_command(bot.db, "partnership", "create Hendon Area", hal)
    assert "Created" in outcome.reply.title


async def test_outsiders_are_refused_meeting_details_politely(bot: RunningBot) -> None:
    await schedule(bot)
    for who, text in [(OLIVE, "who 1"), (OLIVE, "agenda 1"), (OLIVE, "list East Barnet Area"),
                      (HAL, "who 1"), (HAL, "agenda 1"), (HAL, "list east barnet")]:
        answer = await bot.ask("/meeting", text, **who)
        body = json.dumps(answer, ensure_ascii=False)
        assert answer["response_type"] == "ephemeral", text
        assert "Only members of East Barnet Area can see its meetings" in answer["text"], text
        assert "/partnership join East Barnet Area school:" in body, text
        for secret in SECRETS:
            assert secret not in body, (text, secret)
        assert "Traceback" not in body


async def test_meeting_list_shows_only_your_own_partnerships(bot: RunningBot) -> None:
    await schedule(bot)
    nothing = await bot.ask("/meeting", "list", **OLIVE)
    assert "You are not in a partnership yet" in nothing["text"]
    other = await bot.ask("/meeting", "list", **HAL)
    assert "No meetings coming up for your partnerships" in other["text"]
    for answer in (nothing, other):
        assert not any(s in json.dumps(answer, ensure_ascii=False) for s in SECRETS)
    mine = await bot.ask_text("/meeting", "list")  # Steve, a member
    assert "Heads' network meeting (East Barnet Area)" in mine
    details = await bot.ask_text("/meeting", "agenda 1")
    assert "1. Budget cuts" in details


async def test_guests_replies_are_shown_apart_and_never_counted(bot: RunningBot) -> None:
    await schedule(bot)
    ts = await card_ts(bot)
    for n, (user, answer) in enumerate(((OLIVE, "going"), (HAL, "going"), (None, "maybe")),
                                       start=1):
        press = block_action("meeting.rsvp", f"1:{answer}", channel_id=CHANNEL, message_ts=ts,
                             user_id=user["user_id"] if user else None)
        if user:
            press["user"]["username"] = press["user"]["name"] = user["user_name"]
        await bot.slack.interaction(press)
        await bot.fake.wait_for("chat.update", n)  # one press at a time, as people press
    updates = bot.fake.of("chat.update")
    card = json.dumps(updates[-1].body["blocks"], ensure_ascii=False)
    assert "Going: 0 · Can't make it: 0 · Maybe: 1" in card  # Steve, the one member
    assert "Guests, not in East Barnet Area (not counted): Going: Olive, Hal" in card
    told = (await bot.fake.wait_for("chat.postEphemeral", 3))[0]
    assert told.body["user"] == OLIVE["user_id"]
    assert "not a member of East Barnet Area, so your reply is shown apart, as a guest" in \
        told.body["text"] + json.dumps(told.body.get("blocks"))

    who = await bot.ask_text("/meeting", "who 1")
    assert "Going (0)" in who and "Maybe (1)" in who
    assert "Guests, not in East Barnet Area (2, not counted above)" in who

    # The reminder in the channel, the digest's and the App Home's counts: members only.
    now = datetime.now(UTC)
    async with bot.db.session() as session:
        row = (await session.exec(select(ScheduledDelivery).where(
            ScheduledDelivery.kind == "reminder"))).first()
        assert row is not None
        reminder = await SCHEDULED["reminder"](json.loads(row.payload), row.due_at, row.due_at,
                                               session)
        ahead = await digests.meetings_ahead(session, [1], now, now + timedelta(days=30), 5)
    assert isinstance(reminder, Reply)
    assert "Going: 0 · Can't make it: 0 · Maybe: 1 · Guests: 2" in reminder.plain_text()
    item, = ahead.items
    assert (item.going, item.maybe, item.not_going) == (0, 1, 0)

    await bot.slack.event(event_callback("app_home_opened", "T0001", user=STEVE.user_id))
    home = text_of(await published(bot, 1))
    assert "Going: 0 · Can't make it: 0 · Maybe: 1" in home


async def test_an_outsiders_app_home_shows_no_other_partnerships_meetings(
    bot: RunningBot,
) -> None:
    await schedule(bot)
    await bot.slack.event(event_callback("app_home_opened", "T0001", user=OLIVE["user_id"]))
    call = (await bot.fake.wait_for("views.publish"))[0]
    assert call.body["user_id"] == OLIVE["user_id"]
    view = json.dumps(call.body["view"], ensure_ascii=False)
    assert "You are not in a partnership here yet" in view
    assert not any(s in view for s in SECRETS)
