"""How `/cpd summary` and `/walk list` scale: 100,000 walks and 100,000 CPD sessions against a
baseline of 1,000 of each, measured in the same process, through `run_command` (parsing, one
transaction, the queries, the reply).

    .venv/bin/python -m bench.cpd_summary [--rows 100000] [--baseline 1000] [--sqlite-only]

Rows are spread over 20 partnerships of 10 schools and ten school years; the person asking is in
two of them (like a school in two partnerships). PostgreSQL is used too when one answers at
TEST_POSTGRES_URL (a scratch database is made and dropped). Prints one table: median time per
command at each size, and the ratio of the two."""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import insert, text

from bench.backends import MakeDatabase, on_each_backend
from handlers.context import Caller, Platform
from handlers.dispatch import run_command
from handlers.replies import Tone
from handlers.schoolyear import today_in_london
from handlers.themes import DEFAULT_THEMES
from storage.db import Database
from storage.models import (
    Action,
    CpdAttendance,
    CpdSession,
    CpdTheme,
    LearningWalk,
    Member,
    Partnership,
    PartnershipSchool,
    School,
)
from storage.names import name_key
from storage.types import utcnow

WORKSPACE = "T0BENCH001"
PARTNERSHIPS = 20
SCHOOLS_EACH = 10
YEARS = 10
RUNS = 15
CALLER = Caller(Platform.SLACK, WORKSPACE, "U0BENCH001", "Bench Head", "C0BENCH001", "heads")
COMMANDS = [
    ("cpd", "summary Partnership 01"),
    ("cpd", "summary Partnership 01 since: {ten_years_ago}"),
    ("cpd", "list Partnership 01 theme: TA training"),
    ("cpd", "list"),
    ("walk", "list Partnership 01"),
    ("walk", "list"),
    ("walk", "list school: School 01-03 since: {last_year}"),
]
BATCH = 5_000


@dataclass(frozen=True)
class Timing:
    backend: str
    command: str
    rows: int
    median_ms: float


def partnership_name(n: int) -> str:
    return f"Partnership {n:02d}"


async def seed(db: Database, rows: int, rng: random.Random) -> None:
    """The partnerships, schools and themes, then `rows` walks and `rows` sessions in bulk."""
    today = today_in_london()
    async with db.session() as session:
        partnerships = [Partnership(workspace=WORKSPACE, name=partnership_name(n),
                                    name_key=name_key(partnership_name(n)))
                        for n in range(1, PARTNERSHIPS + 1)]
        session.add_all(partnerships)
        await session.flush()
        schools: dict[int, list[int]] = {}
        themes: dict[int, list[int]] = {}
        for n, partnership in enumerate(partnerships, start=1):
            assert partnership.id is not None
            own = [School(workspace=WORKSPACE, name=f"School {n:02d}-{k:02d}",
                          name_key=name_key(f"School {n:02d}-{k:02d}"))
                   for k in range(1, SCHOOLS_EACH + 1)]
            own_themes = [CpdTheme(partnership_id=partnership.id, name=t, name_key=name_key(t),
                                   position=k) for k, t in enumerate(DEFAULT_THEMES)]
            session.add_all([*own, *own_themes])
            await session.flush()
            session.add_all(PartnershipSchool(partnership_id=partnership.id, school_id=s.id)
                            for s in own if s.id is not None)
            schools[partnership.id] = [s.id for s in own if s.id is not None]
            themes[partnership.id] = [t.id for t in own_themes if t.id is not None]
            if n <= 2:
                session.add(Member(partnership_id=partnership.id, platform=CALLER.platform,
                                   user_id=CALLER.user_id, display_name=CALLER.user_name,
                                   school_id=own[0].id, access_role="lead"))
    ids = list(schools)
    now = utcnow()
    walks: list[dict[str, Any]] = []
    steps: list[dict[str, Any] | None] = []
    sessions: list[dict[str, Any]] = []
    for _ in range(rows):
        pid = rng.choice(ids)
        day = today - timedelta(days=rng.randrange(YEARS * 365))
        open_steps = rng.random() < 0.3
        steps.append({"due_on": day + timedelta(days=30)} if open_steps else None)
        walks.append({
            "partnership_id": pid, "host_school_id": rng.choice(schools[pid]),
            "walked_on": day, "focus": "Progression in foundation subjects",
            "year_groups": "Y1, Y3", "strengths": "Clear sequencing", "development": None,
            "next_steps": "Share plans" if open_steps else None, "platform": "slack",
            "logged_by_user_id": CALLER.user_id,
            "logged_by_name": CALLER.user_name, "created_at": now,
        })
        pid = rng.choice(ids)
        sessions.append({
            "partnership_id": pid, "theme_id": rng.choice(themes[pid]), "title": "Session",
            "held_on": today - timedelta(days=rng.randrange(YEARS * 365)),
            "minutes": rng.choice((None, 60, 90, 120)),
            "host_school_id": rng.choice(schools[pid]), "facilitator": None,
            "attendee_count": None, "impact": None, "platform": "slack",
            "logged_by_user_id": CALLER.user_id, "logged_by_name": CALLER.user_name,
            "created_at": now,
        })
    await bulk_insert(db, LearningWalk, walks)
    await walk_steps(db, walks, steps)
    await bulk_insert(db, CpdSession, sessions)
    await seed_attendance(db, schools, rng)
    await settle(db)


