"""`partnership-bot serve --workers N`: N processes serving one port, each a whole bot.

Each worker is an ordinary `serve` process (its own event loop, database pool and outbox
poller) listening on the same address with SO_REUSEPORT, so the kernel spreads incoming
connections evenly across them and no process hands requests to another. The outbox is already
shared safely by any number of processes (atomic claims with leases, storage/outbox.py), and the
schema is upgraded once under a PostgreSQL advisory lock (storage/schema.py), before the
workers start.

Why not gunicorn's aiohttp worker: it would add a dependency and a second way to start the bot,
and its shared listening socket lets one busy worker accept a burst of connections that another
idle worker could have taken; SO_REUSEPORT gives each worker its own accept queue. This
supervisor is the part of gunicorn we need: start the workers after one upgrade, restart one
that dies, pass on SIGTERM/SIGINT and wait for them to finish.

Workers are forked after the imports and the upgrade, so they start in a fraction of a second
and share the parent's loaded code (copy-on-write). SO_REUSEPORT balances connections on Linux
only; elsewhere, and on SQLite (one writer at a time, and its file is not shared between
machines) or over Socket Mode (one connection to Slack), one process serves."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import text

from bot.config import ConfigError, Settings
from storage.db import Database

log = logging.getLogger(__name__)

# Connections one worker uses at most by default: its commands (8 at a time), its outbox posts
# (8 at a time), the digest planner and health checks, with some room.
POOL_DEFAULT = 20
# Fewer than this and a worker's commands would mostly wait for a connection.
POOL_MINIMUM = 4
# Connections left for everyone else (psql, backups, migrations by hand, monitoring).
HEADROOM = 10
# A worker that dies sooner than this after starting counts as failing to start; after this
# many in a row the whole server stops instead of restarting it for ever.
QUICK_EXIT_SECONDS = 10.0
QUICK_EXITS_ALLOWED = 5
STOP_GRACE_SECONDS = 30.0


def cores() -> int:
    """The CPU cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def workers_for(settings: Settings, asked: int | None, socket_mode: bool, sqlite: bool) -> int:
    """How many workers to run: `asked`, or by default one per core; one where only one can
    work, refusing (with the reason) an explicit number above one there."""
    reason = None
    if sqlite:
        reason = ("SQLite lets one process write at a time and its file is not shared between "
                  "machines, so it is served by one process; set DATABASE_URL to a PostgreSQL "
                  "database to run several workers")
    elif socket_mode:
        reason = "Socket Mode keeps one connection to Slack, so it is served by one process"
    elif not hasattr(socket, "SO_REUSEPORT") or not sys.platform.startswith("linux"):
        reason = ("several workers share one port with SO_REUSEPORT, which spreads connections "
                  "only on Linux; run one worker per port behind a load balancer instead")
    if asked is not None and asked < 1:
        raise ConfigError("--workers must be at least 1.")
    if reason is not None:
        if asked is not None and asked > 1:
            raise ConfigError(f"--workers {asked}: {reason}.")
        return 1
    return asked if asked is not None else cores()


@dataclass(frozen=True)
class ConnectionLimits:
    max_connections: int
    reserved: int  # kept for superusers (and, on PostgreSQL 16+, for pg_use_reserved_connections)


async def connection_limits(url: str) -> ConnectionLimits:
    db = Database(url, pool_size=1)
    try:
        async with db.engine.connect() as conn:
            values: dict[str, str] = dict((await conn.execute(text(
                "SELECT name, setting FROM pg_settings WHERE name IN ('max_connections', "
                "'superuser_reserved_connections', 'reserved_connections')"))).all())
    finally:
        await db.dispose()
    reserved = sum(int(values.get(name, "0")) for name in ("superuser_reserved_connections",
                                                           "reserved_connections"))
    return ConnectionLimits(int(values["max_connections"]), reserved)


