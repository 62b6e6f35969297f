"""`/walk`: log learning walks (typed, or in a form), list them, show one, close its next steps.

A walk looks at one focus across a host school's classes. Its notes concern staff (personal
data), so they are shown only to the partnership's members, kept out of channel posts, and never
written to the log."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import examples, logbook
from handlers.buttons import ButtonData
from handlers.commands import Access, Command, button
from handlers.context import Caller
from handlers.dates import DateError, format_date, parse_date
from handlers.errors import CommandError
from handlers.forms import FieldKind, Form, FormField
from handlers.logbook import (
    FieldReader,
    Found,
    Logged,
    LogKind,
    for_member,
    partnership_and_quiet_fields,
    partnerships_in_scope,
    prefill,
    record_number,
    school_choices,
    school_field,
    since_date,
)
from handlers.lookup import find_school, quoted_list
from handlers.mentions import PersonRef, link_members, parse_people, plain_text
from handlers.parsing import parse_fields
from handlers.replies import Button, Fact, Outcome, Person, Reply, Section, Tone, Visibility
from handlers.schoolyear import short_date, today_in_london
from storage import actions, learning
from storage.models import (
    Action,
    ActionSource,
    ActionStatus,
    LearningWalk,
    Partnership,
    School,
    WalkWalker,
)
from storage.types import LONDON

FORM_ID = "walk.log"

MAX_FOCUS = 200
MAX_YEAR_GROUPS = 200
MAX_NOTES = 1500
MAX_WALKERS = 10
# Common practice (e.g. a union's model policy): no more than two walkers at a time.
USUAL_WALKERS = 2
PAGE = 15

# "yesterday" rather than a date: an example that is right on every day it is shown.
EXAMPLE = ("walk log East Barnet Area school: Monkfrith date: yesterday "
           "focus: progression in foundation subjects")
ABOUT_NOTES = ("A learning walk looks at one focus across classes: record the focus, the year "
               "groups and the evidence, never named or judged individual teachers.")
NOTES_HINT = "What you saw across classes, about practice: no teachers' names."


def _notes(caller: Caller) -> list[str]:
    today = examples.today_of(caller.now)
    return [
        ABOUT_NOTES,
        "Only members of the partnership can log or see its walks.",
        f"Dates are day first: {examples.date_examples(today, 'done')}, `yesterday`, "
        "`last Thursday`. A date without a year is the latest one that has passed.",
    ]


walk = Command("walk", "Log learning walks, list them and follow up their next steps",
               "Learning walks: log them, find them again, follow them up", notes=_notes)


@dataclass(frozen=True)
class WalkDone(ButtonData, kind="walk.done"):
    """"Mark next steps done" on a walk."""

    walk_id: int

    @classmethod
    def from_legacy(cls, value: str) -> WalkDone | None:
        return cls(int(value)) if value.isdigit() and len(value) < 12 else None


@dataclass(frozen=True)
class ListRequest:
    partnership: str
    school: str | None
    since: str | None


def parse_list(rest: str, caller: Caller) -> ListRequest:
    parsed = parse_fields(rest, ["school", "since"])
    return ListRequest(parsed.positional, parsed.get("school"), parsed.get("since"))


# --- logging --------------------------------------------------------------------------------


@dataclass(frozen=True)
class StepDraft:
    description: str
    owner: PersonRef | None
    due_on: date | None


# Form rows after the first ("next steps", "owner", "due"): "next step 2", "owner 2", "due 2".
EXTRA_ROWS = (2, 3)
_STEP_SEPARATOR = re.compile(r"\s*;\s*")
_STEP_TAIL = re.compile(r"\(([^()]*)\)\s*$")


def step_rows(steps: Sequence[StepDraft]) -> dict[str, object]:
    """The open steps as the form's rows (step 1 in "next steps", "owner", "due"; then "next
    step 2" …), so an edit that leaves them alone keeps them; more steps than rows are all
    written in "next steps", each with its owner and date in brackets."""
    rows: dict[str, object] = {"next steps": None, "owner": None, "due": None}
    for n in EXTRA_ROWS:
        rows.update({f"next step {n}": None, f"owner {n}": None, f"due {n}": None})
    if len(steps) > 1 + len(EXTRA_ROWS):
        rows["next steps"] = "; ".join(step_text(s) for s in steps)
        return rows
    for n, step in enumerate(steps, start=1):
        names = ("next steps", "owner", "due") if n == 1 else (
            f"next step {n}", f"owner {n}", f"due {n}")
        rows.update(zip(names, (step.description, step.owner, step.due_on), strict=True))
    return rows


def step_text(step: StepDraft) -> str:
    """A step as typed back: "Share the plan (Justine Elbourne, 12/1/2027)"."""
    tail = [p for p in (step.owner.label() if step.owner else None,
                        f"{step.due_on.day}/{step.due_on.month}/{step.due_on.year}"
                        if step.due_on else None) if p]
    return step.description + (f" ({', '.join(tail)})" if tail else "")


@dataclass
class WalkDraft:
    school: School
    walked_on: date
    focus: str
    walkers: list[PersonRef]
    year_groups: str | None
    strengths: str | None
    development: str | None
    next_steps: str | None
    # Each next step: an action with its own owner and due date.
    steps: list[StepDraft]
    # Names typed that were linked to members, said back in the reply.
    linked: list[str] = field(default_factory=list)


class WalkLog(LogKind[WalkDraft]):
    command = "walk"
    noun = "walk"
    form_id = FORM_ID
    fields = ("school", "date", "focus", "walkers", "year groups", "strengths", "development",
              "next steps", "owner", "due",
              *(f"{f} {n}" for n in EXTRA_ROWS for f in ("next step", "owner", "due")))
    aliases = MappingProxyType({"host": "school", "walker": "walkers", "year group": "year groups",
                                "years": "year groups", "next step": "next steps",
                                "due date": "due"})
    structured = frozenset({"school", "host", "date", "walkers", "walker", "year groups",
                            "year group", "years", "owner", "due", "due date"})
    doing = "log learning walks"
    usage = "log <partnership> school: … date: … focus: …"
    help_heading = "Log a walk"
    help_notes = ("Optional: `walkers:` names or @mentions, `year groups:` (Y1, Y3), "
                  "`strengths:`, `development:`, `next steps:`, `owner:` (of the next steps), "
                  "`due:` (when they are due)",
                  "Several next steps, each with its own owner and due date: separate them "
                  "with `;` and put the owner and date in brackets after each, e.g. "
                  "`next steps: share the phonics plan (Justine, 12/1/2027); audit reading "
                  "books (Ben Day, 19/1/2027)`. A step without brackets takes `owner:` and "
                  "`due:`. Each step becomes an action (`partnership actions`).",
                  "Add `quiet` after the partnership's name to post nothing in its channel.")
    edit_example = "date: yesterday focus: phonics in Reception"
    deleted_with = "its notes, walkers and next steps"
    notes_fields = frozenset({"strengths", "development", "next steps"})
    draft_fields = MappingProxyType({
        "school": "school", "date": "walked_on", "focus": "focus", "walkers": "walkers",
        "year groups": "year_groups", "strengths": "strengths", "development": "development",
        # Each step's owner and due date are written into the next steps' text.
        "next steps": "next_steps"})

    def example(self, partnership: str = "East Barnet Area") -> str:
        return EXAMPLE.replace("East Barnet Area", partnership)

    async def find(self, session: AsyncSession, caller: Caller, number: int) -> Found:
        row = await _walk_for_member(number, caller, session)
        return Found(row.walk, row.partnership,
                     f"learning walk #{number} at {row.school.name} on "
                     f"{format_date(row.walk.walked_on)}")

    async def current(self, found: Found, session: AsyncSession) -> dict[str, object]:
        walk = found.record
        assert isinstance(walk, LearningWalk) and walk.id is not None
        school = await session.get(School, walk.host_school_id)
        walkers = (await learning.walkers_of(session, [walk.id])).get(walk.id, [])
        steps = [_step_of(a) for a in await actions.actions_of_walk(session, walk.id)
                 if a.status == ActionStatus.OPEN.value]
        return {"school": school, "date": walk.walked_on, "focus": walk.focus,
                "walkers": [PersonRef(w.user_id, w.name) for w in walkers],
                "year groups": walk.year_groups, "strengths": walk.strengths,
                "development": walk.development, **step_rows(steps)}

    def current_of(self, draft: WalkDraft) -> dict[str, object]:
        return {**super().current_of(draft), **step_rows(draft.steps)}

    async def remove(self, found: Found, session: AsyncSession) -> None:
        walk = found.record
        assert isinstance(walk, LearningWalk) and walk.id is not None
        await actions.delete_walk_actions(session, walk.id)
        await learning.delete_walk(session, walk.id)

    async def read(self, reader: FieldReader, partnership: Partnership,
                   session: AsyncSession) -> WalkDraft:
        assert partnership.id is not None
        today = reader.today
        school = await school_field(reader, "school", "host school", partnership, session,
                                    required=True)
        walked_on = reader.date("date", "walk's date", "done", required=True)
        focus = reader.text("focus", "focus", MAX_FOCUS, required=True)
        walkers = reader.people("walkers", "walkers", MAX_WALKERS)
        year_groups = reader.text("year groups", "year groups", MAX_YEAR_GROUPS)
        strengths = reader.text("strengths", "strengths", MAX_NOTES)
        development = reader.text("development", "areas for development", MAX_NOTES)
        next_steps = reader.text("next steps", "next steps", MAX_NOTES)
        owner = reader.person("owner", "owner")
        due = reader.date("due", "due date", "future")
        if walked_on is not None and walked_on > today:
            reader.add("date", f"The walk's date, {format_date(walked_on)}, is still to come.",
                       "Log a walk once it has happened.")
        steps = read_steps(reader, next_steps, owner, due)
        if (owner or due) and not next_steps and "next steps" not in reader.values:
            reader.add("next steps", "An owner and a due date belong to the next steps: please "
                                     "give the `next steps:` too.")
        # A walk logged late may have steps already due: they show as overdue (an action typed
        # on its own must be due from today on).
        for step in steps:
            if step.due_on is not None and walked_on is not None and step.due_on < walked_on:
                reader.add("due", f"The due date, {format_date(step.due_on)}, is before the "
                                  f"walk ({format_date(walked_on)}).",
                           "Give a due date after the walk.")
        owners = [s.owner for s in steps if s.owner is not None]
        # Walkers and owners are matched with the members; with neither, nothing to look up.
        members = await learning.members_on(session, partnership.id, reader.caller.platform) \
            if walkers or owners else []
        linked_walkers = link_members(walkers, members)
        linked_owners = [link_members([o], members) for o in owners]
        owner_notes: list[str] = []
        for name, linked in (("walkers", linked_walkers), *(("owner", o) for o in linked_owners)):
            for typed, names in linked.ambiguous:
                reader.add(name, f"“{typed}” could be {' or '.join(names)}.",
                           "Give the full name, or @mention them.")
        for linked in linked_owners:
            owner_notes.extend(linked.notes)
        reader.check()
        assert school is not None and walked_on is not None and focus is not None
        by_typed = {o: linked.people[0] for o, linked in zip(owners, linked_owners, strict=True)
                    if linked.people}
        steps = [StepDraft(s.description, by_typed.get(s.owner, s.owner) if s.owner else None,
                           s.due_on) for s in steps]
        return WalkDraft(school, walked_on, focus, linked_walkers.people,
                         tidy_year_groups(year_groups) if year_groups else None, strengths,
                         development, "; ".join(step_text(s) for s in steps) or None, steps,
                         linked=[*linked_walkers.notes, *dict.fromkeys(owner_notes)])

    async def save(self, draft: WalkDraft, partnership: Partnership, caller: Caller,
                   session: AsyncSession, found: Found | None = None) -> Logged:
        assert partnership.id is not None and draft.school.id is not None
        if found is None:
            walk = LearningWalk(partnership_id=partnership.id, host_school_id=draft.school.id,
                                walked_on=draft.walked_on, focus=draft.focus,
                                platform=caller.platform, logged_by_user_id=caller.user_id,
                                logged_by_name=caller.user_name)
        else:
            assert isinstance(found.record, LearningWalk)
            walk = found.record
            await learning.delete_walkers(session, walk.id or 0)
        walk.host_school_id, walk.walked_on, walk.focus = (draft.school.id, draft.walked_on,
                                                           draft.focus)
        walk.year_groups, walk.strengths, walk.development, walk.next_steps = (
            draft.year_groups, draft.strengths, draft.development, draft.next_steps)
        session.add(walk)
        await session.flush()
        assert walk.id is not None
        walkers = [WalkWalker(walk_id=walk.id, user_id=p.user_id, name=p.name, position=n)
                   for n, p in enumerate(draft.walkers)]
        session.add_all(walkers)
        steps = await _save_steps(walk, draft.steps, caller, session, new=found is None)
        facts = [Fact("Date", format_date(walk.walked_on)), Fact("Focus", walk.focus)]
        if walk.year_groups:
            facts.append(Fact("Year groups", walk.year_groups))
        if walkers:
            facts.append(Fact("Walkers", people=_people(walkers, walk.platform)))
        facts.extend(_step_fact(a) for a in steps)
        lines = [f"Notes are seen only by members of {partnership.name}. "
                 f"See it all with {caller.cmd(f'walk show {walk.id}')}."]
        if len(walkers) > USUAL_WALKERS:
            lines.append(f"Common practice is no more than {USUAL_WALKERS} walkers at a time.")
        lines.extend(draft.linked)
        return Logged(walk.id, f"Logged learning walk #{walk.id} at {draft.school.name}", facts,
                      lines, _channel_note(walk, draft.school, caller))

    async def form(self, mine: Sequence[Partnership], chosen: Partnership | None,
                   caller: Caller, session: AsyncSession,
                   current: Mapping[str, object] | None = None) -> Form:
        schools = await school_choices([chosen] if chosen else mine, session)
        if not schools:
            where = chosen.name if chosen else "your partnerships"
            raise CommandError.because(
                f"There are no schools in {where} yet, so there is nowhere to walk.",
                f"Add yours with "
                f"{caller.cmd('partnership join <partnership> school: <school>')}.")
        return Form(
            form_id=FORM_ID, title="Log a learning walk", submit_label="Log walk",
            intro=ABOUT_NOTES + " Notes are seen only by the partnership's members.",
            fields=partnership_and_quiet_fields(mine, chosen, "Only its members will see this "
                                                "walk.", prefill([
                FormField("school", "Host school", FieldKind.SELECT, required=True,
                          choices=schools, hint="The school whose classes you visited."),
                FormField("date", "Date of the walk", FieldKind.DATE, required=True,
                          initial=today_in_london().isoformat()),
                FormField("focus", "Focus", required=True, max_length=MAX_FOCUS,
                          placeholder="e.g. progression in foundation subjects",
                          hint="One focus, looked at across classes."),
                FormField("walkers", "Walkers", FieldKind.USERS,
                          hint=f"Usually no more than {USUAL_WALKERS}, often from partner "
                               "schools."),
                FormField("year groups", "Year groups or classes seen",
                          max_length=MAX_YEAR_GROUPS, placeholder="e.g. Reception, Y2, Y4"),
                FormField("strengths", "Strengths", FieldKind.LONG_TEXT, max_length=MAX_NOTES,
                          hint=NOTES_HINT),
                FormField("development", "Areas for development", FieldKind.LONG_TEXT,
                          max_length=MAX_NOTES, hint=NOTES_HINT),
                FormField("next steps", "Next step 1", FieldKind.LONG_TEXT,
                          max_length=MAX_NOTES,
                          hint="Several steps here? Separate them with ; and give each its "
                               "owner and date in brackets, or use the rows below."),
                FormField("owner", "Who owns step 1", FieldKind.USER),
                FormField("due", "Step 1 due by", FieldKind.DATE),
                *(f for n in EXTRA_ROWS for f in (
                    FormField(f"next step {n}", f"Next step {n}", max_length=MAX_NOTES),
                    FormField(f"owner {n}", f"Who owns step {n}", FieldKind.USER),
                    FormField(f"due {n}", f"Step {n} due by", FieldKind.DATE))),
            ], current)),
        )


KIND = WalkLog()


logbook.declare(KIND, walk)


_YEAR = re.compile(r"(?:y|yr|year)\s*([0-9]{1,2})")
_KEY_STAGE = re.compile(r"(?:ks|key stage)\s*([1-5])")
_NAMED_GROUPS = {"r": "Reception", "rec": "Reception", "reception": "Reception",
                 "n": "Nursery", "nursery": "Nursery", "eyfs": "EYFS"}
_GROUP_SEPARATORS = re.compile(r"\s*(?:[,;/&]|\band\b)\s*", re.IGNORECASE)


def tidy_year_groups(text: str) -> str:
    """ "year 1, yr3 and rec" -> "Y1, Y3, Reception": one spelling, so lists line up."""
    groups = []
    for part in _GROUP_SEPARATORS.split(text):
        word = " ".join(part.split())
        low = word.lower()
        if year := _YEAR.fullmatch(low):
            groups.append(f"Y{int(year[1])}")
        elif stage := _KEY_STAGE.fullmatch(low):
            groups.append(f"KS{stage[1]}")
        elif word:
            groups.append(_NAMED_GROUPS.get(low, word))
    return ", ".join(dict.fromkeys(groups))


def _channel_note(walk: LearningWalk, school: School, caller: Caller) -> Reply:
    """What the channel sees: that a walk happened and its focus; never the notes."""
    return Reply(
        title=f"{walk.logged_by_name} logged a learning walk at {school.name}",
        sections=[Section(lines=[
            f"{format_date(walk.walked_on)} · focus: {walk.focus}",
            f"Members can read it with {caller.cmd(f'walk show {walk.id}')}.",
        ])],
        visibility=Visibility.PUBLIC,
    )


def _people(walkers: Sequence[WalkWalker], platform: str) -> tuple[Person, ...]:
    return tuple(Person(w.name, w.user_id, platform) for w in walkers)


def read_steps(reader: FieldReader, text: str | None, owner: PersonRef | None,
               due: date | None) -> list[StepDraft]:
    """The next steps: those in `next steps:` (separated by `;`, each perhaps ending in
    "(owner, due date)"; without one, `owner:` and `due:`), then the form's extra rows."""
    steps: list[StepDraft] = []
    for part in _STEP_SEPARATOR.split(text or ""):
        if not part.strip():
            continue
        step_owner, step_due, description = owner, due, part.strip()
        tail = _STEP_TAIL.search(description)
        if tail is not None:
            found = _owner_and_date(tail[1], reader.today)
            if found is not None:
                step_owner, step_due = found[0] or owner, found[1] or due
                description = description[: tail.start()].strip() or description
        steps.append(StepDraft(description, step_owner, step_due))
    # Typing `next steps:` in an edit gives all the steps anew; otherwise the rows left alone
    # keep their steps.
    keep_rows = reader.current is not None and (reader.from_form
                                                or "next steps" not in reader.values)
    for n in EXTRA_ROWS:
        use = keep_rows or any(f"{f} {n}" in reader.values for f in ("next step", "owner", "due"))
        words = reader.text(f"next step {n}", f"next step {n}", MAX_NOTES) if use else None
        row_owner = reader.person(f"owner {n}", "owner") if use else None
        row_due = reader.date(f"due {n}", "due date", "future") if use else None
        if words:
            steps.append(StepDraft(words, row_owner, row_due))
        elif row_owner or row_due:
            reader.add(f"next step {n}", f"Step {n} has an owner or date but no words: "
                                         "please say what the step is.")
    return steps


