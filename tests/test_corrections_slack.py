"""Editing and deleting through the real server: the channel note changed in place and
withdrawn, the delete confirmation's button, and the edit form as a modal filled in."""

from __future__ import annotations

import json

from handlers.logbook import EditRecord
from tests.conftest import RunningBot
from tests.support.slack_requests import block_action, view_submission
from tests.test_learning_slack import BEN as SLACK_BEN
from tests.test_learning_slack import LOG_WALK, Chat


async def test_edit_and_delete_in_slack_change_and_withdraw_the_channel_note(
    bot: RunningBot,
) -> None:
    chat = Chat(bot)
    await chat.say("/partnership", "create East Barnet Area")
    await chat.say("/partnership", "join East Barnet Area school: Monkfrith")
    await chat.say("/partnership", "channel East Barnet Area", channel_id="C0HEADS001",
                   channel_name="heads")
    await chat.say("/walk", LOG_WALK)
    await bot.fake.wait_for("chat.postMessage", 2)  # the link's announcement, the walk's note
    await chat.say("/walk", "edit 1 focus: reading across KS1")
    update = (await bot.fake.wait_for("chat.update"))[0]
    assert update.body["channel"] == "C0HEADS001"
    assert "reading across KS1" in json.dumps(update.body["blocks"])
    refused = await chat.say("/walk", "edit 1 focus: not mine", **SLACK_BEN)
    assert "Only members of East Barnet Area" in refused["text"]
    asked = await chat.say("/walk", "delete 1")
    delete = next(e for b in asked["blocks"] if b["type"] == "actions" for e in b["elements"]
                  if e["text"]["text"] == "Delete it")
    await bot.slack.interaction(block_action(delete["action_id"], delete["value"],
                                             channel_id="C0HEADS001"))
    withdrawn = (await bot.fake.wait_for("chat.delete"))[0]
    assert withdrawn.body["channel"] == "C0HEADS001"
    said = (await bot.fake.wait_for("chat.postEphemeral"))[0]
    assert "Deleted learning walk #1" in said.body["text"]


async def test_the_edit_form_in_slack_is_a_modal_filled_in(bot: RunningBot) -> None:
    chat = Chat(bot)
    await chat.say("/partnership", "create East Barnet Area")
    await chat.say("/partnership", "join East Barnet Area school: Monkfrith")
    await chat.say("/walk", LOG_WALK)
    await bot.slack.interaction(block_action(EditRecord.kind, EditRecord("walk", 1).pack()))
    view = (await bot.fake.wait_for("views.open"))[0].body["view"]
    assert view["callback_id"] == "walk.log.edit"
    focus = next(b for b in view["blocks"] if b.get("block_id") == "focus")
    assert focus["element"]["initial_value"] == "progression in foundation subjects"
    submitted = view_submission(view["callback_id"], {
        "focus": {"type": "plain_text_input", "value": "reading"},
        "school": {"type": "static_select",
                   "selected_option": next(b for b in view["blocks"]
                                           if b.get("block_id") == "school")["element"][
                       "initial_option"]},
        "date": {"type": "datepicker", "selected_date": "2026-02-05"},
    }, view["private_metadata"])
    await bot.slack.interaction(submitted)
    said = (await bot.fake.wait_for("chat.postEphemeral"))[0]
    assert "Updated learning walk #1" in said.body["text"]
