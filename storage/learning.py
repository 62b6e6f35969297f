"""Reads for learning walks and CPD sessions. Each is scoped to a workspace, directly or through
partnerships the caller has already been checked against, and shaped to use the indexes on
`learning_walk` and `cpd_session` (see storage/models.py)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from sqlalchemy import case, delete, exists, func, union_all
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from storage import core
from storage.models import (
    Action,
    ActionStatus,
    CpdAttendance,
    CpdAttendee,
    CpdSession,
    CpdTheme,
    LearningWalk,
    Member,
    Partnership,
    PartnershipSchool,
    School,
    WalkWalker,
)


async def partnerships_of_member(
    session: AsyncSession, workspace: str, platform: str, user_id: str
) -> Sequence[Partnership]:
    result = await session.exec(
        select(Partnership)
        .join(Member, col(Member.partnership_id) == Partnership.id)
        .where(Partnership.workspace == workspace, Member.platform == platform,
               Member.user_id == user_id)
        .order_by(Partnership.name)
    )
    return result.all()


async def cpd_themes(session: AsyncSession, partnership_id: int) -> Sequence[CpdTheme]:
    result = await session.exec(
        select(CpdTheme).where(CpdTheme.partnership_id == partnership_id)
        .order_by(col(CpdTheme.retired), col(CpdTheme.position), col(CpdTheme.id))
    )
    return result.all()


async def members_on(
    session: AsyncSession, partnership_id: int, platform: str
) -> Sequence[Member]:
    result = await session.exec(
        select(Member).where(Member.partnership_id == partnership_id,
                             Member.platform == platform)
    )
    return result.all()


async def school_in_partnership(
    session: AsyncSession, partnership_id: int, school_id: int
) -> School | None:
    result = await session.exec(
        select(School)
        .join(PartnershipSchool, col(PartnershipSchool.school_id) == School.id)
        .where(PartnershipSchool.partnership_id == partnership_id, School.id == school_id)
    )
    return result.first()


# --- walks ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class WalkRow:
    walk: LearningWalk
    school: School
    partnership: Partnership


async def walk_in_workspace(session: AsyncSession, workspace: str, walk_id: int) -> WalkRow | None:
    result = await session.exec(
        select(LearningWalk, School, Partnership)
        .join(School, col(School.id) == LearningWalk.host_school_id)
        .join(Partnership, col(Partnership.id) == LearningWalk.partnership_id)
        .where(LearningWalk.id == walk_id, Partnership.workspace == workspace)
    )
    row = result.first()
    return WalkRow(*row) if row is not None else None


def _walk_filter(partnership_ids: Sequence[int], school_id: int | None,
                 since: date | None) -> list[object]:
    conditions: list[object] = [col(LearningWalk.partnership_id).in_(partnership_ids)]
    if school_id is not None:
        conditions.append(LearningWalk.host_school_id == school_id)
    if since is not None:
        conditions.append(col(LearningWalk.walked_on) >= since)
    return conditions


async def walk_page(
    session: AsyncSession, partnership_ids: Sequence[int], school_id: int | None,
    since: date | None, limit: int,
) -> list[WalkRow]:
    """The newest walks first, their ids read in date order from an index range per
    partnership (or the school's range), so it costs the same however many walks there are."""
    if school_id is not None:
        ranges = [_walk_filter(partnership_ids, school_id, since)]
    else:
        ranges = [_walk_filter([pid], None, since) for pid in partnership_ids]
    ids = await _newest_ids(session, col(LearningWalk.id), col(LearningWalk.walked_on), ranges,
                            limit)
    result = await session.exec(
        select(LearningWalk, School, Partnership)
        .join(School, col(School.id) == LearningWalk.host_school_id)
        .join(Partnership, col(Partnership.id) == LearningWalk.partnership_id)
        .where(col(LearningWalk.id).in_(ids))
        .order_by(*_NEWEST_FIRST)
    )
    return [WalkRow(*row) for row in result.all()]


async def _newest_ids(session: AsyncSession, id_column: Any, day_column: Any,
                      ranges: Sequence[Sequence[Any]], limit: int) -> list[int]:
    """The ids of the `limit` newest rows over several index ranges (one WHERE each), newest
    first. One query per range, merged: a single `IN (…)` would sort every row in them."""
    each = [select(id_column.label("id"), day_column.label("day")).where(*conditions)
            .order_by(day_column.desc(), id_column.desc()).limit(limit).subquery()
            for conditions in ranges]
    if not each:
        return []
    newest = (each[0] if len(each) == 1 else
              union_all(*(select(sub.c.id, sub.c.day) for sub in each)).subquery())
    result = await session.exec(
        select(newest.c.id).order_by(newest.c.day.desc(), newest.c.id.desc()).limit(limit))
    return [int(i) for i in result.all()]


_NEWEST_FIRST = (col(LearningWalk.walked_on).desc(), col(LearningWalk.id).desc())


@dataclass(frozen=True)
class WalkCounts:
    walks: int
    open_steps: int
    overdue_steps: int


async def walk_counts(
    session: AsyncSession, partnership_ids: Sequence[int], school_id: int | None,
    since: date | None, today: date,
) -> WalkCounts:
    """How many walks match (counted in an index), and how many of their next steps (actions)
    are open or overdue."""
    conditions = _walk_filter(partnership_ids, school_id, since)
    walks = (await session.exec(
        select(func.count()).select_from(LearningWalk).where(*conditions)  # type: ignore[arg-type]
    )).one()
    open_steps = await session.exec(
        select(func.count(), func.coalesce(func.sum(
            case((col(Action.due_on) < today, 1), else_=0)), 0))
        .join(LearningWalk, col(LearningWalk.id) == Action.walk_id)
        .where(*conditions, Action.status == ActionStatus.OPEN.value)  # type: ignore[arg-type]
    )
    open_count, overdue = open_steps.one()
    return WalkCounts(int(walks), int(open_count), int(overdue))


async def walkers_of(
    session: AsyncSession, walk_ids: Sequence[int]
) -> dict[int, list[WalkWalker]]:
    if not walk_ids:
        return {}
    result = await session.exec(
        select(WalkWalker).where(col(WalkWalker.walk_id).in_(walk_ids))
        .order_by(col(WalkWalker.walk_id), col(WalkWalker.position))
    )
    walkers: dict[int, list[WalkWalker]] = defaultdict(list)
    for walker in result.all():
        walkers[walker.walk_id].append(walker)
    return walkers


# --- CPD sessions ---------------------------------------------------------------------------


async def attendees_of(
    session: AsyncSession, cpd_ids: Sequence[int]
) -> dict[int, list[CpdAttendee]]:
    """The people recorded as attending each session, in the order given."""
    if not cpd_ids:
        return {}
    result = await session.exec(
        select(CpdAttendee).where(col(CpdAttendee.session_id).in_(cpd_ids))
        .order_by(col(CpdAttendee.session_id), col(CpdAttendee.position)))
    people: dict[int, list[CpdAttendee]] = defaultdict(list)
    for person in result.all():
        people[person.session_id].append(person)
    return people


def people_counted() -> Any:
    """How many people a session records by name (a correlated count)."""
    return (select(func.count()).where(col(CpdAttendee.session_id) == col(CpdSession.id))
            .scalar_subquery())


def schools_given() -> Any:
    """Whether a session records the schools that came."""
    return exists().where(col(CpdAttendance.session_id) == col(CpdSession.id))


def attendees_counted() -> Any:
    """A session's number of attendees as given: its head count, else the people it names
    (0 when it records neither)."""
    return func.coalesce(col(CpdSession.attendee_count), people_counted())


@dataclass(frozen=True)
class CpdRow:
    cpd: CpdSession
    theme: CpdTheme
    host: School | None
    partnership: Partnership


def _cpd_query() -> Select[CpdSession, CpdTheme, School, Partnership]:
    return (
        select(CpdSession, CpdTheme, School, Partnership)
        .join(CpdTheme, col(CpdTheme.id) == CpdSession.theme_id)
        .join(Partnership, col(Partnership.id) == CpdSession.partnership_id)
        .outerjoin(School, col(School.id) == CpdSession.host_school_id)
    )


async def cpd_in_workspace(session: AsyncSession, workspace: str, cpd_id: int) -> CpdRow | None:
    result = await session.exec(
        _cpd_query().where(CpdSession.id == cpd_id, Partnership.workspace == workspace)
    )
    row = result.first()
    return CpdRow(*row) if row is not None else None


async def cpd_page(
    session: AsyncSession, partnership_ids: Sequence[int], theme_ids: Sequence[int] | None,
    limit: int,
) -> tuple[list[CpdRow], int]:
    """The newest sessions first (read like `walk_page`), and how many match in all."""
    if theme_ids is not None:
        conditions = [col(CpdSession.partnership_id).in_(partnership_ids),
                      col(CpdSession.theme_id).in_(theme_ids)]
        ranges = [[CpdSession.theme_id == tid, *conditions[:1]] for tid in theme_ids]
    else:
        conditions = [col(CpdSession.partnership_id).in_(partnership_ids)]
        ranges = [[CpdSession.partnership_id == pid] for pid in partnership_ids]
    ids = await _newest_ids(session, col(CpdSession.id), col(CpdSession.held_on), ranges, limit)
    rows = await session.exec(
        _cpd_query().where(col(CpdSession.id).in_(ids))
        .order_by(col(CpdSession.held_on).desc(), col(CpdSession.id).desc())
    )
    total = await session.exec(select(func.count()).select_from(CpdSession).where(*conditions))
    return [CpdRow(*row) for row in rows.all()], int(total.one())


async def attending_schools(
    session: AsyncSession, cpd_ids: Sequence[int]
) -> dict[int, list[School]]:
    if not cpd_ids:
        return {}
    result = await session.exec(
        select(CpdAttendance.session_id, School)
        .join(School, col(School.id) == CpdAttendance.school_id)
        .where(col(CpdAttendance.session_id).in_(cpd_ids))
        .order_by(col(School.name))
    )
    schools: dict[int, list[School]] = defaultdict(list)
    for cpd_id, school in result.all():
        schools[cpd_id].append(school)
    return schools


@dataclass(frozen=True)
class CpdTally:
    """Sessions and minutes for one group (a theme, a host, an attending school)."""

    sessions: int = 0
    minutes: int = 0
    # Sessions logged without a length: their hours are unknown, not zero.
    without_length: int = 0

    def __add__(self, other: CpdTally) -> CpdTally:
        return CpdTally(self.sessions + other.sessions, self.minutes + other.minutes,
                        self.without_length + other.without_length)


@dataclass
class CpdSummary:
    by_theme: dict[int, CpdTally]
    hosted: dict[int, CpdTally]
    attended: dict[int, CpdTally]
    # Sessions that recorded the schools that came; the others, and the attendees they
    # counted (a head count, or the people named) without saying from which schools.
    with_schools: int
    without_schools: int
    attendees_without_schools: int
    themes_this_term: set[int]

    @property
    def total(self) -> CpdTally:
        return sum(self.by_theme.values(), CpdTally())


async def cpd_summary(
    session: AsyncSession, partnership_id: int, since: date, term_start: date, term_end: date,
) -> CpdSummary:
    """Three grouped queries, each answered from `ix_cpd_session_partnership_date`'s range."""
    in_period = (CpdSession.partnership_id == partnership_id, col(CpdSession.held_on) >= since)
    unknown = func.sum(case((col(CpdSession.minutes).is_(None), 1), else_=0))
    no_schools = ~schools_given()
    # Seven columns: more than sqlmodel's typed `select` takes, so its Select class directly.
    by_theme_and_host = cast(Select[int, int | None, int, int, int, int, int], (
        Select(col(CpdSession.theme_id), col(CpdSession.host_school_id), func.count(),
               func.coalesce(func.sum(col(CpdSession.minutes)), 0), unknown,
               func.coalesce(func.sum(case((no_schools, attendees_counted()), else_=0)), 0),
               func.coalesce(func.sum(case((no_schools, 1), else_=0)), 0))
        .where(*in_period)
        .group_by(col(CpdSession.theme_id), col(CpdSession.host_school_id))
    ))
    # Core, not the ORM: values, not objects (storage/core.py).
    grouped = await core.rows(session, by_theme_and_host)
    by_theme: dict[int, CpdTally] = defaultdict(CpdTally)
    hosted: dict[int, CpdTally] = defaultdict(CpdTally)
    sessions = without_schools = attendees = 0
    for theme_id, host_id, n, minutes, without, people, unschooled in grouped:
        tally = CpdTally(int(n), int(minutes), int(without))
        by_theme[theme_id] += tally
        if host_id is not None:
            hosted[host_id] += tally
        sessions += int(n)
        attendees += int(people)
        without_schools += int(unschooled)
    attended_rows = await core.rows(session,
        select(col(CpdAttendance.school_id), func.count(),
               func.coalesce(func.sum(col(CpdSession.minutes)), 0), unknown)
        .join(CpdSession, col(CpdSession.id) == CpdAttendance.session_id)
        .where(*in_period)
        .group_by(col(CpdAttendance.school_id))
    )
    attended = {school_id: CpdTally(int(n), int(minutes or 0), int(without))
                for school_id, n, minutes, without in attended_rows}
    this_term = await core.rows(session,
        select(CpdSession.theme_id).distinct().where(
            CpdSession.partnership_id == partnership_id,
            col(CpdSession.held_on) >= term_start, col(CpdSession.held_on) <= term_end)
    )
    return CpdSummary(dict(by_theme), dict(hosted), attended, sessions - without_schools,
                      without_schools, attendees, {row[0] for row in this_term})


# --- corrections --------------------------------------------------------------------------------

async def delete_walkers(session: AsyncSession, walk_id: int) -> None:
    await session.exec(delete(WalkWalker).where(col(WalkWalker.walk_id) == walk_id))


async def delete_walk(session: AsyncSession, walk_id: int) -> None:
    """A walk and its walkers (explicitly: SQLite may not enforce ON DELETE CASCADE)."""
    await delete_walkers(session, walk_id)
    await session.exec(delete(LearningWalk).where(col(LearningWalk.id) == walk_id))


async def delete_attendance(session: AsyncSession, cpd_id: int) -> None:
    await session.exec(delete(CpdAttendance).where(col(CpdAttendance.session_id) == cpd_id))


async def delete_attendees(session: AsyncSession, cpd_id: int) -> None:
    await session.exec(delete(CpdAttendee).where(col(CpdAttendee.session_id) == cpd_id))


async def delete_cpd(session: AsyncSession, cpd_id: int) -> None:
    await delete_attendance(session, cpd_id)
    await delete_attendees(session, cpd_id)
    await session.exec(delete(CpdSession).where(col(CpdSession.id) == cpd_id))
