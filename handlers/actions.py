"""`/partnership action …` and `/partnership actions …`: what someone (a member, or a school)
will do by a date, typed on its own or a learning walk's next step; listed, closed, dropped with
a reason, given to someone else; and `/partnership nudges off|on`.

Who may close one: its owner (a member of the owning school, for a school's action) or a lead
of its partnership. Anyone in the partnership may raise one."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.buttons import ButtonData
from handlers.commands import button
from handlers.context import Caller
from handlers.dates import DateError, format_date, parse_date
from handlers.errors import CommandError
from handlers.logbook import date_problem
from handlers.lookup import find_partnership, membership, quoted_list, require_member
from handlers.mentions import link_members, parse_people, plain_text
from handlers.parsing import ParseError, check_length, parse_fields, row_number
from handlers.replies import Fact, Outcome, Person, Reply, Section, Tone
from handlers.schoolyear import short_date
from storage import actions, learning, queries
from storage.actions import ActionRow
from storage.models import AccessRole, ActionStatus, Partnership, School
from storage.names import name_key
from storage.types import LONDON

MAX_DESCRIPTION = 500
MAX_REASON = 300
SHOWN = 30
EXAMPLE = ("partnership action East Barnet Area share the phonics plan owner: Justine "
           "due: in 2 weeks")
ACTIONS = "Actions"


def today_of(caller: Caller) -> date:
    return caller.now.astimezone(LONDON).date()


# --- requests -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewAction:
    text: str  # "<partnership> <what>"
    owner: str | None
    due: str | None


@dataclass(frozen=True)
class CloseAction:
    number: int
    status: ActionStatus
    reason: str | None


@dataclass(frozen=True)
class Reassign:
    number: int
    owner: str | None
    due: str | None


ActionRequest = NewAction | CloseAction | Reassign


def _number(text: str, usage: str, caller: Caller) -> tuple[int, str]:
    head, _, rest = text.strip().partition(" ")
    number = row_number(head.lstrip("#"))
    if number is None:
        raise ParseError(f"Which action? Give its number, like {caller.cmd(usage)}.",
                         f"{caller.cmd('partnership actions <partnership>')} lists them "
                         "with their numbers.")
    return number, rest


def parse_action(rest: str, caller: Caller) -> ActionRequest:
    word, _, after = rest.strip().partition(" ")
    verb = word.lower()
    if verb in ("done", "close", "finished"):
        number, extra = _number(after, "partnership action done 12", caller)
        return CloseAction(number, ActionStatus.DONE, None)
    if verb in ("drop", "dropped", "cancel"):
        number, extra = _number(after, "partnership action drop 12 reason: no longer needed",
                                caller)
        reason = parse_fields(extra, ["reason"]).get("reason")
        if not reason:
            example = f"partnership action drop {number} reason: the visit was cancelled"
            raise ParseError("Please say why it is dropped, with `reason:`.",
                             f"For example {caller.cmd(example)}.")
        check_length("reason", reason, MAX_REASON)
        return CloseAction(number, ActionStatus.DROPPED, plain_text(reason))
    if verb in ("later", "postpone", "extend"):
        number, extra = _number(after, "partnership action later 12 due: in 2 weeks", caller)
        due = parse_fields(extra, ["due"]).get("due")
        if not due:
            example = f"partnership action later {number} due: in 2 weeks"
            raise ParseError("When will it be done? Give the new date with `due:`.",
                             f"For example {caller.cmd(example)}.")
        return Reassign(number, None, due)
    if verb in ("reassign", "give", "move"):
        number, extra = _number(after, "partnership action reassign 12 owner: Ben Day",
                                caller)
        parsed = parse_fields(extra, ["owner", "due"])
        if not parsed.get("owner") and not parsed.get("due"):
            example = f"partnership action reassign {number} owner: Ben Day"
            raise ParseError("Please give the new `owner:` (and a new `due:` date, if it "
                             "changes).", f"For example {caller.cmd(example)}.")
        return Reassign(number, parsed.get("owner"), parsed.get("due"))
    parsed = parse_fields(rest, ["owner", "due"])
    if not parsed.positional:
        raise ParseError("Which partnership, and what is to be done?",
                         f"Write it like this: {caller.cmd(EXAMPLE)}.")
    return NewAction(parsed.positional, parsed.get("owner"), parsed.get("due"))


# --- raising one --------------------------------------------------------------------------------


async def _split_partnership(text: str, caller: Caller,
                             session: AsyncSession) -> tuple[Partnership, str]:
    """ "East Barnet Area share the plan" -> (East Barnet Area, "share the plan"): the longest
    run of first words that names one of the caller's partnerships (its name or short name)."""
    mine = await learning.partnerships_of_member(session, caller.workspace, caller.platform,
                                                 caller.user_id)
    words = text.split()
    for n in range(len(words) - 1, 0, -1):
        key = name_key(" ".join(words[:n]))
        for p in mine:
            if key and key in (p.name_key, p.short_key):
                return p, " ".join(words[n:])
    # Not one of theirs: someone else's (refused as not a member), or unknown. A name is a few
    # words: only the first ten are tried.
    for n in range(min(len(words) - 1, 10), 0, -1):
        key = name_key(" ".join(words[:n]))
        other = await queries.partnership_by_key(session, caller.workspace, key) if key \
            else None
        if other is not None:
            await require_member(session, caller, other)
    partnership = await find_partnership(session, caller, " ".join(words[:-1]) or text,
                                         example=EXAMPLE.replace("East Barnet Area", "{name}"))
    await require_member(session, caller, partnership)
    raise CommandError.because("What is to be done? Give it after the partnership's name.",
                               f"Write it like this: {caller.cmd(EXAMPLE)}.")