def _owner_and_date(text: str, today: date) -> tuple[PersonRef | None, date | None] | None:
    """ "Justine, 12/1/2027" -> (Justine, 12 Jan 2027); "12 Jan" -> (None, date); "Ben Day" ->
    (Ben Day, None); None when the brackets hold neither (they are part of the words)."""
    parts = [p.strip() for p in text.rsplit(",", 1)]
    try:
        when = parse_date(plain_text(parts[-1]), today, "future")
    except DateError:
        when = None
    if when is not None:
        who = parse_people(parts[0]) if len(parts) == 2 else []
        return (who[0] if len(who) == 1 else None), when
    who = parse_people(text)
    if len(who) == 1 and len(text) <= 100 and (who[0].user_id or len(text.split()) <= 4):
        return who[0], None
    return None


def _step_of(action: Action) -> StepDraft:
    owner = PersonRef(action.owner_user_id, action.owner_name) \
        if action.owner_user_id or action.owner_name else None
    return StepDraft(action.description, owner, action.due_on)


async def _save_steps(walk: LearningWalk, steps: Sequence[StepDraft], caller: Caller,
                      session: AsyncSession, new: bool) -> list[Action]:
    """The walk's open actions become `steps`: those unchanged are kept (with their numbers),
    the rest replaced; done and dropped ones stay as they were."""
    assert walk.id is not None
    if new and not steps:
        return []
    existing = [] if new else await actions.actions_of_walk(session, walk.id)
    kept: list[Action] = []
    unused = [a for a in existing if a.status == ActionStatus.OPEN.value]
    result: list[Action] = []
    for step in steps:
        same = next((a for a in unused if _same(a, step)), None)
        if same is not None:
            unused.remove(same)
            kept.append(same)
            result.append(same)
            continue
        action = actions.new_action(
            walk.partnership_id, step.description, walk.platform,
            owner_user_id=step.owner.user_id if step.owner else None,
            owner_name=step.owner.name if step.owner else None, owner_school_id=None,
            due_on=step.due_on, created_by_user_id=caller.user_id,
            created_by_name=caller.user_name, source=ActionSource.WALK, walk_id=walk.id)
        session.add(action)
        result.append(action)
    for gone in unused:
        await session.delete(gone)
    await session.flush()
    return result


