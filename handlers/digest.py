"""The weekly digest: one message a week in each partnership's channels saying what happened
(CPD sessions, learning walks, schools that joined), what is coming (meetings in the next two
weeks, with replies so far) and what is overdue (next steps past due, with their owners), with
a picture of the term's CPD coverage.

`/partnership digest` sets when it comes (leads) and previews it (members). Each partnership has
one digest per ISO week, queued in the delivery outbox under the key
`digest:<partnership>:<YYYY-Www>`: the outbox sends each key once, whatever restarts or how many
processes, and the planner here (run by every process, every few minutes) queues the next week's
once the last is out. The message is built when it falls due, from a fixed number of statements
(storage/digests.py), as a neutral Reply that every platform shows in its own way."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.bankholidays import REGION, bank_holiday, is_working_day, next_working_day
from handlers.chart import MAX_SCHOOLS_SHOWN, CoverageGrid, coverage_png
from handlers.context import Caller
from handlers.cpd import format_hours
from handlers.dates import (
    MONTHS,
    WEEKDAYS,
    DateError,
    TimeRange,
    format_date,
    format_time_range,
    parse_time_of_day,
    parse_weekday,
)
from handlers.links import open_in_browser, see_the_chart
from handlers.lookup import find_partnership, require_lead, require_member
from handlers.meetings import ANSWER_LABELS, timezone_of
from handlers.parsing import ParseError, parse_fields
from handlers.replies import (
    Attachment,
    ChannelPost,
    Fact,
    Outcome,
    Person,
    Reply,
    Section,
    Skip,
    Tone,
    Visibility,
)
from handlers.schoolyear import Term, school_term, short_date
from storage import digests, outbox, queries
from storage.db import Database
from storage.digests import Capped, Coverage, CpdItem, MeetingItem, StepItem, WalkItem
from storage.models import (
    BankHolidays,
    DeliveryStatus,
    DigestSettings,
    Partnership,
    QuietWeek,
    RsvpAnswer,
    ScheduledDelivery,
)
from storage.names import tidy_name
from storage.types import LONDON, utcnow

DIGEST_KIND = "digest"
# Items shown per list; the rest are counted ("…and 12 more") with the command that lists them.
LIST_CAP = 8
AHEAD = timedelta(days=14)
# A digest that could not go out within a day is stale: the next week's says it all again.
SHELF_LIFE = timedelta(days=1)
PLAN_BATCH = 500
NAMES_SHOWN = 10

_CRON_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


# --- when it is sent -------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    """A partnership's digest settings, the defaults where it has none."""

    enabled: bool = True
    weekday: int = 0
    at: time = time(8, 0)
    quiet: QuietWeek = QuietWeek.NOTE
    bank_holidays: BankHolidays = BankHolidays.MOVE

    @classmethod
    def of(cls, row: DigestSettings | None) -> Timing:
        if row is None:
            return cls()
        return cls(row.enabled, row.weekday, time(row.hour, row.minute), QuietWeek(row.quiet_week),
                   BankHolidays(row.bank_holidays))

    def describe(self, tz: ZoneInfo) -> str:
        """"Mondays at 08:00 (UK time)"."""
        zone = "UK time" if tz.key == LONDON.key else tz.key
        return f"{WEEKDAYS[self.weekday]}s at {self.at:%H:%M} ({zone})"

    def quiet_words(self) -> str:
        return ("a one-line “quiet week” note" if self.quiet is QuietWeek.NOTE
                else "nothing at all")

    def holiday_words(self) -> str:
        return ("posted the next working day" if self.bank_holidays is BankHolidays.MOVE
                else "posted as usual")


def next_send(timing: Timing, tz: ZoneInfo, after: datetime) -> datetime:
    """The first send time at or after `after`, on the partnership's local clock (so 08:00
    stays 08:00 across the clock changes), in UTC."""
    trigger = CronTrigger(day_of_week=_CRON_DAYS[timing.weekday], hour=timing.at.hour,
                          minute=timing.at.minute, timezone=tz)
    fire: datetime | None = trigger.get_next_fire_time(None, after.astimezone(tz))
    assert fire is not None  # a weekly trigger always fires again
    return fire.astimezone(UTC)


def moved_off_holidays(timing: Timing, tz: ZoneInfo, regular: datetime) -> datetime:
    """When the digest whose regular time is `regular` goes out: then, or, when that day is an
    England and Wales bank holiday and the partnership has not chosen to keep it, at the same
    time on the next working day (Easter Monday's on Tuesday; Christmas's after Boxing Day)."""
    local = regular.astimezone(tz)
    if timing.bank_holidays is BankHolidays.KEEP or bank_holiday(local.date()) is None:
        return regular
    return datetime.combine(next_working_day(local.date()), local.time(),
                            tzinfo=tz).astimezone(UTC)


def regular_day(timing: Timing, day: date) -> date:
    """The day a digest posted on `day` stands for: `day`, or the bank holiday on the
    partnership's digest day it was moved off (the week it looks back on ends before that)."""
    if timing.bank_holidays is BankHolidays.MOVE:
        back = day - timedelta(days=1)
        while back > day - timedelta(days=7) and not is_working_day(back):
            if back.weekday() == timing.weekday and bank_holiday(back) is not None:
                return back
            back -= timedelta(days=1)
    return day


