"""The database stops mid-request: people are told to try again shortly, never shown a trace."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import pytest

from storage.db import Database
from tests.conftest import running_bot
from tests.support.databases import PostgresScratch, empty_tables
from tests.support.fake_slack import FakeSlack
from tests.support.tcp_proxy import CuttableProxy


async def test_database_stopping_mid_request(postgres: PostgresScratch | None,
                                             fake_slack: FakeSlack,
                                             caplog: pytest.LogCaptureFixture) -> None:
    if postgres is None:
        pytest.skip(getattr(pytest, "postgres_skip_reason", "no PostgreSQL"))
    target = urlsplit(postgres.url)
    proxy = CuttableProxy(target.hostname or "127.0.0.1", target.port or 5432)
    await proxy.start()
    db = Database(f"postgresql://{target.hostname}:{proxy.port}{target.path}")
    await empty_tables(db)
    caplog.set_level(logging.INFO)
    try:
        async with running_bot(db, fake_slack) as bot:
            await bot.slack.command("/partnership", "create East Barnet Area")
            assert "Created" in (await fake_slack.wait_for("response_url"))[0].body["text"]
            await proxy.cut()
            response = await bot.slack.command("/partnership", "join East Barnet Area "
                                               "school: Monkfrith secret-note")
            assert response.status == 200
            answer = (await fake_slack.wait_for("response_url", 2))[1].body
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
