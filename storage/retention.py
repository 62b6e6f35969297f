"""Keeping personal data only as long as set: the daily housekeeping job."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import dedupe, web_access
from storage.db import Database
from storage.models import Action, LearningWalk, Partnership, WalkWalker
from storage.personal_data import ERASED
from storage.types import LONDON

log = logging.getLogger(__name__)

# What an expired walk's next steps (actions) say once their words are removed.
NOTES_REMOVED = "(removed with the walk's notes)"


def _expired(cutoff: date) -> Any:
    """Walks from before `cutoff` whose notes are still kept."""
    return ((col(LearningWalk.walked_on) < cutoff)
            & col(LearningWalk.notes_removed_at).is_(None))


async def notes_older_than(session: AsyncSession, partnership_id: int, cutoff: date) -> int:
    """How many of a partnership's walks would lose their notes with this cutoff (those with
    notes to lose): what a lead is told before shortening how long notes are kept."""
    has_notes = (col(LearningWalk.strengths).is_not(None)
                 | col(LearningWalk.development).is_not(None)
                 | col(LearningWalk.next_steps).is_not(None))
    result = await session.exec(select(func.count()).select_from(LearningWalk).where(
        LearningWalk.partnership_id == partnership_id, _expired(cutoff), has_notes))
    return int(result.one())


async def remove_old_walk_notes(db: Database, now: datetime) -> int:
    """Clear the notes of walks older than their partnership's retention period: what was seen
    and who walked go; the date, host school and focus stay, so counts and coverage still add
    up. One statement per distinct retention period, however many partnerships there are."""
    today = now.astimezone(LONDON).date()
    removed = 0
    async with db.session() as session:
        periods = (await session.exec(
            select(Partnership.notes_retention_days).distinct())).all()
        for days in periods:
            cutoff = today - timedelta(days=days)
            partnerships = select(Partnership.id).where(
                Partnership.notes_retention_days == days)
            expired = col(LearningWalk.partnership_id).in_(partnerships) & _expired(cutoff)
            await session.exec(update(WalkWalker).where(
                col(WalkWalker.walk_id).in_(select(LearningWalk.id).where(expired)))
                .values(user_id=None, name=ERASED))
            # The steps' words go with the notes; that there were steps, their dates and
            # states stay, so the termly report's counts still add up.
            await session.exec(update(Action).where(
                col(Action.walk_id).in_(select(LearningWalk.id).where(expired)))
                .values(description=NOTES_REMOVED, owner_user_id=None, owner_name=None))
            result = await session.exec(update(LearningWalk).where(
                expired).values(strengths=None, development=None, next_steps=None,
                                notes_removed_at=now))
            removed += int(result.rowcount)
    return removed


async def housekeeping(db: Database, now: datetime) -> None:
    """Run once a day by the scheduler; safe to run twice or in several processes at once."""
    walks = await remove_old_walk_notes(db, now)
    requests = await dedupe.forget_old(db)
    links = await web_access.forget_expired(db, now)
    log.info("housekeeping: notes removed from %d walks, %d old request ids forgotten, %d "
             "expired web links, sessions and files deleted", walks, requests, links)