def iso_week(moment: datetime, tz: ZoneInfo) -> str:
    """"2026-W10": the ISO week of `moment` on the local calendar."""
    year, week, _ = moment.astimezone(tz).isocalendar()
    return f"{year}-W{week:02d}"


def parse_iso_week(text: str) -> date:
    """The Monday of "2026-W10"; ValueError if it is not a real ISO week."""
    year, _, week = text.strip().upper().partition("-W")
    if not (year.isdigit() and week.isdigit()):
        raise ValueError(f"{text!r} is not a week like 2026-W10")
    return date.fromisocalendar(int(year), int(week), 1)


def digest_prefix(partnership_id: int) -> str:
    return f"{DIGEST_KIND}:{partnership_id}:"


def digest_key(partnership_id: int, week: str) -> str:
    return f"{digest_prefix(partnership_id)}{week}"


def _candidates(partnership: Partnership, timing: Timing, now: datetime) -> list[tuple[datetime,
                                                                                      str]]:
    """The next send time and the one in the following week, with their keys: when this
    week's digest has already gone, the next is the following week's. A digest moved off a bank
    holiday keeps the key of its regular day's week, and may still be ahead when its regular
    time has passed, so the search starts a week back."""
    assert partnership.id is not None
    tz = timezone_of(partnership)
    found: list[tuple[datetime, str]] = []
    regular = next_send(timing, tz, now - timedelta(days=7))
    while len(found) < 2:
        fire = moved_off_holidays(timing, tz, regular)
        if fire >= now:
            found.append((fire, digest_key(partnership.id, iso_week(regular, tz))))
        regular = next_send(timing, tz, regular + timedelta(minutes=1))
    return found


async def plan(session: AsyncSession, partnership: Partnership, timing: Timing, now: datetime,
               statuses: dict[str, str] | None = None, may_be_waiting: bool = True,
               ) -> datetime | None:
    """Make the outbox hold the partnership's next digest at the time its settings say, in the
    caller's transaction: queue it, move it, or (turned off) cancel it. The time queued."""
    assert partnership.id is not None
    prefix = digest_prefix(partnership.id)
    waiting = await outbox.pending_keys(session, prefix) if may_be_waiting else []
    if not timing.enabled:
        await outbox.cancel(session, waiting, "the digest was turned off")
        return None
    candidates = _candidates(partnership, timing, now)
    if statuses is None:
        statuses = await digests.statuses_of(session, [key for _, key in candidates])
    # A week whose digest was sent, is being sent, failed or was skipped has had its turn.
    open_to = (None, DeliveryStatus.PENDING.value, DeliveryStatus.CANCELLED.value)
    chosen = next(((fire, key) for fire, key in candidates if statuses.get(key) in open_to),
                  None)
    if chosen is None:
        return None
    fire, key = chosen
    await outbox.cancel(session, [k for k in waiting if k != key],
                        "the digest's day or time changed")
    if statuses.get(key) is None:
        await outbox.enqueue(session, kind=DIGEST_KIND, partnership_id=partnership.id,
                             dedupe_key=key, due_at=fire, expires_at=fire + SHELF_LIFE,
                             payload={"partnership_id": partnership.id,
                                      "week": key.removeprefix(prefix)})
    else:
        await outbox.reschedule(session, key, fire, fire + SHELF_LIFE)
    return fire


async def plan_due(session: AsyncSession, now: datetime) -> int:
    """Queue the next digest of every partnership that has a channel, the digest on, and none
    waiting: run by each process every few minutes. Several processes may plan at once: the
    unique key keeps one row per partnership and week. The number queued."""
    planned, after = 0, 0
    while True:
        rows = await digests.partnerships_without_a_waiting_digest(session, DIGEST_KIND, after,
                                                                   PLAN_BATCH)
        wanted = {p.id: (p, Timing.of(s), _candidates(p, Timing.of(s), now)) for p, s in rows}
        statuses = await digests.statuses_of(
            session, [key for _, _, candidates in wanted.values() for _, key in candidates])
        for partnership, timing, _ in wanted.values():
            if await plan(session, partnership, timing, now, statuses, may_be_waiting=False):
                planned += 1
        if len(rows) < PLAN_BATCH:
            return planned
        after = rows[-1][0].id or 0


# --- what it says ----------------------------------------------------------------------------


