"""How finding a school scales: 50,000 schools (the size of the DfE register) against a baseline
of 1,000, in the same run, on SQLite and on PostgreSQL when one answers; and the old way (every
school read and its name keyed again, per lookup) at both sizes.

    .venv/bin/python -m bench.school_lookup [--schools 50000] [--baseline 1000] [--sqlite-only]

Each lookup is `handlers.schools.look_up_school` in its own transaction, as `/partnership join`
and `/partnership schools` use it: a hit by the exact name, a hit under another spelling
("… Primary" for "… Primary School"), a hit by URN, a miss near a known name (a typo: the
"did you mean" path), and a miss near nothing. Prints the median per lookup at each size, the
ratio of the two, and the old way's median with how many times slower it is."""

from __future__ import annotations

import argparse
import asyncio
import csv
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench.backends import MakeDatabase, on_each_backend
from handlers.context import Caller, Platform
from handlers.names import match_name
from handlers.schools import look_up_school
from storage import gias, queries
from storage.db import Database
from storage.names import name_key

WORKSPACE = "T0BENCH001"
CALLER = Caller(Platform.SLACK, WORKSPACE, "U0BENCH001", "Bench Head", "C0BENCH001", "heads")
RUNS = 25
OLD_RUNS = 3
_FIRST = ["Ash", "Beech", "Birch", "Bram", "Brook", "Cal", "Chal", "Clay", "Cole", "Cran", "Dane",
          "Dun", "Elm", "Fair", "Fern", "Glen", "Gras", "Hadley", "Hol", "Kel", "Kings", "Lang",
          "Lark", "Marl", "Mead", "Mill", "Monk", "Moss", "Nor", "Oak", "Old", "Pem", "Quarry",
          "Queens", "Red", "Rose", "Sand", "Shel", "Stan", "Sum", "Thorn", "Trent", "Wal",
          "Wes", "Whit", "Wil", "Wood", "Yew"]
_SECOND = ["bank", "bourne", "brook", "bury", "combe", "croft", "dale", "den", "field", "ford",
           "gate", "grove", "ham", "hurst", "leigh", "ley", "mead", "mere", "more", "ridge",
           "side", "stead", "ton", "wick", "well", "wood", "worth"]
_THIRD = ["", "", "", " Hill", " Park", " Green", " Lane", " Road", " Vale", " Heath"]
_KINDS = ["Primary School", "Primary School", "Infant School", "Junior School",
          "CofE Primary School", "Catholic Primary School", "Academy", "School",
          "Nursery School", "High School", "Community Primary School"]


@dataclass(frozen=True)
class Probe:
    label: str
    typed: str


@dataclass(frozen=True)
class Timing:
    backend: str
    label: str
    schools: int
    median_ms: float
    old_ms: float


def school_rows(n: int, rng: random.Random) -> list[dict[str, Any]]:
    """`n` schools with invented names, towns, authorities and postcodes (sister infant and
    junior schools among them, and names shared between towns, as in the register)."""
    rows = []
    for i in range(n):
        own = rng.choice(_FIRST) + rng.choice(_SECOND) + rng.choice(_THIRD)
        name = f"{own} {_KINDS[i % len(_KINDS)]}"
        town = rng.choice(_FIRST) + rng.choice(_SECOND)
        rows.append({"name": name, "urn": 100000 + i, "phase": "Primary", "town": town,
                     "authority": f"Authority {i % 150:03d}",
                     "postcode": f"{rng.choice('ABCDEFGHKLMNPRSTW')}{rng.randrange(1, 40)} "
                                 f"{rng.randrange(1, 9)}AA"})
    # The schools the probes look for, whatever the size.
    for i, name in enumerate(("Monkfrith Primary School", "Cunningham Hill Infant School",
                              "Cunningham Hill Junior School")):
        rows[i]["name"] = name
    return rows


PROBES = [
    Probe("hit: the exact name", "Cunningham Hill Junior School"),
    Probe("hit: another spelling", "monkfrith primary"),
    Probe("hit: a URN", "100002"),
    Probe("miss: near a name (did you mean)", "Cuningham Hill Junior"),
    Probe("miss: near nothing", "Xylophone Zebra Lane"),
]


