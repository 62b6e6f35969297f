"""`/cpd`: log CPD sessions (typed, or in a form), list them, show one, and summarise a
partnership's CPD by theme and by school, with the themes that have had no session this term:
what heads count by hand today for their governors."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import cast

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import logbook
from handlers.commands import Access, Command
from handlers.context import Caller
from handlers.dates import format_date
from handlers.errors import CommandError
from handlers.forms import Choice, FieldKind, Form, FormField
from handlers.logbook import (
    FieldReader,
    Found,
    Logged,
    LogKind,
    for_member,
    member_partnership,
    partnership_and_quiet_fields,
    partnerships_in_scope,
    prefill,
    record_number,
    school_choices,
    school_field,
    school_of_partnership,
    since_date,
)
from handlers.mentions import PersonRef, link_members
from handlers.parsing import ParseError, parse_fields
from handlers.replies import Fact, Outcome, Person, Reply, Section, Visibility
from handlers.schoolyear import (
    school_term,
    school_year_label,
    school_year_start,
    short_date,
    today_in_london,
)
from handlers.themes import match_theme, theme_problem, themes_of
from storage import learning, queries
from storage.models import (
    CpdAttendance,
    CpdAttendee,
    CpdSession,
    CpdTheme,
    Partnership,
    School,
)
from storage.names import name_key

FORM_ID = "cpd.log"

MAX_TITLE = 200
MAX_FACILITATOR = 100
MAX_IMPACT = 1500
MAX_ATTENDEES_TEXT = 1000
MAX_HEADCOUNT = 10_000
# Named attendees of one session: a whole staff meeting's worth.
MAX_PEOPLE = 200
# One session: a longer course is logged a day at a time.
MAX_MINUTES = 24 * 60
PAGE = 15

# "yesterday" rather than a date: an example that is right on every day it is shown.
EXAMPLE = ("cpd log East Barnet Area title: Phonics refresher theme: TA training date: yesterday "
           "hours: 1.5")

cpd = Command("cpd", "Log CPD sessions and see them by theme and school",
              "CPD sessions: log them and see the partnership's CPD by theme and school",
              notes=lambda caller: ["Only members of a partnership can log or see its CPD."])


@dataclass(frozen=True)
class ListRequest:
    partnership: str
    theme: str | None


def parse_list(rest: str, caller: Caller) -> ListRequest:
    parsed = parse_fields(rest, ["theme"])
    return ListRequest(parsed.positional, parsed.get("theme"))


@dataclass(frozen=True)
class SummaryRequest:
    partnership: str
    since: str | None


def parse_summary(rest: str, caller: Caller) -> SummaryRequest:
    parsed = parse_fields(rest, ["since"])
    if not parsed.positional:
        raise ParseError("Which partnership's CPD should I summarise?",
                         f"For example {caller.cmd('cpd summary East Barnet Area')}")
    return SummaryRequest(parsed.positional, parsed.get("since"))


# --- logging --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attendance:
    """Who came, as it was given: a head count, the schools, or both (the people who came are
    the `people:` field)."""

    count: int | None
    schools: tuple[School, ...]

    @property
    def shown(self) -> str:
        """As the attendees box takes it back: "14, Monkfrith, Danegrove"."""
        counted = [str(self.count)] if self.count is not None else []
        return ", ".join([*counted, *(s.name for s in self.schools)])


@dataclass
class CpdDraft:
    title: str
    theme: CpdTheme
    held_on: date
    minutes: int | None
    host: School | None
    facilitator: str | None
    attendee_count: int | None
    attending: list[School]
    people: list[PersonRef]
    impact: str | None
    linked: list[str] = field(default_factory=list)


class CpdLog(LogKind[CpdDraft]):
    command = "cpd"
    noun = "session"
    form_id = FORM_ID
    fields = ("title", "theme", "date", "hours", "host", "facilitator", "attendees", "people",
              "impact")
    aliases = MappingProxyType({
        "length": "hours", "duration": "hours", "school": "host", "held at": "host",
        "facilitated by": "facilitator", "led by": "facilitator", "attended": "attendees",
        "attendance": "attendees", "participants": "people", "attended by": "people"})
    structured = frozenset({"theme", "date", "hours", "length", "duration", "host", "school",
                            "held at", "facilitator", "facilitated by", "led by", "attendees",
                            "attended", "attendance", "people", "participants",
                            "attended by"})
    doing = "log CPD sessions"
    usage = "log <partnership> title: … theme: … date: …"
    help_heading = "Log a session"
    help_notes = ("Optional: `hours:` (1.5, 90 minutes), `host:` (the school), `facilitator:`, "
                  "`attendees:` (a head count, the schools, or both: `14`, `Monkfrith, "
                  "Danegrove`, `all`, `14, Monkfrith, Danegrove`), `people:` (names or "
                  "@mentions of who came), `impact:` (intended and observed)",
                  "The theme may be loose (“SENCO”, “TA training”): I find the closest of the "
                  "partnership's themes, or ask. Add `quiet` after the partnership's name to "
                  "post nothing in its channel.")

    edit_example = "date: yesterday hours: 2"
    deleted_with = "its attendance and impact notes"
    draft_fields = MappingProxyType({
        "title": "title", "theme": "theme", "date": "held_on", "hours": "minutes",
        "host": "host", "facilitator": "facilitator", "people": "people", "impact": "impact"})

    def example(self, partnership: str = "East Barnet Area") -> str:
        return EXAMPLE.replace("East Barnet Area", partnership)

    def current_of(self, draft: CpdDraft) -> dict[str, object]:
        return {**super().current_of(draft),
                "attendees": Attendance(draft.attendee_count, tuple(draft.attending))}

    async def find(self, session: AsyncSession, caller: Caller, number: int) -> Found:
        found = await learning.cpd_in_workspace(session, caller.workspace, number)
        row = await for_member(found, caller, session, f"CPD session #{number}", "cpd list")
        return Found(row.cpd, row.partnership,
                     f"CPD session #{number}, “{row.cpd.title}” on {format_date(row.cpd.held_on)}")

    async def current(self, found: Found, session: AsyncSession) -> dict[str, object]:
        record = found.record
        assert isinstance(record, CpdSession) and record.id is not None
        attending = (await learning.attending_schools(session, [record.id])).get(record.id, [])
        people = (await learning.attendees_of(session, [record.id])).get(record.id, [])
        host = await session.get(School, record.host_school_id) if record.host_school_id else None
        return {"title": record.title, "theme": await session.get(CpdTheme, record.theme_id),
                "date": record.held_on, "hours": record.minutes, "host": host,
                "facilitator": record.facilitator,
                "attendees": Attendance(record.attendee_count, tuple(attending)),
                "people": [PersonRef(p.user_id, p.name) for p in people],
                "impact": record.impact}

    async def remove(self, found: Found, session: AsyncSession) -> None:
        assert found.record.id is not None
        await learning.delete_cpd(session, found.record.id)

    async def read(self, reader: FieldReader, partnership: Partnership,
                   session: AsyncSession) -> CpdDraft:
        title = reader.text("title", "session's title", MAX_TITLE, required=True)
        theme = await _theme(reader, partnership, session)
        held_on = reader.date("date", "session's date", "done", required=True)
        minutes = _minutes(reader)
        host = await school_field(reader, "host", "host school", partnership, session)
        facilitator = reader.text("facilitator", "facilitator's name", MAX_FACILITATOR)
        headcount, attending = await _attendees(reader, partnership, session)
        people = reader.people("people", "people", MAX_PEOPLE)
        impact = reader.text("impact", "impact", MAX_IMPACT)
        if held_on is not None and held_on > reader.today:
            reader.add("date", f"The session's date, {format_date(held_on)}, is still to come.",
                       "Log a session once it has happened.")
        # People are matched with the members ("Ann" is Ann Smith); with none, no look-up.
        assert partnership.id is not None
        members = await learning.members_on(session, partnership.id, reader.caller.platform) \
            if people else []
        linked = link_members(people, members)
        for typed, names in linked.ambiguous:
            reader.add("people", f"“{typed}” could be {' or '.join(names)}.",
                       "Give the full name, or @mention them.")
        reader.check()
        assert title is not None and theme is not None and held_on is not None
        return CpdDraft(title, theme, held_on, minutes, host, facilitator, headcount, attending,
                        linked.people, impact, linked.notes)

    async def save(self, draft: CpdDraft, partnership: Partnership, caller: Caller,
                   session: AsyncSession, found: Found | None = None) -> Logged:
        assert partnership.id is not None and draft.theme.id is not None
        if found is None:
            record = CpdSession(partnership_id=partnership.id, theme_id=draft.theme.id,
                                title=draft.title, held_on=draft.held_on,
                                platform=caller.platform, logged_by_user_id=caller.user_id,
                                logged_by_name=caller.user_name)
        else:
            assert isinstance(found.record, CpdSession)
            record = found.record
            await learning.delete_attendance(session, record.id or 0)
            await learning.delete_attendees(session, record.id or 0)
        record.theme_id, record.title, record.held_on = draft.theme.id, draft.title, draft.held_on
        record.minutes, record.facilitator, record.impact = (draft.minutes, draft.facilitator,
                                                             draft.impact)
        record.host_school_id = draft.host.id if draft.host else None
        record.attendee_count = draft.attendee_count
        session.add(record)
        await session.flush()
        assert record.id is not None
        session.add_all(CpdAttendance(session_id=record.id, school_id=school.id)
                        for school in draft.attending if school.id is not None)
        people = [CpdAttendee(session_id=record.id, user_id=p.user_id, name=p.name, position=n)
                  for n, p in enumerate(draft.people)]
        session.add_all(people)
        facts = _session_facts(record, draft.theme, draft.host, draft.attending, people)
        lines = [f"See it with {caller.cmd(f'cpd show {record.id}')}; the partnership's CPD so "
                 f"far: {caller.cmd(f'cpd summary {partnership.name}')}.", *draft.linked]
        note = Reply(title=f"{record.logged_by_name} logged a CPD session: {record.title}",
                     sections=[Section(facts=list(facts))], visibility=Visibility.PUBLIC)
        return Logged(record.id, f"Logged CPD session #{record.id}: {record.title}", facts,
                      lines, note)

    async def form(self, mine: Sequence[Partnership], chosen: Partnership | None,
                   caller: Caller, session: AsyncSession,
                   current: Mapping[str, object] | None = None) -> Form:
        shown = [chosen] if chosen else mine
        themes: dict[str, Choice] = {}
        for partnership in shown:
            for theme in await themes_of(session, partnership):
                themes.setdefault(theme.name_key, Choice(theme.name, theme.name))
        schools = await school_choices(shown, session)
        # A select needs at least one option: with no schools yet, there is no host to choose.
        host_field = [FormField("host", "Host school", FieldKind.SELECT, choices=schools)] \
            if schools else []
        return Form(
            form_id=FORM_ID, title="Log a CPD session", submit_label="Log session",
            intro="A training or development session for staff of the partnership's schools. "
                  "Only the partnership's members will see it.",
            fields=partnership_and_quiet_fields(mine, chosen, "Whose CPD this was.", prefill([
                FormField("title", "Title", required=True, max_length=MAX_TITLE,
                          placeholder="e.g. Phonics refresher for teaching assistants"),
                FormField("theme", "Theme", FieldKind.SELECT, required=True,
                          choices=tuple(themes.values()),
                          hint="One of the partnership's CPD themes."),
                FormField("date", "Date", FieldKind.DATE, required=True,
                          initial=today_in_london().isoformat()),
                FormField("hours", "Length in hours", FieldKind.NUMBER,
                          placeholder="e.g. 1.5"),
                *host_field,
                FormField("facilitator", "Facilitator", max_length=MAX_FACILITATOR),
                FormField("attendees", "Attendees", max_length=MAX_ATTENDEES_TEXT,
                          placeholder="e.g. 24, or Monkfrith, Danegrove, or both",
                          hint="A head count, the schools that came (or “all”), or both."),
                FormField("people", "People who came", FieldKind.USERS,
                          hint="Optional: who attended, if you want them named."),
                FormField("impact", "Impact", FieldKind.LONG_TEXT, max_length=MAX_IMPACT,
                          hint="Intended and observed impact on teaching and on pupils."),
            ], current, shown={"theme": lambda theme: theme.name,
                               "hours": lambda minutes: f"{minutes / 60:g}",
                               "attendees": _attendance_text})),
        )


KIND = CpdLog()


logbook.declare(KIND, cpd)


def _attendance_text(attendance: Attendance) -> str | None:
    """Who came, as the attendees box takes it; None where a school's own name would split."""
    if any(_LIST_SEPARATORS.search(s.name) for s in attendance.schools):
        return None
    return attendance.shown


