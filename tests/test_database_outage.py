"""The database stops mid-request: people are told to try again shortly, never shown a trace."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import pytest

from storage.db import Database
from tests.conftest import running_bot
from tests.support.databases import PostgresScratch, empty_tables, without_postgres
from tests.support.fake_slack import FakeSlack
from tests.support.tcp_proxy import CuttableProxy


async def test_database_stopping_mid_request(postgres: PostgresScratch | None,
                                             fake_slack: FakeSlack,
                                             caplog: pytest.LogCaptureFixture) -> None:
    if postgres is None:
        without_postgres(getattr(pytest, "postgres_skip_reason", "no PostgreSQL"))
    target = urlsplit(postgres.url)
    proxy = CuttableProxy(target.hostname or "127.0.0.1", target.port or 5432)
    await proxy.start()
    db = Database(f"postgresql://{target.hostname}:{proxy.port}{target.path}")
    await empty_tables(db)
    caplog.set_level(logging.INFO)
    try:
        async with running_bot(db, fake_slack) as bot:
            assert "Created" in await bot.ask_text("/partnership", "create East Barnet Area")
            await proxy.cut()
            answer = await bot.ask("/partnership",
                                   "join East Barnet Area school: Monkfrith secret-note")
            assert "can't reach my database just now" in answer["text"]
            assert "try again shortly" in str(answer["blocks"])
            assert "Traceback" not in str(answer)
            async with bot.slack.session.get(f"{bot.url}/healthz") as health:
                assert health.status == 503
    finally:
        await proxy.stop()
        await db.dispose()
    assert "database unavailable in /partnership" in caplog.text
    assert "secret-note" not in caplog.text
