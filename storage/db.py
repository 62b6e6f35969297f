"""The async engine and sessions, and schema upgrades through Alembic."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import schema
from storage.lazy_begin import begin_on_first_write

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class DatabaseTimeouts:
    """How long the bot waits on its database before saying so (seconds). A database that
    stalls (a failover, a frozen host, a dropped network) never answers and never closes: only
    these turn that silence into an error a person can be told about.

    `connect`, `statement` and `pool` bound each step (PostgreSQL: asyncpg's connect timeout
    and command timeout, and the server's own statement_timeout; waiting for a pooled
    connection). `command` bounds a whole unit of work, from when the request arrived to its
    answer, whatever it is waiting on: past it the person is told nothing was saved."""

    connect: float = 5.0
    statement: float = 5.0
    pool: float = 5.0
    command: float = 8.0


class DatabaseStalled(TimeoutError):
    """A unit of work ran past its deadline; it was abandoned and rolled back."""


class NoTimeLeft(DatabaseStalled):
    """The request waited its whole deadline for a turn (the process is overloaded, or every
    turn is held by work waiting on the database): its work was not even started."""


# Unit-of-work failures that mean "the database is unreachable or too slow just now".
UNAVAILABLE: tuple[type[BaseException], ...] = (
    sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DBAPIError, sa_exc.TimeoutError,
    OSError, TimeoutError,
)

def value_out_of_range(error: BaseException) -> bool:
    """Whether a database error is about a value the database cannot hold (a number past an
    integer column's range; asyncpg refuses it before sending, PostgreSQL after): the request's
    fault, not an outage."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, sa_exc.DataError | OverflowError) or \
                type(seen).__name__ in ("DataError", "NumericValueOutOfRangeError"):
            return True
        seen = seen.__cause__
    return False


# TCP keepalives on every PostgreSQL connection: an idle pooled connection to a host that has
# gone is found out in about a minute (30 s idle, then 3 probes 10 s apart) instead of the
# kernel's two hours; and data left unacknowledged for 30 s closes the connection.
KEEPALIVE_IDLE, KEEPALIVE_INTERVAL, KEEPALIVE_COUNT = 30, 10, 3
TCP_USER_TIMEOUT_MS = 30_000
# A transaction left open by a client that stalled is ended by the server after this long,
# so its row locks do not outlive it.
IDLE_IN_TRANSACTION_MS = 60_000

# When the request being served arrived (the event loop's clock), so the deadline of its
# unit of work counts the time it waited for a turn too; unset outside requests.
_arrived: contextvars.ContextVar[float | None] = contextvars.ContextVar("arrived", default=None)


def data_folder() -> Path:
    """The user's data folder for the bot ($XDG_DATA_HOME/partnership-bot), made if missing."""
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    folder = base / "partnership-bot"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def default_database_url() -> str:
    """The embedded SQLite file in the user's data folder, so the shell needs no server."""
    return f"sqlite+aiosqlite:///{data_folder() / 'partnership-bot.sqlite3'}"


def async_url(url: str) -> str:
    """Accept the URLs people paste (postgres://, postgresql://, sqlite://) with async drivers."""
    for plain, driver in (
        ("postgres://", "postgresql+asyncpg://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain):]
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _note_flush(session: Session, _context: Any, _instances: Any) -> None:
    session.info["wrote"] = True


# Every session records whether it flushed anything, so read-only work can skip write-only
# bookkeeping (see `wrote`).
event.listen(Session, "before_flush", _note_flush)


def wrote(session: AsyncSession) -> bool:
    """Whether this unit of work has written, or is about to write, anything through the ORM."""
    sync = session.sync_session
    return bool(sync.info.get("wrote") or sync.new or sync.dirty or sync.deleted)


def _keepalives(dbapi_connection: Any, _record: Any) -> None:
    """TCP keepalives and a user timeout on a new asyncpg connection's socket (asyncpg has no
    options for them)."""
    transport = getattr(getattr(dbapi_connection, "_connection", None), "_transport", None)
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return  # a Unix socket: nothing between us and the server to go quiet
    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, KEEPALIVE_IDLE)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, KEEPALIVE_INTERVAL)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, KEEPALIVE_COUNT)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, TCP_USER_TIMEOUT_MS)


def _timeouts_end_connections(context: ExceptionContext) -> None:
    """A statement that timed out leaves its connection unusable (its answer may still come):
    treat it as a disconnect, so the connection is thrown away, and so is every other pooled
    connection made before it, which a failover has most likely left dead as well."""
    if isinstance(context.original_exception, TimeoutError):
        context.is_disconnect = True
        context.invalidate_pool_on_disconnect = True


def _cut(dbapi_connection: Any) -> None:
    """Abort an asyncpg connection's socket, without the goodbye (see Database)."""
    raw = getattr(dbapi_connection, "_connection", None)
    if raw is not None:
        raw.terminate()
    else:
        dbapi_connection.terminate()


def _postgres_options(timeouts: DatabaseTimeouts, statements: bool = True) -> dict[str, Any]:
    connect: dict[str, Any] = {"timeout": timeouts.connect}
    if statements:
        connect["command_timeout"] = timeouts.statement
        # The server's own limits, for when this side is the one that went quiet.
        connect["server_settings"] = {
            "statement_timeout": str(int(timeouts.statement * 1000)),
            "idle_in_transaction_session_timeout": str(IDLE_IN_TRANSACTION_MS),
        }
    return {"connect_args": connect}


