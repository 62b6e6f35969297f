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


async def _add_members(db: Database, workspace: str) -> list[str]:
    """Every bench user joins every partnership of the workspace; returns the names."""
    now = utcnow()
    async with db.session() as session:
        rows = (await session.exec(
            select(Partnership).where(Partnership.workspace == workspace))).all()
        await (await session.connection()).execute(insert(Member), [
            {"partnership_id": row.id, "platform": "slack", "user_id": user,
             "display_name": user.lower(), "access_role": AccessRole.LEAD.value,
             "joined_at": now}
            for row in rows for user in BENCH_USERS])
    return [row.name for row in rows]
