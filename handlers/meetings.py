"""`/meeting`: schedule a partnership's meetings, collect replies, hand out calendar invites and
queue the reminders that the outbox (bot/scheduler.py) posts in the partnership's channels."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import examples
from handlers.bankholidays import REGION, bank_holiday, next_working_day
from handlers.buttons import ButtonData
from handlers.calendar import invite
from handlers.commands import Access, Command, HelpLine, button, choice_buttons, form
from handlers.context import Caller
from handlers.dates import (
    Ambiguous,
    DateError,
    TimeRange,
    format_date,
    format_time_range,
    parse_date,
    parse_when,
)
from handlers.errors import CommandError
from handlers.forms import Choice, FieldErrors, FieldKind, Form, FormField, FormValues
from handlers.links import add_to_calendar
from handlers.logbook import member_partnership, my_partnerships
from handlers.lookup import find_partnership, require_lead, require_member
from handlers.parsing import FieldProblem, ParseError, check_length, parse_fields, row_number
from handlers.replies import Button, ChannelPost, Fact, Outcome, Reply, Section, Tone, Visibility
from storage import actions, outbox, queries
from storage.models import (
    AccessRole,
    AgendaItem,
    DeliveryStatus,
    Meeting,
    MeetingMinutes,
    MeetingSettings,
    MeetingStatus,
    MinutesStatus,
    Partnership,
    Rsvp,
    RsvpAnswer,
)
from storage.names import tidy_name
from storage.types import LONDON

SCHEDULE_FORM = "meeting.schedule"
APOLOGIES_FORM = "meeting.apologies"
REMINDER_KIND = "reminder"
AGENDA_KIND = "agenda"
AGENDA_FORM = "meeting.agenda"
# The reminder that agenda items close goes out at this local time the day before.
AGENDA_REMINDER_AT = time(9, 0)

DEFAULT_REMINDERS = (24 * 60, 60)  # minutes before: 1 day and 1 hour
MAX_REMINDERS = 5
SHORTEST_REMINDER, LONGEST_REMINDER = 5, 4 * 7 * 24 * 60
# A reminder posted this long after its time says "(delayed)".
LATE_AFTER = timedelta(minutes=2)
MAX_TITLE, MAX_WHERE, MAX_ITEM, MAX_ITEMS = 200, 500, 500, 30
MAX_REASON = 300
NAMES_SHOWN = 12

ANSWER_LABELS = {
    RsvpAnswer.GOING: "Going",
    RsvpAnswer.NOT_GOING: "Can't make it",
    RsvpAnswer.MAYBE: "Maybe",
}


def when_example(caller: Caller) -> str:
    """A meeting time that is right on the day it is shown: "Thursday 10th December
    11.30am-12.30pm" (handlers/examples.py)."""
    return examples.meeting_when(examples.today_of(caller.now))


# How each answer is typed (`/meeting reply 12 going`), as the shell's cards say.
TYPED_ANSWERS = {
    RsvpAnswer.GOING: "going",
    RsvpAnswer.NOT_GOING: "apologies: <reason>",
    RsvpAnswer.MAYBE: "maybe",
}


# --- typed requests -------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleRequest:
    partnership: str
    when: str
    where: str | None
    agenda: tuple[str, ...]
    title: str | None
    agenda_by: str | None = None  # as typed: read once the meeting's day is known


@dataclass(frozen=True)
class ScheduleFormRequest:
    """`/meeting schedule` without its fields: open the form (the partnership if named)."""

    partnership: str


@dataclass(frozen=True)
class ListRequest:
    partnership: str | None


@dataclass(frozen=True)
class WhoRequest:
    meeting_id: int


@dataclass(frozen=True)
class CancelRequest:
    meeting_id: int
    reason: str | None


@dataclass(frozen=True)
class MoveRequest:
    meeting_id: int
    when: str


@dataclass(frozen=True)
class AgendaRequest:
    meeting_id: int
    add: str | None  # None: show the agenda


@dataclass(frozen=True)
class ReplyRequest:
    """`/meeting reply <n> going|maybe|apologies [reason]`: what the buttons do, typed."""

    meeting_id: int
    answer: RsvpAnswer
    reason: str | None


@dataclass(frozen=True)
class EditRequest:
    """`/meeting edit <n> agenda by: <date>` (or `none`)."""

    meeting_id: int
    agenda_by: str


@dataclass(frozen=True)
class SettingsRequest:
    partnership: str
    timezone: str | None
    reminders: str | None


SCHEDULE_FIELDS = ("when", "where", "agenda", "agenda by", "title")

meeting = Command("meeting",
                  "Schedule partnership meetings, collect replies, send invites and reminders",
                  "Meetings: schedule them, collect replies, and remind the channel",
                  notes=lambda caller: [
                      f"Times: `{examples.meeting_when_numeric(examples.today_of(caller.now))}`, "
                      f"`{when_example(caller)}`, `{examples.MEETING_RELATIVE}`, "
                      "`tomorrow at 4` (a time without am or pm is in school hours, 7am to 7pm). "
                      "Dates are day first; times are UK time unless the partnership has another "
                      "time zone. Where what you typed could mean two dates, I ask.",
                      "A partnership's meetings are for its members: only they see their "
                      "details, schedule, move or cancel them. Anyone in the channel may press a "
                      "reply button; replies from outside the partnership are shown apart, as "
                      "guests'.",
                  ])


@dataclass(frozen=True)
class AddAgendaItem(ButtonData, kind="meeting.agenda_add"):
    """"Add an agenda item" on a meeting's card and on the call for items: opens a small form."""

    meeting_id: int


@dataclass(frozen=True)
class MeetingRsvp(ButtonData, kind="meeting.rsvp"):
    """Going / Can't make it / Maybe on a meeting's card."""

    meeting_id: int
    answer: RsvpAnswer

    @classmethod
    def from_legacy(cls, value: str) -> MeetingRsvp | None:
        number, _, answer = value.partition(":")
        try:
            return cls(int(number), RsvpAnswer(answer))
        except ValueError:
            return None


@dataclass(frozen=True)
class MoveOffHoliday(ButtonData, kind="meeting.off_holiday"):
    """"Move to Tue 1 Sep" under the warning that a meeting falls on a bank holiday: moves
    that version of the meeting (`sequence`) to `when`, as `/meeting move` would."""

    meeting_id: int
    sequence: int
    when: str


# --- parsing --------------------------------------------------------------------------------


def parse_schedule(rest: str, caller: Caller) -> ScheduleRequest | ScheduleFormRequest:
    parsed = parse_fields(rest, SCHEDULE_FIELDS)
    if not parsed.fields:
        return ScheduleFormRequest(tidy_name(parsed.positional))
    return schedule_request(parsed.positional, parsed.fields, caller)


def parse_list(rest: str, caller: Caller) -> ListRequest:
    return ListRequest(tidy_name(rest) or None)


def parse_who(rest: str, caller: Caller) -> WhoRequest:
    return WhoRequest(_meeting_number(rest, "who", caller))


def parse_cancel(rest: str, caller: Caller) -> CancelRequest:
    parsed = parse_fields(rest, ["reason"])
    reason = parsed.get("reason")
    check_length("reason", reason, MAX_WHERE)
    return CancelRequest(_meeting_number(parsed.positional, "cancel", caller), reason)


def parse_move(rest: str, caller: Caller) -> MoveRequest:
    parsed = parse_fields(rest, ["when"])
    number = _meeting_number(parsed.positional, "move", caller)
    when = parsed.get("when")
    if when is None:
        example = caller.cmd(f"meeting move {number} when: {when_example(caller)}")
        raise FieldProblem("when", "Please say when the meeting moves to, with `when:`.",
                           f"For example {example}.")
    return MoveRequest(number, when)


def parse_agenda(rest: str, caller: Caller) -> AgendaRequest:
    parsed = parse_fields(rest, ["add"])
    number = _meeting_number(parsed.positional, "agenda", caller)
    if "add" in parsed.fields and not parsed.get("add"):
        example = caller.cmd(f"meeting agenda {number} add: SEND update")
        raise FieldProblem("add", "What should I add to the agenda?", f"For example {example}.")
    item = parsed.get("add")
    check_length("agenda item", item, MAX_ITEM)
    return AgendaRequest(number, item)


# What people type for each answer, longest first so "can't make it" wins over "can't".
_ANSWER_WORDS: dict[RsvpAnswer, tuple[str, ...]] = {
    RsvpAnswer.NOT_GOING: (
        "can't make it", "cant make it", "cannot make it", "can not make it", "can't come",
        "cant come", "cannot come", "not going", "not coming", "can't", "cant", "cannot",
        "apologies", "apology", "apols", "sorry", "decline", "no", "n"),
    RsvpAnswer.GOING: ("i'm going", "im going", "i'll be there", "going", "attending",
                       "coming", "accept", "yes", "yep", "y"),
    RsvpAnswer.MAYBE: ("not sure", "maybe", "perhaps", "possibly", "tentative", "might"),
}
_ANSWER_PATTERN = re.compile(
    r"(?P<words>" + "|".join(re.escape(w) for w in sorted(
        (w for words in _ANSWER_WORDS.values() for w in words), key=len, reverse=True))
    + r")(?=$|[\s:,.;!–—-])(?P<rest>.*)", re.IGNORECASE | re.DOTALL)


