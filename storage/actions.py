"""Actions: what someone (a member, or a school) will do by a date. The reads other parts use:
`open_actions_for` ("matters arising" at the next meeting), `actions_owned` (Home tab, digest),
`action_counts` (the termly report), `action_rows` (the list), and the writes that open and
close them. Every read is scoped to partnerships the caller has been checked against."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, case, delete, func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    Action,
    ActionSource,
    ActionStatus,
    LearningWalk,
    NudgeSetting,
    Partnership,
    School,
)
from storage.types import utcnow


@dataclass(frozen=True)
class ActionRow:
    """An action with what it came from: its walk (host school and focus) and owning school."""

    action: Action
    partnership: Partnership
    owner_school: School | None
    walk: LearningWalk | None
    walk_host: School | None

    @property
    def owner_label(self) -> str:
        if self.owner_school is not None:
            return self.owner_school.name
        return self.action.owner_name or (f"@{self.action.owner_user_id}"
                                          if self.action.owner_user_id else "no owner")

    @property
    def source_label(self) -> str:
        if self.walk is not None:
            host = self.walk_host.name if self.walk_host else "a school"
            return f"walk #{self.walk.id} at {host}"
        if self.action.agenda_item_id is not None:
            return "a meeting"
        return ""


_DUE_ORDER = (col(Action.due_on).is_(None), col(Action.due_on), col(Action.id))


async def action_rows(session: AsyncSession, partnership_ids: Sequence[int], *,
                      status: ActionStatus | None = ActionStatus.OPEN,
                      owner: tuple[str, str] | None = None, school_id: int | None = None,
                      due_before: date | None = None, limit: int = 50,
                      offset: int = 0) -> list[ActionRow]:
    """The actions of these partnerships, soonest due first (undated last). `owner`:
    (platform, user id); `school_id`: owned by that school; `due_before`: overdue; `offset`:
    how many to pass over (the web page's later pages)."""
    conditions: list[object] = [col(Action.partnership_id).in_(partnership_ids)]
    if status is not None:
        conditions.append(Action.status == status.value)
    if owner is not None:
        conditions += [Action.platform == owner[0], Action.owner_user_id == owner[1]]
    if school_id is not None:
        conditions.append(Action.owner_school_id == school_id)
    if due_before is not None:
        conditions.append(col(Action.due_on) < due_before)
    return await _select_rows(session, conditions, limit, offset)


async def _select_rows(session: AsyncSession, conditions: list[object],
                       limit: int, offset: int = 0) -> list[ActionRow]:
    actions = (await session.exec(
        select(Action).where(*conditions)  # type: ignore[arg-type]
        .order_by(*_DUE_ORDER).offset(offset).limit(limit))).all()
    return await _with_context(session, list(actions))


async def _with_context(session: AsyncSession, actions: list[Action]) -> list[ActionRow]:
    """Each action with its partnership, owning school and walk (three small reads)."""
    partnerships = {p.id: p for p in (await session.exec(select(Partnership).where(
        col(Partnership.id).in_({a.partnership_id for a in actions})))).all()}
    walk_ids = {a.walk_id for a in actions if a.walk_id is not None}
    walks = {w.id: w for w in (await session.exec(select(LearningWalk).where(
        col(LearningWalk.id).in_(walk_ids))))} if walk_ids else {}
    school_ids = {a.owner_school_id for a in actions if a.owner_school_id is not None} | {
        w.host_school_id for w in walks.values()}
    schools = {s.id: s for s in (await session.exec(select(School).where(
        col(School.id).in_(school_ids))))} if school_ids else {}
    rows = []
    for a in actions:
        walk = walks.get(a.walk_id) if a.walk_id is not None else None
        rows.append(ActionRow(
            a, partnerships[a.partnership_id],
            schools.get(a.owner_school_id) if a.owner_school_id is not None else None,
            walk, schools.get(walk.host_school_id) if walk is not None else None))
    return rows


async def open_actions_for(session: AsyncSession, partnership_id: int,
                           limit: int = 50) -> list[ActionRow]:
    """A partnership's open actions, soonest due first: "matters arising" at its next
    meeting."""
    return await action_rows(session, [partnership_id], limit=limit)


async def actions_owned(session: AsyncSession, partnership_ids: Sequence[int], platform: str,
                        user_id: str, limit: int = 50) -> list[ActionRow]:
    """The open actions this person owns (Home tab, digest, `actions mine`)."""
    return await action_rows(session, partnership_ids, owner=(platform, user_id), limit=limit)


async def action_in_workspace(session: AsyncSession, workspace: str,
                              action_id: int) -> ActionRow | None:
    action = (await session.exec(
        select(Action).join(Partnership, col(Partnership.id) == Action.partnership_id)
        .where(Action.id == action_id, Partnership.workspace == workspace))).first()
    if action is None:
        return None
    return (await _with_context(session, [action]))[0]


async def actions_of_walk(session: AsyncSession, walk_id: int) -> list[Action]:
    return list((await session.exec(
        select(Action).where(Action.walk_id == walk_id).order_by(col(Action.id)))).all())


async def actions_of_walks(session: AsyncSession,
                           walk_ids: Sequence[int]) -> dict[int, list[Action]]:
    found: dict[int, list[Action]] = {}
    if walk_ids:
        for a in (await session.exec(select(Action).where(col(Action.walk_id).in_(walk_ids))
                                     .order_by(col(Action.id)))).all():
            found.setdefault(a.walk_id or 0, []).append(a)
    return found


@dataclass(frozen=True)
class ActionCounts:
    """For a period: actions raised in it, done in it, and still open and overdue at its end."""

    raised: int
    done: int
    dropped: int
    overdue: int


async def action_counts(session: AsyncSession, partnership_id: int, start: datetime,
                        end: datetime, today: date,
                        owner_school_id: int | None = None) -> ActionCounts:
    """Counts for the termly report (`start` <= moment < `end`, UTC); `owner_school_id`
    narrows them to one school's actions."""
    scope = [col(Action.partnership_id) == partnership_id]
    if owner_school_id is not None:
        scope.append(col(Action.owner_school_id) == owner_school_id)
    status = col(Action.status)
    closed_in = and_(col(Action.closed_at) >= start, col(Action.closed_at) < end)
    row = (await session.exec(select(
        func.coalesce(func.sum(case((and_(col(Action.created_at) >= start,
                                          col(Action.created_at) < end), 1), else_=0)), 0),
        func.coalesce(func.sum(case((and_(status == ActionStatus.DONE.value, closed_in), 1),
                                    else_=0)), 0),
        func.coalesce(func.sum(case((and_(status == ActionStatus.DROPPED.value, closed_in), 1),
                                    else_=0)), 0),
        func.coalesce(func.sum(case((and_(status == ActionStatus.OPEN.value,
                                          col(Action.due_on) < today), 1), else_=0)), 0),
    ).where(*scope))).one()
    return ActionCounts(*(int(n) for n in row))


def new_action(partnership_id: int, description: str, platform: str, *,
               owner_user_id: str | None, owner_name: str | None, owner_school_id: int | None,
               due_on: date | None, created_by_user_id: str, created_by_name: str,
               source: ActionSource = ActionSource.TYPED, walk_id: int | None = None,
               agenda_item_id: int | None = None) -> Action:
    return Action(partnership_id=partnership_id, description=description, platform=platform,
                  owner_user_id=owner_user_id, owner_name=owner_name,
                  owner_school_id=owner_school_id, due_on=due_on, source=source.value,
                  walk_id=walk_id, agenda_item_id=agenda_item_id,
                  created_by_user_id=created_by_user_id, created_by_name=created_by_name)


def close(action: Action, status: ActionStatus, by_user_id: str, by_name: str,
          reason: str | None = None) -> None:
    action.status = status.value
    action.closed_by_user_id, action.closed_by_name = by_user_id, by_name
    action.closed_at = utcnow()
    action.drop_reason = reason


async def close_walk_actions(session: AsyncSession, walk_id: int, by_user_id: str,
                             by_name: str) -> int:
    """`walk done`: mark the walk's open actions done; how many were."""
    result = await session.exec(
        update(Action).where(col(Action.walk_id) == walk_id,
                             col(Action.status) == ActionStatus.OPEN.value)
        .values(status=ActionStatus.DONE.value, closed_by_user_id=by_user_id,
                closed_by_name=by_name, closed_at=utcnow()))
    return int(result.rowcount or 0)


async def delete_walk_actions(session: AsyncSession, walk_id: int) -> None:
    await session.exec(delete(Action).where(col(Action.walk_id) == walk_id))


# --- nudges ---------------------------------------------------------------------------------


async def nudges_off(session: AsyncSession, workspace: str, platform: str, user_id: str) -> bool:
    row = (await session.exec(select(NudgeSetting).where(
        NudgeSetting.workspace == workspace, NudgeSetting.platform == platform,
        NudgeSetting.user_id == user_id))).first()
    return row is not None and row.nudges_off


async def set_nudges(session: AsyncSession, workspace: str, platform: str, user_id: str,
                     off: bool) -> None:
    row = (await session.exec(select(NudgeSetting).where(
        NudgeSetting.workspace == workspace, NudgeSetting.platform == platform,
        NudgeSetting.user_id == user_id))).first()
    if row is None:
        row = NudgeSetting(workspace=workspace, platform=platform, user_id=user_id)
    row.nudges_off, row.changed_at = off, utcnow()
    session.add(row)
