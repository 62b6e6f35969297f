"""One flow for the records people log by typing or in a form (learning walks, CPD sessions):
parse -> read and check the fields (one set of rules for typed and form input, every problem
reported at once) -> save -> a short note in the partnership's linked channels.

Each kind of record is a `LogKind`: it supplies only its fields, its rules (`read`), how it is
saved and announced (`save`) and its form; `log`, `submit` and `open_form` here do the rest."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import date
from typing import Generic, Protocol, TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.commands import Access, Command, form
from handlers.context import Caller
from handlers.dates import DateError, Prefer, parse_date
from handlers.errors import CommandError
from handlers.forms import Choice, FieldErrors, FieldKind, Form, FormField, FormValues
from handlers.lookup import find_partnership, quoted_list, require_member
from handlers.mentions import PersonRef, parse_people, plain_text
from handlers.names import match_name, name_key
from handlers.parsing import Parsed, ParseError, parse_fields
from handlers.replies import ChannelPost, Fact, Outcome, Reply, Section, Tone
from handlers.schoolyear import today_in_london
from storage import learning, queries
from storage.models import Partnership, School

QUIET = "quiet"
# A name as stored for walkers, owners and facilitators.
MAX_PERSON_NAME = 100
# Read this many from a people field before saying there are too many.
MAX_LISTED_PEOPLE = 50
# Slack shows a field error under its input; a long one is cut off.
MAX_FIELD_ERROR = 300


@dataclass(frozen=True)
class Problem:
    field: str
    problem: str
    hint: str = ""


class Invalid(Exception):
    """Every problem found in a command's fields, so they can all be shown at once."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("; ".join(p.problem for p in problems))
        self.problems = list(problems)

    def for_text(self) -> ParseError:
        first, *rest = self.problems
        hints = [first.hint] if first.hint else []
        if rest:
            hints.append("Also: " + " ".join(p.problem for p in rest))
        return ParseError(first.problem, *hints)

    def for_form(self) -> FieldErrors:
        errors: dict[str, str] = {}
        for p in self.problems:
            # Modal errors are plain text: code marks would show as backticks.
            text = f"{p.problem} {p.hint}".strip().replace("`", "")
            errors.setdefault(p.field, text[:MAX_FIELD_ERROR])
        return FieldErrors(errors)


class FieldReader:
    """Reads and checks a record's fields, collecting every problem rather than stopping at
    the first. Text values may hold Slack's chat markup (mentions, links, entities)."""

    def __init__(self, values: Mapping[str, str | list[str]], *, from_form: bool, today: date,
                 caller: Caller, example: str) -> None:
        self.values = values
        self.from_form = from_form
        self.today = today
        self.caller = caller
        # The command to show when something required is missing, e.g. "walk log …".
        self.example = caller.cmd(example)
        self.problems: list[Problem] = []

    def add(self, field: str, problem: str, hint: str = "") -> None:
        self.problems.append(Problem(field, problem, hint))

    def check(self) -> None:
        if self.problems:
            raise Invalid(self.problems)

    def _raw(self, name: str) -> str | None:
        value = self.values.get(name)
        if isinstance(value, list):
            value = ", ".join(value)
        return value.strip() if value and value.strip() else None

    def _as_typed(self, raw: str) -> str:
        """A form's inputs hold exactly what was typed; command text may hold chat markup."""
        return raw if self.from_form else plain_text(raw)

    def _missing(self, name: str, label: str) -> None:
        if self.from_form:
            self.add(name, f"Please give the {label}.")
        else:
            self.add(name, f"Please give the {label}, with `{name}:`.",
                     f"Write it like this: {self.example}")

    def text(self, name: str, label: str, limit: int, required: bool = False) -> str | None:
        raw = self._raw(name)
        value = self._as_typed(raw).strip() if raw else None
        if not value:
            if required:
                self._missing(name, label)
            return None
        if len(value) > limit:
            self.add(name, f"The {label} is {len(value):,} characters long; the most is "
                           f"{limit:,}.", "Please shorten it.")
            return None
        return value

    def date(self, name: str, label: str, prefer: Prefer, required: bool = False) -> date | None:
        raw = self._raw(name)
        if raw is None:
            if required:
                self._missing(name, label)
            return None
        try:
            return parse_date(self._as_typed(raw), self.today, prefer)
        except DateError as error:
            self.add(name, *date_problem(name, error))
            return None

    def people(self, name: str, label: str, most: int) -> list[PersonRef]:
        value = self.values.get(name)
        if value is None:
            return []
        if self.from_form:
            ids = value if isinstance(value, list) else [value]
            return [PersonRef(user_id, None) for user_id in ids if user_id]
        people = parse_people(value if isinstance(value, str) else ", ".join(value))
        if len(people) > most:
            self.add(name, f"That is {len(people)} {label}; the most I can record is {most}.")
            return []
        for person in people:
            if person.name and len(person.name) > MAX_PERSON_NAME:
                self.add(name, f"“{person.name[:30]}…” is {len(person.name)} characters long; "
                               f"a name can have up to {MAX_PERSON_NAME}.",
                         "Separate several names with commas.")
                return []
        return people

    def person(self, name: str, label: str) -> PersonRef | None:
        people = self.people(name, label, most=MAX_LISTED_PEOPLE)
        if len(people) > 1:
            self.add(name, f"Please give one {label}.", f"For example `{name}: @Ann Smith`.")
        return people[0] if people else None



