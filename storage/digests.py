"""Reads for the weekly digest and the App Home.

A digest is read with a fixed number of statements whatever the partnership's size: lists come
back capped (LIMIT) with their full length counted in the same statement (`count(*) OVER ()`),
and the CPD coverage is grouped in SQL. Each read is scoped to one partnership, whose workspace
the caller has already settled (the outbox row names it, or the member asking belongs to it)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, and_, case, exists, func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import learning
from storage.models import (
    Action,
    ActionStatus,
    ChangeAction,
    ChannelLink,
    CpdAttendance,
    CpdSession,
    CpdTheme,
    DeliveryStatus,
    DigestSettings,
    LearningWalk,
    Meeting,
    MeetingStatus,
    Member,
    Partnership,
    PartnershipSchool,
    RecordChange,
    Rsvp,
    RsvpAnswer,
    ScheduledDelivery,
    School,
)

T = TypeVar("T")


@dataclass(frozen=True)
class Capped(Generic[T]):
    """The first items of a list, and how many there are in all."""

    items: list[T]
    total: int

    @property
    def hidden(self) -> int:
        return self.total - len(self.items)


def _capped(rows: Sequence[Any], make: Any) -> Capped[Any]:
    """Rows whose last column is `count(*) OVER ()`."""
    return Capped([make(*row[:-1]) for row in rows], int(rows[0][-1]) if rows else 0)


def _total() -> Any:
    return func.count().over().label("total")


# --- settings and planning ------------------------------------------------------------------


async def partnership_with_settings(
    session: AsyncSession, partnership_id: int
) -> tuple[Partnership, DigestSettings | None] | None:
    result = await session.exec(
        select(Partnership, DigestSettings)
        .outerjoin(DigestSettings, col(DigestSettings.partnership_id) == Partnership.id)
        .where(Partnership.id == partnership_id)
    )
    return result.first()


async def digest_settings(session: AsyncSession, partnership_id: int) -> DigestSettings | None:
    result = await session.exec(
        select(DigestSettings).where(DigestSettings.partnership_id == partnership_id))
    return result.first()


WAITING = (DeliveryStatus.PENDING.value, DeliveryStatus.SENDING.value)


async def partnerships_without_a_waiting_digest(
    session: AsyncSession, kind: str, after_id: int, limit: int,
) -> Sequence[tuple[Partnership, DigestSettings | None]]:
    """Partnerships with a linked channel and the digest on (or never set) that have no digest
    waiting in the outbox, by id from `after_id`: the ones the planner must queue a digest for.
    Each is answered from indexes (channel_link's and delivery's per-partnership ones)."""
    linked = exists().where(col(ChannelLink.partnership_id) == col(Partnership.id))
    waiting = exists().where(
        col(ScheduledDelivery.partnership_id) == col(Partnership.id),
        col(ScheduledDelivery.kind) == kind, col(ScheduledDelivery.status).in_(WAITING))
    result = await session.exec(
        select(Partnership, DigestSettings)
        .outerjoin(DigestSettings, col(DigestSettings.partnership_id) == Partnership.id)
        .where(col(Partnership.id) > after_id, linked, ~waiting,
               col(DigestSettings.enabled).is_not(False))
        .order_by(col(Partnership.id)).limit(limit)
    )
    return result.all()


async def statuses_of(session: AsyncSession, keys: Sequence[str]) -> dict[str, str]:
    if not keys:
        return {}
    result = await session.exec(
        select(ScheduledDelivery.dedupe_key, ScheduledDelivery.status)
        .where(col(ScheduledDelivery.dedupe_key).in_(keys)))
    return dict(result.all())


async def latest_delivery(session: AsyncSession, key_prefix: str,
                          before: datetime) -> ScheduledDelivery | None:
    """The newest delivery under this prefix due before `before` (the last digest)."""
    result = await session.exec(
        select(ScheduledDelivery)
        .where(col(ScheduledDelivery.dedupe_key).startswith(key_prefix, autoescape=True),
               col(ScheduledDelivery.due_at) < before,
               col(ScheduledDelivery.status) != DeliveryStatus.CANCELLED)
        .order_by(col(ScheduledDelivery.due_at).desc()).limit(1))
    return result.first()


# A digest that went out, or whose week was quiet and set to send nothing: either way, what was
# logged up to its due time has had its turn.
HAD_ITS_TURN = (DeliveryStatus.SENT.value, DeliveryStatus.SKIPPED.value)


async def last_digest_due(session: AsyncSession, key_prefix: str,
                          before: datetime) -> datetime | None:
    """The due time of the partnership's last digest that went out (or was skipped as quiet)
    before `before`: the next digest reports what was logged after it. A digest that failed or
    was dropped reported nothing, so what it would have said goes into the next one."""
    result = await session.exec(
        select(ScheduledDelivery.due_at)
        .where(col(ScheduledDelivery.dedupe_key).startswith(key_prefix, autoescape=True),
               col(ScheduledDelivery.due_at) < before,
               col(ScheduledDelivery.status).in_(HAD_ITS_TURN))
        .order_by(col(ScheduledDelivery.due_at).desc()).limit(1))
    return result.first()


async def waiting_delivery(session: AsyncSession, key_prefix: str) -> ScheduledDelivery | None:
    result = await session.exec(
        select(ScheduledDelivery)
        .where(col(ScheduledDelivery.dedupe_key).startswith(key_prefix, autoescape=True),
               col(ScheduledDelivery.status).in_(WAITING))
        .order_by(col(ScheduledDelivery.due_at)).limit(1))
    return result.first()


# --- what was logged -------------------------------------------------------------------------
# A digest reports what was logged or changed in its window (after the last digest's due time,
# up to its own), whatever date it happened on: logging comes days after the event, so picking
# records by the date they happened would leave late logs out of every digest. Each record is
# in exactly one window by its logging time, so no digest repeats another's.


def _within(column: Any, since: datetime, until: datetime) -> ColumnElement[bool]:
    return and_(column > since, column <= until)


def _edited_within(partnership_id: int, kind: str, record_id: Any, since: datetime,
                   until: datetime) -> ColumnElement[bool]:
    """The record was edited in the window (its audit trail says so)."""
    return exists().where(col(RecordChange.partnership_id) == partnership_id,
                          col(RecordChange.record_kind) == kind,
                          col(RecordChange.record_id) == record_id,
                          col(RecordChange.action) == ChangeAction.EDITED.value,
                          _within(col(RecordChange.changed_at), since, until))


@dataclass(frozen=True)
class CpdItem:
    id: int
    held_on: date
    title: str
    theme: str
    host: str | None
    minutes: int | None
    # Logged before the window and edited in it: shown again, marked as changed.
    edited: bool = False


async def cpd_logged(session: AsyncSession, partnership_id: int, since: datetime,
                     until: datetime, limit: int) -> Capped[CpdItem]:
    """Sessions logged, or edited, after `since` up to `until`, by the date they were held."""
    rows = await session.exec(
        select(CpdSession.id, CpdSession.held_on, CpdSession.title,  # type: ignore[call-overload]
               CpdTheme.name, School.name, CpdSession.minutes,
               col(CpdSession.created_at) <= since, _total())
        .join(CpdTheme, col(CpdTheme.id) == CpdSession.theme_id)
        .outerjoin(School, col(School.id) == CpdSession.host_school_id)
        .where(CpdSession.partnership_id == partnership_id,
               or_(_within(col(CpdSession.created_at), since, until),
                   _edited_within(partnership_id, "cpd", col(CpdSession.id), since, until)))
        .order_by(col(CpdSession.held_on), col(CpdSession.id)).limit(limit)
    )
    return _capped(rows.all(), lambda i, on, title, theme, host, minutes, edited: CpdItem(
        i, on, title, theme, host, minutes, bool(edited)))


@dataclass(frozen=True)
class WalkItem:
    id: int
    walked_on: date
    host: str
    focus: str
    edited: bool = False


async def walks_logged(session: AsyncSession, partnership_id: int, since: datetime,
                       until: datetime, limit: int) -> Capped[WalkItem]:
    """Walks logged, or edited, after `since` up to `until`, by the date they were walked."""
    rows = await session.exec(
        select(LearningWalk.id, LearningWalk.walked_on, School.name,  # type: ignore[call-overload]
               LearningWalk.focus, col(LearningWalk.created_at) <= since, _total())
        .join(School, col(School.id) == LearningWalk.host_school_id)
        .where(LearningWalk.partnership_id == partnership_id,
               or_(_within(col(LearningWalk.created_at), since, until),
                   _edited_within(partnership_id, "walk", col(LearningWalk.id), since,
                                  until)))
        .order_by(col(LearningWalk.walked_on), col(LearningWalk.id)).limit(limit)
    )
    return _capped(rows.all(), lambda i, on, host, focus, edited: WalkItem(
        i, on, host, focus, bool(edited)))


async def records_deleted(session: AsyncSession, partnership_id: int, since: datetime,
                          until: datetime, limit: int) -> Capped[str]:
    """Walks and sessions deleted in the window, oldest deletion first, as their labels
    ("CPD session #5, “Phonics” on Tuesday 24 November 2026")."""
    rows = await session.exec(
        select(RecordChange.changes, RecordChange.by_name, _total())
        .where(RecordChange.partnership_id == partnership_id,
               RecordChange.action == ChangeAction.DELETED.value,
               _within(col(RecordChange.changed_at), since, until))
        .order_by(col(RecordChange.changed_at), col(RecordChange.id)).limit(limit)
    )

    def label(changes: str, by: str) -> str:
        try:
            was = json.loads(changes).get("was")
        except (ValueError, AttributeError):
            was = None
        return f"{was or 'A record'} (deleted by {by})"

    return _capped(rows.all(), label)


async def schools_joined(session: AsyncSession, partnership_id: int, since: datetime,
                         until: datetime, limit: int) -> Capped[str]:
    """Schools that joined after `since` up to `until`."""
    rows = await session.exec(
        select(School.name, _total())
        .join(PartnershipSchool, col(PartnershipSchool.school_id) == School.id)
        .where(PartnershipSchool.partnership_id == partnership_id,
               _within(col(PartnershipSchool.joined_at), since, until))
        .order_by(col(PartnershipSchool.joined_at), col(School.name)).limit(limit)
    )
    return _capped(rows.all(), lambda name: name)


# --- what is coming and what is late -------------------------------------------------------


@dataclass(frozen=True)
class MeetingItem:
    id: int
    partnership: str
    title: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    location: str | None
    going: int
    maybe: int
    not_going: int


def _answers(answer: RsvpAnswer) -> Any:
    """Members' replies with this answer (a guest's reply is joined to no member row)."""
    return func.coalesce(func.sum(case(
        (and_(col(Rsvp.answer) == answer.value, col(Member.id).is_not(None)), 1), else_=0)), 0)


async def meetings_ahead(session: AsyncSession, partnership_ids: Sequence[int], start: datetime,
                         end: datetime, limit: int) -> Capped[MeetingItem]:
    """Scheduled meetings starting from `start` until `end`, soonest first, with their replies
    counted (grouped in SQL, so a meeting with 500 replies costs the same as one with 5)."""
    rows = await session.exec(
        select(Meeting.id, Partnership.name, Meeting.title, Meeting.starts_at,  # type: ignore[call-overload]
               Meeting.ends_at, Meeting.timezone, Meeting.location, _answers(RsvpAnswer.GOING),
               _answers(RsvpAnswer.MAYBE), _answers(RsvpAnswer.NOT_GOING), _total())
        .join(Partnership, col(Partnership.id) == Meeting.partnership_id)
        .outerjoin(Rsvp, col(Rsvp.meeting_id) == Meeting.id)
        .outerjoin(Member, and_(col(Member.partnership_id) == Meeting.partnership_id,
                                col(Member.platform) == Rsvp.platform,
                                col(Member.user_id) == Rsvp.user_id))
        .where(col(Meeting.partnership_id).in_(partnership_ids),
               Meeting.status == MeetingStatus.SCHEDULED,
               col(Meeting.starts_at) >= start, col(Meeting.starts_at) < end)
        .group_by(col(Meeting.id), col(Partnership.id))
        .order_by(col(Meeting.starts_at), col(Meeting.id)).limit(limit)
    )
    return _capped(rows.all(), lambda *r: MeetingItem(*r[:7], *(int(n) for n in r[7:])))


@dataclass(frozen=True)
class StepItem:
    """An open action: what it is, the walk it came from (if any), who owns it, when due."""

    action_id: int
    description: str
    due_on: date | None
    owner_name: str | None
    owner_user_id: str | None
    platform: str
    walk_id: int | None
    host: str | None
    focus: str | None


_STEP_COLUMNS = (Action.id, Action.description, Action.due_on, Action.owner_name,
                 Action.owner_user_id, Action.platform, LearningWalk.id, School.name,
                 LearningWalk.focus)


def _steps() -> Any:
    return (select(*_STEP_COLUMNS, _total())  # type: ignore[call-overload]
            .outerjoin(LearningWalk, col(LearningWalk.id) == Action.walk_id)
            .outerjoin(School, col(School.id) == LearningWalk.host_school_id))


async def overdue_steps(session: AsyncSession, partnership_id: int, today: date,
                        limit: int) -> Capped[StepItem]:
    """Open actions due before `today`, the longest overdue first (from the partial index of
    open actions)."""
    rows = await session.exec(
        _steps().where(Action.partnership_id == partnership_id,
                       Action.status == ActionStatus.OPEN.value, col(Action.due_on) < today)
        .order_by(col(Action.due_on), col(Action.id)).limit(limit)
    )
    return _capped(rows.all(), StepItem)


async def steps_owned(session: AsyncSession, partnership_ids: Sequence[int], platform: str,
                      user_id: str, limit: int) -> Capped[StepItem]:
    """Open actions this person owns, soonest due first (undated last)."""
    rows = await session.exec(
        _steps().where(col(Action.partnership_id).in_(partnership_ids),
                       Action.platform == platform, Action.owner_user_id == user_id,
                       Action.status == ActionStatus.OPEN.value)
        .order_by(col(Action.due_on).is_(None), col(Action.due_on), col(Action.id)).limit(limit)
    )
    return _capped(rows.all(), StepItem)


# --- CPD coverage ---------------------------------------------------------------------------


@dataclass
class Coverage:
    """A partnership's CPD in one term: sessions per theme, and per theme the sessions each
    school's staff attended."""

    themes: list[CpdTheme]
    schools: list[School]
    sessions: dict[int, int] = field(default_factory=dict)  # theme id -> sessions
    attended: dict[tuple[int, int], int] = field(default_factory=dict)  # (theme, school)
    # theme id -> sessions that did not record which schools came, and the attendees they
    # counted (a head count, or the people named): schools are counted only where given.
    without_schools: dict[int, int] = field(default_factory=dict)
    attendees_without_schools: dict[int, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.sessions.values())

    def with_schools(self, theme_id: int) -> int:
        return self.sessions.get(theme_id, 0) - self.without_schools.get(theme_id, 0)