@dataclass(frozen=True)
class Owner:
    user_id: str | None
    name: str | None
    school: School | None

    def label(self) -> str:
        return self.school.name if self.school else (self.name or f"@{self.user_id}")


async def _owner(typed: str | None, partnership: Partnership, caller: Caller,
                 session: AsyncSession, example: str) -> tuple[Owner, list[str]]:
    """The member (by @mention or name: full, display or first) or school `typed` names."""
    if not typed:
        raise CommandError.because(
            "Who will do it? Please give an owner with `owner:`: a member, or one of the "
            "partnership's schools.", f"Write it like this: {caller.cmd(example)}.")
    assert partnership.id is not None
    people = parse_people(typed)
    if len(people) != 1:
        raise CommandError.because("Please give one owner.", "For example `owner: Ben Day`.")
    members = await learning.members_on(session, partnership.id, caller.platform)
    linked = link_members(people, members)
    for said, names in linked.ambiguous:
        raise CommandError.because(f"“{said}” could be {' or '.join(names)}.",
                                   "Give the full name, or @mention them.")
    person = linked.people[0] if linked.people else people[0]
    if person.user_id is not None and any(m.user_id == person.user_id for m in members):
        return Owner(person.user_id, person.name, None), linked.notes
    # Not a member: perhaps one of its schools.
    schools = list(await queries.schools_of(session, partnership.id))
    key = name_key(plain_text(typed))
    fits = [s for s in schools if key and (name_key(s.name) == key
                                           or name_key(s.name).startswith(key + " "))]
    if len(fits) == 1:
        return Owner(None, None, fits[0]), []
    if len(fits) > 1:
        raise CommandError.because(f"“{typed}” could be {quoted_list([s.name for s in fits])}.",
                                   "Give the school's full name.")
    raise CommandError.because(
        f"“{person.label()}” is not a member of {partnership.name} or one of its schools.",
        "An action is owned by a member (an @mention, or their name) or by a school of the "
        f"partnership; {caller.cmd(f'partnership info {partnership.name}')} lists them.")