def _same(action: Action, step: StepDraft) -> bool:
    if action.description != step.description or action.due_on != step.due_on:
        return False
    if step.owner is None:
        return action.owner_user_id is None and action.owner_name is None
    if step.owner.user_id is not None:
        return action.owner_user_id == step.owner.user_id
    return action.owner_user_id is None and action.owner_name == step.owner.name


def _step_fact(action: Action, today: date | None = None) -> Fact:
    """A next step: "Action 12 · Share the plan" with its owner, due date and state."""
    owner = (Person(action.owner_name, action.owner_user_id, action.platform),) \
        if action.owner_name or action.owner_user_id else ()
    parts = []
    if action.due_on is not None:
        late = (today is not None and action.status == ActionStatus.OPEN.value
                and action.due_on < today)
        parts.append(f"due {format_date(action.due_on)}" + (" (overdue)" if late else ""))
    if action.status == ActionStatus.DONE.value:
        when = short_date(action.closed_at.astimezone(LONDON).date()) if action.closed_at \
            else ""
        parts.append(f"done {when}" + (f" by {action.closed_by_name}"
                                       if action.closed_by_name else ""))
    elif action.status == ActionStatus.DROPPED.value:
        parts.append("dropped" + (f": {action.drop_reason}" if action.drop_reason else ""))
    elif today is not None:
        parts.append("open")
    if not owner:
        parts.append("no owner")
    return Fact(f"Action {action.id}: {action.description}", " · ".join(parts), people=owner)


