"""One flow for the records people log by typing or in a form (learning walks, CPD sessions):
parse -> read and check the fields (one set of rules for typed and form input, every problem
reported at once) -> save -> a short note in the partnership's linked channels.

Each kind of record is a `LogKind`: it supplies only its fields, its rules (`read`), how it is
saved and announced (`save`) and its form; `log`, `submit` and `open_form` here do the rest."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any, Generic, Protocol, TypeVar, cast

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.buttons import ButtonData
from handlers.commands import Access, Command, button, choice_buttons, form
from handlers.context import Caller
from handlers.dates import Ambiguous, DateError, Prefer, format_date, parse_date
from handlers.errors import CommandError
from handlers.examples import today_of
from handlers.forms import Choice, FieldErrors, FieldKind, Form, FormField, FormValues
from handlers.lookup import find_partnership, quoted_list, require_lead, require_member
from handlers.mentions import PersonRef, parse_people, plain_text
from handlers.parsing import Parsed, ParseError, parse_fields, row_number
from handlers.replies import Button, ChannelPost, Fact, Outcome, Reply, Section, Tone
from handlers.schools import pick_among
from handlers.schoolyear import short_date
from storage import changes, learning, queries
from storage.models import AccessRole, ChangeAction, Partnership, School
from storage.names import name_key
from storage.types import LONDON

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
    # A question rather than a refusal: the field's readings, each a value to type instead.
    choices: tuple[str, ...] = ()


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

    def question(self, caller: Caller, command: str,
                 retype: Callable[[str, str], str]) -> CommandError | None:
        """When the one problem is a question ("Thursday 5 February" on a Friday): each reading
        as the command to type (`retype(field, value)`, after the command's name) and a button
        that runs it. None otherwise."""
        if len(self.problems) != 1 or not self.problems[0].choices:
            return None
        asked = self.problems[0]
        commands = [retype(asked.field, choice) for choice in asked.choices]
        return CommandError(Reply(
            title=asked.problem, tone=Tone.WARNING,
            sections=[Section(
                lines=["Which did you mean? Nothing is saved until you choose:",
                       *(caller.cmd(f"{command} {text}") for text in commands)],
                buttons=choice_buttons(command, commands, asked.choices))]))

    def for_form(self) -> FieldErrors:
        errors: dict[str, str] = {}
        for p in self.problems:
            # Modal errors are plain text: code marks would show as backticks.
            text = f"{p.problem} {p.hint}".strip().replace("`", "")
            errors.setdefault(p.field, text[:MAX_FIELD_ERROR])
        return FieldErrors(errors)


class FieldReader:
    """Reads and checks a record's fields, collecting every problem rather than stopping at
    the first. Text values may hold Slack's chat markup (mentions, links, entities).

    Editing a record, `current` holds its fields' values as they are: a field not given keeps
    its value (and is checked with the others, so an edit can't leave the record invalid)."""

    def __init__(self, values: Mapping[str, str | list[str]], *, from_form: bool, today: date,
                 caller: Caller, example: str,
                 current: Mapping[str, object] | None = None) -> None:
        self.values = values
        self.from_form = from_form
        self.today = today
        self.caller = caller
        # The command to show when something required is missing, e.g. "walk log …".
        self.example = caller.cmd(example)
        self.problems: list[Problem] = []
        self.current = current

    def unchanged(self, name: str) -> bool:
        """Editing, and this field was not given: it keeps its value (`kept`)."""
        return self.current is not None and name not in self.values

    def kept(self, name: str) -> Any:
        assert self.current is not None
        return self.current.get(name)

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
        if self.unchanged(name):
            return cast(str | None, self.kept(name))
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
        if self.unchanged(name):
            return cast(date | None, self.kept(name))
        raw = self._raw(name)
        if raw is None:
            if required:
                self._missing(name, label)
            return None
        try:
            return parse_date(self._as_typed(raw), self.today, prefer)
        except Ambiguous as question:
            # Never a guess: each reading, as the field to type instead.
            listed = " or ".join(f"`{name}: {choice}`" for choice in question.choices)
            self.problems.append(Problem(name, date_problem(name, question)[0],
                                         f"Which did you mean? Write {listed}.",
                                         question.choices))
            return None
        except DateError as error:
            self.add(name, *date_problem(name, error))
            return None

    def people(self, name: str, label: str, most: int) -> list[PersonRef]:
        if self.unchanged(name):
            return list(self.kept(name) or [])
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
        if self.unchanged(name):
            return cast(PersonRef | None, self.kept(name))
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
    number = row_number(text)
    if number is None:
        raise ParseError(f"Which {what}? Give its number, as shown in the list.",
                         f"For example {example}")
    return number


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
                            quiet: bool, remember_as: str | None = None,
                            ) -> tuple[list[ChannelPost], str | None]:
    """The post for the partnership's linked channels, and a line saying where it went;
    `remember_as` keeps where it went, to change or withdraw it later."""
    assert partnership.id is not None
    links = await queries.channel_links(session, partnership.id)
    if not links:
        return [], None
    names = ", ".join(f"#{link.channel_name or link.channel_id}" for link in links)
    if quiet:
        return [], f"Nothing was posted in {names} (quiet)."
    # Said once it is out (bot/delivery.py), so a failed post is never claimed.
    return ([ChannelPost(partnership.id, note, remember_as=remember_as,
                         confirm="A short note went to {channels}.")], None)


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
    match = pick_among(name, schools)
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
    if reader.unchanged(field):
        return cast(School | None, reader.kept(field))
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

    record_id: int
    title: str
    facts: list[Fact]
    lines: list[str]
    channel_note: Reply


Draft = TypeVar("Draft")


class LoggedRecord(Protocol):
    """What every logged record has: its number and who logged it, on which platform."""

    id: int | None
    partnership_id: int
    platform: str
    logged_by_user_id: str
    logged_by_name: str


@dataclass(frozen=True)
class Found:
    """A logged record the caller may see, its partnership, and how to name it to a person
    ("learning walk #12 at Monkfrith on Thursday 5 February 2026")."""

    record: LoggedRecord
    partnership: Partnership
    label: str


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
    edit_example: str  # fields for an edit example: "date: 3/12/2026"
    deleted_with: str  # what goes with it: "its notes, walkers and next steps"
    # Fields the audit trail records only as "changed" (notes about staff).
    notes_fields: frozenset[str] = frozenset()

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
                   session: AsyncSession, found: Found | None = None) -> Logged:
        """Save a new record, or (`found`) put the draft into the one found."""

    @abstractmethod
    async def form(self, mine: Sequence[Partnership], chosen: Partnership | None,
                   caller: Caller, session: AsyncSession,
                   current: Mapping[str, object] | None = None) -> Form:
        """The log form; editing, with `current`'s values filled in (fields whose values can't
        be shown in a form are left out, and so keep their values)."""

    @abstractmethod
    async def find(self, session: AsyncSession, caller: Caller, number: int) -> Found:
        """Record `number`, if the caller may see it (for_member); CommandError if not."""

    @abstractmethod
    async def current(self, found: Found, session: AsyncSession) -> dict[str, object]:
        """The record's fields as `read` returns them, for an edit to start from."""

    @abstractmethod
    async def remove(self, found: Found, session: AsyncSession) -> None:
        """Delete the record and what hangs off it."""

    def current_of(self, draft: Draft) -> dict[str, object]:
        """A draft's fields as `current` gives a saved record's, to compare them."""
        return {name: getattr(draft, attribute) for name, attribute in self.draft_fields.items()}

    # Each field's attribute on the draft.
    draft_fields: Mapping[str, str]

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
        asked = problems.question(caller, kind.command,
                                  lambda field, value: _log_text(request, field, value))
        raise (asked or problems.for_text()) from None
    return await _save(kind, draft, partnership, caller, session, request.quiet)