def date_problem(field: str, error: DateError) -> tuple[str, str]:
    """A date's problem, saying which field it is in: "In `due:`, “31/2” is not a real date…"."""
    problem = error.problem
    if not problem.startswith(("I ", "“")):
        problem = problem[:1].lower() + problem[1:]
    return f"In `{field}:`, {problem}", error.hint


def since_date(text: str | None, today: date) -> date | None:
    """A `since:` filter's date, if given."""
    if text is None:
        return None
    try:
        return parse_date(plain_text(text), today, "past")
    except DateError as error:
        raise ParseError(*date_problem("since", error)) from None


def ticked(values: Mapping[str, str | list[str]], name: str, value: str) -> bool:
    """Whether a form's checkbox `value` was ticked."""
    chosen = values.get(name)
    return isinstance(chosen, list) and value in chosen


def take_quiet(parsed: Parsed, structured: AbstractSet[str]) -> bool:
    """Whether `quiet` was given, taking the word out of the text. It may follow the
    partnership's name, or end the command after a field that is not free text ("due: 12/3
    quiet"); after free text ("next steps: keep it quiet") it is part of that text."""
    words = parsed.positional.split()
    if words and words[-1].lower() == QUIET:
        parsed.positional = " ".join(words[:-1])
        return True
    if not parsed.fields:
        return False
    last = list(parsed.fields)[-1]
    value_words = parsed.fields[last].split()
    if last in structured and len(value_words) > 1 and value_words[-1].lower() == QUIET:
        parsed.fields[last] = " ".join(value_words[:-1])
        return True
    return False


def record_number(what: str, example: str) -> Callable[[str, Caller], int]:
    """The parse of a subcommand that takes a record's number ("walk show 12")."""

    def parse(rest: str, caller: Caller) -> int:
        return parse_id(rest, what, caller.cmd(example))

    return parse


def parse_id(text: str, what: str, example: str) -> int:
    """A record's number as shown in lists: "12" or "#12"."""
    word = text.strip().removeprefix("#")
    if not word.isdigit() or len(word) > 12:
        raise ParseError(f"Which {what}? Give its number, as shown in the list.",
                         f"For example {example}")
    return int(word)


# --- partnerships ---------------------------------------------------------------------------


async def my_partnerships(session: AsyncSession, caller: Caller) -> list[Partnership]:
    return list(await learning.partnerships_of_member(session, caller.workspace,
                                                      caller.platform, caller.user_id))


async def partnerships_or_refuse(session: AsyncSession, caller: Caller,
                                 doing: str) -> list[Partnership]:
    mine = await my_partnerships(session, caller)
    if not mine:
        raise CommandError.because(
            f"Only members of a partnership can {doing}, and you are not in one yet.",
            f"{caller.cmd('partnership list')} shows them; join one with "
            + caller.cmd("partnership join East Barnet Area school: <your school>") + ".",
        )
    return mine


