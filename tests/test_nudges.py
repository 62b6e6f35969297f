"""Nudges (issue 15.5) and the notice of actions left without an owner (issue 13.7): private
messages through the outbox, on a clock the test moves (the commands' clock frozen with
time-machine), across a weekend, Christmas's bank holidays and the clock change; exactly once
across a restart; buttons and typed equivalents over signed Slack HTTP; nudges off."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from sqlmodel import select

from bot.shell import run_shell
from handlers.actions import ActionDone
from handlers.nudges import ActionLater, allowed, next_allowed, school_days_before, stage_today
from storage.db import Database
from storage.models import Action, ScheduledDelivery
from storage.types import LONDON
from tests.conftest import FakeClock, running_bot
from tests.support.fake_slack import Call, FakeSlack
from tests.support.slack_requests import block_action, view_submission

POLL = 0.02
BEN = {"user_id": "U0BEN00001", "user_name": "ben"}
CY = {"user_id": "U0CY000001", "user_name": "cy"}
HEADS = {"channel_id": "C0HEADS001", "channel_name": "heads"}


def uk(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    """A UK wall-clock time (GMT or BST), as UTC."""
    return datetime(year, month, day, hour, minute, tzinfo=LONDON).astimezone(UTC)


# --- when, on its own ---------------------------------------------------------------------------


def test_three_school_days_before_skip_weekends_and_bank_holidays() -> None:
    assert school_days_before(date(2026, 12, 4)) == date(2026, 12, 1)  # Fri -> Tue
    assert school_days_before(date(2026, 12, 8)) == date(2026, 12, 3)  # Tue -> Thu, over a weekend
    # Christmas Day (Fri) and Boxing Day's substitute (Mon 28 Dec) are bank holidays.
    assert school_days_before(date(2026, 12, 30)) == date(2026, 12, 23)
    # Good Friday (26 March 2027) and Easter Monday (29th): Wednesday 31st -> Wednesday 24th.
    assert school_days_before(date(2027, 3, 31)) == date(2027, 3, 24)


def test_nudges_wait_for_a_working_day_between_7_and_19_uk_time() -> None:
    assert allowed(uk(2026, 12, 1, 7, 0)) and not allowed(uk(2026, 12, 1, 6, 59))
    assert not allowed(uk(2026, 12, 1, 19, 0)) and allowed(uk(2026, 12, 1, 18, 59))
    # Saturday afternoon -> Monday 07:00.
    assert next_allowed(uk(2026, 12, 5, 14, 0)) == uk(2026, 12, 7, 7, 0)
    # Christmas Eve evening -> Tuesday 29 December (25th and 28th are bank holidays).
    assert next_allowed(uk(2026, 12, 24, 19, 30)) == uk(2026, 12, 29, 7, 0)
    # Across the clock change: Friday 23 Oct 2026 evening (BST) -> Monday 07:00 GMT = 07:00 UTC;
    # Saturday 27 March 2027 (GMT; the clocks go forward on the 28th, and Monday 29th is Easter
    # Monday) -> Tuesday 30 March 07:00 BST = 06:00 UTC.
    assert next_allowed(uk(2026, 10, 23, 20, 0)) == datetime(2026, 10, 26, 7, 0, tzinfo=UTC)
    assert next_allowed(uk(2027, 3, 27, 9, 0)) == datetime(2027, 3, 30, 6, 0, tzinfo=UTC)
    # Early on a working day: its own 07:00.
    assert next_allowed(uk(2027, 3, 30, 5, 0)) == datetime(2027, 3, 30, 6, 0, tzinfo=UTC)


def test_overdue_nudges_are_weekly_and_three_at_most() -> None:
    due = date(2026, 12, 4)
    assert stage_today(due, date(2026, 11, 30)) is None
    before = stage_today(due, date(2026, 12, 2))
    assert before is not None and (before.name, before.day) == ("before", date(2026, 12, 1))
    names = [getattr(stage_today(due, due + timedelta(days=d)), "name", None)
             for d in (1, 7, 8, 15, 21, 22)]
    assert names == ["overdue1", "overdue1", "overdue2", "overdue3", "overdue3", None]


# --- through the outbox and Slack ---------------------------------------------------------------


def dms(fake: FakeSlack, user: str) -> list[Call]:
    return [c for c in fake.ok("chat.postMessage") if c.body.get("channel") == user]


def button_value(call: Call, label: str) -> str:
    for block in call.body.get("blocks", []):
        for element in block.get("elements", []):
            if element.get("type") == "button" and element["text"]["text"] == label:
                return str(element["value"])
    raise AssertionError(f"no {label} button")


async def settle(bot: Any, n: int = 4) -> None:
    """Plan (as the scheduler does every few minutes) at the clock's time, then let it poll."""
    await bot.scheduler.sender.plan()
    await bot.polls(n)


