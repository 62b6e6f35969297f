"""Replying to a meeting by typing, and apologies with a reason (issues 13.2 and 15.2): over
signed Slack HTTP, Teams activities and the shell, with the card updated in place."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from bot.shell import run_shell
from handlers.meetings import MeetingRsvp, read_answer
from storage.db import Database
from storage.models import Meeting, Rsvp, RsvpAnswer
from tests.conftest import RunningBot, RunningTeamsBot
from tests.support.cards import card_text, elements
from tests.support.fake_connector import REPLY, SEND, UPDATE
from tests.support.slack_requests import block_action, view_submission
from tests.support.when import day_ahead, uk_short
from tests.test_meetings_slack import CHANNEL, card_ts, command, dumps, linked_partnership, posted

NOT_GOING, GOING, MAYBE = RsvpAnswer.NOT_GOING, RsvpAnswer.GOING, RsvpAnswer.MAYBE


@pytest.mark.parametrize(("typed", "answer", "reason"), [
    ("going", GOING, None), ("yes", GOING, None), ("Yes!", GOING, None), ("y", GOING, None),
    ("maybe", MAYBE, None), ("not sure", MAYBE, None),
    ("no", NOT_GOING, None), ("can't", NOT_GOING, None), ("can’t", NOT_GOING, None),
    ("cant make it", NOT_GOING, None), ("Can't make it - Ofsted call", NOT_GOING, "Ofsted call"),
    ("apologies: Ofsted call", NOT_GOING, "Ofsted call"), ("apologies", NOT_GOING, None),
    ("no, governors' meeting", NOT_GOING, "governors' meeting"),
])
def test_typed_answers_and_their_synonyms(typed: str, answer: RsvpAnswer,
                                          reason: str | None) -> None:
    assert read_answer(typed) == (answer, reason)


@pytest.mark.parametrize("typed", ["", "nothing", "goingx", "yesterday", "nope"])
def test_what_is_not_an_answer(typed: str) -> None:
    assert read_answer(typed) is None


async def rsvps(db: Database) -> list[tuple[str, str, str | None]]:
    async with db.session() as session:
        return [(r.user_id, r.answer, r.reason)
                for r in (await session.exec(select(Rsvp).order_by(col(Rsvp.id)))).all()]


async def scheduled(bot: RunningBot) -> str:
    """East Barnet Area, linked to #heads, with meeting 1 in five days; its card's ts."""
    await linked_partnership(bot)
    await command(bot, f"schedule East Barnet Area when: {uk_short(day_ahead(5))}", 3)
    await posted(bot, "Meeting:")
    return await card_ts(bot)


async def test_a_typed_reply_updates_the_card_in_place(bot: RunningBot) -> None:
    ts = await scheduled(bot)
    answer = await command(bot, "reply 1 yes", 4)
    assert "You're going to East Barnet Area meeting" in answer
    update = (await bot.fake.wait_for("chat.update"))[0]
    assert (update.body["channel"], update.body["ts"]) == (CHANNEL, ts)
    assert "Going: 1 · Can't make it: 0 · Maybe: 0" in dumps(update.body["blocks"])

    answer = await command(bot, "rsvp 1 apologies: Ofsted call", 5)
    assert "Your apologies are recorded, with the reason “Ofsted call”" in answer
    update = (await bot.fake.wait_for("chat.update", 2))[1]
    assert update.body["ts"] == ts
    card = dumps(update.body["blocks"])
    assert "Going: 0 · Can't make it: 1 · Maybe: 0" in card
    assert "Ofsted call" not in card  # the reason is for members, not the channel
    assert await rsvps(bot.db) == [("U2147483697", "not_going", "Ofsted call")]

    who = await command(bot, "who 1", 6)
    assert "Apologies: can't make it (1)" in who and "Steve (Ofsted call)" in who
    assert "Members yet to reply (0)" in who

    # Going again drops the reason.
    await command(bot, "reply 1 going", 7)
    assert await rsvps(bot.db) == [("U2147483697", "going", None)]


async def test_typed_replies_that_cannot_be_taken(bot: RunningBot) -> None:
    await scheduled(bot)
    outsider = await command(bot, "reply 1 yes", 4, user_id="U0OUTSIDE1", user_name="Olive")
    assert "Only members of East Barnet Area can do that" in outsider
    unclear = await command(bot, "reply 1 whenever", 5)
    assert "I can't tell whether “whenever” means going, maybe or apologies" in unclear
    assert "/meeting reply 1 apologies: Ofsted call" in unclear
    reason_with_yes = await command(bot, "reply 1 yes reason: cover arranged", 6)
    assert "A reason goes with apologies" in reason_with_yes
    unknown = await command(bot, "reply 99 yes", 7)
    assert "I can't find meeting 99" in unknown
    assert await rsvps(bot.db) == []

    await command(bot, "cancel 1", 8)
    cancelled = await command(bot, "reply 1 no", 9)
    assert "was cancelled" in cancelled
    assert await rsvps(bot.db) == []
    answers = (await bot.fake.wait_for("response_url", 9))[3:]
    assert all(a.body["response_type"] == "ephemeral" for a in answers)


