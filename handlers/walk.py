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
from handlers.dates import format_date
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
from handlers.mentions import PersonRef, link_members
from handlers.parsing import parse_fields
from handlers.replies import Button, Fact, Outcome, Person, Reply, Section, Tone, Visibility
from handlers.schoolyear import short_date, today_in_london
from storage import learning
from storage.models import LearningWalk, Partnership, School, WalkWalker
from storage.types import LONDON, utcnow

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
    owner: PersonRef | None
    due_on: date | None
    # Names typed that were linked to members, said back in the reply.
    linked: list[str] = field(default_factory=list)


class WalkLog(LogKind[WalkDraft]):
    command = "walk"
    noun = "walk"
    form_id = FORM_ID
    fields = ("school", "date", "focus", "walkers", "year groups", "strengths", "development",
              "next steps", "owner", "due")
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
                  "Add `quiet` after the partnership's name to post nothing in its channel.")
    edit_example = "date: yesterday focus: phonics in Reception"
    deleted_with = "its notes, walkers and next steps"
    notes_fields = frozenset({"strengths", "development", "next steps"})
    draft_fields = MappingProxyType({
        "school": "school", "date": "walked_on", "focus": "focus", "walkers": "walkers",
        "year groups": "year_groups", "strengths": "strengths", "development": "development",
        "next steps": "next_steps", "owner": "owner", "due": "due_on"})

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
        owner = (PersonRef(walk.owner_user_id, walk.owner_name)
                 if walk.owner_user_id or walk.owner_name else None)
        return {"school": school, "date": walk.walked_on, "focus": walk.focus,
                "walkers": [PersonRef(w.user_id, w.name) for w in walkers],
                "year groups": walk.year_groups, "strengths": walk.strengths,
                "development": walk.development, "next steps": walk.next_steps,
                "owner": owner, "due": walk.due_on}

    async def remove(self, found: Found, session: AsyncSession) -> None:
        walk = found.record
        assert isinstance(walk, LearningWalk) and walk.id is not None
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
        if (owner or due) and not next_steps and "next steps" not in reader.values:
            reader.add("next steps", "An owner and a due date belong to the next steps: please "
                                     "give the `next steps:` too.")
        if due is not None and walked_on is not None and due < walked_on:
            reader.add("due", f"The due date, {format_date(due)}, is before the walk "
                              f"({format_date(walked_on)}).", "Give a due date after the walk.")
        # Walkers and an owner are matched with the members; with neither, nothing to look up.
        members = await learning.members_on(session, partnership.id, reader.caller.platform) \
            if walkers or owner else []
        linked_walkers = link_members(walkers, members)
        linked_owner = link_members([owner] if owner else [], members)
        for name, linked in (("walkers", linked_walkers), ("owner", linked_owner)):
            for typed, names in linked.ambiguous:
                reader.add(name, f"“{typed}” could be {' or '.join(names)}.",
                           "Give the full name, or @mention them.")
        reader.check()
        assert school is not None and walked_on is not None and focus is not None
        return WalkDraft(school, walked_on, focus, linked_walkers.people,
                         tidy_year_groups(year_groups) if year_groups else None, strengths,
                         development, next_steps,
                         linked_owner.people[0] if linked_owner.people else None, due,
                         linked=[*linked_walkers.notes, *linked_owner.notes])

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
        walk.owner_user_id = draft.owner.user_id if draft.owner else None
        walk.owner_name = draft.owner.name if draft.owner else None
        walk.due_on = draft.due_on
        session.add(walk)
        await session.flush()
        assert walk.id is not None
        walkers = [WalkWalker(walk_id=walk.id, user_id=p.user_id, name=p.name, position=n)
                   for n, p in enumerate(draft.walkers)]
        session.add_all(walkers)
        facts = [Fact("Date", format_date(walk.walked_on)), Fact("Focus", walk.focus)]
        if walk.year_groups:
            facts.append(Fact("Year groups", walk.year_groups))
        if walkers:
            facts.append(Fact("Walkers", people=_people(walkers, walk.platform)))
        if walk.next_steps:
            facts.extend(f for f in _next_steps_facts(walk, today_in_london())
                         if f.label != "Status")
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
                FormField("next steps", "Agreed next steps", FieldKind.LONG_TEXT,
                          max_length=MAX_NOTES),
                FormField("owner", "Who owns the next steps", FieldKind.USER),
                FormField("due", "Next steps due by", FieldKind.DATE),
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