@dataclass
class DigestData:
    """Everything one week's digest shows, read at its send time."""

    partnership: Partnership
    tz: ZoneInfo
    sent_at: datetime
    first: date  # the week looked back on, inclusive
    last: date
    # What was logged after `since` (the last digest's due time, or the week's start when
    # there was none) up to `sent_at` is reported, whatever date it happened on.
    since: datetime
    first_digest: bool
    term: Term
    # The bank holiday it was moved off, with its name, or None.
    moved_from: tuple[date, str] | None
    cpd: Capped[CpdItem]
    walks: Capped[WalkItem]
    deleted: Capped[str]
    joined: Capped[str]
    meetings: Capped[MeetingItem]
    overdue: Capped[StepItem]
    coverage: Coverage

    @property
    def quiet(self) -> bool:
        """Nothing was logged, nothing is coming, nothing is late."""
        return not (self.cpd.total or self.walks.total or self.deleted.total
                    or self.joined.total or self.meetings.total or self.overdue.total)

    @property
    def week(self) -> str:
        regular = self.moved_from[0] if self.moved_from else self.sent_at.astimezone(self.tz)
        year, week, _ = regular.isocalendar()
        return f"{year}-W{week:02d}"

    @property
    def period(self) -> str:
        """"week ending Sunday 29 November" when the last digest went out within the week;
        "since Monday 23 November" for the first digest, or when the last was longer ago (the
        digest was off, or a week's failed): never a phrase that reads as the coming week."""
        start = datetime.combine(self.first, time(0), tzinfo=self.tz)
        if not self.first_digest and self.since >= start:
            return f"week ending {_long_day(self.last, self.sent_at.astimezone(self.tz).year)}"
        since = self.since.astimezone(self.tz).date() if not self.first_digest else self.first
        return f"since {_long_day(since, self.sent_at.astimezone(self.tz).year)}"


def _long_day(day: date, this_year: int) -> str:
    """"Sunday 29 November", with the year when it is not the digest's own."""
    year = f" {day.year}" if day.year != this_year else ""
    return f"{WEEKDAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]}{year}"


async def gather(session: AsyncSession, partnership: Partnership, sent_at: datetime,
                 timing: Timing | None = None) -> DigestData:
    """The digest sent at `sent_at`: what was logged or changed since the last digest (or, for
    the first, since the start of the seven days before its day: its regular day, when it was
    moved off a bank holiday), the two weeks after its moment, next steps overdue on its day,
    and the term's CPD. Twelve statements, however much the partnership has logged."""
    assert partnership.id is not None
    tz = timezone_of(partnership)
    day = sent_at.astimezone(tz).date()
    regular = regular_day(timing or Timing(), day)
    holiday = bank_holiday(regular) if regular != day else None
    moved_from = (regular, holiday) if holiday is not None else None
    first, last = regular - timedelta(days=7), regular - timedelta(days=1)
    week_start = datetime.combine(first, time(0), tzinfo=tz).astimezone(UTC)
    previous = await digests.last_digest_due(session, digest_prefix(partnership.id), sent_at)
    since = previous if previous is not None else week_start
    term = school_term(day)
    pid = partnership.id
    return DigestData(
        partnership, tz, sent_at, first, last, since, previous is None, term, moved_from,
        cpd=await digests.cpd_logged(session, pid, since, sent_at, LIST_CAP),
        walks=await digests.walks_logged(session, pid, since, sent_at, LIST_CAP),
        deleted=await digests.records_deleted(session, pid, since, sent_at, LIST_CAP),
        joined=await digests.schools_joined(session, pid, since, sent_at, NAMES_SHOWN),
        meetings=await digests.meetings_ahead(session, [pid], sent_at, sent_at + AHEAD,
                                              LIST_CAP),
        overdue=await digests.overdue_steps(session, pid, day, LIST_CAP),
        coverage=await digests.coverage(session, pid, term.start, term.end),
    )


def day_label(day: date) -> str:
    """"Thu 26 Feb 2026"."""
    return f"{WEEKDAYS[day.weekday()][:3]} {short_date(day)}"


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _more(capped: Capped[Any], command: str) -> list[str]:
    return [f"…and {capped.hidden:,} more: `{command}` lists them."] if capped.hidden else []


EDITED = "edited since the last digest"


def _cpd_line(item: CpdItem) -> str:
    parts = [day_label(item.held_on), item.title, item.theme]
    if item.host:
        parts.append(f"at {item.host}")
    if item.minutes:
        parts.append(format_hours(item.minutes))
    if item.edited:
        parts.append(EDITED)
    return " · ".join(parts)


def _walk_line(item: WalkItem) -> str:
    parts = [day_label(item.walked_on), item.host, f"focus: {item.focus}"]
    if item.edited:
        parts.append(EDITED)
    return " · ".join(parts)


def meeting_when(item: MeetingItem) -> str:
    """"Thursday 5 March 2026, 11:30–12:30 (GMT) · Monkfrith"."""
    when = format_time_range(TimeRange(item.starts_at, item.ends_at), ZoneInfo(item.timezone))
    return when + (f" · {item.location}" if item.location else "")


def meeting_replies(item: MeetingItem) -> str:
    """"Going: 3 · Can't make it: 1 · Maybe: 0", in the order of the meeting card's buttons."""
    counts = {RsvpAnswer.GOING: item.going, RsvpAnswer.NOT_GOING: item.not_going,
              RsvpAnswer.MAYBE: item.maybe}
    return " · ".join(f"{ANSWER_LABELS[a]}: {n}" for a, n in counts.items())


def _meeting_line(item: MeetingItem) -> str:
    return f"{item.title}: {meeting_when(item)} · {meeting_replies(item)} (meeting {item.id})"


