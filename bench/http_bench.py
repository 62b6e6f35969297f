"""Command latency and throughput of the real server against bare Bolt, side by side.

    ./bench.sh            (or: .venv/bin/python -m bench.http_bench)

Starts `partnership-bot serve` on loopback (PostgreSQL when one answers at BENCH_POSTGRES_URL,
default the local `test` server; SQLite otherwise, said in the output), seeds the real Barnet
authority and a synthetic one of 1,000 partnerships, and drives signed slash commands at 1, 10
and 100 concurrent clients. The baseline, in the same run: a bare Bolt AsyncApp on the same
aiohttp server whose handler only acks. Also: start-up time, RSS idle and under load, and how
per-call costs scale from 15 to 1,000 partnerships."""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import asyncpg

from bench import seed
from handlers.context import Caller, Platform
from handlers.dispatch import run_command
from handlers.replies import Tone
from storage.db import Database
from tests.support.fake_slack import DEFAULT_BOT_TOKEN
from tests.support.slack_requests import fixture, new_trigger_id, signed_headers

SECRET = "bench-signing-secret"
ROOT = Path(__file__).parent.parent
POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgresql://127.0.0.1:5432/test")


@dataclass
class Phase:
    label: str
    concurrency: int
    requests: int
    seconds: float
    latencies: list[float]
    errors: int
    done_seconds: float = 0.0  # until every answer arrived (ours only)
    busy: int = 0  # acknowledged with "busy" (the backlog was full): no answer to wait for

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def pct(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def wait_healthy(url: str, within: float = 30.0) -> float:
    return await wait_up(url + "/healthz", within)


async def wait_up(url: str, within: float = 30.0) -> float:
    """Seconds until `url` first answers 200."""
    started = time.perf_counter()
    async with aiohttp.ClientSession() as session:
        while time.perf_counter() - started < within:
            try:
                async with session.get(url) as response:
                    if response.status == 200:
                        return time.perf_counter() - started
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.01)
    raise RuntimeError(f"{url} did not become healthy")


