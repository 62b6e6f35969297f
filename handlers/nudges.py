"""Private messages about actions, through the outbox (exactly once, paced):

- nudges (issue 15.5): an action's owner is reminded 3 school days before it is due, and on the
  day it becomes overdue, then weekly, three overdue nudges at most; only on working days
  (England and Wales: no weekends, no bank holidays) between 07:00 and 19:00 UK time; never to
  someone who said `/partnership nudges off`. Each carries Done and Needs more time buttons.
- unowned actions (issue 13.7): when "forget me" leaves open actions without an owner, each lead
  of the partnership is told privately, with a ready command to reassign each.

A delivery's payload names its one recipient (`to`): the outbox posts it to them alone (Slack:
the app's direct messages; Teams: their personal chat with the bot) rather than in the
partnership's channels."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.actions import ActionDone, Reassign, action_for, may_change, reassign
from handlers.bankholidays import is_working_day
from handlers.buttons import ButtonData
from handlers.commands import button, form
from handlers.context import Caller, Platform
from handlers.dates import format_date
from handlers.errors import CommandError
from handlers.forms import FieldKind, Form, FormField, FormValues
from handlers.replies import Button, Outcome, Reply, Section, Skip
from storage import outbox
from storage.models import (
    AccessRole,
    Action,
    ActionStatus,
    Member,
    NudgeSetting,
    Partnership,
)
from storage.types import LONDON

NUDGE_KIND = "nudge"
UNOWNED_KIND = "unowned"
SCHOOL_DAYS_BEFORE = 3
OVERDUE_NUDGES = 3
FIRST_HOUR = time(7, 0)
LAST_HOUR = time(19, 0)  # nothing from 19:00 on
LATER_FORM = "action.later"
# Platforms a private message can reach (a Teams one only once the person has written to the
# bot in a personal chat: storage/personal_chats.py; otherwise it is dropped when due).
PRIVATE_PLATFORMS = (Platform.SLACK.value, Platform.TEAMS.value, Platform.SHELL.value)


# --- when ---------------------------------------------------------------------------------------


def allowed(moment: datetime) -> bool:
    """A working day in England and Wales, 07:00 to 19:00 UK time."""
    local = moment.astimezone(LONDON)
    return is_working_day(local.date()) and FIRST_HOUR <= local.time() < LAST_HOUR


def _at(day: date, at: time) -> datetime:
    """That UK wall-clock time on `day`, as an aware UTC-comparable moment (BST or GMT)."""
    return datetime.combine(day, at, tzinfo=LONDON).astimezone(UTC)


def next_allowed(moment: datetime) -> datetime:
    """`moment` if a nudge may go then; otherwise 07:00 UK time on the next working day (today's,
    if it is one and it is not yet 07:00)."""
    if allowed(moment):
        return moment
    local = moment.astimezone(LONDON)
    day = local.date()
    if not (is_working_day(day) and local.time() < FIRST_HOUR):
        day += timedelta(days=1)
        while not is_working_day(day):
            day += timedelta(days=1)
    return _at(day, FIRST_HOUR)


def school_days_before(due: date, n: int = SCHOOL_DAYS_BEFORE) -> date:
    """The working day `n` working days before `due` (Friday's is Tuesday; over a bank holiday
    Monday, the Wednesday before)."""
    day = due
    for _ in range(n):
        day -= timedelta(days=1)
        while not is_working_day(day):
            day -= timedelta(days=1)
    return day


@dataclass(frozen=True)
class Stage:
    name: str  # "before", "overdue1" …
    day: date  # the day it is for
    until: date  # sent no later than the day before this one


def stage_today(due: date, today: date) -> Stage | None:
    """Which nudge an action due on `due` is owed on `today`, if any: "before" from 3 school
    days before until the due day; "overdue1" from the day after it, then weekly."""
    if today <= due:
        before = school_days_before(due)
        return Stage("before", before, due + timedelta(days=1)) if today >= before else None
    first = due + timedelta(days=1)
    k = (today - first).days // 7
    if k >= OVERDUE_NUDGES:
        return None
    day = first + timedelta(days=7 * k)
    return Stage(f"overdue{k + 1}", day, day + timedelta(days=7))


def nudge_key(action_id: int, due: date, stage: str) -> str:
    return f"nudge:{action_id}:{due.isoformat()}:{stage}"


# --- planning -----------------------------------------------------------------------------------

# Far enough back for the last overdue nudge, far enough ahead for 3 school days over Easter.
LOOK_BACK = timedelta(days=7 * OVERDUE_NUDGES)
LOOK_AHEAD = timedelta(days=14)


async def plan_due(session: AsyncSession, now: datetime) -> int:
    """Queue the nudges owed now (run every few minutes by every process; each key once, ever).
    Those for someone who turned nudges off are not queued."""
    today = now.astimezone(LONDON).date()
    rows = await session.exec(
        select(Action, Partnership.workspace)
        .join(Partnership, col(Partnership.id) == Action.partnership_id)
        .outerjoin(NudgeSetting, and_(col(NudgeSetting.workspace) == Partnership.workspace,
                                      col(NudgeSetting.platform) == Action.platform,
                                      col(NudgeSetting.user_id) == Action.owner_user_id))
        .where(col(Action.status) == ActionStatus.OPEN.value,
               col(Action.owner_user_id).is_not(None),
               col(Action.platform).in_(PRIVATE_PLATFORMS),
               col(Action.due_on) >= today - LOOK_BACK, col(Action.due_on) <= today + LOOK_AHEAD,
               col(NudgeSetting.nudges_off).is_not(True))
        .order_by(col(Action.id)))
    queued = 0
    for action, _workspace in rows.all():
        assert action.id is not None and action.due_on is not None
        stage = stage_today(action.due_on, today)
        if stage is None:
            continue
        due_at = next_allowed(max(now, _at(stage.day, FIRST_HOUR)))
        expires = _at(stage.until, time(0, 0))
        if due_at >= expires:
            continue
        if await outbox.enqueue(
            session, kind=NUDGE_KIND, partnership_id=action.partnership_id,
            dedupe_key=nudge_key(action.id, action.due_on, stage.name), due_at=due_at,
            expires_at=expires,
            payload={"action_id": action.id, "due": action.due_on.isoformat(),
                     "stage": stage.name,
                     "to": {"platform": action.platform, "user_id": action.owner_user_id}}):
            queued += 1
    return queued


# --- the message --------------------------------------------------------------------------------


def _command_prefix(platform: str) -> str:
    return "" if platform == "teams" else "/"


async def render_nudge(payload: dict[str, Any], due_at: datetime, now: datetime,
                       session: AsyncSession) -> Reply | Skip | None:
    action = await session.get(Action, int(payload["action_id"]))
    to = payload.get("to") or {}
    if (action is None or action.status != ActionStatus.OPEN.value
            or action.due_on is None or action.due_on.isoformat() != payload.get("due")
            or action.owner_user_id != to.get("user_id")):
        return None  # done, dropped, given a new date or owner: no longer wanted
    partnership = await session.get(Partnership, action.partnership_id)
    assert partnership is not None
    off = (await session.exec(select(NudgeSetting).where(
        NudgeSetting.workspace == partnership.workspace, NudgeSetting.platform == action.platform,
        NudgeSetting.user_id == action.owner_user_id, col(NudgeSetting.nudges_off)))).first()
    if off is not None:
        return Skip("the owner turned nudges off")
    if not allowed(now):
        return Skip("outside nudge hours (working days, 07:00 to 19:00 UK time)")
    slash = _command_prefix(action.platform)
    if payload.get("stage") == "before":
        title = f"Action {action.id} is due {format_date(action.due_on)}"
    else:
        title = f"Action {action.id} is overdue: it was due {format_date(action.due_on)}"
    return Reply(title=title, sections=[
        Section(lines=[f"{action.description} ({partnership.name})"],
                buttons=[Button("Done", ActionDone(action.id or 0), "primary"),
                         Button("Needs more time", ActionLater(action.id or 0))]),
        Section(lines=[
            f"Or type `{slash}partnership action done {action.id}`, or "
            f"`{slash}partnership action later {action.id} due: <new date>`.",
            f"`{slash}partnership nudges off` stops these messages."]),
    ])


@dataclass(frozen=True)
class ActionLater(ButtonData, kind="action.later"):
    """"Needs more time" on a nudge: opens a form for the new due date."""

    action_id: int


@button(ActionLater)
async def later_button(pressed: ActionLater, caller: Caller, session: AsyncSession) -> Outcome:
    # Only for who may change it (the form's submission is checked again): its words are the
    # partnership's, not for a member of another one who was passed the button.
    row = await action_for(pressed.action_id, caller, session)
    await may_change(row, caller, session, "give it more time")
    action = row.action
    return Outcome(
        Reply(title=f"When will action {action.id} be done?"),
        form=Form(form_id=LATER_FORM, title="Needs more time", submit_label="Save",
                  intro=action.description, context=str(action.id),
                  fields=[FormField("due", "New due date", FieldKind.DATE, required=True)]))


@form(LATER_FORM)
async def later_submitted(values: FormValues, context: str, caller: Caller,
                          session: AsyncSession) -> Outcome:
    due = values.get("due")
    if not context.isdigit():
        raise CommandError.because("That form has expired.",
                                   "Use `partnership action reassign <n> due: <date>`.")
    return await reassign(Reassign(int(context), None, due if isinstance(due, str) else None),
                          caller, session)


# --- actions left without an owner --------------------------------------------------------------


async def tell_leads_of_unowned(session: AsyncSession, now: datetime,
                                left: list[tuple[int, int, str]],
                                erased: tuple[str, str]) -> int:
    """After "forget me": for each partnership where open actions lost their owner, queue a
    private message to each of its leads (not the person erased) listing them. `left`:
    (partnership id, action id, words); `erased`: (platform, user id)."""
    by_partnership: dict[int, list[int]] = {}
    for partnership_id, action_id, _ in left:
        by_partnership.setdefault(partnership_id, []).append(action_id)
    queued = 0
    for partnership_id, action_ids in by_partnership.items():
        leads = (await session.exec(select(Member).where(
            Member.partnership_id == partnership_id,
            Member.access_role == AccessRole.LEAD.value))).all()
        for lead in leads:
            if (lead.platform, lead.user_id) == erased or lead.platform not in PRIVATE_PLATFORMS:
                continue
            key = (f"unowned:{partnership_id}:{lead.platform}:{lead.user_id}:"
                   f"{action_ids[0]}-{action_ids[-1]}:{len(action_ids)}")
            if await outbox.enqueue(
                session, kind=UNOWNED_KIND, partnership_id=partnership_id, dedupe_key=key,
                due_at=now, payload={"actions": action_ids,
                                     "to": {"platform": lead.platform,
                                            "user_id": lead.user_id}}):
                queued += 1
    return queued


async def render_unowned(payload: dict[str, Any], due_at: datetime, now: datetime,
                         session: AsyncSession) -> Reply | Skip | None:
    ids = [int(i) for i in payload.get("actions", [])]
    found = (await session.exec(select(Action).where(
        col(Action.id).in_(ids), col(Action.status) == ActionStatus.OPEN.value,
        col(Action.owner_user_id).is_(None), col(Action.owner_school_id).is_(None))
        .order_by(col(Action.id)))).all() if ids else []
    if not found:
        return None  # reassigned (or closed) already
    partnership = await session.get(Partnership, found[0].partnership_id)
    assert partnership is not None
    slash = _command_prefix(str((payload.get("to") or {}).get("platform", "")))
    lines = [f"• {a.description}" + (f" (due {format_date(a.due_on)})" if a.due_on else "")
             + f": `{slash}partnership action reassign {a.id} owner: <name>`" for a in found]
    n = len(found)
    return Reply(
        title=f"{n} open action{'s' if n != 1 else ''} in {partnership.name} "
              f"{'have' if n != 1 else 'has'} no owner now",
        sections=[Section(lines=[
            "Someone who owned them asked for their data to be erased. As a lead, please give "
            "each a new owner:", *lines])])