def step_fact(item: StepItem, today: date) -> Fact:
    """An open action: its number and words (or the walk it came from), owner, when due."""
    owner = (Person(item.owner_name, item.owner_user_id, item.platform),) \
        if item.owner_name or item.owner_user_id else ()
    if item.due_on is None:
        due = "no due date"
    else:
        late = (today - item.due_on).days
        due = f"due {short_date(item.due_on)}" + (f" ({_plural(late, 'day')} overdue)"
                                                  if late > 0 else "")
    # A walk's step is named by its walk, never by its words: they are the walk's notes.
    label = (f"Walk #{item.walk_id} at {item.host}: {item.focus} (action {item.action_id})"
             if item.walk_id is not None else
             f"Action {item.action_id}: {_short(item.description)}")
    return Fact(label,
                f"· {due}" if owner else f"{due}, no owner named", people=owner)


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def coverage_lines(coverage: Coverage, term: Term) -> list[str]:
    """The text picture of the term's CPD: every theme, with how many schools it reached."""
    if coverage.total == 0:
        return [f"No CPD sessions logged yet this {term.name}."]
    schools = len(coverage.schools)
    lines = []
    for theme in coverage.themes:
        assert theme.id is not None
        sessions = coverage.sessions.get(theme.id, 0)
        if theme.retired and not sessions:
            continue
        name = theme.name + (" (no longer a theme)" if theme.retired else "")
        if not sessions:
            lines.append(f"{name}: none yet")
            continue
        lines.append(f"{name}: {_plural(sessions, 'session')}"
                     f"{theme_attendance(coverage, theme.id, schools)}")
    untouched = [s.name for s in coverage.schools
                 if not any(coverage.attended.get((t.id or 0, s.id or 0)) for t in coverage.themes)]
    if untouched and any(coverage.with_schools(t.id or 0) for t in coverage.themes):
        shown = ", ".join(untouched[:NAMES_SHOWN])
        more = f" and {len(untouched) - NAMES_SHOWN} more" if len(untouched) > NAMES_SHOWN else ""
        unknown = sum(coverage.without_schools.values())
        caveat = (f" (at {_plural(unknown, 'session')} the schools were not recorded)"
                  if unknown else "")
        lines.append(f"No CPD attended yet this term: {shown}{more}{caveat}.")
    return lines


def theme_attendance(coverage: Coverage, theme_id: int, schools: int) -> str:
    """After a theme's session count: ", 2 of 3 schools attended", counted only over the
    sessions that recorded their schools, and ", 14 attendees (schools not recorded)" for the
    ones that did not ("…at 1 session" when the theme has both kinds)."""
    parts = []
    with_schools = coverage.with_schools(theme_id)
    if with_schools and schools:
        reached = sum(1 for s in coverage.schools if coverage.attended.get((theme_id, s.id or 0)))
        parts.append(f"{reached} of {_plural(schools, 'school')} attended")
    unschooled = coverage.without_schools.get(theme_id, 0)
    if unschooled:
        people = coverage.attendees_without_schools.get(theme_id, 0)
        words = (f"{_plural(people, 'attendee')}" if people else "attendance not recorded")
        if with_schools:
            words += f" at {_plural(unschooled, 'session')}"
        parts.append(words + (" (schools not recorded)" if people else ""))
    return "".join(f", {p}" if n == 0 else f"; {p}" for n, p in enumerate(parts))


def digest_reply(data: DigestData, timing: Timing) -> Reply:
    """The digest as a neutral reply; long lists cut, each with the command that shows all."""
    name = data.partnership.name
    today = data.sent_at.astimezone(data.tz).date()
    sections: list[Section] = []
    empty: list[str] = []

    def listed(capped: Capped[Any], heading: str, nothing: str, lines: list[str],
               command: str) -> None:
        if capped.total:
            sections.append(Section(heading=f"{heading} ({capped.total:,})",
                                    lines=lines + _more(capped, command)))
        else:
            empty.append(nothing)

    listed(data.cpd, "CPD sessions", "CPD sessions", [_cpd_line(i) for i in data.cpd.items],
           f"/cpd list {name}")
    listed(data.walks, "Learning walks", "learning walks",
           [_walk_line(w) for w in data.walks.items],
           # the earliest walk listed is the earliest of all: they come by date
           f"/walk list {name}" + (f" since: {data.walks.items[0].walked_on.isoformat()}"
                                   if data.walks.items else ""))
    if data.deleted.total:
        sections.append(Section(heading=f"Deleted ({data.deleted.total:,})",
                                lines=list(data.deleted.items)
                                + _more(data.deleted, f"/cpd list {name}")))
    listed(data.joined, "Schools that joined", "new schools", list(data.joined.items),
           f"/partnership info {name}")
    listed(data.meetings, "Meetings in the next two weeks", "meetings in the next two weeks",
           [_meeting_line(m) for m in data.meetings.items], f"/meeting list {name}")
    if data.overdue.total:
        sections.append(Section(heading=f"Overdue next steps ({data.overdue.total:,})",
                                facts=[step_fact(s, today) for s in data.overdue.items]))
        if data.overdue.hidden:
            sections.append(Section(lines=_more(data.overdue, f"/walk list {name}")))
    else:
        empty.append("overdue next steps")
    if empty:
        sections.append(Section(lines=["Nothing this week: " + ", ".join(empty) + "."]))
    sections.append(Section(heading=f"CPD coverage this {data.term.name}",
                            lines=coverage_lines(data.coverage, data.term)))
    assert data.partnership.id is not None
    buttons = [open_in_browser(data.partnership.id)]
    if data.coverage.total and data.coverage.schools:
        buttons.append(see_the_chart(data.partnership.id))
    sections.append(Section(lines=[
        f"Lists what was logged {_logged_since(data)}, whatever day it happened on. Posted "
        f"{timing.describe(data.tz)}{_moved_words(data)}. `/partnership digest {name}` shows "
        "the settings; a lead can change them."],
        buttons=buttons))
    return Reply(title=f"Weekly digest for {name}: {data.period}",
                 sections=sections, visibility=Visibility.PUBLIC)


