"""/walk and /cpd through the real server: signed slash commands, modals opened with views.open,
view_submission payloads, the "done" button, and the Web API calls the bot makes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from handlers.schoolyear import today_in_london
from handlers.walk import WalkDone
from tests.conftest import RunningBot
from tests.support.fake_slack import Call, Scripted
from tests.support.slack_requests import block_action, view_submission

BEN = {"user_id": "U0BEN00001", "user_name": "ben"}
CY = {"user_id": "U0CY000001", "user_name": "cy"}
HEADS = {"channel_id": "C0HEADS001", "channel_name": "heads"}
LOG_WALK = ("log East Barnet Area school: Monkfrith date: 5/2/2026 "
            "focus: progression in foundation subjects")
LOG_CPD = "log East Barnet Area title: Phonics refresher theme: TA training date: 5/2/2026"


class Chat:
    """Sends commands and reads the bot's answers in order."""

    def __init__(self, bot: RunningBot) -> None:
        self.bot = bot
        self.answers = 0

    async def say(self, command: str, text: str, **overrides: str) -> dict[str, Any]:
        await self.bot.slack.command(command, text, **overrides)
        self.answers += 1
        calls = await self.bot.fake.wait_for("response_url", self.answers)
        return calls[self.answers - 1].body

    async def silent(self, command: str, text: str, **overrides: str) -> None:
        """A command answered with a modal rather than a message."""
        before = len(self.bot.fake.of("views.open"))
        await self.bot.slack.command(command, text, **overrides)
        await self.bot.fake.wait_for("views.open", before + 1)


def shown(body: dict[str, Any]) -> str:
    """Everything a person would read: the notification text and the blocks."""
    return str(body.get("text", "")) + "\n" + json.dumps(body.get("blocks", []))


@pytest.fixture
async def chat(bot: RunningBot) -> Chat:
    chat = Chat(bot)
    await chat.say("/partnership", "create East Barnet Area")
    await chat.say("/partnership", "join East Barnet Area school: Monkfrith")
    await chat.say("/partnership", "join East Barnet Area school: Danegrove", **BEN)
    await chat.say("/partnership", "channel East Barnet Area", **HEADS)
    await bot.fake.wait_for("chat.postMessage")  # the channel's "now linked" announcement
    return chat


async def opened_view(bot: RunningBot, n: int = 1) -> dict[str, Any]:
    view: dict[str, Any] = (await bot.fake.wait_for("views.open", n))[n - 1].body["view"]
    return view


