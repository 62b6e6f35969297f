"""Meetings through the real server: signed commands and block_actions in, Web API calls out,
calendar invites read back with the icalendar library."""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any

import icalendar
from sqlmodel import select

from handlers.examples import meeting_when
from handlers.meetings import MeetingRsvp
from storage.models import Meeting, PostedMessage, RsvpAnswer
from storage.types import LONDON
from tests.conftest import RunningBot
from tests.support.fake_slack import Call, Scripted
from tests.support.slack_requests import block_action, view_submission
from tests.support.when import day_ahead, london, uk_long, uk_short

CHANNEL = "C0HEADS001"
STEVE = "U2147483697"  # the user in Slack's documented payloads


async def reply_text(bot: RunningBot, n: int) -> str:
    body = (await bot.fake.wait_for("response_url", n))[n - 1].body
    return str(body["text"]) + "\n" + dumps(body.get("blocks"))


async def command(bot: RunningBot, text: str, n: int, **overrides: str) -> str:
    """Send `/meeting text` and return the bot's reply to it (the `n`th reply of the test)."""
    await bot.slack.command("/meeting", text, **overrides)
    return await reply_text(bot, n)


async def linked_partnership(bot: RunningBot) -> None:
    await bot.slack.command("/partnership", "create East Barnet Area")
    await reply_text(bot, 1)
    await bot.slack.command("/partnership", "channel East Barnet Area", channel_id=CHANNEL,
                            channel_name="heads")
    await reply_text(bot, 2)


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


async def posted(bot: RunningBot, starting: str, n: int = 1) -> list[Call]:
    """The channel posts whose text starts with `starting`, once `n` have arrived."""
    await bot.fake.wait_until(lambda: len(_starting(bot, starting)) >= n)
    return _starting(bot, starting)


def _starting(bot: RunningBot, prefix: str) -> list[Call]:
    return [c for c in bot.fake.of("chat.postMessage")
            if str(c.body.get("text", "")).startswith(prefix)]


async def invites(bot: RunningBot, n: int) -> list[tuple[Call, icalendar.Calendar]]:
    await bot.fake.wait_until(lambda: len(bot.fake.shared_files()) >= n)
    return [(call, icalendar.Calendar.from_ical(upload.content))
            for call, upload in bot.fake.shared_files()]


def event_of(calendar: icalendar.Calendar) -> Any:
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    return events[0]


def rsvp_press(answer: RsvpAnswer, **where: str) -> dict[str, Any]:
    """Slack's block_actions payload for a reply button on meeting 1's card."""
    return block_action(MeetingRsvp.kind, MeetingRsvp(1, answer).pack(), **where)


async def card_ts(bot: RunningBot, meeting_id: int = 1) -> str:
    async with bot.db.session() as session:
        row = (await session.exec(select(PostedMessage).where(
            PostedMessage.key == f"meeting:{meeting_id}"))).one()
    assert row.channel_id == CHANNEL and row.message_ref
    return row.message_ref


def buttons(call: Call) -> list[dict[str, Any]]:
    return [e for b in call.body["blocks"] if b["type"] == "actions" for e in b["elements"]]