def _log_text(request: LogRequest, field: str, value: str) -> str:
    """The log command for `request` with `field` set to `value`."""
    fields = " ".join(f"{name}: {value if name == field else typed}"
                      for name, typed in request.fields.items())
    return f"log {request.partnership}{' quiet' if request.quiet else ''} {fields}"


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
                partnership: Partnership, caller: Caller, session: AsyncSession,
                current: Mapping[str, object] | None = None) -> Draft:
    reader = FieldReader(dict(values), from_form=from_form, today=today_of(caller.now),
                         caller=caller, example=kind.example(partnership.name), current=current)
    return await kind.read(reader, partnership, session)


async def _save(kind: LogKind[Draft], draft: Draft, partnership: Partnership, caller: Caller,
                session: AsyncSession, quiet: bool) -> Outcome:
    logged = await kind.save(draft, partnership, caller, session)
    posts, where = await note_for_channels(session, partnership, logged.channel_note, quiet,
                                           remember_as=note_key(kind, logged.record_id))
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


CORRECTIONS = "Put it right"


def declare(kind: LogKind[Draft], command: Command) -> None:
    """Declare `/<command> log` (also what the bare command and a command that starts with the
    kind's fields run) and its form's submission, for this kind."""

    async def log_it(request: LogRequest, caller: Caller, session: AsyncSession) -> Outcome:
        return await log(kind, request, caller, session)

    async def submit_it(values: FormValues, context: str, caller: Caller,
                        session: AsyncSession) -> Outcome:
        return await submit(kind, values, caller, session)

    async def edit_it(request: EditRequest, caller: Caller, session: AsyncSession) -> Outcome:
        return await edit(kind, request.number, request.fields, False, caller, session)

    async def delete_it(request: DeleteRequest, caller: Caller,
                        session: AsyncSession) -> Outcome:
        return await delete(kind, request, caller, session)

    async def submit_edit_form(values: FormValues, context: str, caller: Caller,
                               session: AsyncSession) -> Outcome:
        return await submit_edit(kind, values, context, caller, session)

    command.subcommand(
        "log", "add", usage=kind.usage, access=Access.MEMBER, parse=kind.parse, default=True,
        implicit_when=kind.has_fields, group=kind.help_heading,
        help=[(kind.command, "a form to fill in"), (kind.example(), ""),
              *(("", note) for note in kind.help_notes)],
    )(log_it)
    command.subcommand(
        "edit", "change", "correct", usage="edit <n> <field>: <value> …", access=Access.MEMBER,
        parse=_parse_edit(kind), group=CORRECTIONS,
        help=[(f"{kind.command} edit 12 {kind.edit_example}",
               f"put right what was logged (who logged the {kind.noun}, or a lead)")],
    )(edit_it)
    command.subcommand(
        "delete", "remove", usage="delete <n>", access=Access.MEMBER,
        parse=_parse_delete(kind), group=CORRECTIONS,
        help=[(f"{kind.command} delete 12", "delete it, after you confirm")],
    )(delete_it)
    form(kind.form_id)(submit_it)
    form(edit_form_id(kind))(submit_edit_form)
    KINDS[kind.command] = kind


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