async def coverage(session: AsyncSession, partnership_id: int, first: date,
                   last: date) -> Coverage:
    """Four statements: the themes, the schools, and two grouped counts."""
    themes = list((await session.exec(
        select(CpdTheme).where(CpdTheme.partnership_id == partnership_id)
        .order_by(col(CpdTheme.retired), col(CpdTheme.position), col(CpdTheme.id)))).all())
    schools = list((await session.exec(
        select(School).join(PartnershipSchool, col(PartnershipSchool.school_id) == School.id)
        .where(PartnershipSchool.partnership_id == partnership_id)
        .order_by(col(School.name)))).all())
    in_term = and_(col(CpdSession.partnership_id) == partnership_id,
                   col(CpdSession.held_on) >= first, col(CpdSession.held_on) <= last)
    no_schools = ~learning.schools_given()
    per_theme = await session.exec(
        select(CpdSession.theme_id, func.count(),
               func.coalesce(func.sum(case((no_schools, 1), else_=0)), 0),
               func.coalesce(func.sum(case((no_schools, learning.attendees_counted()),
                                           else_=0)), 0))
        .where(in_term).group_by(col(CpdSession.theme_id)))
    themed = per_theme.all()
    per_school = await session.exec(
        select(CpdSession.theme_id, CpdAttendance.school_id, func.count())
        .join(CpdAttendance, col(CpdAttendance.session_id) == CpdSession.id)
        .where(in_term)
        .group_by(col(CpdSession.theme_id), col(CpdAttendance.school_id)))
    return Coverage(themes, schools,
                    {theme: int(n) for theme, n, _, _ in themed},
                    {(theme, school): int(n) for theme, school, n in per_school.all()},
                    {theme: int(unschooled) for theme, _, unschooled, _ in themed if unschooled},
                    {theme: int(people) for theme, _, _, people in themed if people})