async def test_nudges_before_and_overdue_once_each_in_working_hours(
    db: Database, fake_slack: FakeSlack,
) -> None:
    # The actions are raised on Monday 23 November 2026 (the commands' clock, frozen).
    with time_machine.travel(uk(2026, 11, 23, 10, 0), tick=True):
        clock = FakeClock(uk(2026, 11, 23, 10, 0))
        async with running_bot(db, fake_slack, clock, POLL) as bot:
            await bot.ask("/partnership", "create East Barnet Area")
            await bot.ask("/partnership", "join East Barnet Area school: Monkfrith")
            await bot.ask("/partnership", "join East Barnet Area school: Danegrove", **BEN)
            await bot.ask("/partnership", "join East Barnet Area school: Queenswell", **CY)
            said = await bot.ask("/partnership", "action East Barnet Area share the plan "
                                                 "owner: <@U0BEN00001|ben> due: 4/12/2026")
            assert "Action 1" in str(said)
            # Cy's action is due after Christmas; Cy turns nudges off.
            await bot.ask("/partnership", "action East Barnet Area audit books "
                                          "owner: <@U0CY000001|cy> due: 30/12/2026")
            await bot.ask("/partnership", "nudges off", **CY)
            await settle(bot)
            assert dms(fake_slack, BEN["user_id"]) == []
            # Tuesday 1 December, 06:59: too early. 07:00: the "before" nudge, once.
            clock.set(uk(2026, 12, 1, 6, 59))
            await settle(bot)
            assert dms(fake_slack, BEN["user_id"]) == []
            clock.set(uk(2026, 12, 1, 7, 0))
            await settle(bot)
            await fake_slack.wait_until(lambda: len(dms(fake_slack, BEN["user_id"])) >= 1)
            await settle(bot)
            [before] = dms(fake_slack, BEN["user_id"])
            assert before.body["text"] == "Action 1 is due Friday 4 December 2026"
            assert "/partnership action done 1" in str(before.body["blocks"])
            bot.scheduler.kill()  # a crash right after it went
        async with running_bot(db, fake_slack, clock, POLL) as bot:
            await settle(bot, 6)
            assert len(dms(fake_slack, BEN["user_id"])) == 1  # not again after the restart
            # It became overdue on Saturday 5 December: nothing at the weekend; Monday 07:00.
            clock.set(uk(2026, 12, 5, 10, 0))
            await settle(bot)
            assert len(dms(fake_slack, BEN["user_id"])) == 1
            clock.set(uk(2026, 12, 7, 7, 0))
            await settle(bot)
            await fake_slack.wait_until(lambda: len(dms(fake_slack, BEN["user_id"])) >= 2)
            overdue = dms(fake_slack, BEN["user_id"])[1]
            assert overdue.body["text"] == ("Action 1 is overdue: it was due Friday "
                                            "4 December 2026")
            # Needs more time: the form, then a new date (and so new nudges, later).
            later = button_value(overdue, "Needs more time")
            assert later == ActionLater(1).pack()
            await bot.slack.interaction(block_action(ActionLater.kind, later,
                                                     user_id=BEN["user_id"],
                                                     channel_id=BEN["user_id"]))
            view = (await fake_slack.wait_for("views.open"))[0].body["view"]
            assert view["callback_id"] == "action.later"
            state = {"due": {"type": "datepicker", "selected_date": "2026-12-18"}}
            await bot.slack.interaction(view_submission("action.later", state,
                                                        view["private_metadata"],
                                                        user_id=BEN["user_id"]))
            await fake_slack.wait_until(lambda: any(
                "Action 1 is now" in str(c.body.get("text")) for c in
                fake_slack.ok("chat.postEphemeral") + fake_slack.ok("chat.postMessage")))
            async with db.session() as session:
                action = await session.get(Action, 1)
                assert action is not None and action.due_on == date(2026, 12, 18)
            # Ben's action, now due 18 Dec: the "before" nudge on Tuesday 15th; Done ends them.
            clock.set(uk(2026, 12, 15, 12, 0))
            await settle(bot)
            await fake_slack.wait_until(lambda: len(dms(fake_slack, BEN["user_id"])) >= 3)
            third = dms(fake_slack, BEN["user_id"])[2]
            assert third.body["text"] == "Action 1 is due Friday 18 December 2026"
            await bot.slack.interaction(block_action(ActionDone.kind,
                                                     button_value(third, "Done"),
                                                     user_id=BEN["user_id"],
                                                     channel_id=BEN["user_id"]))
            await fake_slack.wait_until(lambda: any(
                "Action 1 is done" in str(c.body.get("text")) for c in
                fake_slack.ok("chat.postEphemeral") + fake_slack.ok("chat.postMessage")
                + fake_slack.ok("chat.update")))
            # Cy's nudges are off: over Christmas and after, nothing reaches Cy; Ben's action
            # is done, so nothing more reaches Ben.
            for moment in (uk(2026, 12, 21, 9, 0), uk(2026, 12, 23, 9, 0),
                           uk(2026, 12, 31, 9, 0)):
                clock.set(moment)
                await settle(bot)
            assert dms(fake_slack, CY["user_id"]) == []
            assert len(dms(fake_slack, BEN["user_id"])) == 3
    async with db.session() as session:
        keys = sorted(r.dedupe_key for r in (await session.exec(select(ScheduledDelivery).where(
            ScheduledDelivery.kind == "nudge"))).all())
    assert keys == ["nudge:1:2026-12-04:before", "nudge:1:2026-12-04:overdue1",
                    "nudge:1:2026-12-18:before"]