async def _theme(reader: FieldReader, partnership: Partnership,
                 session: AsyncSession) -> CpdTheme | None:
    if reader.unchanged("theme"):
        return cast(CpdTheme | None, reader.kept("theme"))
    query = reader.text("theme", "theme", 200, required=True)
    if query is None:
        return None
    themes = await themes_of(session, partnership)
    result = match_theme(query, themes)
    if result.found is None:
        reader.add("theme", *theme_problem(query, result, themes, partnership, reader.caller))
    return result.found


_HALF = re.compile(r"([0-9]*)\s*½")
_HOURS = re.compile(r"([0-9]+(?:\.[0-9]+)?|\.[0-9]+)\s*(?:h|hr|hrs|hour|hours)?")
_MINUTES = re.compile(r"([0-9]+)\s*(?:m|min|mins|minute|minutes)")
_HOURS_AND_MINUTES = re.compile(
    r"([0-9]+)\s*(?:h|hr|hrs|hour|hours)\s*(?:and\s*)?([0-9]+)\s*(?:m|min|mins|minute|minutes)?")


def parse_minutes(text: str) -> int | None:
    """ "1.5", "1½", "2 hours", "90 minutes", "1h30" -> minutes; None if unreadable."""
    text = _HALF.sub(lambda m: f"{m[1] or 0}.5", text.strip().lower())
    if match := _HOURS_AND_MINUTES.fullmatch(text):
        return int(match[1]) * 60 + int(match[2])
    if match := _MINUTES.fullmatch(text):
        return int(match[1])
    if match := _HOURS.fullmatch(text):
        return round(float(match[1]) * 60)
    return None


