"""The termly report for governors and trust boards (issue 15): everything it says, read once
into one `ReportData`, from which the PDF, the spreadsheet, the CSV and the web page are drawn
(handlers/report_files.py, bot/web). No renderer reads the database, so they cannot disagree.

What it holds, for a partnership or one of its schools, over a period:
- CPD sessions and hours per theme and per school (hosted, attended), counted as `/cpd summary`
  counts them (a test holds the two to the same figures);
- learning walks by focus and by host school: counts only, never a walk's notes (they concern
  staff);
- actions raised, done, open and overdue (`actions_in`, the one place that says what an action
  is: today a walk's next steps, with their owner, due date and done mark);
- meetings held, with who came and who sent apologies (`meetings_held`: today members' replies,
  "Going" and "Can't make it");
- a short impact section from the sessions' own impact notes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import core, learning, queries
from storage.learning import CpdTally
from storage.models import (
    Action,
    ActionStatus,
    CpdAttendance,
    CpdSession,
    LearningWalk,
    Meeting,
    MeetingMinutes,
    MeetingStatus,
    Member,
    MinutesStatus,
    Partnership,
    Rsvp,
    RsvpAnswer,
    School,
)
from storage.names import name_key
from storage.types import LONDON

# An impact note is quoted up to this many characters: the section is a summary, the whole
# note is one `/cpd show` away.
IMPACT_QUOTE = 400


@dataclass(frozen=True)
class ReportPeriod:
    first: date
    last: date  # inclusive
    label: str  # "autumn term 2026", "1 Sep 2026 to 30 Nov 2026"


@dataclass(frozen=True)
class ThemeLine:
    theme: str
    retired: bool
    tally: CpdTally


@dataclass(frozen=True)
class SchoolLine:
    school: str
    urn: int | None
    hosted: CpdTally
    attended: CpdTally


@dataclass(frozen=True)
class SessionLine:
    held_on: date
    title: str
    theme: str
    host: str
    minutes: int | None
    attendance: str  # a head count, or the schools that came


@dataclass(frozen=True)
class Counted:
    label: str
    count: int


@dataclass(frozen=True)
class ActionCounts:
    """Actions raised and done in the period; open and overdue as the period ends (or today,
    for a period still running)."""

    raised: int = 0
    done: int = 0
    open: int = 0
    overdue: int = 0

    def __add__(self, other: ActionCounts) -> ActionCounts:
        return ActionCounts(self.raised + other.raised, self.done + other.done,
                            self.open + other.open, self.overdue + other.overdue)


@dataclass(frozen=True)
class ActionLine:
    school: str
    counts: ActionCounts


@dataclass(frozen=True)
class MeetingLine:
    title: str
    starts_at: datetime  # UTC
    timezone: str
    attending: tuple[str, ...]
    apologies: tuple[str, ...]  # "Ben Day (Ofsted call)": with the reason where one was given
    no_reply: int
    recorded_in: str  # "approved minutes" or "replies"

    @property
    def day(self) -> date:
        return self.starts_at.astimezone(LONDON).date()


@dataclass(frozen=True)
class ImpactNote:
    held_on: date
    title: str
    theme: str
    note: str


@dataclass(frozen=True)
class ReportData:
    partnership: str
    school: str | None  # the one school reported on, or None for the whole partnership
    period: ReportPeriod
    made_at: datetime
    # Figures as at this day: the period's end, or today if it has not ended.
    as_of: date
    cpd_total: CpdTally
    headcount: int
    headcount_sessions: int
    themes: list[ThemeLine]
    schools: list[SchoolLine]
    sessions: list[SessionLine]
    walks: int
    walks_by_focus: list[Counted]
    walks_by_school: list[Counted]
    actions: ActionCounts
    actions_by_school: list[ActionLine]
    meetings: list[MeetingLine]
    impact: list[ImpactNote]
    # Where actions and apologies come from, said in the report's notes.
    sources: list[str] = field(default_factory=list)

    @property
    def scope(self) -> str:
        return f"{self.school} ({self.partnership})" if self.school else self.partnership

    @property
    def empty(self) -> bool:
        return not (self.cpd_total.sessions or self.walks or self.actions.raised
                    or self.actions.done or self.actions.open or self.meetings)


def day_start(day: date) -> datetime:
    """Midnight at the start of `day` in the UK, as UTC."""
    return datetime.combine(day, time(), LONDON).astimezone(UTC)


async def build(session: AsyncSession, partnership: Partnership, school: School | None,
                period: ReportPeriod, now: datetime) -> ReportData:
    """Everything the report says, read in a handful of bounded queries."""
    assert partnership.id is not None
    today = now.astimezone(LONDON).date()
    as_of = min(period.last, today)
    school_id = school.id if school is not None else None
    every_school = list(await queries.schools_of(session, partnership.id))
    schools = [school] if school is not None else every_school
    names = {s.id: s.name for s in every_school}
    themes = await learning.cpd_themes(session, partnership.id)

    cpd = await _sessions(session, partnership.id, period, school_id)
    attending = await _attending(session, [row.id for row in cpd])
    by_theme: dict[int, CpdTally] = defaultdict(CpdTally)
    hosted: dict[int, CpdTally] = defaultdict(CpdTally)
    attended: dict[int, CpdTally] = defaultdict(CpdTally)
    headcount = headcount_sessions = 0
    lines, impact = [], []
    theme_names = {t.id: t.name for t in themes}
    for row in cpd:
        tally = CpdTally(1, row.minutes or 0, 0 if row.minutes else 1)
        by_theme[row.theme_id] += tally
        if row.host_school_id is not None:
            hosted[row.host_school_id] += tally
        came = attending.get(row.id, [])
        for school_id_came in came:
            attended[school_id_came] += tally
        if row.attendee_count is not None:
            headcount += row.attendee_count
            headcount_sessions += 1
        theme = theme_names.get(row.theme_id, "")
        lines.append(SessionLine(
            row.held_on, row.title, theme,
            names.get(row.host_school_id, "") if row.host_school_id else "", row.minutes,
            f"{row.attendee_count:,}" if row.attendee_count is not None
            else ", ".join(sorted((names.get(s, "") for s in came), key=name_key))))
        if row.impact and row.impact.strip():
            note = " ".join(row.impact.split())
            if len(note) > IMPACT_QUOTE:
                note = note[:IMPACT_QUOTE - 1].rstrip() + "…"
            impact.append(ImpactNote(row.held_on, row.title, theme, note))
    theme_lines = [ThemeLine(t.name, t.retired, by_theme.get(t.id or 0, CpdTally()))
                   for t in themes if not t.retired or t.id in by_theme]

    walks = await _walks(session, partnership.id, period, school_id)
    focus: dict[str, list[str]] = {}
    per_host: dict[int, int] = defaultdict(int)
    for walk_focus, host_id in walks:
        focus.setdefault(name_key(walk_focus), []).append(walk_focus)
        per_host[host_id] += 1
    by_focus = sorted((Counted(shown[0], len(shown)) for shown in focus.values()),
                      key=lambda c: (-c.count, name_key(c.label)))

    actions = await actions_in(session, partnership.id, period, as_of, school_id)
    meetings = await meetings_held(session, partnership.id, period, now, school_id)
    return ReportData(
        partnership=partnership.name, school=school.name if school else None, period=period,
        made_at=now, as_of=as_of, cpd_total=sum(by_theme.values(), CpdTally()),
        headcount=headcount, headcount_sessions=headcount_sessions, themes=theme_lines,
        schools=[SchoolLine(s.name, s.urn, hosted.get(s.id or 0, CpdTally()),
                            attended.get(s.id or 0, CpdTally())) for s in schools],
        sessions=lines, walks=len(walks), walks_by_focus=by_focus,
        walks_by_school=[Counted(s.name, per_host.get(s.id or 0, 0)) for s in schools],
        actions=sum(actions.values(), ActionCounts()),
        actions_by_school=[ActionLine(s.name, actions.get(s.id or 0, ActionCounts()))
                           for s in schools],
        meetings=meetings, impact=impact, sources=[ACTIONS_SOURCE, APOLOGIES_SOURCE])


async def _sessions(session: AsyncSession, partnership_id: int, period: ReportPeriod,
                    school_id: int | None) -> Sequence[Any]:
    """The period's sessions, oldest first (for one school: those it hosted or attended),
    read along `ix_cpd_session_partnership_date`, as rows of values (storage/core.py): a large
    partnership logs thousands a term."""
    conditions: list[Any] = [CpdSession.partnership_id == partnership_id,
                  col(CpdSession.held_on) >= period.first,
                  col(CpdSession.held_on) <= period.last]
    if school_id is not None:
        went = exists().where(col(CpdAttendance.session_id) == col(CpdSession.id),
                              col(CpdAttendance.school_id) == school_id)
        conditions.append(or_(col(CpdSession.host_school_id) == school_id, went))
    return await core.rows(session, sa_select(
        col(CpdSession.id), col(CpdSession.held_on), col(CpdSession.title),
        col(CpdSession.theme_id), col(CpdSession.host_school_id), col(CpdSession.minutes),
        col(CpdSession.attendee_count), col(CpdSession.impact))
        .where(*conditions).order_by(col(CpdSession.held_on), col(CpdSession.id)))


async def _attending(session: AsyncSession, cpd_ids: Sequence[int]) -> dict[int, list[int]]:
    """The schools recorded as attending each session, by id."""
    attending: dict[int, list[int]] = defaultdict(list)
    for start in range(0, len(cpd_ids), 5_000):  # within any database's bound parameters
        rows = await core.rows(session, select(
            col(CpdAttendance.session_id), col(CpdAttendance.school_id))
            .where(col(CpdAttendance.session_id).in_(cpd_ids[start:start + 5_000])))
        for cpd_id, school_id in rows:
            attending[cpd_id].append(school_id)
    return attending


async def _walks(session: AsyncSession, partnership_id: int, period: ReportPeriod,
                 school_id: int | None) -> list[tuple[str, int]]:
    """Each walk's focus and host school: nothing of its notes is read."""
    conditions: list[Any] = [LearningWalk.partnership_id == partnership_id,
                  col(LearningWalk.walked_on) >= period.first,
                  col(LearningWalk.walked_on) <= period.last]
    if school_id is not None:
        conditions.append(LearningWalk.host_school_id == school_id)
    result = await session.exec(select(LearningWalk.focus, LearningWalk.host_school_id)
                                .where(*conditions))
    return [(f, h) for f, h in result.all()]


