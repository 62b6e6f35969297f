"""The button codec: every payload round-trips, anything else is out of date, and buttons
posted before the codec keep working where they live long (meeting cards, walk records)."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.buttons import KINDS, ButtonData, StaleButton, decode, unpack
from handlers.commands import BUTTONS
from handlers.dispatch import run_action
from handlers.meetings import MeetingRsvp
from handlers.privacy import ForgetAnswer
from handlers.replies import Tone
from handlers.walk import WalkDone
from storage.db import Database
from storage.models import RsvpAnswer
from tests.conftest import RunningBot
from tests.support.shell_caller import caller
from tests.support.slack_requests import block_action


@dataclass(frozen=True)
class Sample(ButtonData, kind="test.sample"):
    number: int
    text: str
    flag: bool
    answer: RsvpAnswer


def test_every_declared_button_has_a_handler_and_every_payload_is_a_frozen_dataclass() -> None:
    from handlers import dispatch  # noqa: F401  (declares everything)

    declared = {kind for kind, cls in KINDS.items() if not kind.startswith("test.")}
    handled = {cls.kind for cls in BUTTONS if not cls.kind.startswith("test.")}
    assert declared == handled
    for cls in KINDS.values():
        assert dataclasses.is_dataclass(cls)
        assert cls.__dataclass_params__.frozen


@given(st.integers(min_value=-10**17, max_value=10**17), st.text(max_size=200), st.booleans(),
       st.sampled_from(list(RsvpAnswer)))
def test_a_payload_round_trips_whatever_its_text(number: int, text: str, flag: bool,
                                                 answer: RsvpAnswer) -> None:
    sample = Sample(number, text, flag, answer)
    assert unpack(sample.pack()) == sample
    assert decode(sample.pack(), "anything") == sample


def test_the_packed_form_is_readable_and_versioned() -> None:
    assert MeetingRsvp(12, RsvpAnswer.GOING).pack() == "v1:meeting.rsvp:12:going"
    assert WalkDone(7).pack() == "v1:walk.done:7"
    assert ForgetAnswer(True, "U1:x", 5).pack() == "v1:privacy.forget:1:U1%3Ax:5"


@pytest.mark.parametrize("value", [
    "v2:meeting.rsvp:12:going",  # a format from another version
    "v1:no.such.kind:1",  # a kind no code declares
    "v1:meeting.rsvp:12",  # a field missing
    "v1:meeting.rsvp:12:going:extra",  # a field too many
    "v1:meeting.rsvp:twelve:going",  # not a number
    "v1:meeting.rsvp:12:sideways",  # not an answer
    "v1:walk.done:1" + "0" * 30,  # a number far too long
    "",
])
def test_values_that_are_not_todays_are_stale(value: str) -> None:
    with pytest.raises(StaleButton):
        decode(value, "meeting.rsvp")


@pytest.mark.parametrize("value", [{"meeting": 1}, ["1"], 12, None])
def test_a_value_that_is_not_text_is_stale(value: Any) -> None:
    with pytest.raises(StaleButton):
        decode(value, "meeting.rsvp")


def test_buttons_on_messages_posted_before_the_codec_still_work() -> None:
    assert decode("12:going", "meeting.rsvp") == MeetingRsvp(12, RsvpAnswer.GOING)
    assert decode("7", "walk.done") == WalkDone(7)
    with pytest.raises(StaleButton):
        decode("12:sideways", "meeting.rsvp")
    with pytest.raises(StaleButton):
        decode("U1|1700000000", "privacy.forget")  # confirmations expire anyway


async def test_an_out_of_date_button_gets_the_one_polite_answer(db: Database) -> None:
    for route, value in (("walk.done", "not-a-number"), ("no.such", "v1:no.such"),
                         ("meeting.rsvp", "1:sideways")):
        outcome = await run_action(db, route, value, caller())
        assert outcome.reply.tone is Tone.ERROR
        assert outcome.reply.title == "That button is out of date."
        assert "/partnership help" in outcome.reply.plain_text()


async def test_a_json_object_as_a_button_value_is_answered_politely(bot: RunningBot) -> None:
    """Slack sends a button's value as a string; a forged payload with an object there gets
    the out-of-date answer, not a traceback."""
    payload = block_action("meeting.rsvp", "1:going", channel_id="C0HEADS001")
    payload["actions"][0]["value"] = {"meeting": 1, "answer": "going"}
    response = await bot.slack.interaction(payload)
    assert response.status == 200
    said = (await bot.fake.wait_for("chat.postEphemeral"))[0]
    assert "out of date" in said.body["text"]
    assert json.dumps(said.body).count("Traceback") == 0