async def test_schedule_posts_a_card_with_reply_buttons_and_a_calendar_invite(
    bot: RunningBot,
) -> None:
    await linked_partnership(bot)
    day = day_ahead(10)
    answer = await command(bot, f"schedule East Barnet Area when: {uk_long(day)} "
                                "where: Monkfrith, staff room agenda: Welcome; SEND update", 3)
    assert "Scheduled East Barnet Area meeting" in answer
    assert "Posted in #heads" in answer and "Reminders: 1 day and 1 hour before." in answer

    card = (await posted(bot, "Meeting: East Barnet Area meeting"))[0]
    assert card.body["channel"] == CHANNEL
    body = dumps(card.body["blocks"])
    assert "1. Welcome" in body and "2. SEND update" in body and "Monkfrith, staff room" in body
    assert [(b["text"]["text"], b["action_id"], b["value"]) for b in buttons(card)] == [
        # Slack wants action ids unique within a block: the copies are numbered.
        ("Going", "meeting.rsvp", "v1:meeting.rsvp:1:going"),
        ("Can't make it", "meeting.rsvp#1", "v1:meeting.rsvp:1:not_going"),
        ("Maybe", "meeting.rsvp#2", "v1:meeting.rsvp:1:maybe"),
        # A private link to the invite for whoever presses it, on every platform.
        ("Add to calendar", "web.invite", "v1:web.invite:1")]

    (upload_call, calendar), = await invites(bot, 1)
    assert upload_call.body["channel_id"] == CHANNEL
    assert upload_call.body["thread_ts"] == await card_ts(bot)  # in the card's thread
    assert calendar["METHOD"] == "PUBLISH"
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/London"]
    event = event_of(calendar)
    assert event["SUMMARY"] == "East Barnet Area meeting"
    assert event["LOCATION"] == "Monkfrith, staff room"
    assert event["SEQUENCE"] == 0
    assert event["DTSTART"].params["TZID"] == "Europe/London"
    assert event.decoded("DTSTART") == london(day, 11, 30)
    assert event.decoded("DTEND") == london(day, 12, 30)
    assert "1. Welcome" in str(event["DESCRIPTION"])
    async with bot.db.session() as session:
        meeting = (await session.exec(select(Meeting))).one()
    assert event["UID"] == meeting.uid
    # Stored in UTC, whatever the local offset that day.
    assert meeting.starts_at == london(day, 11, 30).astimezone(UTC)



async def test_a_card_that_could_not_be_posted_is_not_claimed(bot: RunningBot) -> None:
    """The reply says where the card went only once it is there: a refused post gets the
    reason instead of both "Posted in #heads" and "I can't post in #heads"."""
    await linked_partnership(bot)
    bot.fake.answer("chat.postMessage", Scripted(body={"ok": False, "error": "not_in_channel"}))
    answer = await command(bot, f"schedule East Barnet Area when: {uk_long(day_ahead(10))}", 3)
    assert "Scheduled East Barnet Area meeting" in answer
    assert "I can't post in #heads yet" in answer
    assert "Posted in" not in answer
    # And with the card posted but its invite refused, it is not claimed either.
    bot.fake.answer("files.getUploadURLExternal",
                    Scripted(body={"ok": False, "error": "missing_scope"}))
    answer = await command(bot, f"schedule East Barnet Area when: {uk_long(day_ahead(11))}", 4)
    assert "The message went out, but not the file" in answer
    assert "Posted in" not in answer


async def test_rsvp_clicks_update_the_card_in_place(bot: RunningBot) -> None:
    await linked_partnership(bot)
    await command(bot, f"schedule East Barnet Area when: {uk_short(day_ahead(5))}", 3)
    await posted(bot, "Meeting:")
    ts = await card_ts(bot)

    await bot.slack.interaction(rsvp_press(RsvpAnswer.GOING, channel_id=CHANNEL,
                                             message_ts=ts))
    update = (await bot.fake.wait_for("chat.update"))[0]
    assert (update.body["channel"], update.body["ts"]) == (CHANNEL, ts)
    assert "Going: 1 · Can't make it: 0 · Maybe: 0" in dumps(update.body["blocks"])
    assert "Going: Steve" in dumps(update.body["blocks"])
    assert len(buttons(update)) == 4  # still answerable (and Add to calendar)
    thanks = (await bot.fake.wait_for("chat.postEphemeral"))[0]
    assert thanks.body["user"] == STEVE and "You're going to" in thanks.body["text"]

    other = rsvp_press(RsvpAnswer.MAYBE, user_id="U0BEN0001", channel_id=CHANNEL,
                         message_ts=ts)
    other["user"]["username"] = "Ben"
    await bot.slack.interaction(other)
    await bot.fake.wait_for("chat.update", 2)  # one click at a time, as people click
    await bot.slack.interaction(rsvp_press(RsvpAnswer.NOT_GOING, channel_id=CHANNEL,
                                             message_ts=ts))
    updates = await bot.fake.wait_for("chat.update", 3)
    last = dumps(updates[2].body["blocks"])
    assert "Going: 0 · Can't make it: 1 · Maybe: 0" in last  # Steve changed his answer
    assert "Can't make it: Steve" in last
    # Ben is not in the partnership: a guest, shown apart and not counted.
    assert "Guests, not in East Barnet Area (not counted): Maybe: Ben" in last

    who = await command(bot, "who 1", 4)
    assert "Maybe (0)" in who and "Apologies: can't make it (1)" in who
    assert "Guests, not in East Barnet Area (1, not counted above)" in who and "Ben" in who
    assert "Members yet to reply (0)" in who  # Steve, the only member, has replied