async def member_partnership(session: AsyncSession, caller: Caller, name: str,
                             example: str) -> Partnership:
    """The partnership typed, if the caller is one of its members."""
    partnership = await find_partnership(session, caller, name, example=example)
    await require_member(session, caller, partnership)
    return partnership


async def form_partnership(session: AsyncSession, caller: Caller,
                           value: str | list[str] | None) -> Partnership:
    """The partnership chosen in a form (its id), if the caller is still one of its members."""
    mine = {str(p.id): p for p in await my_partnerships(session, caller)}
    chosen = mine.get(value) if isinstance(value, str) else None
    if chosen is None:
        raise Invalid([Problem("partnership",
                               "Please choose one of your partnerships." if value is None else
                               "You are not a member of that partnership any more.")])
    return chosen


def partnership_field(partnerships: Sequence[Partnership], chosen: Partnership | None,
                      hint: str) -> FormField:
    initial = chosen or (partnerships[0] if len(partnerships) == 1 else None)
    return FormField(
        "partnership", "Partnership", FieldKind.SELECT, required=True, hint=hint,
        choices=tuple(Choice(p.name, str(p.id)) for p in partnerships),
        initial=str(initial.id) if initial is not None else None, positional=True,
    )


def quiet_field() -> FormField:
    return FormField(QUIET, "Channel note", FieldKind.CHECKBOXES, choices=(
        Choice("Don't post a note in the partnership's channel", QUIET),))


async def note_for_channels(session: AsyncSession, partnership: Partnership, note: Reply,
                       quiet: bool) -> tuple[list[ChannelPost], str | None]:
    """The post for the partnership's linked channels, and a line saying where it went."""
    assert partnership.id is not None
    links = await queries.channel_links(session, partnership.id)
    if not links:
        return [], None
    names = ", ".join(f"#{link.channel_name or link.channel_id}" for link in links)
    if quiet:
        return [], f"Nothing was posted in {names} (quiet)."
    return [ChannelPost(partnership.id, note)], f"A short note went to {names}."


# --- schools ---------------------------------------------------------------------------------


async def school_of_partnership(reader: FieldReader, field: str, name: str,
                                partnership: Partnership,
                                session: AsyncSession) -> School | None:
    """The partnership's school `name` means, or a problem saying which schools it has."""
    assert partnership.id is not None
    schools = list(await queries.schools_of(session, partnership.id))
    if not schools:
        reader.add(field, f"{partnership.name} has no schools yet.", "Add yours with "
                   + reader.caller.cmd(f"partnership join {partnership.name} school: <school>")
                   + ".")
        return None
    match = match_name(name, schools, lambda s: s.name)
    if match.found is not None:
        return match.found
    listed = f"Its schools are: {quoted_list([s.name for s in schools[:20]])}."
    if match.ambiguous:
        reader.add(field, f"“{name}” could be {quoted_list([s.name for s in match.ambiguous])}.",
                   "Give more of the school's name.")
    elif match.suggestions:
        reader.add(field, f"“{name}” is not one of {partnership.name}'s schools. Did you mean "
                          f"{quoted_list([s.name for s in match.suggestions])}?", listed)
    else:
        reader.add(field, f"“{name}” is not one of {partnership.name}'s schools.",
                   f"{listed} A school joins with {reader.caller.cmd('partnership join')}.")
    return None


async def school_choices(partnerships: Sequence[Partnership],
                          session: AsyncSession) -> tuple[Choice, ...]:
    schools: dict[int, School] = {}
    for partnership in partnerships:
        assert partnership.id is not None
        for school in await queries.schools_of(session, partnership.id):
            assert school.id is not None
            schools[school.id] = school
    ordered = sorted(schools.values(), key=lambda s: name_key(s.name))
    return tuple(Choice(s.name, str(s.id)) for s in ordered)


def canonical_fields(parsed: Parsed, aliases: Mapping[str, str]) -> dict[str, str]:
    """The fields under their own names, an alias counting as the field it stands for."""
    fields: dict[str, str] = {}
    for key, value in parsed.fields.items():
        name = aliases.get(key, key)
        if name in fields:
            raise ParseError(f"`{name}:` is given twice.", f"Give `{name}:` once.")
        fields[name] = value
    return fields