# --- the App Home ---------------------------------------------------------------------------


async def my_rsvps(session: AsyncSession, meeting_ids: Sequence[int], platform: str,
                   user_id: str) -> dict[int, str]:
    if not meeting_ids:
        return {}
    result = await session.exec(
        select(Rsvp.meeting_id, Rsvp.answer)
        .where(col(Rsvp.meeting_id).in_(meeting_ids), Rsvp.platform == platform,
               Rsvp.user_id == user_id))
    return dict(result.all())


@dataclass(frozen=True)
class RecentCpd:
    id: int
    held_on: date
    title: str
    theme: str
    partnership: str


async def recent_cpd(session: AsyncSession, partnership_ids: Sequence[int], since: date,
                     limit: int) -> Capped[RecentCpd]:
    rows = await session.exec(
        select(CpdSession.id, CpdSession.held_on, CpdSession.title,  # type: ignore[call-overload]
               CpdTheme.name, Partnership.name, _total())
        .join(CpdTheme, col(CpdTheme.id) == CpdSession.theme_id)
        .join(Partnership, col(Partnership.id) == CpdSession.partnership_id)
        .where(col(CpdSession.partnership_id).in_(partnership_ids),
               col(CpdSession.held_on) >= since)
        .order_by(col(CpdSession.held_on).desc(), col(CpdSession.id).desc()).limit(limit)
    )
    return _capped(rows.all(), RecentCpd)