@pytest.mark.clock
async def test_forget_me_tells_the_leads_privately_with_a_command_each(
    db: Database, fake_slack: FakeSlack, now: datetime,
) -> None:
    clock = FakeClock()
    async with running_bot(db, fake_slack, clock, POLL) as bot:
        await bot.ask("/partnership", "create East Barnet Area")
        await bot.ask("/partnership", "join East Barnet Area school: Monkfrith")
        await bot.ask("/partnership", "join East Barnet Area school: Danegrove", **BEN)
        soon = (now.astimezone(LONDON) + timedelta(days=30)).date()
        due = f"{soon.day}/{soon.month}/{soon.year}"
        await bot.ask("/partnership", f"action East Barnet Area share the plan owner: ben "
                                      f"due: {due}")
        await bot.ask("/walk", "log East Barnet Area school: Monkfrith date: 5/2/2026 "
                               f"focus: phonics next steps: visit again (ben, {due})")
        asked = await bot.ask("/partnership", "forget me", **BEN)
        assert "Erase what I hold about you?" in str(asked)
        confirm = [e for b in asked["blocks"] if b["type"] == "actions" for e in b["elements"]]
        erase = next(e for e in confirm if e.get("style") == "danger")
        await bot.slack.interaction(block_action(erase["action_id"], erase["value"],
                                                 user_id=BEN["user_id"]))
        lead = "U2147483697"
        clock.advance(timedelta(minutes=1))  # the notice is due at once (the bot's clock)
        await fake_slack.wait_until(lambda: len(dms(fake_slack, lead)) >= 1)
        [notice] = dms(fake_slack, lead)
        text = str(notice.body["text"]) + str(notice.body["blocks"])
        assert "2 open actions in East Barnet Area have no owner now" in text
        assert "/partnership action reassign 1 owner: &lt;name&gt;" in text
        assert "/partnership action reassign 2 owner: &lt;name&gt;" in text
        assert "ben" not in notice.body["text"]
        assert dms(fake_slack, BEN["user_id"]) == []
        # The lead reassigns; a member who isn't the owner can't.
        await bot.ask("/partnership", "join East Barnet Area school: Danegrove", **CY)
        refused = await bot.ask("/partnership", "action reassign 1 owner: cy", **CY)
        assert "Only the owner of action 1" in str(refused)
        done = await bot.ask("/partnership", "action reassign 1 owner: cy")
        assert "Action 1 is now cy's" in str(done)


@pytest.mark.clock
async def test_nudges_and_unowned_in_the_shell(sqlite_db: Database, tmp_path: Path,
                                              now: datetime) -> None:
    soon = (now.astimezone(LONDON) + timedelta(days=30)).date()
    typed = io.StringIO(
        "partnership nudges off\n"
        "partnership nudges\n"
        "partnership nudges on\n"
        "partnership nudges maybe\n"
        "partnership create East Barnet Area\n"
        "partnership join East Barnet Area school: Monkfrith\n"
        "as Ben Day\n"
        "partnership join East Barnet Area school: Danegrove\n"
        "as Ann\n"
        f"partnership action East Barnet Area share the plan owner: Ben due: "
        f"{soon.day}/{soon.month}/{soon.year}\n"
        "as Ben Day\n"
        "partnership forget me confirm\n"
    )
    out = io.StringIO()
    await run_shell(sqlite_db, "Ann", stdin=typed, stdout=out, files_dir=tmp_path)
    text = out.getvalue()
    assert "Nudges are off" in text and "Your nudges are off." in text
    assert "Nudges are on" in text and "I don't know maybe here." in text
    assert ("1 open action you owned has no owner now: the partnership's leads were told"
            in text)
    async with sqlite_db.session() as session:
        [notice] = (await session.exec(select(ScheduledDelivery).where(
            ScheduledDelivery.kind == "unowned"))).all()
    assert json.loads(notice.payload) == {"actions": [1], "to": {"platform": "shell",
                                                                 "user_id": "local:ann"}}
