"""Socket Mode: the same Bolt app, connected out to Slack instead of receiving HTTP."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import ClientSession
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from bot import logs
from bot.config import Settings
from bot.delivery import Delivery
from bot.scheduler import OutboxScheduler, OutboxSender
from bot.slack.app import SlackPoster, build_slack_app, slack_client
from bot.slack.oauth import EnvironmentBotToken
from bot.slack.payloads import log_fields
from storage.db import Database


async def _log_fields(body: dict[str, Any], next: Callable[[], Awaitable[None]]) -> None:
    """Each Socket Mode request's id, platform, workspace and command on its log lines, as the
    HTTP server's middleware gives them there (each request is handled in a task of its own)."""
    logs.bind(request_id=logs.new_request_id(), **log_fields(body))
    await next()


async def run_socket_mode(settings: Settings, db: Database) -> None:
    await db.upgrade()
    client = slack_client(settings)
    client.session = ClientSession()
    # Socket Mode serves one workspace: its token is SLACK_BOT_TOKEN.
    poster = SlackPoster(client, db, EnvironmentBotToken(settings.slack_bot_token))
    delivery = Delivery(db, {"slack": poster})
    app = build_slack_app(settings, db, delivery, client)
    app.middleware(_log_fields)
    scheduler = OutboxScheduler(OutboxSender(db, delivery))
    scheduler.start()
    try:
        handler = AsyncSocketModeHandler(app, settings.slack_app_token)
        await handler.start_async()  # type: ignore[no-untyped-call]
    finally:
        await scheduler.stop()
        await client.session.close()
        await db.dispose()
