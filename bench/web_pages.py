"""How the web pages answer for a very large partnership: 1,000 schools, 1,000 members,
100,000 learning walks, 20,000 CPD sessions this school year (2–3 schools attending each) and
600 meetings with replies, against a small one (10 schools, 1,000 walks) in the same database
and run. Each page is fetched over HTTP from the real server (aiohttp, the session cookie, the
membership check, the reads, the template), signed in as a member.

    .venv/bin/python -m bench.web_pages [--walks 100000] [--schools 1000] [--sqlite-only]

PostgreSQL too when one answers at TEST_POSTGRES_URL (a scratch database is made and dropped).
Prints the median and 95th percentile per page for each partnership, and the ratio of the large
to the small; the bar is under 300 ms for every page."""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import text

from bench.cpd_summary import bulk_insert, settle, walk_steps
from bot.config import Settings
from bot.server import build_web_app
from handlers.schoolyear import school_year_start, today_in_london
from handlers.themes import DEFAULT_THEMES
from storage import web_access
from storage.db import Database
from storage.models import (
    AgendaItem,
    CpdAttendance,
    CpdSession,
    CpdTheme,
    LearningWalk,
    Meeting,
    Member,
    Partnership,
    PartnershipSchool,
    Rsvp,
    School,
)
from storage.names import name_key
from tests.conftest import free_port, serving
from tests.support.databases import postgres_reason, postgres_scratches

WORKSPACE = "T0WEBBENCH"
USER = "U0WEBBENCH"
RUNS = 20
BAR_MS = 300.0


@dataclass(frozen=True)
class Sample:
    backend: str
    size: str
    page: str
    p50: float
    p95: float