async def test_a_reply_to_a_meeting_that_has_taken_place_is_refused(bot: RunningBot) -> None:
    await scheduled(bot)
    async with bot.db.session() as session:
        meeting = (await session.exec(select(Meeting))).one()
        meeting.starts_at = datetime.now(UTC) - timedelta(days=2)
        meeting.ends_at = meeting.starts_at + timedelta(hours=1)
        session.add(meeting)
        await session.commit()
    past = await command(bot, "reply 1 apologies: Ofsted call", 4)
    assert "has already taken place" in past
    assert await rsvps(bot.db) == []


async def test_cant_make_it_opens_a_small_form_for_the_reason(bot: RunningBot) -> None:
    ts = await scheduled(bot)
    await bot.slack.interaction(block_action(
        MeetingRsvp.kind, MeetingRsvp(1, NOT_GOING).pack(), channel_id=CHANNEL, message_ts=ts))
    view = (await bot.fake.wait_for("views.open"))[0].body["view"]
    assert view["callback_id"] == "meeting.apologies"
    assert [b["block_id"] for b in view["blocks"] if b["type"] == "input"] == ["reason"]
    # The apology stands at once (the form may be closed unanswered) and the card shows it.
    update = (await bot.fake.wait_for("chat.update"))[0]
    assert "Can't make it: 1" in dumps(update.body["blocks"])
    assert await rsvps(bot.db) == [("U2147483697", "not_going", None)]

    await bot.slack.interaction(view_submission("meeting.apologies", {
        "reason": {"type": "plain_text_input", "value": "Ofsted call"}},
        view["private_metadata"]))
    thanks = (await bot.fake.wait_for("chat.postEphemeral"))[0]
    assert "with the reason “Ofsted call”" in dumps(thanks.body["blocks"])
    edit = (await bot.fake.wait_for("chat.update", 2))[1]
    assert edit.body["ts"] == ts  # the card in the channel, edited where it is
    assert await rsvps(bot.db) == [("U2147483697", "not_going", "Ofsted call")]

    # Pressing Can't make it again keeps the reason already given.
    await bot.slack.interaction(block_action(
        MeetingRsvp.kind, MeetingRsvp(1, NOT_GOING).pack(), channel_id=CHANNEL, message_ts=ts))
    second = (await bot.fake.wait_for("views.open", 2))[1].body["view"]
    reason_input = next(b for b in second["blocks"] if b.get("block_id") == "reason")
    assert reason_input["element"]["initial_value"] == "Ofsted call"
    assert await rsvps(bot.db) == [("U2147483697", "not_going", "Ofsted call")]


# --- Teams ----------------------------------------------------------------------------------


def card_actions(card: dict[str, Any]) -> list[dict[str, Any]]:
    """A card's buttons, whichever action Teams is sent (Submit, or Universal Actions'
    Execute)."""
    return elements(card, lambda n: n.get("type") in ("Action.Submit", "Action.Execute"))


async def updated_with(bot: RunningTeamsBot, text: str) -> dict[str, Any]:
    """The first card updated in place (updateActivity) that says `text`, once it has been."""
    def found() -> list[dict[str, Any]]:
        return [c.card for c in bot.connector.of(UPDATE) if text in card_text(c.card)]

    await bot.connector.wait_until(lambda: bool(found()))
    return found()[0]


async def teams_say(bot: RunningTeamsBot, text: str, channel: bool = False) -> dict[str, Any]:
    before = len(bot.connector.of(REPLY))
    await bot.teams.say(text, channel=channel)
    card: dict[str, Any] = (await bot.connector.wait_for(REPLY, before + 1))[before].card
    return card


async def teams_meeting(bot: RunningTeamsBot) -> dict[str, Any]:
    await teams_say(bot, "partnership create East Barnet Area")
    await teams_say(bot, "partnership channel East Barnet Area", channel=True)
    await bot.connector.wait_for(SEND)
    await teams_say(bot, f"meeting schedule East Barnet Area when: {uk_short(day_ahead(6))}")
    card: dict[str, Any] = (await bot.connector.wait_for(SEND, 2))[1].card
    return card


async def test_a_typed_reply_in_teams(teams_bot: RunningTeamsBot) -> None:
    await teams_meeting(teams_bot)
    answer = await teams_say(teams_bot, "meeting reply 1 cant make it: Ofsted call")
    text = card_text(answer)
    assert "You can't make East Barnet Area meeting" in text
    assert "with the reason “Ofsted call”" in text
    async with teams_bot.db.session() as session:
        rsvp = (await session.exec(select(Rsvp))).one()
    assert (rsvp.platform, rsvp.answer, rsvp.reason) == ("teams", "not_going", "Ofsted call")
    who = card_text(await teams_say(teams_bot, "meeting who 1"))
    assert "Jo Whitfield (Ofsted call)" in who
    # Typed as a message: its examples are written without a slash, as Teams users type them.
    unclear = card_text(await teams_say(teams_bot, "meeting reply 1 soon"))
    assert "meeting reply 1 going" in unclear and "/meeting" not in unclear


