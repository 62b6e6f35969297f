"""Forms (modals) and buttons through the real server, with stand-in core handlers.

The feature tests (walks, CPD, meetings) use the real forms; these pin the Slack plumbing."""

from __future__ import annotations

import json

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.context import Caller
from handlers.dispatch import ACTIONS, FORMS
from handlers.forms import FieldErrors, FormValues
from handlers.replies import Outcome, Reply
from tests.conftest import RunningBot
from tests.support.slack_requests import block_action, view_submission


async def echo_form(values: FormValues, context: str, caller: Caller,
                    session: AsyncSession) -> Outcome:
    if "school" not in values:
        raise FieldErrors({"school": "Please name the host school."})
    return Outcome(Reply.success(f"Saved {values['school']} for {caller.user_id} ({context})"))


async def press(value: str, caller: Caller, session: AsyncSession) -> Outcome:
    return Outcome(Reply.success(f"You chose {value}"),
                   updated_message=Reply(title=f"1 chose {value}"))


@pytest.fixture(autouse=True)
def stand_ins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(FORMS, "test.echo", echo_form)
    monkeypatch.setitem(ACTIONS, "test.press", press)


async def test_modal_field_errors_are_shown_in_place(bot: RunningBot) -> None:
    payload = view_submission("test.echo", {}, json.dumps({"context": "7", "channel": "C1"}))
    answer = await bot.slack.interaction_json(payload)
    assert answer == {"response_action": "errors",
                      "errors": {"school": "Please name the host school."}}
    assert bot.fake.of("chat.postEphemeral") == []


async def test_modal_submission_is_confirmed_ephemerally_in_its_channel(bot: RunningBot) -> None:
    payload = view_submission(
        "test.echo", {"school": {"type": "plain_text_input", "value": "Monkfrith"}},
        json.dumps({"context": "7", "channel": "C0HEADS001"}))
    await bot.slack.interaction(payload)
    call = (await bot.fake.wait_for("chat.postEphemeral"))[0]
    assert call.body["channel"] == "C0HEADS001"
    assert call.body["user"] == "U2147483697"
    assert "Saved Monkfrith for U2147483697 (7)" in call.body["text"]


async def test_a_button_updates_its_message_in_place(bot: RunningBot) -> None:
    await bot.slack.interaction(block_action("test.press", "going", channel_id="C0HEADS001",
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
