"""Reads and writes the handlers need, each scoped to one workspace."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import ChannelLink, Member, Partnership, PartnershipSchool, School


async def partnerships_in(session: AsyncSession, workspace: str) -> Sequence[Partnership]:
    result = await session.exec(
        select(Partnership).where(Partnership.workspace == workspace).order_by(Partnership.name)
    )
    return result.all()


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


async def partnership_rows(
    session: AsyncSession, workspace: str, platform: str, user_id: str
) -> list[PartnershipRow]:
    """Every partnership with its school count and whether the user belongs: two queries."""
    counts = (
        select(PartnershipSchool.partnership_id, func.count().label("n"))
        .group_by(col(PartnershipSchool.partnership_id))
        .subquery()
    )
    rows = await session.exec(
        select(Partnership, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.partnership_id == Partnership.id)
        .where(Partnership.workspace == workspace)
        .order_by(Partnership.name)
    )
    mine = set(
        (
            await session.exec(
                select(Member.partnership_id).where(
                    Member.platform == platform, Member.user_id == user_id
                )
            )
        ).all()
    )
    return [PartnershipRow(p, int(n), p.id in mine) for p, n in rows.all()]


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
