"""What people see when PostgreSQL stalls, with the production timeouts.

The real server (Slack, its outbox polling every 5 s) reaches PostgreSQL through a TCP proxy
(tests/support/tcp_proxy.py). With the database answering first (the baseline, in the same run),
then frozen (open connections silent, new ones black-holed) and then back (a failover: new
connections work, the old ones stay dead), it measures:

- /healthz: how long it takes to answer, and with what;
- slash commands sent during the stall: how long until the person is told (response_url);
- a reminder that fell due during the stall: how long after the database is back it is posted.

    .venv/bin/python -m bench.db_stall [--commands 12] [--stall 12]

Needs PostgreSQL (BENCH_POSTGRES_URL, default the local `test` database; a scratch database is
made and dropped).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import aiohttp
from sqlmodel import col, update

from storage.db import Database, DatabaseTimeouts
from storage.models import ScheduledDelivery
from tests.conftest import serving, test_settings
from tests.support.crash import seed_reminders
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import SlackClientSim, signed_headers
from tests.support.tcp_proxy import CuttableProxy

os.environ.setdefault("TEST_POSTGRES_URL",
                      os.environ.get("BENCH_POSTGRES_URL", "postgresql://127.0.0.1:5432/test"))


def spread(values: list[float]) -> str:
    return (f"min {min(values):5.2f} s  median {statistics.median(values):5.2f} s  "
            f"max {max(values):5.2f} s")


async def health(session: aiohttp.ClientSession, url: str) -> tuple[float, int]:
    started = time.perf_counter()
    async with session.get(f"{url}/healthz") as response:
        await response.read()
        return time.perf_counter() - started, response.status


async def answered_in(sim: SlackClientSim, fake: FakeSlack, text: str) -> tuple[float, str]:
    body = sim.command_body("/partnership", text)
    started = time.perf_counter()
    await sim.post(body, signed_headers(body))
    response_url = parse_qs(body)["response_url"][0]
    await fake.wait_until(lambda: bool(fake.answer_to(response_url)), within=60)
    return time.perf_counter() - started, str(fake.answer_to(response_url)[0].body["text"])


async def run(args: argparse.Namespace) -> int:
    from bot.server import build_web_app
    from tests.support.databases import PostgresScratch, postgres_reason

    reason = await postgres_reason()
    if reason is not None:
        print(f"bench/db_stall.py needs PostgreSQL: {reason}")
        return 1
    scratch = PostgresScratch()
    await scratch.create()
    target = urlsplit(scratch.url)
    proxy = CuttableProxy(target.hostname or "127.0.0.1", target.port or 5432)
    await proxy.start()
    direct = Database(scratch.url)
    fake = FakeSlack()
    await fake.start()
    timeouts = DatabaseTimeouts()
    db = Database(f"postgresql://127.0.0.1:{proxy.port}{target.path}", timeouts=timeouts)
    try:
        await seed_reminders(direct, 1)
        await direct.engine.dispose()
        # Not due yet: it falls due while the database is silent.
        async with direct.session() as session:
            await session.exec(update(ScheduledDelivery).values(
                due_at=datetime(2100, 1, 1, tzinfo=UTC), next_attempt_at=datetime(2100, 1, 1,
                                                                                  tzinfo=UTC)))
        app = build_web_app(test_settings(fake, db.url), db)
        async with serving(app) as url, aiohttp.ClientSession() as session:
            sim = SlackClientSim(session, f"{url}/slack/events", fake.response_url())
            healthy = [await health(session, url) for _ in range(10)]
            ok_answers = [await answered_in(sim, fake, "list") for _ in range(5)]

            await proxy.freeze()
            await proxy.black_hole()
            async with direct.session() as s:  # due now, mid-stall (the server cannot see it)
                now = datetime.now(UTC)
                await s.exec(update(ScheduledDelivery).where(
                    col(ScheduledDelivery.kind) == "reminder").values(due_at=now,
                                                                      next_attempt_at=now))
            stalled_health = [await health(session, url) for _ in range(5)]
            stalled = await asyncio.gather(*(answered_in(sim, fake, f"create Stall {n}")
                                             for n in range(args.commands)))
            await asyncio.sleep(max(0.0, args.stall - sum(t for t, _ in stalled_health)))
            assert not [c for c in fake.of("chat.postMessage")
                        if str(c.body.get("text", "")).startswith("Reminder:")]

            await proxy.heal()
            healed = time.perf_counter()
            await fake.wait_until(lambda: any(
                str(c.body.get("text", "")).startswith("Reminder:")
                for c in fake.of("chat.postMessage")), within=120)
            reminder_after = time.perf_counter() - healed
            after = [await answered_in(sim, fake, f"create After {n}") for n in range(3)]
    finally:
        await fake.stop()
        await db.dispose()
        await direct.dispose()
        await proxy.stop()
        await scratch.drop()

    print(f"PostgreSQL stalls, production timeouts: connect {timeouts.connect:g} s, statement "
          f"{timeouts.statement:g} s, pool {timeouts.pool:g} s, command deadline "
          f"{timeouts.command:g} s; outbox polls every 5 s")
    print(f"/healthz, database answering (baseline): {spread([t for t, _ in healthy])}  "
          f"statuses {sorted({s for _, s in healthy})}")
    ratio = statistics.median(t for t, _ in stalled_health) / statistics.median(
        t for t, _ in healthy)
    print(f"/healthz, database frozen:               {spread([t for t, _ in stalled_health])}  "
          f"statuses {sorted({s for _, s in stalled_health})}  x{ratio:.0f} the baseline")
    print(f"commands answered, database answering:   {spread([t for t, _ in ok_answers])}")
    told = sum(1 for _, text in stalled if "nothing was saved" in text)
    print(f"{args.commands} commands at once, frozen:       {spread([t for t, _ in stalled])}  "
          f"{told} of {args.commands} told \"nothing was saved, try again shortly\"")
    print(f"reminder due mid-stall, posted {reminder_after:.1f} s after the database came back "
          f"(bar: 30 s)")
    print(f"commands after the stall:                {spread([t for t, _ in after])}  "
          f"{sum(1 for _, text in after if 'Created' in text)} of 3 saved")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--commands", type=int, default=12,
                        help="commands sent at once during the stall")
    parser.add_argument("--stall", type=float, default=12.0,
                        help="seconds the database stays silent")
    return asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