async def seed_partnership(db: Database, name: str, schools: int, walks: int, sessions: int,
                           meetings: int, rng: random.Random) -> int:
    """One partnership of this size, the bench's user a member of it; its id."""
    today = today_in_london()
    async with db.session() as session:
        partnership = Partnership(workspace=WORKSPACE, name=name, name_key=name_key(name))
        session.add(partnership)
        await session.flush()
        pid = partnership.id
        assert pid is not None
        themes = [CpdTheme(partnership_id=pid, name=t, name_key=name_key(t), position=k)
                  for k, t in enumerate(DEFAULT_THEMES)]
        session.add_all(themes)
        await session.flush()
    theme_ids = [t.id for t in themes if t.id is not None]
    await bulk_insert(db, School, [
        {"workspace": WORKSPACE, "name": f"{name} school {k:04d}",
         "name_key": name_key(f"{name} school {k:04d}"), "phase": rng.choice(
             ("primary", "secondary", "infant", "junior")), "created_at": datetime.now(UTC)}
        for k in range(schools)])
    async with db.engine.connect() as conn:
        school_ids = [int(i) for (i,) in (await conn.execute(text(
            "SELECT id FROM school WHERE name LIKE :p ORDER BY id"),
            {"p": f"{name} school %"})).all()]
    now = datetime.now(UTC)
    await bulk_insert(db, PartnershipSchool, [
        {"partnership_id": pid, "school_id": s, "joined_at": now} for s in school_ids])
    await bulk_insert(db, Member, [
        {"partnership_id": pid, "platform": "slack", "user_id": USER if k == 0 else f"U{k:08d}",
         "display_name": f"Head {k:04d}", "school_id": school_ids[k % len(school_ids)],
         "job_title": "headteacher", "access_role": "lead" if k == 0 else "member",
         "joined_at": now} for k in range(schools)])
    rows: list[dict[str, Any]] = []
    steps: list[dict[str, Any] | None] = []
    for _ in range(walks):
        day = today - timedelta(days=rng.randrange(10 * 365))
        open_steps = rng.random() < 0.3
        rows.append({
            "partnership_id": pid, "host_school_id": rng.choice(school_ids), "walked_on": day,
            "focus": "Progression in foundation subjects", "year_groups": "Y1, Y3",
            "strengths": "Clear sequencing", "development": None,
            "next_steps": "Share plans" if open_steps else None, "platform": "slack",
            "logged_by_user_id": USER, "logged_by_name": "Bench Head", "created_at": now})
        steps.append({"due_on": day + timedelta(days=30)} if open_steps else None)
    await bulk_insert(db, LearningWalk, rows)
    await walk_steps(db, rows, steps)
    year = school_year_start(today)
    await bulk_insert(db, CpdSession, [
        {"partnership_id": pid, "theme_id": rng.choice(theme_ids), "title": "Session",
         "held_on": year + timedelta(days=rng.randrange(max(1, (today - year).days))),
         "minutes": 90, "host_school_id": rng.choice(school_ids), "facilitator": None,
         "attendee_count": None, "impact": None, "platform": "slack",
         "logged_by_user_id": USER, "logged_by_name": "Bench Head", "created_at": now}
        for _ in range(sessions)])
    async with db.engine.connect() as conn:
        cpd_ids = [int(i) for (i,) in (await conn.execute(text(
            "SELECT id FROM cpd_session WHERE partnership_id = :p"), {"p": pid})).all()]
    await bulk_insert(db, CpdAttendance, [
        {"session_id": c, "school_id": s} for c in cpd_ids
        for s in rng.sample(school_ids, rng.choice((2, 3)))])
    await bulk_insert(db, Meeting, [
        {"partnership_id": pid, "uid": f"{name_key(name)}-{k}@bench", "title": f"Meeting {k}",
         "starts_at": now + timedelta(days=k - meetings // 2, hours=2),
         "ends_at": now + timedelta(days=k - meetings // 2, hours=3),
         "timezone": "Europe/London", "location": "Monkfrith", "status": "scheduled",
         "sequence": 0, "created_by": USER, "created_at": now, "updated_at": now}
        for k in range(meetings)])
    async with db.engine.connect() as conn:
        meeting_ids = [int(i) for (i,) in (await conn.execute(text(
            "SELECT id FROM meeting WHERE partnership_id = :p"), {"p": pid})).all()]
    await bulk_insert(db, AgendaItem, [
        {"meeting_id": m, "position": n, "text": f"Item {n}", "added_by": USER,
         "added_at": now} for m in meeting_ids for n in range(1, 4)])
    await bulk_insert(db, Rsvp, [
        {"meeting_id": m, "platform": "slack", "user_id": f"U{k:08d}",
         "display_name": f"Head {k:04d}", "answer": rng.choice(("going", "maybe", "not_going")),
         "answered_at": now} for m in meeting_ids for k in range(1, 21)])
    return pid


async def signed_in_cookie(db: Database) -> str:
    now = datetime.now(UTC)
    async with db.session() as session:
        token, _ = await web_access.new_sign_in(
            session, web_access.Person(WORKSPACE, "slack", USER, "Bench Head"), None, now)
    async with db.session() as session:
        _, _, cookie = await web_access.use_sign_in(session, token, now)
    assert cookie is not None
    return cookie


def pages(pid: int, meeting: int, walk: int) -> list[tuple[str, str]]:
    base = f"/web/p/{pid}"
    return [
        ("your partnerships", "/web/"),
        ("partnership", base),
        ("schools, page 10", f"{base}/schools?page=10"),
        ("members, page 10", f"{base}/members?page=10"),
        ("CPD coverage (term)", f"{base}/cpd"),
        ("CPD coverage (year), page 5", f"{base}/cpd?from={school_year_start(today_in_london())}"
                                        f"&to={today_in_london()}&page=5"),
        ("walks, newest", f"{base}/walks"),
        ("walks, a deep page", f"{base}/walks?before=2019-06-01.{10**9}"),
        ("walks, open steps", f"{base}/walks?steps=open"),
        ("a walk", f"{base}/walks/{walk}"),
        ("meetings", f"{base}/meetings"),
        ("past meetings", f"{base}/meetings?show=past"),
        ("a meeting", f"{base}/meetings/{meeting}"),
    ]


def images(pid: int) -> list[tuple[str, str]]:
    """Fetched by the browser after the page: timed apart, as the digest bench times its
    chart apart (matplotlib draws it, from every school's attendance)."""
    return [("heat map image (apart)", f"/web/p/{pid}/cpd/chart.png")]


async def time_pages(url: str, cookie: str, backend: str, size: str, pid: int,
                     db: Database) -> list[Sample]:
    async with db.engine.connect() as conn:
        meeting = int((await conn.execute(text(
            "SELECT max(id) FROM meeting WHERE partnership_id = :p"), {"p": pid})).scalar_one())
        walk = int((await conn.execute(text(
            "SELECT max(id) FROM learning_walk WHERE partnership_id = :p"),
            {"p": pid})).scalar_one())
    samples = []
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar, cookies={"pb_session": cookie}) as client:
        for name, path in [*pages(pid, meeting, walk), *images(pid)]:
            took = []
            runs = RUNS if not name.endswith("(apart)") else 5
            for run in range(runs + 2):
                started = time.perf_counter()
                async with client.get(url + path) as response:
                    await response.read()
                    if response.status != 200:
                        raise SystemExit(f"{path} answered {response.status}")
                if run >= 2:  # two to warm caches and the pool
                    took.append((time.perf_counter() - started) * 1000)
            took.sort()
            samples.append(Sample(backend, size, name, statistics.median(took),
                                  took[int(len(took) * 0.95) - 1]))
    return samples


async def measure(db: Database, backend: str, schools: int, walks: int) -> list[Sample]:
    rng = random.Random(7)
    started = time.perf_counter()
    await db.upgrade()
    small = await seed_partnership(db, "Small", 10, 1_000, 200, 24, rng)
    large = await seed_partnership(db, "Large", schools, walks, walks // 5, 600, rng)
    await settle(db)
    print(f"{backend}: seeded in {time.perf_counter() - started:.1f} s", flush=True)
    port = free_port()
    settings = Settings(database_url=db.url, port=port, host="127.0.0.1", slack_bot_token=None,
                        slack_signing_secret=None, slack_app_token=None,
                        slack_api_url="http://127.0.0.1:9/",
                        public_base_url=f"http://127.0.0.1:{port}")
    cookie = await signed_in_cookie(db)
    async with serving(build_web_app(settings, db, send=False), port) as url:
        found = await time_pages(url, cookie, backend, "small", small, db)
        found += await time_pages(url, cookie, backend, "large", large, db)
    return found


def print_table(samples: list[Sample], schools: int, walks: int) -> None:
    print(f"\n{'backend':<11} {'page':<30} {'small p50':>10} {'p95':>8} {'large p50':>10} "
          f"{'p95':>8} {'ratio':>7}")
    by = {(s.backend, s.size, s.page): s for s in samples}
    worst = 0.0
    for backend, page in dict.fromkeys((s.backend, s.page) for s in samples):
        a, b = by[(backend, "small", page)], by[(backend, "large", page)]
        if not page.endswith("(apart)"):
            worst = max(worst, b.p95)
        print(f"{backend:<11} {page:<30} {a.p50:>7.1f} ms {a.p95:>5.1f} ms {b.p50:>7.1f} ms "
              f"{b.p95:>5.1f} ms {b.p50 / a.p50:>6.2f}×")
    print(f"\nmedian and 95th percentile of {RUNS} fetches each (5 for an image) over HTTP; "
          "small: 10 schools, "
          f"1,000 walks; large: {schools:,} schools and members, {walks:,} walks, "
          f"{walks // 5:,} CPD sessions this school year, 600 meetings with 20 replies each.")
    print(f"slowest large-partnership page p95 (images apart): {worst:.1f} ms "
          f"({'under' if worst < BAR_MS else 'OVER'} the {BAR_MS:.0f} ms bar)")


async def main(schools: int, walks: int, sqlite_only: bool) -> None:
    samples: list[Sample] = []
    with tempfile.TemporaryDirectory() as folder:
        db = Database(f"sqlite+aiosqlite:///{Path(folder) / 'web-bench.sqlite3'}")
        try:
            samples += await measure(db, "sqlite", schools, walks)
        finally:
            await db.dispose()
    reason = "skipped (--sqlite-only)" if sqlite_only else await postgres_reason()
    if reason is None:
        async with postgres_scratches() as postgres_db:
            db = await postgres_db(None)
            try:
                samples += await measure(db, "postgresql", schools, walks)
            finally:
                await db.dispose()
    else:
        print(f"postgresql: {reason}")
    print_table(samples, schools, walks)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--schools", type=int, default=1_000)
    parser.add_argument("--walks", type=int, default=100_000)
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    asyncio.run(main(args.schools, args.walks, args.sqlite_only))