def _logged_since(data: DigestData) -> str:
    """"since the last digest (Monday 23 November 2026 at 08:00)", or since the week began."""
    if data.first_digest:
        return f"since {_long_day(data.first, data.last.year)}"
    return f"since the last digest ({_moment(data.since, data.tz)})"


def _moved_words(data: DigestData) -> str:
    """", a day late this week: Monday 31 August is the Late Summer Bank Holiday", or ""."""
    if data.moved_from is None:
        return ""
    day, holiday = data.moved_from
    late = (data.sent_at.astimezone(data.tz).date() - day).days
    return (f", {'a day' if late == 1 else f'{late} days'} late this week: "
            f"{format_date(day)} is a bank holiday in {REGION} ({holiday})")


def quiet_reply(data: DigestData) -> Reply:
    moved = _moved_words(data).removeprefix(", ")
    return Reply(title=f"A quiet week in {data.partnership.name}: nothing logged "
                       f"{_logged_since(data)}, no meetings in the next two weeks, and "
                       "nothing overdue.",
                 sections=[Section(lines=[f"Posted {moved}."])]
                 if moved else [],
                 visibility=Visibility.PUBLIC)


def coverage_grid(coverage: Coverage, term: Term, partnership: str,
                  period: str | None = None) -> CoverageGrid | None:
    """The chart's rows (themes with their session counts) and columns (the schools that
    attended most, up to what stays readable); None when there is nothing to draw."""
    if coverage.total == 0 or not coverage.schools:
        return None  # nothing to draw, or no schools to draw it against: the text says it
    themes = [t for t in coverage.themes
              if not t.retired or coverage.sessions.get(t.id or 0, 0)]
    by_school: dict[int, int] = dict.fromkeys((s.id or 0 for s in coverage.schools), 0)
    for (_, school), n in coverage.attended.items():
        by_school[school] = by_school.get(school, 0) + n
    schools = sorted(coverage.schools, key=lambda s: (-by_school[s.id or 0], s.name))
    shown = schools[:MAX_SCHOOLS_SHOWN]
    hidden = len(schools) - len(shown)
    title = (f"{partnership}: CPD sessions per theme {period or f'this {term.name}'} (in "
             "brackets), and how many of them each school's staff attended")
    if hidden:
        title += f" ({hidden} schools with the fewest not shown)"
    return CoverageGrid(
        title=title,
        themes=[t.name for t in themes],
        sessions=[coverage.sessions.get(t.id or 0, 0) for t in themes],
        schools=[s.name for s in shown],
        counts=[[coverage.attended.get((t.id or 0, s.id or 0), 0) for s in shown]
                for t in themes],
        notes=tuple(unrecorded_notes(coverage)),
    )


def unrecorded_notes(coverage: Coverage) -> list[str]:
    """The chart's notes for the themes with sessions that did not record their schools:
    their attendees are shown as given, not as schools that stayed away."""
    notes = []
    for theme in coverage.themes:
        unschooled = coverage.without_schools.get(theme.id or 0, 0)
        if not unschooled:
            continue
        people = coverage.attendees_without_schools.get(theme.id or 0, 0)
        counted = _plural(people, "attendee") if people else "attendance not recorded"
        notes.append(f"{theme.name}: {counted} at {_plural(unschooled, 'session')} "
                     "(schools not recorded)")
    return notes


async def chart(data: DigestData) -> Attachment | None:
    """The coverage chart as a PNG, drawn in a worker thread (matplotlib is CPU-bound)."""
    grid = coverage_grid(data.coverage, data.term, data.partnership.name)
    if grid is None:
        return None
    png = await asyncio.to_thread(coverage_png, grid)
    return Attachment(filename=f"cpd-coverage-{data.week}.png", content=png,
                      title=f"CPD coverage, {data.term.name}", mimetype="image/png")


