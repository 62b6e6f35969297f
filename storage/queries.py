"""Reads and writes the handlers need, each scoped to one workspace."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    AgendaItem,
    ChannelLink,
    Meeting,
    MeetingSettings,
    MeetingStatus,
    Member,
    Partnership,
    PartnershipSchool,
    Rsvp,
    School,
)


async def partnerships_in(session: AsyncSession, workspace: str) -> Sequence[Partnership]:
    result = await session.exec(
        select(Partnership).where(Partnership.workspace == workspace).order_by(Partnership.name)
    )
    return result.all()


async def partnership_in(session: AsyncSession, workspace: str,
                         partnership_id: int) -> Partnership | None:
    """The partnership with this id, if it belongs to `workspace`."""
    result = await session.exec(
        select(Partnership).where(Partnership.id == partnership_id,
                                  Partnership.workspace == workspace)
    )
    return result.first()


async def partnership_by_key(session: AsyncSession, workspace: str, key: str) -> Partnership | None:
    result = await session.exec(
        select(Partnership).where(Partnership.workspace == workspace, Partnership.name_key == key)
    )
    return result.first()


async def schools_in(session: AsyncSession, workspace: str) -> Sequence[School]:
    result = await session.exec(
        select(School).where(School.workspace == workspace).order_by(School.name)
    )
    return result.all()


async def school_by_key(session: AsyncSession, workspace: str, key: str) -> School | None:
    result = await session.exec(
        select(School).where(School.workspace == workspace, School.name_key == key)
    )
    return result.first()


@dataclass(frozen=True)
class PartnershipRow:
    partnership: Partnership
    school_count: int
    caller_is_member: bool


@dataclass(frozen=True)
class PartnershipListing:
    mine: list[PartnershipRow]
    others: list[PartnershipRow]  # at most `limit`, by name
    others_total: int


async def partnership_listing(
    session: AsyncSession, workspace: str, platform: str, user_id: str,
    containing: str = "", limit: int = 30,
) -> PartnershipListing:
    """The user's partnerships, then the first `limit` others (names containing `containing`,
    a name key), with school counts: bounded work however many partnerships there are."""
    # The user's partnership ids first, as a list: "NOT IN (subquery)" defeats PostgreSQL's
    # planner (no anti-join over a nullable subquery).
    mine_ids = list((await session.exec(select(Member.partnership_id).where(
        Member.platform == platform, Member.user_id == user_id))).all())
    scope: list[ColumnElement[bool]] = [col(Partnership.workspace) == workspace]
    if containing:
        scope.append(col(Partnership.name_key).contains(containing, autoescape=True))
    mine = await _with_counts(session, select(Partnership).where(
        *scope, col(Partnership.id).in_(mine_ids)).order_by(Partnership.name), member=True)
    others_query = select(Partnership).where(*scope, col(Partnership.id).not_in(mine_ids))
    others = await _with_counts(session, others_query.order_by(Partnership.name).limit(limit),
                                member=False)
    total = len(others)
    if total == limit:
        counted = select(func.count()).select_from(others_query.subquery())
        total = int((await session.exec(counted)).one())
    return PartnershipListing(mine, others, total)


async def _with_counts(session: AsyncSession, query: Any, member: bool) -> list[PartnershipRow]:
    partnerships = list((await session.exec(query)).all())
    ids = [p.id for p in partnerships]
    counts: dict[int, int] = {}
    if ids:
        counted = await session.exec(
            select(PartnershipSchool.partnership_id, func.count())
            .where(col(PartnershipSchool.partnership_id).in_(ids))
            .group_by(col(PartnershipSchool.partnership_id))
        )
        counts = {pid: int(n) for pid, n in counted.all()}
    return [PartnershipRow(p, counts.get(p.id or 0, 0), member) for p in partnerships]


async def schools_of(session: AsyncSession, partnership_id: int) -> Sequence[School]:
    result = await session.exec(
        select(School)
        .join(PartnershipSchool, col(PartnershipSchool.school_id) == School.id)
        .where(PartnershipSchool.partnership_id == partnership_id)
        .order_by(School.name)
    )
    return result.all()


async def members_of(
    session: AsyncSession, partnership_id: int
) -> Sequence[tuple[Member, School | None]]:
    result = await session.exec(
        select(Member, School)
        .outerjoin(School, col(Member.school_id) == School.id)
        .where(Member.partnership_id == partnership_id)
        .order_by(Member.display_name)
    )
    return result.all()


async def member(
    session: AsyncSession, partnership_id: int, platform: str, user_id: str
) -> Member | None:
    result = await session.exec(
        select(Member).where(
            Member.partnership_id == partnership_id,
            Member.platform == platform,
            Member.user_id == user_id,
        )
    )
    return result.first()


async def school_link(
    session: AsyncSession, partnership_id: int, school_id: int
) -> PartnershipSchool | None:
    result = await session.exec(
        select(PartnershipSchool).where(
            PartnershipSchool.partnership_id == partnership_id,
            PartnershipSchool.school_id == school_id,
        )
    )
    return result.first()


async def channel_links(
    session: AsyncSession, partnership_id: int
) -> Sequence[ChannelLink]:
    result = await session.exec(
        select(ChannelLink)
        .where(ChannelLink.partnership_id == partnership_id)
        .order_by(col(ChannelLink.linked_at))
    )
    return result.all()


async def channel_link(
    session: AsyncSession, partnership_id: int, platform: str, channel_id: str
) -> ChannelLink | None:
    result = await session.exec(
        select(ChannelLink).where(
            ChannelLink.partnership_id == partnership_id,
            ChannelLink.platform == platform,
            ChannelLink.channel_id == channel_id,
        )
    )
    return result.first()


async def partnership_workspace(session: AsyncSession, partnership_id: int) -> str | None:
    """The workspace a partnership belongs to: which installation (bot token) serves it."""
    result = await session.exec(
        select(Partnership.workspace).where(Partnership.id == partnership_id)
    )
    return result.first()
# --- meetings -------------------------------------------------------------------------------


async def meeting_in(
    session: AsyncSession, workspace: str, meeting_id: int
) -> tuple[Meeting, Partnership] | None:
    """The meeting with this number, if it belongs to a partnership in `workspace`."""
    result = await session.exec(
        select(Meeting, Partnership)
        .join(Partnership, col(Partnership.id) == Meeting.partnership_id)
        .where(Meeting.id == meeting_id, Partnership.workspace == workspace)
    )
    return result.first()


async def meeting_by_id(
    session: AsyncSession, meeting_id: int
) -> tuple[Meeting, Partnership] | None:
    """For the reminder sender, which acts for no one workspace: the row names its own."""
    result = await session.exec(
        select(Meeting, Partnership)
        .join(Partnership, col(Partnership.id) == Meeting.partnership_id)
        .where(Meeting.id == meeting_id)
    )
    return result.first()


async def upcoming_meetings(
    session: AsyncSession, workspace: str, now: datetime, partnership_ids: list[int] | None
) -> Sequence[tuple[Meeting, Partnership]]:
    """Scheduled meetings not yet over, soonest first; all of the workspace's when no ids."""
    query = (
        select(Meeting, Partnership)
        .join(Partnership, col(Partnership.id) == Meeting.partnership_id)
        .where(Partnership.workspace == workspace, Meeting.status == MeetingStatus.SCHEDULED,
               col(Meeting.ends_at) > now)
        .order_by(col(Meeting.starts_at))
    )
    if partnership_ids is not None:
        query = query.where(col(Meeting.partnership_id).in_(partnership_ids))
    return (await session.exec(query)).all()