def _minutes(reader: FieldReader) -> int | None:
    if reader.unchanged("hours"):
        return cast(int | None, reader.kept("hours"))
    text = reader.text("hours", "length", 40)
    if text is None:
        return None
    minutes = parse_minutes(text)
    if minutes is None:
        reader.add("hours", f"I couldn't read “{text}” as a length.",
                   "Write hours like `1.5`, `2 hours` or `90 minutes`.")
    elif minutes <= 0:
        reader.add("hours", "A session needs some length.", "Write hours like `1.5`.")
    elif minutes > MAX_MINUTES:
        reader.add("hours", f"{format_hours(minutes)} is longer than one day.",
                   "Log a longer course as one session per day.")
    else:
        return minutes
    return None


_HEADCOUNT = re.compile(r"([0-9][0-9,]*)(?:\s+(?:staff|people|teachers|tas|attendees|"
                        r"delegates|colleagues))?")
_LIST_SEPARATORS = re.compile(r"\s*(?:[,;&]|\band\b)\s*", re.IGNORECASE)


_ALL = ("all", "all schools", "everyone")


def _headcount(reader: FieldReader, text: str) -> int | None:
    """ "24", "24 staff", "1,200" as a head count; None (with a problem noted when it is a
    number out of range) otherwise."""
    match = _HEADCOUNT.fullmatch(text.strip().lower())
    if match is None:
        return None
    count = int(match[1].replace(",", ""))
    if not 0 < count <= MAX_HEADCOUNT:
        reader.add("attendees", f"{count:,} is not a head count I can record.",
                   f"Give a number from 1 to {MAX_HEADCOUNT:,}, or the schools that came.")
        return None
    return count