def _owner(walk: LearningWalk) -> Person | None:
    if walk.owner_user_id is None and walk.owner_name is None:
        return None
    return Person(walk.owner_name, walk.owner_user_id, walk.platform)


def _next_steps_facts(walk: LearningWalk, today: date) -> list[Fact]:
    """Who owns the next steps, when they are due, and whether they are done."""
    facts = []
    owner = _owner(walk)
    if owner is not None:
        facts.append(Fact("Owner", people=(owner,)))
    if walk.due_on is not None:
        overdue = walk.done_at is None and walk.due_on < today
        facts.append(Fact("Due", format_date(walk.due_on) + (" (overdue)" if overdue else "")))
    if walk.done_at is None:
        facts.append(Fact("Status", "open"))
    else:
        done_on = short_date(walk.done_at.astimezone(LONDON).date())
        facts.append(Fact("Status", f"done on {done_on}"
                                    + (f" by {walk.done_by}" if walk.done_by else "")))
    return facts


def _step_status(walk: LearningWalk, today: date) -> str:
    if walk.next_steps is None:
        return ""
    if walk.done_at is not None:
        return f"done ({walk.done_by})" if walk.done_by else "done"
    parts = []
    if walk.owner_name or walk.owner_user_id:
        parts.append(walk.owner_name or f"@{walk.owner_user_id}")
    if walk.due_on is not None:
        overdue = " (overdue)" if walk.due_on < today else ""
        parts.append(f"due {short_date(walk.due_on)}{overdue}")
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
    lines = [_walk_line(row, today, show_partnership=len(partnerships) > 1) for row in rows]
    if counts.walks > len(rows):
        lines.append(f"Showing the newest {len(rows)}; narrow it with `since:` or `school:`.")
    facts = [Fact("Next steps open", f"{counts.open_steps}"
                  + (f" ({counts.overdue_steps} overdue)" if counts.overdue_steps else ""))]
    plural = "s" if counts.walks != 1 else ""
    return Outcome(Reply(
        title=f"{counts.walks} learning walk{plural} in {scope}{where}{after}",
        sections=[Section(facts=facts), Section(lines=lines)],
    ))


def _walk_line(row: learning.WalkRow, today: date, show_partnership: bool) -> str:
    walk = row.walk
    parts = [f"#{walk.id}", short_date(walk.walked_on), row.school.name, walk.focus]
    if show_partnership:
        parts.append(row.partnership.name)
    status = _step_status(walk, today)
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
    if walk.next_steps:
        sections.append(Section(heading="Next steps", lines=walk.next_steps.splitlines()))
        status = Section(facts=_next_steps_facts(walk, today))
        if walk.done_at is None:
            status.buttons.append(Button("Mark next steps done", WalkDone(walk.id), "primary"))
        sections.append(status)
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
    walk = row.walk
    if walk.next_steps is None:
        raise CommandError.because(
            f"Learning walk #{walk_id} has no next steps to close.",
            f"{caller.cmd(f'walk show {walk_id}')} shows what was recorded.")
    if walk.done_at is not None:
        who = f" by {walk.done_by}" if walk.done_by else ""
        return Outcome(Reply(title=f"The next steps of walk #{walk_id} were already marked "
                                   f"done{who}.", tone=Tone.INFO))
    walk.done_at = utcnow()
    walk.done_by = caller.user_name
    session.add(walk)
    return Outcome(Reply.success(
        f"Marked the next steps of learning walk #{walk_id} at {row.school.name} done.",
        f"{caller.cmd(f'walk list {row.partnership.name}')} shows what is still open."))


@button(WalkDone)
async def done_button(pressed: WalkDone, caller: Caller, session: AsyncSession) -> Outcome:
    return await close_next_steps(pressed.walk_id, caller, session)

