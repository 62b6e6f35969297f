"""Seeded data for the benchmarks: the real Barnet authority (15 partnerships, 100+ schools) and
a synthetic authority of 1,000 partnerships, with bench users as members."""

from __future__ import annotations

import random
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert
from sqlmodel import col, select

from handlers.themes import themes_of
from storage.db import Database
from storage.importer import import_file
from storage.models import (
    AccessRole,
    CpdSession,
    LearningWalk,
    Meeting,
    Member,
    Partnership,
    PartnershipSchool,
    School,
)
from storage.names import name_key
from storage.types import utcnow

DATA = Path(__file__).parent.parent / "tests" / "fixtures" / "data" / "partnerships.yaml"
SMALL = "T0BARNET01"  # the real authority
LARGE = "T0LARGE001"  # 1,000 partnerships
BENCH_USERS = [f"U0BENCH{n:03d}" for n in range(20)]
SCHOOLS_PER_PARTNERSHIP = 6


async def seed_small(db: Database) -> list[str]:
    await import_file(db, DATA, SMALL)
    return await _add_members(db, SMALL)


async def seed_large(db: Database, partnerships: int = 1000) -> list[str]:
    now = utcnow()
    schools = partnerships * 3  # each school in about two partnerships, as in real areas
    async with db.session() as session:
        await (await session.connection()).execute(insert(School), [
            {"workspace": LARGE, "name": f"School {n:04d}", "name_key": f"school {n:04d}",
             "created_at": now} for n in range(schools)])
        await (await session.connection()).execute(insert(Partnership), [
            {"workspace": LARGE, "name": f"Area {n:04d} Partnership",
             "name_key": name_key(f"Area {n:04d} Partnership"), "kind": "loose",
             "proposed": False, "timezone": "Europe/London", "created_at": now}
            for n in range(partnerships)])
    async with db.session() as session:
        p_ids = [p for p in (await session.exec(select(col(Partnership.id)).where(
            Partnership.workspace == LARGE).order_by(col(Partnership.id)))).all() if p]
        s_ids = [s for s in (await session.exec(select(col(School.id)).where(
            School.workspace == LARGE).order_by(col(School.id)))).all() if s]
        await (await session.connection()).execute(insert(PartnershipSchool), [
            {"partnership_id": p, "school_id": s_ids[(i * 3 + k) % len(s_ids)], "joined_at": now}
            for i, p in enumerate(p_ids) for k in range(SCHOOLS_PER_PARTNERSHIP)])
    return await _add_members(db, LARGE)


def member_of(index: int) -> str:
    """The bench user who leads the index-th partnership: as in life, each head is in a few
    partnerships, not all of them."""
    return BENCH_USERS[index % len(BENCH_USERS)]


async def _add_members(db: Database, workspace: str, up_to: int = 60) -> list[str]:
    """The first `up_to` partnerships (by name) get a bench user as lead; returns all names,
    in that order, so `member_of(i)` names the lead of the i-th."""
    now = utcnow()
    async with db.session() as session:
        rows = (await session.exec(select(Partnership).where(
            Partnership.workspace == workspace).order_by(col(Partnership.name)))).all()
        await (await session.connection()).execute(insert(Member), [
            {"partnership_id": row.id, "platform": "slack", "user_id": member_of(i),
             "display_name": member_of(i).lower(), "access_role": AccessRole.LEAD.value,
             "joined_at": now}
            for i, row in enumerate(rows[:up_to])])
    return [row.name for row in rows]


ACTIVE = 60  # the partnerships with a bench lead, which also get walks, CPD and meetings


async def seed_activity(db: Database, workspace: str, per_partnership: int = 40) -> dict[str, str]:
    """A year of walks and CPD sessions, and two upcoming meetings, for each of the first
    ACTIVE partnerships (by name); returns partnership name -> one of its schools."""
    rng = random.Random(workspace)
    now = utcnow()
    today = now.date()
    walks: list[dict[str, object]] = []
    sessions: list[dict[str, object]] = []
    a_school: dict[str, str] = {}
    async with db.session() as session:
        partnerships = (await session.exec(select(Partnership).where(
            Partnership.workspace == workspace).order_by(col(Partnership.name)))).all()
        for i, partnership in enumerate(partnerships[:ACTIVE]):
            assert partnership.id is not None
            themes = [t.id for t in await themes_of(session, partnership)]
            schools = (await session.exec(select(School).join(
                PartnershipSchool, col(PartnershipSchool.school_id) == School.id).where(
                PartnershipSchool.partnership_id == partnership.id))).all()
            a_school[partnership.name] = schools[0].name
            lead = member_of(i)
            for _ in range(per_partnership):
                walks.append({
                    "partnership_id": partnership.id, "host_school_id": rng.choice(schools).id,
                    "walked_on": today - timedelta(days=rng.randrange(365)),
                    "focus": "Progression in foundation subjects", "platform": "slack",
                    "logged_by_user_id": lead, "logged_by_name": lead.lower(),
                    "created_at": now})
                sessions.append({
                    "partnership_id": partnership.id, "theme_id": rng.choice(themes),
                    "title": "Network session", "minutes": 90,
                    "held_on": today - timedelta(days=rng.randrange(365)),
                    "host_school_id": rng.choice(schools).id, "platform": "slack",
                    "logged_by_user_id": lead, "logged_by_name": lead.lower(),
                    "created_at": now})
            for week in (1, 2):
                starts = now + timedelta(days=7 * week)
                session.add(Meeting(partnership_id=partnership.id, uid=f"{uuid.uuid4()}@bench",
                                    title=f"{partnership.name} meeting", starts_at=starts,
                                    ends_at=starts + timedelta(hours=1), created_by=lead))
        connection = await session.connection()
        await connection.execute(insert(LearningWalk), walks)
        await connection.execute(insert(CpdSession), sessions)
    return a_school
