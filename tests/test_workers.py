"""`serve --workers N`: several processes on one port, one schema upgrade under a lock, pools
that fit PostgreSQL's max_connections, and SQLite kept to one process."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qs

import aiohttp
import asyncpg
import pytest
from cryptography.fernet import Fernet

from bot.config import ConfigError, Settings
from bot.workers import POOL_DEFAULT, ConnectionLimits, pool_size_per_worker, workers_for
from storage.db import Database
from storage.schema import migration_heads, stored_revisions
from tests.support.databases import PostgresScratch, without_postgres
from tests.support.fake_slack import DEFAULT_BOT_TOKEN, FakeSlack
from tests.support.slack_requests import SIGNING_SECRET, SlackClientSim, signed_headers

SETTINGS = Settings(database_url="postgresql://db/bot", port=3000, host="127.0.0.1",
                    slack_bot_token="xoxb-not-real", slack_signing_secret="secret",
                    slack_app_token=None, slack_api_url="https://slack.com/api/")


def test_sqlite_and_socket_mode_stay_one_process_and_say_why() -> None:
    assert workers_for(SETTINGS, None, socket_mode=False, sqlite=True) == 1
    with pytest.raises(ConfigError, match="SQLite lets one process write at a time"):
        workers_for(SETTINGS, 2, socket_mode=False, sqlite=True)
    with pytest.raises(ConfigError, match="Socket Mode keeps one connection"):
        workers_for(SETTINGS, 3, socket_mode=True, sqlite=False)
    assert workers_for(SETTINGS, 1, socket_mode=True, sqlite=False) == 1
    assert workers_for(SETTINGS, 3, socket_mode=False, sqlite=False) == 3
    assert workers_for(SETTINGS, None, socket_mode=False, sqlite=False) == \
        len(os.sched_getaffinity(0))


def test_pools_fit_the_servers_connections() -> None:
    limits = ConnectionLimits(max_connections=100, reserved=3)  # 87 for the bot
    assert pool_size_per_worker(limits, 2, SETTINGS) == POOL_DEFAULT
    assert pool_size_per_worker(limits, 8, SETTINGS) == 87 // 8
    with pytest.raises(ConfigError, match=r"run fewer workers \(--workers 21\)"):
        pool_size_per_worker(limits, 30, SETTINGS)
    # Three machines on one database, each given its share.
    shared = replace(SETTINGS, database_connections=29)
    assert pool_size_per_worker(limits, 2, shared) == 14
    with pytest.raises(ConfigError, match="DATABASE_POOL_SIZE=20 for each of 2 workers"):
        pool_size_per_worker(limits, 2, replace(shared, database_pool_size=20))


def test_serve_refuses_several_workers_on_sqlite(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))}
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve", "--workers", "2"], capture_output=True,
        text=True, timeout=60, cwd=tmp_path,
        env={**env, "XDG_DATA_HOME": str(tmp_path), "SLACK_BOT_TOKEN": "xoxb-not-real",
             "SLACK_SIGNING_SECRET": "secret"})
    assert result.returncode == 2
    assert "--workers 2: SQLite lets one process write at a time" in result.stderr
    assert "set DATABASE_URL to a PostgreSQL database" in result.stderr


@pytest.fixture
async def empty_postgres(postgres: PostgresScratch | None) -> AsyncIterator[str]:
    """A new PostgreSQL database with nothing in it (dropped by the run's scratch clean-up
    only if empty; this one is dropped here)."""
    if postgres is None:
        without_postgres(getattr(pytest, "postgres_skip_reason", "no PostgreSQL"))
    base, _ = postgres.url.rsplit("/", 1)
    name = f"pb_empty_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(postgres.url.replace("postgresql+asyncpg", "postgresql"))
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    yield f"{base}/{name}"
    admin = await asyncpg.connect(postgres.url.replace("postgresql+asyncpg", "postgresql"))
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


async def test_workers_starting_together_upgrade_the_schema_once(empty_postgres: str) -> None:
    databases = [Database(empty_postgres) for _ in range(3)]
    try:
        # Without the lock, the second CREATE TABLE of the same name fails.
        await asyncio.gather(*(db.upgrade() for db in databases))
        async with databases[0].engine.connect() as conn:
            assert await stored_revisions(conn) == migration_heads()
    finally:
        for db in databases:
            await db.dispose()


def _children(pid: int) -> set[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return {int(p) for p in path.read_text().split()} if path.exists() else set()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _healthy(url: str, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                async with session.get(url + "/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            await asyncio.sleep(0.1)


def _pids_serving(log: Path, path: str) -> set[int]:
    """The worker processes the access log (JSON lines, `pid` in each) says served `path`."""
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    return {line["pid"] for line in lines
            if line.get("logger") == "bot.access" and line.get("path") == path}


async def _each_answers(url: str, log: Path, workers: set[int]) -> None:
    """Ask /healthz on new connections until every worker has answered one."""
    deadline = time.monotonic() + 30
    while _pids_serving(log, "/healthz") != workers:
        assert time.monotonic() < deadline, "a worker never started listening"
        async with aiohttp.ClientSession() as session, session.get(url + "/healthz"):
            pass
        await asyncio.sleep(0.05)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SO_REUSEPORT spreads "
                    "connections on Linux only")
async def test_two_workers_share_a_port_survive_a_crash_and_stop_together(
    postgres: PostgresScratch | None, fake_slack: FakeSlack, tmp_path: Path,
) -> None:
    if postgres is None:
        without_postgres(getattr(pytest, "postgres_skip_reason", "no PostgreSQL"))
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))}
    env.update(XDG_DATA_HOME=str(tmp_path), SLACK_BOT_TOKEN=DEFAULT_BOT_TOKEN,
               SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_API_URL=fake_slack.api_url,
               DATABASE_URL=postgres.url, HOST="127.0.0.1", PORT=str(port),
               DATABASE_POOL_SIZE="4", ACCESS_LOG_LEVEL="debug")
    log = (tmp_path / "serve.log").open("w")
    # Popen only starts it (no waiting): fine in a test's event loop.
    server = subprocess.Popen(  # noqa: ASYNC220
        [sys.executable, "-m", "bot.cli", "serve", "--workers", "2"],
        env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        await _healthy(url)
        workers = _children(server.pid)
        assert len(workers) == 2
        # Both are listening before the test begins: each has answered a /healthz of its own.
        await _each_answers(url, tmp_path / "serve.log", workers)
        async with aiohttp.ClientSession() as session:
            slack = SlackClientSim(session, url + "/slack/events", fake_slack.response_url())
            bodies = [slack.command_body("/partnership", "help") for _ in range(40)]

            async def send(body: str) -> int:
                # A new connection each: the kernel spreads connections across the workers.
                async with aiohttp.ClientSession() as own, own.post(
                        url + "/slack/events", data=body.encode(),
                        headers=signed_headers(body)) as response:
                    return response.status

            assert await asyncio.gather(*(send(b) for b in bodies)) == [200] * 40
            urls = [parse_qs(body)["response_url"][0] for body in bodies]
            await fake_slack.wait_until(lambda: all(fake_slack.answer_to(u) for u in urls),
                                        within=30)
        # Each worker took some of the connections: the access log says which (`pid`).
        assert _pids_serving(tmp_path / "serve.log", "/slack/events") == workers
        os.kill(min(workers), signal.SIGKILL)  # a worker dies: another takes its place
        deadline = time.monotonic() + 20
        while len(_children(server.pid) - {min(workers)}) < 2:
            assert time.monotonic() < deadline, "the dead worker was not replaced"
            await asyncio.sleep(0.1)
        await _healthy(url)
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
        assert not _children(server.pid)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SO_REUSEPORT spreads "
                    "connections on Linux only")
async def test_workers_are_not_started_when_stored_tokens_do_not_decrypt(
    empty_postgres: str, tmp_path: Path,
) -> None:
    """The key is checked once, before any worker starts (a worker refusing to start would
    only be started again): one line naming the setting, and no worker."""
    from slack_sdk.oauth.installation_store import Bot

    from storage.slack_oauth import SlackInstallationStore, token_cipher

    db = Database(empty_postgres)
    try:
        await db.upgrade()
        store = SlackInstallationStore("1111.2222", db.engine,
                                       token_cipher(Fernet.generate_key().decode()))
        await store.async_save_bot(Bot(app_id="A0APP00001", team_id="T0NORTH001",
                                       bot_token="xoxb-1001-2001-notarealtoken",
                                       bot_id="B0BOT00001", bot_user_id="U0BOT00001",
                                       installed_at=1_700_000_000.0))
    finally:
        await db.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))}
    env.update(XDG_DATA_HOME=str(tmp_path), SLACK_CLIENT_ID="1111.2222",
               SLACK_CLIENT_SECRET="not-real", SLACK_SIGNING_SECRET="not-real",
               TOKEN_ENCRYPTION_KEY=Fernet.generate_key().decode(), DATABASE_URL=empty_postgres,
               HOST="127.0.0.1", PORT=str(_free_port()), DATABASE_POOL_SIZE="2")
    result = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "bot.cli", "serve", "--workers", "2"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    *logged, error = result.stderr.strip().splitlines()
    assert error.startswith("partnership-bot: 1 stored Slack token(s) do not decrypt with "
                            "TOKEN_ENCRYPTION_KEY")
    assert not any("serving on" in line for line in logged)