def _due(typed: str | None, caller: Caller, example: str) -> date:
    if not typed:
        raise CommandError.because("By when? Please give a due date with `due:`.",
                                   f"Write it like this: {caller.cmd(example)}.")
    today = today_of(caller)
    try:
        due = parse_date(plain_text(typed), today, "future")
    except DateError as error:
        raise CommandError.because(*date_problem("due", error)) from None
    if due < today:
        raise CommandError.because(f"The due date, {format_date(due)}, has passed.",
                                   "Give a due date from today on.")
    return due


async def raise_action(request: NewAction, caller: Caller, session: AsyncSession) -> Outcome:
    partnership, words = await _split_partnership(request.text, caller, session)
    assert partnership.id is not None
    example = EXAMPLE.replace("East Barnet Area", partnership.name)
    description = plain_text(words).strip()
    check_length("action", description, MAX_DESCRIPTION)
    owner, notes = await _owner(request.owner, partnership, caller, session, example)
    due = _due(request.due, caller, example)
    action = actions.new_action(
        partnership.id, description, caller.platform, owner_user_id=owner.user_id,
        owner_name=owner.name, owner_school_id=owner.school.id if owner.school else None,
        due_on=due, created_by_user_id=caller.user_id, created_by_name=caller.user_name)
    session.add(action)
    await session.flush()
    return Outcome(Reply(
        title=f"Action {action.id} for {partnership.name}: {description}",
        tone=Tone.SUCCESS,
        sections=[Section(facts=[Fact("Owner", owner.label()) if owner.school else
                                 Fact("Owner", people=(Person(owner.name, owner.user_id,
                                                              caller.platform),)),
                                 Fact("Due", format_date(due))],
                          lines=[*notes, f"When it is done: "
                                         f"{caller.cmd(f'partnership action done {action.id}')}."
                                 ])]))


# --- closing, dropping, reassigning -------------------------------------------------------------


async def action_for(number: int, caller: Caller, session: AsyncSession) -> ActionRow:
    row = await actions.action_in_workspace(session, caller.workspace, number)
    if row is None or await membership(session, caller, row.partnership) is None:
        raise CommandError.because(
            f"I can't find action {number} in your partnerships.",
            f"{caller.cmd('partnership actions <partnership>')} lists them with their numbers.")
    return row


async def may_change(row: ActionRow, caller: Caller, session: AsyncSession,
                      doing: str) -> None:
    """Its owner (or, for a school's action, someone of that school) or a lead."""
    member = await membership(session, caller, row.partnership)
    assert member is not None
    action = row.action
    if member.access_role == AccessRole.LEAD:
        return
    if action.owner_user_id == caller.user_id and action.platform == caller.platform:
        return
    if action.owner_school_id is not None and member.school_id == action.owner_school_id:
        return
    raise CommandError.because(
        f"Only the owner of action {action.id} ({row.owner_label}) or a lead of "
        f"{row.partnership.name} can {doing}.",
        "Ask them, or a lead.")


async def close_action(request: CloseAction, caller: Caller, session: AsyncSession) -> Outcome:
    row = await action_for(request.number, caller, session)
    action = row.action
    doing = "mark it done" if request.status is ActionStatus.DONE else "drop it"
    await may_change(row, caller, session, doing)
    if action.status != ActionStatus.OPEN.value:
        who = f" by {action.closed_by_name}" if action.closed_by_name else ""
        return Outcome(Reply(title=f"Action {action.id} is already {action.status}{who}.",
                             tone=Tone.INFO))
    actions.close(action, request.status, caller.user_id, caller.user_name, request.reason)
    session.add(action)
    said = "done" if request.status is ActionStatus.DONE else f"dropped ({request.reason})"
    return Outcome(Reply.success(
        f"Action {action.id} is {said}: {action.description}",
        f"{caller.cmd(f'partnership actions {row.partnership.name}')} shows what is still "
        "open."),
        updated_message=Reply(title=f"Action {action.id} is {said}.", tone=Tone.SUCCESS))