async def render_scheduled(payload: dict[str, Any], due_at: datetime, now: datetime,
                           session: AsyncSession) -> ChannelPost | Skip | None:
    """The outbox's renderer for digests: the week's message (and chart), a quiet-week note,
    a Skip, or None if the digest is no longer wanted (turned off, partnership gone)."""
    found = await digests.partnership_with_settings(session, int(payload.get("partnership_id",
                                                                             0)))
    if found is None:
        return None
    partnership, row = found
    timing = Timing.of(row)
    if not timing.enabled:
        return None
    assert partnership.id is not None
    data = await gather(session, partnership, due_at, timing)
    if data.quiet:
        if timing.quiet is QuietWeek.SKIP:
            return Skip("a quiet week: nothing to report, and quiet weeks are set to send "
                        "nothing")
        return ChannelPost(partnership.id, quiet_reply(data))
    return ChannelPost(partnership.id, digest_reply(data, timing), attachment=await chart(data))


# --- /partnership digest ----------------------------------------------------------------------

Action = Literal["show", "set", "on", "off", "preview"]
_VERBS: dict[str, Action] = {"preview": "preview", "off": "off", "on": "on", "show": "show",
                             "settings": "show", "stop": "off", "start": "on"}
_QUIET_WORDS = {
    "note": QuietWeek.NOTE, "message": QuietWeek.NOTE, "line": QuietWeek.NOTE,
    "send": QuietWeek.NOTE, "yes": QuietWeek.NOTE,
    "skip": QuietWeek.SKIP, "nothing": QuietWeek.SKIP, "none": QuietWeek.SKIP,
    "silent": QuietWeek.SKIP, "no": QuietWeek.SKIP, "off": QuietWeek.SKIP,
}
_HOLIDAY_WORDS = {
    "move": BankHolidays.MOVE, "next": BankHolidays.MOVE, "next working day": BankHolidays.MOVE,
    "skip": BankHolidays.MOVE, "keep": BankHolidays.KEEP, "send": BankHolidays.KEEP,
    "as usual": BankHolidays.KEEP, "post": BankHolidays.KEEP,
}
FIELDS = ("day", "time", "quiet", "holidays", "bank holidays")
EXAMPLE = "partnership digest East Barnet Area day: Monday time: 08:00"


@dataclass(frozen=True)
class DigestRequest:
    partnership: str
    action: Action = "show"
    weekday: int | None = None
    at: time | None = None
    quiet: QuietWeek | None = None
    bank_holidays: BankHolidays | None = None


def parse_request(text: str, caller: Caller) -> DigestRequest:
    parsed = parse_fields(text, FIELDS)
    words = parsed.positional.split()
    verb = _VERBS.get(words[-1].lower()) if words else None
    name = tidy_name(" ".join(words[:-1] if verb else words))
    if not name:
        raise ParseError("Which partnership's digest?", f"For example {caller.cmd(EXAMPLE)}, or "
                         f"{caller.cmd('partnership digest East Barnet Area preview')}.")
    example = caller.cmd(EXAMPLE.replace("East Barnet Area", name))
    if parsed.fields and verb in ("off", "preview", "show"):
        raise ParseError(f"`{words[-1]}` and settings can't go together.",
                         f"Change the settings with {example}; "
                         + caller.cmd(f"partnership digest {name} {words[-1].lower()}")
                         + " on its own.")
    weekday = at = quiet = None
    if "day" in parsed.fields:
        weekday = parse_weekday(parsed.fields["day"])
        if weekday is None:
            raise ParseError(f"“{parsed.fields['day']}” is not a day of the week.",
                             f"Write it like {example}.")
    if "time" in parsed.fields:
        try:
            at = parse_time_of_day(parsed.fields["time"])
        except DateError as error:
            raise ParseError(error.problem, error.hint, f"For example {example}.") from None
    if "quiet" in parsed.fields:
        quiet = _QUIET_WORDS.get(parsed.fields["quiet"].strip().lower())
        if quiet is None:
            raise ParseError(f"`quiet:` takes `note` or `skip`, not “{parsed.fields['quiet']}”.",
                             "`quiet: note` posts a one-line note in a week with nothing to "
                             "report; `quiet: skip` posts nothing then.")
    holidays_given = parsed.get("holidays") or parsed.get("bank holidays")
    bank_holidays = None
    if holidays_given is not None:
        bank_holidays = _HOLIDAY_WORDS.get(" ".join(holidays_given.lower().split()))
        if bank_holidays is None:
            raise ParseError(f"`holidays:` takes `move` or `keep`, not “{holidays_given}”.",
                             "`holidays: move` posts the digest the next working day when its "
                             "day is a bank holiday; `holidays: keep` posts it on the holiday.")
    action: Action = verb or ("set" if parsed.fields else "show")
    if verb == "on" and parsed.fields:
        action = "set"
    return DigestRequest(name, action, weekday, at, quiet, bank_holidays)


async def run(request: DigestRequest, caller: Caller, session: AsyncSession) -> Outcome:
    partnership = await find_partnership(session, caller, request.partnership,
                                         example="partnership digest {name}")
    if request.action in ("show", "preview"):
        await require_member(session, caller, partnership)
        if request.action == "preview":
            return Outcome(await preview(session, partnership, caller))
        return Outcome(await describe(session, partnership, caller))
    await require_lead(session, caller, partnership, "change its weekly digest")
    return Outcome(await change(session, partnership, request, caller))


def _channels(links: Sequence[Any]) -> str:
    return ", ".join(f"#{link.channel_name or link.channel_id}" for link in links)