def prefill(fields: list[FormField], current: Mapping[str, object] | None,
            shown: Mapping[str, Callable[[Any], str | None]] | None = None) -> list[FormField]:
    """An edit form's fields filled in with the record's values (`shown` turns a kind's own
    values into what the field takes, or None where it can't). A field whose value a form
    can't hold (people known only by a typed name, for a people picker) is left out, and so
    keeps its value."""
    if current is None:
        return fields
    filled = []
    for field in fields:
        value = current.get(field.name)
        initial: str | tuple[str, ...] | None
        if value is None or value == []:
            initial = None
        elif shown and field.name in shown:
            initial = shown[field.name](value)
            if initial is None:
                continue
        elif isinstance(value, date):
            initial = value.isoformat()
        elif isinstance(value, PersonRef | list):
            people = value if isinstance(value, list) else [value]
            ids = tuple(p.user_id for p in people if isinstance(p, PersonRef) and p.user_id)
            if len(ids) != len(people):
                continue
            initial = ids if isinstance(value, list) else ids[0]
        elif isinstance(value, School):
            initial = str(value.id)
        else:
            initial = str(value)
        filled.append(replace(field, initial=initial))
    return filled


def partnership_and_quiet_fields(mine: Sequence[Partnership], chosen: Partnership | None,
                                 hint: str, fields: list[FormField]) -> list[FormField]:
    """A log form's fields: the partnership first, the kind's own, "don't post a note" last."""
    return [partnership_field(mine, chosen, hint), *fields, quiet_field()]