async def reassign(request: Reassign, caller: Caller, session: AsyncSession) -> Outcome:
    row = await action_for(request.number, caller, session)
    action = row.action
    await may_change(row, caller, session, "reassign it")
    if action.status != ActionStatus.OPEN.value:
        raise CommandError.because(f"Action {action.id} is {action.status}: there is nothing "
                                   "to reassign.")
    example = f"partnership action reassign {action.id} owner: Ben Day"
    lines: list[str] = []
    if request.owner:
        owner, lines = await _owner(request.owner, row.partnership, caller, session, example)
        action.owner_user_id, action.owner_name = owner.user_id, owner.name
        action.owner_school_id = owner.school.id if owner.school else None
        action.platform = caller.platform
    if request.due:
        action.due_on = _due(request.due, caller, example)
    session.add(action)
    owner_label = (await actions.action_in_workspace(session, caller.workspace,
                                                     action.id or 0))
    who = owner_label.owner_label if owner_label else ""
    due = f", due {format_date(action.due_on)}" if action.due_on else ""
    return Outcome(Reply.success(f"Action {action.id} is now {who}'s{due}.", *lines))


async def run_action(request: ActionRequest, caller: Caller, session: AsyncSession) -> Outcome:
    if isinstance(request, NewAction):
        return await raise_action(request, caller, session)
    if isinstance(request, CloseAction):
        return await close_action(request, caller, session)
    return await reassign(request, caller, session)


# --- listing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListActions:
    partnership: str
    which: str  # "open", "mine", "overdue", "done"
    school: str | None


_WHICH = re.compile(r"\s+(mine|overdue|all|done|closed)$", re.IGNORECASE)


def parse_list(rest: str, caller: Caller) -> ListActions:
    parsed = parse_fields(rest, ["school"])
    name = parsed.positional
    which = "open"
    found = _WHICH.search(" " + name)
    if found:
        which = found[1].lower()
        name = name[: len(name) - len(found[0]) + 1].strip()
    if which == "closed":
        which = "done"
    return ListActions(name, which, parsed.get("school"))


async def list_actions(request: ListActions, caller: Caller, session: AsyncSession) -> Outcome:
    if not request.partnership:
        mine = await learning.partnerships_of_member(session, caller.workspace,
                                                     caller.platform, caller.user_id)
        if len(mine) != 1:
            raise CommandError.because(
                "Which partnership? Give its name.",
                f"For example {caller.cmd('partnership actions East Barnet Area mine')}.")
        partnership = mine[0]
    else:
        partnership = await find_partnership(session, caller, request.partnership,
                                             example="partnership actions {name}")
    await require_member(session, caller, partnership)
    assert partnership.id is not None
    today = today_of(caller)
    school_id = None
    where = ""
    if request.school:
        schools = list(await queries.schools_of(session, partnership.id))
        key = name_key(request.school)
        fits = [s for s in schools if name_key(s.name) == key
                or name_key(s.name).startswith(key + " ")]
        if len(fits) != 1:
            raise CommandError.because(
                f"“{request.school}” is not one of {partnership.name}'s schools."
                if not fits else f"“{request.school}” could be "
                                 f"{quoted_list([s.name for s in fits])}.",
                f"{caller.cmd(f'partnership info {partnership.name}')} lists its schools.")
        school_id, where = fits[0].id, f" owned by {fits[0].name}"
    status = ActionStatus.DONE if request.which == "done" else (
        None if request.which == "all" else ActionStatus.OPEN)
    rows = await actions.action_rows(
        session, [partnership.id], status=status,
        owner=(caller.platform, caller.user_id) if request.which == "mine" else None,
        school_id=school_id, due_before=today if request.which == "overdue" else None,
        limit=SHOWN + 1)
    label = {"open": "Open actions", "mine": "Your open actions", "overdue": "Overdue actions",
             "done": "Done actions", "all": "All actions"}[request.which]
    if not rows:
        example = EXAMPLE.replace("East Barnet Area", partnership.name)
        return Outcome(Reply(
            title=f"{label} in {partnership.name}{where}: none.",
            sections=[Section(lines=[f"Raise one with {caller.cmd(example)}."])]))
    facts = [action_fact(r, today) for r in rows[:SHOWN]]
    lines = [f"Showing the first {SHOWN}."] if len(rows) > SHOWN else []
    lines.append(f"Mark one done with {caller.cmd('partnership action done <n>')}, or drop it "
                 f"with {caller.cmd('partnership action drop <n> reason: …')}.")
    return Outcome(Reply(title=f"{label} in {partnership.name}{where}",
                         sections=[Section(facts=facts), Section(lines=lines)]))