def read_answer(text: str) -> tuple[RsvpAnswer, str | None] | None:
    """"apologies: Ofsted call" -> (not going, "Ofsted call"); None when no answer is there."""
    words = text.strip().replace("’", "'").replace("‘", "'")
    match = _ANSWER_PATTERN.match(words)
    if match is None:
        return None
    said = " ".join(match["words"].lower().split())
    answer = next(a for a, known in _ANSWER_WORDS.items() if said in known)
    reason = tidy_name(re.sub(r"^[\s:,.;!–—-]+", "", match["rest"])) or None
    return answer, reason


def parse_reply(rest: str, caller: Caller) -> ReplyRequest:
    parsed = parse_fields(rest, ["reason"])
    number_text, _, answer_text = parsed.positional.partition(" ")
    number = _meeting_number(number_text, "reply", caller)
    example = caller.cmd(f"meeting reply {number} apologies: Ofsted call")
    found = read_answer(answer_text)
    if found is None:
        shown = f"I can't tell whether “{answer_text.strip()}” means going, maybe or " \
                "apologies." if answer_text.strip() else "What is your reply?"
        raise ParseError(shown, f"Type {caller.cmd(f'meeting reply {number} going')}, "
                         f"{caller.cmd(f'meeting reply {number} maybe')} or {example} "
                         "(yes, no and can't work too).")
    answer, reason = found
    given = parsed.get("reason")
    if given and reason:
        raise ParseError("Please give the reason once.", f"For example {example}.")
    reason = tidy_name(given or "") or reason
    if reason and answer is not RsvpAnswer.NOT_GOING:
        raise ParseError(f"A reason goes with apologies, and you said {ANSWER_LABELS[answer]}.",
                         f"To send apologies with a reason, type {example}.")
    check_length("reason", reason, MAX_REASON)
    return ReplyRequest(number, answer, reason)


def parse_edit(rest: str, caller: Caller) -> EditRequest:
    parsed = parse_fields(rest, ["agenda by"])
    number = _meeting_number(parsed.positional, "edit", caller)
    agenda_by = parsed.get("agenda by")
    if agenda_by is None:
        raise ParseError("What should change? I can set the deadline for agenda items.",
                         f"For example {caller.cmd(f'meeting edit {number} agenda by: Friday')}"
                         f", or `agenda by: none` to remove it. To move the meeting, "
                         f"{caller.cmd(f'meeting move {number} when: …')}.")
    return EditRequest(number, agenda_by)


def parse_settings(rest: str, caller: Caller) -> SettingsRequest:
    parsed = parse_fields(rest, ["timezone", "time zone", "reminders"])
    if not parsed.positional:
        raise ParseError("Which partnership's meeting settings?",
                         f"For example {caller.cmd('meeting settings East Barnet Area')}.")
    return SettingsRequest(tidy_name(parsed.positional),
                           parsed.get("timezone") or parsed.get("time zone"),
                           parsed.get("reminders"))


def schedule_request(partnership: str, fields: dict[str, str], caller: Caller) -> ScheduleRequest:
    """The checks a schedule shares between the text command and the form."""
    partnership = tidy_name(partnership)
    example = caller.cmd(f"meeting schedule {partnership or 'East Barnet Area'} "
                         f"when: {when_example(caller)}")
    if not partnership:
        raise FieldProblem("partnership", "Which partnership is the meeting for?",
                           f"Write it like this: {example}.")
    when = (fields.get("when") or "").strip()
    if not when:
        raise FieldProblem("when", "Please say when the meeting is, with `when:`.",
                           f"Write it like this: {example}.")
    where = tidy_name(fields.get("where") or "") or None
    title = tidy_name(fields.get("title") or "") or None
    check_length("place", where, MAX_WHERE, field="where")
    check_length("title", title, MAX_TITLE, field="title")
    agenda_by = (fields.get("agenda by") or "").strip() or None
    return ScheduleRequest(partnership, when, where, split_agenda(fields.get("agenda") or ""),
                           title, agenda_by)


def split_agenda(text: str) -> tuple[str, ...]:
    """Items separated by `;` or new lines, numbering ("1." or "2)") dropped."""
    items = []
    for part in re.split(r"[;\n]", text):
        item = tidy_name(re.sub(r"^\s*(?:\d+[.)]|[-*•])\s*", "", part))
        if item:
            check_length("agenda item", item, MAX_ITEM, field="agenda")
            items.append(item)
    if len(items) > MAX_ITEMS:
        raise FieldProblem("agenda", f"That agenda has {len(items)} items; the most is "
                           f"{MAX_ITEMS}.", "Group some items together.")
    return tuple(items)


def _meeting_number(text: str, verb: str, caller: Caller) -> int:
    number = row_number(text)
    if number is None:
        shown = f"“{text.strip()}” is not a meeting number." if text.strip() else \
            "Which meeting? Give its number."
        raise ParseError(shown, f"For example {caller.cmd(f'meeting {verb} 12')}; "
                         f"{caller.cmd('meeting list')} shows the numbers.")
    return number


_REMINDER = re.compile(
    r"(?P<n>\d+|an?|one|two|three|four|five|six|seven)\s*"
    r"(?P<unit>minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|wks?|w)(?:\s+before)?"
)
_WORD_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
                 "six": 6, "seven": 7}
_UNIT_MINUTES = {"m": 1, "h": 60, "d": 24 * 60, "w": 7 * 24 * 60}


def parse_reminders(text: str, caller: Caller) -> tuple[int, ...]:
    """"1 day, 1 hour" -> (1440, 60): minutes before the start, largest first."""
    example = caller.cmd("meeting settings East Barnet Area reminders: 1 day, 1 hour")
    words = " ".join(text.lower().split())
    if words in ("none", "off", "no", "never"):
        return ()
    minutes: set[int] = set()
    for part in re.split(r"\s*(?:,|;|\band\b|\+)\s*", words):
        if not part:
            continue
        match = _REMINDER.fullmatch(part)
        if match is None:
            raise ParseError(f"I couldn't read “{part}” as a time before the meeting.",
                             f"Write it like {example}, or `reminders: none`.")
        count = _WORD_NUMBERS.get(match["n"]) or int(match["n"])
        value = count * _UNIT_MINUTES[match["unit"][0]]
        if not SHORTEST_REMINDER <= value <= LONGEST_REMINDER:
            raise ParseError(f"“{part}” is outside what I can do: reminders go from 5 minutes "
                             "to 4 weeks before.", f"For example {example}.")
        minutes.add(value)
    if len(minutes) > MAX_REMINDERS:
        raise ParseError(f"That is {len(minutes)} reminders; the most is {MAX_REMINDERS}.",
                         f"For example {example}.")
    return tuple(sorted(minutes, reverse=True))


def describe_minutes(minutes: int) -> str:
    """1440 -> "1 day", 90 -> "1 hour 30 minutes"."""
    parts = []
    for unit, size in (("week", 7 * 24 * 60), ("day", 24 * 60), ("hour", 60), ("minute", 1)):
        count, minutes = divmod(minutes, size)
        if count:
            parts.append(f"{count} {unit}{'s' if count != 1 else ''}")
    return " ".join(parts) or "0 minutes"


def describe_reminders(minutes: Sequence[int]) -> str:
    if not minutes:
        return "no reminders"
    names = [describe_minutes(m) for m in minutes]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"{listed} before"


# --- handling -------------------------------------------------------------------------------