def _step_status(steps: Sequence[Action], today: date) -> str:
    """ "open: Ben Day, due 10 Feb (overdue)" for one step; "2 open (1 overdue)" for more."""
    if not steps:
        return ""
    open_ = [a for a in steps if a.status == ActionStatus.OPEN.value]
    if not open_:
        return "done"
    late = sum(1 for a in open_ if a.due_on is not None and a.due_on < today)
    if len(open_) > 1:
        return f"{len(open_)} open" + (f" ({late} overdue)" if late else "")
    [step] = open_
    parts = [step.owner_name or f"@{step.owner_user_id}"] \
        if step.owner_name or step.owner_user_id else []
    if step.due_on is not None:
        parts.append(f"due {short_date(step.due_on)}" + (" (overdue)" if late else ""))
    return ("open: " + ", ".join(parts)) if parts else "open"


# --- finding walks again --------------------------------------------------------------------


@walk.subcommand(
    "list", "ls", usage="list [<partnership>] [school: …] [since: …]", access=Access.MEMBER,
    parse=parse_list, group="Find them again",
    help=[(lambda c: "walk list East Barnet Area since: "
           + examples.since_example(examples.today_of(c.now)),
           "newest first, with open next steps; `school:` narrows it to one host")])
async def list_walks(request: ListRequest, caller: Caller, session: AsyncSession) -> Outcome:
    partnerships = await partnerships_in_scope(session, caller, request.partnership,
                                               "walk list", "see learning walks")
    ids = [p.id for p in partnerships if p.id is not None]
    school = await _school_filter(request.school, caller, session) if request.school else None
    today = today_in_london()
    since = since_date(request.since, today)
    school_id = school.id if school else None
    counts = await learning.walk_counts(session, ids, school_id, since, today)
    scope = partnerships[0].name if len(partnerships) == 1 else "your partnerships"
    where = f" at {school.name}" if school else ""
    after = f" since {short_date(since)}" if since else ""
    if counts.walks == 0:
        return Outcome(Reply(
            title=f"No learning walks in {scope}{where}{after} yet.",
            sections=[Section(lines=[f"Log one with {caller.cmd('walk')}."])],
        ))
    rows = await learning.walk_page(session, ids, school_id, since, PAGE)
    steps = await actions.actions_of_walks(session, [r.walk.id for r in rows if r.walk.id])
    lines = [_walk_line(row, steps.get(row.walk.id or 0, []), today,
                        show_partnership=len(partnerships) > 1) for row in rows]
    if counts.walks > len(rows):
        lines.append(f"Showing the newest {len(rows)}; narrow it with `since:` or `school:`.")
    facts = [Fact("Next steps open", f"{counts.open_steps}"
                  + (f" ({counts.overdue_steps} overdue)" if counts.overdue_steps else ""))]
    plural = "s" if counts.walks != 1 else ""
    return Outcome(Reply(
        title=f"{counts.walks} learning walk{plural} in {scope}{where}{after}",
        sections=[Section(facts=facts), Section(lines=lines)],
    ))