def action_fact(row: ActionRow, today: date) -> Fact:
    """ "Action 12: share the plan" · owner · due 12 Jan (3 days overdue) · from walk #4."""
    action = row.action
    parts = []
    if action.due_on is not None:
        late = (today - action.due_on).days
        parts.append(f"due {short_date(action.due_on)}"
                     + (f" ({late} day{'s' if late != 1 else ''} overdue)"
                        if late > 0 and action.status == ActionStatus.OPEN.value else ""))
    if action.status != ActionStatus.OPEN.value:
        parts.append(action.status + (f": {action.drop_reason}" if action.drop_reason else ""))
    if row.source_label:
        parts.append(f"from {row.source_label}")
    people: tuple[Person, ...] = ()
    if row.owner_school is not None:
        parts.insert(0, row.owner_school.name)
    elif action.owner_user_id or action.owner_name:
        people = (Person(action.owner_name, action.owner_user_id, action.platform),)
    else:
        parts.insert(0, "no owner")
    return Fact(f"Action {action.id}: {action.description}", " · ".join(parts), people=people)


# --- buttons ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionDone(ButtonData, kind="action.done"):
    """"Done" on an action (Home tab, a nudge)."""

    action_id: int


@button(ActionDone)
async def done_button(pressed: ActionDone, caller: Caller, session: AsyncSession) -> Outcome:
    return await close_action(CloseAction(pressed.action_id, ActionStatus.DONE, None), caller,
                              session)


# --- nudges on and off --------------------------------------------------------------------------


def parse_nudges(rest: str, caller: Caller) -> bool | None:
    word = rest.strip().lower()
    if word in ("off", "stop", "no"):
        return False
    if word in ("on", "start", "yes"):
        return True
    if not word:
        return None
    raise ParseError(f"I don't know `{rest.strip()}` here.",
                     f"Say {caller.cmd('partnership nudges off')} or "
                     f"{caller.cmd('partnership nudges on')}.")


async def run_nudges(on: bool | None, caller: Caller, session: AsyncSession) -> Outcome:
    if on is None:
        off = await actions.nudges_off(session, caller.workspace, caller.platform,
                                       caller.user_id)
        return Outcome(Reply(
            title="Your nudges are " + ("off." if off else "on."),
            sections=[Section(lines=[
                "A nudge is a private message 3 school days before an action of yours is due, "
                "and when it becomes overdue (then weekly, three times at most), on weekdays "
                "between 07:00 and 19:00.",
                f"Turn them {'on' if off else 'off'} with "
                f"{caller.cmd('partnership nudges ' + ('on' if off else 'off'))}."])]))
    await actions.set_nudges(session, caller.workspace, caller.platform, caller.user_id,
                             off=not on)
    if on:
        return Outcome(Reply.success("Nudges are on: I'll remind you privately before your "
                                     "actions are due."))
    return Outcome(Reply.success(
        "Nudges are off: I won't message you about your actions.",
        f"They are still on your Home tab and in {caller.cmd('partnership actions <p> mine')}."
        f" Turn nudges back on with {caller.cmd('partnership nudges on')}."))