def timezone_of(partnership: Partnership) -> ZoneInfo:
    try:
        return ZoneInfo(partnership.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return LONDON


async def reminder_minutes(session: AsyncSession, partnership_id: int) -> tuple[int, ...]:
    found = await queries.meeting_settings(session, partnership_id)
    return minutes_set(None if found is None else found.reminder_minutes)


def minutes_set(setting: str | None) -> tuple[int, ...]:
    """The reminder times a partnership's setting gives ("1440,60"), or the default."""
    if setting is None:
        return DEFAULT_REMINDERS
    return tuple(int(m) for m in setting.split(",") if m.strip())


async def schedule_form(request: ScheduleFormRequest, caller: Caller,
                        session: AsyncSession) -> Outcome:
    mine = await my_partnerships(session, caller)
    chosen = None
    if request.partnership:
        chosen = await member_partnership(session, caller, request.partnership,
                                          "meeting schedule {name}")
    if not mine:
        raise CommandError.because(
            "You can only schedule meetings for partnerships you are in, and you are in none.",
            f"Join one with {caller.cmd('partnership join <partnership> school: <your school>')}.",
        )
    if chosen is None and len(mine) == 1:
        chosen = mine[0]
    example = f"meeting schedule {chosen.name if chosen else 'East Barnet Area'} when: " \
              f"{when_example(caller)}"
    form = Form(
        form_id=SCHEDULE_FORM,
        title="Schedule a meeting",
        submit_label="Schedule",
        intro="It is posted in the partnership's channel with reply buttons and a calendar "
              "invite; reminders follow.",
        fields=[
            FormField("partnership", "Partnership", FieldKind.SELECT, required=True,
                      choices=tuple(Choice(p.name, p.name) for p in mine),
                      initial=chosen.name if chosen else None),
            FormField("when", "When", required=True, max_length=200,
                      placeholder=when_example(caller),
                      hint="Day first, in UK time: "
                           f"{examples.meeting_when_numeric(examples.today_of(caller.now))}, "
                           f"or {examples.MEETING_RELATIVE}."),
            FormField("where", "Where", max_length=MAX_WHERE,
                      placeholder="A school and room, or a video call link"),
            FormField("title", "Title", max_length=MAX_TITLE,
                      placeholder="Heads' network meeting"),
            FormField("agenda", "Agenda", FieldKind.LONG_TEXT, max_length=3000,
                      hint="One item per line, or separated by semicolons."),
            FormField("agenda by", "Agenda items by", FieldKind.DATE,
                      hint="Optional: the channel is asked for items, reminded the day before; "
                           "after it only leads add items."),
        ],
    )
    return Outcome(
        Reply(title="Let's schedule a meeting.", sections=[Section(lines=[
            f"Give the details in one line: {caller.cmd(example)}."])]),
        form=form,
    )


@form(SCHEDULE_FORM)
async def submit_schedule_form(values: FormValues, context: str, caller: Caller,
                               session: AsyncSession) -> Outcome:
    fields = {k: v if isinstance(v, str) else "\n".join(v) for k, v in values.items()}
    try:
        request = schedule_request(fields.get("partnership", ""), fields, caller)
        return await schedule(request, caller, session)
    except FieldProblem as problem:
        raise FieldErrors({problem.field: _plain(problem.problem, *problem.hints)}) from None
    except WhenQuestion as question:
        raise FieldErrors({"when": _plain(question.reply.title, "Which did you mean? Write",
                                          " or ".join(question.choices) + ".")}) from None
    except CommandError as error:
        raise FieldErrors({"partnership": _plain(error.reply.plain_text())}) from None


def _plain(*texts: str) -> str:
    """Form errors are plain text: no code spans."""
    return " ".join(t.replace("`", "") for t in texts if t).replace("\n", " ")


class WhenQuestion(CommandError):
    """What was typed could mean two times: the question, each reading as a command to use
    (and a button that runs it). Nothing is saved until one is chosen."""

    def __init__(self, reply: Reply, choices: tuple[str, ...]) -> None:
        super().__init__(reply)
        self.choices = choices


def _parse_when(text: str, caller: Caller, tz: ZoneInfo,
                retype: Callable[[str], str]) -> TimeRange:
    """The meeting's time; `retype(when)` is the command (after `meeting `) with another
    `when:`, for the readings of a question."""
    try:
        return parse_when(text, caller.now, tz)
    except Ambiguous as question:
        commands = [retype(choice) for choice in question.choices]
        reply = Reply(
            title=question.problem, tone=Tone.WARNING,
            sections=[Section(
                lines=["Which did you mean? Nothing is saved until you choose:",
                       *(caller.cmd(f"meeting {command}") for command in commands)],
                buttons=choice_buttons("meeting", commands, question.choices))])
        raise WhenQuestion(reply, question.choices) from None
    except DateError as error:
        raise FieldProblem("when", error.problem, error.hint,
                           f"For example `when: {when_example(caller)}`.") from None


@meeting.subcommand(
    "schedule", "new", "add", usage="schedule <partnership> when: <date and time>",
    access=Access.MEMBER, parse=parse_schedule, group="Meetings",
    help=[HelpLine(lambda c: f"meeting schedule East Barnet Area when: {when_example(c)} "
                             "where: Monkfrith agenda: Welcome; SEND update",
                   lambda c: "post it in the partnership's channel with reply buttons and a "
                             f"calendar invite (just {c.cmd('meeting schedule')} opens a form)")])
async def schedule_command(request: ScheduleRequest | ScheduleFormRequest, caller: Caller,
                           session: AsyncSession) -> Outcome:
    if isinstance(request, ScheduleFormRequest):
        return await schedule_form(request, caller, session)
    return await schedule(request, caller, session)


async def schedule(request: ScheduleRequest, caller: Caller, session: AsyncSession) -> Outcome:
    partnership = await find_partnership(
        session, caller, request.partnership,
        example="meeting schedule {name} when: " + when_example(caller))
    await require_member(session, caller, partnership)
    assert partnership.id is not None
    tz = timezone_of(partnership)
    when = _parse_when(request.when, caller, tz, lambda w: _schedule_text(request, w))
    agenda_by = None if request.agenda_by is None else \
        _agenda_deadline(request.agenda_by, caller, tz, when.start)
    meeting = Meeting(
        partnership_id=partnership.id, uid=f"{uuid.uuid4()}@partnership-bot",
        title=request.title or f"{partnership.name} meeting", starts_at=when.start,
        ends_at=when.end, timezone=tz.key, location=request.where, created_by=caller.user_id,
        agenda_by=agenda_by,
    )
    session.add(meeting)
    await session.flush()
    assert meeting.id is not None
    for position, text in enumerate(request.agenda, start=1):
        session.add(AgendaItem(meeting_id=meeting.id, position=position, text=text,
                               added_by=caller.user_id))
    await session.flush()
    queued = await sync_reminders(session, meeting, caller.now)
    agenda_reminder = await sync_agenda_reminder(session, meeting, caller.now)
    links = await queries.channel_links(session, partnership.id)
    card = await meeting_card(session, meeting, partnership)
    agenda_items = await queries.agenda_of(session, meeting.id)
    lines = [f"Number {meeting.id}: {caller.cmd(f'meeting who {meeting.id}')} shows replies."]
    if not links:
        lines.append(f"{partnership.name} has no channel yet, so no one else has been told. "
                     f"Link one with {caller.cmd('partnership channel ' + partnership.name)}; "
                     "reminders will go there.")
    lines.append(_reminder_line(queued, await reminder_minutes(session, partnership.id)))
    lines.extend(when.notes)
    posts = [ChannelPost(partnership.id, card, remember_as=card_key(meeting.id),
                         attachment=invite(meeting, partnership.name, agenda_items, caller.now),
                         confirm="Posted in {channels} with reply buttons and “Add to "
                                 "calendar”.")]
    if meeting.agenda_by is not None:
        lines.append(_agenda_line(meeting, agenda_reminder))
        posts.append(ChannelPost(partnership.id, agenda_call(meeting, partnership)))
    reply = Reply.success(f"Scheduled {meeting.title}: {_when(meeting)}.", *lines)
    reply.sections += _holiday_warning(meeting, caller)
    return Outcome(reply, channel_posts=posts)


def _schedule_text(request: ScheduleRequest, when: str) -> str:
    """The schedule command for `request` with another `when:`."""
    parts = [f"schedule {request.partnership} when: {when}"]
    if request.where:
        parts.append(f"where: {request.where}")
    if request.title:
        parts.append(f"title: {request.title}")
    if request.agenda:
        parts.append("agenda: " + "; ".join(request.agenda))
    if request.agenda_by:
        parts.append(f"agenda by: {request.agenda_by}")
    return " ".join(parts)


def _holiday_warning(meeting: Meeting, caller: Caller) -> list[Section]:
    """A warning when the meeting falls on an England and Wales bank holiday, with the command
    (and a button) that moves it to the same time on the next working day."""
    tz = ZoneInfo(meeting.timezone)
    start, end = meeting.starts_at.astimezone(tz), meeting.ends_at.astimezone(tz)
    holiday = bank_holiday(start.date())
    if holiday is None:
        return []
    warning = (f"⚠️ {format_date(start.date())} is a bank holiday in {REGION} ({holiday}): "
               "schools are usually closed.")
    if end.date() != start.date() or meeting.id is None:
        return [Section(lines=[warning])]
    day = next_working_day(start.date())
    when = f"{day.day}/{day.month}/{day.year} {start:%H:%M} to {end:%H:%M}"
    command = caller.cmd(f"meeting move {meeting.id} when: {when}")
    return [Section(lines=[warning, f"To move it to the same time on the next working day, "
                                    f"{format_date(day)}: {command}"],
                    buttons=[Button(f"Move to {day:%a} {day.day} {day:%b}",
                                    MoveOffHoliday(meeting.id, meeting.sequence, when),
                                    "primary")])]


def _reminder_line(queued: Sequence[int], wanted: Sequence[int]) -> str:
    if not wanted:
        return "This partnership has reminders turned off."
    if not queued:
        return "It is too soon for any reminders (" + describe_reminders(wanted) + ")."
    line = f"Reminders: {describe_reminders(queued)}."
    skipped = [m for m in wanted if m not in queued]
    if skipped:
        line += f" (Too late for the one {describe_reminders(skipped)}.)"
    return line


def card_key(meeting_id: int) -> str:
    return f"meeting:{meeting_id}"


def reminder_key(meeting: Meeting, minutes: int) -> str:
    return f"{reminder_prefix(meeting)}{minutes}:{meeting.sequence}"


def reminder_prefix(meeting: Meeting) -> str:
    return f"reminder:{meeting.id}:"


def reminder_due(meeting: Meeting, minutes: int) -> datetime:
    """When a reminder `minutes` before the start is due. Whole days are counted on the local
    calendar, so "1 day before" a 10:00 meeting is 10:00 the day before across a clock change."""
    days, rest = divmod(minutes, 24 * 60)
    if rest:
        return meeting.starts_at - timedelta(minutes=minutes)
    tz = ZoneInfo(meeting.timezone)
    local = meeting.starts_at.astimezone(tz)
    earlier = datetime.combine(local.date() - timedelta(days=days), local.time(), tzinfo=tz)
    return earlier.astimezone(meeting.starts_at.tzinfo)


async def sync_reminders(session: AsyncSession, meeting: Meeting, now: datetime) -> list[int]:
    """Make the waiting reminders match the meeting's time and the partnership's settings:
    queue the missing ones still in the future, cancel any others. The minutes queued."""
    assert meeting.id is not None
    wanted: list[int] = []
    if meeting.status == MeetingStatus.SCHEDULED:
        wanted = [m for m in await reminder_minutes(session, meeting.partnership_id)
                  if reminder_due(meeting, m) > now]
    keys = {reminder_key(meeting, m): m for m in wanted}
    stale = [k for k in await outbox.pending_keys(session, reminder_prefix(meeting))
             if k not in keys]
    await outbox.cancel(session, stale, "the meeting or its reminder settings changed")
    for key, minutes in keys.items():
        await outbox.enqueue(
            session, kind=REMINDER_KIND, partnership_id=meeting.partnership_id, dedupe_key=key,
            due_at=reminder_due(meeting, minutes), expires_at=meeting.starts_at,
            payload={"meeting_id": meeting.id, "minutes_before": minutes,
                     "sequence": meeting.sequence},
        )
    return wanted


# --- showing a meeting ----------------------------------------------------------------------


def _when(meeting: Meeting) -> str:
    return format_time_range(TimeRange(meeting.starts_at, meeting.ends_at),
                             ZoneInfo(meeting.timezone))


@dataclass(frozen=True)
class Replies:
    """A meeting's replies: the partnership's members' (the ones counted), and guests' (anyone
    else who pressed a button on the card), kept apart."""

    by_answer: dict[str, list[str]]
    guests: dict[str, list[str]]
    # Who has replied as a member: (platform, user id).
    answered: frozenset[tuple[str, str]]
    # Members' apologies (can't make it), each with its reason if one was given.
    apologies: tuple[tuple[str, str | None], ...] = ()

    @classmethod
    def of(cls, replies: Sequence[tuple[Rsvp, bool]]) -> Replies:
        """From queries.replies_to: each reply with whether a member gave it."""
        by_answer: dict[str, list[str]] = {a.value: [] for a in RsvpAnswer}
        guests: dict[str, list[str]] = {a.value: [] for a in RsvpAnswer}
        for rsvp, member in replies:
            (by_answer if member else guests).setdefault(rsvp.answer, []).append(
                rsvp.display_name)
        return cls(by_answer, guests,
                   frozenset((r.platform, r.user_id) for r, member in replies if member),
                   tuple((r.display_name, r.reason) for r, member in replies
                         if member and r.answer == RsvpAnswer.NOT_GOING))

    def apology_lines(self) -> list[str]:
        """"Ann Smith (Ofsted call)" for each member's apologies."""
        return [f"{name} ({reason})" if reason else name for name, reason in self.apologies]

    def count(self, answer: RsvpAnswer) -> int:
        return len(self.by_answer.get(answer.value, []))

    def summary(self) -> str:
        return " · ".join(f"{ANSWER_LABELS[a]}: {self.count(a)}" for a in RsvpAnswer)

    @property
    def guest_count(self) -> int:
        return sum(len(names) for names in self.guests.values())

    def guest_lines(self) -> list[str]:
        """"Going: Ann Smith, Bob Day", per answer, for the guests' replies."""
        lines = []
        for answer in (RsvpAnswer.GOING, RsvpAnswer.MAYBE, RsvpAnswer.NOT_GOING):
            names = self.guests.get(answer.value, [])
            if names:
                more = f" and {len(names) - NAMES_SHOWN} more" if len(names) > NAMES_SHOWN \
                    else ""
                lines.append(f"{ANSWER_LABELS[answer]}: {', '.join(names[:NAMES_SHOWN])}{more}")
        return lines


def _details(meeting: Meeting, partnership: Partnership,
             agenda_items: Sequence[AgendaItem]) -> list[Section]:
    facts = [Fact("When", _when(meeting)), Fact("Partnership", partnership.name)]
    if meeting.location:
        facts.append(Fact("Where", meeting.location))
    sections = [Section(facts=facts)]
    if agenda_items:
        sections.append(Section(heading="Agenda", lines=[
            f"{n}. {item.text}" for n, item in enumerate(agenda_items, start=1)]))
    return sections


async def meeting_card(session: AsyncSession, meeting: Meeting,
                       partnership: Partnership) -> Reply:
    """The message in the channel: details, agenda, replies so far and the reply buttons."""
    assert meeting.id is not None
    sections = _details(meeting, partnership, await queries.agenda_of(session, meeting.id))
    if meeting.status == MeetingStatus.CANCELLED:
        reason = f" ({meeting.cancel_reason})" if meeting.cancel_reason else ""
        return Reply(title=f"Cancelled: {meeting.title}", tone=Tone.WARNING,
                     visibility=Visibility.PUBLIC,
                     sections=[*sections, Section(
                         lines=[f"This meeting is cancelled{reason}. “Remove from calendar” "
                                "gives you the cancellation for your calendar."],
                         buttons=[add_to_calendar(meeting.id, "Remove from calendar")])])
    replies = Replies.of(await queries.replies_to(session, meeting))
    reply_lines = [replies.summary()]
    for answer in (RsvpAnswer.GOING, RsvpAnswer.MAYBE, RsvpAnswer.NOT_GOING):
        names = replies.by_answer.get(answer.value, [])
        if names:
            shown = ", ".join(names[:NAMES_SHOWN])
            more = f" and {len(names) - NAMES_SHOWN} more" if len(names) > NAMES_SHOWN else ""
            reply_lines.append(f"{ANSWER_LABELS[answer]}: {shown}{more}")
    buttons = [
        Button(ANSWER_LABELS[a], MeetingRsvp(meeting.id, a),
               style="primary" if a is RsvpAnswer.GOING else None,
               typed=f"meeting reply {meeting.id} {TYPED_ANSWERS[a]}")
        for a in (RsvpAnswer.GOING, RsvpAnswer.NOT_GOING, RsvpAnswer.MAYBE)
    ]
    if replies.guest_count:
        reply_lines.append(f"Guests, not in {partnership.name} (not counted): "
                           + "; ".join(replies.guest_lines()))
    sections.append(Section(heading="Replies", lines=reply_lines, buttons=buttons))
    if meeting.agenda_by is not None:
        deadline = format_date(meeting.agenda_by)
        sections.append(Section(lines=[
            f"Agenda items: members add them until the end of {deadline}, then leads."],
            buttons=[_add_item_button(meeting)]))
    sections.append(Section(lines=[f"Meeting {meeting.id}. “Add to calendar” gives you the "
                                   "invite for your calendar."],
                            buttons=[add_to_calendar(meeting.id)]))
    return Reply(title=f"Meeting: {meeting.title}", sections=sections,
                 visibility=Visibility.PUBLIC)


async def require_member_to_see(session: AsyncSession, caller: Caller,
                                partnership: Partnership) -> None:
    """A partnership's meetings (when, where, agenda, who is coming) are for its members; the
    card in its channel shows only what that channel already sees."""
    assert partnership.id is not None
    if await queries.member(session, partnership.id, caller.platform, caller.user_id) is None:
        raise CommandError.because(
            f"Only members of {partnership.name} can see its meetings, and you are not one.",
            "Join on behalf of your school with "
            + caller.cmd(f"partnership join {partnership.name} school: <your school>")
            + f"; {caller.cmd('meeting list')} shows the meetings of your partnerships.")


async def _find_meeting(session: AsyncSession, caller: Caller,
                        meeting_id: int) -> tuple[Meeting, Partnership]:
    found = await queries.meeting_in(session, caller.workspace, meeting_id)
    if found is None:
        raise CommandError.because(f"I can't find meeting {meeting_id}.",
                                   f"{caller.cmd('meeting list')} shows the upcoming ones "
                                   "with their numbers.")
    return found


# For the minutes (handlers/minutes.py), which declare their subcommand on `meeting` too.
find_meeting = _find_meeting
when_of = _when


def _require_upcoming(meeting: Meeting, caller: Caller, doing: str) -> None:
    if meeting.status == MeetingStatus.CANCELLED:
        raise CommandError.because(f"{meeting.title} ({_when(meeting)}) was cancelled, so I "
                                   f"can't {doing}.",
                                   f"Schedule a new one with {caller.cmd('meeting schedule')}.")
    if meeting.ends_at <= caller.now:
        raise CommandError.because(f"{meeting.title} ({_when(meeting)}) has already taken "
                                   f"place, so I can't {doing}.",
                                   f"Schedule the next one with {caller.cmd('meeting schedule')}.")


@meeting.subcommand(
    "list", "ls", usage="list [<partnership>]", access=Access.MEMBER, parse=parse_list,
    group="Meetings",
    help=[HelpLine("meeting list", lambda c: "upcoming meetings of your partnerships "
                   f"({c.cmd('meeting list East Barnet Area')} for one)")])
async def list_meetings(request: ListRequest, caller: Caller, session: AsyncSession) -> Outcome:
    ids: list[int] | None
    if request.partnership:
        partnership = await find_partnership(session, caller, request.partnership,
                                             example="meeting list {name}")
        assert partnership.id is not None
        await require_member_to_see(session, caller, partnership)
        ids, scope = [partnership.id], partnership.name
    else:
        ids = await queries.partnership_ids_of(session, caller.workspace, caller.platform,
                                               caller.user_id)
        scope = "your partnerships"
        if not ids:
            return Outcome(Reply(title="You are not in a partnership yet, so you have no "
                                       "meetings to see.", sections=[Section(lines=[
                f"A partnership's meetings are for its members. Join one with "
                f"{caller.cmd('partnership join <partnership> school: <your school>')}; "
                f"{caller.cmd('partnership list')} shows them."])]))
    rows = await queries.upcoming_meetings(session, caller.workspace, caller.now, ids)
    if not rows:
        return Outcome(Reply(title=f"No meetings coming up for {scope}.", sections=[Section(
            lines=[f"Schedule one with {caller.cmd('meeting schedule')}."])]))
    lines = []
    going = await queries.going_counts(session, [m.id for m, _ in rows if m.id is not None])
    for meeting, partnership in rows:
        assert meeting.id is not None
        where = f" · {meeting.location}" if meeting.location else ""
        lines.append(f"{meeting.id}: {meeting.title} ({partnership.name}) · {_when(meeting)}"
                     f"{where} · {going.get(meeting.id, 0)} going")
    return Outcome(Reply(
        title=f"{len(rows)} meeting{'s' if len(rows) != 1 else ''} coming up for {scope}",
        sections=[Section(lines=lines), Section(lines=[
            f"{caller.cmd('meeting who <number>')} shows who is coming."])],
    ))


@meeting.subcommand("who", "replies", "rsvps", usage="who <n>", access=Access.MEMBER,
                    parse=parse_who, group="Meetings",
                    help=[("meeting who 12", "who is going, who can't, who hasn't replied")])
async def who(request: WhoRequest, caller: Caller, session: AsyncSession) -> Outcome:
    meeting, partnership = await _find_meeting(session, caller, request.meeting_id)
    assert meeting.id is not None and partnership.id is not None
    await require_member_to_see(session, caller, partnership)
    replies = Replies.of(await queries.replies_to(session, meeting))
    waiting = [m.display_name for m, _ in await queries.members_of(session, partnership.id)
               if (m.platform, m.user_id) not in replies.answered]
    sections = []
    for answer in (RsvpAnswer.GOING, RsvpAnswer.MAYBE):
        names = replies.by_answer.get(answer.value, [])
        sections.append(Section(heading=f"{ANSWER_LABELS[answer]} ({len(names)})",
                                lines=names or ["No one yet."]))
    # Apologies (can't make it, with reasons) apart from those who simply have not replied.
    apologies = replies.apology_lines()
    sections.append(Section(heading=f"Apologies: can't make it ({len(apologies)})",
                            lines=apologies or ["None."]))
    sections.append(Section(heading=f"Members yet to reply ({len(waiting)})",
                            lines=waiting or ["Everyone has replied."]))
    if replies.guest_count:
        sections.append(Section(heading=f"Guests, not in {partnership.name} "
                                        f"({replies.guest_count}, not counted above)",
                                lines=replies.guest_lines()))
    reminder_lines = await _reminder_states(session, meeting)
    if reminder_lines:
        sections.append(Section(heading="Reminders", lines=reminder_lines))
    status = " (cancelled)" if meeting.status == MeetingStatus.CANCELLED else ""
    return Outcome(Reply(title=f"Replies for {meeting.title}{status}: {_when(meeting)}",
                         sections=sections))


async def _reminder_states(session: AsyncSession, meeting: Meeting) -> list[str]:
    """What became of this version's reminders, failures included: none vanish unseen."""
    tz = ZoneInfo(meeting.timezone)
    lines = []
    for row in await outbox.deliveries_with_prefix(session, reminder_prefix(meeting)):
        minutes_text, _, sequence = row.dedupe_key.removeprefix(reminder_prefix(meeting)) \
            .partition(":")
        if sequence != str(meeting.sequence) or row.status == DeliveryStatus.CANCELLED:
            continue
        label = describe_minutes(int(minutes_text)) + " before"
        if row.status == DeliveryStatus.SENT and row.sent_at is not None:
            lines.append(f"{label}: sent {_short_time(row.sent_at, tz)}")
        elif row.status in (DeliveryStatus.FAILED, DeliveryStatus.DROPPED):
            lines.append(f"{label}: not sent ({row.last_error or row.status})")
        else:
            retry = f", retrying: {row.last_error}" if row.last_error else ""
            lines.append(f"{label}: due {_short_time(row.due_at, tz)}{retry}")
    return lines


def _short_time(moment: datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    return f"{local:%a} {local.day} {local:%b} at {local:%H:%M}"


@button(MeetingRsvp)
async def rsvp(pressed: MeetingRsvp, caller: Caller, session: AsyncSession) -> Outcome:
    """A press of Going / Can't make it / Maybe on a meeting's card. Can't make it also opens
    a small form for the apology's reason (the reply stands if it is closed unanswered)."""
    answer = pressed.answer
    meeting, partnership = await _find_meeting(session, caller, pressed.meeting_id)
    assert meeting.id is not None and partnership.id is not None
    if meeting.status == MeetingStatus.CANCELLED:
        return Outcome(Reply.error(f"{meeting.title} was cancelled, so there is nothing to "
                                   "reply to."),
                       updated_message=await meeting_card(session, meeting, partnership))
    _require_upcoming(meeting, caller, "take replies for it")
    saved = await record_reply(session, caller, meeting, answer, keep_reason=True)
    card = await meeting_card(session, meeting, partnership)
    guest = await queries.member(session, partnership.id, caller.platform,
                                 caller.user_id) is None
    return Outcome(
        _reply_said(meeting, partnership, answer, saved.reason, guest,
                    "Press another button to change your reply."),
        updated_message=card,
        # Pressed away from the card (the App Home): the cards in the channels change too.
        channel_posts=[] if caller.channel_id else [
            ChannelPost(partnership.id, card, edit_of=card_key(meeting.id))],
        form=apologies_form(meeting, saved.reason) if answer is RsvpAnswer.NOT_GOING else None,
    )


async def record_reply(session: AsyncSession, caller: Caller, meeting: Meeting,
                       answer: RsvpAnswer, reason: str | None = None,
                       keep_reason: bool = False) -> Rsvp:
    """Store the caller's reply (replacing any earlier one), as a button press or a typed
    reply does. A "can't make it" is an apology, with its reason when one is given
    (`keep_reason`: a press keeps the reason given before); other answers carry none."""
    assert meeting.id is not None
    existing = await queries.rsvp_of(session, meeting.id, caller.platform, caller.user_id)
    if existing is None:
        existing = Rsvp(meeting_id=meeting.id, platform=caller.platform,
                        user_id=caller.user_id, display_name=caller.user_name,
                        answer=answer.value, answered_at=caller.now)
    else:
        if keep_reason and existing.answer == RsvpAnswer.NOT_GOING and reason is None:
            reason = existing.reason
        existing.answer = answer.value
        existing.display_name = caller.user_name
        existing.answered_at = caller.now
    existing.reason = reason if answer is RsvpAnswer.NOT_GOING else None
    session.add(existing)
    await session.flush()
    return existing


def _reply_said(meeting: Meeting, partnership: Partnership, answer: RsvpAnswer,
                reason: str | None, guest: bool, change: str) -> Reply:
    said = {RsvpAnswer.GOING: "You're going to", RsvpAnswer.NOT_GOING: "You can't make",
            RsvpAnswer.MAYBE: "You might come to"}[answer]
    lines = []
    if answer is RsvpAnswer.NOT_GOING:
        lines.append(f"Your apologies are recorded, with the reason “{reason}”." if reason
                     else "Your apologies are recorded.")
    if guest:
        lines.append(f"You are not a member of {partnership.name}, so your reply is shown "
                     "apart, as a guest's, and not counted with the members'.")
    lines.append(change)
    return Reply.success(f"{said} {meeting.title}: {_when(meeting)}.", *lines)


def apologies_form(meeting: Meeting, reason: str | None) -> Form:
    """The small form a press of Can't make it opens: the apology's reason, if any."""
    assert meeting.id is not None
    return Form(
        form_id=APOLOGIES_FORM, title="Send apologies", submit_label="Send",
        intro=f"You can't make {meeting.title} ({_when(meeting)}): your apologies are recorded. "
              "Add a reason if you like; members see it in the replies and the minutes, the "
              "channel does not.",
        fields=[FormField("reason", "Reason (optional)", max_length=MAX_REASON,
                          placeholder="Ofsted call", initial=reason)],
        context=str(meeting.id))


def _form_meeting(context: str, caller: Caller, typed: str) -> int:
    """The meeting a small form was opened for, or "out of date" with the command to type."""
    number = row_number(context)
    if number is None:
        raise CommandError.because("That form is out of date.", f"Type {caller.cmd(typed)}.")
    return number


def _form_text(values: FormValues, key: str) -> str:
    """A text box's value, tidied ("" when empty)."""
    raw = values.get(key)
    return tidy_name(raw if isinstance(raw, str) else " ".join(raw or []))


@form(APOLOGIES_FORM)
async def submit_apologies(values: FormValues, context: str, caller: Caller,
                           session: AsyncSession) -> Outcome:
    number = _form_meeting(context, caller, "meeting reply <n> apologies: <reason>")
    reason = _form_text(values, "reason") or None
    if reason is not None and len(reason) > MAX_REASON:
        raise FieldErrors({"reason": f"The reason is {len(reason)} characters long; the most "
                                     f"is {MAX_REASON}."})
    # Anyone who could press the button may give the reason: guests' replies stay apart.
    return await _reply(caller, session, number, RsvpAnswer.NOT_GOING, reason,
                        "Change it with the buttons on the meeting's message.",
                        members_only=False)


@meeting.subcommand(
    "reply", "rsvp", "answer", usage="reply <n> going|maybe|apologies [reason]",
    access=Access.MEMBER, parse=parse_reply, group="Meetings",
    help=[("meeting reply 12 apologies: Ofsted call",
           "reply by typing, as the buttons do: going, maybe, or apologies with a reason "
           "(yes, no and can't work too)")])
async def reply_command(request: ReplyRequest, caller: Caller,
                        session: AsyncSession) -> Outcome:
    return await _reply(caller, session, request.meeting_id, request.answer, request.reason,
                        "Reply again to change it.")


async def _reply(caller: Caller, session: AsyncSession, meeting_id: int, answer: RsvpAnswer,
                 reason: str | None, change: str, members_only: bool = True) -> Outcome:
    """A typed reply (members only, like the other typed meeting commands) or an apology's
    reason from the form, stored as a press of the buttons is; the meeting's card in the
    channels changes to match."""
    meeting, partnership = await _find_meeting(session, caller, meeting_id)
    assert meeting.id is not None and partnership.id is not None
    if members_only:
        await require_member(session, caller, partnership)
    _require_upcoming(meeting, caller, "take replies for it")
    saved = await record_reply(session, caller, meeting, answer, reason)
    card = await meeting_card(session, meeting, partnership)
    guest = await queries.member(session, partnership.id, caller.platform,
                                 caller.user_id) is None
    return Outcome(_reply_said(meeting, partnership, answer, saved.reason, guest, change),
                   channel_posts=[ChannelPost(partnership.id, card,
                                              edit_of=card_key(meeting.id))])


async def _notice(session: AsyncSession, meeting: Meeting, partnership: Partnership,
                  title: str, lines: list[str], now: datetime, tone: Tone) -> list[ChannelPost]:
    """Tell the channel about a change: the card edited, and a message with the new invite."""
    assert meeting.id is not None and partnership.id is not None
    agenda_items = await queries.agenda_of(session, meeting.id)
    label = ("Remove from calendar" if meeting.status == MeetingStatus.CANCELLED
             else "Update your calendar")
    notice = Reply(title=title, sections=[Section(lines=lines, buttons=[
        add_to_calendar(meeting.id, label)])], tone=tone, visibility=Visibility.PUBLIC)
    return [
        ChannelPost(partnership.id, await meeting_card(session, meeting, partnership),
                    edit_of=card_key(meeting.id)),
        ChannelPost(partnership.id, notice,
                    attachment=invite(meeting, partnership.name, agenda_items, now)),
    ]


@meeting.subcommand(
    "cancel", usage="cancel <n> [reason: …]", access=Access.MEMBER, parse=parse_cancel,
    group="Meetings",
    help=[("meeting cancel 12 reason: snow closure",
           "cancel it, with a cancellation for calendars")])
async def cancel(request: CancelRequest, caller: Caller, session: AsyncSession) -> Outcome:
    meeting, partnership = await _find_meeting(session, caller, request.meeting_id)
    await require_member(session, caller, partnership)
    _require_upcoming(meeting, caller, "cancel it")
    meeting.status = MeetingStatus.CANCELLED.value
    meeting.cancel_reason = request.reason
    meeting.sequence += 1
    meeting.updated_at = caller.now
    session.add(meeting)
    await session.flush()
    await sync_reminders(session, meeting, caller.now)
    await sync_agenda_reminder(session, meeting, caller.now)
    reason = [f"Reason: {request.reason}"] if request.reason else []
    posts = await _notice(
        session, meeting, partnership, f"Cancelled: {meeting.title}, {_when(meeting)}",
        [*reason, f"Cancelled by {caller.user_name}. No reminders will be sent. “Remove "
                  "from calendar” gives you the cancellation for your calendar."],
        caller.now, Tone.WARNING)
    return Outcome(Reply.success(f"Cancelled {meeting.title} ({_when(meeting)}).",
                                 "The channel has been told, with a cancellation for "
                                 "calendars; its reminders are cancelled."),
                   channel_posts=posts)


@meeting.subcommand(
    "move", "reschedule", usage="move <n> when: …", access=Access.MEMBER, parse=parse_move,
    group="Meetings",
    help=[(f"meeting move 12 when: {examples.MEETING_RELATIVE}",
           "move it; the channel gets a new invite and the reminders follow")])
async def move(request: MoveRequest, caller: Caller, session: AsyncSession) -> Outcome:
    meeting, partnership = await _find_meeting(session, caller, request.meeting_id)
    await require_member(session, caller, partnership)
    _require_upcoming(meeting, caller, "move it")
    when = _parse_when(request.when, caller, ZoneInfo(meeting.timezone),
                       lambda w: f"move {request.meeting_id} when: {w}")
    if (when.start, when.end) == (meeting.starts_at, meeting.ends_at):
        raise CommandError.because(f"{meeting.title} is already at {_when(meeting)}.",
                                   "Give a different date or time to move it.")
    was = _when(meeting)
    meeting.starts_at, meeting.ends_at = when.start, when.end
    meeting.sequence += 1
    meeting.updated_at = caller.now
    session.add(meeting)
    await session.flush()
    queued = await sync_reminders(session, meeting, caller.now)
    assert meeting.id is not None
    kept = len(await queries.rsvps_of(session, meeting.id))
    lines = [f"It was {was}. Moved by {caller.user_name}."]
    if kept:
        lines.append("Replies so far are kept: if you can no longer come, press Can't make it "
                     "on the meeting's message.")
    lines.append("“Update your calendar” gives you the new time for your calendar.")
    posts = await _notice(session, meeting, partnership,
                          f"Moved: {meeting.title} is now {_when(meeting)}", lines, caller.now,
                          Tone.INFO)
    wanted = await reminder_minutes(session, meeting.partnership_id)
    reply = Reply.success(f"Moved {meeting.title} to {_when(meeting)}.",
                          "The channel has been told, with an updated calendar invite.",
                          _reminder_line(queued, wanted), *when.notes)
    reply.sections += _holiday_warning(meeting, caller)
    return Outcome(reply, channel_posts=posts)


@button(MoveOffHoliday)
async def move_off_holiday(pressed: MoveOffHoliday, caller: Caller,
                           session: AsyncSession) -> Outcome:
    """The button under a bank holiday warning: `/meeting move` to the time it offered, unless
    the meeting has been moved or changed since the warning."""
    meeting, partnership = await _find_meeting(session, caller, pressed.meeting_id)
    await require_member(session, caller, partnership)
    if meeting.sequence != pressed.sequence:
        return Outcome(Reply.error(
            f"{meeting.title} has changed since that warning: it is now {_when(meeting)}.",
            "Move it with " + caller.cmd(f"meeting move {pressed.meeting_id} when: …") + "."))
    return await move(MoveRequest(pressed.meeting_id, pressed.when), caller, session)


@meeting.subcommand(
    "agenda", usage="agenda <n> [add: …]", access=Access.MEMBER, parse=parse_agenda,
    group="Meetings",
    help=[HelpLine("meeting agenda 12 add: Learning walk findings",
                   lambda c: f"add an item ({c.cmd('meeting agenda 12')} shows it, the "
                             "standing items first); after the deadline only leads add")])
async def agenda(request: AgendaRequest, caller: Caller, session: AsyncSession) -> Outcome:
    meeting, partnership = await _find_meeting(session, caller, request.meeting_id)
    assert meeting.id is not None and partnership.id is not None
    if request.add is None:
        await require_member_to_see(session, caller, partnership)
        return Outcome(await agenda_reply(session, caller, meeting, partnership))
    return await add_agenda_item(session, caller, meeting, partnership, request.add)


async def agenda_reply(session: AsyncSession, caller: Caller, meeting: Meeting,
                       partnership: Partnership) -> Reply:
    """The whole agenda, for members: the standing items the bot fills in, then the items."""
    assert meeting.id is not None
    items = await queries.agenda_of(session, meeting.id)
    standing = await standing_items(session, meeting)
    lines = [f"{n}. {item.text}" for n, item in enumerate(items, start=1)]
    deadline = []
    if meeting.agenda_by is not None:
        deadline.append(f"Members add items until the end of {format_date(meeting.agenda_by)}"
                        + ("." if agenda_open(meeting, caller.now) else
                           "; that has passed, so now only leads can."))
    sections = [Section(heading="Standing items",
                        lines=[f"{title}: {text}" for title, text in standing.summary()])]
    if standing.matters_arising:
        sections.append(Section(heading=STANDING[2], lines=standing.matters_arising))
    sections.append(Section(heading="Items", lines=lines or ["Nothing on it yet."]))
    sections.append(Section(lines=[*deadline, "Add an item with " + caller.cmd(
        f"meeting agenda {meeting.id} add: <item>")]))
    return Reply(title=f"Agenda for {meeting.title}: {_when(meeting)}", sections=sections)


async def add_agenda_item(session: AsyncSession, caller: Caller, meeting: Meeting,
                          partnership: Partnership, text: str) -> Outcome:
    """Add an item (typed, or from the small form): members until the deadline, then leads."""
    assert meeting.id is not None and partnership.id is not None
    member = await require_member(session, caller, partnership)
    _require_upcoming(meeting, caller, "change its agenda")
    if not agenda_open(meeting, caller.now) and member.access_role != AccessRole.LEAD:
        assert meeting.agenda_by is not None
        await require_lead(session, caller, partnership,
                           f"add items to the agenda of {meeting.title} now: members could "
                           f"until the end of {format_date(meeting.agenda_by)}")
    items = list(await queries.agenda_of(session, meeting.id))
    if len(items) >= MAX_ITEMS:
        raise CommandError.because(f"The agenda already has {MAX_ITEMS} items, the most I keep.")
    position = max((i.position for i in items), default=0) + 1
    session.add(AgendaItem(meeting_id=meeting.id, position=position, text=text,
                           added_by=caller.user_id))
    await session.flush()
    card = await meeting_card(session, meeting, partnership)
    return Outcome(Reply.success(f"Added item {len(items) + 1} to the agenda of "
                                 f"{meeting.title}: {text}",
                                 "The meeting's message in the channel shows it, and so will "
                                 "the reminders."),
                   channel_posts=[ChannelPost(partnership.id, card,
                                              edit_of=card_key(meeting.id))])


@button(AddAgendaItem)
async def add_agenda_button(pressed: AddAgendaItem, caller: Caller,
                            session: AsyncSession) -> Outcome:
    """"Add an agenda item": the small form, for those who may add one now."""
    meeting, partnership = await _find_meeting(session, caller, pressed.meeting_id)
    assert meeting.id is not None
    member = await require_member(session, caller, partnership)
    _require_upcoming(meeting, caller, "change its agenda")
    if not agenda_open(meeting, caller.now) and member.access_role != AccessRole.LEAD:
        assert meeting.agenda_by is not None
        await require_lead(session, caller, partnership,
                           f"add items to the agenda of {meeting.title} now: members could "
                           f"until the end of {format_date(meeting.agenda_by)}")
    example = f"meeting agenda {meeting.id} add: Learning walk findings"
    return Outcome(
        Reply(title=f"Add an item to the agenda of {meeting.title}.",
              sections=[Section(lines=[f"Type it like this: {caller.cmd(example)}."])]),
        form=Form(form_id=AGENDA_FORM, title="Add an agenda item", submit_label="Add",
                  intro=f"{meeting.title}: {_when(meeting)}",
                  fields=[FormField("add", "Agenda item", required=True, max_length=MAX_ITEM,
                                    placeholder="Learning walk findings")],
                  context=str(meeting.id)))


@form(AGENDA_FORM)
async def submit_agenda_item(values: FormValues, context: str, caller: Caller,
                             session: AsyncSession) -> Outcome:
    number = _form_meeting(context, caller, "meeting agenda <n> add: <item>")
    text = _form_text(values, "add")
    if not text:
        raise FieldErrors({"add": "Please write the item to add."})
    if len(text) > MAX_ITEM:
        raise FieldErrors({"add": f"The item is {len(text)} characters long; the most is "
                                  f"{MAX_ITEM}."})
    meeting, partnership = await _find_meeting(session, caller, number)
    return await add_agenda_item(session, caller, meeting, partnership, text)


@meeting.subcommand(
    "edit", usage="edit <n> agenda by: <date>", access=Access.MEMBER, parse=parse_edit,
    group="Meetings",
    help=[("meeting edit 12 agenda by: Friday",
           "set (or `none`: remove) the deadline for agenda items; the channel is asked for "
           "items and reminded the day before")])
async def edit(request: EditRequest, caller: Caller, session: AsyncSession) -> Outcome:
    meeting, partnership = await _find_meeting(session, caller, request.meeting_id)
    assert meeting.id is not None and partnership.id is not None
    await require_member(session, caller, partnership)
    _require_upcoming(meeting, caller, "change it")
    tz = ZoneInfo(meeting.timezone)
    if request.agenda_by.strip().lower() in ("none", "no", "off", "-"):
        agenda_by = None
    else:
        try:
            agenda_by = _agenda_deadline(request.agenda_by, caller, tz, meeting.starts_at)
        except FieldProblem as problem:
            raise ParseError(problem.problem, *problem.hints) from None
    if agenda_by == meeting.agenda_by:
        raise CommandError.because(
            f"The agenda deadline of {meeting.title} is already "
            f"{format_date(agenda_by) if agenda_by else 'not set'}.",
            "Give a different date to change it.")
    meeting.agenda_by = agenda_by
    meeting.updated_at = caller.now
    session.add(meeting)
    await session.flush()
    queued = await sync_agenda_reminder(session, meeting, caller.now)
    card = await meeting_card(session, meeting, partnership)
    posts = [ChannelPost(partnership.id, card, edit_of=card_key(meeting.id))]
    if agenda_by is None:
        return Outcome(Reply.success(f"{meeting.title} has no deadline for agenda items now.",
                                     "Members may add items until the meeting."),
                       channel_posts=posts)
    posts.append(ChannelPost(partnership.id, agenda_call(meeting, partnership)))
    return Outcome(Reply.success(f"Agenda items for {meeting.title} are due by "
                                 f"{format_date(agenda_by)}.", _agenda_line(meeting, queued),
                                 "The channel has been asked for items."),
                   channel_posts=posts)


# --- agenda deadlines and the standing items ------------------------------------------------


def _agenda_deadline(text: str, caller: Caller, tz: ZoneInfo, starts_at: datetime) -> date:
    """The last day for members' agenda items: today or later, and not after the meeting."""
    today = caller.now.astimezone(tz).date()
    meeting_day = starts_at.astimezone(tz).date()
    try:
        day = parse_date(text, today, "future")
    except DateError as error:
        raise FieldProblem("agenda by", error.problem, error.hint,
                           "For example `agenda by: Friday` or `agenda by: 4/12`.") from None
    if day < today:
        raise FieldProblem("agenda by", f"The agenda deadline {format_date(day)} has passed.",
                           "Give today or a day still to come, before the meeting.")
    if day > meeting_day:
        raise FieldProblem("agenda by", f"The agenda deadline {format_date(day)} is after the "
                           f"meeting ({format_date(meeting_day)}).",
                           "Give a day on or before the meeting's.")
    return day


def agenda_open(meeting: Meeting, now: datetime) -> bool:
    """Whether members (not only leads) may still add agenda items: until the end of the
    deadline's day in the meeting's time zone, or always when there is no deadline."""
    if meeting.agenda_by is None:
        return True
    return now.astimezone(ZoneInfo(meeting.timezone)).date() <= meeting.agenda_by


def agenda_reminder_due(meeting: Meeting) -> datetime | None:
    """09:00 local the day before the deadline."""
    if meeting.agenda_by is None:
        return None
    tz = ZoneInfo(meeting.timezone)
    local = datetime.combine(meeting.agenda_by - timedelta(days=1), AGENDA_REMINDER_AT,
                             tzinfo=tz)
    return local.astimezone(meeting.starts_at.tzinfo)


def _agenda_closes(meeting: Meeting) -> datetime:
    assert meeting.agenda_by is not None
    tz = ZoneInfo(meeting.timezone)
    return datetime.combine(meeting.agenda_by + timedelta(days=1), time(0, 0), tzinfo=tz) \
        .astimezone(meeting.starts_at.tzinfo)


def agenda_key_prefix(meeting: Meeting) -> str:
    return f"agenda:{meeting.id}:"


async def sync_agenda_reminder(session: AsyncSession, meeting: Meeting,
                               now: datetime) -> bool:
    """Queue the reminder that agenda items close (exactly once: the key names the meeting and
    its deadline), cancelling any for an earlier deadline. Whether one is waiting."""
    due = agenda_reminder_due(meeting)
    wanted = None
    if meeting.status == MeetingStatus.SCHEDULED and due is not None and due > now:
        assert meeting.agenda_by is not None
        wanted = f"{agenda_key_prefix(meeting)}{meeting.agenda_by.isoformat()}"
    stale = [k for k in await outbox.pending_keys(session, agenda_key_prefix(meeting))
             if k != wanted]
    await outbox.cancel(session, stale, "the meeting or its agenda deadline changed")
    if wanted is None:
        return False
    assert due is not None and meeting.agenda_by is not None
    if not await outbox.enqueue(
        session, kind=AGENDA_KIND, partnership_id=meeting.partnership_id, dedupe_key=wanted,
        due_at=due, expires_at=_agenda_closes(meeting),
        payload={"meeting_id": meeting.id, "agenda_by": meeting.agenda_by.isoformat()},
    ):
        # That deadline was set before and changed since: wanted again at its time.
        await outbox.reschedule(session, wanted, due, _agenda_closes(meeting))
    return True


def _agenda_line(meeting: Meeting, reminder_queued: bool) -> str:
    assert meeting.agenda_by is not None
    line = f"Agenda items by {format_date(meeting.agenda_by)}: the channel is asked for them"
    return line + (", and reminded the day before." if reminder_queued else
                   " (too late for a reminder the day before).")


def _add_item_button(meeting: Meeting) -> Button:
    assert meeting.id is not None
    return Button("Add an agenda item", AddAgendaItem(meeting.id),
                  typed=f"meeting agenda {meeting.id} add: <item>")


def agenda_call(meeting: Meeting, partnership: Partnership) -> Reply:
    """The call for agenda items posted in the channel when a deadline is set."""
    assert meeting.agenda_by is not None
    return Reply(
        title=f"Agenda items wanted: {meeting.title}, {_when(meeting)}",
        sections=[Section(lines=[
            f"Members of {partnership.name}: add your items by the end of "
            f"{format_date(meeting.agenda_by)}; after that, only leads can.",
            "Apologies, the minutes of the last meeting and matters arising are on it "
            "already."], buttons=[_add_item_button(meeting)])],
        visibility=Visibility.PUBLIC)


async def render_agenda_reminder(payload: dict[str, Any], due_at: datetime, now: datetime,
                                 session: AsyncSession) -> Reply | None:
    """The day-before reminder that agenda items close, or None when no longer wanted."""
    found = await queries.meeting_by_id(session, int(payload.get("meeting_id", 0)))
    if found is None:
        return None
    meeting, partnership = found
    if (meeting.status != MeetingStatus.SCHEDULED or meeting.agenda_by is None
            or payload.get("agenda_by") != meeting.agenda_by.isoformat()
            or not agenda_open(meeting, now) or now >= meeting.starts_at):
        return None
    assert meeting.id is not None
    items = await queries.agenda_of(session, meeting.id)
    listed = [f"{n}. {item.text}" for n, item in enumerate(items, start=1)]
    delayed = " (delayed)" if now - due_at > LATE_AFTER else ""
    return Reply(
        title=f"Reminder: agenda items for {meeting.title} close at the end of "
              f"{format_date(meeting.agenda_by)}{delayed}",
        sections=[Section(facts=[Fact("Meeting", _when(meeting)),
                                 Fact("Partnership", partnership.name)]),
                  Section(heading=f"On the agenda so far ({len(items)})",
                          lines=listed or ["No items yet."],
                          buttons=[_add_item_button(meeting)])],
        visibility=Visibility.PUBLIC)


# The items every agenda starts with, filled in by the bot.
STANDING = ("Apologies", "Minutes of the last meeting", "Matters arising")
MATTERS_SHOWN = 10


@dataclass(frozen=True)
class StandingItems:
    apologies: list[str]
    last_minutes: str
    matters_arising: list[str]

    def summary(self) -> list[tuple[str, str]]:
        return [
            (STANDING[0], ", ".join(self.apologies) if self.apologies else "none so far"),
            (STANDING[1], self.last_minutes),
            (STANDING[2], f"{len(self.matters_arising)} open" if self.matters_arising
             else "nothing open"),
        ]


async def standing_items(session: AsyncSession, meeting: Meeting) -> StandingItems:
    replies = Replies.of(await queries.replies_to(session, meeting))
    return StandingItems(replies.apology_lines(), await last_minutes_line(session, meeting),
                         await matters_arising(session, meeting.partnership_id))


async def last_minutes_line(session: AsyncSession, meeting: Meeting) -> str:
    """The previous meeting of the partnership, and where its minutes stand."""
    previous = await queries.previous_meeting(session, meeting)
    if previous is None or previous.id is None:
        return "none: this is the partnership's first meeting"
    versions = await queries.minutes_of(session, previous.id)
    if not versions:
        state = "no minutes written yet"
    elif versions[0].status == MinutesStatus.APPROVED:
        state = (f"minutes version {versions[0].version} approved by "
                 f"{versions[0].approved_by_name} on {approval_day(versions[0], previous)}")
    else:
        state = (f"draft minutes (version {versions[0].version}, by "
                 f"{versions[0].written_by_name}) to approve")
    return f"{previous.title}, {_date_of(previous)} (meeting {previous.id}): {state}"


def approval_day(minutes: MeetingMinutes, meeting: Meeting) -> str:
    moment = minutes.approved_at or minutes.written_at
    return format_date(moment.astimezone(ZoneInfo(meeting.timezone)).date())


def _date_of(meeting: Meeting) -> str:
    return format_date(meeting.starts_at.astimezone(ZoneInfo(meeting.timezone)).date())


async def matters_arising(session: AsyncSession, partnership_id: int) -> list[str]:
    """What the partnership still has open, carried to the next meeting: its open actions
    (typed, or learning walks' next steps), soonest due first. Shown to members only (the
    channel's card never carries the agenda's standing items)."""
    rows = await actions.open_actions_for(session, partnership_id, MATTERS_SHOWN + 1)
    lines = []
    for row in rows[:MATTERS_SHOWN]:
        action = row.action
        words = _shorten(action.description, 160)
        if row.walk is not None:
            what = (f"Walk {row.walk.id} at {row.walk_host.name if row.walk_host else 'a school'}"
                    f" ({format_date(row.walk.walked_on)}), action {action.id}: {words}")
        else:
            what = f"Action {action.id}: {words}"
        owner = f"; owner {row.owner_label}" if row.owner_label != "no owner" else "; no owner"
        due = f"; due {format_date(action.due_on)}" if action.due_on else ""
        lines.append(f"{what}{owner}{due}")
    if len(rows) > MATTERS_SHOWN:
        lines.append("…and more: `partnership actions <partnership>` shows them all.")
    return lines


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@meeting.subcommand(
    "settings", usage="settings <partnership> [reminders: …] [timezone: …]", access=Access.LEAD,
    parse=parse_settings, group="Meetings",
    help=[("meeting settings East Barnet Area reminders: 1 day, 1 hour",
           "when reminders go out (leads; also `timezone: Europe/London`)")])
async def settings(request: SettingsRequest, caller: Caller, session: AsyncSession) -> Outcome:
    partnership = await find_partnership(session, caller, request.partnership,
                                         example="meeting settings {name}")
    assert partnership.id is not None
    if request.timezone is None and request.reminders is None:
        minutes = await reminder_minutes(session, partnership.id)
        return Outcome(Reply(title=f"Meeting settings for {partnership.name}", sections=[
            Section(facts=[Fact("Time zone", partnership.timezone),
                           Fact("Reminders", describe_reminders(minutes))]),
            Section(lines=[
                "Leads change them with " + caller.cmd(
                    f"meeting settings {partnership.name} reminders: 1 day, 1 hour") + " or "
                "`timezone: Europe/London`."]),
        ]))
    await require_lead(session, caller, partnership, "change its meeting settings")
    changes = []
    if request.timezone is not None:
        partnership.timezone = _valid_timezone(request.timezone, caller)
        session.add(partnership)
        changes.append(f"Time zone: {partnership.timezone} (for meetings scheduled from now "
                       "on).")
    if request.reminders is not None:
        minutes = parse_reminders(request.reminders, caller)
        row = await queries.meeting_settings(session, partnership.id) or \
            MeetingSettings(partnership_id=partnership.id)
        row.reminder_minutes = ",".join(str(m) for m in minutes)
        row.updated_by = caller.user_id
        session.add(row)
        await session.flush()
        upcoming = await queries.upcoming_meetings(session, caller.workspace, caller.now,
                                                   [partnership.id])
        for meeting, _ in upcoming:
            await sync_reminders(session, meeting, caller.now)
        changes.append(f"Reminders: {describe_reminders(minutes)}"
                       + (f", for the {len(upcoming)} upcoming meeting"
                          f"{'s' if len(upcoming) != 1 else ''} too." if upcoming else "."))
    return Outcome(Reply.success(f"Updated the meeting settings of {partnership.name}.",
                                 *changes))


def _valid_timezone(text: str, caller: Caller) -> str:
    name = text.strip().replace(" ", "_")
    aliases = {"uk": "Europe/London", "gb": "Europe/London", "london": "Europe/London",
               "gmt": "Europe/London", "bst": "Europe/London"}
    name = aliases.get(name.lower(), name)
    try:
        return ZoneInfo(name).key
    except (ZoneInfoNotFoundError, ValueError):
        raise ParseError(f"I don't know the time zone “{text}”.",
                         "Use a name from the time zone database, like `Europe/London` or "
                         "`Europe/Dublin`.") from None


# --- reminders ------------------------------------------------------------------------------


async def render_reminder(payload: dict[str, Any], due_at: datetime, now: datetime,
                          session: AsyncSession) -> Reply | None:
    """The reminder to post now, or None when it is no longer wanted (the outbox drops it)."""
    # Everything it shows in one statement: thousands can fall due in the same minute.
    facts = await queries.reminder_facts(session, int(payload.get("meeting_id", 0)))
    if facts is None:
        return None
    meeting, partnership = facts.meeting, facts.partnership
    if (meeting.status != MeetingStatus.SCHEDULED or now >= meeting.starts_at
            or payload.get("sequence") != meeting.sequence):
        return None
    minutes = int(payload.get("minutes_before", 0))
    if any(m < minutes and reminder_due(meeting, m) <= now
           for m in minutes_set(facts.reminder_minutes)):
        return None  # a later reminder is due too (the bot was down): post only that one
    sections = _details(meeting, partnership, facts.agenda)
    waiting = facts.waiting
    # Members' replies are counted; guests' (people outside the partnership) apart.
    counts = " · ".join(f"{ANSWER_LABELS[a]}: {facts.answers.get(a.value, 0)}"
                        for a in RsvpAnswer) + (f" · Yet to reply: {waiting}" if waiting else "") \
        + (f" · Guests: {facts.guests}" if facts.guests else "")
    sections.append(Section(heading="Replies", lines=[
        counts, "Reply with the buttons on the meeting's message."]))
    delayed = " (delayed)" if now - due_at > LATE_AFTER else ""
    return Reply(title=f"Reminder: {meeting.title} {_starts(meeting, now)}{delayed}",
                 sections=sections, visibility=Visibility.PUBLIC)


def _starts(meeting: Meeting, now: datetime) -> str:
    """"starts in 1 hour", "is tomorrow at 11:30", in the meeting's own time zone."""
    tz = ZoneInfo(meeting.timezone)
    ahead = meeting.starts_at - now
    if ahead < timedelta(hours=2):
        minutes = max(1, round(ahead.total_seconds() / 60))
        return f"starts in {describe_minutes(minutes)}"
    start, today = meeting.starts_at.astimezone(tz), now.astimezone(tz).date()
    if start.date() == today:
        return f"is today at {start:%H:%M}"
    if start.date() == today + timedelta(days=1):
        return f"is tomorrow at {start:%H:%M}"
    return f"is on {start:%A} {start.day} {start:%B} at {start:%H:%M}"