class Database:
    def __init__(self, url: str, pool_size: int | None = None, *,
                 timeouts: DatabaseTimeouts | None = None) -> None:
        """`pool_size`: at most this many connections (PostgreSQL), as `serve` works out so that
        all its workers fit the server's max_connections; by default a pool for bursts.
        `timeouts`: how long to wait on the database (DatabaseTimeouts)."""
        self.url = async_url(url)
        self.timeouts = timeouts or DatabaseTimeouts()
        # No pre-ping (a round trip on every checkout); connections are recycled instead, and a
        # dead one surfaces as "try again shortly". A pool big enough for bursts of commands.
        # hide_parameters: errors and logs never carry the values written (walk notes are
        # personal data about staff).
        options: dict[str, Any] = {"pool_recycle": 1800, "hide_parameters": True}
        if not self.url.startswith("sqlite"):
            options.update(pool_size=10, max_overflow=20, pool_timeout=self.timeouts.pool,
                           **_postgres_options(self.timeouts))
            if pool_size is not None:
                options.update(pool_size=pool_size, max_overflow=0)
        self.engine: AsyncEngine = create_async_engine(self.url, **options)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        else:
            event.listen(self.engine.sync_engine, "connect", _keepalives)
            event.listen(self.engine.sync_engine, "handle_error", _timeouts_end_connections)
            # A connection the pool throws away (invalidated, or recycled) is cut at once: the
            # dialect's polite close waits up to 2 s for a goodbye a dead peer never sends,
            # and after a failover every pooled connection is such a one.
            self.engine.sync_engine.dialect.do_terminate = _cut  # type: ignore[method-assign]
        begin_on_first_write(self.engine)
        self._sessions = async_sessionmaker(self.engine, class_=AsyncSession,
                                            expire_on_commit=False)
        # Units of work abandoned at their deadline, still unwinding (rolling back, closing).
        self._abandoned: set[asyncio.Task[Any]] = set()

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: committed whole when the block ends, rolled back whole on error."""
        async with self._sessions() as session, session.begin():
            yield session

    async def within(self, work: Callable[[], Awaitable[T]],
                     deadline: float | None = None) -> T:
        """Run `work` (database work) and return its result, or raise DatabaseStalled once
        `deadline` seconds have passed (default: the command deadline, counted from when the
        request arrived if one is being served). The caller gets its answer on time whatever
        the database does: work past its deadline is cancelled and left to unwind (roll back,
        close its connection) on its own, bounded by the statement timeout."""
        budget = self.timeouts.command if deadline is None else deadline
        arrived = _arrived.get()
        loop = asyncio.get_running_loop()
        if deadline is None and arrived is not None:
            budget -= loop.time() - arrived
            if budget <= 0:
                raise NoTimeLeft("the request waited out its deadline for a turn")
        task = asyncio.ensure_future(work())
        done, _ = await asyncio.wait({task}, timeout=max(budget, 0.0))
        if task in done:
            return task.result()
        task.cancel()
        self._abandoned.add(task)
        task.add_done_callback(_forget(self._abandoned))
        raise DatabaseStalled(f"no answer from the database within {budget:.1f} s")

    @asynccontextmanager
    async def autocommit(self) -> AsyncIterator[AsyncConnection]:
        """A connection whose every statement commits by itself: for work that is one statement
        (an atomic UPDATE … RETURNING, an upsert), which needs no BEGIN and COMMIT around it."""
        async with self.engine.connect() as conn:
            yield await conn.execution_options(isolation_level="AUTOCOMMIT")

    async def upgrade(self, revision: str = "head") -> None:
        """Bring the schema up to date (run at start-up and by `partnership-bot db upgrade`);
        once, under a lock, however many processes start together (storage/schema.py).

        On PostgreSQL on connections of its own without the statement timeout: a migration may
        rightly take longer than any command, and so may the wait for another process's."""
        if self.is_sqlite:
            await schema.upgrade(self.engine, revision)
            return
        engine = create_async_engine(self.url, poolclass=NullPool, hide_parameters=True,
                                     **_postgres_options(self.timeouts, statements=False))
        try:
            await schema.upgrade(engine, revision)
        finally:
            await engine.dispose()

    async def dispose(self) -> None:
        if self._abandoned:
            # Give abandoned work its moment to unwind, then stop it.
            await asyncio.wait(set(self._abandoned), timeout=self.timeouts.statement)
        await self.engine.dispose()


def _forget(tasks: set[asyncio.Task[Any]]) -> Callable[[asyncio.Task[Any]], None]:
    def done(task: asyncio.Task[Any]) -> None:
        tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.info("abandoned database work ended with %s",
                     type(task.exception()).__name__)

    return done


@contextlib.contextmanager
def request_arrived() -> Iterator[None]:
    """Count the command deadline of the work done in this block from now (when a request
    arrived), so that waiting for a turn counts too."""
    token = _arrived.set(asyncio.get_running_loop().time())
    try:
        yield
    finally:
        _arrived.reset(token)
