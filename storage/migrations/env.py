"""Alembic environment: runs on the connection `storage.db.Database.upgrade` hands it, or, from
the alembic command line, on DATABASE_URL."""

from __future__ import annotations

import asyncio
import os

import sqlmodel.sql.sqltypes  # noqa: F401  (AutoString, used by generated migrations)
from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from storage.db import async_url, default_database_url

target_metadata = SQLModel.metadata


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_from_url() -> None:
    url = async_url(os.environ.get("DATABASE_URL") or default_database_url())
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(run_on)
    await engine.dispose()


connection = context.config.attributes.get("connection")
if connection is not None:
    run_on(connection)
else:
    asyncio.run(run_from_url())