async def test_cancel_edits_the_card_and_sends_a_cancellation_for_calendars(
    bot: RunningBot,
) -> None:
    await linked_partnership(bot)
    await command(bot, f"schedule East Barnet Area when: {uk_short(day_ahead(7))}", 3)
    (_, first), = await invites(bot, 1)
    ts = await card_ts(bot)

    answer = await command(bot, "cancel 1 reason: snow closure", 4)
    assert "Cancelled East Barnet Area meeting" in answer
    edit = (await bot.fake.wait_for("chat.update"))[0]
    assert edit.body["ts"] == ts and edit.body["text"].startswith("Cancelled:")
    # Nothing left to answer; the cancellation for calendars instead.
    assert [b["text"]["text"] for b in buttons(edit)] == ["Remove from calendar"]
    notice = (await posted(bot, "Cancelled:"))[0]
    assert "snow closure" in dumps(notice.body["blocks"])

    (_, _), (upload_call, cancellation) = await invites(bot, 2)
    assert upload_call.body["channel_id"] == CHANNEL
    assert cancellation["METHOD"] == "CANCEL"
    event = event_of(cancellation)
    assert event["UID"] == event_of(first)["UID"]
    assert event["SEQUENCE"] == 1
    assert event["STATUS"] == "CANCELLED"

    await bot.slack.interaction(rsvp_press(RsvpAnswer.GOING, channel_id=CHANNEL,
                                             message_ts=ts))
    refusal = (await bot.fake.wait_for("chat.postEphemeral"))[0]
    assert "was cancelled" in refusal.body["text"]
    again = await command(bot, "cancel 1", 5)
    assert "was cancelled" in again


async def test_move_sends_an_updated_invite_with_the_same_uid(bot: RunningBot) -> None:
    await linked_partnership(bot)
    await command(bot, f"schedule East Barnet Area when: {uk_short(day_ahead(7))}", 3)
    (_, first), = await invites(bot, 1)
    ts = await card_ts(bot)
    new_day = day_ahead(8)

    answer = await command(bot, f"move 1 when: {uk_long(new_day, '3pm for 1 hour')}", 4)
    assert "Moved East Barnet Area meeting to" in answer
    edit = (await bot.fake.wait_for("chat.update"))[0]
    assert edit.body["ts"] == ts
    assert "15:00–16:00" in dumps(edit.body["blocks"])
    assert len(buttons(edit)) == 4
    notice = (await posted(bot, "Moved:"))[0]
    assert "It was " in dumps(notice.body["blocks"])

    (_, _), (_, moved) = await invites(bot, 2)
    assert moved["METHOD"] == "PUBLISH"
    event = event_of(moved)
    assert event["UID"] == event_of(first)["UID"]
    assert event["SEQUENCE"] == 1
    assert event.decoded("DTSTART") == london(new_day, 15)
    assert event.decoded("DTSTART").astimezone(LONDON).hour == 15


async def test_each_move_and_then_a_cancel_raise_the_sequence_by_one(bot: RunningBot) -> None:
    """Calendars take an update only when its SEQUENCE is higher than the last they saw: a
    meeting moved twice, then cancelled, goes 0, 1, 2, 3, under one UID."""
    await linked_partnership(bot)
    await command(bot, f"schedule East Barnet Area when: {uk_short(day_ahead(7))}", 3)
    days = [day_ahead(8), day_ahead(9)]
    for n, day in enumerate(days, start=4):
        answer = await command(bot, f"move 1 when: {uk_long(day, '3pm for 1 hour')}", n)
        assert "Moved East Barnet Area meeting to" in answer
    answer = await command(bot, "cancel 1 reason: snow closure", 6)
    assert "Cancelled East Barnet Area meeting" in answer

    sent = [calendar for _, calendar in await invites(bot, 4)]
    events = [event_of(calendar) for calendar in sent]
    assert [e["SEQUENCE"] for e in events] == [0, 1, 2, 3]
    assert len({str(e["UID"]) for e in events}) == 1
    assert [c["METHOD"] for c in sent] == ["PUBLISH", "PUBLISH", "PUBLISH", "CANCEL"]
    assert [e.decoded("DTSTART") for e in events[1:3]] == [london(d, 15) for d in days]
    assert events[3]["STATUS"] == "CANCELLED"
    async with bot.db.session() as session:
        assert (await session.exec(select(Meeting))).one().sequence == 3