def pool_size_per_worker(limits: ConnectionLimits, workers: int, settings: Settings) -> int:
    """Connections each worker may open, so that all of them together stay within what this
    server may use: DATABASE_CONNECTIONS, or else the database's max_connections less its
    reserved ones and some headroom."""
    budget = settings.database_connections or \
        limits.max_connections - limits.reserved - HEADROOM
    where = ("DATABASE_CONNECTIONS" if settings.database_connections else
             f"PostgreSQL's max_connections ({limits.max_connections}) less {limits.reserved} "
             f"reserved and {HEADROOM} kept for other clients")
    if settings.database_pool_size is not None:
        if settings.database_pool_size * workers > budget:
            raise ConfigError(
                f"DATABASE_POOL_SIZE={settings.database_pool_size} for each of {workers} workers "
                f"is {settings.database_pool_size * workers} connections, more than the {budget} "
                f"this server may use ({where}): lower one of them, or raise max_connections.")
        return settings.database_pool_size
    per_worker = min(POOL_DEFAULT, budget // workers)
    if per_worker < POOL_MINIMUM:
        raise ConfigError(
            f"{workers} workers would have {max(per_worker, 0)} database connections each (the "
            f"server may use {budget}: {where}), and each needs at least {POOL_MINIMUM}: run "
            f"fewer workers (--workers {max(1, budget // POOL_MINIMUM)}), or raise "
            "max_connections (or DATABASE_CONNECTIONS).")
    return per_worker


def plan_pool(settings: Settings, workers: int) -> int | None:
    """The pool size each worker gets (None on SQLite, which has no server to fit)."""
    if Database(settings.database_url).is_sqlite:
        return None
    limits = asyncio.run(connection_limits(settings.database_url))
    return pool_size_per_worker(limits, workers, settings)


def supervise(workers: int, serve_one: Callable[[int], None]) -> int:
    """Fork `workers` processes running `serve_one(index)`, restart any that dies, and stop
    them all on SIGTERM or SIGINT. The exit status: 0 after a requested stop, 1 if workers kept
    failing to start."""
    children: dict[int, tuple[int, float]] = {}  # pid -> (worker index, started at)
    stopping: float | None = None

    def spawn(index: int) -> None:
        pid = os.fork()
        if pid == 0:  # the worker
            code = 1
            try:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.default_int_handler)
                serve_one(index)
                code = 0
            except KeyboardInterrupt:
                code = 0
            except SystemExit as exit_:
                code = exit_.code if isinstance(exit_.code, int) else 1
            except BaseException:
                log.exception("worker %d failed", index)
            finally:
                logging.shutdown()
                os._exit(code)
        children[pid] = (index, time.monotonic())

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        if stopping is None:
            stopping = time.monotonic()
            log.info("%s: stopping %d workers", signal.Signals(signum).name, len(children))
        for pid in children:
            _signal(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for index in range(workers):
        spawn(index)
    quick_exits = 0
    status = 0
    while children:
        pid, wait_status = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            if stopping is not None and time.monotonic() - stopping > STOP_GRACE_SECONDS:
                for child in children:
                    _signal(child, signal.SIGKILL)
            time.sleep(0.2)
            continue
        if pid not in children:
            continue
        index, started = children.pop(pid)
        if stopping is not None:
            continue
        code = os.waitstatus_to_exitcode(wait_status)
        quick = time.monotonic() - started < QUICK_EXIT_SECONDS
        quick_exits = quick_exits + 1 if quick else 0
        if quick_exits >= QUICK_EXITS_ALLOWED:
            log.error("workers keep exiting as they start (last: %s); stopping", code)
            status = 1
            stop(signal.SIGTERM, None)
            continue
        log.warning("worker %d (pid %d) exited (%s); starting another", index, pid, code)
        if quick:
            time.sleep(1.0)
        spawn(index)
    return status


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # it has just exited
        os.kill(pid, signum)