async def settle(db: Database) -> None:
    """What autovacuum would have done by now: planner statistics, and on PostgreSQL the
    visibility map that lets counts be answered from an index alone."""
    async with db.engine.connect() as conn:
        autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(text("VACUUM ANALYZE" if db.is_postgres else "ANALYZE"))


async def seed_attendance(db: Database, schools: dict[int, list[int]],
                          rng: random.Random) -> None:
    """Two or three attending schools per session."""
    async with db.engine.connect() as conn:
        result = await conn.execute(text("SELECT id, partnership_id FROM cpd_session"))
        pairs = result.all()
    rows = [{"session_id": cpd_id, "school_id": school_id}
            for cpd_id, pid in pairs
            for school_id in rng.sample(schools[pid], rng.choice((2, 3)))]
    await bulk_insert(db, CpdAttendance, rows)


async def bulk_insert(db: Database, model: Any, rows: Sequence[dict[str, Any]]) -> None:
    for start in range(0, len(rows), BATCH):
        async with db.engine.begin() as conn:
            await conn.execute(insert(model.__table__), list(rows[start : start + BATCH]))


async def walk_steps(db: Database, walks: Sequence[dict[str, Any]],
                     steps: Sequence[dict[str, Any] | None]) -> None:
    """Right after `bulk_insert(db, LearningWalk, walks)`: `steps[i]` (due_on, status, …), if
    any, as the action of `walks[i]` (the walks' ids are the table's newest, in insert order)."""
    if not walks:
        return
    async with db.engine.connect() as conn:
        ids = [int(i) for i in (await conn.execute(text(
            "SELECT id FROM learning_walk ORDER BY id DESC LIMIT :n"), {"n": len(walks)}
        )).scalars().all()][::-1]
    rows = [{"partnership_id": walk["partnership_id"], "description": walk["next_steps"],
             "platform": walk["platform"], "owner_user_id": None, "owner_name": "A Head",
             "owner_school_id": None, "source": "walk", "walk_id": walk_id,
             "agenda_item_id": None, "drop_reason": None, "status": "open",
             "created_by_user_id": walk["logged_by_user_id"],
             "created_by_name": walk["logged_by_name"], "created_at": walk["created_at"],
             "closed_by_user_id": None, "closed_by_name": None, "closed_at": None, **step}
            for walk_id, walk, step in zip(ids, walks, steps, strict=True) if step is not None]
    await bulk_insert(db, Action, rows)


async def time_commands(db: Database, backend: str, rows: int) -> list[Timing]:
    today = today_in_london()
    values = {"ten_years_ago": (today - timedelta(days=YEARS * 366)).isoformat(),
              "last_year": (today - timedelta(days=365)).isoformat()}
    timings = []
    for command, template in COMMANDS:
        typed = template.format(**values)
        for _ in range(2):  # warm caches and the connection pool
            await run_checked(db, command, typed)
        samples = []
        for _ in range(RUNS):
            started = time.perf_counter()
            await run_checked(db, command, typed)
            samples.append((time.perf_counter() - started) * 1000)
        timings.append(Timing(backend, f"/{command} {template.split(' since')[0]}"
                              + (" since: …" if "since" in template else ""), rows,
                              statistics.median(samples)))
    return timings


async def run_checked(db: Database, command: str, typed: str) -> None:
    outcome = await run_command(db, command, typed, CALLER)
    if outcome.reply.tone is Tone.ERROR:
        raise SystemExit(f"/{command} {typed} failed: {outcome.reply.plain_text()}")


async def measure(make_db: MakeDatabase, backend: str, sizes: Sequence[int]) -> list[Timing]:
    timings = []
    for rows in sizes:
        db = await make_db(rows)
        try:
            started = time.perf_counter()
            await seed(db, rows, random.Random(rows))
            print(f"{backend}: seeded {rows:,} walks and {rows:,} sessions in "
                  f"{time.perf_counter() - started:.1f} s", flush=True)
            timings.extend(await time_commands(db, backend, rows))
        finally:
            await db.dispose()
    return timings


async def main(rows: int, baseline: int, sqlite_only: bool) -> None:
    sizes = [baseline, rows]
    timings = await on_each_backend(measure, sizes, sqlite_only)
    print_table(timings, baseline, rows)


def print_table(timings: Sequence[Timing], baseline: int, rows: int) -> None:
    print()
    print(f"{'backend':<11} {'command':<46} {f'{baseline:,} rows':>11} "
          f"{f'{rows:,} rows':>13} {'ratio':>7}")
    by_key = {(t.backend, t.command, t.rows): t.median_ms for t in timings}
    for backend, command in dict.fromkeys((t.backend, t.command) for t in timings):
        small, large = by_key[(backend, command, baseline)], by_key[(backend, command, rows)]
        print(f"{backend:<11} {command:<46} {small:>8.2f} ms {large:>10.2f} ms "
              f"{large / small:>6.2f}×")
    print(f"\nmedian of {RUNS} runs each; rows = walks and, as many again, CPD sessions "
          f"(with 2–3 attending schools each), over {PARTNERSHIPS} partnerships and {YEARS} "
          "years.")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--baseline", type=int, default=1_000)
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    asyncio.run(main(args.rows, args.baseline, args.sqlite_only))