async def test_meeting_schedule_alone_opens_a_form_that_shares_the_commands_checks(
    bot: RunningBot,
) -> None:
    await linked_partnership(bot)
    await bot.slack.command("/meeting", "schedule", channel_id=CHANNEL)
    view = (await bot.fake.wait_for("views.open"))[0].body["view"]
    assert view["callback_id"] == "meeting.schedule"
    blocks = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    assert list(blocks) == ["partnership", "when", "where", "title", "agenda", "agenda by"]
    assert blocks["partnership"]["element"]["initial_option"]["value"] == "East Barnet Area"

    def submission(when: str) -> dict[str, Any]:
        return view_submission("meeting.schedule", {
            "partnership": {"type": "static_select",
                            "selected_option": {"value": "East Barnet Area"}},
            "when": {"type": "plain_text_input", "value": when},
            "agenda": {"type": "plain_text_input", "value": "Welcome\nBudgets"},
        }, view["private_metadata"])

    answer = await bot.slack.interaction_json(submission("yesterday 3pm"))
    assert answer["response_action"] == "errors"
    assert "in the past" in answer["errors"]["when"]
    assert "`" not in answer["errors"]["when"]  # plain text in a form
    async with bot.db.session() as session:
        assert (await session.exec(select(Meeting))).all() == []

    await bot.slack.interaction(submission(uk_short(day_ahead(3), "2pm for 90 minutes")))
    confirmation = (await bot.fake.wait_for("chat.postEphemeral"))[0]
    assert confirmation.body["channel"] == CHANNEL
    assert "Scheduled East Barnet Area meeting" in confirmation.body["text"]
    card = (await posted(bot, "Meeting:"))[0]
    assert "14:00–15:30" in dumps(card.body["blocks"])
    assert "2. Budgets" in dumps(card.body["blocks"])


async def test_only_members_schedule_move_or_cancel(bot: RunningBot) -> None:
    await linked_partnership(bot)
    await command(bot, f"schedule East Barnet Area when: {uk_short(day_ahead(4))}", 3)
    outsider = {"user_id": "U0OUTSIDE1", "user_name": "Olive"}
    replies = [
        await command(bot, f"schedule East Barnet Area when: {uk_short(day_ahead(5))}", 4,
                      **outsider),
        await command(bot, f"move 1 when: {uk_short(day_ahead(6))}", 5, **outsider),
        await command(bot, "cancel 1", 6, **outsider),
        await command(bot, "agenda 1 add: Something", 7, **outsider),
    ]
    for reply in replies:
        assert "Only members of East Barnet Area can do that" in reply
    async with bot.db.session() as session:
        meetings = (await session.exec(select(Meeting))).all()
    assert [(m.status, m.sequence) for m in meetings] == [("scheduled", 0)]
    answers = (await bot.fake.wait_for("response_url", 7))[3:]
    assert all(a.body["response_type"] == "ephemeral" for a in answers)


async def test_times_in_the_past_or_ending_before_they_start_are_refused(
    bot: RunningBot,
) -> None:
    await linked_partnership(bot)
    past = await command(bot, f"schedule East Barnet Area when: {uk_short(day_ahead(-2))}", 3)
    assert "in the past" in past and f"when: {meeting_when(day_ahead(0))}" in past
    backwards = await command(
        bot, f"schedule East Barnet Area when: {uk_short(day_ahead(2), '13:00 to 12:00')}", 4)
    assert "before it starts" in backwards and "11.30am-12.30pm" in backwards
    nonsense = await command(bot, "schedule East Barnet Area when: soonish", 5)
    assert "couldn't read" in nonsense
    async with bot.db.session() as session:
        assert (await session.exec(select(Meeting))).all() == []
    assert _starting(bot, "Meeting:") == []
