"""What `/walk` and `/cpd` share: one set of rules for reading a record's fields, whether they
were typed (`key: value`) or filled in a form; the caller's partnerships; the form fields both
use; and the short note posted in a partnership's linked channel after a log."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.context import Caller
from handlers.dates import DateError, Prefer, parse_date
from handlers.errors import CommandError
from handlers.forms import Choice, FieldErrors, FieldKind, FormField
from handlers.lookup import find_partnership, quoted_list, require_member
from handlers.mentions import PersonRef, parse_people, plain_text
from handlers.names import match_name, name_key
from handlers.parsing import Parsed, ParseError, parse_fields
from handlers.replies import ChannelPost, Reply
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


def take_quiet(parsed: Parsed, structured: set[str]) -> bool:
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
    # Said once it is out (bot/delivery.py), so a failed post is never claimed.
    return [ChannelPost(partnership.id, note, confirm="A short note went to {channels}.")], None


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


def has_fields(text: str, fields: Sequence[str], aliases: Mapping[str, str]) -> bool:
    """Whether `text` carries any of a log's fields (so "/walk P school: …" is a log)."""
    try:
        return bool(parse_fields(text, [*fields, *aliases]).fields)
    except ParseError:
        return False


def canonical_fields(parsed: Parsed, aliases: Mapping[str, str]) -> dict[str, str]:
    """The fields under their own names, an alias counting as the field it stands for."""
    fields: dict[str, str] = {}
    for key, value in parsed.fields.items():
        name = aliases.get(key, key)
        if name in fields:
            raise ParseError(f"`{name}:` is given twice.", f"Give `{name}:` once.")
        fields[name] = value
    return fields