# --- actions and apologies: where they come from --------------------------------------------

ACTIONS_SOURCE = ("Actions are the next steps agreed on learning walks, each with its owner "
                  "and due date; an action is overdue when its due date has passed and it is "
                  "not marked done.")
APOLOGIES_SOURCE = ("Attendance and apologies are those recorded in a meeting's approved "
                    "minutes; for a meeting without approved minutes (and for one school's "
                    "report), members' replies to it (“Going”, and “Can't make it” with its "
                    "reason).")


async def actions_in(session: AsyncSession, partnership_id: int, period: ReportPeriod,
                     as_of: date, school_id: int | None) -> dict[int, ActionCounts]:
    """Actions per school (the owning school, else the school of the walk it came from): raised
    in the period (a walk's steps on the walk's day), done in it, and those open and overdue as
    at `as_of` (dropped ones count as open until dropped, never as done)."""
    end = day_start(period.last + timedelta(days=1))
    school = func.coalesce(col(Action.owner_school_id), col(LearningWalk.host_school_id))
    conditions: list[Any] = [Action.partnership_id == partnership_id,
                             or_(col(Action.created_at) < end,
                                 col(LearningWalk.walked_on) <= period.last),
                             or_(col(Action.closed_at).is_(None),
                                 col(Action.closed_at) >= day_start(period.first))]
    if school_id is not None:
        conditions.append(school == school_id)
    rows = await core.rows(session, sa_select(
        school, col(Action.created_at), col(LearningWalk.walked_on), col(Action.due_on),
        col(Action.status), col(Action.closed_at))
        .outerjoin(LearningWalk, col(LearningWalk.id) == col(Action.walk_id))
        .where(*conditions))
    counts: dict[int, ActionCounts] = defaultdict(ActionCounts)
    for owner_school, created_at, walked_on, due_on, status, closed_at in rows:
        # A walk's next steps were raised on the day of the walk, however late it was logged.
        made_on = walked_on if walked_on is not None else created_at.astimezone(LONDON).date()
        if made_on > period.last:
            continue
        closed_on = closed_at.astimezone(LONDON).date() if closed_at is not None else None
        raised = period.first <= made_on
        done = (status == ActionStatus.DONE.value and closed_on is not None
                and period.first <= closed_on <= period.last)
        still_open = made_on <= as_of and (closed_on is None or closed_on > as_of)
        overdue = still_open and due_on is not None and due_on < as_of
        counts[owner_school or 0] += ActionCounts(int(raised), int(done), int(still_open),
                                                  int(overdue))
    return dict(counts)


