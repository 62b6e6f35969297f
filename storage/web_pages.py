"""Reads for the web pages: one page of a long list at a time, each read answered from an index,
so a partnership with 1,000 schools and 100,000 walks costs about what a small one does.

Long lists page by a cursor (the last row's date and id, newest first) rather than by OFFSET,
which would walk every row before the page. Each read is scoped to one partnership, whose
membership the page has already checked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, case, exists, func, text, tuple_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import learning
from storage.models import (
    Action,
    ActionStatus,
    CpdSession,
    LearningWalk,
    Meeting,
    Member,
    Partnership,
    PartnershipSchool,
    Rsvp,
    RsvpAnswer,
    School,
)


@dataclass(frozen=True)
class Page:
    """One page of a list: its rows, the whole list's length, and whether more follow."""

    rows: list[Any]
    total: int
    more: bool


async def my_partnerships(session: AsyncSession, workspace: str, platform: str,
                          user_id: str) -> list[tuple[Partnership, int]]:
    """The person's partnerships, by name, with how many schools each has."""
    schools = (select(PartnershipSchool.partnership_id, func.count().label("n"))
               .group_by(col(PartnershipSchool.partnership_id)).subquery())
    rows = await session.exec(
        select(Partnership, func.coalesce(schools.c.n, 0))
        .join(Member, col(Member.partnership_id) == Partnership.id)
        .outerjoin(schools, schools.c.partnership_id == Partnership.id)
        .where(Partnership.workspace == workspace, Member.platform == platform,
               Member.user_id == user_id)
        .order_by(col(Partnership.name)))
    return [(p, int(n)) for p, n in rows.all()]


async def counts(session: AsyncSession, partnership_id: int) -> tuple[int, int]:
    """How many schools and members the partnership has."""
    schools = await session.exec(select(func.count()).select_from(PartnershipSchool).where(
        PartnershipSchool.partnership_id == partnership_id))
    members = await session.exec(select(func.count()).select_from(Member).where(
        Member.partnership_id == partnership_id))
    return int(schools.one()), int(members.one())


async def schools_page(session: AsyncSession, partnership_id: int, page: int,
                       size: int) -> Page:
    """Schools by name, `size` a page (a partnership has at most a few thousand, so OFFSET
    stays cheap here)."""
    result = await session.exec(
        select(School).join(PartnershipSchool, col(PartnershipSchool.school_id) == School.id)
        .where(PartnershipSchool.partnership_id == partnership_id)
        .order_by(col(School.name), col(School.id)).offset(page * size).limit(size + 1))
    rows = list(result.all())
    total, _ = await counts(session, partnership_id)
    return Page(rows[:size], total, len(rows) > size)


async def members_page(session: AsyncSession, partnership_id: int, page: int,
                       size: int) -> Page:
    """Members (leads first, then by name) with their schools."""
    result = await session.exec(
        select(Member, School).outerjoin(School, col(Member.school_id) == School.id)
        .where(Member.partnership_id == partnership_id)
        .order_by(col(Member.access_role), col(Member.display_name), col(Member.id))
        .offset(page * size).limit(size + 1))
    rows = list(result.all())
    _, total = await counts(session, partnership_id)
    return Page(rows[:size], total, len(rows) > size)


# --- CPD coverage ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ThemeTotal:
    sessions: int
    minutes: int
    without_length: int
    # Sessions that did not record which schools came, and the attendees they counted.
    without_schools: int = 0
    attendees_without_schools: int = 0


async def theme_totals(session: AsyncSession, partnership_id: int, first: date,
                       last: date) -> dict[int, ThemeTotal]:
    """Sessions, minutes and how attendance was recorded, per theme from `first` to `last`:
    the range of `ix_cpd_session_partnership_date`, with each session's attendance looked up
    by its own indexes (cpd_attendance's unique key, cpd_attendee's session index)."""
    unknown = func.sum(case((col(CpdSession.minutes).is_(None), 1), else_=0))
    no_schools = ~learning.schools_given()
    rows = await session.exec(
        select(CpdSession.theme_id, func.count(),  # type: ignore[call-overload]
               func.coalesce(func.sum(col(CpdSession.minutes)), 0), unknown,
               func.coalesce(func.sum(case((no_schools, 1), else_=0)), 0),
               func.coalesce(func.sum(case((no_schools, learning.attendees_counted()),
                                           else_=0)), 0))
        .where(CpdSession.partnership_id == partnership_id,
               col(CpdSession.held_on) >= first, col(CpdSession.held_on) <= last)
        .group_by(col(CpdSession.theme_id)))
    return {theme: ThemeTotal(int(n), int(minutes or 0), int(without or 0), int(unschooled),
                              int(people))
            for theme, n, minutes, without, unschooled, people in rows.all()}


# From each school's attendance (its index) to the sessions, never the other way round: the
# CROSS JOIN keeps that order on SQLite, whose planner would otherwise start from every session
# of the period; PostgreSQL plans it as the inner join it is.
_ATTENDANCE = text("""
    SELECT s.theme_id, a.school_id, count(*)
    FROM cpd_attendance AS a CROSS JOIN cpd_session AS s
    WHERE s.id = a.session_id AND a.school_id IN :schools AND s.partnership_id = :partnership
      AND s.held_on >= :first AND s.held_on <= :last
    GROUP BY s.theme_id, a.school_id
""").bindparams(bindparam("schools", expanding=True))


