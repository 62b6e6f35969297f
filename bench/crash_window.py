"""Exactly once in the crash window, with real processes and kill -9.

Reminders fall due at once. Worker processes, each a real outbox (the APScheduler poller, atomic
claims, the platform's client), post them to a local fake of the platform that answers every
post 1.5 s late; every 2-5 s one worker is killed with SIGKILL and a new one started. Counted at
the end: reminders posted twice (the crash window: a post the platform accepted, its sender
killed before recording it) and reminders never posted.

Three runs, in this order, in one go:
  slack, before   Slack without looking in the channel's history (the behaviour before: the
                  baseline the figures are compared with)
  slack           Slack as it is: metadata on every post, the history read on a second try
  teams           Teams, whose messages carry no metadata: the same window, as it stands

    .venv/bin/python -m bench.crash_window [--reminders 80] [--workers 3] [--delay 1.5]
        [--kill-every 2 5] [--lease 10] [--skip-teams]

PostgreSQL when one answers at BENCH_POSTGRES_URL (default the local `test` database; each run
in its own scratch database), SQLite otherwise. The lease is 10 s instead of production's 2
minutes so that rows a killed worker held are taken over within the run; the window is the same.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from bot.config import Settings
from bot.delivery import Delivery, PostingLimits
from bot.scheduler import OutboxScheduler, OutboxSender
from bot.slack.app import delivery_metadata
from storage.db import Database
from tests.support.crash import Tally, seed_reminders, slack_delivery, tally, wait_until_sent
from tests.support.databases import postgres_reason, postgres_scratches
from tests.support.fake_connector import SEND, FakeConnector
from tests.support.fake_slack import FakeSlack

os.environ.setdefault("TEST_POSTGRES_URL",
                      os.environ.get("BENCH_POSTGRES_URL", "postgresql://127.0.0.1:5432/test"))


@dataclass(frozen=True)
class Run:
    label: str
    tally: Tally
    drained_in: float  # seconds from due to the last reminder sent
    kills: int
    history_reads: int
    posts_answered_late: int


async def worker(database: str, platform: str, api: str, lease: float, poll: float,
                 confirm: bool) -> None:
    """One bot process's outbox, until killed."""
    db = Database(database)
    if platform == "slack":
        delivery, _ = slack_delivery(db, api)
    else:
        from bot.teams.app import connect_teams

        settings = Settings(database_url=database, port=0, host="127.0.0.1",
                            slack_bot_token=None, slack_signing_secret=None,
                            slack_app_token=None, slack_api_url=api, teams_auth_disabled=True)
        poster = connect_teams(settings).poster
        poster.limits = PostingLimits()  # the window, not Teams' pace
        delivery = Delivery(db, {"teams": poster})
    sender = OutboxSender(db, delivery, lease=timedelta(seconds=lease), confirm_reposts=confirm)
    OutboxScheduler(sender, poll_seconds=poll).start()
    await asyncio.Event().wait()


@asynccontextmanager
async def killing(spawn: Callable[[], asyncio.Future[asyncio.subprocess.Process]],
                  workers: int, every: tuple[float, float]) -> AsyncIterator[Callable[[], int]]:
    """`workers` processes; every `every` seconds one of them is killed with SIGKILL and a new
    one started. Yields how many were killed so far."""
    running = [await spawn() for _ in range(workers)]
    kills = 0

    async def kill_one() -> None:
        nonlocal kills
        while True:
            await asyncio.sleep(random.uniform(*every))
            victim = running.pop(random.randrange(len(running)))
            victim.send_signal(signal.SIGKILL)
            await victim.wait()
            kills += 1
            running.append(await spawn())

    task = asyncio.create_task(kill_one())
    try:
        yield lambda: kills
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        for process in running:
            process.send_signal(signal.SIGKILL)
            await process.wait()


async def measure(label: str, db: Database, args: argparse.Namespace, platform: str,
                  confirm: bool) -> Run:
    async with AsyncExitStack() as stack:
        if platform == "slack":
            slack = FakeSlack()
            slack.delay("chat.postMessage", args.delay)
            await slack.start()
            stack.push_async_callback(slack.stop)
            api, service = slack.api_url, None
        else:
            connector = FakeConnector()
            connector.delay = args.delay
            await connector.start()
            stack.push_async_callback(connector.stop)
            api, service = "http://127.0.0.1:9/", connector.service_url
        await seed_reminders(db, args.reminders, teams_service_url=service)
        started = time.perf_counter()

        def spawn() -> asyncio.Future[asyncio.subprocess.Process]:
            return asyncio.ensure_future(asyncio.create_subprocess_exec(
                sys.executable, "-m", "bench.crash_window", "worker", "--database", db.url,
                "--platform", platform, "--api", api, "--lease", str(args.lease),
                "--poll", str(args.poll), "--confirm", "1" if confirm else "0",
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL))

        async with killing(spawn, args.workers, tuple(args.kill_every)) as kills:
            with contextlib.suppress(TimeoutError):
                await wait_until_sent(db, within=args.within, every=0.2)
            drained_in = time.perf_counter() - started
            killed = kills()
        if platform == "slack":
            texts = [str(c.body.get("text", "")) for c in slack.of("chat.postMessage")]
            reads = len(slack.of("conversations.history"))
        else:
            texts = [str(c.body.get("summary", "")) for c in connector.of(SEND)]
            reads = 0
    return Run(label, tally(texts, args.reminders), drained_in, killed, reads, len(texts))