async def agenda_of(session: AsyncSession, meeting_id: int) -> Sequence[AgendaItem]:
    result = await session.exec(
        select(AgendaItem).where(AgendaItem.meeting_id == meeting_id)
        .order_by(col(AgendaItem.position))
    )
    return result.all()


async def rsvps_of(session: AsyncSession, meeting_id: int) -> Sequence[Rsvp]:
    result = await session.exec(
        select(Rsvp).where(Rsvp.meeting_id == meeting_id).order_by(col(Rsvp.answered_at))
    )
    return result.all()


async def rsvp_of(session: AsyncSession, meeting_id: int, platform: str,
                  user_id: str) -> Rsvp | None:
    result = await session.exec(
        select(Rsvp).where(Rsvp.meeting_id == meeting_id, Rsvp.platform == platform,
                           Rsvp.user_id == user_id)
    )
    return result.first()


async def meeting_settings(session: AsyncSession, partnership_id: int) -> MeetingSettings | None:
    result = await session.exec(
        select(MeetingSettings).where(MeetingSettings.partnership_id == partnership_id)
    )
    return result.first()


async def partnership_ids_of(session: AsyncSession, workspace: str, platform: str,
                             user_id: str) -> list[int]:
    """The partnerships in `workspace` the user belongs to."""
    result = await session.exec(
        select(Member.partnership_id)
        .join(Partnership, col(Partnership.id) == Member.partnership_id)
        .where(Partnership.workspace == workspace, Member.platform == platform,
               Member.user_id == user_id)
    )
    return list(result.all())