async def _attendees(reader: FieldReader, partnership: Partnership,
                     session: AsyncSession) -> tuple[int | None, list[School]]:
    """As given: a head count ("24"), the schools that came ("Monkfrith, Danegrove", "all"),
    or both ("24, Monkfrith, Danegrove")."""
    assert partnership.id is not None
    if reader.unchanged("attendees"):
        kept = cast(Attendance, reader.kept("attendees"))
        return kept.count, list(kept.schools)
    text = reader.text("attendees", "attendees", MAX_ATTENDEES_TEXT)
    if text is None:
        return None, []
    if _HEADCOUNT.fullmatch(text.strip().lower()):  # "1,200": one number, commas and all
        return _headcount(reader, text), []
    count: int | None = None
    schools: dict[int, School] = {}
    for name in (n.strip() for n in _LIST_SEPARATORS.split(text) if n.strip()):
        if _HEADCOUNT.fullmatch(name.lower()):
            if count is not None:
                reader.add("attendees", "Please give one head count.",
                           "For example `attendees: 24, Monkfrith, Danegrove`.")
                continue
            count = _headcount(reader, name)
        elif name.lower() in _ALL:
            schools.update((s.id, s) for s in await queries.schools_of(session, partnership.id)
                           if s.id is not None)
        else:
            school = await school_of_partnership(reader, "attendees", name, partnership,
                                                 session)
            if school is not None and school.id is not None:
                schools[school.id] = school
    return count, sorted(schools.values(), key=lambda s: name_key(s.name))