def _walk_line(row: learning.WalkRow, steps: Sequence[Action], today: date,
               show_partnership: bool) -> str:
    walk = row.walk
    parts = [f"#{walk.id}", short_date(walk.walked_on), row.school.name, walk.focus]
    if show_partnership:
        parts.append(row.partnership.name)
    status = _step_status(steps, today)
    if status:
        parts.append(f"next steps {status}")
    return " · ".join(parts)


async def _school_filter(name: str, caller: Caller, session: AsyncSession) -> School:
    school, close = await find_school(session, caller, name)
    if school is not None:
        return school
    hint = (f"Did you mean {quoted_list([s.name for s in close])}?" if close
            else f"{caller.cmd('partnership info <partnership>')} lists its schools.")
    raise CommandError.because(f"I don't know a school called “{name}”.", hint)


async def _walk_for_member(walk_id: int, caller: Caller,
                           session: AsyncSession) -> learning.WalkRow:
    return await for_member(await learning.walk_in_workspace(session, caller.workspace, walk_id),
                            caller, session, f"learning walk #{walk_id}", "walk list")


@walk.subcommand("show", "view", usage="show <n>", access=Access.MEMBER,
                 parse=record_number("walk", "walk show 12"), group="Find them again",
                 help=[("walk show 12", "everything recorded on walk 12")])