async def test_cant_make_it_on_a_teams_card_asks_for_a_reason(
    teams_bot: RunningTeamsBot,
) -> None:
    meeting_card = await teams_meeting(teams_bot)
    cant = next(a for a in card_actions(meeting_card) if a["title"] == "Can't make it")
    before = len(teams_bot.connector.of(REPLY))
    await teams_bot.teams.post(teams_bot.teams.card_submit(cant["data"]))
    await updated_with(teams_bot, "Can't make it: 1")
    form = (await teams_bot.connector.wait_for(REPLY, before + 1))[before].card
    assert "Send apologies" in card_text(form)
    [submit] = card_actions(form)
    [reason] = elements(form, lambda n: n.get("type") == "Input.Text")
    data = dict(submit["data"])
    data[reason["id"]] = "Ofsted call"
    await teams_bot.teams.post(teams_bot.teams.card_submit(data))
    await teams_bot.connector.wait_until(lambda: len(teams_bot.connector.of(UPDATE)) >= 2)
    async with teams_bot.db.session() as session:
        rsvp = (await session.exec(select(Rsvp))).one()
    assert (rsvp.answer, rsvp.reason) == ("not_going", "Ofsted call")


# --- the shell ------------------------------------------------------------------------------


async def test_replying_by_typing_in_the_shell(sqlite_db: Database, tmp_path: Path) -> None:
    typed = io.StringIO(
        "partnership create East Barnet Area\n"
        "partnership channel East Barnet Area\n"
        f"meeting schedule East Barnet Area when: {uk_short(day_ahead(6))}\n"
        "meeting reply 1 apologies: Ofsted call\n"
        "meeting who 1\n"
        "as Olive\n"
        "meeting reply 1 yes\n"
    )
    out = io.StringIO()
    await run_shell(sqlite_db, "Ann", stdin=typed, stdout=out, files_dir=tmp_path)
    text = out.getvalue()
    # The card's buttons say what to type instead.
    assert "[Going] [Can't make it] [Maybe]" in text
    assert ("Or type: meeting reply 1 going · meeting reply 1 apologies: <reason> · "
            "meeting reply 1 maybe") in text
    assert "✓ You can't make East Barnet Area meeting" in text
    assert "[#shell] (changed) Meeting: East Barnet Area meeting" in text
    assert "Can't make it: Ann" in text
    assert "Ann (Ofsted call)" in text
    assert "Only members of East Barnet Area can do that" in text
    assert await rsvps(sqlite_db) == [("local:ann", "not_going", "Ofsted call")]


async def test_cant_make_it_on_the_home_tab_opens_the_form_and_refreshes_the_tab(
    bot: RunningBot,
) -> None:
    from tests.support.slack_requests import event_callback
    from tests.test_app_home import button, on_home, published, text_of

    ts = await scheduled(bot)
    await bot.slack.event(event_callback("app_home_opened", "T0001"))
    home = await published(bot, 1)
    cant = button(home, "Can't make it")
    await bot.slack.interaction(on_home(cant["action_id"], cant["value"]))
    view = (await bot.fake.wait_for("views.open"))[0].body["view"]
    assert view["callback_id"] == "meeting.apologies"
    home = await published(bot, 2)
    assert "Your reply: Can't make it." in text_of(home)
    update = (await bot.fake.wait_for("chat.update"))[0]
    assert update.body["ts"] == ts and "Can't make it: 1" in dumps(update.body["blocks"])


async def test_an_apologys_reason_is_in_mydata_and_goes_with_forget_me(db: Database) -> None:
    from handlers.dispatch import run_command
    from storage import personal_data
    from tests.support.shell_caller import caller

    ann = caller("Ann")
    await run_command(db, "partnership", "create East Barnet Area", ann)
    await run_command(db, "meeting", f"schedule East Barnet Area when: {uk_short(day_ahead(4))}",
                      ann)
    said = await run_command(db, "meeting", "reply 1 apologies: hospital appointment", ann)
    assert "hospital appointment" in said.reply.plain_text()
    person = personal_data.Person(ann.workspace, ann.platform, ann.user_id)
    async with db.session() as session:
        replies = [r for r in await personal_data.export(session, person)
                   if r.kind == "meeting reply"]
        assert [(r.fields["answer"], r.fields["reason"]) for r in replies] == [
            ("not_going", "hospital appointment")]
        await personal_data.erase(session, person)
        await session.commit()
    assert [(a, r) for _, a, r in await rsvps(db)] == [("not_going", None)]