async def seed(db: Database, n: int) -> str:
    """Load the schools as the DfE register would be loaded: a GIAS extract of `n` rows through
    `partnership-bot schools import-gias`'s importer, twice (the second changes nothing).
    Returns what the two imports took."""
    rows = school_rows(n, random.Random(n))
    with tempfile.TemporaryDirectory() as folder:
        extract = Path(folder) / "edubasealldata.csv"
        with extract.open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(gias.COLUMNS)
            for row in rows:
                writer.writerow([row["urn"], row["name"], "Community school", "Open",
                                 row["phase"], row["authority"], row["town"], row["postcode"]])
        started = time.perf_counter()
        first = await gias.import_register(db, extract, WORKSPACE)
        took = time.perf_counter() - started
        started = time.perf_counter()
        again = await gias.import_register(db, extract, WORKSPACE)
        took_again = time.perf_counter() - started
    assert first.created == n and again.unchanged == n, (first.lines(), again.lines())
    async with db.engine.connect() as conn:
        autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(text("VACUUM ANALYZE" if db.is_postgres else "ANALYZE"))
    return (f"imported {n:,} register rows in {took:.1f} s; again (all unchanged) in "
            f"{took_again:.1f} s")


async def lookup_now(db: Database, typed: str) -> str:
    async with db.session() as session:
        lookup = await look_up_school(session, CALLER, typed)
    return (lookup.found.name if lookup.found else
            f"{len(lookup.ambiguous)} ambiguous, {len(lookup.suggestions)} near, "
            f"{len(lookup.different)} different")


async def lookup_old_way(db: Database, typed: str) -> str:
    """What a miss cost before: every school of the workspace read, and keyed again, in
    Python (handlers.lookup.find_school before the stored keys)."""
    async with db.session() as session:
        exact = await queries.school_by_key(session, WORKSPACE, name_key(typed))
        if exact is not None:
            return exact.name
        everything = await queries.schools_in(session, WORKSPACE)
        match = match_name(typed, everything, lambda s: s.name)
    return match.found.name if match.found else f"{len(match.suggestions)} near"


async def median_ms(call: Callable[[], Awaitable[str]], runs: int,
                    warm: int = 3) -> tuple[float, str]:
    for _ in range(warm):  # warm the pool and the statement caches
        said = await call()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), said


async def measure(make_db: MakeDatabase, backend: str,
                  sizes: Sequence[int]) -> list[Timing]:
    timings = []
    for n in sizes:
        db = await make_db(n)
        try:
            print(f"{backend}: {await seed(db, n)}", flush=True)
            for probe in PROBES:
                now, said = await median_ms(partial(lookup_now, db, probe.typed), RUNS)
                old, _ = await median_ms(partial(lookup_old_way, db, probe.typed), OLD_RUNS, 1)
                print(f"  {probe.label:<34} {now:8.2f} ms  (old way {old:9.2f} ms)  -> {said}",
                      flush=True)
                timings.append(Timing(backend, probe.label, n, now, old))
        finally:
            await db.dispose()
    return timings


async def main(schools: int, baseline: int, sqlite_only: bool) -> None:
    sizes = [baseline, schools]
    timings = await on_each_backend(measure, sizes, sqlite_only)
    print_table(timings, baseline, schools)


def print_table(timings: Sequence[Timing], baseline: int, schools: int) -> None:
    by_key = {(t.backend, t.label, t.schools): t for t in timings}
    print()
    print(f"{'backend':<11} {'lookup':<34} {f'{baseline:,}':>9} {f'{schools:,}':>10} "
          f"{'ratio':>7} {'old way at ' + f'{schools:,}':>19} {'old / now':>10}")
    for backend, label in dict.fromkeys((t.backend, t.label) for t in timings):
        small, large = by_key[(backend, label, baseline)], by_key[(backend, label, schools)]
        print(f"{backend:<11} {label:<34} {small.median_ms:6.2f} ms {large.median_ms:7.2f} ms "
              f"{large.median_ms / small.median_ms:6.2f}× {large.old_ms:16.1f} ms "
              f"{large.old_ms / large.median_ms:9.0f}×")
    print(f"\nmedian of {RUNS} lookups each ({OLD_RUNS} the old way), each in its own "
          "transaction; schools in one workspace.")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--schools", type=int, default=50_000)
    parser.add_argument("--baseline", type=int, default=1_000)
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    asyncio.run(main(args.schools, args.baseline, args.sqlite_only))