# --- putting right what was logged -------------------------------------------------------------

# Every kind declared, by its command ("walk"), for the edit and delete buttons.
KINDS: dict[str, LogKind[Any]] = {}
# How long a "Delete" confirmation button stays good for.
CONFIRM_WITHIN = timedelta(minutes=15)
# Fields whose old and new values are kept out of the audit trail (notes about staff).
NOTES = "changed"


def note_key(kind: LogKind[Any], record_id: int) -> str:
    """Where the channel note announcing a record is remembered, to change or withdraw it."""
    return f"{kind.command}:{record_id}:note"


@dataclass(frozen=True)
class EditRequest:
    number: int
    fields: dict[str, str]


@dataclass(frozen=True)
class DeleteRequest:
    number: int
    confirmed: bool  # typed `confirm` (where there are no buttons, as in the shell)


@dataclass(frozen=True)
class EditRecord(ButtonData, kind="record.edit"):
    """"Edit" on a walk or CPD session: opens its form, filled in."""

    record_kind: str
    record_id: int


@dataclass(frozen=True)
class DeleteRecord(ButtonData, kind="record.delete"):
    """"Delete" on a record (asks first), then "Delete it" (for the person who asked, for a
    while) or "Keep it"."""

    record_kind: str
    record_id: int
    confirmed: bool = False
    user_id: str = ""
    issued: int = 0  # when it was asked, in seconds since 1970


def _parse_edit(kind: LogKind[Any]) -> Callable[[str, Caller], EditRequest]:
    def parse(rest: str, caller: Caller) -> EditRequest:
        example = caller.cmd(f"{kind.command} edit 12 {kind.edit_example}")
        parsed = parse_fields(rest, [*kind.fields, *kind.aliases])
        number, _, extra = parsed.positional.partition(" ")
        if extra.strip() or not parsed.fields:
            editable = ", ".join(f"`{f}:`" for f in kind.fields)
            if ":" in extra:
                problem = f"I can't change `{extra.split(':')[0].strip()}:` on a {kind.noun}."
            else:
                problem = f"What should I change on the {kind.noun}?"
            raise ParseError(problem, f"You can change {editable}. For example {example}")
        return EditRequest(parse_id(number, kind.noun, example),
                           canonical_fields(parsed, kind.aliases))

    return parse


def _parse_delete(kind: LogKind[Any]) -> Callable[[str, Caller], DeleteRequest]:
    def parse(rest: str, caller: Caller) -> DeleteRequest:
        words = rest.split()
        confirmed = bool(words) and words[-1].lower() == "confirm"
        number = " ".join(words[:-1] if confirmed else words)
        return DeleteRequest(parse_id(number, kind.noun, caller.cmd(f"{kind.command} delete 12")),
                             confirmed)

    return parse


async def may_change(found: Found, caller: Caller, session: AsyncSession, doing: str) -> None:
    """Who logged a record may change it; so may a lead of its partnership. Nobody else."""
    record = found.record
    if (record.platform, record.logged_by_user_id) == (caller.platform, caller.user_id):
        return
    await require_lead(session, caller, found.partnership,
                       f"{doing} a record someone else logged ({record.logged_by_name} "
                       f"logged {found.label})")