async def show(walk_id: int, caller: Caller, session: AsyncSession) -> Outcome:
    row = await _walk_for_member(walk_id, caller, session)
    walk = row.walk
    assert walk.id is not None
    walkers = (await learning.walkers_of(session, [walk.id])).get(walk.id, [])
    today = today_in_london()
    facts = [Fact("Partnership", row.partnership.name), Fact("Date", format_date(walk.walked_on)),
             Fact("Focus", walk.focus)]
    if walk.year_groups:
        facts.append(Fact("Year groups", walk.year_groups))
    if walkers:
        facts.append(Fact("Walkers", people=_people(walkers, walk.platform)))
    facts.append(Fact("Logged by", walk.logged_by_name))
    sections = [Section(facts=facts)]
    for heading, text in (("Strengths", walk.strengths),
                          ("Areas for development", walk.development)):
        if text:
            sections.append(Section(heading=heading, lines=text.splitlines()))
    steps = await actions.actions_of_walk(session, walk.id)
    if steps:
        status = Section(heading="Next steps", facts=[_step_fact(a, today) for a in steps])
        if any(a.status == ActionStatus.OPEN.value for a in steps):
            status.buttons.append(Button("Mark next steps done", WalkDone(walk.id), "primary"))
            status.lines.append(f"One at a time: {caller.cmd('partnership action done <n>')}.")
        sections.append(status)
    elif walk.next_steps:
        sections.append(Section(heading="Next steps", lines=walk.next_steps.splitlines()))
    history = await logbook.history_line(session, KIND, walk.id)
    sections.append(Section(
        lines=[f"Only members of {row.partnership.name} can see this walk.",
               *([history] if history else [])],
        buttons=await logbook.change_buttons(KIND, walk, row.partnership, caller, session)))
    return Outcome(Reply(title=f"Learning walk #{walk.id} at {row.school.name}",
                         sections=sections))