@asynccontextmanager
async def databases() -> AsyncIterator[Callable[[str], asyncio.Future[Database]]]:
    """A fresh, migrated database per run: PostgreSQL scratch databases when one answers."""
    if await postgres_reason() is None:
        async with postgres_scratches() as new_postgres:
            yield lambda _: asyncio.ensure_future(new_postgres(None))
        return
    with tempfile.TemporaryDirectory() as folder:
        async def new_sqlite(name: str) -> Database:
            db = Database(f"sqlite+aiosqlite:///{Path(folder) / name}.sqlite3")
            await db.upgrade()
            return db

        yield lambda name: asyncio.ensure_future(new_sqlite(name))


async def run(args: argparse.Namespace) -> int:
    runs: list[Run] = []
    dialect = "?"
    async with databases() as new_database:
        for label, platform, confirm in (("slack, before", "slack", False),
                                         ("slack", "slack", True),
                                         ("teams", "teams", True)):
            if label == "teams" and args.skip_teams:
                continue
            db = await new_database(label.replace(", ", "-"))
            dialect = db.engine.dialect.name
            try:
                runs.append(await measure(label, db, args, platform, confirm))
            finally:
                await db.dispose()
            print(f"{label:>14}: {runs[-1].tally.line()}  ({runs[-1].kills} kills, "
                  f"{runs[-1].drained_in:.1f} s)", flush=True)
    metadata_bytes = len(json.dumps(delivery_metadata("reminder:12345:60:0")))
    print(f"\nCrash window: {args.reminders} reminders due at once, {args.workers} worker "
          f"processes, one killed (SIGKILL) every {args.kill_every[0]:g}-{args.kill_every[1]:g}"
          f" s, posts answered {args.delay:g} s late, lease {args.lease:g} s; {dialect}")
    print(f"{'run':>14} | doubled | lost | posts | kills | drained in | history reads")
    for r in runs:
        print(f"{r.label:>14} | {r.tally.doubled:7d} | {r.tally.lost:4d} | {r.tally.posts:5d} | "
              f"{r.kills:5d} | {r.drained_in:8.1f} s | {r.history_reads:5d} "
              f"({r.history_reads / args.reminders:.2f} a reminder)")
    before, now = runs[0], runs[1]
    print(f"slack against before: doubled {before.tally.doubled} -> {now.tally.doubled}; "
          f"drain time x{now.drained_in / before.drained_in:.2f}; "
          f"cost: {now.history_reads} conversations.history calls "
          f"(only on second tries), {metadata_bytes} bytes of metadata a post")
    return 0 if now.tally.doubled == 0 and now.tally.lost == 0 else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode")
    work = sub.add_parser("worker", help="(internal) one outbox process")
    work.add_argument("--database", required=True)
    work.add_argument("--platform", choices=["slack", "teams"], required=True)
    work.add_argument("--api", required=True)
    work.add_argument("--lease", type=float, required=True)
    work.add_argument("--poll", type=float, required=True)
    work.add_argument("--confirm", choices=["0", "1"], required=True)
    parser.add_argument("--reminders", type=int, default=80)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--delay", type=float, default=1.5,
                        help="seconds the fake takes to answer a post")
    parser.add_argument("--kill-every", type=float, nargs=2, default=[2.0, 5.0],
                        metavar=("MIN", "MAX"))
    parser.add_argument("--lease", type=float, default=10.0)
    parser.add_argument("--poll", type=float, default=0.5)
    parser.add_argument("--within", type=float, default=600.0,
                        help="give up on a run after this many seconds")
    parser.add_argument("--skip-teams", action="store_true")
    args = parser.parse_args(argv)
    if args.mode == "worker":
        asyncio.run(worker(args.database, args.platform, args.api, args.lease, args.poll,
                           args.confirm == "1"))
        return 0
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