async def meetings_held(session: AsyncSession, partnership_id: int, period: ReportPeriod,
                        now: datetime, school_id: int | None) -> list[MeetingLine]:
    """Meetings that took place in the period (not cancelled, already over), oldest first, each
    with who attended and who sent apologies: from its approved minutes where it has them
    (the latest approved version), otherwise from members' replies ("Going"; "Can't make it",
    with its reason). One school's report reads its members' replies only (minutes name people,
    not their schools). The one function to change when attendance is recorded otherwise."""
    found = (await session.exec(
        select(Meeting).where(
            Meeting.partnership_id == partnership_id,
            Meeting.status == MeetingStatus.SCHEDULED.value,
            col(Meeting.starts_at) >= day_start(period.first),
            col(Meeting.starts_at) < day_start(period.last + timedelta(days=1)),
            col(Meeting.ends_at) <= now)
        .order_by(col(Meeting.starts_at), col(Meeting.id)))).all()
    ids = [m.id for m in found if m.id is not None]
    people: list[Any] = [Member.partnership_id == partnership_id]
    if school_id is not None:
        people.append(Member.school_id == school_id)
    replies: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    minuted: dict[int, MeetingMinutes] = {}
    if ids:
        rows = (await session.exec(
            select(Rsvp.meeting_id, Rsvp.answer, Member.display_name, Rsvp.reason)
            .join(Member, and_(col(Member.platform) == Rsvp.platform,
                               col(Member.user_id) == Rsvp.user_id))
            .where(col(Rsvp.meeting_id).in_(ids), *people)
            .order_by(col(Member.display_name)))).all()
        for meeting_id, answer, name, reason in rows:
            replies[meeting_id][answer].append(f"{name} ({reason})" if reason else name)
        if school_id is None:
            approved = (await session.exec(
                select(MeetingMinutes).where(
                    col(MeetingMinutes.meeting_id).in_(ids),
                    MeetingMinutes.status == MinutesStatus.APPROVED.value)
                .order_by(col(MeetingMinutes.version)))).all()
            minuted = {m.meeting_id: m for m in approved}  # the latest version last
    members = len((await session.exec(select(Member.id).where(*people))).all())
    lines = []
    for meeting in found:
        answers = replies.get(meeting.id or 0, {})
        replied = sum(len(names) for names in answers.values())
        minutes = minuted.get(meeting.id or 0)
        if minutes is not None:
            attending = tuple(n.strip() for n in minutes.attendees.splitlines() if n.strip())
            apologies = tuple(n.strip() for n in minutes.apologies.splitlines() if n.strip())
        else:
            attending = tuple(answers.get(RsvpAnswer.GOING.value, []))
            apologies = tuple(answers.get(RsvpAnswer.NOT_GOING.value, []))
        lines.append(MeetingLine(meeting.title, meeting.starts_at, meeting.timezone, attending,
                                 apologies, max(members - replied, 0),
                                 "approved minutes" if minutes is not None else "replies"))
    return lines
