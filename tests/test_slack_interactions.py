"""Forms (modals) and buttons through the real server, with stand-in core handlers.

The feature tests (walks, CPD, meetings) use the real forms; these pin the Slack plumbing."""

from __future__ import annotations

import json

import pytest

from tests.conftest import RunningBot
from tests.support.slack_requests import block_action, view_submission
from tests.support.stand_ins import Press, SendFile, stand_ins

# Every test here runs with the stand-in handlers declared.
pytestmark = pytest.mark.usefixtures(stand_ins.__name__)


async def test_modal_field_errors_are_shown_in_place(bot: RunningBot) -> None:
    payload = view_submission("test.echo", {}, json.dumps({"context": "7", "channel": "C1"}))
    answer = await bot.slack.interaction_json(payload)
    assert answer == {"response_action": "errors",
                      "errors": {"school": "Please name the host school."}}
    await bot.fake.quiet()
    assert bot.fake.of("chat.postEphemeral") == []


async def test_modal_submission_is_confirmed_ephemerally_in_its_channel(bot: RunningBot) -> None:
    payload = view_submission(
        "test.echo", {"school": {"type": "plain_text_input", "value": "Monkfrith"}},
        json.dumps({"context": "7", "channel": "C0HEADS001"}))
    await bot.slack.interaction(payload)
    call = (await bot.fake.wait_for("chat.postEphemeral"))[0]
    assert call.body["channel"] == "C0HEADS001"
    assert call.body["user"] == "U2147483697"
    assert "Saved Monkfrith for Steve (7)" in call.body["text"]


async def test_a_button_updates_its_message_in_place(bot: RunningBot) -> None:
    await bot.slack.interaction(block_action(Press.kind, Press("going").pack(),
                                             channel_id="C0HEADS001",
                                             message_ts="1700000000.000100"))
    update = (await bot.fake.wait_for("chat.update"))[0]
    assert update.body["channel"] == "C0HEADS001"
    assert update.body["ts"] == "1700000000.000100"
    assert "1 chose going" in update.body["text"]
    ephemeral = (await bot.fake.wait_for("chat.postEphemeral"))[0]
    assert "You chose going" in ephemeral.body["text"]


async def test_an_unknown_button_is_answered_politely(bot: RunningBot) -> None:
    await bot.slack.interaction(block_action("no.such.action", "x"))
    ephemeral = (await bot.fake.wait_for("chat.postEphemeral"))[0]
    assert "out of date" in ephemeral.body["text"]


async def test_files_a_button_brings_are_sent_to_the_person(bot: RunningBot) -> None:
    """Every path shows the whole outcome: a button's files go by direct message too."""
    await bot.slack.interaction(block_action(SendFile.kind, SendFile().pack(),
                                             channel_id="C0HEADS001"))
    upload = (await bot.fake.wait_for("files.completeUploadExternal"))[0]
    opened = bot.fake.of("conversations.open")[0]
    assert opened.body["users"] == "U2147483697"
    assert "Your notes" in str(upload.body)
    said = (await bot.fake.wait_for("chat.postEphemeral"))[0]
    assert "Here is your file." in said.body["text"]