@walk.subcommand("done", "close", usage="done <n>", access=Access.MEMBER,
                 parse=record_number("walk", "walk done 12"), group="Find them again",
                 help=[("walk done 12", "its next steps are done")])
async def close_next_steps(walk_id: int, caller: Caller, session: AsyncSession) -> Outcome:
    row = await _walk_for_member(walk_id, caller, session)
    steps = await actions.actions_of_walk(session, walk_id)
    if not steps:
        raise CommandError.because(
            f"Learning walk #{walk_id} has no next steps to close.",
            f"{caller.cmd(f'walk show {walk_id}')} shows what was recorded.")
    closed = await actions.close_walk_actions(session, walk_id, caller.user_id,
                                              caller.user_name)
    if closed == 0:
        return Outcome(Reply(title=f"The next steps of walk #{walk_id} were already closed.",
                             tone=Tone.INFO))
    return Outcome(Reply.success(
        f"Marked {closed} next step{'s' if closed != 1 else ''} of learning walk #{walk_id} "
        f"at {row.school.name} done.",
        f"{caller.cmd(f'partnership actions {row.partnership.name}')} shows what is still "
        "open."))


@button(WalkDone)
async def done_button(pressed: WalkDone, caller: Caller, session: AsyncSession) -> Outcome:
    return await close_next_steps(pressed.walk_id, caller, session)

