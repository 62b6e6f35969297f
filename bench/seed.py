"""Seeded data for the benchmarks: the real Barnet authority (15 partnerships, 100+ schools) and
a synthetic authority of 1,000 partnerships, with bench users as members."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import insert
from sqlmodel import col, select

from handlers.names import name_key
from storage.db import Database
from storage.importer import import_file
from storage.models import AccessRole, Member, Partnership, PartnershipSchool, School
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
