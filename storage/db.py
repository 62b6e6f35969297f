"""The async engine and sessions, and schema upgrades through Alembic."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import schema
from storage.lazy_begin import begin_on_first_write


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


class Database:
    def __init__(self, url: str, pool_size: int | None = None) -> None:
        """`pool_size`: at most this many connections (PostgreSQL), as `serve` works out so that
        all its workers fit the server's max_connections; by default a pool for bursts."""
        self.url = async_url(url)
        # No pre-ping (a round trip on every checkout); connections are recycled instead, and a
        # dead one surfaces as "try again shortly". A pool big enough for bursts of commands.
        # hide_parameters: errors and logs never carry the values written (walk notes are
        # personal data about staff).
        options: dict[str, Any] = {"pool_recycle": 1800, "hide_parameters": True}
        if not self.url.startswith("sqlite"):
            options.update(pool_size=10, max_overflow=20)
            if pool_size is not None:
                options.update(pool_size=pool_size, max_overflow=0)
        self.engine: AsyncEngine = create_async_engine(self.url, **options)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        begin_on_first_write(self.engine)
        self._sessions = async_sessionmaker(self.engine, class_=AsyncSession,
                                            expire_on_commit=False)

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

    @asynccontextmanager
    async def autocommit(self) -> AsyncIterator[AsyncConnection]:
        """A connection whose every statement commits by itself: for work that is one statement
        (an atomic UPDATE … RETURNING, an upsert), which needs no BEGIN and COMMIT around it."""
        async with self.engine.connect() as conn:
            yield await conn.execution_options(isolation_level="AUTOCOMMIT")

    async def upgrade(self, revision: str = "head") -> None:
        """Bring the schema up to date (run at start-up and by `partnership-bot db upgrade`);
        once, under a lock, however many processes start together (storage/schema.py)."""
        await schema.upgrade(self.engine, revision)

    async def dispose(self) -> None:
        await self.engine.dispose()