async def attendance_of(session: AsyncSession, partnership_id: int, first: date, last: date,
                        school_ids: Sequence[int]) -> dict[tuple[int, int], int]:
    """Sessions of each theme these schools' staff attended from `first` to `last`: read from
    these schools' attendance alone, so a page of 50 schools costs the same in a partnership of
    10 schools or 1,000."""
    if not school_ids:
        return {}
    rows = await (await session.connection()).execute(_ATTENDANCE, {
        "schools": list(school_ids), "partnership": partnership_id,
        "first": first.isoformat() if _sqlite(session) else first,
        "last": last.isoformat() if _sqlite(session) else last})
    return {(int(theme), int(school)): int(n) for theme, school, n in rows.all()}


def _sqlite(session: AsyncSession) -> bool:
    return session.bind is not None and session.bind.dialect.name == "sqlite"


# --- walks ----------------------------------------------------------------------------------

OPEN = exists(select(Action.id).where(col(Action.walk_id) == LearningWalk.id,
                                     Action.status == ActionStatus.OPEN.value))


async def walks_page(session: AsyncSession, partnership_id: int, before: tuple[date, int] | None,
                     open_only: bool, size: int) -> Page:
    """Walks newest first, from just before the cursor (a walk's date and id), read along
    `ix_learning_walk_partnership_date` (or, for open next steps only, the partial index of
    open steps); `total` is left at -1: the caller counts once with `learning.walk_counts`."""
    conditions: list[Any] = [LearningWalk.partnership_id == partnership_id]
    if open_only:
        conditions.append(OPEN)
    if before is not None:
        day, walk_id = before
        conditions.append(tuple_(col(LearningWalk.walked_on), col(LearningWalk.id))
                          < tuple_(day, walk_id))
    result = await session.exec(
        select(LearningWalk, School).join(School, col(School.id) == LearningWalk.host_school_id)
        .where(*conditions)
        .order_by(col(LearningWalk.walked_on).desc(), col(LearningWalk.id).desc())
        .limit(size + 1))
    rows = list(result.all())
    return Page(rows[:size], -1, len(rows) > size)


async def walk(session: AsyncSession, partnership_id: int,
               walk_id: int) -> tuple[LearningWalk, School] | None:
    result = await session.exec(
        select(LearningWalk, School).join(School, col(School.id) == LearningWalk.host_school_id)
        .where(LearningWalk.id == walk_id, LearningWalk.partnership_id == partnership_id))
    row = result.first()
    return (row[0], row[1]) if row is not None else None


# --- meetings -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MeetingRow:
    meeting: Meeting
    going: int
    maybe: int
    not_going: int


def _answers(answer: RsvpAnswer) -> Any:
    return func.coalesce(func.sum(case((col(Rsvp.answer) == answer.value, 1), else_=0)), 0)


async def meetings_page(session: AsyncSession, partnership_id: int, now: datetime,
                        upcoming: bool, after: tuple[datetime, int] | None,
                        size: int) -> Page:
    """Upcoming meetings soonest first, or past ones latest first, a page from just after the
    cursor (a start time and id, in the page's order), with their replies counted in SQL."""
    conditions: list[Any] = [Meeting.partnership_id == partnership_id]
    key = tuple_(col(Meeting.starts_at), col(Meeting.id))
    if upcoming:
        conditions.append(col(Meeting.ends_at) > now)
        order: Sequence[Any] = (col(Meeting.starts_at), col(Meeting.id))
        if after is not None:
            conditions.append(key > tuple_(*after))
    else:
        conditions.append(col(Meeting.ends_at) <= now)
        order = (col(Meeting.starts_at).desc(), col(Meeting.id).desc())
        if after is not None:
            conditions.append(key < tuple_(*after))
    result = await session.exec(
        select(Meeting, _answers(RsvpAnswer.GOING), _answers(RsvpAnswer.MAYBE),
               _answers(RsvpAnswer.NOT_GOING))
        .outerjoin(Rsvp, col(Rsvp.meeting_id) == Meeting.id)
        .where(*conditions).group_by(col(Meeting.id)).order_by(*order).limit(size + 1))
    rows = [MeetingRow(m, int(g), int(y), int(n)) for m, g, y, n in result.all()]
    return Page(rows[:size], -1, len(rows) > size)


async def meeting_count(session: AsyncSession, partnership_id: int, now: datetime,
                        upcoming: bool) -> int:
    ended = col(Meeting.ends_at) > now if upcoming else col(Meeting.ends_at) <= now
    result = await session.exec(select(func.count()).select_from(Meeting).where(
        Meeting.partnership_id == partnership_id, ended))
    return int(result.one())


async def meeting(session: AsyncSession, partnership_id: int, meeting_id: int) -> Meeting | None:
    result = await session.exec(select(Meeting).where(
        Meeting.id == meeting_id, Meeting.partnership_id == partnership_id))
    return result.first()


async def not_replied(session: AsyncSession, partnership_id: int, meeting_id: int,
                      limit: int) -> Page:
    """Members who have not replied to the meeting, by name (the first `limit`)."""
    replied = select(Rsvp.id).where(Rsvp.meeting_id == meeting_id,
                                    Rsvp.platform == Member.platform,
                                    Rsvp.user_id == Member.user_id)
    waiting = (Member.partnership_id == partnership_id, ~replied.exists())
    result = await session.exec(select(Member.display_name).where(*waiting)
                                .order_by(col(Member.display_name)).limit(limit + 1))
    names = list(result.all())
    total = await session.exec(select(func.count()).select_from(Member).where(*waiting))
    return Page(names[:limit], int(total.one()), len(names) > limit)

