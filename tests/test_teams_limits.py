"""Teams' limits on every card: one size guard (bot/teams/render.fit) keeps each card, with its
activity, under 28 KB by cutting the heaviest lists with "…and N more", and every card is valid
Adaptive Card 1.5 (the official schema, with Teams' extensions). Made-up big replies, and each
way a card leaves the bot through the real server: replies in a personal chat, a group chat
and a channel, proactive channel posts, card updates and forms."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.teams import render
from handlers.buttons import ButtonData
from handlers.commands import BUTTONS, Access, Command
from handlers.context import Caller
from handlers.dispatch import COMMANDS
from handlers.forms import Choice, FieldKind, Form, FormField
from handlers.replies import Button, ChannelPost, Fact, Outcome, Reply, Section
from storage.db import Database
from tests.conftest import RunningTeamsBot, serve_teams
from tests.support.big_replies import BIG_REPLIES, Pick, long_form, many_facts, many_meetings
from tests.support.card_schema import card_problems
from tests.support.cards import card_text, elements
from tests.support.fake_connector import REPLY, SEND, TEAMS_MESSAGE_LIMIT, UPDATE, FakeConnector
from tests.support.teams_requests import CARD_ID, CHANNEL_ID, GROUP_CHAT_ID
from tests.test_teams_delivery import link_teams_channel

MORE = re.compile(r"…and (\d+) more")


def hidden_counts(card: dict[str, Any]) -> list[int]:
    return [int(m.group(1)) for block in elements(card, "TextBlock")
            for m in [MORE.match(block["text"])] if m]


# --- the schema, and that it really checks ----------------------------------------------------


def test_the_schema_refuses_what_teams_would_not_show() -> None:
    good = render.card(Reply(title="Hello", sections=[Section(buttons=[
        Button("A", Pick("a", 1))])]))
    assert card_problems(good) == []
    for wrong, where in [
        ({"type": "TextBlock", "text": "x", "colour": "Good"}, "colour"),  # misspelt
        ({"type": "Input.ChoiceSet", "id": "x", "choices": [],
          "labelPosition": "inline"}, "labelPosition"),  # 1.6 only
        ({"type": "Carousel", "pages": []}, "body/1"),  # not in 1.5 at all
        ({"type": "Input.ChoiceSet", "id": "x", "choices": [],
          "choices.data": {"type": "Data.Query", "dataset": "my.own/things"}}, "dataset"),
    ]:
        bad = {**good, "body": [good["body"][0], wrong]}
        problems = card_problems(bad)
        assert len(problems) == 1 and where in problems[0], (wrong, problems)
    assert card_problems({**good, "version": "1.6"}) != []


def test_every_kind_of_form_field_is_valid_and_ticks_are_tick_boxes() -> None:
    card = render.form_card(long_form())
    assert card_problems(card) == []
    inputs = {i["label"]: i for i in elements(card, "Input.ChoiceSet")}
    assert inputs["Channel note"]["style"] == "expanded"  # a tick box, not a people picker
    assert inputs["Channel note"]["isMultiSelect"] is True
    assert "choices.data" not in inputs["Channel note"]
    assert inputs["Facilitator"]["choices.data"]["dataset"] == "graph.microsoft.com/users"
    assert inputs["Facilitator"]["isMultiSelect"] is False  # one person
    assert inputs["Who came"]["isMultiSelect"] is True
    data = elements(card, "Action.Execute")[0]["data"]
    assert data["multi"] == ["attendees", "walkers", "quiet"]


# --- the guard --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(BIG_REPLIES))
def test_a_big_reply_is_cut_to_fit_and_says_how_much_is_left_out(name: str) -> None:
    reply = BIG_REPLIES[name]()
    whole = render._reply_card(reply, render.Cuts())
    assert render.card_size(whole) > TEAMS_MESSAGE_LIMIT  # too big as it stands
    card = render.card(reply)
    assert render.card_size(card) <= render.MAX_CARD_BYTES
    assert card_problems(card) == []
    assert card["body"][0]["text"] == whole["body"][0]["text"]  # the title is kept
    # No more is cut than needed: most of the room is used.
    assert render.card_size(card) > render.MAX_CARD_BYTES * 2 // 3


def test_cut_meetings_facts_and_buttons_are_counted() -> None:
    # Many meetings: the first ones whole, with their buttons, then how many more there are.
    card = render.card(many_meetings())
    buttons = elements(card, "Action.Execute")
    meetings = sum("Heads' termly meeting" in b["text"] for b in elements(card, "TextBlock"))
    assert 10 < meetings < 60 and len(buttons) == 3 * meetings
    assert hidden_counts(card) == [60 - meetings]
    # Many facts in one section: cut, counted, and the section after them still there.
    card = render.card(many_facts())
    [facts] = elements(card, "FactSet")
    assert hidden_counts(card) == [300 - len(facts["facts"])]
    assert card_text(card).endswith("Reminders: 1 day before (sent), 1 hour before (waiting).")
    # Buttons cut within a section are counted too.
    reply = Reply(title="Pick", sections=[Section(buttons=[
        Button(f"Option {n} " * 5, Pick(str(n) * 20, n)) for n in range(400)])])
    card = render.card(reply)
    assert hidden_counts(card) == [400 - len(elements(card, "Action.Execute"))]


def test_a_cut_list_links_to_the_whole_where_there_is_one() -> None:
    lines = [f"School number {n}: a long enough line to take some room" for n in range(2000)]
    reply = Reply(title="Every school", sections=[Section(
        heading="Schools", lines=lines, more_link="https://bots.example.org/schools")])
    card = render.card(reply)
    more = next(b["text"] for b in elements(card, "TextBlock") if MORE.match(b["text"]))
    assert more.endswith(": [see them all](https://bots.example.org/schools)")


def test_one_text_too_long_for_any_card_is_clipped() -> None:
    reply = Reply(title="x" * 40_000, sections=[Section(lines=["y" * 40_000])])
    card = render.card(reply)
    assert render.card_size(card) <= render.MAX_CARD_BYTES
    assert card["body"][0]["text"].endswith("…") and len(card["body"][0]["text"]) <= 2_001


def test_a_card_that_cannot_be_cut_enough_says_so() -> None:
    # A form of hundreds of fields: fields are never dropped, so it cannot be cut to fit.
    form = Form("f", "Too many", [FormField(f"f{n}", f"Field {n} " * 10) for n in range(600)])
    card = render.form_card(form)
    assert "too long to show in Teams" in card_text(card)
    assert card_problems(card) == []


def test_a_long_form_keeps_its_fields_and_cuts_its_choices_with_a_note() -> None:
    form = long_form()
    card = render.form_card(form)
    assert render.card_size(card) <= render.MAX_CARD_BYTES
    labels = [i["label"] for i in elements(card, "Input.ChoiceSet")] + [
        i["label"] for i in elements(card, "Input.Text")]
    assert {f.label for f in form.fields} - {"Date"} <= set(labels)
    assert "Only the first" in card_text(card)


# --- every way out, through the real server -----------------------------------------------


@dataclass(frozen=True)
class BigUpdate(ButtonData, kind="test.bigupdate"):
    """A button whose message and answer are both too big as they stand."""


@dataclass(frozen=True)
class BigForm(ButtonData, kind="test.bigform"):
    """A button that opens a long form."""


big = Command("bigreply", "A stand-in command with a reply too big for one card", "Stand-in")


@big.subcommand("show", usage="show", access=Access.ANYONE, default=True)
async def huge(request: None, caller: Caller, session: AsyncSession) -> Outcome:
    return Outcome(many_meetings())


async def huge_update(pressed: BigUpdate, caller: Caller, session: AsyncSession) -> Outcome:
    return Outcome(many_facts(), updated_message=many_meetings())


async def huge_form(pressed: BigForm, caller: Caller, session: AsyncSession) -> Outcome:
    return Outcome(Reply(title="Fill this in"), form=long_form())


@pytest.fixture
def big_stand_ins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(COMMANDS, "bigreply", big)
    monkeypatch.setitem(BUTTONS, BigUpdate, huge_update)
    monkeypatch.setitem(BUTTONS, BigForm, huge_form)


def pressed(data: ButtonData) -> dict[str, str]:
    """What Teams sends back when a card button carrying `data` is pressed."""
    return {"partnershipBot": "action", "actionId": data.kind, "value": data.pack()}


@pytest.fixture
async def teams_sqlite(sqlite_db: Database,
                       fake_connector: FakeConnector) -> AsyncIterator[RunningTeamsBot]:
    """Teams through the real server, on SQLite only: these tests are about cards, not storage."""
    async with serve_teams(sqlite_db, fake_connector) as running:
        yield running


def within_limits(body: dict[str, Any]) -> None:
    assert len(json.dumps(body, ensure_ascii=False).encode()) <= TEAMS_MESSAGE_LIMIT
    card = body["attachments"][0]["content"]
    assert card_problems(card) == []
    assert hidden_counts(card), "nothing was cut: the reply was not big"


@pytest.mark.usefixtures("big_stand_ins")
@pytest.mark.parametrize("scope", ["personal", "group chat", "channel"])
async def test_big_replies_fit_in_every_scope(teams_sqlite: RunningTeamsBot, scope: str) -> None:
    sim = teams_sqlite.teams
    activity = {"personal": sim.personal, "group chat": sim.in_group_chat,
                "channel": sim.in_channel}[scope]("bigreply")
    await sim.post(activity)
    call = (await teams_sqlite.connector.wait_for(REPLY))[0]
    if scope == "group chat":
        assert call.conversation_id == GROUP_CHAT_ID and call.targeted
    within_limits(call.body)


@pytest.mark.usefixtures("big_stand_ins")
async def test_a_big_card_update_and_its_answer_fit(teams_sqlite: RunningTeamsBot) -> None:
    await teams_sqlite.teams.post(teams_sqlite.teams.card_submit(pressed(BigUpdate())))
    update = (await teams_sqlite.connector.wait_for(UPDATE))[0]
    assert update.activity_id == CARD_ID
    within_limits(update.body)
    within_limits((await teams_sqlite.connector.wait_for(REPLY))[0].body)


@pytest.mark.usefixtures("big_stand_ins")
async def test_a_long_form_fits(teams_sqlite: RunningTeamsBot) -> None:
    await teams_sqlite.teams.post(teams_sqlite.teams.card_submit(pressed(BigForm())))
    body = (await teams_sqlite.connector.wait_for(REPLY))[0].body
    assert len(json.dumps(body, ensure_ascii=False).encode()) <= TEAMS_MESSAGE_LIMIT
    assert card_problems(body["attachments"][0]["content"]) == []
    assert "Only the first" in card_text(body["attachments"][0]["content"])


async def test_a_big_proactive_channel_post_fits(teams_sqlite: RunningTeamsBot) -> None:
    partnership_id = await link_teams_channel(teams_sqlite)
    before = len(teams_sqlite.connector.of(SEND))
    reply = BIG_REPLIES["everything at once (digest-like)"]()
    assert await teams_sqlite.delivery.deliver([ChannelPost(partnership_id, reply)]) == []
    post = (await teams_sqlite.connector.wait_for(SEND, before + 1))[-1]
    assert post.conversation_id == CHANNEL_ID
    within_limits(post.body)


async def test_a_small_reply_is_left_whole() -> None:
    reply = Reply(title="Three", sections=[Section(
        lines=["a", "b", "c"], facts=[Fact("When", "Tue")],
        buttons=[Button("Go", Pick("go", 1))])])
    assert render.card(reply) == render._reply_card(reply, render.Cuts())
    form = Form("f", "F", [FormField("x", "X", FieldKind.SELECT,
                                     choices=(Choice("A", "a"), Choice("B", "b")))])
    assert render.form_card(form) == render._form_card(form, render.Cuts())


async def test_the_cards_of_real_commands_and_forms_are_valid(
    teams_sqlite: RunningTeamsBot,
) -> None:
    """The core's own replies and forms as Teams gets them; the fake connector checks each
    card against the 1.5 schema and Teams' size limit (and fails the test on any problem)."""
    commands = [
        "partnership create East Barnet Area",
        "partnership join East Barnet Area school: Monkfrith role: headteacher",
        "walk", "cpd", "meeting schedule", "partnership info East Barnet Area",
        "walk log East Barnet Area school: Monkfrith date: 5/2/2026 focus: reading "
        "strengths: Clear modelling development: More reading aloud",
        "walk list", "walk show 1", "partnership digest East Barnet Area preview",
        "partnership mydata", "help",
    ]
    for n, text in enumerate(commands, start=1):
        await teams_sqlite.teams.say(text)
        await teams_sqlite.connector.wait_for(REPLY, n)
    texts = [card_text(call.card) for call in teams_sqlite.connector.of(REPLY)]
    assert any(block.startswith("Log a learning walk") for block in texts)
    assert teams_sqlite.connector.problems == []
