"""How long building the weekly digests takes: 1,000 partnerships with a year of data each,
against a baseline of 15 partnerships with the same data each, built in the same process.

    .venv/bin/python -m bench.digest_build [--partnerships 1000] [--baseline 15] [--charts 40]

Each partnership has 8 schools from its local authority (20 authorities of 60 schools, so a
school sits in about three partnerships), the six default CPD themes, and over the past year
about 40 learning walks (a quarter with next steps, some overdue), 35 CPD sessions attended by
two or three schools, 12 meetings (two in the fortnight ahead) with six replies each. A digest
is built as the outbox does when it falls due: the partnership and its settings, the twelve
statements of `handlers.digest.gather`, the neutral reply, then its Block Kit message and
Adaptive Card. The chart (matplotlib) is timed apart, on a sample, since it is drawn off the
event loop in a worker thread.

PostgreSQL is used when one answers at TEST_POSTGRES_URL (a scratch database is made and
dropped), else SQLite; the output says which. Prints time per digest (mean, p95), the total,
peak memory, and the ratio of the large run's per-digest mean to the baseline's."""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import resource
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlmodel import col, select

from bench.cpd_summary import bulk_insert, settle, walk_steps
from bot.slack import render as slack_render
from bot.teams import render as teams_render
from handlers import digest
from handlers.chart import coverage_png
from handlers.themes import DEFAULT_THEMES
from storage import digests
from storage.db import Database
from storage.models import (
    CpdAttendance,
    CpdSession,
    CpdTheme,
    LearningWalk,
    Meeting,
    Partnership,
    PartnershipSchool,
    Rsvp,
    School,
)
from storage.names import name_key
from storage.types import LONDON, utcnow
from tests.support.databases import postgres_reason, postgres_scratches

WORKSPACE = "T0BENCHDG1"
AUTHORITIES = 20
SCHOOLS_PER_AUTHORITY = 60
SCHOOLS_EACH = 8
WALKS, SESSIONS, MEETINGS, REPLIES = 40, 35, 12, 6


def next_monday_8am() -> datetime:
    today = datetime.now(LONDON).date()
    monday = today + timedelta(days=7 - today.weekday())
    return datetime.combine(monday, clock_time(8, 0), tzinfo=LONDON).astimezone(UTC)


async def seed(db: Database, partnerships: int, due: datetime, rng: random.Random) -> list[int]:
    """The authorities' schools, then `partnerships` partnerships with a year of data each."""
    now = utcnow()
    day = due.astimezone(LONDON).date()
    await bulk_insert(db, School, [
        {"workspace": WORKSPACE, "name": f"School {a:02d}-{k:02d}",
         "name_key": f"school {a:02d}-{k:02d}", "authority": f"Authority {a:02d}",
         "phase": "primary", "created_at": now}
        for a in range(AUTHORITIES) for k in range(SCHOOLS_PER_AUTHORITY)])
    await bulk_insert(db, Partnership, [
        {"workspace": WORKSPACE, "name": f"Partnership {n:04d}",
         "name_key": name_key(f"Partnership {n:04d}"), "kind": "loose", "proposed": False,
         "timezone": "Europe/London", "created_at": now} for n in range(partnerships)])
    async with db.engine.connect() as conn:
        school_ids = [i for i in (await conn.execute(select(col(School.id)).where(
            School.workspace == WORKSPACE).order_by(col(School.id)))).scalars() if i]
        ids = [i for i in (await conn.execute(select(col(Partnership.id)).where(
            Partnership.workspace == WORKSPACE).order_by(col(Partnership.id)))).scalars() if i]
    schools_of: dict[int, list[int]] = {}
    links = []
    for n, pid in enumerate(ids):
        authority = school_ids[(n % AUTHORITIES) * SCHOOLS_PER_AUTHORITY:
                               (n % AUTHORITIES + 1) * SCHOOLS_PER_AUTHORITY]
        schools_of[pid] = rng.sample(authority, SCHOOLS_EACH)
        links += [{"partnership_id": pid, "school_id": s,
                   "joined_at": now - timedelta(days=rng.randrange(30, 700))}
                  for s in schools_of[pid]]
    await bulk_insert(db, PartnershipSchool, links)
    await bulk_insert(db, CpdTheme, [
        {"partnership_id": pid, "name": t, "name_key": name_key(t), "position": k,
         "retired": False} for pid in ids for k, t in enumerate(DEFAULT_THEMES)])
    async with db.engine.connect() as conn:
        themes_of: dict[int, list[int]] = {}
        for pid, tid in (await conn.execute(select(CpdTheme.partnership_id, CpdTheme.id))):
            themes_of.setdefault(pid, []).append(tid)
    await _year_of_data(db, ids, schools_of, themes_of, day, due, rng)
    await settle(db)
    return ids