async def school_field(reader: FieldReader, field: str, label: str, partnership: Partnership,
                       session: AsyncSession, required: bool = False) -> School | None:
    """A school of the partnership: chosen in a form (by its id), or typed by name."""
    assert partnership.id is not None
    raw = reader.values.get(field)
    if reader.from_form:
        if raw is None and not required:
            return None
        school = None
        if isinstance(raw, str) and raw.isdigit():
            school = await learning.school_in_partnership(session, partnership.id, int(raw))
        if school is None:
            reader.add(field, f"Please choose one of {partnership.name}'s schools.")
        return school
    name = reader.text(field, label, MAX_SCHOOL_NAME, required=required)
    if name is None:
        return None
    return await school_of_partnership(reader, field, name, partnership, session)


MAX_SCHOOL_NAME = 200


async def partnerships_in_scope(session: AsyncSession, caller: Caller, name: str,
                                command: str, doing: str) -> list[Partnership]:
    """What a list looks at: the partnership named (if the caller is a member), or all of the
    caller's. `command` is the list command to suggest ("walk list")."""
    if name:
        return [await member_partnership(session, caller, name, command + " {name}")]
    return await partnerships_or_refuse(session, caller, doing)


# --- the flow ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogRequest:
    """`/walk log <partnership> key: value …`: the fields as typed, under their own names."""

    partnership: str
    fields: dict[str, str]
    quiet: bool


@dataclass
class Logged:
    """What a kind's `save` made: the record's title and facts for the person who logged it,
    lines to add below them, and the note for the partnership's channels (never notes about
    staff)."""

    title: str
    facts: list[Fact]
    lines: list[str]
    channel_note: Reply


Draft = TypeVar("Draft")


class LogKind(ABC, Generic[Draft]):
    """A kind of record logged by typing or in a form."""

    command: str  # "walk"
    noun: str  # "walk", as in "Which partnership was the walk for?"
    form_id: str
    fields: tuple[str, ...]
    aliases: Mapping[str, str]
    # Fields whose value is not free text, so a `quiet` after them is the flag, not their words.
    structured: frozenset[str]
    # Who may log it, as in "Only members of a partnership can log learning walks".
    doing: str
    usage: str  # the log's syntax for the manifest's usage hint
    help_heading: str
    help_notes: tuple[str, ...]  # after the examples in the help: the optional fields, …

    @abstractmethod
    def example(self, partnership: str = "East Barnet Area") -> str:
        """A log command that works as typed, e.g. "walk log East Barnet Area school: …"."""

    @abstractmethod
    async def read(self, reader: FieldReader, partnership: Partnership,
                   session: AsyncSession) -> Draft:
        """The record the fields describe. Problems are added to `reader`, which is checked
        (raising them all at once) before the draft is built."""

    @abstractmethod
    async def save(self, draft: Draft, partnership: Partnership, caller: Caller,
                   session: AsyncSession) -> Logged: ...

    @abstractmethod
    async def form(self, mine: Sequence[Partnership], chosen: Partnership | None,
                   caller: Caller, session: AsyncSession) -> Form: ...

    def parse(self, rest: str, caller: Caller) -> LogRequest:
        parsed = parse_fields(rest, [*self.fields, *self.aliases])
        quiet = take_quiet(parsed, self.structured)
        return LogRequest(parsed.positional, canonical_fields(parsed, self.aliases), quiet)

    def has_fields(self, text: str) -> bool:
        """Whether `text` carries any of the log's fields (so "/walk P school: …" is a log)."""
        try:
            return bool(parse_fields(text, [*self.fields, *self.aliases]).fields)
        except ParseError:
            return False


async def log(kind: LogKind[Draft], request: LogRequest, caller: Caller,
              session: AsyncSession) -> Outcome:
    """A typed log; with no fields at all, the form to fill in instead."""
    if not request.fields:
        return await open_form(kind, request.partnership, caller, session)
    if not request.partnership:
        raise ParseError(f"Which partnership was the {kind.noun} for?",
                         f"Write it like this: {caller.cmd(kind.example())}")
    partnership = await member_partnership(session, caller, request.partnership,
                                           f"{kind.command} log {{name}}")
    try:
        draft = await _read(kind, request.fields, False, partnership, caller, session)
    except Invalid as problems:
        raise problems.for_text() from None
    return await _save(kind, draft, partnership, caller, session, request.quiet)


