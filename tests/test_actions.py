"""Actions (issue 15.4): typed with an owner and due date, a walk's several next steps, listed,
closed, dropped and reassigned by their owner or a lead; through the core on SQLite and
PostgreSQL, over signed Slack HTTP, and in the shell."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from bot.shell import run_shell
from handlers.actions import ActionDone
from handlers.replies import Tone
from handlers.schoolyear import today_in_london
from storage import actions
from storage.db import Database
from storage.models import Action
from tests.conftest import RunningBot
from tests.support.learning import (
    ANN,
    BEN,
    CY,
    PARTNERSHIP,
    ok,
    say,
    set_up_partnerships,
    walk_steps,
)
from tests.support.slack_requests import block_action
from tests.test_learning_slack import BEN as SLACK_BEN
from tests.test_learning_slack import CY as SLACK_CY
from tests.test_learning_slack import (
    Chat,
    chat,  # noqa: F401  (the fixture)
    shown,
)

SOON = today_in_london() + timedelta(days=20)
DUE = f"{SOON.day}/{SOON.month}/{SOON.year}"
WALK = (f"log {PARTNERSHIP} school: monkfrith date: 5/2/2026 focus: phonics "
        f"next steps: share the phonics plan (Ben, {DUE}); audit reading books "
        f"(<@U0ANN00001|ann>, 1/12/2099); visit again owner: Ben Day due: {DUE}")


async def all_actions(db: Database) -> list[Action]:
    async with db.session() as session:
        return list((await session.exec(select(Action).order_by(col(Action.id)))).all())


@pytest.fixture
async def partnerships(db: Database) -> None:
    await set_up_partnerships(db)


@pytest.mark.usefixtures("partnerships")
async def test_a_typed_action_needs_an_owner_and_a_date_to_come(db: Database) -> None:
    raised = await ok(db, "partnership", f"action {PARTNERSHIP} share the phonics plan "
                                         f"owner: Ben due: {DUE}")
    assert raised.reply.title == f"Action 1 for {PARTNERSHIP}: share the phonics plan"
    assert "“Ben” is Ben Day, a member of the partnership." in raised.reply.plain_text()
    [action] = await all_actions(db)
    assert (action.owner_user_id, action.owner_name, action.due_on, action.status,
            action.source, action.created_by_name) == (
        "U0BEN00001", "Ben Day", SOON, "open", "typed", "Ann Smith")
    for text, problem in (
        (f"action {PARTNERSHIP} tidy up due: {DUE}", "Who will do it?"),
        (f"action {PARTNERSHIP} tidy up owner: Ben", "By when?"),
        (f"action {PARTNERSHIP} tidy up owner: Ben due: 1/1/2020", "has passed"),
        (f"action {PARTNERSHIP} tidy up owner: Zed Nobody due: {DUE}",
         "is not a member of East Barnet Area or one of its schools"),
        (f"action {PARTNERSHIP} tidy up owner: Ben due: 31/2/2099", "31"),
        (f"action Hendon Area tidy up owner: Cy due: {DUE}", "Only members"),
    ):
        refused = await say(db, "partnership", text)
        assert refused.reply.tone is Tone.ERROR, text
        assert problem in refused.reply.plain_text(), (text, refused.reply.plain_text())
    assert len(await all_actions(db)) == 1  # nothing half-written
    school = await ok(db, "partnership", f"action {PARTNERSHIP} host the next walk "
                                         f"owner: Queenswell due: {DUE}")
    assert "Owner: Queenswell" in school.reply.plain_text()
    assert (await all_actions(db))[1].owner_school_id is not None


@pytest.mark.usefixtures("partnerships")
async def test_lists_mine_overdue_and_by_school(db: Database) -> None:
    await ok(db, "partnership", f"action {PARTNERSHIP} a owner: Ben due: {DUE}")
    await ok(db, "partnership", f"action {PARTNERSHIP} b owner: Ann due: 1/12/2099")
    await ok(db, "partnership", f"action {PARTNERSHIP} c owner: Danegrove due: {DUE}")
    async with db.session() as session:
        late = await session.get(Action, 2)
        assert late is not None
        late.due_on = today_in_london() - timedelta(days=3)
        session.add(late)
    every = (await ok(db, "partnership", f"actions {PARTNERSHIP}")).reply
    titles = [f.label for f in every.sections[0].facts]
    assert titles == ["Action 2: b", "Action 1: a", "Action 3: c"]  # soonest due first
    assert "(3 days overdue)" in every.sections[0].facts[0].value
    mine = (await ok(db, "partnership", f"actions {PARTNERSHIP} mine", BEN)).reply
    assert [f.label for f in mine.sections[0].facts] == ["Action 1: a"]
    overdue = (await ok(db, "partnership", f"actions {PARTNERSHIP} overdue")).reply
    assert [f.label for f in overdue.sections[0].facts] == ["Action 2: b"]
    by_school = (await ok(db, "partnership", f"actions {PARTNERSHIP} school: danegrove")).reply
    assert [f.label for f in by_school.sections[0].facts] == ["Action 3: c"]
    assert by_school.title == f"Open actions in {PARTNERSHIP} owned by Danegrove"
    refused = await say(db, "partnership", f"actions {PARTNERSHIP}", CY)
    assert refused.reply.tone is Tone.ERROR and "Only members" in refused.reply.title
    async with db.session() as session:
        arising = await actions.open_actions_for(session, 1)
    assert [r.action.id for r in arising] == [2, 1, 3]


@pytest.mark.usefixtures("partnerships")
async def test_done_drop_and_reassign_by_the_owner_or_a_lead(db: Database) -> None:
    await ok(db, "partnership", f"action {PARTNERSHIP} a owner: Ann due: {DUE}")
    await ok(db, "partnership", f"action {PARTNERSHIP} b owner: Ann due: {DUE}")
    refused = await say(db, "partnership", "action done 1", BEN)
    assert refused.reply.tone is Tone.ERROR
    assert "Only the owner of action 1 (Ann Smith) or a lead" in refused.reply.title
    outsider = await say(db, "partnership", "action done 1", CY)
    assert "I can't find action 1" in outsider.reply.title
    no_reason = await say(db, "partnership", "action drop 2")
    assert no_reason.reply.tone is Tone.ERROR and "reason:" in no_reason.reply.title
    later = await ok(db, "partnership", "action later 1 due: 1/12/2099")
    assert "due Tuesday 1 December 2099" in later.reply.title
    no_date = await say(db, "partnership", "action later 1")
    assert no_date.reply.tone is Tone.ERROR and "due:" in no_date.reply.title
    moved = await ok(db, "partnership", "action reassign 1 owner: Ben Day")
    assert moved.reply.title.startswith("Action 1 is now Ben Day's")
    done = await ok(db, "partnership", "action done 1", BEN)
    assert done.reply.title == "Action 1 is done: a"
    again = await ok(db, "partnership", "action done 1", BEN)
    assert again.reply.title == "Action 1 is already done by Ben Day."
    dropped = await ok(db, "partnership", "action drop 2 reason: the visit was cancelled")
    assert "dropped (the visit was cancelled)" in dropped.reply.title
    a, b = await all_actions(db)
    assert (a.status, a.closed_by_name, b.status, b.drop_reason) == (
        "done", "Ben Day", "dropped", "the visit was cancelled")
    done_list = (await ok(db, "partnership", f"actions {PARTNERSHIP} all")).reply
    assert "dropped: the visit was cancelled" in done_list.plain_text()


@pytest.mark.usefixtures("partnerships")
async def test_a_walk_with_several_next_steps_makes_an_action_of_each(db: Database) -> None:
    logged = await ok(db, "walk", WALK)
    steps = await walk_steps(db, 1)
    assert [(s.description, s.owner_name, s.due_on) for s in steps] == [
        ("share the phonics plan", "Ben Day", SOON),
        ("audit reading books", "Ann Smith", SOON.replace(year=2099, month=12, day=1)),
        ("visit again", "Ben Day", SOON),
    ]
    assert "Action 2: audit reading books" in logged.reply.plain_text()
    listed = (await ok(db, "walk", "list")).reply
    assert "next steps 3 open" in listed.sections[1].lines[0]
    # An edit that leaves the steps alone keeps them (and their numbers).
    await ok(db, "walk", "edit 1 focus: phonics in Reception")
    assert [s.id for s in await walk_steps(db, 1)] == [1, 2, 3]
    # One step changed: the others keep their numbers.
    await ok(db, "walk", f"edit 1 next steps: share the phonics plan (Ben, {DUE}); "
                         "audit reading books (Ann Smith, 1/12/2099)")
    assert [s.id for s in await walk_steps(db, 1)] == [1, 2]
    mine = (await ok(db, "partnership", f"actions {PARTNERSHIP} mine", BEN)).reply
    assert [f.label for f in mine.sections[0].facts] == ["Action 1: share the phonics plan"]
    assert "from walk #1 at Monkfrith" in mine.sections[0].facts[0].value
    await ok(db, "walk", "done 1", BEN)
    assert {s.status for s in await walk_steps(db, 1)} == {"done"}


@pytest.mark.usefixtures("partnerships")
async def test_brackets_that_are_not_an_owner_and_date_stay_in_the_words(db: Database) -> None:
    await ok(db, "walk", f"log {PARTNERSHIP} school: monkfrith date: 5/2/2026 focus: f "
                         "next steps: plan phonics (KS1 and KS2 together) owner: Ben")
    [step] = await walk_steps(db)
    assert (step.description, step.owner_name) == (
        "plan phonics (KS1 and KS2 together)", "Ben Day")


@pytest.mark.usefixtures("partnerships")
async def test_nudges_off_and_on(db: Database) -> None:
    assert "on." in (await ok(db, "partnership", "nudges", BEN)).reply.title
    await ok(db, "partnership", "nudges off", BEN)
    async with db.session() as session:
        assert await actions.nudges_off(session, "T0001", "slack", BEN.user_id)
        assert not await actions.nudges_off(session, "T0001", "slack", ANN.user_id)
    assert "off." in (await ok(db, "partnership", "nudges", BEN)).reply.title
    await ok(db, "partnership", "nudges on", BEN)
    async with db.session() as session:
        assert not await actions.nudges_off(session, "T0001", "slack", BEN.user_id)
    bad = await say(db, "partnership", "nudges sometimes", BEN)
    assert bad.reply.tone is Tone.ERROR and "nudges off" in bad.reply.plain_text()


# --- over signed Slack HTTP -------------------------------------------------------------------


async def test_actions_over_slack(bot: RunningBot, chat: Chat) -> None:  # noqa: F811
    raised = await chat.say("/partnership", f"action East Barnet Area share the plan "
                                            f"owner: <@U0BEN00001|ben> due: {DUE}")
    assert raised["response_type"] == "ephemeral"
    assert "Action 1 for East Barnet Area: share the plan" in shown(raised)
    no_owner = await chat.say("/partnership", f"action East Barnet Area tidy due: {DUE}")
    assert no_owner["response_type"] == "ephemeral" and "Who will do it?" in shown(no_owner)
    outsider = await chat.say("/partnership", "actions East Barnet Area", **SLACK_CY)
    assert "Only members of East Barnet Area" in shown(outsider)
    mine = await chat.say("/partnership", "actions East Barnet Area mine", **SLACK_BEN)
    assert "share the plan" in shown(mine)
    # Someone else's action: the Done button refuses; its owner's works.
    await chat.say("/partnership", "join East Barnet Area school: Queenswell", **SLACK_CY)
    await bot.slack.interaction(block_action(ActionDone.kind, ActionDone(1).pack(),
                                             user_id=SLACK_CY["user_id"],
                                             channel_id="C2147483705"))
    said = await bot.fake.wait_for("chat.postEphemeral", 1)
    assert "Only the owner of action 1 (ben) or a lead" in said[-1].body["text"]
    await bot.slack.interaction(block_action(ActionDone.kind, ActionDone(1).pack(),
                                             user_id=SLACK_BEN["user_id"],
                                             channel_id="C2147483705"))
    said = await bot.fake.wait_for("chat.postEphemeral", 2)
    assert "Action 1 is done: share the plan" in said[-1].body["text"]
    async with bot.db.session() as session:
        action = await session.get(Action, 1)
    assert action is not None and action.status == "done"


# --- in the shell -------------------------------------------------------------------------------


async def test_actions_in_the_shell(sqlite_db: Database, tmp_path: Path) -> None:
    typed = io.StringIO(
        "partnership create East Barnet Area\n"
        "partnership join East Barnet Area school: Monkfrith\n"
        "as Ben Day\n"
        "partnership join East Barnet Area school: Danegrove\n"
        "as Ann\n"
        f"partnership action East Barnet Area share the plan owner: Ben due: {DUE}\n"
        "partnership action East Barnet Area tidy up owner: Ben due: 1/1/2020\n"
        "as Ben Day\n"
        "partnership actions East Barnet Area mine\n"
        "partnership action drop 1 reason: done another way\n"
        "as Cy\n"
        "partnership action done 1\n"
    )
    out = io.StringIO()
    await run_shell(sqlite_db, "Ann", stdin=typed, stdout=out, files_dir=tmp_path)
    text = out.getvalue()
    assert "Action 1 for East Barnet Area: share the plan" in text
    assert "has passed" in text
    assert "Your open actions in East Barnet Area" in text
    assert "Action 1 is dropped (done another way)" in text
    assert "I can't find action 1 in your partnerships" in text