def _past(day: date, rng: random.Random) -> date:
    return day - timedelta(days=rng.randrange(1, 366))


def _logged(happened: date, rng: random.Random) -> datetime:
    """When a record was logged: the evening it happened, or up to a week later (the digest
    reports what was logged since the last one, so this is what it selects on)."""
    return datetime.combine(happened + timedelta(days=rng.choice((0, 0, 1, 3, 6))),
                            clock_time(17, 0), tzinfo=LONDON).astimezone(UTC)


async def _year_of_data(db: Database, ids: list[int], schools_of: dict[int, list[int]],
                        themes_of: dict[int, list[int]], day: date, due: datetime,
                        rng: random.Random) -> None:
    now = utcnow()
    walks, sessions, meetings = [], [], []
    steps: list[dict[str, Any] | None] = []
    for pid in ids:
        for _ in range(WALKS):
            walked = _past(day, rng)
            has_steps = rng.random() < 0.25
            done = has_steps and rng.random() < 0.5
            steps.append({"due_on": walked + timedelta(days=rng.randrange(10, 90)),
                          "status": "done" if done else "open",
                          "closed_at": now if done else None} if has_steps else None)
            walks.append({
                "partnership_id": pid, "host_school_id": rng.choice(schools_of[pid]),
                "walked_on": walked, "focus": "Progression in foundation subjects",
                "year_groups": "Y1, Y3", "strengths": "Clear sequencing", "development": None,
                "next_steps": "Share the plans" if has_steps else None, "platform": "slack",
                "logged_by_user_id": "U0BENCH001",
                "logged_by_name": "Bench Head", "created_at": _logged(walked, rng)})
        for _ in range(SESSIONS):
            held = _past(day, rng)
            sessions.append({
                "partnership_id": pid, "theme_id": rng.choice(themes_of[pid]),
                "title": "Session", "held_on": held,
                "minutes": rng.choice((None, 60, 90)), "host_school_id":
                rng.choice(schools_of[pid]), "facilitator": None, "attendee_count": None,
                "impact": None, "platform": "slack", "logged_by_user_id": "U0BENCH001",
                "logged_by_name": "Bench Head", "created_at": _logged(held, rng)})
        for k in range(MEETINGS):
            # Two in the fortnight after the digest, the rest spread over the past year.
            start = due + timedelta(days=3 + 7 * k) if k < 2 else \
                due - timedelta(days=rng.randrange(1, 365))
            meetings.append({
                "partnership_id": pid, "uid": f"bench-{pid}-{k}@bench", "title": "Heads",
                "starts_at": start, "ends_at": start + timedelta(hours=1),
                "timezone": "Europe/London", "location": "Monkfrith", "status": "scheduled",
                "sequence": 0, "cancel_reason": None, "created_by": "U0BENCH001",
                "created_at": now, "updated_at": now})
    await bulk_insert(db, LearningWalk, walks)
    await walk_steps(db, walks, steps)
    await bulk_insert(db, CpdSession, sessions)
    await bulk_insert(db, Meeting, meetings)
    async with db.engine.connect() as conn:
        pairs = (await conn.execute(text("SELECT id, partnership_id FROM cpd_session"))).all()
        meeting_ids = (await conn.execute(text("SELECT id FROM meeting"))).scalars().all()
    await bulk_insert(db, CpdAttendance, [
        {"session_id": cpd_id, "school_id": school}
        for cpd_id, pid in pairs for school in rng.sample(schools_of[pid], rng.choice((2, 3)))])
    await bulk_insert(db, Rsvp, [
        {"meeting_id": mid, "platform": "slack", "user_id": f"U0BENCH{k:03d}",
         "display_name": f"Head {k}", "answer": rng.choice(("going", "maybe", "not_going")),
         "answered_at": now} for mid in meeting_ids for k in range(REPLIES)])


async def build_one(db: Database, partnership_id: int, due: datetime) -> digest.DigestData:
    """What the outbox does when a digest falls due, short of drawing the chart and posting."""
    async with db.session() as session:
        found = await digests.partnership_with_settings(session, partnership_id)
        assert found is not None
        partnership, row = found
        data = await digest.gather(session, partnership, due)
    reply = digest.digest_reply(data, digest.Timing.of(row))
    slack_render.message(reply)
    teams_render.card(reply)
    return data


@dataclass(frozen=True)
class Run:
    partnerships: int
    per_digest_ms: list[float]
    total_s: float
    traced_peak_mb: float

    @property
    def mean(self) -> float:
        return statistics.fmean(self.per_digest_ms)

    @property
    def p95(self) -> float:
        return statistics.quantiles(self.per_digest_ms, n=20)[-1]


