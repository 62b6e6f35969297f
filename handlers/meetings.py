"""`/meeting`: schedule a partnership's meetings, collect replies, hand out calendar invites and
queue the reminders that the outbox (bot/scheduler.py) posts in the partnership's channels."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.bankholidays import REGION, bank_holiday, next_working_day
from handlers.buttons import ButtonData
from handlers.calendar import invite
from handlers.commands import Access, Command, HelpLine, button, form
from handlers.context import Caller
from handlers.dates import DateError, TimeRange, format_date, format_time_range, parse_when
from handlers.errors import CommandError
from handlers.forms import Choice, FieldErrors, FieldKind, Form, FormField, FormValues
from handlers.links import add_to_calendar
from handlers.logbook import member_partnership, my_partnerships
from handlers.lookup import find_partnership, require_lead, require_member
from handlers.parsing import FieldProblem, ParseError, check_length, parse_fields, row_number
from handlers.replies import Button, ChannelPost, Fact, Outcome, Reply, Section, Tone, Visibility
from storage import outbox, queries
from storage.models import (
    AgendaItem,
    DeliveryStatus,
    Meeting,
    MeetingSettings,
    MeetingStatus,
    Partnership,
    Rsvp,
    RsvpAnswer,
)
from storage.names import tidy_name
from storage.types import LONDON

SCHEDULE_FORM = "meeting.schedule"
REMINDER_KIND = "reminder"

DEFAULT_REMINDERS = (24 * 60, 60)  # minutes before: 1 day and 1 hour
MAX_REMINDERS = 5
SHORTEST_REMINDER, LONGEST_REMINDER = 5, 4 * 7 * 24 * 60
# A reminder posted this long after its time says "(delayed)".
LATE_AFTER = timedelta(minutes=2)
MAX_TITLE, MAX_WHERE, MAX_ITEM, MAX_ITEMS = 200, 500, 500, 30
NAMES_SHOWN = 12

ANSWER_LABELS = {
    RsvpAnswer.GOING: "Going",
    RsvpAnswer.NOT_GOING: "Can't make it",
    RsvpAnswer.MAYBE: "Maybe",
}
WHEN_EXAMPLE = "Thursday 5th February 11.30am-12.30pm"


# --- typed requests -------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleRequest:
    partnership: str
    when: str
    where: str | None
    agenda: tuple[str, ...]
    title: str | None


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
class SettingsRequest:
    partnership: str
    timezone: str | None
    reminders: str | None


SCHEDULE_FIELDS = ("when", "where", "agenda", "title")

meeting = Command("meeting",
                  "Schedule partnership meetings, collect replies, send invites and reminders",
                  "Meetings: schedule them, collect replies, and remind the channel",
                  notes=lambda caller: [
                      "Times: `5/2 11:30 to 12:30`, `Thursday 5th February 11.30am-12.30pm`, "
                      "`next Thursday 3pm for 1 hour`. Dates are day first; times are UK time "
                      "unless the partnership has another time zone.",
                      "A partnership's meetings are for its members: only they see their "
                      "details, schedule, move or cancel them. Anyone in the channel may press a "
                      "reply button; replies from outside the partnership are shown apart, as "
                      "guests'.",
                  ])


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
        example = caller.cmd(f"meeting move {number} when: {WHEN_EXAMPLE}")
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
                         f"when: {WHEN_EXAMPLE}")
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
    return ScheduleRequest(partnership, when, where, split_agenda(fields.get("agenda") or ""),
                           title)


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
              f"{WHEN_EXAMPLE}"
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
                      placeholder=WHEN_EXAMPLE,
                      hint="Day first, in UK time: 5/2 11:30 to 12:30, or next Thursday 3pm "
                           "for 1 hour."),
            FormField("where", "Where", max_length=MAX_WHERE,
                      placeholder="A school and room, or a video call link"),
            FormField("title", "Title", max_length=MAX_TITLE,
                      placeholder="Heads' network meeting"),
            FormField("agenda", "Agenda", FieldKind.LONG_TEXT, max_length=3000,
                      hint="One item per line, or separated by semicolons."),
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
    except CommandError as error:
        raise FieldErrors({"partnership": _plain(error.reply.plain_text())}) from None


def _plain(*texts: str) -> str:
    """Form errors are plain text: no code spans."""
    return " ".join(t.replace("`", "") for t in texts if t).replace("\n", " ")


def _parse_when(text: str, caller: Caller, tz: ZoneInfo) -> TimeRange:
    try:
        return parse_when(text, caller.now, tz)
    except DateError as error:
        raise FieldProblem("when", error.problem, error.hint,
                           f"For example `when: {WHEN_EXAMPLE}`.") from None


@meeting.subcommand(
    "schedule", "new", "add", usage="schedule <partnership> when: <date and time>",
    access=Access.MEMBER, parse=parse_schedule, group="Meetings",
    help=[HelpLine(f"meeting schedule East Barnet Area when: {WHEN_EXAMPLE} where: Monkfrith "
                   "agenda: Welcome; SEND update",
                   lambda c: "post it in the partnership's channel with reply buttons and a "
                             f"calendar invite (just {c.cmd('meeting schedule')} opens a form)")])
async def schedule_command(request: ScheduleRequest | ScheduleFormRequest, caller: Caller,
                           session: AsyncSession) -> Outcome:
    if isinstance(request, ScheduleFormRequest):
        return await schedule_form(request, caller, session)
    return await schedule(request, caller, session)


async def schedule(request: ScheduleRequest, caller: Caller, session: AsyncSession) -> Outcome:
    partnership = await find_partnership(session, caller, request.partnership,
                                         example="meeting schedule {name} when: " + WHEN_EXAMPLE)
    await require_member(session, caller, partnership)
    assert partnership.id is not None
    tz = timezone_of(partnership)
    when = _parse_when(request.when, caller, tz)
    meeting = Meeting(
        partnership_id=partnership.id, uid=f"{uuid.uuid4()}@partnership-bot",
        title=request.title or f"{partnership.name} meeting", starts_at=when.start,
        ends_at=when.end, timezone=tz.key, location=request.where, created_by=caller.user_id,
    )
    session.add(meeting)
    await session.flush()
    assert meeting.id is not None
    for position, text in enumerate(request.agenda, start=1):
        session.add(AgendaItem(meeting_id=meeting.id, position=position, text=text,
                               added_by=caller.user_id))
    await session.flush()
    queued = await sync_reminders(session, meeting, caller.now)
    links = await queries.channel_links(session, partnership.id)
    card = await meeting_card(session, meeting, partnership)
    agenda_items = await queries.agenda_of(session, meeting.id)
    lines = [f"Number {meeting.id}: {caller.cmd(f'meeting who {meeting.id}')} shows replies."]
    if not links:
        lines.append(f"{partnership.name} has no channel yet, so no one else has been told. "
                     f"Link one with {caller.cmd('partnership channel ' + partnership.name)}; "
                     "reminders will go there.")
    lines.append(_reminder_line(queued, await reminder_minutes(session, partnership.id)))
    reply = Reply.success(f"Scheduled {meeting.title}: {_when(meeting)}.", *lines)
    reply.sections += _holiday_warning(meeting, caller)
    return Outcome(
        reply,
        channel_posts=[ChannelPost(partnership.id, card, remember_as=card_key(meeting.id),
                                   attachment=invite(meeting, partnership.name, agenda_items,
                                                     caller.now),
                                   confirm="Posted in {channels} with reply buttons and “Add "
                                           "to calendar”.")],
    )


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

    @classmethod
    def of(cls, replies: Sequence[tuple[Rsvp, bool]]) -> Replies:
        """From queries.replies_to: each reply with whether a member gave it."""
        by_answer: dict[str, list[str]] = {a.value: [] for a in RsvpAnswer}
        guests: dict[str, list[str]] = {a.value: [] for a in RsvpAnswer}
        for rsvp, member in replies:
            (by_answer if member else guests).setdefault(rsvp.answer, []).append(
                rsvp.display_name)
        return cls(by_answer, guests,
                   frozenset((r.platform, r.user_id) for r, member in replies if member))

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
               style="primary" if a is RsvpAnswer.GOING else None)
        for a in (RsvpAnswer.GOING, RsvpAnswer.NOT_GOING, RsvpAnswer.MAYBE)
    ]
    if replies.guest_count:
        reply_lines.append(f"Guests, not in {partnership.name} (not counted): "
                           + "; ".join(replies.guest_lines()))
    sections.append(Section(heading="Replies", lines=reply_lines, buttons=buttons))
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
    for answer in (RsvpAnswer.GOING, RsvpAnswer.MAYBE, RsvpAnswer.NOT_GOING):
        names = replies.by_answer.get(answer.value, [])
        sections.append(Section(heading=f"{ANSWER_LABELS[answer]} ({len(names)})",
                                lines=names or ["No one yet."]))
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
    """A press of Going / Can't make it / Maybe on a meeting's card."""
    answer = pressed.answer
    meeting, partnership = await _find_meeting(session, caller, pressed.meeting_id)
    assert meeting.id is not None
    if meeting.status == MeetingStatus.CANCELLED:
        return Outcome(Reply.error(f"{meeting.title} was cancelled, so there is nothing to "
                                   "reply to."),
                       updated_message=await meeting_card(session, meeting, partnership))
    _require_upcoming(meeting, caller, "take replies for it")
    existing = await queries.rsvp_of(session, meeting.id, caller.platform, caller.user_id)
    if existing is None:
        existing = Rsvp(meeting_id=meeting.id, platform=caller.platform,
                        user_id=caller.user_id, display_name=caller.user_name,
                        answer=answer.value)
    else:
        existing.answer = answer.value
        existing.display_name = caller.user_name
        existing.answered_at = caller.now
    session.add(existing)
    await session.flush()
    said = {RsvpAnswer.GOING: "You're going to", RsvpAnswer.NOT_GOING: "You can't make",
            RsvpAnswer.MAYBE: "You might come to"}[answer]
    card = await meeting_card(session, meeting, partnership)
    assert partnership.id is not None
    guest = await queries.member(session, partnership.id, caller.platform,
                                 caller.user_id) is None
    return Outcome(
        Reply.success(f"{said} {meeting.title}: {_when(meeting)}.",
                      *([f"You are not a member of {partnership.name}, so your reply is shown "
                         "apart, as a guest's, and not counted with the members'."]
                        if guest else []),
                      "Press another button to change your reply."),
        updated_message=card,
        # Pressed away from the card (the App Home): the cards in the channels change too.
        channel_posts=[] if caller.channel_id else [
            ChannelPost(partnership.id, card, edit_of=card_key(meeting.id))],
    )


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
    help=[("meeting move 12 when: next Thursday 3pm for 1 hour",
           "move it; the channel gets a new invite and the reminders follow")])
async def move(request: MoveRequest, caller: Caller, session: AsyncSession) -> Outcome:
    meeting, partnership = await _find_meeting(session, caller, request.meeting_id)
    await require_member(session, caller, partnership)
    _require_upcoming(meeting, caller, "move it")
    when = _parse_when(request.when, caller, ZoneInfo(meeting.timezone))
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
                          _reminder_line(queued, wanted))
    reply.sections += _holiday_warning(meeting, caller)
    return Outcome(reply, channel_posts=posts)


@button(MoveOffHoliday)
async def move_off_holiday(pressed: MoveOffHoliday, caller: Caller,
                           session: AsyncSession) -> Outcome:
    """The button under a bank holiday warning: `/meeting move` to the time it offered, unless
    the meeting has been moved or changed since the warning."""
    meeting, _ = await _find_meeting(session, caller, pressed.meeting_id)
    if meeting.sequence != pressed.sequence:
        return Outcome(Reply.error(
            f"{meeting.title} has changed since that warning: it is now {_when(meeting)}.",
            "Move it with " + caller.cmd(f"meeting move {pressed.meeting_id} when: …") + "."))
    return await move(MoveRequest(pressed.meeting_id, pressed.when), caller, session)


@meeting.subcommand(
    "agenda", usage="agenda <n> [add: …]", access=Access.MEMBER, parse=parse_agenda,
    group="Meetings",
    help=[HelpLine("meeting agenda 12 add: Learning walk findings",
                   lambda c: f"add an item ({c.cmd('meeting agenda 12')} shows it)")])
async def agenda(request: AgendaRequest, caller: Caller, session: AsyncSession) -> Outcome:
    meeting, partnership = await _find_meeting(session, caller, request.meeting_id)
    assert meeting.id is not None and partnership.id is not None
    if request.add is None:
        await require_member_to_see(session, caller, partnership)
    items = list(await queries.agenda_of(session, meeting.id))
    if request.add is None:
        lines = [f"{n}. {item.text}" for n, item in enumerate(items, start=1)]
        return Outcome(Reply(title=f"Agenda for {meeting.title}: {_when(meeting)}",
                             sections=[Section(lines=lines or ["Nothing on it yet."]),
                                       Section(lines=[
                                           "Add an item with " + caller.cmd(
                                               f"meeting agenda {meeting.id} add: <item>")])]))
    await require_member(session, caller, partnership)
    _require_upcoming(meeting, caller, "change its agenda")
    if len(items) >= MAX_ITEMS:
        raise CommandError.because(f"The agenda already has {MAX_ITEMS} items, the most I keep.")
    position = max((i.position for i in items), default=0) + 1
    session.add(AgendaItem(meeting_id=meeting.id, position=position, text=request.add,
                           added_by=caller.user_id))
    await session.flush()
    card = await meeting_card(session, meeting, partnership)
    return Outcome(Reply.success(f"Added item {len(items) + 1} to the agenda of "
                                 f"{meeting.title}: {request.add}",
                                 "The meeting's message in the channel shows it, and so will "
                                 "the reminders."),
                   channel_posts=[ChannelPost(partnership.id, card,
                                              edit_of=card_key(meeting.id))])


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