def _session_facts(cpd: CpdSession, theme: CpdTheme, host: School | None,
                   attending: Sequence[School], people: Sequence[CpdAttendee]) -> list[Fact]:
    facts = [Fact("Theme", theme.name), Fact("Date", format_date(cpd.held_on))]
    if cpd.minutes:
        facts.append(Fact("Length", format_hours(cpd.minutes)))
    if host is not None:
        facts.append(Fact("Host", host.name))
    if cpd.facilitator:
        facts.append(Fact("Facilitator", cpd.facilitator))
    if cpd.attendee_count is not None:
        facts.append(Fact("Attendees", f"{cpd.attendee_count:,}"))
    if attending:
        facts.append(Fact("Schools attending", ", ".join(s.name for s in attending)))
    if people:
        facts.append(Fact("People attending",
                          people=tuple(Person(p.name, p.user_id, cpd.platform) for p in people)))
    return facts


def _channel_note(cpd: CpdSession, facts: Sequence[Fact], caller: Caller) -> Reply:
    return Reply(title=f"{caller.user_name} logged a CPD session: {cpd.title}",
                 sections=[Section(facts=list(facts))], visibility=Visibility.PUBLIC)


def format_hours(minutes: int) -> str:
    """90 -> "1.5 hours", 60 -> "1 hour", 100 -> "1.67 hours"."""
    hours = f"{minutes / 60:.2f}".rstrip("0").rstrip(".")
    return f"{hours} hour{'' if hours == '1' else 's'}"


# --- looking back ---------------------------------------------------------------------------


@cpd.subcommand(
    "list", "ls", usage="list [<partnership>] [theme: …]", access=Access.MEMBER,
    parse=parse_list, group="Look back",
    help=[("cpd list East Barnet Area theme: middle leadership", "newest first")])