async def edit(kind: LogKind[Draft], number: int, values: Mapping[str, str | list[str]],
               from_form: bool, caller: Caller, session: AsyncSession) -> Outcome:
    """Change some of a record's fields: the others keep their values, and all are checked with
    the rules of logging, so an edit can't leave a record that could not have been logged."""
    found = await kind.find(session, caller, number)
    await may_change(found, caller, session, "change")
    before = await kind.current(found, session)
    reader = FieldReader(values, from_form=from_form, today=today_of(caller.now), caller=caller,
                         example=f"{kind.command} edit {number} {kind.edit_example}",
                         current=before)
    try:
        draft = await kind.read(reader, found.partnership, session)
    except Invalid as problems:
        raise (problems.for_form() if from_form else problems.for_text()) from None
    after = kind.current_of(draft)
    changed = {name: _change(name, before.get(name), after.get(name), kind)
               for name in kind.fields if _shown(before.get(name)) != _shown(after.get(name))}
    if not changed:
        return Outcome(Reply(title=f"Nothing to change: {found.label} already says that."))
    logged = await kind.save(draft, found.partnership, caller, session, found)
    assert found.partnership.id is not None
    changes.add(session, partnership_id=found.partnership.id, kind=kind.command,
                record_id=number, action=ChangeAction.EDITED, changes=changed,
                platform=caller.platform, user_id=caller.user_id, name=caller.user_name)
    lines = [f"Changed: {', '.join(changed)}.", *logged.lines]
    return Outcome(
        Reply(title=f"Updated {found.label}", tone=Tone.SUCCESS,
              sections=[Section(facts=logged.facts), Section(lines=lines)]),
        channel_posts=[ChannelPost(found.partnership.id, logged.channel_note,
                                   edit_of=note_key(kind, number))],
    )


def _shown(value: object) -> str:
    """A field's value as the audit trail shows it."""
    if value is None:
        return ""
    shown = getattr(value, "shown", None)  # a kind's own value that says how it reads
    if isinstance(shown, str):
        return shown
    if isinstance(value, list | tuple):
        return ", ".join(_shown(v) for v in value)
    if isinstance(value, date):
        return format_date(value)
    if isinstance(value, PersonRef):
        return value.label()
    name = getattr(value, "name", None)  # a school, a theme, a person
    return str(name) if isinstance(name, str) else str(value)


def _change(name: str, old: object, new: object, kind: LogKind[Any]) -> object:
    return NOTES if name in kind.notes_fields else [_shown(old), _shown(new)]


async def delete(kind: LogKind[Any], request: DeleteRequest, caller: Caller,
                 session: AsyncSession) -> Outcome:
    found = await kind.find(session, caller, request.number)
    await may_change(found, caller, session, "delete")
    if request.confirmed:
        return await _delete(kind, found, caller, session)
    asked = DeleteRecord(kind.command, request.number, True, caller.user_id,
                         int(caller.now.timestamp()))
    return Outcome(Reply(
        title=f"Delete {found.label}? This cannot be undone.", tone=Tone.WARNING,
        sections=[Section(lines=[
            f"It goes with everything recorded on it ({kind.deleted_with}); the partnership's "
            "counts no longer include it, and the note in its channel is withdrawn.",
            "No buttons here? Type "
            + caller.cmd(f"{kind.command} delete {request.number} confirm") + ".",
        ], buttons=[Button("Delete it", asked, "danger"),
                    Button("Keep it", DeleteRecord(kind.command, request.number, False,
                                                   caller.user_id))])]))


async def _delete(kind: LogKind[Any], found: Found, caller: Caller,
                  session: AsyncSession) -> Outcome:
    assert found.partnership.id is not None and found.record.id is not None
    record_id = found.record.id
    await kind.remove(found, session)
    changes.add(session, partnership_id=found.partnership.id, kind=kind.command,
                record_id=record_id, action=ChangeAction.DELETED,
                changes={"was": found.label}, platform=caller.platform,
                user_id=caller.user_id, name=caller.user_name)
    return Outcome(
        Reply.success(f"Deleted {found.label}.",
                      "Its note in the partnership's channel is withdrawn."),
        channel_posts=[ChannelPost(found.partnership.id, Reply(title=f"Withdrawn: {found.label}"),
                                   withdraw_of=note_key(kind, record_id))],
        updated_message=Reply(title=f"Deleted {found.label}."),
    )


@button(DeleteRecord)
async def delete_button(pressed: DeleteRecord, caller: Caller,
                        session: AsyncSession) -> Outcome:
    kind = KINDS.get(pressed.record_kind)
    if kind is None:
        raise CommandError(out_of_date_reply(caller))
    if not pressed.confirmed:
        if pressed.user_id:  # "Keep it"
            return Outcome(Reply(title="Nothing was deleted."),
                           updated_message=Reply(title="Kept: nothing was deleted."))
        return await delete(kind, DeleteRequest(pressed.record_id, False), caller, session)
    again = caller.cmd(f"{kind.command} delete {pressed.record_id}")
    if pressed.user_id != caller.user_id:
        raise CommandError.because("This button is for the person who asked to delete it.",
                                   f"To delete it yourself, use {again}.")
    if caller.now.timestamp() - pressed.issued > CONFIRM_WITHIN.total_seconds():
        raise CommandError.because("That confirmation has expired, so nothing was deleted.",
                                   f"Ask again with {again}.")
    found = await kind.find(session, caller, pressed.record_id)
    await may_change(found, caller, session, "delete")
    return await _delete(kind, found, caller, session)


