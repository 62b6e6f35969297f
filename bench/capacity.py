"""Capacity: what one command costs, how many answers a process gives per second, how two
workers scale, what happens past capacity, how fast the outbox drains, start-up and memory.

    ./bench.sh capacity     (or: .venv/bin/python -m bench.capacity [--reps 3])

Needs PostgreSQL (BENCH_POSTGRES_URL, default the local `test` database). In one run, each
repeated `--reps` times (interleaved, so that the machine's other load falls on all alike):

  before      `partnership-bot serve` as it was before this work (BASELINE, exported from git
              into a temporary folder), one process
  after       `partnership-bot serve --workers 1`
  after x2    `partnership-bot serve --workers 2`
  Bolt+SELECT a minimal Bolt app that acknowledges, runs one SELECT and answers
              (bench/bolt_select.py)
  bare Bolt   a Bolt app that only acknowledges (bench/bare_bolt.py)

each on a fresh copy of one seeded database (the real Barnet authority and 1,000 synthetic
partnerships with a year of walks and CPD), driven by a lean load generator in this process
(bench/loadgen.py) with the command mix of bench/http_bench.py:

  capacity    32 clients, each waiting for its command's answer (on the response_url) before
              sending the next, for 6 s: answered per second, and the server's CPU time (all its
              processes) per answered command
  overload    100 clients sending again as soon as they are acknowledged, for 4 s: ack latency,
              how many were told "busy", and the longest wait from ack to answer (the answers
              still coming are awaited)
  start-up    from starting the process to its first answer on /healthz; resident memory then

and the outbox drain: 1,000 reminders due at once posted by one process to a fake Slack in
another (pacing off), before and after. Figures are min / median / max over the repetitions, and
ratios are taken within each repetition. Not a test: the machine's other load moves them."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from bench import seed
from bench.http_bench import Command, FakeSlackProcess, command_mix, free_port, wait_up
from bench.loadgen import Load, Sink
from bench.profile_summary import summarize
from storage.db import Database
from tests.support.fake_slack import DEFAULT_BOT_TOKEN

# main before issue 18's capacity work: what "before" runs.
BASELINE = "77fb6b7"
ROOT = Path(__file__).parent.parent
POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgresql://127.0.0.1:5432/test")
SECRET = "bench-signing-secret"
TEMPLATE = f"pb_capacity_template_{os.getpid()}"
CAPACITY_CLIENTS, CAPACITY_SECONDS = 32, 6.0
OVERLOAD_CLIENTS, OVERLOAD_SECONDS = 100, 4.0
DRAIN_REMINDERS = 1000
PROFILE = Path(tempfile.gettempdir()) / "pb-capacity-profile.txt"
SPY = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")


@dataclass(frozen=True)
class Server:
    name: str
    args: list[str]
    tree: Path
    answers: bool = True  # bare Bolt only acknowledges


def export(commit: str) -> Path:
    """The tree of `commit`, exported from git into a temporary folder."""
    folder = Path(tempfile.mkdtemp(prefix="pb-baseline-"))
    archive = subprocess.run(["git", "archive", commit], cwd=ROOT, check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def database(name: str) -> str:
    return POSTGRES.rsplit("/", 1)[0] + "/" + name


async def admin(sql: str) -> None:
    conn = await asyncpg.connect(POSTGRES, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def seed_template() -> list[Command]:
    await admin(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')
    await admin(f'CREATE DATABASE "{TEMPLATE}"')
    db = Database(database(TEMPLATE))
    await db.upgrade()
    small = await seed.seed_small(db)
    large = await seed.seed_large(db)
    small_schools = await seed.seed_activity(db, seed.SMALL)
    large_schools = await seed.seed_activity(db, seed.LARGE)
    await db.dispose()
    mix = command_mix(small, small_schools, seed.SMALL)
    mix += command_mix(large[:seed.ACTIVE], large_schools, seed.LARGE)
    return mix


async def fresh_copy(n: int) -> str:
    name = f"pb_capacity_{os.getpid()}_{n}"
    await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"')
    return name


def tree_of(pid: int) -> list[int]:
    """A process and its children (a supervisor's workers)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    children = [int(p) for p in path.read_text().split()] if path.exists() else []
    return [pid, *children]


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def measure(server: Server, url: str, api_url: str, sink: Sink,
                  commands: list[Command], profile: Path | None = None) -> dict[str, float]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TEAMS_"))}
    env.update(SLACK_BOT_TOKEN=DEFAULT_BOT_TOKEN, SLACK_SIGNING_SECRET=SECRET,
               SLACK_API_URL=api_url, DATABASE_URL=url, HOST="127.0.0.1", PORT=str(port),
               PYTHONPATH=str(server.tree))
    process = subprocess.Popen(  # noqa: ASYNC220  (only starts it)
        [sys.executable, *server.args], env=env, cwd=server.tree, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    figures: dict[str, float] = {}
    try:
        figures["startup_ms"] = (await wait_up(f"http://127.0.0.1:{port}/healthz", 60)) * 1000
        await asyncio.sleep(1.0)
        pids = tree_of(process.pid)
        figures["idle_rss_mb"] = max(rss_mb(p) for p in pids[1:] or pids)
        load = Load(port, SECRET, commands, sink)
        await load.run(4, 1.0, wait_for_answers=server.answers, drain_within=5)  # warm up
        spy = None
        if profile is not None:
            spy = subprocess.Popen(  # noqa: ASYNC220  (only starts it)
                [SPY, "record", "--nonblocking", "-r", "250", "-f", "raw", "-o",
                 str(profile), "-d", str(int(CAPACITY_SECONDS)), "-p", str(pids[-1])],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        before = cpu_seconds(pids)
        capacity = await load.run(CAPACITY_CLIENTS, CAPACITY_SECONDS,
                                  wait_for_answers=server.answers, drain_within=0)
        used = cpu_seconds(pids) - before
        if spy is not None:
            await asyncio.to_thread(spy.wait)
        done = capacity.answered if server.answers else len(capacity.acks)
        figures["answered_per_s"] = done / capacity.seconds
        figures["cpu_ms_per_command"] = used / max(done, 1) * 1000
        figures["capacity_errors"] = capacity.errors + capacity.busy_acks
        overload = await load.run(OVERLOAD_CLIENTS, OVERLOAD_SECONDS, wait_for_answers=False,
                                  drain_within=300 if server.answers else 0)
        figures["overload_ack_per_s"] = len(overload.acks) / overload.seconds
        figures["ack_p50_ms"] = overload.pct(overload.acks, 50) * 1000
        figures["ack_p99_ms"] = overload.pct(overload.acks, 99) * 1000
        figures["busy_share"] = (overload.busy_acks + overload.busy_answers) / \
            max(overload.sent, 1)
        figures["worst_answer_s"] = max(overload.answer_delays, default=0.0)
        figures["overload_answered"] = overload.answered
        figures["overload_errors"] = overload.errors
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return figures


def drain(tree: Path, url: str, api_url: str) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "outbox_drain.py"), url,
                          api_url, str(DRAIN_REMINDERS)], env=env, cwd=tree, check=True,
                         capture_output=True, text=True).stdout
    raw = json.loads(out.strip().splitlines()[-1])
    n = max(raw["reminders"], 1)
    return {"drain_per_s": raw["reminders"] / raw["seconds"],
            "drain_cpu_ms": raw["cpu"] / n * 1000, "drain_statements": raw["statements"] / n,
            "drain_begins": raw["begins"] / n}