async def list_sessions(request: ListRequest, caller: Caller, session: AsyncSession) -> Outcome:
    partnerships = await partnerships_in_scope(session, caller, request.partnership,
                                               "cpd list", "see CPD sessions")
    ids = [p.id for p in partnerships if p.id is not None]
    theme_ids, theme_name = (await _theme_filter(request.theme, partnerships, caller, session)
                             if request.theme else (None, None))
    rows, total = await learning.cpd_page(session, ids, theme_ids, PAGE)
    scope = partnerships[0].name if len(partnerships) == 1 else "your partnerships"
    about = f" on “{theme_name}”" if theme_name else ""
    if total == 0:
        return Outcome(Reply(title=f"No CPD sessions in {scope}{about} yet.",
                             sections=[Section(lines=[f"Log one with {caller.cmd('cpd')}."])]))
    lines = [_session_line(row, show_partnership=len(partnerships) > 1) for row in rows]
    if total > len(rows):
        lines.append(f"Showing the newest {len(rows)} of {total:,}; "
                     f"{caller.cmd('cpd summary <partnership>')} counts them all.")
    return Outcome(Reply(title=f"{total:,} CPD session{'s' if total != 1 else ''} in "
                               f"{scope}{about}", sections=[Section(lines=lines)]))


def _session_line(row: learning.CpdRow, show_partnership: bool) -> str:
    cpd = row.cpd
    parts = [f"#{cpd.id}", short_date(cpd.held_on), cpd.title, row.theme.name]
    if cpd.minutes:
        parts.append(format_hours(cpd.minutes))
    if row.host is not None:
        parts.append(f"at {row.host.name}")
    if show_partnership:
        parts.append(row.partnership.name)
    return " · ".join(parts)


async def _theme_filter(query: str, partnerships: Sequence[Partnership], caller: Caller,
                        session: AsyncSession) -> tuple[list[int], str]:
    """The ids of the theme `query` means in each of these partnerships (retired ones too, to
    find old sessions), and its name."""
    everyone: dict[str, CpdTheme] = {}
    all_themes: list[CpdTheme] = []
    for partnership in partnerships:
        themes = await themes_of(session, partnership, include_retired=True)
        all_themes.extend(themes)
        for theme in themes:
            everyone.setdefault(theme.name_key, theme)
    result = match_theme(query, list(everyone.values()))
    if result.found is None:
        raise CommandError.because(*theme_problem(
            query, result, [t for t in everyone.values() if not t.retired], partnerships[0],
            caller))
    key = result.found.name_key
    return [t.id for t in all_themes if t.name_key == key and t.id is not None], result.found.name


@cpd.subcommand("show", "view", usage="show <n>", access=Access.MEMBER,
                 parse=record_number("CPD session", "cpd show 7"), group="Look back",
                 help=[("cpd show 7", "everything recorded on session 7")])
async def show(cpd_id: int, caller: Caller, session: AsyncSession) -> Outcome:
    found = await learning.cpd_in_workspace(session, caller.workspace, cpd_id)
    row = await for_member(found, caller, session, f"CPD session #{cpd_id}", "cpd list")
    attending = (await learning.attending_schools(session, [cpd_id])).get(cpd_id, [])
    people = (await learning.attendees_of(session, [cpd_id])).get(cpd_id, [])
    facts = [Fact("Partnership", row.partnership.name),
             *_session_facts(row.cpd, row.theme, row.host, attending, people),
             Fact("Logged by", row.cpd.logged_by_name)]
    sections = [Section(facts=facts)]
    if row.cpd.impact:
        sections.append(Section(heading="Impact", lines=row.cpd.impact.splitlines()))
    history = await logbook.history_line(session, KIND, cpd_id)
    sections.append(Section(lines=[history] if history else [],
                            buttons=await logbook.change_buttons(KIND, row.cpd, row.partnership,
                                                                 caller, session)))
    return Outcome(Reply(title=f"CPD session #{cpd_id}: {row.cpd.title}", sections=sections))


@cpd.subcommand(
    "summary", "report", usage="summary <partnership> [since: …]", access=Access.MEMBER,
    parse=parse_summary, group="Look back",
    help=[("cpd summary East Barnet Area", "sessions and hours by theme and by school this "
           "school year, and the themes with no session this term"),
          ("partnership themes East Barnet Area", "the themes (a lead can change them)")])
