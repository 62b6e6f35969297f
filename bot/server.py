"""The one aiohttp server: Slack at /slack/events, probes at /healthz."""

from __future__ import annotations

import logging

from aiohttp import ClientSession, web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from sqlalchemy import text

from bot.config import Settings
from bot.delivery import Delivery
from bot.scheduler import POLL_SECONDS, Clock, OutboxScheduler, OutboxSender, system_clock
from bot.slack.app import SlackPoster, build_slack_app, slack_client
from storage.db import Database

log = logging.getLogger(__name__)

DB_KEY = web.AppKey("db", Database)
SLACK_KEY = web.AppKey("slack", AsyncApp)
SCHEDULER_KEY = web.AppKey("scheduler", OutboxScheduler)


async def healthz(request: web.Request) -> web.Response:
    """Ready when the database answers; 503 otherwise, so a load balancer can stop sending."""
    try:
        async with request.app[DB_KEY].engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception:
        log.warning("health check: database not answering")
        return web.json_response({"status": "unavailable", "database": "down"}, status=503)
    return web.json_response({"status": "ok"})


async def slack_events(request: web.Request) -> web.Response:
    bolt_response = await request.app[SLACK_KEY].async_dispatch(await to_bolt_request(request))
    return await to_aiohttp_response(bolt_response)


def build_web_app(settings: Settings, db: Database, *, clock: Clock = system_clock,
                  poll_seconds: float = POLL_SECONDS) -> web.Application:
    """The whole server. Slack credentials must already be checked by the caller.

    `clock` and `poll_seconds` drive the reminder outbox (tests move the clock by hand)."""
    client = slack_client(settings)
    delivery = Delivery(db, {"slack": SlackPoster(client)})
    scheduler = OutboxScheduler(OutboxSender(db, delivery, clock), poll_seconds)
    app = web.Application()
    app[DB_KEY] = db
    app[SCHEDULER_KEY] = scheduler
    app[SLACK_KEY] = build_slack_app(settings, db, delivery, client)
    app.router.add_get("/healthz", healthz)
    app.router.add_post("/slack/events", slack_events)

    async def start(_: web.Application) -> None:
        await db.upgrade()
        # One pooled HTTP session for all Web API calls, instead of one per call.
        client.session = ClientSession()
        scheduler.start()

    async def close(_: web.Application) -> None:
        await scheduler.stop()
        if client.session is not None:
            await client.session.close()
        await db.dispose()

    app.on_startup.append(start)
    app.on_cleanup.append(close)
    return app
