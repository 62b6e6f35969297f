"""Memory under large request bodies: 60 concurrent 0.9 MB bodies, signed slash commands to
/slack/events and activities to /api/messages, sent to the real server in its own process.

The same server is started twice in one run: as it is (body limits: 413 past 256 KB on Slack's
endpoint, large bodies read four at a time elsewhere) and, as the baseline, with the limits
taken off (every body read at once, as before). Resident memory (VmRSS) is read from /proc
before the load, at its peak (VmHWM) and a second after; three rounds each, min/median/max.

    .venv/bin/python -m bench.body_memory [--clients 60] [--size 0.9] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from tests.support.fake_connector import FakeConnector
from tests.support.fake_slack import DEFAULT_BOT_TOKEN, FakeSlack
from tests.support.slack_requests import SIGNING_SECRET, SlackClientSim, signed_headers
from tests.support.teams_requests import TeamsClientSim


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(port: int, database: str, slack_api: str, limits: bool) -> None:
    """The server process: Slack and Teams (Emulator mode, on loopback), body limits on or
    off."""
    from aiohttp import web

    from bot.config import Settings
    from bot.server import build_web_app
    from storage.db import Database

    settings = Settings(database_url=database, port=port, host="127.0.0.1",
                        slack_bot_token=DEFAULT_BOT_TOKEN, slack_signing_secret=SIGNING_SECRET,
                        slack_app_token=None, slack_api_url=slack_api, teams_auth_disabled=True)
    app = build_web_app(settings, Database(database))
    if not limits:
        app.middlewares.clear()  # the baseline: every body read as it comes
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def memory(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (peak) of a process, in MB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0]) / 1024
    return found


def reset_peak(pid: int) -> None:
    """Start VmHWM afresh (Linux: writing 5 to clear_refs)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


@dataclass(frozen=True)
class Round:
    before: float
    peak: float
    after: float
    statuses: dict[int, int]
    seconds: float


async def one_round(url: str, pid: int, clients: int, size: int, fake_slack: FakeSlack,
                    connector: FakeConnector) -> Round:
    async with aiohttp.ClientSession() as session:
        slack = SlackClientSim(session, f"{url}/slack/events", fake_slack.response_url())
        teams = TeamsClientSim(session, f"{url}/api/messages", connector.service_url)
        before = memory(pid)["VmRSS"]
        # The peak (VmHWM) only rises; reset it for this round.
        reset_peak(pid)
        statuses: dict[int, int] = {}

        async def slack_one() -> None:
            body = slack.command_body("/partnership", "create " + "x" * size)
            async with session.post(slack.events_url, data=body.encode(),
                                    headers=signed_headers(body)) as response:
                await response.read()
                statuses[response.status] = statuses.get(response.status, 0) + 1

        async def teams_one() -> None:
            activity = teams.personal("partnership create " + "y" * size)
            activity["serviceUrl"] = connector.service_url
            data = json.dumps(activity).encode()
            async with session.post(teams.messages_url, data=data,
                                    headers={"Content-Type": "application/json"}) as response:
                await response.read()
                statuses[response.status] = statuses.get(response.status, 0) + 1

        started = time.perf_counter()
        half = clients // 2
        await asyncio.gather(*(slack_one() for _ in range(half)),
                             *(teams_one() for _ in range(clients - half)))
        seconds = time.perf_counter() - started
        peak = memory(pid)["VmHWM"]
        await asyncio.sleep(1.0)
        return Round(before, peak, memory(pid)["VmRSS"], statuses, seconds)


async def measure(label: str, limits: bool, args: argparse.Namespace, folder: Path,
                  fake_slack: FakeSlack, connector: FakeConnector) -> list[Round]:
    port = free_port()
    database = f"sqlite+aiosqlite:///{folder / label}.sqlite3"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.body_memory", "serve", "--port", str(port),
        "--database", database, "--slack-api", fake_slack.api_url,
        "--limits", "on" if limits else "off",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(300):
                try:
                    async with session.get(f"{url}/healthz") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        size = int(args.size * 1024 * 1024) - 2048
        rounds = []
        for _ in range(args.rounds):
            rounds.append(await one_round(url, process.pid, args.clients, size, fake_slack,
                                          connector))
        return rounds
    finally:
        process.terminate()
        await process.wait()


def spread(values: list[float]) -> str:
    return f"{min(values):6.1f} / {statistics.median(values):6.1f} / {max(values):6.1f}"


async def run(args: argparse.Namespace) -> int:
    fake_slack, connector = FakeSlack(), FakeConnector()
    await fake_slack.start()
    await connector.start()
    results: dict[str, list[Round]] = {}
    try:
        with tempfile.TemporaryDirectory() as folder:
            for label, limits in (("baseline", False), ("ours", True)):
                results[label] = await measure(label, limits, args, Path(folder), fake_slack,
                                               connector)
    finally:
        await fake_slack.stop()
        await connector.stop()
    print(f"{args.clients} concurrent {args.size:g} MB bodies (half signed slash commands to "
          f"/slack/events, half activities to /api/messages), {args.rounds} rounds; resident "
          "memory of the server process in MB, min / median / max")
    print(f"{'server':>9} | {'before':>22} | {'peak':>22} | {'a second after':>22} | answers")
    for label, rounds in results.items():
        answers: dict[int, int] = {}
        for r in rounds:
            for status, n in r.statuses.items():
                answers[status] = answers.get(status, 0) + n
        print(f"{label:>9} | {spread([r.before for r in rounds])} | "
              f"{spread([r.peak for r in rounds])} | {spread([r.after for r in rounds])} | "
              + ", ".join(f"{n}x{status}" for status, n in sorted(answers.items())))
    growth = {label: statistics.median(r.peak - r.before for r in rounds)
              for label, rounds in results.items()}
    print(f"peak growth (median): baseline {growth['baseline']:.0f} MB, ours "
          f"{growth['ours']:.0f} MB, ratio x{growth['ours'] / max(growth['baseline'], 1e-9):.2f}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode")
    server = sub.add_parser("serve", help="(internal) the server under test")
    server.add_argument("--port", type=int, required=True)
    server.add_argument("--database", required=True)
    server.add_argument("--slack-api", required=True)
    server.add_argument("--limits", choices=["on", "off"], required=True)
    parser.add_argument("--clients", type=int, default=60)
    parser.add_argument("--size", type=float, default=0.9, help="MB a body")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    if args.mode == "serve":
        serve(args.port, args.database, args.slack_api, args.limits == "on")
        return 0
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