def spread(values: list[float], unit: str = "", digits: int = 0) -> str:
    if not values:
        return "-"
    f = f"{{:,.{digits}f}}"
    low, mid, high = min(values), statistics.median(values), max(values)
    return f"{f.format(mid)}{unit} ({f.format(low)}–{f.format(high)})"


async def main(reps: int, baseline: str, profile: bool, only: list[str] | None) -> None:
    try:
        await admin("SELECT 1")
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        sys.exit(f"bench.capacity needs PostgreSQL at {POSTGRES} ({error}); set "
                 "BENCH_POSTGRES_URL")
    before_tree = export(baseline)
    print(f"before: {baseline} (exported to {before_tree}); after: this tree; PostgreSQL")
    for tree in (before_tree, ROOT):
        # Bytecode compiled ahead, as an installed package has it (this machine sets
        # PYTHONDONTWRITEBYTECODE, which would make every start compile every module again).
        await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "compileall", "-q", *(
            str(tree / package) for package in ("bot", "handlers", "storage", "bench"))],
            check=True, stdout=subprocess.DEVNULL)
    commands = await seed_template()
    servers = [
        Server("before", ["-m", "bot.cli", "serve"], before_tree),
        Server("after", ["-m", "bot.cli", "serve", "--workers", "1"], ROOT),
        Server("after x2", ["-m", "bot.cli", "serve", "--workers", "2"], ROOT),
        Server("Bolt+SELECT", ["-m", "bench.bolt_select"], ROOT),
        Server("bare Bolt", ["-m", "bench.bare_bolt"], ROOT, answers=False),
    ]
    servers = [s for s in servers if only is None or s.name in only]
    fake = FakeSlackProcess()
    await wait_up(fake.base_url + "count/x")
    sink = Sink()
    await sink.start()
    results: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    copies = 0
    try:
        for rep in range(reps):
            for server in servers:
                copies += 1
                name = await fresh_copy(copies)
                spied = PROFILE if profile and rep == 0 and server.name == "after" else None
                figures = await measure(server, database(name), fake.api_url, sink, commands,
                                        spied)
                await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                for key, value in figures.items():
                    results[server.name][key].append(value)
                print(f"  rep {rep + 1} {server.name:<12} "
                      f"{figures['answered_per_s']:7.0f}/s  "
                      f"{figures['cpu_ms_per_command']:5.2f} ms CPU  "
                      f"ack p99 {figures['ack_p99_ms']:6.1f} ms  "
                      f"worst answer {figures['worst_answer_s']:5.1f} s  "
                      f"start {figures['startup_ms']:5.0f} ms  "
                      f"RSS {figures['idle_rss_mb']:4.0f} MB", flush=True)
            for label, tree in (("before", before_tree), ("after", ROOT)):
                if only is not None and "drain" not in only:
                    break
                copies += 1
                name = f"pb_capacity_{os.getpid()}_{copies}"
                await admin(f'CREATE DATABASE "{name}"')
                figures = await asyncio.to_thread(drain, tree, database(name), fake.api_url)
                await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                for key, value in figures.items():
                    results[label][key].append(value)
                print(f"  rep {rep + 1} outbox {label:<6} "
                      f"{figures['drain_per_s']:5.0f} reminders/s  "
                      f"{figures['drain_cpu_ms']:5.2f} ms CPU  "
                      f"{figures['drain_statements']:4.1f} statements  "
                      f"{figures['drain_begins']:4.2f} BEGIN per reminder", flush=True)
    finally:
        fake.stop()
        await sink.stop()
        await admin(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')
    report(results)
    if profile:
        print()
        print(f"where `after` spent its CPU in the capacity phase (py-spy, {PROFILE}):")
        print("\n".join(summarize(PROFILE)))


def ratio(results: dict[str, dict[str, list[float]]], key: str, top: str, bottom: str,
          invert: bool = False) -> str:
    pairs = zip(results[top][key], results[bottom][key], strict=False)
    values = [(b / a if invert else a / b) for a, b in pairs if a and b]
    return spread(values, "×", 2)


def report(results: dict[str, dict[str, list[float]]]) -> None:
    print()
    print("median (min–max) of the repetitions")
    rows: list[tuple[str, str, Callable[[str], str]]] = [
        ("answered/s (capacity)", "answered_per_s", lambda s: spread(
            results[s]["answered_per_s"])),
        ("CPU per answered command", "cpu_ms_per_command", lambda s: spread(
            results[s]["cpu_ms_per_command"], " ms", 2)),
        ("overload: ack/s", "overload_ack_per_s", lambda s: spread(
            results[s]["overload_ack_per_s"])),
        ("overload: ack p99", "ack_p99_ms", lambda s: spread(results[s]["ack_p99_ms"], " ms", 1)),
        ("overload: told busy", "busy_share", lambda s: spread(
            [100 * v for v in results[s]["busy_share"]], "%")),
        ("overload: worst ack→answer", "worst_answer_s", lambda s: spread(
            results[s]["worst_answer_s"], " s", 1)),
        ("start-up to first answer", "startup_ms", lambda s: spread(
            results[s]["startup_ms"], " ms")),
        ("idle RSS (per process)", "idle_rss_mb", lambda s: spread(
            results[s]["idle_rss_mb"], " MB")),
    ]
    names = ["before", "after", "after x2", "Bolt+SELECT", "bare Bolt"]
    for label, _, show in rows:
        print(f"  {label}")
        for name in names:
            print(f"    {name:<12} {show(name)}")
    print()
    print("ratios (within each repetition)")
    for label, key, top, bottom, invert in [
        ("answered/s, after / before", "answered_per_s", "after", "before", False),
        ("answered/s, 2 workers / 1", "answered_per_s", "after x2", "after", False),
        ("answered/s, after / Bolt+SELECT", "answered_per_s", "after", "Bolt+SELECT", False),
        ("CPU per command, before / after", "cpu_ms_per_command", "after", "before", True),
        ("CPU per command, after / Bolt+SELECT", "cpu_ms_per_command", "after", "Bolt+SELECT",
         False),
        ("CPU per command, after / bare Bolt", "cpu_ms_per_command", "after", "bare Bolt", False),
        ("ack p99 under overload, after / bare", "ack_p99_ms", "after", "bare Bolt", False),
        ("start-up, before / after", "startup_ms", "after", "before", True),
    ]:
        print(f"  {label:<38} {ratio(results, key, top, bottom, invert)}")
    print()
    print("outbox drain, 1,000 reminders due at once, one process, pacing off")
    for name in ("before", "after"):
        r = results[name]
        print(f"    {name:<7} {spread(r['drain_per_s'], ' reminders/s')}; CPU "
              f"{spread(r['drain_cpu_ms'], ' ms', 2)} per reminder; "
              f"{spread(r['drain_statements'], '', 1)} statements and "
              f"{spread(r['drain_begins'], '', 2)} BEGINs per reminder")
    print(f"  {'drain rate, after / before':<38} "
          f"{ratio(results, 'drain_per_s', 'after', 'before')}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=3, help="repetitions (default 3)")
    parser.add_argument("--baseline", default=BASELINE,
                        help=f"the git commit to compare with (default {BASELINE})")
    parser.add_argument("--profile", action="store_true",
                        help="profile `after` in the first capacity phase with py-spy (pip "
                             "install py-spy) and say where its CPU went")
    parser.add_argument("--only", default=None,
                        help="comma-separated: some of before, after, 'after x2', Bolt+SELECT, "
                             "'bare Bolt', drain (default: all)")
    args = parser.parse_args()
    asyncio.run(main(args.reps, args.baseline, args.profile,
                     args.only.split(",") if args.only else None))