async def summary(request: SummaryRequest, caller: Caller, session: AsyncSession) -> Outcome:
    partnership = await member_partnership(session, caller, request.partnership,
                                           "cpd summary {name}")
    assert partnership.id is not None
    today = today_in_london()
    since = since_date(request.since, today) or school_year_start(today)
    term = school_term(today)
    themes = await themes_of(session, partnership, include_retired=True)
    schools = await queries.schools_of(session, partnership.id)
    found = await learning.cpd_summary(session, partnership.id, since, term.start, term.end)
    period = (f"the {school_year_label(today)} school year (since {short_date(since)})"
              if request.since is None else f"since {short_date(since)}")
    total = found.total
    facts = [Fact("Sessions", f"{total.sessions:,}"), Fact("Hours", _hours_of(total))]
    if total.sessions:
        facts.append(Fact("Attendance", attendance_words(
            found.with_schools, found.without_schools, found.attendees_without_schools)))
    active = [t for t in themes if not t.retired]
    theme_lines = [f"{t.name}: {_tally_text(found.by_theme.get(t.id or 0))}" for t in active]
    theme_lines += [f"{t.name} (no longer a theme): {_tally_text(found.by_theme[t.id])}"
                    for t in themes if t.retired and t.id in found.by_theme]
    school_lines = [_school_line(s, found) for s in schools] or ["No schools yet."]
    missing = [t.name for t in active if t.id not in found.themes_this_term]
    gap = (Section(heading=f"No session yet this {term.label()}", lines=missing) if missing
           else Section(heading=f"This {term.label()}",
                        lines=["Every theme has had at least one session."]))
    sections = [Section(facts=facts), Section(heading="By theme", lines=theme_lines),
                Section(heading="By school", lines=school_lines), gap]
    if total.sessions == 0:
        sections.insert(1, Section(lines=[f"No sessions logged in {period}. Log one with "
                                          f"{caller.cmd('cpd')}."]))
    return Outcome(Reply(title=f"CPD in {partnership.name}, {period}", sections=sections))


def _sessions(n: int) -> str:
    return f"{n:,} session{'s' if n != 1 else ''}"


def attendance_words(with_schools: int, without_schools: int, attendees: int) -> str:
    """How attendance was recorded, in words a governor reads right: "schools recorded at 3
    sessions; 14 attendees at 1 session (schools not recorded)". Attendees counted without
    their schools are never turned into schools that did not attend."""
    if attendees:
        unknown = f"{attendees:,} attendee{'s' if attendees != 1 else ''}"
    else:
        unknown = "attendance not recorded"
    if not with_schools:
        return unknown + (" (schools not recorded)" if attendees else "")
    known = f"schools recorded at {_sessions(with_schools)}"
    if not without_schools:
        return known
    return (f"{known}; {unknown} at {_sessions(without_schools)}"
            + (" (schools not recorded)" if attendees else ""))


def _hours_of(tally: learning.CpdTally) -> str:
    text = format_hours(tally.minutes) if tally.minutes else "0 hours"
    if tally.without_length:
        text += f" (+{tally.without_length} session{'s' if tally.without_length != 1 else ''} " \
                "with no length given)"
    return text


def _tally_text(tally: learning.CpdTally | None) -> str:
    if tally is None or tally.sessions == 0:
        return "none"
    plural = "s" if tally.sessions != 1 else ""
    return f"{tally.sessions:,} session{plural}, {_hours_of(tally)}"


def _school_line(school: School, found: learning.CpdSummary) -> str:
    hosted = found.hosted.get(school.id or 0)
    attended = found.attended.get(school.id or 0)
    parts = [f"hosted {hosted.sessions:,}" if hosted else "hosted none",
             f"attended {_tally_text(attended)}" if attended else "attended none recorded"]
    return f"{school.name}: " + "; ".join(parts)