def _moment(moment: datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    return f"{format_date(local.date())} at {local:%H:%M}"


def _next_moment(fire: datetime, timing: Timing, tz: ZoneInfo) -> str:
    """When the next digest goes, and why, when a bank holiday moved it."""
    day = fire.astimezone(tz).date()
    regular = regular_day(timing, day)
    why = (f" ({format_date(regular)} is a bank holiday: {bank_holiday(regular)})"
           if regular != day else "")
    return _moment(fire, tz) + why


async def change(session: AsyncSession, partnership: Partnership, request: DigestRequest,
                 caller: Caller) -> Reply:
    assert partnership.id is not None
    tz = timezone_of(partnership)
    row = await digests.digest_settings(session, partnership.id) or \
        DigestSettings(partnership_id=partnership.id)
    before = Timing.of(row)
    if request.weekday is not None:
        row.weekday = request.weekday
    if request.at is not None:
        row.hour, row.minute = request.at.hour, request.at.minute
    if request.quiet is not None:
        row.quiet_week = request.quiet.value
    if request.bank_holidays is not None:
        row.bank_holidays = request.bank_holidays.value
    row.enabled = request.action != "off"
    row.updated_by, row.updated_at = caller.user_id, caller.now
    session.add(row)
    await session.flush()
    timing = Timing.of(row)
    name = partnership.name
    if not timing.enabled:
        await plan(session, partnership, timing, caller.now)
        if not before.enabled:
            return Reply(title=f"The weekly digest of {name} is already off.")
        return Reply.success(f"Turned off the weekly digest of {name}.",
                             "Turn it back on with "
                             + caller.cmd(f"partnership digest {name} on") + ".")
    links = await queries.channel_links(session, partnership.id)
    lines = [f"In a quiet week it posts {timing.quiet_words()}.",
             f"When its day is a bank holiday it is {timing.holiday_words()}."]
    if links:
        fire = await plan(session, partnership, timing, caller.now)
        if fire is not None:
            lines.insert(0, f"Next: {_next_moment(fire, timing, tz)}, in {_channels(links)}.")
    else:
        lines.insert(0, f"{name} has no channel yet, so it will start once a lead links one "
                        f"with {caller.cmd(f'partnership channel {name}')}.")
    lines.append(f"See it now with {caller.cmd(f'partnership digest {name} preview')}.")
    title = (f"The weekly digest of {name} is back on: {timing.describe(tz)}."
             if not before.enabled else
             f"The weekly digest of {name} now comes on {timing.describe(tz)}.")
    return Reply.success(title, *lines)


async def describe(session: AsyncSession, partnership: Partnership, caller: Caller) -> Reply:
    assert partnership.id is not None
    tz = timezone_of(partnership)
    timing = Timing.of(await digests.digest_settings(session, partnership.id))
    links = await queries.channel_links(session, partnership.id)
    prefix = digest_prefix(partnership.id)
    facts = [Fact("Status", "on" if timing.enabled else "off"),
             Fact("When", timing.describe(tz)),
             Fact("Quiet weeks", timing.quiet_words()),
             Fact("Bank holidays", timing.holiday_words()),
             Fact("Channels", _channels(links) or "none linked yet")]
    waiting = await digests.waiting_delivery(session, prefix)
    if waiting is not None and timing.enabled:
        facts.append(Fact("Next", _next_moment(waiting.due_at, timing, tz)))
    last = await digests.latest_delivery(session, prefix, caller.now)
    if last is not None:
        facts.append(Fact("Last", _delivery_state(last, tz)))
    name = partnership.name
    return Reply(title=f"Weekly digest of {name}", sections=[
        Section(facts=facts),
        Section(lines=[
            f"{caller.cmd(f'partnership digest {name} preview')} shows this week's as it stands.",
            "A lead changes it with " + caller.cmd(EXAMPLE.replace("East Barnet Area", name))
            + ", `quiet: note` or `quiet: skip`, `holidays: move` or `holidays: keep`, or "
            + caller.cmd(f"partnership digest {name} off") + ".",
        ]),
    ])


def _delivery_state(row: ScheduledDelivery, tz: ZoneInfo) -> str:
    if row.status == DeliveryStatus.SENT and row.sent_at is not None:
        return f"sent {_moment(row.sent_at, tz)}"
    if row.status == DeliveryStatus.SKIPPED:
        return f"skipped {_moment(row.due_at, tz)} (a quiet week)"
    if row.status in (DeliveryStatus.FAILED, DeliveryStatus.DROPPED):
        return f"not sent {_moment(row.due_at, tz)}: {row.last_error or row.status}"
    retry = f", retrying: {row.last_error}" if row.last_error else ""
    return f"due {_moment(row.due_at, tz)}{retry}"


async def preview(session: AsyncSession, partnership: Partnership, caller: Caller) -> Reply:
    """Exactly the message the next digest would be, from what is logged so far, for the
    caller's eyes only."""
    assert partnership.id is not None
    tz = timezone_of(partnership)
    timing = Timing.of(await digests.digest_settings(session, partnership.id))
    links = await queries.channel_links(session, partnership.id)
    send_at = _candidates(partnership, timing, caller.now)[0][0]
    data = await gather(session, partnership, send_at, timing)
    where = _channels(links) or "its channel (none is linked yet)"
    when = f"on {_moment(send_at, tz)}"
    if not timing.enabled:
        note = f"The digest is off, so nothing is posted; if it were on, {where} would get this"
    else:
        note = f"{where} gets this {when}, unless more is logged before then"
        note = note[0].upper() + note[1:]
    if data.quiet and timing.quiet is QuietWeek.SKIP:
        return Reply(title=f"Nothing to report for {partnership.name} so far, and quiet weeks "
                           "are set to post nothing.", sections=[Section(lines=[
                               f"If nothing is logged before {_moment(send_at, tz)}, no digest "
                               "is posted that week."])])
    reply = quiet_reply(data) if data.quiet else digest_reply(data, timing)
    chart_note = (" A chart of the term's CPD coverage goes with it (in the message's thread "
                  "in Slack, and behind “See the chart” everywhere)."
                  if not data.quiet and data.coverage.total and data.coverage.schools else "")
    return replace(reply, visibility=Visibility.PRIVATE, tone=Tone.INFO, sections=[
        *reply.sections, Section(lines=[f"Preview, seen only by you. {note}.{chart_note}"])])


def help_lines(caller: Caller) -> list[str]:
    c = caller.cmd
    return [
        f"{c('partnership digest East Barnet Area')}: when its weekly digest is posted, and "
        "what went out last",
        f"{c(EXAMPLE)}: post it then (leads; also `quiet: note` or `quiet: skip`, "
        "`holidays: move` or `holidays: keep`, and "
        f"{c('partnership digest East Barnet Area off')})",
        f"{c('partnership digest East Barnet Area preview')}: see it now, only you",
    ]



async def after_linking(session: AsyncSession, partnership: Partnership, caller: Caller) -> str:
    """Queue the digest for a newly linked channel at once (the planner would within minutes),
    and the line telling the lead when it comes."""
    assert partnership.id is not None
    tz = timezone_of(partnership)
    timing = Timing.of(await digests.digest_settings(session, partnership.id))
    change_it = caller.cmd(f"partnership digest {partnership.name}")
    if not timing.enabled:
        return f"Its weekly digest is off; {change_it} shows how to turn it on."
    fire = await plan(session, partnership, timing, caller.now)
    when = f", the next on {_next_moment(fire, timing, tz)}" if fire is not None else ""
    return (f"Its weekly digest will be posted here {timing.describe(tz)}{when}; "
            f"{change_it} shows how to change that.")


# --- what went out: `partnership-bot digests` ------------------------------------------------


def week_asked(text: str | None) -> str:
    """A week as typed ("2026-w10"), or this week in the UK: "2026-W10". ValueError, saying
    how to write it, if it is not an ISO week."""
    if text is None:
        return iso_week(utcnow(), LONDON)
    try:
        monday = parse_iso_week(text)
    except ValueError:
        raise ValueError(f"“{text}” is not an ISO week: write it like 2026-W10.") from None
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


async def digest_report(db: Database, week: str, workspace: str | None) -> list[str]:
    """One line per partnership with a digest in `week` ("2026-W10"): its status (sent /
    failed, with the last error / pending / skipped quiet / …), its attempts and when it went
    (UK time)."""
    london = LONDON
    monday = parse_iso_week(week)
    async with db.session() as session:
        rows = await outbox.deliveries_of_kind(session, DIGEST_KIND, f":{week}", workspace)
    sunday = monday + timedelta(days=6)
    scope = f" in {workspace}" if workspace else ""
    title = f"Weekly digests for {week} ({short_date(monday)} to {short_date(sunday)}){scope}:"
    if not rows:
        return [title, "  none queued."]
    width = max(len(p.name) for _, p in rows)
    lines = [title]
    counts: dict[str, int] = {}
    for row, partnership in rows:
        counts[row.status] = counts.get(row.status, 0) + 1
        lines.append(f"  {partnership.name.ljust(width)}  {_report_state(row, london)}")
    lines.append("  " + ", ".join(f"{n} {status}" for status, n in sorted(counts.items())))
    return lines


def _report_state(row: ScheduledDelivery, london: ZoneInfo) -> str:
    tries = f"{_plural(row.attempts, 'attempt')}"
    if row.status == DeliveryStatus.SENT and row.sent_at is not None:
        note = f" (note: {row.last_error})" if row.last_error else ""
        return f"sent {_moment(row.sent_at, london)}, {tries}{note}"
    if row.status == DeliveryStatus.SKIPPED:
        return f"skipped: {row.last_error or 'a quiet week'}"
    if row.status in (DeliveryStatus.FAILED, DeliveryStatus.DROPPED):
        return f"{row.status} after {tries}: {row.last_error or 'no reason kept'}"
    if row.status == DeliveryStatus.CANCELLED:
        return f"cancelled: {row.last_error or 'no reason kept'}"
    retry = f", last error: {row.last_error}" if row.last_error else ""
    when = _moment(row.next_attempt_at, london)
    return f"{row.status}, next try {when}, {tries}{retry}"
