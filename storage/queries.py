"""Reads and writes the handlers need, each scoped to one workspace."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, bindparam, exists, func
from sqlalchemy import select as sa_select
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import core
from storage.models import (
    AgendaItem,
    ChannelLink,
    Meeting,
    MeetingMinutes,
    MeetingSettings,
    MeetingStatus,
    Member,
    Partnership,
    PartnershipSchool,
    Rsvp,
    RsvpAnswer,
    School,
)

M = TypeVar("M", bound=SQLModel)


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


# Built once: most commands start with it (storage/core.py says why that matters).
_PARTNERSHIP_AND_MEMBERSHIP = (
    select(Partnership, Member)
    .outerjoin(Member, and_(col(Member.partnership_id) == Partnership.id,
                            col(Member.platform) == bindparam("platform"),
                            col(Member.user_id) == bindparam("user_id")))
    .where(col(Partnership.workspace) == bindparam("workspace"),
           col(Partnership.name_key) == bindparam("key"))
)


async def partnership_and_membership(
    session: AsyncSession, workspace: str, key: str, platform: str, user_id: str
) -> tuple[Partnership, Member | None] | None:
    """The partnership with this name key, and the user's membership of it (None if they are not
    a member), in one statement."""
    result = await session.exec(_PARTNERSHIP_AND_MEMBERSHIP, params={
        "workspace": workspace, "key": key, "platform": platform, "user_id": user_id})
    return result.first()


async def partnership_by_short_key(session: AsyncSession, workspace: str,
                                   key: str) -> Partnership | None:
    """The partnership whose leads gave it this short name ("H&H")."""
    result = await session.exec(
        select(Partnership).where(Partnership.workspace == workspace,
                                  Partnership.short_key == key))
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
    mine_ids = [row[0] for row in await core.rows(session, select(Member.partnership_id).where(
        Member.platform == platform, Member.user_id == user_id))]
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
        total = int((await core.rows(session, counted))[0][0])
    return PartnershipListing(mine, others, total)


async def _with_counts(session: AsyncSession, query: Any, member: bool) -> list[PartnershipRow]:
    partnerships = core.shown(Partnership, await core.rows(session, query))  # to show only
    ids = [p.id for p in partnerships]
    counts: dict[int, int] = {}
    if ids:
        counted = await core.rows(session, (
            select(PartnershipSchool.partnership_id, func.count())
            .where(col(PartnershipSchool.partnership_id).in_(ids))
            .group_by(col(PartnershipSchool.partnership_id))
        ))
        counts = {int(row[0]): int(row[1]) for row in counted}
    return [PartnershipRow(p, counts.get(p.id or 0, 0), member) for p in partnerships]


_SCHOOLS_OF = (
    select(School.__table__)  # type: ignore[attr-defined]
    .join(PartnershipSchool.__table__,  # type: ignore[attr-defined]
          col(PartnershipSchool.school_id) == col(School.id))
    .where(col(PartnershipSchool.partnership_id) == bindparam("partnership_id"))
    .order_by(col(School.name))
)


async def schools_of(session: AsyncSession, partnership_id: int) -> Sequence[School]:
    """Its schools by name, to show (not tracked by the session: see storage/core.py)."""
    return core.shown(School, await core.rows(session, _SCHOOLS_OF,
                                              {"partnership_id": partnership_id}))


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


_CHANNEL_LINKS = (
    select(ChannelLink.__table__)  # type: ignore[attr-defined]
    .where(col(ChannelLink.partnership_id) == bindparam("partnership_id"))
    .order_by(col(ChannelLink.linked_at))
)


async def channel_links(
    session: AsyncSession, partnership_id: int
) -> Sequence[ChannelLink]:
    """Its linked channels, oldest first, to show or post to (not tracked by the session: see
    storage/core.py; `channel_link` gives one to change)."""
    return core.shown(ChannelLink, await core.rows(session, _CHANNEL_LINKS,
                                                   {"partnership_id": partnership_id}))


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


@dataclass(frozen=True)
class ReminderFacts:
    """What a meeting's reminder shows, read in one statement."""

    meeting: Meeting
    partnership: Partnership
    reminder_minutes: str | None  # the partnership's setting, None for the default
    agenda: list[AgendaItem]
    answers: dict[str, int]  # answer -> how many members gave it
    waiting: int  # members who have not replied
    guests: int = 0  # replies from people outside the partnership (counted apart)


def _by_member() -> Any:
    """The reply (Rsvp) is from a member of the meeting's partnership."""
    return exists().where(col(Member.partnership_id) == col(Meeting.partnership_id),
                          col(Member.platform) == col(Rsvp.platform),
                          col(Member.user_id) == col(Rsvp.user_id))


def _answered(answer: RsvpAnswer) -> Any:
    """Members who gave `answer` (guests' replies are not counted with theirs)."""
    return (select(func.count()).select_from(Rsvp)
            .where(col(Rsvp.meeting_id) == col(Meeting.id), col(Rsvp.answer) == answer.value,
                   _by_member())
            .scalar_subquery())


def _guests() -> Any:
    return (select(func.count()).select_from(Rsvp)
            .where(col(Rsvp.meeting_id) == col(Meeting.id), ~_by_member())
            .scalar_subquery())


def _prefixed(model: type[Any], prefix: str) -> list[Any]:
    return [c.label(f"{prefix}{c.name}") for c in model.__table__.columns]


