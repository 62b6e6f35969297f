"""No transaction for reading on PostgreSQL: BEGIN goes out just before a unit of work's first
write, so a command that only reads costs its statements and nothing more (no BEGIN and COMMIT
round trips), and one that writes is still saved whole or not at all.

Nothing is lost by it. Under PostgreSQL's READ COMMITTED (its default, and ours) every
statement sees what was committed before it began, inside a transaction or not, so a read
before the first write sees the same rows either way; after the first write, reads run in the
transaction and see its own changes. A read that locks (`SELECT … FOR UPDATE`/`FOR SHARE`) or
any statement that is not a plain SELECT counts as a write and opens the transaction.

SQLite needs nothing: its driver already opens a transaction only at the first write.

SQLAlchemy's asyncpg adapter starts a transaction before a statement unless its isolation level
is "autocommit"; a hook before every statement sets that level for a read made outside a
transaction, and puts the configured level back for anything else. The adapter's commit and
rollback do nothing when no transaction was started (tests/test_capacity.py checks both)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

_LOCKING = re.compile(r"\bFOR\s+(?:NO\s+KEY\s+)?(?:UPDATE|SHARE|KEY\s+SHARE)\b", re.IGNORECASE)


def is_plain_read(statement: str) -> bool:
    """A SELECT that neither writes nor locks (data-changing WITH … counts as a write)."""
    head = statement.lstrip()[:6]
    return head.upper() == "SELECT" and _LOCKING.search(statement) is None


def _before_execute(conn: Any, _cursor: Any, statement: str, _parameters: Any, _context: Any,
                    _executemany: bool) -> None:
    adapter = conn.connection.dbapi_connection
    if getattr(adapter, "_transaction", None) is not None:
        return  # inside a transaction already: everything runs in it
    if is_plain_read(statement):
        adapter.isolation_level = "autocommit"
    else:
        adapter.isolation_level = adapter._isolation_setting


def begin_on_first_write(engine: AsyncEngine) -> None:
    """Install the hook on a PostgreSQL (asyncpg) engine; other engines are left as they are."""
    if engine.dialect.driver == "asyncpg":
        event.listen(engine.sync_engine, "before_cursor_execute", _before_execute)