async def build_all(db: Database, ids: list[int], due: datetime) -> Run:
    """Time each digest; then build them all again under tracemalloc for the memory peak
    (traced separately, as tracing slows the build)."""
    for pid in ids[:3]:  # warm the connection pool and statement caches
        await build_one(db, pid, due)
    samples = []
    started = time.perf_counter()
    for pid in ids:
        begun = time.perf_counter()
        await build_one(db, pid, due)
        samples.append((time.perf_counter() - begun) * 1000)
    total = time.perf_counter() - started
    gc.collect()
    tracemalloc.start()
    for pid in ids:
        await build_one(db, pid, due)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return Run(len(ids), samples, total, peak / 2**20)


async def time_charts(db: Database, ids: list[int], due: datetime, count: int) -> list[float]:
    """Draw `count` coverage charts (in worker threads, as the outbox does)."""
    grids = []
    for pid in ids[:count]:
        data = await build_one(db, pid, due)
        grid = digest.coverage_grid(data.coverage, data.term, data.partnership.name)
        if grid is not None:
            grids.append(grid)
    await asyncio.to_thread(coverage_png, grids[0])  # import matplotlib, warm its caches
    samples = []
    for grid in grids:
        begun = time.perf_counter()
        await asyncio.to_thread(coverage_png, grid)
        samples.append((time.perf_counter() - begun) * 1000)
    return samples


def rss_mb() -> float:
    """The process's resident memory now (Linux), else its peak so far."""
    try:
        status = Path("/proc/self/status").read_text(encoding="ascii")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kilobytes = next(line.split()[1] for line in status.splitlines()
                     if line.startswith("VmRSS:"))
    return int(kilobytes) / 1024


async def measure(make_db: Callable[[str], Awaitable[Database]], backend: str,
                  partnerships: int, baseline: int, charts: int) -> None:
    due = next_monday_8am()
    runs = []
    for size in (baseline, partnerships):
        db = await make_db(f"n{size}")
        try:
            started = time.perf_counter()
            ids = await seed(db, size, due, random.Random(size))
            print(f"{backend}: seeded {size:,} partnerships with a year of data each in "
                  f"{time.perf_counter() - started:.1f} s", flush=True)
            runs.append(await build_all(db, ids, due))
            if size == partnerships and charts:
                before = rss_mb()
                chart_ms = await time_charts(db, ids, due, charts)
                print(f"{backend}: {len(chart_ms)} coverage charts: mean "
                      f"{statistics.fmean(chart_ms):.1f} ms, p95 "
                      f"{statistics.quantiles(chart_ms, n=20)[-1]:.1f} ms each (in a worker "
                      f"thread); resident memory {before:.0f} MB before matplotlib, "
                      f"{rss_mb():.0f} MB after", flush=True)
        finally:
            await db.dispose()
    small, large = runs
    print()
    print(f"{'backend':<11} {'partnerships':>12} {'mean ms':>9} {'p95 ms':>8} {'total s':>8} "
          f"{'traced peak':>12}")
    for run in runs:
        print(f"{backend:<11} {run.partnerships:>12,} {run.mean:>9.2f} {run.p95:>8.2f} "
              f"{run.total_s:>8.2f} {run.traced_peak_mb:>9.2f} MB")
    print(f"\nper-digest mean, {large.partnerships:,} against {small.partnerships:,} "
          f"partnerships: {large.mean / small.mean:.2f}× (p95 {large.p95 / small.p95:.2f}×); "
          f"resident memory of the process {rss_mb():.0f} MB, peak "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB (seeding "
          "included)")
    print("a digest = its partnership and settings, the 12 statements of digest.gather, the "
          "neutral reply, Block Kit and an Adaptive Card; built one after another, as the "
          "outbox does; traced peak = the most Python memory allocated at once while building "
          "them all (tracemalloc, in a second pass)")


async def main(partnerships: int, baseline: int, charts: int) -> None:
    reason = await postgres_reason()
    if reason is None:
        print("database: PostgreSQL (a scratch database at TEST_POSTGRES_URL)")
        async with postgres_scratches() as postgres_db:
            await measure(postgres_db, "postgresql", partnerships, baseline, charts)
        return
    print(f"database: SQLite, because {reason}")
    with tempfile.TemporaryDirectory() as folder:
        async def sqlite_db(name: str) -> Database:
            db = Database(f"sqlite+aiosqlite:///{Path(folder) / f'{name}.sqlite3'}")
            await db.upgrade()
            return db

        await measure(sqlite_db, "sqlite", partnerships, baseline, charts)


def _args() -> Any:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--partnerships", type=int, default=1000)
    parser.add_argument("--baseline", type=int, default=15)
    parser.add_argument("--charts", type=int, default=40,
                        help="how many coverage charts to draw and time (0: none)")
    return parser.parse_args()


if __name__ == "__main__":
    args = _args()
    asyncio.run(main(args.partnerships, args.baseline, args.charts))