@button(EditRecord)
async def edit_button(pressed: EditRecord, caller: Caller, session: AsyncSession) -> Outcome:
    kind = KINDS.get(pressed.record_kind)
    if kind is None:
        raise CommandError(out_of_date_reply(caller))
    return await open_edit_form(kind, pressed.record_id, caller, session)


async def open_edit_form(kind: LogKind[Any], number: int, caller: Caller,
                         session: AsyncSession) -> Outcome:
    """The log form filled in with the record as it is; where no form can be shown, how to
    type the change instead."""
    found = await kind.find(session, caller, number)
    await may_change(found, caller, session, "change")
    current = await kind.current(found, session)
    form = await kind.form([found.partnership], found.partnership, caller, session, current)
    # The partnership stays; the fields shown are the ones the submission sets (an emptied box
    # clears that field), the others keep their values.
    form.fields = [f for f in form.fields if f.name not in ("partnership", QUIET)]
    form.form_id = edit_form_id(kind)
    form.title = f"Edit {kind.noun} #{number}"[:24]
    form.submit_label = "Save changes"
    form.context = json.dumps({"id": number, "fields": [f.name for f in form.fields]})
    usage = Reply(title=f"Change {found.label}", sections=[Section(lines=[
        "Give only what changes, for example "
        + caller.cmd(f"{kind.command} edit {number} {kind.edit_example}") + ".",
        "Fields: " + ", ".join(f"`{f}:`" for f in kind.fields) + ".",
    ])])
    return Outcome(usage, form=form)


def edit_form_id(kind: LogKind[Any]) -> str:
    return f"{kind.form_id}.edit"


async def submit_edit(kind: LogKind[Any], values: FormValues, context: str, caller: Caller,
                      session: AsyncSession) -> Outcome:
    try:
        data = json.loads(context)
        number, shown = int(data["id"]), [str(f) for f in data["fields"]]
    except (ValueError, KeyError, TypeError):
        raise CommandError(out_of_date_reply(caller)) from None
    # Every box the form showed was given, emptied or not.
    given: FormValues = {name: values.get(name, "") for name in shown}
    return await edit(kind, number, given, True, caller, session)


async def history_line(session: AsyncSession, kind: LogKind[Any], number: int) -> str | None:
    """ "Edited twice, last by Ann Smith on 2 Dec 2026." for a record that was changed."""
    edits = [c for c in await changes.history(session, kind.command, number)
             if c.action == ChangeAction.EDITED]
    if not edits:
        return None
    times = {1: "once", 2: "twice"}.get(len(edits), f"{len(edits)} times")
    last = edits[-1]
    return (f"Edited {times}, last by {last.by_name} on "
            f"{short_date(last.changed_at.astimezone(LONDON).date())}.")


async def change_buttons(kind: LogKind[Any], record: LoggedRecord, partnership: Partnership,
                         caller: Caller, session: AsyncSession) -> list[Button]:
    """Edit and Delete, for those who may change the record (may_change)."""
    assert record.id is not None and partnership.id is not None
    if (record.platform, record.logged_by_user_id) != (caller.platform, caller.user_id):
        member = await queries.member(session, partnership.id, caller.platform, caller.user_id)
        if member is None or member.access_role != AccessRole.LEAD:
            return []
    return [Button("Edit", EditRecord(kind.command, record.id)),
            Button("Delete", DeleteRecord(kind.command, record.id), "danger")]


def out_of_date_reply(caller: Caller) -> Reply:
    return Reply.error("That button is out of date.",
                       f"Please use the command again; {caller.cmd('partnership help')} lists "
                       "them all.")