async def database_url(workdir: Path) -> tuple[str, str, Callable[[], Awaitable[None]]]:
    """A fresh database: PostgreSQL scratch if one answers, else SQLite."""
    try:
        conn = await asyncpg.connect(POSTGRES, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        async def nothing() -> None:
            return None
        return f"sqlite+aiosqlite:///{workdir / 'bench.sqlite3'}", "SQLite (no PostgreSQL " \
            f"answered at {POSTGRES})", nothing
    name = f"pb_bench_{os.getpid()}"
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()

    async def drop() -> None:
        conn = await asyncpg.connect(POSTGRES)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()

    return POSTGRES.rsplit("/", 1)[0] + "/" + name, "PostgreSQL", drop


@dataclass(frozen=True)
class Command:
    command: str
    text: str
    user: str
    workspace: str


class FakeSlackProcess:
    """The fake Web API in its own process, so the load generator has a core to itself."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process = start(["-m", "tests.support.fake_slack", str(self.port)], dict(os.environ))
        self.base_url = f"http://127.0.0.1:{self.port}/"
        self.api_url = self.base_url + "api/"

    def response_url(self, name: str = "cmd") -> str:
        return f"{self.base_url}response/{name}"

    async def count(self, method: str) -> int:
        async with aiohttp.ClientSession() as session, \
                session.get(f"{self.base_url}count/{method}") as response:
            return int((await response.json())["count"])

    async def wait_for(self, method: str, n: int, within: float) -> None:
        deadline = time.perf_counter() + within
        while await self.count(method) < n:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"only {await self.count(method)} of {n} {method} calls")
            await asyncio.sleep(0.05)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


class Load:
    """Signed slash commands from N concurrent clients."""

    def __init__(self, url: str, response_url: str, commands: list[Command]) -> None:
        self.url = url + "/slack/events"
        self.response_url = response_url
        self.commands = commands

    def body(self, rng: random.Random) -> str:
        command = rng.choice(self.commands)
        payload = fixture("slash_command.json")
        payload.update(command=command.command, text=command.text, user_id=command.user,
                       user_name=command.user.lower(), team_id=command.workspace,
                       response_url=self.response_url, trigger_id=new_trigger_id())
        return urlencode(payload)

    async def run(self, label: str, concurrency: int, total: int) -> Phase:
        latencies: list[float] = []
        errors = busy = 0
        remaining = total
        rng = random.Random(concurrency)
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def client() -> None:
                nonlocal remaining, errors, busy
                while remaining > 0:
                    remaining -= 1
                    body = self.body(rng)
                    started = time.perf_counter()
                    async with session.post(self.url, data=body.encode(),
                                            headers=signed_headers(body, secret=SECRET)) as r:
                        if b"busy" in await r.read():
                            busy += 1
                        if r.status != 200:
                            errors += 1
                    latencies.append(time.perf_counter() - started)

            started = time.perf_counter()
            await asyncio.gather(*(client() for _ in range(concurrency)))
            seconds = time.perf_counter() - started
        return Phase(label, concurrency, total, seconds, latencies, errors, busy=busy)


def command_mix(names: list[str], schools: dict[str, str], workspace: str) -> list[Command]:
    """Per partnership, as heads use it: look it up, log a walk, see the CPD summary and the
    meetings; and list all partnerships now and then."""
    mix: list[Command] = []
    for i, name in enumerate(names):
        user = seed.member_of(i)
        mix += [
            Command("/partnership", f"info {name}", user, workspace),
            Command("/walk", f"log {name} school: {schools[name]} date: yesterday "
                    "focus: reading quiet", user, workspace),
            Command("/cpd", f"summary {name}", user, workspace),
            Command("/meeting", f"list {name}", user, workspace),
        ]
        if i % 4 == 0:
            mix.append(Command("/partnership", "list", user, workspace))
    return mix


def start(module_args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, *module_args], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def per_call(db: Database, workspace: str, command: str, text: str, user: str,
                   calls: int) -> float:
    """Mean milliseconds for one command, in this process (no HTTP), after a warm-up call."""
    who = Caller(Platform.SLACK, workspace, user, user.lower(), "C0BENCH001", "bench")
    outcome = await run_command(db, command, text, who)  # warm
    assert outcome.reply.tone is not Tone.ERROR, outcome.reply.plain_text()
    started = time.perf_counter()
    for _ in range(calls):
        await run_command(db, command, text, who)
    return (time.perf_counter() - started) / calls * 1000


async def main(requests_per_phase: int) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="pb-bench-"))
    url, backend, drop = await database_url(workdir)
    print(f"database: {backend}")
    db = Database(url)
    await db.upgrade()
    started = time.perf_counter()
    small = await seed.seed_small(db)
    large = await seed.seed_large(db)
    small_schools = await seed.seed_activity(db, seed.SMALL)
    large_schools = await seed.seed_activity(db, seed.LARGE)
    seeded = time.perf_counter() - started
    print(f"seeded {len(small)} + {len(large)} partnerships in {seeded:.1f}s")

    fake = FakeSlackProcess()
    await wait_up(fake.base_url + "count/x")
    # The fake Slack knows this token (and answers invalid_auth to any other).
    env = {**os.environ, "SLACK_BOT_TOKEN": DEFAULT_BOT_TOKEN, "SLACK_SIGNING_SECRET": SECRET,
           "SLACK_API_URL": fake.api_url, "DATABASE_URL": url, "HOST": "127.0.0.1"}
    for unwanted in ("SLACK_APP_TOKEN", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"):
        env.pop(unwanted, None)
    ours_port, bare_port = free_port(), free_port()
    spawn = time.perf_counter()
    ours = start(["-m", "bot.cli", "serve"], {**env, "PORT": str(ours_port)})
    bare = start(["-m", "bench.bare_bolt"], {**env, "PORT": str(bare_port)})
    try:
        ours_url, bare_url = f"http://127.0.0.1:{ours_port}", f"http://127.0.0.1:{bare_port}"
        await wait_healthy(ours_url)
        startup = time.perf_counter() - spawn
        await wait_healthy(bare_url)
        idle = rss_mb(ours.pid)
        mix = command_mix(small, small_schools, seed.SMALL)
        mix += command_mix(large[:seed.ACTIVE], large_schools, seed.LARGE)
        load_ours = Load(ours_url, fake.response_url(), mix)
        load_bare = Load(bare_url, fake.response_url("bare"), mix)
        await load_ours.run("warm-up", 5, 50)
        await load_bare.run("warm-up", 5, 50)
        rows: list[tuple[Phase, Phase]] = []
        for concurrency in (1, 10, 100):
            total = max(requests_per_phase, concurrency * 20)
            bare_phase = await load_bare.run("bare Bolt", concurrency, total)
            before = await fake.count("response_url")
            started = time.perf_counter()
            ours_phase = await load_ours.run("ours", concurrency, total)
            await fake.wait_for("response_url", before + total - ours_phase.busy, within=120)
            # Acks come first and the work after them: count a command done when its answer
            # (the response_url message) has arrived.
            ours_phase.done_seconds = time.perf_counter() - started
            rows.append((ours_phase, bare_phase))
        loaded = rss_mb(ours.pid, "VmHWM")

        print()
        print(f"{'clients':>7} | {'ours ack/s':>10} {'done/s':>7} {'p50':>6} {'p95':>6} "
              f"{'p99':>6} | {'bare ack/s':>10} {'p50':>6} {'p95':>6} {'p99':>6} | "
              f"{'ours/bare':>9}")
        for ours_phase, bare_phase in rows:
            done = (ours_phase.requests - ours_phase.busy) / ours_phase.done_seconds
            print(f"{ours_phase.concurrency:>7} | {ours_phase.rps:>10.0f} {done:>7.0f} "
                  f"{ours_phase.pct(50):>6.1f} {ours_phase.pct(95):>6.1f} "
                  f"{ours_phase.pct(99):>6.1f} | {bare_phase.rps:>10.0f} "
                  f"{bare_phase.pct(50):>6.1f} {bare_phase.pct(95):>6.1f} "
                  f"{bare_phase.pct(99):>6.1f} | {ours_phase.rps / bare_phase.rps:>9.2f}")
        print("(p50/p95/p99: ack latency in ms; done/s: commands whose answer arrived, per "
              "second; ours/bare: ack rates)")
        print("told busy (backlog full): " + ", ".join(
            f"{o.busy} of {o.requests} at {o.concurrency}" for o, _ in rows))
        errors = sum(o.errors + b.errors for o, b in rows)
        print(f"non-200 answers: {errors}")
        print(f"start-up to first served request: {startup * 1000:.0f} ms")
        print(f"RSS: idle {idle:.0f} MB, peak under load {loaded:.0f} MB")
    finally:
        for process in (ours, bare):
            process.terminate()
            process.wait(timeout=10)
        fake.stop()

    print()
    print("per-call cost as the data grows (in-process, ms per call):")
    print(f"{'call':<28} {'15 partnerships':>16} {'1,000':>10} {'ratio':>7}")
    for command, text, index in [
        ("partnership", "info {}", 7),
        ("partnership", "list", 0),
        ("cpd", "summary {}", 7),
        ("walk", "list {}", 7),
        ("meeting", "list {}", 7),
    ]:
        user = seed.member_of(index)
        a = await per_call(db, seed.SMALL, command, text.format(small[index]), user, 50)
        b = await per_call(db, seed.LARGE, command, text.format(large[index]), user, 50)
        label = f"{command} {text.split()[0]}"
        print(f"{label:<28} {a:>16.2f} {b:>10.2f} {b / a:>7.2f}")
    await db.dispose()
    await drop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=600,
                        help="requests per server per concurrency level (default 600)")
    asyncio.run(main(parser.parse_args().requests))
