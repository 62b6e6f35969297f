"""The App Home through the real server: `app_home_opened` publishes the head's week with
views.publish (recorded by the fake Slack), its buttons answer in place (an RSVP also updates
the meeting's card in the channel), and its log buttons open the walk and CPD forms."""

from __future__ import annotations

import json
from typing import Any

from handlers.dispatch import run_command
from handlers.replies import Tone
from tests.conftest import RunningBot
from tests.support.learning import slack_person
from tests.support.slack_requests import block_action, event_callback
from tests.support.when import day_ahead, uk_long
from tests.test_meetings_slack import CHANNEL, card_ts, command, linked_partnership, reply_text

STEVE_ID = "U2147483697"  # the user of tests/fixtures/slack/slash_command.json
STEVE = slack_person("Steve", STEVE_ID, channel=None)


def press(button: dict[str, Any]) -> dict[str, Any]:
    """Slack's block_actions payload for pressing this Home tab button."""
    return on_home(button["action_id"], button["value"])


def on_home(action_id: str, value: str) -> dict[str, Any]:
    """Slack's block_actions payload for a button on the Home tab: a `view` container."""
    payload = block_action(action_id, value)
    payload["container"] = {"type": "view", "view_id": "V0HOME0001"}
    payload["view"] = {"id": "V0HOME0001", "type": "home", "blocks": []}
    for key in ("channel", "message", "response_url"):
        payload.pop(key, None)
    return payload


async def published(bot: RunningBot, n: int) -> dict[str, Any]:
    """The `n`th Home view published, checked against Slack's limits."""
    call = (await bot.fake.wait_for("views.publish", n))[n - 1]
    assert call.body["user_id"] == STEVE_ID
    view = call.body["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["type"] == "home" and 1 <= len(view["blocks"]) <= 100
    for block in view["blocks"]:
        if block["type"] == "actions":
            ids = [e["action_id"] for e in block["elements"]]
            assert len(ids) == len(set(ids))  # Slack wants them unique within a block
    return dict(view)


def text_of(view: dict[str, Any]) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


def button(view: dict[str, Any], label: str) -> dict[str, Any]:
    return next(e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]
                if e["text"]["text"] == label)


async def set_up(bot: RunningBot) -> None:
    """Steve leads East Barnet Area (channel linked, a meeting with its card posted there) and
    owns the overdue next steps of a walk."""
    await linked_partnership(bot)
    await bot.slack.command("/partnership", "join East Barnet Area school: Monkfrith new: yes")
    assert "You are in East Barnet Area for Monkfrith" in await reply_text(bot, 3)
    answer = await command(bot, f"schedule East Barnet Area when: {uk_long(day_ahead(6))} "
                                "title: Heads' network meeting", 4)
    assert "Scheduled Heads' network meeting" in answer
    walked, due = day_ahead(-7), day_ahead(-1)
    logged = await run_command(
        bot.db, "walk",
        f"log East Barnet Area quiet school: Monkfrith date: {walked.day}/{walked.month}/"
        f"{walked.year} focus: phonics next steps: Review plans owner: <@{STEVE_ID}|Steve> "
        f"due: {due.day}/{due.month}/{due.year}", STEVE)
    assert logged.reply.tone is Tone.SUCCESS, logged.reply.plain_text()


async def test_opening_home_publishes_the_week_and_its_buttons_work_in_place(
    bot: RunningBot,
) -> None:
    await set_up(bot)
    await bot.slack.event(event_callback("app_home_opened", "T0001"))
    home = await published(bot, 1)
    text = text_of(home)
    assert "*Your partnerships this week*" in text
    assert "Your partnerships: East Barnet Area." in text
    assert "*Your next meetings (1)*" in text
    assert "Heads' network meeting (East Barnet Area)" in text
    assert "Going: 0 · Can't make it: 0 · Maybe: 0. You haven't replied." in text
    assert "*Actions you own (1)*" in text and "Walk #1 at Monkfrith: phonics" in text
    assert "(1 day overdue)" in text
    assert button(home, "Going")["value"] == "v1:meeting.rsvp:1:going"

    # Going, pressed on the Home tab: the tab and the meeting's card in the channel both change.
    await bot.slack.interaction(press(button(home, "Going")))
    home = await published(bot, 2)
    assert "Going: 1 · Can't make it: 0 · Maybe: 0. Your reply: Going." in text_of(home)
    assert button(home, "Going").get("style") == "primary"
    update, = await bot.fake.wait_for("chat.update")
    assert (update.body["channel"], update.body["ts"]) == (CHANNEL, await card_ts(bot))
    assert "Going: Steve" in json.dumps(update.body["blocks"])
    # Success needs no message of its own: the tab shows it.
    await bot.fake.quiet()
    assert bot.fake.of("chat.postEphemeral") == []

    await bot.slack.interaction(press(button(home, "Mark done")))
    home = await published(bot, 3)
    assert "None open. Well done." in text_of(home)

    # The log buttons open the forms.
    await bot.slack.interaction(press(button(home, "Log a learning walk")))
    walk_form, = await bot.fake.wait_for("views.open")
    assert walk_form.body["view"]["callback_id"] == "walk.log"
    await bot.slack.interaction(press(button(home, "Log a CPD session")))
    cpd_form = (await bot.fake.wait_for("views.open", 2))[1]
    assert cpd_form.body["view"]["callback_id"] == "cpd.log"


async def test_home_welcomes_someone_in_no_partnership_and_ignores_the_messages_tab(
    bot: RunningBot,
) -> None:
    await bot.slack.event(event_callback("app_home_opened", "T0001", tab="messages"))
    await bot.slack.event(event_callback("app_home_opened", "T0001"))
    home = await published(bot, 1)
    assert "Welcome to Partnership Bot" in text_of(home)
    assert "/partnership join East Barnet Area school: &lt;your school&gt;" in text_of(home)
    assert len(bot.fake.of("views.publish")) == 1  # the messages tab published nothing