def block(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    return next(b for b in view["blocks"] if b.get("block_id") == block_id)


def option(view: dict[str, Any], block_id: str, label: str) -> dict[str, Any]:
    options = block(view, block_id)["element"]["options"]
    found: dict[str, Any] = next(o for o in options if o["text"]["text"] == label)
    return found


def text_input(value: str) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def select(chosen: dict[str, Any]) -> dict[str, Any]:
    return {"type": "static_select", "selected_option": chosen}


def picked_date(iso: str) -> dict[str, Any]:
    return {"type": "datepicker", "selected_date": iso}


def walk_state(view: dict[str, Any], **changes: dict[str, Any]) -> dict[str, dict[str, Any]]:
    state = {
        "partnership": select(option(view, "partnership", "East Barnet Area")),
        "school": select(option(view, "school", "Danegrove")),
        "date": picked_date("2026-02-05"),
        "focus": text_input("Reading across KS1"),
        "walkers": {"type": "multi_users_select", "selected_users": ["U0BEN00001"]},
        "year groups": text_input("y1, y2"),
        "strengths": text_input("Confident decoding"),
        "next steps": text_input("Model fluency daily"),
        "owner": {"type": "users_select", "selected_user": "U0BEN00001"},
        "due": picked_date("2026-03-01"),
        "quiet": {"type": "checkboxes", "selected_options": []},
    }
    state.update(changes)
    return state


async def test_walk_with_no_fields_opens_the_modal(bot: RunningBot, chat: Chat) -> None:
    await chat.silent("/walk", "")
    view = await opened_view(bot)
    assert view["callback_id"] == "walk.log"
    assert view["title"]["text"] == "Log a learning walk"
    assert "never named or judged individual teachers" in view["blocks"][0]["elements"][0]["text"]
    partnership = block(view, "partnership")["element"]
    assert partnership["type"] == "static_select"
    assert partnership["initial_option"]["text"]["text"] == "East Barnet Area"
    assert [o["text"]["text"] for o in block(view, "school")["element"]["options"]] == [
        "Danegrove", "Monkfrith"]
    assert block(view, "date")["element"]["type"] == "datepicker"
    assert block(view, "walkers")["element"]["type"] == "multi_users_select"
    assert block(view, "owner")["element"]["type"] == "users_select"
    assert block(view, "quiet")["element"]["type"] == "checkboxes"
    assert block(view, "focus")["element"]["max_length"] == 200
    assert json.loads(view["private_metadata"])["channel"] == "C2147483705"
    assert bot.fake.of("response_url")[chat.answers:] == []


async def test_a_submitted_walk_is_confirmed_and_noted_in_the_channel(
    bot: RunningBot, chat: Chat
) -> None:
    await chat.silent("/walk", "log")
    view = await opened_view(bot)
    payload = view_submission("walk.log", walk_state(view), view["private_metadata"])
    assert await bot.slack.interaction_json(payload) is None
    confirmation = (await bot.fake.wait_for("chat.postEphemeral"))[0].body
    assert confirmation["channel"] == "C2147483705"
    assert confirmation["user"] == "U2147483697"
    assert "Logged learning walk #1 at Danegrove" in confirmation["text"]
    blocks = json.dumps(confirmation["blocks"])
    assert "<@U0BEN00001>" in blocks  # walkers and owner as real mentions
    assert "Y1, Y2" in blocks
    assert "A short note went to #heads." in blocks  # said once the note was out
    note = (await bot.fake.wait_for("chat.postMessage", 2))[1].body
    assert note["channel"] == "C0HEADS001"
    assert "Steve logged a learning walk at Danegrove" in note["text"]
    assert "Confident decoding" not in shown(note) and "fluency" not in shown(note)
    assert "U0BEN00001" not in shown(note)


async def test_a_quiet_submission_posts_nothing_in_the_channel(
    bot: RunningBot, chat: Chat
) -> None:
    await chat.silent("/walk", "")
    view = await opened_view(bot)
    state = walk_state(view, quiet={"type": "checkboxes", "selected_options": [
        {"text": {"type": "plain_text", "text": "quiet"}, "value": "quiet"}]})
    await bot.slack.interaction(view_submission("walk.log", state, view["private_metadata"]))
    confirmation = (await bot.fake.wait_for("chat.postEphemeral"))[0].body
    assert "Nothing was posted in #heads (quiet)" in shown(confirmation)
    await bot.fake.quiet()  # a late post would show
    assert len(bot.fake.of("chat.postMessage")) == 1  # only the earlier "now linked"


async def test_modal_errors_are_shown_beside_the_fields(bot: RunningBot, chat: Chat) -> None:
    await chat.silent("/walk", "")
    view = await opened_view(bot)
    state = walk_state(view, due=picked_date("2026-01-01"), focus=text_input("f" * 201))
    answer = await bot.slack.interaction_json(
        view_submission("walk.log", state, view["private_metadata"]))
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {"due", "focus"}
    assert "before the walk" in answer["errors"]["due"]
    assert "the most is 200" in answer["errors"]["focus"]
    await chat.say("/walk", "list")
    assert "No learning walks" in shown(bot.fake.of("response_url")[-1].body)


async def test_a_non_member_submitting_the_form_is_refused_in_place(
    bot: RunningBot, chat: Chat
) -> None:
    await chat.silent("/walk", "")
    view = await opened_view(bot)
    payload = view_submission("walk.log", walk_state(view), view["private_metadata"],
                              user_id=CY["user_id"])
    answer = await bot.slack.interaction_json(payload)
    assert answer["response_action"] == "errors"
    assert list(answer["errors"]) == ["partnership"]


async def test_a_typed_walk_with_escaped_mentions(bot: RunningBot, chat: Chat) -> None:
    body = await chat.say("/walk", LOG_WALK.replace("progression", "reading &amp; writing")
                          + " walkers: <@U0BEN00001|ben>, <@U0OTHER001|dee> "
                          "next steps: Share plans owner: <@U0BEN00001|ben> due: 1/3/2026")
    assert body["response_type"] == "ephemeral"
    text = shown(body)
    assert "Logged learning walk #1 at Monkfrith" in text
    assert "<@U0BEN00001>, <@U0OTHER001>" in text
    assert "reading &amp; writing" in text  # stored as "&", escaped again for Slack
    note = (await bot.fake.wait_for("chat.postMessage", 2))[1].body
    assert "reading &amp; writing in foundation subjects" in shown(note)
    assert "<@" not in shown(note)
    show = await chat.say("/walk", "show 1")
    assert "Share plans" in shown(show) and "<@U0BEN00001>" in shown(show)


async def test_a_name_cannot_smuggle_a_mention(bot: RunningBot, chat: Chat) -> None:
    body = await chat.say("/walk", LOG_WALK + " walkers: &lt;!channel&gt; Jo")
    assert "<!channel>" not in json.dumps(body)
    assert "&lt;!channel&gt; Jo" in shown(body)


async def test_bad_input_is_answered_ephemerally_and_nothing_is_written(
    bot: RunningBot, chat: Chat
) -> None:
    cases: list[tuple[str, str, dict[str, str], str]] = [
        ("/walk", "log East Barnet Area school: Monkfrith date: 5/2/2026", {}, "`focus:`"),
        ("/walk", LOG_WALK.replace("5/2/2026", "30/2/2026"), {}, "not a real date"),
        ("/walk", LOG_WALK, CY, "Only members of East Barnet Area"),
        ("/walk", LOG_WALK.replace("progression", "p" * 200), {}, "the most is 200"),
        ("/walk", "show 1", CY, "I can't find learning walk #1."),
        ("/cpd", LOG_CPD.replace("TA training", "astrology"), {}, "not one of East Barnet"),
        ("/cpd", LOG_CPD.replace("title: Phonics refresher ", ""), {}, "`title:`"),
        ("/cpd", LOG_CPD.replace("5/2/2026", "Friday 5/2/2026"), {}, "is a Thursday"),
        ("/cpd", LOG_CPD, CY, "Only members of East Barnet Area"),
        ("/cpd", LOG_CPD + " impact: " + "i" * 1600, {}, "the most is 1,500"),
        ("/cpd", "summary East Barnet Area", CY, "Only members"),
    ]
    for command, text, who, problem in cases:
        body = await chat.say(command, text, **who)
        assert body["response_type"] == "ephemeral", text
        assert problem in shown(body), (text, shown(body))
        assert "⚠️" in body["blocks"][0]["text"]["text"]
    empty = await chat.say("/walk", "list")
    assert "No learning walks" in shown(empty)
    assert "No CPD sessions" in shown(await chat.say("/cpd", "list"))


async def test_a_modal_that_cannot_open_falls_back_to_the_usage(
    bot: RunningBot, chat: Chat
) -> None:
    bot.fake.answer("views.open", Scripted(body={"ok": False, "error": "expired_trigger_id"}))
    body = await chat.say("/walk", "")
    assert "Write it like this" in shown(body) and "/walk log" in shown(body)


async def test_cpd_modal_and_submission(bot: RunningBot, chat: Chat) -> None:
    await chat.silent("/cpd", "")
    view = await opened_view(bot)
    assert view["callback_id"] == "cpd.log"
    themes = [o["text"]["text"] for o in block(view, "theme")["element"]["options"]]
    assert "Middle leadership" in themes and len(themes) == 6
    assert block(view, "hours")["element"]["type"] == "number_input"
    state = {
        "partnership": select(option(view, "partnership", "East Barnet Area")),
        "title": text_input("Interventions that work"),
        "theme": select(option(view, "theme", "SENCO leadership: impact of interventions")),
        "date": picked_date(today_in_london().isoformat()),
        "hours": {"type": "number_input", "value": "0"},
        "host": select(option(view, "host", "Monkfrith")),
        "attendees": text_input("Monkfrith, Danegrove"),
    }
    answer = await bot.slack.interaction_json(
        view_submission("cpd.log", state, view["private_metadata"]))
    assert answer == {"response_action": "errors",
                      "errors": {"hours": "A session needs some length. Write hours like 1.5."}}
    state["hours"] = {"type": "number_input", "value": "1.5"}
    await bot.slack.interaction(view_submission("cpd.log", state, view["private_metadata"]))
    confirmation = (await bot.fake.wait_for("chat.postEphemeral"))[0].body
    assert "Logged CPD session #1: Interventions that work" in confirmation["text"]
    assert "1.5 hours" in shown(confirmation)
    note = (await bot.fake.wait_for("chat.postMessage", 2))[1].body
    assert note["channel"] == "C0HEADS001" and "Interventions that work" in note["text"]
    summary = await chat.say("/cpd", "summary East Barnet Area")
    assert "SENCO leadership: impact of interventions: 1 session, 1.5 hours" in shown(summary)
    assert "Danegrove: hosted none; attended 1 session, 1.5 hours" in shown(summary)


async def test_the_done_button_on_a_walk(bot: RunningBot, chat: Chat) -> None:
    await chat.say("/walk", LOG_WALK + " next steps: Share plans owner: ben")
    show = await chat.say("/walk", "show 1", **BEN)
    buttons = [e for b in show["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [(b["action_id"], b["value"]) for b in buttons] == [("walk.done", "v1:walk.done:1")]
    await bot.slack.interaction(block_action(WalkDone.kind, WalkDone(1).pack(),
                                             user_id=BEN["user_id"], channel_id="C2147483705"))
    said: list[Call] = await bot.fake.wait_for("chat.postEphemeral")
    assert "Marked 1 next step of learning walk #1 at Monkfrith done" in said[0].body["text"]
    listed = await chat.say("/walk", "list")
    assert "next steps done" in shown(listed)


async def test_every_other_subcommand_over_http(bot: RunningBot, chat: Chat) -> None:
    await chat.say("/walk", LOG_WALK + " quiet")
    await chat.say("/cpd", LOG_CPD + " hours: 2 quiet")
    steps = [
        ("/walk", "help", "/walk log East Barnet Area"),
        ("/walk", "list East Barnet Area since: 1/1/2026", "1 learning walk"),
        ("/walk", "show 1", "Learning walk #1 at Monkfrith"),
        ("/cpd", "help", "/cpd summary East Barnet Area"),
        ("/cpd", "list theme: teaching assistants", "1 CPD session"),
        ("/cpd", "show 1", "Phonics refresher"),
        ("/cpd", "summary East Barnet Area since: 1/9/2025",
         "Teaching assistant development and training: 1 session, 2 hours"),
        ("/partnership", "themes East Barnet Area", "Learning and play at lunchtimes"),
    ]
    for command, text, expected in steps:
        assert expected in shown(await chat.say(command, text)), text


def test_the_manifest_escapes_walk_and_cpd_so_mentions_arrive_as_ids() -> None:
    manifest = yaml.safe_load((Path(__file__).parent.parent / "manifest.yml").read_text())
    commands = {c["command"]: c for c in manifest["features"]["slash_commands"]}
    assert commands["/walk"]["should_escape"] is True
    assert commands["/cpd"]["should_escape"] is True
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
