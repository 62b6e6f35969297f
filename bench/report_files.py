"""How long the termly report takes: reading its `ReportData` and drawing the PDF, the
spreadsheet and the CSV, for a partnership of a given size (SQLite, seeded as bench/web_pages.py
seeds its partnerships: sessions over the school year so far, walks over ten years).

    .venv/bin/python -m bench.report_files [--schools 50] [--walks 2000] [--sessions 600]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench.web_pages import seed_partnership
from handlers.report_files import csv_bytes, pdf, xlsx
from handlers.schoolyear import school_term, today_in_london
from storage import reports
from storage.db import Database
from storage.models import Partnership

RUNS = 5


def _median_ms(work: Callable[[], object]) -> tuple[float, object]:
    took, made = [], None
    for _ in range(RUNS):
        started = time.perf_counter()
        made = work()
        took.append((time.perf_counter() - started) * 1000)
    return statistics.median(took), made


async def main(schools: int, walks: int, sessions: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = Database(f"sqlite+aiosqlite:///{Path(folder) / 'report.sqlite3'}")
        await db.upgrade()
        pid = await seed_partnership(db, "Bench", schools, walks, sessions, 30,
                                     random.Random(7))
        term = school_term(today_in_london())
        period = reports.ReportPeriod(term.start, term.end, term.name)
        took = []
        for _ in range(RUNS):
            async with db.session() as session:
                partnership = await session.get(Partnership, pid)
                assert partnership is not None
                started = time.perf_counter()
                data = await reports.build(session, partnership, None, period,
                                           datetime.now(UTC))
                took.append((time.perf_counter() - started) * 1000)
        await db.dispose()
    print(f"{schools:,} schools, {walks:,} walks, {sessions:,} CPD sessions this school year; "
          f"the {term.name}: {data.cpd_total.sessions:,} sessions, {data.walks:,} walks, "
          f"{len(data.meetings):,} meetings held")
    print(f"read (ReportData)  {statistics.median(took):8.1f} ms (median of {RUNS})")
    for name, draw in (("PDF", pdf), ("spreadsheet", xlsx), ("CSV", csv_bytes)):
        ms, made = _median_ms(lambda draw=draw: draw(data))  # type: ignore[misc]
        assert isinstance(made, bytes)
        print(f"{name:<18} {ms:8.1f} ms, {len(made):,} bytes")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schools", type=int, default=50)
    parser.add_argument("--walks", type=int, default=2_000)
    parser.add_argument("--sessions", type=int, default=600)
    args = parser.parse_args()
    asyncio.run(main(args.schools, args.walks, args.sessions))