async def submit(kind: LogKind[Draft], values: FormValues, caller: Caller,
                 session: AsyncSession) -> Outcome:
    """A filled-in form; problems go back to be shown beside their fields."""
    try:
        partnership = await form_partnership(session, caller, values.get("partnership"))
        draft = await _read(kind, values, True, partnership, caller, session)
    except Invalid as problems:
        raise problems.for_form() from None
    return await _save(kind, draft, partnership, caller, session, ticked(values, QUIET, QUIET))


async def _read(kind: LogKind[Draft], values: Mapping[str, str | list[str]], from_form: bool,
                partnership: Partnership, caller: Caller, session: AsyncSession) -> Draft:
    reader = FieldReader(dict(values), from_form=from_form, today=today_in_london(),
                         caller=caller, example=kind.example(partnership.name))
    return await kind.read(reader, partnership, session)


async def _save(kind: LogKind[Draft], draft: Draft, partnership: Partnership, caller: Caller,
                session: AsyncSession, quiet: bool) -> Outcome:
    logged = await kind.save(draft, partnership, caller, session)
    posts, where = await note_for_channels(session, partnership, logged.channel_note, quiet)
    lines = [*logged.lines, *([where] if where else [])]
    return Outcome(Reply(title=logged.title,
                         sections=[Section(facts=logged.facts), Section(lines=lines)],
                         tone=Tone.SUCCESS),
                   channel_posts=posts)


async def open_form(kind: LogKind[Draft], partnership_name: str, caller: Caller,
                    session: AsyncSession) -> Outcome:
    """The log form, or (where no form can be shown) the fields to type."""
    mine = await partnerships_or_refuse(session, caller, kind.doing)
    chosen = None
    if partnership_name:
        chosen = await member_partnership(session, caller, partnership_name,
                                          f"{kind.command} log {{name}}")
    form = await kind.form(mine, chosen, caller, session)
    usage = Reply(title=form.title, sections=[Section(lines=[
        f"Write it like this: {caller.cmd(kind.example((chosen or mine[0]).name))}",
        f"{caller.cmd(f'{kind.command} help')} lists the optional fields.",
    ])])
    return Outcome(usage, form=form)


def declare(kind: LogKind[Draft], command: Command) -> None:
    """Declare `/<command> log` (also what the bare command and a command that starts with the
    kind's fields run) and its form's submission, for this kind."""

    async def log_it(request: LogRequest, caller: Caller, session: AsyncSession) -> Outcome:
        return await log(kind, request, caller, session)

    async def submit_it(values: FormValues, context: str, caller: Caller,
                        session: AsyncSession) -> Outcome:
        return await submit(kind, values, caller, session)

    command.subcommand(
        "log", "add", usage=kind.usage, access=Access.MEMBER, parse=kind.parse, default=True,
        implicit_when=kind.has_fields, group=kind.help_heading,
        help=[(kind.command, "a form to fill in"), (kind.example(), ""),
              *(("", note) for note in kind.help_notes)],
    )(log_it)
    form(kind.form_id)(submit_it)


class InPartnership(Protocol):
    """A record read with the partnership it belongs to."""

    @property
    def partnership(self) -> Partnership: ...


Row = TypeVar("Row", bound=InPartnership)


async def for_member(row: Row | None, caller: Caller, session: AsyncSession, what: str,
                     list_command: str) -> Row:
    """A record the caller may see: it exists in their workspace and they are a member of its
    partnership. `what` names it ("learning walk #12"); `list_command` lists what they can."""
    if row is None:
        raise CommandError.because(f"I can't find {what}.",
                                   f"{caller.cmd(list_command)} shows the ones you can see.")
    await require_member(session, caller, row.partnership)
    return row


def partnership_and_quiet_fields(mine: Sequence[Partnership], chosen: Partnership | None,
                                 hint: str, fields: list[FormField]) -> list[FormField]:
    """A log form's fields: the partnership first, the kind's own, "don't post a note" last."""
    return [partnership_field(mine, chosen, hint), *fields, quiet_field()]