def _unprefixed(model: type[M], prefix: str, row: Any) -> M:
    """A model made from a row's `prefix`-labelled columns, to read only (storage/core.py)."""
    mapping = row._mapping
    return model.model_construct(**{c.name: mapping[f"{prefix}{c.name}"]
                                    for c in model.__table__.columns})  # type: ignore[attr-defined]


def _reminder_facts_statement() -> Any:
    replied = exists().where(col(Rsvp.meeting_id) == col(Meeting.id),
                             col(Rsvp.platform) == col(Member.platform),
                             col(Rsvp.user_id) == col(Member.user_id))
    waiting = (select(func.count()).select_from(Member)
               .where(col(Member.partnership_id) == col(Partnership.id), ~replied)
               .scalar_subquery())
    return (
        sa_select(*_prefixed(Meeting, "m_"), *_prefixed(Partnership, "p_"),
               *_prefixed(AgendaItem, "a_"), col(MeetingSettings.reminder_minutes),
               waiting.label("waiting"), _guests().label("guests"),
               *(_answered(a).label(f"n_{a.value}") for a in RsvpAnswer))
        .select_from(Meeting)
        .join(Partnership, col(Partnership.id) == col(Meeting.partnership_id))
        .outerjoin(MeetingSettings, col(MeetingSettings.partnership_id) == col(Partnership.id))
        .outerjoin(AgendaItem, col(AgendaItem.meeting_id) == col(Meeting.id))
        .where(col(Meeting.id) == bindparam("meeting_id"))
        .order_by(col(AgendaItem.position))
    )


_REMINDER_FACTS = _reminder_facts_statement()


async def reminder_facts(session: AsyncSession, meeting_id: int) -> ReminderFacts | None:
    """For the reminder sender (which acts for no one workspace: the row names its own): one
    prebuilt Core statement, since thousands can fall due in the same minute."""
    found = await core.rows(session, _REMINDER_FACTS, {"meeting_id": meeting_id})
    if not found:
        return None
    first = found[0]
    return ReminderFacts(
        _unprefixed(Meeting, "m_", first), _unprefixed(Partnership, "p_", first),
        first.reminder_minutes,
        [_unprefixed(AgendaItem, "a_", row) for row in found if row.a_id is not None],
        {a.value: int(first._mapping[f"n_{a.value}"]) for a in RsvpAnswer},
        int(first.waiting), int(first.guests))


async def previous_meeting(session: AsyncSession, meeting: Meeting) -> Meeting | None:
    """The partnership's last meeting before this one (not a cancelled one)."""
    result = await session.exec(
        select(Meeting).where(Meeting.partnership_id == meeting.partnership_id,
                              Meeting.status == MeetingStatus.SCHEDULED,
                              col(Meeting.starts_at) < meeting.starts_at,
                              Meeting.id != meeting.id)
        .order_by(col(Meeting.starts_at).desc(), col(Meeting.id).desc()).limit(1))
    return result.first()


async def next_meeting(session: AsyncSession, meeting: Meeting) -> Meeting | None:
    """The partnership's first meeting after this one (not a cancelled one)."""
    result = await session.exec(
        select(Meeting).where(Meeting.partnership_id == meeting.partnership_id,
                              Meeting.status == MeetingStatus.SCHEDULED,
                              col(Meeting.starts_at) > meeting.starts_at,
                              Meeting.id != meeting.id)
        .order_by(col(Meeting.starts_at), col(Meeting.id)).limit(1))
    return result.first()


async def minutes_of(session: AsyncSession, meeting_id: int) -> Sequence[MeetingMinutes]:
    """Every version of a meeting's minutes, the newest first."""
    result = await session.exec(
        select(MeetingMinutes).where(MeetingMinutes.meeting_id == meeting_id)
        .order_by(col(MeetingMinutes.version).desc()))
    return result.all()


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


async def replies_to(session: AsyncSession,
                     meeting: Meeting) -> Sequence[tuple[Rsvp, bool]]:
    """A meeting's replies, each with whether it came from a member of the meeting's
    partnership (anyone who sees the card may reply; only members' replies count as theirs)."""
    result = await session.exec(
        select(Rsvp, col(Member.id).is_not(None))
        .outerjoin(Member, and_(col(Member.partnership_id) == meeting.partnership_id,
                                col(Member.platform) == Rsvp.platform,
                                col(Member.user_id) == Rsvp.user_id))
        .where(Rsvp.meeting_id == meeting.id).order_by(col(Rsvp.answered_at))
    )
    return [(rsvp, bool(member)) for rsvp, member in result.all()]


_GOING = (
    select(col(Rsvp.meeting_id), func.count())
    # Members' replies only: a guest's has no member row in the meeting's partnership.
    .join(Meeting, col(Meeting.id) == Rsvp.meeting_id)
    .join(Member, and_(col(Member.partnership_id) == Meeting.partnership_id,
                       col(Member.platform) == Rsvp.platform,
                       col(Member.user_id) == Rsvp.user_id))
    .where(col(Rsvp.meeting_id).in_(bindparam("meeting_ids", expanding=True)),
           col(Rsvp.answer) == RsvpAnswer.GOING.value)
    .group_by(col(Rsvp.meeting_id))
)


async def going_counts(session: AsyncSession, meeting_ids: Sequence[int]) -> dict[int, int]:
    """How many members said Going to each meeting, in one grouped statement (meetings with none are
    left out)."""
    if not meeting_ids:
        return {}
    found = await core.rows(session, _GOING, {"meeting_ids": list(meeting_ids)})
    return {int(row[0]): int(row[1]) for row in found}


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
